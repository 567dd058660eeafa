/* SPDX-License-Identifier: Apache-2.0 */
/* The memory manager's front: host set-up, VM lifecycle, run-time
 * controls, guest faults, charging frames to VMs, and the counters.
 *
 * Frames a VM holds privately are either mapped (private_pages) or kept in
 * its reservation pool (pool_pages): frames taken at power-on for the
 * reservation and not touched yet.  The invariant
 *
 *     pool_pages == max(0, reserved_pages - private_pages)
 *
 * holds at every return, so a VM always holds at least its reservation in
 * real frames, nobody else can take them, and what limits bound is
 * private_pages + pool_pages (vh_mem_held).  Shared frames are not charged
 * to any one VM against its limit: they cost the host one frame for many
 * guests (see share.c). */
#include "mem_internal.h"
#include "vh/string.h"

void vh_mem_params_default(struct vh_mem_params *p)
{
	p->idle_tax_percent = 75;
	p->sample_pages = 100;
	p->sample_period_ns = 30 * VH_NSEC_PER_SEC;
	/* 12,800 pages/s is 50 MiB/s: a 64 GiB host is covered in about
	 * 22 minutes for well under 5% of one core (bench/tps_scan).  A
	 * fixed rate is a fixed amount of work, though, and on a slow or
	 * small host it is most of the CPU: the rate is also held to 4 MiB/s
	 * per GHz of the host's capacity, ESX's Mem.ShareScanGHz default
	 * (about 0.3% of the CPU at bench/tps_scan's cost per page). */
	p->scan_pages_per_sec = 12800;
	p->scan_pages_per_ghz = 1024;
	p->scan_pass_min_ns = VH_NSEC_PER_SEC;
	p->low_free_percent = 6;
	p->min_free_percent = 2;
	p->reclaim_period_ns = VH_NSEC_PER_SEC;
}

uint64_t vh_mem_low_free(const struct vh_host *h)
{
	return h->mem.total_frames * h->mem.params.low_free_percent / 100;
}

uint64_t vh_mem_min_free(const struct vh_host *h)
{
	return h->mem.total_frames * h->mem.params.min_free_percent / 100;
}

/* The last frames are never given to unreserved growth, so a fault always
 * has a frame for the copy-on-write and balloon paths of reserved VMs and
 * the host itself never runs dry. */
uint64_t vh_mem_floor_free(const struct vh_host *h)
{
	uint64_t f = vh_mem_min_free(h) / 4;

	return f ? f : 1;
}

int vh_mem_map(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, vh_pfn_t pfn, unsigned prot)
{
	int rc = h->plat->map(h->plat->ctx, vm, gfn, prot ? pfn : 0, prot);

	if (rc < 0)
		vh_host_log(
		    h, "memory: VM \"%s\": map of gfn %#llx to frame %llu (prot %u) failed: %d",
		    vm->cfg.name, (unsigned long long)gfn, (unsigned long long)pfn, prot, rc);
	return rc;
}

/* ---- host ------------------------------------------------------------------ */

int vh_mem_host_init(struct vh_host *h, struct vh_error *err)
{
	int rc;

	vh_memset(&h->mem, 0, sizeof(h->mem));
	vh_mem_params_default(&h->mem.params);
	/* VMs get the capacity that reservations are admitted against; the
	 * rest of the platform's memory is the hypervisor's own. */
	h->mem.total_frames = vh_host_mem_capacity_mib(h) * VH_PAGES_PER_MIB;
	h->mem.vms = vh_mem_zalloc(h, sizeof(*h->mem.vms) * h->cfg.max_vms);
	if (!h->mem.vms)
		return vh_error_set(err, VH_E_NOMEM, "memory: no metadata for the VM table");
	if ((rc = vh_frames_init(h, h->mem.total_frames, err)))
		goto fail;
	if ((rc = vh_share_init(h, err))) {
		vh_frames_fini(h);
		goto fail;
	}
	return VH_OK;
fail:
	vh_mem_mfree(h, h->mem.vms, sizeof(*h->mem.vms) * h->cfg.max_vms);
	h->mem.vms = NULL;
	return rc;
}

void vh_mem_host_fini(struct vh_host *h)
{
	if (!h->mem.vms)
		return;
	vh_share_fini(h);
	vh_frames_fini(h);
	vh_mem_mfree(h, h->mem.vms, sizeof(*h->mem.vms) * h->cfg.max_vms);
	h->mem.vms = NULL;
}

/* ---- charging frames to VMs --------------------------------------------- */

