#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Where the instructions of one VM-exit round trip go: the Bochs debugger
# traces one exit of each kind exit_cost.sh measures (CPUID, OUT to the
# UART, OUT to port 0x80, VMCALL) made by tests/guests/exitbench.elf
# (trace=1: magic breakpoints around each), and exit_trace.awk counts the
# hypervisor's instructions per function (inlined code counts in its
# caller).  The counts are those exit_cost.sh measures, one exit each.
#
#   bench/baremetal/exit_trace.sh BUILD-DIR [-v]   (-v: every instruction)
#
# run-bochs boots the image first and stops at the guest's first magic
# breakpoint (its debugger script only continues once: it reports that as
# a failure, which is expected here); its bochsrc and ISO then run again
# under a debugger script that traces from breakpoint to breakpoint.
set -eu
build=$(cd "${1:?usage: exit_trace.sh BUILD-DIR [-v]}" && pwd)
verbose=0
[ "${2:-}" = -v ] && verbose=1
src=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$build/hypervisor/arch/x86/vh.elf guest=$build/tests/guests/exitbench.elf
for f in "$kernel" "$guest"; do
	[ -f "$f" ] || { echo "exit_trace.sh: $f missing: run make in $build first" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/vh-exittrace.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$src/tests/harness/run-bochs" --ips 50000000 --cpus 1 --timeout 120 --kernel "$kernel" \
	--cmdline "vm=eb,kernel=0,vcpus=1,mem=8M runtime=20s until=done" \
	--module "$guest=iters=1 rounds=1 trace=1" --workdir "$work/run" >"$work/first.out" 2>&1 || true
[ -f "$work/run/bochsrc" ] && [ -f "$work/run/boot.iso" ] ||
	{ cat "$work/first.out" >&2; echo "exit_trace.sh: run-bochs left no bochsrc" >&2; exit 1; }
cd "$work/run"
# The log without run-bochs' filter FIFO; the debugger: to the first
# breakpoint, trace the three exits, then run to vh's own stop.
sed -i "s|^log: .*|log: \"$work/run/bochs.log\"|" bochsrc
printf 'continue\ntrace on\ncontinue\ncontinue\ncontinue\ncontinue\ntrace off\ncontinue\nquit\n' >trace.rc
rm -f console.log
timeout -k 5 120 "${BOCHS:-bochs}" -q -f bochsrc -rc trace.rc </dev/null >trace.out 2>&1 || true
[ "$(grep -c 'Magic breakpoint' trace.out)" -ge 5 ] ||
	{ tail -20 trace.out >&2; echo "exit_trace.sh: the guest's breakpoints were not reached" >&2; exit 1; }
nm -n "$kernel" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' >syms
awk -v verbose="$verbose" -v kinds="cpuid io io80 vmcall" -f "$src/bench/baremetal/exit_trace.awk" syms trace.out
