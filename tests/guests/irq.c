/* SPDX-License-Identifier: Apache-2.0 */
/* Interrupt delivery through the local APIC while the guest makes only
 * exits that skip the hypervisor's APIC check (CPUID), and across the
 * ones that must not skip it (APIC writes, the interrupt window, HLT).
 * vh looks at a vCPU's APIC before an entry only after such an exit, at
 * the APIC timer's deadline, or at the start of a quantum; this guest
 * checks that nothing is late because of that:
 *   - a self-IPI sent with interrupts off arrives soon after STI (the
 *     interrupt-window exit);
 *   - with the task priority above its class it waits, and arrives when
 *     the TPR comes down (an APIC write);
 *   - a one-shot timer fires on time while the guest loops on CPUID;
 *   - a periodic timer keeps its period in the same loop;
 *   - a one-shot timer wakes the guest from HLT.
 *   - the APIC timer counts at the crystal CPUID leaf 0x15 advertises and
 *     the TSC at the rate the same leaf gives (as Linux reads them: it
 *     calibrates neither when they are there).
 * Times come from RDTSC, calibrated against the APIC timer, whose rate is
 * leaf 0x15's crystal (vh), or QEMU's 1 GHz bus where the leaf is absent
 * (QEMU's models stop at leaf 0xd).  Command line: slack_us=N
 * (default 100): how late a timer may fire; 0 only checks that it fires
 * (QEMU under a loaded host, where the calibration itself drifts);
 * hlt_slack_us=N (default slack_us): the same for the timer that wakes a
 * HLT, whose path through the hypervisor (the halted vCPU's pCPU idles,
 * its timer wakes it, the scheduler dispatches the vCPU, the interrupt is
 * injected) is the longest.  Output: one "irq: ..." line per
 * check, then "irq: done, N failed"; exits GUEST_PASS when none failed. */
#include "lib/runtime.h"

const char guest_name[] = "irq";

#define LAPIC           0xfee00000u
#define LAPIC_TPR       0x80
#define LAPIC_EOI       0xb0
#define LAPIC_SVR       0xf0
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0
#define LVT_MASKED      0x10000u
#define LVT_PERIODIC    0x20000u
#define ICR_SELF        (1u << 18)
#define VEC_TIMER       0x40
#define VEC_IPI         0x41
#define VEC_SPURIOUS    0xff
#define IDT_ENTRIES     256
#define CPUID_CAP       2000000u /* CPUIDs to wait for a timer at most */
/* CPUIDs an interrupt that is deliverable now may take to arrive: vh
 * injects it at the next entry, QEMU at the end of a translation block;
 * with the APIC left unchecked it would wait for the quantum's end. */
#define SOON 100u

volatile uint32_t timer_count, ipi_count, timer_tsc;

/* The handlers: count, note the TSC (timer), EOI, return. */
void irq_timer(void);
void irq_ipi(void);
void irq_spurious(void);
__asm__(".text\n"
	".globl irq_timer\n"
	"irq_timer:\n\t"
	"pushl %eax\n\tpushl %edx\n\t"
	"rdtsc\n\tmovl %eax, timer_tsc\n\t"
	"lock incl timer_count\n\t"
	"movl $0, 0xfee000b0\n\t"
	"popl %edx\n\tpopl %eax\n\t"
	"iret\n"
	".globl irq_ipi\n"
	"irq_ipi:\n\t"
	"lock incl ipi_count\n\t"
	"movl $0, 0xfee000b0\n\t"
	"iret\n"
	".globl irq_spurious\n"
	"irq_spurious:\n\t"
	"iret\n");

static uint64_t idt[IDT_ENTRIES] __attribute__((aligned(8)));
static uint32_t failed, ticks_per_us;
/* APIC timer counts a microsecond at divide by 1; leaf 0x15's crystal
 * and TSC rate (as Linux computes it, in 32 bits), 0 without the leaf. */
static uint32_t counts_per_us = 1000, crystal_hz, cpuid_tsc_khz;

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint32_t base;
};

static uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC + reg) = v;
}

static uint32_t rdtsc32(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo;
}

static void gate(unsigned v, void (*h)(void))
{
	uint32_t a = (uint32_t)h;

	idt[v] =
	    (a & 0xffff) | (0x08u << 16) | ((uint64_t)0x8e00 << 32) | ((uint64_t)(a >> 16) << 48);
}

