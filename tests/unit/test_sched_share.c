/* SPDX-License-Identifier: Apache-2.0 */
/* Proportional share, reservations and work conservation: the numbers of
 * issue 3, asserted on the simulated platform (1 ms quanta). */
#include <math.h>

#include "sched_env.h"

/* Each VM's CPU time relative to the first VM's, against the ratio of
 * their shares: within 1%. */
static void expect_ratios(struct sched_env *e, struct vh_vm **vms, const uint32_t *shares, size_t n)
{
	double base = (double)sched_env_used(e, vms[0]);

	for (size_t i = 0; i < n; i++) {
		double got = (double)sched_env_used(e, vms[i]) / base;
		double want = (double)shares[i] / shares[0];
		printf("# %s: shares %u, used %.4f s, ratio %.4f (want %.4f, error %+.3f%%)\n",
		       vms[i]->cfg.name, shares[i], (double)sched_env_used(e, vms[i]) / SEC, got,
		       want, 100.0 * (got / want - 1.0));
		VH_EXPECT_NEAR(got / want, 1.0, 0.01);
	}
}

VH_TEST(sched_share, three_vms_on_one_pcpu_get_1_2_4)
{
	static const uint32_t shares[] = { 1000, 2000, 4000 };
	struct sched_env e;
	struct vh_vm *vms[3];
	struct vh_pcpu_stats pst;

	sched_env_init(&e, 1, 2000);
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vm%d", i);
		vms[i] = sched_env_vm(&e, name, &(struct vm_spec){ .shares = shares[i] });
	}
	sched_env_run(&e, 10 * SEC);
	expect_ratios(&e, vms, shares, 3);
	/* The pCPU never idled with work queued. */
	vh_sched_pcpu_stats(&e.h, 0, sched_env_now(&e), &pst);
	VH_EXPECT_EQ(pst.idle_ns, (uint64_t)0);
	VH_EXPECT_EQ(pst.busy_ns, 10 * SEC);
	sched_env_fini(&e);
}

VH_TEST(sched_share, seven_vms_on_two_pcpus_get_their_shares)
{
	/* No VM is entitled to more than one pCPU (4000 of 16000 of 2). */
	static const uint32_t shares[] = { 1000, 1000, 2000, 2000, 3000, 3000, 4000 };
	struct sched_env e;
	struct vh_vm *vms[7];
	uint64_t total = 0;

	sched_env_init(&e, 2, 2000);
	for (int i = 0; i < 7; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vm%d", i);
		vms[i] = sched_env_vm(&e, name, &(struct vm_spec){ .shares = shares[i] });
	}
	sched_env_run(&e, 10 * SEC);
	expect_ratios(&e, vms, shares, 7);
	for (int i = 0; i < 7; i++)
		total += sched_env_used(&e, vms[i]);
	VH_EXPECT_EQ(total, 20 * SEC); /* both pCPUs busy all along */
	sched_env_fini(&e);
}

VH_TEST(sched_share, presets_are_per_vcpu_and_split_over_vcpus)
{
	/* A 2-vCPU VM at "normal" (2 x 1000) against two 1-vCPU VMs at
	 * "high" (2000 each) on 2 pCPUs: each vCPU weighs 1000 or 2000, so the
	 * 2-vCPU VM gets 2000/6000 of 2 pCPUs. */
	struct sched_env e;
	struct vh_vm *smp, *a, *b;
	struct vh_vm_config *cfg;
	struct vh_cpu_controls high = { .shares = { .level = VH_SHARES_HIGH },
					.limit_mhz = VH_UNLIMITED };
	struct vh_error err;
	double got;

	sched_env_init(&e, 2, 2000);
	smp = sched_env_vm(&e, "smp", &(struct vm_spec){ .vcpus = 2, .cosched = VH_COSCHED_NONE });
	a = sched_env_vm(&e, "a", &(struct vm_spec){ 0 });
	b = sched_env_vm(&e, "b", &(struct vm_spec){ 0 });
	VH_ASSERT_EQ(vh_vm_set_cpu(&e.h, a, &high, &err), VH_OK);
	VH_ASSERT_EQ(vh_vm_set_cpu(&e.h, b, &high, &err), VH_OK);
	cfg = &smp->cfg;
	VH_EXPECT_EQ(smp->sched.shares, 2000ull);
	VH_EXPECT_EQ(a->sched.shares, 2000ull);
	sched_env_run(&e, 10 * SEC);
	got = (double)sched_env_used(&e, smp) / (20.0 * SEC);
	printf("# %s: %.4f of the host (want %.4f)\n", cfg->name, got, 2000.0 / 6000);
	VH_EXPECT_NEAR(got / (2000.0 / 6000), 1.0, 0.01);
	VH_EXPECT_NEAR((double)sched_env_used(&e, a) / sched_env_used(&e, b), 1.0, 0.01);
	sched_env_fini(&e);
}

