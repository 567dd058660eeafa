/* SPDX-License-Identifier: Apache-2.0 */
/* Split virtqueues (vh/virtio.h; virtio 1.2, 2.7): the device's side of
 * the descriptor table, the available ring and the used ring.
 *
 * Every value the driver wrote is read once into a local and checked
 * before it is used: ring indices against the queue size, descriptor
 * indices against the table they index, addresses and lengths against
 * the VM's RAM, chain lengths against the queue size (which is also what
 * ends a loop: a chain may not hold more descriptors than the queue, so
 * a cycle is cut there), indirect tables against the feature, nesting
 * and size.  The first violation is recorded in q->fault and the queue
 * does nothing more until it is reset. */
#include "vh/virtio.h"

static const char *const fault_names[VH_VIRTIO_FAULTS] = {
	[VH_VIRTIO_FAULT_NONE] = "none",
	[VH_VIRTIO_FAULT_RING_SIZE] = "queue size not a power of two up to the maximum",
	[VH_VIRTIO_FAULT_RING_ALIGN] = "ring address misaligned",
	[VH_VIRTIO_FAULT_RING_OUTSIDE_RAM] = "ring outside the VM's RAM",
	[VH_VIRTIO_FAULT_AVAIL_AHEAD] = "avail index more than the queue size ahead",
	[VH_VIRTIO_FAULT_HEAD_INDEX] = "chain head past the queue size",
	[VH_VIRTIO_FAULT_NEXT_INDEX] = "next descriptor past the table",
	[VH_VIRTIO_FAULT_CHAIN_TOO_LONG] = "chain longer than the queue (a loop)",
	[VH_VIRTIO_FAULT_CHAIN_OVER_DEVICE] = "chain longer than the device takes",
	[VH_VIRTIO_FAULT_BUFFER_OUTSIDE_RAM] = "buffer outside the VM's RAM",
	[VH_VIRTIO_FAULT_INDIRECT_NOT_OFFERED] = "indirect descriptor not negotiated",
	[VH_VIRTIO_FAULT_INDIRECT_NESTED] = "indirect table inside an indirect table",
	[VH_VIRTIO_FAULT_INDIRECT_WITH_NEXT] = "indirect descriptor with NEXT",
	[VH_VIRTIO_FAULT_INDIRECT_SIZE] = "indirect table size",
	[VH_VIRTIO_FAULT_INDIRECT_OUTSIDE_RAM] = "indirect table outside the VM's RAM",
	[VH_VIRTIO_FAULT_MEMORY] = "guest memory access failed",
	[VH_VIRTIO_FAULT_FEATURE_NOT_OFFERED] = "feature not offered",
	[VH_VIRTIO_FAULT_NO_VERSION_1] = "VIRTIO_F_VERSION_1 not accepted",
};

const char *vh_virtio_fault_name(enum vh_virtio_fault f)
{
	return (unsigned)f < VH_VIRTIO_FAULTS ? fault_names[f] : "unknown";
}

static int fail(struct vh_virtq *q, enum vh_virtio_fault f)
{
	if (q->fault == VH_VIRTIO_FAULT_NONE)
		q->fault = f;
	return -1;
}

/* fail() for the callers that answer with the fault itself. */
static enum vh_virtio_fault refuse(struct vh_virtq *q, enum vh_virtio_fault f)
{
	fail(q, f);
	return q->fault;
}

/* [gpa, gpa + len) in RAM, with the sum checked for overflow first so
 * that no ram() implementation has to. */
static bool in_ram(const struct vh_virtio_mem *m, uint64_t gpa, uint64_t len)
{
	return gpa + len >= gpa && m->ram(m->ctx, gpa, len);
}

/* A ring field: the rings were checked at enable, but the check is
 * repeated so that no path reads memory it did not check itself. */
static int get(struct vh_virtq *q, const struct vh_virtio_mem *m, uint64_t gpa, void *buf,
	       size_t n)
{
	if (!in_ram(m, gpa, n) || m->read(m->ctx, gpa, buf, n))
		return fail(q, VH_VIRTIO_FAULT_MEMORY);
	return 0;
}

static int put(struct vh_virtq *q, const struct vh_virtio_mem *m, uint64_t gpa, const void *buf,
	       size_t n)
{
	if (!in_ram(m, gpa, n) || m->write(m->ctx, gpa, buf, n))
		return fail(q, VH_VIRTIO_FAULT_MEMORY);
	return 0;
}

static int get16(struct vh_virtq *q, const struct vh_virtio_mem *m, uint64_t gpa, uint16_t *v)
{
	uint8_t b[2];

	if (get(q, m, gpa, b, 2))
		return -1;
	*v = (uint16_t)(b[0] | b[1] << 8);
	return 0;
}

static int put16(struct vh_virtq *q, const struct vh_virtio_mem *m, uint64_t gpa, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return put(q, m, gpa, b, 2);
}

