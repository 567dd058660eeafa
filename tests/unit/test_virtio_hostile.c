/* SPDX-License-Identifier: Apache-2.0 */
/* A hostile driver (virtio_env.h): one row a way to lie to the device
 * (descriptor indices past the queue, buffers outside RAM or running
 * past its end, loops, indirect tables inside indirect tables, an avail
 * index too far ahead, rings outside RAM, bad queue sizes).  Each ends
 * with the device in DEVICE_NEEDS_RESET for the row's named reason, a
 * configuration interrupt, nothing consumed, nothing asked of memory
 * outside the VM, doorbells ignored, and a device that works again after
 * a reset.  Feature bits not offered fail FEATURES_OK instead. */
#include "virtio_env.h"

static const char msg[] = "hello virtio";

static void hello_at(struct vdrv *d, unsigned i, uint16_t flags, uint16_t next)
{
	gput(d, G_IN, msg, sizeof(msg) - 1);
	desc(d, G_DESC, i, G_IN, sizeof(msg) - 1, flags, next);
}

static void head_past_queue(struct vdrv *d)
{
	hello_at(d, 0, 0, 0);
	offer(d, 8); /* the queue has 8 entries: 0..7 */
}

static void next_past_queue(struct vdrv *d)
{
	hello_at(d, 0, VH_VIRTQ_DESC_F_NEXT, 8);
	offer(d, 0);
}

static void buffer_outside_ram(struct vdrv *d)
{
	desc(d, G_DESC, 0, 0xc0000000ull, 16, VH_VIRTQ_DESC_F_NEXT, 1); /* the PCI hole */
	desc(d, G_DESC, 1, G_OUT, 64, VH_VIRTQ_DESC_F_WRITE, 0);
	offer(d, 0);
}

static void length_past_ram_end(struct vdrv *d)
{
	hello_at(d, 0, VH_VIRTQ_DESC_F_NEXT, 1);
	desc(d, G_DESC, 1, RAM_END - 4, 64, VH_VIRTQ_DESC_F_WRITE, 0);
	offer(d, 0);
}

static void address_wraps(struct vdrv *d)
{
	desc(d, G_DESC, 0, ~0ull - 7, 16, 0, 0);
	offer(d, 0);
}

static void loop_of_two(struct vdrv *d)
{
	hello_at(d, 0, VH_VIRTQ_DESC_F_NEXT, 1);
	hello_at(d, 1, VH_VIRTQ_DESC_F_NEXT, 0);
	offer(d, 0);
}

static void loop_on_itself(struct vdrv *d)
{
	hello_at(d, 3, VH_VIRTQ_DESC_F_NEXT, 3);
	offer(d, 3);
}

static void indirect_in_indirect(struct vdrv *d)
{
	desc(d, G_TABLE2, 0, G_IN, 12, 0, 0);
	desc(d, G_TABLE, 0, G_TABLE2, 16, VH_VIRTQ_DESC_F_INDIRECT, 0);
	desc(d, G_DESC, 0, G_TABLE, 16, VH_VIRTQ_DESC_F_INDIRECT, 0);
	offer(d, 0);
}

static void indirect_with_next(struct vdrv *d)
{
	desc(d, G_TABLE, 0, G_IN, 12, 0, 0);
	desc(d, G_DESC, 0, G_TABLE, 16, VH_VIRTQ_DESC_F_INDIRECT | VH_VIRTQ_DESC_F_NEXT, 1);
	hello_at(d, 1, 0, 0);
	offer(d, 0);
}

static void indirect_odd_size(struct vdrv *d)
{
	desc(d, G_TABLE, 0, G_IN, 12, 0, 0);
	desc(d, G_DESC, 0, G_TABLE, 20, VH_VIRTQ_DESC_F_INDIRECT, 0);
	offer(d, 0);
}

static void indirect_over_queue(struct vdrv *d)
{
	desc(d, G_DESC, 0, G_TABLE, 16 * 9, VH_VIRTQ_DESC_F_INDIRECT, 0);
	offer(d, 0);
}

static void indirect_outside_ram(struct vdrv *d)
{
	desc(d, G_DESC, 0, RAM_END - 32, 64, VH_VIRTQ_DESC_F_INDIRECT, 0);
	offer(d, 0);
}

