#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# VT-x in Bochs: guests run in VMX non-root under the core's scheduler.
#  - a Multiboot guest (spinner) is loaded from a module, detects vh by
#    CPUID, prints through the UART model (also by REP OUTSB), reads
#    fw_cfg by REP INSB and stops through debug-exit;
#  - beside it a synthetic Linux bzImage (tests/guests/bzimage.S) with an
#    initrd module (initrd=MOD) enters at its 64-bit entry and checks its
#    zero page, e820 map, command line and initrd;
#  - CPUs without what vh needs stop cleanly (status 5) naming it;
#  - two spinners with CPU shares 1:2 on one CPU get CPU time 1:2;
#  - a hostile guest (bad hypercalls, wild ports, forbidden MSRs, the MSR
#    model of tests/guests/msr_model.expect, accesses outside its memory,
#    a triple fault) crashes alone while a spinner on the other CPU keeps
#    running;
#  - a bad vm= definition, and a truncated bzImage module, are refused
#    with the reason before the VM starts;
#  - a 6 GiB VM on a 128 MiB machine (it touches a few pages) sees RAM
#    below the 32-bit hole and above 4 GiB, its local APIC as a device and
#    reads back RAM above 4 GiB through 4-level paging (tests/guests/bigmem.c);
#  - beside it, the platform guest (tests/guests/platform.c): COM1's IRQ 4
#    through the IOAPIC to its vector, a masked pin silent, PCI bus 0 by
#    mechanism #1 and by ECAM with the host bridge at 00:00.0.
# Runs use --ips 50000000: a 50 MHz emulated clock, so a 10 ms quantum
# holds real guest work (at the default 1 MHz it is 10k instructions).
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

run_bochs=$top_srcdir/tests/harness/run-bochs
kernel=$top_builddir/hypervisor/arch/x86/vh.elf
spinner=$top_builddir/tests/guests/spinner.elf
hostile=$top_builddir/tests/guests/hostile.elf
bigmem=$top_builddir/tests/guests/bigmem.elf
power=$top_builddir/tests/guests/power.elf
platform=$top_builddir/tests/guests/platform.elf
bzimage=$top_builddir/tests/guests/bzimage.img
runs=$top_builddir/tests/boot/runs
mkdir -p "$runs"
fast=(--ips 50000000 --timeout 60)

tap_plan 37

con() { tr -d '\r' < "$1/console.log" 2>/dev/null; }

# 1. One guest, start to finish; a Linux bzImage beside it.
dir=$runs/vmx-first
printf 'BAREMETL initrd bytes: Q' >"$runs/vmx-first.initrd"
"$run_bochs" "${fast[@]}" --kernel "$kernel" \
	--cmdline "vm=spin,kernel=0,mem=8M vm=bz,kernel=1,initrd=2,mem=16M,cmdline=console=ttyS0+vh=bare until=done" \
	--module "$spinner=iters=5 work=1000 strio=1" --module "$bzimage" \
	--module "$runs/vmx-first.initrd" --workdir "$dir" >"$runs/vmx-first.out" 2>&1
tap_check "a spinner VM runs to its end and the hypervisor stops with status 0" \
	grep -q '^run-bochs: PASS' "$runs/vmx-first.out"
tap_grep "the guest ran in VMX non-root and found vh by CPUID" \
	'^spin\| spinner: start: .* hypervisor "vhvhvhvhvhvh" \(vh\)$' "$dir/console.log"
tap_grep "CPUID hides what vh does not virtualise (Bochs's CPU has VMX) and sets the hypervisor bit" \
	'^spin\| spinner: cpuid leaf 1 ecx 0x[0-9a-f]{8}: vmx smx x2apic tsc-deadline hidden, hypervisor bit set$' "$dir/console.log"
tap_expect_file "the guest sees vh's CPU model, as under vh-hosted (tests/guests/cpu_model.expect)" \
	"$top_srcdir/tests/guests/cpu_model.expect" "$dir/console.log" 'spin\| '
tap_grep "CPUID leaf 1 EDX hides MCE, MTRR, MCA, ... and HTT with one vCPU" \
	'^spin\| spinner: cpuid leaf 1 edx hidden bits shown: 0x0, htt 0$' "$dir/console.log"
