/* SPDX-License-Identifier: Apache-2.0 */
/* The AP start-up trampoline of the SMP guest, copied to TRAMP_ADDR
 * (the SIPI vector's page): real mode -> flat protected mode, a stack per
 * AP from an atomic counter, then ap_main(cpu number). */
#define TRAMP_ADDR 0x8000
#define REL(x) (TRAMP_ADDR + ((x) - tramp_start))

	.section .rodata
	.globl tramp_start, tramp_end
	.code16
tramp_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl REL(tramp_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $REL(tramp32)

	.code32
tramp32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $1, %eax
	lock xaddl %eax, ap_next
	incl %eax                  /* this AP's number: 1, 2, ... */
	movl %eax, %ebx
	shll $12, %eax
	addl $ap_stacks, %eax      /* top of its 4 KiB stack */
	movl %eax, %esp
	pushl %ebx
	movl $ap_main, %eax        /* absolute: this code runs at a copy */
	call *%eax
1:	cli
	hlt
	jmp 1b

	.align 8
tramp_gdt:
	.quad 0, 0x00cf9b000000ffff, 0x00cf93000000ffff
tramp_gdtr:
	.word 23
	.long REL(tramp_gdt)
tramp_end:
