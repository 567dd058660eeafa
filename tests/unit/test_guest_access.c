/* SPDX-License-Identifier: Apache-2.0 */
/* vh_mem_guest_read/write: the hypervisor's way into guest memory obeys
 * the memory manager's page states exactly as a guest access would. */
#include "mem_env.h"

VH_TEST(guest_access, copies_across_pages_and_reads_untouched_as_zeros)
{
	struct mem_env e;
	struct vh_vm *vm;
	struct vh_error err = { 0 };
	uint8_t buf[3 * 4096], back[sizeof(buf)];
	uint64_t granted;

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "a", 4, 0, VH_UNLIMITED, true);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	/* An unaligned range over four pages. */
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, vm, 0x1ff0, buf, sizeof(buf), &err), VH_OK);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).granted, (uint64_t)4);
	VH_ASSERT_EQ(vh_mem_guest_read(&e.h, vm, 0x1ff0, back, sizeof(back), &err), VH_OK);
	VH_EXPECT_MEMEQ(back, buf, sizeof(buf));
	/* The guest sees the same bytes through its own mappings. */
	VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vm, 0x1ff0, back, sizeof(back)),
		     (int)VH_FAULT_MAPPED);
	VH_EXPECT_MEMEQ(back, buf, sizeof(buf));
	/* Reading never-touched memory gives zeros and costs no frame. */
	granted = mem_env_stats(&e, vm).granted;
	memset(back, 0xee, sizeof(back));
	VH_ASSERT_EQ(vh_mem_guest_read(&e.h, vm, 0x100000, back, 4096, &err), VH_OK);
	for (int i = 0; i < 4096; i++)
		VH_ASSERT_EQ(back[i], 0);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).granted, granted);
	/* Zero length at the very end is fine. */
	VH_EXPECT_EQ(vh_mem_guest_read(&e.h, vm, 4 * VH_MIB, back, 0, &err), VH_OK);
	mem_env_fini(&e);
}

VH_TEST(guest_access, refuses_ranges_outside_guest_memory_and_stopped_vms)
{
	struct mem_env e;
	struct vh_vm *vm;
	struct vh_error err = { 0 };
	uint8_t b[16] = { 0 };

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "a", 4, 0, VH_UNLIMITED, true);
	VH_EXPECT_EQ(vh_mem_guest_write(&e.h, vm, 4 * VH_MIB - 8, b, 16, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "outside the VM's 4 MiB") != NULL);
	VH_EXPECT_EQ(vh_mem_guest_read(&e.h, vm, 4 * VH_MIB, b, 1, &err), VH_E_INVAL);
	/* gpa + len wraps around: still refused, nothing written. */
	VH_EXPECT_EQ(vh_mem_guest_write(&e.h, vm, UINT64_MAX - 3, b, 16, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_mem_guest_read(&e.h, vm, 8, b, SIZE_MAX - 4, &err), VH_E_INVAL);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).granted, (uint64_t)0);
	VH_EXPECT(vh_mem_guest_range_ok(vm, 0, 4 * VH_MIB));
	VH_EXPECT(!vh_mem_guest_range_ok(vm, 1, 4 * VH_MIB));
	VH_ASSERT_EQ(vh_vm_stop(&e.h, vm, &err), VH_OK);
	VH_EXPECT_EQ(vh_mem_guest_write(&e.h, vm, 0, b, 1, &err), VH_E_STATE);
	VH_EXPECT_EQ(vh_mem_guest_read(&e.h, vm, 0, b, 1, NULL), VH_E_STATE);
	mem_env_fini(&e);
}

VH_TEST(guest_access, a_write_to_a_shared_page_unshares_only_the_writer)
{
	struct mem_env e;
	struct vh_vm *a, *b;
	struct vh_error err = { 0 };
	uint8_t page[4096], got[4096];

	mem_env_init(&e, 64);
	a = mem_env_vm(&e, "a", 4, 0, VH_UNLIMITED, true);
	b = mem_env_vm(&e, "b", 4, 0, VH_UNLIMITED, true);
	mem_env_pattern(page, 3, 1);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, a, 3 * 4096, page, 4096, &err), VH_OK);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, b, 3 * 4096, page, 4096, &err), VH_OK);
	mem_env_scan_pass(&e);
	mem_env_scan_pass(&e);
	VH_ASSERT_EQ(mem_env_stats(&e, a).shared, (uint64_t)1);
	VH_ASSERT_EQ(mem_env_pfn(&e, a, 3), mem_env_pfn(&e, b, 3));
	/* Reading the shared page does not unshare it. */
	VH_ASSERT_EQ(vh_mem_guest_read(&e.h, a, 3 * 4096, got, 4096, &err), VH_OK);
	VH_EXPECT_MEMEQ(got, page, 4096);
	VH_EXPECT_EQ(mem_env_stats(&e, a).shared, (uint64_t)1);
	/* A hypervisor write into a: a gets a private copy, b keeps the
	 * original bytes. */
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, a, 3 * 4096 + 100, "X", 1, &err), VH_OK);
	VH_EXPECT_EQ(mem_env_stats(&e, a).shared, (uint64_t)0);
	VH_EXPECT_NE(mem_env_pfn(&e, a, 3), mem_env_pfn(&e, b, 3));
	VH_ASSERT_EQ(vh_mem_guest_read(&e.h, b, 3 * 4096, got, 4096, &err), VH_OK);
	VH_EXPECT_MEMEQ(got, page, 4096);
	VH_ASSERT_EQ(vh_mem_guest_read(&e.h, a, 3 * 4096, got, 4096, &err), VH_OK);
	VH_EXPECT_EQ(got[100], 'X');
	VH_EXPECT_MEMEQ(got, page, 100);
	mem_env_fini(&e);
}

VH_TEST(guest_access, a_ballooned_page_maps_back_and_is_counted)
{
	struct mem_env e;
	struct vh_vm *vm;
	struct vh_error err = { 0 };
	vh_gfn_t g = 5;
	uint32_t w = 0x12345678, r = 0;

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "a", 4, 0, VH_UNLIMITED, true);
	VH_ASSERT_EQ(vh_mem_guest_write(&e.h, vm, 5 * 4096, &w, 4, &err), VH_OK);
	VH_ASSERT_EQ(vh_mem_balloon_inflate(&e.h, vm, &g, 1), (uint64_t)1);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).balloon, (uint64_t)1);
	/* Reading a ballooned page brings it back zeroed, like a touch. */
	VH_ASSERT_EQ(vh_mem_guest_read(&e.h, vm, 5 * 4096, &r, 4, &err), VH_OK);
	VH_EXPECT_EQ(r, 0u);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).balloon, (uint64_t)0);
	VH_EXPECT_EQ(vm->mem.balloon_touches, (uint64_t)1);
	mem_env_fini(&e);
}

VH_TEST(guest_access, a_write_beyond_the_limit_fails_with_nomem)
{
	struct mem_env e;
	struct vh_vm *vm;
	struct vh_error err = { 0 };
	static uint8_t big[2 * VH_MIB];

	mem_env_init(&e, 64);
	/* Limit 1 MiB: the second MiB cannot get frames. */
	vm = mem_env_vm(&e, "a", 4, 0, 1, true);
	VH_EXPECT_EQ(vh_mem_guest_write(&e.h, vm, 0, big, sizeof(big), &err), VH_E_NOMEM);
	VH_EXPECT(strstr(err.reason, "refused") != NULL);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).granted, (uint64_t)256);
	mem_env_fini(&e);
}
