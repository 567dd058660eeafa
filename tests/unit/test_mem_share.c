/* SPDX-License-Identifier: Apache-2.0 */
/* Transparent page sharing on real page contents (share.c). */
#include "mem_env.h"

#define NVMS 8
#define VM_MIB 64

/* Every VM's page g holds the same bytes, distinct from page g+1's. */
static void fill_identical(struct mem_env *e, struct vh_vm **vms, int n, uint64_t pages)
{
	static uint8_t page[VH_PAGE_SIZE];

	for (uint64_t g = 0; g < pages; g++) {
		mem_env_pattern(page, g, 7);
		for (int i = 0; i < n; i++)
			VH_ASSERT_EQ((int)vh_sim_guest_write(&e->sp, &e->h, vms[i],
							     g << VH_PAGE_SHIFT, page,
							     sizeof(page)),
				     VH_FAULT_MAPPED);
	}
}

VH_TEST(share, eight_identical_vms_fit_in_one_vms_frames)
{
	struct mem_env e;
	struct vh_vm *vms[NVMS];
	struct vh_host_mem_stats hs;
	struct vh_share_stats st;
	const uint64_t pages = VM_MIB * VH_PAGES_PER_MIB;
	uint64_t used_before, used_after, consumed = 0;
	static uint8_t want[VH_PAGE_SIZE], got[VH_PAGE_SIZE];

	mem_env_init(&e, NVMS * VM_MIB + 64);
	for (int i = 0; i < NVMS; i++) {
		char name[32];
		snprintf(name, sizeof(name), "clone%d", i);
		vms[i] = mem_env_vm(&e, name, VM_MIB, 0, VH_UNLIMITED, true);
	}
	fill_identical(&e, vms, NVMS, pages);
	vh_mem_host_stats(&e.h, &hs);
	used_before = hs.total - hs.free;
	VH_EXPECT_EQ(used_before, NVMS * pages);

	mem_env_scan_pass(&e);
	vh_mem_host_stats(&e.h, &hs);
	vh_share_stats(&e.h, &st);
	used_after = hs.total - hs.free;
	for (int i = 0; i < NVMS; i++)
		consumed += mem_env_stats(&e, vms[i]).consumed;
	printf("[ figure   ] 8 VMs x 64 MiB identical: %llu frames before, %llu after one pass "
	       "= %.3fx one VM's %llu; consumed %llu; shared_saved %llu; scanned %llu\n",
	       (unsigned long long)used_before, (unsigned long long)used_after,
	       (double)used_after / (double)pages, (unsigned long long)pages,
	       (unsigned long long)consumed, (unsigned long long)hs.shared_saved,
	       (unsigned long long)st.scanned);
	VH_EXPECT_LE(used_after * 10, pages * 12); /* at most 1.2x */
	VH_EXPECT_LE(consumed * 10, pages * 12);
	VH_EXPECT_GE(hs.shared_saved, (NVMS - 1) * pages * 8 / 10);
	for (int i = 0; i < NVMS; i++) {
		struct vh_mem_stats s = mem_env_stats(&e, vms[i]);
		VH_EXPECT_EQ(s.granted, pages);
		VH_EXPECT_EQ(s.shared, pages);
		VH_EXPECT_EQ(mem_env_prot(&e, vms[i], 123) & VH_PROT_WRITE, 0u); /* read-only */
	}
	/* Every guest still reads its own bytes. */
	for (uint64_t g = 0; g < pages; g += 97) {
		mem_env_pattern(want, g, 7);
		for (int i = 0; i < NVMS; i++) {
			VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vms[i], g << VH_PAGE_SHIFT,
							    got, sizeof(got)),
				     VH_FAULT_MAPPED);
			VH_ASSERT_MEMEQ(got, want, sizeof(got));
		}
	}
	mem_env_fini(&e);
}

