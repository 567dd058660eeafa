/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the control-protocol tests: a real host on the simulated
 * platform, a client that encodes requests with the codec, runs them
 * through the real dispatcher and decodes the replies, raw byte pokes at
 * documented offsets, and a snapshot of everything a request could
 * change (to show that a refused one changes nothing). */
#ifndef VH_TEST_PROTO_FIXTURE_H
#define VH_TEST_PROTO_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_platform.h"
#include "vh/host.h"
#include "vh/proto.h"
#include "vh/stats_pub.h"
#include "vh/vm.h"
#include "vh_test.h"

#define PF_MIB (1024ull * 1024ull)
/* The fixture host's instance (HOST_INFO, the published header). */
#define PF_INSTANCE 0x1d5e0c3a7b9f2468ull

struct pf {
	struct vh_sim_platform sp;
	struct vh_host h;
	uint64_t next_request_id;
	size_t reply_cap;               /* what the next call offers the dispatcher */
	uint8_t req[VH_PROTO_MAX_MSG];
	size_t req_len;
	uint8_t rep[VH_PROTO_MAX_MSG];
	size_t rep_len;
	struct vh_proto_reply r;        /* the last reply, decoded */
	void *pub_area;                 /* the published counters (vh/stats_pub.h) */
	size_t pub_size;
};

/* 4 pCPUs at 2000 MHz, 256 MiB of which 32 MiB are the hypervisor's. */
static inline struct pf *pf_new_with(uint32_t pcpus, uint64_t memory_mib, uint32_t max_vms)
{
	struct pf *f = calloc(1, sizeof(*f));
	struct vh_host_config hc = {
		.pcpus = pcpus,
		.mhz_per_pcpu = 2000,
		.memory_bytes = memory_mib * PF_MIB,
		.overhead_bytes = 32 * PF_MIB,
		.max_vms = max_vms,
		.instance = PF_INSTANCE,
	};
	struct vh_error err;

	VH_ASSERT(f != NULL);
	VH_ASSERT(vh_sim_platform_init(&f->sp, hc.memory_bytes, pcpus, 42));
	if (vh_host_init(&f->h, &hc, &f->sp.plat, &err) != VH_OK)
		VH_FAIL("vh_host_init: %s", err.reason);
	/* Every protocol test publishes too, as vh-hosted does. */
	f->pub_size = vh_pub_area_size(&f->h);
	f->pub_area = aligned_alloc(4096, f->pub_size);
	VH_ASSERT(f->pub_area != NULL);
	memset(f->pub_area, 0, f->pub_size);
	VH_ASSERT_EQ(vh_pub_attach(&f->h, f->pub_area, f->pub_size, VH_PUB_CLOCK_MONOTONIC), 0);
	f->next_request_id = 1000;
	f->reply_cap = sizeof(f->rep);
	return f;
}

static inline struct pf *pf_new(void)
{
	return pf_new_with(4, 256, 0);
}

static inline void pf_free(struct pf *f)
{
	vh_pub_detach(&f->h);
	free(f->pub_area);
	vh_host_fini(&f->h);
	VH_EXPECT_EQ(f->sp.alloc_bytes, (uint64_t)0);
	vh_sim_platform_fini(&f->sp);
	free(f);
}

/* Runs the bytes in f->req through the dispatcher and decodes the reply
 * (which must always decode).  Returns the reply's status. */
static inline int pf_send_raw(struct pf *f)
{
	struct vh_error err;
	int rc = vh_proto_dispatch(&f->h, f->req, f->req_len, f->rep, f->reply_cap, &f->rep_len);

	VH_ASSERT_EQ(f->sp.lock_depth, 0);
	VH_ASSERT(f->rep_len >= VH_PROTO_HEADER_SIZE);
	VH_ASSERT(f->rep_len <= f->reply_cap);
	if (vh_proto_decode_reply(f->rep, f->rep_len, &f->r, &err) != VH_OK)
		VH_FAIL("reply does not decode: %s", err.reason);
	VH_ASSERT_EQ(rc, (int)f->r.hdr.status);
	if (rc != VH_OK) {
		VH_ASSERT(f->r.u.error.reason[0] != '\0');
		VH_ASSERT_EQ(f->r.u.error.code, (uint32_t)rc);
	}
	return rc;
}

/* Encodes rq (with a fresh request id) into f->req. */
static inline void pf_encode(struct pf *f, struct vh_proto_request *rq)
{
	struct vh_error err;

	rq->request_id = f->next_request_id++;
	if (vh_proto_encode_request(rq, f->req, sizeof(f->req), &f->req_len, &err) != VH_OK)
		VH_FAIL("encode: %s", err.reason);
}

/* Encode, dispatch, decode: the reply must echo type and request id. */
static inline int pf_call(struct pf *f, struct vh_proto_request *rq)
{
	int rc;

	pf_encode(f, rq);
	rc = pf_send_raw(f);
	VH_EXPECT_EQ(f->r.hdr.type, rq->type);
	VH_EXPECT_EQ(f->r.hdr.request_id, rq->request_id);
	return rc;
}

static inline struct vh_proto_request pf_req(uint16_t type)
{
	struct vh_proto_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.type = type;
	return rq;
}

static inline struct vh_proto_request pf_req_id(uint16_t type, uint32_t id)
{
	struct vh_proto_request rq = pf_req(type);

	rq.vm.kind = VH_PROTO_REF_ID;
	rq.vm.id = id;
	return rq;
}

static inline struct vh_proto_request pf_req_name(uint16_t type, const char *name)
{
	struct vh_proto_request rq = pf_req(type);

	rq.vm.kind = VH_PROTO_REF_NAME;
	strncpy(rq.vm.name, name, sizeof(rq.vm.name) - 1);
	return rq;
}

