/* The IDT for vectors 0-31 and the fatal-exception report: every register,
 * CR2 for page faults, and a frame-pointer backtrace, then a failed stop so
 * a test run ends at once with the cause on the console. */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "machine.h"
#include "trap.h"
#include "vh/compiler.h"

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t zero;
} VH_PACKED;

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} VH_PACKED;

#define KERNEL_CS 0x08
#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define NUM_EXCEPTIONS 32
#define BACKTRACE_MAX 16

extern const uint64_t vh_trap_stubs[NUM_EXCEPTIONS];

static struct idt_gate idt[NUM_EXCEPTIONS] VH_ALIGNED(16);

static const char *const exception_names[NUM_EXCEPTIONS] = {
	[0] = "#DE divide error", [1] = "#DB debug", [2] = "NMI", [3] = "#BP breakpoint",
	[4] = "#OF overflow", [5] = "#BR bound range", [6] = "#UD invalid opcode",
	[7] = "#NM device not available", [8] = "#DF double fault", [10] = "#TS invalid TSS",
	[11] = "#NP segment not present", [12] = "#SS stack fault", [13] = "#GP general protection",
	[14] = "#PF page fault", [16] = "#MF x87 error", [17] = "#AC alignment check",
	[18] = "#MC machine check", [19] = "#XM SIMD error", [20] = "#VE virtualization",
	[21] = "#CP control protection",
};

void vh_trap_init(void)
{
	for (int v = 0; v < NUM_EXCEPTIONS; v++) {
		uint64_t a = vh_trap_stubs[v];
		idt[v] = (struct idt_gate){
			.offset_low = (uint16_t)a,
			.selector = KERNEL_CS,
			.type_attr = GATE_INTERRUPT,
			.offset_mid = (uint16_t)(a >> 16),
			.offset_high = (uint32_t)(a >> 32),
		};
	}
	struct idt_ptr p = { .limit = sizeof(idt) - 1, .base = (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lidt %0" : : "m"(p));
}

/* Walks saved frame pointers; the boot code zeroes RBP so the walk ends.
 * Only addresses inside the identity map below 4 GiB are followed, so a
 * corrupt chain cannot fault again. */
static void backtrace(uint64_t rbp)
{
	vh_console_printf("backtrace:\n");
	for (int i = 0; i < BACKTRACE_MAX && rbp && rbp < (1ull << 32) && !(rbp & 7); i++) {
		const uint64_t *fp = (const uint64_t *)(uintptr_t)rbp;
		vh_console_printf("  #%d %016llx\n", i, (unsigned long long)fp[1]);
		rbp = fp[0];
	}
}

void vh_trap(struct vh_trap_frame *f)
{
	const char *name = f->vector < NUM_EXCEPTIONS && exception_names[f->vector]
				   ? exception_names[f->vector]
				   : "reserved";

	vh_console_printf("vh: panic: exception %llu (%s) error=%#llx\n",
			  (unsigned long long)f->vector, name, (unsigned long long)f->error_code);
	vh_console_printf("rip=%016llx cs=%04llx rflags=%016llx rsp=%016llx ss=%04llx\n",
			  (unsigned long long)f->rip, (unsigned long long)f->cs,
			  (unsigned long long)f->rflags, (unsigned long long)f->rsp,
			  (unsigned long long)f->ss);
	vh_console_printf("rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n",
			  (unsigned long long)f->rax, (unsigned long long)f->rbx,
			  (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	vh_console_printf("rsi=%016llx rdi=%016llx rbp=%016llx r8 =%016llx\n",
			  (unsigned long long)f->rsi, (unsigned long long)f->rdi,
			  (unsigned long long)f->rbp, (unsigned long long)f->r8);
	vh_console_printf("r9 =%016llx r10=%016llx r11=%016llx r12=%016llx\n",
			  (unsigned long long)f->r9, (unsigned long long)f->r10,
			  (unsigned long long)f->r11, (unsigned long long)f->r12);
	vh_console_printf("r13=%016llx r14=%016llx r15=%016llx cr2=%016llx\n",
			  (unsigned long long)f->r13, (unsigned long long)f->r14,
			  (unsigned long long)f->r15, (unsigned long long)read_cr2());
	backtrace(f->rbp);
	vh_machine_stop(2);
}
