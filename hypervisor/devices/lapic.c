/* SPDX-License-Identifier: Apache-2.0 */
/* The local APIC (xAPIC), one per vCPU, at guest-physical 0xfee00000:
 * what a guest kernel needs to start its APs (INIT-SIPI-SIPI), send IPIs,
 * take and acknowledge interrupts, and run the APIC timer.  The backend
 * injects what vh_lapic_pending() says (see vh/lapic.h).  The timer runs
 * on the platform's clock at VH_LAPIC_BUS_HZ before the divider, so the
 * current count a guest reads and the deadline the backend sleeps until
 * agree.
 *
 * Locking: the VM's APICs are one device on the bus with one lock (struct
 * vh_lapics).  The MMIO path holds it through the bus (no host lock); the
 * vh/lapic.h functions take it themselves and are called with the host
 * lock held (host lock -> APIC lock; the APIC lock is a leaf).  Waking a
 * vCPU needs the host lock, so under the APIC lock wakes are only
 * collected in a mask, and done once it is dropped. */
#include "vh/lapic.h"
#include "dev_internal.h"
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

#define SVR_ENABLE         0x100u
#define LVT_MASKED         0x10000u
#define LVT_TIMER_PERIODIC 0x20000u
#define ICR_VECTOR         0xffu
#define ICR_MODE(x)        (((x) >> 8) & 7u)
#define ICR_LOGICAL        0x800u
#define ICR_LEVEL_ASSERT   0x4000u
#define ICR_TRIGGER_LEVEL  0x8000u
#define ICR_SHORTHAND(x)   (((x) >> 18) & 3u)
#define MODE_FIXED         0u
#define MODE_LOWEST        1u
#define MODE_INIT          5u
#define MODE_SIPI          6u

/* The vCPU's APIC with the APICs' lock taken (after a reset the boot
 * generation asked for), or NULL; put() drops the lock. */
static struct vh_lapic *get(struct vh_vm *vm, const struct vh_vcpu *vcpu, struct vh_lapics **ls)
{
	struct vh_devices *d = vm->devices;

	if (!d || !vcpu || vcpu->index >= d->lapics.n)
		return NULL;
	vh_bus_sync(&d->bus);
	*ls = &d->lapics;
	vh_lock_take(d->bus.h->plat, &d->lapics.dev->lock);
	return &d->lapics.a[vcpu->index];
}

static void put(struct vh_lapics *ls)
{
	vh_lock_drop(&ls->dev->lock);
}

