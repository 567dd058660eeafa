/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated CPU side: pCPUs that run the scheduler's per-pCPU loop
 * (vh_sched_next) in deterministic event order over the simulated
 * platform's clock, and a workload model per vCPU, so that tests, the
 * benchmarks and vh-sim drive the real scheduler exactly as a backend
 * would.
 *
 * Workloads (struct vh_sim_workload, scenario.h):
 *   cpu     always runnable; never halts.
 *   idle    halts at once, with no timer: runs only when interrupted
 *           (vh_sim_cpu_interrupt), and then halts again.
 *   bursty  runs run_ns of CPU, then halts with its timer set sleep_ns
 *           ahead (the scheduler wakes it); repeats.
 *   smp     every vCPU of the VM runs run_ns of work, then waits at a
 *           barrier until all its siblings reach it.  A waiting vCPU
 *           spins (burning its pCPU, as guest spin-waits do) for up to the
 *           VM's spin limit, then halts until the last sibling arrives and
 *           wakes it.  The default limit is "forever": pure spinning, which
 *           is what makes co-scheduling matter.  Barriers passed per
 *           second is the VM's useful throughput; spin time is waste.
 *
 * Events at the same instant are handled in pCPU order; a kick makes the
 * kicked pCPU come back to the scheduler at the current instant.  Every
 * call into the core holds the platform lock. */
#ifndef VH_SIM_CPU_H
#define VH_SIM_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "scenario.h"
#include "sim_platform.h"
#include "vh/host.h"
#include "vh/vm.h"

#define VH_SIM_SPIN_FOREVER UINT64_MAX

/* What one simulated vCPU did. */
struct vh_sim_vcpu_stats {
	uint64_t work_ns;          /* useful guest work (cpu, bursty, smp work) */
	uint64_t spin_ns;          /* spinning at a barrier */
	uint64_t halts;            /* times it halted */
	uint64_t bursts;           /* bursty: bursts completed */
	uint64_t barriers;         /* smp: barriers passed */
	uint64_t wakes;            /* dispatched after a timed halt */
	uint64_t wake_late_max_ns; /* latest dispatch after the timer was due */
	uint64_t wake_late_sum_ns;
};

struct vh_sim_cpu;

/* Simulates the host's pCPUs (h->cfg.pcpus of them) on sp's clock.
 * NULL when out of memory. */
struct vh_sim_cpu *vh_sim_cpu_create(struct vh_host *h, struct vh_sim_platform *sp);
void vh_sim_cpu_destroy(struct vh_sim_cpu *sc);

/* The share of each pCPU's time with a vCPU that its host takes (in
 * thousandths, at most 900): a model of vh-hosted's pCPU threads on a
 * loaded Linux, reported to the scheduler with vh_sched_steal as that
 * backend reports it.  0 (the default): the pCPUs are the simulation's. */
void vh_sim_cpu_set_steal(struct vh_sim_cpu *sc, uint32_t permille);

/* Gives every vCPU of vm this workload (a VM never given one is cpu).
 * Takes effect at once, also for running vCPUs.  False when out of
 * memory. */
bool vh_sim_cpu_set_workload(struct vh_sim_cpu *sc, struct vh_vm *vm,
			     const struct vh_sim_workload *w);
/* smp: how long a vCPU at a barrier spins before it halts. */
bool vh_sim_cpu_set_barrier_spin(struct vh_sim_cpu *sc, struct vh_vm *vm, uint64_t spin_ns);
/* Drops what the simulator keeps for vm: call before undefining it. */
void vh_sim_cpu_forget_vm(struct vh_sim_cpu *sc, struct vh_vm *vm);

/* Runs the pCPUs until the platform clock reaches t (absolute ns). */
void vh_sim_cpu_run_until(struct vh_sim_cpu *sc, uint64_t t);
/* Called once for every instant at which something happened, after all
 * of that instant's events (invariants are checked here). */
void vh_sim_cpu_set_observer(struct vh_sim_cpu *sc, void (*fn)(void *arg, uint64_t now),
			     void *arg);

/* A device interrupt for v at the current instant. */
void vh_sim_cpu_interrupt(struct vh_sim_cpu *sc, struct vh_vcpu *v);

/* Counters (zeros for a vCPU the simulator never saw). */
void vh_sim_cpu_vcpu_stats(struct vh_sim_cpu *sc, struct vh_vcpu *v, struct vh_sim_vcpu_stats *out);
void vh_sim_cpu_vm_stats(struct vh_sim_cpu *sc, struct vh_vm *vm, struct vh_sim_vcpu_stats *out);
/* smp: barriers the whole VM passed. */
uint64_t vh_sim_cpu_vm_barriers(struct vh_sim_cpu *sc, struct vh_vm *vm);
/* Scheduler decisions the simulated pCPUs asked for. */
uint64_t vh_sim_cpu_decisions(const struct vh_sim_cpu *sc);

#endif
