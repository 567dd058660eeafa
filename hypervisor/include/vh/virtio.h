/* SPDX-License-Identifier: Apache-2.0 */
/* Virtio 1.x (hypervisor/virtio/): split virtqueues (virtqueue.c) and the
 * modern virtio-pci transport (virtio_pci.c), one implementation for both
 * back ends.  A device type (block, balloon, ...) plugs in through
 * struct vh_virtio_ops and never sees PCI; the transport never sees what a
 * request means.  docs/virtio.md describes both.
 *
 * Trust.  Everything a driver writes (ring addresses and indices,
 * descriptors, indirect tables, lengths, feature bits, register values)
 * is the guest's and checked before use: against the queue size, and
 * against the VM's RAM through struct vh_virtio_mem.  A violation never
 * reaches memory outside the VM: it stops the device with
 * DEVICE_NEEDS_RESET (VH_VIRTIO_S_NEEDS_RESET), names the reason (enum
 * vh_virtio_fault, counted per reason) and sends a configuration-change
 * interrupt.  Only a reset (status 0) brings the device back.
 *
 * Locks.  The transport's registers are reached through the device bus
 * (vh/bus.h) under the device's lock, without the host lock; guest memory
 * needs the host lock, which comes first.  So a notify only records the
 * queue and leaves work for vh_bus_finish() (vh_dev_defer): with the host
 * lock held it takes the device's lock and calls the device type's
 * queue_notify, where popping and pushing may touch guest memory.
 *
 * Freestanding. */
#ifndef VH_VIRTIO_H
#define VH_VIRTIO_H

#include "vh/bus.h"
#include "vh/pci.h"
#include "vh/types.h"

struct vh_error;

/* ---- the spec's numbers ------------------------------------------------------ */

#define VH_VIRTIO_VENDOR      0x1af4u
#define VH_VIRTIO_DEVICE_BASE 0x1040u /* + device type: a modern-only device */
#define VH_VIRTIO_SUBSYS_ID   0x0040u /* non-transitional devices: 0x40 or higher */
#define VH_VIRTIO_REVISION    1u

/* Device status bits. */
#define VH_VIRTIO_S_ACKNOWLEDGE 0x01u
#define VH_VIRTIO_S_DRIVER      0x02u
#define VH_VIRTIO_S_DRIVER_OK   0x04u
#define VH_VIRTIO_S_FEATURES_OK 0x08u
#define VH_VIRTIO_S_NEEDS_RESET 0x40u
#define VH_VIRTIO_S_FAILED      0x80u

/* Feature bits the transport and the queues own. */
#define VH_VIRTIO_F_INDIRECT_DESC 28u
#define VH_VIRTIO_F_EVENT_IDX     29u
#define VH_VIRTIO_F_VERSION_1     32u
#define VH_VIRTIO_BIT(f)          (1ull << (f))

#define VH_VIRTIO_MSI_NO_VECTOR 0xffffu

/* Split virtqueue layout. */
#define VH_VIRTQ_DESC_F_NEXT         0x1u
#define VH_VIRTQ_DESC_F_WRITE        0x2u
#define VH_VIRTQ_DESC_F_INDIRECT     0x4u
#define VH_VIRTQ_AVAIL_F_NO_INTERRUPT 0x1u
#define VH_VIRTQ_USED_F_NO_NOTIFY    0x1u
#define VH_VIRTQ_DESC_BYTES          16u
#define VH_VIRTQ_MAX_SIZE            32768u

/* ---- why a device stopped ------------------------------------------------------ */

/* Each a counted, named reason (vh_virtio_fault_name).  All but the
 * feature ones stop the device with DEVICE_NEEDS_RESET; those fail
 * FEATURES_OK, as the spec says, and leave the device usable. */