static void pool_push(struct vh_host *h, struct vh_vm *vm, vh_pfn_t pfn)
{
	struct vh_frame *f = vh_frame(h, pfn);

	f->flags = VH_FR_POOL;
	f->owner = (uint16_t)(vm->mem.slot + 1);
	f->next = vm->mem.pool_head;
	vm->mem.pool_head = (uint32_t)pfn;
	vm->mem.pool_pages++;
}

static vh_pfn_t pool_pop(struct vh_host *h, struct vh_vm *vm)
{
	vh_pfn_t pfn = vm->mem.pool_head;
	struct vh_frame *f = vh_frame(h, pfn);

	vm->mem.pool_head = f->next;
	vm->mem.pool_pages--;
	f->flags = 0;
	f->owner = 0;
	f->next = VH_FRAME_NIL;
	return pfn;
}

/* Moves n frames from the host into vm's pool, 2 MiB blocks first (fewer
 * allocator operations, and large free blocks stay intact elsewhere). */
static void pool_fill(struct vh_host *h, struct vh_vm *vm, uint64_t n)
{
	struct vh_frames *fr = vh_frames_of(h);

	while (n >= VH_PAGES_PER_LARGE) {
		vh_pfn_t pfn = vh_frames_alloc(fr, VH_FRAME_MAX_ORDER);
		if (pfn == VH_PFN_INVALID)
			break;
		for (uint32_t i = 0; i < VH_PAGES_PER_LARGE; i++)
			pool_push(h, vm, pfn + i);
		n -= VH_PAGES_PER_LARGE;
	}
	while (n--)
		pool_push(h, vm, vh_frames_alloc(fr, 0));
}

static void pool_drain(struct vh_host *h, struct vh_vm *vm, uint64_t n)
{
	while (n-- && vm->mem.pool_pages)
		vh_frames_free(vh_frames_of(h), pool_pop(h, vm), 0);
}

/* Pool frames the reservation calls for beside private_pages. */
static uint64_t pool_need(uint64_t reserved, uint64_t private_pages)
{
	return reserved > private_pages ? reserved - private_pages : 0;
}

void vh_mem_own(struct vh_host *h, struct vh_vm *vm, vh_pfn_t pfn, vh_gfn_t gfn)
{
	struct vh_frame *f = vh_frame(h, pfn);

	f->flags = 0;
	f->owner = (uint16_t)(vm->mem.slot + 1);
	f->aux = (uint32_t)gfn;
}

vh_pfn_t vh_mem_grow(struct vh_host *h, struct vh_vm *vm, enum vh_grow_refusal *why)
{
	struct vh_frames *fr = vh_frames_of(h);
	vh_pfn_t pfn;

	*why = VH_GROW_OK;
	if (vm->mem.pool_pages) {
		vm->mem.private_pages++;
		return pool_pop(h, vm);
	}
	/* Free memory just fell below low_free: compute entitlements and
	 * balloon targets now rather than at the next tick, so refusals
	 * below min_free use current figures. */
	if (!h->mem.pressure && fr->nfree < vh_mem_low_free(h))
		vh_reclaim_update(h);
	if (vm->mem.limit_pages != VH_UNLIMITED && vm->mem.private_pages >= vm->mem.limit_pages)
		*why = VH_GROW_LIMIT;
	else if (fr->nfree <= vh_mem_floor_free(h))
		*why = VH_GROW_HOST_FLOOR;
	else if (fr->nfree < vh_mem_min_free(h) && vm->mem.private_pages >= vm->mem.entitled_pages)
		*why = VH_GROW_ENTITLEMENT;
	if (*why != VH_GROW_OK) {
		vm->mem.refused++;
		h->mem.refused++;
		return VH_PFN_INVALID;
	}
	pfn = vh_frames_alloc(fr, 0);
	if (pfn == VH_PFN_INVALID) {
		/* Cannot happen above the floor; refuse rather than trust it. */
		*why = VH_GROW_HOST_FLOOR;
		vm->mem.refused++;
		h->mem.refused++;
		return pfn;
	}
	vm->mem.private_pages++;
	return pfn;
}

bool vh_mem_adopt(struct vh_host *h, struct vh_vm *vm, enum vh_grow_refusal *why)
{
	*why = VH_GROW_OK;
	if (vm->mem.pool_pages) {
		/* Held frames stay the same: one pool frame goes back. */
		vh_frames_free(vh_frames_of(h), pool_pop(h, vm), 0);
	} else if (vm->mem.limit_pages != VH_UNLIMITED &&
		   vm->mem.private_pages >= vm->mem.limit_pages) {
		*why = VH_GROW_LIMIT;
		vm->mem.refused++;
		h->mem.refused++;
		return false;
	}
	vm->mem.private_pages++;
	return true;
}

