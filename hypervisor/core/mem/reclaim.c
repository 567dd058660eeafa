/* SPDX-License-Identifier: Apache-2.0 */
/* Reclaim policy: who should give memory back when free memory runs low,
 * and the active-memory estimate that drives it (Waldspurger, OSDI 2002,
 * sections 5 and 6).
 *
 * Entitlement.  Memory goes to VMs in proportion to their shares-per-page
 * ratio with an idle-memory tax: a VM with shares S holding P pages of
 * which a fraction f is active pays
 *
 *     rho = S / (P * (f + k * (1 - f))),   k = 1 / (1 - tax)
 *
 * so an idle page costs k times an active one (4x at the default 75% tax).
 * Equalising rho across VMs gives each the allocation
 *
 *     P = tax * a + S * T           (a = f * P active pages, P >= a)
 *     P = S * T / (1 - tax)         (P < a: every page is active)
 *
 * for one host-wide T; the water level T is found by bisection so that the
 * allocations, each clamped between the VM's reservation and its limit (or
 * configured size), fill the memory VMs may use while keeping low_free
 * free.  Integer arithmetic only: the bare-metal build has no floating
 * point.
 *
 * Targets.  Below low_free the excess over entitlement of each VM becomes
 * its balloon target (balloon.c adds the operator's and the limit's); the
 * state clears with hysteresis at twice low_free.  Below min_free, growth
 * past entitlement is refused (mem.c).
 *
 * Sampling.  Each period a few random pages with frames are unmapped per
 * VM; the next touch faults and is counted.  The touched fraction feeds a
 * fast and a slow moving average; the estimate is the largest of them and
 * the last period, so it rises at once and decays slowly. */
#include "mem_internal.h"

#define FRAC_ONE 65536u /* fixed point for fractions and T */

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* ---- active memory ----------------------------------------------------------- */

uint64_t vh_reclaim_active_pages(const struct vh_vm *vm)
{
	uint64_t f;

	if (!vm->mem.active_measured)
		return vm->mem.stats.granted; /* unknown: assume all active */
	f = vm->mem.active_fast;
	if (vm->mem.active_slow > f)
		f = vm->mem.active_slow;
	if (vm->mem.active_now > f)
		f = vm->mem.active_now;
	return (vm->mem.stats.granted * f + FRAC_ONE / 2) / FRAC_ONE;
}

static void unsample_all(struct vh_host *h, struct vh_vm *vm)
{
	for (uint32_t i = 0; i < vm->mem.nsamples; i++) {
		vh_gfn_t gfn = vm->mem.samples[i];
		uint64_t *e = vh_p2m_entry(h, vm, gfn, false);
		if (!e || !(*e & VH_P2M_SAMPLED))
			continue;
		*e &= ~VH_P2M_SAMPLED;
		/* Map it again now rather than take a fault later. */
		if (vh_p2m_state(*e) == VH_P2M_PRIVATE)
			vh_mem_map(h, vm, gfn, vh_p2m_pfn(*e), VH_PROT_PRIVATE);
		else if (vh_p2m_state(*e) == VH_P2M_SHARED)
			vh_mem_map(h, vm, gfn, vh_p2m_pfn(*e), VH_PROT_SHARED);
	}
	vm->mem.nsamples = 0;
	vm->mem.touched = 0;
}

void vh_reclaim_sample(struct vh_host *h, struct vh_vm *vm)
{
	uint32_t want = h->mem.params.sample_pages;

	if (!vh_mem_vm_running(vm))
		return;
	/* Close the period that ends now. */
	if (vm->mem.nsamples) {
		uint32_t cur = (uint32_t)((uint64_t)vm->mem.touched * FRAC_ONE / vm->mem.nsamples);
		if (!vm->mem.active_measured) {
			vm->mem.active_fast = vm->mem.active_slow = cur;
			vm->mem.active_measured = true;
		} else {
			vm->mem.active_fast = (vm->mem.active_fast + cur) / 2;
			vm->mem.active_slow =
			    (uint32_t)(((uint64_t)vm->mem.active_slow * 7 + cur) / 8);
		}
		vm->mem.active_now = cur;
	}
	unsample_all(h, vm);

	/* Open the next one. */
	if (want != vm->mem.samples_cap) {
		if (vm->mem.samples)
			vh_mem_mfree(h, vm->mem.samples,
				     sizeof(*vm->mem.samples) * vm->mem.samples_cap);
		vm->mem.samples = want ? vh_mem_zalloc(h, sizeof(*vm->mem.samples) * want) : NULL;
		vm->mem.samples_cap = vm->mem.samples ? want : 0;
	}
	if (!vm->mem.stats.granted)
		return;
	/* Random pages with a frame; a sparse VM may yield fewer. */
	for (uint64_t tries = 0; vm->mem.nsamples < vm->mem.samples_cap &&
				 tries < 4ull * vm->mem.samples_cap; tries++) {
		vh_gfn_t gfn = vh_layout_ram_gfn(&vm->mem.layout,
						 h->plat->random(h->plat->ctx) % vm->mem.pages);
		uint64_t *e = vh_p2m_entry(h, vm, gfn, false), st;
		if (!e || (*e & VH_P2M_SAMPLED))
			continue;
		st = vh_p2m_state(*e);
		if (st != VH_P2M_PRIVATE && st != VH_P2M_SHARED)
			continue;
		*e |= VH_P2M_SAMPLED;
		vh_mem_map(h, vm, gfn, vh_p2m_pfn(*e), 0);
		vm->mem.samples[vm->mem.nsamples++] = (uint32_t)gfn;
	}
}

