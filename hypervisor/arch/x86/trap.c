/* SPDX-License-Identifier: Apache-2.0 */
/* The IDT, interrupt dispatch and the fatal-exception report: every
 * register, CR2 for page faults, and a frame-pointer backtrace, then every
 * CPU stops and the run fails with the cause on the console. */
#include <stdarg.h>
#include <stdint.h>

#include "apic.h"
#include "console.h"
#include "cpu.h"
#include "machine.h"
#include "percpu.h"
#include "trap.h"
#include "vh/compiler.h"

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define NUM_EXCEPTIONS 32
#define BACKTRACE_MAX 16
#define STUB_SIZE 16
#define VEC_NMI 2
#define VEC_DF 8
#define VEC_GP 13
#define VEC_MC 18

extern const uint8_t vh_trap_stubs[];
extern const struct vh_extable_entry __vh_extable_start[], __vh_extable_end[];

static vh_irq_handler irq_handlers[VH_IDT_VECTORS];

static const char *const exception_names[NUM_EXCEPTIONS] = {
	[0] = "#DE divide error", [1] = "#DB debug", [2] = "NMI", [3] = "#BP breakpoint",
	[4] = "#OF overflow", [5] = "#BR bound range", [6] = "#UD invalid opcode",
	[7] = "#NM device not available", [8] = "#DF double fault", [10] = "#TS invalid TSS",
	[11] = "#NP segment not present", [12] = "#SS stack fault", [13] = "#GP general protection",
	[14] = "#PF page fault", [16] = "#MF x87 error", [17] = "#AC alignment check",
	[18] = "#MC machine check", [19] = "#XM SIMD error", [20] = "#VE virtualization",
	[21] = "#CP control protection",
};

void vh_trap_fill_idt(struct vh_idt_gate *idt)
{
	for (unsigned v = 0; v < VH_IDT_VECTORS; v++) {
		uint64_t a = (uint64_t)(uintptr_t)(vh_trap_stubs + STUB_SIZE * v);
		uint8_t ist = v == VEC_NMI ? VH_IST_NMI : v == VEC_DF ? VH_IST_DF
					: v == VEC_MC ? VH_IST_MC : 0;
		idt[v] = (struct vh_idt_gate){
			.offset_low = (uint16_t)a,
			.selector = VH_SEL_CODE,
			.ist = ist,
			.type_attr = GATE_INTERRUPT,
			.offset_mid = (uint16_t)(a >> 16),
			.offset_high = (uint32_t)(a >> 32),
		};
	}
}

void vh_irq_register(unsigned vector, vh_irq_handler h)
{
	if (vector >= NUM_EXCEPTIONS && vector < VH_IDT_VECTORS)
		irq_handlers[vector] = h;
}

void vh_irq_dispatch(unsigned vector)
{
	if (vector >= VH_IDT_VECTORS)
		return;
	/* Spurious APIC interrupts and the masked PICs' spurious IRQ 7/15
	 * get no EOI: nothing is in service. */
	if (vector == VH_VEC_SPURIOUS ||
	    (vector >= VH_VEC_PIC_BASE && vector < VH_VEC_PIC_BASE + 16))
		return;
	if (irq_handlers[vector])
		irq_handlers[vector](vector);
	vh_apic_eoi();
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

static unsigned cpu_index(void)
{
	return vh_percpu_ready() ? vh_this_cpu()->index : 0;
}

static void report_frame(const struct vh_trap_frame *f)
{
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
	vh_console_printf("cr0=%016llx cr3=%016llx cr4=%016llx\n", (unsigned long long)read_cr0(),
			  (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
	backtrace(f->rbp);
}

/* An exception at an instruction listed in the fixup table (wrmsr_safe
 * on a guest's value) resumes at its fixup, which reports the failure. */
static bool fixup(struct vh_trap_frame *f)
{
	for (const struct vh_extable_entry *e = __vh_extable_start; e < __vh_extable_end; e++) {
		if (e->insn == f->rip) {
			f->rip = e->fixup;
			return true;
		}
	}
	return false;
}

void vh_trap(struct vh_trap_frame *f)
{
	if (f->vector >= NUM_EXCEPTIONS) {
		vh_irq_dispatch((unsigned)f->vector);
		return;
	}
	if (f->vector == VEC_GP && fixup(f))
		return;
	/* Another CPU is stopping the machine and sent us this NMI. */
	if (f->vector == VEC_NMI && vh_machine_stopping())
		cpu_halt_forever();
	if (!vh_machine_begin_panic())
		cpu_halt_forever(); /* another CPU is already reporting */

	const char *name = exception_names[f->vector] ? exception_names[f->vector] : "reserved";
	vh_console_printf("vh: panic: exception %llu (%s) error=%#llx on cpu %u\n",
			  (unsigned long long)f->vector, name, (unsigned long long)f->error_code,
			  cpu_index());
	report_frame(f);
	vh_machine_stop(2);
}

void vh_panic(const char *fmt, ...)
{
	va_list ap;
	struct vh_trap_frame f = { 0 };

	if (!vh_machine_begin_panic())
		cpu_halt_forever();
	vh_console_printf("vh: panic: ");
	va_start(ap, fmt);
	vh_console_vprintf(fmt, ap);
	va_end(ap);
	vh_console_printf(" on cpu %u\n", cpu_index());
	__asm__ volatile("movq %%rbp, %0" : "=r"(f.rbp));
	__asm__ volatile("leaq 0(%%rip), %0" : "=r"(f.rip));
	__asm__ volatile("movq %%rsp, %0" : "=r"(f.rsp));
	f.rflags = read_rflags();
	report_frame(&f);
	vh_machine_stop(2);
}
