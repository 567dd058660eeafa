/* SPDX-License-Identifier: Apache-2.0 */
/* Reclaim: balloon targets from shares and the idle tax, refusing growth
 * beyond entitlement, the active-memory estimate (reclaim.c). */
#include "mem_env.h"

/* One sampling period: each VM touches its first touch[i] pages, then
 * the clock moves on and the memory manager's periodic work runs. */
static void period(struct mem_env *e, struct vh_vm **vms, const uint64_t *touch, int n)
{
	for (int i = 0; i < n; i++)
		for (vh_gfn_t g = 0; g < touch[i]; g++)
			VH_ASSERT_EQ(mem_env_touch(e, vms[i], g), VH_FAULT_MAPPED);
	vh_sim_advance(&e->sp, e->h.mem.params.sample_period_ns);
	vh_mem_tick(&e->h, e->sp.now_ns);
}

static void start_clock(struct mem_env *e)
{
	e->h.mem.params.sample_period_ns = VH_NSEC_PER_SEC;
	e->h.mem.params.scan_pages_per_sec = 0; /* sharing would blur the figures */
	vh_mem_tick(&e->h, e->sp.now_ns);
}

static uint64_t pct(uint64_t part, uint64_t whole)
{
	return whole ? part * 100 / whole : 0;
}

VH_TEST(reclaim, active_estimate_tracks_the_touched_fraction)
{
	struct mem_env e;
	struct vh_vm *vms[2];
	const uint64_t pages = 16 * VH_PAGES_PER_MIB;
	uint64_t touch[2] = { pages / 4, pages }, q, f, w = 0;

	mem_env_init(&e, 64);
	vms[0] = mem_env_vm(&e, "quarter", 16, 0, VH_UNLIMITED, true);
	vms[1] = mem_env_vm(&e, "full", 16, 0, VH_UNLIMITED, true);
	for (int i = 0; i < 2; i++)
		for (vh_gfn_t g = 0; g < pages; g++)
			VH_ASSERT_EQ(mem_env_write_word(&e, vms[i], g, g * 3 + 1), VH_FAULT_MAPPED);
	/* Unmeasured: everything counts as active. */
	VH_EXPECT_EQ(mem_env_stats(&e, vms[0]).active, pages);

	start_clock(&e);
	for (int p = 0; p < 8; p++)
		period(&e, vms, touch, 2);
	q = mem_env_stats(&e, vms[0]).active;
	f = mem_env_stats(&e, vms[1]).active;
	printf("[ figure   ] active estimate: touching 25%% -> %llu%%, touching 100%% -> %llu%% "
	       "(%u samples per period)\n",
	       (unsigned long long)pct(q, pages), (unsigned long long)pct(f, pages),
	       e.h.mem.params.sample_pages);
	VH_EXPECT_GE(pct(q, pages), (uint64_t)15);
	VH_EXPECT_LE(pct(q, pages), (uint64_t)40);
	VH_EXPECT_GE(pct(f, pages), (uint64_t)95);

	/* The quarter VM goes fully idle: the estimate decays. */
	touch[0] = 0;
	for (int p = 0; p < 24; p++)
		period(&e, vms, touch, 2);
	q = mem_env_stats(&e, vms[0]).active;
	printf("[ figure   ] after 24 idle periods: %llu%%\n", (unsigned long long)pct(q, pages));
	VH_EXPECT_LE(pct(q, pages), (uint64_t)5);

	/* Sampling unmapped and remapped pages; their contents never moved. */
	for (vh_gfn_t g = 0; g < pages; g += 13) {
		VH_ASSERT_EQ((int)vh_sim_guest_read(&e.sp, &e.h, vms[0], g << VH_PAGE_SHIFT, &w, 8),
			     VH_FAULT_MAPPED);
		VH_ASSERT_EQ(w, g * 3 + 1);
	}
	mem_env_fini(&e);
}

/* Two 48 MiB VMs on a 64 MiB host touch 26 MiB each: free memory falls
 * below low_free (25% here) and targets appear. */
static void pressure_host(struct mem_env *e, struct vh_vm **vms, enum vh_shares_level a,
			  enum vh_shares_level b)
{
	struct vh_error err = { 0 };
	struct vh_mem_controls mc;

	mem_env_init(e, 64);
	e->h.mem.params.low_free_percent = 25;
	e->h.mem.params.min_free_percent = 10;
	vms[0] = mem_env_vm(e, "a", 48, 0, VH_UNLIMITED, true);
	vms[1] = mem_env_vm(e, "b", 48, 0, VH_UNLIMITED, true);
	mc = vms[0]->cfg.mem;
	mc.shares.level = a;
	VH_ASSERT_EQ(vh_vm_set_mem(&e->h, vms[0], &mc, &err), 0);
	mc.shares.level = b;
	VH_ASSERT_EQ(vh_vm_set_mem(&e->h, vms[1], &mc, &err), 0);
	start_clock(e);
}

