/* SPDX-License-Identifier: Apache-2.0 */
/* The PC platform's clock and power registers, as a guest kernel uses them:
 *   - the CMOS clock (0x70/0x71), read between updates: "power: rtc
 *     YYYY-MM-DD HH:MM:SS" (UTC), which the test script compares with the
 *     host's date;
 *   - the ACPI PM timer (0x608, 3.579545 MHz) over 50 ms of TSC, the TSC's
 *     rate taken from CPUID 0x15 (or 0x16): "power: pm timer N Hz" and a
 *     failure when it is off by more than 25% (not checked where CPUID
 *     gives no TSC rate, as under QEMU's default CPU);
 *   - reboots=N (default 0): the first N boots end in a reboot, through the
 *     keyboard controller (via=kbd, 0x64 <- 0xfe: Linux's reboot=k) or the
 *     ACPI reset register (via=acpi, 0x600 <- 1).  The boot count lives in
 *     CMOS RAM, which a reset keeps: "power: boot K";
 *   - then end=s5 powers the machine off through the ACPI sleep control
 *     register (0x601 <- SLP_TYP 5 | SLP_EN), end=exit (default) passes
 *     through isa-debug-exit.
 * A register that does not act prints "power: still running after ..."
 * and the guest fails. */
#include "lib/runtime.h"
#include "vh/acpi.h"

const char guest_name[] = "power";

#define CMOS_BOOT_MAGIC_REG 0x7d /* CMOS RAM no firmware uses */
#define CMOS_BOOT_COUNT_REG 0x7e
#define BOOT_MAGIC          0xb7
#define PM_WINDOW_DIV       20 /* 50 ms */

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_set(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

struct rtc_time {
	unsigned sec, min, hour, mday, mon, year, century;
};

static void rtc_read_once(struct rtc_time *t)
{
	while (cmos(0x0a) & 0x80)
		cpu_relax();
	t->sec = cmos(0x00);
	t->min = cmos(0x02);
	t->hour = cmos(0x04);
	t->mday = cmos(0x07);
	t->mon = cmos(0x08);
	t->year = cmos(0x09);
	t->century = cmos(0x32);
}

static unsigned from_bcd(unsigned v, bool bcd)
{
	return bcd ? (v >> 4) * 10 + (v & 0x0f) : v;
}

/* Twice the same between updates, so no field is from another second. */
static bool rtc_check(void)
{
	struct rtc_time a, b;
	uint8_t regb = cmos(0x0b);
	bool bcd = !(regb & 0x04), h24 = regb & 0x02;
	unsigned hour, year;

	do {
		rtc_read_once(&a);
		rtc_read_once(&b);
	} while (memcmp(&a, &b, sizeof(a)));
	hour = from_bcd(a.hour & 0x7f, bcd);
	if (!h24)
		hour = hour % 12 + (a.hour & 0x80 ? 12 : 0);
	year = from_bcd(a.century, bcd) * 100 + from_bcd(a.year, bcd);
	printf("power: rtc %04u-%02u-%02u %02u:%02u:%02u\n", year, from_bcd(a.mon, bcd),
	       from_bcd(a.mday, bcd), hour, from_bcd(a.min, bcd), from_bcd(a.sec, bcd));
	if (!(cmos(0x0d) & 0x80)) {
		printf("power: rtc register D says the clock is not valid\n");
		return false;
	}
	return year >= 2000;
}

/* The TSC's rate from CPUID, or 0. */
static uint32_t tsc_hz(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		uint32_t l[4];

		cpuid(0x15, 0, l);
		if (l[0] && l[1] && l[2])
			return l[2] / l[0] * l[1]; /* no 64-bit division here (no libgcc) */
	}
	if (r[0] >= 0x16) {
		cpuid(0x16, 0, r);
		if (r[0] & 0xffff)
			return (r[0] & 0xffff) * 1000000u;
	}
	return 0;
}

/* One PM timer read with the TSC read just before and after it: the
 * middle of the two is when it was read.  A read whose exit took longer
 * than a millisecond (the vCPU preempted on a loaded host) is taken
 * again, so the host's load does not land on one side of the ratio. */
static uint32_t pm_read_at(uint32_t hz, uint64_t *at)
{
	for (int tries = 0;; tries++) {
		uint64_t before = rdtsc();
		uint32_t pm = inl(VH_ACPI_PM_TMR_REG);
		uint64_t after = rdtsc();

		if (after - before < hz / 1000 || tries == 20) {
			*at = before + (after - before) / 2;
			return pm;
		}
	}
}

static bool pm_timer_check(void)
{
	uint32_t hz = tsc_hz(), t0, t1, rate, us;
	uint64_t at0, at1;

	if (!hz) {
		printf("power: pm timer rate not checked: no TSC rate in CPUID\n");
		return true;
	}
	/* A window the vCPU lost much of (over twice its length) is taken
	 * again: the arithmetic below wants it short. */
	for (int tries = 0; tries < 5; tries++) {
		t0 = pm_read_at(hz, &at0);
		while (rdtsc() - at0 < hz / PM_WINDOW_DIV)
			cpu_relax();
		t1 = pm_read_at(hz, &at1);
		if (at1 - at0 < 2ull * (hz / PM_WINDOW_DIV))
			break;
	}
	/* 32-bit arithmetic only (no libgcc): the elapsed time in
	 * microseconds (under 100 ms), then ticks per 100 us scaled up (at
	 * most about 360000 ticks, so ticks * 10000 fits). */
	us = (uint32_t)(at1 - at0) / (hz / 1000000u);
	rate = (t1 - t0) * 10000u / (us / 100u ? us / 100u : 1u);
	printf("power: pm timer %u Hz against a %u kHz TSC\n", rate, hz / 1000);
	return rate > VH_ACPI_PM_TMR_HZ / 4 * 3 && rate < VH_ACPI_PM_TMR_HZ / 4 * 5;
}

/* Spins a while after a register that should have ended this boot. */
static GUEST_NORETURN void still_running(const char *what)
{
	for (volatile uint32_t i = 0; i < 50000000u; i++)
		;
	printf("power: still running after %s\n", what);
	guest_exit(GUEST_FAIL);
}

unsigned guest_main(void)
{
	uint32_t reboots = arg_u32("reboots", 0);
	const char *via = arg("via"), *end = arg("end");
	bool kbd = !via || !strncmp(via, "kbd", 3), s5 = end && !strncmp(end, "s5", 2);
	unsigned boot = cmos(CMOS_BOOT_MAGIC_REG) == BOOT_MAGIC ? cmos(CMOS_BOOT_COUNT_REG) : 0;

	boot++;
	printf("power: boot %u\n", boot);
	if (!rtc_check() || !pm_timer_check()) {
		printf("power: failed\n");
		return GUEST_FAIL;
	}
	if (boot <= reboots) {
		cmos_set(CMOS_BOOT_COUNT_REG, (uint8_t)boot);
		cmos_set(CMOS_BOOT_MAGIC_REG, BOOT_MAGIC);
		printf("power: reboot through %s\n", kbd ? "the i8042" : "the ACPI reset register");
		console_flush();
		if (kbd)
			outb(0x64, 0xfe);
		else
			outb(VH_ACPI_RESET_REG, VH_ACPI_RESET_VALUE);
		still_running("the reset");
	}
	cmos_set(CMOS_BOOT_MAGIC_REG, 0);
	if (s5) {
		printf("power: S5\n");
		console_flush();
		outb(VH_ACPI_SLEEP_CONTROL_REG, VH_ACPI_S5_VALUE);
		still_running("S5");
	}
	printf("power: done\n");
	return GUEST_PASS;
}
