/* SPDX-License-Identifier: Apache-2.0 */
/* xAPIC through its MMIO page.  x2APIC is not used: xAPIC works on every
 * CPU with VT-x and in every emulator we test on, and the register
 * accesses are off the hot path (one EOI per host interrupt, one ICR
 * write per kick). */
#include <stdint.h>

#include "apic.h"
#include "console.h"
#include "cpu.h"
#include "paging.h"
#include "trap.h"
#include "tsc.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull
#define APIC_DEFAULT_BASE 0xfee00000ull

#define APIC_ID 0x20
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0

#define SVR_ENABLE 0x100
#define LVT_MASKED (1u << 16)
#define LVT_NMI (4u << 8)
#define ICR_FIXED 0x000u
#define ICR_NMI 0x400u
#define ICR_INIT 0x500u
#define ICR_STARTUP 0x600u
#define ICR_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define ICR_ALL_BUT_SELF (3u << 18)
#define TIMER_DIV_16 0x3u

#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define ICR_POLL_LIMIT 1000000

static volatile uint32_t *apic_regs;
static uint64_t timer_ticks_per_ms;

static inline uint32_t rd(uint32_t reg)
{
	return apic_regs[reg / 4];
}

static inline void wr(uint32_t reg, uint32_t v)
{
	apic_regs[reg / 4] = v;
}

bool vh_apic_ready(void)
{
	return apic_regs != 0;
}

/* The firmware may have left the PICs delivering timer ticks; the
 * hypervisor takes none of their interrupts.  Remapped first so a
 * spurious IRQ 7 cannot pose as an exception. */
static void pic_disable(void)
{
	static const uint8_t init[][2] = {
		{ 0x20, 0x11 }, { 0xa0, 0x11 },                  /* ICW1: init, ICW4 follows */
		{ PIC1_DATA, VH_VEC_PIC_BASE }, { PIC2_DATA, VH_VEC_PIC_BASE + 8 }, /* ICW2 */
		{ PIC1_DATA, 0x04 }, { PIC2_DATA, 0x02 },        /* ICW3: cascade on IRQ 2 */
		{ PIC1_DATA, 0x01 }, { PIC2_DATA, 0x01 },        /* ICW4: 8086 mode */
		{ PIC1_DATA, 0xff }, { PIC2_DATA, 0xff },        /* mask everything */
	};
	for (unsigned i = 0; i < sizeof(init) / sizeof(init[0]); i++)
		outb(init[i][0], init[i][1]);
}

static void wait_icr(void)
{
	for (int i = 0; i < ICR_POLL_LIMIT && (rd(APIC_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

static void local_setup(bool bsp)
{
	wrmsr(MSR_IA32_APIC_BASE, rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE);
	wr(APIC_TPR, 0);
	wr(APIC_LVT_TIMER, LVT_MASKED | VH_VEC_APIC_TIMER);
	/* LINT0 carries the PIC's ExtINT on the boot CPU: not wanted.
	 * LINT1 is the NMI line (watchdogs, front-panel NMI). */
	wr(APIC_LVT_LINT0, LVT_MASKED);
	wr(APIC_LVT_LINT1, bsp ? LVT_NMI : LVT_MASKED);
	wr(APIC_LVT_ERROR, LVT_MASKED);
	wr(APIC_ESR, 0);
	wr(APIC_SVR, SVR_ENABLE | VH_VEC_SPURIOUS);
	wr(APIC_EOI, 0);
}

bool vh_apic_init_bsp(uint64_t phys)
{
	if (!(cpuid_edx(1) & CPUID1_EDX_APIC)) {
		vh_console_printf("vh: this CPU has no local APIC; vh needs one\n");
		return false;
	}
	if (!phys)
		phys = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
	if (!phys || phys >= (4ull << 30))
		phys = APIC_DEFAULT_BASE;
	pic_disable();
	vh_paging_uncached(phys);
	apic_regs = (volatile uint32_t *)(uintptr_t)phys;
	local_setup(true);
	return true;
}

void vh_apic_init_ap(void)
{
	local_setup(false);
}

uint32_t vh_apic_id(void)
{
	return rd(APIC_ID) >> 24;
}

void vh_apic_eoi(void)
{
	wr(APIC_EOI, 0);
}

static void send(uint32_t apic_id, uint32_t lo)
{
	wait_icr();
	wr(APIC_ICR_HI, apic_id << 24);
	wr(APIC_ICR_LO, lo);
	wait_icr();
}

void vh_apic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	send(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

void vh_apic_send_init(uint32_t apic_id)
{
	send(apic_id, ICR_INIT | ICR_ASSERT);
}

void vh_apic_send_sipi(uint32_t apic_id, uint8_t page)
{
	send(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

void vh_apic_stop_others(void)
{
	if (!apic_regs)
		return;
	wait_icr();
	wr(APIC_ICR_HI, 0);
	wr(APIC_ICR_LO, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
	wait_icr();
}

uint64_t vh_apic_timer_calibrate(void)
{
	const uint64_t window_ns = 10 * 1000 * 1000;

	wr(APIC_TIMER_DIV, TIMER_DIV_16);
	wr(APIC_LVT_TIMER, LVT_MASKED | VH_VEC_APIC_TIMER);
	wr(APIC_TIMER_INIT, 0xffffffffu);
	vh_delay_ns(window_ns);
	uint32_t left = rd(APIC_TIMER_CUR);
	wr(APIC_TIMER_INIT, 0);
	timer_ticks_per_ms = (0xffffffffull - left) / (window_ns / 1000000);
	return timer_ticks_per_ms;
}

void vh_apic_timer_oneshot(uint64_t ns)
{
	uint64_t ticks;

	if (ns == 0 || timer_ticks_per_ms == 0) {
		wr(APIC_TIMER_INIT, 0);
		return;
	}
	/* ticks = ns * per_ms / 1e6 without overflow for long waits. */
	if (ns / 1000000 > 0xffffffffull / timer_ticks_per_ms)
		ticks = 0xffffffffull;
	else
		ticks = ns / 1000000 * timer_ticks_per_ms +
			(ns % 1000000) * timer_ticks_per_ms / 1000000;
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffffull)
		ticks = 0xffffffffull;
	wr(APIC_TIMER_DIV, TIMER_DIV_16);
	wr(APIC_LVT_TIMER, VH_VEC_APIC_TIMER); /* one-shot, unmasked */
	wr(APIC_TIMER_INIT, (uint32_t)ticks);
}