tap_grep "its UART output reaches the console, prefixed with the VM name" \
	'^spin\| spinner: done 5 units checksum [0-9a-f]+$' "$dir/console.log"
if con "$dir" | grep -q '^spin| spinner: rep outsb forwards$' &&
	con "$dir" | grep -q '^spin| spinner: std rep outsb backwards$'; then
	tap_ok "string I/O: REP OUTSB to the UART is emulated, forwards and with DF set"
else
	tap_not_ok "string I/O: REP OUTSB to the UART is emulated, forwards and with DF set" "$(con "$dir" | grep 'spin|\|vh: VM')"
fi
if con "$dir" | grep -q '^spin| spinner: rep insb: fw_cfg signature "QEMU", rcx 0, rdi +4$' &&
	con "$dir" | grep -q '^spin| spinner: rep insb: 300 bytes from an empty port, 300 read 0xff, rcx 0$'; then
	tap_ok "string I/O: REP INSB fills guest memory from fw_cfg and, past one batch, from an empty port"
else
	tap_not_ok "string I/O: REP INSB fills guest memory from fw_cfg and, past one batch, from an empty port" "$(con "$dir" | grep 'spin|\|vh: VM')"
fi
tap_grep "isa-debug-exit stops the VM and its exit code is reported" '^vh: vm spin exit code 1$' "$dir/console.log"
# CPUID: the runtime's two looks at vh's leaves and the spinner's ten
# (cpu_model: 0x40000001, 1, 7, 0xb twice, 6, 0, 0x15, 0x16, 0x80000008).
tap_grep "exits are counted per kind" '^vh: exits vm=spin .*io=[0-9]+.*cpuid=12$' "$dir/console.log"

tap_grep "bzImage: 64-bit entry, the header in the zero page, type_of_loader 0xff" \
	'^bz\| bz: long mode, zero page HdrS, loader ff$' "$dir/console.log"
tap_grep "bzImage: the e820 map from the layout, RAM from 1 MiB" \
	'^bz\| bz: e820 0[3-9a-f] entries, RAM from 1 MiB 0000000000[0-9a-f]{6}$' "$dir/console.log"
tap_grep "bzImage: the initrd module's bytes (24 of them) at ramdisk_image" \
	'^bz\| bz: initrd 0000000000000018 bytes \[BAREMETL\] last 51$' "$dir/console.log"
tap_grep "bzImage: the command line from cmdline= reached the zero page" \
	'^bz\| bz: cmdline \[console=ttyS0 vh=bare\]$' "$dir/console.log"
tap_grep "bzImage: what SWAPGS put in KERNEL_GS_BASE survives the vCPU leaving the CPU (RDMSR, SWAPGS)" \
	'^bz\| bz: swapgs kernel_gs_base 0000000002222000 gs_base 0000000002222000$' "$dir/console.log"
tap_grep "bzImage: every check held (debug-exit value 0)" \
	'^vh: vm bz exit code 1$' "$dir/console.log"

