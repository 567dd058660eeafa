/* SPDX-License-Identifier: Apache-2.0 */
/* The world switch.  vh_vmx_run(regs, launched) loads the guest's
 * general registers and CR2 from *regs (struct vh_guest_regs), enters the
 * guest with VMLAUNCH or VMRESUME, and returns 0 after the next VM exit
 * with the guest's registers saved back into *regs, or 1 when the entry
 * itself failed (VMfailValid/VMfailInvalid: the caller reads the
 * VM-instruction error).  RSP, RIP and RFLAGS of the guest live in the
 * VMCS; the host's callee-saved registers are on the stack, and HOST_RSP
 * points at the saved regs pointer, so the exit path finds it again.
 * Interrupts are off on entry and stay off after the exit (a VM exit
 * clears RFLAGS.IF). */
#include "vmcs_fields.h"

#define R_RAX 0
#define R_RCX 8
#define R_RDX 16
#define R_RBX 24
#define R_RBP 32
#define R_RSI 40
#define R_RDI 48
#define R_R8 56
#define R_R9 64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112
#define R_CR2 120

	.text
	.code64
	.globl vh_vmx_run
vh_vmx_run:
	pushq %rbp
	movq %rsp, %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi			/* regs: the exit path reads it at (%rsp) */
	movq $VMCS_HOST_RSP, %rax
	vmwrite %rsp, %rax
	movq R_CR2(%rdi), %rax
	movq %rax, %cr2
	testl %esi, %esi		/* ZF: not launched yet; movs keep flags */
	movq R_RAX(%rdi), %rax
	movq R_RCX(%rdi), %rcx
	movq R_RDX(%rdi), %rdx
	movq R_RBX(%rdi), %rbx
	movq R_RBP(%rdi), %rbp
	movq R_RSI(%rdi), %rsi
	movq R_R8(%rdi), %r8
	movq R_R9(%rdi), %r9
	movq R_R10(%rdi), %r10
	movq R_R11(%rdi), %r11
	movq R_R12(%rdi), %r12
	movq R_R13(%rdi), %r13
	movq R_R14(%rdi), %r14
	movq R_R15(%rdi), %r15
	movq R_RDI(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp 2f
1:	vmresume
2:	/* Only a failed entry gets here; guest values are in the
	 * registers, the host's are on the stack. */
	addq $8, %rsp
	movl $1, %eax
	jmp 3f

	.globl vh_vmx_exit_entry
vh_vmx_exit_entry:
	pushq %rdi			/* the guest's rdi */
	movq 8(%rsp), %rdi		/* regs */
	movq %rax, R_RAX(%rdi)
	movq %rcx, R_RCX(%rdi)
	movq %rdx, R_RDX(%rdi)
	movq %rbx, R_RBX(%rdi)
	movq %rbp, R_RBP(%rdi)
	movq %rsi, R_RSI(%rdi)
	movq %r8, R_R8(%rdi)
	movq %r9, R_R9(%rdi)
	movq %r10, R_R10(%rdi)
	movq %r11, R_R11(%rdi)
	movq %r12, R_R12(%rdi)
	movq %r13, R_R13(%rdi)
	movq %r14, R_R14(%rdi)
	movq %r15, R_R15(%rdi)
	popq R_RDI(%rdi)
	movq %cr2, %rax
	movq %rax, R_CR2(%rdi)
	addq $8, %rsp
	xorl %eax, %eax
3:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.section .note.GNU-stack, "", @progbits