/* The runtime's IDT covers the exceptions only: a bigger copy. */
static void idt_setup(void)
{
	struct dtr cur, mine = { sizeof(idt) - 1, (uint32_t)idt };

	__asm__ volatile("sidt %0" : "=m"(cur));
	memcpy(idt, (const void *)cur.base, (uint32_t)cur.limit + 1);
	gate(VEC_TIMER, irq_timer);
	gate(VEC_IPI, irq_ipi);
	gate(VEC_SPURIOUS, irq_spurious);
	__asm__ volatile("lidt %0" : : "m"(mine));
	/* The legacy 8259s off, as an OS that uses the APIC sets them: left
	 * as the firmware set them (QEMU's), the PIT's IRQ 0 arrives as
	 * vector 8 whenever interrupts are on at one of its ticks (every
	 * 55 ms; the longer a test keeps IF set on a loaded host, the
	 * likelier), and vector 8 is #DF to this guest. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

static void check(bool ok, const char *what)
{
	if (!ok)
		failed++;
	printf("irq: %s: %s\n", what, ok ? "ok" : "FAILED");
}

static void cpuid_once(void)
{
	uint32_t r[4];

	cpuid(VH_CPUID_BASE, 0, r);
}

/* At most `cap` CPUIDs (exits that skip vh's APIC check) until *count
 * moves. */
static bool wait_cpuid(volatile uint32_t *count, uint32_t from, uint32_t cap)
{
	for (uint32_t i = 0; i < cap; i++) {
		if (*count != from)
			return true;
		cpuid_once();
	}
	return false;
}

/* TSC ticks per microsecond, against 2 ms of the APIC timer. */
static void calibrate(void)
{
	uint32_t c0, c1, t0, t1;

	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_DCR, 0xb); /* divide by 1 */
	lapic_write(LAPIC_TIMER_ICR, 0xffffffffu);
	c0 = lapic_read(LAPIC_TIMER_CCR);
	t0 = rdtsc32();
	do
		c1 = lapic_read(LAPIC_TIMER_CCR);
	while (c0 - c1 < 2000u * counts_per_us);
	t1 = rdtsc32();
	ticks_per_us = (t1 - t0) / ((c0 - c1) / counts_per_us);
	if (ticks_per_us == 0)
		ticks_per_us = 1;
	printf("irq: tsc %u ticks per us\n", ticks_per_us);
}

static uint32_t us_since(uint32_t t0, uint32_t t1)
{
	return (t1 - t0) / ticks_per_us;
}

/* A one-shot timer of `us` in a CPUID loop (or HLT): it must fire, no
 * earlier than armed and at most slack_us late (slack_us 0: only fire). */
static void one_shot(uint32_t us, bool hlt, uint32_t slack_us, const char *what)
{
	uint32_t from = timer_count, t0, lat;
	bool fired;

	__asm__ volatile("cli");
	lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);
	t0 = rdtsc32();
	lapic_write(LAPIC_TIMER_ICR, us * counts_per_us);
	if (hlt) {
		__asm__ volatile("sti; hlt; cli" ::: "memory");
		fired = timer_count != from;
	} else {
		__asm__ volatile("sti" ::: "memory");
		fired = wait_cpuid(&timer_count, from, CPUID_CAP);
		__asm__ volatile("cli");
	}
	lat = us_since(t0, timer_tsc);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	printf("irq: %s: armed %u us, fired %s after %u us\n", what, us, fired ? "yes" : "no", lat);
	check(fired && (slack_us == 0 || (lat + 1 >= us && lat <= us + slack_us)), what);
}

/* Leaf 0x15 as Linux's native_calibrate_tsc reads it: the crystal (the
 * APIC timer's clock) in ECX, the TSC = crystal_khz * EBX / EAX. */
static void cpuid_rates(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		uint32_t max = r[0];

		cpuid(0x15, 0, r);
		if (r[0] && r[1] && r[2] >= 1000000u) {
			crystal_hz = r[2];
			counts_per_us = crystal_hz / 1000000u;
			cpuid_tsc_khz = crystal_hz / 1000u * r[1] / r[0];
			printf("irq: cpuid 0x15: crystal %u kHz, tsc %u kHz\n", crystal_hz / 1000u,
			       cpuid_tsc_khz);
			return;
		}
		r[0] = max;
	}
	printf("irq: no cpuid leaf 0x15 crystal (max leaf 0x%x): the APIC timer taken at "
	       "QEMU's 1 GHz, its rate not checked\n",
	       r[0]);
}

