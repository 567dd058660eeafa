#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Faults the agent survives (docs/agent.md, "Faults"):
#  - its state folder fills up (a 16 MiB ext4 file system on a loop
#    device, mounted over <state>): creates, an offline PATCH, an image
#    upload and a token are each a clear 507 with nothing half-written,
#    and they succeed again once space is freed;
#  - vh-hosted is killed with SIGKILL under load: 503 with Retry-After
#    while it is gone; when it is back, reconcile defines every VM again,
#    powered off (the running ones too), and the first reads on request
#    threads that held connections to the killed instance answer 200;
#  - vh-hosted is stopped with SIGSTOP: 504 within hypervisor_timeout_ms,
#    recovery on SIGCONT with every reply matched to its own request; a
#    hypervisor whose listen backlog is full (a stopped one, long enough)
#    bounds connect() by the same timeout.
# Needs root (mount), a loop device, mkfs.ext4 and /dev/kvm: fails loudly
# without them.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

agent_require
for tool in mkfs.ext4 mount umount losetup; do
	command -v "$tool" >/dev/null || {
		echo "Bail out! $tool is missing (e2fsprogs, mount)"
		exit 1
	}
done
# A mount left by an interrupted run would make agent_setup's rm fail.
umount "$top_builddir/tests/agent/runs/faults/state" 2>/dev/null
agent_setup faults
DEAF_PID=
faults_cleanup() {
	[ -n "$HV_PID" ] && kill -CONT "$HV_PID" 2>/dev/null
	[ -n "$DEAF_PID" ] && kill -KILL "$DEAF_PID" 2>/dev/null
	agent_cleanup
	mountpoint -q "$STATE" && umount "$STATE"
}
trap faults_cleanup EXIT

# ---- the state folder on a small file system of its own -------------------------------
mv "$STATE/images" "$RUN/images.orig"
truncate -s 16M "$RUN/fs.img"
if ! mkfs.ext4 -q -F -m 0 "$RUN/fs.img" >"$RUN/mkfs.log" 2>&1 ||
	! mount -o loop "$RUN/fs.img" "$STATE" >>"$RUN/mkfs.log" 2>&1; then
	echo "Bail out! cannot mount a loop file system (root and /dev/loop* needed)"
	sed 's/^/# /' "$RUN/mkfs.log"
	exit 1
