/* SPDX-License-Identifier: Apache-2.0 */
/* A virtio-pci device on a started VM's bus, driven as Linux's
 * virtio_pci_modern driver drives one (test_virtio.c,
 * test_virtio_hostile.c): found through configuration space and its
 * capabilities, set up through BAR 0, notified through its doorbell.
 *
 * The device type is the tests' own "echo" device: each chain's readable
 * bytes copied into its writable part.  It trusts the segments the queue
 * hands it, as a real device does, and copies with the transport's memory
 * directly; that memory is wrapped here so that any access outside the
 * VM's RAM is counted (and refused) instead of made: a hostile case
 * checks the count stayed 0. */
#ifndef VH_TEST_VIRTIO_ENV_H
#define VH_TEST_VIRTIO_ENV_H

#include "apic_env.h"
#include "vh/bus.h"
#include "vh/acpi.h"
#include "vh/error.h"
#include "vh/mem.h"
#include "vh/virtio.h"

#define ECHO_TYPE     63u /* 0x107f: the last modern ID, no real device's */
#define ECHO_F_LOUD   0u  /* a device feature bit, offered */
#define ECHO_SLOT     4u
#define ECHO_CFG_LEN  8u
#define ECHO_QMAX     16u

/* Guest-physical places the driver uses (the VM has 4 MiB of RAM). */
#define RAM_END  0x400000ull
#define G_DESC   0x100000ull
#define G_AVAIL  0x101000ull
#define G_USED   0x102000ull
#define G_IN     0x110000ull /* the readable buffer */
#define G_OUT    0x111000ull /* the writable buffer */
#define G_TABLE  0x120000ull /* an indirect table */
#define G_TABLE2 0x121000ull

#define V_CONFIG 0x41u /* MSI-X vectors the driver programs */
#define V_QUEUE  0x42u

struct echo {
	uint8_t cfg[ECHO_CFG_LEN];
	uint32_t resets;
	struct vh_virtio_pci *vp;
};

struct vdrv {
	struct apic_env e;
	struct vh_virtio_pci vp;
	struct echo echo;
	struct vh_virtio_mem real; /* the transport's own, wrapped */
	uint64_t outside;          /* accesses asked for outside RAM */
	uint64_t bar;
	uint32_t common, notify, isr, devcfg, mult, devcfg_len;
	uint8_t msix_cap;
	uint16_t avail_idx, qsize;
};

static bool t_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vdrv *d = ctx;

	return d->real.ram(d->real.ctx, gpa, len);
}

static bool t_inside(struct vdrv *d, uint64_t gpa, uint64_t n)
{
	if (gpa + n >= gpa && gpa + n <= RAM_END)
		return true;
	d->outside++;
	return false;
}

static int t_read(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	struct vdrv *d = ctx;

	return t_inside(d, gpa, n) ? d->real.read(d->real.ctx, gpa, buf, n) : -1;
}

static int t_write(void *ctx, uint64_t gpa, const void *buf, size_t n)
{
	struct vdrv *d = ctx;

	return t_inside(d, gpa, n) ? d->real.write(d->real.ctx, gpa, buf, n) : -1;
}

static void echo_config_read(void *dev, uint32_t off, void *buf, uint32_t n)
{
	memcpy(buf, ((struct echo *)dev)->cfg + off, n);
}

static void echo_config_write(void *dev, uint32_t off, const void *buf, uint32_t n)
{
	memcpy(((struct echo *)dev)->cfg + off, buf, n);
}

static void echo_reset(void *dev)
{
	((struct echo *)dev)->resets++;
}

/* At most a queue's worth of chains a call, as vh/virtio.h asks. */
static void echo_notify(void *dev, struct vh_virtio_pci *vp, uint16_t q)
{
	struct vh_virtq_seg seg[ECHO_QMAX];
	struct vh_virtq_chain c = { .cap = ECHO_QMAX, .seg = seg };

	(void)dev;
	for (unsigned i = 0; i < vp->q[q].size; i++) {
		uint8_t buf[512];
		uint32_t n = 0, out = 0;

		if (vh_virtio_pop(vp, q, &c) <= 0)
			return;
		for (uint32_t s = 0; s < c.n; s++) {
			uint32_t take = c.seg[s].len;

			if (c.seg[s].writable)
				continue;
			if (take > sizeof(buf) - n)
				take = (uint32_t)sizeof(buf) - n;
			if (vp->mem.read(vp->mem.ctx, c.seg[s].gpa, buf + n, take))
				return;
			n += take;
		}
		for (uint32_t s = 0; s < c.n && out < n; s++) {
			uint32_t take = c.seg[s].len;

			if (!c.seg[s].writable)
				continue;
			if (take > n - out)
				take = n - out;
			if (vp->mem.write(vp->mem.ctx, c.seg[s].gpa, buf + out, take))
				return;
			out += take;
		}
		vh_virtio_push(vp, q, &c, out);
	}
}

static const struct vh_virtio_ops echo_ops = {
	.name = "virtio-echo",
	.type = ECHO_TYPE,
	.pci_class = 0xff0000,
	.queues = 2,
	.queue_max = ECHO_QMAX,
	.config_len = ECHO_CFG_LEN,
	.features = 1ull << ECHO_F_LOUD,
	.config_read = echo_config_read,
	.config_write = echo_config_write,
	.queue_notify = echo_notify,
	.reset = echo_reset,
};

/* ---- the guest's side ----------------------------------------------------------- */

static inline uint64_t cfg_rd(struct vdrv *d, unsigned reg, unsigned size)
{
	uint64_t v = 0xdead;

	VH_EXPECT_EQ((int)vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0],
					  VH_LAYOUT_ECAM_BASE + (ECHO_SLOT << 15) + reg, size,
					  false, &v),
		     (int)VH_IO_HANDLED);
	return v;
}

static inline void cfg_wr(struct vdrv *d, unsigned reg, unsigned size, uint64_t v)
{
	vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0],
			VH_LAYOUT_ECAM_BASE + (ECHO_SLOT << 15) + reg, size, true, &v);
}

static inline uint64_t bar_rd(struct vdrv *d, uint32_t off, unsigned size)
{
	uint64_t v = 0xdead;

	VH_EXPECT_EQ((int)vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0], d->bar + off,
					  size, false, &v),
		     (int)VH_IO_HANDLED);
	return v;
}

static inline void bar_wr(struct vdrv *d, uint32_t off, unsigned size, uint64_t v)
{
	VH_EXPECT_EQ((int)vh_devices_mmio(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0], d->bar + off,
					  size, true, &v),
		     (int)VH_IO_HANDLED);
}

static inline uint64_t common_rd(struct vdrv *d, uint32_t off, unsigned size)
{
	return bar_rd(d, d->common + off, size);
}

static inline void common_wr(struct vdrv *d, uint32_t off, unsigned size, uint64_t v)
{
	bar_wr(d, d->common + off, size, v);
}

static inline uint8_t status(struct vdrv *d)
{
	return (uint8_t)common_rd(d, 0x14, 1);
}

static inline void gput(struct vdrv *d, uint64_t gpa, const void *buf, size_t n)
{
	struct vh_error err = { 0 };

	if (vh_mem_guest_write(&d->e.m.h, d->e.vm, gpa, buf, n, &err))
		VH_FAIL("guest write %#llx: %s", (unsigned long long)gpa, err.reason);
}

static inline void gget(struct vdrv *d, uint64_t gpa, void *buf, size_t n)
{
	struct vh_error err = { 0 };

	if (vh_mem_guest_read(&d->e.m.h, d->e.vm, gpa, buf, n, &err))
		VH_FAIL("guest read %#llx: %s", (unsigned long long)gpa, err.reason);
}

static inline uint16_t gget16(struct vdrv *d, uint64_t gpa)
{
	uint16_t v;

	gget(d, gpa, &v, 2);
	return v;
}

static inline void gput16(struct vdrv *d, uint64_t gpa, uint16_t v)
{
	gput(d, gpa, &v, 2);
}

