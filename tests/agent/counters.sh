#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Counters without a round trip (docs/protocol.md, "Published counters";
# docs/agent.md): vh-hosted publishes its counters in a sealed memfd the
# agent maps read-only through STATS_MAP, and the agent serves
# GET /v1/vms/{vm}/stats, GET /v1/stats, GET /v1/host and /metrics from it.
#  - the area is sealed, and write, a writable mapping, mprotect,
#    ftruncate and a store through the mapping are each refused;
#  - 300 such requests send no VM_STATS, HOST_INFO or HOST_STATS message
#    (vh-hosted counts messages per type in the area);
#  - what VM_STATS answers lies between two reads of the area just before
#    and after it, within one scheduler quantum, over 50 rounds, with 3
#    spinning VMs contending for 2 pCPUs (a reader that left out the time
#    since a vCPU's last state change fails it);
#  - a running VM's used_ms grows between two reads 20 ms apart;
#  - VMs defined and undefined show in GET /v1/stats at once;
#  - vh-hosted killed and started again: the agent maps the new one; an
#    agent started before vh-hosted maps it once it is there.
# Needs /dev/kvm: fails loudly without it.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/agent/lib.sh"

agent_require
agent_setup counters
tap_plan 13
CODE= BODY=

# metric NAME: its value in /metrics.
metric() {
	"$CURL" -s --unix-socket "$ASOCK" http://localhost/metrics | awk -v m="$1" '$1 == m {print $2}'
}
# wait_mapped N: until the agent has mapped N areas and holds one (5 s).
wait_mapped() {
	for _ in $(seq 100); do
		[ "$(metric vh_agent_hypervisor_published_mapped)" = 1 ] &&
			[ "$(metric vh_agent_hypervisor_published_maps_total)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# msgs TYPE: protocol messages of TYPE vh-hosted answered so far.
msgs() { "$VH_MSG" stats-map | sed -n "s/^msgs\.$1: //p"; }
power_on() {
	api PUT "/v1/vms/$1/power" -H 'Content-Type: application/json' -d '{"state":"running"}'
}

hv_start
agent_start
agent_wait_ready
check "the agent maps vh-hosted's counters" wait_mapped 1

for v in v1 v2 v3; do define "$v"; done
for v in v1 v2 v3; do power_on "$v"; done
sleep 0.3
out=$("$VH_MSG" stats-map check 2>&1)
rc=$?
if [ $rc = 0 ]; then
	tap_ok "the area is sealed, and every way of writing to it is refused"
else
	tap_not_ok "the area is sealed, and every way of writing to it is refused" "$out"
fi

# ---- no protocol message per request --------------------------------------------------
urls() { # COUNT PATH
	for _ in $(seq "$1"); do printf 'url = "http://localhost%s"\noutput = "/dev/null"\n' "$2"; done
}
{
	urls 100 /v1/vms/v1/stats
	urls 100 /v1/stats
	urls 60 /v1/host
	urls 40 /metrics
} >"$RUN/urls"
declare -A before after
for t in vm_stats vm_stats_all host_info host_stats vm_list; do before[$t]=$(msgs "$t"); done
reads0=$(metric vh_agent_hypervisor_published_reads_total)
t0=$(date +%s%N)
codes=$("$CURL" -s --unix-socket "$ASOCK" -K "$RUN/urls" -w '%{http_code}\n' | sort | uniq -c |
	awk '{printf "%s:%s ", $2, $1}')
secs=$((($(date +%s%N) - t0) / 1000000000 + 1))
for t in vm_stats vm_stats_all host_info host_stats vm_list; do after[$t]=$(msgs "$t"); done
reads1=$(metric vh_agent_hypervisor_published_reads_total)
d() { echo $((after[$1] - before[$1])); }
CODE=$codes BODY="messages: vm_stats +$(d vm_stats) host_info +$(d host_info) host_stats +$(d host_stats) vm_stats_all +$(d vm_stats_all) vm_list +$(d vm_list) in ${secs}s; reads $reads0 -> $reads1"
check "300 counter requests, all 200 ($codes)" test "$codes" = "200:300 "
# In the background the agent's sampler sends VM_STATS_ALL once a second
# and its event watcher VM_LIST five times a second; through the protocol
# these requests would have sent 100 VM_STATS, 160 HOST_INFO and HOST_STATS
# and 140 walks of VM_LIST and VM_STATS_ALL.
check "... and sent no VM_STATS, HOST_INFO or HOST_STATS message ($BODY)" \
	test "$(d vm_stats)" = 0 -a "$(d host_info)" = 0 -a "$(d host_stats)" = 0
check "... nor a VM_STATS_ALL or VM_LIST walk beyond the background's" \
	test "$(d vm_stats_all)" -le $((secs + 2)) -a "$(d vm_list)" -le $((5 * secs + 10)) \
	-a "$(d vm_stats_all)" -lt 50 -a "$(d vm_list)" -lt 50
check "... each served from the area (the agent's reads counter)" \
	test $((reads1 - reads0)) -ge 300

# ---- the same numbers as the protocol --------------------------------------------------
out=$("$VH_MSG" stats-map compare v1 10000 50 2>&1)
rc=$?
if [ $rc = 0 ]; then
	tap_ok "VM_STATS lies between two reads of the area within a quantum, 50 rounds ($(echo "$out" | sed -n 's/compare.max_diff_ns: //p') ns off at most)"
else
	tap_not_ok "VM_STATS lies between two reads of the area within a quantum" "$out"
fi
api GET /v1/vms/v1/stats
u1=$(json "j['vcpus'][0]['cpu']['used_ms'] + j['vcpus'][0]['cpu']['ready_ms']")
s1=$(json "j['state']")
sleep 0.02
api GET /v1/vms/v1/stats
u2=$(json "j['vcpus'][0]['cpu']['used_ms'] + j['vcpus'][0]['cpu']['ready_ms']")
check "a running vCPU's used + ready time grows between two reads 20 ms apart ($s1: $u1 -> $u2 ms)" \
	"$PY" -c "import sys; sys.exit(0 if float('$u2') >= float('$u1') + 15 else 1)"

# ---- VMs come and go -------------------------------------------------------------------
api PUT /v1/vms/v3/power -H 'Content-Type: application/json' -d '{"state":"stopped","force":true}'
for _ in $(seq 50); do # a VM still leaving its pCPU: 409, retry
	api DELETE /v1/vms/v3
	[ "$CODE" = 204 ] && break
	sleep 0.05
done
define v4
api GET /v1/stats
check "GET /v1/stats follows a VM undefined and one defined, in id order ($(json "[v['vm'] for v in j['vms']]"))" \
	test "$(json "[v['vm'] for v in j['vms']]")" = "['v1', 'v2', 'v4']"
api GET /v1/vms/v3/stats
check "... and the undefined one is a 404" test "$CODE" = 404

# ---- vh-hosted restarts; the agent starts first ----------------------------------------
agent_env_stop HV_PID KILL 2>/dev/null
hv_start
check "vh-hosted killed and started again: the agent maps the new one" wait_mapped 2
agent_wait_ready
api GET /v1/vms/v1/stats
check "... and serves its counters (the VM defined again, off: $(json "j['state']"))" \
	test "$CODE" = 200 -a "$(json "j['state']")" = defined
agent_stop
hv_stop
agent_start
api GET /v1/host
code_before=$CODE
hv_start
wait_mapped 1
api GET /v1/host
check "an agent started before vh-hosted maps it once it is there ($code_before, then $CODE)" \
	test "$code_before" = 503 -a "$CODE" = 200 -a "$(metric vh_agent_hypervisor_published_mapped)" = 1
