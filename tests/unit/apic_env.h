/* SPDX-License-Identifier: Apache-2.0 */
/* A started VM of a few vCPUs on the simulated platform, with its local
 * APICs reached through the device models' MMIO entry, as a guest reaches
 * them: for the APIC model's tests and the vCPU layer's. */
#ifndef VH_TEST_APIC_ENV_H
#define VH_TEST_APIC_ENV_H

#include "mem_env.h"
#include "vh/devices.h"
#include "vh/lapic.h"

struct apic_env {
	struct mem_env m;
	struct vh_vm *vm;
};

static inline void apic_env_init(struct apic_env *e, uint32_t vcpus)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };

	mem_env_init(&e->m, 64);
	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "smp");
	cfg.memory_mib = 4;
	cfg.vcpus = vcpus;
	e->vm = vh_vm_define(&e->m.h, &cfg, &err);
	if (!e->vm || vh_vm_start(&e->m.h, e->vm, &err))
		VH_FAIL("vm: %s", err.reason);
}

static inline uint32_t rd(struct apic_env *e, uint32_t cpu, uint32_t reg)
{
	uint64_t v = 0xdead;

	VH_EXPECT_EQ((int)vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[cpu], VH_LAPIC_BASE + reg,
					  4, false, &v),
		     (int)VH_IO_HANDLED);
	return (uint32_t)v;
}

static inline void wr(struct apic_env *e, uint32_t cpu, uint32_t reg, uint32_t val)
{
	uint64_t v = val;

	VH_EXPECT_EQ((int)vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[cpu], VH_LAPIC_BASE + reg,
					  4, true, &v),
		     (int)VH_IO_HANDLED);
}

static inline int run_state(struct apic_env *e, uint32_t cpu, uint8_t *vec)
{
	return (int)vh_lapic_run_state(&e->m.h, e->vm, &e->vm->vcpus[cpu], vec);
}

static inline int pending(struct apic_env *e, uint32_t cpu)
{
	return vh_lapic_pending(&e->m.h, e->vm, &e->vm->vcpus[cpu]);
}

#endif
