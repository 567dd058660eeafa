#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The bare-metal kernel's VM-exit round trip, in host instructions, for a
# CPUID, an I/O write (to the UART, and to a port no device claims) and a
# VMCALL (not run by make check; `make bench` runs it).  Boots vh in Bochs with one VM of one vCPU on one CPU, running
# tests/guests/exitbench.elf: per kind, ROUNDS rounds of ITERS exits, each
# timed with RDTSC against the same loop with a NOP in place of the exiting
# instruction; the median round is reported.  Bochs with clock sync=none
# ticks the TSC once per instruction, so a round trip's ticks are the
# hypervisor's instructions from the first one after the VM exit to the
# VMRESUME, both included (the exit itself is no instruction).
# Where they go, function by function: bench/baremetal/exit_trace.sh.
#
#   bench/baremetal/exit_cost.sh BUILD-DIR [ROUNDS [ITERS]]   (15, 200)
#
# Environment: VH_EXIT_MAX=N fails (exit 1) when a median is above N.
set -eu
build=$(cd "${1:?usage: exit_cost.sh BUILD-DIR [ROUNDS [ITERS]]}" && pwd)
rounds=${2:-15} iters=${3:-200}
src=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$build/hypervisor/arch/x86/vh.elf guest=$build/tests/guests/exitbench.elf
ips=50000000
for f in "$kernel" "$guest"; do
	[ -f "$f" ] || { echo "exit_cost.sh: $f missing: run make in $build first" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/vh-exitcost.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! "$src/tests/harness/run-bochs" --ips "$ips" --cpus 1 --timeout 120 --kernel "$kernel" \
	--cmdline "vm=eb,kernel=0,vcpus=1,mem=8M runtime=20s until=done" \
	--module "$guest=iters=$iters rounds=$rounds" --workdir "$work/run" >"$work/run.out" 2>&1; then
	cat "$work/run.out" >&2
	exit 1
fi
con() { tr -d '\r' <"$work/run/console.log"; }
if ! con | grep -q '^vh: vm eb exit code 1$'; then
	echo "exit_cost.sh: the benchmark guest did not pass" >&2
	con | grep '^eb|\|^vh: VM' >&2
	exit 1
fi

bochs_version=$(sed -n 's/^ *Bochs x86 Emulator \([0-9.]*\).*/\1/p' "$work/run/bochs.out" | head -1)
# The counts are the compiler's too: say which one built the kernel.
cc=$(sed -n 's/^CC = //p' "$build/Makefile" 2>/dev/null | head -1)
cflags=$(sed -n 's/^CFLAGS = //p' "$build/Makefile" 2>/dev/null | head -1)
cc_version=$(${cc:-false} --version 2>/dev/null | head -1)
echo "vh VM-exit round trip in Bochs ${bochs_version:-?} (corei7_haswell_4770, 1 CPU, ips $ips, clock sync=none:"
echo "one TSC tick per instruction); one VM, 1 vCPU; median of $rounds rounds of $iters exits per kind;"
echo "kernel built by ${cc_version:-an unknown compiler} with CFLAGS '${cflags:-?}'"
printf '%-8s %-44s %12s %12s\n' "exit" "guest instruction" "instructions" "(min..max)"
status=0
for kind in cpuid io io80 vmcall; do
	case $kind in
	cpuid) what="CPUID leaf 0x40000000 (vh's signature)" ;;
	io) what="OUT to COM1's scratch register 0x3ff (UART)" ;;
	io80) what="OUT to port 0x80 (no device there)" ;;
	vmcall) what="VMCALL VH_HC_BALLOON_TARGET" ;;
	esac
	line=$(con | grep "^eb| exitbench: $kind median " || true)
	med=$(echo "$line" | sed -n 's/.* median \([0-9]*\) min \([0-9]*\) max \([0-9]*\) .*/\1/p')
	range=$(echo "$line" | sed -n 's/.* median \([0-9]*\) min \([0-9]*\) max \([0-9]*\) .*/\2..\3/p')
	if [ -z "$med" ]; then
		echo "exit_cost.sh: no figure for $kind" >&2
		status=1
		continue
	fi
	printf '%-8s %-44s %12s %12s\n' "$kind" "$what" "$med" "($range)"
	if [ -n "${VH_EXIT_MAX:-}" ] && [ "$med" -gt "$VH_EXIT_MAX" ]; then
		echo "exit_cost.sh: $kind costs $med instructions, above VH_EXIT_MAX=$VH_EXIT_MAX" >&2
		status=1
	fi
done
con | sed -n 's/^vh: exits vm=eb /exits counted by vh: /p'
exit $status
