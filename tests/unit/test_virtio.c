/* SPDX-License-Identifier: Apache-2.0 */
/* The virtio-pci transport and split virtqueues driven as Linux drives
 * them (virtio_env.h): the function's IDs and capabilities, the probe
 * sequence to DRIVER_OK, a chain echoed through the used ring with its
 * MSI-X interrupt, indirect chains, EVENT_IDX and the flags that
 * suppress notifications and interrupts, MSI-X masking and vectors the
 * table lacks, INTx through the IOAPIC, device configuration, reset. */
#include "virtio_env.h"

/* "hello virtio" in G_IN, a chain of it and 64 writable bytes at
 * descriptors first, first + 1. */
static void hello_chain(struct vdrv *d, unsigned first)
{
	static const char msg[] = "hello virtio";

	gput(d, G_IN, msg, sizeof(msg) - 1);
	desc(d, G_DESC, first, G_IN, sizeof(msg) - 1, VH_VIRTQ_DESC_F_NEXT, (uint16_t)(first + 1));
	desc(d, G_DESC, first + 1, G_OUT, 64, VH_VIRTQ_DESC_F_WRITE, 0);
}

static void expect_echoed(struct vdrv *d, uint16_t n, uint16_t head)
{
	char out[13] = { 0 };
	uint32_t elem[2];

	VH_EXPECT_EQ(used_idx(d), n);
	gget(d, G_USED + 4 + 8ull * ((n - 1) % d->qsize), elem, sizeof(elem));
	VH_EXPECT_EQ(elem[0], (uint32_t)head);
	VH_EXPECT_EQ(elem[1], 12u); /* bytes written */
	gget(d, G_OUT, out, 12);
	VH_EXPECT_STREQ(out, "hello virtio");
}

VH_TEST(virtio, function_ids_and_capabilities_as_linux_finds_them)
{
	struct vdrv d;

	vdrv_init(&d);
	VH_EXPECT_EQ(cfg_rd(&d, 0, 2), 0x1af4ull);
	VH_EXPECT_EQ(cfg_rd(&d, 2, 2), 0x1040ull + ECHO_TYPE);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_REVISION, 1), 1ull);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_SUBSYS_VENDOR, 2), 0x1af4ull);
	VH_EXPECT(cfg_rd(&d, VH_PCI_SUBSYS_ID, 2) >= 0x40);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_STATUS, 2) & VH_PCI_STATUS_CAP_LIST,
		     (uint64_t)VH_PCI_STATUS_CAP_LIST);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_INT_PIN, 1), 1ull);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_INT_LINE, 1), (uint64_t)vh_acpi_pci_gsi(ECHO_SLOT, 0));
	/* Every region inside the BAR, where the header says. */
	VH_EXPECT_EQ(d.common, VH_VIRTIO_PCI_COMMON);
	VH_EXPECT_EQ(d.isr, VH_VIRTIO_PCI_ISR);
	VH_EXPECT_EQ(d.notify, VH_VIRTIO_PCI_NOTIFY);
	VH_EXPECT_EQ(d.mult, VH_VIRTIO_PCI_NOTIFY_MULT);
	VH_EXPECT_EQ(d.devcfg, VH_VIRTIO_PCI_DEVCFG);
	VH_EXPECT_EQ(d.devcfg_len, ECHO_CFG_LEN);
	VH_ASSERT(d.msix_cap != 0);
	VH_EXPECT_EQ(cfg_rd(&d, d.msix_cap + 2, 2), 2ull); /* 3 vectors: table size - 1 */
	VH_EXPECT_EQ(cfg_rd(&d, d.msix_cap + 4, 4), (uint64_t)VH_VIRTIO_PCI_MSIX_TABLE);
	VH_EXPECT_EQ(cfg_rd(&d, d.msix_cap + 8, 4), (uint64_t)VH_VIRTIO_PCI_MSIX_PBA);
	/* BAR sizing answers the BAR's size. */
	cfg_wr(&d, VH_PCI_BAR0, 4, 0xffffffffu);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_BAR0, 4), (uint64_t)(uint32_t)~(VH_VIRTIO_PCI_BAR_SIZE - 1));
	cfg_wr(&d, VH_PCI_BAR0, 4, d.bar);
	/* num_queues, each queue's maximum, none past them. */
	VH_EXPECT_EQ(common_rd(&d, 0x12, 2), 2ull);
	common_wr(&d, 0x16, 2, 1);
	VH_EXPECT_EQ(common_rd(&d, 0x18, 2), (uint64_t)ECHO_QMAX);
	VH_EXPECT_EQ(common_rd(&d, 0x1e, 2), 1ull); /* queue_notify_off */
	common_wr(&d, 0x16, 2, 2);
	VH_EXPECT_EQ(common_rd(&d, 0x18, 2), 0ull);
	/* Memory decoding off: the BAR answers nothing. */
	cfg_wr(&d, VH_PCI_COMMAND, 2, 0);
	{
		uint64_t v = 0;

		VH_EXPECT_EQ((int)vh_devices_mmio(&d.e.m.h, d.e.vm, &d.e.vm->vcpus[0], d.bar, 4,
						  false, &v),
			     (int)VH_IO_UNHANDLED);
	}
	vdrv_fini(&d);
}

