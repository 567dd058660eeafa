/* SPDX-License-Identifier: Apache-2.0 */
/* Memory manager: frames, first touch, reservations, limits, balloon,
 * power cycles (hypervisor/core/mem/). */
#include "mem_env.h"

VH_TEST(mem_frames, buddy_allocates_aligned_blocks_and_coalesces)
{
	struct mem_env e;
	struct vh_frames *fr;
	vh_pfn_t big, small[3];
	uint64_t free0, large0;

	mem_env_init(&e, 8); /* 2048 frames: four 2 MiB blocks */
	fr = vh_frames_of(&e.h);
	free0 = fr->nfree;
	large0 = fr->count[VH_FRAME_MAX_ORDER];
	VH_EXPECT_EQ(free0, (uint64_t)2048);
	VH_EXPECT_EQ(large0, (uint64_t)4);

	big = vh_frames_alloc(fr, VH_FRAME_MAX_ORDER);
	VH_ASSERT_NE(big, VH_PFN_INVALID);
	VH_EXPECT_EQ(big % VH_PAGES_PER_LARGE, (vh_pfn_t)0);
	for (int i = 0; i < 3; i++) {
		small[i] = vh_frames_alloc(fr, 0);
		VH_ASSERT_NE(small[i], VH_PFN_INVALID);
		VH_EXPECT(small[i] < big || small[i] >= big + VH_PAGES_PER_LARGE);
	}
	VH_EXPECT_NE(small[0], small[1]);
	VH_EXPECT_NE(small[1], small[2]);
	/* One 2 MiB block was split for the 4 KiB frames. */
	VH_EXPECT_EQ(fr->count[VH_FRAME_MAX_ORDER], large0 - 2);
	VH_EXPECT_EQ(fr->nfree, free0 - VH_PAGES_PER_LARGE - 3);

	/* A large block may be returned one 4 KiB frame at a time. */
	for (uint32_t i = 0; i < VH_PAGES_PER_LARGE; i++)
		vh_frames_free(fr, big + i, 0);
	for (int i = 0; i < 3; i++)
		vh_frames_free(fr, small[i], 0);
	VH_EXPECT_EQ(fr->nfree, free0);
	VH_EXPECT_EQ(fr->count[VH_FRAME_MAX_ORDER], large0);
	for (unsigned o = 0; o < VH_FRAME_MAX_ORDER; o++)
		VH_EXPECT_EQ(fr->count[o], (uint64_t)0);

	/* Exhaustion is reported, not hidden. */
	for (int i = 0; i < 4; i++)
		VH_EXPECT_NE(vh_frames_alloc(fr, VH_FRAME_MAX_ORDER), VH_PFN_INVALID);
	VH_EXPECT_EQ(vh_frames_alloc(fr, 0), VH_PFN_INVALID);
	VH_EXPECT_EQ(fr->nfree, (uint64_t)0);
	for (int i = 0; i < 4; i++)
		vh_frames_free(fr, (vh_pfn_t)i * VH_PAGES_PER_LARGE, VH_FRAME_MAX_ORDER);
	VH_EXPECT_EQ(fr->nfree, free0);
	mem_env_fini(&e);
}

VH_TEST(mem, first_touch_gives_zeroed_private_pages)
{
	struct mem_env e;
	struct vh_vm *vm;
	uint8_t page[VH_PAGE_SIZE], zero[VH_PAGE_SIZE] = { 0 };
	uint64_t free0;
	vh_pfn_t a, b;

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "guest", 16, 0, VH_UNLIMITED, true);
	free0 = mem_env_free(&e);
	VH_EXPECT_EQ(mem_env_pfn(&e, vm, 5), VH_PFN_INVALID); /* nothing mapped yet */

	/* A read of a never-touched page sees zeroes, though the frame held
	 * 0xa5 before. */
	VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vm, 5 * VH_PAGE_SIZE, page, sizeof(page)),
		     VH_FAULT_MAPPED);
	VH_EXPECT_MEMEQ(page, zero, sizeof(page));
	a = mem_env_pfn(&e, vm, 5);
	VH_ASSERT_NE(a, VH_PFN_INVALID);
	VH_EXPECT_EQ(mem_env_prot(&e, vm, 5) & VH_PROT_WRITE, VH_PROT_WRITE); /* private */

	VH_ASSERT_EQ((int)vh_sim_guest_fill_page(&e.sp, &e.h, vm, 6, 0x3c), VH_FAULT_MAPPED);
	b = mem_env_pfn(&e, vm, 6);
	VH_EXPECT_NE(a, b);
	VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vm, 6 * VH_PAGE_SIZE, page, sizeof(page)),
		     VH_FAULT_MAPPED);
	VH_EXPECT_EQ(page[0], 0x3c);
	VH_EXPECT_EQ(page[VH_PAGE_SIZE - 1], 0x3c);

	struct vh_mem_stats s = mem_env_stats(&e, vm);
	VH_EXPECT_EQ(s.granted, (uint64_t)2);
	VH_EXPECT_EQ(s.consumed, (uint64_t)2);
	VH_EXPECT_EQ(s.shared, (uint64_t)0);
	VH_EXPECT_GE(s.overhead, (uint64_t)1); /* the p2m root at least */
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 2);

	/* Outside guest memory: the backend decides (MMIO). */
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, vm->mem.pages, VH_MEM_READ, 0),
		     VH_FAULT_BAD_ADDRESS);
	mem_env_fini(&e);
}

