#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Power and reset the way an operator sees them, on vh-hosted: the power
# guest (tests/guests/power.c) reads the CMOS clock (within a day of the
# host's date) and checks the PM timer against the TSC, then reboots
# through the i8042 (0x64 <- 0xfe) or the ACPI reset register, counting
# its boots in CMOS RAM, and powers off through ACPI S5.  A reboot is a
# reset (the boot generation counts up, the VM runs again), S5 leaves the
# VM `stopped`, never `crashed`.  (A triple fault is `crashed` with its
# reason: tests/kvm/guests.sh's hostile guest.)
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup power
tap_plan 9
kvm_start

# run NAME CMDLINE: define and start the power guest; waits until stopped.
run() {
	"$VH_MSG" define "$1" kernel=power.elf memory=8 "cmdline=$2" >/dev/null 2>&1 &&
		"$VH_MSG" start "$1" >/dev/null 2>&1 && "$VH_MSG" wait "$1" stopped 60 >/dev/null 2>&1
}

desc="two reboots through the i8042, then S5: the VM ends stopped"
if run kbd "reboots=2 via=kbd end=s5"; then
	tap_ok "$desc"
else
	tap_not_ok "$desc" "$(console kbd)" "$(tail -5 "$RUN/daemon.log")"
fi
msg get kbd
desc="kbd: boot generation 3 (start and two resets), 4 state changes, not crashed"
if [ "$(field state)" = stopped ] && [ "$(field boot_generation)" = 3 ] &&
	[ "$(field state_changes)" = 4 ]; then
	tap_ok "$desc"
else
	tap_not_ok "$desc" "$OUT"
fi
desc="kbd: the guest booted three times, then powered off through S5"
if [ "$(console kbd | grep -c '^power: reboot through the i8042$')" = 2 ] &&
	console kbd | grep -q '^power: boot 3$' && console kbd | grep -q '^power: S5$' &&
	! console kbd | grep -q 'still running'; then
	tap_ok "$desc"
else
	tap_not_ok "$desc" "$(console kbd)"
fi

# The clock: the guest's date within a day of the host's.
rtc=$(console kbd | sed -n 's/^power: rtc \([0-9-]*\) .*/\1/p' | head -1)
now=$(date -u +%s)
if [ -n "$rtc" ] && then=$(date -u -d "$rtc" +%s 2>/dev/null) &&
	[ $((now - then)) -lt 172800 ] && [ $((then - now)) -lt 86400 ]; then
	tap_ok "the CMOS clock says $rtc, the host $(date -u +%F)"
else
	tap_not_ok "the CMOS clock gives the host's date" "guest '$rtc', host $(date -u +%F)"
fi
pm=$(console kbd | sed -n 's/^power: pm timer \([0-9]*\) Hz.*/\1/p' | head -1)
if [ -n "$pm" ] && [ "$pm" -gt 2684658 ] && [ "$pm" -lt 4474431 ]; then
	tap_ok "the PM timer counts $pm Hz against the TSC (3579545 within 25%)"
else
	tap_not_ok "the PM timer counts 3.579545 MHz against the TSC" "$(console kbd)"
fi
tap_grep "the daemon logs the guest's reboot and power off" \
	'VM "kbd": the guest powered off \(ACPI sleep control: S5\)' "$RUN/daemon.log"

desc="one reboot through the ACPI reset register, then isa-debug-exit"
if run acpi "reboots=1 via=acpi end=exit" && msg get acpi &&
	[ "$(field boot_generation)" = 2 ] && console acpi | grep -q '^vh: debug-exit code 1 '; then
	tap_ok "$desc"
else
	tap_not_ok "$desc" "$(console acpi)" "$OUT"
fi
tap_grep "acpi: the daemon logs the reboot" \
	'VM "acpi": the guest rebooted \(ACPI reset register\)' "$RUN/daemon.log"

# A stopped VM starts again: the guest's boot count was cleared before S5.
if "$VH_MSG" start kbd >/dev/null 2>&1 && "$VH_MSG" wait kbd stopped 60 >/dev/null 2>&1 &&
	[ "$(console kbd | grep -c '^power: boot 1$')" = 2 ]; then
	tap_ok "kbd starts again from boot 1 and powers off again"
else
	tap_not_ok "kbd starts again from boot 1 and powers off again" "$(console kbd)"
fi
kvm_stop
[ "$tap_failed" = 0 ]