VH_TEST(virtio, linux_probe_then_an_echoed_chain_and_its_msix_interrupt)
{
	struct vdrv d;

	vdrv_init(&d);
	probe(&d, ALL_FEATURES);
	VH_EXPECT_EQ(d.vp.driver_features, ALL_FEATURES);
	VH_EXPECT_EQ(take_irq(&d), -1);
	hello_chain(&d, 0);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 1, 0);
	VH_EXPECT_EQ(take_irq(&d), (int)V_QUEUE);
	VH_EXPECT_EQ(take_irq(&d), -1);
	/* With EVENT_IDX the device asks to hear of the next entry. */
	VH_EXPECT_EQ(gget16(&d, G_USED + 4 + 8 * 8), 1u);
	/* Ring wrap-around: twenty more chains, one at a time. */
	for (uint16_t i = 1; i <= 20; i++) {
		hello_chain(&d, (i * 2) % 8);
		gput16(&d, G_AVAIL + 4 + 2 * 8, i); /* used_event: every one */
		offer(&d, (uint16_t)((i * 2) % 8));
		kick(&d, 0);
		expect_echoed(&d, (uint16_t)(i + 1), (uint16_t)((i * 2) % 8));
		VH_EXPECT_EQ(take_irq(&d), (int)V_QUEUE);
	}
	VH_EXPECT_EQ(d.vp.chains, 21ull);
	VH_EXPECT_EQ(d.vp.msis, 21ull);
	VH_EXPECT_EQ(d.outside, 0ull);
	VH_EXPECT_EQ(d.vp.status & VH_VIRTIO_S_NEEDS_RESET, 0u);
	vdrv_fini(&d);
}

VH_TEST(virtio, an_indirect_chain_is_echoed)
{
	struct vdrv d;
	static const char msg[] = "hello virtio";

	vdrv_init(&d);
	probe(&d, ALL_FEATURES);
	gput(&d, G_IN, msg, 6);
	gput(&d, G_IN + 0x100, msg + 6, 6);
	/* Two readable pieces and two writable ones, in a table of four. */
	desc(&d, G_TABLE, 0, G_IN, 6, VH_VIRTQ_DESC_F_NEXT, 2);
	desc(&d, G_TABLE, 2, G_IN + 0x100, 6, VH_VIRTQ_DESC_F_NEXT, 1);
	desc(&d, G_TABLE, 1, G_OUT, 5, VH_VIRTQ_DESC_F_WRITE | VH_VIRTQ_DESC_F_NEXT, 3);
	desc(&d, G_TABLE, 3, G_OUT + 5, 59, VH_VIRTQ_DESC_F_WRITE, 0);
	desc(&d, G_DESC, 5, G_TABLE, 4 * 16, VH_VIRTQ_DESC_F_INDIRECT, 0);
	offer(&d, 5);
	kick(&d, 0);
	expect_echoed(&d, 1, 5);
	VH_EXPECT_EQ(take_irq(&d), (int)V_QUEUE);
	VH_EXPECT_EQ(d.outside, 0ull);
	vdrv_fini(&d);
}