VH_TEST(mem, power_cycle_returns_every_frame_and_clears_memory)
{
	struct mem_env e;
	struct vh_vm *vm;
	struct vh_error err = { 0 };
	uint64_t free0, w = 0;

	mem_env_init(&e, 64);
	free0 = mem_env_free(&e);
	vm = mem_env_vm(&e, "guest", 16, 4, VH_UNLIMITED, true);
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 4 * VH_PAGES_PER_MIB);
	for (vh_gfn_t g = 0; g < 2048; g++)
		VH_ASSERT_EQ(mem_env_write_word(&e, vm, g, 0xfeed0000 + g), VH_FAULT_MAPPED);

	VH_ASSERT_EQ(vh_vm_reset(&e.h, vm, &err), 0);
	/* Reset keeps the reservation; every other frame went back. */
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 4 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(mem_env_pfn(&e, vm, 100), VH_PFN_INVALID); /* unmapped */
	VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vm, 100 * VH_PAGE_SIZE, &w, sizeof(w)),
		     VH_FAULT_MAPPED);
	VH_EXPECT_EQ(w, (uint64_t)0);

	VH_ASSERT_EQ(vh_vm_stop(&e.h, vm, &err), 0);
	VH_EXPECT_EQ(mem_env_free(&e), free0);
	VH_EXPECT_EQ(vh_sim_mapped_frames(&e.sp), (uint64_t)0);
	VH_EXPECT_EQ(vm->mem.p2m_nodes, (uint64_t)0);
	mem_env_fini(&e);
}

