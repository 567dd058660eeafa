/* SPDX-License-Identifier: Apache-2.0 */
/* Extended page tables: one 4-level tree per VM, 4 KiB leaves, filled on
 * demand as the core maps guest frames (platform map()), and the
 * invalidation that makes a removed or downgraded entry take effect on
 * every CPU before map() returns. */
#ifndef VH_X86_EPT_H
#define VH_X86_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "percpu.h"
#include "vh/compiler.h"

/* Guest-physical addresses vh maps: 48 bits, the 4-level walk's reach. */
#define VH_EPT_GPA_BITS 48

/* EPT entry bits (the low three mirror VH_PROT_READ/WRITE/EXEC). */
#define VH_EPT_R 0x1ull
#define VH_EPT_W 0x2ull
#define VH_EPT_X 0x4ull
#define VH_EPT_RWX 0x7ull
#define VH_EPT_MT_WB (6ull << 3) /* leaf memory type: write-back */
#define VH_EPT_ADDR_MASK 0x000ffffffffff000ull

struct vh_ept {
	uint64_t *pml4;
	uint64_t table_pages; /* page-table pages, the root included: overhead */
	/* Bumped whenever an entry lost rights or changed frame; each CPU
	 * flushes its TLB for this tree before entering the guest with a
	 * newer generation than it flushed last. */
	volatile uint64_t gen;
	uint64_t flushed_gen[VH_MAX_CPUS];
};

bool vh_ept_init(struct vh_ept *e);
/* Frees every table (no CPU may use the tree any more). */
void vh_ept_destroy(struct vh_ept *e);
/* The EPTP for the VMCS: WB tables, 4-level walk. */
uint64_t vh_ept_pointer(const struct vh_ept *e);

/* Sets the leaf for gpa (page aligned): hpa with rights prot (VH_EPT_R/
 * W/X; write without read is not expressible in EPT and gets read added),
 * or removes it with prot 0.  Returns false when a table could not be
 * allocated or gpa is out of range.  *stale is true when translations
 * cached from the old entry must be flushed (see vh_ept_sync). */
bool vh_ept_set(struct vh_ept *e, uint64_t gpa, uint64_t hpa, unsigned prot, bool *stale);
/* The leaf entry for gpa (0: none). */
uint64_t vh_ept_lookup(const struct vh_ept *e, uint64_t gpa);

/* Makes every CPU drop translations from e before it runs a guest on it
 * again, and waits for the CPUs running it now to leave the guest. */
void vh_ept_sync(struct vh_ept *e);
/* INVEPT of e on this CPU, which has now flushed generation gen (and
 * says so in vh_cpu.guest_ept_gen). */
void vh_ept_flush(struct vh_ept *e, unsigned cpu, uint64_t gen);

/* Before the first entry of a quantum, the CPU publishes which
 * generation of e it has flushed (vh_cpu.guest_ept_gen): from then on it
 * equals flushed_gen[cpu] while the CPU runs e, so an entry stores it only
 * when it flushes. */
static inline void vh_ept_enter(struct vh_ept *e, unsigned cpu)
{
	__atomic_store_n(&vh_cpus[cpu].guest_ept_gen, e->flushed_gen[cpu], __ATOMIC_SEQ_CST);
}

/* Called on the entering CPU with interrupts off, after it published
 * that it runs e (vh_cpu.guest_ept): INVEPT when e changed since this CPU
 * last flushed it (vh_ept_flush publishes the new generation).  Inline:
 * it runs before every VM entry. */
static inline void vh_ept_before_entry(struct vh_ept *e, unsigned cpu)
{
	uint64_t gen = __atomic_load_n(&e->gen, __ATOMIC_SEQ_CST);

	if (VH_UNLIKELY(e->flushed_gen[cpu] != gen))
		vh_ept_flush(e, cpu, gen);
}

#endif
