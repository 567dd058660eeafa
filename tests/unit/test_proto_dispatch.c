/* SPDX-License-Identifier: Apache-2.0 */
/* The dispatcher against a real host on the simulated platform: every
 * operation's success and failure paths, over the same bytes a transport
 * would carry. */
#include <stdio.h>
#include <string.h>

#include "proto_fixture.h"
#include "vh/proto.h"
#include "vh/sched.h"
#include "vh/version.h"
#include "vh_test.h"

/* Expects a refusal with this code and field that changes nothing. */
#define EXPECT_REFUSED(f, rq, code_, field_)                              \
	do {                                                              \
		struct pf_snap *before_ = malloc(sizeof(struct pf_snap)); \
		VH_ASSERT(before_ != NULL);                               \
		pf_snap_take((f), before_);                               \
		VH_EXPECT_EQ(pf_call((f), (rq)), (int)(code_));           \
		VH_EXPECT_STREQ((f)->r.u.error.field, (field_));          \
		PF_EXPECT_UNCHANGED((f), before_);                        \
		free(before_);                                            \
	} while (0)

static struct vh_vm *vm_of(struct pf *f, uint32_t id)
{
	struct vh_vm *vm = vh_vm_find_id(&f->h, id);

	VH_ASSERT(vm != NULL);
	return vm;
}

/* ---- host ------------------------------------------------------------------- */

VH_TEST(proto_dispatch, host_info_describes_the_host)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);
	const struct vh_proto_host_info *hi = &f->r.u.host_info;

	pf_define_named(f, "a");
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(hi->version_min, VH_PROTO_VERSION_MIN);
	VH_EXPECT_EQ(hi->version_max, VH_PROTO_VERSION_MAX);
	VH_EXPECT_EQ(hi->page_size, 4096u);
	VH_EXPECT_STREQ(hi->vh_version, vh_version());
	VH_EXPECT_EQ(hi->pcpus, 4u);
	VH_EXPECT_EQ(hi->mhz_per_pcpu, 2000u);
	VH_EXPECT_EQ(hi->memory_bytes, 256 * PF_MIB);
	VH_EXPECT_EQ(hi->overhead_bytes, 32 * PF_MIB);
	VH_EXPECT_EQ(hi->cpu_capacity_mhz, 8000ull);
	VH_EXPECT_EQ(hi->mem_capacity_mib, 224ull);
	VH_EXPECT_EQ(hi->max_vms, (uint32_t)VH_HOST_MAX_VMS);
	VH_EXPECT_EQ(hi->nvms, 1u);
	VH_EXPECT_EQ(hi->max_vcpus, 64u);
	VH_EXPECT_EQ(hi->max_modules, 8u);
	VH_EXPECT_EQ(hi->max_devices, 16u);
	VH_EXPECT_EQ(hi->max_msg, VH_PROTO_MAX_MSG);
	VH_EXPECT_EQ(hi->max_memory_mib, VH_VM_MAX_MEMORY_MIB);
	VH_EXPECT_EQ(hi->instance, PF_INSTANCE);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 120));
	pf_free(f);
}

/* Runs pCPU 0 for a while so the counters move: whatever it picks runs
 * `ns` and is preempted. */
static void run_pcpu0(struct pf *f, uint64_t ns)
{
	struct vh_sched_pick pick;

	f->sp.plat.lock(&f->sp);
	pick = vh_sched_next(&f->h, 0, f->sp.now_ns, NULL, VH_SCHED_PREEMPTED, 0);
	f->sp.plat.unlock(&f->sp);
	vh_sim_advance(&f->sp, ns);
	f->sp.plat.lock(&f->sp);
	vh_sched_next(&f->h, 0, f->sp.now_ns, pick.vcpu, VH_SCHED_PREEMPTED, 0);
	f->sp.plat.unlock(&f->sp);
}

VH_TEST(proto_dispatch, host_stats_report_the_pcpus_and_memory)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_STATS);
	const struct vh_proto_host_stats *hs = &f->r.u.host_stats;
	struct vh_host_mem_stats hm;
	uint64_t busy = 0, idle = 0;
	uint32_t a = pf_define_named(f, "a");

	pf_define_named(f, "b");
	pf_ok(f, VH_PROTO_VM_START, a);
	vh_sim_advance(&f->sp, 1000000);
	run_pcpu0(f, 3000000);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(hs->now_ns, f->sp.now_ns);
	VH_EXPECT_EQ(hs->pcpus, 4u);
	VH_EXPECT_EQ(hs->nvms, 2u);
	VH_EXPECT_EQ(hs->npowered_on, 1u);
	VH_EXPECT_EQ(hs->reserved_mhz, 100ull);
	VH_EXPECT_EQ(hs->reserved_mib, 4ull);
	VH_EXPECT_EQ(hs->cpu_capacity_mhz, 8000ull);
	VH_EXPECT_EQ(hs->mem_capacity_mib, 224ull);
	vh_mem_host_stats(&f->h, &hm);
	VH_EXPECT_EQ(hs->mem.total, hm.total);
	VH_EXPECT_EQ(hs->mem.free, hm.free);
	VH_EXPECT_EQ(hs->mem.reserved, hm.reserved);
	VH_EXPECT_EQ(hs->mem.shared_saved, hm.shared_saved);
	VH_ASSERT_EQ(f->r.nentries, 4u);
	for (uint32_t i = 0; i < 4; i++) {
		struct vh_pcpu_stats got, want;
		VH_ASSERT_EQ(vh_proto_reply_pcpu(&f->r, i, &got), VH_OK);
		vh_sched_pcpu_stats(&f->h, i, f->sp.now_ns, &want);
		VH_EXPECT_EQ(got.busy_ns, want.busy_ns);
		VH_EXPECT_EQ(got.idle_ns, want.idle_ns);
		busy += got.busy_ns;
		idle += got.idle_ns;
	}
	VH_EXPECT_EQ(hs->busy_ns, busy);
	VH_EXPECT_EQ(hs->idle_ns, idle);
	VH_EXPECT_GT(busy, 0ull);
	pf_free(f);
}

