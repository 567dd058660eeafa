/* SPDX-License-Identifier: Apache-2.0 */
/* SMP bring-up: INIT-SIPI-SIPI through the real-mode trampoline, then
 * each AP loads its own descriptor tables and APIC and waits for work. */
#ifndef VH_X86_SMP_H
#define VH_X86_SMP_H

/* A free page below 1 MiB (vector 0x08), checked against the memory map
 * by the caller. */
#define VH_TRAMPOLINE_BASE 0x8000

#ifndef __ASSEMBLER__
#include <stddef.h>
#include <stdint.h>

struct vh_acpi_cpus;
struct vh_cpu;

/* Starts every processor the MADT lists besides this one, one at a time;
 * each gets the next CPU index once it reports online.  stack_alloc gives
 * each its kernel stack.  Returns the number of CPUs online, this one
 * included. */
unsigned vh_smp_start(const struct vh_acpi_cpus *acpi, void *(*stack_alloc)(size_t));

/* Runs fn(cpu) on every AP (the boot CPU calls it itself); returns at
 * once.  APs that were given a function never come back. */
void vh_smp_release(void (*fn)(struct vh_cpu *c));

/* Called by trampoline.S on the new AP, never returns. */
void vh_smp_ap_main(struct vh_cpu *c);
#endif

#endif