fi
mkdir "$STATE/images"
cp "$RUN/images.orig"/* "$STATE/images/"

hv_start
agent_start --hypervisor-timeout-ms 1000
for n in ok1 ok2 ok3; do define "$n"; done
check "VMs are created while there is space" test "$CODE" = 201

# fill: every free block taken (big writes, then small ones for the tail).
fill() {
	dd if=/dev/zero of="$STATE/fill1" bs=1M >/dev/null 2>&1
	dd if=/dev/zero of="$STATE/fill2" bs=4k >/dev/null 2>&1
	dd if=/dev/zero of="$STATE/fill3" bs=512 >/dev/null 2>&1
	sync
}
fill
check "the state file system is full" test "$(df --output=avail -k "$STATE" | tail -1 | tr -d ' ')" -le 4

# problem_is STATUS CODE: the last response was STATUS, problem+json with that code.
problem_is() {
	test "$CODE" = "$1" -a "$(json "j['code']")" = "$2" -a "$(json "j['status']")" = "$1" &&
		grep -qi '^content-type: application/problem+json' "$RUN/hdr"
}

bad=
for i in $(seq 1 20); do
	api POST /v1/vms -D "$RUN/hdr" -H 'Content-Type: application/json' \
		-d "{\"name\":\"full-$i\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"spinner.elf\"}}"
	problem_is 507 insufficient_storage || bad="$bad $i:$CODE"
done
check "20 creates on a full disk: each a 507 insufficient_storage problem${bad:+ (not:$bad)}" test -z "$bad"
check "... saying what to do" test -n "$(json "'free space' in j['detail']")"

# consistent: records, hypervisor and listing agree, no temporary file.
consistent() { # N
	local nrec nhv nlist
	nrec=$(ls "$STATE/vms" | grep -Ec '^[0-9a-f-]{36}$')
	nhv=$("$VH_MSG" host | sed -n 's/^nvms: //p')
	api GET '/v1/vms?limit=1000'
	nlist=$(json "len(j['items'])")
	CONSISTENT="$nrec records, $nhv in the hypervisor, $nlist listed"
	test "$nrec" = "$1" -a "$nhv" = "$1" -a "$nlist" = "$1" &&
		test -z "$(ls -A "$STATE/vms" | grep '^\.tmp-')"
}
consistent 3
check "nothing half-written: $CONSISTENT, no temporary file" test $? = 0

api PATCH /v1/vms/ok1 -D "$RUN/hdr" -H 'Content-Type: application/json' -d '{"memory_mib":32}'
check "an offline PATCH on a full disk is 507" problem_is 507 insufficient_storage
api GET /v1/vms/ok1
check "... and the VM is as it was (16 MiB)" test "$(json "j['memory_mib']")" = 16

dd if=/dev/urandom of="$RUN/big.elf" bs=64k count=16 2>/dev/null
CODE=$("$CURL" -s -o "$RUN/body" -D "$RUN/hdr" -w '%{http_code}' --unix-socket "$ASOCK" \
	-H 'Content-Type: application/octet-stream' -T "$RUN/big.elf" http://localhost/v1/images/big.elf)
BODY=$(cat "$RUN/body")
check "an image upload on a full disk is 507" problem_is 507 insufficient_storage
check "... and leaves no upload file" test -z "$(ls -A "$STATE/images" | grep -v '\.elf$' | grep -v '^\.meta$')"
api GET /v1/images/big.elf
check "... nor the image" test "$CODE" = 404

api POST /v1/tokens -D "$RUN/hdr" -H 'Content-Type: application/json' -d '{"name":"t-full","role":"viewer"}'
check "a token created on a full disk is 507" problem_is 507 insufficient_storage

rm -f "$STATE"/fill*
define after-full
check "space freed: creates succeed again" test "$CODE" = 201
CODE=$("$CURL" -s -o "$RUN/body" -w '%{http_code}' --unix-socket "$ASOCK" \
	-H 'Content-Type: application/octet-stream' -T "$RUN/big.elf" http://localhost/v1/images/big.elf)
check "... and uploads" test "$CODE" = 201
consistent 4
check "... records, hypervisor and listing agree ($CONSISTENT)" test $? = 0

# ---- vh-hosted killed with SIGKILL under load ---------------------------------------
api PUT /v1/vms/ok1/power -H 'Content-Type: application/json' -d '{"state":"running"}'
check "ok1 runs before the kill" test "$(json "j['state']")" = running
api GET /v1/vms/ok2
check "ok2 is powered off" test "$(json "j['state']")" = defined

: >"$RUN/load.codes"
(
	while [ ! -e "$RUN/load.stop" ]; do
		"$CURL" -s -o /dev/null -m 5 -w '%{http_code}\n' --unix-socket "$ASOCK" \
			http://localhost/v1/vms/ok2 >>"$RUN/load.codes"
		"$CURL" -s -o /dev/null -m 5 -w '%{http_code}\n' --unix-socket "$ASOCK" \
			-X PUT -H 'Content-Type: application/json' -d '{"state":"stopped"}' \
			http://localhost/v1/vms/ok3/power >>"$RUN/load.codes"
	done
) &
LOAD_PID=$!
sleep 0.5
# Every HTTPS request thread holds a connection to the instance about to
# go (/readyz asks it HOST_INFO), and nothing uses them until it is back:
# the load goes to the unix socket's threads.
readyz_tls() { # FILE...: /readyz over HTTPS, all at once; each code to its FILE
	local f pids=()
	for f in "$@"; do
		"$CURL" -s -o /dev/null -m 5 -w '%{http_code}' --cacert "$STATE/tls/cert.pem" \
			"https://localhost:$PORT/readyz" >"$f" &
		pids+=($!)
	done
	wait "${pids[@]}"
}
readyz_tls "$RUN"/pre.{1..12}.ready
OUT=$(cat "$RUN"/pre.*.ready)
check "/readyz over HTTPS before the kill: 200 on every thread" \
	test "$(cat "$RUN"/pre.*.ready)" = "$(printf '200%.0s' $(seq 12))"
agent_env_stop HV_PID KILL 2>/dev/null
api GET /v1/vms/ok2 -D "$RUN/hdr"
check "vh-hosted gone: a read is 503 unavailable" problem_is 503 unavailable
check "... with Retry-After" grep -qi '^retry-after: [0-9]' "$RUN/hdr"
api POST /v1/vms -D "$RUN/hdr" -H 'Content-Type: application/json' \
	-d '{"name":"gone1","vcpus":1,"memory_mib":16,"boot":{"kernel":"spinner.elf"}}'
check "... a create is 503 with Retry-After" \
	test "$CODE" = 503 -a -n "$(grep -i '^retry-after: [0-9]' "$RUN/hdr")"
sleep 0.5
passes=$(grep -c 'reconciled:' "$RUN/agent.log")
hv_start
# The pass over the new instance, seen in the log rather than asked of a
# request thread: /readyz would use (and so refresh) a thread's connection.
for _ in $(seq 1 200); do
	[ "$(grep -c 'reconciled:' "$RUN/agent.log")" -gt "$passes" ] && break
	sleep 0.05
done
OUT=$(grep 'reconciled:' "$RUN/agent.log" | tail -1)
check "the restarted agent reconciles with the new vh-hosted ($OUT)" \
	test "$(grep -c 'reconciled:' "$RUN/agent.log")" -gt "$passes"
# The first requests after the pass over the new vh-hosted, on every
# request thread at once: a thread whose connection still belongs to the
# killed instance (every HTTPS one) makes it again before use
# (agent/hvconn.c), so /readyz is 200 on each (its HOST_INFO is the first
# use: a connection that broke on it made the agent not ready until
# another pass) and each read is 200 with the new instance's data (ok1
# defined again, powered off).
pids=()
for i in $(seq 1 12); do
	"$CURL" -s -o "$RUN/burst.$i.json" -m 5 -w '%{http_code}' --unix-socket "$ASOCK" \
		http://localhost/v1/vms/ok1 >"$RUN/burst.$i.code" &
	pids+=($!)
done
readyz_tls "$RUN"/burst.{1..12}.ready
wait "${pids[@]}"
bad=
for i in $(seq 1 12); do
	st=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("state"))' \
		"$RUN/burst.$i.json" 2>/dev/null)
	[ "$(cat "$RUN/burst.$i.code")" = 200 ] && [ "$st" = defined ] ||
		bad="$bad read$i:$(cat "$RUN/burst.$i.code")/$st"
	[ "$(cat "$RUN/burst.$i.ready")" = 200 ] || bad="$bad readyz$i:$(cat "$RUN/burst.$i.ready")"
done
check "the first requests after the restart: 12 reads 200, ok1 defined again, 12 /readyz 200${bad:+ (not:$bad)}" \
	test -z "$bad"
touch "$RUN/load.stop"
wait $LOAD_PID
others=$(sort "$RUN/load.codes" | uniq -c | awk '$2 != 200 && $2 != 503 { print $2 "x" $1 }' | tr '\n' ' ')
others=${others% }
n503=$(grep -c '^503$' "$RUN/load.codes")
n200=$(grep -c '^200$' "$RUN/load.codes")
check "the load saw only 200 and 503 ($n200 x 200, $n503 x 503${others:+, others: $others})" \
	test -z "$others" -a "$n503" -gt 0 -a "$n200" -gt 0
consistent 4
check "every definition is back: $CONSISTENT" test $? = 0
api GET /v1/vms/ok2
check "a powered-off VM stays off" test "$CODE" = 200 -a "$(json "j['state']")" = defined
api GET /v1/vms/ok1
check "a VM that was running is defined again powered off (not restarted)" \
	test "$CODE" = 200 -a "$(json "j['state']")" = defined
# Until its reconcile pass has run the agent answers 503 busy (with
# Retry-After), as a client is told to retry.
for _ in $(seq 1 50); do
	api PUT /v1/vms/ok1/power -H 'Content-Type: application/json' -d '{"state":"running"}'
	[ "$CODE" = 503 ] || break
	sleep 0.2
done
check "... and starts when asked" test "$CODE" = 200 -a "$(json "j['state']")" = running

# ---- vh-hosted stopped with SIGSTOP ------------------------------------------------
kill -STOP "$HV_PID"
t0=$(date +%s%N)
pids=
for n in ok1 ok2 ok3 after-full; do
	"$CURL" -s -o "$RUN/stop-$n" -m 10 -w '%{http_code}\n' --unix-socket "$ASOCK" \
		"http://localhost/v1/vms/$n" >"$RUN/stop-$n.code" &
	pids="$pids $!"
done
for j in $pids; do wait "$j"; done
ms=$((($(date +%s%N) - t0) / 1000000))
codes=$(cat "$RUN"/stop-*.code | tr '\n' ' ')
# Each ends within about the timeout (1000 ms), also those queued behind
# another on one of libmicrohttpd's threads: once one request has timed
# out the agent answers the rest at once (hvconn.c, the stall gate).
check "vh-hosted stopped: 4 concurrent reads end with 504 within the timeout (${codes}in $ms ms)" \
	test "$codes" = "504 504 504 504 " -a "$ms" -lt 1600
BODY=$(cat "$RUN/stop-ok1")
check "... a hypervisor_timeout problem" test "$(json "j['code']")" = hypervisor_timeout
t0=$(date +%s%N)
api GET /v1/host
ms=$((($(date +%s%N) - t0) / 1000000))
check "... and the next one too, at once while it is still stopped ($ms ms)" \
	test "$CODE" = 504 -a "$ms" -lt 500
kill -CONT "$HV_PID"
check "SIGCONT: the agent is ready again" agent_wait_ready
bad=
for round in 1 2 3 4 5; do
	for n in ok1 ok2 ok3 after-full; do
		api GET "/v1/vms/$n"
		[ "$CODE" = 200 ] && [ "$(json "j['name']")" = "$n" ] || bad="$bad $n:$CODE:$(json "j.get('name')")"
	done
	api GET /v1/host
	[ "$CODE" = 200 ] || bad="$bad host:$CODE"
done
check "... 25 requests succeed, each answered with its own VM${bad:+ (not:$bad)}" test -z "$bad"
consistent 4
check "... records, hypervisor and listing agree ($CONSISTENT)" test $? = 0

# A stopped hypervisor accepts no connection: once its listen backlog is
# full, connect() would wait until it accepts again.  A listener that
# never accepts, with a backlog of one, is that state at once.
agent_stop
check "the agent exits 0" test $? = 0
"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(0)
time.sleep(120)' "$RUN/deaf.sock" &
DEAF_PID=$!
for _ in $(seq 1 100); do [ -S "$RUN/deaf.sock" ] && break; sleep 0.05; done
agent_env_agent_launch "$RUN/agent.log" "$STATE" "$RUN/deaf.sock" "$ASOCK" "$PORT" \
	--hypervisor-timeout-ms 500
AGENT_PID=$AGENT_ENV_AGENT_PID
agent_env_agent_wait "$RUN/agent.log" "$AGENT_PID" "$ASOCK" /healthz
t0=$(date +%s%N)
bad=
for i in 1 2 3; do
	CODE=$("$CURL" -s -o "$RUN/body" -m 10 -w '%{http_code}' --unix-socket "$ASOCK" http://localhost/v1/host)
	[ "$CODE" = 504 ] || bad="$bad $CODE"
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "a full listen backlog: each request 504 within the timeout (3 in $ms ms${bad:+, got:$bad})" \
	test -z "$bad" -a "$ms" -lt 3000
agent_stop
check "the agent exits 0 at the end" test $? = 0
kill -KILL "$DEAF_PID"
wait "$DEAF_PID" 2>/dev/null
DEAF_PID=
hv_stop
tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
