/* SPDX-License-Identifier: Apache-2.0 */
/* Entry from a Multiboot 1 loader (GRUB, QEMU -kernel, a boot ROM): 32-bit
 * protected mode, paging off, EAX = magic, EBX = information block.  We
 * check for long mode, identity-map the first 4 GiB with 2 MiB pages (that
 * covers the kernel, the loader's data and the local APIC), enter long mode
 * and call vh_kernel_main(magic, info). */
#include "multiboot.h"

#define MB_FLAGS (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO | MULTIBOOT_AOUT_KLUDGE)

#define CR0_PE (1 << 0)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PS 0x80
#define COM1 0x3f8

	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MULTIBOOT_HEADER_MAGIC
	.long MB_FLAGS
	.long -(MULTIBOOT_HEADER_MAGIC + MB_FLAGS)
	.long multiboot_header	/* header_addr */
	.long __load_start	/* load_addr */
	.long __load_end	/* load_end_addr */
	.long __bss_end		/* bss_end_addr */
	.long _start		/* entry_addr */

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, %esi		/* keep magic and info in registers that */
	movl %ebx, %edi		/* survive until the call to C */

	/* Not every loader zeroes .bss (the spec asks, boot ROMs forget);
	 * the page tables and the stack live there. */
	movl $__bss_start, %edx
1:	cmpl $__bss_end, %edx
	jae 2f
	movl $0, (%edx)
	addl $4, %edx
	jmp 1b
2:
	movl $boot_stack_top, %esp

	/* CPUID must exist (EFLAGS.ID toggles), then leaf 0x80000001
	 * EDX bit 29 tells long mode. */
	pushfl
	popl %eax
	movl %eax, %ecx
	xorl $(1 << 21), %eax
	pushl %eax
	popfl
	pushfl
	popl %eax
	cmpl %eax, %ecx
	je no_long_mode
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode
	movl %edx, %ebp		/* EDX bit 20: NX */

	/* Page directories: 2048 entries of 2 MiB = 4 GiB, identity. */
	movl $boot_pd, %edx
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	movl %eax, (%edx, %ecx, 8)
	movl $0, 4(%edx, %ecx, 8)
	incl %ecx
	cmpl $2048, %ecx
	jb 3b

	/* PDPT entries 0..3 -> the four page directories. */
	xorl %ecx, %ecx
4:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pdpt(, %ecx, 8)
	incl %ecx
	cmpl $4, %ecx
	jb 4b

	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, boot_pml4

	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4

	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	testl $(1 << 20), %ebp
	jz 5f
	orl $EFER_NXE, %eax
5:	wrmsr

	movl %cr0, %eax
	orl $(CR0_PE | CR0_WP | CR0_PG), %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_mode_entry

no_long_mode:
	/* Say why on COM1 without any setup: emulators and most UARTs
	 * accept bytes at reset settings. */
	movl $no_long_mode_msg, %ebx
6:	movb (%ebx), %al
	testb %al, %al
	jz 7f
	movw $COM1, %dx
	outb %al, %dx
	incl %ebx
	jmp 6b
7:	cli
	hlt
	jmp 7b

	.code64
long_mode_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp		/* ends the backtrace */
	/* esi = magic, edi = info: swap into the SysV argument order. */
	movl %esi, %eax
	movl %edi, %esi
	movl %eax, %edi
	call vh_kernel_main
8:	cli
	hlt
	jmp 8b

	.section .rodata
no_long_mode_msg:
	.asciz "vh: this CPU has no long mode (x86-64); stopping\r\n"

	.balign 8
boot_gdt:
	.quad 0				/* null */
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff	/* 0x10: data, DPL 0 */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	/* The page tables are global: paging.c extends them, trampoline.S
	 * loads them on the other CPUs. */
	.section .bss
	.balign 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
boot_stack:
	.skip 32768
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