bool vh_mem_unprivate(struct vh_host *h, struct vh_vm *vm)
{
	if (vm->mem.private_pages - 1 + vm->mem.pool_pages < vm->mem.reserved_pages) {
		vh_pfn_t pfn = vh_frames_alloc(vh_frames_of(h), 0);
		if (pfn == VH_PFN_INVALID)
			return false;
		pool_push(h, vm, pfn);
	}
	vm->mem.private_pages--;
	return true;
}

void vh_mem_release_private(struct vh_host *h, struct vh_vm *vm, vh_pfn_t pfn)
{
	struct vh_frame *f = vh_frame(h, pfn);

	if (f->flags & VH_FR_HASHED)
		vh_share_unhash(h, pfn);
	f->flags = 0;
	f->owner = 0;
	vm->mem.private_pages--;
	if (vm->mem.private_pages + vm->mem.pool_pages < vm->mem.reserved_pages)
		pool_push(h, vm, pfn);
	else
		vh_frames_free(vh_frames_of(h), pfn, 0);
}

void vh_mem_release_shared(struct vh_host *h, vh_pfn_t pfn)
{
	struct vh_frame *f = vh_frame(h, pfn);
	struct vh_share_stats *c = vh_share_counters(h);

	f->aux--;
	c->refs--;
	if (f->aux == 0)
		vh_share_frame_free(h, pfn);
}

/* ---- VM lifecycle ------------------------------------------------------- */

static uint64_t mib_pages(uint64_t mib)
{
	return mib == VH_UNLIMITED ? VH_UNLIMITED : mib * VH_PAGES_PER_MIB;
}

int vh_mem_vm_init(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	uint32_t slot;

	for (slot = 0; slot < h->cfg.max_vms && h->mem.vms[slot]; slot++)
		;
	if (slot == h->cfg.max_vms)
		return vh_error_set(err, VH_E_LIMIT, "memory: no slot for another VM (%u)",
				    h->cfg.max_vms);
	vh_memset(&vm->mem, 0, sizeof(vm->mem));
	vm->mem.slot = slot;
	vm->mem.pages = vm->cfg.memory_mib * VH_PAGES_PER_MIB;
	vh_layout_init(&vm->mem.layout, vm->cfg.memory_mib * VH_MIB);
	vm->mem.shares = vh_mem_shares_value(&vm->cfg.mem.shares, vm->cfg.memory_mib);
	vm->mem.reserved_pages = mib_pages(vm->cfg.mem.reservation_mib);
	vm->mem.limit_pages = mib_pages(vm->cfg.mem.limit_mib);
	vm->mem.entitled_pages = vm->mem.pages;
	vm->mem.pool_head = VH_FRAME_NIL;
	h->mem.vms[slot] = vm;
	return VH_OK;
}

void vh_mem_vm_fini(struct vh_host *h, struct vh_vm *vm)
{
	vh_mem_vm_stop(h, vm);
	if (vm->mem.slot < h->cfg.max_vms && h->mem.vms[vm->mem.slot] == vm)
		h->mem.vms[vm->mem.slot] = NULL;
}

static void refresh_overhead(struct vh_vm *vm)
{
	uint64_t bytes = vm->mem.p2m_nodes * VH_P2M_LEAF_ENTRIES * sizeof(uint64_t) +
			 (uint64_t)vm->mem.samples_cap * sizeof(*vm->mem.samples);

	vm->mem.stats.overhead = (bytes + VH_PAGE_SIZE - 1) / VH_PAGE_SIZE;
}

int vh_mem_vm_start(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	struct vh_frames *fr = vh_frames_of(h);
	uint64_t need = vm->mem.reserved_pages;

	if (vm->mem.started)
		return vh_error_set(err, VH_E_STATE, "memory: VM \"%s\" already holds memory",
				    vm->cfg.name);
	/* vm.c admitted the reservation against capacity; the frames may
	 * still be in use as other VMs' unreserved memory until ballooning
	 * gives them back. */
	if (need > fr->nfree)
		return vh_error_set(
		    err, VH_E_ADMISSION,
		    "memory.reservation_mib: VM \"%s\" needs %llu free frames (%llu MiB) "
		    "but only %llu are free (other VMs' unreserved memory holds the "
		    "rest): short by %llu frames",
		    vm->cfg.name, (unsigned long long)need,
		    (unsigned long long)(need / VH_PAGES_PER_MIB), (unsigned long long)fr->nfree,
		    (unsigned long long)(need - fr->nfree));
	if (vh_p2m_init(h, vm))
		return vh_error_set(err, VH_E_NOMEM,
				    "memory: no metadata for VM \"%s\"'s guest map", vm->cfg.name);
	vm->mem.pool_head = VH_FRAME_NIL;
	pool_fill(h, vm, need);
	vm->mem.started = true;
	vm->mem.entitled_pages = vm->mem.pages;
	vm->mem.active_measured = false;
	refresh_overhead(vm);
	vh_reclaim_update(h);
	return VH_OK;
}

