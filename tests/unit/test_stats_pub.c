/* SPDX-License-Identifier: Apache-2.0 */
/* Published counters (vh/stats_pub.h) on the simulated platform: the
 * records a reader copies out say what the protocol answers at the same
 * instant, a running vCPU's time grows between two reads with no write,
 * slots follow definitions, a record that never settles is given up on,
 * and a broken header is refused. */
#include <stdlib.h>
#include <string.h>

#include "proto_fixture.h"
#include "sim_cpu.h"
#include "vh/stats_pub.h"

struct sp_env {
	struct pf *f;
	void *area; /* the fixture's (pf_new_with attaches one) */
	size_t size;
	struct vh_pub_view v;
};

static void sp_open(struct sp_env *e, uint32_t pcpus, uint32_t max_vms)
{
	struct vh_error err;

	e->f = pf_new_with(pcpus, 256, max_vms);
	e->area = e->f->pub_area;
	e->size = e->f->pub_size;
	if (vh_pub_open(&e->v, e->area, e->size, &err) != VH_OK)
		VH_FAIL("vh_pub_open: %s", err.reason);
}

static void sp_close(struct sp_env *e)
{
	pf_free(e->f);
}

/* A one-vCPU VM with no reservation or limit, so several run at once. */
static uint32_t sp_define(struct sp_env *e, const char *name, uint32_t vcpus)
{
	struct vh_vm_config c;

	vh_vm_config_default(&c);
	strncpy(c.name, name, sizeof(c.name) - 1);
	c.vcpus = vcpus;
	c.memory_mib = 16;
	return pf_define(e->f, &c);
}

static int sp_slot(struct sp_env *e, uint32_t id)
{
	struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_ID, .id = id };

	return vh_pub_find(&e->v, &ref);
}

/* The published VM against VM_STATS and VM_LIST at the same instant. */
static void expect_vm_matches(struct sp_env *e, uint32_t id)
{
	struct vh_proto_vcpu_stats pv[VH_VM_MAX_VCPUS];
	struct vh_proto_vm_summary ps, ls;
	struct vh_proto_vm_stats pst, st;
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_STATS, id);
	uint32_t n = 0;
	int slot = sp_slot(e, id);

	VH_ASSERT(slot >= 0);
	VH_ASSERT_EQ(vh_pub_read_vm(&e->v, (uint32_t)slot, e->f->sp.now_ns, &ps, &pst, pv, &n),
		     VH_OK);
	VH_ASSERT_EQ(pf_call(e->f, &rq), VH_OK);
	st = e->f->r.u.vm_stats.vm;
	VH_EXPECT_EQ(pst.id, st.id);
	VH_EXPECT_EQ(pst.state, st.state);
	VH_EXPECT_EQ(pst.cpu.used_ns, st.cpu.used_ns);
	VH_EXPECT_EQ(pst.cpu.ready_ns, st.cpu.ready_ns);
	VH_EXPECT_EQ(pst.cpu.costop_ns, st.cpu.costop_ns);
	VH_EXPECT_EQ(pst.cpu.wait_ns, st.cpu.wait_ns);
	VH_EXPECT_EQ(pst.cpu.runs, st.cpu.runs);
	VH_EXPECT_EQ(pst.cpu.limited_ns, st.cpu.limited_ns);
	VH_EXPECT_EQ(pst.cpu.stolen_ns, st.cpu.stolen_ns);
	VH_EXPECT_MEMEQ(&pst.mem, &st.mem, sizeof(st.mem));
	VH_EXPECT_MEMEQ(pst.exits, st.exits, sizeof(st.exits));
	VH_EXPECT_EQ(pst.console_bytes, st.console_bytes);
	VH_EXPECT_EQ(pst.admission_refusals, st.admission_refusals);
	VH_ASSERT_EQ(n, e->f->r.nentries);
	for (uint32_t i = 0; i < n; i++) {
		struct vh_proto_vcpu_stats vs;
		VH_ASSERT_EQ(vh_proto_reply_vcpu(&e->f->r, i, &vs), VH_OK);
		VH_EXPECT_EQ(pv[i].index, vs.index);
		VH_EXPECT_MEMEQ(&pv[i].cpu, &vs.cpu, sizeof(vs.cpu));
	}
	rq = pf_req(VH_PROTO_VM_LIST);
	rq.u.page.start_id = id;
	rq.u.page.max_entries = 1;
	VH_ASSERT_EQ(pf_call(e->f, &rq), VH_OK);
	VH_ASSERT_EQ(vh_proto_reply_vm_summary(&e->f->r, 0, &ls), VH_OK);
	VH_EXPECT_MEMEQ(&ps, &ls, sizeof(ls));
}

