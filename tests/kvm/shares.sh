#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CPU scheduling by vh's scheduler on KVM: four single-vCPU spinners on
# two workers, two with normal shares (1000) and two with high (2000).
# Over 5 s of wall time the high ones must get twice the CPU of the normal
# ones within 2%, by the scheduler's used counters read at one instant
# (VM_STATS_ALL), and the two pCPUs must be busy (work conserving).  Then
# co-scheduling: a 4-vCPU SMP guest with strict co-scheduling comes up
# among spinners.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup shares
tap_plan 5
kvm_start

for v in n1 n2; do "$VH_MSG" define $v kernel=spinner.elf memory=4 "cmdline=iters=0 report=100000 work=1000" >/dev/null; done
for v in h1 h2; do "$VH_MSG" define $v kernel=spinner.elf memory=4 cpu-shares=high "cmdline=iters=0 report=100000 work=1000" >/dev/null; done
for v in n1 n2 h1 h2; do "$VH_MSG" start $v >/dev/null; done
sleep 1
# used ns per VM name, one snapshot.
snap() {
	"$VH_MSG" stats-all | awk -F': ' '/^vm[0-9]+\.id:/ {id=$2} /^vm[0-9]+\.cpu\.used_ns:/ {print id, $2}'
	"$VH_MSG" host-stats | awk -F': ' '/^busy_ns:/ {print "busy", $2} /^now_ns:/ {print "now", $2}'
}
a=$(snap); sleep 5; b=$(snap)
read -r res <<<"$(awk -v A="$a" -v B="$b" 'BEGIN {
	n = split(A, x, "\n"); for (i = 1; i <= n; i++) { split(x[i], f, " "); s[f[1]] = f[2] }
	n = split(B, x, "\n"); for (i = 1; i <= n; i++) { split(x[i], f, " "); d[f[1]] = f[2] - s[f[1]] }
	norm = d[1] + d[2]; high = d[3] + d[4]
	printf "%.4f %.4f %.4f %.3f %.3f %.3f %.3f\n", high / norm, d["busy"] / (2 * d["now"]), d[3] / d[1], d[1]/1e9, d[2]/1e9, d[3]/1e9, d[4]/1e9 }')"
set -- $res
ratio=$1 busy=$2
detail="high/normal $ratio (want 2.00 +- 2%); pCPUs busy $busy; used s: n1 $4 n2 $5 h1 $6 h2 $7"
if awk -v r="$ratio" 'BEGIN { exit !(r >= 1.96 && r <= 2.04) }'; then
	tap_ok "shares 1:2 within 2% over 5 s on 2 workers ($detail)"
else
	tap_not_ok "shares 1:2 within 2% over 5 s on 2 workers" "$detail"
fi
if awk -v b="$busy" 'BEGIN { exit !(b >= 0.95) }'; then
	tap_ok "work conserving: both pCPUs busy ($busy)"
else
	tap_not_ok "work conserving: both pCPUs busy" "$detail"
fi

# Co-scheduling: strict gang of 4 vCPUs on 2 pCPUs is wider than the host
# (scheduled relaxed, logged); a strict 2-vCPU gang among the spinners.
"$VH_MSG" define gang kernel=smp.elf memory=8 vcpus=2 cosched=strict devices=uart,debug-exit,fw-cfg >/dev/null
"$VH_MSG" start gang >/dev/null
if "$VH_MSG" wait gang stopped 60 >/dev/null && console gang | grep -q '^smp: 2 of 2 cpus up$'; then
	tap_ok "a strictly co-scheduled 2-vCPU SMP guest comes up among 4 spinners"
else
	tap_not_ok "a strictly co-scheduled 2-vCPU SMP guest comes up among 4 spinners" "$(console gang)"
fi
OUT=$("$VH_MSG" stats gang)
costop=$(field cpu.costop_ns)
if [ -n "$costop" ] && [ "$costop" -gt 0 ]; then
	tap_ok "its vCPUs waited for each other (costop $costop ns)"
else
	tap_not_ok "its vCPUs waited for each other" "$OUT"
fi
kvm_stop
rc=$?
if [ $rc = 0 ]; then tap_ok "the daemon stops cleanly"; else tap_not_ok "the daemon stops cleanly (exit $rc)" "$RUN/daemon.log"; fi
[ "$tap_failed" = 0 ]
