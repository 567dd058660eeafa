#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The chaos guest (tests/guests/chaos.c) on vh-hosted, one pCPU shared
# with a spinner at equal shares: random instruction bytes, ports, MMIO,
# MSRs, control registers and hypercalls, from the seeds of the
# regression set (seeds that ran before: each must run again) and one
# random seed (printed, so a failure is replayed with that seed).  The
# daemon must stay up, the spinner must keep its configured half of the
# pCPU within 10%, and a chaos VM that ends crashed counts only when the
# guest really shut itself down (a triple fault); each is reported.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

# The regression set: seeds that once found something, and a few more.
# 2 and 545573514: a valid IRET from ring 0 to ring 3 that this host's
# KVM reports as an emulation failure stopped the VM (vh-hosted completed
# only returns to the same privilege level).
# Replay one by hand: VH_CHAOS_SEEDS="N" make check TESTS=tests/kvm/chaos.sh
SEEDS=${VH_CHAOS_SEEDS:-1 2 3 545573514}
RANDOM_SEED=$(( (RANDOM << 15) | RANDOM ))
SECONDS_EACH=4

kvm_require
kvm_setup chaos
set -- $SEEDS $RANDOM_SEED
tap_plan $(( $# + 2 ))
kvm_start --pcpus 1
"$VH_MSG" define spin kernel=spinner.elf memory=4 "cmdline=iters=0 report=100000 work=1000" >/dev/null
"$VH_MSG" start spin >/dev/null
crashes=0 worst=
for seed in "$@"; do
	vm=c$seed
	"$VH_MSG" define $vm kernel=chaos.elf memory=8 "cmdline=seed=$seed report=200" >/dev/null
	u0=$(stat_of spin cpu.used_ns)
	"$VH_MSG" start $vm >/dev/null
	c0=$(stat_of $vm cpu.used_ns)
	sleep $SECONDS_EACH
	u1=$(stat_of spin cpu.used_ns) c1=$(stat_of $vm cpu.used_ns)
	state=$("$VH_MSG" get $vm 2>/dev/null | sed -n 's/^state: //p')
	# The spinner's part of the time the pCPU ran the two VMs: what
	# Linux takes from the worker thread on a loaded host counts for
	# neither (the daemon charges it as ready time).
	share=$(awk -v u="$((u1 - u0))" -v c="$((c1 - c0))" 'BEGIN { printf "%.3f", (u + c > 0 ? u / (u + c) : 0) }')
	last=$(console $vm | grep '^chaos: round' | tail -1)
	desc="seed $seed: the daemon stays up; the spinner keeps $share of the pCPU (want >= 0.45); VM $state; ${last:-no round reported}"
	why=
	kill -0 "$DAEMON_PID" 2>/dev/null || why="the daemon is gone"
	awk -v s="$share" 'BEGIN { exit !(s >= 0.45) }' || why="$why; the spinner lost its share"
	console $vm | grep -q '^chaos: seed '"$seed"'$' || why="$why; the guest did not start"
	case $state in
	running | stopped) ;;
	crashed)
		crashes=$((crashes + 1))
		reason=$(grep -a "VM \"$vm\" crashed" "$RUN/daemon.log" | tail -1)
		desc="$desc ($reason)"
		printf '%s\n' "$reason" | grep -q 'triple-faulted' || why="$why; crashed, not by a triple fault"
		;;
	*) why="$why; state '$state'" ;;
	esac
	if [ -z "$why" ]; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc: $why" "$(console $vm | tail -5)" "$(tail -20 "$RUN/daemon.log")"
	fi
	"$VH_MSG" stop $vm >/dev/null 2>&1
	"$VH_MSG" undefine $vm >/dev/null 2>&1
done
if kill -0 "$DAEMON_PID" 2>/dev/null && [ "$(stat_of spin state)" != crashed ]; then
	tap_ok "after every seed the daemon and the spinner run on; chaos VMs shut down by the guest: $crashes"
else
	tap_not_ok "after every seed the daemon and the spinner run on" "$(tail -30 "$RUN/daemon.log")"
fi
if kvm_stop; then
	tap_ok "the daemon stops cleanly (status 0)"
else
	tap_not_ok "the daemon stops cleanly" "$(tail -30 "$RUN/daemon.log")"
fi
[ "$tap_failed" = 0 ]
