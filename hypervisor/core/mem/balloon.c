/* SPDX-License-Identifier: Apache-2.0 */
/* Ballooning: the guest's balloon driver pins pages inside the guest and
 * hands them to the hypervisor (inflate), which returns their frames to
 * the host; it takes them back (deflate) when its target falls.  The
 * target it is told is the largest of what the operator asked, what the
 * VM's limit requires and what reclaim wants under memory pressure
 * (reclaim.c), so the guest's own allocator chooses which pages to give:
 * it knows better than the hypervisor which ones are idle. */
#include "mem_internal.h"

void vh_balloon_update_target(struct vh_host *h, struct vh_vm *vm, uint64_t reclaim_pages)
{
	uint64_t t = vm->mem.balloon_request_pages;
	/* The term that decides the target is kept for the stats: an operator
	 * asks why a VM is ballooned, not only how much. */
	uint32_t why = t ? VH_BALLOON_REQUEST : VH_BALLOON_NONE;

	(void)h;
	vm->mem.reclaim_target_pages = reclaim_pages;
	vm->mem.stats.reclaim_target = reclaim_pages;
	/* A limit below the configured size: the guest can use at most
	 * limit pages, so the rest sits in the balloon where touching it
	 * costs nothing. */
	if (vm->mem.limit_pages < vm->mem.pages && vm->mem.pages - vm->mem.limit_pages > t) {
		t = vm->mem.pages - vm->mem.limit_pages;
		why = VH_BALLOON_LIMIT;
	}
	if (reclaim_pages > t) {
		t = reclaim_pages;
		why = VH_BALLOON_RECLAIM;
	}
	/* Never below the reservation's worth of usable memory. */
	if (t > vm->mem.pages - vm->mem.reserved_pages) {
		t = vm->mem.pages - vm->mem.reserved_pages;
		why = VH_BALLOON_RESERVATION;
	}
	vm->mem.balloon_target_pages = t;
	vm->mem.stats.balloon_reason = why;
}

int vh_mem_set_balloon_target(struct vh_host *h, struct vh_vm *vm, uint64_t pages,
			      struct vh_error *err)
{
	if (pages > vm->mem.pages)
		return vh_error_set(err, VH_E_INVAL,
				    "balloon.target: %llu pages exceeds the VM's %llu pages",
				    (unsigned long long)pages, (unsigned long long)vm->mem.pages);
	vm->mem.balloon_request_pages = pages;
	vh_balloon_update_target(h, vm, vm->mem.reclaim_target_pages);
	return VH_OK;
}

uint64_t vh_mem_balloon_inflate(struct vh_host *h, struct vh_vm *vm, const vh_gfn_t *gfns,
				uint64_t n)
{
	uint64_t accepted = 0;

	if (!vh_mem_vm_running(vm))
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		vh_gfn_t gfn = gfns[i];
		uint64_t *e, st;

		if (!vh_mem_is_ram(vm, gfn))
			continue;
		e = vh_p2m_entry(h, vm, gfn, true);
		if (!e)
			break; /* out of metadata: the rest stay with the guest */
		st = vh_p2m_state(*e);
		if (st == VH_P2M_BALLOONED)
			continue;
		if (st == VH_P2M_PRIVATE || st == VH_P2M_SHARED) {
			vh_pfn_t pfn = vh_p2m_pfn(*e);
			/* Unmap before the frame goes anywhere else. */
			if (!(*e & VH_P2M_SAMPLED))
				vh_mem_map(h, vm, gfn, pfn, 0);
			if (st == VH_P2M_PRIVATE) {
				vh_mem_release_private(h, vm, pfn);
			} else {
				vh_mem_release_shared(h, pfn);
				vm->mem.stats.shared--;
			}
			vm->mem.stats.granted--;
		}
		*e = vh_p2m_make(VH_P2M_BALLOONED, 0);
		vm->mem.stats.balloon++;
		accepted++;
	}
	return accepted;
}

uint64_t vh_mem_balloon_deflate(struct vh_host *h, struct vh_vm *vm, const vh_gfn_t *gfns,
				uint64_t n)
{
	uint64_t accepted = 0;

	if (!vh_mem_vm_running(vm))
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *e = vh_p2m_entry(h, vm, gfns[i], false);

		if (!e || vh_p2m_state(*e) != VH_P2M_BALLOONED)
			continue;
		/* No frame now: the guest's next touch gets a zeroed one
		 * through the ordinary first-touch path. */
		*e = vh_p2m_make(VH_P2M_NONE, 0);
		vm->mem.stats.balloon--;
		accepted++;
	}
	return accepted;
}
