/* SPDX-License-Identifier: Apache-2.0 */
/* The CMOS clock: the platform's time of day in BCD and binary, 24- and
 * 12-hour mode, time passing (a day, a leap day), UIP, the guest setting
 * it (with and without SET), bad values ignored, the RAM and the clock
 * kept across a reset. */
#include "dev_env.h"

#define MON_2026_12_07_18_09_15 1796666955ull /* a Monday */
#define NS                      1000000000ull

static void rtc_env_init(struct dev_env *d)
{
	/* The platform's wall clock before the VM's first start. */
	mem_env_init(&d->m, 64);
	d->m.sp.wall_base_ns = MON_2026_12_07_18_09_15 * NS;
	d->m.sp.now_ns = 0;
	{
		struct vh_vm_config cfg;
		struct vh_error err = { 0 };

		vh_vm_config_default(&cfg);
		snprintf(cfg.name, sizeof(cfg.name), "g");
		cfg.memory_mib = 8;
		d->vm = vh_vm_define(&d->m.h, &cfg, &err);
		if (!d->vm || vh_vm_start(&d->m.h, d->vm, &err))
			VH_FAIL("vm: %s", err.reason);
	}
}

static uint32_t cmos(struct dev_env *d, uint8_t reg)
{
	out(d, 0x70, 1, reg);
	return in(d, 0x71, 1);
}

static void cmos_set(struct dev_env *d, uint8_t reg, uint8_t v)
{
	out(d, 0x70, 1, reg);
	out(d, 0x71, 1, v);
}

/* sec, min, hour, wday, mday, mon, year, century as read. */
static void expect_time(struct dev_env *d, const uint8_t want[8], int line)
{
	static const uint8_t regs[8] = { 0, 2, 4, 6, 7, 8, 9, 0x32 };

	for (int i = 0; i < 8; i++) {
		uint32_t got = cmos(d, regs[i]);

		if (got != want[i])
			VH_FAIL("line %d: register %#x is %#x, want %#x", line, regs[i], got,
				want[i]);
	}
}

VH_TEST(rtc, the_hosts_time_of_day_in_bcd_24_hour)
{
	struct dev_env d;
	const uint8_t bcd[8] = { 0x15, 0x09, 0x18, 0x02, 0x07, 0x12, 0x26, 0x20 };

	rtc_env_init(&d);
	VH_EXPECT_EQ(cmos(&d, 0x0b), 0x02u); /* 24-hour, BCD */
	VH_EXPECT_EQ(cmos(&d, 0x0a) & 0x7fu, 0x26u);
	VH_EXPECT_EQ(cmos(&d, 0x0d), 0x80u); /* VRT: the battery is good */
	expect_time(&d, bcd, __LINE__);
	mem_env_fini(&d.m);
}

VH_TEST(rtc, binary_and_12_hour_modes)
{
	struct dev_env d;
	const uint8_t bin[8] = { 15, 9, 18, 2, 7, 12, 26, 20 };

	rtc_env_init(&d);
	cmos_set(&d, 0x0b, 0x06); /* binary, 24-hour */
	expect_time(&d, bin, __LINE__);
	cmos_set(&d, 0x0b, 0x04); /* binary, 12-hour: 6 PM */
	VH_EXPECT_EQ(cmos(&d, 0x04), 0x86u);
	cmos_set(&d, 0x0b, 0x00); /* BCD, 12-hour */
	VH_EXPECT_EQ(cmos(&d, 0x04), 0x86u);
	/* Writing 12-hour values: 12 AM is midnight. */
	cmos_set(&d, 0x04, 0x12);
	cmos_set(&d, 0x0b, 0x02);
	VH_EXPECT_EQ(cmos(&d, 0x04), 0x00u);
	mem_env_fini(&d.m);
}

VH_TEST(rtc, time_passes_with_the_platform_clock)
{
	struct dev_env d;
	/* 18:09:15 + 5 h 50 min 45 s + 1 s: Tuesday 2026-12-08 00:00:01. */
	const uint8_t next_day[8] = { 0x01, 0x00, 0x00, 0x03, 0x08, 0x12, 0x26, 0x20 };
	const uint8_t leap_day[8] = { 0x00, 0x00, 0x00, 0x05, 0x29, 0x02, 0x24, 0x20 };

	rtc_env_init(&d);
	vh_sim_advance(&d.m.sp, (5 * 3600 + 50 * 60 + 46) * NS);
	expect_time(&d, next_day, __LINE__);
	/* The wall clock jumping later changes nothing: the clock counts the
	 * platform's monotonic time from the first start. */
	d.m.sp.wall_base_ns += 86400 * NS;
	expect_time(&d, next_day, __LINE__);
	/* The guest sets 2024-02-28 23:59:59 (BCD, one field at a time). */
	cmos_set(&d, 0x09, 0x24);
	cmos_set(&d, 0x08, 0x02);
	cmos_set(&d, 0x07, 0x28);
	cmos_set(&d, 0x04, 0x23);
	cmos_set(&d, 0x02, 0x59);
	cmos_set(&d, 0x00, 0x59);
	vh_sim_advance(&d.m.sp, NS);
	expect_time(&d, leap_day, __LINE__); /* a Thursday */
	mem_env_fini(&d.m);
}

