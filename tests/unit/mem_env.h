/* SPDX-License-Identifier: Apache-2.0 */
/* A host on the simulated platform for the memory-manager tests: real
 * frame contents, recorded guest mappings, a manual clock. */
#ifndef VH_TEST_MEM_ENV_H
#define VH_TEST_MEM_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../hypervisor/core/mem/mem_internal.h"
#include "sim_platform.h"
#include "vh/host.h"
#include "vh/vm.h"
#include "vh_test.h"

struct mem_env {
	struct vh_sim_platform sp;
	struct vh_host h;
};

/* A host of mib MiB; the arena is dirtied first so that "zeroed" is
 * something the memory manager did, not calloc. */
static inline void mem_env_init(struct mem_env *e, uint64_t mib)
{
	struct vh_host_config cfg = {
		.pcpus = 4, .mhz_per_pcpu = 2000, .memory_bytes = mib * VH_MIB, .max_vms = 16,
	};
	struct vh_error err = { 0 };

	VH_ASSERT(vh_sim_platform_init(&e->sp, cfg.memory_bytes, cfg.pcpus, 42));
	memset(e->sp.arena, 0xa5, cfg.memory_bytes);
	if (vh_host_init(&e->h, &cfg, &e->sp.plat, &err))
		VH_FAIL("vh_host_init: %s", err.reason);
}

static inline void mem_env_fini(struct mem_env *e)
{
	vh_host_fini(&e->h);
	/* Every metadata allocation went back. */
	VH_EXPECT_EQ(e->sp.alloc_bytes, (uint64_t)0);
	vh_sim_platform_fini(&e->sp);
}

static inline struct vh_vm *mem_env_vm(struct mem_env *e, const char *name, uint64_t mib,
				       uint64_t reservation_mib, uint64_t limit_mib, bool start)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };
	struct vh_vm *vm;

	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.memory_mib = mib;
	cfg.mem.reservation_mib = reservation_mib;
	cfg.mem.limit_mib = limit_mib;
	vm = vh_vm_define(&e->h, &cfg, &err);
	if (!vm)
		VH_FAIL("define %s: %s", name, err.reason);
	if (start && vh_vm_start(&e->h, vm, &err))
		VH_FAIL("start %s: %s", name, err.reason);
	return vm;
}

static inline uint64_t mem_env_free(struct mem_env *e)
{
	struct vh_host_mem_stats hs;

	vh_mem_host_stats(&e->h, &hs);
	return hs.free;
}

static inline struct vh_mem_stats mem_env_stats(struct mem_env *e, struct vh_vm *vm)
{
	struct vh_mem_stats s;

	vh_mem_vm_stats(&e->h, vm, &s);
	return s;
}

/* Reads one word of the page (a guest touch). */
static inline int mem_env_touch(struct mem_env *e, struct vh_vm *vm, vh_gfn_t gfn)
{
	uint64_t w;

	return vh_sim_guest_read(&e->sp, &e->h, vm, gfn << VH_PAGE_SHIFT, &w, sizeof(w));
}

static inline int mem_env_write_word(struct mem_env *e, struct vh_vm *vm, vh_gfn_t gfn,
				     uint64_t w)
{
	return vh_sim_guest_write(&e->sp, &e->h, vm, gfn << VH_PAGE_SHIFT, &w, sizeof(w));
}

/* The host frame behind a guest page as the backend sees it. */
static inline vh_pfn_t mem_env_pfn(struct mem_env *e, struct vh_vm *vm, vh_gfn_t gfn)
{
	const struct vh_sim_map_entry *m = vh_sim_lookup(&e->sp, vm, gfn);

	return m && m->prot ? m->pfn : VH_PFN_INVALID;
}

static inline unsigned mem_env_prot(struct mem_env *e, struct vh_vm *vm, vh_gfn_t gfn)
{
	const struct vh_sim_map_entry *m = vh_sim_lookup(&e->sp, vm, gfn);

	return m ? m->prot : 0;
}

/* Deterministic page contents that differ per gfn (and per seed). */
static inline void mem_env_pattern(uint8_t page[VH_PAGE_SIZE], uint64_t gfn, uint64_t seed)
{
	uint64_t x = (gfn + 1) * 0x9e3779b97f4a7c15ull ^ seed;

	for (size_t i = 0; i < VH_PAGE_SIZE; i += 8) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		uint64_t w = x * 0x2545f4914f6cdd1dull;
		memcpy(page + i, &w, 8);
	}
}

/* Runs the sharing scanner until its cursor wraps: from a fresh host, one
 * full pass over every running VM. */
static inline void mem_env_scan_pass(struct mem_env *e)
{
	struct vh_share_stats st;
	uint64_t start;

	vh_share_stats(&e->h, &st);
	start = st.passes;
	for (int i = 0; i < 100000; i++) {
		vh_share_scan(&e->h, 1u << 20);
		vh_share_stats(&e->h, &st);
		if (st.passes > start)
			return;
	}
	VH_FAIL("the scanner never completed a pass");
}

#endif
