/* SPDX-License-Identifier: Apache-2.0 */
/* The local APIC in xAPIC mode (MMIO): identity, EOI, IPIs (fixed, INIT,
 * SIPI, NMI) and the one-shot timer. */
#ifndef VH_X86_APIC_H
#define VH_X86_APIC_H

#include <stdbool.h>
#include <stdint.h>

/* The boot CPU: maps the registers uncached at `phys` (from the MADT;
 * 0: the APIC base MSR), enables the APIC and masks the 8259 PICs.
 * False (with a message) when the CPU has no local APIC. */
bool vh_apic_init_bsp(uint64_t phys);
/* Every other CPU, once it runs in long mode. */
void vh_apic_init_ap(void);
bool vh_apic_ready(void);

uint32_t vh_apic_id(void);
void vh_apic_eoi(void);
void vh_apic_send_ipi(uint32_t apic_id, uint8_t vector);
void vh_apic_send_init(uint32_t apic_id);
void vh_apic_send_sipi(uint32_t apic_id, uint8_t page);
/* An NMI to every CPU but this one (machine stop, panic). */
void vh_apic_stop_others(void);

/* Measures the timer's rate against the calibrated TSC; returns ticks
 * per millisecond (0: the timer does not count). */
uint64_t vh_apic_timer_calibrate(void);
/* One interrupt on VH_VEC_APIC_TIMER after `ns` (clamped to the
 * counter's range); 0 stops the timer. */
void vh_apic_timer_oneshot(uint64_t ns);

#endif
