#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The reference Linux guest (tests/linux/linux-guest, built by make's
# linux-guest target): what was fetched and recorded, that a second run
# downloads nothing and writes the same bytes, the initramfs read back by
# the fetched busybox's own cpio, and one boot of the kernel and
# initramfs in Bochs straight from GRUB, without vh (the baseline vh's
# Linux boots are compared with): every "vhtest:" line of the platform
# script checked.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

guest=$top_builddir/linux-guest
runs=$top_builddir/tests/linux/runs
rm -rf "$runs" && mkdir -p "$runs"

tap_plan 20

# What was fetched: the versioned package linux-image-amd64 names, and
# the kernel release it installs.
release=$(sed -n 's/^release=//p' "$guest/vmlinuz.version" 2>/dev/null)
if grep -Eq '^package=linux-image-6\.1\.0-[0-9]+-amd64$' "$guest/vmlinuz.version" 2>/dev/null &&
	grep -Eq '^version=6\.1\.[0-9]+-[0-9]+' "$guest/vmlinuz.version" &&
	grep -q "^package=linux-image-$release\$" "$guest/vmlinuz.version" &&
	grep -Eq '^sha256=[0-9a-f]{64}$' "$guest/vmlinuz.version"; then
	tap_ok "vmlinuz.version records the Debian 12 kernel package, version, release and hash"
else
	tap_not_ok "vmlinuz.version records the Debian 12 kernel package, version, release and hash" \
		"$(cat "$guest/vmlinuz.version" 2>&1)"
fi
if grep -q '^package=busybox-static$' "$guest/busybox.version" 2>/dev/null &&
	grep -Eq '^version=1:1\.35' "$guest/busybox.version"; then
	tap_ok "busybox.version records Debian 12's busybox-static"
else
	tap_not_ok "busybox.version records Debian 12's busybox-static" "$(cat "$guest/busybox.version" 2>&1)"
fi
# A bzImage: "HdrS" at 0x202 (Documentation/arch/x86/boot.rst).
tap_check "vmlinuz is a bzImage (HdrS at 0x202)" \
	test "$(dd if="$guest/vmlinuz" bs=1 skip=514 count=4 2>/dev/null)" = HdrS

# A second run finds both packages in the cache: apt-get, replaced by a
# stand-in that records any call, is never run, and the outputs are the same
# bytes (the initramfs is reproducible: root-owned, mtime 0).
mkdir -p "$runs/bin"
printf '#!/bin/sh\necho "$*" >>"%s"\nexit 1\n' "$runs/apt-get.calls" >"$runs/bin/apt-get"
chmod +x "$runs/bin/apt-get"
before=$(cd "$guest" && sha256sum vmlinuz initramfs.cpio.gz vmlinuz.version busybox.version)
PATH=$runs/bin:$PATH "$top_srcdir/tests/linux/linux-guest" --out "$guest" >"$runs/rerun.out" 2>&1
rc=$?
if [ $rc = 0 ] && [ ! -e "$runs/apt-get.calls" ] && [ "$(grep -c '^linux-guest: cached ' "$runs/rerun.out")" = 2 ]; then
	tap_ok "a second run downloads nothing (both .debs from the cache)"
else
	tap_not_ok "a second run downloads nothing (both .debs from the cache)" "exit $rc" "$runs/rerun.out" \
		"apt-get calls: $(cat "$runs/apt-get.calls" 2>/dev/null)"
fi
after=$(cd "$guest" && sha256sum vmlinuz initramfs.cpio.gz vmlinuz.version busybox.version)
tap_check "a second run writes the same bytes" test "$before" = "$after"

# The initramfs as busybox's own cpio (the one in it) reads it.
mkdir -p "$runs/bb" "$runs/x"
dpkg-deb --fsys-tarfile "$guest"/cache/busybox-static_*.deb | tar -xOf - ./bin/busybox >"$runs/bb/busybox"
chmod +x "$runs/bb/busybox"
zcat "$guest/initramfs.cpio.gz" | "$runs/bb/busybox" cpio -tv >"$runs/list" 2>&1
tap_grep "initramfs: /init, executable, owned by root" '^-rwxr-xr-x 0/0 +[0-9]+ 1970-01-01 00:00:00 init$' "$runs/list"
tap_grep "initramfs: the console device node" '^crw------- 0/0 .* dev/console$' "$runs/list"
tap_grep "initramfs: the platform test script" ' vhtest/platform\.sh$' "$runs/list"
tap_grep "initramfs: /bin/sh links to busybox" ' bin/sh -> busybox$' "$runs/list"
(cd "$runs/x" && zcat "$guest/initramfs.cpio.gz" | "$runs/bb/busybox" cpio -i -d init bin/busybox 2>/dev/null)
tap_check "initramfs: /init and busybox read back byte for byte" \
	sh -c 'cmp "$1/x/init" "$2/tests/linux/init" && cmp "$1/x/bin/busybox" "$1/bb/busybox"' sh "$runs" "$top_srcdir"

