/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the control-protocol dispatcher.
 *
 * Each input builds a fresh host on the simulated platform with three VMs
 * (one defined, one running, one paused), so a crash reproduces from its
 * input alone (the platform itself is reused, in the same state: see
 * sim_reuse()).  The input is:
 *
 *     byte 0      the reply buffer offered: VH_PROTO_REPLY_MIN + 256 * byte
 *                 (small buffers make the paged replies page)
 *     bytes 1..   one or more messages back to back, split by each header's
 *                 payload_len (vh_proto_frame_len); what cannot be framed
 *                 goes in as one last message
 *
 * so the fuzzer explores sequences (define, start, set controls, stats)
 * as well as single messages.  Beyond the sanitizers it checks, for every
 * message: the reply fits the buffer and decodes, carries the request's
 * type and id, its entries read (pages in id order, within max_entries),
 * the host lock is released; a refused request changes
 * nothing; an accepted request re-encodes to exactly its own bytes (one
 * encoding per message); the host's reservation totals match its VMs; and
 * at the end nothing leaks.  Each message is also fed to the client's
 * reply decoder, which must survive anything. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_platform.h"
#include "vh/host.h"
#include "vh/mem.h"
#include "vh/proto.h"
#include "vh/vm.h"

#define FUZZ_NAME "fuzz_proto"
#include "fuzz.h"

#define FUZZ_MAX_VMS 8
#define MIB (1024ull * 1024ull)

static struct vh_vm *define(struct vh_host *h, const char *name, uint32_t vcpus, uint64_t mib,
			    uint64_t res_mhz, uint64_t res_mib, enum vh_cosched_mode mode)
{
	struct vh_vm_config c;
	struct vh_error err;
	struct vh_vm *vm;

	vh_vm_config_default(&c);
	snprintf(c.name, sizeof(c.name), "%s", name);
	c.vcpus = vcpus;
	c.memory_mib = mib;
	c.cpu.reservation_mhz = res_mhz;
	c.mem.reservation_mib = res_mib;
	c.cosched = mode;
	snprintf(c.boot.kernel, sizeof(c.boot.kernel), "kernel-%s", name);
	vm = vh_vm_define(h, &c, &err);
	if (!vm)
		die("define %s: %s", name, err.reason);
	return vm;
}

/* One simulated platform serves every input: allocating (and under ASan,
 * poisoning) its frame arena per input cost more than the rest of an
 * input together.  Between inputs the platform's bookkeeping returns to
 * what vh_sim_platform_init() leaves.  The arena stays all zero: the only
 * guest write (below) writes zeros, and the core writes nothing but zeros
 * and copies of guest pages into frames; sim_check_zero() verifies that
 * at exit, so every input still starts from the same platform. */
#define SIM_MEMORY (16 * MIB)
#define SIM_PCPUS 2
#define SIM_SEED 7

static struct vh_sim_platform sim;
static int sim_ready;

static void sim_check_zero(void)
{
	for (uint64_t i = 0; i < sim.nframes * VH_PAGE_SIZE; i++) {
		if (sim.arena[i])
			die("frame %llu is not zero after the run: inputs were not independent",
			    (unsigned long long)(i / VH_PAGE_SIZE));
	}
}

static void sim_reuse(void)
{
	if (!sim_ready) {
		if (!vh_sim_platform_init(&sim, SIM_MEMORY, SIM_PCPUS, SIM_SEED))
			die("out of memory");
		sim_ready = 1;
		atexit(sim_check_zero);
		return;
	}
	for (size_t i = 0; i < sim.nmaps; i++)
		free(sim.maps[i].entries);
	sim.nmaps = 0;
	sim.now_ns = 0;
	sim.rng_state = SIM_SEED;
	sim.alloc_bytes = sim.alloc_peak = sim.alloc_fail_after = 0;
	memset(sim.kicks, 0, sim.npcpus * sizeof(*sim.kicks));
	memset(sim.kick_pending, 0, sim.npcpus * sizeof(*sim.kick_pending));
	sim.map_calls = 0;
	sim.lock_depth = 0;
	sim.log_lines = 0;
	sim.last_log[0] = '\0';
}

static void host_up(struct vh_sim_platform *sp, struct vh_host *h)
{
	struct vh_host_config hc = {
		.pcpus = SIM_PCPUS,
		.mhz_per_pcpu = 1000,
		.memory_bytes = SIM_MEMORY,
		.overhead_bytes = 2 * MIB,
		.max_vms = FUZZ_MAX_VMS,
	};
	struct vh_error err;
	struct vh_vm *beta, *gamma;
	uint8_t zeros[32] = { 0 };

	if (vh_host_init(h, &hc, &sp->plat, &err))
		die("vh_host_init: %s", err.reason);
	sp->plat.lock(sp);
	define(h, "alpha", 1, 4, 200, 2, VH_COSCHED_RELAXED);
	beta = define(h, "beta", 2, 2, 0, 1, VH_COSCHED_STRICT);
	gamma = define(h, "gamma", 1, 2, 100, 0, VH_COSCHED_NONE);
	if (vh_vm_start(h, beta, &err) || vh_vm_start(h, gamma, &err) ||
	    vh_vm_pause(h, gamma, &err))
		die("power on: %s", err.reason);
	sp->plat.unlock(sp);
	/* A guest page in use, so stop, reset and ballooning have frames to
	 * give back. */
	if (vh_sim_guest_write(sp, h, beta, 0x3000, zeros, sizeof(zeros)) != VH_FAULT_MAPPED)
		die("guest write refused");
}

