/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated platform: a deterministic implementation of struct
 * vh_platform for unit tests, benchmarks and vh-sim.  Time only moves when
 * the caller advances it; memory is a host-side arena; guest mappings are
 * recorded per VM so a simulated guest can read and write its memory and
 * fault into the core exactly where a real one would. */
#ifndef VH_SIM_PLATFORM_H
#define VH_SIM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vh/host.h"
#include "vh/mem.h"
#include "vh/platform.h"

struct vh_vm;

struct vh_sim_map_entry {
	vh_pfn_t pfn;
	uint8_t prot; /* VH_PROT_*; 0: not mapped */
};

/* One VM's recorded guest-physical map (what EPT would hold). */
struct vh_sim_vm_map {
	uint32_t vm_id;
	uint64_t npages;
	struct vh_sim_map_entry *entries;
};

struct vh_sim_platform {
	struct vh_platform plat; /* hand &plat to vh_host_init */

	uint64_t now_ns;
	/* The time of day at now_ns 0 (ns since 1970, UTC): tests set it;
	 * the wall clock advances with now_ns. */
	uint64_t wall_base_ns;
	uint64_t rng_state;

	uint8_t *arena; /* frame i at arena + i * 4 KiB */
	uint64_t nframes;

	uint64_t alloc_bytes; /* live metadata from alloc() */
	uint64_t alloc_peak;
	uint64_t alloc_fail_after; /* fail allocations after this many bytes (0: never) */

	unsigned npcpus;
	uint64_t *kicks;   /* per pCPU: times kicked */
	bool *kick_pending; /* per pCPU: kicked since last cleared */

	uint64_t map_calls;
	struct vh_sim_vm_map *maps;
	size_t nmaps, maps_cap;

	/* Guest console output, all VMs, each chunk prefixed "NAME: " at
	 * line starts; grows as needed. */
	char *console;
	size_t console_len, console_cap;
	bool console_at_line_start;

	int lock_depth;
	bool log_to_stderr;
	uint64_t log_lines;
	char last_log[256];
};

/* memory_bytes of frames, npcpus pCPUs for kick bookkeeping, a seed for
 * the random source.  Returns false when out of (host) memory. */
bool vh_sim_platform_init(struct vh_sim_platform *sp, uint64_t memory_bytes, unsigned npcpus,
			  uint64_t seed);
void vh_sim_platform_fini(struct vh_sim_platform *sp);

static inline void vh_sim_advance(struct vh_sim_platform *sp, uint64_t ns)
{
	sp->now_ns += ns;
}

/* The recorded mapping of one guest frame (NULL when the VM never had a
 * mapping). */
const struct vh_sim_map_entry *vh_sim_lookup(struct vh_sim_platform *sp, const struct vh_vm *vm,
					      vh_gfn_t gfn);

/* A simulated guest access of n bytes at guest-physical gpa (within one
 * page or across pages).  Missing or insufficient mappings fault into the
 * core with vh_mem_fault() (taking the host lock like a backend), then the
 * access is retried.  Returns VH_FAULT_MAPPED when the access completed,
 * or the fault result that stopped it. */
enum vh_fault_result vh_sim_guest_write(struct vh_sim_platform *sp, struct vh_host *h,
					struct vh_vm *vm, uint64_t gpa, const void *src, size_t n);
enum vh_fault_result vh_sim_guest_read(struct vh_sim_platform *sp, struct vh_host *h,
				       struct vh_vm *vm, uint64_t gpa, void *dst, size_t n);
/* Fills a whole guest page with one byte value (a common test pattern). */
enum vh_fault_result vh_sim_guest_fill_page(struct vh_sim_platform *sp, struct vh_host *h,
					    struct vh_vm *vm, vh_gfn_t gfn, uint8_t value);

/* Frames referenced by any recorded mapping of any VM (distinct pfns). */
uint64_t vh_sim_mapped_frames(struct vh_sim_platform *sp);

#endif
