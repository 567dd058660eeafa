#!/bin/bash
# vh-hosted benchmarks against QEMU/KVM on the same guest images (not run
# by make check).  Medians of RUNS runs (default 5), peers measured in the
# same run.  Usage: bench/hosted/run.sh BUILD-DIR [RUNS]
#   start:  define+start -> the guest's first I/O exit (it writes
#           isa-debug-exit first thing), vs `qemu -enable-kvm -kernel`
#           process start -> exit, same Multiboot image
#   io:     one port I/O exit round trip (20000 OUTs to port 0x80 minus
#           the start-up run), vs QEMU the same way
#   rate:   VMs started per second, one after another and 100 at once
#   idle:   resident memory of the daemon per idle VM (100 VMs halted)
set -eu
build=$(cd "${1:?build directory}" && pwd)
runs=${2:-5}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vh-bench.XXXXXX)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/images" "$work/logs"
img() { gcc -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,"$src/bench/hosted/guest.ld" \
	"$@" -o "$work/images/$name" "$src/bench/hosted/exit.S"; }
name=exit0.elf img -DCOUNT=0
name=io.elf img -DCOUNT=20000
name=idle.elf img -DHALT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

export VH_SOCKET=$work/vh.sock
"$build/hypervisor/hosted/vh-hosted" --socket "$VH_SOCKET" --images "$work/images" \
	--log-dir "$work/logs" --memory 2G --pcpus "$(nproc)" >"$work/daemon.log" 2>&1 &
pid=$!
for _ in $(seq 100); do "$build/hypervisor/hosted/vh-msg" host >/dev/null 2>&1 && break; sleep 0.05; done
bench=$build/bench/hosted/vh-bench
qemu() { # wall-clock microseconds of one QEMU run of image $1
	local t0 t1
	t0=$(date +%s%N)
	qemu-system-x86_64 -enable-kvm -m 8 -nographic -no-reboot -kernel "$work/images/$1" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -serial none -monitor none -display none \
		>/dev/null 2>&1 || true
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
vh_start=$("$bench" boot "$runs" exit0.elf | awk '{print $2}' | median)
vh_io=$("$bench" boot "$runs" io.elf | awk '{print $2}' | median)
q_start=$(for i in $(seq "$runs"); do qemu exit0.elf; done | median)
q_io=$(for i in $(seq "$runs"); do qemu io.elf; done | median)
many=$(for i in $(seq "$runs"); do "$bench" many 100 exit0.elf | awk '{print $2}'; done | median)
idle=$("$bench" idle 100 idle.elf "$pid" | awk '{print $2}')
awk -v vs="$vh_start" -v qs="$q_start" -v vi="$vh_io" -v qi="$q_io" -v m="$many" -v idle="$idle" -v runs="$runs" 'BEGIN {
	printf "medians of %d runs (vh-hosted and QEMU/KVM in the same run)\n", runs
	printf "start to first I/O exit:  vh-hosted %8.0f us   qemu -enable-kvm -kernel %8.0f us   (%.1fx)\n", vs, qs, qs / vs
	printf "I/O exit round trip:      vh-hosted %8.2f us   qemu                     %8.2f us\n", (vi - vs) / 20000, (qi - qs) / 20000
	printf "VMs started per second:   one after another %.0f, 100 at once %.0f\n", 1e6 / vs, m
	printf "daemon RSS per idle VM:   %.1f KiB\n", idle
}'
