#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The kernel's platform bring-up in Bochs: with 1 and 2 emulated CPUs it
# finds the CPUs in the ACPI MADT, calibrates the TSC against the PIT
# (Bochs with ips=1000000 and sync=none runs the TSC at about 1 MHz),
# starts the AP with INIT-SIPI-SIPI, and each CPU takes a local APIC
# timer interrupt.  The platform the core runs on (frames, heap, EPT
# mapping, RNG, clock) passes its self-test through the real core.  A fault
# on the AP stops every CPU with a panic report.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

run_bochs=$top_srcdir/tests/harness/run-bochs
kernel=$top_builddir/hypervisor/arch/x86/vh.elf
runs=$top_builddir/tests/boot/runs
mkdir -p "$runs"

tap_plan 12

for n in 1 2; do
	dir=$runs/bochs-smp$n
	if "$run_bochs" --timeout 60 --cpus $n --kernel "$kernel" --cmdline "selftest=platform" --workdir "$dir" >"$runs/bochs-smp$n.out" 2>&1; then
		tap_ok "$n cpu(s): the kernel boots and stops with status 0"
	else
		tap_not_ok "$n cpu(s): the kernel boots and stops with status 0" "$runs/bochs-smp$n.out"
	fi
	tap_grep "$n cpu(s): the MADT lists them" "^vh: acpi: BOCHS +RSDT lists $n cpus$" "$dir/console.log"
	tap_grep "$n cpu(s): all online" "^vh: smp: $n cpus online$" "$dir/console.log"
	tap_grep "$n cpu(s): each took a local APIC timer interrupt" "^vh: apic timer: $n of $n cpus took their interrupt$" "$dir/console.log"
	tap_grep "$n cpu(s): the platform self-test passes through the core (EPT, frames, balloon, no leaks)" \
		'^vh: platform selftest: ok \(fault, ept entry 0x[0-9a-f]+037, ' "$dir/console.log"
done
# One emulated instruction per TSC tick at 1 MIPS: about 1000 kHz.
tap_grep "the TSC is calibrated against the PIT (about 1 MHz in Bochs)" '^vh: tsc (9[5-9][0-9]|10[0-4][0-9]) kHz' "$runs/bochs-smp2/console.log"

dir=$runs/bochs-apfault
"$run_bochs" --timeout 60 --cpus 2 --kernel "$kernel" --cmdline "selftest=ap-fault" --expect-status 2 \
	--workdir "$dir" >"$runs/bochs-apfault.out" 2>&1
rc=$?
if [ $rc = 0 ] && tr -d '\r' < "$dir/console.log" | grep -q '^vh: panic: exception 6 (#UD invalid opcode) error=0 on cpu 1$' &&
	tr -d '\r' < "$dir/console.log" | grep -q '^backtrace:' &&
	! tr -d '\r' < "$dir/console.log" | grep -q 'did not stop the machine'; then
	tap_ok "a fault on the AP prints a panic report and stops the machine"
else
	tap_not_ok "a fault on the AP prints a panic report and stops the machine" "run-bochs exited $rc" "$runs/bochs-apfault.out"
fi