static void indirect_loop(struct vdrv *d)
{
	desc(d, G_TABLE, 0, G_IN, 12, VH_VIRTQ_DESC_F_NEXT, 1);
	desc(d, G_TABLE, 1, G_IN, 12, VH_VIRTQ_DESC_F_NEXT, 0);
	desc(d, G_DESC, 0, G_TABLE, 32, VH_VIRTQ_DESC_F_INDIRECT, 0);
	offer(d, 0);
}

static void indirect_next_past_table(struct vdrv *d)
{
	desc(d, G_TABLE, 0, G_IN, 12, VH_VIRTQ_DESC_F_NEXT, 2);
	desc(d, G_TABLE, 1, G_OUT, 12, VH_VIRTQ_DESC_F_WRITE, 0);
	desc(d, G_DESC, 0, G_TABLE, 32, VH_VIRTQ_DESC_F_INDIRECT, 0);
	offer(d, 0);
}

static void avail_far_ahead(struct vdrv *d)
{
	hello_at(d, 0, 0, 0);
	gput16(d, G_AVAIL + 2, 9);
}

/* The rest set queue 1 up badly while the device runs. */
static void queue1(struct vdrv *d, uint16_t size, uint64_t desc_at)
{
	common_wr(d, 0x16, 2, 1);
	common_wr(d, 0x18, 2, size);
	common_wr(d, 0x20, 8, desc_at);
	common_wr(d, 0x28, 8, G_AVAIL + 0x800);
	common_wr(d, 0x30, 8, G_USED + 0x800);
	common_wr(d, 0x1c, 2, 1);
}

static void ring_outside_ram(struct vdrv *d)
{
	queue1(d, 8, RAM_END - 64);
}

static void ring_misaligned(struct vdrv *d)
{
	queue1(d, 8, G_DESC + 0x808);
}

static void size_not_power_of_two(struct vdrv *d)
{
	queue1(d, 6, G_DESC + 0x800);
}

static void size_over_maximum(struct vdrv *d)
{
	queue1(d, 2 * ECHO_QMAX, G_DESC + 0x800);
}

static void indirect_unoffered(struct vdrv *d)
{
	indirect_in_indirect(d); /* the first INDIRECT flag is already one too many */
}

/* One row a lie: the planting function (also the test's name), whether
 * VIRTIO_F_INDIRECT_DESC is left out of the negotiation, the reason the
 * device must name. */
#define HOSTILE_ROWS(X)                                                                       \
	X(head_past_queue, false, VH_VIRTIO_FAULT_HEAD_INDEX)                                 \
	X(next_past_queue, false, VH_VIRTIO_FAULT_NEXT_INDEX)                                 \
	X(buffer_outside_ram, false, VH_VIRTIO_FAULT_BUFFER_OUTSIDE_RAM)                      \
	X(length_past_ram_end, false, VH_VIRTIO_FAULT_BUFFER_OUTSIDE_RAM)                     \
	X(address_wraps, false, VH_VIRTIO_FAULT_BUFFER_OUTSIDE_RAM)                           \
	X(loop_of_two, false, VH_VIRTIO_FAULT_CHAIN_TOO_LONG)                                 \
	X(loop_on_itself, false, VH_VIRTIO_FAULT_CHAIN_TOO_LONG)                              \
	X(indirect_in_indirect, false, VH_VIRTIO_FAULT_INDIRECT_NESTED)                       \
	X(indirect_unoffered, true, VH_VIRTIO_FAULT_INDIRECT_NOT_OFFERED)                     \
	X(indirect_with_next, false, VH_VIRTIO_FAULT_INDIRECT_WITH_NEXT)                      \
	X(indirect_odd_size, false, VH_VIRTIO_FAULT_INDIRECT_SIZE)                            \
	X(indirect_over_queue, false, VH_VIRTIO_FAULT_INDIRECT_SIZE)                          \
	X(indirect_outside_ram, false, VH_VIRTIO_FAULT_INDIRECT_OUTSIDE_RAM)                  \
	X(indirect_loop, false, VH_VIRTIO_FAULT_CHAIN_TOO_LONG)                               \
	X(indirect_next_past_table, false, VH_VIRTIO_FAULT_NEXT_INDEX)                        \
	X(avail_far_ahead, false, VH_VIRTIO_FAULT_AVAIL_AHEAD)                                \
	X(ring_outside_ram, false, VH_VIRTIO_FAULT_RING_OUTSIDE_RAM)                          \
	X(ring_misaligned, false, VH_VIRTIO_FAULT_RING_ALIGN)                                 \
	X(size_not_power_of_two, false, VH_VIRTIO_FAULT_RING_SIZE)                            \
	X(size_over_maximum, false, VH_VIRTIO_FAULT_RING_SIZE)

