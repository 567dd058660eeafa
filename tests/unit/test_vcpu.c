/* SPDX-License-Identifier: Apache-2.0 */
/* The vCPU layer both back ends share (hypervisor/vcpu/): the injection
 * decision and the next event, HLT and its wake time, the start-up steps
 * per boot generation with INIT and SIPI, on the simulated platform's
 * local APICs. */
#include "apic_env.h"
#include "vh/vcpu_boot.h"
#include "vh/vcpu_events.h"

#define APIC_EOI       0xb0
#define APIC_SVR       0xf0
#define APIC_ICR_LO    0x300
#define APIC_ICR_HI    0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_DCR 0x3e0

static const struct vh_vcpu_gate open_gate = { .if_flag = true };

static struct vh_vcpu_event next_event(struct apic_env *e, uint32_t cpu,
				       const struct vh_vcpu_gate *g)
{
	return vh_vcpu_next_event(&e->m.h, e->vm, &e->vm->vcpus[cpu], e->m.sp.now_ns, g);
}

static bool halt(struct apic_env *e, uint32_t cpu, bool if_flag, uint64_t *wake_at)
{
	return vh_vcpu_halt(&e->m.h, e->vm, &e->vm->vcpus[cpu], e->m.sp.now_ns, if_flag, wake_at);
}

static int boot_next(struct apic_env *e, uint32_t cpu, struct vh_vcpu_boot *b,
		     struct vh_vcpu_sipi *sipi)
{
	return (int)vh_vcpu_boot_next(&e->m.h, e->vm, &e->vm->vcpus[cpu], b, sipi);
}

VH_TEST(vcpu, injection_decision_table)
{
	static const struct {
		struct vh_vcpu_gate g;
		int vector;
		enum vh_vcpu_inject want;
		const char *why;
	} rows[] = {
		{ { .if_flag = true }, -1, VH_VCPU_NOTHING, "nothing pending" },
		{ { .if_flag = false }, -1, VH_VCPU_NOTHING, "nothing pending, IF clear" },
		{ { .if_flag = true }, 0x40, VH_VCPU_IRQ, "IF set, no blocking" },
		{ { .if_flag = false }, 0x40, VH_VCPU_WINDOW, "IF clear" },
		{ { .if_flag = true, .blocked = true }, 0x40, VH_VCPU_WINDOW, "STI shadow" },
		{ { .if_flag = false, .blocked = true }, 0x40, VH_VCPU_WINDOW, "IF clear, shadow" },
		{ { .reinject = true, .if_flag = true },
		  0x40,
		  VH_VCPU_REINJECT,
		  "re-inject first" },
		{ { .reinject = true }, -1, VH_VCPU_REINJECT, "re-inject, IF clear" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum vh_vcpu_inject got = vh_vcpu_inject_choose(&rows[i].g, rows[i].vector);
		if (got != rows[i].want)
			VH_FAIL("%s: got %d, want %d", rows[i].why, (int)got, (int)rows[i].want);
	}
}

VH_TEST(vcpu, next_event_takes_the_highest_vector_once_the_guest_can)
{
	struct apic_env e;
	struct vh_vcpu_gate g = { 0 };
	struct vh_vcpu_event ev;

	apic_env_init(&e, 1);
	wr(&e, 0, APIC_SVR, 0x1ff);
	ev = next_event(&e, 0, &open_gate);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_NOTHING);
	VH_EXPECT_EQ(ev.timer_deadline, UINT64_MAX);
	VH_ASSERT(vh_lapic_raise(&e.m.h, e.vm, 0, 0x40));
	VH_ASSERT(vh_lapic_raise(&e.m.h, e.vm, 0, 0x50));
	/* IF clear, then an STI shadow: a window, and the vector waits. */
	ev = next_event(&e, 0, &g);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_WINDOW);
	g = (struct vh_vcpu_gate){ .if_flag = true, .blocked = true };
	ev = next_event(&e, 0, &g);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_WINDOW);
	VH_EXPECT_EQ(pending(&e, 0), 0x50);
	/* An event to re-inject goes first, and the APIC is not read. */
	g = (struct vh_vcpu_gate){ .reinject = true, .if_flag = true };
	ev = next_event(&e, 0, &g);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_REINJECT);
	VH_EXPECT_EQ(pending(&e, 0), 0x50);
	/* The higher vector first; the lower one waits for its EOI. */
	ev = next_event(&e, 0, &open_gate);
	VH_ASSERT_EQ((int)ev.what, VH_VCPU_IRQ);
	VH_EXPECT_EQ(ev.vector, 0x50);
	vh_vcpu_injected(&e.m.h, e.vm, &e.vm->vcpus[0], ev.vector);
	ev = next_event(&e, 0, &open_gate);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_NOTHING);
	wr(&e, 0, APIC_EOI, 0);
	ev = next_event(&e, 0, &open_gate);
	VH_ASSERT_EQ((int)ev.what, VH_VCPU_IRQ);
	VH_EXPECT_EQ(ev.vector, 0x40);
	/* A delivery that failed (no vh_vcpu_injected) leaves it pending. */
	ev = next_event(&e, 0, &open_gate);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_IRQ);
	VH_EXPECT_EQ(ev.vector, 0x40);
	mem_env_fini(&e.m);
}

