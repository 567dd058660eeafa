# Helpers for vhagent's shell tests (sourced after tap.sh): a private run
# folder tests/agent/runs/<name> with a real vh-hosted (its --images is
# the agent's <state>/images) and a real vhagent on a private unix socket
# and a free TCP port, driven with curl.  Missing tools fail loudly.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"

VH_HOSTED=$top_builddir/hypervisor/hosted/vh-hosted
VH_MSG=$top_builddir/hypervisor/hosted/vh-msg
VHAGENT=$top_builddir/agent/vhagent
GUESTS=$top_builddir/tests/guests
CURL=${CURL_BIN:-}
PY=${SYSTEM_PYTHON3:-/usr/bin/python3}

agent_require() {
	if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "Bail out! /dev/kvm is missing or not read-writable: these tests need KVM"
		exit 1
	fi
	if [ -z "$CURL" ] || [ ! -x "$CURL" ]; then
		echo "Bail out! curl is missing (configure did not find it): install curl"
		exit 1
	fi
	if [ ! -x "$PY" ]; then
		echo "Bail out! $PY is missing"
		exit 1
	fi
	for f in "$VH_HOSTED" "$VH_MSG" "$VHAGENT" "$GUESTS/spinner.elf"; do
		if [ ! -e "$f" ]; then
			echo "Bail out! $f is not built"
			exit 1
		fi
	done
}

# agent_setup NAME: a fresh run folder; the test guests as images.
agent_setup() {
	RUN=$top_builddir/tests/agent/runs/$1
	rm -rf "$RUN"
	mkdir -p "$RUN/state/images" "$RUN/logs"
	cp "$GUESTS"/*.elf "$RUN/state/images/"
	STATE=$RUN/state
	HVSOCK=$RUN/vh.sock
	ASOCK=$RUN/agent.sock
	PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	HV_PID=
	AGENT_PID=
	export VH_SOCKET=$HVSOCK
	trap agent_cleanup EXIT
}

agent_cleanup() {
	for p in ${AGENT_PID:-} ${HV_PID:-}; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		fi
	done
}

# hv_start: vh-hosted on $HVSOCK with <state>/images; waits until it answers.
hv_start() {
	"$VH_HOSTED" --socket "$HVSOCK" --images "$STATE/images" --log-dir "$RUN/logs" \
		--memory 256M --pcpus 2 >>"$RUN/hv.log" 2>&1 &
	HV_PID=$!
	for _ in $(seq 1 200); do
		"$VH_MSG" host >/dev/null 2>&1 && return 0
		kill -0 "$HV_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "Bail out! vh-hosted did not come up"
	sed 's/^/# /' "$RUN/hv.log"
	exit 1
}

# hv_stop: SIGTERM (it stops every VM), wait.
hv_stop() {
	if [ -n "$HV_PID" ]; then
		kill -TERM "$HV_PID" 2>/dev/null
		wait "$HV_PID" 2>/dev/null
		HV_PID=
	fi
}

# agent_launch [options...]: starts vhagent in the background (no wait).
agent_launch() {
	"$VHAGENT" --config /dev/null --state-dir "$STATE" --hypervisor-socket "$HVSOCK" \
		--unix-socket "$ASOCK" --https-listen "127.0.0.1:$PORT" --socket-group "" "$@" \
		>>"$RUN/agent.log" 2>&1 &
	AGENT_PID=$!
}

# agent_start [options...]: starts it and waits for /healthz.
agent_start() {
	agent_launch "$@"
	for _ in $(seq 1 200); do
		if "$CURL" -sf --unix-socket "$ASOCK" http://localhost/healthz >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$AGENT_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "Bail out! vhagent did not come up"
	sed 's/^/# /' "$RUN/agent.log"
	exit 1
}

# agent_wait_ready: until /readyz says 200 (reconciled), at most 10 s.
agent_wait_ready() {
	for _ in $(seq 1 200); do
		[ "$("$CURL" -s -o /dev/null -w '%{http_code}' --unix-socket "$ASOCK" http://localhost/readyz)" = 200 ] && return 0
		sleep 0.05
	done
	return 1
}

# agent_stop: SIGTERM and wait; returns its exit status (0 expected:
# under the sanitizers a leak makes it non-zero).
agent_stop() {
	local rc=0
	if [ -n "$AGENT_PID" ]; then
		kill -TERM "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" || rc=$?
		AGENT_PID=
	fi
	return $rc
}

agent_kill9() {
	if [ -n "$AGENT_PID" ]; then
		kill -KILL "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
		AGENT_PID=
	fi
}

# api METHOD PATH [curl options...]: over the unix socket (root: admin);
# sets CODE and BODY (the body is also in $RUN/body).
api() {
	local m=$1 p=$2
	shift 2
	CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --unix-socket "$ASOCK" -X "$m" "$@" "http://localhost$p")
	BODY=$(cat "$RUN/body")
}

# tls METHOD PATH [curl options...]: HTTPS with the agent's certificate.
tls() {
	local m=$1 p=$2
	shift 2
	CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --cacert "$STATE/tls/cert.pem" -X "$m" "$@" \
		"https://localhost:$PORT$p")
	BODY=$(cat "$RUN/body")
}

# json EXPR: a Python expression over j (the last BODY parsed); prints it.
json() {
	printf '%s' "$BODY" | "$PY" -c "import json,sys; j=json.load(sys.stdin); v=($1); print('null' if v is None else v)" 2>/dev/null
}

# check DESC COND...: TAP ok when the test command succeeds; the last
# response is the diagnostic otherwise.
check() {
	local desc=$1
	shift
	if "$@"; then tap_ok "$desc"; else tap_not_ok "$desc" "HTTP $CODE: $BODY"; fi
}

# define NAME [KERNEL]: POST a 16 MiB one-vCPU VM; sets CODE/BODY.
define() {
	api POST /v1/vms -H 'Content-Type: application/json' \
		-d "{\"name\":\"$1\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"${2:-spinner.elf}\",\"cmdline\":\"\"}}"
}
