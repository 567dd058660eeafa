/* SPDX-License-Identifier: Apache-2.0 */
/* The bare-metal kernel's struct vh_platform: what the core gets from
 * this machine (see vh/platform.h). */
#ifndef VH_X86_PLATFORM_H
#define VH_X86_PLATFORM_H

#include <stdint.h>

#include "spinlock.h"
#include "vh/platform.h"

/* The host lock behind the platform's lock()/unlock(): the exit handlers
 * on the hot path (port I/O, hypercalls) take it directly, which saves
 * two indirect calls per exit. */
extern struct vh_spinlock vh_host_lock;

/* Fills the platform once the heap, the TSC and the CPUs are up. */
const struct vh_platform *vh_kplatform_init(void);

/* Heap bytes the core holds (the platform's alloc minus free). */
uint64_t vh_kplatform_core_bytes(void);

#endif