/* ---- define / get / undefine --------------------------------------------------- */

VH_TEST(proto_dispatch, define_returns_the_vm_with_its_full_config)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);
	const struct vh_proto_vm_info *vi = &f->r.u.vm_info;
	static const uint8_t nil[16];
	struct vh_vm *vm;

	pf_config(&rq.u.define, "web-01");
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 4000));
	vm = vh_vm_find_name(&f->h, "web-01");
	VH_ASSERT(vm != NULL);
	VH_EXPECT_EQ(vi->summary.id, vm->id);
	VH_EXPECT_EQ(vi->summary.state, (uint32_t)VH_VM_DEFINED);
	/* Defined without a uuid: one was generated, and reported. */
	VH_EXPECT(memcmp(vi->summary.uuid, nil, 16) != 0);
	VH_EXPECT_MEMEQ(vi->summary.uuid, vm->cfg.uuid, 16);
	VH_EXPECT_MEMEQ(vi->config.uuid, vm->cfg.uuid, 16);
	VH_EXPECT_STREQ(vi->summary.name, "web-01");
	VH_EXPECT_EQ(vi->summary.vcpus, 2u);
	VH_EXPECT_EQ(vi->summary.memory_mib, 16ull);
	VH_EXPECT_EQ(vi->summary.cosched, (uint32_t)VH_COSCHED_STRICT);
	VH_EXPECT_EQ(vi->summary.cpu.shares.custom, 3000u);
	VH_EXPECT_EQ(vi->summary.cpu.limit_mhz, 1500ull);
	VH_EXPECT_EQ((int)vi->summary.mem.shares.level, VH_SHARES_HIGH);
	VH_EXPECT_EQ(vi->summary.mem.limit_mib, VH_UNLIMITED);
	VH_EXPECT_STREQ(vi->config.boot.kernel, "linux-6.1");
	VH_EXPECT_STREQ(vi->config.boot.cmdline, "console=ttyS0 quiet");
	VH_EXPECT_EQ(vi->config.boot.nmodules, 2u);
	VH_EXPECT_STREQ(vi->config.boot.modules[1].image, "extra.cpio");
	VH_EXPECT_STREQ(vi->config.boot.modules[1].args, "extra=1");
	VH_EXPECT_EQ(vi->config.ndevices, 3u);
	VH_EXPECT_EQ(vi->config.devices[2].type, (uint32_t)VH_DEV_BALLOON);
	/* The host holds exactly what was sent. */
	VH_EXPECT_STREQ(vm->cfg.boot.modules[0].image, "initrd.img");
	VH_EXPECT_EQ(vm->cfg.cpu.reservation_mhz, 100ull);
	VH_EXPECT_EQ(vm->cfg.mem.reservation_mib, 4ull);

	/* With a uuid of the client's choosing. */
	rq = pf_req(VH_PROTO_VM_DEFINE);
	pf_config(&rq.u.define, "web-02");
	memset(rq.u.define.uuid, 0x42, 16);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_MEMEQ(vi->summary.uuid, rq.u.define.uuid, 16);
	VH_EXPECT_EQ(f->h.nvms, 2u);
	pf_free(f);
}

VH_TEST(proto_dispatch, define_refusals_name_the_field_and_change_nothing)
{
	struct pf *f = pf_new_with(4, 256, 3);
	struct vh_proto_request rq;

	pf_define_named(f, "taken");
	rq = pf_req(VH_PROTO_VM_DEFINE);
	pf_config(&rq.u.define, "taken");
	EXPECT_REFUSED(f, &rq, VH_E_EXIST, "name");

	memcpy(rq.u.define.uuid, vm_of(f, 1)->cfg.uuid, 16);
	strcpy(rq.u.define.name, "other");
	EXPECT_REFUSED(f, &rq, VH_E_EXIST, "uuid");

	pf_config(&rq.u.define, "x");
	rq.u.define.vcpus = 0;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "vcpus");
	rq.u.define.vcpus = 65;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "vcpus");

	pf_config(&rq.u.define, "x");
	rq.u.define.memory_mib = 0;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "memory_mib");

	pf_config(&rq.u.define, "x");
	rq.u.define.cpu.reservation_mhz = 2000; /* above its limit of 1500 */
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "cpu.reservation_mhz");

	pf_config(&rq.u.define, "x");
	rq.u.define.mem.reservation_mib = 17; /* above its 16 MiB */
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "memory.reservation_mib");

	pf_config(&rq.u.define, "x");
	rq.u.define.devices[1].type = 99;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "devices[1].type");
	rq.u.define.devices[1].type = VH_DEV_UART16550;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "devices[1].type");
	rq.u.define.devices[1].type = VH_DEV_DEBUG_EXIT;
	rq.u.define.devices[1].flags = 1;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "devices[1].flags");

	pf_config(&rq.u.define, "-bad");
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "name");
	pf_config(&rq.u.define, "");
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "name");

	/* The host's VM limit (3 here). */
	pf_define_named(f, "second");
	pf_define_named(f, "third");
	pf_config(&rq.u.define, "fourth");
	EXPECT_REFUSED(f, &rq, VH_E_LIMIT, "");
	pf_free(f);
}

/* A VM's disks reach the core as sent, in boot order with their flags,
 * and VM_GET gives them back; a disk named twice is refused, nothing
 * defined. */
