/* SPDX-License-Identifier: Apache-2.0 */
/* Resource controls with ESX semantics (see shared design): shares matter
 * only under contention, reservations are guaranteed and admission-
 * controlled, limits are ceilings (VH_UNLIMITED for none). */
#ifndef VH_RESOURCE_H
#define VH_RESOURCE_H

#include "vh/types.h"

/* CPU shares per vCPU, memory shares per MiB of configured memory. */
#define VH_CPU_SHARES_LOW 500u
#define VH_CPU_SHARES_NORMAL 1000u
#define VH_CPU_SHARES_HIGH 2000u
#define VH_MEM_SHARES_LOW 5u
#define VH_MEM_SHARES_NORMAL 10u
#define VH_MEM_SHARES_HIGH 20u
#define VH_SHARES_CUSTOM_MIN 1u
#define VH_SHARES_CUSTOM_MAX 1000000u

enum vh_shares_level {
	VH_SHARES_NORMAL = 0, /* the default */
	VH_SHARES_LOW = 1,
	VH_SHARES_HIGH = 2,
	VH_SHARES_CUSTOM = 3,
};

struct vh_shares {
	enum vh_shares_level level;
	uint32_t custom; /* used when level == VH_SHARES_CUSTOM: 1..1,000,000 */
};

struct vh_cpu_controls {
	struct vh_shares shares;
	uint64_t reservation_mhz; /* 0: none */
	uint64_t limit_mhz;       /* VH_UNLIMITED: none */
};

/* Co-scheduling of a multiprocessor VM's vCPUs. */
enum vh_cosched_mode {
	VH_COSCHED_RELAXED = 0, /* the default: bound the skew between siblings */
	VH_COSCHED_STRICT = 1,  /* all vCPUs run together or not at all */
	VH_COSCHED_NONE = 2,    /* independent vCPUs (for experiments) */
};

struct vh_mem_controls {
	struct vh_shares shares;
	uint64_t reservation_mib; /* 0: none */
	uint64_t limit_mib;       /* VH_UNLIMITED: none */
};

/* The effective share values: CPU shares of the whole VM (per-vCPU level
 * times vCPUs; a custom value is the VM's total), memory shares of the
 * whole VM (per-MiB level times configured MiB; custom is the total). */
uint64_t vh_cpu_shares_value(const struct vh_shares *s, unsigned vcpus);
uint64_t vh_mem_shares_value(const struct vh_shares *s, uint64_t memory_mib);

/* Validation that names the field at fault ("cpu.shares", ...). */
struct vh_error;
int vh_shares_validate(const struct vh_shares *s, const char *field, struct vh_error *err);

#endif
