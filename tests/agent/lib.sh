# SPDX-License-Identifier: Apache-2.0
# Helpers for vhagent's shell tests (sourced after tap.sh): a private run
# folder tests/agent/runs/<name> with a real vh-hosted (its --images is
# the agent's <state>/images, its --disks the agent's <state>/disks) and a real vhagent on a private unix socket
# and a free TCP port, driven with curl.  Missing tools fail loudly.  The
# daemons start through tests/harness/agent-env.sh, which also sets
# VH_HOSTED, VH_MSG, VHAGENT and GUESTS.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/agent-env.sh"

CURL=${CURL_BIN:-}
PY=$AGENT_ENV_PY

agent_require() {
	agent_env_require_kvm "these tests need KVM"
	if [ -z "$CURL" ] || [ ! -x "$CURL" ]; then
		echo "Bail out! curl is missing (configure did not find it): install curl"
		exit 1
	fi
	if [ ! -x "$PY" ]; then
		echo "Bail out! $PY is missing"
		exit 1
	fi
	agent_env_require_built "$VH_HOSTED" "$VH_MSG" "$VHAGENT" "$GUESTS/spinner.elf"
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
	PORT=$(agent_env_free_port)
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

# hv_start [MEMORY [vh-hosted options...]]: vh-hosted on $HVSOCK with
# <state>/images, the datastore <state>/disks and MEMORY (256M unless
# told); waits until it answers.
# A restart appends to the same $RUN/hv.log, so the log keeps each run.
hv_start() {
	local mem=${1:-256M}
	shift $(($# > 0))
	agent_env_hv_launch "$RUN/hv.log" "$HVSOCK" "$STATE/images" "$RUN/logs" "$mem" \
		--disks "$STATE/disks" "$@"
	HV_PID=$AGENT_ENV_HV_PID
	agent_env_hv_wait "$RUN/hv.log" "$HV_PID" "$HVSOCK"
}

# hv_stop: SIGTERM (it stops every VM), wait.
hv_stop() {
	agent_env_stop HV_PID 2>/dev/null || :
}

# agent_launch [options...]: starts vhagent in the background (no wait).
agent_launch() {
	agent_env_agent_launch "$RUN/agent.log" "$STATE" "$HVSOCK" "$ASOCK" "$PORT" "$@"
	AGENT_PID=$AGENT_ENV_AGENT_PID
}

# agent_start [options...]: starts it and waits for /healthz.
agent_start() {
	agent_launch "$@"
	agent_env_agent_wait "$RUN/agent.log" "$AGENT_PID" "$ASOCK" /healthz
}

# agent_wait_ready: until /readyz says 200 (reconciled), at most 10 s.
agent_wait_ready() {
	for _ in $(seq 1 200); do
		[ "$("$CURL" -s -o /dev/null -w '%{http_code}' --unix-socket "$ASOCK" http://localhost/readyz)" = 200 ] && return 0
		sleep 0.05
	done
	return 1
}

# agent_start_ready [options...]: agent_start, then waits until it has
# reconciled with vh-hosted (agent_wait_ready); bails out when it never
# does, as nothing after it could pass.
agent_start_ready() {
	agent_start "$@"
	agent_wait_ready || { echo "Bail out! vhagent did not become ready"; exit 1; }
}

# agent_restart [options...]: stops the agent (its exit status is not a
# case here) and starts it again with these options, ready.
agent_restart() {
	agent_stop >/dev/null 2>&1
	agent_start_ready "$@"
}

# agent_stop: SIGTERM and wait; returns its exit status (0 expected:
# under the sanitizers a leak makes it non-zero).
agent_stop() {
	agent_env_stop AGENT_PID
}

# agent_stops_cleanly: agent_stop as a case, the agent's log its
# diagnostic: the last case of an end-to-end test, so that a leak or a
# crash on the way out fails the test that caused it.
agent_stops_cleanly() {
	local rc=0
	agent_stop || rc=$?
	if [ $rc = 0 ]; then tap_ok "the agent stops cleanly"; else tap_not_ok "the agent stops cleanly (exit $rc)" "$RUN/agent.log"; fi
}

agent_kill9() {
	agent_env_stop AGENT_PID KILL 2>/dev/null || :
}

# api METHOD PATH [curl options...]: over the unix socket (root: admin);
# sets CODE and BODY (the body is also in $RUN/body).  POST, PUT, PATCH
# and DELETE get the Content-Type the agent requires (application/json,
# application/octet-stream with -T) unless the options name one.
api() {
	local m=$1 p=$2
	shift 2
	CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --unix-socket "$ASOCK" -X "$m" \
		$(agent_env_content_type "$m" "$@") "$@" "http://localhost$p")
	BODY=$(cat "$RUN/body")
}

# tls METHOD PATH [curl options...]: HTTPS with the agent's certificate.
tls() {
	local m=$1 p=$2
	shift 2
	CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --cacert "$STATE/tls/cert.pem" -X "$m" \
		$(agent_env_content_type "$m" "$@") "$@" "https://localhost:$PORT$p")
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