VH_TEST(sched_share, reservation_holds_against_large_shares)
{
	/* 50% of a pCPU reserved with 1000 shares, against 9 VMs of 4000:
	 * by shares alone it would get 1000/37000 = 2.7%. */
	struct sched_env e;
	struct vh_vm *resv, *others[9];
	double got, other;

	sched_env_init(&e, 1, 1000);
	resv = sched_env_vm(&e, "reserved",
			    &(struct vm_spec){ .shares = 1000, .reservation_mhz = 500 });
	for (int i = 0; i < 9; i++) {
		char name[16];
		snprintf(name, sizeof(name), "big%d", i);
		others[i] = sched_env_vm(&e, name, &(struct vm_spec){ .shares = 4000 });
	}
	sched_env_run(&e, 10 * SEC);
	got = (double)sched_env_used(&e, resv) / (10.0 * SEC);
	other = (double)sched_env_used(&e, others[0]) / (10.0 * SEC);
	printf("# reserved VM: %.4f%% of the pCPU (reservation 50%%); each 4000-share VM %.4f%%\n",
	       100 * got, 100 * other);
	VH_EXPECT_GE(sched_env_used(&e, resv), 5 * SEC);
	/* The rest is shared by the others by their (equal) shares. */
	for (int i = 1; i < 9; i++)
		VH_EXPECT_NEAR((double)sched_env_used(&e, others[i]) /
				   sched_env_used(&e, others[0]),
			       1.0, 0.01);
	sched_env_fini(&e);
}

VH_TEST(sched_share, reservation_over_several_pcpus)
{
	/* 4 pCPUs of 1000 MHz; a 2-vCPU VM reserves 1500 MHz (75% of each of
	 * its vCPUs' pCPUs) with minimal shares, against 6 VMs of 100000. */
	struct sched_env e;
	struct vh_vm *resv;

	sched_env_init(&e, 4, 1000);
	resv = sched_env_vm(&e, "reserved",
			    &(struct vm_spec){ .vcpus = 2, .shares = 1, .reservation_mhz = 1500,
					       .cosched = VH_COSCHED_NONE });
	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof(name), "big%d", i);
		sched_env_vm(&e, name, &(struct vm_spec){ .shares = 100000 });
	}
	sched_env_run(&e, 10 * SEC);
	printf("# reserved 2-vCPU VM: %.4f pCPUs (reservation 1.5)\n",
	       (double)sched_env_used(&e, resv) / (10.0 * SEC));
	VH_EXPECT_GE(sched_env_used(&e, resv), 15 * SEC);
	sched_env_fini(&e);
}

