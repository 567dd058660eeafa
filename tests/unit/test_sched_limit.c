/* SPDX-License-Identifier: Apache-2.0 */
/* Limits over a sliding window (not work-conserving) and run-time
 * changes of shares, reservation and limit. */
#include "sched_env.h"

/* Records a VM's used time at every simulated instant at which anything
 * happened: used is piecewise linear between those instants, so the
 * largest use over any window is found exactly by sliding the window's
 * start and its end over the recorded instants. */
struct trace {
	struct sched_env *e;
	struct vh_vm *vm;
	uint64_t *t, *used;
	size_t n, cap;
};

static void trace_add(struct trace *tr, uint64_t now, uint64_t used)
{
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? 2 * tr->cap : 4096;
		tr->t = realloc(tr->t, tr->cap * sizeof(*tr->t));
		tr->used = realloc(tr->used, tr->cap * sizeof(*tr->used));
		VH_ASSERT(tr->t && tr->used);
	}
	tr->t[tr->n] = now;
	tr->used[tr->n] = used;
	tr->n++;
}

static void trace_observe(void *arg, uint64_t now)
{
	struct trace *tr = arg;

	trace_add(tr, now, sched_env_used(tr->e, tr->vm));
}

/* used at time x by linear interpolation (the VM has one vCPU, so the
 * slope is 0 or 1 between recorded instants). */
static double trace_at(const struct trace *tr, double x)
{
	size_t lo = 0, hi = tr->n - 1;

	if (x <= tr->t[0])
		return (double)tr->used[0];
	if (x >= tr->t[hi])
		return (double)tr->used[hi];
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (tr->t[mid] <= x)
			lo = mid;
		else
			hi = mid;
	}
	return tr->used[lo] + (x - tr->t[lo]) * (double)(tr->used[hi] - tr->used[lo]) /
				      (double)(tr->t[hi] - tr->t[lo]);
}

/* The most run time in any window of w ns lying within [from, to]. */
static double trace_max_window(const struct trace *tr, uint64_t w, uint64_t from, uint64_t to)
{
	double best = 0;

	for (size_t i = 0; i < tr->n; i++) {
		double s = (double)tr->t[i], u;
		if (s >= from && s + w <= to) {
			u = trace_at(tr, s + w) - trace_at(tr, s);
			best = u > best ? u : best;
		}
		if (s - w >= from && s <= to) {
			u = trace_at(tr, s) - trace_at(tr, s - w);
			best = u > best ? u : best;
		}
	}
	return best;
}

static void trace_free(struct trace *tr)
{
	free(tr->t);
	free(tr->used);
}

static void limited_vm_never_exceeds(bool alone)
{
	struct sched_env e;
	struct trace tr = { 0 };
	struct vh_vm *lim;
	double worst, total;

	sched_env_init(&e, 1, 1000);
	/* 25% of the pCPU, with far more shares than the competitor. */
	lim = sched_env_vm(&e, "limited", &(struct vm_spec){ .shares = 100000, .limit_mhz = 250 });
	if (!alone)
		sched_env_vm(&e, "other", &(struct vm_spec){ .shares = 1000 });
	tr.e = &e;
	tr.vm = lim;
	vh_sim_cpu_set_observer(e.sc, trace_observe, &tr);
	trace_observe(&tr, 0);
	sched_env_run(&e, 10 * SEC);
	worst = trace_max_window(&tr, SEC, 0, 10 * SEC);
	total = (double)sched_env_used(&e, lim) / (10.0 * SEC);
	printf("# %s: worst 1-s window %.4f%% of the pCPU (limit 25%%), 10-s average %.4f%%\n",
	       alone ? "alone" : "with a competitor", 100 * worst / SEC, 100 * total);
	VH_EXPECT(worst <= 0.26 * SEC);
	/* It does get (nearly all of) its limit. */
	VH_EXPECT(total >= 0.24);
	if (alone) {
		struct vh_pcpu_stats pst;
		/* Not work-conserving: the pCPU idles rather than exceed it. */
		vh_sched_pcpu_stats(&e.h, 0, sched_env_now(&e), &pst);
		VH_EXPECT_GE(pst.idle_ns, 7 * SEC);
		/* Throttled time counts as ready (ESX). */
		VH_EXPECT_GE(sched_env_stats(&e, lim).ready_ns, 7 * SEC);
	}
	vh_sim_cpu_set_observer(e.sc, NULL, NULL);
	trace_free(&tr);
	sched_env_fini(&e);
}

VH_TEST(sched_limit, limited_vm_alone_stays_within_any_window)
{
	limited_vm_never_exceeds(true);
}

VH_TEST(sched_limit, limited_vm_with_competitor_stays_within_any_window)
{
	limited_vm_never_exceeds(false);
}

/* Limited time tells the two causes of ready time apart: a capped VM
 * alone on an idle host waits only on its own limit (limited = ready),
 * an uncapped VM starved by neighbours only on them (limited = 0). */