/* Descriptor i of the table at table. */
static inline void desc(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
			uint16_t flags, uint16_t next)
{
	uint8_t b[16];

	memcpy(b, &addr, 8);
	memcpy(b + 8, &len, 4);
	memcpy(b + 12, &flags, 2);
	memcpy(b + 14, &next, 2);
	gput(d, table + 16ull * i, b, sizeof(b));
}

/* Publishes head in the avail ring and moves its index. */
static inline void offer(struct vdrv *d, uint16_t head)
{
	gput16(d, G_AVAIL + 4 + 2ull * (d->avail_idx % d->qsize), head);
	d->avail_idx++;
	gput16(d, G_AVAIL + 2, d->avail_idx);
}

static inline void kick(struct vdrv *d, uint16_t q)
{
	bar_wr(d, d->notify + d->mult * q, 2, q);
}

static inline uint16_t used_idx(struct vdrv *d)
{
	return gget16(d, G_USED + 2);
}

/* The interrupt vCPU 0's APIC would take next (-1: none); taking it. */
static inline int take_irq(struct vdrv *d)
{
	int v = pending(&d->e, 0);

	if (v >= 0) {
		vh_lapic_ack(&d->e.m.h, d->e.vm, &d->e.vm->vcpus[0], (uint8_t)v);
		wr(&d->e, 0, 0xb0, 0); /* EOI */
	}
	return v;
}

/* Finds the capabilities as virtio_pci_modern_probe does. */
static inline void find_caps(struct vdrv *d)
{
	unsigned at = (unsigned)cfg_rd(d, 0x34, 1);

	for (int guard = 0; at && guard < 48; guard++) {
		unsigned id = (unsigned)cfg_rd(d, at, 1);

		if (id == VH_PCI_CAP_VENDOR) {
			unsigned type = (unsigned)cfg_rd(d, at + 3, 1);
			uint32_t off = (uint32_t)cfg_rd(d, at + 8, 4);

			VH_EXPECT_EQ(cfg_rd(d, at + 4, 1), 0ull); /* BAR 0 */
			if (type == VH_VIRTIO_PCI_CAP_COMMON)
				d->common = off;
			else if (type == VH_VIRTIO_PCI_CAP_NOTIFY) {
				d->notify = off;
				d->mult = (uint32_t)cfg_rd(d, at + 16, 4);
			} else if (type == VH_VIRTIO_PCI_CAP_ISR)
				d->isr = off;
			else if (type == VH_VIRTIO_PCI_CAP_DEVICE) {
				d->devcfg = off;
				d->devcfg_len = (uint32_t)cfg_rd(d, at + 12, 4);
			}
		} else if (id == VH_PCI_CAP_MSIX) {
			d->msix_cap = (uint8_t)at;
		}
		at = (unsigned)cfg_rd(d, at + 1, 1);
	}
}

/* A VM with the echo device at 00:04.0, its caps found, memory decoding
 * and bus mastering on, vCPU 0's APIC enabled. */
static inline void vdrv_init(struct vdrv *d)
{
	struct vh_error err = { 0 };
	struct vh_pci_alloc al;

	memset(d, 0, sizeof(*d));
	apic_env_init(&d->e, 1);
	vh_pci_alloc_init(&al);
	d->echo.vp = &d->vp;
	VH_ASSERT_EQ(vh_virtio_pci_init(&d->vp, &echo_ops, &d->echo, &al, &err), VH_OK);
	VH_ASSERT_EQ(vh_virtio_pci_attach(&d->vp, vh_devices_bus(d->e.vm), ECHO_SLOT, &err),
		     VH_OK);
	d->real = d->vp.mem;
	d->vp.mem = (struct vh_virtio_mem){ d, t_ram, t_read, t_write };
	d->bar = cfg_rd(d, VH_PCI_BAR0, 4) & ~0xfull;
	cfg_wr(d, VH_PCI_COMMAND, 2, VH_PCI_CMD_MEMORY | VH_PCI_CMD_MASTER);
	find_caps(d);
	wr(&d->e, 0, 0xf0, 0x1ff);
}

static inline void vdrv_fini(struct vdrv *d)
{
	mem_env_fini(&d->e.m);
}

/* MSI-X on, entry 0 for configuration changes and entry 1 + q for queue
 * q, each to vCPU 0 with its vector, unmasked. */
