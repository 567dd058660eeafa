/* SPDX-License-Identifier: Apache-2.0 */
/* Hypercalls: each call, each bad argument, and the CPUID leaves. */
#include "mem_env.h"
#include "vh/hypercall.h"

struct hc_env {
	struct mem_env m;
	struct vh_vm *vm;
};

static void hc_env_init(struct hc_env *e, bool balloon)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };

	mem_env_init(&e->m, 64);
	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "h");
	cfg.memory_mib = 8;
	cfg.vcpus = 2;
	if (balloon)
		cfg.devices[cfg.ndevices++].type = VH_DEV_BALLOON;
	e->vm = vh_vm_define(&e->m.h, &cfg, &err);
	if (!e->vm || vh_vm_start(&e->m.h, e->vm, &err))
		VH_FAIL("vm: %s", err.reason);
}

static int64_t call(struct hc_env *e, uint64_t nr, uint64_t a1, uint64_t a2, unsigned vcpu,
		    enum vh_hc_action *act)
{
	struct vh_hypercall r = { &e->m.h, e->vm, &e->vm->vcpus[vcpu], nr, a1, a2, 0x1111, 0x2222,
				  0, 0 };
	enum vh_hc_action a = vh_hypercall(&r);

	/* Arguments are not clobbered (the guest keeps them). */
	VH_EXPECT_EQ(r.rbx, a1);
	VH_EXPECT_EQ(r.rcx, a2);
	VH_EXPECT_EQ(r.rdx, (uint64_t)0x1111);
	if (act)
		*act = a;
	else
		VH_EXPECT_EQ((int)a, (int)VH_HC_RESUME);
	return (int64_t)r.rax;
}

VH_TEST(hypercall, console_write_copies_guest_bytes_to_the_console)
{
	struct hc_env e;

	hc_env_init(&e, false);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.m.h, e.vm, 0x2ffe, "hello\n", 6, NULL), VH_OK);
	VH_EXPECT_EQ(call(&e, VH_HC_CONSOLE_WRITE, 0x2ffe, 6, 0, NULL), 6);
	VH_EXPECT_STREQ(e.m.sp.console, "h: hello\n");
	VH_EXPECT_EQ(e.vm->guest.console_bytes, (uint64_t)6);
	/* Zero length writes nothing. */
	VH_EXPECT_EQ(call(&e, VH_HC_CONSOLE_WRITE, 0x2ffe, 0, 0, NULL), 0);
	/* Longer than the maximum: cut at the maximum. */
	VH_EXPECT_EQ(call(&e, VH_HC_CONSOLE_WRITE, 0, 100000, 0, NULL), (int64_t)VH_HC_CONSOLE_MAX);
	VH_EXPECT_EQ(e.m.sp.console_len, strlen("h: hello\n") + VH_HC_CONSOLE_MAX + 3);
	mem_env_fini(&e.m);
}

VH_TEST(hypercall, console_write_refuses_ranges_outside_memory)
{
	struct hc_env e;
	size_t before;

	hc_env_init(&e, false);
	before = e.m.sp.console_len;
	VH_EXPECT_EQ(call(&e, VH_HC_CONSOLE_WRITE, 8 * VH_MIB - 2, 3, 0, NULL), -VH_HC_EFAULT);
	VH_EXPECT_EQ(call(&e, VH_HC_CONSOLE_WRITE, UINT64_MAX, 2, 0, NULL), -VH_HC_EFAULT);
	VH_EXPECT_EQ(call(&e, VH_HC_CONSOLE_WRITE, 1ull << 40, 1, 0, NULL), -VH_HC_EFAULT);
	VH_EXPECT_EQ(e.m.sp.console_len, before);
	VH_EXPECT_EQ(e.vm->guest.hypercall_errors, (uint64_t)3);
	mem_env_fini(&e.m);
}

