#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Persistence and reconciliation, for real: kill -9 of the agent in the
# middle of a stream of creates leaves no partial or corrupt record and
# loses none that was acknowledged; a restarted agent adopts the VMs that
# kept running (the guest keeps going, no reboot); definitions a restarted
# hypervisor lost are defined again; an unreadable record is set aside.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

agent_require
agent_setup crash
hv_start
agent_start

# A guest that runs while the agent dies.
define adopt1
api PUT /v1/vms/adopt1/power -H 'Content-Type: application/json' -d '{"state":"running"}'
check "a VM is running before the crash" test "$CODE" = 200 -a "$(json "j['boot_generation']")" = 1
UUID_ADOPT=$(json "j['uuid']")
sleep 0.3
used_before=$("$VH_MSG" stats adopt1 | sed -n 's/^cpu.used_ns: //p')

# ---- kill -9 in the middle of a stream of creates --------------------------------
: >"$RUN/acked"
(
	i=0
	while [ $i -lt 2000 ]; do
		code=$("$CURL" -s -o /dev/null -w '%{http_code}' --unix-socket "$ASOCK" -X POST \
			-H 'Content-Type: application/json' \
			-d "{\"name\":\"k-$i\",\"vcpus\":1,\"memory_mib\":16,\"boot\":{\"kernel\":\"spinner.elf\"}}" \
			http://localhost/v1/vms)
		case $code in
		201) echo "k-$i" >>"$RUN/acked" ;;
		000) break ;; # the agent is gone
		esac
		i=$((i + 1))
	done
) &
loop=$!
sleep 1.5
agent_kill9
wait $loop
nacked=$(wc -l <"$RUN/acked")
check "creates were acknowledged before the kill ($nacked)" test "$nacked" -ge 5

# A write cut short can leave only its temporary file (.tmp-*), never a
# record: every name that is not one is a whole record.
check "the state folder holds records and at most temporary files" \
	test -z "$(ls -A "$STATE/vms" | grep -Ev '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' | grep -v '^\.tmp-')"
bad=$("$PY" - "$STATE/vms" <<'EOF'
import json, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if f.startswith(".tmp-"):
        continue
    try:
        j = json.load(open(os.path.join(d, f)))
        assert j["format"] == 1 and j["vm"]["uuid"] == f and j["vm"]["name"]
    except Exception as e:
        print(f, e)
EOF
)
check "every record parses, format 1, named by its uuid" test -z "$bad"

agent_start
check "the restarted agent is ready (reconciled)" agent_wait_ready
check "... and no temporary file is left" test -z "$(ls -A "$STATE/vms" | grep '^\.tmp-')"
missing=
while read -r n; do
	api GET "/v1/vms/$n"
	[ "$CODE" = 200 ] || missing="$missing $n"
done <"$RUN/acked"
check "no acknowledged VM is lost" test -z "$missing"
nrec=$(ls "$STATE/vms" | grep -c .)
nhv=$("$VH_MSG" list | sed -n 's/^total: //p')
[ -n "$nhv" ] || nhv=$("$VH_MSG" host | sed -n 's/^nvms: //p')
check "records and hypervisor agree after the restart ($nrec records, $nhv VMs)" test "$nrec" = "$nhv"

# ---- adoption ------------------------------------------------------------------------------
api GET /v1/vms/adopt1
check "the running VM was adopted: still running, not rebooted (boot_generation 1)" \
	test "$(json "j['state']")" = running -a "$(json "j['boot_generation']")" = 1 -a "$(json "j['uuid']")" = "$UUID_ADOPT"
sleep 0.3
used_after=$("$VH_MSG" stats adopt1 | sed -n 's/^cpu.used_ns: //p')
check "... and its guest kept running through the crash ($used_before -> $used_after ns)" \
	test "${used_after:-0}" -gt "${used_before:-0}"
tap_grep "the log says what was adopted" 'reconciled: [0-9]+ VMs adopted \(1 running\)' "$RUN/agent.log"

# ---- the hypervisor restarts while the agent is down -------------------------------
agent_stop
check "SIGTERM: the agent exits 0" test $? = 0
"$VH_MSG" get adopt1 >"$RUN/adopt1.txt" 2>&1
check "stopping the agent never stops a VM" grep -q '^state: running' "$RUN/adopt1.txt"
hv_stop
hv_start
check "the new hypervisor has no VMs" test "$("$VH_MSG" host | sed -n 's/^nvms: //p')" = 0
# An unreadable record, as a disk fault might leave.
echo '{"format":1,"vm":{"name":"tr' >"$STATE/vms/00000000-0000-4000-8000-00000000dead"
agent_start
check "the agent is ready after reconciling" agent_wait_ready
nhv=$("$VH_MSG" host | sed -n 's/^nvms: //p')
nrec=$(ls "$STATE/vms" | grep -Ec '^[0-9a-f-]{36}$')
check "every persisted definition is defined again ($nrec records, $nhv VMs)" test "$nhv" = "$nrec" -a "$nhv" -gt 5
api GET /v1/vms/adopt1
check "... powered off, same uuid" test "$CODE" = 200 -a "$(json "j['state']")" = defined -a "$(json "j['uuid']")" = "$UUID_ADOPT"
check "the unreadable record was set aside, not guessed at" \
	test ! -e "$STATE/vms/00000000-0000-4000-8000-00000000dead" -a -n "$(ls "$STATE/vms" | grep 'dead.corrupt-')"
tap_grep "... and reported" 'VM record 00000000-0000-4000-8000-00000000dead is unreadable' "$RUN/agent.log"

# ---- VMs defined without the agent are persisted ----------------------------------------
agent_stop
"$VH_MSG" define outsider vcpus=1 memory=16 >/dev/null
agent_start
check "the agent is ready" agent_wait_ready
uuid=$("$VH_MSG" get outsider | sed -n 's/^uuid: //p')
check "a VM defined behind the agent's back is persisted" test -n "$uuid" -a -f "$STATE/vms/$uuid"
agent_stop
check "the agent exits 0 at the end" test $? = 0
hv_stop
tap_plan "$tap_n"
[ "$tap_failed" = 0 ]
