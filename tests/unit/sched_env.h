/* A host on the simulated platform with simulated pCPUs for the scheduler
 * tests: 1 ms quanta so that ten simulated seconds stay fast, small VMs
 * (the scheduler does not care about memory), and helpers that read CPU
 * time the way an operator would. */
#ifndef VH_TEST_SCHED_ENV_H
#define VH_TEST_SCHED_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cpu.h"
#include "sim_platform.h"
#include "vh/host.h"
#include "vh/sched.h"
#include "vh/vm.h"
#include "vh_test.h"

#define MS VH_NSEC_PER_MSEC
#define SEC VH_NSEC_PER_SEC

struct sched_env {
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_sim_cpu *sc;
};

/* pcpus pCPUs of `mhz` MHz, 1 ms quanta, the other tunables default. */
static inline void sched_env_init(struct sched_env *e, unsigned pcpus, uint32_t mhz)
{
	struct vh_host_config cfg = {
		.pcpus = pcpus, .mhz_per_pcpu = mhz, .memory_bytes = 64 * VH_MIB,
	};
	struct vh_sched_params p;
	struct vh_error err = { 0 };

	VH_ASSERT(vh_sim_platform_init(&e->sp, cfg.memory_bytes, pcpus, 7));
	if (vh_host_init(&e->h, &cfg, &e->sp.plat, &err))
		VH_FAIL("vh_host_init: %s", err.reason);
	vh_sched_params_default(&p);
	p.quantum_ns = 1 * MS;
	if (vh_sched_set_params(&e->h, &p, &err))
		VH_FAIL("vh_sched_set_params: %s", err.reason);
	e->sc = vh_sim_cpu_create(&e->h, &e->sp);
	VH_ASSERT(e->sc != NULL);
}

static inline void sched_env_fini(struct sched_env *e)
{
	for (uint32_t i = 0; i < e->h.cfg.max_vms; i++)
		if (e->h.vms[i])
			vh_sim_cpu_forget_vm(e->sc, e->h.vms[i]);
	vh_sim_cpu_destroy(e->sc);
	vh_host_fini(&e->h);
	VH_EXPECT_EQ(e->sp.alloc_bytes, (uint64_t)0); /* nothing leaked */
	vh_sim_platform_fini(&e->sp);
}

struct vm_spec {
	unsigned vcpus;
	uint32_t shares;          /* custom VM total; 0: normal */
	uint64_t reservation_mhz;
	uint64_t limit_mhz;       /* 0: unlimited */
	enum vh_cosched_mode cosched;
	enum vh_sim_workload_kind kind;
	uint64_t run_ns, sleep_ns;
};

static inline struct vh_vm *sched_env_vm(struct sched_env *e, const char *name,
					 const struct vm_spec *s)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };
	struct vh_sim_workload w = { .kind = s->kind, .run_ns = s->run_ns, .sleep_ns = s->sleep_ns };
	struct vh_vm *vm;

	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.vcpus = s->vcpus ? s->vcpus : 1;
	cfg.memory_mib = 1;
	if (s->shares) {
		cfg.cpu.shares.level = VH_SHARES_CUSTOM;
		cfg.cpu.shares.custom = s->shares;
	}
	cfg.cpu.reservation_mhz = s->reservation_mhz;
	cfg.cpu.limit_mhz = s->limit_mhz ? s->limit_mhz : VH_UNLIMITED;
	cfg.cosched = s->cosched;
	vm = vh_vm_define(&e->h, &cfg, &err);
	if (!vm)
		VH_FAIL("define %s: %s", name, err.reason);
	VH_ASSERT(vh_sim_cpu_set_workload(e->sc, vm, &w));
	if (vh_vm_start(&e->h, vm, &err))
		VH_FAIL("start %s: %s", name, err.reason);
	return vm;
}

static inline uint64_t sched_env_now(struct sched_env *e)
{
	return e->sp.now_ns;
}

static inline void sched_env_run(struct sched_env *e, uint64_t ns)
{
	vh_sim_cpu_run_until(e->sc, e->sp.now_ns + ns);
}

static inline struct vh_cpu_stats sched_env_stats(struct sched_env *e, struct vh_vm *vm)
{
	struct vh_cpu_stats st;

	vh_sched_vm_stats(&e->h, vm, e->sp.now_ns, &st);
	return st;
}

static inline uint64_t sched_env_used(struct sched_env *e, struct vh_vm *vm)
{
	return sched_env_stats(e, vm).used_ns;
}

static inline void sched_env_set_cpu(struct sched_env *e, struct vh_vm *vm, uint32_t shares,
				     uint64_t reservation_mhz, uint64_t limit_mhz)
{
	struct vh_cpu_controls c = vm->cfg.cpu;
	struct vh_error err = { 0 };

	if (shares) {
		c.shares.level = VH_SHARES_CUSTOM;
		c.shares.custom = shares;
	}
	c.reservation_mhz = reservation_mhz;
	c.limit_mhz = limit_mhz ? limit_mhz : VH_UNLIMITED;
	if (vh_vm_set_cpu(&e->h, vm, &c, &err))
		VH_FAIL("set cpu of %s: %s", vm->cfg.name, err.reason);
}

#endif
