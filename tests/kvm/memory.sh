#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Guest memory from vh's frame pool under KVM: transparent page sharing
# between two VMs with identical content (copy on write keeps each guest's
# view right), the balloon driver handing pages back, frames going back
# to Linux (hole punching) when VMs stop, and a 6 GiB VM (on a 256 MiB
# pool: it touches a few pages) laid out around the 32-bit hole.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup memory
tap_plan 9
# The rate this test asks for, not held to the host's GHz (that bound has
# its own test: mem_tests share.scan_rate_is_held_to_the_hosts_cpu_capacity).
kvm_start --scan-rate 50000 --scan-per-ghz 0

shmem() { awk '/^RssShmem:/ {print $2}' "/proc/$DAEMON_PID/status"; }
base=$(shmem)
for v in m1 m2; do
	"$VH_MSG" define $v kernel=toucher.elf memory=8 "cmdline=size=512K seed=5 passes=0" >/dev/null
	"$VH_MSG" start $v >/dev/null
done
wait_console m1 '^toucher: pass 2 ok' 60 && wait_console m2 '^toucher: pass 2 ok' 60
OUT=$("$VH_MSG" host-stats)
saved=$(field shared_saved_pages)
s1=$(stat_of m1 mem.shared_pages); s2=$(stat_of m2 mem.shared_pages)
if [ -n "$saved" ] && [ "$saved" -gt 64 ] && [ "$s1" -gt 0 ] && [ "$s2" -gt 0 ]; then
	tap_ok "identical pages of two VMs are shared ($saved frames saved; shared pages $s1 and $s2)"
else
	tap_not_ok "identical pages of two VMs are shared" "saved $saved, shared $s1 $s2" "$OUT"
fi
if console m1 | grep -q '^toucher: pass 2 ok' && console m2 | grep -q '^toucher: pass 2 ok' &&
	! { console m1; console m2; } | grep -qi fail; then
	tap_ok "both guests rewrite and verify their shared pages (copy on write is right)"
else
	tap_not_ok "both guests rewrite and verify their shared pages" "$(console m1)" "$(console m2)"
fi
held=$(shmem)
"$VH_MSG" stop m1 >/dev/null; "$VH_MSG" stop m2 >/dev/null
sleep 0.2
after=$(shmem)
if [ $((held - after)) -ge 256 ]; then
	tap_ok "stopped VMs' frames go back to Linux (pool RSS $base -> $held -> $after KiB)"
else
	tap_not_ok "stopped VMs' frames go back to Linux" "pool RSS $base -> $held -> $after KiB"
fi

# Balloon, driven by the operator's requests (wait=1: the guest's driver
# goes to its next round when its target changes): it writes 1024 pages
# of its pool and holds nothing while no balloon is asked for; asked for
# 4 MiB, it gives those 1024 pages, touches the last one it gave (it must
# read 0, not the marker it wrote: the frame went back to the host), takes
# it back and gives it again; asked for none, it deflates and ends.
"$VH_MSG" define bal kernel=balloon.elf memory=16 devices=uart,debug-exit,fw-cfg,balloon \
	"cmdline=rounds=4 fill=1024 touch=1 wait=1 spin=0" >/dev/null
"$VH_MSG" start bal >/dev/null
wait_console bal '^balloon: round 1 target 0 held 0$' 60
rss0=$(shmem) granted0=$(stat_of bal mem.granted_pages)
"$VH_MSG" balloon bal 4 >/dev/null
wait_console bal '^balloon: round 3 target 1024 held 1024$' 60
rss1=$(shmem) granted1=$(stat_of bal mem.granted_pages)
OUT=$("$VH_MSG" stats bal)
if [ "$(field mem.balloon_pages)" = 1024 ]; then
	tap_ok "the guest's balloon holds the 1024 pages asked for (mem.balloon_pages)"
else
	tap_not_ok "the guest's balloon holds the 1024 pages asked for" "$OUT" "$(console bal)"
fi
if [ $((rss0 - rss1)) -ge 3600 ] && [ $((granted0 - granted1)) -ge 1000 ]; then
	tap_ok "balloon: the frames of the pages it gave go back to Linux (pool RSS $rss0 -> $rss1 KiB, granted $granted0 -> $granted1 pages)"
else
	tap_not_ok "balloon: the frames of the pages it gave go back to Linux" \
		"pool RSS $rss0 -> $rss1 KiB, granted $granted0 -> $granted1 pages" "$(console bal)"
fi
tap_grep "balloon: a ballooned page reads 0, not what the guest wrote there before the inflate" \
	'^balloon: ballooned page gfn 0x[0-9a-f]* reads 0x00000000 \(marker 0x5a17ab1e before the inflate\)$' "$RUN/logs/bal.log"
"$VH_MSG" balloon bal 0 >/dev/null
if "$VH_MSG" wait bal stopped 60 >/dev/null && console bal | grep -q '^balloon: done$' &&
	console bal | grep -q '^balloon: round 4 target 0 held 0$'; then
	tap_ok "balloon guest deflates when asked for none and completes its rounds"
else
	tap_not_ok "balloon guest deflates when asked for none and completes its rounds" "$(console bal)"
fi
# 6 GiB: RAM below the hole and above 4 GiB in the memory map, the local
# APIC at 0xfee00000 a device (not RAM), an address in the hole keeps no
# write, and 2 MiB pages at both ends of the RAM above 4 GiB keep what is
# written there (tests/guests/bigmem.c, the same guest bochs_vmx.sh runs).
"$VH_MSG" define big kernel=bigmem.elf memory=6144 >/dev/null
"$VH_MSG" start big >/dev/null
"$VH_MSG" wait big stopped 60 >/dev/null
if console big | grep -q '^bigmem: e820 ram below the hole to 0xc0000000 and 0x100000000\.\.0x1c0000000, none in the hole$' &&
	console big | grep -q '^bigmem: lapic version 0x[0-9a-f]* keeps no write, tpr 0x20 ppr 0x20: a device$' &&
	console big | grep -q '^bigmem: hole 0xf8000000 keeps no write (reads 0xffffffff)$' &&
	console big | grep -q '^bigmem: high 0x100000000 and 0x1bfe00000 written and read back, low 0x80000 untouched$' &&
	console big | grep -q '^bigmem: done$'; then
	tap_ok "6 GiB VM: e820 around the hole, the local APIC a device, the hole no RAM, RAM above 4 GiB"
else
	tap_not_ok "6 GiB VM: e820 around the hole, the local APIC a device, the hole no RAM, RAM above 4 GiB" "$(console big)"
fi
kvm_stop
rc=$?
if [ $rc = 0 ]; then tap_ok "the daemon stops cleanly"; else tap_not_ok "the daemon stops cleanly (exit $rc)" "$RUN/daemon.log"; fi
[ "$tap_failed" = 0 ]
