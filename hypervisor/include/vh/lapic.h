/* SPDX-License-Identifier: Apache-2.0 */
/* The local APIC model (hypervisor/devices/lapic.c): one xAPIC per vCPU,
 * at guest-physical 0xfee00000 (VH_LAPIC_BASE), reached through
 * vh_devices_mmio() with the accessing vCPU.  Enough for a guest kernel to
 * start its APs (INIT-SIPI-SIPI), send IPIs and run the APIC timer.
 *
 * Registers: ID, version, TPR, APR, PPR, EOI, LDR, DFR, SVR, ISR/TMR/IRR,
 * ESR, ICR (fixed, INIT, SIPI, NMI-less; physical, flat and cluster
 * logical destinations, shorthands), LVT timer/thermal/perf/LINT0/LINT1/
 * error, timer initial and current count, divide configuration.  Messages
 * from the IOAPIC and MSIs (fixed, lowest priority to the APIC of lowest
 * priority, INIT) set TMR for a level-triggered vector; its EOI goes on to
 * the IOAPIC (vh_bus_finish), which clears the pin's remote IRR.
 *
 * Locking: a VM's APICs are one device on its bus (vh/bus.h) with one
 * lock.  Every function here takes that lock itself and is called with
 * the host lock held (the interrupt-injection path: host lock, then the
 * APIC lock; never the other way).  The guest's MMIO accesses reach the
 * APIC without the host lock, under the APIC lock only; the wakes an IPI
 * causes are done after it is dropped, under the host lock.
 *
 * The vCPU layer's side (hypervisor/vcpu/, vh/vcpu_events.h and
 * vh/vcpu_boot.h, for every backend), per vCPU (host lock held):
 *   - before entering the guest: vh_lapic_tick(), then if
 *     vh_lapic_pending() >= 0 and the guest can take an interrupt
 *     (RFLAGS.IF, no blocking), inject that vector and vh_lapic_ack() it;
 *   - when the vCPU halts: wake it at vh_lapic_timer_deadline();
 *   - start-up: a vCPU whose vh_lapic_run_state() is not
 *     VH_LAPIC_RUNNING must not run.  APs start in VH_LAPIC_WAIT_SIPI; on
 *     VH_LAPIC_SIPI the backend puts the vCPU in real mode at
 *     CS.selector = vector << 8, CS.base = vector << 12, IP = 0, then
 *     calls vh_lapic_started().  INIT puts a vCPU back in WAIT_SIPI (the
 *     backend resets its registers).
 *   - IPIs, SIPIs and timer expiries wake the target vCPU through
 *     vh_sched_wake(); a vCPU that is running is asked to leave its
 *     quantum early through the platform's kick only if it is halted.
 * The IA32_APIC_BASE MSR is the core's MSR table's (core/msr.c): it reads
 * VH_LAPIC_BASE | 0x800 (enabled) | 0x100 on the boot vCPU (BSP), and a
 * write of anything but that value raises #GP. */
#ifndef VH_LAPIC_H
#define VH_LAPIC_H

#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_vcpu;

/* The APIC timer counts at this rate before the divider, the crystal
 * CPUID leaf 0x15 advertises (vh/cpuid.h).  25 MHz, a server part's
 * crystal: 40 ns a count, whole nanoseconds of the platform clock; and
 * small enough that Linux's 32-bit crystal_khz * EBX (leaf 0x15) can
 * carry any TSC rate to the kHz (with QEMU's 1 GHz bus, EBX must stay
 * under 4295 and a TSC's kHz is often out of reach). */
#define VH_LAPIC_BUS_HZ       25000000ull
#define VH_LAPIC_NS_PER_COUNT (1000000000ull / VH_LAPIC_BUS_HZ) /* at divide by 1 */
#define VH_LAPIC_VERSION      0x00050014u                       /* version 0x14, 6 LVT entries */
#define VH_MSR_APIC_BASE      0x1bu
#define VH_APIC_BASE_BSP      0x100ull
#define VH_APIC_BASE_ENABLE   0x800ull

enum vh_lapic_run_state {
	VH_LAPIC_RUNNING = 0,   /* runs normally */
	VH_LAPIC_WAIT_SIPI = 1, /* after INIT (or at power-on for an AP) */
	VH_LAPIC_SIPI = 2,      /* a SIPI arrived: start at its vector */
};

enum vh_lapic_run_state vh_lapic_run_state(struct vh_host *h, struct vh_vm *vm,
					   struct vh_vcpu *vcpu, uint8_t *sipi_vector);
/* The backend set up the vCPU for its SIPI vector: it runs from now on. */
void vh_lapic_started(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu);

/* Moves expired timer counts into IRR (one interrupt per expiry, as the
 * hardware latches one). */
void vh_lapic_tick(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint64_t now);
/* The highest vector the vCPU should take now (IRR above the processor
 * priority, APIC software-enabled), or -1. */
int vh_lapic_pending(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu);
/* The backend injected vector: it moves from IRR to ISR until EOI. */
void vh_lapic_ack(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint8_t vector);
/* Absolute time of the next timer expiry, or UINT64_MAX when none. */
uint64_t vh_lapic_timer_deadline(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu);
/* Raises a fixed interrupt on vCPU `index` (an external source, or an IPI
 * from the model itself) and wakes it.  False for a bad index or vector. */
bool vh_lapic_raise(struct vh_host *h, struct vh_vm *vm, uint32_t index, uint8_t vector);

#endif