VH_TEST(sched_share, reservation_gives_the_larger_of_reservation_and_shares)
{
	/* Equal shares on one pCPU entitle each VM to 50%; a reservation of
	 * 30% must not add to that (ESX: max, not sum). */
	struct sched_env e;
	struct vh_vm *a, *b;

	sched_env_init(&e, 1, 1000);
	a = sched_env_vm(&e, "a", &(struct vm_spec){ .shares = 1000, .reservation_mhz = 300 });
	b = sched_env_vm(&e, "b", &(struct vm_spec){ .shares = 1000 });
	sched_env_run(&e, 10 * SEC);
	printf("# a (30%% reserved): %.4f, b: %.4f\n", (double)sched_env_used(&e, a) / (10.0 * SEC),
	       (double)sched_env_used(&e, b) / (10.0 * SEC));
	VH_EXPECT_NEAR((double)sched_env_used(&e, a) / sched_env_used(&e, b), 1.0, 0.01);
	sched_env_fini(&e);
}

VH_TEST(sched_share, idle_vm_share_goes_to_the_others)
{
	/* B has three times A's shares but is idle: A gets the whole pCPU.
	 * When B gets busy, A drops to its 25%. */
	struct sched_env e;
	struct vh_vm *a, *b;
	struct vh_sim_workload cpu = { .kind = VH_SIM_WL_CPU };
	struct vh_pcpu_stats pst;
	uint64_t a0, b0;

	sched_env_init(&e, 1, 1000);
	a = sched_env_vm(&e, "a", &(struct vm_spec){ .shares = 1000 });
	b = sched_env_vm(&e, "b", &(struct vm_spec){ .shares = 3000, .kind = VH_SIM_WL_IDLE });
	sched_env_run(&e, 5 * SEC);
	printf("# b idle: a used %.4f s of 5, b %.4f s\n", (double)sched_env_used(&e, a) / SEC,
	       (double)sched_env_used(&e, b) / SEC);
	VH_EXPECT_EQ(sched_env_used(&e, a), 5 * SEC);
	VH_EXPECT_EQ(sched_env_used(&e, b), (uint64_t)0);
	/* Halted from its first dispatch on (it queued behind a for one
	 * quantum at power-on). */
	VH_EXPECT_EQ(sched_env_stats(&e, b).wait_ns + sched_env_stats(&e, b).ready_ns, 5 * SEC);
	VH_EXPECT_LE(sched_env_stats(&e, b).ready_ns, 1 * MS);
	vh_sched_pcpu_stats(&e.h, 0, sched_env_now(&e), &pst);
	VH_EXPECT_EQ(pst.idle_ns, (uint64_t)0);

	a0 = sched_env_used(&e, a);
	b0 = sched_env_used(&e, b);
	VH_ASSERT(vh_sim_cpu_set_workload(e.sc, b, &cpu));
	sched_env_run(&e, 4 * SEC);
	printf("# b busy: a %.4f, b %.4f of the last 4 s\n",
	       (double)(sched_env_used(&e, a) - a0) / (4.0 * SEC),
	       (double)(sched_env_used(&e, b) - b0) / (4.0 * SEC));
	VH_EXPECT_NEAR((double)(sched_env_used(&e, a) - a0) / (4.0 * SEC), 0.25, 0.0025);
	sched_env_fini(&e);
}

VH_TEST(sched_share, idle_pcpus_take_runnable_vcpus)
{
	/* Three VMs on 4 pCPUs: each gets a whole pCPU whatever its shares,
	 * one pCPU idles. */
	struct sched_env e;
	struct vh_vm *vms[3];
	uint64_t idle = 0;

	sched_env_init(&e, 4, 1000);
	vms[0] = sched_env_vm(&e, "a", &(struct vm_spec){ .shares = 1 });
	vms[1] = sched_env_vm(&e, "b", &(struct vm_spec){ .shares = 1000 });
	vms[2] = sched_env_vm(&e, "c", &(struct vm_spec){ .shares = 1000000 });
	sched_env_run(&e, 2 * SEC);
	for (int i = 0; i < 3; i++)
		VH_EXPECT_EQ(sched_env_used(&e, vms[i]), 2 * SEC);
	for (unsigned p = 0; p < 4; p++) {
		struct vh_pcpu_stats pst;
		vh_sched_pcpu_stats(&e.h, p, sched_env_now(&e), &pst);
		VH_EXPECT_EQ(pst.busy_ns + pst.idle_ns, 2 * SEC);
		idle += pst.idle_ns;
	}
	VH_EXPECT_EQ(idle, 2 * SEC);
	sched_env_fini(&e);
}

