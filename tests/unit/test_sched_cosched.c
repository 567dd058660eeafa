/* SPDX-License-Identifier: Apache-2.0 */
/* Co-scheduling of multiprocessor VMs: relaxed (bounded skew, costop
 * counted) and strict (all runnable vCPUs together or none). */
#include "sched_env.h"

struct skew_watch {
	struct sched_env *e;
	struct vh_vm *vm;
	uint64_t max_skew;
	uint64_t instants;
};

static void watch_skew(void *arg, uint64_t now)
{
	struct skew_watch *w = arg;
	uint64_t s = vh_sched_vm_skew(&w->e->h, w->vm, now);

	if (s > w->max_skew)
		w->max_skew = s;
	w->instants++;
}

/* A 4-vCPU CPU-bound VM and two single-vCPU VMs on 3 pCPUs, with the
 * production quantum (10 ms) and skew threshold (3 ms): the SMP VM's vCPUs
 * cannot all run at once, and a vCPU that runs a whole quantum while a
 * sibling waits leads it by more than the threshold unless held. */
static struct skew_watch run_skew(enum vh_cosched_mode mode, struct vh_cpu_stats *st)
{
	struct sched_env e;
	struct skew_watch w = { 0 };

	sched_env_init(&e, 3, 1000);
	sched_env_production(&e);
	w.e = &e;
	w.vm = sched_env_vm(&e, "smp", &(struct vm_spec){ .vcpus = 4, .cosched = mode });
	sched_env_vm(&e, "a", &(struct vm_spec){ .shares = 1500 });
	sched_env_vm(&e, "b", &(struct vm_spec){ .shares = 700 });
	vh_sim_cpu_set_observer(e.sc, watch_skew, &w);
	sched_env_run(&e, 10 * SEC);
	*st = sched_env_stats(&e, w.vm);
	vh_sim_cpu_set_observer(e.sc, NULL, NULL);
	sched_env_fini(&e);
	return w;
}

VH_TEST(sched_cosched, relaxed_skew_stays_within_threshold)
{
	struct vh_sched_params p;
	struct vh_cpu_stats relaxed_st, none_st;
	struct skew_watch relaxed, none;

	vh_sched_params_default(&p);
	relaxed = run_skew(VH_COSCHED_RELAXED, &relaxed_st);
	none = run_skew(VH_COSCHED_NONE, &none_st);
	printf("# relaxed: max skew %.3f ms (threshold %.3f ms) over %llu instants, costop %.3f s, "
	       "used %.3f s\n",
	       (double)relaxed.max_skew / MS, (double)p.cosched_skew_ns / MS,
	       (unsigned long long)relaxed.instants, (double)relaxed_st.costop_ns / SEC,
	       (double)relaxed_st.used_ns / SEC);
	printf("# none:    max skew %.3f ms, costop %.3f s, used %.3f s\n",
	       (double)none.max_skew / MS, (double)none_st.costop_ns / SEC,
	       (double)none_st.used_ns / SEC);
	VH_EXPECT_LE(relaxed.max_skew, p.cosched_skew_ns);
	VH_EXPECT_GT(relaxed.instants, (uint64_t)1000);
	/* Holding leaders back shows as costop time in the VM's stats. */
	VH_EXPECT_GT(relaxed_st.costop_ns, (uint64_t)0);
	/* Without co-scheduling the same load drifts past the threshold: the
	 * bound above is the co-scheduler's doing. */
	VH_EXPECT_GT(none.max_skew, p.cosched_skew_ns);
	VH_EXPECT_EQ(none_st.costop_ns, (uint64_t)0);
}

struct gang_watch {
	struct sched_env *e;
	struct vh_vm *vm;
	uint64_t violations, together, apart_idle;
};

static void watch_gang(void *arg, uint64_t now)
{
	struct gang_watch *w = arg;
	unsigned running = 0, runnable = 0;

	(void)now;
	for (uint32_t i = 0; i < w->vm->cfg.vcpus; i++) {
		int st = w->vm->vcpus[i].sched.state;
		if (st == VH_SCHED_RUNNING)
			running++;
		if (st == VH_SCHED_RUNNING || st == VH_SCHED_READY || st == VH_SCHED_COSTOP ||
		    st == VH_SCHED_THROTTLED)
			runnable++;
	}
	if (running && running != runnable)
		w->violations++;
	else if (running)
		w->together++;
	else
		w->apart_idle++;
}