VH_TEST(stats_pub, counters_read_from_memory_are_the_protocols_at_the_same_instant)
{
	struct sp_env e;
	struct vh_sim_cpu *sc;
	struct vh_sim_workload bursty = { .kind = VH_SIM_WL_BURSTY,
					  .run_ns = 700000,
					  .sleep_ns = 1300000 };
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_STATS);
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_pcpu_stats pc[4];
	uint32_t ids[3], npc = 0;

	sp_open(&e, 2, 0);
	ids[0] = sp_define(&e, "busy", 2);
	ids[1] = sp_define(&e, "bursty", 1);
	ids[2] = sp_define(&e, "off", 1);
	pf_ok(e.f, VH_PROTO_VM_START, ids[0]);
	pf_ok(e.f, VH_PROTO_VM_START, ids[1]);
	sc = vh_sim_cpu_create(&e.f->h, &e.f->sp);
	VH_ASSERT(sc != NULL);
	VH_ASSERT(vh_sim_cpu_set_workload(sc, vh_vm_find_id(&e.f->h, ids[1]), &bursty));
	/* Several instants, mid-quantum included: 3 VMs on 2 pCPUs contend. */
	for (uint64_t t = 1; t <= 5; t++) {
		vh_sim_cpu_run_until(sc, e.f->sp.now_ns + 7300000 * t);
		for (int i = 0; i < 3; i++)
			expect_vm_matches(&e, ids[i]);
		VH_ASSERT_EQ(vh_pub_read_host(&e.v, e.f->sp.now_ns, &hi, &hs, pc, 4, &npc), VH_OK);
		VH_ASSERT_EQ(pf_call(e.f, &rq), VH_OK);
		VH_EXPECT_EQ(hs.busy_ns, e.f->r.u.host_stats.busy_ns);
		VH_EXPECT_EQ(hs.idle_ns, e.f->r.u.host_stats.idle_ns);
		VH_EXPECT_EQ(hs.npowered_on, e.f->r.u.host_stats.npowered_on);
		VH_EXPECT_EQ(hs.reserved_mhz, e.f->r.u.host_stats.reserved_mhz);
		VH_EXPECT_MEMEQ(&hs.mem, &e.f->r.u.host_stats.mem, sizeof(hs.mem));
		VH_ASSERT_EQ(npc, e.f->r.nentries);
		for (uint32_t i = 0; i < npc; i++) {
			struct vh_pcpu_stats ps;
			VH_ASSERT_EQ(vh_proto_reply_pcpu(&e.f->r, i, &ps), VH_OK);
			VH_EXPECT_MEMEQ(&pc[i], &ps, sizeof(ps));
		}
	}
	rq = pf_req(VH_PROTO_HOST_INFO);
	VH_ASSERT_EQ(pf_call(e.f, &rq), VH_OK);
	VH_EXPECT_MEMEQ(&hi, &e.f->r.u.host_info, sizeof(hi));
	/* The area's header names the instance HOST_INFO does. */
	VH_EXPECT_EQ(hi.instance, PF_INSTANCE);
	/* The busy VM really ran: the comparison was not of zeros. */
	{
		struct vh_proto_vm_stats st;
		VH_ASSERT_EQ(vh_pub_read_vm(&e.v, (uint32_t)sp_slot(&e, ids[0]), e.f->sp.now_ns,
					    NULL, &st, NULL, NULL),
			     VH_OK);
		VH_EXPECT_GT(st.cpu.used_ns, 10000000ull);
		VH_EXPECT_GT(st.cpu.ready_ns, 0ull);
	}
	vh_sim_cpu_destroy(sc);
	sp_close(&e);
}