void vh_reclaim_vm_stop(struct vh_host *h, struct vh_vm *vm)
{
	/* The p2m goes away with the VM: just forget the samples. */
	if (vm->mem.samples)
		vh_mem_mfree(h, vm->mem.samples, sizeof(*vm->mem.samples) * vm->mem.samples_cap);
	vm->mem.samples = NULL;
	vm->mem.samples_cap = vm->mem.nsamples = vm->mem.touched = 0;
	vm->mem.active_measured = false;
	vm->mem.active_fast = vm->mem.active_slow = vm->mem.active_now = 0;
}

/* ---- entitlement ---------------------------------------------------------------- */

/* Allocation of vm at water level t (pages per share, FRAC_ONE fixed
 * point), before clamping. */
static uint64_t alloc_at(const struct vh_vm *vm, uint64_t active, uint32_t tax, uint64_t t)
{
	uint64_t st = sat_mul(vm->mem.shares, t) / FRAC_ONE;

	if (st > (1ull << 40))
		st = 1ull << 40; /* beyond any guest: keeps the sums exact */
	if (tax >= 100 || st * 100 >= active * (100 - tax))
		return active * tax / 100 + st;
	return st * 100 / (100 - tax);
}

static uint64_t vm_max(const struct vh_vm *vm)
{
	return vm->mem.limit_pages < vm->mem.pages ? vm->mem.limit_pages : vm->mem.pages;
}

static uint64_t clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t entitled_at(const struct vh_vm *vm, uint32_t tax, uint64_t t)
{
	uint64_t active = vh_reclaim_active_pages(vm);

	return clamp(alloc_at(vm, active, tax, t), vm->mem.reserved_pages, vm_max(vm));
}

static uint64_t total_at(struct vh_host *h, uint32_t tax, uint64_t t)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->mem.vms[i];
		if (vh_mem_vm_running(vm))
			sum += entitled_at(vm, tax, t);
	}
	return sum;
}

void vh_reclaim_update(struct vh_host *h)
{
	uint64_t total = h->mem.total_frames, free = vh_frames_of(h)->nfree;
	uint64_t low = vh_mem_low_free(h), avail = total > low ? total - low : 0;
	uint32_t tax = h->mem.params.idle_tax_percent;
	uint64_t lo = 0, hi = 1ull << 48, t;

	if (tax > 100)
		tax = 100;
	if (free < low)
		h->mem.pressure = true;
	else if (free >= 2 * low)
		h->mem.pressure = false;

	/* Largest water level whose allocations fit. */
	if (total_at(h, tax, hi) <= avail) {
		t = hi;
	} else {
		while (lo < hi) {
			uint64_t mid = lo + (hi - lo + 1) / 2;
			if (total_at(h, tax, mid) <= avail)
				lo = mid;
			else
				hi = mid - 1;
		}
		t = lo;
	}
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->mem.vms[i];
		uint64_t e, have, idle, reclaim = 0;
		if (!vh_mem_vm_running(vm))
			continue;
		e = entitled_at(vm, tax, t);
		vm->mem.entitled_pages = e;
		vm->mem.stats.entitled = e;
		/* Ballooned pages count as held: the target is the balloon
		 * size that brings what the VM holds down to its share. */
		have = vh_mem_held(vm) + vm->mem.stats.balloon;
		if (h->mem.pressure && have > e)
			reclaim = have - e;
		/* What the tax took: the part of the reclaim that idle pages
		 * pay (an idle page costs 1/(1-tax) an active one, so reclaim
		 * falls on idle memory first). */
		idle = vm->mem.stats.granted > vh_reclaim_active_pages(vm)
			   ? vm->mem.stats.granted - vh_reclaim_active_pages(vm)
			   : 0;
		vm->mem.stats.idle_tax = tax ? (reclaim < idle ? reclaim : idle) : 0;
		vh_balloon_update_target(h, vm, reclaim);
	}
}

/* ---- periodic work ------------------------------------------------------------ */

void vh_mem_tick(struct vh_host *h, uint64_t now)
{
	struct vh_host_mem *m = &h->mem;
	uint64_t free, low;
	bool update = false;

	vh_share_tick(h, now);
	if (!m->next_sample_ns) {
		m->next_sample_ns = now + m->params.sample_period_ns;
		m->next_reclaim_ns = now + m->params.reclaim_period_ns;
	}
	if (now >= m->next_sample_ns) {
		for (uint32_t i = 0; i < h->cfg.max_vms; i++)
			vh_reclaim_sample(h, m->vms[i]);
		m->next_sample_ns =
		    now + (m->params.sample_period_ns ? m->params.sample_period_ns : 1);
		update = true;
	}
	/* Crossing a threshold is acted on at once, not a period later. */
	free = vh_frames_of(h)->nfree;
	low = vh_mem_low_free(h);
	if ((!m->pressure && free < low) || (m->pressure && free >= 2 * low))
		update = true;
	if (now >= m->next_reclaim_ns) {
		m->next_reclaim_ns =
		    now + (m->params.reclaim_period_ns ? m->params.reclaim_period_ns : 1);
		update = true;
	}
	if (update)
		vh_reclaim_update(h);
}
