/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "apic.h"
#include "cpu.h"
#include "ept.h"
#include "heap.h"
#include "percpu.h"
#include "trap.h"
#include "vmx_insn.h"

#define LEVELS 4
#define ENTRIES 512

static unsigned index_at(uint64_t gpa, int level)
{
	return (unsigned)(gpa >> (12 + 9 * level)) & (ENTRIES - 1);
}

bool vh_ept_init(struct vh_ept *e)
{
	e->pml4 = vh_heap_alloc_page();
	e->table_pages = e->pml4 ? 1 : 0;
	e->gen = 1;
	return e->pml4 != 0;
}

static void free_table(uint64_t *t, int level)
{
	if (level > 0) {
		for (unsigned i = 0; i < ENTRIES; i++)
			if (t[i] & VH_EPT_RWX)
				free_table((uint64_t *)(uintptr_t)(t[i] & VH_EPT_ADDR_MASK),
					   level - 1);
	}
	vh_heap_free(t, 4096);
}

void vh_ept_destroy(struct vh_ept *e)
{
	if (e->pml4)
		free_table(e->pml4, LEVELS - 1);
	e->pml4 = 0;
	e->table_pages = 0;
}

uint64_t vh_ept_pointer(const struct vh_ept *e)
{
	/* Bits 2:0 memory type of the tables (6 = WB), bits 5:3 walk
	 * length minus one. */
	return (uint64_t)(uintptr_t)e->pml4 | 6ull | ((uint64_t)(LEVELS - 1) << 3);
}

/* The leaf slot for gpa, creating tables on the way when asked. */
static volatile uint64_t *walk(const struct vh_ept *e, uint64_t gpa, bool create, uint64_t *pages)
{
	uint64_t *t = e->pml4;

	for (int level = LEVELS - 1; level > 0; level--) {
		volatile uint64_t *slot = &t[index_at(gpa, level)];
		if (!(*slot & VH_EPT_RWX)) {
			if (!create)
				return 0;
			uint64_t *n = vh_heap_alloc_page();
			if (!n)
				return 0;
			(*pages)++;
			/* Non-leaf entries grant everything: the leaf decides. */
			*slot = (uint64_t)(uintptr_t)n | VH_EPT_RWX;
		}
		t = (uint64_t *)(uintptr_t)(*slot & VH_EPT_ADDR_MASK);
	}
	return &t[index_at(gpa, 0)];
}

bool vh_ept_set(struct vh_ept *e, uint64_t gpa, uint64_t hpa, unsigned prot, bool *stale)
{
	uint64_t pages = 0;
	volatile uint64_t *slot;

	*stale = false;
	if (gpa >> VH_EPT_GPA_BITS || (gpa & 0xfff) || (hpa & ~VH_EPT_ADDR_MASK))
		return false;
	slot = walk(e, gpa, prot != 0, &pages);
	e->table_pages += pages;
	if (!slot)
		return prot == 0; /* removing what was never there is done */
	uint64_t old = *slot, entry = 0;
	if (prot) {
		prot &= VH_EPT_RWX;
		if (prot & VH_EPT_W)
			prot |= VH_EPT_R;
		entry = (hpa & VH_EPT_ADDR_MASK) | prot | VH_EPT_MT_WB;
	}
	/* One aligned 64-bit store: a walker on another CPU sees the old or
	 * the new entry, never half of each. */
	*slot = entry;
	if (old & VH_EPT_RWX) {
		bool lost_rights = (old & VH_EPT_RWX & ~entry) != 0;
		bool moved =
		    (entry & VH_EPT_RWX) && (old & VH_EPT_ADDR_MASK) != (entry & VH_EPT_ADDR_MASK);
		*stale = lost_rights || moved;
	}
	return true;
}

uint64_t vh_ept_lookup(const struct vh_ept *e, uint64_t gpa)
{
	volatile uint64_t *slot = walk(e, gpa, false, 0);

	return slot ? *slot : 0;
}

void vh_ept_sync(struct vh_ept *e)
{
	unsigned self = vh_this_cpu()->index;
	uint64_t gen = __atomic_add_fetch(&e->gen, 1, __ATOMIC_SEQ_CST);

	for (unsigned i = 0; i < vh_ncpus; i++) {
		struct vh_cpu *c = &vh_cpus[i];
		if (i == self || __atomic_load_n(&c->guest_ept, __ATOMIC_SEQ_CST) != e)
			continue;
		/* It may run the guest on old translations: an interrupt
		 * forces a VM exit (external-interrupt exiting), and it
		 * flushes before entering again. */
		vh_apic_send_ipi(c->apic_id, VH_VEC_FLUSH);
		while (__atomic_load_n(&c->guest_ept, __ATOMIC_SEQ_CST) == e &&
		       __atomic_load_n(&c->guest_ept_gen, __ATOMIC_SEQ_CST) < gen)
			cpu_relax();
	}
}

void vh_ept_flush(struct vh_ept *e, unsigned cpu, uint64_t gen)
{
	vh_invept_single(vh_ept_pointer(e));
	e->flushed_gen[cpu] = gen;
	__atomic_store_n(&vh_cpus[cpu].guest_ept_gen, gen, __ATOMIC_SEQ_CST);
}
