/* SPDX-License-Identifier: Apache-2.0 */
/* The local APIC model: registers, INIT-SIPI-SIPI start-up, IPIs,
 * interrupt priority and EOI, the timer in one-shot and periodic modes. */
#include "apic_env.h"
#include "vh/cpuid.h"

#define NS VH_LAPIC_NS_PER_COUNT /* platform ns a count at divide by 1 */

VH_TEST(lapic, registers_after_reset)
{
	struct apic_env e;
	uint64_t v = 7;

	apic_env_init(&e, 3);
	VH_EXPECT_EQ(rd(&e, 0, 0x20), 0u);
	VH_EXPECT_EQ(rd(&e, 2, 0x20), 2u << 24);
	VH_EXPECT_EQ(rd(&e, 1, 0x30), VH_LAPIC_VERSION);
	VH_EXPECT_EQ(rd(&e, 0, 0xf0), 0xffu);
	VH_EXPECT_EQ(rd(&e, 0, 0xe0), 0xffffffffu);
	VH_EXPECT_EQ(rd(&e, 0, 0x320), 0x10000u); /* LVT timer masked */
	VH_EXPECT_EQ(rd(&e, 0, 0x370), 0x10000u);
	wr(&e, 0, 0x80, 0x20);
	VH_EXPECT_EQ(rd(&e, 0, 0x80), 0x20u);
	VH_EXPECT_EQ(rd(&e, 0, 0xa0), 0x20u);
	/* Each vCPU has its own registers. */
	VH_EXPECT_EQ(rd(&e, 1, 0x80), 0u);
	/* Odd widths and offsets read zero and are dropped. */
	VH_EXPECT_EQ(
	    (int)vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], VH_LAPIC_BASE + 0x80, 1, false, &v),
	    (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(v, 0ull);
	VH_EXPECT_EQ(rd(&e, 0, 0x84), 0u);
	/* Outside the APIC page: not a device. */
	VH_EXPECT_EQ((int)vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], VH_LAPIC_BASE + 0x1000, 4,
					  false, &v),
		     (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ((int)vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], VH_LAPIC_BASE + 0xffe, 4,
					  false, &v),
		     (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ((int)vh_devices_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], 0xfed00000, 4, false, &v),
		     (int)VH_IO_UNHANDLED);
	mem_env_fini(&e.m);
}

VH_TEST(lapic, init_sipi_sipi_starts_the_aps_once)
{
	struct apic_env e;
	uint8_t vec = 0;

	apic_env_init(&e, 3);
	VH_EXPECT_EQ(run_state(&e, 0, &vec), VH_LAPIC_RUNNING);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_WAIT_SIPI);
	VH_EXPECT_EQ(run_state(&e, 2, &vec), VH_LAPIC_WAIT_SIPI);
	wr(&e, 0, 0xf0, 0x1ff);
	/* INIT to all but self, then SIPI vector 8 twice. */
	wr(&e, 0, 0x310, 0);
	wr(&e, 0, 0x300, 0x000c4500);
	VH_EXPECT_EQ(rd(&e, 0, 0x300) & 0x1000, 0u); /* delivered */
	VH_EXPECT_EQ(run_state(&e, 0, &vec), VH_LAPIC_RUNNING);
	wr(&e, 0, 0x300, 0x000c4608);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_SIPI);
	VH_EXPECT_EQ(vec, 8);
	VH_EXPECT_EQ(run_state(&e, 2, &vec), VH_LAPIC_SIPI);
	vh_lapic_started(&e.m.h, e.vm, &e.vm->vcpus[1]);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_RUNNING);
	/* The second SIPI finds AP 1 running and AP 2 already told: a new
	 * vector changes nothing. */
	wr(&e, 0, 0x300, 0x000c4609);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_RUNNING);
	VH_EXPECT_EQ(run_state(&e, 2, &vec), VH_LAPIC_SIPI);
	VH_EXPECT_EQ(vec, 8);
	/* A physical INIT to APIC 1 only, and the de-assert that follows. */
	wr(&e, 0, 0x310, 1u << 24);
	wr(&e, 0, 0x300, 0x00004500);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_WAIT_SIPI);
	vh_lapic_started(&e.m.h, e.vm, &e.vm->vcpus[1]); /* not after a SIPI: no effect */
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_WAIT_SIPI);
	wr(&e, 0, 0x300, 0x00008500);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_WAIT_SIPI);
	wr(&e, 0, 0x300, 0x00004620);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_SIPI);
	VH_EXPECT_EQ(vec, 0x20);
	/* A reset of the VM puts the APs back to waiting. */
	VH_ASSERT_EQ(vh_vm_reset(&e.m.h, e.vm, NULL), VH_OK);
	VH_EXPECT_EQ(run_state(&e, 1, &vec), VH_LAPIC_WAIT_SIPI);
	VH_EXPECT_EQ(run_state(&e, 0, &vec), VH_LAPIC_RUNNING);
	mem_env_fini(&e.m);
}

