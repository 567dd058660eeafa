/* SPDX-License-Identifier: Apache-2.0 */
/* A started VM on the simulated platform and its ports, for the device
 * tests (test_devices.c, test_platform_devices.c, test_rtc.c). */
#ifndef VH_TEST_DEV_ENV_H
#define VH_TEST_DEV_ENV_H

#include "mem_env.h"
#include "vh/devices.h"

struct dev_env {
	struct mem_env m;
	struct vh_vm *vm;
};

static inline void dev_env_init(struct dev_env *d, bool fw_cfg, uint32_t vcpus)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };

	mem_env_init(&d->m, 64);
	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "g");
	cfg.memory_mib = 8;
	cfg.vcpus = vcpus;
	if (fw_cfg)
		cfg.devices[cfg.ndevices++].type = VH_DEV_FW_CFG;
	d->vm = vh_vm_define(&d->m.h, &cfg, &err);
	if (!d->vm)
		VH_FAIL("define: %s", err.reason);
	if (vh_vm_start(&d->m.h, d->vm, &err))
		VH_FAIL("start: %s", err.reason);
}

static inline int out(struct dev_env *d, uint16_t port, unsigned size, uint32_t v)
{
	return vh_devices_io(&d->m.h, d->vm, &d->vm->vcpus[0], port, size, true, &v);
}

static inline uint32_t in(struct dev_env *d, uint16_t port, unsigned size)
{
	uint32_t v = 0xdeadbeef;

	VH_EXPECT_EQ((int)vh_devices_io(&d->m.h, d->vm, &d->vm->vcpus[0], port, size, false, &v),
		     VH_IO_HANDLED);
	return v;
}

#endif
