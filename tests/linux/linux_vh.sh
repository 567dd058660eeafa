#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The reference Linux guest (Debian's stock kernel, tests/linux/linux-guest)
# under bare-metal vh in Bochs, one run checking as much as it can, since a
# boot costs minutes: a 2-vCPU, 256 MiB Linux VM at cpu.shares 2000 beside
# two spinner VMs at 1000 each on two pCPUs.  The guest's undervh script
# (tests/linux/scripts/undervh.sh) prints the platform it sees, keeps both
# of its CPUs busy while vh's stats lines measure its share, and reboots;
# the second boot powers off, and vh stops once the Linux VM has stopped.
# The kernel is the vmlinux inside Debian's bzImage (make linux-guest's
# linux-guest/vmlinux), entered through its PVH note: the bzImage's XZ
# decompressor alone is about 95 s of a 50 MHz vCPU, twice per run; the
# bzImage's own 64-bit entry under vh is bench/linux/boot_time.sh's boot
# and bochs_vmx.sh's synthetic bzImage.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

guest=$top_builddir/linux-guest
spinner=$top_builddir/tests/guests/spinner.elf
runs=$top_builddir/tests/linux/runs-vh
rm -rf "$runs" && mkdir -p "$runs"
release=$(sed -n 's/^release=//p' "$guest/vmlinuz.version" 2>/dev/null)
mib=256

tap_plan 18

# Two boots of the kernel at two thirds of a pCPU and a 6 s loop: about
# 110 s of guest time, 2 emulated CPUs at 50 MHz, plus GRUB loading the
# 66 MB vmlinux; 5-8 minutes of wall time on a 2-core host running the
# rest of make check beside it.
host_epoch=$(date +%s)
"$top_srcdir/tests/harness/run-bochs" --kernel "$top_builddir/hypervisor/arch/x86/vh.elf" \
	--cpus 2 --ips 50000000 --megs 512 --timeout 1500 \
	--cmdline "vm=linux,kernel=0,initrd=1,vcpus=2,mem=${mib}M,cpu.shares=2000,cmdline=console=ttyS0+vh.test=undervh+vh.loop=6 vm=s1,kernel=2,mem=4M,cpu.shares=1000 vm=s2,kernel=2,mem=4M,cpu.shares=1000 stats=500ms until=stopped:linux" \
	--module "$guest/vmlinux" --module "$guest/initramfs.cpio.gz" \
	--module "$spinner=iters=0 report=100000" \
	--workdir "$runs/bochs" >"$runs/bochs.out" 2>&1
rc=$?
log=$runs/console.log
tr -d '\r' <"$runs/bochs/console.log" >"$log" 2>/dev/null
if [ $rc = 0 ] && grep -q '^vh: the VM named by until= has stopped after' "$log"; then
	tap_ok "vh boots Linux beside two spinners until the Linux VM stops ($(sed -n 's/.* in \([0-9.]*s\) .*/\1/p' "$runs/bochs.out"))"
else
	tap_not_ok "vh boots Linux beside two spinners until the Linux VM stops (exit $rc)" "$runs/bochs.out"
fi

# The guest's lines, without vh's "linux| " prefix.
grep '^linux| ' "$log" | sed 's/^linux| //' >"$runs/linux.log"
lg=$runs/linux.log
val() { sed -n "s/^vhtest: $1=//p" "$lg" | head -1; }
tap_grep "Linux reaches its init" '^vhtest: init uptime=' "$lg"
tap_check "uname -r is the fetched kernel's release ($(val uname_r))" test "$(val uname_r)" = "$release"
tap_check "two CPUs online ($(val cpus_online), $(val cpu_online_list))" \
	test "$(val cpus_online):$(val cpu_online_list)" = 2:0-1
# "Memory: 201580K/261752K available (..., 59976K reserved, ...)": MemTotal
# is what the VM was given less what the kernel reserved, within 10%.
mem=$(val memtotal_kb)
reserved=$(sed -n 's/.*Memory: [0-9]*K\/[0-9]*K available (.* \([0-9]*\)K reserved.*/\1/p' "$lg" | head -1)
want=$((mib * 1024 - ${reserved:-0}))
tap_check "MemTotal $mem kB within 10% of ${mib} MiB less the kernel's ${reserved:-?} kB reserved ($want kB)" \
	test -n "$reserved" -a "${mem:-0}" -ge $((want * 9 / 10)) -a "${mem:-0}" -le $((want * 11 / 10))
date_g=$(val date_epoch)
tap_check "date within a day of the host's ($date_g vs $host_epoch)" \
	test "${date_g:-0}" -gt $((host_epoch - 86400)) -a "${date_g:-0}" -lt $((host_epoch + 86400))
