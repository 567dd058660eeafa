/* SPDX-License-Identifier: Apache-2.0 */
/* Per-CPU descriptor tables.  Each CPU gets its own GDT (its TSS
 * descriptor differs), its own TSS (its own interrupt stacks for NMI,
 * double fault and machine check, so those land on a good stack even if
 * the kernel stack is the problem) and its own IDT (built the same way on
 * every CPU; own copies keep the CPU's cache lines local and let a
 * per-CPU vector be added without touching the others). */
#include <stdint.h>

#include "cpu.h"
#include "percpu.h"
#include "trap.h"
#include "vh/compiler.h"

struct vh_cpu vh_cpus[VH_MAX_CPUS];
unsigned vh_ncpus = 1;

static volatile bool percpu_ready;

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} VH_PACKED;

#define GDT_CODE64 0x00af9a000000ffffull /* present, DPL 0, L=1 */
#define GDT_DATA 0x00cf92000000ffffull   /* present, DPL 0, writable */
#define TSS_TYPE_AVAILABLE 0x89ull       /* present, 64-bit TSS */

static void build_gdt(struct vh_cpu *c)
{
	uint64_t base = (uint64_t)(uintptr_t)&c->tss;
	uint64_t limit = sizeof(c->tss) - 1;

	c->gdt[0] = 0;
	c->gdt[VH_SEL_CODE / 8] = GDT_CODE64;
	c->gdt[VH_SEL_DATA / 8] = GDT_DATA;
	/* A 16-byte system descriptor: base spread over both quadwords. */
	c->gdt[VH_SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				 (TSS_TYPE_AVAILABLE << 40) | (((limit >> 16) & 0xf) << 48) |
				 (((base >> 24) & 0xff) << 56);
	c->gdt[VH_SEL_TSS / 8 + 1] = base >> 32;
}

static void build_tss(struct vh_cpu *c)
{
	for (int i = 0; i < 3; i++)
		c->tss.ist[i] = (uint64_t)(uintptr_t)(c->ist_stacks[i] + VH_IST_STACK_SIZE);
	/* No I/O bitmap: the limit ends before it, so ring 3 (never used)
	 * would get #GP on any port. */
	c->tss.iomap_base = sizeof(c->tss);
}

void vh_percpu_load(struct vh_cpu *c)
{
	struct desc_ptr gdtr, idtr;

	c->self = c;
	build_gdt(c);
	build_tss(c);
	vh_trap_fill_idt(c->idt);

	gdtr =
	    (struct desc_ptr){ .limit = sizeof(c->gdt) - 1, .base = (uint64_t)(uintptr_t)c->gdt };
	idtr =
	    (struct desc_ptr){ .limit = sizeof(c->idt) - 1, .base = (uint64_t)(uintptr_t)c->idt };
	__asm__ volatile("lgdt %0" : : "m"(gdtr));
	/* Reload every segment register from the new table: CS through a
	 * far return, the data selectors directly. */
	__asm__ volatile("pushq %0\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w1, %%ds\n\t"
			 "movw %w1, %%es\n\t"
			 "movw %w1, %%ss\n\t"
			 :
			 : "i"((uint64_t)VH_SEL_CODE), "r"((uint32_t)VH_SEL_DATA)
			 : "rax", "memory");
	/* FS and GS hold the null selector; writing GS resets its base, so
	 * set the base after. */
	__asm__ volatile("movw %w0, %%fs\n\tmovw %w0, %%gs" : : "r"(0u));
	__asm__ volatile("ltr %w0" : : "r"((uint32_t)VH_SEL_TSS));
	__asm__ volatile("lidt %0" : : "m"(idtr));
	wrmsr(MSR_IA32_GS_BASE, (uint64_t)(uintptr_t)c);
	wrmsr(MSR_IA32_KERNEL_GS_BASE, 0);
	if (c->index == 0)
		percpu_ready = true;
}

bool vh_percpu_ready(void)
{
	return percpu_ready;
}

void vh_cpu_setup_features(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	cr0 |= CR0_MP | CR0_NE | CR0_WP;
	cr0 &= ~(CR0_EM | CR0_TS | CR0_CD | CR0_NW);
	write_cr0(cr0);
	cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	if (cpuid_ecx(1) & CPUID1_ECX_XSAVE)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);
}
