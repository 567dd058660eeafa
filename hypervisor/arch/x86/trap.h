/* SPDX-License-Identifier: Apache-2.0 */
/* Exceptions and interrupts taken by the hypervisor itself. */
#ifndef VH_X86_TRAP_H
#define VH_X86_TRAP_H

#include <stdint.h>

#include "vh/compiler.h"

/* Layout pushed by trap_entry.S, lowest address first. */
struct vh_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Host interrupt vectors.  The 8259 PICs are remapped to 0x20-0x2f and
 * masked; the local APIC's own vectors sit high so they win priority. */
#define VH_VEC_PIC_BASE 0x20
#define VH_VEC_APIC_TIMER 0xf0
#define VH_VEC_KICK 0xf1  /* back to the scheduler (platform kick) */
#define VH_VEC_FLUSH 0xf2 /* leave the guest to flush EPT translations */
#define VH_VEC_SPURIOUS 0xff

struct vh_idt_gate;

/* Fills a 256-entry IDT with the entry stubs (NMI, #DF and #MC on their
 * own interrupt stacks). */
void vh_trap_fill_idt(struct vh_idt_gate *idt);

/* Runs in interrupt context with interrupts off; the local APIC EOI is
 * sent after it returns. */
typedef void (*vh_irq_handler)(unsigned vector);
void vh_irq_register(unsigned vector, vh_irq_handler h);
/* Handles an interrupt vector taken elsewhere (a VM exit that
 * acknowledged it): the handler, then EOI. */
void vh_irq_dispatch(unsigned vector);

void vh_trap(struct vh_trap_frame *f);

/* A fatal error in the hypervisor: the message, registers of the caller's
 * frame and a backtrace, every CPU stopped, status 2. */
VH_NORETURN void vh_panic(const char *fmt, ...) VH_PRINTF(1, 2);

#endif