# 2. CPUs that lack what vh needs.
for m in corei5_lynnfield_750:'unrestricted guest' core2_penryn_t9600:'EPT'; do
	model=${m%%:*} what=${m#*:}
	dir=$runs/vmx-$model
	"$run_bochs" --timeout 60 --cpu-model "$model" --kernel "$kernel" --expect-status 5 \
		--workdir "$dir" >"$runs/vmx-$model.out" 2>&1
	if grep -q '^run-bochs: PASS' "$runs/vmx-$model.out" &&
		con "$dir" | grep -q "^vh: vmx: this CPU's VT-x lacks what vh needs: .*$what.*; vh cannot run guests here$" &&
		! con "$dir" | grep -q 'panic'; then
		tap_ok "$model: the missing feature ($what) is named and vh stops cleanly"
	else
		tap_not_ok "$model: the missing feature ($what) is named and vh stops cleanly" "$runs/vmx-$model.out"
	fi
done

# 3. Shares 1:2 under contention on one CPU.
dir=$runs/vmx-shares
"$run_bochs" "${fast[@]}" --kernel "$kernel" --cpus 1 \
	--cmdline "vm=a,kernel=0,mem=4M,cpu.shares=1000 vm=b,kernel=1,mem=4M,cpu.shares=2000 runtime=3s" \
	--module "$spinner=iters=0 report=20 work=20000" --module "$spinner=iters=0 report=20 work=20000" \
	--workdir "$dir" >"$runs/vmx-shares.out" 2>&1
tap_check "two spinner VMs run for 3 s and the run ends with status 0" grep -q '^run-bochs: PASS' "$runs/vmx-shares.out"
used() { con "$dir" | sed -n "s/^vh: stats .* vm=$1 state=running used=\([0-9]*\)ms .*/\1/p" | tail -1; }
ua=$(used a) ub=$(used b)
if [ -n "$ua" ] && [ -n "$ub" ] && [ "$ua" -gt 0 ] &&
	awk -v a="$ua" -v b="$ub" 'BEGIN { r = b / a; exit !(r > 1.8 && r < 2.2) }'; then
	tap_ok "cpu.shares 1000:2000 give used CPU time 1:2 ($ua ms : $ub ms)"
else
	tap_not_ok "cpu.shares 1000:2000 give used CPU time 1:2 (got '$ua' : '$ub' ms)" "$(con "$dir" | grep '^vh: stats' | tail -4)"
fi
prog() { con "$dir" | sed -n "s/^$1| spinner: progress \([0-9]*\)$/\1/p" | tail -1; }
pa=$(prog a) pb=$(prog b)
if [ -n "$pa" ] && [ -n "$pb" ] && [ "$pa" -gt 0 ] &&
	awk -v a="$pa" -v b="$pb" 'BEGIN { r = b / a; exit !(r > 1.7 && r < 2.3) }'; then
	tap_ok "the guests' own progress follows the shares ($pa : $pb units)"
else
	tap_not_ok "the guests' own progress follows the shares (got '$pa' : '$pb')"
fi

# 4. A hostile guest beside a spinner, two CPUs; and the power guest,
# which reboots twice through the i8042 and powers off through ACPI S5.
dir=$runs/vmx-hostile
"$run_bochs" "${fast[@]}" --kernel "$kernel" --cpus 2 \
	--cmdline "vm=good,kernel=0,mem=4M vm=evil,kernel=1,mem=4M vm=pwr,kernel=2,mem=4M runtime=2s" \
	--module "$spinner=iters=0 report=50 work=20000" --module "$hostile" \
	--module "$power=reboots=2 via=kbd end=s5" \
	--workdir "$dir" >"$runs/vmx-hostile.out" 2>&1
tap_check "the run with a hostile guest ends normally (no hypervisor panic)" grep -q '^run-bochs: PASS' "$runs/vmx-hostile.out"
if con "$dir" | grep -q '^evil| hostile: step 3: wrmsr 0xc0000080: #GP$' &&
	con "$dir" | grep -q '^evil| hostile: step 4: 0xf8000000 reads 0xffffffff$' &&
	con "$dir" | grep -q '^evil| hostile: step 2: port 0xfff0 reads 0xff$'; then
	tap_ok "forbidden MSRs raise #GP, unclaimed ports and addresses read all ones"
else
	tap_not_ok "forbidden MSRs raise #GP, unclaimed ports and addresses read all ones" "$(con "$dir" | grep '^evil|' | tail -12)"
fi
if con "$dir" | grep -q '^evil| hostile: step 3: cr4.vmxe: #GP$' &&
	con "$dir" | grep -q '^evil| hostile: step 3: xsetbv 0x3: accepted, xcr0 reads 0x3$' &&
	con "$dir" | grep -q '^evil| hostile: step 3: xsetbv 0x2: #GP, xcr0 reads 0x3$' &&
	con "$dir" | grep -q '^vh: exits vm=evil .*cr_access=[1-9][0-9]* xsetbv=2 '; then
	tap_ok "CR4.VMXE and an invalid XCR0 raise #GP, a valid XCR0 is taken (CR and XSETBV exits counted)"
else
	tap_not_ok "CR4.VMXE and an invalid XCR0 raise #GP, a valid XCR0 is taken" \
		"$(con "$dir" | grep '^evil| hostile: step 3\|^vh: exits vm=evil')"
fi
# Reserved MSR bits (TSC_AUX's upper half among them: a hardware WRMSR of
# it would fault in VMX root mode) raise #GP; valid values read back.
if con "$dir" | grep -q '^evil| hostile: step 3: msr checks: 18 as hardware, 0 not$'; then
	tap_ok "every MSR a guest may write refuses reserved bits with #GP and takes valid values"
else
	tap_not_ok "every MSR a guest may write refuses reserved bits with #GP and takes valid values" \
		"$(con "$dir" | grep '^evil| hostile: step 3: msr')"
fi
tap_expect_file "the guest sees vh's MSR model, as under vh-hosted (tests/guests/msr_model.expect)" \
	"$top_srcdir/tests/guests/msr_model.expect" "$dir/console.log" 'evil\| '
# INS is emulated by vh: its walk of the guest's page tables honours
# R/W with CR0.WP as the CPU would.
tap_grep "REP INSB into a read-only guest page raises #PF (error 3, CR2) and writes nothing" \
	'^evil\| hostile: step 2: rep insb into a read-only page: #PF error 0x3 cr2 right, page intact$' "$dir/console.log"
# String I/O at guest-physical addresses that are not RAM is unclaimed
# MMIO (vh once stopped the VM: "ins ... outside its memory"); INS past
# ES's limit is the guest's #GP(0) at the first element outside it.
if con "$dir" | grep -q '^evil| hostile: step 4: rep insb outside memory: edi +16 ecx 0$' &&
	con "$dir" | grep -q '^evil| hostile: step 4: rep outsb outside memory: esi +16 ecx 0$'; then
	tap_ok "REP INSB and REP OUTSB with the buffer outside guest memory complete as MMIO to nothing"
else
	tap_not_ok "REP INSB and REP OUTSB with the buffer outside guest memory complete as MMIO to nothing" \
		"$(con "$dir" | grep '^evil| hostile: step 4\|crashed')"
fi
tap_grep "REP INSB past ES's limit raises #GP(0) at the first element outside (EDI, ECX as the CPU leaves them)" \
	"^evil\| hostile: step 4: rep insb past ES's limit: #GP error 0x0 edi 0x1000 ecx 8, below the limit written, above it intact$" "$dir/console.log"
tap_grep "the triple fault crashes that VM only" '^vh: VM "evil" crashed: triple fault' "$dir/console.log"
if con "$dir" | grep -q '^vh: power vm=pwr boot_generation=3 state_changes=4 guest_resets=2 guest_poweroffs=1$' &&
	con "$dir" | grep -q '^vh: stats .* vm=pwr state=stopped ' &&
	[ "$(con "$dir" | grep -c '^pwr| power: reboot through the i8042$')" = 2 ] &&
	con "$dir" | grep -q '^pwr| power: S5$' && ! con "$dir" | grep -q '^pwr| power: still running'; then
	tap_ok "two reboots through the i8042 reset the VM (boot generation 3), ACPI S5 leaves it stopped"
else
	tap_not_ok "two reboots through the i8042 reset the VM, ACPI S5 leaves it stopped" \
		"$(con "$dir" | grep '^pwr|\|vm=pwr\|"pwr"')"
fi
rtc=$(con "$dir" | sed -n 's/^pwr| power: rtc \([0-9-]*\) .*/\1/p' | head -1)
now=$(date -u +%s)
if [ -n "$rtc" ] && then=$(date -u -d "$rtc" +%s 2>/dev/null) &&
	[ $((now - then)) -lt 172800 ] && [ $((then - now)) -lt 86400 ] &&
	con "$dir" | grep -q '^pwr| power: pm timer [0-9]* Hz against a [0-9]* kHz TSC$'; then
	tap_ok "the guest's CMOS clock says $rtc (the host $(date -u +%F)); the PM timer keeps the TSC's pace"
else
	tap_not_ok "the guest's CMOS clock gives the host's date; the PM timer keeps the TSC's pace" \
		"$(con "$dir" | grep '^pwr| power:')"
fi
gu=$(con "$dir" | sed -n 's/^vh: stats t=2\.[0-9]*s vm=good state=running used=\([0-9]*\)ms.*/\1/p' | tail -1)
if [ -n "$gu" ] && [ "$gu" -gt 1800 ]; then
	tap_ok "the other VM kept running to the end ($gu ms of CPU in 2 s)"
else
	tap_not_ok "the other VM kept running to the end (used '$gu' ms)" "$(con "$dir" | grep '^vh: stats' | tail -4)"
fi

# 5. A bad definition is refused before anything runs.
dir=$runs/vmx-badspec
"$run_bochs" --timeout 60 --kernel "$kernel" --cmdline "vm=x,kernel=3,mem=4M" --module "$spinner" \
	--expect-status 1 --workdir "$dir" >"$runs/vmx-badspec.out" 2>&1
if grep -q '^run-bochs: PASS' "$runs/vmx-badspec.out" &&
	con "$dir" | grep -q '^vh: cmdline: vm x: bad value for kernel: "3" (no such module)$'; then
	tap_ok "a vm= naming a module that is not there is refused with the reason"
else
	tap_not_ok "a vm= naming a module that is not there is refused with the reason" "$runs/vmx-badspec.out"
fi
# A truncated bzImage: the load is planned before the VM starts and refused.
dir=$runs/vmx-badimage
head -c 1500 "$bzimage" >"$runs/vmx-badimage.img"
"$run_bochs" --timeout 60 --kernel "$kernel" --cmdline "vm=x,kernel=0,mem=8M" \
	--module "$runs/vmx-badimage.img" --expect-status 1 --workdir "$dir" >"$runs/vmx-badimage.out" 2>&1
if grep -q '^run-bochs: PASS' "$runs/vmx-badimage.out" &&
	con "$dir" | grep -Eq '^vh: cmdline: vm x: bzImage truncated: syssize says [0-9]+ bytes of kernel, the file has 476 after its setup code$' &&
	! con "$dir" | grep -q 'crashed'; then
	tap_ok "a truncated bzImage module is refused with the reason before the VM starts"
else
	tap_not_ok "a truncated bzImage module is refused with the reason before the VM starts" "$(con "$dir" | tail -5)"
fi

# 6. A VM larger than the hole's start: the guest-physical layout; the
# platform's IOAPIC and PCI host in a second VM of the same boot.
dir=$runs/vmx-bigmem
"$run_bochs" "${fast[@]}" --kernel "$kernel" \
	--cmdline "vm=big,kernel=0,mem=6G vm=plat,kernel=1,mem=8M until=done" \
	--module "$bigmem" --module "$platform" --workdir "$dir" >"$runs/vmx-bigmem.out" 2>&1
if grep -q '^run-bochs: PASS' "$runs/vmx-bigmem.out" &&
	con "$dir" | grep -q '^big| bigmem: e820 ram below the hole to 0xc0000000 and 0x100000000\.\.0x1c0000000, none in the hole$' &&
	con "$dir" | grep -q '^big| bigmem: lapic version 0x[0-9a-f]* keeps no write, tpr 0x20 ppr 0x20: a device$' &&
	con "$dir" | grep -q '^big| bigmem: hole 0xf8000000 keeps no write (reads 0xffffffff)$' &&
	con "$dir" | grep -q '^big| bigmem: high 0x100000000 and 0x1bfe00000 written and read back, low 0x80000 untouched$' &&
	con "$dir" | grep -q '^big| bigmem: done$'; then
	tap_ok "6 GiB VM: e820 around the hole, the local APIC a device, RAM above 4 GiB read back"
else
	tap_not_ok "6 GiB VM: e820 around the hole, the local APIC a device, RAM above 4 GiB read back" "$(con "$dir" | grep 'big|\|vh: VM' | tail -12)"
fi
pcon=$(con "$dir" | grep '^plat|')
if grep -q '^plat| platform: ioapic version 0x11, 24 pins$' <<<"$pcon" &&
	grep -q '^plat| platform: com1 irq 4 -> ioapic pin 4 -> apic 0 vector 0x50: [1-9][0-9]* arrived$' <<<"$pcon" &&
	grep -q '^plat| platform: with pin 4 masked: 0 arrived$' <<<"$pcon" &&
	grep -q '^plat| platform: pci 00:00.0 8086:0d57 class 060000 (mechanism #1)$' <<<"$pcon" &&
	grep -q '^plat| platform: pci 00:00.0 8086:0d57 class 060000 (ecam)$' <<<"$pcon" &&
	grep -q '^plat| platform: done, 0 failed$' <<<"$pcon"; then
	tap_ok "platform: COM1's IRQ 4 through the IOAPIC (masked: none), PCI host bridge by mechanism #1 and ECAM"
else
	tap_not_ok "platform: COM1's IRQ 4 through the IOAPIC (masked: none), PCI host bridge by mechanism #1 and ECAM" "$pcon"
fi
