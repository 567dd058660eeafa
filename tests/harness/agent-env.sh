# SPDX-License-Identifier: Apache-2.0
# Shell helpers that start the daemons of this build tree for the shell
# tests that drive the real stack (sourced after tap.sh): the one way the
# tests start vh-hosted and vhagent.  tests/kvm/lib.sh (vh-hosted alone)
# and tests/agent/lib.sh (one pair, driven with curl) are built on the
# daemon helpers; a test that stands for several hosts starts named pairs.
#
# The daemons (each waits until it answers, or says Bail out! with its log;
# in messages, $AGENT_ENV_LABEL comes first):
#   agent_env_require_kvm WHY         /dev/kvm read-writable (or Bail out! ... WHY)
#   agent_env_require_built FILE...   each FILE is there (or Bail out!)
#   agent_env_free_port               a TCP port on 127.0.0.1 free right now
#   agent_env_hv_launch LOG SOCK IMAGES LOGDIR MEMORY [vh-hosted options...]
#                                     $VH_HOSTED in the background (no wait),
#                                     its output appended to LOG; its pid in
#                                     $AGENT_ENV_HV_PID
#   agent_env_hv_wait LOG PID SOCK    until it answers on SOCK (vh-msg host)
#   agent_env_agent_launch LOG STATE HV_SOCK SOCK PORT [vhagent options...]
#                                     $VHAGENT in the background (no wait), its
#                                     output appended to LOG; its pid in
#                                     $AGENT_ENV_AGENT_PID
#   agent_env_agent_wait LOG PID SOCK PATH
#                                     until GET PATH answers 200 on SOCK
#   agent_env_stop VAR [SIGNAL]       the daemon whose pid is in $VAR, if any:
#                                     SIGNAL (TERM), wait, VAR emptied; returns
#                                     its exit status
# (A caller keeps the pid it is given before it waits, so that its clean-up
# at exit stops a daemon that never came up.)
#
# Named pairs, each one host: its own hypervisor socket, agent unix
# socket, HTTPS port on 127.0.0.1, state folder and logs, under the run
# folder the test chooses.  Everything started here is stopped at exit.
#   agent_env_require                 the binaries, /dev/kvm, curl (or Bail out!)
#   agent_pair_start NAME RUN [MEM]   start a pair; sets NAME_sock, NAME_hv_sock,
#                                     NAME_port, NAME_url, NAME_cacert, NAME_token
#                                     (an admin token), NAME_state
#   agent_pair_stop NAME              SIGTERM both, wait
#   agent_api NAME METHOD PATH [BODY] curl over the unix socket; the body in
#                                     $API_BODY, the status in $API_CODE
#   agent_put_image NAME FILE         PUT /v1/images/<basename> from FILE
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

VH_HOSTED=$top_builddir/hypervisor/hosted/vh-hosted
VH_MSG=$top_builddir/hypervisor/hosted/vh-msg
VHAGENT=$top_builddir/agent/vhagent
VH_SIM=$top_builddir/hypervisor/sim/vh-sim
GUESTS=$top_builddir/tests/guests
AGENT_ENV_CURL=${CURL_BIN:-curl}
AGENT_ENV_PY=${SYSTEM_PYTHON3:-/usr/bin/python3}
AGENT_ENV_LABEL=
AGENT_ENV_HV_PID=
AGENT_ENV_AGENT_PID=
AGENT_ENV_PIDS=()

agent_env_require_kvm() { # WHY
	if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "Bail out! /dev/kvm is missing or not read-writable: $1"
		exit 1
	fi
}

agent_env_require_built() { # FILE...
	local f
	for f in "$@"; do
		if [ ! -e "$f" ]; then
			echo "Bail out! $f is not built"
			exit 1
		fi
	done
}