VH_TEST(mem, reservations_are_real_frames_and_admission_controlled)
{
	struct mem_env e;
	struct vh_vm *a, *b, *b2, *c, *d;
	struct vh_error err = { 0 };
	struct vh_host_mem_stats hs;
	struct vh_mem_controls mc;
	uint64_t free0, free1, reserved_mib;

	mem_env_init(&e, 64);
	free0 = mem_env_free(&e);

	/* 40 MiB reserved: 10240 frames leave the host at power-on. */
	a = mem_env_vm(&e, "a", 48, 40, VH_UNLIMITED, true);
	vh_mem_host_stats(&e.h, &hs);
	VH_EXPECT_EQ(hs.free, free0 - 40 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(hs.reserved, 40 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(mem_env_stats(&e, a).consumed, 40 * VH_PAGES_PER_MIB);

	/* Touching reserved memory uses those frames, not the host's. */
	free1 = mem_env_free(&e);
	for (vh_gfn_t g = 0; g < 1000; g++)
		VH_ASSERT_EQ(mem_env_touch(&e, a, g), VH_FAULT_MAPPED);
	VH_EXPECT_EQ(mem_env_free(&e), free1);
	VH_EXPECT_EQ(a->mem.private_pages + a->mem.pool_pages, 40 * VH_PAGES_PER_MIB);

	/* 30 more MiB do not fit in 64: refused with the shortfall named,
	 * and nothing changes. */
	b = mem_env_vm(&e, "b", 32, 30, VH_UNLIMITED, false);
	reserved_mib = e.h.reserved_mib;
	VH_EXPECT_EQ(vh_vm_start(&e.h, b, &err), VH_E_ADMISSION);
	printf("[ refused  ] %s\n", err.reason);
	VH_EXPECT(strstr(err.reason, "short by 6 MiB") != NULL);
	VH_EXPECT_EQ((int)b->state, VH_VM_DEFINED);
	VH_EXPECT_EQ(e.h.reserved_mib, reserved_mib);
	VH_EXPECT_EQ(mem_env_free(&e), free1);
	VH_EXPECT(!b->mem.started);

	/* Raising a running VM's reservation past capacity: the same.  With
	 * b2 holding 20 MiB, 4 MiB are unreserved and a asks for 8 more. */
	b2 = mem_env_vm(&e, "b2", 32, 20, VH_UNLIMITED, true);
	VH_EXPECT_EQ(b2->mem.pool_pages, 20 * VH_PAGES_PER_MIB);
	free1 = mem_env_free(&e);
	reserved_mib = e.h.reserved_mib;
	mc = a->cfg.mem;
	mc.reservation_mib = 48;
	VH_EXPECT_EQ(vh_vm_set_mem(&e.h, a, &mc, &err), VH_E_ADMISSION);
	printf("[ refused  ] %s\n", err.reason);
	VH_EXPECT(strstr(err.reason, "short by 4 MiB") != NULL);
	VH_EXPECT_EQ(a->cfg.mem.reservation_mib, (uint64_t)40);
	VH_EXPECT_EQ(a->mem.reserved_pages, 40 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(e.h.reserved_mib, reserved_mib);
	VH_EXPECT_EQ(mem_env_free(&e), free1);

	/* Lowering it gives untouched reserved frames back at once. */
	mc.reservation_mib = 8;
	VH_ASSERT_EQ(vh_vm_set_mem(&e.h, a, &mc, &err), 0);
	VH_EXPECT_EQ(a->mem.pool_pages, (uint64_t)(8 * VH_PAGES_PER_MIB - 1000));
	VH_EXPECT_EQ(mem_env_free(&e), free1 + 32 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(e.h.reserved_mib, reserved_mib - 32);

	/* Capacity admits a reservation whose frames other VMs' unreserved
	 * memory holds: the memory manager refuses it, naming the frames. */
	c = mem_env_vm(&e, "c", 64, 0, VH_UNLIMITED, true);
	for (vh_gfn_t g = 0; g < 20 * VH_PAGES_PER_MIB; g++)
		VH_ASSERT_EQ(mem_env_touch(&e, c, g), VH_FAULT_MAPPED);
	d = mem_env_vm(&e, "d", 32, 24, VH_UNLIMITED, false);
	free1 = mem_env_free(&e);
	reserved_mib = e.h.reserved_mib;
	VH_EXPECT_EQ(vh_vm_start(&e.h, d, &err), VH_E_ADMISSION);
	printf("[ refused  ] %s\n", err.reason);
	VH_EXPECT(strstr(err.reason, "short by 2048 frames") != NULL);
	VH_EXPECT_EQ((int)d->state, VH_VM_DEFINED);
	VH_EXPECT_EQ(e.h.reserved_mib, reserved_mib);
	VH_EXPECT_EQ(mem_env_free(&e), free1);
	mem_env_fini(&e);
}

VH_TEST(mem, limits_hold)
{
	struct mem_env e;
	struct vh_vm *vm;
	struct vh_error err = { 0 };
	struct vh_mem_controls mc;
	uint64_t ok = 0, refused = 0;

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "capped", 16, 0, 8, true);
	/* The guest can use 8 of its 16 MiB: the balloon holds the rest. */
	VH_EXPECT_EQ(vm->mem.balloon_target_pages, 8 * VH_PAGES_PER_MIB);
	for (vh_gfn_t g = 0; g < vm->mem.pages; g++) {
		enum vh_fault_result r = mem_env_touch(&e, vm, g);
		if (r == VH_FAULT_MAPPED)
			ok++;
		else if (r == VH_FAULT_NO_MEMORY)
			refused++;
	}
	VH_EXPECT_EQ(ok, 8 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(refused, 8 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(vm->mem.private_pages, 8 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).granted, 8 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(vm->mem.refused, refused);
	VH_EXPECT_GT(mem_env_free(&e), (uint64_t)0); /* the host had plenty */

	/* Lowered below what it holds: growth stays refused and the balloon
	 * target asks for the difference. */
	mc = vm->cfg.mem;
	mc.limit_mib = 4;
	VH_ASSERT_EQ(vh_vm_set_mem(&e.h, vm, &mc, &err), 0);
	VH_EXPECT_EQ(vm->mem.balloon_target_pages, 12 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(mem_env_touch(&e, vm, vm->mem.pages - 1), VH_FAULT_NO_MEMORY);
	VH_EXPECT_LE(vm->mem.private_pages, 8 * VH_PAGES_PER_MIB);

	/* The guest balloons 4 MiB of what it touched: back within limit. */
	vh_gfn_t gfns[4 * VH_PAGES_PER_MIB];
	for (uint64_t i = 0; i < 4 * VH_PAGES_PER_MIB; i++)
		gfns[i] = i;
	VH_EXPECT_EQ(vh_mem_balloon_inflate(&e.h, vm, gfns, 4 * VH_PAGES_PER_MIB),
		     4 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(vm->mem.private_pages, 4 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(mem_env_touch(&e, vm, vm->mem.pages - 1), VH_FAULT_NO_MEMORY);
	/* Raised again: it grows. */
	mc.limit_mib = VH_UNLIMITED;
	VH_ASSERT_EQ(vh_vm_set_mem(&e.h, vm, &mc, &err), 0);
	VH_EXPECT_EQ(mem_env_touch(&e, vm, vm->mem.pages - 1), VH_FAULT_MAPPED);
	mem_env_fini(&e);
}

VH_TEST(balloon, inflate_returns_frames_and_touches_are_caught)
{
	struct mem_env e;
	struct vh_vm *vm;
	vh_gfn_t gfns[512];
	uint64_t free1, w = 1;
	struct vh_mem_stats s;

	mem_env_init(&e, 64);
	vm = mem_env_vm(&e, "guest", 16, 0, VH_UNLIMITED, true);
	for (vh_gfn_t g = 0; g < 1024; g++)
		VH_ASSERT_EQ(mem_env_write_word(&e, vm, g, g + 1), VH_FAULT_MAPPED);
	free1 = mem_env_free(&e);

	/* The guest hands back 512 pages (and one twice, and one outside its
	 * memory: neither counts). */
	for (int i = 0; i < 512; i++)
		gfns[i] = 2 * (vh_gfn_t)i;
	VH_EXPECT_EQ(vh_mem_balloon_inflate(&e.h, vm, gfns, 512), (uint64_t)512);
	VH_EXPECT_EQ(vh_mem_balloon_inflate(&e.h, vm, gfns, 1), (uint64_t)0);
	gfns[0] = vm->mem.pages;
	VH_EXPECT_EQ(vh_mem_balloon_inflate(&e.h, vm, gfns, 1), (uint64_t)0);
	VH_EXPECT_EQ(mem_env_free(&e), free1 + 512);
	s = mem_env_stats(&e, vm);
	VH_EXPECT_EQ(s.balloon, (uint64_t)512);
	VH_EXPECT_EQ(s.granted, (uint64_t)512);
	VH_EXPECT_EQ(mem_env_prot(&e, vm, 2), 0u); /* mapping removed */
	VH_EXPECT_EQ(mem_env_prot(&e, vm, 3) & VH_PROT_WRITE, VH_PROT_WRITE);

	/* A touch of an inflated page is caught, counted, and gets a fresh
	 * zeroed frame. */
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, 2, VH_MEM_READ, 0), VH_FAULT_BALLOONED);
	VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vm, 4 * VH_PAGE_SIZE, &w, sizeof(w)),
		     VH_FAULT_MAPPED);
	VH_EXPECT_EQ(w, (uint64_t)0); /* was 5 before it went to the balloon */
	VH_EXPECT_EQ(vm->mem.balloon_touches, (uint64_t)2);
	s = mem_env_stats(&e, vm);
	VH_EXPECT_EQ(s.balloon, (uint64_t)510);
	VH_EXPECT_EQ(mem_env_free(&e), free1 + 510);

	/* Deflate: the pages are the guest's again, given on demand with no
	 * balloon fault. */
	gfns[0] = 6;
	gfns[1] = 8;
	gfns[2] = 3; /* never inflated */
	VH_EXPECT_EQ(vh_mem_balloon_deflate(&e.h, vm, gfns, 3), (uint64_t)2);
	VH_EXPECT_EQ(mem_env_stats(&e, vm).balloon, (uint64_t)508);
	VH_EXPECT_EQ(mem_env_free(&e), free1 + 510);
	VH_EXPECT_EQ((int)vh_mem_fault(&e.h, vm, 6, VH_MEM_WRITE, 0), VH_FAULT_MAPPED);
	VH_EXPECT_EQ(vm->mem.balloon_touches, (uint64_t)2);
	VH_EXPECT_EQ(mem_env_free(&e), free1 + 509);

	/* The operator's target is what the guest driver reads. */
	struct vh_error err = { 0 };
	VH_EXPECT_EQ(vh_vm_set_balloon(&e.h, vm, 4, &err), 0);
	VH_EXPECT_EQ(vm->mem.balloon_target_pages, 4 * VH_PAGES_PER_MIB);
	VH_EXPECT_EQ(vh_vm_set_balloon(&e.h, vm, 17, &err), VH_E_INVAL);
	mem_env_fini(&e);
}
