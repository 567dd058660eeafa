/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's guest-physical space under KVM.  Each VM gets a reserved range of
 * the daemon's address space as large as its memory (PROT_NONE,
 * MAP_NORESERVE: costs nothing) registered as its KVM memory slot(s).  The
 * core's plat->map puts one frame of the pool at one guest page with
 * mmap(MAP_FIXED | MAP_SHARED) of the memfd, write-protects it by mapping
 * it read-only, and removes it by mapping PROT_NONE anonymous memory over
 * it.  Linux's MMU notifiers make KVM drop its translation of the old
 * mapping before mmap returns, so no stale guest translation survives.
 *
 * A guest access to a page that is not mapped (or a write to a read-only
 * one) cannot be satisfied by KVM; on this kernel (measured, see
 * docs/hosted.md) KVM reports it as KVM_EXIT_MMIO with the access decoded,
 * or as an emulation failure for an instruction fetch, and guest_fault.c
 * turns either into vh_mem_fault().
 *
 * Adjacent guest pages on adjacent frames with equal rights merge into one
 * Linux VMA; a fragmented guest needs up to one VMA per page, so large
 * hosts raise vm.max_map_count (docs/hosted.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "hosted.h"

int vh_hosted_guest_mem_init(struct vh_hosted_guest_mem *g, int vm_fd, uint64_t bytes,
			     char *why, size_t whylen)
{
	/* One slot per RAM region of the layout; the hole below 4 GiB has
	 * none, so the local APIC and every other device page there exit
	 * to user space whatever the VM's size. */
	struct { uint64_t gpa, len; } slots[2];
	uint32_t n = 0;
	uint64_t span;

	memset(g, 0, sizeof(*g));
	vh_layout_init(&g->layout, bytes);
	span = vh_layout_ram_top(&g->layout);
	g->base = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->base == MAP_FAILED) {
		g->base = NULL;
		snprintf(why, whylen, "reserving %llu bytes of address space for guest memory: %s",
			 (unsigned long long)span, strerror(errno));
		return -1;
	}
	g->bytes = span;
	if (g->layout.low_end)
		slots[n++] = (typeof(slots[0])){ 0, g->layout.low_end };
	if (g->layout.high_end > VH_LAYOUT_4G)
		slots[n++] = (typeof(slots[0])){ VH_LAYOUT_4G, g->layout.high_end - VH_LAYOUT_4G };
	for (uint32_t i = 0; i < n; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = slots[i].gpa,
			.memory_size = slots[i].len,
			.userspace_addr = (uint64_t)(uintptr_t)(g->base + slots[i].gpa),
		};
		if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			snprintf(why, whylen,
				 "KVM_SET_USER_MEMORY_REGION (slot %u, %llu bytes): %s", i,
				 (unsigned long long)slots[i].len, strerror(errno));
			munmap(g->base, span);
			g->base = NULL;
			return -1;
		}
	}
	g->nslots = n;
	return 0;
}

void vh_hosted_guest_mem_fini(struct vh_hosted_guest_mem *g)
{
	/* The KVM VM fd is closed by the caller: its slots go with it. */
	if (g->base)
		munmap(g->base, g->bytes);
	g->base = NULL;
}

int vh_hosted_guest_mem_map(struct vh_hosted_guest_mem *g, const struct vh_hosted_frames *f,
			    uint64_t gfn, uint64_t pfn, unsigned prot)
{
	uint8_t *at;
	void *p;

	if (!g->base || gfn >= g->bytes / VH_PAGE_SIZE ||
	    !vh_layout_is_ram(&g->layout, gfn * VH_PAGE_SIZE))
		return -EINVAL;
	at = g->base + gfn * VH_PAGE_SIZE;
	if (!prot) {
		p = mmap(at, VH_PAGE_SIZE, PROT_NONE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	} else {
		int lp = PROT_READ | ((prot & VH_PROT_WRITE) ? PROT_WRITE : 0);
		if (pfn >= f->bytes / VH_PAGE_SIZE)
			return -EINVAL;
		p = mmap(at, VH_PAGE_SIZE, lp, MAP_FIXED | MAP_SHARED, f->memfd,
			 (off_t)(pfn * VH_PAGE_SIZE));
	}
	return p == MAP_FAILED ? -errno : 0;
}