# mkcpio refuses a list it cannot write and leaves nothing behind.
printf 'file /x /nonexistent 0755\n' | "$top_srcdir/tests/linux/mkcpio" "$runs/bad.cpio" >"$runs/bad.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q "line 1: no file at '/nonexistent'" "$runs/bad.out" && [ ! -e "$runs/bad.cpio" ] &&
	[ ! -e "$runs/bad.cpio.tmp" ]; then
	tap_ok "mkcpio refuses a missing file, naming the line, and writes nothing"
else
	tap_not_ok "mkcpio refuses a missing file, naming the line, and writes nothing" "exit $rc" "$runs/bad.out"
fi

# run-bochs --until on vh's own ISO (a second in Bochs): a line it prints
# ends the run with a PASS, a line it never prints is a FAIL once Bochs
# has stopped.
vh_iso=$top_builddir/hypervisor/arch/x86/vh.iso
"$top_srcdir/tests/harness/run-bochs" --iso "$vh_iso" --timeout 60 --until '^vh: loaded by GRUB' \
	--workdir "$runs/until-ok" >"$runs/until-ok.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^run-bochs: PASS: console matched /^vh: loaded by GRUB/ in ' "$runs/until-ok.out"; then
	tap_ok "run-bochs --until: a console line that comes ends the run with PASS"
else
	tap_not_ok "run-bochs --until: a console line that comes ends the run with PASS" "exit $rc" "$runs/until-ok.out"
fi
"$top_srcdir/tests/harness/run-bochs" --iso "$vh_iso" --timeout 60 --until '^never printed$' \
	--workdir "$runs/until-fail" >"$runs/until-fail.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q '^run-bochs: FAIL: the console never matched /^never printed$/' "$runs/until-fail.out"; then
	tap_ok "run-bochs --until: a line that never comes fails the run"
else
	tap_not_ok "run-bochs --until: a line that never comes fails the run" "exit $rc" "$runs/until-fail.out"
fi

# One boot in Bochs, no vh: GRUB loads the kernel and initramfs (platform.md:
# about 81 s of wall time at ips=50000000 on an idle host).
megs=512
"$top_srcdir/tests/linux/mklinuxiso" -o "$runs/linux.iso" --kernel "$guest/vmlinuz" \
	--initrd "$guest/initramfs.cpio.gz" --append "console=ttyS0,115200 vh.test=platform vh.then=poweroff" \
	>"$runs/mklinuxiso.out" 2>&1
host_epoch=$(date +%s)
"$top_srcdir/tests/harness/run-bochs" --iso "$runs/linux.iso" --megs $megs --ips 50000000 \
	--timeout 420 --until '^vhtest: done ' --workdir "$runs/bochs" >"$runs/bochs.out" 2>&1
rc=$?
if [ $rc = 0 ]; then
	tap_ok "Bochs boots the kernel and initramfs from GRUB to the end of the platform script ($(sed -n 's/.* in \([0-9.]*s\) .*/\1/p' "$runs/bochs.out"))"
else
	tap_not_ok "Bochs boots the kernel and initramfs from GRUB to the end of the platform script" \
		"$runs/bochs.out" "$runs/mklinuxiso.out"
fi
log=$runs/bochs/console.log
val() { tr -d '\r' <"$log" 2>/dev/null | sed -n "s/^vhtest: $1=//p" | head -1; }
tap_grep "init ran and the script passed" '^vhtest: result test=platform status=0$' "$log"
tap_check "uname -r is the fetched kernel's release ($(val uname_r))" test "$(val uname_r)" = "$release"
tap_check "one CPU online, as Bochs was given ($(val cpus_online), $(val cpu_online_list))" \
	test "$(val cpus_online):$(val cpu_online_list)" = 1:0
# The kernel keeps its image, page tables and the like: MemTotal sits
# below what the machine has, but within 10% of it less ~32 MiB.
mem=$(val memtotal_kb)
tap_check "MemTotal within 10% of ${megs} MiB less the kernel's reservation ($mem kB)" \
	test "${mem:-0}" -gt $(((megs - 32) * 1024 * 9 / 10)) -a "${mem:-0}" -le $((megs * 1024))
date_g=$(val date_epoch)
tap_check "date within a day of the host's ($date_g vs $host_epoch)" \
	test "${date_g:-0}" -gt $((host_epoch - 86400)) -a "${date_g:-0}" -lt $((host_epoch + 86400))
tap_check "local APIC timer interrupts counted (LOC $(val timer_loc))" test "$(val timer_loc)" -gt 0