static void stop_entry(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t e)
{
	uint64_t st = vh_p2m_state(e);
	vh_pfn_t pfn = vh_p2m_pfn(e);

	if (st != VH_P2M_PRIVATE && st != VH_P2M_SHARED)
		return;
	/* The backend must not keep a translation to a frame that goes back
	 * to the host (a restarted guest would read old data). */
	if (!(e & VH_P2M_SAMPLED))
		vh_mem_map(h, vm, gfn, pfn, 0);
	if (st == VH_P2M_SHARED) {
		vh_mem_release_shared(h, pfn);
	} else {
		struct vh_frame *f = vh_frame(h, pfn);
		if (f->flags & VH_FR_HASHED)
			vh_share_unhash(h, pfn);
		f->flags = 0;
		f->owner = 0;
		vh_frames_free(vh_frames_of(h), pfn, 0);
	}
}

void vh_mem_vm_stop(struct vh_host *h, struct vh_vm *vm)
{
	if (!vm->mem.started)
		return;
	vh_share_forget_vm(h, vm);
	vh_reclaim_vm_stop(h, vm);
	vh_p2m_destroy(h, vm, stop_entry);
	pool_drain(h, vm, vm->mem.pool_pages);
	vm->mem.started = false;
	vm->mem.private_pages = 0;
	vm->mem.pool_head = VH_FRAME_NIL;
	vm->mem.balloon_target_pages = 0;
	vm->mem.entitled_pages = vm->mem.pages;
	/* The guest starts over: its balloon driver holds nothing. */
	vh_memset(&vm->mem.stats, 0, sizeof(vm->mem.stats));
	refresh_overhead(vm);
	vh_reclaim_update(h);
}

/* ---- controls ------------------------------------------------------------- */

int vh_mem_set_controls(struct vh_host *h, struct vh_vm *vm, const struct vh_mem_controls *c,
			struct vh_error *err)
{
	uint64_t reserved = mib_pages(c->reservation_mib);
	uint64_t limit = mib_pages(c->limit_mib);

	if (reserved > vm->mem.pages || reserved > limit)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "memory.reservation_mib: %llu exceeds the VM's memory or its limit",
		    (unsigned long long)c->reservation_mib);
	if (vm->mem.started) {
		uint64_t want = pool_need(reserved, vm->mem.private_pages);
		struct vh_frames *fr = vh_frames_of(h);
		if (want > vm->mem.pool_pages && want - vm->mem.pool_pages > fr->nfree) {
			uint64_t more = want - vm->mem.pool_pages;
			return vh_error_set(
			    err, VH_E_ADMISSION,
			    "memory.reservation_mib: VM \"%s\" needs %llu more free frames "
			    "but only %llu are free (other VMs' unreserved memory holds "
			    "the rest): short by %llu frames",
			    vm->cfg.name, (unsigned long long)more, (unsigned long long)fr->nfree,
			    (unsigned long long)(more - fr->nfree));
		}
		if (want > vm->mem.pool_pages)
			pool_fill(h, vm, want - vm->mem.pool_pages);
		else
			pool_drain(h, vm, vm->mem.pool_pages - want);
	}
	vm->mem.shares = vh_mem_shares_value(&c->shares, vm->cfg.memory_mib);
	vm->mem.reserved_pages = reserved;
	/* A limit below what the VM holds takes effect through its balloon
	 * (vh_reclaim_update) and by refusing its growth meanwhile. */
	vm->mem.limit_pages = limit;
	vh_reclaim_update(h);
	return VH_OK;
}

/* ---- faults ---------------------------------------------------------------- */

enum vh_fault_result vh_mem_fault(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn,
				  enum vh_mem_access access, uint64_t now)
{
	enum vh_grow_refusal why;
	uint64_t *e, st;
	vh_pfn_t pfn;