static void strict_all_or_none(enum vh_sim_workload_kind kind)
{
	struct sched_env e;
	struct gang_watch w = { 0 };
	struct vh_vm *other[3];
	struct vh_cpu_stats st;

	sched_env_init(&e, 4, 1000);
	w.e = &e;
	w.vm = sched_env_vm(&e, "gang", &(struct vm_spec){ .vcpus = 3, .cosched = VH_COSCHED_STRICT,
							   .kind = kind, .run_ns = 2 * MS,
							   .sleep_ns = 3 * MS });
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vm%d", i);
		other[i] = sched_env_vm(&e, name, &(struct vm_spec){ .shares = 1000 });
	}
	vh_sim_cpu_set_observer(e.sc, watch_gang, &w);
	sched_env_run(&e, 10 * SEC);
	st = sched_env_stats(&e, w.vm);
	printf("# strict (%s): %llu instants all running, %llu none, %llu violations; used %.3f s, "
	       "costop %.3f s, others %.3f %.3f %.3f s\n",
	       kind == VH_SIM_WL_CPU ? "cpu" : "bursty", (unsigned long long)w.together,
	       (unsigned long long)w.apart_idle, (unsigned long long)w.violations,
	       (double)st.used_ns / SEC, (double)st.costop_ns / SEC,
	       (double)sched_env_used(&e, other[0]) / SEC,
	       (double)sched_env_used(&e, other[1]) / SEC,
	       (double)sched_env_used(&e, other[2]) / SEC);
	VH_EXPECT_EQ(w.violations, (uint64_t)0);
	VH_EXPECT_GT(w.together, (uint64_t)1000);
	if (kind == VH_SIM_WL_CPU) {
		/* 3 x 1000 shares of 6000 on 4 pCPUs: 2 pCPUs' worth, less
		 * what gathering costs. */
		VH_EXPECT(st.used_ns >= 17 * SEC);
		VH_EXPECT(st.used_ns <= 20 * SEC + 10 * MS);
	}
	vh_sim_cpu_set_observer(e.sc, NULL, NULL);
	sched_env_fini(&e);
}

VH_TEST(sched_cosched, strict_runs_all_or_none)
{
	strict_all_or_none(VH_SIM_WL_CPU);
}

VH_TEST(sched_cosched, strict_with_halting_members_runs_all_or_none)
{
	strict_all_or_none(VH_SIM_WL_BURSTY);
}

VH_TEST(sched_cosched, strict_wider_than_host_runs_relaxed)
{
	struct sched_env e;
	struct vh_vm *vm;

	sched_env_init(&e, 2, 1000);
	vm =
	    sched_env_vm(&e, "wide", &(struct vm_spec){ .vcpus = 3, .cosched = VH_COSCHED_STRICT });
	VH_EXPECT(vm->sched.cosched == VH_COSCHED_RELAXED);
	VH_EXPECT(strstr(e.sp.last_log, "strict co-scheduling needs 3 pCPUs") != NULL);
	sched_env_run(&e, SEC);
	VH_EXPECT_EQ(sched_env_used(&e, vm), 2 * SEC);
	sched_env_fini(&e);
}

/* An SMP guest whose vCPUs meet at a barrier every 200 us of work and
 * spin while they wait, on an overcommitted host with the production
 * quantum (10 ms) and skew threshold (3 ms): what co-scheduling buys. */
static void barrier_run(enum vh_cosched_mode mode, uint64_t *barriers, uint64_t *spin_ns,
			uint64_t *used_ns)
{
	struct sched_env e;
	struct vh_vm *vm;
	struct vh_sim_vcpu_stats st;

	static const uint32_t shares[] = { 500, 1300, 2900 };

	sched_env_init(&e, 4, 1000);
	sched_env_production(&e);
	vm = sched_env_vm(&e, "smp", &(struct vm_spec){ .vcpus = 4, .cosched = mode,
							.kind = VH_SIM_WL_SMP,
							.run_ns = 200 * VH_NSEC_PER_USEC });
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "cpu%d", i);
		sched_env_vm(&e, name, &(struct vm_spec){ .shares = shares[i] });
	}
	sched_env_run(&e, 10 * SEC);
	vh_sim_cpu_vm_stats(e.sc, vm, &st);
	*barriers = vh_sim_cpu_vm_barriers(e.sc, vm);
	*spin_ns = st.spin_ns;
	*used_ns = sched_env_used(&e, vm);
	sched_env_fini(&e);
}