VH_TEST(proto_dispatch, define_carries_the_disks_to_the_core_and_back)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);
	struct vh_proto_request get = pf_req_name(VH_PROTO_VM_GET, "db");
	const struct vh_vm_config *c = &f->r.u.vm_info.config;
	struct vh_vm *vm;

	pf_config(&rq.u.define, "db");
	rq.u.define.ndisks = 2;
	strcpy(rq.u.define.disks[0].name, "db-root");
	strcpy(rq.u.define.disks[1].name, "tools.iso");
	rq.u.define.disks[1].flags = VH_DISK_F_READONLY;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	vm = vh_vm_find_name(&f->h, "db");
	VH_ASSERT(vm != NULL);
	VH_EXPECT_EQ(vm->cfg.ndisks, 2u);
	VH_EXPECT_STREQ(vm->cfg.disks[1].name, "tools.iso");
	VH_EXPECT_EQ(vm->cfg.disks[1].flags, VH_DISK_F_READONLY);
	VH_ASSERT_EQ(pf_call(f, &get), VH_OK);
	VH_EXPECT_EQ(c->ndisks, 2u);
	VH_EXPECT_STREQ(c->disks[0].name, "db-root");
	VH_EXPECT_EQ(c->disks[0].flags, 0u);
	VH_EXPECT_STREQ(c->disks[1].name, "tools.iso");
	VH_EXPECT_EQ(c->disks[1].flags, VH_DISK_F_READONLY);

	pf_config(&rq.u.define, "twice");
	rq.u.define.ndisks = 2;
	strcpy(rq.u.define.disks[0].name, "same");
	strcpy(rq.u.define.disks[1].name, "same");
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "disks[1].name");
	VH_EXPECT(vh_vm_find_name(&f->h, "twice") == NULL);
	pf_free(f);
}

VH_TEST(proto_dispatch, define_out_of_metadata_memory_changes_nothing)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);

	pf_config(&rq.u.define, "big");
	f->sp.alloc_fail_after = f->sp.alloc_bytes + 64;
	EXPECT_REFUSED(f, &rq, VH_E_NOMEM, "");
	f->sp.alloc_fail_after = 0;
	VH_EXPECT_EQ(pf_call(f, &rq), VH_OK);
	pf_free(f);
}

/* A crashed VM says why through VM_GET (the agent's vm_crashed event
 * carries it) until it is powered on again. */
VH_TEST(proto_dispatch, get_carries_the_crash_reason_until_the_next_start)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "alpha");
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_GET, a);

	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_STREQ(f->r.u.vm_info.crash_reason, "");
	pf_ok(f, VH_PROTO_VM_START, a);
	VH_ASSERT_EQ(vh_vm_crash(&f->h, vm_of(f, a), "vCPU 0: triple fault"), VH_OK);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm_info.summary.state, (uint32_t)VH_VM_CRASHED);
	VH_EXPECT_STREQ(f->r.u.vm_info.crash_reason, "vCPU 0: triple fault");
	pf_ok(f, VH_PROTO_VM_START, a);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_STREQ(f->r.u.vm_info.crash_reason, "");
	pf_free(f);
}

VH_TEST(proto_dispatch, vms_are_addressed_by_id_name_or_uuid)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "alpha"), b = pf_define_named(f, "beta");
	struct vh_proto_request rq;

	rq = pf_req_id(VH_PROTO_VM_GET, b);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_STREQ(f->r.u.vm_info.summary.name, "beta");

	rq = pf_req_name(VH_PROTO_VM_GET, "alpha");
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm_info.summary.id, a);
	VH_EXPECT_STREQ(f->r.u.vm_info.config.boot.kernel, "linux-6.1");

	rq = pf_req(VH_PROTO_VM_GET);
	rq.vm.kind = VH_PROTO_REF_UUID;
	memcpy(rq.vm.uuid, vm_of(f, b)->cfg.uuid, 16);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm_info.summary.id, b);

	/* Absent VMs, each way. */
	rq = pf_req_id(VH_PROTO_VM_GET, 99);
	EXPECT_REFUSED(f, &rq, VH_E_NOENT, "vm.id");
	VH_EXPECT_STREQ(f->r.u.error.reason, "vm.id: no VM with id 99");
	rq = pf_req_name(VH_PROTO_VM_START, "gamma");
	EXPECT_REFUSED(f, &rq, VH_E_NOENT, "vm.name");
	VH_EXPECT_STREQ(f->r.u.error.reason, "vm.name: no VM named \"gamma\"");
	rq = pf_req(VH_PROTO_VM_UNDEFINE);
	rq.vm.kind = VH_PROTO_REF_UUID;
	memset(rq.vm.uuid, 0xab, 16);
	EXPECT_REFUSED(f, &rq, VH_E_NOENT, "vm.uuid");
	VH_EXPECT_STREQ(f->r.u.error.reason,
			"vm.uuid: no VM with uuid abababab-abab-abab-abab-abababababab");
	pf_free(f);
}

VH_TEST(proto_dispatch, undefine_removes_a_vm_that_is_off)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");
	struct vh_proto_request rq;
	uint64_t before;

	pf_define_named(f, "b");
	pf_ok(f, VH_PROTO_VM_START, a);
	rq = pf_req_id(VH_PROTO_VM_UNDEFINE, a);
	EXPECT_REFUSED(f, &rq, VH_E_STATE, "");
	VH_EXPECT(strstr(f->r.u.error.reason, "running") != NULL);
	pf_ok(f, VH_PROTO_VM_STOP, a);
	before = f->sp.alloc_bytes;
	rq = pf_req_name(VH_PROTO_VM_UNDEFINE, "a");
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.hdr.payload_len, 0u);
	VH_EXPECT(vh_vm_find_id(&f->h, a) == NULL);
	VH_EXPECT_EQ(f->h.nvms, 1u);
	VH_EXPECT_LT(f->sp.alloc_bytes, before);
	/* Gone means gone. */
	rq = pf_req_id(VH_PROTO_VM_UNDEFINE, a);
	EXPECT_REFUSED(f, &rq, VH_E_NOENT, "vm.id");
	pf_free(f);
}

/* ---- lifecycle ------------------------------------------------------------------ */

