/* SPDX-License-Identifier: Apache-2.0 */
/* Interrupt and exception entry stubs for all 256 vectors.  Each stub
 * makes the stack look the same (an error code, real or 0, and the
 * vector), saves the general registers into a struct vh_trap_frame and
 * calls vh_trap(frame).  Stubs are 16 bytes apart so the IDT builder finds
 * stub v at vh_trap_stubs + 16 * v. */

	.text
	.code64
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	/* The interrupted code may have any stack alignment: keep the
	 * frame pointer in rbx (callee-saved) and align for the call. */
	movq %rsp, %rbx
	andq $-16, %rsp
	call vh_trap
	movq %rbx, %rsp
	/* Interrupts come back here, and an exception the fixup table
	 * (.vh_extable) catches; any other exception stops the machine. */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.balign 16
	.globl vh_trap_stubs
vh_trap_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	/* Vectors where the CPU pushes an error code itself. */
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

	.section .note.GNU-stack, "", @progbits