VH_TEST(rtc, set_holds_the_clock_and_bad_values_are_ignored)
{
	struct dev_env d;

	rtc_env_init(&d);
	cmos_set(&d, 0x0b, 0x82); /* SET */
	cmos_set(&d, 0x00, 0x30);
	vh_sim_advance(&d.m.sp, 5 * NS);
	VH_EXPECT_EQ(cmos(&d, 0x00), 0x30u);
	VH_EXPECT_EQ(cmos(&d, 0x0a) & 0x80u, 0u); /* no update in progress while held */
	cmos_set(&d, 0x0b, 0x02);
	vh_sim_advance(&d.m.sp, 2 * NS);
	VH_EXPECT_EQ(cmos(&d, 0x00), 0x32u);
	/* Not BCD, out of range: the clock keeps its time. */
	cmos_set(&d, 0x02, 0x7a);
	cmos_set(&d, 0x08, 0x13);
	cmos_set(&d, 0x04, 0x24);
	cmos_set(&d, 0x06, 0x07); /* the weekday follows the date */
	VH_EXPECT_EQ(cmos(&d, 0x02), 0x09u);
	VH_EXPECT_EQ(cmos(&d, 0x08), 0x12u);
	VH_EXPECT_EQ(cmos(&d, 0x04), 0x18u);
	VH_EXPECT_EQ(cmos(&d, 0x06), 0x02u);
	/* C and D ignore writes. */
	cmos_set(&d, 0x0d, 0x00);
	VH_EXPECT_EQ(cmos(&d, 0x0d), 0x80u);
	mem_env_fini(&d.m);
}

VH_TEST(rtc, uip_before_each_update_and_uf_after)
{
	struct dev_env d;

	rtc_env_init(&d);
	cmos(&d, 0x0c);
	VH_EXPECT_EQ(cmos(&d, 0x0c), 0u);     /* no second passed */
	vh_sim_advance(&d.m.sp, NS - 100000); /* 100 us before the update */
	VH_EXPECT_EQ(cmos(&d, 0x0a), 0xa6u);
	vh_sim_advance(&d.m.sp, 200000);
	VH_EXPECT_EQ(cmos(&d, 0x0a), 0x26u);
	VH_EXPECT_EQ(cmos(&d, 0x0c), 0x10u); /* UF, cleared by the read */
	VH_EXPECT_EQ(cmos(&d, 0x0c), 0u);
	mem_env_fini(&d.m);
}

VH_TEST(rtc, ram_and_clock_survive_a_reset_nmi_bit_ignored)
{
	struct dev_env d;
	struct vh_error err = { 0 };

	rtc_env_init(&d);
	for (unsigned r = 0x0e; r < 0x80; r++) {
		if (r == 0x32)
			continue;
		out(&d, 0x70, 1, 0x80 | r); /* NMI mask bit set: same register */
		out(&d, 0x71, 1, r ^ 0x5a);
	}
	cmos_set(&d, 0x09, 0x30);
	VH_ASSERT_EQ(vh_vm_reset(&d.m.h, d.vm, &err), VH_OK);
	VH_ASSERT_EQ(vh_vm_stop(&d.m.h, d.vm, &err), VH_OK);
	VH_ASSERT_EQ(vh_vm_start(&d.m.h, d.vm, &err), VH_OK);
	for (unsigned r = 0x0e; r < 0x80; r++) {
		if (r != 0x32 && cmos(&d, (uint8_t)r) != (r ^ 0x5a))
			VH_FAIL("CMOS RAM %#x lost", r);
	}
	VH_EXPECT_EQ(cmos(&d, 0x09), 0x30u);
	VH_EXPECT_EQ(in(&d, 0x70, 1), 0x09u); /* the index reads back */
	mem_env_fini(&d.m);
}

VH_TEST(rtc, civil_days)
{
	VH_EXPECT_EQ(vh_days_from_civil(1970, 1, 1), 0);
	VH_EXPECT_EQ(vh_days_from_civil(2000, 3, 1), 11017);
	VH_EXPECT_EQ(vh_days_from_civil(1969, 12, 31), -1);
	VH_EXPECT_EQ(vh_days_from_civil(2026, 12, 7) * 86400 + 18 * 3600 + 9 * 60 + 15,
		     (int64_t)MON_2026_12_07_18_09_15);
}
