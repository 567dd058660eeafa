/* SPDX-License-Identifier: Apache-2.0 */
/* The device models: every register a guest driver uses, and the edges
 * (DLAB, loopback, fw_cfg past the end, debug-exit codes, reset). */
#include "dev_env.h"

VH_TEST(uart, transmits_to_the_console_and_is_always_ready)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	/* LSR: THR empty and transmitter empty, no data. */
	VH_EXPECT_EQ(in(&d, 0x3fd, 1), 0x60u);
	for (const char *s = "hi\n"; *s; s++)
		VH_EXPECT_EQ(out(&d, 0x3f8, 1, (uint8_t)*s), VH_IO_HANDLED);
	VH_EXPECT_STREQ(d.m.sp.console, "g: hi\n");
	VH_EXPECT_EQ(d.vm->guest.console_bytes, (uint64_t)3);
	/* Scratch register, LCR, MCR read back. */
	out(&d, 0x3ff, 1, 0x5a);
	VH_EXPECT_EQ(in(&d, 0x3ff, 1), 0x5au);
	out(&d, 0x3fb, 1, 0x03);
	VH_EXPECT_EQ(in(&d, 0x3fb, 1), 0x03u);
	out(&d, 0x3fc, 1, 0x0b);
	VH_EXPECT_EQ(in(&d, 0x3fc, 1), 0x0bu);
	/* MSR: a connected terminal (DCD, DSR, CTS). */
	VH_EXPECT_EQ(in(&d, 0x3fe, 1), 0xb0u);
	/* LSR and MSR ignore writes. */
	out(&d, 0x3fd, 1, 0);
	VH_EXPECT_EQ(in(&d, 0x3fd, 1), 0x60u);
	mem_env_fini(&d.m);
}

VH_TEST(uart, dlab_switches_to_the_divisor_latches)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	out(&d, 0x3f9, 1, 0x05); /* IER */
	out(&d, 0x3fb, 1, 0x80); /* DLAB */
	out(&d, 0x3f8, 1, 0x01); /* DLL: 115200 baud, not output */
	out(&d, 0x3f9, 1, 0x00); /* DLM */
	VH_EXPECT_EQ(in(&d, 0x3f8, 1), 0x01u);
	VH_EXPECT_EQ(in(&d, 0x3f9, 1), 0x00u);
	VH_EXPECT_EQ(d.m.sp.console_len, (size_t)0);
	out(&d, 0x3fb, 1, 0x03);
	/* IER kept its value under DLAB. */
	VH_EXPECT_EQ(in(&d, 0x3f9, 1), 0x05u);
	out(&d, 0x3f8, 1, 'x');
	VH_EXPECT_STREQ(d.m.sp.console, "g: x");
	mem_env_fini(&d.m);
}

VH_TEST(uart, iir_fifo_and_thr_empty_interrupt)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	VH_EXPECT_EQ(in(&d, 0x3fa, 1), 0x01u); /* nothing pending, no FIFO */
	out(&d, 0x3fa, 1, 0x07);               /* FIFO on (and cleared) */
	VH_EXPECT_EQ(in(&d, 0x3fa, 1), 0xc1u);
	out(&d, 0x3f9, 1, 0x02); /* THRI: THR is empty, so pending at once */
	VH_EXPECT_EQ(in(&d, 0x3fa, 1), 0xc2u);
	/* Reading IIR acknowledged it. */
	VH_EXPECT_EQ(in(&d, 0x3fa, 1), 0xc1u);
	out(&d, 0x3f8, 1, 'a');
	VH_EXPECT_EQ(in(&d, 0x3fa, 1), 0xc2u);
	mem_env_fini(&d.m);
}