/* A config with every part in use: modules, devices, custom shares,
 * reservations and limits. */
static inline void pf_config(struct vh_vm_config *c, const char *name)
{
	vh_vm_config_default(c);
	strncpy(c->name, name, sizeof(c->name) - 1);
	c->vcpus = 2;
	c->memory_mib = 16;
	c->cpu.shares.level = VH_SHARES_CUSTOM;
	c->cpu.shares.custom = 3000;
	c->cpu.reservation_mhz = 100;
	c->cpu.limit_mhz = 1500;
	c->mem.shares.level = VH_SHARES_HIGH;
	c->mem.reservation_mib = 4;
	c->mem.limit_mib = VH_UNLIMITED;
	c->cosched = VH_COSCHED_STRICT;
	strcpy(c->boot.kernel, "linux-6.1");
	strcpy(c->boot.cmdline, "console=ttyS0 quiet");
	c->boot.nmodules = 2;
	strcpy(c->boot.modules[0].image, "initrd.img");
	strcpy(c->boot.modules[1].image, "extra.cpio");
	strcpy(c->boot.modules[1].args, "extra=1");
	c->ndevices = 3;
	c->devices[0].type = VH_DEV_UART16550;
	c->devices[1].type = VH_DEV_DEBUG_EXIT;
	c->devices[2].type = VH_DEV_BALLOON;
}

/* Defines a VM over the protocol; returns its id. */
static inline uint32_t pf_define(struct pf *f, const struct vh_vm_config *c)
{
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);

	rq.u.define = *c;
	if (pf_call(f, &rq) != VH_OK)
		VH_FAIL("define %s: %s", c->name, f->r.u.error.reason);
	return f->r.u.vm_info.summary.id;
}

static inline uint32_t pf_define_named(struct pf *f, const char *name)
{
	struct vh_vm_config c;

	pf_config(&c, name);
	return pf_define(f, &c);
}

static inline void pf_ok(struct pf *f, uint16_t type, uint32_t id)
{
	struct vh_proto_request rq = pf_req_id(type, id);

	if (pf_call(f, &rq) != VH_OK)
		VH_FAIL("%s of VM %u: %s", vh_proto_type_name(type), id, f->r.u.error.reason);
}

/* ---- raw bytes ------------------------------------------------------------ */

static inline void pf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void pf_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pf_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t pf_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t pf_get64(const uint8_t *p)
{
	return pf_get32(p) | (uint64_t)pf_get32(p + 4) << 32;
}

/* Payload byte of the request at a wire offset. */
#define PF_PAY(f, off) ((f)->req + VH_PROTO_HEADER_SIZE + (off))

/* ---- state snapshots -------------------------------------------------------- */

/* Everything a control request could change, as canonical bytes: host
 * reservations and counts, metadata in use, free frames, and per VM slot
 * its summary, its full config and the scheduler's and memory manager's
 * view of its controls. */
struct pf_snap {
	size_t len;
	uint8_t bytes[1024 * (sizeof(struct vh_wire_vm_info) + 64) + 256];
};

static inline void pf_snap_take(struct pf *f, struct pf_snap *s)
{
	struct vh_host *h = &f->h;
	struct vh_host_mem_stats hm;
	uint8_t *p = s->bytes;

	vh_mem_host_stats(h, &hm);
	pf_put32(p, h->nvms), p += 4;
	pf_put32(p, h->next_vm_id), p += 4;
	pf_put64(p, h->reserved_mhz), p += 8;
	pf_put64(p, h->reserved_mib), p += 8;
	pf_put64(p, f->sp.alloc_bytes), p += 8;
	pf_put64(p, hm.free), p += 8;
	pf_put64(p, hm.reserved), p += 8;
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->vms[i];
		struct vh_proto_vm_summary sum;
		if (!vm) {
			*p++ = 0;
			continue;
		}
		*p++ = 1;
		memset(&sum, 0, sizeof(sum));
		sum.id = vm->id;
		sum.state = vm->state;
		memcpy(sum.uuid, vm->cfg.uuid, 16);
		memcpy(sum.name, vm->cfg.name, sizeof(sum.name));
		sum.balloon_request_pages = vm->mem.balloon_request_pages;
		sum.balloon_target_pages = vm->mem.balloon_target_pages;
		sum.state_changes = vm->state_changes;
		sum.boot_generation = vm->boot_generation;
		vh_proto_put_vm_summary(p, &sum), p += sizeof(struct vh_wire_vm_summary);
		vh_proto_put_vm_config(p, &vm->cfg), p += sizeof(struct vh_wire_vm_config);
		pf_put64(p, vm->sched.shares), p += 8;
		pf_put64(p, vm->sched.reservation_mhz), p += 8;
		pf_put64(p, vm->sched.limit_mhz), p += 8;
		pf_put64(p, vm->mem.shares), p += 8;
		pf_put64(p, vm->mem.reserved_pages), p += 8;
		pf_put64(p, vm->mem.limit_pages), p += 8;
	}
	s->len = (size_t)(p - s->bytes);
}

/* Checks that nothing changed since `before`. */
#define PF_EXPECT_UNCHANGED(f, before)                                          \
	do {                                                                    \
		struct pf_snap *after_ = malloc(sizeof(struct pf_snap));        \
		VH_ASSERT(after_ != NULL);                                      \
		pf_snap_take((f), after_);                                      \
		VH_EXPECT_EQ(after_->len, (before)->len);                       \
		VH_EXPECT_MEMEQ(after_->bytes, (before)->bytes, (before)->len); \
		free(after_);                                                   \
	} while (0)

#endif
