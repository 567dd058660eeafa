#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The test guests under VT-x in Bochs (2 CPUs, 50 MHz emulated clock):
#  - the SMP guest starts its second vCPU through the local APIC model
#    (INIT-SIPI-SIPI) and each vCPU sees its own APIC id in the APIC and
#    in CPUID, and it finds vh's ACPI tables (its MADT lists both);
#    its 2-vCPU VM, strictly co-scheduled beside a spinner, shows
#    co-stop time in the stats line;
#  - the balloon guest inflates to its target (mem.limit) and deflates,
#    and the stats line follows the balloon; the frames of the pages it
#    gives go back to the host, and a ballooned page it touches reads 0;
#  - two memory touchers with the same content write their pages twice,
#    verify every word, go idle, and their pages end up shared;
#  - three touchers (two alike) each complete a pass: the sharing scanner
#    does not starve them;
#  - four spinners with cpu.shares 1000:1000:2000:4000 get CPU time
#    1:1:2:4 within 5 %.
# The four Bochs runs go two at a time: each is one host thread and the
# checks read emulated time, which does not depend on the host's load.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

run_bochs=$top_srcdir/tests/harness/run-bochs
kernel=$top_builddir/hypervisor/arch/x86/vh.elf
g=$top_builddir/tests/guests
runs=$top_builddir/tests/boot/runs
mkdir -p "$runs"
fast=(--ips 50000000 --cpus 2 --timeout 60)
spin="$g/spinner.elf=iters=0 report=20 work=20000"
# Finer progress reports for the shares run (every 5 units of about 550
# the slowest spinner does there: the last report is exact to 1%).
spin4="$g/spinner.elf=iters=0 report=5 work=20000"

tap_plan 20

con() { tr -d '\r' < "$runs/$1/console.log" 2>/dev/null; }
# The last stats line's value of FIELD for VM in run DIR, units dropped.
field() { con "$1" | sed -n "s/^vh: stats .* vm=$2 .* $3=\([0-9]*\)[a-z]* .*/\1/p" | tail -1; }
# Runs NAME ARGS... in the background, output in NAME.out.
bg_run() {
	local name=$1
	shift
	"$run_bochs" "${fast[@]}" --workdir "$runs/$name" "$@" >"$runs/$name.out" 2>&1 &
}

bg_run guests-smp --kernel "$kernel" \
	--cmdline "vm=s,kernel=0,mem=8M,vcpus=2,cosched=strict vm=x,kernel=1,mem=4M runtime=3s stats=100ms" \
	--module "$g/smp.elf=spin=1200" --module "$spin"
bg_run guests-balloon --kernel "$kernel" \
	--cmdline "vm=b,kernel=0,mem=16M,mem.limit=8 stats=50ms until=done" \
	--module "$g/balloon.elf=rounds=12 fill=1024 start=3 touch=1 release=8"
wait

# 1. SMP start through the APIC model; co-stop of a 2-vCPU VM.
run=guests-smp
tap_check "smp: the run with a 2-vCPU VM beside a spinner ends with status 0" \
	grep -q '^run-bochs: PASS' "$runs/$run.out"
tap_grep "smp: the guest's INIT-SIPI-SIPI starts its second vCPU" '^s\| smp: 2 of 2 cpus up$' "$runs/$run/console.log"
tap_grep "smp: vh's ACPI tables in the BIOS area check out; the MADT lists the 2 vCPUs" \
	'^s\| smp: acpi: rsdp at 0xf0000 revision 2, madt lists 2 local apics$' "$runs/$run/console.log"
if con $run | grep -q '^s| smp: bsp apic id 0 ' && con $run | grep -q '^s| smp: cpu 1 apic id 1 up$'; then
	tap_ok "smp: each vCPU reads its own id from the APIC model (0 and 1)"
else
	tap_not_ok "smp: each vCPU reads its own id from the APIC model (0 and 1)" "$(con $run | grep '^s|')"
fi
if ! con $run | grep -q '^s| smp: .*cpuid leaf' && con $run | grep -q '^vh: vm s exit code 1$'; then
	tap_ok "smp: CPUID leaves 1 and 0xB give the AP the APIC's id; the guest passes"