VH_TEST(share, a_write_gives_the_writer_a_private_copy)
{
	struct mem_env e;
	struct vh_vm *vms[3];
	static uint8_t want[VH_PAGE_SIZE], got[VH_PAGE_SIZE];
	const uint64_t pages = 256;
	vh_pfn_t shared, mine, last;
	uint64_t free0, w = 0x1122334455667788ull;

	mem_env_init(&e, 64);
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "vm%d", i);
		vms[i] = mem_env_vm(&e, name, 4, 0, VH_UNLIMITED, true);
	}
	fill_identical(&e, vms, 3, pages);
	mem_env_scan_pass(&e);
	shared = mem_env_pfn(&e, vms[0], 10);
	VH_ASSERT_NE(shared, VH_PFN_INVALID);
	VH_EXPECT_EQ(mem_env_pfn(&e, vms[1], 10), shared);
	VH_EXPECT_EQ(mem_env_pfn(&e, vms[2], 10), shared);
	free0 = mem_env_free(&e);

	/* vm0 writes: its own copy, with the old bytes plus its write. */
	VH_ASSERT_EQ(mem_env_write_word(&e, vms[0], 10, w), VH_FAULT_MAPPED);
	mine = mem_env_pfn(&e, vms[0], 10);
	VH_EXPECT_NE(mine, shared);
	VH_EXPECT_EQ(mem_env_prot(&e, vms[0], 10) & VH_PROT_WRITE, VH_PROT_WRITE);
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 1);
	mem_env_pattern(want, 10, 7);
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_read(&e.sp, &e.h, vms[0], 10 << VH_PAGE_SHIFT, got, sizeof(got)),
	    VH_FAULT_MAPPED);
	VH_EXPECT_MEMEQ(got + 8, want + 8, sizeof(got) - 8);
	VH_EXPECT_MEMEQ(got, &w, 8);
	/* The others still see the original, on the shared frame. */
	for (int i = 1; i < 3; i++) {
		VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vms[i], 10 << VH_PAGE_SHIFT, got,
					       sizeof(got)),
			     VH_FAULT_MAPPED);
		VH_EXPECT_MEMEQ(got, want, sizeof(got));
		VH_EXPECT_EQ(mem_env_pfn(&e, vms[i], 10), shared);
	}
	VH_EXPECT_EQ(mem_env_stats(&e, vms[0]).shared, pages - 1);

	/* vm1 writes: a copy too.  vm2 is then the last sharer and gets the
	 * frame itself back, writable, with no copy. */
	VH_ASSERT_EQ(mem_env_write_word(&e, vms[1], 10, 1), VH_FAULT_MAPPED);
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 2);
	VH_ASSERT_EQ(mem_env_write_word(&e, vms[2], 10, 2), VH_FAULT_MAPPED);
	last = mem_env_pfn(&e, vms[2], 10);
	VH_EXPECT_EQ(last, shared);
	VH_EXPECT_EQ(mem_env_prot(&e, vms[2], 10) & VH_PROT_WRITE, VH_PROT_WRITE);
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 2);
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_read(&e.sp, &e.h, vms[0], 10 << VH_PAGE_SHIFT, got, sizeof(got)),
	    VH_FAULT_MAPPED);
	VH_EXPECT_MEMEQ(got, &w, 8);

	/* A page that changed is never shared by a stale hash: rescan, the
	 * three differ in their first word and stay private. */
	mem_env_scan_pass(&e);
	VH_EXPECT_NE(mem_env_pfn(&e, vms[0], 10), mem_env_pfn(&e, vms[1], 10));
	VH_EXPECT_NE(mem_env_pfn(&e, vms[1], 10), mem_env_pfn(&e, vms[2], 10));
	mem_env_fini(&e);
}