VH_TEST(virtio, event_idx_suppresses_interrupts_until_used_event)
{
	struct vdrv d;

	vdrv_init(&d);
	probe(&d, ALL_FEATURES);
	/* The driver wants an interrupt once the used index passes 2. */
	gput16(&d, G_AVAIL + 4 + 2 * 8, 2);
	for (uint16_t i = 0; i < 3; i++) {
		hello_chain(&d, 0);
		offer(&d, 0);
		kick(&d, 0);
		expect_echoed(&d, (uint16_t)(i + 1), 0);
		VH_EXPECT_EQ(take_irq(&d), i == 2 ? (int)V_QUEUE : -1);
	}
	vdrv_fini(&d);
}

VH_TEST(virtio, without_event_idx_the_flags_rule)
{
	struct vdrv d;

	vdrv_init(&d);
	probe(&d, ALL_FEATURES & ~VH_VIRTIO_BIT(VH_VIRTIO_F_EVENT_IDX));
	/* NO_INTERRUPT: served, no interrupt. */
	gput16(&d, G_AVAIL, VH_VIRTQ_AVAIL_F_NO_INTERRUPT);
	hello_chain(&d, 0);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 1, 0);
	VH_EXPECT_EQ(take_irq(&d), -1);
	/* Cleared: an interrupt again; notifications left on (used flags 0)
	 * and avail_event untouched without EVENT_IDX. */
	gput16(&d, G_AVAIL, 0);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 2, 0);
	VH_EXPECT_EQ(take_irq(&d), (int)V_QUEUE);
	VH_EXPECT_EQ(gget16(&d, G_USED), 0u);
	VH_EXPECT_EQ(gget16(&d, G_USED + 4 + 8 * 8), 0u);
	vdrv_fini(&d);
}

VH_TEST(virtio, msix_masking_holds_the_interrupt_in_the_pba)
{
	struct vdrv d;
	uint32_t table = VH_VIRTIO_PCI_MSIX_TABLE;

	vdrv_init(&d);
	/* Without EVENT_IDX: every chain asks for its interrupt. */
	probe(&d, ALL_FEATURES & ~VH_VIRTIO_BIT(VH_VIRTIO_F_EVENT_IDX));
	bar_wr(&d, table + 16 + 12, 4, 1); /* mask the queue's entry */
	hello_chain(&d, 0);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 1, 0);
	VH_EXPECT_EQ(take_irq(&d), -1);
	VH_EXPECT_EQ(bar_rd(&d, VH_VIRTIO_PCI_MSIX_PBA, 8), 2ull);
	bar_wr(&d, table + 16 + 12, 4, 0);
	VH_EXPECT_EQ(take_irq(&d), (int)V_QUEUE);
	VH_EXPECT_EQ(bar_rd(&d, VH_VIRTIO_PCI_MSIX_PBA, 8), 0ull);
	/* The function mask the same way, through configuration space. */
	cfg_wr(&d, d.msix_cap + 2, 2, 0xc000);
	offer(&d, 0);
	kick(&d, 0);
	VH_EXPECT_EQ(take_irq(&d), -1);
	cfg_wr(&d, d.msix_cap + 2, 2, 0x8000);
	VH_EXPECT_EQ(take_irq(&d), (int)V_QUEUE);
	/* Only the mask bit of vector control is writable. */
	bar_wr(&d, table + 12, 4, 0xfffffffeu);
	VH_EXPECT_EQ(bar_rd(&d, table + 12, 4), 0ull);
	/* A vector past the table reads back NO_VECTOR; the queue then
	 * interrupts no one. */
	common_wr(&d, 0x1a, 2, 3);
	VH_EXPECT_EQ(common_rd(&d, 0x1a, 2), (uint64_t)VH_VIRTIO_MSI_NO_VECTOR);
	common_wr(&d, 0x10, 2, 17);
	VH_EXPECT_EQ(common_rd(&d, 0x10, 2), (uint64_t)VH_VIRTIO_MSI_NO_VECTOR);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 3, 0);
	VH_EXPECT_EQ(take_irq(&d), -1);
	vdrv_fini(&d);
}