VH_TEST(sched_share, extreme_share_ratio_holds)
{
	/* 1 against 1,000,000 shares: the small VM still gets its
	 * millionth-ish, not more (no starvation, no favour). */
	struct sched_env e;
	struct vh_vm *tiny, *huge;
	double frac;

	sched_env_init(&e, 1, 1000);
	tiny = sched_env_vm(&e, "tiny", &(struct vm_spec){ .shares = 1000 });
	huge = sched_env_vm(&e, "huge", &(struct vm_spec){ .shares = 1000000 });
	sched_env_run(&e, 10 * SEC);
	frac = (double)sched_env_used(&e, tiny) / (10.0 * SEC);
	printf("# 1000 vs 1000000 shares: the small VM got %.5f (want %.5f)\n", frac,
	       1000.0 / 1001000);
	/* Within one quantum of its entitlement over 10 s. */
	VH_EXPECT_NEAR(frac, 1000.0 / 1001000, 1.0 * MS / (10.0 * SEC) + 1e-9);
	VH_EXPECT_GT(sched_env_used(&e, huge), 9 * SEC);
	sched_env_fini(&e);
}

/* ---- steal: pCPUs that lose time to their host ---------------------------- */

/* Four VMs of 1000, 1000, 2000 and 2000 shares (as tests/kvm/shares.sh)
 * on 2 pCPUs that lose about 40% and 15% of their time to their host in
 * windows of a few ms (hosted workers sharing their CPUs with busy
 * threads).  No VM is entitled to more than the slower pCPU really runs,
 * so every share can be met.  report: the backend tells the scheduler
 * (vh_sched_steal).  Returns the largest error of a VM's real CPU time
 * against its share of what the pCPUs really ran. */
static double steal_shares(bool report, bool check)
{
	static const uint32_t shares[] = { 1000, 1000, 2000, 2000 };
	struct sched_env e;
	struct steal_sim ss;
	struct vh_vm *vms[4];
	uint64_t real[4], total = 0, used = 0, busy = 0, pstolen = 0;
	double worst = 0;

	sched_env_init(&e, 2, 2000);
	steal_sim_init(&ss, &e, report);
	ss.pat[0] = (struct steal_pattern){ .run_ns = 6 * MS, .lost_ns = 4 * MS };
	ss.pat[1] = (struct steal_pattern){ .run_ns = 17 * MS / 2, .lost_ns = 3 * MS / 2 };
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vm%d", i);
		vms[i] = sched_env_vm(&e, name, &(struct vm_spec){ .shares = shares[i] });
	}
	steal_sim_run(&ss, 10 * SEC);
	for (int i = 0; i < 4; i++) {
		real[i] = steal_sim_vm_real(&ss, vms[i], sched_env_now(&e));
		total += real[i];
	}
	for (int i = 0; i < 4; i++) {
		struct vh_cpu_stats st = sched_env_stats(&e, vms[i]);
		double want = shares[i] / 6000.0, got = (double)real[i] / total;
		printf("# %s, %s: shares %u, ran %.4f s, %.4f of what ran (want %.4f, error "
		       "%+.2f%%); counted: used %.4f s, ready %.4f s, of which stolen %.4f s\n",
		       report ? "steal reported" : "steal unseen", vms[i]->cfg.name, shares[i],
		       (double)real[i] / SEC, got, want, 100 * (got / want - 1),
		       (double)st.used_ns / SEC, (double)st.ready_ns / SEC,
		       (double)vms[i]->vcpus[0].sched.stolen_ns / SEC);
		if (fabs(got / want - 1) > worst)
			worst = fabs(got / want - 1);
		if (!check)
			continue;
		/* Used is what the vCPU really ran; the rest of its wall time
		 * is ready (stolen included). */
		VH_EXPECT_EQ(st.used_ns, real[i]);
		VH_EXPECT_EQ(st.used_ns + st.ready_ns + st.costop_ns + st.wait_ns, 10 * SEC);
		VH_EXPECT_GE(st.ready_ns, vms[i]->vcpus[0].sched.stolen_ns);
		/* Reported apart, so a diagnosis tells the host's take from
		 * contention between VMs. */
		VH_EXPECT_EQ(st.stolen_ns, vms[i]->vcpus[0].sched.stolen_ns);
		VH_EXPECT_GT(st.stolen_ns, (uint64_t)0);
		used += st.used_ns;
	}
	if (check) {
		for (unsigned p = 0; p < 2; p++) {
			struct vh_pcpu_stats pst;
			vh_sched_pcpu_stats(&e.h, p, sched_env_now(&e), &pst);
			busy += pst.busy_ns;
			pstolen += e.h.sched.pcpus[p].stolen_ns;
		}
		printf("# pCPUs busy %.4f s, of which stolen %.4f s\n", (double)busy / SEC,
		       (double)pstolen / SEC);
		/* Every stolen nanosecond is counted once: on the vCPU as
		 * ready, on its pCPU as busy; work conservation still holds. */
		VH_EXPECT_EQ(steal_sim_counted(vms, 4), ss.stolen_ns);
		VH_EXPECT_EQ(pstolen, ss.stolen_ns);
		VH_EXPECT_EQ(busy, used + pstolen);
		VH_EXPECT_EQ(busy, 20 * SEC);
	}
	steal_sim_fini(&ss);
	sched_env_fini(&e);
	return worst;
}

