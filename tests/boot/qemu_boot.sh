#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Boots the kernel with qemu-system-x86_64 -kernel (TCG): the Multiboot
# a.out address fields let QEMU load a 64-bit ELF.  Checks the banner, the
# command line, and that faults and failure statuses fail the harness.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

run_qemu=$top_srcdir/tests/harness/run-qemu
kernel=$top_builddir/hypervisor/arch/x86/vh.elf
runs=$top_builddir/tests/boot/runs
mkdir -p "$runs"

tap_plan 6

ok_dir=$runs/qemu-ok
# TCG has no VT-x: the kernel boots, says what it lacks and stops cleanly
# with status 5 ("cannot run guests here"), not with a fault.
"$run_qemu" --kernel "$kernel" --cmdline "console=com1 quiet" --expect-status 5 \
	--workdir "$ok_dir" >"$runs/qemu-ok.out" 2>&1
if [ $? = 0 ] && ! grep -q 'panic' "$ok_dir/console.log"; then
	tap_ok "qemu -kernel loads vh.elf and the kernel stops cleanly with status 5 (no VT-x)"
else
	tap_not_ok "qemu -kernel loads vh.elf and the kernel stops cleanly with status 5 (no VT-x)" "$runs/qemu-ok.out"
fi
tap_grep "banner: version and long mode on COM1" '^vh [0-9]+\.[0-9]+\.[0-9]+ \(x86_64\): long mode' "$ok_dir/console.log"
tap_grep "the command line arrives whole, image path first" '^vh: command line ".*/vh.elf console=com1 quiet"$' "$ok_dir/console.log"
tap_grep "TCG has no VMX and the kernel says so" '^vh: vmx: this CPU has no VT-x \(VMX\); vh cannot run guests here$' "$ok_dir/console.log"

# A fault in the hypervisor: the panic report names the exception and the
# registers, and the run fails.
ud_dir=$runs/qemu-ud2
"$run_qemu" --kernel "$kernel" --cmdline "selftest=ud2" --workdir "$ud_dir" >"$runs/qemu-ud2.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q 'vh: panic: exception 6 (#UD invalid opcode)' "$runs/qemu-ud2.out" &&
	grep -q '^rip=' "$runs/qemu-ud2.out" && grep -q '^backtrace:' "$runs/qemu-ud2.out" &&
	grep -q '^run-qemu: FAIL: the kernel stopped with status 2' "$runs/qemu-ud2.out"; then
	tap_ok "an exception prints a panic report with registers and backtrace and fails the run"
else
	tap_not_ok "an exception prints a panic report with registers and backtrace and fails the run" \
		"run-qemu exited $rc" "$runs/qemu-ud2.out"
fi

# A kernel that prints nothing must fail: boot a file that is no kernel
# QEMU accepts and check the verdict.
none_dir=$runs/qemu-silent
head -c 16384 /dev/zero > "$runs/not-a-kernel.bin"
"$run_qemu" --timeout 3 --kernel "$runs/not-a-kernel.bin" --workdir "$none_dir" >"$runs/qemu-silent.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q '^run-qemu: FAIL: .*the kernel printed nothing' "$runs/qemu-silent.out"; then
	tap_ok "a kernel that prints nothing fails the run"
else
	tap_not_ok "a kernel that prints nothing fails the run" "run-qemu exited $rc" "$runs/qemu-silent.out"
fi
