/* SPDX-License-Identifier: Apache-2.0 */
/* The PC's CMOS clock (an MC146818A) at 0x70 (index; bit 7, the NMI
 * mask, is ignored) and 0x71 (data): the host's time of day (UTC) when the
 * VM first started plus the time elapsed since on the platform clock, so a
 * guest boots with the right date and its clock never jumps with the
 * host's.  Register B picks BCD or binary (DM) and 24- or 12-hour mode;
 * the century is at 0x32 (the FADT leaves its CENTURY field 0, naming
 * none).  A guest may set the clock (with or without B's SET bit, which
 * holds it until cleared); values out of a register's range are ignored,
 * the clock keeps its time.
 *
 * Like the battery-backed part it models, the clock, registers A and B and
 * the 114 bytes of RAM (0x0e..0x7f) outlive a reset and a power cycle of
 * the VM; only the index starts over.  Register C reports the update flag
 * (UF) once per second; the RTC raises no interrupt (IRQ 8 stays low): a
 * guest that wants periodic ones has the local APIC timer. */
#include "dev_internal.h"
#include "vh/acpi.h"
#include "vh/string.h"

#define NS_PER_S 1000000000ll
#define UIP_NS   244000ll /* UIP is set this long before each update */

enum {
	R_SEC = 0x00,
	R_MIN = 0x02,
	R_HOUR = 0x04,
	R_WDAY = 0x06,
	R_MDAY = 0x07,
	R_MON = 0x08,
	R_YEAR = 0x09,
	R_A = 0x0a,
	R_B = 0x0b,
	R_C = 0x0c,
	R_D = 0x0d,
	R_RAM = 0x0e,
};

#define A_UIP     0x80u
#define A_DEFAULT 0x26u /* 32.768 kHz time base, 1024 Hz rate select */
#define B_SET     0x80u
#define B_UIE     0x10u
#define B_DM      0x04u /* binary, not BCD */
#define B_24H     0x02u
#define C_UF      0x10u
#define D_VRT     0x80u /* the battery is good */
#define HOUR_PM   0x80u /* 12-hour mode */

/* ---- civil dates (proleptic Gregorian, days since 1970-01-01) ----------- */

struct tm_rtc {
	int64_t year;
	int mon, mday, hour, min, sec, wday; /* mon 1..12, mday 1..31, wday 0 = Sunday */
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* H. Hinnant's days_from_civil (vh/devices.h) and civil_from_days, exact for any year
 * an 8-bit century register can name. */
int64_t vh_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, struct tm_rtc *t)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	t->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	t->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	t->year = yoe + era * 400 + (t->mon <= 2);
}

static void tm_from_seconds(int64_t s, struct tm_rtc *t)
{
	int64_t days = floor_div(s, 86400), rest = s - days * 86400;

	civil_from_days(days, t);
	t->hour = (int)(rest / 3600);
	t->min = (int)(rest / 60 % 60);
	t->sec = (int)(rest % 60);
	t->wday = (int)(days + 4 - floor_div(days + 4, 7) * 7); /* 1970-01-01: Thursday */
}

static int64_t seconds_from_tm(const struct tm_rtc *t)
{
	return vh_days_from_civil(t->year, t->mon, t->mday) * 86400 + t->hour * 3600 + t->min * 60 +
	       t->sec;
}

/* ---- the clock ----------------------------------------------------------- */

/* The host's time of day now, in ns: its value at the first start plus the
 * platform clock since. */
static int64_t host_ns(const struct vh_rtc *r, const struct vh_bus *bus)
{
	uint64_t now = vh_dev_now(bus);

	return (int64_t)(r->base_wall_ns + (now > r->base_now_ns ? now - r->base_now_ns : 0));
}

static int64_t guest_seconds(const struct vh_rtc *r, const struct vh_bus *bus)
{
	return r->held ? r->held_s : floor_div(host_ns(r, bus), NS_PER_S) + r->offset_s;
}

static void set_guest_seconds(struct vh_rtc *r, const struct vh_bus *bus, int64_t s)
{
	if (r->held)
		r->held_s = s;
	else
		r->offset_s = s - floor_div(host_ns(r, bus), NS_PER_S);
}

void vh_rtc_reset(void *rtc, const struct vh_bus *bus)
{
	struct vh_rtc *r = rtc;

	r->index = 0;
	if (r->started)
		return; /* battery-backed: the clock, A, B and the RAM go on */
	r->started = true;
	r->base_wall_ns = vh_dev_wall(bus);
	r->base_now_ns = vh_dev_now(bus);
	r->a = A_DEFAULT;
	r->b = B_24H;
	r->last_uf_s = guest_seconds(r, bus);
}

/* ---- register encoding ------------------------------------------------------ */

static uint8_t encode(const struct vh_rtc *r, int v)
{
	return (uint8_t)(r->b & B_DM ? v : (v / 10) << 4 | v % 10);
}

/* The value of a written byte, or -1 when it is not a valid number
 * (a BCD digit over 9). */