VH_TEST(uart, loopback_returns_bytes_in_rbr)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	out(&d, 0x3fc, 1, 0x1f); /* loopback, all outputs on */
	out(&d, 0x3f8, 1, 0xab);
	VH_EXPECT_EQ(d.m.sp.console_len, (size_t)0);
	VH_EXPECT_EQ(in(&d, 0x3fd, 1), 0x61u); /* DR set */
	/* MSR mirrors MCR: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
	VH_EXPECT_EQ(in(&d, 0x3fe, 1), 0xf0u);
	VH_EXPECT_EQ(in(&d, 0x3f8, 1), 0xabu);
	VH_EXPECT_EQ(in(&d, 0x3fd, 1), 0x60u);
	VH_EXPECT_EQ(in(&d, 0x3f8, 1), 0x00u);
	mem_env_fini(&d.m);
}

VH_TEST(uart, a_wide_access_is_split_into_bytes)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	/* outw to THR: 'A' to THR, 0x00 to IER. */
	out(&d, 0x3f8, 2, 0x0041);
	VH_EXPECT_STREQ(d.m.sp.console, "g: A");
	/* inl at 0x3fc: MCR, LSR, MSR, SCR. */
	out(&d, 0x3ff, 1, 0x77);
	VH_EXPECT_EQ(in(&d, 0x3fc, 4), 0x77b06000u);
	/* inw at 0x3ff: SCR, then a port past COM1 reads as ones. */
	VH_EXPECT_EQ(in(&d, 0x3ff, 2), 0xff77u);
	mem_env_fini(&d.m);
}

VH_TEST(debug_exit, a_write_stops_the_vm_with_qemus_code)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	out(&d, 0x3f8, 1, 'o');
	out(&d, 0x3f8, 1, 'k');
	VH_EXPECT_EQ(in(&d, 0xf4, 1), 0u);
	VH_EXPECT_EQ(out(&d, 0xf4, 1, 0x10), VH_IO_STOPPED);
	VH_EXPECT_EQ((int)d.vm->state, VH_VM_STOPPED);
	VH_EXPECT(d.vm->guest.exited);
	VH_EXPECT_EQ(d.vm->guest.exit_code, 0x21u);
	/* On a line of its own after the guest's unfinished line. */
	VH_EXPECT_STREQ(d.m.sp.console, "g: ok\ng: vh: debug-exit code 33 (value 16)\n");
	/* Power on again: the exit is forgotten, a 4-byte write works the
	 * same, and the code wraps at 32 bits. */
	VH_ASSERT_EQ(vh_vm_start(&d.m.h, d.vm, NULL), VH_OK);
	VH_EXPECT(!d.vm->guest.exited);
	VH_EXPECT_EQ(out(&d, 0xf7, 4, 0x80000001u), VH_IO_STOPPED);
	VH_EXPECT_EQ(d.vm->guest.exit_code, 3u);
	/* A paused VM keeps its state; the code is still recorded. */
	VH_ASSERT_EQ(vh_vm_start(&d.m.h, d.vm, NULL), VH_OK);
	VH_ASSERT_EQ(vh_vm_pause(&d.m.h, d.vm, NULL), VH_OK);
	VH_EXPECT_EQ(out(&d, 0xf4, 1, 0), VH_IO_HANDLED);
	VH_EXPECT_EQ((int)d.vm->state, VH_VM_PAUSED);
	VH_EXPECT_EQ(d.vm->guest.exit_code, 1u);
	mem_env_fini(&d.m);
}

static void fw_read(struct dev_env *d, uint16_t key, uint8_t *buf, unsigned n)
{
	VH_EXPECT_EQ(out(d, 0x510, 2, key), VH_IO_HANDLED);
	for (unsigned i = 0; i < n; i++)
		buf[i] = (uint8_t)in(d, 0x511, 1);
}

