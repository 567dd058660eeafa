#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The streams of vhagent, for real (vh-hosted, spinner guests, curl):
# GET /v1/vms/{vm}/console (the tail; ?follow=true sees the guest's new
# lines as it writes them and ends when the VM is deleted; a deleted
# VM's console is 404; viewers read it, a client without credentials
# does not), the bound on followers (max_followers: the next gets 503),
# idle followers that leave /healthz answering at once, and followers
# whose client went away giving their slot back.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

agent_require
agent_setup stream
MAXF=24
printf 'max_followers = %s\nheartbeat_s = 1\n' "$MAXF" >"$RUN/agent.conf"
hv_start
agent_start --config "$RUN/agent.conf"
agent_wait_ready || { echo "Bail out! vhagent did not become ready"; exit 1; }
VIEWER=$("$VHAGENT" --config /dev/null --state-dir "$STATE" token create sv --role viewer 2>/dev/null)
BASE=http://localhost
PIDS=

# spinner NAME: defines a spinner that prints a progress line about every
# few ms and powers it on.
spinner() {
	api POST /v1/vms -H 'Content-Type: application/json' \
		-d "{\"name\":\"$1\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"spinner.elf\",\"cmdline\":\"iters=0 report=20 work=100\"}}"
	api PUT "/v1/vms/$1/power" -d '{"state":"running"}'
}

# last_progress FILE: the last "spinner: progress U" line's U (0 if none).
last_progress() {
	tr -d '\r' <"$1" | sed -n 's/^spinner: progress \([0-9]*\)$/\1/p' | tail -n 1 | grep . || echo 0
}

# wait_for COND...: up to 5 s.
wait_for() {
	for _ in $(seq 1 100); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

stream_cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	agent_cleanup
}
trap stream_cleanup EXIT

# ---- the console's tail ------------------------------------------------------------
spinner con1
check "a spinner runs" test "$CODE" = 200
wait_for grep -q progress <("$CURL" -s --unix-socket "$ASOCK" "$BASE/v1/vms/con1/console")
"$CURL" -s -D "$RUN/tail.hdr" -o "$RUN/tail" --unix-socket "$ASOCK" "$BASE/v1/vms/con1/console"
tap_grep "GET console: 200" '^HTTP/1.1 200' "$RUN/tail.hdr"
check "with the guest's progress lines" test "$(last_progress "$RUN/tail")" -gt 0
tap_grep "as text/plain; charset=utf-8" '^Content-Type: text/plain; charset=utf-8' "$RUN/tail.hdr"
tap_grep "with nosniff (a browser never runs it as HTML)" '^X-Content-Type-Options: nosniff' "$RUN/tail.hdr"
check "the tail is at most the hypervisor's 4 KiB" test "$(stat -c %s "$RUN/tail")" -le 4096
tls GET /v1/vms/con1/console -H "Authorization: Bearer $VIEWER"
check "a viewer reads it" test "$CODE" = 200 -a -n "$BODY"
tls GET /v1/vms/con1/console
check "a client without credentials: 401" test "$CODE" = 401
api GET /v1/vms/nosuch/console
check "no such VM: 404" test "$CODE" = 404 -a "$(json "j['code']")" = not_found
api GET '/v1/vms/con1/console?follow=maybe'
check "follow=maybe: 422 naming follow" test "$CODE" = 422 -a "$(json "j['field']")" = follow

# ---- follow -------------------------------------------------------------------------
"$CURL" -sN --max-time 30 --unix-socket "$ASOCK" "$BASE/v1/vms/con1/console?follow=true" >"$RUN/follow" &
FOLLOW=$!
PIDS="$PIDS $FOLLOW"
before=$(last_progress "$RUN/tail")
followed_past() { [ "$(last_progress "$RUN/follow")" -gt "$1" ]; }
check "follow: the tail first, then lines the guest wrote after the tail was read" \
	wait_for followed_past $((before + 100))
n1=$(last_progress "$RUN/follow")
check "follow keeps going as the guest writes" wait_for followed_past "$n1"
# Strictly increasing: no line twice (the console budget may drop some).
check "and holds each line once, in order" "$PY" -c '
import re, sys
n = [int(m) for m in re.findall(r"^spinner: progress (\d+)$", open(sys.argv[1]).read().replace("\r", ""), re.M)]
assert n and all(b > a for a, b in zip(n, n[1:])), n' "$RUN/follow"
api DELETE '/v1/vms/con1?force=true'
check "the VM is deleted" test "$CODE" = 204
t0=$(date +%s%N)
wait "$FOLLOW"
rc=$?
t1=$(date +%s%N)
check "a running follow ends when its VM is deleted (curl exit $rc, $(((t1 - t0) / 1000000)) ms)" \
	test "$rc" = 0 -a $(((t1 - t0) / 1000000)) -lt 2000
api GET /v1/vms/con1/console
check "the console of a deleted VM is gone with it: 404" test "$CODE" = 404

# ---- many idle followers ---------------------------------------------------------
# A VM that prints nothing: its followers wait, suspended.
define quiet1
for i in $(seq 1 "$MAXF"); do
	"$CURL" -sN --unix-socket "$ASOCK" "$BASE/v1/vms/quiet1/console?follow=true" >/dev/null &
	IDLE="${IDLE:-} $!"
done
PIDS="$PIDS $IDLE"
sleep 1
api GET /metrics
t0=$(date +%s%N)
code=$("$CURL" -s -o /dev/null -w '%{http_code}' --max-time 2 --unix-socket "$ASOCK" "$BASE/healthz")
t1=$(date +%s%N)
check "$MAXF idle followers: /healthz still answers at once ($(((t1 - t0) / 1000000)) ms)" \
	test "$code" = 200 -a $(((t1 - t0) / 1000000)) -lt 500
api GET /v1/vms/quiet1/console?follow=true
check "one more than max_followers: 503 busy with Retry-After" \
	test "$CODE" = 503 -a "$(json "j['code']")" = busy
for p in $IDLE; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
# Clients that vanished give their slots back (their sockets hung up).
slot_free() {
	[ "$("$CURL" -s -o /dev/null -w '%{http_code}' --max-time 0.5 --unix-socket "$ASOCK" \
		"$BASE/v1/vms/quiet1/console?follow=true")" = 200 ]
}
check "followers whose clients went away give their slots back" wait_for slot_free

# ---- the agent stops with followers attached ------------------------------------
"$CURL" -sN --max-time 30 --unix-socket "$ASOCK" "$BASE/v1/vms/quiet1/console?follow=true" >/dev/null &
LAST=$!
PIDS="$PIDS $LAST"
sleep 0.3
agent_stop
check "the agent exits 0 with a follower attached" test $? = 0
wait "$LAST"
check "and the follower's stream ends (curl exit $?)" test $? = 0
hv_stop
tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
