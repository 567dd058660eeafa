/* SPDX-License-Identifier: Apache-2.0 */
/* Scheduler decision cost: the median time of one vh_sched_next() (charge
 * the previous vCPU, queue it again, pick the next) with 100, 1,000 and
 * 10,000 runnable CPU-bound vCPUs on 16 simulated pCPUs, each pCPU coming
 * back at the end of every quantum.  The pick must grow no faster than
 * log n: the ratio of the costs is printed next to the ratio of the
 * logarithms.  Medians of 7 runs of 200,000 decisions each, after a warm
 * pass; the scheduler is driven directly (no simulated workload), so only
 * its own work is timed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_platform.h"
#include "vh/host.h"
#include "vh/sched.h"
#include "vh/vm.h"

#define PCPUS 16
#define VCPUS_PER_VM 10
#define RUNS 7
#define PICKS 200000u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ns per decision, one run. */
static double run(unsigned nvcpus, enum vh_cosched_mode mode)
{
	struct vh_host_config hc = { .pcpus = PCPUS, .mhz_per_pcpu = 2000,
				     .memory_bytes = 64 * VH_MIB };
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_error err;
	struct vh_vcpu *prev[PCPUS] = { 0 };
	uint64_t now = 0, q;
	double t0, t1;

	if (!vh_sim_platform_init(&sp, hc.memory_bytes, PCPUS, 1) ||
	    vh_host_init(&h, &hc, &sp.plat, &err)) {
		fprintf(stderr, "sched_pick: host set-up failed\n");
		exit(1);
	}
	q = h.sched.params.quantum_ns;
	for (unsigned i = 0; i < nvcpus / VCPUS_PER_VM; i++) {
		struct vh_vm_config cfg;
		struct vh_vm *vm;
		vh_vm_config_default(&cfg);
		snprintf(cfg.name, sizeof(cfg.name), "vm%u", i);
		cfg.vcpus = VCPUS_PER_VM;
		cfg.memory_mib = 1;
		cfg.cosched = mode;
		/* Varied shares, so the queue order keeps changing. */
		cfg.cpu.shares.level = VH_SHARES_CUSTOM;
		cfg.cpu.shares.custom = 1000 + 37 * (i % 97);
		vm = vh_vm_define(&h, &cfg, &err);
		if (!vm || vh_vm_start(&h, vm, &err)) {
			fprintf(stderr, "sched_pick: %s\n", err.reason);
			exit(1);
		}
	}
	/* Warm up: every vCPU runs a few times. */
	for (unsigned i = 0; i < 4 * nvcpus; i++) {
		unsigned p = i % PCPUS;
		if (!p)
			now += q;
		prev[p] = vh_sched_next(&h, p, now, prev[p], VH_SCHED_PREEMPTED, 0).vcpu;
	}
	t0 = now_s();
	for (unsigned i = 0; i < PICKS; i++) {
		unsigned p = i % PCPUS;
		if (!p)
			now += q;
		prev[p] = vh_sched_next(&h, p, now, prev[p], VH_SCHED_PREEMPTED, 0).vcpu;
	}
	t1 = now_s();
	for (unsigned p = 0; p < PCPUS; p++) {
		if (!prev[p]) {
			fprintf(stderr, "sched_pick: pCPU %u went idle with %u runnable vCPUs\n", p,
				nvcpus);
			exit(1);
		}
	}
	vh_host_fini(&h);
	vh_sim_platform_fini(&sp);
	return (t1 - t0) * 1e9 / PICKS;
}

static bool series(enum vh_cosched_mode mode, const char *name)
{
	static const unsigned sizes[] = { 100, 1000, 10000 };
	double med[3];
	bool ok = true;

	printf("co-scheduling %s, %u vCPUs per VM:\n", name, VCPUS_PER_VM);
	printf("  %8s  %12s  %12s  %12s\n", "runnable", "ns/decision", "ratio to 100", "log ratio");
	for (int s = 0; s < 3; s++) {
		double r[RUNS], ratio, logr;
		for (int i = 0; i < RUNS; i++)
			r[i] = run(sizes[s], mode);
		qsort(r, RUNS, sizeof(r[0]), cmp_double);
		med[s] = r[RUNS / 2];
		ratio = med[s] / med[0];
		logr = log((double)sizes[s]) / log((double)sizes[0]);
		/* Within log n: the cost grows no faster than the logarithm
		 * (10% allowed for timing noise). */
		if (ratio > logr * 1.10)
			ok = false;
		printf("  %8u  %12.1f  %12.2f  %12.2f   (runs %.1f..%.1f)\n", sizes[s], med[s],
		       ratio, logr, r[0], r[RUNS - 1]);
	}
	printf("  growth within log n: %s\n", ok ? "yes" : "NO");
	return ok;
}

int main(void)
{
	char model[128] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	bool ok;

	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f)) {
			char *c = strchr(line, ':');
			if (!strncmp(line, "model name", 10) && c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = 0;
				break;
			}
		}
		fclose(f);
	}
	printf("sched_pick: %u simulated pCPUs, median of %d runs x %u decisions, %s\n", PCPUS,
	       RUNS, PICKS, model);
	ok = series(VH_COSCHED_NONE, "none");
	ok = series(VH_COSCHED_RELAXED, "relaxed") && ok;
	return ok ? 0 : 1;
}
