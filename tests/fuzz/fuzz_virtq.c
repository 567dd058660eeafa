/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for split virtqueues (vh/virtio.h, virtqueue.c): the
 * device's side of rings a guest wrote.  The input is a header and the
 * guest's RAM: 64 KiB at guest-physical 0x10000, in a buffer of exactly
 * that size, so a read or write past it is ASan's.
 *
 *   byte 0   bits 0-2: log2 of the queue size (1..128); bit 3: INDIRECT_DESC
 *            negotiated; bit 4: EVENT_IDX; bit 5: a device taking 4
 *            segments a chain (else the queue size); bit 6: ring addresses
 *            from the next 24 bytes (desc, avail, used, little-endian),
 *            else at RAM + 0, + 0x800, + 0xc00
 *   rest     the RAM's first bytes
 *
 * Properties beyond the sanitizers: memory is asked for only inside RAM
 * (read and write die otherwise: the queue must check with ram() first);
 * a popped chain's segments are non-empty, inside RAM, at most the
 * device's count, with byte totals that add up; a fault has a name, and
 * a faulted queue pops and pushes nothing more.  (The rings and buffers
 * may overlap, so what the device writes may offer more chains: each
 * round stops after twice the queue size, as a device bounds its work.) */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh/virtio.h"

#define FUZZ_NAME "fuzz_virtq"
#include "fuzz.h"

#define RAM_BASE 0x10000ull
#define RAM_SIZE 0x10000ull

struct ram {
	uint8_t *bytes;
};

static bool inside(uint64_t gpa, uint64_t len)
{
	return gpa >= RAM_BASE && len <= RAM_SIZE && gpa - RAM_BASE <= RAM_SIZE - len;
}

/* What the queue asks: naive on purpose (gpa + len may wrap), as
 * vh/virtio.h lets a ram() be, so that the queue's own overflow check is
 * what keeps a wrapping buffer out; read, write and the chain checks use
 * inside(). */
static bool ram_ok(void *ctx, uint64_t gpa, uint64_t len)
{
	(void)ctx;
	return gpa >= RAM_BASE && gpa + len <= RAM_BASE + RAM_SIZE;
}

static int ram_read(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	struct ram *r = ctx;

	if (!inside(gpa, n))
		die("read of %zu bytes at %#llx outside RAM", n, (unsigned long long)gpa);
	memcpy(buf, r->bytes + (gpa - RAM_BASE), n);
	return 0;
}

static int ram_write(void *ctx, uint64_t gpa, const void *buf, size_t n)
{
	struct ram *r = ctx;

	if (!inside(gpa, n))
		die("write of %zu bytes at %#llx outside RAM", n, (unsigned long long)gpa);
	memcpy(r->bytes + (gpa - RAM_BASE), buf, n);
	return 0;
}

static uint64_t le64(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void check_chain(const struct vh_virtq_chain *c, const struct vh_virtio_mem *m)
{
	uint64_t rd = 0, wr = 0;
	uint8_t tmp[256];

	if (c->n > c->cap)
		die("%u segments for a device taking %u", c->n, c->cap);
	for (uint32_t i = 0; i < c->n; i++) {
		if (!c->seg[i].len || !inside(c->seg[i].gpa, c->seg[i].len))
			die("segment %u (%#llx, %u) empty or outside RAM", i,
			    (unsigned long long)c->seg[i].gpa, c->seg[i].len);
		*(c->seg[i].writable ? &wr : &rd) += c->seg[i].len;
	}
	if (rd != c->readable || wr != c->writable)
		die("byte totals %llu/%llu, segments say %llu/%llu",
		    (unsigned long long)c->readable, (unsigned long long)c->writable,
		    (unsigned long long)rd, (unsigned long long)wr);
	/* The copy helpers stay within the chain's bytes. */
	if (vh_virtq_chain_read(m, c, 0, tmp, sizeof(tmp)) !=
	    (int64_t)(rd < sizeof(tmp) ? rd : sizeof(tmp)))
		die("chain_read copied the wrong count");
	if (vh_virtq_chain_write(m, c, wr / 2, tmp, sizeof(tmp)) !=
	    (int64_t)(wr - wr / 2 < sizeof(tmp) ? wr - wr / 2 : sizeof(tmp)))
		die("chain_write copied the wrong count");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ram r;
	struct vh_virtio_mem m = { &r, ram_ok, ram_read, ram_write };
	struct vh_virtq q;
	struct vh_virtq_seg seg[128];
	struct vh_virtq_chain c = { .seg = seg };
	uint64_t features = VH_VIRTIO_BIT(VH_VIRTIO_F_VERSION_1);
	uint16_t qsize;

	if (size < 1)
		return 0;
	qsize = (uint16_t)(1u << (data[0] & 7));
	if (data[0] & 0x08)
		features |= VH_VIRTIO_BIT(VH_VIRTIO_F_INDIRECT_DESC);
	if (data[0] & 0x10)
		features |= VH_VIRTIO_BIT(VH_VIRTIO_F_EVENT_IDX);
	c.cap = data[0] & 0x20 ? 4 : qsize;
	vh_virtq_reset(&q, 128);
	q.size = qsize;
	q.desc = RAM_BASE;
	q.avail = RAM_BASE + 0x800;
	q.used = RAM_BASE + 0xc00;
	data++, size--;
	if (data[-1] & 0x40) {
		if (size < 24)
			return 0;
		q.desc = le64(data);
		q.avail = le64(data + 8);
		q.used = le64(data + 16);
		data += 24, size -= 24;
	}
	r.bytes = malloc(RAM_SIZE);
	if (!r.bytes)
		return 0;
	memset(r.bytes, 0, RAM_SIZE);
	memcpy(r.bytes, data, size < RAM_SIZE ? size : RAM_SIZE);
	if (vh_virtq_enable(&q, &m, features) != VH_VIRTIO_FAULT_NONE) {
		if (q.enabled || !strcmp(vh_virtio_fault_name(q.fault), "unknown"))
			die("a refused queue is enabled, or its fault has no name");
		free(r.bytes);
		return 0;
	}
	for (unsigned round = 0; round < 3; round++) {
		unsigned pops = 0;
		int got;

		vh_virtq_set_notify(&q, &m, round & 1);
		while (pops++ < 2u * qsize && (got = vh_virtq_pop(&q, &m, &c)) == 1) {
			check_chain(&c, &m);
			if (vh_virtq_push(&q, &m, &c, (uint32_t)c.writable))
				die("push failed on a healthy queue");
		}
		if (pops <= 2u * qsize && got < 0) {
			if (q.fault == VH_VIRTIO_FAULT_NONE ||
			    !strcmp(vh_virtio_fault_name(q.fault), "unknown"))
				die("pop failed without a named fault");
			if (vh_virtq_pop(&q, &m, &c) != -1 || vh_virtq_push(&q, &m, &c, 0) != -1 ||
			    vh_virtq_need_interrupt(&q, &m))
				die("a faulted queue still works");
			break;
		}
		vh_virtq_need_interrupt(&q, &m);
	}
	free(r.bytes);
	return 0;
}
