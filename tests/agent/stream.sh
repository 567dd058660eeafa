#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The streams of vhagent, for real (vh-hosted, spinner guests, curl):
# GET /v1/vms/{vm}/console (the tail; ?follow=true sees the guest's new
# lines as it writes them and ends when the VM is deleted; a deleted
# VM's console is 404; viewers read it, a client without credentials
# does not), the bound on followers (max_followers: the next gets 503),
# idle followers that leave /healthz answering at once, and followers
# whose client went away giving their slot back; GET /v1/events: a VM's
# life, an admission refusal and a guest that triple-faults as events in
# order with increasing ids, Last-Event-ID, events lost past the ring,
# heartbeats, the hypervisor's and the agent's stop.
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

# ---- events -------------------------------------------------------------------------
"$CURL" -sN --max-time 60 --unix-socket "$ASOCK" "$BASE/v1/events?follow=true" >"$RUN/ev" &
EVF=$!
PIDS="$PIDS $EVF"
"$CURL" -sN --max-time 60 --cacert "$STATE/tls/cert.pem" -H "Authorization: Bearer $VIEWER" \
	"https://localhost:$PORT/v1/events?follow=true" >"$RUN/ev-viewer" &
EVV=$!
PIDS="$PIDS $EVV"
tls GET /v1/events
check "events without credentials: 401" test "$CODE" = 401
sleep 0.5
# Each step waits for the watcher (five looks a second) to see it.
step() { api "$@"; sleep 0.5; }
step POST /v1/vms -H 'Content-Type: application/json' \
	-d '{"name":"ev1","vcpus":1,"memory_mib":16,"boot":{"kernel":"spinner.elf","cmdline":"iters=0 report=1000"}}'
step PUT /v1/vms/ev1/power -d '{"state":"running"}'
step PUT /v1/vms/ev1/power -d '{"state":"paused"}'
step PUT /v1/vms/ev1/power -d '{"state":"running"}'
step POST /v1/vms/ev1/reset
step PUT /v1/vms/ev1/power -d '{"state":"stopped","force":true}'
step DELETE /v1/vms/ev1
api POST /v1/vms -H 'Content-Type: application/json' \
	-d '{"name":"adm1","vcpus":1,"memory_mib":16,"cpu":{"reservation_mhz":1000000},"boot":{"kernel":"spinner.elf"}}'
step PUT /v1/vms/adm1/power -d '{"state":"running"}'
check "a reservation over capacity: 409 admission" test "$CODE" = 409
# A balloon target set through the API is an event with the new and the
# previous target.
api POST /v1/vms -H 'Content-Type: application/json' \
	-d '{"name":"bal1","vcpus":1,"memory_mib":16,"devices":["uart16550","debug_exit","fw_cfg","balloon"],"boot":{"kernel":"balloon.elf","cmdline":"rounds=1000 fill=2048 wait=1 spin=0"}}'
step PUT /v1/vms/bal1/power -d '{"state":"running"}'
step PUT /v1/vms/bal1/balloon -d '{"target_mib":4}'
check "PUT balloon: 200" test "$CODE" = 200
ballooned() { grep -q '"type":"balloon_target","time":"[^"]*","vm":{"name":"bal1"' "$RUN/ev"; }
wait_for ballooned
check "a balloon target is an event: bal1's 4 MiB and the 0 before" "$PY" -c '
import json, sys
d = [json.loads(l[6:]) for l in open(sys.argv[1]) if l.startswith("data: ") and "balloon_target" in l][0]
assert d["vm"]["name"] == "bal1" and d["target_mib"] == 4 and d["previous_mib"] == 0, d' "$RUN/ev"
# A guest that triple-faults (the hostile guest's last step: INT3 with an
# empty IDT; vh-hosted completes the INT3 this KVM hands back, so the
# reason is the triple fault itself, not the instruction).
api POST /v1/vms -H 'Content-Type: application/json' \
	-d '{"name":"crash1","vcpus":1,"memory_mib":16,"boot":{"kernel":"hostile.elf"}}'
