/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel's own page tables (built by boot.S): an identity map of the
 * first 4 GiB with 2 MiB pages, extended here over RAM above 4 GiB, and
 * uncached windows for device registers. */
#ifndef VH_X86_PAGING_H
#define VH_X86_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* Makes the 2 MiB page holding phys (below 4 GiB) uncached: device
 * registers must not be cached or combined. */
void vh_paging_uncached(uint64_t phys);
/* Identity-maps [0, end) where it is not mapped yet (RAM above 4 GiB),
 * with 1 GiB pages where the CPU has them (up to 512 GiB), else 2 MiB
 * pages from a static pool of page directories (up to 32 GiB): it runs
 * before the heap exists, and the heap itself may lie above 4 GiB.  False
 * when end is beyond what it can map. */
bool vh_paging_map_to(uint64_t end);
/* The end of the identity map. */
uint64_t vh_paging_mapped_end(void);

#endif
