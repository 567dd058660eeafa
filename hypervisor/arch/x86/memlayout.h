/* SPDX-License-Identifier: Apache-2.0 */
/* Where physical memory goes: the kernel image and the Multiboot modules
 * stay where the loader put them, low memory (below 1 MiB) is left to the
 * firmware and the SMP trampoline, the kernel heap takes one contiguous
 * piece, and everything else becomes the core's host frames 0..N-1. */
#ifndef VH_X86_MEMLAYOUT_H
#define VH_X86_MEMLAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "vh/types.h"

#define VH_MEM_MAX_RANGES 32

struct vh_phys_range {
	uint64_t base;   /* physical, page aligned */
	uint64_t npages;
};

struct vh_memlayout {
	uint64_t ram_bytes;    /* usable RAM the loader reported */
	uint64_t kernel_start, kernel_end;
	uint64_t modules_bytes;
	uint64_t heap_base, heap_bytes;
	uint64_t highest;      /* end of the highest frame range */
	unsigned nranges;
	struct vh_phys_range ranges[VH_MEM_MAX_RANGES];
	uint64_t nframes;
};

extern struct vh_memlayout vh_mem;

struct vh_bootinfo;

/* Builds vh_mem from the boot information: heap_percent of the free
 * memory (at least heap_min bytes) becomes the heap.  False with a
 * message when memory is too small or the map unusable. */
bool vh_memlayout_build(const struct vh_bootinfo *bi, unsigned heap_percent, uint64_t heap_min);

/* Host frame number -> identity-mapped physical address (frame_ptr and
 * EPT entries both use it); VH_PFN_INVALID's answer is 0. */
static inline uint64_t vh_frame_phys(vh_pfn_t pfn)
{
	for (unsigned i = 0; i < vh_mem.nranges; i++) {
		if (pfn < vh_mem.ranges[i].npages)
			return vh_mem.ranges[i].base + (pfn << VH_PAGE_SHIFT);
		pfn -= vh_mem.ranges[i].npages;
	}
	return 0;
}

#endif
