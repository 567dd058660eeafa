#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# boot_time.sh BUILD-DIR [ROUNDS]: time from power-on to the reference Linux
# guest's init (its first line, "vhtest: init uptime=S") in Bochs, in the
# same run: the kernel and initramfs booted by GRUB with no vh (the
# baseline), and the same kernel and initramfs as a 256 MiB, 1-vCPU VM of
# bare-metal vh (issue 13's goal: vh adds at most 25%).  Both machines
# are one CPU at ips=50000000 and give Linux 256 MiB (vh's Bochs has 512
# MiB, its own and the VM's).  Prints each round's wall time (Bochs start
# to the init line) and the guest's uptime at init (emulated seconds since
# the kernel started), then the medians and vh's ratio to the baseline.
# Needs `make linux-guest`.  Rounds alternate, baseline then vh, so both
# see the same load.
set -euo pipefail

build=$(cd "${1:?usage: boot_time.sh BUILD-DIR [ROUNDS]}" && pwd)
rounds=${2:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
guest=$build/linux-guest
runs=$build/bench/linux/runs
megs=256 ips=50000000 cpus=1
[ -f "$guest/initramfs.cpio.gz" ] || { echo "boot_time.sh: no $guest: run make linux-guest" >&2; exit 1; }
rm -rf "$runs" && mkdir -p "$runs"

"$top/tests/linux/mklinuxiso" -o "$runs/linux.iso" --kernel "$guest/vmlinuz" \
	--initrd "$guest/initramfs.cpio.gz" --append "console=ttyS0,115200 vh.test=platform"
echo "linux boot to init, Bochs without vh: $(sed -n 's/^package=//p' "$guest/vmlinuz.version")" \
	"$(sed -n 's/^version=//p' "$guest/vmlinuz.version"), busybox-static" \
	"$(sed -n 's/^version=//p' "$guest/busybox.version"); cpu=corei7_haswell_4770" \
	"count=$cpus ips=$ips megs=$megs; $rounds rounds; host $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$runs/wall" && : >"$runs/uptime" && : >"$runs/vh.wall" && : >"$runs/vh.uptime"
vh_cmdline="vm=linux,kernel=0,initrd=1,mem=${megs}M,cmdline=console=ttyS0+vh.test=platform stats=10s"
for i in $(seq 1 "$rounds"); do
	out=$("$top/tests/harness/run-bochs" --iso "$runs/linux.iso" --megs $megs --ips $ips --cpus $cpus \
		--timeout 900 --until '^vhtest: init ' --workdir "$runs/round$i") || {
		echo "$out"
		exit 1
	}
	wall=$(sed -n 's/.* in \([0-9.]*\)s (.*/\1/p' <<<"$out")
	up=$(tr -d '\r' <"$runs/round$i/console.log" | sed -n 's/^vhtest: init uptime=//p')
	echo "round $i, Bochs without vh: wall ${wall} s to init, guest uptime ${up} s"
	echo "$wall" >>"$runs/wall" && echo "$up" >>"$runs/uptime"
	out=$("$top/tests/harness/run-bochs" --kernel "$build/hypervisor/arch/x86/vh.elf" --megs $((megs * 2)) \
		--ips $ips --cpus $cpus --cmdline "$vh_cmdline" --module "$guest/vmlinuz" \
		--module "$guest/initramfs.cpio.gz" --timeout 1200 --until '^linux\| vhtest: init ' \
		--workdir "$runs/vh$i") || {
		echo "$out"
		exit 1
	}
	wall=$(sed -n 's/.* in \([0-9.]*\)s (.*/\1/p' <<<"$out")
	up=$(tr -d '\r' <"$runs/vh$i/console.log" | sed -n 's/^linux| vhtest: init uptime=//p')
	echo "round $i, bare-metal vh in Bochs: wall ${wall} s to init, guest uptime ${up} s"
	echo "$wall" >>"$runs/vh.wall" && echo "$up" >>"$runs/vh.uptime"
done
base=$(median <"$runs/wall") vh=$(median <"$runs/vh.wall")
echo "median: wall $base s to init, guest uptime $(median <"$runs/uptime") s (Bochs, no vh)"
echo "median: wall $vh s to init, guest uptime $(median <"$runs/vh.uptime") s (bare-metal vh in Bochs)"
awk -v a="$base" -v b="$vh" 'BEGIN { printf "vh / no vh: %.3f (goal: at most 1.25)\n", b / a }'