else
	tap_not_ok "smp: CPUID leaves 1 and 0xB give the AP the APIC's id; the guest passes" "$(con $run | grep '^s|\|^vh: vm s')"
fi
co=$(field $run s costop) cx=$(field $run x costop)
if [ -n "$co" ] && [ "$co" -gt 0 ] && [ "$cx" = 0 ]; then
	tap_ok "smp: the strictly co-scheduled 2-vCPU VM shows co-stop time ($co ms; the 1-vCPU VM $cx ms)"
else
	tap_not_ok "smp: the strictly co-scheduled 2-vCPU VM shows co-stop time (got '$co', 1-vCPU '$cx')" \
		"$(con $run | grep '^vh: stats' | tail -4)"
fi

# The skew (difference in progress between the two vCPUs, on the stats
# lines printed while the guest spins on both) may not grow by more than
# the co-scheduling threshold (3 ms) while the VM shares 2 pCPUs with a
# spinner; the guest's barriers show the same from inside.
skews=$(con $run | sed -n '/^s| smp: spinning/,/^s| smp: spun/p' |
	sed -n 's/^vh: stats .* vm=s .* skew=\([0-9]*\)us$/\1/p')
spread=$(printf '%s\n' $skews | sort -n | sed -n '1p;$p' | paste -sd' ' | awk 'NF == 2 { print $2 - $1 }')
nskew=$(printf '%s\n' $skews | grep -c .)
if [ "$nskew" -ge 5 ] && [ -n "$spread" ] && [ "$spread" -le 3000 ] &&
	con $run | grep -q '^s| smp: spun [0-9]* ms, [1-9][0-9]* barriers passed by 2 cpus$'; then
	tap_ok "smp: strict co-scheduling keeps the skew within the 3 ms threshold ($nskew samples, it moved $spread us) and the guest passes its barriers"
else
	tap_not_ok "smp: strict co-scheduling keeps the skew within the 3 ms threshold ($nskew samples, moved '$spread' us)" \
		"$(con $run | grep '^s|\|^vh: stats .* vm=s ' | tail -20)"
fi

# 2. Balloon: the guest writes 1024 pages of its pool, holds nothing in
# its balloon for 2 rounds, then inflates to configured - limit (2048
# pages, the 1024 it wrote first) from round 3, touches the last page it
# gave (it must read 0, not the marker it wrote there: the frame went
# back), takes that page back and gives it again in round 4, and deflates
# everything from round 8.
run=guests-balloon
tap_check "balloon: the run ends when the guest stops, status 0" grep -q '^run-bochs: PASS' "$runs/$run.out"
if con $run | grep -q '^b| balloon: filled 1024 pages$' &&
	con $run | grep -q '^b| balloon: round 3 target 2048 held 2047$' &&
	con $run | grep -q '^b| balloon: round 4 target 2048 held 2048$' &&
	con $run | grep -q '^b| balloon: round 8 target 0 held 0$' && con $run | grep -q '^vh: vm b exit code 1$'; then
	tap_ok "balloon: the guest inflates to its target (16 MiB - limit 8 MiB = 2048 pages) and deflates"
else
	tap_not_ok "balloon: the guest inflates to its target (16 MiB - limit 8 MiB = 2048 pages) and deflates" \
		"$(con $run | grep '^b|')"
fi
bal=$(con $run | sed -n 's/^vh: stats .* vm=b state=running .* balloon=\([0-9]*\) .*/\1/p' | uniq | tr '\n' ' ')
if [[ " $bal" =~ ^\ 0\ (.*\ )?2048\ (.*\ )?0\ $ ]]; then
	tap_ok "balloon: the stats line shows 0 balloon pages, 2048 while inflated, 0 after the deflate ($bal)"
else
	tap_not_ok "balloon: the stats line shows 0, 2048, then 0 balloon pages (got '$bal')"