static void expect_state(struct pf *f, uint16_t type, uint32_t id, enum vh_vm_state want)
{
	struct vh_proto_request rq = pf_req_id(type, id);

	if (pf_call(f, &rq) != VH_OK)
		VH_FAIL("%s: %s", vh_proto_type_name(type), f->r.u.error.reason);
	VH_EXPECT_EQ(f->r.u.vm.state, (uint32_t)want);
	VH_EXPECT_EQ(vm_of(f, id)->state, want);
	VH_EXPECT_EQ(f->r.u.vm.id, id);
	VH_EXPECT_EQ(f->r.u.vm.state_changes, vm_of(f, id)->state_changes);
	VH_EXPECT_EQ(f->r.u.vm.boot_generation, vm_of(f, id)->boot_generation);
}

VH_TEST(proto_dispatch, lifecycle_follows_the_legal_transitions)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");
	struct vh_proto_request rq;

	expect_state(f, VH_PROTO_VM_START, a, VH_VM_RUNNING);
	VH_EXPECT_EQ(f->r.u.vm.boot_generation, 1u);
	VH_EXPECT_EQ(f->h.reserved_mhz, 100ull);
	expect_state(f, VH_PROTO_VM_PAUSE, a, VH_VM_PAUSED);
	expect_state(f, VH_PROTO_VM_RESUME, a, VH_VM_RUNNING);
	expect_state(f, VH_PROTO_VM_RESET, a, VH_VM_RUNNING);
	VH_EXPECT_EQ(f->r.u.vm.boot_generation, 2u);
	expect_state(f, VH_PROTO_VM_PAUSE, a, VH_VM_PAUSED);
	expect_state(f, VH_PROTO_VM_RESET, a, VH_VM_RUNNING);
	expect_state(f, VH_PROTO_VM_STOP, a, VH_VM_STOPPED);
	VH_EXPECT_EQ(f->h.reserved_mhz, 0ull);
	expect_state(f, VH_PROTO_VM_START, a, VH_VM_RUNNING);
	expect_state(f, VH_PROTO_VM_PAUSE, a, VH_VM_PAUSED);
	expect_state(f, VH_PROTO_VM_STOP, a, VH_VM_STOPPED);
	VH_EXPECT_EQ(f->r.u.vm.state_changes, 10ull);

	/* Illegal transitions are refused with both states named. */
	static const uint16_t illegal_when_off[] = { VH_PROTO_VM_STOP, VH_PROTO_VM_PAUSE,
						     VH_PROTO_VM_RESUME, VH_PROTO_VM_RESET };
	for (size_t i = 0; i < sizeof(illegal_when_off) / sizeof(illegal_when_off[0]); i++) {
		rq = pf_req_id(illegal_when_off[i], a);
		EXPECT_REFUSED(f, &rq, VH_E_STATE, "");
		VH_EXPECT(strstr(f->r.u.error.reason, "stopped") != NULL);
	}
	pf_ok(f, VH_PROTO_VM_START, a);
	rq = pf_req_id(VH_PROTO_VM_START, a);
	EXPECT_REFUSED(f, &rq, VH_E_STATE, "");
	rq = pf_req_id(VH_PROTO_VM_RESUME, a);
	EXPECT_REFUSED(f, &rq, VH_E_STATE, "");
	VH_EXPECT_STREQ(f->r.u.error.reason, "cannot resume VM \"a\": it is running");
	pf_free(f);
}

VH_TEST(proto_dispatch, start_is_admission_controlled)
{
	struct pf *f = pf_new();
	struct vh_vm_config c;
	struct vh_proto_request rq;
	uint32_t a, b;

	pf_config(&c, "big-cpu");
	c.cpu.reservation_mhz = 6000;
	c.cpu.limit_mhz = VH_UNLIMITED;
	a = pf_define(f, &c);
	pf_config(&c, "more-cpu");
	c.cpu.reservation_mhz = 2500;
	c.cpu.limit_mhz = VH_UNLIMITED;
	b = pf_define(f, &c);
	pf_ok(f, VH_PROTO_VM_START, a);
	rq = pf_req_id(VH_PROTO_VM_START, b);
	EXPECT_REFUSED(f, &rq, VH_E_ADMISSION, "cpu.reservation_mhz");
	VH_EXPECT(strstr(f->r.u.error.reason, "short by 500 MHz") != NULL);

	pf_config(&c, "big-mem");
	c.memory_mib = 300;
	c.mem.reservation_mib = 250; /* the host has 224 MiB for VMs */
	b = pf_define(f, &c);
	rq = pf_req_id(VH_PROTO_VM_START, b);
	EXPECT_REFUSED(f, &rq, VH_E_ADMISSION, "memory.reservation_mib");
	EXPECT_REFUSED(f, &rq, VH_E_ADMISSION, "memory.reservation_mib");
	/* Each refusal is counted on the VM refused, for its diagnosis. */
	VH_EXPECT_EQ(vm_of(f, b)->admission_refusals, 2u);
	VH_EXPECT_EQ(vm_of(f, a)->admission_refusals, 0u);
	rq = pf_req_id(VH_PROTO_VM_STATS, b);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm_stats.vm.admission_refusals, 2u);
	pf_free(f);
}

/* ---- run-time controls --------------------------------------------------------- */

VH_TEST(proto_dispatch, set_cpu_applies_and_reports_the_controls)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_SET_CPU, a);

	pf_ok(f, VH_PROTO_VM_START, a);
	rq.u.cpu.shares.level = VH_SHARES_HIGH;
	rq.u.cpu.reservation_mhz = 1000;
	rq.u.cpu.limit_mhz = VH_UNLIMITED;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ((int)f->r.u.vm.cpu.shares.level, VH_SHARES_HIGH);
	VH_EXPECT_EQ(f->r.u.vm.cpu.reservation_mhz, 1000ull);
	VH_EXPECT_EQ(f->r.u.vm.cpu.limit_mhz, VH_UNLIMITED);
	VH_EXPECT_EQ(vm_of(f, a)->cfg.cpu.reservation_mhz, 1000ull);
	VH_EXPECT_EQ(vm_of(f, a)->sched.shares, 2ull * VH_CPU_SHARES_HIGH);
	VH_EXPECT_EQ(f->h.reserved_mhz, 1000ull);

	rq.u.cpu.limit_mhz = 0;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "cpu.limit_mhz");
	rq.u.cpu.limit_mhz = 500;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "cpu.reservation_mhz");
	rq.u.cpu.limit_mhz = VH_UNLIMITED;
	rq.u.cpu.reservation_mhz = 9000;
	EXPECT_REFUSED(f, &rq, VH_E_ADMISSION, "cpu.reservation_mhz");
	VH_EXPECT(strstr(f->r.u.error.reason, "short by 1000 MHz") != NULL);
	pf_free(f);
}