VH_TEST(stats_pub, a_running_vcpus_used_time_grows_between_two_reads_with_no_write)
{
	struct sp_env e;
	struct vh_proto_vm_stats a, b;
	struct vh_sched_pick pick;
	uint32_t id;
	uint64_t seq;
	int slot;

	sp_open(&e, 1, 0);
	id = sp_define(&e, "one", 1);
	pf_ok(e.f, VH_PROTO_VM_START, id);
	e.f->sp.plat.lock(&e.f->sp);
	pick = vh_sched_next(&e.f->h, 0, e.f->sp.now_ns, NULL, VH_SCHED_PREEMPTED, 0);
	e.f->sp.plat.unlock(&e.f->sp);
	VH_ASSERT(pick.vcpu != NULL);
	slot = sp_slot(&e, id);
	VH_ASSERT(slot >= 0);
	seq = vh_pub_generation(&e.v);
	VH_ASSERT_EQ(vh_pub_read_vm(&e.v, (uint32_t)slot, e.f->sp.now_ns, NULL, &a, NULL, NULL),
		     VH_OK);
	vh_sim_advance(&e.f->sp, 1000000); /* 1 ms later, nothing published */
	VH_ASSERT_EQ(vh_pub_read_vm(&e.v, (uint32_t)slot, e.f->sp.now_ns, NULL, &b, NULL, NULL),
		     VH_OK);
	VH_EXPECT_EQ(b.cpu.used_ns - a.cpu.used_ns, 1000000ull);
	VH_EXPECT_EQ(b.cpu.ready_ns, a.cpu.ready_ns);
	VH_EXPECT_EQ(vh_pub_generation(&e.v), seq);
	expect_vm_matches(&e, id);
	/* Time the host took is settled by the backend (vh_sched_steal),
	 * and shows as ready time from then on. */
	vh_sim_advance(&e.f->sp, 1000000);
	e.f->sp.plat.lock(&e.f->sp);
	vh_sched_steal(&e.f->h, 0, e.f->sp.now_ns, 300000);
	e.f->sp.plat.unlock(&e.f->sp);
	VH_ASSERT_EQ(vh_pub_read_vm(&e.v, (uint32_t)slot, e.f->sp.now_ns, NULL, &b, NULL, NULL),
		     VH_OK);
	VH_EXPECT_EQ(b.cpu.stolen_ns, 300000ull);
	VH_EXPECT_EQ(b.cpu.used_ns - a.cpu.used_ns, 1700000ull);
	expect_vm_matches(&e, id);
	sp_close(&e);
}

VH_TEST(stats_pub, slots_follow_definitions_and_references)
{
	struct sp_env e;
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st;
	struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_NAME };
	struct vh_proto_request rq;
	uint64_t g0;
	uint32_t a, b;
	int sa, sb;

	sp_open(&e, 2, 4);
	g0 = vh_pub_generation(&e.v);
	a = sp_define(&e, "alpha", 1);
	b = sp_define(&e, "beta", 1);
	VH_EXPECT_EQ(vh_pub_generation(&e.v), g0 + 4); /* even: two changes of hands */
	strcpy(ref.name, "beta");
	sb = vh_pub_find(&e.v, &ref);
	VH_ASSERT(sb >= 0);
	VH_EXPECT(vh_pub_slot_is(&e.v, (uint32_t)sb, &ref));
	VH_EXPECT_EQ(vh_pub_slot_id(&e.v, (uint32_t)sb), b);
	VH_ASSERT_EQ(vh_pub_read_vm(&e.v, (uint32_t)sb, 0, &s, &st, NULL, NULL), VH_OK);
	ref.kind = VH_PROTO_REF_UUID;
	memcpy(ref.uuid, s.uuid, 16);
	VH_EXPECT_EQ(vh_pub_find(&e.v, &ref), sb);
	strcpy(ref.name, "gamma");
	ref.kind = VH_PROTO_REF_NAME;
	VH_EXPECT_EQ(vh_pub_find(&e.v, &ref), -1);
	sa = sp_slot(&e, a);
	VH_ASSERT(sa >= 0);
	rq = pf_req_id(VH_PROTO_VM_UNDEFINE, a);
	VH_ASSERT_EQ(pf_call(e.f, &rq), VH_OK);
	VH_EXPECT_EQ(vh_pub_read_vm(&e.v, (uint32_t)sa, 0, &s, &st, NULL, NULL), VH_E_NOENT);
	VH_EXPECT_EQ(sp_slot(&e, a), -1);
	VH_EXPECT_EQ(vh_pub_read_host(&e.v, 0, &(struct vh_proto_host_info){ 0 },
				      &(struct vh_proto_host_stats){ 0 }, NULL, 0, NULL),
		     VH_OK);
	/* A change through the protocol shows at once. */
	pf_ok(e.f, VH_PROTO_VM_START, b);
	VH_ASSERT_EQ(vh_pub_read_vm(&e.v, (uint32_t)sb, e.f->sp.now_ns, &s, &st, NULL, NULL),
		     VH_OK);
	VH_EXPECT_EQ(s.state, (uint32_t)VH_VM_RUNNING);
	VH_EXPECT_EQ(vh_pub_slot_is(&e.v, (uint32_t)sa, &ref), false);
	sp_close(&e);
}

VH_TEST(stats_pub, messages_are_counted_per_type)
{
	struct sp_env e;
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);
	uint64_t before;

	sp_open(&e, 1, 0);
	before = vh_pub_msgs(&e.v, VH_PROTO_HOST_INFO);
	for (int i = 0; i < 3; i++)
		VH_ASSERT_EQ(pf_call(e.f, &rq), VH_OK);
	VH_EXPECT_EQ(vh_pub_msgs(&e.v, VH_PROTO_HOST_INFO), before + 3);
	VH_EXPECT_EQ(vh_pub_msgs(&e.v, VH_PROTO_VM_STATS), 0ull);
	sp_close(&e);
}