VH_TEST(reclaim, idle_vm_gets_the_higher_balloon_target)
{
	struct mem_env e;
	struct vh_vm *vms[2];
	const uint64_t touched = 26 * VH_PAGES_PER_MIB;
	uint64_t touch[2] = { touched, touched }, tb, ti;

	pressure_host(&e, vms, VH_SHARES_NORMAL, VH_SHARES_NORMAL);
	period(&e, vms, touch, 2); /* both fill up; sampling starts */
	VH_EXPECT(e.h.mem.pressure);
	touch[1] = 0;              /* b goes idle, a keeps working */
	for (int p = 0; p < 3; p++)
		period(&e, vms, touch, 2);
	tb = vms[0]->mem.balloon_target_pages;
	ti = vms[1]->mem.balloon_target_pages;
	printf("[ figure   ] equal shares, free %llu of %llu frames: busy VM target %llu pages "
	       "(entitled %llu), idle VM target %llu pages (entitled %llu)\n",
	       (unsigned long long)mem_env_free(&e), (unsigned long long)e.h.mem.total_frames,
	       (unsigned long long)tb, (unsigned long long)vms[0]->mem.entitled_pages,
	       (unsigned long long)ti, (unsigned long long)vms[1]->mem.entitled_pages);
	VH_EXPECT_GT(ti, tb);
	VH_EXPECT_GT(ti, (uint64_t)0);
	VH_EXPECT_GT(vms[0]->mem.entitled_pages, vms[1]->mem.entitled_pages);
	/* The targets together bring free memory back to low_free. */
	VH_EXPECT_GE(mem_env_free(&e) + ti + tb, vh_mem_low_free(&e.h));
	/* The stats say why: reclaim set the idle VM's target, its terms
	 * are there, and the tax took idle pages for (nearly) all of it. */
	struct vh_mem_stats ms;
	vh_mem_vm_stats(&e.h, vms[1], &ms);
	printf("[ figure   ] idle VM: reason %s, entitled %llu, reclaim %llu, idle tax %llu, "
	       "active %llu of %llu\n",
	       vh_balloon_reason_name(ms.balloon_reason), (unsigned long long)ms.entitled,
	       (unsigned long long)ms.reclaim_target, (unsigned long long)ms.idle_tax,
	       (unsigned long long)ms.active, (unsigned long long)ms.granted);
	VH_EXPECT_EQ(ms.balloon_reason, (uint32_t)VH_BALLOON_RECLAIM);
	VH_EXPECT_EQ(ms.entitled, vms[1]->mem.entitled_pages);
	VH_EXPECT_EQ(ms.reclaim_target, ti);
	VH_EXPECT_GT(ms.idle_tax, (uint64_t)0);
	VH_EXPECT_LE(ms.idle_tax, ms.reclaim_target);
	VH_EXPECT_LE(ms.idle_tax, ms.granted - ms.active);

	/* The idle guest inflates to its target: the frames come back and
	 * the target holds steady (no oscillation). */
	vh_gfn_t *gfns = calloc(ti, sizeof(*gfns));
	uint64_t free1 = mem_env_free(&e);
	VH_ASSERT(gfns != NULL);
	for (uint64_t i = 0; i < ti; i++)
		gfns[i] = i;
	VH_EXPECT_EQ(vh_mem_balloon_inflate(&e.h, vms[1], gfns, ti), ti);
	VH_EXPECT_EQ(mem_env_free(&e), free1 + ti);
	period(&e, vms, touch, 2);
	VH_EXPECT_EQ(vms[1]->mem.balloon_target_pages, ti);
	free(gfns);
	mem_env_fini(&e);
}

