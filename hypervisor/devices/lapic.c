/* SPDX-License-Identifier: Apache-2.0 */
/* The local APIC (xAPIC), one per vCPU, at guest-physical 0xfee00000:
 * what a guest kernel needs to start its APs (INIT-SIPI-SIPI), send IPIs,
 * take and acknowledge interrupts, and run the APIC timer.  The backend
 * injects what vh_lapic_pending() says (see vh/lapic.h).  The timer runs
 * on the platform's clock at VH_LAPIC_BUS_HZ before the divider, so the
 * current count a guest reads and the deadline the backend sleeps until
 * agree. */
#include "dev_internal.h"
#include "vh/lapic.h"
#include "vh/sched.h"
#include "vh/string.h"

/* Register offsets (all 32-bit, 16-byte aligned). */
enum {
	APIC_ID = 0x20,
	APIC_VER = 0x30,
	APIC_TPR = 0x80,
	APIC_APR = 0x90,
	APIC_PPR = 0xa0,
	APIC_EOI = 0xb0,
	APIC_LDR = 0xd0,
	APIC_DFR = 0xe0,
	APIC_SVR = 0xf0,
	APIC_ISR = 0x100,
	APIC_TMR = 0x180,
	APIC_IRR = 0x200,
	APIC_ESR = 0x280,
	APIC_ICR_LO = 0x300,
	APIC_ICR_HI = 0x310,
	APIC_LVT_TIMER = 0x320,
	APIC_LVT_ERROR = 0x370,
	APIC_TIMER_ICR = 0x380,
	APIC_TIMER_CCR = 0x390,
	APIC_TIMER_DCR = 0x3e0,
};

#define SVR_ENABLE 0x100u
#define LVT_MASKED 0x10000u
#define LVT_TIMER_PERIODIC 0x20000u
#define ICR_VECTOR 0xffu
#define ICR_MODE(x) (((x) >> 8) & 7u)
#define ICR_LOGICAL 0x800u
#define ICR_LEVEL_ASSERT 0x4000u
#define ICR_TRIGGER_LEVEL 0x8000u
#define ICR_SHORTHAND(x) (((x) >> 18) & 3u)
#define MODE_FIXED 0u
#define MODE_LOWEST 1u
#define MODE_INIT 5u
#define MODE_SIPI 6u

static struct vh_lapic *lapic_of(struct vh_host *h, struct vh_vm *vm, const struct vh_vcpu *vcpu)
{
	struct vh_devices *d = vm->devices;

	if (!d || !d->lapic || !vcpu || vcpu->index >= vm->cfg.vcpus)
		return NULL;
	vh_devices_sync(h, vm);
	return &d->lapic[vcpu->index];
}

static uint64_t now_ns(struct vh_host *h)
{
	return h->plat->now_ns(h->plat->ctx);
}

void vh_lapic_reset(struct vh_lapic *a, uint32_t index)
{
	vh_memset(a, 0, sizeof(*a));
	a->id = index;
	a->svr = 0xff;
	a->dfr = 0xffffffffu;
	for (int i = 0; i < VH_LAPIC_LVTS; i++)
		a->lvt[i] = LVT_MASKED;
	a->deadline = UINT64_MAX;
	/* The boot vCPU runs; the others wait for INIT-SIPI as APs do. */
	a->run_state = index == 0 ? VH_LAPIC_RUNNING : VH_LAPIC_WAIT_SIPI;
}

/* ---- the 256-bit registers ------------------------------------------------ */

static void bit_set(uint32_t *r, uint8_t v) { r[v >> 5] |= 1u << (v & 31); }
static void bit_clear(uint32_t *r, uint8_t v) { r[v >> 5] &= ~(1u << (v & 31)); }

static int highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--) {
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	}
	return -1;
}

static uint32_t ppr(const struct vh_lapic *a)
{
	int isr = highest(a->isr);
	uint32_t isr_class = isr < 0 ? 0 : (uint32_t)isr & 0xf0;

	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

/* ---- timer ----------------------------------------------------------------- */

static uint64_t divisor(const struct vh_lapic *a)
{
	uint32_t v = (a->dcr & 3) | ((a->dcr & 8) >> 1);

	return v == 7 ? 1 : 2ull << v;
}

static uint64_t ns_per_count(const struct vh_lapic *a)
{
	return divisor(a) * (1000000000ull / VH_LAPIC_BUS_HZ);
}

static void timer_start(struct vh_lapic *a, uint64_t now)
{
	a->start = now;
	a->deadline = a->initial ? now + (uint64_t)a->initial * ns_per_count(a) : UINT64_MAX;
}

static uint32_t timer_current(const struct vh_lapic *a, uint64_t now)
{
	uint64_t counts, period;

	if (!a->initial || (a->deadline == UINT64_MAX && !(a->lvt[0] & LVT_TIMER_PERIODIC)))
		return 0;
	counts = (now - a->start) / ns_per_count(a);
	period = a->initial;
	if (a->lvt[0] & LVT_TIMER_PERIODIC)
		return (uint32_t)(period - counts % period);
	return counts >= period ? 0 : (uint32_t)(period - counts);
}

void vh_lapic_tick(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint64_t now)
{
	struct vh_lapic *a = lapic_of(h, vm, vcpu);
	uint64_t period;

	(void)h;
	if (!a || a->deadline > now)
		return;
	/* One interrupt latched however many expiries passed (IRR holds
	 * one bit per vector). */
	if (!(a->lvt[0] & LVT_MASKED) && (a->lvt[0] & 0xff) >= 16)
		bit_set(a->irr, (uint8_t)a->lvt[0]);
	if (a->lvt[0] & LVT_TIMER_PERIODIC) {
		period = (uint64_t)a->initial * ns_per_count(a);
		a->deadline += ((now - a->deadline) / period + 1) * period;
	} else {
		a->deadline = UINT64_MAX;
	}
}

uint64_t vh_lapic_timer_deadline(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu)
{
	struct vh_lapic *a = lapic_of(h, vm, vcpu);

	(void)h;
	return a ? a->deadline : UINT64_MAX;
}

/* ---- interrupts -------------------------------------------------------------- */

int vh_lapic_pending(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu)
{
	struct vh_lapic *a = lapic_of(h, vm, vcpu);
	int v;

	(void)h;
	if (!a || !(a->svr & SVR_ENABLE) || a->run_state != VH_LAPIC_RUNNING)
		return -1;
	v = highest(a->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(a) & 0xf0))
		return -1;
	return v;
}