enum vh_virtio_fault {
	VH_VIRTIO_FAULT_NONE = 0,
	VH_VIRTIO_FAULT_RING_SIZE,           /* queue size 0, over the maximum, not a power of 2 */
	VH_VIRTIO_FAULT_RING_ALIGN,          /* a ring address not aligned as the spec says */
	VH_VIRTIO_FAULT_RING_OUTSIDE_RAM,    /* a ring not wholly in the VM's RAM */
	VH_VIRTIO_FAULT_AVAIL_AHEAD,         /* avail->idx more than the queue size ahead */
	VH_VIRTIO_FAULT_HEAD_INDEX,          /* a chain's head past the queue size */
	VH_VIRTIO_FAULT_NEXT_INDEX,          /* a next index past the queue or indirect table */
	VH_VIRTIO_FAULT_CHAIN_TOO_LONG,      /* longer than the queue size: a loop */
	VH_VIRTIO_FAULT_CHAIN_OVER_DEVICE,   /* more segments than the device takes */
	VH_VIRTIO_FAULT_BUFFER_OUTSIDE_RAM,  /* a buffer (address + length) not in RAM */
	VH_VIRTIO_FAULT_INDIRECT_NOT_OFFERED, /* INDIRECT flag without the feature */
	VH_VIRTIO_FAULT_INDIRECT_NESTED,     /* an indirect table inside an indirect table */
	VH_VIRTIO_FAULT_INDIRECT_WITH_NEXT,  /* INDIRECT and NEXT in one descriptor */
	VH_VIRTIO_FAULT_INDIRECT_SIZE,       /* table length 0, not 16-byte units, over the queue */
	VH_VIRTIO_FAULT_INDIRECT_OUTSIDE_RAM, /* an indirect table not in RAM */
	VH_VIRTIO_FAULT_MEMORY,              /* a checked guest access still failed */
	VH_VIRTIO_FAULT_FEATURE_NOT_OFFERED, /* FEATURES_OK with a bit the device did not offer */
	VH_VIRTIO_FAULT_NO_VERSION_1,        /* FEATURES_OK without VIRTIO_F_VERSION_1 */
	VH_VIRTIO_FAULTS
};

/* A short name for logs and stats ("chain longer than the queue"). */
const char *vh_virtio_fault_name(enum vh_virtio_fault f);

/* ---- guest memory ----------------------------------------------------------------- */

/* How the queues reach the VM's memory.  ram: is [gpa, gpa + len) wholly
 * the VM's RAM?  (The queue checks that gpa + len does not wrap before it
 * asks.)  read/write: 0, or -1 when the copy failed; called only for
 * ranges ram() accepted.  The transport fills it for a VM
 * (vh_virtio_pci_attach: the memory manager's guest access, host lock
 * held); tests and the fuzzer put their own here. */
struct vh_virtio_mem {
	void *ctx;
	bool (*ram)(void *ctx, uint64_t gpa, uint64_t len);
	int (*read)(void *ctx, uint64_t gpa, void *buf, size_t n);
	int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t n);
};

/* ---- split virtqueues (virtqueue.c) ----------------------------------------------- */

struct vh_virtq {
	uint64_t desc, avail, used; /* the three rings, guest-physical */
	uint16_t size;              /* the driver's choice, checked at enable */
	uint16_t max_size;          /* what the device offers (a power of 2) */
	uint16_t vector;            /* MSI-X vector, VH_VIRTIO_MSI_NO_VECTOR */
	uint16_t last_avail;        /* the next available entry to pop */
	uint16_t used_idx;          /* the next used entry to fill */
	uint16_t signalled;         /* used_idx when interrupts were last decided */
	bool enabled, event_idx, indirect;
	enum vh_virtio_fault fault; /* set once; the queue does nothing after */
};

/* One buffer of a chain: guest RAM, checked. */
struct vh_virtq_seg {
	uint64_t gpa;
	uint32_t len;
	bool writable; /* device-writable (VIRTQ_DESC_F_WRITE) */
};

/* A popped chain: segs in chain order in seg[0..n) (caller's storage of
 * cap entries), readable and writable byte totals. */
struct vh_virtq_chain {
	uint16_t head;
	uint32_t n, cap;
	struct vh_virtq_seg *seg;
	uint64_t readable, writable;
};

/* Power-on: disabled, size max_size (a power of 2, 1..VH_VIRTQ_MAX_SIZE),
 * no vector. */
void vh_virtq_reset(struct vh_virtq *q, uint16_t max_size);
/* The driver enabled the queue with the features negotiated: size and
 * rings checked (VH_VIRTIO_FAULT_NONE, or the fault, recorded in q). */
enum vh_virtio_fault vh_virtq_enable(struct vh_virtq *q, const struct vh_virtio_mem *m,
				     uint64_t features);
/* The next available chain into c: 1, 0 when none is available, -1 on a
 * fault (q->fault names it; nothing is popped then or later). */