VH_TEST(lapic, fixed_ipis_priority_and_eoi)
{
	struct apic_env e;

	apic_env_init(&e, 2);
	/* Start vCPU 1: only a running vCPU takes interrupts. */
	wr(&e, 0, 0x300, 0x000c4500);
	wr(&e, 0, 0x300, 0x000c4608);
	VH_EXPECT_EQ(pending(&e, 1), -1);
	vh_lapic_started(&e.m.h, e.vm, &e.vm->vcpus[1]);
	/* Nothing is delivered while the APIC is software-disabled. */
	VH_ASSERT(vh_lapic_raise(&e.m.h, e.vm, 0, 0x40));
	VH_EXPECT_EQ(pending(&e, 0), -1);
	wr(&e, 0, 0xf0, 0x1ff);
	VH_EXPECT_EQ(pending(&e, 0), 0x40);
	VH_EXPECT_EQ(rd(&e, 0, 0x200 + 0x20), 1u); /* IRR bit 64 */
	/* A fixed IPI from vCPU 1 to APIC 0, physical. */
	wr(&e, 1, 0x310, 0);
	wr(&e, 1, 0x300, 0x00000050);
	VH_EXPECT_EQ(pending(&e, 0), 0x50);
	vh_lapic_ack(&e.m.h, e.vm, &e.vm->vcpus[0], 0x50);
	VH_EXPECT_EQ(rd(&e, 0, 0x100 + 0x20), 1u << 16); /* ISR bit 80 */
	/* 0x40 waits: its class is below the one in service. */
	VH_EXPECT_EQ(pending(&e, 0), -1);
	VH_EXPECT_EQ(rd(&e, 0, 0xa0), 0x50u);
	wr(&e, 0, 0xb0, 0);
	VH_EXPECT_EQ(pending(&e, 0), 0x40);
	/* TPR holds it off too. */
	wr(&e, 0, 0x80, 0x40);
	VH_EXPECT_EQ(pending(&e, 0), -1);
	wr(&e, 0, 0x80, 0x30);
	VH_EXPECT_EQ(pending(&e, 0), 0x40);
	/* Self IPI shorthand; logical flat destination. */
	wr(&e, 1, 0xf0, 0x1ff);
	wr(&e, 1, 0x300, 0x00040061);
	VH_EXPECT_EQ(pending(&e, 1), 0x61);
	wr(&e, 1, 0xd0, 0x02000000);
	wr(&e, 0, 0x310, 0x02000000);
	wr(&e, 0, 0x300, 0x00000870);
	VH_EXPECT_EQ(pending(&e, 1), 0x70);
	/* Bad raises. */
	VH_EXPECT(!vh_lapic_raise(&e.m.h, e.vm, 2, 0x40));
	VH_EXPECT(!vh_lapic_raise(&e.m.h, e.vm, 0, 15));
	mem_env_fini(&e.m);
}

VH_TEST(lapic, timer_one_shot_and_periodic)
{
	struct apic_env e;
	struct vh_vcpu *v;

	apic_env_init(&e, 1);
	v = &e.vm->vcpus[0];
	wr(&e, 0, 0xf0, 0x1ff);
	VH_EXPECT_EQ(vh_lapic_timer_deadline(&e.m.h, e.vm, v), UINT64_MAX);
	wr(&e, 0, 0x3e0, 0x3);  /* divide by 16 */
	wr(&e, 0, 0x320, 0x30); /* one-shot, vector 0x30 */
	uint64_t t0 = e.m.sp.now_ns;
	wr(&e, 0, 0x380, 1000);
	VH_EXPECT_EQ(vh_lapic_timer_deadline(&e.m.h, e.vm, v), t0 + 16000 * NS);
	vh_sim_advance(&e.m.sp, 8000 * NS);
	VH_EXPECT_EQ(rd(&e, 0, 0x390), 500u);
	vh_lapic_tick(&e.m.h, e.vm, v, e.m.sp.now_ns);
	VH_EXPECT_EQ(pending(&e, 0), -1);
	vh_sim_advance(&e.m.sp, 9000 * NS);
	vh_lapic_tick(&e.m.h, e.vm, v, e.m.sp.now_ns);
	VH_EXPECT_EQ(pending(&e, 0), 0x30);
	VH_EXPECT_EQ(rd(&e, 0, 0x390), 0u);
	VH_EXPECT_EQ(vh_lapic_timer_deadline(&e.m.h, e.vm, v), UINT64_MAX);
	vh_lapic_ack(&e.m.h, e.vm, v, 0x30);
	wr(&e, 0, 0xb0, 0);
	/* Periodic, divide by 1: every 100 counts; missed periods latch one
	 * interrupt and the next deadline stays on the period grid. */
	wr(&e, 0, 0x3e0, 0xb);
	wr(&e, 0, 0x320, 0x20031);
	t0 = e.m.sp.now_ns;
	wr(&e, 0, 0x380, 100);
	vh_sim_advance(&e.m.sp, 350 * NS);
	VH_EXPECT_EQ(rd(&e, 0, 0x390), 50u);
	vh_lapic_tick(&e.m.h, e.vm, v, e.m.sp.now_ns);
	VH_EXPECT_EQ(pending(&e, 0), 0x31);
	VH_EXPECT_EQ(vh_lapic_timer_deadline(&e.m.h, e.vm, v), t0 + 400 * NS);
	/* Masked: the timer runs but raises nothing. */
	vh_lapic_ack(&e.m.h, e.vm, v, 0x31);
	wr(&e, 0, 0xb0, 0);
	wr(&e, 0, 0x320, 0x30031);
	vh_sim_advance(&e.m.sp, 100 * NS);
	vh_lapic_tick(&e.m.h, e.vm, v, e.m.sp.now_ns);
	VH_EXPECT_EQ(pending(&e, 0), -1);
	/* Initial count 0 stops it. */
	wr(&e, 0, 0x380, 0);
	VH_EXPECT_EQ(vh_lapic_timer_deadline(&e.m.h, e.vm, v), UINT64_MAX);
	/* Disabling the APIC masks every LVT. */
	wr(&e, 0, 0x320, 0x31);
	wr(&e, 0, 0xf0, 0xff);
	VH_EXPECT_EQ(rd(&e, 0, 0x320) & 0x10000, 0x10000u);
	mem_env_fini(&e.m);
}