	(void)now;
	/* Only RAM is backed: the hole below 4 GiB (the local APIC, the
	 * IOAPIC, PCI) is the devices' or nothing, whatever the VM's size. */
	if (!vh_mem_vm_running(vm) || !vh_mem_is_ram(vm, gfn))
		return VH_FAULT_BAD_ADDRESS;
	e = vh_p2m_entry(h, vm, gfn, true);
	if (!e) {
		vm->mem.refused++;
		h->mem.refused++;
		return VH_FAULT_NO_MEMORY;
	}
	if (*e & VH_P2M_SAMPLED) {
		/* A sampled page was touched: that is what sampling counts. */
		*e &= ~VH_P2M_SAMPLED;
		vm->mem.touched++;
	}
	st = vh_p2m_state(*e);
	switch (st) {
	case VH_P2M_PRIVATE:
		/* Sampled, or a stale fault racing a remap: just map it. */
		return vh_mem_map(h, vm, gfn, vh_p2m_pfn(*e), VH_PROT_PRIVATE) < 0
			       ? VH_FAULT_BAD_ADDRESS
			       : VH_FAULT_MAPPED;
	case VH_P2M_SHARED:
		if (access & VH_MEM_WRITE) {
			if (!vh_share_break(h, vm, gfn, e, &why)) {
				/* Reads still work while the write waits. */
				vh_mem_map(h, vm, gfn, vh_p2m_pfn(*e), VH_PROT_SHARED);
				return VH_FAULT_NO_MEMORY;
			}
			return vh_mem_map(h, vm, gfn, vh_p2m_pfn(*e), VH_PROT_PRIVATE) < 0
				       ? VH_FAULT_BAD_ADDRESS
				       : VH_FAULT_MAPPED;
		}
		return vh_mem_map(h, vm, gfn, vh_p2m_pfn(*e), VH_PROT_SHARED) < 0
			       ? VH_FAULT_BAD_ADDRESS
			       : VH_FAULT_MAPPED;
	case VH_P2M_NONE:
	case VH_P2M_BALLOONED:
		pfn = vh_mem_grow(h, vm, &why);
		if (pfn == VH_PFN_INVALID)
			return VH_FAULT_NO_MEMORY;
		vh_page_zero(vh_frame_bytes(h, pfn));
		vh_mem_own(h, vm, pfn, gfn);
		*e = vh_p2m_make(VH_P2M_PRIVATE, pfn);
		vm->mem.stats.granted++;
		if (st == VH_P2M_BALLOONED) {
			/* The guest broke its balloon promise (or its driver
			 * restarted without telling us): count it and carry on
			 * with a fresh zeroed page. */
			vm->mem.stats.balloon--;
			vm->mem.balloon_touches++;
		}
		if (vh_mem_map(h, vm, gfn, pfn, VH_PROT_PRIVATE) < 0)
			return VH_FAULT_BAD_ADDRESS;
		return st == VH_P2M_BALLOONED ? VH_FAULT_BALLOONED : VH_FAULT_MAPPED;
	default:
		return VH_FAULT_BAD_ADDRESS;
	}
}

/* ---- counters ---------------------------------------------------------------- */

void vh_mem_vm_stats(struct vh_host *h, struct vh_vm *vm, struct vh_mem_stats *out)
{
	struct vh_share_stats *c = vh_share_counters(h);
	uint64_t shared_charge = 0;

	/* Consumed: the VM's private frames plus its part of the shared
	 * frames.  Sharers are not tracked per frame, so each shared page is
	 * charged the host-wide average frames per shared page. */
	if (vm->mem.stats.shared && c->refs)
		shared_charge = (vm->mem.stats.shared * c->frames + c->refs - 1) / c->refs;
	vm->mem.stats.consumed = vm->mem.private_pages + vm->mem.pool_pages + shared_charge;
	vm->mem.stats.active = vh_reclaim_active_pages(vm);
	vm->mem.stats.swapped = 0;
	refresh_overhead(vm);
	*out = vm->mem.stats;
}

void vh_mem_host_stats(struct vh_host *h, struct vh_host_mem_stats *out)
{
	struct vh_share_stats *c = vh_share_counters(h);
	uint64_t reserved = 0;

	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->mem.vms[i];
		if (vh_mem_vm_running(vm))
			reserved += vm->mem.reserved_pages;
	}
	h->mem.stats.total = h->mem.total_frames;
	h->mem.stats.free = vh_frames_of(h)->nfree;
	h->mem.stats.reserved = reserved;
	h->mem.stats.shared_saved = c->refs - c->frames;
	*out = h->mem.stats;
}