void vh_lapic_ack(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint8_t vector)
{
	struct vh_lapic *a = lapic_of(h, vm, vcpu);

	(void)h;
	if (!a)
		return;
	bit_clear(a->irr, vector);
	bit_set(a->isr, vector);
}

/* Wakes a halted target, and sends a running one back to the scheduler
 * so its backend injects the interrupt without waiting for the quantum. */
static void wake(struct vh_host *h, struct vh_vcpu *v)
{
	vh_sched_wake(h, v, now_ns(h));
	if (v->sched.state == VH_SCHED_RUNNING && v->sched.pcpu >= 0)
		h->plat->kick(h->plat->ctx, (unsigned)v->sched.pcpu);
}

bool vh_lapic_raise(struct vh_host *h, struct vh_vm *vm, uint32_t index, uint8_t vector)
{
	struct vh_devices *d = vm->devices;

	if (!d || !d->lapic || index >= vm->cfg.vcpus || vector < 16)
		return false;
	vh_devices_sync(h, vm);
	bit_set(d->lapic[index].irr, vector);
	wake(h, &vm->vcpus[index]);
	return true;
}

enum vh_lapic_run_state vh_lapic_run_state(struct vh_host *h, struct vh_vm *vm,
					   struct vh_vcpu *vcpu, uint8_t *sipi_vector)
{
	struct vh_lapic *a = lapic_of(h, vm, vcpu);

	(void)h;
	if (!a)
		return VH_LAPIC_RUNNING;
	if (sipi_vector)
		*sipi_vector = a->sipi_vector;
	return (enum vh_lapic_run_state)a->run_state;
}

void vh_lapic_started(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu)
{
	struct vh_lapic *a = lapic_of(h, vm, vcpu);

	(void)h;
	if (a && a->run_state == VH_LAPIC_SIPI)
		a->run_state = VH_LAPIC_RUNNING;
}

/* ---- IPIs ------------------------------------------------------------------------ */

/* Does the ICR's destination name vCPU `t`? */
static bool targets(struct vh_vm *vm, uint32_t self, uint32_t t, uint32_t lo, uint32_t hi)
{
	const struct vh_lapic *dst = &vm->devices->lapic[t];
	uint8_t dest = (uint8_t)(hi >> 24);

	switch (ICR_SHORTHAND(lo)) {
	case 1: return t == self;
	case 2: return true;
	case 3: return t != self;
	default: break;
	}
	if (lo & ICR_LOGICAL) {
		/* Flat model: a bit per CPU in LDR[31:24]; cluster model is
		 * not offered (DFR reads flat). */
		return (dst->ldr >> 24) & dest;
	}
	return dest == 0xff || dest == dst->id;
}

static void deliver(struct vh_host *h, struct vh_vm *vm, uint32_t t, uint32_t lo)
{
	struct vh_lapic *dst = &vm->devices->lapic[t];

	switch (ICR_MODE(lo)) {
	case MODE_FIXED:
	case MODE_LOWEST:
		vh_lapic_raise(h, vm, t, (uint8_t)(lo & ICR_VECTOR));
		break;
	case MODE_INIT:
		/* The INIT level de-assert (trigger level, level 0) is the
		 * second half of an INIT on old CPUs: nothing to do. */
		if ((lo & ICR_TRIGGER_LEVEL) && !(lo & ICR_LEVEL_ASSERT))
			break;
		vh_lapic_reset(dst, t);
		dst->run_state = VH_LAPIC_WAIT_SIPI;
		wake(h, &vm->vcpus[t]);
		break;
	case MODE_SIPI:
		/* Only a CPU waiting for one takes a SIPI: the second SIPI of
		 * the usual pair finds it running and is ignored. */
		if (dst->run_state != VH_LAPIC_WAIT_SIPI)
			break;
		dst->run_state = VH_LAPIC_SIPI;
		dst->sipi_vector = (uint8_t)(lo & ICR_VECTOR);
		wake(h, &vm->vcpus[t]);
		break;
	default:
		break; /* SMI, NMI, ExtINT: not offered */
	}
}