VH_TEST(proto_dispatch, set_mem_applies_and_reports_the_controls)
{
	struct pf *f = pf_new();
	struct vh_vm_config c;
	struct vh_proto_request rq;
	uint32_t a, b;

	pf_config(&c, "a");
	c.memory_mib = 128;
	a = pf_define(f, &c);
	pf_ok(f, VH_PROTO_VM_START, a);
	rq = pf_req_id(VH_PROTO_VM_SET_MEM, a);
	rq.u.mem.shares.level = VH_SHARES_CUSTOM;
	rq.u.mem.shares.custom = 5000;
	rq.u.mem.reservation_mib = 100;
	rq.u.mem.limit_mib = 120;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm.mem.shares.custom, 5000u);
	VH_EXPECT_EQ(f->r.u.vm.mem.reservation_mib, 100ull);
	VH_EXPECT_EQ(f->r.u.vm.mem.limit_mib, 120ull);
	VH_EXPECT_EQ(f->h.reserved_mib, 100ull);
	VH_EXPECT_EQ(vm_of(f, a)->mem.shares, 5000ull);

	rq.u.mem.reservation_mib = 129;
	rq.u.mem.limit_mib = VH_UNLIMITED;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "memory.reservation_mib");
	rq.u.mem.reservation_mib = 10;
	rq.u.mem.limit_mib = 0;
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "memory.limit_mib");

	/* Over-committing reservations against another running VM. */
	pf_config(&c, "b");
	c.memory_mib = 128;
	c.mem.reservation_mib = 100;
	b = pf_define(f, &c);
	pf_ok(f, VH_PROTO_VM_START, b);
	rq.u.mem.reservation_mib = 125;
	rq.u.mem.limit_mib = VH_UNLIMITED;
	EXPECT_REFUSED(f, &rq, VH_E_ADMISSION, "memory.reservation_mib");
	pf_free(f);
}

VH_TEST(proto_dispatch, set_balloon_sets_the_operator_target)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_SET_BALLOON, a);

	pf_ok(f, VH_PROTO_VM_START, a);
	rq.u.balloon_target_mib = 6;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm.balloon_request_pages, 6ull * 256);
	VH_EXPECT_GE(f->r.u.vm.balloon_target_pages, 6ull * 256);
	VH_EXPECT_EQ(vm_of(f, a)->mem.balloon_request_pages, 6ull * 256);

	rq.u.balloon_target_mib = 17; /* the VM has 16 MiB */
	EXPECT_REFUSED(f, &rq, VH_E_INVAL, "balloon.target_mib");
	rq.u.balloon_target_mib = 0;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm.balloon_request_pages, 0ull);
	pf_free(f);
}

/* ---- stats ---------------------------------------------------------------------- */

static void expect_stats_now(struct pf *f, struct vh_vm *vm, const struct vh_proto_vm_stats *got)
{
	struct vh_cpu_stats cpu;
	struct vh_mem_stats mem;

	vh_sched_vm_stats(&f->h, vm, f->sp.now_ns, &cpu);
	vh_mem_vm_stats(&f->h, vm, &mem);
	VH_EXPECT_EQ(got->id, vm->id);
	VH_EXPECT_EQ(got->state, (uint32_t)vm->state);
	VH_EXPECT_MEMEQ(&got->cpu, &cpu, sizeof(cpu));
	VH_EXPECT_MEMEQ(&got->mem, &mem, sizeof(mem));
}

VH_TEST(proto_dispatch, vm_stats_report_the_vm_and_each_vcpu)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");
	struct vh_vm *vm = vm_of(f, a);
	struct vh_proto_request rq = pf_req_name(VH_PROTO_VM_STATS, "a");
	uint8_t page[64];

	pf_ok(f, VH_PROTO_VM_START, a);
	memset(page, 0x5a, sizeof(page));
	VH_ASSERT_EQ((int)vh_sim_guest_write(&f->sp, &f->h, vm, 0x10000, page, sizeof(page)),
		     (int)VH_FAULT_MAPPED);
	vh_sim_advance(&f->sp, 2000000);
	run_pcpu0(f, 4000000);
	vm->vcpus[0].exits[VH_EXIT_IO] = 5;
	vm->vcpus[1].exits[VH_EXIT_IO] = 2;
	vm->vcpus[1].exits[VH_EXIT_HLT] = 9;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.vm_stats.now_ns, f->sp.now_ns);
	expect_stats_now(f, vm, &f->r.u.vm_stats.vm);
	VH_EXPECT_GT(f->r.u.vm_stats.vm.cpu.used_ns, 0ull);
	VH_EXPECT_GT(f->r.u.vm_stats.vm.mem.granted, 0ull);
	VH_EXPECT_EQ(f->r.u.vm_stats.vm.exits[VH_EXIT_IO], 7ull);
	VH_EXPECT_EQ(f->r.u.vm_stats.vm.exits[VH_EXIT_HLT], 9ull);
	VH_EXPECT_EQ(f->r.u.vm_stats.vm.exits[VH_PROTO_EXIT_SLOTS - 1], 0ull);
	VH_ASSERT_EQ(f->r.nentries, 2u);
	for (uint32_t i = 0; i < 2; i++) {
		struct vh_proto_vcpu_stats vs;
		struct vh_cpu_stats want;
		VH_ASSERT_EQ(vh_proto_reply_vcpu(&f->r, i, &vs), VH_OK);
		vh_sched_vcpu_stats(&f->h, &vm->vcpus[i], f->sp.now_ns, &want);
		VH_EXPECT_EQ(vs.index, i);
		VH_EXPECT_MEMEQ(&vs.cpu, &want, sizeof(want));
	}
	pf_free(f);
}