VH_TEST(sched_cosched, coscheduling_cuts_barrier_spinning)
{
	static const char *const names[] = { "none", "relaxed", "strict" };
	static const enum vh_cosched_mode modes[] = { VH_COSCHED_NONE, VH_COSCHED_RELAXED,
						      VH_COSCHED_STRICT };
	uint64_t barriers[3], spin[3], used[3];

	for (int i = 0; i < 3; i++) {
		barrier_run(modes[i], &barriers[i], &spin[i], &used[i]);
		printf("# %-7s: %llu barriers in 10 s, spin %.1f%% of its %.3f s\n", names[i],
		       (unsigned long long)barriers[i], 100.0 * spin[i] / used[i],
		       (double)used[i] / SEC);
	}
	/* Without co-scheduling a barrier waits for whichever sibling is
	 * descheduled, a quantum at a time, while the others spin.  Bounding
	 * the skew (relaxed) makes the siblings meet several times as often;
	 * running them together (strict) removes the spinning altogether,
	 * and every barrier costs only the work before it. */
	VH_EXPECT_GT(barriers[1], 2 * barriers[0]);
	VH_EXPECT_LT(spin[1], spin[0]);
	VH_EXPECT_GT(barriers[2], 10 * barriers[0]);
	VH_EXPECT_LT(spin[2] * 100, used[2]);
	/* Strict: 200 us of work per barrier on each vCPU, nothing else. */
	VH_EXPECT_EQ(barriers[2] * 200 * VH_NSEC_PER_USEC * 4, used[2]);
}

VH_TEST(sched_cosched, strict_gangs_honour_reservation_and_limit)
{
	/* 4 pCPUs of 1000 MHz.  A strict 2-vCPU VM with 1 share reserving
	 * 1000 MHz, a strict 2-vCPU VM with huge shares limited to 600 MHz,
	 * and four CPU-bound VMs of 10000 shares. */
	struct sched_env e;
	struct gang_watch wr = { 0 }, wl = { 0 };
	struct vh_vm *resv, *lim;
	double r, l;

	sched_env_init(&e, 4, 1000);
	resv = sched_env_vm(&e, "resv", &(struct vm_spec){ .vcpus = 2, .shares = 1,
							   .reservation_mhz = 1000,
							   .cosched = VH_COSCHED_STRICT });
	lim = sched_env_vm(
	    &e, "lim",
	    &(struct vm_spec){
		.vcpus = 2, .shares = 1000000, .limit_mhz = 600, .cosched = VH_COSCHED_STRICT });
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "vm%d", i);
		sched_env_vm(&e, name, &(struct vm_spec){ .shares = 10000 });
	}
	wr.e = wl.e = &e;
	wr.vm = resv;
	wl.vm = lim;
	for (int s = 0; s < 10; s++) {
		uint64_t r0 = sched_env_used(&e, resv), l0 = sched_env_used(&e, lim);
		vh_sim_cpu_set_observer(e.sc, watch_gang, &wr);
		sched_env_run(&e, SEC / 2);
		vh_sim_cpu_set_observer(e.sc, watch_gang, &wl);
		sched_env_run(&e, SEC / 2);
		/* Per second: the reservation's 1 pCPU at least, the limit's
		 * 0.6 at most. */
		VH_EXPECT_GE(sched_env_used(&e, resv) - r0, SEC);
		VH_EXPECT_LE(sched_env_used(&e, lim) - l0, 600 * MS);
	}
	r = (double)sched_env_used(&e, resv) / (10.0 * SEC);
	l = (double)sched_env_used(&e, lim) / (10.0 * SEC);
	printf("# strict + reservation 1.0 pCPU: %.4f; strict + limit 0.6 pCPU: %.4f\n", r, l);
	VH_EXPECT_EQ(wr.violations + wl.violations, (uint64_t)0);
	VH_EXPECT(l >= 0.58);
	vh_sim_cpu_set_observer(e.sc, NULL, NULL);
	sched_env_fini(&e);
}

/* ---- steal ------------------------------------------------------------------ */

