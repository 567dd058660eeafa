/* SPDX-License-Identifier: Apache-2.0 */
/* The kernel heap: hypervisor metadata (the core's VM, vCPU and memory-
 * manager structures), VMCS and EPT pages, per-CPU stacks.  One physically
 * contiguous, identity-mapped region; first-fit with coalescing, because
 * the core frees with the size it allocated, so blocks need no headers. */
#ifndef VH_X86_HEAP_H
#define VH_X86_HEAP_H

#include <stddef.h>
#include <stdint.h>

void vh_heap_init(void *base, size_t size);
/* Zeroed, aligned to `align` (a power of two, at least 16); NULL when
 * the heap is exhausted. */
void *vh_heap_alloc(size_t size, size_t align);
void vh_heap_free(void *p, size_t size);
/* One zeroed 4 KiB page (page tables, VMCS). */
void *vh_heap_alloc_page(void);
size_t vh_heap_used(void);
size_t vh_heap_size(void);

#endif
