#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every test guest under qemu-system-x86_64 -kernel (TCG): the guests are
# QEMU-compatible by construction, and this is where that is checked,
# independently of any vh backend.  Each run checks the console and the
# exit status (isa-debug-exit value v gives 2v+1; the hostile guest's
# triple fault with -no-reboot gives 0).
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?run through make check}"
. "$top_srcdir/tests/harness/tap.sh"

run_qemu=$top_srcdir/tests/harness/run-qemu
guests=$top_builddir/tests/guests
runs=$top_builddir/tests/guests/runs
mkdir -p "$runs"

tap_plan 16

# run NAME EXIT DESC [run-qemu options...]: one guest run, one TAP line.
run() {
	local name=$1 want=$2 desc=$3 out
	shift 3
	out=$runs/$name.out
	if "$run_qemu" --timeout 30 --megs 64 --workdir "$runs/$name" --guest-exit "$want" "$@" \
		>"$out" 2>&1; then
		tap_ok "$desc"
	else
		tap_not_ok "$desc" "$out"
	fi
}

run spinner 1 "spinner: reports progress and exits after iters from its command line" \
	--kernel "$guests/spinner.elf" --cmdline "iters=20 report=5 work=1000" \
	--expect '^spinner: start: cmdline ".*spinner.elf iters=20 report=5 work=1000"' \
	--expect '^spinner: progress 5$' --expect '^spinner: progress 20$' \
	--expect '^spinner: done 20 units checksum [0-9a-f]+$'
# The string I/O lines vh's Bochs test expects, checked against QEMU.
run spinner-flood 1 "spinner: flood=SIZE writes SIZE bytes of console lines (the UART without vh)" \
	--kernel "$guests/spinner.elf" --cmdline "iters=1 work=10 flood=8K" \
	--expect '^spinner: flood 5678901234' --expect '^spinner: flooded 8 KiB$' \
	--expect '^spinner: done 1 units checksum [0-9a-f]+$'

run spinner-strio 1 "spinner: REP OUTSB/INSB (strio=1) behave on QEMU as bochs_vmx.sh expects of vh" \
	--kernel "$guests/spinner.elf" --cmdline "iters=1 work=10 strio=1" \
	--expect '^spinner: rep outsb forwards$' --expect '^spinner: std rep outsb backwards$' \
	--expect '^spinner: rep insb: fw_cfg signature "QEMU", rcx 0, rdi \+4$' \
	--expect '^spinner: rep insb: 300 bytes from an empty port, 300 read 0xff, rcx 0$'

# A 6 GiB machine: RAM around the 32-bit hole, the local APIC a device
# (what tests/kvm/memory.sh and bochs_vmx.sh expect of vh).
run bigmem 1 "bigmem: 6 GiB: e820 around the hole, the local APIC a device, RAM above 4 GiB" \
	--megs 6144 --kernel "$guests/bigmem.elf" \
	--expect '^bigmem: e820 ram below the hole to 0x[0-9a-f]+ and 0x100000000\.\.0x1c0000000, none in the hole$' \
	--expect '^bigmem: lapic version 0x[0-9a-f]+ keeps no write, tpr 0x20 ppr 0x20: a device$' \
	--expect '^bigmem: done$'

# The same seed gives the same content: two runs print the same checksum;
# another seed a different one.
run toucher-a 1 "toucher: fills and verifies 2 MiB in 2 passes" \
	--kernel "$guests/toucher.elf" --cmdline "size=2M seed=7 passes=2" \
	--expect '^toucher: range 0x[0-9a-f]+\.\.0x[0-9a-f]+ \(512 pages\) seed 7 passes 2' \
	--expect '^toucher: pass 2 ok checksum [0-9a-f]+$' --expect '^toucher: done$'
run toucher-b 1 "toucher: a second VM with another seed" \
	--kernel "$guests/toucher.elf" --cmdline "size=2M seed=8 passes=1" --expect '^toucher: done$'
sum() { tr -d '\r' < "$runs/$1/console.log" | sed -n 's/^toucher: pass 1 ok checksum //p'; }
if [ -n "$(sum toucher-a)" ] && [ -n "$(sum toucher-b)" ] && [ "$(sum toucher-a)" != "$(sum toucher-b)" ]; then
	tap_ok "toucher: content depends on the seed (checksums $(sum toucher-a) and $(sum toucher-b))"
