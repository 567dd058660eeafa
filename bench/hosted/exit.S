/* SPDX-License-Identifier: Apache-2.0 */
/* The bench guest: a Multiboot 1 image, the same for vh and QEMU.
 *   (default)  writes isa-debug-exit first thing: start-up to the first
 *              I/O exit.
 *   EXITS=N    times its own I/O exits with RDTSC and prints the result
 *              on COM1, then writes isa-debug-exit.  A loop of N OUTs to
 *              the UART's scratch register, then the same loop without
 *              the OUT; their difference divided by N is the TSC ticks
 *              of one exit round trip, from inside one run, so the
 *              seconds QEMU spends starting (SeaBIOS, option ROM) do not
 *              enter it.  The host converts ticks to time with its TSC
 *              frequency (KVM gives the guest the host's TSC rate).
 *   HALT       halts forever (an idle VM).
 * Port 0x3ff (scratch, UART register 7): both vh-hosted (its UART model)
 * and QEMU (serial.c, in its device model) handle it in user space, as
 * KVM keeps only the PIC, PIT and APIC in the kernel and QEMU coalesces
 * none of the UART's ports (checked: vh counts an I/O exit per OUT, and
 * strace a KVM_RUN per OUT from QEMU); and a write there changes nothing
 * the guest or the console sees. */
#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define COM1_SCRATCH (COM1 + 7)
#define LSR_THRE 0x20
#define DEBUG_EXIT 0xf4
/* Exits before the timed loops: the first ones take paths (page faults,
 * cold caches, lazily created state) the steady state does not. */
#define WARMUP 200

	.section .multiboot, "a"
	.align 4
	.long 0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)

	.section .bss
	.align 16
stack:
	.space 4096
stack_top:
out_ticks:
	.space 8
base_ticks:
	.space 8

	.text
	.globl _start
	.code32
_start:
	cli
#ifdef HALT
1:	hlt
	jmp 1b
#else
	movl $stack_top, %esp
#ifdef EXITS
	movl $COM1_SCRATCH, %edx
	movl $WARMUP, %ecx
1:	outb %al, (%dx)
	decl %ecx
	jnz 1b

	/* The two timed loops differ only in the OUT.  No fence around
	 * RDTSC: a few cycles of reordering are nothing against N exits. */
	rdtsc
	movl %eax, %esi
	movl %edx, %edi
	movl $COM1_SCRATCH, %edx
	movl $EXITS, %ecx
2:	outb %al, (%dx)
	decl %ecx
	jnz 2b
	rdtsc
	subl %esi, %eax
	sbbl %edi, %edx
	movl %eax, out_ticks
	movl %edx, out_ticks + 4

	rdtsc
	movl %eax, %esi
	movl %edx, %edi
	movl $COM1_SCRATCH, %edx
	movl $EXITS, %ecx
3:	decl %ecx
	jnz 3b
	rdtsc
	subl %esi, %eax
	sbbl %edi, %edx
	movl %eax, base_ticks
	movl %edx, base_ticks + 4

	/* "key value" lines, as vh-bench prints them, for run.sh; the
	 * newline first ends whatever the firmware left on the line. */
	movb $'\n', %al
	call putc
	movl $s_exits, %esi
	movl $EXITS, %eax
	call put_line
	movl out_ticks, %eax
	movl out_ticks + 4, %edx
	call per_exit
	movl $s_out, %esi
	call put_line
	movl base_ticks, %eax
	movl base_ticks + 4, %edx
	call per_exit
	movl $s_base, %esi
	call put_line
	movl out_ticks, %eax
	movl out_ticks + 4, %edx
	subl base_ticks, %eax
	sbbl base_ticks + 4, %edx
	jnc 4f
	xorl %eax, %eax /* the OUT loop was faster: noise, report 0 */
	xorl %edx, %edx
4:	call per_exit
	movl $s_tick, %esi
	call put_line
#endif
	xorl %eax, %eax
	outl %eax, $DEBUG_EXIT
5:	hlt
	jmp 5b

#ifdef EXITS
/* %edx:%eax / EXITS -> %eax.  Two DIVs, so the quotient of the high half
 * cannot overflow (#DE) whatever the total. */
per_exit:
	movl $EXITS, %ecx
	pushl %eax
	movl %edx, %eax
	xorl %edx, %edx
	divl %ecx
	popl %eax
	divl %ecx
	ret

/* Prints the string at %esi, a space, %eax in decimal and a newline. */
put_line:
	pushl %eax
1:	movb (%esi), %al
	testb %al, %al
	jz 2f
	call putc
	incl %esi
	jmp 1b
2:	movb $' ', %al
	call putc
	popl %eax
	/* Digits pushed least significant first, popped in print order. */
	movl $10, %ecx
	xorl %ebx, %ebx
3:	xorl %edx, %edx
	divl %ecx
	pushl %edx
	incl %ebx
	testl %eax, %eax
	jnz 3b
4:	popl %eax
	addb $'0', %al
	call putc
	decl %ebx
	jnz 4b
	movb $'\n', %al
	jmp putc

/* Writes %al to COM1 once the transmitter holds nothing (QEMU's UART
 * keeps one byte; vh's is always empty).  Keeps every register but %edx. */
putc:
	pushl %eax
	movl $COM1_LSR, %edx
1:	inb (%dx), %al
	testb $LSR_THRE, %al
	jz 1b
	popl %eax
	movl $COM1, %edx
	outb %al, (%dx)
	ret

s_exits:
	.asciz "io_exits"
s_out:
	.asciz "io_out_ticks"
s_base:
	.asciz "io_base_ticks"
s_tick:
	.asciz "io_ticks_per_exit"
#endif
#endif