VH_TEST(sched_limit, limited_time_is_the_ready_time_the_limit_caused)
{
	struct sched_env e;
	struct vh_vm *capped, *low;
	struct vh_cpu_stats st, vst;

	sched_env_init(&e, 2, 1000);
	capped = sched_env_vm(&e, "capped", &(struct vm_spec){ .limit_mhz = 250 });
	sched_env_run(&e, 10 * SEC);
	st = sched_env_stats(&e, capped);
	vh_sched_vcpu_stats(&e.h, &capped->vcpus[0], sched_env_now(&e), &vst);
	printf("# capped alone: used %.3f s, ready %.3f s, limited %.3f s\n",
	       (double)st.used_ns / SEC, (double)st.ready_ns / SEC, (double)st.limited_ns / SEC);
	VH_EXPECT_GE(st.ready_ns, 7 * SEC);
	/* Ready only while throttled, but for the first dispatch. */
	VH_EXPECT_GE(st.limited_ns + 1 * MS, st.ready_ns);
	VH_EXPECT_LE(st.limited_ns, st.ready_ns);
	/* One vCPU: the VM's figure is its vCPU's. */
	VH_EXPECT_EQ(vst.limited_ns, st.limited_ns);
	sched_env_fini(&e);

	/* Two spinners on one pCPU, one with a tenth of the other's shares:
	 * ready most of the time, never limited. */
	sched_env_init(&e, 1, 1000);
	low = sched_env_vm(&e, "low", &(struct vm_spec){ .shares = 100 });
	sched_env_vm(&e, "high", &(struct vm_spec){ .shares = 1000 });
	sched_env_run(&e, 10 * SEC);
	st = sched_env_stats(&e, low);
	printf("# starved: used %.3f s, ready %.3f s, limited %.3f s\n", (double)st.used_ns / SEC,
	       (double)st.ready_ns / SEC, (double)st.limited_ns / SEC);
	VH_EXPECT_GE(st.ready_ns, 8 * SEC);
	VH_EXPECT_EQ(st.limited_ns, (uint64_t)0);
	sched_env_fini(&e);
}

/* A VM limited to 25% of a pCPU that loses half its time to its host
 * (windows of 2.5..7.5 ms), alone: the limit window counts the time it
 * really ran, so it gets its 25% of CPU time (in 50% of wall time), and
 * no 1-s window holds more.  report: the backend tells the scheduler. */
static void steal_observe(struct steal_sim *ss, uint64_t now, void *arg)
{
	struct trace *tr = arg;

	trace_add(tr, now, steal_sim_vm_real(ss, tr->vm, now));
}

static void steal_limit(bool report, double *worst, double *total)
{
	struct sched_env e;
	struct steal_sim ss;
	struct trace tr = { 0 };

	sched_env_init(&e, 1, 1000);
	steal_sim_init(&ss, &e, report);
	/* Settled every 1 ms: the trace then sees the real run often enough
	 * for its windows (between instants it interpolates). */
	ss.tick_ns = 1 * MS;
	ss.pat[0] = (struct steal_pattern){ .run_ns = 5 * MS, .lost_ns = 5 * MS };
	tr.e = &e;
	tr.vm = sched_env_vm(&e, "limited", &(struct vm_spec){ .limit_mhz = 250 });
	ss.observe = steal_observe;
	ss.observe_arg = &tr;
	steal_observe(&ss, 0, &tr);
	steal_sim_run(&ss, 10 * SEC);
	*worst = trace_max_window(&tr, SEC, 0, 10 * SEC) / SEC;
	*total = (double)steal_sim_vm_real(&ss, tr.vm, sched_env_now(&e)) / (10.0 * SEC);
	printf("# %s: ran %.4f%% of the pCPU's time on average, worst 1-s window %.4f%% "
	       "(limit 25%%, the pCPU ran %.2f%%)\n", report ? "steal reported" : "steal unseen",
	       100 * *total, 100 * *worst,
	       100 - 100.0 * steal_sim_lost_by(&ss, 0, sched_env_now(&e)) / (10.0 * SEC));
	trace_free(&tr);
	steal_sim_fini(&ss);
	sched_env_fini(&e);
}

VH_TEST(sched_limit, limit_counts_run_time_despite_steal)
{
	double worst, total;

	steal_limit(true, &worst, &total);
	VH_EXPECT(worst <= 0.26);
	VH_EXPECT(total >= 0.24);
	/* Counting wall time, the same VM got half its limit. */
	steal_limit(false, &worst, &total);
	VH_EXPECT(total < 0.2);
}

