/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "acpi.h"
#include "apic.h"
#include "console.h"
#include "cpu.h"
#include "percpu.h"
#include "smp.h"
#include "trap.h"
#include "tsc.h"
#include "vh/string.h"

#define INIT_DELAY_NS 10000000ull   /* 10 ms after INIT (the MP spec's wait) */
#define SIPI_DELAY_NS 200000ull     /* 200 us between the two SIPIs */
#define ONLINE_WAIT_NS 200000000ull /* give up on an AP after 200 ms */

extern const uint8_t vh_trampoline_start[], vh_trampoline_end[];

/* Read by trampoline.S for the AP being started (one at a time). */
uint64_t vh_ap_boot_stack;
struct vh_cpu *vh_ap_boot_cpu;
uint32_t vh_ap_boot_efer;

static void (*volatile ap_work)(struct vh_cpu *c);

void vh_smp_ap_main(struct vh_cpu *c)
{
	vh_percpu_load(c);
	vh_apic_init_ap();
	vh_cpu_setup_features();
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	for (;;) {
		void (*fn)(struct vh_cpu *) = __atomic_load_n(&ap_work, __ATOMIC_ACQUIRE);
		if (fn)
			fn(c);
		/* Woken by the release IPI (or a stray one: look again). */
		cpu_wait_irq();
	}
}

static bool start_one(struct vh_cpu *c, void *(*stack_alloc)(size_t))
{
	uint64_t deadline;

	if (!c->stack && !(c->stack = stack_alloc(VH_CPU_STACK_SIZE)))
		return false;
	vh_ap_boot_cpu = c;
	vh_ap_boot_stack = (uint64_t)(uintptr_t)(c->stack + VH_CPU_STACK_SIZE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	vh_apic_send_init(c->apic_id);
	vh_delay_ns(INIT_DELAY_NS);
	for (int i = 0; i < 2 && !c->online; i++) {
		vh_apic_send_sipi(c->apic_id, VH_TRAMPOLINE_BASE >> 12);
		vh_delay_ns(SIPI_DELAY_NS);
	}
	deadline = vh_now_ns() + ONLINE_WAIT_NS;
	while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) && vh_now_ns() < deadline)
		cpu_relax();
	return c->online;
}

unsigned vh_smp_start(const struct vh_acpi_cpus *acpi, void *(*stack_alloc)(size_t))
{
	uint32_t self = vh_apic_id();
	unsigned n = 1;

	vh_cpus[0].apic_id = self;
	vh_cpus[0].online = true;
	uint64_t tramp = VH_TRAMPOLINE_BASE;
	__asm__("" : "+r"(tramp)); /* a physical address, not an object */
	vh_memcpy((void *)(uintptr_t)tramp, vh_trampoline_start,
		  (size_t)(vh_trampoline_end - vh_trampoline_start));
	vh_ap_boot_efer = (uint32_t)rdmsr(MSR_IA32_EFER) & (uint32_t)(EFER_LME | EFER_NXE);

	for (unsigned i = 0; acpi && i < acpi->ncpus; i++) {
		if (acpi->apic_ids[i] == self)
			continue;
		struct vh_cpu *c = &vh_cpus[n];
		c->index = n;
		c->apic_id = acpi->apic_ids[i];
		if (start_one(c, stack_alloc)) {
			n++;
		} else {
			vh_console_printf("vh: cpu with APIC id %u did not come online; "
					  "running without it\n", acpi->apic_ids[i]);
		}
	}
	vh_ncpus = n;
	return n;
}

void vh_smp_release(void (*fn)(struct vh_cpu *c))
{
	__atomic_store_n(&ap_work, fn, __ATOMIC_RELEASE);
	for (unsigned i = 1; i < vh_ncpus; i++)
		vh_apic_send_ipi(vh_cpus[i].apic_id, VH_VEC_KICK);
}
