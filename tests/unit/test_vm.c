/* SPDX-License-Identifier: Apache-2.0 */
/* VM lifecycle, configuration validation and admission control on the
 * simulated platform. */
#include <stdio.h>
#include <string.h>

#include "sim_platform.h"
#include "vh/host.h"
#include "vh/vm.h"
#include "vh_test.h"

struct fixture {
	struct vh_sim_platform sp;
	struct vh_host h;
};

/* 2 pCPUs x 2000 MHz, 256 MiB of host memory, 32 MiB of it overhead. */
static void setup(struct fixture *f)
{
	struct vh_host_config hc = { .pcpus = 2, .mhz_per_pcpu = 2000,
				     .memory_bytes = 256ull << 20, .overhead_bytes = 32ull << 20 };
	struct vh_error err;

	VH_ASSERT(vh_sim_platform_init(&f->sp, hc.memory_bytes, hc.pcpus, 1));
	if (vh_host_init(&f->h, &hc, &f->sp.plat, &err)) {
		vh_sim_platform_fini(&f->sp);
		VH_FAIL("vh_host_init: %s", err.reason);
	}
}

static void teardown(struct fixture *f)
{
	vh_host_fini(&f->h);
	VH_EXPECT_EQ(f->sp.alloc_bytes, 0ull); /* nothing leaked */
	vh_sim_platform_fini(&f->sp);
}

static struct vh_vm *define(struct fixture *f, const char *name, uint64_t res_mhz, uint64_t res_mib)
{
	struct vh_vm_config cfg;
	struct vh_error err;
	struct vh_vm *vm;

	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	cfg.memory_mib = res_mib > 64 ? res_mib : 64;
	cfg.cpu.reservation_mhz = res_mhz;
	cfg.mem.reservation_mib = res_mib;
	vm = vh_vm_define(&f->h, &cfg, &err);
	if (!vm)
		VH_FAIL("define %s: %s", name, err.reason);
	return vm;
}

VH_TEST(vm, capacity_is_cpus_times_mhz_and_memory_less_overhead)
{
	struct fixture f;

	setup(&f);
	VH_EXPECT_EQ(vh_host_cpu_capacity_mhz(&f.h), 4000ull);
	VH_EXPECT_EQ(vh_host_mem_capacity_mib(&f.h), 224ull);
	teardown(&f);
}

VH_TEST(vm, host_config_is_validated)
{
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_error err;
	struct vh_host_config bad[] = {
		{ .pcpus = 0, .mhz_per_pcpu = 1000, .memory_bytes = 16ull << 20 },
		{ .pcpus = 1, .mhz_per_pcpu = 0, .memory_bytes = 16ull << 20 },
		{ .pcpus = 1, .mhz_per_pcpu = 1000, .memory_bytes = 4097 },
		{ .pcpus = 1, .mhz_per_pcpu = 1000, .memory_bytes = 16ull << 20,
		  .overhead_bytes = 16ull << 20 },
	};
	const char *field[] = { "host.pcpus", "host.mhz_per_pcpu", "host.memory_bytes",
				"host.overhead_bytes" };

	VH_ASSERT(vh_sim_platform_init(&sp, 16ull << 20, 1, 1));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		VH_EXPECT_EQ(vh_host_init(&h, &bad[i], &sp.plat, &err), (int)VH_E_INVAL);
		VH_EXPECT(strstr(err.reason, field[i]) != NULL);
	}
	VH_EXPECT_EQ(sp.alloc_bytes, 0ull);
	vh_sim_platform_fini(&sp);
}

VH_TEST(vm, defaults_are_esx_like)
{
	struct vh_vm_config cfg;

	vh_vm_config_default(&cfg);
	VH_EXPECT_EQ(cfg.vcpus, 1u);
	VH_EXPECT_EQ((int)cfg.cpu.shares.level, (int)VH_SHARES_NORMAL);
	VH_EXPECT_EQ(cfg.cpu.limit_mhz, VH_UNLIMITED);
	VH_EXPECT_EQ(cfg.mem.limit_mib, VH_UNLIMITED);
	VH_EXPECT_EQ(vh_cpu_shares_value(&cfg.cpu.shares, 4), 4000ull);
	VH_EXPECT_EQ(vh_mem_shares_value(&cfg.mem.shares, 256), 2560ull);
	cfg.cpu.shares = (struct vh_shares){ .level = VH_SHARES_HIGH };
	VH_EXPECT_EQ(vh_cpu_shares_value(&cfg.cpu.shares, 2), 4000ull);
	cfg.cpu.shares = (struct vh_shares){ .level = VH_SHARES_CUSTOM, .custom = 1234 };
	VH_EXPECT_EQ(vh_cpu_shares_value(&cfg.cpu.shares, 2), 1234ull);
}

/* Each mutation must be refused with a reason naming the field. */
VH_TEST(vm, config_validation_names_the_field)
{
	struct vh_vm_config cfg;
	struct vh_error err;

	vh_vm_config_default(&cfg);
	strcpy(cfg.name, "ok-name_1.x");
	VH_EXPECT_EQ(vh_vm_config_validate(&cfg, &err), (int)VH_OK);

#define REFUSED(field, ...)                                                         \
	do {                                                                        \
		vh_vm_config_default(&cfg);                                         \
		strcpy(cfg.name, "vm");                                             \
		__VA_ARGS__;                                                        \
		VH_EXPECT_EQ(vh_vm_config_validate(&cfg, &err), (int)VH_E_INVAL);   \
		if (!strstr(err.reason, field))                                     \
			VH_FAIL("reason \"%s\" does not name %s", err.reason, field); \
	} while (0)

	REFUSED("name", cfg.name[0] = '\0');
	REFUSED("name", strcpy(cfg.name, "-lead"));
	REFUSED("name", strcpy(cfg.name, "has space"));
	REFUSED("name", memset(cfg.name, 'a', sizeof(cfg.name)));
	REFUSED("vcpus", cfg.vcpus = 0);
	REFUSED("vcpus", cfg.vcpus = 65);
	REFUSED("memory_mib", cfg.memory_mib = 0);
	REFUSED("cpu.shares", cfg.cpu.shares = (struct vh_shares){ VH_SHARES_CUSTOM, 0 });
	REFUSED("cpu.shares", cfg.cpu.shares = (struct vh_shares){ VH_SHARES_CUSTOM, 1000001 });
	REFUSED("cpu.shares", cfg.cpu.shares.level = (enum vh_shares_level)9);
	REFUSED("cpu.limit_mhz", cfg.cpu.limit_mhz = 0);
	REFUSED("cpu.reservation_mhz", (cfg.cpu.reservation_mhz = 600, cfg.cpu.limit_mhz = 500));
	REFUSED("memory.reservation_mib", cfg.mem.reservation_mib = cfg.memory_mib + 1);
	REFUSED("memory.reservation_mib", (cfg.mem.reservation_mib = 32, cfg.mem.limit_mib = 16));
	REFUSED("memory.shares", cfg.mem.shares.level = (enum vh_shares_level)7);
	REFUSED("cosched", cfg.cosched = (enum vh_cosched_mode)3);
	REFUSED("boot.kernel", memset(cfg.boot.kernel, 'k', sizeof(cfg.boot.kernel)));
	REFUSED("boot.cmdline", memset(cfg.boot.cmdline, 'c', sizeof(cfg.boot.cmdline)));
	REFUSED("boot.modules", cfg.boot.nmodules = VH_BOOT_MAX_MODULES + 1);
	REFUSED("boot.modules[].image", cfg.boot.nmodules = 1);
	REFUSED("devices", cfg.ndevices = VH_VM_MAX_DEVICES + 1);
	REFUSED("devices[0].type", cfg.devices[0].type = 99);
	REFUSED("devices[1].type", cfg.devices[1].type = VH_DEV_UART16550);
	REFUSED("devices[0].flags", cfg.devices[0].flags = 1);
	/* Disks: names as VM names (never a path), known flags, no disk twice. */
	REFUSED("disks", cfg.ndisks = VH_VM_MAX_DISKS + 1);
	REFUSED("disks[0].name", cfg.ndisks = 1);
	REFUSED("disks[0].name", (cfg.ndisks = 1, strcpy(cfg.disks[0].name, "a/b")));
	REFUSED("disks[0].name", (cfg.ndisks = 1, strcpy(cfg.disks[0].name, "..")));
	REFUSED("disks[0].name", (cfg.ndisks = 1, strcpy(cfg.disks[0].name, ".hidden")));
	REFUSED("disks[0].name",
		(cfg.ndisks = 1, memset(cfg.disks[0].name, 'd', sizeof(cfg.disks[0].name))));
	REFUSED("disks[0].flags",
		(cfg.ndisks = 1, strcpy(cfg.disks[0].name, "d"), cfg.disks[0].flags = 2));
	REFUSED("disks[1].name", (cfg.ndisks = 2, strcpy(cfg.disks[0].name, "d"),
				  strcpy(cfg.disks[1].name, "d"), cfg.disks[1].flags = 1));
#undef REFUSED
	vh_vm_config_default(&cfg);
	strcpy(cfg.name, "vm");
	cfg.ndisks = VH_VM_MAX_DISKS;
	for (uint32_t i = 0; i < VH_VM_MAX_DISKS; i++)
		snprintf(cfg.disks[i].name, sizeof(cfg.disks[i].name), "disk-%u.raw", i);
	cfg.disks[3].flags = VH_DISK_F_READONLY;
	VH_EXPECT_EQ(vh_vm_config_validate(&cfg, &err), (int)VH_OK);
}

VH_TEST(vm, names_and_uuids_are_unique_and_uuids_generated)
{
	struct fixture f;
	struct vh_vm_config cfg;
	struct vh_error err;
	struct vh_vm *a, *b;

	setup(&f);
	a = define(&f, "alpha", 0, 0);
	b = define(&f, "beta", 0, 0);
	VH_ASSERT(a && b);
	VH_EXPECT_NE(a->id, b->id);
	VH_EXPECT(memcmp(a->cfg.uuid, b->cfg.uuid, 16) != 0);
	VH_EXPECT_EQ(a->cfg.uuid[6] >> 4, 4);          /* version 4 */
	VH_EXPECT_EQ(a->cfg.uuid[8] & 0xc0, 0x80);     /* RFC variant */
	VH_EXPECT(vh_vm_find_name(&f.h, "beta") == b);
	VH_EXPECT(vh_vm_find_uuid(&f.h, a->cfg.uuid) == a);
	VH_EXPECT(vh_vm_find_id(&f.h, b->id) == b);

	vh_vm_config_default(&cfg);
	strcpy(cfg.name, "alpha");
	VH_EXPECT(vh_vm_define(&f.h, &cfg, &err) == NULL);
	VH_EXPECT_EQ((int)err.code, (int)VH_E_EXIST);
	strcpy(cfg.name, "gamma");
	memcpy(cfg.uuid, a->cfg.uuid, 16);
	VH_EXPECT(vh_vm_define(&f.h, &cfg, &err) == NULL);
	VH_EXPECT_EQ((int)err.code, (int)VH_E_EXIST);
	VH_EXPECT_EQ(f.h.nvms, 2u);
	teardown(&f);
}

VH_TEST(vm, only_legal_transitions)
{
	struct fixture f;
	struct vh_error err;
	struct vh_vm *vm;

	setup(&f);
	vm = define(&f, "life", 0, 0);
	VH_ASSERT(vm);
	VH_EXPECT_EQ((int)vm->state, (int)VH_VM_DEFINED);
	VH_EXPECT_EQ(vh_vm_pause(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT(strstr(err.reason, "cannot pause VM \"life\": it is defined") != NULL);
	VH_EXPECT_EQ(vh_vm_stop(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT_EQ(vh_vm_resume(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT_EQ(vh_vm_reset(&f.h, vm, &err), (int)VH_E_STATE);

	VH_EXPECT_EQ(vh_vm_start(&f.h, vm, &err), (int)VH_OK);
	VH_EXPECT_EQ((int)vm->state, (int)VH_VM_RUNNING);
	VH_EXPECT_EQ(vh_vm_start(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT_EQ(vh_vm_resume(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT_EQ(vh_vm_undefine(&f.h, vm, &err), (int)VH_E_STATE);

	VH_EXPECT_EQ(vh_vm_pause(&f.h, vm, &err), (int)VH_OK);
	VH_EXPECT_EQ((int)vm->state, (int)VH_VM_PAUSED);
	VH_EXPECT_EQ(vh_vm_pause(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT_EQ(vh_vm_undefine(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT_EQ(vh_vm_resume(&f.h, vm, &err), (int)VH_OK);

	uint32_t gen = vm->boot_generation;
	VH_EXPECT_EQ(vh_vm_reset(&f.h, vm, &err), (int)VH_OK);
	VH_EXPECT_EQ((int)vm->state, (int)VH_VM_RUNNING);
	VH_EXPECT_EQ(vm->boot_generation, gen + 1);

	VH_EXPECT_EQ(vh_vm_crash(&f.h, vm, "triple fault"), (int)VH_OK);
	VH_EXPECT_EQ((int)vm->state, (int)VH_VM_CRASHED);
	VH_EXPECT(strstr(f.sp.last_log, "triple fault") != NULL);
	VH_EXPECT_EQ(vh_vm_pause(&f.h, vm, &err), (int)VH_E_STATE);
	VH_EXPECT_EQ(vh_vm_start(&f.h, vm, &err), (int)VH_OK);
	VH_EXPECT_EQ(vh_vm_stop(&f.h, vm, &err), (int)VH_OK);
	VH_EXPECT_EQ((int)vm->state, (int)VH_VM_STOPPED);
	VH_EXPECT_EQ(vh_vm_undefine(&f.h, vm, &err), (int)VH_OK);
	VH_EXPECT_EQ(f.h.nvms, 0u);
	teardown(&f);
}

VH_TEST(vm, admission_refuses_overcommit_naming_the_shortfall)
{
	struct fixture f;
	struct vh_error err;
	struct vh_vm *a, *b, *c;

	setup(&f);
	a = define(&f, "a", 3000, 100);
	b = define(&f, "b", 1500, 0);
	c = define(&f, "c", 0, 200);
	VH_ASSERT(a && b && c);
	VH_ASSERT_EQ(vh_vm_start(&f.h, a, &err), (int)VH_OK);
	VH_EXPECT_EQ(f.h.reserved_mhz, 3000ull);
	VH_EXPECT_EQ(f.h.reserved_mib, 100ull);

	/* 1500 MHz more on a 4000 MHz host with 3000 reserved: 500 short. */
	VH_EXPECT_EQ(vh_vm_start(&f.h, b, &err), (int)VH_E_ADMISSION);
	VH_EXPECT(strstr(err.reason, "cpu.reservation_mhz") != NULL);
	VH_EXPECT(strstr(err.reason, "short by 500 MHz") != NULL);
	VH_EXPECT_EQ((int)b->state, (int)VH_VM_DEFINED);
	/* 200 MiB more with 124 of 224 unreserved: 76 short. */
	VH_EXPECT_EQ(vh_vm_start(&f.h, c, &err), (int)VH_E_ADMISSION);
	VH_EXPECT(strstr(err.reason, "short by 76 MiB") != NULL);
	VH_EXPECT_EQ((int)c->state, (int)VH_VM_DEFINED);
	VH_EXPECT_EQ(f.h.reserved_mhz, 3000ull);
	VH_EXPECT_EQ(f.h.reserved_mib, 100ull);

	/* A run-time increase on a running VM is admitted the same way. */
	struct vh_cpu_controls cpu = a->cfg.cpu;
	cpu.reservation_mhz = 4500;
	VH_EXPECT_EQ(vh_vm_set_cpu(&f.h, a, &cpu, &err), (int)VH_E_ADMISSION);
	VH_EXPECT(strstr(err.reason, "short by 500 MHz") != NULL);
	VH_EXPECT_EQ(a->cfg.cpu.reservation_mhz, 3000ull);
	cpu.reservation_mhz = 4000;
	VH_EXPECT_EQ(vh_vm_set_cpu(&f.h, a, &cpu, &err), (int)VH_OK);
	VH_EXPECT_EQ(f.h.reserved_mhz, 4000ull);

	/* Stopping releases everything; then b fits. */
	VH_EXPECT_EQ(vh_vm_stop(&f.h, a, &err), (int)VH_OK);
	VH_EXPECT_EQ(f.h.reserved_mhz, 0ull);
	VH_EXPECT_EQ(f.h.reserved_mib, 0ull);
	VH_EXPECT_EQ(vh_vm_start(&f.h, b, &err), (int)VH_OK);
	VH_EXPECT_EQ(vh_vm_start(&f.h, c, &err), (int)VH_OK);
	VH_EXPECT_EQ(f.h.reserved_mib, 200ull);
	teardown(&f);
}

VH_TEST(vm, controls_on_a_stopped_vm_apply_at_power_on)
{
	struct fixture f;
	struct vh_error err;
	struct vh_vm *vm;
	struct vh_mem_controls mem;

	setup(&f);
	vm = define(&f, "later", 0, 0);
	VH_ASSERT(vm);
	mem = vm->cfg.mem;
	mem.reservation_mib = 48;
	VH_EXPECT_EQ(vh_vm_set_mem(&f.h, vm, &mem, &err), (int)VH_OK);
	VH_EXPECT_EQ(f.h.reserved_mib, 0ull); /* not powered on: nothing held */
	VH_EXPECT_EQ(vh_vm_start(&f.h, vm, &err), (int)VH_OK);
	VH_EXPECT_EQ(f.h.reserved_mib, 48ull);
	mem.reservation_mib = 65;
	VH_EXPECT_EQ(vh_vm_set_mem(&f.h, vm, &mem, &err), (int)VH_E_INVAL);
	VH_EXPECT_EQ(vh_vm_set_balloon(&f.h, vm, 65, &err), (int)VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "balloon.target_mib") != NULL);
	VH_EXPECT_EQ(vm->cfg.mem.reservation_mib, 48ull);
	teardown(&f);
}

VH_TEST(vm, host_vm_count_is_bounded)
{
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_host_config hc = { .pcpus = 1, .mhz_per_pcpu = 1000,
				     .memory_bytes = 64ull << 20, .max_vms = 3 };
	struct vh_vm_config cfg;
	struct vh_error err;

	VH_ASSERT(vh_sim_platform_init(&sp, hc.memory_bytes, 1, 1));
	VH_ASSERT_EQ(vh_host_init(&h, &hc, &sp.plat, &err), (int)VH_OK);
	vh_vm_config_default(&cfg);
	cfg.memory_mib = 4;
	for (int i = 0; i < 3; i++) {
		snprintf(cfg.name, sizeof(cfg.name), "vm%d", i);
		VH_EXPECT(vh_vm_define(&h, &cfg, &err) != NULL);
	}
	strcpy(cfg.name, "one-too-many");
	VH_EXPECT(vh_vm_define(&h, &cfg, &err) == NULL);
	VH_EXPECT_EQ((int)err.code, (int)VH_E_LIMIT);
	vh_host_fini(&h);
	VH_EXPECT_EQ(sp.alloc_bytes, 0ull);
	vh_sim_platform_fini(&sp);
}

VH_TEST(vm, metadata_exhaustion_fails_cleanly)
{
	struct fixture f;
	struct vh_vm_config cfg;
	struct vh_error err;
	uint64_t before;

	setup(&f);
	before = f.sp.alloc_bytes;
	f.sp.alloc_fail_after = before + 64; /* not even a struct vh_vm */
	vh_vm_config_default(&cfg);
	strcpy(cfg.name, "starved");
	VH_EXPECT(vh_vm_define(&f.h, &cfg, &err) == NULL);
	VH_EXPECT_EQ((int)err.code, (int)VH_E_NOMEM);
	VH_EXPECT_EQ(f.sp.alloc_bytes, before);
	VH_EXPECT_EQ(f.h.nvms, 0u);
	f.sp.alloc_fail_after = 0;
	teardown(&f);
}
