/* SPDX-License-Identifier: Apache-2.0 */
/* Basic types and units shared by the core, the backends and the control
 * protocol.  Freestanding. */
#ifndef VH_TYPES_H
#define VH_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Host frame number: index of a 4 KiB frame in the memory the platform
 * gave the core (not necessarily a physical address). */
typedef uint64_t vh_pfn_t;
/* Guest frame number: guest-physical address >> 12. */
typedef uint64_t vh_gfn_t;

#define VH_PAGE_SHIFT 12
#define VH_PAGE_SIZE (1ull << VH_PAGE_SHIFT)
#define VH_LARGE_PAGE_SHIFT 21
#define VH_LARGE_PAGE_SIZE (1ull << VH_LARGE_PAGE_SHIFT)
#define VH_PAGES_PER_LARGE (1u << (VH_LARGE_PAGE_SHIFT - VH_PAGE_SHIFT))
#define VH_PFN_INVALID UINT64_MAX

#define VH_MIB (1024ull * 1024ull)
#define VH_PAGES_PER_MIB (VH_MIB / VH_PAGE_SIZE)

#define VH_NSEC_PER_USEC 1000ull
#define VH_NSEC_PER_MSEC 1000000ull
#define VH_NSEC_PER_SEC 1000000000ull

/* "No limit" for MHz and MiB limits. */
#define VH_UNLIMITED UINT64_MAX

#endif