VH_TEST(fw_cfg, serves_signature_ram_size_and_cpu_counts)
{
	struct dev_env d;
	uint8_t b[16];
	uint64_t ram;

	dev_env_init(&d, true, 3);
	fw_read(&d, VH_FW_CFG_SIGNATURE, b, 4);
	VH_EXPECT_MEMEQ(b, "QEMU", 4);
	fw_read(&d, VH_FW_CFG_ID, b, 4);
	VH_EXPECT_EQ(b[0], 1);
	fw_read(&d, VH_FW_CFG_RAM_SIZE, b, 8);
	memcpy(&ram, b, 8);
	VH_EXPECT_EQ(ram, 8 * VH_MIB);
	fw_read(&d, VH_FW_CFG_NB_CPUS, b, 2);
	VH_EXPECT_EQ(b[0] | b[1] << 8, 3);
	fw_read(&d, VH_FW_CFG_MAX_CPUS, b, 2);
	VH_EXPECT_EQ(b[0] | b[1] << 8, 3);
	fw_read(&d, VH_FW_CFG_UUID, b, 16);
	VH_EXPECT_MEMEQ(b, d.vm->cfg.uuid, 16);
	fw_read(&d, VH_FW_CFG_NOGRAPHIC, b, 2);
	VH_EXPECT_EQ(b[0], 1);
	/* A 4-byte read returns the next four bytes, first in the lowest. */
	out(&d, 0x510, 2, VH_FW_CFG_SIGNATURE);
	VH_EXPECT_EQ(in(&d, 0x511, 4), 0x554d4551u);
	/* The selector port reads zero. */
	VH_EXPECT_EQ(in(&d, 0x510, 2), 0u);
	mem_env_fini(&d.m);
}

