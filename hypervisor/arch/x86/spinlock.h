/* SPDX-License-Identifier: Apache-2.0 */
/* A ticket spinlock: FIFO, so no pCPU starves behind another that keeps
 * re-taking the host lock between two scheduler calls. */
#ifndef VH_X86_SPINLOCK_H
#define VH_X86_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "vh/compiler.h"

struct vh_spinlock {
	volatile uint32_t next;
	volatile uint32_t owner;
};

static inline void vh_spin_lock(struct vh_spinlock *l)
{
	uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	/* The free lock falls through (no jump into a loop): the exit paths
	 * take it on every hypercall and device access. */
	if (VH_UNLIKELY(__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)) {
		do
			cpu_relax();
		while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me);
	}
}

static inline void vh_spin_unlock(struct vh_spinlock *l)
{
	/* Only the holder writes owner, and an x86 store is a release: one
	 * add to memory (an atomic store of owner + 1 is a load, an add
	 * and a store; the exit paths drop this lock on every hypercall). */
	__asm__ volatile("addl $1, %0" : "+m"(l->owner) : : "memory");
}

/* Takes the lock only if it is free now (no ticket is drawn otherwise). */
static inline bool vh_spin_trylock(struct vh_spinlock *l)
{
	uint32_t owner = __atomic_load_n(&l->owner, __ATOMIC_ACQUIRE);
	uint32_t expect = owner;

	return __atomic_compare_exchange_n(&l->next, &expect, owner + 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/* Bounded attempt, for the panic path: a CPU that died holding the lock
 * must not silence the report. */
static inline bool vh_spin_lock_bounded(struct vh_spinlock *l, uint64_t spins)
{
	uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me) {
		if (spins-- == 0) {
			/* Take it over: the holder is gone. */
			__atomic_store_n(&l->owner, me, __ATOMIC_RELEASE);
			return false;
		}
		cpu_relax();
	}
	return true;
}

#endif