else
	tap_not_ok "toucher: content depends on the seed" "checksums '$(sum toucher-a)' '$(sum toucher-b)'"
fi

run toucher-big 3 "toucher: a range larger than memory fails with a message" \
	--kernel "$guests/toucher.elf" --cmdline "size=512M" --expect 'do not fit below'

run balloon 1 "balloon: under QEMU it finds no vh and passes" \
	--kernel "$guests/balloon.elf" --expect '^balloon: vh absent \(hypervisor ".*"\): nothing to balloon$'

run smp 1 "smp: fw_cfg says 4 cpus, INIT-SIPI-SIPI starts the 3 APs" \
	--smp 4 --kernel "$guests/smp.elf" --expect '^smp: 4 cpus \(fw_cfg\)$' \
	--expect '^smp: acpi: rsdp at 0x[0-9a-f]+ revision [0-9], madt lists 4 local apics$' \
	--expect '^smp: cpu [123] apic id [123] up$' --expect '^smp: 4 of 4 cpus up$'

# Without vh there is no VMCALL and the ticks are QEMU's: only that the
# loops run (vh's figures: tests/boot/bochs_exits.sh).
run exitbench 1 "exitbench: times its CPUID and OUT loops against the same loops without them" \
	--kernel "$guests/exitbench.elf" --cmdline "iters=50 rounds=5" \
	--expect '^exitbench: result cpuid [0-9]+$' --expect '^exitbench: result io80 [0-9]+$'
# QEMU's timer is the host's: how late it fires is not checked here; its
# CPU models stop at leaf 0xd, so the guest says its crystal check is not run there.
run irq 1 "irq: APIC timer (one-shot, periodic, HLT), self-IPI after STI and behind the TPR" \
	--kernel "$guests/irq.elf" --cmdline "slack_us=0" --expect '^irq: done, 0 failed$' \
	--expect "^irq: no cpuid leaf 0x15 crystal \\(max leaf 0x[0-9a-f]+\\): the APIC timer taken at QEMU's 1 GHz, its rate not checked\$"

# QEMU's default CPU gives no TSC rate: the PM timer's rate is vh's tests'.
run power 1 "power: reads the CMOS clock, finds the PM timer, passes (no reboot: -no-reboot)" \
	--kernel "$guests/power.elf" --expect '^power: boot 1$' \
	--expect '^power: rtc 20[0-9][0-9]-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]$' \
	--expect '^power: done$'

# What a real CPU does with what this host's KVM hands back to vh-hosted
# (tests/kvm/unemulated.sh): the same checks pass on QEMU's CPU model.
run unemulated 1 "unemulated: INT3/INT n/INTO, CMPXCHG8B/16B (#GP, #PF), SMAP, XGETBV, #UD as CPUID says" \
	--kernel "$guests/unemulated.elf" --expect '^unemulated: cmpxchg16b on a read-only page: #PF present\+write ok$' \
	--expect '^unemulated: done, 0 failed$'

run hostile 0 "hostile: announces every step, survives wild I/O, MSRs and stray writes, ends in a triple fault" \
	--kernel "$guests/hostile.elf" \
	--expect '^hostile: step 2: port 0xbeef reads 0x[0-9a-f]+$' \
	--expect '^hostile: step 2: rep insb into a read-only page: #PF error 0x3 cr2 right, page intact$' \
	--expect '^hostile: step 3: rdmsr 0x480(: #GP| = 0x[0-9a-f]+)$' \
	--expect '^hostile: step 3: wrmsr 0xc0000080: (#GP|accepted)$' \
	--expect '^hostile: step 3: msr checks: [0-9]+ as hardware, [0-9]+ not$' \
	--expect '^hostile: step 4: 0xf8000000 reads' \
	--expect '^hostile: step 5: triple fault$'
if tr -d '\r' < "$runs/hostile/console.log" | grep -q 'still running after the triple fault'; then
	tap_not_ok "hostile: nothing runs after the triple fault" "$runs/hostile/console.log"
else
	tap_ok "hostile: nothing runs after the triple fault"
fi
[ "$tap_failed" = 0 ]