static void ioapic_route(struct vdrv *d, unsigned pin, uint32_t lo)
{
	uint64_t s = 0x11 + 2 * pin, v = 0;

	vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0], VH_LAYOUT_IOAPIC_BASE, 4, true, &s);
	vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0], VH_LAYOUT_IOAPIC_BASE + 0x10, 4,
			true, &v);
	s = 0x10 + 2 * pin;
	v = lo;
	vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0], VH_LAYOUT_IOAPIC_BASE, 4, true, &s);
	vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0], VH_LAYOUT_IOAPIC_BASE + 0x10, 4,
			true, &v);
}

VH_TEST(virtio, intx_through_the_ioapic_when_msix_is_off)
{
	struct vdrv d;
	unsigned gsi = vh_acpi_pci_gsi(ECHO_SLOT, 0);

	vdrv_init(&d);
	probe(&d, ALL_FEATURES & ~VH_VIRTIO_BIT(VH_VIRTIO_F_EVENT_IDX));
	cfg_wr(&d, d.msix_cap + 2, 2, 0); /* MSI-X off */
	ioapic_route(&d, gsi, 0x8000 | 0x51); /* level, vector 0x51 */
	hello_chain(&d, 0);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 1, 0);
	VH_EXPECT(d.vp.intx);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_STATUS, 1) & 0x08, 0x08ull); /* interrupt status */
	VH_EXPECT_EQ(pending(&d.e, 0), 0x51);
	/* Reading the ISR returns the queue bit, clears it and drops the line. */
	VH_EXPECT_EQ(bar_rd(&d, d.isr, 1), (uint64_t)VH_VIRTIO_ISR_QUEUE);
	VH_EXPECT(!d.vp.intx);
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_STATUS, 1) & 0x08, 0ull);
	VH_EXPECT_EQ(bar_rd(&d, d.isr, 1), 0ull);
	/* INTx disabled in the command register: the ISR alone. */
	cfg_wr(&d, VH_PCI_COMMAND, 2, VH_PCI_CMD_MEMORY | VH_PCI_CMD_MASTER | VH_PCI_CMD_INTX_OFF);
	offer(&d, 0);
	kick(&d, 0);
	VH_EXPECT(!d.vp.intx);
	VH_EXPECT_EQ(bar_rd(&d, d.isr, 1), (uint64_t)VH_VIRTIO_ISR_QUEUE);
	VH_EXPECT_EQ(d.vp.intx_raised, 1ull);
	vdrv_fini(&d);
}