struct steal_skew {
	struct vh_vm *vm;
	uint64_t max_real, instants;
	double sum_real;
};

static void watch_steal_skew(struct steal_sim *ss, uint64_t now, void *arg)
{
	struct steal_skew *w = arg;
	uint64_t a = steal_sim_real(ss, &w->vm->vcpus[0], now);
	uint64_t b = steal_sim_real(ss, &w->vm->vcpus[1], now);
	uint64_t real = a > b ? a - b : b - a;

	if (real > w->max_real)
		w->max_real = real;
	w->sum_real += (double)real;
	w->instants++;
}

/* A relaxed 2-vCPU VM and two CPU-bound VMs on 2 pCPUs (as
 * tests/kvm/cosched.sh), production quantum and threshold, the pCPUs
 * losing about 35% and 10% of their time to their host in windows of
 * 1.75..5.25 ms and 0.5..1.5 ms.  The skew that matters is the guest's:
 * the difference of what its vCPUs really ran. */
static struct steal_skew steal_skew_run(bool report, uint64_t tick, struct vh_cpu_stats *st)
{
	struct sched_env e;
	struct steal_sim ss;
	struct steal_skew w = { 0 };

	sched_env_init(&e, 2, 1000);
	sched_env_production(&e);
	steal_sim_init(&ss, &e, report);
	ss.tick_ns = tick;
	ss.pat[0] = (struct steal_pattern){ .run_ns = 13 * MS / 2, .lost_ns = 7 * MS / 2 };
	ss.pat[1] = (struct steal_pattern){ .run_ns = 9 * MS, .lost_ns = 1 * MS };
	w.vm =
	    sched_env_vm(&e, "smp", &(struct vm_spec){ .vcpus = 2, .cosched = VH_COSCHED_RELAXED });
	sched_env_vm(&e, "s1", &(struct vm_spec){ 0 });
	sched_env_vm(&e, "s2", &(struct vm_spec){ 0 });
	ss.observe = watch_steal_skew;
	ss.observe_arg = &w;
	steal_sim_run(&ss, 10 * SEC);
	*st = sched_env_stats(&e, w.vm);
	if (report) {
		/* What co-scheduling compares is what the vCPUs really ran. */
		for (int i = 0; i < 2; i++) {
			struct vh_cpu_stats vs;
			vh_sched_vcpu_stats(&e.h, &w.vm->vcpus[i], sched_env_now(&e), &vs);
			VH_EXPECT_EQ(vs.used_ns,
				     steal_sim_real(&ss, &w.vm->vcpus[i], sched_env_now(&e)));
		}
	}
	steal_sim_fini(&ss);
	sched_env_fini(&e);
	return w;
}

VH_TEST(sched_cosched, relaxed_skew_holds_despite_steal)
{
	static const struct { bool report; uint64_t tick; const char *what; } runs[] = {
		{ true, 0, "steal reported per decision" },
		{ true, 5 * MS, "and every 5 ms" },
		{ false, 0, "steal unseen" },
	};
	struct vh_sched_params p;
	struct steal_skew w[3];

	vh_sched_params_default(&p);
	for (int i = 0; i < 3; i++) {
		struct vh_cpu_stats st;
		w[i] = steal_skew_run(runs[i].report, runs[i].tick, &st);
		printf(
		    "# %-27s: guest skew max %.3f ms, mean %.3f ms; costop %.3f s, used %.3f s\n",
		    runs[i].what, (double)w[i].max_real / MS, w[i].sum_real / w[i].instants / MS,
		    (double)st.costop_ns / SEC, (double)st.used_ns / SEC);
	}
	/* Reported steal keeps the guest's skew within the threshold plus
	 * what one window of steal hides until it is reported (at most
	 * 5.25 ms here) plus the shortest slice, and on average within the
	 * threshold. */
	for (int i = 0; i < 2; i++) {
		VH_EXPECT_LE(w[i].max_real, p.cosched_skew_ns + 5250 * VH_NSEC_PER_USEC +
						    p.cosched_skew_ns / 8);
		VH_EXPECT_LE(w[i].sum_real / w[i].instants, (double)p.cosched_skew_ns);
	}
	/* Charged as run time, the stolen time lets the guest's vCPUs drift
	 * apart for good while the scheduler believes them level. */
	VH_EXPECT_GT(w[2].max_real, 30 * MS);
}
