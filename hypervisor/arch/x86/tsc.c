/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "tsc.h"
#include "vh/types.h"

#define PIT_HZ 1193182ull
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61            /* bit 0: ch2 gate, bit 1: speaker, bit 5: ch2 out */
#define PIT_CMD_CH2_MODE0 0xb0   /* channel 2, lo/hi byte, mode 0, binary */
#define CALIBRATE_MS 20ull
/* A dead PIT must not hang the boot: give up after this many polls. */
#define PIT_POLL_LIMIT 100000000ull

static uint64_t tsc_hz;
static uint64_t tsc_base;
static uint64_t ns_per_tick_32; /* ns per TSC tick, 32.32 */
static uint64_t ticks_per_ns_32; /* TSC ticks per ns, 32.32 */

static uint64_t mul_shift32(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) >> 32);
}

/* Mode 0 counts down from the loaded value and raises OUT at zero; the
 * gate starts it.  The TSC ticks counted meanwhile give its rate. */
static uint64_t measure(uint64_t pit_ticks)
{
	uint64_t start, polls = 0;
	uint8_t gate = inb(PIT_GATE);

	outb(PIT_GATE, (uint8_t)((gate & ~0x02) & ~0x01)); /* speaker off, gate low */
	outb(PIT_CMD, PIT_CMD_CH2_MODE0);
	outb(PIT_CH2, (uint8_t)pit_ticks);
	outb(PIT_CH2, (uint8_t)(pit_ticks >> 8));
	start = rdtsc();
	outb(PIT_GATE, (uint8_t)((gate & ~0x02) | 0x01)); /* gate high: count */
	while (!(inb(PIT_GATE) & 0x20) && ++polls < PIT_POLL_LIMIT)
		;
	uint64_t ticks = rdtsc() - start;
	outb(PIT_GATE, gate);
	return polls >= PIT_POLL_LIMIT ? 0 : ticks;
}

bool vh_tsc_calibrate(void)
{
	uint64_t pit_ticks = PIT_HZ * CALIBRATE_MS / 1000;
	uint64_t ticks = measure(pit_ticks);

	if (ticks == 0) {
		vh_console_printf("vh: the TSC or the PIT does not count; cannot keep time\n");
		return false;
	}
	/* ticks per PIT period -> Hz, rounded to a kHz (the PIT start-up
	 * latency is below that). */
	tsc_hz = ticks * PIT_HZ / pit_ticks;
	tsc_hz = (tsc_hz + 500) / 1000 * 1000;
	if (tsc_hz == 0)
		tsc_hz = 1000;
	ns_per_tick_32 = (VH_NSEC_PER_SEC << 32) / tsc_hz;
	ticks_per_ns_32 = (tsc_hz << 32) / VH_NSEC_PER_SEC;
	if (ticks_per_ns_32 == 0)
		ticks_per_ns_32 = 1;
	tsc_base = rdtsc();
	return true;
}

uint64_t vh_tsc_hz(void)
{
	return tsc_hz;
}

bool vh_tsc_invariant(void)
{
	return cpuid_max_ext() >= 0x80000007u &&
	       (cpuid_edx(0x80000007u) & CPUIDX7_EDX_INVARIANT_TSC);
}

uint64_t vh_tsc_to_ns(uint64_t ticks)
{
	return mul_shift32(ticks, ns_per_tick_32);
}

uint64_t vh_ns_to_tsc(uint64_t ns)
{
	return mul_shift32(ns, ticks_per_ns_32);
}

uint64_t vh_now_ns(void)
{
	uint64_t t = rdtsc();

	/* APs' TSCs start a little apart; time never runs backwards from
	 * the base. */
	return t > tsc_base ? vh_tsc_to_ns(t - tsc_base) : 0;
}

uint64_t vh_tsc_deadline(uint64_t tsc, uint64_t ns)
{
	uint64_t now = tsc > tsc_base ? vh_tsc_to_ns(tsc - tsc_base) : 0;
	uint64_t d;

	if (ns == UINT64_MAX)
		return UINT64_MAX;
	if (ns <= now)
		return tsc;
	/* Converted relative to now: over a quantum the fixed-point error
	 * is below a tick, where an absolute conversion drifts with uptime
	 * (the two multipliers are not exact inverses).  One tick more than
	 * the rounded-down span, so the clock has reached ns by then. */
	d = tsc + vh_ns_to_tsc(ns - now) + 1;
	return d < tsc ? UINT64_MAX : d;
}

void vh_delay_ns(uint64_t ns)
{
	uint64_t end = rdtsc() + (tsc_hz ? vh_ns_to_tsc(ns) : ns);

	while (rdtsc() < end)
		cpu_relax();
}
