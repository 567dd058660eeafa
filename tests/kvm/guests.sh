#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The shared test guests (tests/guests) under vh-hosted: the same images
# the bare-metal kernel runs and QEMU checks.  Each guest reports on its
# UART (the VM's log file) and stops itself through isa-debug-exit; the
# hostile guest must crash alone while the others keep running.
. "$top_srcdir/tests/harness/tap.sh"
. "$top_srcdir/tests/kvm/lib.sh"

kvm_require
kvm_setup guests
tap_plan 20
kvm_start

# boot NAME WANT-STATE SECONDS define-args...: define, start, wait.
boot() {
	local name=$1 want=$2 secs=$3
	shift 3
	"$VH_MSG" define "$name" "$@" >/dev/null 2>&1 && "$VH_MSG" start "$name" >/dev/null 2>&1 &&
		"$VH_MSG" wait "$name" "$want" "$secs" >/dev/null 2>&1
}
check() {
	if boot "$@"; then tap_ok "$name_desc"; else tap_not_ok "$name_desc" "$(console "$1")" "$(tail -5 "$RUN/daemon.log")"; fi
}

name_desc="spinner runs 20 units and stops itself through isa-debug-exit"
check spin stopped 30 kernel=spinner.elf memory=8 "cmdline=iters=20 report=5 work=1000"
tap_grep "spinner: its progress and the debug-exit code 1 on its console" \
	'^vh: debug-exit code 1' "$RUN/logs/spin.log"
tap_grep "spinner: CPUID hides what vh does not virtualise and sets the hypervisor bit" \
	'^spinner: cpuid leaf 1 ecx 0x[0-9a-f]{8}: vmx smx x2apic tsc-deadline hidden, hypervisor bit set$' "$RUN/logs/spin.log"
tap_expect_file "spinner: the guest sees vh's CPU model, as on bare metal (tests/guests/cpu_model.expect)" \
	"$top_srcdir/tests/guests/cpu_model.expect" "$RUN/logs/spin.log"

# The crystal and TSC rates CPUID gives, against each other (the guest's
# latency checks are bare metal's: slack_us=0 here on a shared host).
desc="irq: the APIC timer ticks at CPUID 0x15's crystal, timed at its TSC rate (KVM_GET_TSC_KHZ)"
if boot irq stopped 60 kernel=irq.elf memory=8 "cmdline=slack_us=0" && icon=$(console irq) &&
	grep -q "^irq: the APIC timer ticks at leaf 0x15's crystal, timed at its TSC rate: ok\$" <<<"$icon" &&
	grep -q '^irq: done, 0 failed$' <<<"$icon"; then
	tap_ok "$desc ($(sed -n 's/^irq: apic timer: .*(\(.*\))$/\1/p' <<<"$icon"))"
else
	tap_not_ok "$desc" "$(console irq)"
fi

name_desc="toucher fills and verifies 256 KiB twice (first-touch faults through the core)"
check touch stopped 60 kernel=toucher.elf memory=8 "cmdline=size=256K seed=7 passes=2"
tap_grep "toucher: pass 2 verified" '^toucher: pass 2 ok checksum' "$RUN/logs/touch.log"

name_desc="smp: 4 vCPUs on 2 workers, INIT-SIPI-SIPI through vh's local APIC, fw_cfg says 4"
check smp stopped 60 kernel=smp.elf memory=8 vcpus=4 devices=uart,debug-exit,fw-cfg
tap_grep "smp: every AP reported" '^smp: 4 of 4 cpus up$' "$RUN/logs/smp.log"
tap_grep "smp: vh's ACPI tables in the BIOS area check out; the MADT lists the 4 vCPUs" \
	'^smp: acpi: rsdp at 0xf0000 revision 2, madt lists 4 local apics$' "$RUN/logs/smp.log"

name_desc="platform: COM1's IRQ 4 through the IOAPIC, PCI bus 0 by mechanism #1 and ECAM"
check plat stopped 60 kernel=platform.elf memory=8
pcon=$(console plat)
if grep -q '^platform: com1 irq 4 -> ioapic pin 4 -> apic 0 vector 0x50: [1-9][0-9]* arrived$' <<<"$pcon" &&
	grep -q '^platform: with pin 4 masked: 0 arrived$' <<<"$pcon" &&
	grep -q '^platform: pci 00:00.0 8086:0d57 class 060000 (ecam)$' <<<"$pcon" &&
	grep -q '^platform: done, 0 failed$' <<<"$pcon"; then
	tap_ok "platform: the interrupt arrived, the masked pin stayed silent, the host bridge found both ways"