VH_TEST(virtio, device_configuration_and_feature_selects)
{
	struct vdrv d;

	vdrv_init(&d);
	memcpy(d.echo.cfg, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	VH_EXPECT_EQ(bar_rd(&d, d.devcfg, 4), 0x04030201ull);
	VH_EXPECT_EQ(bar_rd(&d, d.devcfg + 6, 2), 0x0807ull);
	VH_EXPECT_EQ(bar_rd(&d, d.devcfg, 8), 0x0807060504030201ull);
	bar_wr(&d, d.devcfg + 2, 2, 0xbbaa);
	VH_EXPECT_EQ(d.echo.cfg[2], 0xaa);
	VH_EXPECT_EQ(d.echo.cfg[3], 0xbb);
	VH_EXPECT_EQ(bar_rd(&d, d.devcfg + 7, 2), 0ull); /* past the end */
	/* Device features by select: the transport's and the device's. */
	common_wr(&d, 0x00, 4, 0);
	VH_EXPECT_EQ(common_rd(&d, 0x04, 4),
		     (uint64_t)((1u << ECHO_F_LOUD) | (1u << VH_VIRTIO_F_INDIRECT_DESC) |
				(1u << VH_VIRTIO_F_EVENT_IDX)));
	common_wr(&d, 0x00, 4, 1);
	VH_EXPECT_EQ(common_rd(&d, 0x04, 4), 1ull); /* VERSION_1 */
	common_wr(&d, 0x00, 4, 2);
	VH_EXPECT_EQ(common_rd(&d, 0x04, 4), 0ull);
	/* A configuration change moves the generation and interrupts. */
	probe(&d, ALL_FEATURES);
	{
		uint64_t v = 0;
		struct vh_dev_call c = { 0 };
		struct vh_dev_access a = { vh_devices_bus(d.e.vm), &c, 0, 0, 0, false, &v };
		uint8_t gen = (uint8_t)common_rd(&d, 0x15, 1);

		vh_virtio_pci_config_changed(&d.vp, &a);
		VH_EXPECT_EQ(common_rd(&d, 0x15, 1), (uint64_t)(uint8_t)(gen + 1));
		VH_EXPECT_EQ(take_irq(&d), (int)V_CONFIG);
	}
	vdrv_fini(&d);
}

VH_TEST(virtio, reset_forgets_features_queues_and_status)
{
	struct vdrv d;
	uint32_t resets;

	vdrv_init(&d);
	probe(&d, ALL_FEATURES);
	hello_chain(&d, 0);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 1, 0);
	resets = d.echo.resets;
	common_wr(&d, 0x14, 1, 0);
	VH_EXPECT_EQ(status(&d), 0u);
	VH_EXPECT_EQ(d.echo.resets, resets + 1); /* the device type heard of it */
	VH_EXPECT_EQ(d.vp.resets, 2ull);         /* probe's, then this one */
	common_wr(&d, 0x08, 4, 0);
	VH_EXPECT_EQ(common_rd(&d, 0x0c, 4), 0ull);
	common_wr(&d, 0x16, 2, 0);
	VH_EXPECT_EQ(common_rd(&d, 0x1c, 2), 0ull);
	VH_EXPECT_EQ(common_rd(&d, 0x18, 2), (uint64_t)ECHO_QMAX);
	VH_EXPECT_EQ(common_rd(&d, 0x20, 8), 0ull);
	VH_EXPECT_EQ(common_rd(&d, 0x10, 2), (uint64_t)VH_VIRTIO_MSI_NO_VECTOR);
	/* A doorbell now does nothing. */
	offer(&d, 0);
	kick(&d, 0);
	VH_EXPECT_EQ(used_idx(&d), 1u);
	/* The driver clears no bit but by a reset; DRIVER_OK needs
	 * FEATURES_OK. */
	common_wr(&d, 0x14, 1, VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER);
	common_wr(&d, 0x14, 1, VH_VIRTIO_S_ACKNOWLEDGE);
	VH_EXPECT_EQ(status(&d), VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER);
	common_wr(&d, 0x14, 1,
		  VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER | VH_VIRTIO_S_DRIVER_OK);
	VH_EXPECT_EQ(status(&d), VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER);
	/* And the device works again after a probe. */
	probe(&d, ALL_FEATURES);
	hello_chain(&d, 0);
	offer(&d, 0);
	kick(&d, 0);
	expect_echoed(&d, 1, 0);
	/* A VM reset puts the function back to power-on: MSI-X off, masked. */
	d.e.vm->boot_generation++;
	VH_EXPECT_EQ(cfg_rd(&d, VH_PCI_COMMAND, 2), 0ull);
	VH_EXPECT_EQ(d.vp.status, 0u);
	VH_EXPECT_EQ(cfg_rd(&d, d.msix_cap + 2, 2), 2ull);
	VH_EXPECT_EQ(d.vp.msix[1].ctrl, 1u);
	vdrv_fini(&d);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random register traffic to the function's configuration space and BAR,
 * with doorbells and random ring contents: nothing crashes (ASan,
 * UBSan), nothing outside RAM is asked for, the IDs stay. */
VH_TEST(virtio, random_register_traffic_crashes_nothing)
{
	struct vdrv d;
	uint64_t seed = 0x243f6a8885a308d3ull;
	static const unsigned sizes[] = { 1, 2, 4, 8 };

	vdrv_init(&d);
	probe(&d, ALL_FEATURES);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = rnd(&seed), v = rnd(&seed);
		unsigned size = sizes[r & 3];

		switch ((r >> 2) & 7) {
		case 0:
			cfg_wr(&d, (unsigned)(r >> 8) & 0xff, size, v);
			break;
		case 1:
		case 2: /* common configuration, mostly sensible offsets */
			vh_devices_mmio(&d.e.m.h, d.e.vm, &d.e.vm->vcpus[0],
					d.bar + ((r >> 8) & 0x3f), size, (r >> 16) & 1, &v);
			break;
		case 3: /* anywhere in the BAR */
			vh_devices_mmio(&d.e.m.h, d.e.vm, &d.e.vm->vcpus[0],
					d.bar + ((r >> 8) & (VH_VIRTIO_PCI_BAR_SIZE - 1)), size,
					(r >> 24) & 1, &v);
			break;
		case 4: /* ring and descriptor bytes */
			gput(&d, G_DESC + ((r >> 8) & 0x2fff), &v, 8);
			break;
		case 5:
			kick(&d, (uint16_t)((r >> 8) & 3));
			break;
		case 6: /* the driver starts over now and then */
			if (((r >> 8) & 255) == 0)
				probe(&d, ALL_FEATURES);
			break;
		default:
			take_irq(&d);
			break;
		}
		cfg_wr(&d, VH_PCI_COMMAND, 2, VH_PCI_CMD_MEMORY | VH_PCI_CMD_MASTER);
		cfg_wr(&d, VH_PCI_BAR0, 4, d.bar);
	}
	VH_EXPECT_EQ(d.outside, 0ull);
	VH_EXPECT_EQ(cfg_rd(&d, 0, 4), (0x1040ull + ECHO_TYPE) << 16 | 0x1af4);
	VH_EXPECT_EQ(common_rd(&d, 0x12, 2), 2ull);
	vdrv_fini(&d);
}