VH_TEST(fw_cfg, past_the_end_and_unknown_keys_read_zero)
{
	struct dev_env d;
	uint8_t b[8];

	dev_env_init(&d, true, 1);
	out(&d, 0x510, 2, VH_FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		in(&d, 0x511, 1);
	/* Past the end: zeros, however long the guest keeps reading. */
	for (int i = 0; i < 100; i++)
		VH_ASSERT_EQ(in(&d, 0x511, 1), 0u);
	/* Selecting again rewinds. */
	out(&d, 0x510, 2, VH_FW_CFG_SIGNATURE);
	VH_EXPECT_EQ(in(&d, 0x511, 1), (uint32_t)'Q');
	fw_read(&d, 0x4242, b, 8);
	for (int i = 0; i < 8; i++)
		VH_EXPECT_EQ(b[i], 0);
	/* A data write is ignored and does not move the offset. */
	out(&d, 0x510, 2, VH_FW_CFG_SIGNATURE);
	out(&d, 0x511, 1, 0x99);
	VH_EXPECT_EQ(in(&d, 0x511, 1), (uint32_t)'Q');
	/* A 1-byte selector write selects too. */
	out(&d, 0x510, 1, VH_FW_CFG_NB_CPUS);
	VH_EXPECT_EQ(in(&d, 0x511, 1), 1u);
	mem_env_fini(&d.m);
}

VH_TEST(fw_cfg, absent_unless_configured)
{
	struct dev_env d;
	uint32_t v = 0;

	dev_env_init(&d, false, 1);
	VH_EXPECT_EQ((int)vh_devices_io(&d.m.h, d.vm, NULL, 0x510, 2, true, &v), VH_IO_UNHANDLED);
	VH_EXPECT_EQ((int)vh_devices_io(&d.m.h, d.vm, NULL, 0x511, 1, false, &v), VH_IO_UNHANDLED);
	mem_env_fini(&d.m);
}

VH_TEST(pic, initialisation_and_mask_writes_are_accepted)
{
	struct dev_env d;

	dev_env_init(&d, false, 1);
	/* The usual remap: ICW1..ICW4 on both, then mask everything. */
	out(&d, 0x20, 1, 0x11);
	out(&d, 0xa0, 1, 0x11);
	out(&d, 0x21, 1, 0x20);
	out(&d, 0xa1, 1, 0x28);
	out(&d, 0x21, 1, 0x04);
	out(&d, 0xa1, 1, 0x02);
	out(&d, 0x21, 1, 0x01);
	out(&d, 0xa1, 1, 0x01);
	VH_EXPECT_EQ(in(&d, 0x21, 1), 0u); /* ICWs are not the mask */
	out(&d, 0x21, 1, 0xfb);
	out(&d, 0xa1, 1, 0xff);
	VH_EXPECT_EQ(in(&d, 0x21, 1), 0xfbu);
	VH_EXPECT_EQ(in(&d, 0xa1, 1), 0xffu);
	VH_EXPECT_EQ(d.vm->devices != NULL, true);
	/* EOI and OCW3 accepted; nothing in service. */
	out(&d, 0x20, 1, 0x20);
	out(&d, 0x20, 1, 0x0b);
	VH_EXPECT_EQ(in(&d, 0x20, 1), 0u);
	/* Single mode without ICW4: the next data write is the mask. */
	out(&d, 0xa0, 1, 0x12);
	out(&d, 0xa1, 1, 0x70);
	out(&d, 0xa1, 1, 0x3c);
	VH_EXPECT_EQ(in(&d, 0xa1, 1), 0x3cu);
	mem_env_fini(&d.m);
}

VH_TEST(devices, unknown_ports_and_bad_sizes_are_unhandled)
{
	struct dev_env d;
	uint32_t v = 0;

	dev_env_init(&d, true, 1);
	for (uint32_t port = 0; port < 0x10000; port++) {
		bool known = (port >= 0x20 && port <= 0x21) || (port >= 0xa0 && port <= 0xa1) ||
			     (port >= 0xf4 && port <= 0xf7) || (port >= 0x3f8 && port <= 0x3ff) ||
			     port == 0x510 || port == 0x511 || port == 0x60 || port == 0x64 ||
			     port == 0x70 || port == 0x71 || (port >= 0x600 && port <= 0x60b) ||
			     (port >= 0xcf8 && port <= 0xcff);
		v = 0;
		enum vh_io_result r =
		    vh_devices_io(&d.m.h, d.vm, NULL, (uint16_t)port, 1, false, &v);
		if (known != (r == VH_IO_HANDLED))
			VH_FAIL("port %#x: %d", port, (int)r);
	}
	VH_EXPECT_EQ((int)vh_devices_io(&d.m.h, d.vm, NULL, 0x3f8, 3, false, &v), VH_IO_UNHANDLED);
	VH_EXPECT_EQ((int)vh_devices_io(&d.m.h, d.vm, NULL, 0x3f8, 8, true, &v), VH_IO_UNHANDLED);
	mem_env_fini(&d.m);
}

VH_TEST(devices, reset_on_a_new_boot_generation)
{
	struct dev_env d;
	struct vh_error err = { 0 };

	dev_env_init(&d, true, 1);
	out(&d, 0x3ff, 1, 0x42);
	out(&d, 0x3fb, 1, 0x83);
	out(&d, 0x510, 2, VH_FW_CFG_SIGNATURE);
	in(&d, 0x511, 1);
	VH_ASSERT_EQ(vh_vm_reset(&d.m.h, d.vm, &err), VH_OK);
	/* Power-on state again: scratch 0, DLAB off, fw_cfg selector 0 at
	 * its first byte. */
	VH_EXPECT_EQ(in(&d, 0x3ff, 1), 0u);
	VH_EXPECT_EQ(in(&d, 0x3fb, 1), 0u);
	VH_EXPECT_EQ(in(&d, 0x511, 1), (uint32_t)'Q');
	mem_env_fini(&d.m);
}

VH_TEST(devices, creation_fails_cleanly_without_metadata)
{
	struct mem_env m;
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };
	uint64_t before;

	mem_env_init(&m, 64);
	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "x");
	cfg.memory_mib = 4;
	before = m.sp.alloc_bytes;
	/* Room for the VM, vCPUs, scheduler and memory state but not the
	 * devices: find that point by trying increasing budgets. */
	bool saw_device_failure = false;
	for (uint64_t extra = 0; extra < 1 << 20 && !saw_device_failure; extra += 64) {
		struct vh_vm *vm;
		m.sp.alloc_fail_after = before + extra;
		vm = vh_vm_define(&m.h, &cfg, &err);
		if (vm) {
			m.sp.alloc_fail_after = 0;
			VH_ASSERT_EQ(vh_vm_undefine(&m.h, vm, &err), VH_OK);
			break;
		}
		/* Nothing half-defined (mem_env_fini checks that every
		 * byte comes back; the scheduler keeps its reserved heap
		 * capacity until then). */
		VH_ASSERT_EQ(m.h.nvms, 0u);
		if (strstr(err.reason, "devices"))
			saw_device_failure = true;
	}
	m.sp.alloc_fail_after = 0;
	VH_EXPECT(saw_device_failure);
	VH_EXPECT_EQ(m.h.nvms, 0u);
	mem_env_fini(&m);
}