VH_TEST(hypercall, balloon_inflate_deflate_and_target)
{
	struct hc_env e;
	uint64_t gfns[4] = { 100, 101, 102, 100 }; /* a duplicate */
	struct vh_error err = { 0 };
	uint64_t free0;

	hc_env_init(&e, true);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.m.h, e.vm, 0x1000, gfns, sizeof(gfns), NULL), VH_OK);
	for (int i = 100; i < 103; i++)
		mem_env_write_word(&e.m, e.vm, (vh_gfn_t)i, 7);
	free0 = mem_env_free(&e.m);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_TARGET, 0, 0, 0, NULL), 0);
	VH_ASSERT_EQ(vh_vm_set_balloon(&e.m.h, e.vm, 2, &err), VH_OK);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_TARGET, 0, 0, 0, NULL), 512);
	/* Three pages go; the duplicate is not counted twice. */
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x1000, 4, 0, NULL), 3);
	VH_EXPECT_EQ(mem_env_stats(&e.m, e.vm).balloon, (uint64_t)3);
	VH_EXPECT_EQ(mem_env_free(&e.m), free0 + 3);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x1000, 4, 0, NULL), 0);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_DEFLATE, 0x1000, 2, 1, NULL), 2);
	VH_EXPECT_EQ(mem_env_stats(&e.m, e.vm).balloon, (uint64_t)1);
	/* Count 0 is a no-op. */
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_DEFLATE, 0x1000, 0, 0, NULL), 0);
	mem_env_fini(&e.m);
}

VH_TEST(hypercall, balloon_refuses_bad_arrays_and_counts)
{
	struct hc_env e;
	uint64_t wild[3] = { 1ull << 40, UINT64_MAX, 5000000 };

	hc_env_init(&e, true);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x1000, VH_HC_BALLOON_MAX + 1, 0, NULL),
		     -VH_HC_E2BIG);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x1000, UINT64_MAX, 0, NULL), -VH_HC_E2BIG);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x1004, 1, 0, NULL), -VH_HC_EINVAL);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_DEFLATE, 8 * VH_MIB - 8, 2, 0, NULL), -VH_HC_EFAULT);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, UINT64_MAX - 7, 1, 0, NULL), -VH_HC_EFAULT);
	/* gfns outside guest memory are skipped, not an error. */
	VH_ASSERT_EQ(vh_mem_guest_write(&e.m.h, e.vm, 0x2000, wild, sizeof(wild), NULL), VH_OK);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x2000, 3, 0, NULL), 0);
	VH_EXPECT_EQ(mem_env_stats(&e.m, e.vm).balloon, (uint64_t)0);
	/* The array may hold its own page: inflating it is the guest's loss. */
	uint64_t self = 2;
	VH_ASSERT_EQ(vh_mem_guest_write(&e.m.h, e.vm, 0x2000, &self, 8, NULL), VH_OK);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x2000, 1, 0, NULL), 1);
	mem_env_fini(&e.m);
}

VH_TEST(hypercall, balloon_needs_the_balloon_device)
{
	struct hc_env e;

	hc_env_init(&e, false);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_TARGET, 0, 0, 0, NULL), -VH_HC_EPERM);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_INFLATE, 0x1000, 1, 0, NULL), -VH_HC_EPERM);
	VH_EXPECT_EQ(call(&e, VH_HC_BALLOON_DEFLATE, 0x1000, 1, 0, NULL), -VH_HC_EPERM);
	mem_env_fini(&e.m);
}

VH_TEST(hypercall, info_describes_the_vm_and_the_caller)
{
	struct hc_env e;
	struct vh_hc_info info;

	hc_env_init(&e, false);
	VH_EXPECT_EQ(call(&e, VH_HC_INFO, 0x3000, 0, 1, NULL), 0);
	VH_ASSERT_EQ(vh_mem_guest_read(&e.m.h, e.vm, 0x3000, &info, sizeof(info), NULL), VH_OK);
	VH_EXPECT_EQ(info.abi_version, VH_HC_ABI_VERSION);
	VH_EXPECT_EQ(info.size, (uint32_t)sizeof(info));
	VH_EXPECT_EQ(info.vm_id, e.vm->id);
	VH_EXPECT_EQ(info.vcpu_count, 2u);
	VH_EXPECT_EQ(info.vcpu_index, 1u);
	VH_EXPECT_EQ(info.reserved, 0u);
	VH_EXPECT_EQ(info.memory_pages, (uint64_t)2048);
	VH_EXPECT_EQ(call(&e, VH_HC_INFO, 0x3004, 0, 0, NULL), -VH_HC_EINVAL);
	VH_EXPECT_EQ(call(&e, VH_HC_INFO, 8 * VH_MIB - 8, 0, 0, NULL), -VH_HC_EFAULT);
	VH_EXPECT_EQ(call(&e, VH_HC_INFO, UINT64_MAX - 7, 0, 0, NULL), -VH_HC_EFAULT);
	mem_env_fini(&e.m);
}

