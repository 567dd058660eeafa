/* SPDX-License-Identifier: Apache-2.0 */
/* The machine's own CMOS clock, read once at boot: the time of day the
 * guests' clocks start from (vh_cmos_wall_ns), carried on by the TSC.  A
 * second read after the first, while the clock is not updating (UIP), must
 * agree, so an update between two fields never gives a wrong time.  Bochs
 * sets its clock from `clock: time0=`; the century register is 0x32 where
 * the firmware keeps one, else 20xx is assumed. */
#include <stdbool.h>
#include <stdint.h>

#include "cmos.h"
#include "cpu.h"
#include "tsc.h"
#include "vh/devices.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define TRIES      1000

struct cmos_time {
	uint8_t sec, min, hour, mday, mon, year, century, b;
};

static uint64_t boot_wall_ns, boot_now_ns;

static uint8_t cmos(uint8_t reg)
{
	outb(CMOS_INDEX, reg | 0x80); /* NMIs stay masked while vh reads */
	return inb(CMOS_DATA);
}

static void read_all(struct cmos_time *t)
{
	while (cmos(0x0a) & 0x80)
		__asm__ volatile("pause");
	t->sec = cmos(0x00);
	t->min = cmos(0x02);
	t->hour = cmos(0x04);
	t->mday = cmos(0x07);
	t->mon = cmos(0x08);
	t->year = cmos(0x09);
	t->century = cmos(0x32);
	t->b = cmos(0x0b);
}

static bool same(const struct cmos_time *a, const struct cmos_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->mday == b->mday &&
	       a->mon == b->mon && a->year == b->year && a->century == b->century && a->b == b->b;
}

static int bin(const struct cmos_time *t, uint8_t v)
{
	return t->b & 0x04 ? v : (v >> 4) * 10 + (v & 0x0f);
}

void vh_cmos_init(void)
{
	struct cmos_time t, u;
	int hour, century, tries = 0;
	int64_t days, s;

	do {
		read_all(&t);
		read_all(&u);
	} while (!same(&t, &u) && ++tries < TRIES);
	hour = bin(&t, t.hour & 0x7f);
	if (!(t.b & 0x02)) /* 12-hour mode: bit 7 is PM */
		hour = hour % 12 + (t.hour & 0x80 ? 12 : 0);
	century = bin(&t, t.century);
	if (century < 19 || century > 99)
		century = 20;
	days = vh_days_from_civil(century * 100 + bin(&t, t.year), bin(&t, t.mon), bin(&t, t.mday));
	s = days * 86400 + hour * 3600 + bin(&t, t.min) * 60 + bin(&t, t.sec);
	boot_wall_ns = s > 0 ? (uint64_t)s * 1000000000ull : 0;
	boot_now_ns = vh_now_ns();
}

uint64_t vh_cmos_wall_ns(void)
{
	return boot_wall_ns + (vh_now_ns() - boot_now_ns);
}
