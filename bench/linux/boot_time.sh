#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# boot_time.sh BUILD-DIR [ROUNDS [PART [LIMIT]]]: time from power-on to the
# reference Linux guest's init.  PART (default both):
#   bochs   in Bochs (1 CPU, ips=50000000, 256 MiB for Linux), alternating
#           in each round: the bzImage and initramfs booted by GRUB with
#           no vh (the baseline), and the same as a 1-vCPU VM of
#           bare-metal vh (issue 13's goal: vh adds at most 25%).  Prints
#           each boot's wall time (Bochs start to "vhtest: init") and the
#           guest's uptime then, the medians and vh's ratio.
#   hosted  on this host's /dev/kvm, in the same run: vh-hosted (the VM
#           defined through vh-msg, the vmlinux's PVH entry, 192 MiB, 1
#           vCPU) against `qemu-system-x86_64 -enable-kvm -cpu qemu64
#           -kernel vmlinux -initrd initramfs.cpio.gz` with the same memory
#           and command line (both skip the bzImage's decompressor, which
#           takes minutes here).  Per round and peer: seconds from the
#           start to the first console line, to init if it comes, else
#           the last line and when it came, within LIMIT seconds (default
#           600), and how the run ended; then the medians and the ratio of
#           the first-line times.  On this PVM-based /dev/kvm QEMU dies at
#           the first CMPXCHG16B KVM cannot emulate; vh-hosted completes it.
# Needs `make linux-guest`.
set -euo pipefail