/* The timer counts at the crystal CPUID leaf 0x15 advertises (ECX, as
 * both back ends fill it from VH_LAPIC_BUS_HZ), for every divider: an
 * initial count N at divide D fires after N * D / crystal seconds of
 * platform time, and the current count falls at crystal / D a second.
 * Linux programs the timer from that ECX and calibrates nothing. */
VH_TEST(lapic, timer_ticks_at_the_crystal_cpuid_advertises)
{
	static const struct {
		uint32_t dcr, div;
	} divs[] = { { 0xb, 1 },  { 0x0, 2 },  { 0x1, 4 },  { 0x2, 8 },
		     { 0x3, 16 }, { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 } };
	static const uint32_t counts[] = { 1, 25, 1000, 250000, 0xffffffffu };
	struct vh_cpuid_vm model = { .vcpus = 1,
				     .tsc_hz = 2893337000ull,
				     .bus_hz = VH_LAPIC_BUS_HZ };
	struct vh_cpuid_host host = { .raw = 0 };
	uint32_t r[4];
	struct apic_env e;
	struct vh_vcpu *v;

	VH_ASSERT(vh_cpuid_model(&host, &model, VH_CPUID_TSC_LEAF, 0, r));
	VH_ASSERT_NE(r[2], 0u);
	apic_env_init(&e, 1);
	v = &e.vm->vcpus[0];
	wr(&e, 0, 0xf0, 0x1ff);
	wr(&e, 0, 0x320, 0x30); /* one-shot, vector 0x30 */
	for (size_t i = 0; i < sizeof(divs) / sizeof(divs[0]); i++) {
		for (size_t j = 0; j < sizeof(counts) / sizeof(counts[0]); j++) {
			uint64_t n = counts[j], d = divs[i].div, t0 = e.m.sp.now_ns;
			uint64_t ns = (uint64_t)((unsigned __int128)n * d * 1000000000u / r[2]);
			uint64_t half = ns / 2;

			wr(&e, 0, 0x3e0, divs[i].dcr);
			wr(&e, 0, 0x380, (uint32_t)n);
			VH_EXPECT_EQ(vh_lapic_timer_deadline(&e.m.h, e.vm, v), t0 + ns);
			/* Half way: the counts gone are the crystal's ticks / D. */
			vh_sim_advance(&e.m.sp, half);
			VH_EXPECT_EQ(rd(&e, 0, 0x390), n - (uint64_t)((unsigned __int128)half *
								      r[2] / 1000000000u / d));
			vh_lapic_tick(&e.m.h, e.vm, v, e.m.sp.now_ns);
			VH_EXPECT_EQ(pending(&e, 0), -1);
			/* One ns early: not yet; on time: fired. */
			vh_sim_advance(&e.m.sp, ns - half - 1);
			vh_lapic_tick(&e.m.h, e.vm, v, e.m.sp.now_ns);
			VH_EXPECT_EQ(pending(&e, 0), -1);
			VH_EXPECT_NE(rd(&e, 0, 0x390), 0u);
			vh_sim_advance(&e.m.sp, 1);
			vh_lapic_tick(&e.m.h, e.vm, v, e.m.sp.now_ns);
			VH_EXPECT_EQ(pending(&e, 0), 0x30);
			VH_EXPECT_EQ(rd(&e, 0, 0x390), 0u);
			vh_lapic_ack(&e.m.h, e.vm, v, 0x30);
			wr(&e, 0, 0xb0, 0);
		}
	}
	mem_env_fini(&e.m);
}
