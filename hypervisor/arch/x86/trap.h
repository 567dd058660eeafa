/* CPU exceptions taken by the hypervisor itself. */
#ifndef VH_X86_TRAP_H
#define VH_X86_TRAP_H

#include <stdint.h>

/* Layout pushed by trap_entry.S, lowest address first. */
struct vh_trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void vh_trap_init(void);
void vh_trap(struct vh_trap_frame *f);

#endif