/* Walks VM_LIST (or VM_STATS_ALL) pages of at most `max` entries from
 * the start; records the ids seen in order.  Returns the pages taken. */
static unsigned walk(struct pf *f, uint16_t type, uint32_t max, uint32_t *ids, uint32_t *n)
{
	uint32_t next = 0;
	unsigned pages = 0;

	*n = 0;
	do {
		struct vh_proto_request rq = pf_req(type);
		rq.u.page.start_id = next;
		rq.u.page.max_entries = max;
		VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
		VH_ASSERT_EQ(f->r.u.page.total, f->h.nvms);
		VH_ASSERT(f->r.u.page.count > 0 || f->r.u.page.next_id == 0);
		for (uint32_t i = 0; i < f->r.u.page.count; i++) {
			if (type == VH_PROTO_VM_LIST) {
				struct vh_proto_vm_summary s;
				VH_ASSERT_EQ(vh_proto_reply_vm_summary(&f->r, i, &s), VH_OK);
				VH_ASSERT_STREQ(s.name, vm_of(f, s.id)->cfg.name);
				ids[(*n)++] = s.id;
			} else {
				struct vh_proto_vm_stats s;
				VH_ASSERT_EQ(vh_proto_reply_vm_stats(&f->r, i, &s), VH_OK);
				expect_stats_now(f, vm_of(f, s.id), &s);
				ids[(*n)++] = s.id;
			}
		}
		next = f->r.u.page.next_id;
		pages++;
	} while (next);
	return pages;
}

VH_TEST(proto_dispatch, list_pages_in_id_order_within_the_limits)
{
	struct pf *f = pf_new();
	uint32_t ids[128], n;
	char name[16];

	/* Empty host: one empty, final page. */
	VH_EXPECT_EQ(walk(f, VH_PROTO_VM_LIST, 0, ids, &n), 1u);
	VH_EXPECT_EQ(n, 0u);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "vm%03d", i);
		pf_define_named(f, name);
	}
	/* Undefine a few so ids and slots differ. */
	pf_ok(f, VH_PROTO_VM_UNDEFINE, 3);
	pf_ok(f, VH_PROTO_VM_UNDEFINE, 50);
	pf_define_named(f, "late");
	VH_EXPECT_EQ(walk(f, VH_PROTO_VM_LIST, 7, ids, &n), 15u);
	VH_ASSERT_EQ(n, 99u);
	for (uint32_t i = 1; i < n; i++)
		VH_EXPECT_LT(ids[i - 1], ids[i]);
	VH_EXPECT_EQ(ids[n - 1], 101u);

	/* Without max_entries the reply buffer bounds the page: 8 KiB holds
	 * (8192 - 32 - 24) / 184 = 44 summaries. */
	f->reply_cap = VH_PROTO_REPLY_MIN;
	VH_EXPECT_EQ(walk(f, VH_PROTO_VM_LIST, 0, ids, &n), 3u);
	VH_EXPECT_EQ(n, 99u);
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_LIST);
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.page.count, 44u);
	VH_EXPECT_LE(f->rep_len, (size_t)VH_PROTO_REPLY_MIN);
	/* A full 64 KiB buffer holds them all. */
	f->reply_cap = VH_PROTO_MAX_MSG;
	VH_EXPECT_EQ(walk(f, VH_PROTO_VM_LIST, 0, ids, &n), 1u);
	VH_EXPECT_EQ(n, 99u);
	/* Starting in the middle, at a hole. */
	rq.u.page.start_id = 50;
	rq.u.page.max_entries = 2;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_ASSERT_EQ(f->r.u.page.count, 2u);
	VH_EXPECT_EQ(f->r.u.page.next_id, 53u);
	struct vh_proto_vm_summary s;
	VH_ASSERT_EQ(vh_proto_reply_vm_summary(&f->r, 0, &s), VH_OK);
	VH_EXPECT_EQ(s.id, 51u);
	/* Past the end. */
	rq.u.page.start_id = 5000;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.page.count, 0u);
	VH_EXPECT_EQ(f->r.u.page.next_id, 0u);
	pf_free(f);
}

VH_TEST(proto_dispatch, paging_sees_each_lasting_vm_once_across_changes)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_LIST);
	uint32_t seen[64] = { 0 };
	char name[16];

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		pf_define_named(f, name);
	}
	rq.u.page.max_entries = 4;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	for (uint32_t i = 0; i < f->r.u.page.count; i++) {
		struct vh_proto_vm_summary s;
		VH_ASSERT_EQ(vh_proto_reply_vm_summary(&f->r, i, &s), VH_OK);
		seen[s.id]++;
	}
	VH_ASSERT_EQ(f->r.u.page.next_id, 5u);
	rq.u.page.start_id = f->r.u.page.next_id;
	/* Between pages: one seen VM and one unseen VM go, two arrive. */
	pf_ok(f, VH_PROTO_VM_UNDEFINE, 2);
	pf_ok(f, VH_PROTO_VM_UNDEFINE, 6);
	pf_define_named(f, "new1");
	pf_define_named(f, "new2");
	while (rq.u.page.start_id) {
		VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
		for (uint32_t i = 0; i < f->r.u.page.count; i++) {
			struct vh_proto_vm_summary s;
			VH_ASSERT_EQ(vh_proto_reply_vm_summary(&f->r, i, &s), VH_OK);
			seen[s.id]++;
		}
		rq.u.page.start_id = f->r.u.page.next_id;
	}
	for (uint32_t id = 1; id <= 12; id++)
		VH_EXPECT_EQ(seen[id], (id == 6 ? 0u : 1u));
	pf_free(f);
}

