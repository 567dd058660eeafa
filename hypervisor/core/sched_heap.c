/* SPDX-License-Identifier: Apache-2.0 */
/* Indexed binary min-heaps: the run queues (keyed by virtual time) and
 * the timer queue (keyed by absolute time).  Each node records its slot,
 * so removal and re-keying of any node is O(log n), and each slot keeps
 * its key next to the node pointer so that sifting touches only the
 * heap's own array (no pointer chasing into vCPU structures). */
#include "sched_internal.h"
#include "vh/string.h"

int vh_sched_heap_reserve(struct vh_host *h, struct vh_sched_heap *q, uint32_t cap)
{
	struct vh_sched_slot *slots;

	if (cap <= q->cap)
		return VH_OK;
	slots = h->plat->alloc(h->plat->ctx, sizeof(*slots) * cap);
	if (!slots)
		return VH_E_NOMEM;
	if (q->slots) {
		vh_memcpy(slots, q->slots, sizeof(*slots) * q->len);
		h->plat->free(h->plat->ctx, q->slots, sizeof(*slots) * q->cap);
	}
	q->slots = slots;
	q->cap = cap;
	return VH_OK;
}

void vh_sched_heap_release(struct vh_host *h, struct vh_sched_heap *q)
{
	if (q->slots)
		h->plat->free(h->plat->ctx, q->slots, sizeof(*q->slots) * q->cap);
	q->slots = NULL;
	q->len = q->cap = 0;
}

static inline void place(struct vh_sched_heap *q, uint32_t i, struct vh_sched_slot s)
{
	q->slots[i] = s;
	s.node->index = i + 1;
}

static void sift_up(struct vh_sched_heap *q, uint32_t i)
{
	struct vh_sched_slot s = q->slots[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!vh_sched_before(s.key, q->slots[parent].key))
			break;
		place(q, i, q->slots[parent]);
		i = parent;
	}
	place(q, i, s);
}

static void sift_down(struct vh_sched_heap *q, uint32_t i)
{
	struct vh_sched_slot s = q->slots[i];

	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= q->len)
			break;
		if (c + 1 < q->len && vh_sched_before(q->slots[c + 1].key, q->slots[c].key))
			c++;
		if (!vh_sched_before(q->slots[c].key, s.key))
			break;
		place(q, i, q->slots[c]);
		i = c;
	}
	place(q, i, s);
}

/* Capacity is reserved when VMs are defined (vh_sched_vm_init), so a
 * push never needs memory. */
void vh_sched_heap_push(struct vh_sched_heap *q, struct vh_sched_node *n, uint64_t key)
{
	if (n->index || q->len >= q->cap)
		return;
	q->slots[q->len].key = key;
	q->slots[q->len].node = n;
	q->len++;
	sift_up(q, q->len - 1);
}

void vh_sched_heap_remove(struct vh_sched_heap *q, struct vh_sched_node *n)
{
	uint32_t i;

	if (!n->index)
		return;
	i = n->index - 1;
	n->index = 0;
	if (--q->len == i)
		return;
	q->slots[i] = q->slots[q->len];
	q->slots[i].node->index = i + 1;
	if (i > 0 && vh_sched_before(q->slots[i].key, q->slots[(i - 1) / 2].key))
		sift_up(q, i);
	else
		sift_down(q, i);
}

void vh_sched_heap_rekey(struct vh_sched_heap *q, struct vh_sched_node *n, uint64_t key)
{
	uint32_t i;
	uint64_t old;

	if (!n->index) {
		vh_sched_heap_push(q, n, key);
		return;
	}
	i = n->index - 1;
	old = q->slots[i].key;
	q->slots[i].key = key;
	if (vh_sched_before(key, old))
		sift_up(q, i);
	else
		sift_down(q, i);
}