VH_TEST(stats_pub, a_record_that_never_settles_is_given_up_on)
{
	struct sp_env e;
	struct vh_proto_vm_stats st;
	struct vh_pub_vm *rec;
	uint32_t id;
	int slot;

	sp_open(&e, 1, 0);
	id = sp_define(&e, "stuck", 1);
	slot = sp_slot(&e, id);
	VH_ASSERT(slot >= 0);
	rec = (struct vh_pub_vm *)((uint8_t *)e.area + e.v.lay.vm_off +
				   (uint64_t)slot * e.v.lay.vm_stride);
	rec->seq |= 1; /* a writer that stopped in the middle */
	VH_EXPECT_EQ(vh_pub_read_vm(&e.v, (uint32_t)slot, 0, NULL, &st, NULL, NULL), VH_E_BUSY);
	VH_EXPECT_GE(e.v.retries, VH_PUB_READ_TRIES);
	rec->seq += 1;
	VH_EXPECT_EQ(vh_pub_read_vm(&e.v, (uint32_t)slot, 0, NULL, &st, NULL, NULL), VH_OK);
	sp_close(&e);
}

VH_TEST(stats_pub, a_broken_header_is_refused)
{
	struct sp_env e;
	struct vh_pub_header *h;
	struct vh_pub_view v;
	struct vh_error err;
	uint64_t stride;

	sp_open(&e, 1, 0);
	h = e.area;
	stride = h->vm_stride;
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, sizeof(*h) - 8, &err), VH_E_PROTO);
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size - 4096, &err), VH_E_PROTO);
	h->vm_stride = 8; /* vCPU records over the next slot */
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size, &err), VH_E_PROTO);
	h->vm_stride = (uint64_t)-8; /* wraps */
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size, &err), VH_E_PROTO);
	h->vm_stride = stride + 8; /* slots past the end */
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size, &err), VH_E_PROTO);
	h->vm_stride = stride;
	h->magic ^= 1;
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size, &err), VH_E_PROTO);
	h->magic ^= 1;
	h->clock = 9;
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size, &err), VH_E_PROTO);
	h->clock = VH_PUB_CLOCK_MONOTONIC;
	h->vcpu_size = 8;
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size, &err), VH_E_PROTO);
	h->vcpu_size = sizeof(struct vh_pub_vcpu);
	VH_EXPECT_EQ(vh_pub_open(&v, e.area, e.size, &err), VH_OK);
	VH_EXPECT(vh_pub_live(&v));
	/* A header rewritten after the open moves no reader outside the
	 * area (ASan would stop a scan of 2^32 slots 1 TiB apart). */
	{
		struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_NAME, .name = "nobody" };
		struct vh_proto_vm_stats st;
		uint32_t max = h->max_vms;

		h->max_vms = UINT32_MAX;
		h->vm_stride = 1ull << 40;
		VH_EXPECT_EQ(vh_pub_find(&v, &ref), -1);
		VH_EXPECT_EQ(vh_pub_read_vm(&v, max, 0, NULL, &st, NULL, NULL), VH_E_NOENT);
		h->max_vms = max;
		h->vm_stride = stride;
	}
	vh_pub_detach(&e.f->h);
	VH_EXPECT(!vh_pub_live(&v));
	sp_close(&e);
}

/* STATS_MAP describes the area the transport passes with the reply; a
 * host that publishes none says so. */
VH_TEST(stats_pub, stats_map_describes_the_area)
{
	struct sp_env e;
	struct vh_proto_request rq = pf_req(VH_PROTO_STATS_MAP);

	sp_open(&e, 1, 0);
	VH_ASSERT_EQ(pf_call(e.f, &rq), VH_OK);
	VH_EXPECT_EQ(e.f->r.u.stats_map.layout_version, VH_PUB_VERSION);
	VH_EXPECT_EQ(e.f->r.u.stats_map.clock, VH_PUB_CLOCK_MONOTONIC);
	VH_EXPECT_EQ(e.f->r.u.stats_map.size, (uint64_t)e.size);
	VH_EXPECT_EQ(e.f->r.u.stats_map.instance, PF_INSTANCE);
	VH_EXPECT_EQ(e.f->r.hdr.payload_len, 24u);
	vh_pub_detach(&e.f->h);
	VH_EXPECT_EQ(pf_call(e.f, &rq), VH_E_STATE);
	sp_close(&e);
}
