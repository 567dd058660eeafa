#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The reference Linux guest (docs/linux-guest.md: Debian 12's stock
# kernel, vh's busybox initramfs) under vh-hosted, booted through the
# PVH note of the vmlinux inside Debian's bzImage (make linux-guest's
# linux-guest/vmlinux: on this host's emulating /dev/kvm the bzImage's
# decompressor alone takes minutes) with the initramfs as its initrd.
#
# make check: the boot to its first console lines, in a time box of 240 s
# (the 57 MiB of segments loaded, then the kernel's first lines: 112 s on
# this 2-core host at a load average of 14, the time is in the TAP line),
# checked line by line: the kernel's banner and version, the command line
# vh passed, vh's e820 map as the kernel read it, its early console on
# vh's COM1.  (vh's ACPI tables come some 60 s of emulated boot later:
# the --long run checks them.)
# Page sharing is off (--scan-rate 0), as in the benchmark, so the boot's
# faults are its own.  Seen in 2 boots of 7 (with sharing and without):
# a #PF on a mapped vmemmap or direct-map address in memmap_init_range /
# __init_single_page after the "On node 0" lines, about 40 s into the
# boot, and a panic (docs/linux-guest.md); the lines checked here come
# before it.
#
# VH_LINUX_TO_INIT=SECONDS (scripts/check --long): also waits that long
# for init and the platform script's results (vh.test=platform) and
# checks them; on a timeout the case fails with the last console line
# and the time it came (where the boot stopped).
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

to_init=${VH_LINUX_TO_INIT:-}
guest=$top_builddir/linux-guest
kvm_require
kvm_setup linux
if [ -n "$to_init" ]; then tap_plan 9; else tap_plan 5; fi
for f in vmlinux initramfs.cpio.gz vmlinuz.version; do
	[ -f "$guest/$f" ] || { echo "Bail out! no $guest/$f: run make linux-guest"; exit 1; }
done
cp "$guest/vmlinux" "$guest/initramfs.cpio.gz" "$RUN/images/"
kvm_start --memory 512M --scan-rate 0
release=$(sed -n 's/^release=//p' "$guest/vmlinuz.version")
cmdline="console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 nokaslr vh.test=platform"

start=$(date +%s.%N)
desc="Linux VM defined with boot.kernel=vmlinux, boot.initrd, boot.cmdline and started"
if "$VH_MSG" define lx vcpus=1 memory=192 kernel=vmlinux initrd=initramfs.cpio.gz \
	"cmdline=$cmdline" >/dev/null 2>&1 && "$VH_MSG" start lx >/dev/null 2>&1; then
	tap_ok "$desc"
else
	tap_not_ok "$desc" "$(tail -5 "$RUN/daemon.log")"
fi
desc="the kernel's banner: Linux version $release"
if wait_console lx "^\[ *0\.0+\] Linux version ${release//./\\.} " 240; then
	tap_ok "$desc, after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s"
else
	tap_not_ok "$desc" "$(console lx | tail -5)" "$(tail -5 "$RUN/daemon.log")"
fi
# The kernel's next lines come within a second or two of the banner.
wait_console lx 'NX \(Execute Disable\) protection: active' 60 || true
tap_grep "the command line vh passed, as the kernel read it" \
	"^\\[ *0\\.0+\\] Command line: ${cmdline}" "$RUN/logs/lx.log"
tap_grep "vh's e820 map: RAM from 1 MiB to the VM's 192 MiB" \
	'^\[ *0\.0+\] BIOS-e820: \[mem 0x0000000000100000-0x000000000bffffff\] usable$' "$RUN/logs/lx.log"
tap_grep "the early console on vh's COM1 model" \
	'^\[ *0\.0+\] printk: bootconsole \[earlyser0\] enabled$' "$RUN/logs/lx.log"

if [ -n "$to_init" ]; then
	wait_console lx 'ACPI: XSDT ' 600 || true
	tap_grep "vh's ACPI tables: the RSDP in the BIOS area, by OEM VH" \
		'^\[ *[0-9.]+\] ACPI: RSDP 0x00000000000F0000 000024 \(v02 VH    \)$' "$RUN/logs/lx.log"
	desc="init runs within ${to_init} s (vhtest: init)"
	if wait_console lx '^vhtest: init uptime=' "$to_init"; then
		tap_ok "$desc, after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s"
	else
		tap_not_ok "$desc" "last line after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-6) s:" \
			"$(console lx | tail -3)" "$(grep 'KVM cannot emulate\|crashed' "$RUN/daemon.log")"
	fi
	desc="the platform script: 1 CPU online, MemTotal within 10% of 192 MiB less the kernel"
	if wait_console lx '^vhtest: done ' 600 && console lx | grep -q '^vhtest: cpus_online=1$' &&
		mem=$(console lx | sed -n 's/^vhtest: memtotal_kb=//p') &&
		[ "$mem" -gt 120000 ] && [ "$mem" -lt 196608 ]; then
		tap_ok "$desc (MemTotal $mem kB)"
	else
		tap_not_ok "$desc" "$(console lx | grep '^vhtest:')"
	fi
	tap_grep "the script passed" '^vhtest: result test=platform status=0$' "$RUN/logs/lx.log"
fi
"$VH_MSG" stop lx >/dev/null 2>&1
kvm_stop
