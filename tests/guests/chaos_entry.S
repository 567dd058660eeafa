/* SPDX-License-Identifier: Apache-2.0 */
/* The chaos guest's trap entry and its way into ring 3 (chaos.c): one
 * 16-byte entry for each of the 256 vectors (random code raises any exception, and
 * its software interrupts and the interrupts it unmasks may use any
 * vector), a common path that either resumes after a ring-0 fault that
 * chaos.c expected, or, for anything that happens in ring 3, abandons the
 * user context and returns from chaos_user_run() on the kernel stack. */
	.text
	.code32

/* Vectors where the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
		    (v) == 29 || (v) == 30)

	.globl chaos_vectors
	.align 16
chaos_vectors:
	.set vec, 0
	.rept 256
	.align 16
	.if HAS_ERR(vec)
	pushl $vec
	.else
	pushl $0
	pushl $vec
	.endif
	jmp chaos_trap_common
	.set vec, vec + 1
	.endr

chaos_trap_common:
	pushal
	movl $0x10, %eax
	movw %ax, %ds
	movw %ax, %es
	pushl %esp /* struct guest_frame * */
	call chaos_trap
	addl $4, %esp
	testl %eax, %eax
	jnz 1f
	popal
	addl $8, %esp /* vector and error code */
	iretl
	/* From ring 3: back to chaos_user_run's caller, on the kernel stack. */
1:	movl chaos_kernel_esp, %esp
	movl $0x10, %eax
	movw %ax, %fs
	movw %ax, %gs
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	movl chaos_user_vector, %eax
	ret

/* uint32_t chaos_user_run(const uint32_t regs[7], uint32_t eip, uint32_t esp):
 * enters ring 3 at eip with eax, ebx, ecx, edx, esi, edi, ebp from regs
 * and interrupts on; returns the vector that brought it back. */
	.globl chaos_user_run
chaos_user_run:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, chaos_kernel_esp
	movl 20(%esp), %eax
	movl 24(%esp), %ecx
	movl 28(%esp), %edx
	pushl $0x23  /* ss: user data */
	pushl %edx   /* esp */
	pushl $0x202 /* eflags: IF */
	pushl $0x1b  /* cs: user code */
	pushl %ecx   /* eip */
	movl 4(%eax), %ebx
	movl 8(%eax), %ecx
	movl 12(%eax), %edx
	movl 16(%eax), %esi
	movl 20(%eax), %edi
	movl 24(%eax), %ebp
	pushl (%eax)
	movl $0x23, %eax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	popl %eax
	iretl
