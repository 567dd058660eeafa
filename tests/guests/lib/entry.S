/* SPDX-License-Identifier: Apache-2.0 */
/* Multiboot 1 entry of every test guest: a header without the a.out
 * fields (the loader reads the ELF program headers), a stack, an IDT whose
 * handlers report the exception (guest_trap in runtime.c), then
 * guest_main(multiboot info). */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-aligned modules, memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.section .bss
	.align 16
	.globl guest_stack_top
guest_stack:
	.space 16384
guest_stack_top:

	.text
	.code32
	.globl _start
_start:
	cli
	movl $guest_stack_top, %esp
	cld
	cmpl $0x2BADB002, %eax
	jne 1f
	pushl %ebx
	call guest_start
1:	pushl $0
	call guest_start
2:	hlt
	jmp 2b

/* Exception stubs: push a dummy error code where the CPU pushes none,
 * then the vector, and call guest_trap(frame). */
.macro stub n, err
	.globl trap_stub_\n
trap_stub_\n:
	.if \err == 0
	pushl $0
	.endif
	pushl $\n
	jmp trap_common
.endm
	stub 0,0; stub 1,0; stub 2,0; stub 3,0; stub 4,0; stub 5,0; stub 6,0; stub 7,0
	stub 8,1; stub 9,0; stub 10,1; stub 11,1; stub 12,1; stub 13,1; stub 14,1; stub 15,0
	stub 16,0; stub 17,1; stub 18,0; stub 19,0

trap_common:
	pushal
	pushl %esp /* struct guest_frame * */
	call guest_trap
	addl $4, %esp
	popal
	addl $8, %esp /* vector and error code */
	iretl

	.section .rodata
	.globl trap_stubs
	.align 4
trap_stubs:
	.long trap_stub_0, trap_stub_1, trap_stub_2, trap_stub_3, trap_stub_4
	.long trap_stub_5, trap_stub_6, trap_stub_7, trap_stub_8, trap_stub_9
	.long trap_stub_10, trap_stub_11, trap_stub_12, trap_stub_13, trap_stub_14
	.long trap_stub_15, trap_stub_16, trap_stub_17, trap_stub_18, trap_stub_19