struct hostile {
	const char *name;
	bool no_indirect; /* negotiated without VIRTIO_F_INDIRECT_DESC */
	void (*plant)(struct vdrv *d);
	enum vh_virtio_fault want;
};

static void run_row(const struct hostile *h)
{
	struct vdrv d;
	char out[13] = { 0 };
	uint64_t features = ALL_FEATURES;

	if (h->no_indirect)
		features &= ~VH_VIRTIO_BIT(VH_VIRTIO_F_INDIRECT_DESC);
	vdrv_init(&d);
	probe(&d, features);
	h->plant(&d);
	kick(&d, 0);
	if (used_idx(&d) != 0 || d.outside != 0)
		VH_FAIL("%s: used index %u, %llu accesses outside RAM", h->name, used_idx(&d),
			(unsigned long long)d.outside);
	if (!(status(&d) & VH_VIRTIO_S_NEEDS_RESET))
		VH_FAIL("%s: no DEVICE_NEEDS_RESET (status %#x)", h->name, status(&d));
	if (d.vp.fault != h->want || d.vp.faults[h->want] != 1)
		VH_FAIL("%s: fault \"%s\", wanted \"%s\"", h->name,
			vh_virtio_fault_name(d.vp.fault), vh_virtio_fault_name(h->want));
	if (take_irq(&d) != (int)V_CONFIG)
		VH_FAIL("%s: no configuration interrupt", h->name);
	/* Stopped: a good chain and a doorbell do nothing. */
	gput(&d, G_IN, msg, 12);
	desc(&d, G_DESC, 6, G_IN, 12, VH_VIRTQ_DESC_F_NEXT, 7);
	desc(&d, G_DESC, 7, G_OUT, 64, VH_VIRTQ_DESC_F_WRITE, 0);
	offer(&d, 6);
	kick(&d, 0);
	if (used_idx(&d) != 0 || take_irq(&d) != -1)
		VH_FAIL("%s: a stopped device served a chain", h->name);
	/* A reset and a new probe: it works again. */
	probe(&d, features);
	VH_EXPECT_EQ((int)d.vp.fault, (int)VH_VIRTIO_FAULT_NONE);
	gput(&d, G_IN, msg, 12);
	desc(&d, G_DESC, 0, G_IN, 12, VH_VIRTQ_DESC_F_NEXT, 1);
	desc(&d, G_DESC, 1, G_OUT, 64, VH_VIRTQ_DESC_F_WRITE, 0);
	offer(&d, 0);
	kick(&d, 0);
	gget(&d, G_OUT, out, 12);
	if (used_idx(&d) != 1 || strcmp(out, msg) != 0)
		VH_FAIL("%s: not usable after a reset (used %u)", h->name, used_idx(&d));
	VH_EXPECT_EQ(d.outside, 0ull);
	vdrv_fini(&d);
}

