#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# boot_time.sh BUILD-DIR [ROUNDS]: time from power-on to the reference Linux
# guest's init (its first line, "vhtest: init uptime=S") in Bochs, the
# kernel and initramfs booted by GRUB with no vh: the baseline of issue 13's
# goal (vh may add at most 25% booting the same guest; a run of vh's own
# boot belongs beside this one, in the same run, once vh loads Linux).
# Prints each round's wall time (Bochs start to the init line) and the
# guest's uptime at init (emulated seconds since the kernel started), then
# the medians.  Needs `make linux-guest`.
set -euo pipefail

build=$(cd "${1:?usage: boot_time.sh BUILD-DIR [ROUNDS]}" && pwd)
rounds=${2:-5}
top=$(cd "$(dirname "$0")/../.." && pwd)
guest=$build/linux-guest
runs=$build/bench/linux/runs
megs=512 ips=50000000 cpus=1
[ -f "$guest/initramfs.cpio.gz" ] || { echo "boot_time.sh: no $guest: run make linux-guest" >&2; exit 1; }
rm -rf "$runs" && mkdir -p "$runs"

"$top/tests/linux/mklinuxiso" -o "$runs/linux.iso" --kernel "$guest/vmlinuz" \
	--initrd "$guest/initramfs.cpio.gz" --append "console=ttyS0,115200 vh.test=platform"
echo "linux boot to init, Bochs without vh: $(sed -n 's/^package=//p' "$guest/vmlinuz.version")" \
	"$(sed -n 's/^version=//p' "$guest/vmlinuz.version"), busybox-static" \
	"$(sed -n 's/^version=//p' "$guest/busybox.version"); cpu=corei7_haswell_4770" \
	"count=$cpus ips=$ips megs=$megs; $rounds rounds; host $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$runs/wall" && : >"$runs/uptime"
for i in $(seq 1 "$rounds"); do
	out=$("$top/tests/harness/run-bochs" --iso "$runs/linux.iso" --megs $megs --ips $ips --cpus $cpus \
		--timeout 600 --until '^vhtest: init ' --workdir "$runs/round$i") || {
		echo "$out"
		exit 1
	}
	wall=$(sed -n 's/.* in \([0-9.]*\)s (.*/\1/p' <<<"$out")
	up=$(tr -d '\r' <"$runs/round$i/console.log" | sed -n 's/^vhtest: init uptime=//p')
	echo "round $i: wall ${wall} s to init, guest uptime ${up} s"
	echo "$wall" >>"$runs/wall" && echo "$up" >>"$runs/uptime"
done
echo "median: wall $(median <"$runs/wall") s to init, guest uptime $(median <"$runs/uptime") s (Bochs, no vh)"
