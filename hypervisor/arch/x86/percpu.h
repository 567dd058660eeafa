/* SPDX-License-Identifier: Apache-2.0 */
/* Per-CPU state: each CPU's own GDT, TSS (with interrupt stacks), IDT and
 * bookkeeping, reached through the GS base so that code running on any
 * CPU finds its own without a lookup. */
#ifndef VH_X86_PERCPU_H
#define VH_X86_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vh/compiler.h"

#define VH_MAX_CPUS 32
#define VH_IDT_VECTORS 256

/* Selectors of every CPU's GDT; boot.S and the SMP trampoline use the
 * same code and data selectors. */
#define VH_SEL_CODE 0x08
#define VH_SEL_DATA 0x10
#define VH_SEL_TSS 0x18

#define VH_IST_NMI 1
#define VH_IST_DF 2
#define VH_IST_MC 3
#define VH_IST_STACK_SIZE 8192
#define VH_CPU_STACK_SIZE 32768

struct vh_idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t zero;
} VH_PACKED;

struct vh_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} VH_PACKED;

struct vh_vmx_cpu;
struct vh_ept;
struct vh_vcpu;

struct vh_cpu {
	struct vh_cpu *self; /* %gs:0, so vh_this_cpu() is one load */
	unsigned index;      /* 0 = the boot CPU; the core's pCPU number */
	uint32_t apic_id;
	volatile bool online;
	uint8_t *stack;      /* VH_CPU_STACK_SIZE bytes, its kernel stack */
	uint64_t gdt[5] VH_ALIGNED(16);
	struct vh_tss tss VH_ALIGNED(16);
	struct vh_idt_gate idt[VH_IDT_VECTORS] VH_ALIGNED(16);
	uint8_t ist_stacks[3][VH_IST_STACK_SIZE] VH_ALIGNED(16);
	/* Set by vh_platform kick(): come back to the scheduler. */
	volatile bool kicked;
	/* The EPT tree of the guest this CPU runs in VMX non-root now (NULL
	 * outside the guest) and the tree's generation it flushed for;
	 * ept.c's shootdown waits on these. */
	struct vh_ept *volatile guest_ept;
	volatile uint64_t guest_ept_gen;
	/* The CPU loop's stack pointer while it runs a guest: the VM exit
	 * lands on the vCPU's register area and comes back to it
	 * (world_switch in vcpu_run.c). */
	uint64_t host_rsp;
	/* VMX state of this CPU (vmx.c). */
	struct vh_vmx_cpu *vmx;
};

extern struct vh_cpu vh_cpus[VH_MAX_CPUS];
extern unsigned vh_ncpus; /* CPUs found (online or not) */

static inline struct vh_cpu *vh_this_cpu(void)
{
	struct vh_cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

/* Builds and loads this CPU's GDT, TSS and IDT and points GS at it. */
void vh_percpu_load(struct vh_cpu *c);
/* The same control-register baseline on every CPU: write protection in
 * ring 0, FXSAVE/XSAVE usable (the world switch saves guest FPU state
 * with them; the hypervisor itself never touches the FPU). */
void vh_cpu_setup_features(void);
/* True once the boot CPU has loaded its per-CPU state (GS is valid). */
bool vh_percpu_ready(void);

#endif