api PUT /v1/vms/crash1/power -d '{"state":"running"}'
crashed() { grep -q '"type":"vm_crashed","time":"[^"]*","vm":{"name":"crash1"' "$RUN/ev"; }
check "the hypervisor's own doing is seen: the hostile guest crashed" wait_for crashed
check "with the hypervisor's reason" "$PY" -c '
import json, sys
d = [json.loads(l[6:]) for l in open(sys.argv[1]) if l.startswith("data: ") and "vm_crashed" in l][0]
assert d["state"] == "crashed" and d["reason"] == "vCPU 0 triple-faulted", d' "$RUN/ev"
sleep 1.5 # a heartbeat's worth of silence
# ev1's life, in order, with increasing ids.
check "events in order with increasing ids: ev1 defined, started, paused, resumed, reset, stopped, deleted; adm1 refused" "$PY" -c '
import json, sys
recs = [r for r in open(sys.argv[1]).read().split("\n\n") if r.strip() and not r.startswith(":")]
ev = []
for r in recs:
    f = dict(l.split(": ", 1) for l in r.split("\n") if ": " in l and not l.startswith(":"))
    d = json.loads(f["data"])
    assert int(f["id"]) == d["id"] and f["event"] == d["type"], r
    ev.append(d)
ids = [d["id"] for d in ev]
assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
mine = [d["type"] for d in ev if d.get("vm", {}).get("name") == "ev1"]
want = ["vm_defined", "vm_started", "vm_paused", "vm_resumed", "vm_reset", "vm_stopped", "vm_deleted"]
assert mine == want, mine
adm = [d for d in ev if d["type"] == "admission_refused"]
assert adm and adm[0]["vm"]["name"] == "adm1" and "MHz" in adm[0]["detail"], adm
' "$RUN/ev"
tap_grep "an idle stream gets heartbeat comments (heartbeat_s)" '^: heartbeat$' "$RUN/ev"
check "a viewer follows the same events" "$PY" -c '
import sys
a = [l for l in open(sys.argv[1]) if l.startswith("id: ")]
b = [l for l in open(sys.argv[2]) if l.startswith("id: ")]
assert a and a == b[:len(a)] or b == a[:len(b)], (a[:3], b[:3])' "$RUN/ev" "$RUN/ev-viewer"

# Reconnecting with Last-Event-ID gets exactly the missed ones.
mid=$(grep '^id: ' "$RUN/ev" | sed -n 3p | cut -d' ' -f2)
last=$(grep '^id: ' "$RUN/ev" | tail -n 1 | cut -d' ' -f2)
api GET /v1/events -H "Last-Event-ID: $mid"
check "Last-Event-ID $mid: exactly the events after it ($((mid + 1))..$last)" \
	test "$(grep '^id: ' "$RUN/body" | cut -d' ' -f2 | tr '\n' ' ')" = "$(seq -s ' ' $((mid + 1)) "$last") "
check "and the same bytes the stream had" test "$(sed -n "/^id: $((mid + 1))\$/,\$p" "$RUN/ev" | grep -v '^: ' | grep -v '^$')" = "$(grep -v '^$' "$RUN/body")"
api GET /v1/events -H "Last-Event-ID: x1"
check "a Last-Event-ID that is not an id: 422" test "$CODE" = 422 -a "$(json "j['field']")" = Last-Event-ID
# More refusals than the ring holds (one curl, keep-alive): an old id
# gets an events_lost event first, then what is held.
"$CURL" -s -o /dev/null --unix-socket "$ASOCK" -X PUT -H 'Content-Type: application/json' \
	-d '{"state":"running"}' "$BASE/v1/vms/adm1/power?n=[1-1100]"
api GET /v1/events -H "Last-Event-ID: $mid"
check "a reconnect older than the ring: events_lost first, then the held ones without a gap" "$PY" -c '
import sys
ids = [int(l.split()[1]) for l in open(sys.argv[1]) if l.startswith("id: ")]
ev = [l.split()[1] for l in open(sys.argv[1]) if l.startswith("event: ")]
mid = int(sys.argv[2])
assert ev[0] == "events_lost" and ids[0] > mid, (ev[:2], ids[:2])
assert ids[1:] == list(range(ids[0] + 1, ids[0] + len(ids))) and len(ids) == 1025, (len(ids), ids[:3])
' "$RUN/body" "$mid"

# ---- the hypervisor and the agent stop with followers attached -------------------
"$CURL" -sN --max-time 30 --unix-socket "$ASOCK" "$BASE/v1/vms/quiet1/console?follow=true" >/dev/null &
LAST=$!
PIDS="$PIDS $LAST"
sleep 0.3
hv_stop
hvdown() { grep -q '^event: hypervisor_stopped$' "$RUN/ev"; }
check "the hypervisor's stop is an event" wait_for hvdown
agent_stop
check "the agent exits 0 with a follower attached" test $? = 0
wait "$LAST"
check "and the follower's stream ends (curl exit $?)" test $? = 0
wait "$EVF"
check "the event stream ends too (curl exit $?)" test $? = 0
tap_grep "after the agent's stop event" '^event: agent_stopped$' "$RUN/ev"
tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