/* A one-shot timer of a tenth of a second in crystal counts, timed by
 * the TSC at leaf 0x15's rate: they must agree within 3%.  Long enough
 * that the exits around it (thousands of Bochs instructions, one TSC
 * tick each) are noise.  A vCPU preempted before its handler ran only
 * makes the window look longer: the shortest of three tries counts. */
static void crystal_check(void)
{
	uint32_t want = cpuid_tsc_khz * 100u, best = 0xffffffffu, from, t0, off;

	if (!crystal_hz)
		return;
	for (int tries = 0; tries < 3; tries++) {
		uint32_t ticks;

		from = timer_count;
		__asm__ volatile("cli");
		lapic_write(LAPIC_TIMER_DCR, 0xb); /* divide by 1 */
		lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);
		t0 = rdtsc32();
		lapic_write(LAPIC_TIMER_ICR, crystal_hz / 10u);
		while (timer_count == from)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
		ticks = timer_tsc - t0;
		lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
		if (ticks < best)
			best = ticks;
		off =
		    (best > want ? best - want : want - best) / (want / 1000u ? want / 1000u : 1u);
		if (off <= 30)
			break;
	}
	printf("irq: apic timer: %u counts of the %u kHz crystal took %u tsc ticks, "
	       "%u expected at %u kHz (%u per mille off)\n",
	       crystal_hz / 10u, crystal_hz / 1000u, best, want, cpuid_tsc_khz, off);
	check(off <= 30, "the APIC timer ticks at leaf 0x15's crystal, timed at its TSC rate");
}

unsigned guest_main(void)
{
	uint32_t slack = arg_u32("slack_us", 100), from, t0, t1, period;
	uint32_t hlt_slack = arg_u32("hlt_slack_us", slack);

	idt_setup();
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS); /* software-enable */
	lapic_write(LAPIC_TPR, 0);
	cpuid_rates();
	calibrate();
	crystal_check();

	/* A self-IPI while interrupts are off waits for STI: the window. */
	from = ipi_count;
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, ICR_SELF | VEC_IPI);
	bool early = ipi_count != from;
	__asm__ volatile("sti" ::: "memory");
	bool soon = wait_cpuid(&ipi_count, from, SOON);
	__asm__ volatile("cli");
	check(!early && soon && ipi_count == from + 1, "self-IPI with IF=0 arrives after STI");

	/* TPR above the vector's class holds it back, even across quiet
	 * exits; lowering the TPR (an APIC write) lets it in. */
	from = ipi_count;
	lapic_write(LAPIC_TPR, 0x50);
	lapic_write(LAPIC_ICR_LO, ICR_SELF | VEC_IPI);
	__asm__ volatile("sti" ::: "memory");
	for (int i = 0; i < 100; i++)
		cpuid_once();
	bool held = ipi_count == from;
	lapic_write(LAPIC_TPR, 0);
	soon = wait_cpuid(&ipi_count, from, SOON);
	__asm__ volatile("cli");
	check(held && soon && ipi_count == from + 1,
	      "TPR 0x50 holds vector 0x41 back, TPR 0 lets it in");

	one_shot(500, false, slack, "one-shot timer in a CPUID loop");

	/* Periodic, 200 us: 20 periods in a CPUID loop. */
	from = timer_count;
	lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
	t0 = rdtsc32();
	lapic_write(LAPIC_TIMER_ICR, 200u * counts_per_us);
	__asm__ volatile("sti" ::: "memory");
	bool all = true;
	for (uint32_t n = 0; n < 20 && all; n++)
		all = wait_cpuid(&timer_count, from + n, CPUID_CAP);
	__asm__ volatile("cli");
	t1 = timer_tsc;
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	period = us_since(t0, t1) / 20;
	printf("irq: periodic timer in a CPUID loop: %u interrupts, "
	       "mean period %u us (programmed 200)\n",
	       timer_count - from, period);
	check(all && (slack == 0 || (period >= 199 && period <= 200 + slack / 10)),
	      "periodic timer in a CPUID loop");

	one_shot(300, true, hlt_slack, "one-shot timer wakes HLT");

	printf("irq: done, %u failed\n", failed);
	return failed ? GUEST_FAIL : GUEST_PASS;
}