int vh_virtq_pop(struct vh_virtq *q, const struct vh_virtio_mem *m, struct vh_virtq_chain *c);
/* Returns chain c to the driver with `written` bytes written into its
 * writable part (at most c->writable).  0, or -1 on a fault. */
int vh_virtq_push(struct vh_virtq *q, const struct vh_virtio_mem *m, const struct vh_virtq_chain *c,
		  uint32_t written);
/* Does the driver want an interrupt for what was pushed since the last
 * call?  EVENT_IDX: used_event crossed (vring_need_event); else the
 * avail ring's NO_INTERRUPT flag clear. */
bool vh_virtq_need_interrupt(struct vh_virtq *q, const struct vh_virtio_mem *m);
/* Asks the driver for notifications (on) or not while the device drains
 * the ring: avail_event at the next entry with EVENT_IDX, else the used
 * ring's NO_NOTIFY flag.  Returns whether entries are available (so a
 * caller that turned notifications back on looks once more). */
bool vh_virtq_set_notify(struct vh_virtq *q, const struct vh_virtio_mem *m, bool on);
/* Copies up to n bytes of the chain's readable part from byte off into
 * buf (or buf into its writable part): the bytes copied, -1 on a memory
 * failure. */
int64_t vh_virtq_chain_read(const struct vh_virtio_mem *m, const struct vh_virtq_chain *c,
			    uint64_t off, void *buf, uint64_t n);
int64_t vh_virtq_chain_write(const struct vh_virtio_mem *m, const struct vh_virtq_chain *c,
			     uint64_t off, const void *buf, uint64_t n);

/* ---- the virtio-pci transport (virtio_pci.c) --------------------------------------- */

#define VH_VIRTIO_MAX_QUEUES  16u
#define VH_VIRTIO_MAX_VECTORS (VH_VIRTIO_MAX_QUEUES + 1u) /* a queue each and config */

/* BAR 0 (32-bit memory): every region the capabilities point at. */
#define VH_VIRTIO_PCI_BAR          0u
#define VH_VIRTIO_PCI_BAR_SIZE     0x8000u
#define VH_VIRTIO_PCI_COMMON       0x0000u
#define VH_VIRTIO_PCI_COMMON_LEN   0x38u /* through queue_device */
#define VH_VIRTIO_PCI_ISR          0x1000u
#define VH_VIRTIO_PCI_DEVCFG       0x2000u
#define VH_VIRTIO_PCI_DEVCFG_MAX   0x1000u
#define VH_VIRTIO_PCI_NOTIFY       0x3000u
#define VH_VIRTIO_PCI_NOTIFY_MULT  4u /* queue q's doorbell at NOTIFY + 4 q */
#define VH_VIRTIO_PCI_MSIX_TABLE   0x4000u
#define VH_VIRTIO_PCI_MSIX_PBA     0x5000u

/* Vendor capability types (struct virtio_pci_cap's cfg_type). */
#define VH_VIRTIO_PCI_CAP_COMMON 1u
#define VH_VIRTIO_PCI_CAP_NOTIFY 2u
#define VH_VIRTIO_PCI_CAP_ISR    3u
#define VH_VIRTIO_PCI_CAP_DEVICE 4u
#define VH_PCI_CAP_VENDOR        0x09u
#define VH_PCI_CAP_MSIX          0x11u

/* ISR bits. */
#define VH_VIRTIO_ISR_QUEUE  0x1u
#define VH_VIRTIO_ISR_CONFIG 0x2u

struct vh_virtio_pci;

/* A device type.  Every hook runs with the device's lock held; only
 * queue_notify also has the host lock (so it may touch guest memory
 * through vh_virtio_pop/push).  Optional hooks may be NULL. */
struct vh_virtio_ops {
	const char *name;     /* the bus device's name ("virtio-blk") */
	uint16_t type;        /* virtio device ID: PCI device 0x1040 + type */
	uint32_t pci_class;   /* class << 16 | subclass << 8 | prog-if */
	uint16_t queues;      /* 1..VH_VIRTIO_MAX_QUEUES */
	uint16_t queue_max;   /* each queue's maximum size, a power of 2 */
	uint32_t config_len;  /* device configuration bytes, <= VH_VIRTIO_PCI_DEVCFG_MAX */
	uint64_t features;    /* the device's feature bits; the transport adds its own */
	/* Device configuration bytes [off, off + n), within config_len. */
	void (*config_read)(void *dev, uint32_t off, void *buf, uint32_t n);
	void (*config_write)(void *dev, uint32_t off, const void *buf, uint32_t n);
	/* May the driver have these (already a subset of what was offered)? */
	bool (*features_ok)(void *dev, uint64_t features);
	/* The driver notified queue q: pop, serve and push (vh_virtio_pop,
	 * vh_virtio_push).  The transport interrupts afterwards as the
	 * driver asked. */
	void (*queue_notify)(void *dev, struct vh_virtio_pci *vp, uint16_t q);
	/* The driver reset the device (or the VM reset): forget requests. */
	void (*reset)(void *dev);
};