VH_TEST(reclaim, balloon_targets_follow_shares)
{
	struct mem_env e;
	struct vh_vm *vms[2];
	const uint64_t touched = 26 * VH_PAGES_PER_MIB;
	uint64_t touch[2] = { touched, touched }, th, tl;

	pressure_host(&e, vms, VH_SHARES_HIGH, VH_SHARES_LOW);
	for (int p = 0; p < 3; p++)
		period(&e, vms, touch, 2); /* both fully active */
	th = vms[0]->mem.balloon_target_pages;
	tl = vms[1]->mem.balloon_target_pages;
	printf("[ figure   ] both active, shares 20:5 per MiB: high target %llu (entitled %llu), "
	       "low target %llu (entitled %llu)\n",
	       (unsigned long long)th, (unsigned long long)vms[0]->mem.entitled_pages,
	       (unsigned long long)tl, (unsigned long long)vms[1]->mem.entitled_pages);
	VH_EXPECT_GT(tl, th);
	VH_EXPECT_GT(vms[0]->mem.entitled_pages, vms[1]->mem.entitled_pages);

	/* Plenty of free memory again (b stops): no reclaim targets. */
	struct vh_error err = { 0 };
	VH_ASSERT_EQ(vh_vm_stop(&e.h, vms[1], &err), 0);
	vh_mem_tick(&e.h, e.sp.now_ns);
	VH_EXPECT(!e.h.mem.pressure);
	VH_EXPECT_EQ(vms[0]->mem.balloon_target_pages, (uint64_t)0);
	struct vh_mem_stats ms;
	vh_mem_vm_stats(&e.h, vms[0], &ms);
	VH_EXPECT_EQ(ms.balloon_reason, (uint32_t)VH_BALLOON_NONE);
	VH_EXPECT_EQ(ms.idle_tax, (uint64_t)0);
	/* An operator's request is named as such. */
	VH_ASSERT_EQ(vh_mem_set_balloon_target(&e.h, vms[0], 16, &err), 0);
	vh_mem_vm_stats(&e.h, vms[0], &ms);
	VH_EXPECT_EQ(ms.balloon_reason, (uint32_t)VH_BALLOON_REQUEST);
	VH_EXPECT_STREQ(vh_balloon_reason_name(ms.balloon_reason), "request");
	mem_env_fini(&e);
}

VH_TEST(reclaim, growth_beyond_entitlement_is_refused_while_the_host_keeps_frames)
{
	struct mem_env e;
	struct vh_vm *hog, *other;
	uint64_t got = 0, free_at_refusal, e_hog;
	enum vh_fault_result r = VH_FAULT_MAPPED;

	mem_env_init(&e, 64);
	/* The hog's pages are all zero: the scanner would (rightly) reclaim
	 * them by sharing before any balloon.  This test is about what comes
	 * after sharing. */
	e.h.mem.params.scan_pages_per_sec = 0;
	hog = mem_env_vm(&e, "hog", 64, 0, VH_UNLIMITED, true);
	other = mem_env_vm(&e, "other", 64, 0, VH_UNLIMITED, true);
	/* The hog touches everything it has: it is let grow while memory is
	 * plentiful (work conserving), then refused, cleanly. */
	for (vh_gfn_t g = 0; g < hog->mem.pages; g++) {
		r = mem_env_touch(&e, hog, g);
		if (r != VH_FAULT_MAPPED)
			break;
		got++;
		if ((g & 1023) == 0)
			vh_mem_tick(&e.h, e.sp.now_ns);
	}
	VH_EXPECT_EQ((int)r, VH_FAULT_NO_MEMORY);
	free_at_refusal = mem_env_free(&e);
	e_hog = hog->mem.entitled_pages;
	printf("[ figure   ] hog refused after %llu pages, entitled %llu, host free %llu "
	       "(min_free %llu, floor %llu)\n",
	       (unsigned long long)got, (unsigned long long)e_hog,
	       (unsigned long long)free_at_refusal, (unsigned long long)vh_mem_min_free(&e.h),
	       (unsigned long long)vh_mem_floor_free(&e.h));
	VH_EXPECT_GT(free_at_refusal, vh_mem_floor_free(&e.h));
	VH_EXPECT_LT(free_at_refusal, vh_mem_min_free(&e.h));
	VH_EXPECT_GE(hog->mem.private_pages, e_hog);
	VH_EXPECT_GE(hog->mem.refused, (uint64_t)1);
	/* Still refused: nothing was half-done. */
	VH_EXPECT_EQ(mem_env_touch(&e, hog, got), VH_FAULT_NO_MEMORY);
	VH_EXPECT_EQ(mem_env_free(&e), free_at_refusal);
	VH_EXPECT_EQ(mem_env_stats(&e, hog).granted, got);
	/* At the next reclaim period the hog is asked to balloon its excess. */
	vh_sim_advance(&e.sp, e.h.mem.params.reclaim_period_ns);
	vh_mem_tick(&e.h, e.sp.now_ns);
	VH_EXPECT(e.h.mem.pressure);
	VH_EXPECT_GT(hog->mem.balloon_target_pages, (uint64_t)0);
	VH_EXPECT_EQ(hog->mem.balloon_target_pages,
		     hog->mem.private_pages - hog->mem.entitled_pages);

	/* The other VM, below its entitlement, still gets memory... */
	for (vh_gfn_t g = 0; g < 100; g++)
		VH_ASSERT_EQ(mem_env_touch(&e, other, g), VH_FAULT_MAPPED);
	/* ...but never the host's last frames. */
	for (vh_gfn_t g = 100; g < other->mem.pages; g++)
		if (mem_env_touch(&e, other, g) != VH_FAULT_MAPPED)
			break;
	VH_EXPECT_EQ(mem_env_free(&e), vh_mem_floor_free(&e.h));
	mem_env_fini(&e);
}
