/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "cpu.h"
#include "paging.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define GIB (1ull << 30)
#define MAP_LIMIT (512 * GIB) /* one PDPT */

/* From boot.S. */
extern uint64_t boot_pml4[512];
extern uint64_t boot_pdpt[512];
extern uint64_t boot_pd[4 * 512];

static uint64_t mapped_end = 4 * GIB;

void vh_paging_uncached(uint64_t phys)
{
	uint64_t i = phys >> 21;

	if (i >= 4 * 512)
		return;
	boot_pd[i] |= PTE_PCD | PTE_PWT;
	__asm__ volatile("invlpg (%0)" : : "r"(i << 21) : "memory");
}

#define PD_POOL 28 /* 4 GiB .. 32 GiB */
static uint64_t pd_pool[PD_POOL][512] __attribute__((aligned(4096)));
static unsigned pd_used;

bool vh_paging_map_to(uint64_t end)
{
	bool gib_pages =
	    cpuid_max_ext() >= 0x80000001u && (cpuid_edx(0x80000001u) & CPUIDX1_EDX_PDPE1GB);

	if (end > MAP_LIMIT)
		return false;
	while (mapped_end < end) {
		uint64_t slot = mapped_end / GIB;
		if (gib_pages) {
			boot_pdpt[slot] = mapped_end | PTE_P | PTE_W | PTE_PS;
		} else {
			if (pd_used == PD_POOL)
				return false;
			uint64_t *pd = pd_pool[pd_used++];
			for (uint64_t i = 0; i < 512; i++)
				pd[i] = (mapped_end + (i << 21)) | PTE_P | PTE_W | PTE_PS;
			boot_pdpt[slot] = (uint64_t)(uintptr_t)pd | PTE_P | PTE_W;
		}
		mapped_end += GIB;
	}
	/* New entries only: no stale translation to flush, but reload CR3
	 * anyway so no CPU keeps a cached "not present" walk. */
	write_cr3(read_cr3());
	return true;
}

uint64_t vh_paging_mapped_end(void)
{
	return mapped_end;
}