void vh_lapics_reset(void *lapics, const struct vh_bus *bus)
{
	struct vh_lapics *ls = lapics;

	(void)bus;
	for (uint32_t i = 0; i < ls->n; i++)
		vh_lapic_reset(&ls->a[i], i);
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

static void bit_set(uint32_t *r, uint8_t v)
{
	r[v >> 5] |= 1u << (v & 31);
}
static void bit_clear(uint32_t *r, uint8_t v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

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
	_Static_assert(VH_LAPIC_NS_PER_COUNT * VH_LAPIC_BUS_HZ == 1000000000ull,
		       "the APIC bus must tick in whole nanoseconds");
	return divisor(a) * VH_LAPIC_NS_PER_COUNT;
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
	struct vh_lapics *ls;
	struct vh_lapic *a = get(vm, vcpu, &ls);
	uint64_t period;

	(void)h;
	if (!a)
		return;
	if (a->deadline > now) {
		put(ls);
		return;
	}
	/* One interrupt latched however many expiries passed (IRR holds
	 * one bit per vector). */
	if (!(a->lvt[0] & LVT_MASKED) && (a->lvt[0] & 0xff) >= 16) {
		bit_set(a->irr, (uint8_t)a->lvt[0]);
		bit_clear(a->tmr, (uint8_t)a->lvt[0]); /* edge */
	}
	if (a->lvt[0] & LVT_TIMER_PERIODIC) {
		period = (uint64_t)a->initial * ns_per_count(a);
		a->deadline += ((now - a->deadline) / period + 1) * period;
	} else {
		a->deadline = UINT64_MAX;
	}
	put(ls);
}

uint64_t vh_lapic_timer_deadline(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu)
{
	struct vh_lapics *ls;
	struct vh_lapic *a = get(vm, vcpu, &ls);
	uint64_t t;

	(void)h;
	if (!a)
		return UINT64_MAX;
	t = a->deadline;
	put(ls);
	return t;
}

/* ---- interrupts -------------------------------------------------------------- */

int vh_lapic_pending(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu)
{
	struct vh_lapics *ls;
	struct vh_lapic *a = get(vm, vcpu, &ls);
	int v;

	(void)h;
	if (!a)
		return -1;
	v = highest(a->irr);
	if (!(a->svr & SVR_ENABLE) || a->run_state != VH_LAPIC_RUNNING || v < 0 ||
	    ((uint32_t)v & 0xf0) <= (ppr(a) & 0xf0))
		v = -1;
	put(ls);
	return v;
}

void vh_lapic_ack(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu, uint8_t vector)
{
	struct vh_lapics *ls;
	struct vh_lapic *a = get(vm, vcpu, &ls);

	(void)h;
	if (!a)
		return;
	bit_clear(a->irr, vector);
	bit_set(a->isr, vector);
	put(ls);
}

/* Wakes a halted target, and sends a running one back to the scheduler
 * so its backend injects the interrupt without waiting for the quantum.
 * Host lock held, APIC lock not. */
static void wake(struct vh_host *h, struct vh_vcpu *v)
{
	vh_sched_wake(h, v, h->plat->now_ns(h->plat->ctx));
	if (v->sched.state == VH_SCHED_RUNNING && v->sched.pcpu >= 0)
		h->plat->kick(h->plat->ctx, (unsigned)v->sched.pcpu);
}

/* APIC lock held: a fixed interrupt accepted into t's IRR, t to be
 * woken.  TMR remembers the trigger mode (SDM 11.8.4): set for a level
 * interrupt, whose EOI goes on to the IOAPIC, clear for an edge one. */
static void latch(struct vh_lapics *ls, uint32_t t, uint8_t vector, bool level, uint64_t *wakes)
{
	bit_set(ls->a[t].irr, vector);
	if (level)
		bit_set(ls->a[t].tmr, vector);
	else
		bit_clear(ls->a[t].tmr, vector);
	*wakes |= 1ull << t;
}

bool vh_lapic_raise(struct vh_host *h, struct vh_vm *vm, uint32_t index, uint8_t vector)
{
	struct vh_lapics *ls;
	struct vh_lapic *a =
	    vector >= 16 && index < vm->cfg.vcpus ? get(vm, &vm->vcpus[index], &ls) : NULL;
	uint64_t wakes = 0;

	if (!a)
		return false;
	latch(ls, index, vector, false, &wakes);
	put(ls);
	wake(h, &vm->vcpus[index]);
	return true;
}

enum vh_lapic_run_state vh_lapic_run_state(struct vh_host *h, struct vh_vm *vm,
					   struct vh_vcpu *vcpu, uint8_t *sipi_vector)
{
	struct vh_lapics *ls;
	struct vh_lapic *a = get(vm, vcpu, &ls);
	enum vh_lapic_run_state st;

	(void)h;
	if (!a)
		return VH_LAPIC_RUNNING;
	if (sipi_vector)
		*sipi_vector = a->sipi_vector;
	st = (enum vh_lapic_run_state)a->run_state;
	put(ls);
	return st;
}

void vh_lapic_started(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu)
{
	struct vh_lapics *ls;
	struct vh_lapic *a = get(vm, vcpu, &ls);

	(void)h;
	if (!a)
		return;
	if (a->run_state == VH_LAPIC_SIPI)
		a->run_state = VH_LAPIC_RUNNING;
	put(ls);
}

/* ---- IPIs ------------------------------------------------------------------------ */

/* Does the destination (ICR or MSI: mode in lo, id in hi's top byte) name
 * APIC `t`? */
static bool targets(const struct vh_lapics *ls, uint32_t self, uint32_t t, uint32_t lo, uint32_t hi)
{
	const struct vh_lapic *dst = &ls->a[t];
	uint8_t dest = (uint8_t)(hi >> 24);

	switch (ICR_SHORTHAND(lo)) {
	case 1: return t == self;
	case 2: return true;
	case 3: return t != self;
	default: break;
	}
	if (lo & ICR_LOGICAL) {
		/* Flat model (DFR[31:28] = 0xf): a bit per CPU in LDR[31:24];
		 * cluster model (0): cluster in the top nibble, a bit per
		 * CPU in the low one, 0xff to all. */
		if ((dst->dfr >> 28) == 0)
			return dest == 0xff ||
			       ((dest >> 4) == (dst->ldr >> 28) && (dest & (dst->ldr >> 24) & 0xf));
		return (dst->ldr >> 24) & dest;
	}
	return dest == 0xff || dest == dst->id;
}

/* level: a level-triggered fixed interrupt (from an IOAPIC or an MSI;
 * IPIs are edge-triggered). */
static void deliver(struct vh_lapics *ls, uint32_t t, uint32_t lo, bool level, uint64_t *wakes)
{
	struct vh_lapic *dst = &ls->a[t];
	uint8_t vector = (uint8_t)(lo & ICR_VECTOR);

	switch (ICR_MODE(lo)) {
	case MODE_FIXED:
	case MODE_LOWEST:
		if (vector >= 16)
			latch(ls, t, vector, level, wakes);
		break;
	case MODE_INIT:
		/* The INIT level de-assert (trigger level, level 0) is the
		 * second half of an INIT on old CPUs: nothing to do. */
		if ((lo & ICR_TRIGGER_LEVEL) && !(lo & ICR_LEVEL_ASSERT))
			break;
		vh_lapic_reset(dst, t);
		dst->run_state = VH_LAPIC_WAIT_SIPI;
		*wakes |= 1ull << t;
		break;
	case MODE_SIPI:
		/* Only a CPU waiting for one takes a SIPI: the second SIPI of
		 * the usual pair finds it running and is ignored. */
		if (dst->run_state != VH_LAPIC_WAIT_SIPI)
			break;
		dst->run_state = VH_LAPIC_SIPI;
		dst->sipi_vector = vector;
		*wakes |= 1ull << t;
		break;
	default: break; /* SMI, NMI, ExtINT: not offered */
	}
}

static void send_ipi(struct vh_lapics *ls, uint32_t self, uint32_t lo, uint32_t hi, uint64_t *wakes)
{
	for (uint32_t t = 0; t < ls->n; t++) {
		if (targets(ls, self, t, lo, hi))
			deliver(ls, t, lo, false, wakes);
	}
}

bool vh_lapic_message(struct vh_bus *b, uint32_t lo, uint32_t hi, bool lowest, uint64_t *wake)
{
	struct vh_lapics *ls = &vh_devices_of(b)->lapics;
	uint64_t wakes = 0;
	int best = -1;

	switch (ICR_MODE(lo)) {
	case MODE_FIXED:
	case MODE_LOWEST:
		if ((lo & ICR_VECTOR) < 16)
			return false;
		break;
	case MODE_INIT: break;
	default: return false; /* SMI, NMI, ExtINT: not offered */
	}
	lowest = lowest || ICR_MODE(lo) == MODE_LOWEST;
	vh_lock_take(b->h->plat, &ls->dev->lock);
	for (uint32_t t = 0; t < ls->n; t++) {
		if (!targets(ls, VH_BUS_NO_VCPU, t, lo, hi))
			continue;
		if (!lowest)
			deliver(ls, t, lo, lo & ICR_TRIGGER_LEVEL, &wakes);
		/* Lowest priority: the named APIC with the lowest processor
		 * priority takes it; the first of equals. */
		else if (best < 0 || ppr(&ls->a[t]) < ppr(&ls->a[best]))
			best = (int)t;
	}
	if (best >= 0)
		deliver(ls, (uint32_t)best, lo, lo & ICR_TRIGGER_LEVEL, &wakes);
	vh_lock_drop(&ls->dev->lock);
	*wake |= wakes;
	return wakes != 0;
}

/* MSI (SDM vol. 3 11.11): address 0xfee in 31:20, destination ID in
 * 19:12, redirection hint 3 (lowest-priority arbitration among the named
 * APICs), destination mode 2 (logical); data: vector 7:0, delivery mode
 * 10:8, level 14, trigger mode 15.  A level-triggered message with level
 * 0 is a de-assert: nothing to deliver. */
#define MSI_RH 0x8u
#define MSI_DM 0x4u
bool vh_lapic_msi(struct vh_bus *b, uint64_t address, uint32_t data, uint64_t *wake)
{
	uint32_t lo = (data & (0x7ffu | ICR_TRIGGER_LEVEL)) | VH_APIC_MSG_ASSERT |
		      ((address & MSI_DM) ? ICR_LOGICAL : 0);
	uint32_t hi = (uint32_t)((address >> 12) & 0xff) << 24;

	if ((address >> 20) != 0xfee || ((data & ICR_TRIGGER_LEVEL) && !(data & ICR_LEVEL_ASSERT)))
		return false;
	return vh_lapic_message(b, lo, hi, address & MSI_RH, wake);
}

void vh_lapic_extint(struct vh_bus *b, uint8_t vector, uint64_t *wake)
{
	struct vh_lapics *ls = &vh_devices_of(b)->lapics;

	if (!ls->n || vector < 16)
		return;
	vh_lock_take(b->h->plat, &ls->dev->lock);
	latch(ls, 0, vector, false, wake);
	vh_lock_drop(&ls->dev->lock);
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

/* wakes: vCPUs an IPI woke; eoi: set to VH_DEV_EOI_LEVEL | vector when
 * the EOI was of a level-triggered vector (for the IOAPIC). */
static void lapic_write(struct vh_lapics *ls, uint32_t self, uint32_t reg, uint32_t v, uint64_t now,
			uint64_t *wakes, uint16_t *eoi)
{
	struct vh_lapic *a = &ls->a[self];
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
	case APIC_ID: a->id = v >> 24; break;
	case APIC_TPR: a->tpr = v & 0xff; break;
	case APIC_EOI:
		isr = highest(a->isr);
		if (isr < 0)
			break;
		bit_clear(a->isr, (uint8_t)isr);
		/* A level-triggered vector's EOI goes on to the IOAPIC
		 * (vh_bus_finish: it needs the IOAPIC's lock, which comes
		 * before this one). */
		if (a->tmr[isr >> 5] & (1u << (isr & 31)))
			*eoi = VH_DEV_EOI_LEVEL | (uint16_t)isr;
		break;
	case APIC_LDR: a->ldr = v & 0xff000000u; break;
	case APIC_DFR: a->dfr = v | 0x0fffffffu; break;
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
	case APIC_ICR_HI: a->icr_hi = v & 0xff000000u; break;
	case APIC_ICR_LO:
		a->icr_lo = v & ~0x1000u;
		send_ipi(ls, self, a->icr_lo, a->icr_hi, wakes);
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
	default: break; /* read-only or reserved: ignored, as hardware does */
	}
}

/* The bus holds the APICs' lock; each vCPU sees its own APIC here. */
enum vh_io_result vh_lapic_mmio(void *lapics, const struct vh_dev_access *acc)
{
	struct vh_lapics *ls = lapics;
	uint32_t reg = (uint32_t)acc->offset & ~0xfu;
	uint64_t now;

	if (acc->vcpu >= ls->n)
		return VH_IO_UNHANDLED;
	/* Registers are 32 bits at 16-byte boundaries; other widths and
	 * offsets read as zero and are dropped, as on hardware. */
	if (acc->size != 4 || (acc->offset & 0xf)) {
		if (!acc->is_write)
			*acc->value = 0;
		return VH_IO_HANDLED;
	}
	now = vh_dev_now(acc->bus);
	if (acc->is_write) {
		uint64_t wakes = 0;
		uint16_t eoi = 0;

		lapic_write(ls, acc->vcpu, reg, (uint32_t)*acc->value, now, &wakes, &eoi);
		vh_dev_wake_mask(acc, wakes);
		if (eoi) {
			acc->call->eoi = eoi;
			acc->call->pending |= VH_DEV_CALL_EOI;
		}
	} else
		*acc->value = lapic_read(&ls->a[acc->vcpu], reg, now);
	return VH_IO_HANDLED;
}