fi
# The host's free frames and the VM's granted frames on the last stats
# tick before the inflating round and the first one after it.
read -r free0 free1 granted0 granted1 < <(con $run | awk '
	/^vh: host / { for (i = 1; i <= NF; i++) if ($i ~ /^free=/) free = substr($i, 6) }
	/^vh: stats .* vm=b / { for (i = 1; i <= NF; i++) if ($i ~ /^granted=/) granted = substr($i, 9)
		if (after && !done) { f1 = free; g1 = granted; done = 1 } }
	/^b\| balloon: round 2 target 0 held 0$/ { f0 = free; g0 = granted }
	/^b\| balloon: round 3 target 2048 held 2047$/ { after = 1 }
	END { print f0 + 0, f1 + 0, g0 + 0, g1 + 0 }')
if [ "$free0" -gt 0 ] && [ $((free1 - free0)) -ge 1000 ] && [ $((granted0 - granted1)) -ge 1000 ]; then
	tap_ok "balloon: inflating returns the written pages' frames to the host (free $free0 -> $free1, VM granted $granted0 -> $granted1)"
else
	tap_not_ok "balloon: inflating returns the written pages' frames to the host (free '$free0' -> '$free1', granted '$granted0' -> '$granted1')" \
		"$(con $run | grep '^b|\|^vh: host\|^vh: stats' | head -40)"
fi
if con $run | grep -q '^b| balloon: ballooned page gfn 0x[0-9a-f]* reads 0x00000000 (marker 0x5a17ab1e before the inflate)$'; then
	tap_ok "balloon: the guest can no longer reach a ballooned page's frame (it reads 0, not what it wrote before the inflate)"
else
	tap_not_ok "balloon: the guest can no longer reach a ballooned page's frame" "$(con $run | grep '^b| balloon: ballooned')"
fi

touch="$g/toucher.elf=size=2M seed=7 passes=2 idle=1"
# What is shared, not how fast: the scan rate's bound per GHz would give
# two 50 MHz pCPUs about 100 pages a second, too few for 3 s (the bound has
# its own tests in mem_tests share_rate.*).
bg_run guests-share --kernel "$kernel" \
	--cmdline "vm=a,kernel=0,mem=8M vm=b,kernel=1,mem=8M vm=c,kernel=2,mem=8M vm=d,kernel=3,mem=8M runtime=3s scan_per_ghz=0" \
	--module "$touch" --module "$touch" --module "$touch" --module "$touch"
# With stats lines every 250 ms: the kernel writes its console out in
# the background (a polled write of each stats print once held CPU 0 for
# about 60 ms, charged to whichever vCPU was current there, and one
# spinner's progress lagged its used time by up to 10%).
bg_run guests-shares4 --kernel "$kernel" \
	--cmdline "vm=a,kernel=0,mem=4M,cpu.shares=1000 vm=b,kernel=1,mem=4M,cpu.shares=1000 vm=c,kernel=2,mem=4M,cpu.shares=2000 vm=d,kernel=3,mem=4M,cpu.shares=4000 runtime=5s stats=250ms" \
	--module "$spin4" --module "$spin4" --module "$spin4" --module "$spin4"
wait

# 3. Page sharing between VMs with identical content.
run=guests-share
tap_check "sharing: four toucher VMs run for 3 s, status 0" grep -q '^run-bochs: PASS' "$runs/$run.out"
sa=$(field $run a shared) sb=$(field $run b shared) sc=$(field $run c shared) sd=$(field $run d shared)
# Four copies of 512 identical pages need 512 frames: 3 x 512 saved.
saved=$(con $run | sed -n 's/^vh: host .* shared_saved=\([0-9]*\)$/\1/p' | sort -n | tail -1)
if [ -n "$sa" ] && [ -n "$sb" ] && [ -n "$sc" ] && [ -n "$sd" ] && [ "$sa" -ge 450 ] &&
	[ "$sb" -ge 450 ] && [ "$sc" -ge 450 ] && [ "$sd" -ge 450 ] && [ -n "$saved" ] && [ "$saved" -ge 1350 ]; then
	tap_ok "sharing: the 512 identical pages of 4 VMs are shared (a $sa, b $sb, c $sc, d $sd; host frames saved $saved)"
else
	tap_not_ok "sharing: the 512 identical pages of 4 VMs are shared (got a '$sa' b '$sb' c '$sc' d '$sd', saved '$saved')" \
		"$(con $run | grep '^vh: stats\|^vh: host' | tail -6)"
fi
np=$(con $run | grep -c '^[abcd]| toucher: pass [0-9]* ok checksum 2003427b$')
if [ "$np" -ge 8 ] && ! con $run | grep -q 'toucher: pass .* reads'; then
	tap_ok "sharing: every rewrite of a shared page reads back its own content ($np passes verified)"
else
	tap_not_ok "sharing: every rewrite of a shared page reads back its own content ($np passes)" "$(con $run | grep 'toucher:' | tail -6)"
fi

# 4. Four spinners, shares 1:1:2:4, on two CPUs.
run=guests-shares4
tap_check "shares: four spinner VMs run for 5 s, status 0" grep -q '^run-bochs: PASS' "$runs/$run.out"
# within5 A B C D: the four values are 1:1:2:4 within 5% each.
within5() {
	[ -n "$1" ] && [ -n "$2" ] && [ -n "$3" ] && [ -n "$4" ] &&
		awk -v a="$1" -v b="$2" -v c="$3" -v d="$4" 'BEGIN {
			u = (a + b + c + d) / 8; ok = u > 0
			split(a " " b " " c " " d, x, " "); split("1 1 2 4", w, " ")
			for (i = 1; i <= 4; i++) if (x[i] / (u * w[i]) < 0.95 || x[i] / (u * w[i]) > 1.05) ok = 0
			exit !ok }'
}
ua=$(field $run a used) ub=$(field $run b used) uc=$(field $run c used) ud=$(field $run d used)
if within5 "$ua" "$ub" "$uc" "$ud"; then
	tap_ok "shares: cpu.shares 1000:1000:2000:4000 give used time 1:1:2:4 within 5% ($ua : $ub : $uc : $ud ms)"
