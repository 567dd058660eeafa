#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Boots the kernel in Bochs with VT-x emulated, through GRUB from the ISO
# that make builds, and checks what it printed on COM1.  Then proves the
# failure path: a kernel that stops with a failure status must fail the
# harness with the console shown.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

run_bochs=$top_srcdir/tests/harness/run-bochs
kernel=$top_builddir/hypervisor/arch/x86/vh.elf
iso=$top_builddir/hypervisor/arch/x86/vh.iso
runs=$top_builddir/tests/boot/runs
mkdir -p "$runs"
ok_dir=$runs/bochs-ok fail_dir=$runs/bochs-fail

tap_plan 6

"$run_bochs" --timeout 60 --iso "$iso" --workdir "$ok_dir" >"$runs/bochs-ok.out" 2>&1
if [ $? = 0 ]; then
	tap_ok "bochs boots vh.iso through GRUB and the kernel stops with status 0"
else
	tap_not_ok "bochs boots vh.iso through GRUB and the kernel stops with status 0" "$runs/bochs-ok.out"
fi
tap_grep "banner: version and long mode on COM1" '^vh [0-9]+\.[0-9]+\.[0-9]+ \(x86_64\): long mode' "$ok_dir/console.log"
tap_grep "GRUB passed the Multiboot 1 information block" '^vh: loaded by GRUB' "$ok_dir/console.log"
tap_grep "the emulated CPU offers VMX" '^vh: cpu GenuineIntel .*vmx yes$' "$ok_dir/console.log"
tap_grep "the boot loader reported memory" '^vh: memory [0-9]+ KiB low, [0-9]+ KiB high$' "$ok_dir/console.log"

# The failure path, end to end: the kernel stops with status 3, Bochs
# exits through its shutdown port, and the harness must say FAIL.
"$run_bochs" --timeout 60 --kernel "$kernel" --cmdline "selftest=fail" \
	--workdir "$fail_dir" >"$runs/bochs-fail.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q '^run-bochs: FAIL: the kernel stopped with status 3, expected 0' "$runs/bochs-fail.out" &&
	grep -q '^vh: stop status=3' "$runs/bochs-fail.out"; then
	tap_ok "a failing kernel fails the Bochs harness, console shown"
else
	tap_not_ok "a failing kernel fails the Bochs harness, console shown" "run-bochs exited $rc" "$runs/bochs-fail.out"
fi