VH_TEST(share, zero_pages_collapse_to_one_frame)
{
	struct mem_env e;
	struct vh_vm *vms[2];
	struct vh_host_mem_stats hs;
	uint64_t free0, w = 0;

	mem_env_init(&e, 64);
	vms[0] = mem_env_vm(&e, "z0", 8, 0, VH_UNLIMITED, true);
	vms[1] = mem_env_vm(&e, "z1", 8, 0, VH_UNLIMITED, true);
	free0 = mem_env_free(&e);
	/* Both guests touch all their memory and leave it zero (what a
	 * freshly booted guest does to most of its RAM). */
	for (int i = 0; i < 2; i++)
		for (vh_gfn_t g = 0; g < vms[i]->mem.pages; g++)
			VH_ASSERT_EQ(mem_env_touch(&e, vms[i], g), VH_FAULT_MAPPED);
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 2 * 8 * VH_PAGES_PER_MIB);

	mem_env_scan_pass(&e);
	VH_EXPECT_EQ(vh_sim_mapped_frames(&e.sp), (uint64_t)1);
	VH_EXPECT_EQ(mem_env_free(&e), free0 - 1);
	vh_mem_host_stats(&e.h, &hs);
	VH_EXPECT_EQ(hs.shared_saved, 2 * 8 * VH_PAGES_PER_MIB - 1);
	printf("[ figure   ] %llu zero pages of 2 VMs on %llu frame(s)\n",
	       (unsigned long long)(2 * 8 * VH_PAGES_PER_MIB),
	       (unsigned long long)vh_sim_mapped_frames(&e.sp));

	/* A write gets a zeroed private page; the zero frame stays zero. */
	VH_ASSERT_EQ(mem_env_write_word(&e, vms[0], 3, 99), VH_FAULT_MAPPED);
	VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vms[0], (3 << VH_PAGE_SHIFT) + 8, &w, 8),
		     VH_FAULT_MAPPED);
	VH_EXPECT_EQ(w, (uint64_t)0);
	VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vms[1], 3 << VH_PAGE_SHIFT, &w, 8),
		     VH_FAULT_MAPPED);
	VH_EXPECT_EQ(w, (uint64_t)0);
	VH_EXPECT_EQ(vh_sim_mapped_frames(&e.sp), (uint64_t)2);

	/* Stopping both gives the zero frame back too. */
	struct vh_error err = { 0 };
	VH_EXPECT_EQ(vh_vm_stop(&e.h, vms[0], &err), 0);
	VH_EXPECT_EQ(vh_vm_stop(&e.h, vms[1], &err), 0);
	vh_mem_host_stats(&e.h, &hs);
	VH_EXPECT_EQ(hs.free, hs.total);
	VH_EXPECT_EQ(hs.shared_saved, (uint64_t)0);
	mem_env_fini(&e);
}

/* A 32 MiB guest whose pages all differ: every page scanned is work. */
static void distinct_guest(struct mem_env *e)
{
	struct vh_vm *vm;

	mem_env_init(e, 64);
	vm = mem_env_vm(e, "guest", 32, 0, VH_UNLIMITED, true);
	for (vh_gfn_t g = 0; g < vm->mem.pages; g++)
		VH_ASSERT_EQ(mem_env_write_word(e, vm, g, g + 1), VH_FAULT_MAPPED);
}

/* Pages the scanner takes in 2.5 s of 10 ms ticks. */
static uint64_t scanned_in_2_5_s(struct mem_env *e)
{
	struct vh_share_stats st;

	vh_mem_tick(&e->h, e->sp.now_ns); /* starts the clock */
	for (int i = 0; i < 250; i++) {
		vh_sim_advance(&e->sp, 10 * VH_NSEC_PER_MSEC);
		vh_mem_tick(&e->h, e->sp.now_ns);
	}
	vh_share_stats(&e->h, &st);
	return st.scanned;
}

VH_TEST(share, scanner_keeps_to_its_rate)
{
	struct mem_env e;
	struct vh_share_stats st;

	distinct_guest(&e);
	e.h.mem.params.scan_pages_per_sec = 1000;
	VH_EXPECT_EQ(scanned_in_2_5_s(&e), (uint64_t)2500); /* 2.5 s at 1000 pages/s */
	/* Off means off. */
	e.h.mem.params.scan_pages_per_sec = 0;
	vh_sim_advance(&e.sp, VH_NSEC_PER_SEC);
	vh_mem_tick(&e.h, e.sp.now_ns);
	vh_share_stats(&e.h, &st);
	VH_EXPECT_EQ(st.scanned, (uint64_t)2500);
	mem_env_fini(&e);
}

