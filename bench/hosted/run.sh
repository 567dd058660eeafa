#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# vh-hosted benchmarks against QEMU/KVM on the same guest images (not run
# by make check).  Medians of RUNS runs (default 5), peers measured in the
# same run.  Usage: bench/hosted/run.sh BUILD-DIR [RUNS]
#   start:  define+start -> the guest's first I/O exit (it writes
#           isa-debug-exit first thing), vs `qemu -enable-kvm -kernel`
#           process start -> exit, same Multiboot image
#   io:     one port I/O exit round trip, timed by the guest itself with
#           RDTSC inside one run (20000 OUTs to the UART's scratch
#           register 0x3ff minus the same loop without them, see exit.S),
#           the same image under both; ticks to time with the host's TSC
#           frequency, measured here against CLOCK_MONOTONIC
#   rate:   VMs started per second, one after another and 100 at once
#   idle:   resident memory of the daemon per idle VM (100 halted VMs
#           next to 100 others, see vh_bench.c), and what the kernel
#           holds for each (KVM's VM and vCPU state, host-wide counters)
# The I/O round trip also gives its range over the runs; both comparisons
# give the ratio.
set -eu -o pipefail
build=$(cd "${1:?build directory}" && pwd)
runs=${2:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vh-bench.XXXXXX)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/images" "$work/logs"
img() { gcc -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,"$src/bench/hosted/guest.ld" \
	"$@" -o "$work/images/$name" "$src/bench/hosted/exit.S"; }
exits=20000
name=exit0.elf img
name=io.elf img -DEXITS=$exits
name=idle.elf img -DHALT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

export VH_SOCKET=$work/vh.sock
"$build/hypervisor/hosted/vh-hosted" --socket "$VH_SOCKET" --images "$work/images" \
	--log-dir "$work/logs" --memory 2G --pcpus "$(nproc)" >"$work/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 100); do "$build/hypervisor/hosted/vh-msg" host >/dev/null 2>&1 && break; sleep 0.05; done
bench=$build/bench/hosted/vh-bench
qemu() { # wall-clock microseconds of one QEMU run of image $1 (console: -serial $2)
	local t0 t1
	t0=$(date +%s%N)
	qemu-system-x86_64 -enable-kvm -m 8 -nographic -no-reboot -kernel "$work/images/$1" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial "${2:-none}" -monitor none -display none \
		>/dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
# The guest's "io_ticks_per_exit N" lines (one per run) from its console.
ticks() { awk '$1 == "io_ticks_per_exit" {print $2}'; }
# Both vh and QEMU must have handled each timed OUT in user space: vh
# counts its I/O exits; QEMU's were counted once with strace (KVM_RUN
# calls, docs/hosted.md), as tracing every run would slow it.
check_vh_exits() {
	awk -v want="$exits" '$1 == "exits_io" && $2 < want {bad = 1} $1 == "exits_io" {n++}
		END {if (bad || !n) {print "run.sh: vh-hosted counted fewer I/O exits than the guest timed" > "/dev/stderr"; exit 1}}'
}
mhz=$("$bench" tsc | awk '{print $2}')
vh_start=$("$bench" boot "$runs" exit0.elf | awk '{print $2}' | median)
# vh and QEMU take turns, so load that comes and goes on the host falls
# on both.
for i in $(seq "$runs"); do
	"$bench" guest 1 io.elf >>"$work/vh-io.out"
	qemu io.elf "file:$work/qemu-io.$i" >/dev/null
	cat "$work/qemu-io.$i" >>"$work/qemu-io.out"
done
check_vh_exits <"$work/vh-io.out"
for who in vh qemu; do
	[ "$(ticks <"$work/$who-io.out" | wc -l)" = "$runs" ] ||
		{ echo "run.sh: a $who run printed no result" >&2; exit 1; }
done
vh_io=$(ticks <"$work/vh-io.out" | median)
vh_io_range=$(ticks <"$work/vh-io.out" | sort -n | sed -n '1p;$p' | paste -sd' ')
q_io=$(ticks <"$work/qemu-io.out" | median)
q_io_range=$(ticks <"$work/qemu-io.out" | sort -n | sed -n '1p;$p' | paste -sd' ')
q_start=$(for i in $(seq "$runs"); do qemu exit0.elf; done | median)
many=$(for i in $(seq "$runs"); do "$bench" many 100 exit0.elf | awk '{print $2}'; done | median)
# The first idle run in a daemon that has not held 2x100 VMs grows
# malloc's arenas as well: a median here too.
for i in $(seq "$runs"); do "$bench" idle 100 idle.elf "$pid"; done >"$work/idle.out"
idle=$(awk '$1 == "idle_rss_kib_per_vm" {print $2}' "$work/idle.out" | median)
kidle=$(awk '$1 == "idle_kernel_kib_per_vm" {print $2}' "$work/idle.out" | median)
# The peer: one QEMU process with the same idle guest, its RssAnon +
# RssFile once the guest has halted (guest RAM is anonymous memory of
# the process, so the few pages SeaBIOS and the guest touched count too).
qemu_idle() {
	local q rss
	qemu-system-x86_64 -enable-kvm -m 8 -nographic -no-reboot -kernel "$work/images/idle.elf" \
		-serial none -monitor none -display none >/dev/null 2>&1 &
	q=$!
	sleep "$1"
	rss=$(awk '/^RssAnon:|^RssFile:/ {v += $2} END {print v}' "/proc/$q/status" 2>/dev/null)
	kill "$q" 2>/dev/null
	wait "$q" 2>/dev/null
	echo "${rss:-0}"
}
qidle=$(for i in 1 2 3; do qemu_idle 8; done | median)
awk -v vs="$vh_start" -v qs="$q_start" -v vi="$vh_io" -v qi="$q_io" -v mhz="$mhz" -v m="$many" -v idle="$idle" -v kidle="$kidle" -v qidle="$qidle" \
	-v runs="$runs" -v exits="$exits" -v vr="$vh_io_range" -v qr="$q_io_range" 'BEGIN {
	split(vr, v, " "); split(qr, q, " ")
	printf "medians of %d runs (vh-hosted and QEMU/KVM in the same run)\n", runs
	printf "start to first I/O exit:  vh-hosted %8.0f us   qemu -enable-kvm -kernel %8.0f us   (qemu/vh-hosted %.1fx)\n", vs, qs, qs / vs
	printf "I/O exit round trip:      vh-hosted %8.2f us   qemu                     %8.2f us   (vh-hosted/qemu %.2fx)\n", vi / mhz, qi / mhz, vi / qi
	printf "  timed by the guest: %d OUTs to port 0x3ff minus the loop without them, RDTSC, host TSC %.1f MHz;\n", exits, mhz
	printf "  %.0f and %.0f ticks per exit; runs from %.2f to %.2f us (vh-hosted), %.2f to %.2f us (qemu)\n", vi, qi, v[1] / mhz, v[2] / mhz, q[1] / mhz, q[2] / mhz
	printf "VMs started per second:   one after another %.0f, 100 at once %.0f\n", 1e6 / vs, m
	printf "daemon RSS per idle VM:   %.1f KiB\n", idle
	printf "kernel memory per idle VM: %.1f KiB (slab, vmalloc, per-CPU, page tables, stacks; host-wide)\n", kidle
	printf "overhead per idle VM:     %.1f KiB   qemu process RSS with the same idle guest %.0f KiB (median of 3)\n", idle + kidle, qidle
}'