build=$(cd "${1:?usage: boot_time.sh BUILD-DIR [ROUNDS [bochs|hosted|both [LIMIT]]]}" && pwd)
rounds=${2:-3}
part=${3:-both}
limit=${4:-600}
top=$(cd "$(dirname "$0")/../.." && pwd)
guest=$build/linux-guest
runs=$build/bench/linux/runs
megs=256 ips=50000000 cpus=1
[ -f "$guest/initramfs.cpio.gz" ] || { echo "boot_time.sh: no $guest: run make linux-guest" >&2; exit 1; }
rm -rf "$runs" && mkdir -p "$runs"
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bochs_part() {
	local base vh
	"$top/tests/linux/mklinuxiso" -o "$runs/linux.iso" --kernel "$guest/vmlinuz" \
		--initrd "$guest/initramfs.cpio.gz" --append "console=ttyS0,115200 vh.test=platform"
	echo "linux boot to init in Bochs, without vh and under bare-metal vh:" \
		"$(sed -n 's/^package=//p' "$guest/vmlinuz.version")" \
		"$(sed -n 's/^version=//p' "$guest/vmlinuz.version"), busybox-static" \
		"$(sed -n 's/^version=//p' "$guest/busybox.version"); cpu=corei7_haswell_4770" \
		"count=$cpus ips=$ips, $megs MiB for Linux; $rounds rounds; host $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	: >"$runs/wall" && : >"$runs/uptime" && : >"$runs/vh.wall" && : >"$runs/vh.uptime"
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
		# The same bzImage and initramfs as a 1-vCPU VM of vh (vh's Bochs
		# has twice the memory: its own and the VM's).
		out=$("$top/tests/harness/run-bochs" --kernel "$build/hypervisor/arch/x86/vh.elf" \
			--megs $((megs * 2)) --ips $ips --cpus $cpus \
			--cmdline "vm=linux,kernel=0,initrd=1,mem=${megs}M,cmdline=console=ttyS0+vh.test=platform stats=10s" \
			--module "$guest/vmlinuz" --module "$guest/initramfs.cpio.gz" --timeout 1200 \
			--until '^linux\| vhtest: init ' --workdir "$runs/vh$i") || {
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
}

# stamp FILE OUT PID [ERRFILE]: each line FILE gets (CRs removed) with the
# seconds since the call, into OUT, while PID lives (then the rest of the
# file); stops when ERRFILE reports a KVM internal error (QEMU then pauses
# the VM and lives on), noting when in OUT.err.
stamp() {
	local file=$1 out=$2 pid=$3 err=${4:-} t0 seen=0 n
	t0=$(date +%s.%N)
	: >"$out"
	while :; do
		now_s=$(echo "$(date +%s.%N) - $t0" | bc | cut -c1-6)
		n=$( (tr -d '\r' <"$file" 2>/dev/null || true) | wc -l)
		if [ "$n" -gt "$seen" ]; then
			local now
			now=$(date +%s.%N)
			(tr -d '\r' <"$file" || true) | sed -n "$((seen + 1)),${n}p" |
				awk -v t="$(echo "$now - $t0" | bc)" '{ printf "%.1f %s\n", t, $0 }' >>"$out"
			seen=$n
		fi
		grep -q ' vhtest: init ' "$out" && return 0
		if [ -n "$err" ] && grep -q 'KVM internal error' "$err" 2>/dev/null; then
			echo "$now_s" >"$out.err"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 0
		[ "$(echo "$(date +%s.%N) - $t0 > $limit" | bc)" = 1 ] && return 0
		sleep 0.2
	done
}

# report PEER OUT END: one line: first line, init or the last line.
report() {
	local first last init
	first=$(head -1 "$2" | cut -d' ' -f1)
	init=$(grep ' vhtest: init ' "$2" | head -1 | cut -d' ' -f1 || true)
	last=$(tail -1 "$2")
	echo "${first:-none}" >>"$runs/$1.first"
	if [ -n "$init" ]; then
		echo "  $1: first line after ${first} s, init after ${init} s; $3"
	else
		echo "  $1: first line after ${first:-(none)} s; no init within ${limit} s;" \
			"last line at ${last%% *} s: ${last#* }; $3"
	fi
}

bench_pid=
trap '[ -z "$bench_pid" ] || kill "$bench_pid" 2>/dev/null || true' EXIT

hosted_part() {
	local vm=$guest/vmlinux initrd=$guest/initramfs.cpio.gz hv=$build/hypervisor/hosted
	local cmdline="console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 nokaslr vh.test=platform"
	local qemu=${QEMU_SYSTEM_X86_64:-qemu-system-x86_64}
	[ -f "$vm" ] || { echo "boot_time.sh: no $vm: run make linux-guest" >&2; exit 1; }
	[ -x "$hv/vh-hosted" ] || { echo "boot_time.sh: no $hv/vh-hosted: build first" >&2; exit 1; }
	echo "linux boot on /dev/kvm: vh-hosted against $("$qemu" --version | head -1);" \
		"vmlinux (PVH), 192 MiB, 1 vCPU; $rounds rounds, at most $limit s each; host $(nproc)" \
		"CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	: >"$runs/vh-hosted.first" && : >"$runs/qemu.first"
	for i in $(seq 1 "$rounds"); do
		local r=$runs/hosted$i pid end
		mkdir -p "$r/images" "$r/logs"
		# vh-hosted follows no symbolic link: hard links, or copies.
		ln -f "$vm" "$r/images/vmlinux" 2>/dev/null || cp "$vm" "$r/images/vmlinux"
		ln -f "$initrd" "$r/images/initramfs.cpio.gz" 2>/dev/null ||
			cp "$initrd" "$r/images/initramfs.cpio.gz"
		"$hv/vh-hosted" --socket "$r/vh.sock" --images "$r/images" --log-dir "$r/logs" \
			--memory 512M --pcpus 1 --scan-rate 0 >"$r/daemon.log" 2>&1 &
		pid=$!
		bench_pid=$pid
		for _ in $(seq 1 100); do VH_SOCKET=$r/vh.sock "$hv/vh-msg" host >/dev/null 2>&1 && break; sleep 0.1; done
		VH_SOCKET=$r/vh.sock "$hv/vh-msg" define lx vcpus=1 memory=192 kernel=vmlinux \
			initrd=initramfs.cpio.gz "cmdline=$cmdline" >/dev/null
		: >"$r/logs/lx.log"
		VH_SOCKET=$r/vh.sock "$hv/vh-msg" start lx >/dev/null
		stamp "$r/logs/lx.log" "$r/vh-hosted.lines" "$pid"
		end=$(VH_SOCKET=$r/vh.sock "$hv/vh-msg" get lx | sed -n 's/^state: //p')
		[ "$end" = crashed ] && end="crashed: $(grep -o 'crashed: .*' "$r/daemon.log" | tail -1)"
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
		echo "round $i:"
		report vh-hosted "$r/vh-hosted.lines" "VM ${end:-gone}"
		"$qemu" -enable-kvm -cpu qemu64 -m 192 -smp 1 -display none -no-reboot \
			-serial "file:$r/qemu.console" -monitor none -kernel "$vm" -initrd "$initrd" \
			-append "$cmdline" >"$r/qemu.err" 2>&1 &
		pid=$!
		bench_pid=$pid
		sleep 0.5
		stamp "$r/qemu.console" "$r/qemu.lines" "$pid" "$r/qemu.err"
		if [ -f "$r/qemu.lines.err" ]; then
			end="KVM internal error (emulation failure) seen at $(cat "$r/qemu.lines.err") s,"
			end="$end $(grep -m1 -o 'RIP=[0-9a-f]*' "$r/qemu.err"),"
			end="$end $(grep -m1 -o 'extra data\[1\]: 0x[0-9a-f]*' "$r/qemu.err") (the bytes)"
		elif kill -0 "$pid" 2>/dev/null; then
			end="still running at the limit"
		else
			end="exited: $(tail -1 "$r/qemu.err")"
		fi
		kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
		report qemu "$r/qemu.lines" "$end"
	done
	echo "median first console line: vh-hosted $(grep -v none "$runs/vh-hosted.first" | median) s," \
		"qemu $(grep -v none "$runs/qemu.first" | median) s (same host, same run)"
}

case "$part" in
bochs) bochs_part ;;
hosted) hosted_part ;;
both) bochs_part && hosted_part ;;
*) echo "boot_time.sh: PART is bochs, hosted or both" >&2; exit 2 ;;
esac
