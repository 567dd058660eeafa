/* SPDX-License-Identifier: Apache-2.0 */
/* The application processors' way from real mode to the kernel: a SIPI
 * starts an AP in real mode at VH_TRAMPOLINE_BASE (below 1 MiB, page
 * aligned), where smp.c copied this code.  It switches to protected mode
 * with its own small GDT, turns on PAE, the boot page tables (boot_pml4
 * lies below 4 GiB, so a 32-bit CR3 reaches it), long mode and paging, and
 * jumps to vh_ap_entry64 in the kernel proper with the stack smp.c left in
 * vh_ap_boot_stack.
 *
 * The code runs at a different address than it is linked at: every
 * reference inside it goes through T(), which rebases a label onto
 * VH_TRAMPOLINE_BASE.  No relaxable jumps inside, so the offsets the
 * assembler computes are final. */
#include "smp.h"

#define T(x) ((x) - vh_trampoline_start + VH_TRAMPOLINE_BASE)
#define CR0_PE 0x1
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080

	.section .rodata
	.balign 16
	.code16
	.globl vh_trampoline_start
vh_trampoline_start:
	cli
	cld
	/* The SIPI left CS = page << 8, IP = 0: move to CS = 0 so the
	 * rebased absolute offsets work. */
	ljmp $0, $T(1f)
1:	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %ss
	lgdtl T(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $0x08, $T(tramp_pm32)

	.code32
tramp_pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	/* The boot CPU's EFER (long mode, NX when it has it). */
	movl $MSR_EFER, %ecx
	rdmsr
	orl vh_ap_boot_efer, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PE | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0
	ljmpl $0x18, $vh_ap_entry64

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff	/* 0x10: data */
	.quad 0x00af9a000000ffff	/* 0x18: 64-bit code */
tramp_gdt_end:
tramp_gdt_ptr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long T(tramp_gdt)
	.globl vh_trampoline_end
vh_trampoline_end:

	/* Back in the kernel image, linked and run at the same address. */
	.text
	.code64
	.globl vh_ap_entry64
vh_ap_entry64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq vh_ap_boot_stack(%rip), %rsp
	xorl %ebp, %ebp		/* ends the backtrace */
	movq vh_ap_boot_cpu(%rip), %rdi
	call vh_smp_ap_main
2:	cli
	hlt
	jmp 2b

	.section .note.GNU-stack, "", @progbits