VH_TEST(proto_dispatch, stats_all_pages_carry_each_vms_counters)
{
	struct pf *f = pf_new();
	uint32_t ids[64], n;
	char name[16];

	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		pf_define_named(f, name);
	}
	pf_ok(f, VH_PROTO_VM_START, 7);
	vh_sim_advance(&f->sp, 1000000);
	run_pcpu0(f, 2000000);
	VH_EXPECT_EQ(walk(f, VH_PROTO_VM_STATS_ALL, 0, ids, &n), 1u);
	VH_EXPECT_EQ(n, 40u);
	/* 8 KiB holds (8192 - 56) / 248 = 32 of them. */
	f->reply_cap = VH_PROTO_REPLY_MIN;
	VH_EXPECT_EQ(walk(f, VH_PROTO_VM_STATS_ALL, 0, ids, &n), 2u);
	VH_EXPECT_EQ(n, 40u);
	VH_EXPECT_EQ(walk(f, VH_PROTO_VM_STATS_ALL, 16, ids, &n), 3u);
	VH_EXPECT_EQ(n, 40u);
	pf_free(f);
}

/* ---- the dispatcher's own contract ------------------------------------------------ */

VH_TEST(proto_dispatch, refuses_a_reply_buffer_below_the_minimum)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);
	size_t len = 123;

	pf_encode(f, &rq);
	memset(f->rep, 0xcc, sizeof(f->rep));
	VH_EXPECT_EQ(vh_proto_dispatch(&f->h, f->req, f->req_len, f->rep, VH_PROTO_REPLY_MIN - 1,
				       &len),
		     VH_E_INVAL);
	VH_EXPECT_EQ(len, (size_t)0);
	for (size_t i = 0; i < VH_PROTO_REPLY_MIN; i++)
		VH_ASSERT_EQ(f->rep[i], 0xcc);
	VH_EXPECT_EQ(f->sp.lock_depth, 0);
	pf_free(f);
}

VH_TEST(proto_dispatch, reply_may_overwrite_the_request_buffer)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);
	struct vh_proto_reply r;
	struct vh_error err;
	size_t len;

	pf_config(&rq.u.define, "inplace");
	pf_encode(f, &rq);
	VH_ASSERT_EQ(vh_proto_dispatch(&f->h, f->req, f->req_len, f->req, sizeof(f->req), &len),
		     VH_OK);
	VH_ASSERT_EQ(vh_proto_decode_reply(f->req, len, &r, &err), VH_OK);
	VH_EXPECT_STREQ(r.u.vm_info.summary.name, "inplace");
	VH_EXPECT_STREQ(r.u.vm_info.config.boot.modules[1].args, "extra=1");
	VH_EXPECT_EQ(r.hdr.request_id, rq.request_id);
	pf_free(f);
}

VH_TEST(proto_dispatch, replies_echo_type_and_request_id_and_set_the_reply_flag)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");

	for (uint16_t t = 1; t < VH_PROTO_TYPE_COUNT; t++) {
		struct vh_proto_request rq = pf_req_id(t, a);
		if (t == VH_PROTO_VM_DEFINE)
			pf_config(&rq.u.define, "b");
		if (t == VH_PROTO_VM_UNDEFINE || t >= VH_PROTO_VM_START)
			rq = pf_req_id(t, 4242); /* refused: the reply still echoes */
		if (t <= VH_PROTO_VM_LIST || t == VH_PROTO_VM_STATS_ALL)
			rq.vm.kind = 0, rq.vm.id = 0;
		pf_call(f, &rq);
		VH_EXPECT_EQ(f->r.hdr.flags, VH_PROTO_F_REPLY);
		VH_EXPECT_EQ(f->r.hdr.version, VH_PROTO_VERSION);
		VH_EXPECT_EQ(pf_get32(f->rep), VH_PROTO_MAGIC);
		VH_EXPECT_EQ(pf_get32(f->rep + 28), 0u);
	}
	pf_free(f);
}

/* A version-1 client gets version 1's stats layouts back (no limited
 * time), a version-2 client the grown ones. */
VH_TEST(proto_dispatch, stats_reply_in_the_request_version)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");
	struct vh_proto_request rq = pf_req_name(VH_PROTO_VM_STATS, "a");
	struct vh_proto_request all = pf_req(VH_PROTO_VM_STATS_ALL);

	pf_ok(f, VH_PROTO_VM_START, a);
	pf_encode(f, &rq);
	pf_put16(f->req + 4, 1);
	VH_ASSERT_EQ(pf_send_raw(f), VH_OK);
	VH_EXPECT_EQ(f->r.hdr.version, 1u);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 264 + 2 * 48));
	pf_encode(f, &all);
	pf_put16(f->req + 4, 1);
	VH_ASSERT_EQ(pf_send_raw(f), VH_OK);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 24 + 248));
	pf_encode(f, &rq);
	pf_put16(f->req + 4, 2);
	VH_ASSERT_EQ(pf_send_raw(f), VH_OK);
	VH_EXPECT_EQ(f->r.hdr.version, 2u);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 312 + 2 * 64));
	/* Version 3 changed no stats layout. */
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.hdr.version, 3u);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 312 + 2 * 64));
	VH_ASSERT_EQ(pf_call(f, &all), VH_OK);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 24 + 296));
	pf_free(f);
}

/* host_info grew the instance in version 3: a version-1 or -2 client
 * gets the 112 bytes it knows (and decodes instance 0), a version-3 one
 * the instance the backend gave the host. */