/* Everything a request could change, as bytes (see the unit tests'
 * fixture, which does the same). */
struct snap {
	size_t len;
	uint8_t b[FUZZ_MAX_VMS * (sizeof(struct vh_wire_vm_info) + 64) + 128];
};

static uint8_t *put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
	return p + 8;
}

static void snap_take(struct vh_sim_platform *sp, struct vh_host *h, struct snap *s)
{
	struct vh_host_mem_stats hm;
	uint8_t *p = s->b;

	vh_mem_host_stats(h, &hm);
	p = put64(p, h->nvms);
	p = put64(p, h->next_vm_id);
	p = put64(p, h->reserved_mhz);
	p = put64(p, h->reserved_mib);
	p = put64(p, sp->alloc_bytes);
	p = put64(p, hm.free);
	p = put64(p, hm.reserved);
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->vms[i];
		if (!vm) {
			*p++ = 0;
			continue;
		}
		*p++ = 1;
		p = put64(p, vm->id);
		p = put64(p, vm->state);
		p = put64(p, vm->state_changes);
		p = put64(p, vm->boot_generation);
		p = put64(p, vm->mem.balloon_request_pages);
		p = put64(p, vm->mem.shares);
		p = put64(p, vm->mem.reserved_pages);
		p = put64(p, vm->mem.limit_pages);
		p = put64(p, vm->sched.shares);
		p = put64(p, vm->sched.reservation_mhz);
		p = put64(p, vm->sched.limit_mhz);
		vh_proto_put_vm_config(p, &vm->cfg);
		p += sizeof(struct vh_wire_vm_config);
	}
	s->len = (size_t)(p - s->b);
}

static void check_reservations(struct vh_host *h)
{
	uint64_t mhz = 0, mib = 0;

	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->vms[i];
		if (vm && (vm->state == VH_VM_RUNNING || vm->state == VH_VM_PAUSED)) {
			mhz += vm->cfg.cpu.reservation_mhz;
			mib += vm->cfg.mem.reservation_mib;
		}
	}
	if (mhz != h->reserved_mhz || mib != h->reserved_mib)
		die("host reserves %llu MHz / %llu MiB, its VMs %llu / %llu",
		    (unsigned long long)h->reserved_mhz, (unsigned long long)h->reserved_mib,
		    (unsigned long long)mhz, (unsigned long long)mib);
}

/* Reads every entry of a decoded reply through the client accessors; a
 * page must be in ascending id order within what was asked for. */
static void read_entries(const struct vh_proto_reply *r, const struct vh_proto_request *rq)
{
	bool paged = r->hdr.type == VH_PROTO_VM_LIST || r->hdr.type == VH_PROTO_VM_STATS_ALL;
	uint32_t prev = 0;

	if (r->hdr.type == VH_PROTO_VM_CONSOLE && r->hdr.status == VH_OK) {
		/* Console bytes, not records: as many as len says, all held ones
		 * within what the core keeps. */
		if (r->nentries != r->u.console.len || r->nentries > VH_CONSOLE_TAIL_BYTES ||
		    (r->nentries && !r->entries))
			die("console reply: %u bytes, len %u", r->nentries, r->u.console.len);
		return;
	}
	if (!paged && r->hdr.type != VH_PROTO_VM_STATS && r->hdr.type != VH_PROTO_HOST_STATS) {
		if (r->nentries || r->entries)
			die("entries in a %s reply", vh_proto_type_name(r->hdr.type));
		return;
	}
	/* One past the end must be refused. */
	for (uint32_t i = 0; i <= r->nentries; i++) {
		struct vh_proto_vcpu_stats vs;
		struct vh_pcpu_stats ps;
		struct vh_proto_vm_summary s;
		struct vh_proto_vm_stats st;
		uint32_t id = 0;
		int rc = VH_E_INVAL;

		switch (r->hdr.type) {
		case VH_PROTO_VM_STATS: rc = vh_proto_reply_vcpu(r, i, &vs); break;
		case VH_PROTO_HOST_STATS: rc = vh_proto_reply_pcpu(r, i, &ps); break;
		case VH_PROTO_VM_LIST:
			if ((rc = vh_proto_reply_vm_summary(r, i, &s)) == VH_OK)
				id = s.id;
			break;
		default:
			if ((rc = vh_proto_reply_vm_stats(r, i, &st)) == VH_OK)
				id = st.id;
			break;
		}
		if (i == r->nentries) {
			if (rc != VH_E_INVAL)
				die("entry %u past the end of a %s reply reads", i,
				    vh_proto_type_name(r->hdr.type));
			break;
		}
		if (rc != VH_OK)
			die("entry %u of a %s reply does not read", i,
			    vh_proto_type_name(r->hdr.type));
		if (paged) {
			if (id <= prev || id < rq->u.page.start_id)
				die("page entry %u has id %u after %u (start_id %u)", i, id, prev,
				    rq->u.page.start_id);
			prev = id;
		}
	}
	if (paged && rq->u.page.max_entries && r->nentries > rq->u.page.max_entries)
		die("a page of %u entries for max_entries %u", r->nentries, rq->u.page.max_entries);
}

