/* SPDX-License-Identifier: Apache-2.0 */
/* The host frame allocator: a binary buddy allocator over the frames the
 * platform gives the core, orders 0 (4 KiB) to 9 (2 MiB).  Free blocks
 * sit on one doubly linked list per order, threaded through the frame
 * table, so allocation is O(orders) and freeing with coalescing is
 * O(orders) too: nothing ever scans the frame table. */
#include "mem_internal.h"

static void list_push(struct vh_frames *fr, vh_pfn_t pfn, unsigned order)
{
	struct vh_frame *f = &fr->f[pfn];
	uint32_t old = fr->head[order];

	f->flags = VH_FR_FREE;
	f->order = (uint8_t)order;
	f->prev = VH_FRAME_NIL;
	f->next = old;
	if (old != VH_FRAME_NIL)
		fr->f[old].prev = (uint32_t)pfn;
	fr->head[order] = (uint32_t)pfn;
	fr->count[order]++;
}

static void list_remove(struct vh_frames *fr, vh_pfn_t pfn)
{
	struct vh_frame *f = &fr->f[pfn];
	unsigned order = f->order;

	if (f->prev != VH_FRAME_NIL)
		fr->f[f->prev].next = f->next;
	else
		fr->head[order] = f->next;
	if (f->next != VH_FRAME_NIL)
		fr->f[f->next].prev = f->prev;
	f->flags = 0;
	f->next = f->prev = VH_FRAME_NIL;
	fr->count[order]--;
}

int vh_frames_init(struct vh_host *h, uint64_t n, struct vh_error *err)
{
	struct vh_frames *fr;

	/* Frame numbers live in 32-bit links: 16 TiB is plenty for now. */
	if (n >= VH_FRAME_NIL)
		return vh_error_set(err, VH_E_INVAL, "host.memory_bytes: %llu frames, at most %u",
				    (unsigned long long)n, VH_FRAME_NIL - 1);
	fr = vh_mem_zalloc(h, sizeof(*fr));
	if (!fr)
		return vh_error_set(err, VH_E_NOMEM, "memory: no metadata for the frame allocator");
	fr->f = vh_mem_zalloc(h, sizeof(*fr->f) * (n ? n : 1));
	if (!fr->f) {
		vh_mem_mfree(h, fr, sizeof(*fr));
		return vh_error_set(err, VH_E_NOMEM,
				    "memory: no metadata for the frame table (%llu frames)",
				    (unsigned long long)n);
	}
	fr->n = n;
	fr->plat = h->plat;
	for (unsigned o = 0; o < VH_FRAME_ORDERS; o++)
		fr->head[o] = VH_FRAME_NIL;
	/* Carve the range into the largest aligned blocks that fit. */
	for (vh_pfn_t p = 0; p < n;) {
		unsigned o = VH_FRAME_MAX_ORDER;
		while (o && ((p & ((1ull << o) - 1)) || p + (1ull << o) > n))
			o--;
		list_push(fr, p, o);
		p += 1ull << o;
	}
	fr->nfree = n;
	h->mem.frames = fr;
	return VH_OK;
}

void vh_frames_fini(struct vh_host *h)
{
	struct vh_frames *fr = h->mem.frames;

	if (!fr)
		return;
	vh_mem_mfree(h, fr->f, sizeof(*fr->f) * (fr->n ? fr->n : 1));
	vh_mem_mfree(h, fr, sizeof(*fr));
	h->mem.frames = NULL;
}

vh_pfn_t vh_frames_alloc(struct vh_frames *fr, unsigned order)
{
	unsigned o = order;
	vh_pfn_t pfn;

	if (order > VH_FRAME_MAX_ORDER)
		return VH_PFN_INVALID;
	while (o < VH_FRAME_ORDERS && fr->head[o] == VH_FRAME_NIL)
		o++;
	if (o == VH_FRAME_ORDERS)
		return VH_PFN_INVALID;
	pfn = fr->head[o];
	list_remove(fr, pfn);
	/* Split: the upper halves go back on the lower lists. */
	while (o > order) {
		o--;
		list_push(fr, pfn + (1ull << o), o);
	}
	for (uint64_t i = 0; i < (1ull << order); i++) {
		struct vh_frame *f = &fr->f[pfn + i];
		f->flags = 0;
		f->owner = 0;
		f->aux = 0;
		f->next = f->prev = VH_FRAME_NIL;
	}
	fr->nfree -= 1ull << order;
	return pfn;
}

void vh_frames_free(struct vh_frames *fr, vh_pfn_t pfn, unsigned order)
{
	fr->nfree += 1ull << order;
	if (fr->plat->release)
		fr->plat->release(fr->plat->ctx, pfn, 1ull << order);
	/* Coalesce with the buddy while it is a free block of the same order:
	 * only the buddy's head is looked at. */
	while (order < VH_FRAME_MAX_ORDER) {
		vh_pfn_t buddy = pfn ^ (1ull << order);
		if (buddy + (1ull << order) > fr->n)
			break;
		struct vh_frame *b = &fr->f[buddy];
		if (!(b->flags & VH_FR_FREE) || b->order != order)
			break;
		list_remove(fr, buddy);
		pfn &= ~(1ull << order);
		order++;
	}
	list_push(fr, pfn, order);
}
