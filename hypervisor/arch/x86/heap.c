/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "heap.h"
#include "spinlock.h"
#include "trap.h"
#include "vh/string.h"

#define GRAIN 16ull

/* A free block: lives in the free memory itself, list sorted by address
 * so that freeing coalesces with both neighbours in one pass. */
struct free_block {
	struct free_block *next;
	uint64_t size;
};

static struct free_block *free_list;
static uintptr_t heap_start, heap_end;
static size_t heap_used;
static struct vh_spinlock heap_lock;

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

void vh_heap_init(void *base, size_t size)
{
	uintptr_t b = (uintptr_t)round_up((uintptr_t)base, GRAIN);
	uintptr_t e = ((uintptr_t)base + size) & ~(uintptr_t)(GRAIN - 1);

	heap_start = b;
	heap_end = e;
	free_list = (struct free_block *)b;
	free_list->next = 0;
	free_list->size = e - b;
}

void *vh_heap_alloc(size_t size, size_t align)
{
	struct free_block **link, *b;
	void *p = 0;

	if (size == 0)
		size = 1;
	if (align < GRAIN)
		align = GRAIN;
	size = round_up(size, GRAIN);
	vh_spin_lock(&heap_lock);
	for (link = &free_list; (b = *link); link = &b->next) {
		uintptr_t start = (uintptr_t)round_up((uintptr_t)b, align);
		uintptr_t pad = start - (uintptr_t)b;
		if (pad + size > b->size)
			continue;
		uint64_t tail = b->size - pad - size;
		struct free_block *next = b->next;
		/* The padding before stays where b was; the tail becomes a
		 * new block after the allocation. */
		if (tail) {
			struct free_block *t = (struct free_block *)(start + size);
			t->next = next;
			t->size = tail;
			next = t;
		}
		if (pad) {
			b->size = pad;
			b->next = next;
		} else {
			*link = next;
		}
		heap_used += size;
		p = (void *)start;
		break;
	}
	vh_spin_unlock(&heap_lock);
	if (p)
		vh_memset(p, 0, size);
	return p;
}

void vh_heap_free(void *p, size_t size)
{
	uintptr_t a = (uintptr_t)p;
	struct free_block **link, *prev = 0, *b;

	if (!p)
		return;
	size = round_up(size ? size : 1, GRAIN);
	if (a < heap_start || a + size > heap_end || (a & (GRAIN - 1)))
		vh_panic("heap: free of %p (%zu bytes) outside the heap", p, size);
	vh_spin_lock(&heap_lock);
	for (link = &free_list; (b = *link) && (uintptr_t)b < a; link = &b->next)
		prev = b;
	if ((b && a + size > (uintptr_t)b) || (prev && (uintptr_t)prev + prev->size > a)) {
		vh_spin_unlock(&heap_lock);
		vh_panic("heap: double or overlapping free of %p (%zu bytes)", p, size);
	}
	struct free_block *n = (struct free_block *)a;
	n->size = size;
	n->next = b;
	*link = n;
	if (b && a + size == (uintptr_t)b) {
		n->size += b->size;
		n->next = b->next;
	}
	if (prev && (uintptr_t)prev + prev->size == a) {
		prev->size += n->size;
		prev->next = n->next;
	}
	heap_used -= size;
	vh_spin_unlock(&heap_lock);
}

void *vh_heap_alloc_page(void)
{
	return vh_heap_alloc(4096, 4096);
}

size_t vh_heap_used(void)
{
	return heap_used;
}

size_t vh_heap_size(void)
{
	return heap_end - heap_start;
}