static uint8_t again[VH_PROTO_MAX_MSG];
static struct snap before, after;

static void one_message(struct vh_sim_platform *sp, struct vh_host *h, const uint8_t *msg,
			size_t len, uint8_t *reply, size_t cap)
{
	struct vh_proto_request rq;
	struct vh_proto_reply r;
	struct vh_error derr, err;
	size_t rlen = 0, elen = 0;
	int drc, rc;

	/* The client's decoder takes the same bytes as if they were a
	 * reply: whatever it accepts must read entry by entry. */
	if (vh_proto_decode_reply(msg, len, &r, NULL) == VH_OK && r.hdr.status == VH_OK) {
		for (uint32_t i = 0; i < r.nentries; i++) {
			struct vh_proto_vcpu_stats vs;
			struct vh_pcpu_stats ps;
			struct vh_proto_vm_summary s;
			struct vh_proto_vm_stats st;
			(void)vh_proto_reply_vcpu(&r, i, &vs);
			(void)vh_proto_reply_pcpu(&r, i, &ps);
			(void)vh_proto_reply_vm_summary(&r, i, &s);
			(void)vh_proto_reply_vm_stats(&r, i, &st);
		}
	}
	snap_take(sp, h, &before);
	drc = vh_proto_decode_request(msg, len, &rq, &derr);
	if (drc == VH_OK) {
		if (vh_proto_encode_request(&rq, again, sizeof(again), &elen, &err))
			die("an accepted request does not re-encode: %s", err.reason);
		if (elen != len || memcmp(again, msg, len))
			die("an accepted %s request re-encodes differently",
			    vh_proto_type_name(rq.type));
	}
	rc = vh_proto_dispatch(h, msg, len, reply, cap, &rlen);
	if (sp->lock_depth)
		die("dispatch returned with the host lock held");
	if (rlen < VH_PROTO_HEADER_SIZE || rlen > cap)
		die("reply of %zu bytes for a %zu-byte buffer", rlen, cap);
	if (vh_proto_decode_reply(reply, rlen, &r, &err))
		die("reply to %s does not decode: %s", vh_proto_type_name(rq.type), err.reason);
	if ((int)r.hdr.status != rc)
		die("dispatch returned %d, the reply says %u", rc, r.hdr.status);
	if (r.hdr.type != rq.type || r.hdr.request_id != rq.request_id)
		die("reply does not echo the request's type and id");
	if (drc != VH_OK && rc != drc)
		die("the decoder refused with %d, the dispatcher answered %d", drc, rc);
	if (rc == VH_OK)
		read_entries(&r, &rq);
	if (rc != VH_OK) {
		if (!r.u.error.reason[0])
			die("error reply without a reason");
		snap_take(sp, h, &after);
		if (after.len != before.len || memcmp(after.b, before.b, before.len))
			die("a refused %s request changed the host: %s",
			    vh_proto_type_name(rq.type), r.u.error.reason);
	}
	check_reservations(h);
	/* Time passes between requests; the memory manager does its
	 * periodic work (sampling, sharing scan, reclaim targets). */
	vh_sim_advance(sp, 1000000);
	sp->plat.lock(sp);
	vh_mem_tick(h, sp->now_ns);
	sp->plat.unlock(sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vh_sim_platform *sp = &sim;
	struct vh_host h;
	uint8_t *reply;
	size_t cap;

	if (size < 1)
		return 0;
	cap = VH_PROTO_REPLY_MIN + 256u * data[0];
	/* Exactly cap bytes, so a write past it is an ASan report. */
	reply = malloc(cap);
	if (!reply)
		die("out of memory");
	sim_reuse();
	host_up(sp, &h);
	data++, size--;
	while (size) {
		size_t total = size;
		if (vh_proto_frame_len(data, size, &total, NULL) != VH_OK || total > size)
			total = size;
		one_message(sp, &h, data, total, reply, cap);
		data += total;
		size -= total;
	}
	vh_host_fini(&h);
	if (sp->alloc_bytes)
		die("%llu bytes of metadata leaked", (unsigned long long)sp->alloc_bytes);
	free(reply);
	return 0;
}
