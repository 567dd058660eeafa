/* The bench guest: a Multiboot 1 image whose first instruction after
 * entry loops COUNT times on an OUT to an unclaimed port (0x80: one I/O
 * exit each), then writes isa-debug-exit.  COUNT 0 measures start-up to
 * the first I/O exit; a large COUNT the I/O exit round trip.  HALT set:
 * it halts forever instead (an idle VM).  Same image for vh and QEMU. */
	.section .multiboot, "a"
	.align 4
	.long 0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)
	.text
	.globl _start
	.code32
_start:
#ifdef HALT
1:	cli
	hlt
	jmp 1b
#else
	movl $COUNT, %ecx
	testl %ecx, %ecx
	jz 2f
1:	outb %al, $0x80
	decl %ecx
	jnz 1b
2:	xorl %eax, %eax
	outl %eax, $0xf4
3:	cli
	hlt
	jmp 3b
#endif