else
	tap_not_ok "shares: cpu.shares 1000:1000:2000:4000 give used time 1:1:2:4 within 5% (got '$ua' '$ub' '$uc' '$ud')" \
		"$(con $run | grep '^vh: stats' | tail -4)"
fi
prog() { con "$1" | sed -n "s/^$2| spinner: progress \([0-9]*\)$/\1/p" | tail -1; }
pa=$(prog $run a) pb=$(prog $run b) pc=$(prog $run c) pd=$(prog $run d)
if within5 "$pa" "$pb" "$pc" "$pd"; then
	tap_ok "shares: the guests' own progress follows 1:1:2:4 within 5% ($pa : $pb : $pc : $pd units)"
else
	tap_not_ok "shares: the guests' own progress follows 1:1:2:4 within 5% (got '$pa' '$pb' '$pc' '$pd')" \
		"$(con $run | grep '| spinner: progress' | tail -8)"
fi

# 5. Three touchers, two alike: the sharing scanner must not starve them
# (it once re-scanned the same few hundred pages many times a second,
# holding the host lock and write-protecting pages as they were filled).
run=guests-share3
"$run_bochs" "${fast[@]}" --workdir "$runs/$run" --kernel "$kernel" \
	--cmdline "vm=a,kernel=0,mem=8M vm=b,kernel=1,mem=8M vm=c,kernel=2,mem=8M runtime=2s" \
	--module "$g/toucher.elf=size=2M seed=7 passes=0" --module "$g/toucher.elf=size=2M seed=7 passes=0" \
	--module "$g/toucher.elf=size=2M seed=9 passes=0" >"$runs/$run.out" 2>&1
tap_check "three touchers: the run ends with status 0" grep -q '^run-bochs: PASS' "$runs/$run.out"
ga=$(field $run a granted) gb=$(field $run b granted) gc=$(field $run c granted)
if con $run | grep -q '^a| toucher: pass 1 ok' && con $run | grep -q '^b| toucher: pass 1 ok' &&
	con $run | grep -q '^c| toucher: pass 1 ok' &&
	[ "${ga:-0}" -ge 512 ] && [ "${gb:-0}" -ge 512 ] && [ "${gc:-0}" -ge 512 ]; then
	tap_ok "three touchers: each completes a pass over its 512 pages within 2 s (granted $ga $gb $gc)"
else
	tap_not_ok "three touchers: each completes a pass over its 512 pages within 2 s (granted '$ga' '$gb' '$gc')" \
		"$(con $run | grep 'toucher:\|^vh: stats' | tail -8)"
fi
