/* SPDX-License-Identifier: Apache-2.0 */
/* A tiny synthetic Linux bzImage (Documentation/x86/boot.rst, protocol
 * 2.15): the whole file is this one section, linked as a flat binary.
 * Offset 0x1F1 holds the setup header, offset 0x400 ((setup_sects + 1) *
 * 512) the "protected-mode kernel", loaded at 1 MiB and entered at +0x200
 * in 64-bit mode with RSI = the zero page.  It checks what a Linux kernel
 * relies on and reports on COM1, then stops through isa-debug-exit
 * (value 0: every check held; 1: one failed):
 *
 *   bz: long mode, zero page HdrS, loader ff
 *   bz: e820 <n> entries, RAM from 1 MiB <size>
 *   bz: cmdline [<the command line>]
 *   bz: initrd <size> bytes [<its first 8 bytes>] last <byte>
 *   bz: swapgs kernel_gs_base 0000000002222000 gs_base 0000000002222000
 *
 * The last: SWAPGS exchanges GS_BASE and KERNEL_GS_BASE without an exit
 * (Linux does it on every entry from user mode); after a spin of several
 * quanta (the vCPU leaves the CPU and comes back) RDMSR and a second
 * SWAPGS must still see what the first one put there.
 */
#define COM1 0x3f8
#define DEBUG_EXIT 0xf4
#define LOAD 0x100000

	.code64
	.text
	.globl _start
_start:
	.org 0x1f1
	.byte 1                         /* setup_sects */
	.word 0                         /* root_flags */
	.long (end - kernel) / 16       /* syssize */
	.word 0, 0, 0                   /* ram_size, vid_mode, root_dev */
	.word 0xaa55                    /* boot_flag */
	.byte 0xeb, hdr_end - 0x202     /* jump: the header's length */
	.ascii "HdrS"
	.word 0x020f                    /* version */
	.long 0                         /* realmode_swtch */
	.word 0, 0                      /* start_sys_seg, kernel_version */
	.byte 0                         /* type_of_loader */
	.byte 0x01                      /* loadflags: LOADED_HIGH */
	.word 0                         /* setup_move_size */
	.long LOAD                      /* code32_start */
	.long 0, 0                      /* ramdisk_image, ramdisk_size */
	.long 0                         /* bootsect_kludge */
	.word 0                         /* heap_end_ptr */
	.byte 0, 0                      /* ext_loader_ver, ext_loader_type */
	.long 0                         /* cmd_line_ptr */
	.long 0x7fffffff                /* initrd_addr_max */
	.long 0x200000                  /* kernel_alignment */
	.byte 1                         /* relocatable_kernel */
	.byte 21                        /* min_alignment */
	.word 0x0001                    /* xloadflags: XLF_KERNEL_64 */
	.long 255                       /* cmdline_size */
	.long 0                         /* hardware_subarch */
	.quad 0                         /* hardware_subarch_data */
	.long 0, 0                      /* payload_offset, payload_length */
	.quad 0                         /* setup_data */
	.quad 0x200000                  /* pref_address */
	.long 0x100000                  /* init_size */
	.long 0                         /* handover_offset */
hdr_end:

	.org 0x400
kernel:                                 /* at LOAD: the 32-bit entry, unused */
	hlt
	.org 0x600
startup_64:                             /* LOAD + 0x200 */
	mov %rsi, %r12                  /* the zero page */
	xor %r13d, %r13d                /* failures */
	lea msg_long(%rip), %rdi
	call puts
	/* Long mode: EFER.LMA. */
	mov $0xc0000080, %ecx
	rdmsr
	bt $10, %eax
	jc 1f
	inc %r13d
1:	cmpl $0x53726448, 0x202(%r12)   /* "HdrS" copied in */
	je 1f
	inc %r13d
1:	lea msg_hdrs(%rip), %rdi
	call puts
	movzbl 0x210(%r12), %eax        /* type_of_loader */
	call puthex8
	lea msg_e820(%rip), %rdi
	call puts
	movzbl 0x1e8(%r12), %ebx        /* e820_entries */
	mov %ebx, %eax
	call puthex8
	lea msg_entries(%rip), %rdi
	call puts
	/* The RAM entry that starts at 1 MiB (it holds this code). */
	lea 0x2d0(%r12), %r14
	xor %r15d, %r15d
