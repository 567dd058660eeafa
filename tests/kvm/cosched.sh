#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Co-scheduling on KVM, measured: a 2-vCPU SMP guest whose CPUs spin on
# shared counters and pass a barrier every few stores (smp.elf spin=MS),
# on 2 workers next to two CPU-bound spinner VMs, once per co-scheduling
# policy.  While it spins, its per-vCPU used time is sampled every 50 ms
# for 3 s (vh-msg stats).  Both vCPUs are runnable throughout, so their
# progress moves with their used time and used0 - used1 is the skew plus
# a constant; each sample's distance from the samples' median is its
# skew change.  Relaxed must keep that (90th percentile) within twice the
# 3 ms threshold plus a margin, and co-stop to do it (costop > 0);
# strict's gang must wait for itself (costop > 0); and the relaxed guest
# must pass more barriers per second of CPU time it ran than the same
# guest without co-scheduling, the measure of what co-scheduling is for.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup cosched
tap_plan 8
kvm_start

SPIN_MS=6000
SAMPLE_S=3
# Skew bound for relaxed: 2 x 3 ms (the median and a sample may lie on
# opposite sides of zero skew) plus 4 ms for what Linux takes from a
# worker inside KVM_RUN on a loaded host before vh-hosted sees it (it
# settles steal time every 5 ms and at every stats request, see
# docs/hosted.md).
BOUND_NS=10000000

for v in s1 s2; do
	"$VH_MSG" define $v kernel=spinner.elf memory=4 "cmdline=iters=0 report=100000 work=1000" >/dev/null
	"$VH_MSG" start $v >/dev/null
done