static inline void msix_setup(struct vdrv *d)
{
	uint32_t table = (uint32_t)cfg_rd(d, d->msix_cap + 4, 4) & ~7u;

	for (unsigned v = 0; v < 3; v++) {
		bar_wr(d, table + 16 * v, 4, 0xfee00000u);
		bar_wr(d, table + 16 * v + 4, 4, 0);
		bar_wr(d, table + 16 * v + 8, 4, v == 0 ? V_CONFIG : V_QUEUE + v - 1);
		bar_wr(d, table + 16 * v + 12, 4, 0);
	}
	cfg_wr(d, d->msix_cap + 2, 2, 0x8000);
}

/* Linux's probe to FEATURES_OK with the features it wants of those
 * offered (plus any not offered in extra): the status read back. */
static inline uint8_t negotiate(struct vdrv *d, uint64_t want, uint64_t extra)
{
	uint64_t offered;

	common_wr(d, 0x14, 1, 0);
	VH_EXPECT_EQ(status(d), 0u);
	common_wr(d, 0x14, 1, VH_VIRTIO_S_ACKNOWLEDGE);
	common_wr(d, 0x14, 1, VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER);
	common_wr(d, 0x00, 4, 0);
	offered = common_rd(d, 0x04, 4);
	common_wr(d, 0x00, 4, 1);
	offered |= common_rd(d, 0x04, 4) << 32;
	common_wr(d, 0x08, 4, 0);
	common_wr(d, 0x0c, 4, (uint32_t)((want & offered) | extra));
	common_wr(d, 0x08, 4, 1);
	common_wr(d, 0x0c, 4, (uint32_t)(((want & offered) | extra) >> 32));
	common_wr(d, 0x14, 1,
		  VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER | VH_VIRTIO_S_FEATURES_OK);
	return status(d);
}

/* Queue q of size qsize at the G_ rings, vector vec; enabled. */
static inline void queue_setup(struct vdrv *d, uint16_t q, uint16_t qsize, uint16_t vec)
{
	common_wr(d, 0x16, 2, q);
	common_wr(d, 0x18, 2, qsize);
	common_wr(d, 0x1a, 2, vec);
	common_wr(d, 0x20, 4, (uint32_t)G_DESC);
	common_wr(d, 0x24, 4, (uint32_t)(G_DESC >> 32));
	common_wr(d, 0x28, 8, G_AVAIL);
	common_wr(d, 0x30, 8, G_USED);
	common_wr(d, 0x1c, 2, 1);
	d->qsize = qsize;
}

#define ALL_FEATURES                                                                          \
	(VH_VIRTIO_BIT(VH_VIRTIO_F_VERSION_1) | VH_VIRTIO_BIT(VH_VIRTIO_F_INDIRECT_DESC) |     \
	 VH_VIRTIO_BIT(VH_VIRTIO_F_EVENT_IDX) | (1ull << ECHO_F_LOUD))

/* The whole probe: features, MSI-X, queue 0 of 8 entries on vector 1,
 * DRIVER_OK; the rings zeroed first as a driver allocates them. */
static inline void probe(struct vdrv *d, uint64_t features)
{
	static const uint8_t zero[0x1000];

	gput(d, G_DESC, zero, sizeof(zero));
	gput(d, G_AVAIL, zero, sizeof(zero));
	gput(d, G_USED, zero, sizeof(zero));
	d->avail_idx = 0;
	VH_ASSERT(negotiate(d, features, 0) & VH_VIRTIO_S_FEATURES_OK);
	msix_setup(d);
	common_wr(d, 0x10, 2, 0);
	VH_EXPECT_EQ(common_rd(d, 0x10, 2), 0ull);
	queue_setup(d, 0, 8, 1);
	VH_EXPECT_EQ(common_rd(d, 0x1a, 2), 1ull);
	common_wr(d, 0x14, 1,
		  VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER | VH_VIRTIO_S_FEATURES_OK |
		      VH_VIRTIO_S_DRIVER_OK);
	VH_ASSERT_EQ(status(d), 0x0fu);
}

#endif