VH_TEST(sched_share, stolen_time_is_ready_and_shares_hold)
{
	double reported = steal_shares(true, true), unseen = steal_shares(false, false);

	printf("# largest share error: %.2f%% with steal reported, %.2f%% unseen\n",
	       100 * reported, 100 * unseen);
	VH_EXPECT_LE(reported, 0.01);
	/* The same host charging wall time (what vh-hosted did) misses the
	 * shares: the check above is the steal accounting's doing. */
	VH_EXPECT_GT(unseen, 0.03);
}

/* 50% of a pCPU reserved with few shares against a VM of many, on a pCPU
 * that loses 30% of its time in windows of about 3 ms: the reservation is
 * CPU time really run.  With the production quantum (10 ms), as the credit
 * cap (two quanta) is meant to absorb windows much shorter than it. */
static double steal_reservation(bool report)
{
	struct sched_env e;
	struct steal_sim ss;
	struct vh_vm *resv;
	double got;

	sched_env_init(&e, 1, 1000);
	sched_env_production(&e);
	steal_sim_init(&ss, &e, report);
	ss.pat[0] = (struct steal_pattern){ .run_ns = 7 * MS, .lost_ns = 3 * MS };
	resv = sched_env_vm(&e, "reserved",
			    &(struct vm_spec){ .shares = 1000, .reservation_mhz = 500 });
	sched_env_vm(&e, "big", &(struct vm_spec){ .shares = 9000 });
	steal_sim_run(&ss, 10 * SEC);
	got = (double)steal_sim_vm_real(&ss, resv, sched_env_now(&e)) / (10.0 * SEC);
	printf("# %s: the VM reserving 50%% ran %.4f of the wall time (the pCPU ran 70%%)\n",
	       report ? "steal reported" : "steal unseen", got);
	steal_sim_fini(&ss);
	sched_env_fini(&e);
	return got;
}

VH_TEST(sched_share, reservation_is_run_time_despite_steal)
{
	VH_EXPECT_GE(steal_reservation(true), 0.4999);
	VH_EXPECT_LT(steal_reservation(false), 0.45);
}