# run_gang POLICY: runs a 2-vCPU spinning SMP guest with that policy and
# sets BARRIERS, SKEW_NS (largest change of used0 - used1 over the
# samples), COSTOP_NS (over the samples), SAMPLES and DETAIL.
run_gang() {
	local g=gang-$1 a b
	BARRIERS=0 SKEW_NS=-1 SKEW_MAX=-1 COSTOP_NS=0 SAMPLES=0 USED_NS=0 DETAIL=
	"$VH_MSG" define "$g" kernel=smp.elf memory=8 vcpus=2 cosched="$1" \
		devices=uart,debug-exit,fw-cfg "cmdline=spin=$SPIN_MS" >/dev/null
	"$VH_MSG" start "$g" >/dev/null
	if ! wait_console "$g" '^smp: spinning' 30; then
		DETAIL="it never started spinning: $(console "$g")"
		return 1
	fi
	sleep 0.3
	# One line per sample: used0 used1 costop (VM total), for SAMPLE_S
	# seconds and only while the guest spins (its CPUs stop at different
	# times at the end): the sample after the guest says it is done, and
	# the one before it, are dropped.  Few processes per sample, so that
	# a loaded host still gets 20 of them in SAMPLE_S (bash's own clock,
	# the log read directly).
	a=$(end=$((${EPOCHREALTIME//[.,]/} + SAMPLE_S * 1000000))
	    while [ "${EPOCHREALTIME//[.,]/}" -lt $end ]; do
		grep -q '^smp: spun' "$RUN/logs/$g.log" && break
		"$VH_MSG" stats "$g" | awk -F': ' '/^vcpu0\.cpu\.used_ns:/ {u0=$2}
			/^vcpu1\.cpu\.used_ns:/ {u1=$2} /^cpu\.costop_ns:/ {c=$2}
			END {print u0, u1, c}'
		sleep 0.05
	    done | if grep -q '^smp: spun' "$RUN/logs/$g.log"; then head -n -1; else cat; fi)
	printf '%s\n' "$a" >"$RUN/samples-$1.txt" # used0 used1 costop, for a failure's post-mortem
	if ! "$VH_MSG" wait "$g" stopped 60 >/dev/null; then
		DETAIL="it did not stop: $(console "$g")"
		return 1
	fi
	b=$(console "$g" | sed -n 's/^smp: spun [0-9]* ms, \([0-9]*\) barriers passed by 2 cpus$/\1/p')
	USED_NS=$(stat_of "$g" cpu.used_ns)
	# SKEW_NS is the 90th percentile of the samples' skew change: Linux
	# may preempt a worker inside KVM_RUN (make -j2 check shares 2 host
	# CPUs with other tests); vh-hosted charges that stolen time as
	# ready, not used, but only sees it at its next settlement (at most
	# 5 ms later), and relaxed co-scheduling then co-stops the sibling
	# that got ahead until the robbed vCPU catches up, so such a spike is
	# brief.  The largest change is reported beside it.
	# The skew itself is used0 - used1 minus a constant (the APs started
	# after the BSP), so each sample's skew change is taken from the
	# samples' median, not from one sample that may itself be a spike.
	read -r SAMPLES SKEW_NS COSTOP_NS SKEW_MAX <<<"$(printf '%s\n' "$a" | awk '
		function sort(a, n,  i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } }
		NF == 3 { n++; d[n] = $1 - $2; if (n == 1) c0 = $3; c = $3 }
		END { if (!n) { print "0 -1 0 -1"; exit }
		      for (i = 1; i <= n; i++) s[i] = d[i]; sort(s, n); med = s[int((n + 1) / 2)]
		      for (i = 1; i <= n; i++) { x = d[i] - med; v[i] = x < 0 ? -x : x; if (v[i] > m) m = v[i] }
		      sort(v, n); k = int(n * 0.9); if (k < 1) k = 1
		      printf "%d %d %d %d\n", n, v[k], c - c0, m }')"
	DETAIL="$1: $SAMPLES samples, skew change p90 $((SKEW_NS / 1000)) us (largest $((SKEW_MAX / 1000)) us), costop +$((COSTOP_NS / 1000000)) ms, ${b:-no} barriers in $SPIN_MS ms, used $((${USED_NS:-0} / 1000000)) ms"
	if [ -z "$b" ] || ! console "$g" | grep -q '^vh: debug-exit code 1 '; then
		DETAIL="$DETAIL; console: $(console "$g" | tail -3)"
		return 1
	fi
	BARRIERS=$b
}

# Relaxed: skew bounded, co-stops counted.
if run_gang relaxed && [ "$SAMPLES" -ge 20 ]; then
	tap_ok "relaxed 2-vCPU guest spins among 2 spinners and passes its barriers ($DETAIL)"
else
	tap_not_ok "relaxed 2-vCPU guest spins among 2 spinners and passes its barriers" "$DETAIL"
fi
r_barriers=$BARRIERS r_used=$USED_NS
if [ "$SKEW_NS" -ge 0 ] && [ "$SKEW_NS" -le $BOUND_NS ]; then
	tap_ok "relaxed: skew change (p90 of samples) stays within $((BOUND_NS / 1000)) us ($DETAIL)"
else
	tap_not_ok "relaxed: skew change (p90 of samples) stays within $((BOUND_NS / 1000)) us" "$DETAIL"
fi
if [ "$COSTOP_NS" -gt 0 ]; then
	tap_ok "relaxed: its vCPUs were co-stopped (costop +$COSTOP_NS ns while sampled)"
else
	tap_not_ok "relaxed: its vCPUs were co-stopped" "$DETAIL"
fi

# Strict: the gang runs together.
if run_gang strict && [ "$SAMPLES" -ge 20 ]; then
	tap_ok "strict 2-vCPU guest spins among 2 spinners and passes its barriers ($DETAIL)"
else
	tap_not_ok "strict 2-vCPU guest spins among 2 spinners and passes its barriers" "$DETAIL"
fi
s_barriers=$BARRIERS s_used=$USED_NS
# Strict has no skew budget: a gang starts and stops together, so a
# member whose worker Linux robs more (counted as ready, not used) runs
# less and nothing pays it back; only its co-stops are checked, its skew
# is reported for the comparison.
if [ "$COSTOP_NS" -gt 0 ]; then
	tap_ok "strict: its vCPUs waited for their gang (costop +$COSTOP_NS ns while sampled)"
else
	tap_not_ok "strict: its vCPUs waited for their gang" "$DETAIL"
fi

# None: the comparison.  Its skew is reported, not judged: with equal
# shares its two vCPUs alternate fairly and drift little in used time
# here; what co-scheduling buys shows in the barriers its guest passes.
if run_gang none; then
	tap_ok "uncoordinated 2-vCPU guest spins among 2 spinners and passes its barriers ($DETAIL)"
else
	tap_not_ok "uncoordinated 2-vCPU guest spins among 2 spinners and passes its barriers" "$DETAIL"
fi
n_barriers=$BARRIERS n_used=$USED_NS
# Barriers per second of CPU time the guest really ran (used_ns: what
# Linux took from the workers is not in it): the three guests run one
# after another, and on a host whose other load changes meanwhile the
# CPU they get changes with it; spinning instead of passing barriers is
# what co-scheduling saves.  Relaxed, the default, must beat none.
# Strict is reported, not judged: on a quiet host it passes the most
# (docs/hosted.md), but a gang whose member Linux robs inside KVM_RUN
# leaves its sibling spinning until the slice ends, and make check runs
# other tests beside this one, so on a loaded host it has measured below
# none (882 against 1124 per CPU second); relaxed co-stops that sibling.
rate() { [ "${2:-0}" -gt 0 ] && echo $(($1 * 1000000000 / $2)) || echo 0; }
r_rate=$(rate "$r_barriers" "$r_used") s_rate=$(rate "$s_barriers" "$s_used") n_rate=$(rate "$n_barriers" "$n_used")
detail="barriers passed in $SPIN_MS ms: relaxed $r_barriers, strict $s_barriers, none $n_barriers; per CPU second used: relaxed $r_rate, strict $s_rate, none $n_rate"
if [ "$n_rate" -gt 0 ] && [ "$r_rate" -gt "$n_rate" ]; then
	tap_ok "relaxed co-scheduling passes more barriers per CPU second than none ($detail)"
else
	tap_not_ok "relaxed co-scheduling passes more barriers per CPU second than none" "$detail"
fi

kvm_stop
rc=$?
if [ $rc = 0 ]; then tap_ok "the daemon stops cleanly"; else tap_not_ok "the daemon stops cleanly (exit $rc)" "$RUN/daemon.log"; fi
[ "$tap_failed" = 0 ]