2:	test %ebx, %ebx
	jz 3f
	cmpq $LOAD, (%r14)
	jne 4f
	cmpl $1, 16(%r14)
	jne 4f
	mov 8(%r14), %r15
4:	add $20, %r14
	dec %ebx
	jmp 2b
3:	test %r15, %r15
	jnz 1f
	inc %r13d
1:	mov %r15, %rax
	call puthex64
	lea msg_cmdline(%rip), %rdi
	call puts
	mov 0x228(%r12), %edi           /* cmd_line_ptr */
	call puts
	lea msg_initrd(%rip), %rdi
	call puts
	mov 0x21c(%r12), %eax           /* ramdisk_size */
	call puthex64
	lea msg_bytes(%rip), %rdi
	call puts
	mov 0x218(%r12), %r14d          /* ramdisk_image */
	mov 0x21c(%r12), %r15d
	cmp $8, %r15d
	jae 1f
	inc %r13d
	jmp 5f
1:	xor %ebx, %ebx
6:	movzbl (%r14,%rbx), %eax
	call putc
	inc %ebx
	cmp $8, %ebx
	jb 6b
	lea msg_last(%rip), %rdi
	call puts
	movzbl -1(%r14,%r15), %eax
	call puthex8
5:	lea msg_swapgs(%rip), %rdi
	call puts
	mov $0xc0000102, %ecx           /* KERNEL_GS_BASE */
	mov $0x1111000, %eax
	xor %edx, %edx
	wrmsr
	mov $0xc0000101, %ecx           /* GS_BASE */
	mov $0x2222000, %eax
	wrmsr
	swapgs                          /* GS_BASE 0x1111000, KERNEL_GS_BASE 0x2222000 */
	mov $5000000, %ecx              /* about 10M instructions: many quanta */
1:	dec %ecx
	jnz 1b
	mov $0xc0000102, %ecx
	call rdmsr_2222
	lea msg_gsbase(%rip), %rdi
	call puts
	swapgs
	mov $0xc0000101, %ecx
	call rdmsr_2222
	mov $'\n', %al
	call putc
	/* Wait for the UART to drain (LSR bit 6), then stop. */
	mov $COM1 + 5, %dx
7:	in %dx, %al
	test $0x40, %al
	jz 7b
	mov %r13d, %eax
	mov $DEBUG_EXIT, %dx
	out %eax, %dx
8:	cli
	hlt
	jmp 8b

/* rdmsr_2222: prints MSR ECX, counts a failure unless it is 0x2222000. */
rdmsr_2222:
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	cmp $0x2222000, %rax
	je 1f
	inc %r13d
1:	jmp puthex64

/* putc: AL to COM1 (the emulated UART never holds a byte back). */
putc:
	push %rdx
	mov $COM1, %dx
	out %al, %dx
	pop %rdx
	ret

/* puts: the NUL-terminated string at RDI. */
puts:
	movzbl (%rdi), %eax
	test %al, %al
	jz 1f
	call putc
	inc %rdi
	jmp puts
1:	ret

/* puthex8 / puthex64: AL or RAX in hex (2 or 16 digits). */
puthex8:
	mov $2, %ecx
	shl $56, %rax
	jmp puthex
puthex64:
	mov $16, %ecx
puthex:
	push %rbx
	mov %rax, %rbx
1:	rol $4, %rbx
	mov %ebx, %eax
	and $15, %eax
	add $'0', %al
	cmp $'9', %al
	jbe 2f
	add $'a' - '9' - 1, %al
2:	call putc
	dec %ecx
	jnz 1b
	pop %rbx
	ret

msg_long:	.asciz "bz: long mode"
msg_hdrs:	.asciz ", zero page HdrS, loader "
msg_e820:	.asciz "\nbz: e820 "
msg_entries:	.asciz " entries, RAM from 1 MiB "
msg_cmdline:	.asciz "\nbz: cmdline ["
msg_initrd:	.asciz "]\nbz: initrd "
msg_bytes:	.asciz " bytes ["
msg_last:	.asciz "] last "
msg_swapgs:	.asciz "\nbz: swapgs kernel_gs_base "
msg_gsbase:	.asciz " gs_base "
	.balign 16
end:
