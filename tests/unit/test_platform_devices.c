/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI power-management registers and the i8042: the PM timer's rate,
 * the guest's reboot (ACPI reset register, i8042 0xfe and its output port)
 * and power off (S5) reaching the VM's state machine, the controller's
 * probe answers, and random register writes that never crash the VM or
 * another device. */
#include "dev_env.h"
#include "vh/acpi.h"

#define NS 1000000000ull

VH_TEST(acpi_pm, pm_timer_counts_at_3_579545_mhz)
{
	struct dev_env d;
	uint32_t t0, t1;

	dev_env_init(&d, false, 1);
	t0 = in(&d, VH_ACPI_PM_TMR_REG, 4);
	vh_sim_advance(&d.m.sp, NS);
	t1 = in(&d, VH_ACPI_PM_TMR_REG, 4);
	VH_EXPECT_EQ(t1 - t0, 3579545u);
	vh_sim_advance(&d.m.sp, 10 * 1000 * 1000); /* 10 ms */
	VH_EXPECT_EQ(in(&d, VH_ACPI_PM_TMR_REG, 4) - t1, 35795u);
	/* 32 bits wide: after an hour it has wrapped, the difference holds. */
	t0 = in(&d, VH_ACPI_PM_TMR_REG, 4);
	vh_sim_advance(&d.m.sp, 3600 * NS);
	VH_EXPECT_EQ(in(&d, VH_ACPI_PM_TMR_REG, 4) - t0, (uint32_t)(3600ull * 3579545u));
	/* Byte reads see the same counter; writes do not change it. */
	t0 = in(&d, VH_ACPI_PM_TMR_REG, 4);
	out(&d, VH_ACPI_PM_TMR_REG, 4, 0);
	VH_EXPECT_EQ(in(&d, VH_ACPI_PM_TMR_REG, 4), t0);
	VH_EXPECT_EQ(in(&d, VH_ACPI_PM_TMR_REG + 1, 1), (t0 >> 8) & 0xffu);
	mem_env_fini(&d.m);
}

VH_TEST(acpi_pm, reset_register_reboots_the_vm)
{
	struct dev_env d;
	uint32_t gen;
	uint64_t changes;

	dev_env_init(&d, false, 1);
	gen = d.vm->boot_generation;
	changes = d.vm->state_changes;
	/* Only the reset value resets. */
	VH_EXPECT_EQ(out(&d, VH_ACPI_RESET_REG, 1, 2), VH_IO_HANDLED);
	VH_EXPECT_EQ(d.vm->boot_generation, gen);
	VH_EXPECT_EQ(out(&d, VH_ACPI_RESET_REG, 1, VH_ACPI_RESET_VALUE), VH_IO_STOPPED);
	VH_EXPECT_EQ((int)d.vm->state, VH_VM_RUNNING);
	VH_EXPECT_EQ(d.vm->boot_generation, gen + 1);
	VH_EXPECT_EQ(d.vm->state_changes, changes + 1);
	VH_EXPECT_EQ(d.vm->guest.resets, (uint64_t)1);
	VH_EXPECT_EQ(d.vm->guest.poweroffs, (uint64_t)0);
	VH_EXPECT_STREQ(d.m.sp.last_log, "VM \"g\": the guest rebooted (ACPI reset register)");
	mem_env_fini(&d.m);
}

VH_TEST(acpi_pm, s5_powers_off_other_sleep_states_wake_at_once)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	/* S3 is not offered: the guest wakes at once. */
	VH_EXPECT_EQ(out(&d, VH_ACPI_SLEEP_CONTROL_REG, 1, (3 << 2) | VH_ACPI_SLP_EN),
		     VH_IO_HANDLED);
	VH_EXPECT_EQ((int)d.vm->state, VH_VM_RUNNING);
	VH_EXPECT_EQ(in(&d, VH_ACPI_SLEEP_STATUS_REG, 1), VH_ACPI_WAK_STS);
	out(&d, VH_ACPI_SLEEP_STATUS_REG, 1, VH_ACPI_WAK_STS); /* write 1 to clear */
	VH_EXPECT_EQ(in(&d, VH_ACPI_SLEEP_STATUS_REG, 1), 0u);
	/* SLP_TYP 5 without SLP_EN: nothing yet. */
	VH_EXPECT_EQ(out(&d, VH_ACPI_SLEEP_CONTROL_REG, 1, 5 << 2), VH_IO_HANDLED);
	VH_EXPECT_EQ(in(&d, VH_ACPI_SLEEP_CONTROL_REG, 1), 5u << 2);
	VH_EXPECT_EQ(out(&d, VH_ACPI_SLEEP_CONTROL_REG, 1, VH_ACPI_S5_VALUE), VH_IO_STOPPED);
	VH_EXPECT_EQ((int)d.vm->state, VH_VM_STOPPED); /* not crashed */
	VH_EXPECT_EQ(d.vm->guest.poweroffs, (uint64_t)1);
	VH_EXPECT(!d.vm->guest.exited); /* no debug-exit code */
	mem_env_fini(&d.m);
}

VH_TEST(acpi_pm, a_paused_vm_stays_paused)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	VH_ASSERT_EQ(vh_vm_pause(&d.m.h, d.vm, NULL), VH_OK);
	VH_EXPECT_EQ(out(&d, VH_ACPI_SLEEP_CONTROL_REG, 1, VH_ACPI_S5_VALUE), VH_IO_HANDLED);
	VH_EXPECT_EQ(out(&d, VH_ACPI_RESET_REG, 1, VH_ACPI_RESET_VALUE), VH_IO_HANDLED);
	VH_EXPECT_EQ((int)d.vm->state, VH_VM_PAUSED);
	mem_env_fini(&d.m);
}

VH_TEST(i8042, probe_answers_self_test_and_config_byte)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	VH_EXPECT_EQ(in(&d, 0x64, 1), 0x14u); /* nothing waiting, not busy, SYS */
	out(&d, 0x64, 1, 0xaa);
	VH_EXPECT_EQ(in(&d, 0x64, 1), 0x1du); /* OBF, last write a command */
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x55u);
	VH_EXPECT_EQ(in(&d, 0x64, 1) & 1u, 0u);
	out(&d, 0x64, 1, 0x20);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x45u);
	out(&d, 0x64, 1, 0x60);
	out(&d, 0x60, 1, 0x74);
	out(&d, 0x64, 1, 0x20);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x74u);
	out(&d, 0x64, 1, 0xae); /* enable the keyboard: config bit 4 clear */
	out(&d, 0x64, 1, 0x20);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x64u);
	out(&d, 0x64, 1, 0xab);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x00u);
	/* The keyboard: reset passes, it names itself. */
	out(&d, 0x60, 1, 0xff);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0xfau);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0xaau);
	out(&d, 0x60, 1, 0xf2);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0xfau);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0xabu);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x83u);
	VH_EXPECT_EQ(in(&d, 0x64, 1) & 1u, 0u);
	/* 0x61..0x63 are not the controller's. */
	uint32_t v = 0;
	VH_EXPECT_EQ((int)vh_devices_io(&d.m.h, d.vm, NULL, 0x61, 1, false, &v), VH_IO_UNHANDLED);
	mem_env_fini(&d.m);
}

VH_TEST(i8042, reset_command_and_output_port_reboot_the_vm)
{
	struct dev_env d;
	uint32_t gen;

	dev_env_init(&d, false, 1);
	gen = d.vm->boot_generation;
	VH_EXPECT_EQ(out(&d, 0x64, 1, 0xfe), VH_IO_STOPPED);
	VH_EXPECT_EQ((int)d.vm->state, VH_VM_RUNNING);
	VH_EXPECT_EQ(d.vm->boot_generation, gen + 1);
	VH_EXPECT_EQ(d.vm->guest.resets, (uint64_t)1);
	/* The output port with the reset line high: nothing; low: reset. */
	out(&d, 0x64, 1, 0xd1);
	VH_EXPECT_EQ(out(&d, 0x60, 1, 0x03), VH_IO_HANDLED);
	out(&d, 0x64, 1, 0xd0);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x03u);
	out(&d, 0x64, 1, 0xd1);
	VH_EXPECT_EQ(out(&d, 0x60, 1, 0x02), VH_IO_STOPPED);
	VH_EXPECT_EQ(d.vm->boot_generation, gen + 2);
	VH_EXPECT_EQ(d.vm->guest.resets, (uint64_t)2);
	/* The controller is back to its power-on state. */
	out(&d, 0x64, 1, 0x20);
	VH_EXPECT_EQ(in(&d, 0x60, 1), 0x45u);
	mem_env_fini(&d.m);
}

/* Random widths, ports and values on every register of the three
 * devices: the VM only ever runs or stops (restarted then), never
 * crashes; the UART's scratch register, another device's state, keeps
 * its value within a boot. */
VH_TEST(platform_devices, random_register_writes_never_crash)
{
	static const uint16_t ports[] = { 0x60,  0x64,  0x70,  0x71,  0x600, 0x601, 0x602,
					  0x603, 0x604, 0x608, 0x609, 0x60a, 0x60b };
	struct dev_env d;
	uint64_t rng = 0x1234567;
	unsigned resets = 0, stops = 0;

	dev_env_init(&d, false, 1);
	for (int i = 0; i < 200000; i++) {
		uint32_t gen = d.vm->boot_generation, v;
		uint16_t port;
		unsigned size;
		bool write;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		port = ports[(rng >> 33) % (sizeof(ports) / sizeof(ports[0]))];
		size = 1u << ((rng >> 40) % 3);
		write = (rng >> 45) & 1;
		v = (uint32_t)(rng >> 13);
		if (i % 97 == 0)
			vh_sim_advance(&d.m.sp, rng >> 34);
		out(&d, 0x3ff, 1, 0xa5);
		vh_devices_io(&d.m.h, d.vm, &d.vm->vcpus[0], port, size, write, &v);
		if (d.vm->state == VH_VM_STOPPED) {
			stops++;
			VH_ASSERT_EQ(vh_vm_start(&d.m.h, d.vm, NULL), VH_OK);
			continue;
		}
		VH_ASSERT_EQ((int)d.vm->state, VH_VM_RUNNING);
		if (d.vm->boot_generation != gen) {
			resets++;
			continue;
		}
		if (in(&d, 0x3ff, 1) != 0xa5u)
			VH_FAIL("round %d: port %#x size %u %s %#x changed the UART", i, port, size,
				write ? "write" : "read", v);
	}
	/* The random values did reach the reset and power paths. */
	VH_EXPECT_GT(resets, 0u);
	VH_EXPECT_GT(stops, 0u);
	mem_env_fini(&d.m);
}