/* A fixed rate is a fixed amount of work: on a 50 MHz host (an emulated
 * CPU) 12,800 pages a second is most of the CPU.  The rate is held to
 * scan_pages_per_ghz per GHz of capacity, like ESX's Mem.ShareScanGHz. */
VH_TEST(share, scan_rate_is_held_to_the_hosts_cpu_capacity)
{
	struct mem_env e;

	distinct_guest(&e);
	/* 4 pCPUs x 2000 MHz = 8 GHz: 8192 pages/s, under the ceiling. */
	VH_EXPECT_EQ(vh_share_scan_rate(&e.h), (uint64_t)8192);
	e.h.cfg.pcpus = 64;
	VH_EXPECT_EQ(vh_share_scan_rate(&e.h), (uint64_t)12800);
	e.h.mem.params.scan_pages_per_ghz = 0;
	VH_EXPECT_EQ(vh_share_scan_rate(&e.h), (uint64_t)12800);
	e.h.mem.params.scan_pages_per_ghz = 1024;
	e.h.cfg.pcpus = 1;
	e.h.cfg.mhz_per_pcpu = 50;
	VH_EXPECT_EQ(vh_share_scan_rate(&e.h), (uint64_t)51);
	VH_EXPECT_EQ(scanned_in_2_5_s(&e), (uint64_t)127); /* 2.5 s at 51 pages/s */
	/* No overflow at the extremes. */
	e.h.cfg.pcpus = UINT32_MAX;
	e.h.cfg.mhz_per_pcpu = UINT32_MAX;
	e.h.mem.params.scan_pages_per_ghz = UINT64_MAX;
	VH_EXPECT_EQ(vh_share_scan_rate(&e.h), (uint64_t)12800);
	e.h.cfg.pcpus = 4;
	e.h.cfg.mhz_per_pcpu = 2000;
	mem_env_fini(&e);
}

VH_TEST(share, a_reserved_vm_keeps_its_frames)
{
	struct mem_env e;
	struct vh_vm *vms[2];
	const uint64_t pages = 8 * VH_PAGES_PER_MIB;
	uint64_t free0;

	mem_env_init(&e, 64);
	vms[0] = mem_env_vm(&e, "reserved", 8, 8, VH_UNLIMITED, true);
	vms[1] = mem_env_vm(&e, "plain", 8, 0, VH_UNLIMITED, true);
	fill_identical(&e, vms, 2, pages);
	free0 = mem_env_free(&e);

	/* Sharing maps both to one frame per page, but the reserved VM's
	 * frames stay its own (in its pool): the guarantee outlives sharing,
	 * so the host saves nothing here. */
	mem_env_scan_pass(&e);
	VH_EXPECT_EQ(mem_env_stats(&e, vms[0]).shared, pages);
	VH_EXPECT_EQ(mem_env_stats(&e, vms[1]).shared, pages);
	VH_EXPECT_EQ(vms[0]->mem.private_pages + vms[0]->mem.pool_pages, pages);
	VH_EXPECT_EQ(mem_env_free(&e), free0);

	/* Copy on write for the reserved VM comes out of its pool. */
	VH_ASSERT_EQ(mem_env_write_word(&e, vms[0], 7, 1), VH_FAULT_MAPPED);
	VH_EXPECT_EQ(mem_env_free(&e), free0);
	VH_EXPECT_EQ(vms[0]->mem.private_pages, (uint64_t)1);
	/* The plain VM is now the page's last sharer: it takes the frame. */
	VH_ASSERT_EQ(mem_env_write_word(&e, vms[1], 7, 2), VH_FAULT_MAPPED);
	VH_EXPECT_EQ(mem_env_free(&e), free0);
	VH_EXPECT_EQ(vms[0]->mem.private_pages + vms[0]->mem.pool_pages, pages);
	mem_env_fini(&e);
}

