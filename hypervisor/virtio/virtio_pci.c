/* SPDX-License-Identifier: Apache-2.0 */
/* The modern virtio-pci transport (vh/virtio.h; virtio 1.2, 4.1): a PCI
 * function with the vendor capabilities Linux's virtio_pci_modern looks
 * for (common configuration, notifications, ISR, device configuration)
 * and MSI-X, all in BAR 0; feature negotiation, the device status state
 * machine, reset, queue set-up, and interrupts by MSI-X to the local
 * APICs or by INTx to the IOAPIC.  What the device does with a request is
 * the device type's (struct vh_virtio_ops).
 *
 * BAR 0, one page a region (the handler picks by page, below):
 *   0x0000 common configuration   0x3000 notify: queue q's doorbell at 4 q
 *   0x1000 ISR status             0x4000 MSI-X table (a vector a queue + config)
 *   0x2000 device configuration   0x5000 MSI-X pending bits */
#include "vh/virtio.h"
#include "vh/acpi.h"
#include "vh/error.h"
#include "vh/mem.h"
#include "vh/string.h"

#define MSIX_ENABLE 0x80u /* message control's high byte */
#define MSIX_FMASK  0x40u
#define PCI_STATUS_INTX 0x08u /* status register: the INTx line is asserted */

static uint64_t le(const uint8_t *b, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

/* A register of the function's power-on contents (capabilities, IDs). */
static void cfg_put(struct vh_pci_cfg *c, unsigned off, uint64_t v, unsigned n)
{
	put_le(c->data + off, v, n);
	put_le(c->reset + off, v, n);
}

/* ---- interrupts ----------------------------------------------------------------- */

static uint8_t msix_ctrl(const struct vh_virtio_pci *vp)
{
	return vp->cfg.data[vp->msix_cap + 3];
}

static bool msix_on(const struct vh_virtio_pci *vp)
{
	return msix_ctrl(vp) & MSIX_ENABLE;
}

/* INTx follows the ISR while MSI-X is off and the command register lets
 * it (4.1.4.5.1: deasserted when the ISR is read). */
static void intx_update(struct vh_virtio_pci *vp, const struct vh_dev_access *a)
{
	uint16_t cmd = (uint16_t)le(vp->cfg.data + VH_PCI_COMMAND, 2);
	bool level = vp->isr && !msix_on(vp) && !(cmd & VH_PCI_CMD_INTX_OFF);

	if (level == vp->intx)
		return;
	vp->intx = level;
	if (level) {
		vp->cfg.data[VH_PCI_STATUS] |= PCI_STATUS_INTX;
		vp->intx_raised++;
	} else {
		vp->cfg.data[VH_PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTX;
	}
	vh_dev_gsi(a, vh_acpi_pci_gsi(vp->slot, 0), level);
}

/* Vector v now, or pending in the PBA while it or the function is
 * masked (sent when unmasked: msix_flush). */
static void msix_fire(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint16_t v)
{
	const struct vh_virtio_msix_entry *e;

	if (v >= vp->nvectors)
		return;
	e = &vp->msix[v];
	if ((e->ctrl & 1) || (msix_ctrl(vp) & MSIX_FMASK)) {
		vp->pba |= 1ull << v;
		vp->interrupts_masked++;
		return;
	}
	vp->pba &= ~(1ull << v);
	vp->msis++;
	vh_dev_msi(a, (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data);
}

static void msix_flush(struct vh_virtio_pci *vp, const struct vh_dev_access *a)
{
	if (!msix_on(vp) || (msix_ctrl(vp) & MSIX_FMASK))
		return;
	for (uint16_t v = 0; v < vp->nvectors; v++) {
		if ((vp->pba & (1ull << v)) && !(vp->msix[v].ctrl & 1))
			msix_fire(vp, a, v);
	}
}

/* A queue's or the configuration's interrupt: its MSI-X vector (none:
 * nothing, as the spec says), else the ISR bit and INTx.  The ISR's
 * configuration bit is set either way (4.1.4.5.1). */
static void interrupt(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint16_t vector,
		      uint8_t isr_bit)
{
	if (isr_bit == VH_VIRTIO_ISR_CONFIG)
		vp->isr |= isr_bit;
	if (msix_on(vp)) {
		if (vector != VH_VIRTIO_MSI_NO_VECTOR)
			msix_fire(vp, a, vector);
		return;
	}
	vp->isr |= isr_bit;
	intx_update(vp, a);
}

void vh_virtio_pci_fail(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
			enum vh_virtio_fault f)
{
	if (vp->status & VH_VIRTIO_S_NEEDS_RESET)
		return;
	if ((unsigned)f >= VH_VIRTIO_FAULTS || f == VH_VIRTIO_FAULT_NONE)
		f = VH_VIRTIO_FAULT_MEMORY;
	vp->faults[f]++;
	vp->fault = f;
	vp->status |= VH_VIRTIO_S_NEEDS_RESET;
	/* 2.1.2: once DRIVER_OK is set, the driver hears of it. */
	if (vp->status & VH_VIRTIO_S_DRIVER_OK)
		interrupt(vp, a, vp->config_vector, VH_VIRTIO_ISR_CONFIG);
}

void vh_virtio_pci_config_changed(struct vh_virtio_pci *vp, const struct vh_dev_access *a)
{
	vp->generation++;
	if (vp->status & VH_VIRTIO_S_DRIVER_OK)
		interrupt(vp, a, vp->config_vector, VH_VIRTIO_ISR_CONFIG);
}

void vh_virtio_pci_used(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint16_t q)
{
	if (q < vp->ops->queues && vh_virtq_need_interrupt(&vp->q[q], &vp->mem))
		interrupt(vp, a, vp->q[q].vector, VH_VIRTIO_ISR_QUEUE);
}

/* ---- reset ------------------------------------------------------------------------- */

/* The virtio state (not the PCI function's): what writing 0 to the
 * status resets (2.4). */
static void virtio_reset(struct vh_virtio_pci *vp)
{
	vp->driver_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->config_vector = VH_VIRTIO_MSI_NO_VECTOR;
	vp->queue_select = 0;
	vp->status = 0;
	vp->isr = 0;
	vp->pba = 0;
	vp->notify_pending = 0;
	vp->fault = VH_VIRTIO_FAULT_NONE;
	for (uint16_t i = 0; i < vp->ops->queues; i++)
		vh_virtq_reset(&vp->q[i], vp->ops->queue_max);
	if (vp->ops->reset)
		vp->ops->reset(vp->dev);
}

void vh_virtio_pci_bus_reset(void *state, const struct vh_bus *bus)
{
	struct vh_virtio_pci *vp = state;

	(void)bus;
	/* The VM reset: its IOAPIC and APICs reset too, so the line and
	 * the messages start over without being sent. */
	vh_pci_cfg_reset(&vp->cfg);
	for (uint16_t v = 0; v < VH_VIRTIO_MAX_VECTORS; v++)
		vp->msix[v] = (struct vh_virtio_msix_entry){ .ctrl = 1 };
	vp->intx = false;
	virtio_reset(vp);
}

/* ---- common configuration (4.1.4.3) ------------------------------------------------ */

static struct vh_virtq *selected(struct vh_virtio_pci *vp)
{
	return vp->queue_select < vp->ops->queues ? &vp->q[vp->queue_select] : 0;
}

static void common_image(struct vh_virtio_pci *vp, uint8_t *b)
{
	const struct vh_virtq *q = selected(vp);

	vh_memset(b, 0, VH_VIRTIO_PCI_COMMON_LEN);
	put_le(b + 0x00, vp->dfselect, 4);
	if (vp->dfselect < 2)
		put_le(b + 0x04, vp->device_features >> (32 * vp->dfselect), 4);
	put_le(b + 0x08, vp->gfselect, 4);
	if (vp->gfselect < 2)
		put_le(b + 0x0c, vp->driver_features >> (32 * vp->gfselect), 4);
	put_le(b + 0x10, vp->config_vector, 2);
	put_le(b + 0x12, vp->ops->queues, 2);
	b[0x14] = vp->status;
	b[0x15] = vp->generation;
	put_le(b + 0x16, vp->queue_select, 2);
	if (!q)
		return; /* no such queue: size 0 says so */
	put_le(b + 0x18, q->size, 2);
	put_le(b + 0x1a, q->vector, 2);
	put_le(b + 0x1c, q->enabled, 2);
	put_le(b + 0x1e, vp->queue_select, 2); /* queue_notify_off */
	put_le(b + 0x20, q->desc, 8);
	put_le(b + 0x28, q->avail, 8);
	put_le(b + 0x30, q->used, 8);
}

static void reset_by_driver(struct vh_virtio_pci *vp, const struct vh_dev_access *a)
{
	vp->resets++;
	virtio_reset(vp);
	intx_update(vp, a);
}

/* FEATURES_OK only for a subset of what was offered that holds
 * VERSION_1 and that the device type takes (3.1.1, 6.1). */
static bool features_accepted(struct vh_virtio_pci *vp)
{
	uint64_t f = vp->driver_features;

	if (f & ~vp->device_features) {
		vp->faults[VH_VIRTIO_FAULT_FEATURE_NOT_OFFERED]++;
		return false;
	}
	if (!(f & VH_VIRTIO_BIT(VH_VIRTIO_F_VERSION_1))) {
		vp->faults[VH_VIRTIO_FAULT_NO_VERSION_1]++;
		return false;
	}
	return !vp->ops->features_ok || vp->ops->features_ok(vp->dev, f);
}

static void set_status(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	uint8_t want = (uint8_t)v & (uint8_t)~VH_VIRTIO_S_NEEDS_RESET;
	uint8_t have = vp->status & (uint8_t)~VH_VIRTIO_S_NEEDS_RESET;

	if (!(uint8_t)v) {
		reset_by_driver(vp, a);
		return;
	}
	/* A driver sets bits one step at a time and clears them only by a
	 * reset (2.1.1); anything else is dropped. */
	if ((want & have) != have) {
		vp->writes_ignored++;
		return;
	}
	if ((want & VH_VIRTIO_S_FEATURES_OK) && !(have & VH_VIRTIO_S_FEATURES_OK) &&
	    !features_accepted(vp))
		want &= (uint8_t)~VH_VIRTIO_S_FEATURES_OK;
	if (!(want & VH_VIRTIO_S_FEATURES_OK))
		want &= (uint8_t)~VH_VIRTIO_S_DRIVER_OK;
	vp->status = want | (vp->status & VH_VIRTIO_S_NEEDS_RESET);
}

static void set_dfselect(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	(void)a;
	vp->dfselect = (uint32_t)v;
}

static void set_gfselect(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	(void)a;
	vp->gfselect = (uint32_t)v;
}

static void set_driver_features(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				uint64_t v)
{
	unsigned shift = 32 * vp->gfselect;

	(void)a;
	/* Fixed once FEATURES_OK is set (3.1.1); no bits past 63. */
	if ((vp->status & VH_VIRTIO_S_FEATURES_OK) || vp->gfselect > 1) {
		vp->writes_ignored++;
		return;
	}
	vp->driver_features = (vp->driver_features & ~(0xffffffffull << shift)) |
			      (v & 0xffffffffull) << shift;
}

/* A vector the table has, or NO_VECTOR read back: how a device says it
 * cannot take that one (4.1.5.1.2), and Linux then tries fewer. */
static uint16_t vector_or_none(const struct vh_virtio_pci *vp, uint64_t v)
{
	return v < vp->nvectors ? (uint16_t)v : VH_VIRTIO_MSI_NO_VECTOR;
}

static void set_config_vector(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	(void)a;
	vp->config_vector = vector_or_none(vp, v);
}

static void set_queue_select(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	(void)a;
	vp->queue_select = (uint16_t)v;
}

/* A queue's set-up while it is not enabled; after, it is fixed. */
static struct vh_virtq *setup_queue(struct vh_virtio_pci *vp)
{
	struct vh_virtq *q = selected(vp);

	if (!q || q->enabled) {
		vp->writes_ignored++;
		return 0;
	}
	return q;
}

static void set_queue_size(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	struct vh_virtq *q = setup_queue(vp);

	(void)a;
	if (q)
		q->size = (uint16_t)v; /* checked when enabled */
}

static void set_queue_vector(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	struct vh_virtq *q = selected(vp);

	(void)a;
	if (q)
		q->vector = vector_or_none(vp, v);
}

static void set_queue_desc(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	struct vh_virtq *q = setup_queue(vp);

	(void)a;
	if (q)
		q->desc = v;
}

static void set_queue_avail(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	struct vh_virtq *q = setup_queue(vp);

	(void)a;
	if (q)
		q->avail = v;
}

static void set_queue_used(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	struct vh_virtq *q = setup_queue(vp);

	(void)a;
	if (q)
		q->used = v;
}

/* 1 enables (checked: size and rings); 0 is not how a queue is turned
 * off (that is a reset) and is dropped. */
static void set_queue_enable(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint64_t v)
{
	struct vh_virtq *q = setup_queue(vp);
	enum vh_virtio_fault f;

	if (!q || v != 1 || (vp->status & VH_VIRTIO_S_NEEDS_RESET))
		return;
	f = vh_virtq_enable(q, &vp->mem, vp->driver_features);
	if (f)
		vh_virtio_pci_fail(vp, a, f);
}

typedef void (*common_set_fn)(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
			      uint64_t v);

/* The writable fields; the rest (device_feature, num_queues,
 * config_generation, queue_notify_off) are read-only. */
static const struct common_field {
	uint8_t off, len;
	common_set_fn set;
} common_fields[] = {
	{ 0x00, 4, set_dfselect },      { 0x08, 4, set_gfselect },
	{ 0x0c, 4, set_driver_features }, { 0x10, 2, set_config_vector },
	{ 0x14, 1, set_status },        { 0x16, 2, set_queue_select },
	{ 0x18, 2, set_queue_size },    { 0x1a, 2, set_queue_vector },
	{ 0x20, 8, set_queue_desc },    { 0x28, 8, set_queue_avail },
	{ 0x30, 8, set_queue_used },    { 0x1c, 2, set_queue_enable },
};

/* Any width at any offset: the bytes written replace those of the
 * registers' image, and each field the write touched is set from it
 * (queue_enable last, so one wide write sets a queue up before enabling
 * it). */
static enum vh_io_result common_io(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				   uint32_t off)
{
	uint8_t img[VH_VIRTIO_PCI_COMMON_LEN];
	uint64_t v = 0;

	common_image(vp, img);
	for (unsigned i = 0; i < a->size; i++) {
		if (off + i >= sizeof(img))
			continue;
		if (a->is_write)
			img[off + i] = (uint8_t)(*a->value >> (8 * i));
		else
			v |= (uint64_t)img[off + i] << (8 * i);
	}
	if (!a->is_write) {
		*a->value = v;
		return VH_IO_HANDLED;
	}
	for (unsigned i = 0; i < sizeof(common_fields) / sizeof(common_fields[0]); i++) {
		const struct common_field *f = &common_fields[i];

		if (off < (uint32_t)f->off + f->len && f->off < off + a->size)
			f->set(vp, a, le(img + f->off, f->len));
	}
	return VH_IO_HANDLED;
}

/* ---- the other regions ------------------------------------------------------------- */

static enum vh_io_result isr_io(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				uint32_t off)
{
	if (a->is_write)
		return VH_IO_HANDLED; /* read-only */
	*a->value = off == 0 ? vp->isr : 0;
	if (off == 0) {
		vp->isr = 0;
		intx_update(vp, a);
	}
	return VH_IO_HANDLED;
}

static enum vh_io_result devcfg_io(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				   uint32_t off)
{
	uint8_t b[8] = { 0 };

	if (off + a->size > vp->ops->config_len) {
		if (!a->is_write)
			*a->value = 0;
		return VH_IO_HANDLED;
	}
	if (a->is_write) {
		put_le(b, *a->value, a->size);
		if (vp->ops->config_write)
			vp->ops->config_write(vp->dev, off, b, a->size);
		return VH_IO_HANDLED;
	}
	vp->ops->config_read(vp->dev, off, b, a->size);
	*a->value = le(b, a->size);
	return VH_IO_HANDLED;
}

static void service(void *state, struct vh_bus *b, struct vh_dev_call *c);

/* A doorbell: queue off / 4 (the value written is the same index and is
 * not trusted).  The work is deferred to the host lock (vh/virtio.h). */
static enum vh_io_result notify_io(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				   uint32_t off)
{
	uint32_t q = off / VH_VIRTIO_PCI_NOTIFY_MULT;

	if (!a->is_write) {
		*a->value = 0;
		return VH_IO_HANDLED;
	}
	vp->notifies++;
	if (q >= vp->ops->queues || !vp->q[q].enabled ||
	    (vp->status & (VH_VIRTIO_S_DRIVER_OK | VH_VIRTIO_S_NEEDS_RESET)) !=
		VH_VIRTIO_S_DRIVER_OK) {
		vp->writes_ignored++;
		return VH_IO_HANDLED;
	}
	vp->notify_pending |= 1u << q;
	vh_dev_defer(a, service, vp);
	return VH_IO_HANDLED;
}

/* Table entries by dword or qword, naturally aligned (PCI 6.8.2); only
 * the mask bit of vector control is writable there. */
static enum vh_io_result msix_table_io(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				       uint32_t off)
{
	uint32_t e = off / 16, w = (off % 16) / 4;
	uint32_t *f;
	uint64_t v = 0;

	if (e >= vp->nvectors || (a->size != 4 && a->size != 8) || off % a->size) {
		if (!a->is_write)
			*a->value = 0;
		return VH_IO_HANDLED;
	}
	f = &vp->msix[e].addr_lo;
	for (unsigned k = 0; k < a->size / 4; k++) {
		uint32_t *r = f + w + k;

		if (!a->is_write)
			v |= (uint64_t)*r << (32 * k);
		else if (w + k == 3)
			*r = (uint32_t)(*a->value >> (32 * k)) & 1;
		else
			*r = (uint32_t)(*a->value >> (32 * k));
	}
	if (a->is_write)
		msix_flush(vp, a); /* an entry unmasked sends what it kept */
	else
		*a->value = v;
	return VH_IO_HANDLED;
}

static enum vh_io_result msix_pba_io(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				     uint32_t off)
{
	if (!a->is_write)
		*a->value = off < 8 ? (vp->pba >> (8 * off)) & (~0ull >> (64 - 8 * a->size)) : 0;
	return VH_IO_HANDLED;
}

typedef enum vh_io_result (*region_fn)(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
				       uint32_t off);

/* BAR 0's regions by page. */
static const region_fn regions[VH_VIRTIO_PCI_BAR_SIZE >> 12] = {
	[VH_VIRTIO_PCI_COMMON >> 12] = common_io,
	[VH_VIRTIO_PCI_ISR >> 12] = isr_io,
	[VH_VIRTIO_PCI_DEVCFG >> 12] = devcfg_io,
	[VH_VIRTIO_PCI_NOTIFY >> 12] = notify_io,
	[VH_VIRTIO_PCI_MSIX_TABLE >> 12] = msix_table_io,
	[VH_VIRTIO_PCI_MSIX_PBA >> 12] = msix_pba_io,
};

enum vh_io_result vh_virtio_pci_mmio(void *state, const struct vh_dev_access *a)
{
	struct vh_virtio_pci *vp = state;
	uint64_t off = a->offset;
	region_fn fn;

	/* BAR 0 decodes at the address vh gave it with memory decoding on;
	 * a moved BAR is not followed (the bus range is fixed). */
	if (vh_pci_cfg_bar(&vp->cfg, VH_VIRTIO_PCI_BAR) != vp->bar)
		return VH_IO_UNHANDLED;
	if (off >= VH_VIRTIO_PCI_BAR_SIZE || (a->size != 1 && a->size != 2 && a->size != 4 &&
					      a->size != 8))
		return VH_IO_UNHANDLED;
	fn = regions[off >> 12];
	if (!fn || (off & 0xfff) + a->size > 0x1000) {
		if (!a->is_write)
			*a->value = 0;
		return VH_IO_HANDLED;
	}
	return fn(vp, a, (uint32_t)(off & 0xfff));
}

enum vh_io_result vh_virtio_pci_cfg_io(void *state, const struct vh_dev_access *a)
{
	struct vh_virtio_pci *vp = state;
	enum vh_io_result r = vh_pci_cfg_access(&vp->cfg, a);

	if (a->is_write) {
		/* MSI-X enabled or unmasked, INTx disabled or allowed. */
		msix_flush(vp, a);
		intx_update(vp, a);
	}
	return r;
}

/* ---- serving notified queues, host lock held -------------------------------------- */

/* A queue's fault stops the device. */
static bool queue_failed(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint16_t i)
{
	if (!vp->q[i].fault)
		return false;
	vh_virtio_pci_fail(vp, a, vp->q[i].fault);
	return true;
}

static bool running(const struct vh_virtio_pci *vp)
{
	return (vp->status & (VH_VIRTIO_S_DRIVER_OK | VH_VIRTIO_S_NEEDS_RESET)) ==
	       VH_VIRTIO_S_DRIVER_OK;
}

/* Drains queue i with notifications off, turns them back on and looks
 * once more (what the driver added meanwhile it did not notify).  A few
 * rounds at most: the host lock is held, and a driver that keeps adding
 * is served at its next notification. */
static void serve_queue(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint16_t i)
{
	struct vh_virtq *q = &vp->q[i];

	for (unsigned round = 0; running(vp) && q->enabled; round++) {
		if (round == 4) {
			vp->notify_pending |= 1u << i;
			break;
		}
		vh_virtq_set_notify(q, &vp->mem, false);
		vp->ops->queue_notify(vp->dev, vp, i);
		if (queue_failed(vp, a, i))
			return;
		if (!vh_virtq_set_notify(q, &vp->mem, true))
			break;
	}
	if (!queue_failed(vp, a, i) && running(vp))
		vh_virtio_pci_used(vp, a, i);
}

static void service(void *state, struct vh_bus *b, struct vh_dev_call *c)
{
	struct vh_virtio_pci *vp = state;
	uint64_t unused = 0;
	struct vh_dev_access a = { b, c, VH_BUS_NO_VCPU, 0, 0, false, &unused };
	uint32_t pending;

	vh_lock_take(b->plat, &vp->busdev->lock);
	pending = vp->notify_pending;
	vp->notify_pending = 0;
	for (uint16_t i = 0; i < vp->ops->queues; i++) {
		if (pending & (1u << i))
			serve_queue(vp, &a, i);
	}
	vh_lock_drop(&vp->busdev->lock);
}

int vh_virtio_pop(struct vh_virtio_pci *vp, uint16_t q, struct vh_virtq_chain *c)
{
	if (q >= vp->ops->queues || !running(vp))
		return -1;
	return vh_virtq_pop(&vp->q[q], &vp->mem, c);
}

int vh_virtio_push(struct vh_virtio_pci *vp, uint16_t q, const struct vh_virtq_chain *c,
		   uint32_t written)
{
	if (q >= vp->ops->queues || !running(vp))
		return -1;
	if (vh_virtq_push(&vp->q[q], &vp->mem, c, written))
		return -1;
	vp->chains++;
	return 0;
}

/* ---- creation ---------------------------------------------------------------------- */

/* The VM's RAM through the memory manager (host lock held: vh/mem.h). */
static bool bus_ram(void *ctx, uint64_t gpa, uint64_t len)
{
	struct vh_bus *b = ctx;

	return b->vm && vh_mem_guest_range_ok(b->vm, gpa, len);
}

static int bus_read(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	struct vh_bus *b = ctx;
	struct vh_error err;

	return b->vm && vh_mem_guest_read(b->h, b->vm, gpa, buf, n, &err) == VH_OK ? 0 : -1;
}

static int bus_write(void *ctx, uint64_t gpa, const void *buf, size_t n)
{
	struct vh_bus *b = ctx;
	struct vh_error err;

	return b->vm && vh_mem_guest_write(b->h, b->vm, gpa, buf, n, &err) == VH_OK ? 0 : -1;
}

/* A struct virtio_pci_cap (4.1.4): type, BAR 0, offset, length; the
 * notify one also has its multiplier. */
static int vendor_cap(struct vh_virtio_pci *vp, uint8_t type, uint32_t off, uint32_t len,
		      struct vh_error *err)
{
	unsigned n = type == VH_VIRTIO_PCI_CAP_NOTIFY ? 20 : 16;
	int at = vh_pci_cfg_add_cap(&vp->cfg, VH_PCI_CAP_VENDOR, n, err);

	if (at < 0)
		return err->code;
	cfg_put(&vp->cfg, (unsigned)at + 2, n, 1);
	cfg_put(&vp->cfg, (unsigned)at + 3, type, 1);
	cfg_put(&vp->cfg, (unsigned)at + 4, VH_VIRTIO_PCI_BAR, 1);
	cfg_put(&vp->cfg, (unsigned)at + 8, off, 4);
	cfg_put(&vp->cfg, (unsigned)at + 12, len, 4);
	if (type == VH_VIRTIO_PCI_CAP_NOTIFY)
		cfg_put(&vp->cfg, (unsigned)at + 16, VH_VIRTIO_PCI_NOTIFY_MULT, 4);
	return VH_OK;
}

static int msix_cap(struct vh_virtio_pci *vp, struct vh_error *err)
{
	int at = vh_pci_cfg_add_cap(&vp->cfg, VH_PCI_CAP_MSIX, 12, err);

	if (at < 0)
		return err->code;
	vp->msix_cap = (uint8_t)at;
	cfg_put(&vp->cfg, (unsigned)at + 2, vp->nvectors - 1u, 2); /* table size - 1 */
	cfg_put(&vp->cfg, (unsigned)at + 4, VH_VIRTIO_PCI_MSIX_TABLE | VH_VIRTIO_PCI_BAR, 4);
	cfg_put(&vp->cfg, (unsigned)at + 8, VH_VIRTIO_PCI_MSIX_PBA | VH_VIRTIO_PCI_BAR, 4);
	/* Enable and function mask: the guest's. */
	vp->cfg.wmask[at + 3] = MSIX_ENABLE | MSIX_FMASK;
	return VH_OK;
}

static int ops_check(const struct vh_virtio_ops *o, struct vh_error *err)
{
	const char *why = 0;

	if (!o || !o->name || !o->queue_notify)
		why = "no name or no queue_notify";
	else if (!o->queues || o->queues > VH_VIRTIO_MAX_QUEUES)
		why = "queue count not 1..16";
	else if (!o->queue_max || (o->queue_max & (o->queue_max - 1)))
		why = "queue size not a power of two";
	else if (o->config_len > VH_VIRTIO_PCI_DEVCFG_MAX || (o->config_len && !o->config_read))
		why = "device configuration too big or unreadable";
	else if (o->type > 0xffffu - VH_VIRTIO_DEVICE_BASE)
		why = "device type out of range";
	if (why)
		return vh_error_set(err, VH_E_INVAL, "virtio device %s: %s",
				    o && o->name ? o->name : "?", why);
	return VH_OK;
}

int vh_virtio_pci_init(struct vh_virtio_pci *vp, const struct vh_virtio_ops *ops, void *dev,
		       struct vh_pci_alloc *al, struct vh_error *err)
{
	struct vh_pci_alloc before = *al;
	int rc = ops_check(ops, err);

	if (rc)
		return rc;
	vh_memset(vp, 0, sizeof(*vp));
	vp->ops = ops;
	vp->dev = dev;
	vp->nvectors = (uint16_t)(ops->queues + 1);
	vh_pci_cfg_init(&vp->cfg, VH_VIRTIO_VENDOR, (uint16_t)(VH_VIRTIO_DEVICE_BASE + ops->type),
			ops->pci_class, VH_VIRTIO_REVISION);
	cfg_put(&vp->cfg, VH_PCI_SUBSYS_VENDOR, VH_VIRTIO_VENDOR, 2);
	cfg_put(&vp->cfg, VH_PCI_SUBSYS_ID, VH_VIRTIO_SUBSYS_ID, 2);
	rc = vh_pci_cfg_add_bar(&vp->cfg, al, VH_VIRTIO_PCI_BAR, VH_VIRTIO_PCI_BAR_SIZE, 0, err);
	if (!rc)
		rc = vendor_cap(vp, VH_VIRTIO_PCI_CAP_COMMON, VH_VIRTIO_PCI_COMMON,
				VH_VIRTIO_PCI_COMMON_LEN, err);
	if (!rc)
		rc = vendor_cap(vp, VH_VIRTIO_PCI_CAP_NOTIFY, VH_VIRTIO_PCI_NOTIFY,
				VH_VIRTIO_PCI_NOTIFY_MULT * ops->queues, err);
	if (!rc)
		rc = vendor_cap(vp, VH_VIRTIO_PCI_CAP_ISR, VH_VIRTIO_PCI_ISR, 1, err);
	if (!rc && ops->config_len)
		rc = vendor_cap(vp, VH_VIRTIO_PCI_CAP_DEVICE, VH_VIRTIO_PCI_DEVCFG, ops->config_len,
				err);
	if (!rc)
		rc = msix_cap(vp, err);
	if (rc) {
		*al = before; /* nothing taken */
		return rc;
	}
	vh_pci_cfg_set_pin(&vp->cfg, 1); /* INTA */
	vp->bar = le(vp->cfg.reset + VH_PCI_BAR0, 4) & ~0xfull;
	vp->device_features = ops->features | VH_VIRTIO_BIT(VH_VIRTIO_F_VERSION_1) |
			      VH_VIRTIO_BIT(VH_VIRTIO_F_INDIRECT_DESC) |
			      VH_VIRTIO_BIT(VH_VIRTIO_F_EVENT_IDX);
	vh_virtio_pci_bus_reset(vp, 0);
	return VH_OK;
}

int vh_virtio_pci_attach(struct vh_virtio_pci *vp, struct vh_bus *bus, unsigned slot,
			 struct vh_error *err)
{
	uint64_t last = vp->bar + VH_VIRTIO_PCI_BAR_SIZE - 1;
	struct vh_bus_dev *dev;
	int rc;

	/* What the bus would refuse, checked first, so a refusal leaves no
	 * half-registered device behind. */
	if (slot == 0 || slot >= VH_PCI_SLOTS || vh_bus_find_pci(bus, slot, 0))
		return vh_error_set(err, VH_E_INVAL, "virtio device %s: PCI slot %u is taken",
				    vp->ops->name, slot);
	for (uint32_t i = 0; i < bus->mmio.n; i++) {
		if (bus->mmio.r[i].first <= last && vp->bar <= bus->mmio.r[i].last)
			return vh_error_set(err, VH_E_INVAL,
					    "virtio device %s: BAR 0 at %#llx overlaps %s",
					    vp->ops->name, (unsigned long long)vp->bar,
					    bus->mmio.r[i].dev->name);
	}
	if (bus->ndev >= VH_BUS_MAX_DEVICES || bus->mmio.n >= VH_BUS_MAX_RANGES)
		return vh_error_set(err, VH_E_NOMEM, "virtio device %s: the VM's bus is full",
				    vp->ops->name);
	dev = vh_bus_add_device(bus, vp->ops->name, vp, vh_virtio_pci_bus_reset, err);
	if (!dev)
		return err->code;
	rc = vh_bus_add_mmio(bus, dev, vp->bar, VH_VIRTIO_PCI_BAR_SIZE, vh_virtio_pci_mmio, err);
	if (!rc)
		rc = vh_bus_add_pci(bus, dev, slot, 0, vh_virtio_pci_cfg_io, err);
	if (rc)
		return rc;
	vp->bus = bus;
	vp->busdev = dev;
	vp->slot = (uint8_t)slot;
	vp->mem = (struct vh_virtio_mem){ bus, bus_ram, bus_read, bus_write };
	/* What the _PRT routes INTA of this slot to, as a BIOS would write. */
	cfg_put(&vp->cfg, VH_PCI_INT_LINE, vh_acpi_pci_gsi(slot, 0), 1);
	return VH_OK;
}
