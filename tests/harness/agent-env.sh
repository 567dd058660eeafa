# Shell helpers that run vh-hosted + vhagent pairs from this build tree,
# for shell tests that drive the real stack (sourced after tap.sh).  Each
# pair stands for one host: its own hypervisor socket, agent unix socket,
# HTTPS port on 127.0.0.1, state folder and logs, under the run folder the
# test chooses.  Everything started here is stopped at exit.
#
#   agent_env_require                 the binaries, /dev/kvm, curl (or Bail out!)
#   agent_pair_start NAME RUN [MEM]   start a pair; sets NAME_sock, NAME_hv_sock,
#                                     NAME_port, NAME_url, NAME_cacert, NAME_token
#                                     (an admin token), NAME_state
#   agent_pair_stop NAME              SIGTERM both, wait
#   agent_api NAME METHOD PATH [BODY] curl over the unix socket; the body in
#                                     $API_BODY, the status in $API_CODE
#   agent_put_image NAME FILE         PUT /v1/images/<basename> from FILE
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

AGENT_ENV_HOSTED=$top_builddir/hypervisor/hosted/vh-hosted
AGENT_ENV_AGENT=$top_builddir/agent/vhagent
AGENT_ENV_PIDS=()

agent_env_require() {
	local f
	if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "Bail out! /dev/kvm is missing or not read-writable: vh-hosted needs KVM"
		exit 1
	fi
	for f in "$AGENT_ENV_HOSTED" "$AGENT_ENV_AGENT"; do
		if [ ! -x "$f" ]; then
			echo "Bail out! $f is not built"
			exit 1
		fi
	done
	if ! command -v curl >/dev/null; then
		echo "Bail out! curl is missing (Debian package curl, see packaging/debian-packages.txt)"
		exit 1
	fi
	trap agent_env_cleanup EXIT
}

agent_env_cleanup() {
	local pid
	for pid in "${AGENT_ENV_PIDS[@]+"${AGENT_ENV_PIDS[@]}"}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
		fi
	done
	for pid in "${AGENT_ENV_PIDS[@]+"${AGENT_ENV_PIDS[@]}"}"; do
		wait "$pid" 2>/dev/null
	done
	AGENT_ENV_PIDS=()
}

# A TCP port on 127.0.0.1 free right now.
agent_env_free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_agent_env_unix_up() { # SOCKET
	/usr/bin/python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
EOF
}

agent_pair_start() { # NAME RUN [MEMORY]
	local name=$1 run=$2 mem=${3:-256M} hv_pid agent_pid port token i
	rm -rf "$run"
	mkdir -p "$run/state/images" "$run/logs"
	port=$(agent_env_free_port)
	token=$("$AGENT_ENV_AGENT" --config /dev/null --state-dir "$run/state" \
		token create "$name-admin" --role admin 2>>"$run/tokens.log")
	if [ -z "$token" ]; then
		echo "Bail out! $name: vhagent token create failed"
		sed 's/^/# /' "$run/tokens.log"
		exit 1
	fi
	"$AGENT_ENV_HOSTED" --socket "$run/vh.sock" --images "$run/state/images" --log-dir "$run/logs" \
		--memory "$mem" --pcpus 2 >"$run/hv.log" 2>&1 &
	hv_pid=$!
	AGENT_ENV_PIDS+=("$hv_pid")
	for i in $(seq 1 200); do
		_agent_env_unix_up "$run/vh.sock" && break
		kill -0 "$hv_pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! _agent_env_unix_up "$run/vh.sock"; then
		echo "Bail out! $name: vh-hosted did not come up"
		sed 's/^/# /' "$run/hv.log"
		exit 1
	fi
	"$AGENT_ENV_AGENT" --config /dev/null --state-dir "$run/state" \
		--hypervisor-socket "$run/vh.sock" --unix-socket "$run/agent.sock" \
		--https-listen "127.0.0.1:$port" --socket-group "" >"$run/agent.log" 2>&1 &
	agent_pid=$!
	AGENT_ENV_PIDS+=("$agent_pid")
	for i in $(seq 1 200); do
		if [ -S "$run/agent.sock" ] &&
			[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$run/agent.sock" http://vh/readyz)" = 200 ]; then
			break
		fi
		kill -0 "$agent_pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$run/agent.sock" http://vh/readyz)" != 200 ]; then
		echo "Bail out! $name: vhagent did not become ready"
		sed 's/^/# /' "$run/agent.log"
		exit 1
	fi
	printf -v "${name}_sock" '%s' "$run/agent.sock"
	printf -v "${name}_hv_sock" '%s' "$run/vh.sock"
	printf -v "${name}_port" '%s' "$port"
	printf -v "${name}_url" '%s' "https://127.0.0.1:$port"
	printf -v "${name}_cacert" '%s' "$run/state/tls/cert.pem"
	printf -v "${name}_token" '%s' "$token"
	printf -v "${name}_state" '%s' "$run/state"
	printf -v "${name}_pids" '%s' "$hv_pid $agent_pid"
}

agent_pair_stop() { # NAME
	local pids_var="${1}_pids" pid
	for pid in ${!pids_var}; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in ${!pids_var}; do
		wait "$pid" 2>/dev/null
	done
}

agent_api() { # NAME METHOD PATH [BODY]
	local sock_var="${1}_sock" out
	out=$(mktemp)
	if [ $# -ge 4 ]; then
		API_CODE=$(curl -s -o "$out" -w '%{http_code}' --unix-socket "${!sock_var}" -X "$2" \
			-H 'Content-Type: application/json' --data-binary "$4" "http://vh$3")
	else
		API_CODE=$(curl -s -o "$out" -w '%{http_code}' --unix-socket "${!sock_var}" -X "$2" "http://vh$3")
	fi
	API_BODY=$(cat "$out")
	rm -f "$out"
}

agent_put_image() { # NAME FILE
	local sock_var="${1}_sock"
	API_CODE=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "${!sock_var}" \
		-T "$2" "http://vh/v1/images/$(basename "$2")")
}