agent_env_free_port() {
	"$AGENT_ENV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

agent_env_hv_launch() { # LOG SOCK IMAGES LOGDIR MEMORY [vh-hosted options...]
	local log=$1 sock=$2 images=$3 logdir=$4 mem=$5
	shift 5
	"$VH_HOSTED" --socket "$sock" --images "$images" --log-dir "$logdir" \
		--memory "$mem" --pcpus 2 "$@" >>"$log" 2>&1 &
	AGENT_ENV_HV_PID=$!
}

agent_env_hv_wait() { # LOG PID SOCK
	local log=$1 pid=$2 sock=$3
	for _ in $(seq 1 200); do
		VH_SOCKET=$sock "$VH_MSG" host >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "Bail out! ${AGENT_ENV_LABEL}vh-hosted did not come up"
	sed 's/^/# /' "$log"
	exit 1
}

agent_env_agent_launch() { # LOG STATE HV_SOCK SOCK PORT [vhagent options...]
	local log=$1 state=$2 hv_sock=$3 sock=$4 port=$5
	shift 5
	"$VHAGENT" --config /dev/null --state-dir "$state" --hypervisor-socket "$hv_sock" \
		--unix-socket "$sock" --https-listen "127.0.0.1:$port" --socket-group "" \
		--simulator "$VH_SIM" "$@" \
		>>"$log" 2>&1 &
	AGENT_ENV_AGENT_PID=$!
}

agent_env_agent_wait() { # LOG PID SOCK PATH
	local log=$1 pid=$2 sock=$3 path=$4
	for _ in $(seq 1 200); do
		if [ "$("$AGENT_ENV_CURL" -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
			"http://localhost$path")" = 200 ]; then
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "Bail out! ${AGENT_ENV_LABEL}vhagent did not come up ($path)"
	sed 's/^/# /' "$log"
	exit 1
}

agent_env_stop() { # VAR [SIGNAL]
	local pid=${!1} rc=0
	if [ -n "$pid" ]; then
		kill -"${2:-TERM}" "$pid" 2>/dev/null
		wait "$pid" || rc=$?
		printf -v "$1" '%s' ''
	fi
	return $rc
}

agent_env_require() {
	agent_env_require_kvm "vh-hosted needs KVM"
	agent_env_require_built "$VH_HOSTED" "$VH_MSG" "$VHAGENT"
	if ! command -v "$AGENT_ENV_CURL" >/dev/null; then
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

agent_pair_start() { # NAME RUN [MEMORY]
	local name=$1 run=$2 mem=${3:-256M} port token
	local AGENT_ENV_LABEL="$name: "
	rm -rf "$run"
	mkdir -p "$run/state/images" "$run/logs"
	port=$(agent_env_free_port)
	token=$("$VHAGENT" --config /dev/null --state-dir "$run/state" \
		token create "$name-admin" --role admin 2>>"$run/tokens.log")
	if [ -z "$token" ]; then
		echo "Bail out! $name: vhagent token create failed"
		sed 's/^/# /' "$run/tokens.log"
		exit 1
	fi
	agent_env_hv_launch "$run/hv.log" "$run/vh.sock" "$run/state/images" "$run/logs" "$mem" \
		--disks "$run/state/disks"
	AGENT_ENV_PIDS+=("$AGENT_ENV_HV_PID")
	agent_env_hv_wait "$run/hv.log" "$AGENT_ENV_HV_PID" "$run/vh.sock"
	agent_env_agent_launch "$run/agent.log" "$run/state" "$run/vh.sock" "$run/agent.sock" "$port"
	AGENT_ENV_PIDS+=("$AGENT_ENV_AGENT_PID")
	agent_env_agent_wait "$run/agent.log" "$AGENT_ENV_AGENT_PID" "$run/agent.sock" /readyz
	printf -v "${name}_sock" '%s' "$run/agent.sock"
	printf -v "${name}_hv_sock" '%s' "$run/vh.sock"
	printf -v "${name}_port" '%s' "$port"
	printf -v "${name}_url" '%s' "https://127.0.0.1:$port"
	printf -v "${name}_cacert" '%s' "$run/state/tls/cert.pem"
	printf -v "${name}_token" '%s' "$token"
	printf -v "${name}_state" '%s' "$run/state"
	printf -v "${name}_pids" '%s' "$AGENT_ENV_HV_PID $AGENT_ENV_AGENT_PID"
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

# agent_env_content_type METHOD [curl options...]: the -H option naming
# the Content-Type vhagent requires of a state-changing request (with or
# without a body), as words for a curl command line; nothing for GET and
# HEAD or when the options name one already.
agent_env_content_type() {
	local m=$1 a type=application/json
	shift
	case $m in POST | PUT | PATCH | DELETE) ;; *) return 0 ;; esac
	for a in "$@"; do
		case $a in
		[Cc]ontent-[Tt]ype:*) return 0 ;;
		-T | --upload-file) type=application/octet-stream ;;
		esac
	done
	printf '%s\n' -H "Content-Type:$type"
}

agent_api() { # NAME METHOD PATH [BODY]
	local sock_var="${1}_sock" out
	out=$(mktemp)
	if [ $# -ge 4 ]; then
		API_CODE=$("$AGENT_ENV_CURL" -s -o "$out" -w '%{http_code}' --unix-socket "${!sock_var}" -X "$2" \
			-H 'Content-Type: application/json' --data-binary "$4" "http://vh$3")
	else
		API_CODE=$("$AGENT_ENV_CURL" -s -o "$out" -w '%{http_code}' --unix-socket "${!sock_var}" -X "$2" \
			$(agent_env_content_type "$2") "http://vh$3")
	fi
	API_BODY=$(cat "$out")
	rm -f "$out"
}

agent_put_image() { # NAME FILE
	local sock_var="${1}_sock"
	API_CODE=$("$AGENT_ENV_CURL" -s -o /dev/null -w '%{http_code}' --unix-socket "${!sock_var}" \
		-H 'Content-Type: application/octet-stream' -T "$2" "http://vh/v1/images/$(basename "$2")")
}