# rtc_cmos binds through the DSDT's PNP0B00 device (without it the kernel's
# platform device asks for IRQ 8, which a hardware-reduced machine does
# not have: "probe of rtc_cmos failed with error -22"), and /dev/rtc0
# reads the host's date (the class device's name is the driver's and the
# PNP device's, "rtc_cmos 00:01").
rtc_g=$(val rtc_epoch)
tap_check "rtc_cmos binds ($(val rtc_name)) and reads the date within a day of the host's ($rtc_g)" \
	sh -c 'case "$1" in "rtc_cmos "*) ;; *) exit 1 ;; esac; test "$2" -gt $(($3 - 86400)) -a "$2" -lt $(($3 + 86400)) &&
		! grep -q "rtc_cmos.*failed" "$4"' sh "$(val rtc_name)" "${rtc_g:-0}" "$host_epoch" "$lg"
# Local APIC timer interrupts on both CPUs, more of them after the loop.
loc=$(val timer_loc) loc2=$(val timer_loc_after)
tap_check "local APIC timer interrupts on both CPUs (LOC $loc, after the loop $loc2)" \
	awk -v a="$loc" -v b="$loc2" 'BEGIN { n = split(a, x, ","); m = split(b, y, ",");
		exit !(n == 2 && m == 2 && x[1] > 0 && x[2] > 0 && y[1] > x[1] && y[2] > x[2]) }'
# The TSC from CPUID 0x15/0x16 stays the clocksource: nothing calibrated
# against a PIT, no watchdog complaint.
tap_check "the TSC is the clocksource ($(val clocksource)), never marked unstable" \
	sh -c 'test "$1" = tsc && ! grep -qi "unstable" "$2"' sh "$(val clocksource)" "$lg"
tap_check "no kernel BUG, WARNING, oops or panic" \
	sh -c '! grep -Eq "(BUG:|WARNING:|Oops|Kernel panic|Call Trace)" "$1"' sh "$lg"

# The loop: Linux's two busy vCPUs hold 2000 of 4000 shares, so half of the
# two pCPUs.  vh's stats lines (every 500 ms) between the guest's loop
# start and end lines give each VM's used time over the same stretch.
awk '
	/^linux\| vhtest: loop start/ { on = 1; next }
	/^linux\| vhtest: loop end/ { on = 2 }
	/^vh: stats .* vm=(linux|s1|s2) / && on {
		match($0, /vm=[a-z0-9]+/); vm = substr($0, RSTART + 3, RLENGTH - 3)
		match($0, /used=[0-9]+ms/); u = substr($0, RSTART + 5, RLENGTH - 7) + 0
		if (!(vm in first)) first[vm] = u
		if (on == 1) last[vm] = u
	}
	on == 2 { exit }
	END {
		l = last["linux"] - first["linux"]; a = last["s1"] - first["s1"]; b = last["s2"] - first["s2"]
		printf "%d %d %d\n", l, a, b
	}' "$log" >"$runs/loop"
read -r ul u1 u2 <"$runs/loop"
share=$(awk -v l="$ul" -v a="$u1" -v b="$u2" 'BEGIN { t = l + a + b; printf "%.3f", t ? l / t : 0 }')
tap_check "a CPU loop on both guest CPUs gets half the pCPUs, within 10% (linux ${ul} ms, spinners ${u1} and ${u2} ms: $share)" \
	awk -v s="$share" -v t=$((ul + u1 + u2)) 'BEGIN { exit !(t >= 4000 && s >= 0.45 && s <= 0.55) }'
tap_check "the spinners split the rest evenly (${u1} vs ${u2} ms)" \
	awk -v a="$u1" -v b="$u2" 'BEGIN { exit !(a > 0 && b > 0 && a / b > 0.9 && a / b < 1.1) }'

# reboot -f, then the second boot's poweroff -f.
tap_grep "the first boot ends with reboot -f" '^vhtest: done then=reboot$' "$lg"
tap_check "reboot -f boots it a second time, to init again" \
	sh -c 'grep -q "^vhtest: boot=second$" "$1" && test "$(grep -c "^vhtest: init uptime=" "$1")" = 2' sh "$lg"
tap_grep "the second boot ends with poweroff -f" '^vhtest: done then=poweroff$' "$lg"
tap_grep "vh counts one guest reset and one power-off: boot generation 2" \
	'^vh: power vm=linux boot_generation=2 state_changes=[0-9]+ guest_resets=1 guest_poweroffs=1$' "$log"
tap_check "poweroff -f leaves the Linux VM stopped, not crashed; the spinners run on" \
	sh -c 'l=$(grep "^vh: stats .* vm=linux " "$1" | tail -1); s=$(grep "^vh: stats .* vm=s1 " "$1" | tail -1)
		case "$l" in *" state=stopped "*) ;; *) exit 1 ;; esac
		case "$s" in *" state=running "*) ;; *) exit 1 ;; esac' sh "$log"
tap_check "vh itself reports no crash or panic" sh -c '! grep -Eq "^vh: (panic|.*crashed)" "$1"' sh "$log"