/* A second function where the first is, or with its BAR over the
 * first's, or a bad ops table: refused with the reason, nothing added to
 * the bus, the first untouched. */
VH_TEST(virtio, attach_refusals_change_nothing)
{
	struct vdrv d;
	struct vh_virtio_pci *other = calloc(1, sizeof(*other));
	struct vh_virtio_ops bad = echo_ops;
	struct vh_error err = { 0 };
	struct vh_pci_alloc al;
	struct vh_bus *b;
	uint32_t ndev, nmmio;

	VH_ASSERT(other != NULL);
	vdrv_init(&d);
	b = vh_devices_bus(d.e.vm);
	ndev = b->ndev;
	nmmio = b->mmio.n;
	vh_pci_alloc_init(&al); /* the same window again: the same BAR address */
	VH_ASSERT_EQ(vh_virtio_pci_init(other, &echo_ops, &d.echo, &al, &err), VH_OK);
	VH_EXPECT_EQ(vh_virtio_pci_attach(other, b, ECHO_SLOT, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "slot 4 is taken") != NULL);
	VH_EXPECT_EQ(vh_virtio_pci_attach(other, b, 0, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_virtio_pci_attach(other, b, 5, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "overlaps virtio-echo") != NULL);
	VH_EXPECT_EQ(b->ndev, ndev);
	VH_EXPECT_EQ(b->mmio.n, nmmio);
	/* Bad ops: nothing taken from the window either. */
	bad.queues = 17;
	VH_EXPECT_EQ(vh_virtio_pci_init(other, &bad, NULL, &al, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "queue count") != NULL);
	bad = echo_ops;
	bad.queue_max = 12;
	VH_EXPECT_EQ(vh_virtio_pci_init(other, &bad, NULL, &al, &err), VH_E_INVAL);
	bad = echo_ops;
	bad.config_read = NULL;
	VH_EXPECT_EQ(vh_virtio_pci_init(other, &bad, NULL, &al, &err), VH_E_INVAL);
	{
		struct vh_pci_alloc before = al;

		VH_EXPECT_EQ(vh_virtio_pci_init(other, NULL, NULL, &al, &err), VH_E_INVAL);
		VH_EXPECT_EQ(al.next, before.next);
	}
	/* The first still answers. */
	VH_EXPECT_EQ(cfg_rd(&d, 2, 2), 0x1040ull + ECHO_TYPE);
	free(other);
	vdrv_fini(&d);
}