VH_TEST(sched_limit, multi_vcpu_vm_limited_in_total)
{
	/* 4 vCPUs on 4 pCPUs limited to 1.5 pCPUs in total. */
	struct sched_env e;
	struct vh_vm *vm;
	double got;

	sched_env_init(&e, 4, 1000);
	vm = sched_env_vm(&e, "wide", &(struct vm_spec){ .vcpus = 4, .limit_mhz = 1500,
							 .cosched = VH_COSCHED_NONE });
	sched_env_run(&e, 10 * SEC);
	got = (double)sched_env_used(&e, vm) / (10.0 * SEC);
	printf("# 4 vCPUs limited to 1.5 pCPUs: %.4f pCPUs\n", got);
	VH_EXPECT(got <= 1.5 * 1.01);
	VH_EXPECT(got >= 1.5 * 0.97);
	sched_env_fini(&e);
}

VH_TEST(sched_limit, shares_change_applies_within_one_quantum)
{
	/* Two equal VMs on one pCPU; a's shares triple at 2 s.  From one
	 * quantum after the change on, a gets 75% of every 100 ms. */
	struct sched_env e;
	struct vh_vm *a, *b;
	uint64_t a0;

	sched_env_init(&e, 1, 1000);
	a = sched_env_vm(&e, "a", &(struct vm_spec){ .shares = 1000 });
	b = sched_env_vm(&e, "b", &(struct vm_spec){ .shares = 1000 });
	sched_env_run(&e, 2 * SEC);
	VH_EXPECT_NEAR((double)sched_env_used(&e, a) / sched_env_used(&e, b), 1.0, 0.01);
	sched_env_set_cpu(&e, a, 3000, 0, 0);
	sched_env_run(&e, 1 * MS);
	for (int i = 0; i < 10; i++) {
		double frac;
		a0 = sched_env_used(&e, a);
		sched_env_run(&e, 100 * MS);
		frac = (double)(sched_env_used(&e, a) - a0) / (100.0 * MS);
		if (i == 0)
			printf("# first 100 ms after the change (+1 quantum): a %.4f (want 0.75)\n",
			       frac);
		VH_EXPECT_NEAR(frac, 0.75, 0.011);
	}
	sched_env_fini(&e);
}

VH_TEST(sched_limit, limit_and_reservation_changes_apply_at_run_time)
{
	struct sched_env e;
	struct trace tr = { 0 };
	struct vh_vm *a, *b;
	uint64_t a0, t0;
	double worst;

	sched_env_init(&e, 1, 1000);
	a = sched_env_vm(&e, "a", &(struct vm_spec){ .shares = 1000 });
	b = sched_env_vm(&e, "b", &(struct vm_spec){ .shares = 9000 });
	sched_env_run(&e, 2 * SEC);
	/* A reservation of 60% takes a from 10% to 60% at once. */
	sched_env_set_cpu(&e, a, 1000, 600, 0);
	sched_env_run(&e, 1 * MS);
	a0 = sched_env_used(&e, a);
	sched_env_run(&e, 100 * MS);
	printf("# 100 ms after reserving 60%%: a %.4f\n",
	       (double)(sched_env_used(&e, a) - a0) / (100.0 * MS));
	VH_EXPECT_GE(sched_env_used(&e, a) - a0, 60 * MS);
	/* Drop the reservation, give a 90% by shares but cap it at 20%:
	 * from the change on no 1-s window holds more than 20% + 1%. */
	sched_env_set_cpu(&e, a, 81000, 0, 200);
	t0 = sched_env_now(&e);
	tr.e = &e;
	tr.vm = a;
	vh_sim_cpu_set_observer(e.sc, trace_observe, &tr);
	trace_observe(&tr, t0);
	sched_env_run(&e, 1 * MS);
	a0 = sched_env_used(&e, a);
	sched_env_run(&e, 5 * SEC);
	/* The window still holds the 60% it ran before the change, so a
	 * waits until that has aged out: over the next second it gets at
	 * most the 20%. */
	worst = trace_max_window(&tr, SEC, t0, t0 + 5 * SEC);
	printf("# after limiting to 20%%: worst 1-s window %.4f%%\n", 100 * worst / SEC);
	VH_EXPECT(worst <= 0.21 * SEC);
	VH_EXPECT_GE(sched_env_used(&e, a) - a0, (uint64_t)(0.19 * 4 * SEC));
	vh_sim_cpu_set_observer(e.sc, NULL, NULL);
	trace_free(&tr);
	/* Lifting the limit gives a its 90% share within a quantum. */
	sched_env_set_cpu(&e, a, 81000, 0, 0);
	sched_env_run(&e, 1 * MS);
	a0 = sched_env_used(&e, a);
	sched_env_run(&e, 100 * MS);
	printf("# 100 ms after lifting the limit: a %.4f (want 0.90)\n",
	       (double)(sched_env_used(&e, a) - a0) / (100.0 * MS));
	VH_EXPECT_NEAR((double)(sched_env_used(&e, a) - a0) / (100.0 * MS), 0.90, 0.011);
	(void)b;
	sched_env_fini(&e);
}
