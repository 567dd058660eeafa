/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "bootinfo.h"
#include "console.h"
#include "memlayout.h"
#include "vh/string.h"

#define LOW_MEMORY_END 0x100000ull
#define PAGE 4096ull

extern char __load_start[], __bss_end[];

struct vh_memlayout vh_mem;

/* Scratch list of free pieces while reserved areas are cut out. */
#define MAX_PIECES 96
static struct vh_phys_range pieces[MAX_PIECES];
static unsigned npieces;
static bool overflow;

static void add_piece(uint64_t base, uint64_t end)
{
	base = (base + PAGE - 1) & ~(PAGE - 1);
	end &= ~(PAGE - 1);
	if (end <= base)
		return;
	if (npieces == MAX_PIECES) {
		overflow = true;
		return;
	}
	pieces[npieces++] = (struct vh_phys_range){ base, (end - base) / PAGE };
}

/* Removes [start, end) from every piece, splitting where it falls inside. */
static void cut(uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < npieces; i++) {
		uint64_t b = pieces[i].base, e = b + pieces[i].npages * PAGE;
		if (end <= b || start >= e)
			continue;
		pieces[i] = pieces[--npieces];
		add_piece(b, start > b ? start : b);
		add_piece(end < e ? end : e, e);
		i = (unsigned)-1; /* the list changed: start over */
	}
}

static void sort_pieces(void)
{
	for (unsigned i = 1; i < npieces; i++)
		for (unsigned j = i; j > 0 && pieces[j - 1].base > pieces[j].base; j--) {
			struct vh_phys_range t = pieces[j];
			pieces[j] = pieces[j - 1];
			pieces[j - 1] = t;
		}
}

bool vh_memlayout_build(const struct vh_bootinfo *bi, unsigned heap_percent, uint64_t heap_min)
{
	uint64_t free_pages = 0;

	vh_memset(&vh_mem, 0, sizeof(vh_mem));
	npieces = 0;
	overflow = false;
	if (bi->nregions) {
		for (unsigned i = 0; i < bi->nregions; i++) {
			const struct vh_boot_region *r = &bi->regions[i];
			if (r->type != VH_MEM_AVAILABLE || r->base + r->len < r->base)
				continue;
			vh_mem.ram_bytes += r->len;
			add_piece(r->base, r->base + r->len);
		}
	} else if (bi->has_mem) {
		/* No map: the upper-memory size runs from 1 MiB to the
		 * first hole. */
		vh_mem.ram_bytes = ((uint64_t)bi->mem_lower_kib + bi->mem_upper_kib) * 1024;
		add_piece(LOW_MEMORY_END, LOW_MEMORY_END + (uint64_t)bi->mem_upper_kib * 1024);
	} else {
		vh_console_printf(
		    "vh: the boot loader gave neither a memory map nor a memory size\n");
		return false;
	}
	vh_mem.kernel_start = (uint64_t)(uintptr_t)__load_start;
	vh_mem.kernel_end = (uint64_t)(uintptr_t)__bss_end;
	cut(0, LOW_MEMORY_END);
	cut(vh_mem.kernel_start & ~(PAGE - 1), vh_mem.kernel_end);
	for (unsigned i = 0; i < bi->nmodules; i++) {
		cut(bi->modules[i].start & ~(PAGE - 1), bi->modules[i].end);
		vh_mem.modules_bytes += bi->modules[i].end - bi->modules[i].start;
	}
	if (overflow)
		vh_console_printf("vh: memory map too fragmented; some RAM is left unused\n");
	sort_pieces();
	for (unsigned i = 0; i < npieces; i++)
		free_pages += pieces[i].npages;

	/* The heap: one piece, the lowest that is large enough. */
	uint64_t heap_pages = free_pages * heap_percent / 100;
	if (heap_pages * PAGE < heap_min)
		heap_pages = heap_min / PAGE;
	unsigned h = npieces;
	for (unsigned i = 0; i < npieces; i++)
		if (pieces[i].npages > heap_pages) {
			h = i;
			break;
		}
	if (h == npieces) {
		vh_console_printf(
		    "vh: no contiguous %llu KiB for the kernel heap (%llu KiB free)\n",
		    (unsigned long long)(heap_pages * 4), (unsigned long long)(free_pages * 4));
		return false;
	}
	vh_mem.heap_base = pieces[h].base;
	vh_mem.heap_bytes = heap_pages * PAGE;
	pieces[h].base += heap_pages * PAGE;
	pieces[h].npages -= heap_pages;

	for (unsigned i = 0; i < npieces; i++) {
		if (!pieces[i].npages)
			continue;
		if (vh_mem.nranges == VH_MEM_MAX_RANGES) {
			vh_console_printf("vh: more than %u RAM ranges; the rest is unused\n",
					  VH_MEM_MAX_RANGES);
			break;
		}
		vh_mem.ranges[vh_mem.nranges++] = pieces[i];
		vh_mem.nframes += pieces[i].npages;
		uint64_t end = pieces[i].base + pieces[i].npages * PAGE;
		if (end > vh_mem.highest)
			vh_mem.highest = end;
	}
	if (vh_mem.nframes == 0) {
		vh_console_printf("vh: no memory left for guests\n");
		return false;
	}
	return true;
}