else
	tap_not_ok "platform: the interrupt arrived, the masked pin stayed silent, the host bridge found both ways" "$pcon"
fi

# Restart a stopped VM: a new boot generation loads the image again.
if "$VH_MSG" start spin >/dev/null 2>&1 && "$VH_MSG" wait spin stopped 30 >/dev/null 2>&1 &&
	[ "$(console spin | grep -c '^spinner: done 20 units')" = 2 ]; then
	tap_ok "a stopped VM starts again from its image"
else
	tap_not_ok "a stopped VM starts again from its image" "$(console spin)"
fi

# Isolation: two spinners forever, then the hostile guest.
"$VH_MSG" define s1 kernel=spinner.elf memory=8 "cmdline=iters=0 report=100 work=1000" >/dev/null
"$VH_MSG" define s2 kernel=spinner.elf memory=8 "cmdline=iters=0 report=100 work=1000" >/dev/null
"$VH_MSG" start s1 >/dev/null; "$VH_MSG" start s2 >/dev/null
name_desc="hostile guest: wild hypercalls, ports, MSRs, stray writes, then it is crashed"
check hostile crashed 60 kernel=hostile.elf memory=8
tap_grep "hostile: it got as far as its last step" '^hostile: step 5: triple fault$' "$RUN/logs/hostile.log"
hcon=$(console hostile)
if grep -q '^hostile: step 3: cr4.vmxe: #GP$' <<<"$hcon" &&
	grep -q '^hostile: step 3: xsetbv 0x3: accepted, xcr0 reads 0x3$' <<<"$hcon" &&
	grep -q '^hostile: step 3: xsetbv 0x2: #GP, xcr0 reads 0x3$' <<<"$hcon"; then
	tap_ok "hostile: CR4.VMXE and an invalid XCR0 raise #GP; XGETBV reads the XCR0 it set (vh-hosted completes XGETBV)"
else
	tap_not_ok "hostile: CR4.VMXE and an invalid XCR0 raise #GP; XGETBV reads the XCR0 it set" \
		"$(grep 'step 3' <<<"$hcon")"
fi
if grep -q '^hostile: step 3: msr checks: 18 as hardware, 0 not$' <<<"$hcon"; then
	tap_ok "hostile: every MSR a guest may write refuses reserved bits with #GP, as on bare metal"
else
	tap_not_ok "hostile: every MSR a guest may write refuses reserved bits with #GP, as on bare metal" \
		"$(grep 'step 3: msr' <<<"$hcon")"
fi
tap_expect_file "hostile: the guest sees vh's MSR model, as on bare metal (tests/guests/msr_model.expect)" \
	"$top_srcdir/tests/guests/msr_model.expect" "$RUN/logs/hostile.log"
# Each spinner runs, or waits to run, all the time (used + ready: what
# Linux takes from a worker is ready time, so how much each one runs
# depends on the host's other load), and it does run.
busy() { echo $(($(stat_of "$1" cpu.used_ns) + $(stat_of "$1" cpu.ready_ns))); }
u1=$(stat_of s1 cpu.used_ns); u2=$(stat_of s2 cpu.used_ns)
b1=$(busy s1); b2=$(busy s2)
sleep 1
v1=$(stat_of s1 cpu.used_ns); v2=$(stat_of s2 cpu.used_ns)
c1=$(busy s1); c2=$(busy s2)
if [ "$(stat_of s1 state)" = running ] && [ "$(stat_of s2 state)" = running ] &&
	[ "$v1" -gt $((u1 + 20000000)) ] && [ "$v2" -gt $((u2 + 20000000)) ] &&
	[ "$c1" -gt $((b1 + 900000000)) ] && [ "$c2" -gt $((b2 + 900000000)) ]; then
	tap_ok "the other VMs keep running after the hostile one crashed"
else
	tap_not_ok "the other VMs keep running after the hostile one crashed" \
		"used: s1 $u1 -> $v1, s2 $u2 -> $v2; used + ready: s1 $b1 -> $c1, s2 $b2 -> $c2"
fi
kvm_stop
rc=$?
if [ $rc = 0 ]; then tap_ok "the daemon stops cleanly"; else tap_not_ok "the daemon stops cleanly (exit $rc)" "$RUN/daemon.log"; fi
[ "$tap_failed" = 0 ]