VH_TEST(hypercall, yield_unknown_numbers_and_stopped_vms)
{
	struct hc_env e;
	enum vh_hc_action act;

	hc_env_init(&e, false);
	VH_EXPECT_EQ(call(&e, VH_HC_YIELD, 0, 0, 0, &act), 0);
	VH_EXPECT_EQ((int)act, (int)VH_HC_YIELDED);
	VH_EXPECT_EQ(call(&e, 0, 0, 0, 0, NULL), -VH_HC_ENOSYS);
	VH_EXPECT_EQ(call(&e, VH_HC_COUNT_, 0, 0, 0, NULL), -VH_HC_ENOSYS);
	VH_EXPECT_EQ(call(&e, UINT64_MAX, 0, 0, 0, NULL), -VH_HC_ENOSYS);
	VH_EXPECT_EQ(call(&e, 1ull << 32 | VH_HC_YIELD, 0, 0, 0, NULL), -VH_HC_ENOSYS);
	VH_ASSERT_EQ(vh_vm_pause(&e.m.h, e.vm, NULL), VH_OK);
	VH_EXPECT_EQ(call(&e, VH_HC_INFO, 0x3000, 0, 0, NULL), -VH_HC_EPERM);
	VH_EXPECT_EQ(e.vm->guest.hypercalls, (uint64_t)6);
	VH_EXPECT_EQ(e.vm->guest.hypercall_errors, (uint64_t)5);
	mem_env_fini(&e.m);
}

VH_TEST(hypercall, cpuid_leaves_announce_vh)
{
	uint32_t r[4];
	char sig[13] = { 0 };

	VH_ASSERT(vh_hypercall_cpuid(VH_CPUID_BASE, VH_HC_FEAT_PORT, r));
	VH_EXPECT_EQ(r[0], VH_CPUID_FEATURES);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	VH_EXPECT_STREQ(sig, "vhvhvhvhvhvh");
	VH_ASSERT(vh_hypercall_cpuid(VH_CPUID_FEATURES, VH_HC_FEAT_PORT | 0x80, r));
	VH_EXPECT_EQ(r[0], VH_HC_ABI_VERSION);
	VH_EXPECT_EQ(r[1], VH_HC_FEAT_PORT); /* unknown bits dropped */
	VH_EXPECT_EQ(r[2], VH_HC_PORT);
	VH_EXPECT(!vh_hypercall_cpuid(0x40000002, 0, r));
	VH_EXPECT(!vh_hypercall_cpuid(1, 0, r));
	VH_EXPECT(vh_hypercall_is_port(VH_HC_PORT, 4, 1));
	VH_EXPECT(!vh_hypercall_is_port(VH_HC_PORT, 1, 1));
	VH_EXPECT(!vh_hypercall_is_port(VH_HC_PORT, 4, 0));
}

/* Only the guest kernel may call, whichever form (VMCALL or the port)
 * the backend saw: the rule lives here, once, for every backend. */
VH_TEST(hypercall, a_call_from_user_mode_is_refused_and_does_nothing)
{
	struct hc_env e;

	hc_env_init(&e, false);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.m.h, e.vm, 0x2000, "user\n", 5, NULL), VH_OK);
	for (unsigned cpl = 1; cpl <= 3; cpl++) {
		struct vh_hypercall r = { &e.m.h, e.vm, &e.vm->vcpus[0], VH_HC_CONSOLE_WRITE,
					  0x2000, 5, 0, 0, cpl, 0 };
		VH_EXPECT_EQ((int)vh_hypercall(&r), (int)VH_HC_RESUME);
		VH_EXPECT_EQ((int64_t)r.rax, -(int64_t)VH_HC_EPERM);
		r = (struct vh_hypercall){ &e.m.h, e.vm, &e.vm->vcpus[0], VH_HC_YIELD, 0, 0, 0, 0,
					   cpl, 0 };
		VH_EXPECT_EQ((int)vh_hypercall(&r), (int)VH_HC_RESUME);
		VH_EXPECT_EQ((int64_t)r.rax, -(int64_t)VH_HC_EPERM);
	}
	VH_EXPECT_EQ(e.m.sp.console_len, (size_t)0);
	VH_EXPECT_EQ(e.vm->guest.console_bytes, (uint64_t)0);
	VH_EXPECT_EQ(e.vm->guest.hypercall_errors, (uint64_t)6);
	/* The same call from CPL 0 goes through. */
	VH_EXPECT_EQ(call(&e, VH_HC_CONSOLE_WRITE, 0x2000, 5, 0, NULL), 5);
	mem_env_fini(&e.m);
}