VH_TEST(vcpu, next_event_gives_the_timer_deadline_and_latches_it)
{
	struct apic_env e;
	struct vh_vcpu_gate reinject = { .reinject = true, .if_flag = true };
	struct vh_vcpu_event ev;
	uint64_t t0;

	apic_env_init(&e, 1);
	wr(&e, 0, APIC_SVR, 0x1ff);
	wr(&e, 0, APIC_TIMER_DCR, 0xb);  /* divide by 1 */
	wr(&e, 0, APIC_LVT_TIMER, 0x30); /* one-shot, vector 0x30 */
	t0 = e.m.sp.now_ns;
	wr(&e, 0, APIC_TIMER_ICR, 5000);
	ev = next_event(&e, 0, &open_gate);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_NOTHING);
	VH_EXPECT_EQ(ev.timer_deadline, t0 + 5000 * VH_LAPIC_NS_PER_COUNT);
	vh_sim_advance(&e.m.sp, 6000 * VH_LAPIC_NS_PER_COUNT);
	/* A re-injection does not latch the expired count... */
	ev = next_event(&e, 0, &reinject);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_REINJECT);
	VH_EXPECT_EQ(pending(&e, 0), -1);
	/* ...the next entry does, and delivers it. */
	ev = next_event(&e, 0, &open_gate);
	VH_EXPECT_EQ((int)ev.what, VH_VCPU_IRQ);
	VH_EXPECT_EQ(ev.vector, 0x30);
	VH_EXPECT_EQ(ev.timer_deadline, UINT64_MAX);
	mem_env_fini(&e.m);
}

VH_TEST(vcpu, hlt_wakes_at_the_timer_or_goes_on_with_an_interrupt)
{
	struct apic_env e;
	uint64_t wake = 7, t0;

	apic_env_init(&e, 1);
	wr(&e, 0, APIC_SVR, 0x1ff);
	/* No timer: halted until an interrupt. */
	VH_EXPECT(halt(&e, 0, true, &wake));
	VH_EXPECT_EQ(wake, 0ull);
	/* A timer: halted until its expiry. */
	wr(&e, 0, APIC_TIMER_DCR, 0xb);
	wr(&e, 0, APIC_LVT_TIMER, 0x30);
	t0 = e.m.sp.now_ns;
	wr(&e, 0, APIC_TIMER_ICR, 5000);
	VH_EXPECT(halt(&e, 0, true, &wake));
	VH_EXPECT_EQ(wake, t0 + 5000 * VH_LAPIC_NS_PER_COUNT);
	/* The timer expired before the HLT: pending, the HLT goes on. */
	vh_sim_advance(&e.m.sp, 5000 * VH_LAPIC_NS_PER_COUNT);
	wake = 7;
	VH_EXPECT(!halt(&e, 0, true, &wake));
	VH_EXPECT_EQ(wake, 7ull);
	/* With IF clear a pending interrupt does not end the halt. */
	VH_EXPECT(halt(&e, 0, false, &wake));
	VH_EXPECT_EQ(wake, 0ull);
	/* Nor one the processor priority holds back (TPR 0x40 over 0x30). */
	wr(&e, 0, 0x80, 0x40);
	VH_EXPECT(halt(&e, 0, true, &wake));
	mem_env_fini(&e.m);
}

VH_TEST(vcpu, boot_steps_init_sipi_and_a_new_generation)
{
	struct apic_env e;
	struct vh_vcpu_boot b0 = { 0 }, b1 = { 0 };
	struct vh_vcpu_sipi sipi = { 0 };

	apic_env_init(&e, 2);
	/* vCPU 0 takes the boot state once; vCPU 1 waits for its SIPI. */
	VH_EXPECT_EQ(boot_next(&e, 0, &b0, &sipi), VH_VCPU_BOOT_RESET);
	VH_EXPECT_EQ(boot_next(&e, 0, &b0, &sipi), VH_VCPU_BOOT_LOAD);
	vh_vcpu_boot_started(&e.m.h, e.vm, &e.vm->vcpus[0], &b0);
	VH_EXPECT_EQ(boot_next(&e, 0, &b0, &sipi), VH_VCPU_BOOT_RUN);
	VH_EXPECT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_RESET);
	VH_EXPECT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_WAIT);
	/* INIT, then SIPI vector 0x12: vCPU 1 starts at 0x12000. */
	wr(&e, 0, APIC_SVR, 0x1ff);
	wr(&e, 0, APIC_ICR_HI, 1u << 24);
	wr(&e, 0, APIC_ICR_LO, 0x00004500);
	VH_EXPECT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_WAIT);
	wr(&e, 0, APIC_ICR_LO, 0x00004612);
	VH_ASSERT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_SIPI);
	VH_EXPECT_EQ(sipi.vector, 0x12);
	VH_EXPECT_EQ(sipi.cs_selector, 0x1200);
	VH_EXPECT_EQ(sipi.cs_base, 0x12000ull);
	vh_vcpu_boot_started(&e.m.h, e.vm, &e.vm->vcpus[1], &b1);
	VH_EXPECT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_RUN);
	/* The second SIPI of the pair finds it running: ignored. */
	wr(&e, 0, APIC_ICR_LO, 0x00004634);
	VH_EXPECT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_RUN);
	/* An INIT to vCPU 0 itself parks it too until a SIPI. */
	wr(&e, 1, APIC_ICR_HI, 0);
	wr(&e, 1, APIC_ICR_LO, 0x00004500);
	VH_EXPECT_EQ(boot_next(&e, 0, &b0, &sipi), VH_VCPU_BOOT_WAIT);
	/* A reset moves the boot generation: both start over. */
	VH_ASSERT_EQ(vh_vm_reset(&e.m.h, e.vm, NULL), VH_OK);
	VH_EXPECT_EQ(boot_next(&e, 0, &b0, &sipi), VH_VCPU_BOOT_RESET);
	VH_EXPECT(!b0.started);
	VH_EXPECT_EQ(boot_next(&e, 0, &b0, &sipi), VH_VCPU_BOOT_LOAD);
	VH_EXPECT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_RESET);
	VH_EXPECT_EQ(boot_next(&e, 1, &b1, &sipi), VH_VCPU_BOOT_WAIT);
	mem_env_fini(&e.m);
}