VH_TEST(proto_dispatch, host_info_in_the_request_version)
{
	struct pf *f = pf_new();
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);

	for (uint16_t v = 1; v <= 2; v++) {
		pf_encode(f, &rq);
		pf_put16(f->req + 4, v);
		VH_ASSERT_EQ(pf_send_raw(f), VH_OK);
		VH_EXPECT_EQ(f->r.hdr.version, v);
		VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 112));
		VH_EXPECT_EQ(f->r.u.host_info.instance, 0ull);
		VH_EXPECT_EQ(f->r.u.host_info.pcpus, 4u);
	}
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.hdr.version, 3u);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 120));
	VH_EXPECT_EQ(f->r.u.host_info.instance, PF_INSTANCE);
	VH_EXPECT_EQ(pf_get32(f->rep + 32 + 112), (uint32_t)PF_INSTANCE);
	VH_EXPECT_EQ(pf_get32(f->rep + 32 + 116), (uint32_t)(PF_INSTANCE >> 32));
	pf_free(f);
}

/* vm_config and vm_info have only their version-3 layouts (with the
 * disks): a version-1 or version-2 VM_GET or VM_DEFINE is refused naming
 * the version, the VM untouched, while the older versions still read the
 * messages whose layouts did not change. */
VH_TEST(proto_dispatch, version1_of_a_grown_layout_is_refused)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "a");
	struct vh_proto_request get = pf_req_name(VH_PROTO_VM_GET, "a");
	struct vh_proto_request list = pf_req(VH_PROTO_VM_LIST);

	(void)a;
	pf_encode(f, &get);
	pf_put16(f->req + 4, 1);
	VH_ASSERT_EQ(pf_send_raw(f), VH_E_VERSION);
	VH_EXPECT_EQ(f->r.hdr.version, 1u);
	VH_EXPECT_STREQ(f->r.u.error.field, "header.version");
	pf_encode(f, &list);
	pf_put16(f->req + 4, 1);
	VH_ASSERT_EQ(pf_send_raw(f), VH_OK);
	pf_encode(f, &get);
	pf_put16(f->req + 4, 2);
	VH_ASSERT_EQ(pf_send_raw(f), VH_E_VERSION);
	VH_EXPECT_EQ(f->r.hdr.version, 2u);
	VH_EXPECT(strstr(f->r.u.error.reason, "version 3") != NULL);
	pf_encode(f, &list);
	pf_put16(f->req + 4, 2);
	VH_ASSERT_EQ(pf_send_raw(f), VH_OK);
	VH_ASSERT_EQ(pf_call(f, &get), VH_OK);
	VH_EXPECT_EQ(f->rep_len, (size_t)(32 + 4000));
	pf_free(f);
}

/* VM_CONSOLE: the core keeps the last VH_CONSOLE_TAIL_BYTES of each VM's
 * console; a client reads from any stream position still held, learns
 * where its bytes start when it fell behind, and cannot read the future. */
VH_TEST(proto_dispatch, vm_console_reads_the_tail_by_stream_position)
{
	struct pf *f = pf_new();
	uint32_t a = pf_define_named(f, "chatty");
	struct vh_vm *vm = vh_vm_find_id(&f->h, a);
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_CONSOLE, a);
	char line[64];
	uint64_t total = 0;

	/* A VM that has printed nothing: no bytes, no ring allocated. */
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.console.total, 0ull);
	VH_EXPECT_EQ(f->r.u.console.len, 0u);
	VH_EXPECT(vm->console.ring == NULL);

	/* 200 numbered lines of 30 bytes: 6000 bytes, more than the ring. */
	f->sp.plat.lock(f->sp.plat.ctx);
	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "line %04d of the console ....\n", i);
		VH_ASSERT_EQ(strlen(line), 30u);
		vh_vm_console_write(&f->h, vm, line, 30);
		total += 30;
	}
	f->sp.plat.unlock(f->sp.plat.ctx);
	VH_EXPECT(f->sp.console_len >= total); /* still passed to the platform */

	/* From 0: the oldest held byte on, all VH_CONSOLE_TAIL_BYTES of them. */
	rq.u.console.from = 0;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.console.total, total);
	VH_EXPECT_EQ(f->r.u.console.first, total - VH_CONSOLE_TAIL_BYTES);
	VH_EXPECT_EQ(f->r.u.console.len, VH_CONSOLE_TAIL_BYTES);
	VH_EXPECT_EQ(f->r.nentries, VH_CONSOLE_TAIL_BYTES);
	VH_EXPECT_MEMEQ(f->r.entries + VH_CONSOLE_TAIL_BYTES - 30,
			"line 0199 of the console ....\n", 30);

	/* A position still held, bounded by max_bytes: exactly that line. */
	rq.u.console.from = 150 * 30;
	rq.u.console.max_bytes = 30;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.console.first, 150ull * 30);
	VH_EXPECT_EQ(f->r.u.console.len, 30u);
	VH_EXPECT_MEMEQ(f->r.entries, "line 0150 of the console ....\n", 30);

	/* At the total: nothing new yet. */
	rq.u.console.from = total;
	rq.u.console.max_bytes = 0;
	VH_ASSERT_EQ(pf_call(f, &rq), VH_OK);
	VH_EXPECT_EQ(f->r.u.console.len, 0u);
	VH_EXPECT_EQ(f->r.u.console.first, total);

	/* Past it: refused, naming the field. */
	rq.u.console.from = total + 1;
	VH_EXPECT_EQ(pf_call(f, &rq), VH_E_INVAL);
	VH_EXPECT_STREQ(f->r.u.error.field, "from");

	/* A nonzero reserved field is refused by the decoder. */
	rq.u.console.from = 0;
	pf_encode(f, &rq);
	pf_put32(PF_PAY(f, 100), 1);
	VH_EXPECT_EQ(pf_send_raw(f), VH_E_INVAL);
	VH_EXPECT_STREQ(f->r.u.error.field, "reserved");

	/* A VM that does not exist. */
	rq = pf_req_id(VH_PROTO_VM_CONSOLE, 4242);
	VH_EXPECT_EQ(pf_call(f, &rq), VH_E_NOENT);
	pf_free(f); /* the ring is freed with the VM (alloc_bytes back to 0) */
}