/* A test case a row. */
#define HOSTILE_TEST(plant, no_ind, fault)                                                   \
	VH_TEST(virtio_hostile, plant)                                                      \
	{                                                                                   \
		run_row(&(const struct hostile){ #plant, no_ind, plant, fault });           \
	}
HOSTILE_ROWS(HOSTILE_TEST)

/* Every named reason but the feature ones and the two no driver can cause
 * through this device (a failed access to RAM; a chain over the device's
 * 16 segments in a queue of at most 16) has a row. */
VH_TEST(virtio_hostile, every_reason_has_a_row)
{
#define HOSTILE_FAULT(plant, no_ind, fault) fault,
	static const enum vh_virtio_fault covered[] = { HOSTILE_ROWS(HOSTILE_FAULT) };

	for (int f = VH_VIRTIO_FAULT_RING_SIZE; f <= VH_VIRTIO_FAULT_INDIRECT_OUTSIDE_RAM; f++) {
		bool seen = f == VH_VIRTIO_FAULT_CHAIN_OVER_DEVICE;

		for (size_t i = 0; i < sizeof(covered) / sizeof(covered[0]); i++)
			seen |= covered[i] == (enum vh_virtio_fault)f;
		if (!seen)
			VH_FAIL("no hostile case for \"%s\"", vh_virtio_fault_name(f));
	}
}

VH_TEST(virtio_hostile, a_feature_not_offered_fails_features_ok)
{
	struct vdrv d;

	vdrv_init(&d);
	/* Bit 5 the device never offered. */
	VH_EXPECT_EQ(negotiate(&d, ALL_FEATURES, 1ull << 5) & VH_VIRTIO_S_FEATURES_OK, 0u);
	VH_EXPECT_EQ(d.vp.faults[VH_VIRTIO_FAULT_FEATURE_NOT_OFFERED], 1ull);
	/* DRIVER_OK cannot follow. */
	common_wr(&d, 0x14, 1,
		  VH_VIRTIO_S_ACKNOWLEDGE | VH_VIRTIO_S_DRIVER | VH_VIRTIO_S_FEATURES_OK |
		      VH_VIRTIO_S_DRIVER_OK);
	VH_EXPECT_EQ(status(&d) & (VH_VIRTIO_S_DRIVER_OK | VH_VIRTIO_S_FEATURES_OK), 0u);
	/* A bit past 63: never stored. */
	common_wr(&d, 0x08, 4, 2);
	common_wr(&d, 0x0c, 4, 0xffffffffu);
	common_wr(&d, 0x08, 4, 0);
	VH_EXPECT_EQ(d.vp.driver_features & ~ALL_FEATURES, 1ull << 5);
	/* Without VERSION_1: a legacy driver is refused the same way. */
	VH_EXPECT_EQ(negotiate(&d, ALL_FEATURES & ~VH_VIRTIO_BIT(VH_VIRTIO_F_VERSION_1), 0) &
			 VH_VIRTIO_S_FEATURES_OK,
		     0u);
	VH_EXPECT_EQ(d.vp.faults[VH_VIRTIO_FAULT_NO_VERSION_1], 1ull);
	/* Neither stops the device: a proper negotiation goes through, and
	 * the features are fixed once FEATURES_OK is set. */
	VH_EXPECT(negotiate(&d, ALL_FEATURES, 0) & VH_VIRTIO_S_FEATURES_OK);
	VH_EXPECT_EQ(status(&d) & VH_VIRTIO_S_NEEDS_RESET, 0u);
	common_wr(&d, 0x08, 4, 0);
	common_wr(&d, 0x0c, 4, 1u << 5);
	VH_EXPECT_EQ(d.vp.driver_features, ALL_FEATURES);
	vdrv_fini(&d);
}

VH_TEST(virtio_hostile, a_fault_before_driver_ok_sends_no_interrupt)
{
	struct vdrv d;

	vdrv_init(&d);
	VH_ASSERT(negotiate(&d, ALL_FEATURES, 0) & VH_VIRTIO_S_FEATURES_OK);
	msix_setup(&d);
	common_wr(&d, 0x10, 2, 0);
	queue_setup(&d, 0, 8, 1);
	common_wr(&d, 0x16, 2, 1);
	common_wr(&d, 0x18, 2, 5);
	common_wr(&d, 0x1c, 2, 1);
	VH_EXPECT(status(&d) & VH_VIRTIO_S_NEEDS_RESET);
	VH_EXPECT_EQ((int)d.vp.fault, (int)VH_VIRTIO_FAULT_RING_SIZE);
	VH_EXPECT_EQ(take_irq(&d), -1);
	/* The driver writes 0 to the status to bring it back. */
	common_wr(&d, 0x14, 1, 0);
	VH_EXPECT_EQ(status(&d), 0u);
	vdrv_fini(&d);
}