VH_TEST(share, a_hint_that_changed_is_not_shared)
{
	struct mem_env e;
	struct vh_vm *late, *early;
	static uint8_t old[VH_PAGE_SIZE], now[VH_PAGE_SIZE], got[VH_PAGE_SIZE];
	struct vh_error err = { 0 };
	struct vh_share_stats st;

	mem_env_init(&e, 64);
	/* "late" is defined first so it is scanned first once started. */
	late = mem_env_vm(&e, "late", 4, 0, VH_UNLIMITED, false);
	early = mem_env_vm(&e, "early", 4, 0, VH_UNLIMITED, true);
	mem_env_pattern(old, 5, 1);
	mem_env_pattern(now, 5, 2);
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_write(&e.sp, &e.h, early, 5 << VH_PAGE_SHIFT, old, sizeof(old)),
	    VH_FAULT_MAPPED);
	mem_env_scan_pass(&e); /* early's page 5 is now a hint with old's hash */
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_write(&e.sp, &e.h, early, 5 << VH_PAGE_SHIFT, now, sizeof(now)),
	    VH_FAULT_MAPPED);

	VH_ASSERT_EQ(vh_vm_start(&e.h, late, &err), 0);
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_write(&e.sp, &e.h, late, 5 << VH_PAGE_SHIFT, old, sizeof(old)),
	    VH_FAULT_MAPPED);
	mem_env_scan_pass(&e); /* late's page matches the stale hint by hash only */
	vh_share_stats(&e.h, &st);
	VH_EXPECT_EQ(st.merged, (uint64_t)0);
	VH_EXPECT_NE(mem_env_pfn(&e, late, 5), mem_env_pfn(&e, early, 5));
	VH_EXPECT_EQ(mem_env_prot(&e, late, 5) & VH_PROT_WRITE, VH_PROT_WRITE);
	VH_EXPECT_EQ(mem_env_prot(&e, early, 5) & VH_PROT_WRITE, VH_PROT_WRITE);
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_read(&e.sp, &e.h, early, 5 << VH_PAGE_SHIFT, got, sizeof(got)),
	    VH_FAULT_MAPPED);
	VH_EXPECT_MEMEQ(got, now, sizeof(got));
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_read(&e.sp, &e.h, late, 5 << VH_PAGE_SHIFT, got, sizeof(got)),
	    VH_FAULT_MAPPED);
	VH_EXPECT_MEMEQ(got, old, sizeof(got));

	/* Once early writes old back, the next pass shares the two. */
	VH_ASSERT_EQ(
	    (int)vh_sim_guest_write(&e.sp, &e.h, early, 5 << VH_PAGE_SHIFT, old, sizeof(old)),
	    VH_FAULT_MAPPED);
	mem_env_scan_pass(&e);
	VH_EXPECT_EQ(mem_env_pfn(&e, late, 5), mem_env_pfn(&e, early, 5));
	mem_env_fini(&e);
}

VH_TEST(share, page_primitives)
{
	static uint8_t a[VH_PAGE_SIZE] __attribute__((aligned(4096)));
	static uint8_t b[VH_PAGE_SIZE] __attribute__((aligned(4096)));
	uint64_t h0;

	memset(a, 0, sizeof(a));
	VH_EXPECT(vh_page_is_zero(a));
	a[VH_PAGE_SIZE - 1] = 1; /* the last byte counts */
	VH_EXPECT(!vh_page_is_zero(a));
	vh_page_copy(b, a);
	VH_EXPECT(vh_page_equal(a, b));
	VH_EXPECT_EQ(vh_page_hash(a), vh_page_hash(b));
	b[VH_PAGE_SIZE - 1] = 2;
	VH_EXPECT(!vh_page_equal(a, b));
	vh_page_zero(b);
	VH_EXPECT(vh_page_is_zero(b));

	/* Every single-bit change of a page changes its hash (sampled over
	 * the page: first, middle and last words, every bit of a byte). */
	mem_env_pattern(a, 1, 3);
	h0 = vh_page_hash(a);
	for (size_t at = 0; at < VH_PAGE_SIZE; at += 511) {
		for (int bit = 0; bit < 8; bit++) {
			a[at] ^= (uint8_t)(1u << bit);
			VH_EXPECT_NE(vh_page_hash(a), h0);
			a[at] ^= (uint8_t)(1u << bit);
		}
	}
	VH_EXPECT_EQ(vh_page_hash(a), h0);
}