static int decode(const struct vh_rtc *r, uint8_t v)
{
	if (r->b & B_DM)
		return v;
	if ((v & 0x0f) > 9 || (v >> 4) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t encode_hour(const struct vh_rtc *r, int hour)
{
	int h12;

	if (r->b & B_24H)
		return encode(r, hour);
	h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(encode(r, h12) | (hour >= 12 ? HOUR_PM : 0));
}

static int decode_hour(const struct vh_rtc *r, uint8_t v)
{
	int h;

	if (r->b & B_24H)
		return decode(r, v);
	h = decode(r, v & (uint8_t)~HOUR_PM);
	if (h < 1 || h > 12)
		return -1;
	return h % 12 + (v & HOUR_PM ? 12 : 0);
}

static uint8_t read_reg(struct vh_rtc *r, const struct vh_bus *bus, uint8_t idx)
{
	struct tm_rtc t;
	int64_t s = guest_seconds(r, bus);
	uint8_t v;

	tm_from_seconds(s, &t);
	switch (idx) {
	case R_SEC: return encode(r, t.sec);
	case R_MIN: return encode(r, t.min);
	case R_HOUR: return encode_hour(r, t.hour);
	case R_WDAY: return encode(r, t.wday + 1);
	case R_MDAY: return encode(r, t.mday);
	case R_MON: return encode(r, t.mon);
	case R_YEAR: return encode(r, (int)(t.year - floor_div(t.year, 100) * 100));
	case VH_ACPI_RTC_CENTURY: return encode(r, (int)floor_div(t.year, 100) & 0x7f);
	case R_A: {
		int64_t frac = host_ns(r, bus) - floor_div(host_ns(r, bus), NS_PER_S) * NS_PER_S;

		return (uint8_t)(r->a | (!r->held && frac >= NS_PER_S - UIP_NS ? A_UIP : 0));
	}
	case R_B: return r->b;
	case R_C:
		/* UF once per second that passed since the last read; reading
		 * clears the flags. */
		v = s != r->last_uf_s && !r->held ? C_UF : 0;
		r->last_uf_s = s;
		return v;
	case R_D: return D_VRT;
	case 0x01:
	case 0x03:
	case 0x05: return r->alarm[idx >> 1];
	default: return r->ram[idx - R_RAM];
	}
}

/* A write to one of the clock's fields: the field changes, the others
 * keep their value; out of range: ignored. */
static void write_time(struct vh_rtc *r, const struct vh_bus *bus, uint8_t idx, uint8_t v)
{
	struct tm_rtc t;
	int n = idx == R_HOUR ? decode_hour(r, v) : decode(r, v);

	tm_from_seconds(guest_seconds(r, bus), &t);
	switch (idx) {
	case R_SEC:
		if (n < 0 || n > 59)
			return;
		t.sec = n;
		break;
	case R_MIN:
		if (n < 0 || n > 59)
			return;
		t.min = n;
		break;
	case R_HOUR:
		if (n < 0 || n > 23)
			return;
		t.hour = n;
		break;
	case R_MDAY:
		if (n < 1 || n > 31)
			return;
		t.mday = n;
		break;
	case R_MON:
		if (n < 1 || n > 12)
			return;
		t.mon = n;
		break;
	case R_YEAR:
		if (n < 0 || n > 99)
			return;
		t.year = floor_div(t.year, 100) * 100 + n;
		break;
	default: /* VH_ACPI_RTC_CENTURY */
		if (n < 0 || n > 99)
			return;
		t.year = n * 100 + (t.year - floor_div(t.year, 100) * 100);
		break;
	}
	/* Day 31 of a 30-day month runs into the next, as days_from_civil
	 * counts it: the clock stays a valid date. */
	set_guest_seconds(r, bus, seconds_from_tm(&t));
}

static void write_reg(struct vh_rtc *r, const struct vh_bus *bus, uint8_t idx, uint8_t v)
{
	switch (idx) {
	case R_SEC:
	case R_MIN:
	case R_HOUR:
	case R_MDAY:
	case R_MON:
	case R_YEAR:
	case VH_ACPI_RTC_CENTURY: write_time(r, bus, idx, v); return;
	case R_WDAY: return; /* kept from the date, whatever is written */
	case R_A: r->a = v & (uint8_t)~A_UIP; return;
	case R_B:
		if ((v & B_SET) && !r->held) {
			r->held_s = guest_seconds(r, bus);
			r->held = true;
		} else if (!(v & B_SET) && r->held) {
			r->held = false;
			set_guest_seconds(r, bus, r->held_s);
		}
		/* SET clears UIE, as the part does. */
		r->b = v & B_SET ? v & (uint8_t)~B_UIE : v;
		return;
	case R_C:
	case R_D: return; /* read-only */
	case 0x01:
	case 0x03:
	case 0x05: r->alarm[idx >> 1] = v; return;
	default: r->ram[idx - R_RAM] = v; return;
	}
}

enum vh_io_result vh_rtc_io(void *rtc, const struct vh_dev_access *a)
{
	struct vh_rtc *r = rtc;
	uint8_t v = (uint8_t)*a->value;

	if (a->offset == 0) {
		if (a->is_write)
			r->index = v & 0x7f; /* bit 7 masks NMIs on a PC: no NMI here */
		else
			*a->value = r->index;
		return VH_IO_HANDLED;
	}
	if (a->is_write)
		write_reg(r, a->bus, r->index, v);
	else
		*a->value = read_reg(r, a->bus, r->index);
	return VH_IO_HANDLED;
}
