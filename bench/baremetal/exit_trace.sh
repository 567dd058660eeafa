#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Where the instructions of one VM-exit round trip go: the Bochs debugger
# traces one exit of each kind exit_cost.sh measures (CPUID, OUT to the
# UART, OUT to port 0x80, VMCALL) made by tests/guests/exitbench.elf
# (trace=1: magic breakpoints around each), and exit_trace.awk counts the
# hypervisor's instructions per function (inlined code counts in its
# caller).  The counts are those exit_cost.sh measures, one exit each.
# With --before, a second kernel (an older build's vh.elf) is traced the
# same way and each function's count is printed before and after.
#
#   bench/baremetal/exit_trace.sh BUILD-DIR [-v] [--before KERNEL]
#     -v               every instruction (of the kernel in BUILD-DIR)
#     --before KERNEL  another vh.elf: a before/after table per exit kind
#
# run-bochs boots the image first and stops at the guest's first magic
# breakpoint (its debugger script only continues once: it reports that as
# a failure, which is expected here); its bochsrc and ISO then run again
# under a debugger script that traces from breakpoint to breakpoint.
set -eu
usage="usage: exit_trace.sh BUILD-DIR [-v] [--before KERNEL]"
build=$(cd "${1:?$usage}" && pwd)
shift
verbose=0 before=
while [ $# -gt 0 ]; do
	case $1 in
	-v) verbose=1 ;;
	--before) before=${2:?$usage}; shift ;;
	*) echo "exit_trace.sh: unknown argument '$1'; $usage" >&2; exit 2 ;;
	esac
	shift
done
src=$(cd "$(dirname "$0")/../.." && pwd)
kernel=$build/hypervisor/arch/x86/vh.elf guest=$build/tests/guests/exitbench.elf
for f in "$kernel" "$guest" ${before:+"$before"}; do
	[ -f "$f" ] || { echo "exit_trace.sh: $f missing: run make in $build first" >&2; exit 2; }
done
work=$(mktemp -d "${TMPDIR:-/tmp}/vh-exittrace.XXXXXX")
trap 'rm -rf "$work"' EXIT

# trace KERNEL NAME: the Bochs trace of the kernel's exits in $work/NAME,
# its text symbols in $work/NAME.syms.
trace() {
	local k=$1 dir=$work/$2
	"$src/tests/harness/run-bochs" --ips 50000000 --cpus 1 --timeout 120 --kernel "$k" \
		--cmdline "vm=eb,kernel=0,vcpus=1,mem=8M runtime=20s until=done" \
		--module "$guest=iters=1 rounds=1 trace=1" --workdir "$dir" >"$dir.first" 2>&1 || true
	[ -f "$dir/bochsrc" ] && [ -f "$dir/boot.iso" ] ||
		{ cat "$dir.first" >&2; echo "exit_trace.sh: run-bochs left no bochsrc" >&2; exit 1; }
	# The log without run-bochs' filter FIFO; the debugger: to the first
	# breakpoint, trace the exits, then run to vh's own stop.
	sed -i "s|^log: .*|log: \"$dir/bochs.log\"|" "$dir/bochsrc"
	printf 'continue\ntrace on\ncontinue\ncontinue\ncontinue\ncontinue\ntrace off\ncontinue\nquit\n' \
		>"$dir/trace.rc"
	rm -f "$dir/console.log"
	(cd "$dir" && timeout -k 5 120 "${BOCHS:-bochs}" -q -f bochsrc -rc trace.rc </dev/null \
		>trace.out 2>&1) || true
	[ "$(grep -c 'Magic breakpoint' "$dir/trace.out")" -ge 5 ] || {
		tail -20 "$dir/trace.out" >&2
		echo "exit_trace.sh: the guest's breakpoints were not reached ($k)" >&2
		exit 1
	}
	nm -n "$k" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' >"$dir.syms"
}
count() { # NAME VERBOSE TSV
	awk -v verbose="$2" -v tsv="$3" -v kinds="cpuid io io80 vmcall" \
		-f "$src/bench/baremetal/exit_trace.awk" "$work/$1.syms" "$work/$1/trace.out"
}

trace "$kernel" after
if [ -z "$before" ]; then
	count after "$verbose" 0
	exit 0
fi
trace "$before" before
[ "$verbose" = 0 ] || count after 1 0
count before 0 1 >"$work/before.tsv"
count after 0 1 >"$work/after.tsv"
# Per kind, every function either kernel spent instructions in, in the
# order the exit reaches them (the after kernel's, then the before's own).
awk -F '\t' '
FNR == 1 { side++ }
{
	k = $1; fn = $2
	if (!((k, fn) in seen)) { seen[k, fn] = 1; order[k, ++n[k]] = fn }
	if (!(k in kseen)) { kseen[k] = 1; kinds[++nk] = k }
	cnt[side, k, fn] = $3
	if (fn == "=total") insn[side, k] = $4
}
END {
	for (i = 1; i <= nk; i++) {
		k = kinds[i]
		printf "%s (%s): %d -> %d host instructions, exit to VMRESUME\n", k, insn[1, k],
		       cnt[2, k, "=total"], cnt[1, k, "=total"]
		printf "  %6s %6s  %s\n", "before", "after", "function"
		for (j = 1; j <= n[k]; j++) {
			fn = order[k, j]
			if (fn == "=total") continue
			printf "  %6d %6d  %s\n", cnt[2, k, fn], cnt[1, k, fn], fn
		}
	}
}' "$work/after.tsv" "$work/before.tsv"