struct vh_virtio_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl; /* ctrl bit 0: masked */
};

struct vh_virtio_pci {
	struct vh_pci_cfg cfg;
	const struct vh_virtio_ops *ops;
	void *dev; /* the device type's state */
	struct vh_virtio_mem mem;
	struct vh_bus *bus;
	struct vh_bus_dev *busdev;
	uint64_t bar;     /* where vh placed BAR 0: the bus range */
	uint8_t msix_cap; /* the MSI-X capability's offset */
	uint8_t slot;
	uint64_t device_features, driver_features;
	uint32_t dfselect, gfselect;
	uint16_t config_vector, queue_select, nvectors;
	uint8_t status, generation, isr;
	bool intx; /* the INTx line's level */
	struct vh_virtq q[VH_VIRTIO_MAX_QUEUES];
	struct vh_virtio_msix_entry msix[VH_VIRTIO_MAX_VECTORS];
	uint64_t pba;           /* MSI-X pending bits, one per vector */
	uint32_t notify_pending; /* queues notified, not yet served */
	enum vh_virtio_fault fault; /* why DEVICE_NEEDS_RESET is set */
	/* Counters (never reset): faults by reason, and the traffic. */
	uint64_t faults[VH_VIRTIO_FAULTS];
	uint64_t notifies, msis, intx_raised, interrupts_masked, resets;
	uint64_t chains, writes_ignored; /* chains pushed; register writes dropped */
};

/* Builds the function: IDs, vendor capabilities, MSI-X, INTA, BAR 0 from
 * al.  VH_E_INVAL for a bad ops table, VH_E_NOMEM when the window is full;
 * nothing is taken then. */
int vh_virtio_pci_init(struct vh_virtio_pci *vp, const struct vh_virtio_ops *ops, void *dev,
		       struct vh_pci_alloc *al, struct vh_error *err);
/* Puts it on bus at 00:slot.0: its configuration space, BAR 0's MMIO range
 * and a reset hook; its memory is the bus VM's RAM (host lock held).
 * VH_E_INVAL or VH_E_NOMEM from the bus, naming the conflict. */
int vh_virtio_pci_attach(struct vh_virtio_pci *vp, struct vh_bus *bus, unsigned slot,
			 struct vh_error *err);
/* The bus's handlers (attach registers them; tests may call them). */
enum vh_io_result vh_virtio_pci_cfg_io(void *vp, const struct vh_dev_access *a);
enum vh_io_result vh_virtio_pci_mmio(void *vp, const struct vh_dev_access *a);
void vh_virtio_pci_bus_reset(void *vp, const struct vh_bus *bus);

/* For a device type's queue_notify (device lock and host lock held):
 * vh_virtq_pop/push on queue q through the transport's memory; a fault
 * stops the device (DEVICE_NEEDS_RESET) at once. */
int vh_virtio_pop(struct vh_virtio_pci *vp, uint16_t q, struct vh_virtq_chain *c);
int vh_virtio_push(struct vh_virtio_pci *vp, uint16_t q, const struct vh_virtq_chain *c,
		   uint32_t written);
/* Stops the device: DEVICE_NEEDS_RESET with reason f (counted), and a
 * configuration interrupt once the driver is running.  Device lock held. */
void vh_virtio_pci_fail(struct vh_virtio_pci *vp, const struct vh_dev_access *a,
			enum vh_virtio_fault f);
/* Pushes done outside queue_notify (a completion): interrupt for queue q
 * if the driver wants one.  Device lock and host lock held. */
void vh_virtio_pci_used(struct vh_virtio_pci *vp, const struct vh_dev_access *a, uint16_t q);
/* The device's configuration changed: generation moves, config interrupt. */
void vh_virtio_pci_config_changed(struct vh_virtio_pci *vp, const struct vh_dev_access *a);

#endif