static uint64_t le(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

void vh_virtq_reset(struct vh_virtq *q, uint16_t max_size)
{
	*q = (struct vh_virtq){ .size = max_size, .max_size = max_size,
				.vector = VH_VIRTIO_MSI_NO_VECTOR };
}

/* Offsets in the rings (2.7.6, 2.7.8): flags, idx, ring[size], then the
 * event field. */
static uint64_t avail_ring(const struct vh_virtq *q, uint16_t i)
{
	return q->avail + 4 + 2ull * (i & (q->size - 1));
}

static uint64_t used_event_at(const struct vh_virtq *q)
{
	return q->avail + 4 + 2ull * q->size;
}

static uint64_t avail_event_at(const struct vh_virtq *q)
{
	return q->used + 4 + 8ull * q->size;
}

enum vh_virtio_fault vh_virtq_enable(struct vh_virtq *q, const struct vh_virtio_mem *m,
				     uint64_t features)
{
	uint64_t n = q->size;

	if (q->fault)
		return q->fault;
	if (!n || (n & (n - 1)) || n > q->max_size)
		return refuse(q, VH_VIRTIO_FAULT_RING_SIZE);
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		return refuse(q, VH_VIRTIO_FAULT_RING_ALIGN);
	if (!in_ram(m, q->desc, VH_VIRTQ_DESC_BYTES * n) || !in_ram(m, q->avail, 6 + 2 * n) ||
	    !in_ram(m, q->used, 6 + 8 * n))
		return refuse(q, VH_VIRTIO_FAULT_RING_OUTSIDE_RAM);
	q->event_idx = features & VH_VIRTIO_BIT(VH_VIRTIO_F_EVENT_IDX);
	q->indirect = features & VH_VIRTIO_BIT(VH_VIRTIO_F_INDIRECT_DESC);
	q->last_avail = q->used_idx = q->signalled = 0;
	q->enabled = true;
	return VH_VIRTIO_FAULT_NONE;
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static int read_desc(struct vh_virtq *q, const struct vh_virtio_mem *m, uint64_t table,
		     uint32_t i, struct desc *d)
{
	uint8_t b[VH_VIRTQ_DESC_BYTES];

	if (get(q, m, table + (uint64_t)VH_VIRTQ_DESC_BYTES * i, b, sizeof(b)))
		return -1;
	d->addr = le(b, 8);
	d->len = (uint32_t)le(b + 8, 4);
	d->flags = (uint16_t)le(b + 12, 2);
	d->next = (uint16_t)le(b + 14, 2);
	return 0;
}

/* An indirect descriptor d: checked, it becomes the table the rest of
 * the chain walks (2.7.5.3). */
static int enter_indirect(struct vh_virtq *q, const struct vh_virtio_mem *m, const struct desc *d,
			  bool nested)
{
	if (!q->indirect)
		return fail(q, VH_VIRTIO_FAULT_INDIRECT_NOT_OFFERED);
	if (nested)
		return fail(q, VH_VIRTIO_FAULT_INDIRECT_NESTED);
	if (d->flags & VH_VIRTQ_DESC_F_NEXT)
		return fail(q, VH_VIRTIO_FAULT_INDIRECT_WITH_NEXT);
	if (!d->len || d->len % VH_VIRTQ_DESC_BYTES || d->len / VH_VIRTQ_DESC_BYTES > q->size)
		return fail(q, VH_VIRTIO_FAULT_INDIRECT_SIZE);
	if (!in_ram(m, d->addr, d->len))
		return fail(q, VH_VIRTIO_FAULT_INDIRECT_OUTSIDE_RAM);
	return 0;
}

/* The chain from head: every descriptor counts towards the queue size
 * (so the walk ends within size + 1 reads whatever the next fields say),
 * every buffer is checked to lie in RAM. */
static int walk(struct vh_virtq *q, const struct vh_virtio_mem *m, uint16_t head,
		struct vh_virtq_chain *c)
{
	uint64_t table = q->desc;
	uint32_t entries = q->size, i = head, count = 0;
	bool indirect = false;
	struct desc d;

	c->head = head;
	c->n = 0;
	c->readable = c->writable = 0;
	for (;;) {
		if (read_desc(q, m, table, i, &d))
			return -1;
		if (d.flags & VH_VIRTQ_DESC_F_INDIRECT) {
			if (enter_indirect(q, m, &d, indirect))
				return -1;
			table = d.addr;
			entries = d.len / VH_VIRTQ_DESC_BYTES;
			i = 0;
			indirect = true;
			continue;
		}
		if (++count > q->size)
			return fail(q, VH_VIRTIO_FAULT_CHAIN_TOO_LONG);
		if (!in_ram(m, d.addr, d.len))
			return fail(q, VH_VIRTIO_FAULT_BUFFER_OUTSIDE_RAM);
		/* An empty buffer carries nothing: counted, not listed. */
		if (d.len) {
			if (c->n >= c->cap)
				return fail(q, VH_VIRTIO_FAULT_CHAIN_OVER_DEVICE);
			c->seg[c->n++] = (struct vh_virtq_seg){
				d.addr, d.len, (d.flags & VH_VIRTQ_DESC_F_WRITE) != 0 };
			if (d.flags & VH_VIRTQ_DESC_F_WRITE)
				c->writable += d.len;
			else
				c->readable += d.len;
		}
		if (!(d.flags & VH_VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= entries)
			return fail(q, VH_VIRTIO_FAULT_NEXT_INDEX);
		i = d.next;
	}
}

int vh_virtq_pop(struct vh_virtq *q, const struct vh_virtio_mem *m, struct vh_virtq_chain *c)
{
	uint16_t idx, head, ahead;

	if (q->fault)
		return -1;
	if (!q->enabled)
		return 0;
	if (get16(q, m, q->avail + 2, &idx))
		return -1;
	ahead = (uint16_t)(idx - q->last_avail);
	if (ahead > q->size)
		return fail(q, VH_VIRTIO_FAULT_AVAIL_AHEAD);
	if (!ahead)
		return 0;
	/* The entry and its descriptors after the index that published them
	 * (the driver's write barrier pairs with this). */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (get16(q, m, avail_ring(q, q->last_avail), &head))
		return -1;
	if (head >= q->size)
		return fail(q, VH_VIRTIO_FAULT_HEAD_INDEX);
	if (walk(q, m, head, c))
		return -1;
	q->last_avail++;
	return 1;
}

int vh_virtq_push(struct vh_virtq *q, const struct vh_virtio_mem *m, const struct vh_virtq_chain *c,
		  uint32_t written)
{
	uint8_t e[8];
	uint64_t at = q->used + 4 + 8ull * (q->used_idx & (q->size - 1));

	if (q->fault || !q->enabled)
		return -1;
	if (written > c->writable)
		written = (uint32_t)c->writable;
	for (unsigned i = 0; i < 4; i++) {
		e[i] = (uint8_t)((uint32_t)c->head >> (8 * i));
		e[4 + i] = (uint8_t)(written >> (8 * i));
	}
	if (put(q, m, at, e, sizeof(e)))
		return -1;
	/* The element before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (put16(q, m, q->used + 2, (uint16_t)(q->used_idx + 1)))
		return -1;
	q->used_idx++;
	return 0;
}

bool vh_virtq_need_interrupt(struct vh_virtq *q, const struct vh_virtio_mem *m)
{
	uint16_t old = q->signalled, now = q->used_idx, v;

	if (q->fault || !q->enabled || old == now)
		return false;
	q->signalled = now;
	/* Our used index before the driver's event field or flags: the
	 * driver writes those, then reads the used index (full barrier on
	 * both sides, or one of us misses the other). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		if (get16(q, m, used_event_at(q), &v))
			return false;
		/* vring_need_event: used_event lies in [old, now). */
		return (uint16_t)(now - v - 1) < (uint16_t)(now - old);
	}
	if (get16(q, m, q->avail, &v))
		return false;
	return !(v & VH_VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool vh_virtq_set_notify(struct vh_virtq *q, const struct vh_virtio_mem *m, bool on)
{
	uint16_t idx;

	if (q->fault || !q->enabled)
		return false;
	if (q->event_idx) {
		/* Off: avail_event is simply left behind; the driver notifies
		 * only when it passes it. */
		if (on && put16(q, m, avail_event_at(q), q->last_avail))
			return false;
	} else if (put16(q, m, q->used, on ? 0 : VH_VIRTQ_USED_F_NO_NOTIFY)) {
		return false;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (get16(q, m, q->avail + 2, &idx))
		return false;
	return idx != q->last_avail;
}

/* Copies between buf and the chain's segments of one direction, from
 * byte off of that direction's bytes. */
static int64_t chain_copy(const struct vh_virtio_mem *m, const struct vh_virtq_chain *c,
			  uint64_t off, uint8_t *buf, uint64_t n, bool to_guest)
{
	uint64_t done = 0;

	for (uint32_t i = 0; i < c->n && done < n; i++) {
		const struct vh_virtq_seg *s = &c->seg[i];
		uint64_t take;

		if (s->writable != to_guest)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		take = s->len - off;
		if (take > n - done)
			take = n - done;
		/* Segments were checked when popped; ram() again costs little
		 * and keeps this helper safe on a chain it did not pop. */
		if (!in_ram(m, s->gpa + off, take) ||
		    (to_guest ? m->write(m->ctx, s->gpa + off, buf + done, take)
			      : m->read(m->ctx, s->gpa + off, buf + done, take)))
			return -1;
		done += take;
		off = 0;
	}
	return (int64_t)done;
}

int64_t vh_virtq_chain_read(const struct vh_virtio_mem *m, const struct vh_virtq_chain *c,
			    uint64_t off, void *buf, uint64_t n)
{
	return chain_copy(m, c, off, buf, n, false);
}

int64_t vh_virtq_chain_write(const struct vh_virtio_mem *m, const struct vh_virtq_chain *c,
			     uint64_t off, const void *buf, uint64_t n)
{
	return chain_copy(m, c, off, (uint8_t *)buf, n, true);
}