static void send_ipi(struct vh_host *h, struct vh_vm *vm, uint32_t self, uint32_t lo, uint32_t hi)
{
	for (uint32_t t = 0; t < vm->cfg.vcpus; t++) {
		if (targets(vm, self, t, lo, hi))
			deliver(h, vm, t, lo);
	}
}

/* ---- MMIO ---------------------------------------------------------------------- */

static uint32_t lapic_read(struct vh_lapic *a, uint32_t reg, uint64_t now)
{
	if (reg >= APIC_ISR && reg < APIC_ISR + 0x80)
		return a->isr[(reg - APIC_ISR) >> 4];
	if (reg >= APIC_TMR && reg < APIC_TMR + 0x80)
		return a->tmr[(reg - APIC_TMR) >> 4];
	if (reg >= APIC_IRR && reg < APIC_IRR + 0x80)
		return a->irr[(reg - APIC_IRR) >> 4];
	if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR)
		return a->lvt[(reg - APIC_LVT_TIMER) >> 4];
	switch (reg) {
	case APIC_ID: return a->id << 24;
	case APIC_VER: return VH_LAPIC_VERSION;
	case APIC_TPR: return a->tpr;
	case APIC_PPR: return ppr(a);
	case APIC_LDR: return a->ldr;
	case APIC_DFR: return a->dfr;
	case APIC_SVR: return a->svr;
	case APIC_ESR: return a->esr;
	case APIC_ICR_LO: return a->icr_lo; /* delivery status: always idle */
	case APIC_ICR_HI: return a->icr_hi;
	case APIC_TIMER_ICR: return a->initial;
	case APIC_TIMER_CCR: return timer_current(a, now);
	case APIC_TIMER_DCR: return a->dcr;
	default: return 0; /* APR, EOI and reserved registers */
	}
}

static void lapic_write(struct vh_host *h, struct vh_vm *vm, uint32_t self, uint32_t reg,
			uint32_t v, uint64_t now)
{
	struct vh_lapic *a = &vm->devices->lapic[self];
	int isr;

	if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) {
		/* Timer: vector, mask, mode; the others: vector, delivery
		 * mode, polarity, trigger, mask.  A software-disabled APIC
		 * keeps every LVT masked. */
		v &= reg == APIC_LVT_TIMER ? 0x700ffu : 0x1f7ffu;
		if (!(a->svr & SVR_ENABLE))
			v |= LVT_MASKED;
		a->lvt[(reg - APIC_LVT_TIMER) >> 4] = v;
		return;
	}
	switch (reg) {
	case APIC_ID:
		a->id = v >> 24;
		break;
	case APIC_TPR:
		a->tpr = v & 0xff;
		break;
	case APIC_EOI:
		isr = highest(a->isr);
		if (isr >= 0)
			bit_clear(a->isr, (uint8_t)isr);
		break;
	case APIC_LDR:
		a->ldr = v & 0xff000000u;
		break;
	case APIC_DFR:
		a->dfr = v | 0x0fffffffu;
		break;
	case APIC_SVR:
		a->svr = v & 0x3ff;
		if (!(v & SVR_ENABLE)) {
			for (int i = 0; i < VH_LAPIC_LVTS; i++)
				a->lvt[i] |= LVT_MASKED;
		}
		break;
	case APIC_ESR:
		a->esr = 0; /* a write rearms the error register */
		break;
	case APIC_ICR_HI:
		a->icr_hi = v & 0xff000000u;
		break;
	case APIC_ICR_LO:
		a->icr_lo = v & ~0x1000u;
		send_ipi(h, vm, self, a->icr_lo, a->icr_hi);
		break;
	case APIC_TIMER_ICR:
		a->initial = v;
		timer_start(a, now);
		break;
	case APIC_TIMER_DCR:
		/* Keep the count where it is in time: restart from now. */
		a->dcr = v & 0xb;
		if (a->initial)
			timer_start(a, now);
		break;
	default:
		break; /* read-only or reserved: ignored, as hardware does */
	}
}

enum vh_io_result vh_lapic_mmio(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				uint64_t offset, unsigned size, bool is_write, uint64_t *value)
{
	struct vh_lapic *a = lapic_of(h, vm, vcpu);
	uint32_t reg = (uint32_t)offset & ~0xfu;
	uint64_t now = now_ns(h);

	if (!a)
		return VH_IO_UNHANDLED;
	/* Registers are 32 bits at 16-byte boundaries; other widths and
	 * offsets read as zero and are dropped, as on hardware. */
	if (size != 4 || (offset & 0xf)) {
		if (!is_write)
			*value = 0;
		return VH_IO_HANDLED;
	}
	if (is_write)
		lapic_write(h, vm, vcpu->index, reg, (uint32_t)*value, now);
	else
		*value = lapic_read(a, reg, now);
	return VH_IO_HANDLED;
}
