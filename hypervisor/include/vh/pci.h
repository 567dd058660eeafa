/* SPDX-License-Identifier: Apache-2.0 */
/* PCI for the device models (hypervisor/devices/pci.c, pci_host.c).
 *
 * The host (pci_host.c) answers configuration mechanism #1 (0xcf8 address,
 * 0xcfc..0xcff data) and the ECAM window of the layout (bus 0 only, 4 KiB
 * a function), both routed to the bus's PCI function table (vh/bus.h); a
 * function nobody registered reads all ones.  00:00.0 is the host bridge
 * (VH_PCI_HOST_VENDOR:VH_PCI_HOST_DEVICE, class 0x060000).
 *
 * A function's configuration space (struct vh_pci_cfg, pci.c) is a type-0
 * header with the semantics Linux relies on: read-only IDs and class,
 * command and status bits writable or write-1-to-clear as the spec says,
 * BARs that answer sizing (write all ones, read the size mask back), a
 * capability list, interrupt line and pin.  A device model keeps one in
 * its state and hands its configuration accesses to vh_pci_cfg_access().
 *
 * BARs are assigned by vh when the device is created, from the VM's PCI
 * MMIO window (VH_LAYOUT_PCI_MMIO_BASE, struct vh_pci_alloc), so the guest
 * finds them inside the window its ACPI tables declare and need not move
 * them; a guest that does move one is followed by the register (the
 * device decodes at vh_pci_cfg_bar()).  Freestanding. */
#ifndef VH_PCI_H
#define VH_PCI_H

#include "vh/devices.h"
#include "vh/types.h"

struct vh_error;
struct vh_dev_access;

#define VH_PCI_HOST_VENDOR       0x8086u /* Intel */
#define VH_PCI_HOST_DEVICE       0x0d57u /* as Cloud Hypervisor's virtual host bridge */
#define VH_PCI_CLASS_HOST_BRIDGE 0x060000u
#define VH_PCI_CONFIG_ADDRESS    0xcf8u
#define VH_PCI_CONFIG_DATA       0xcfcu

/* Type-0 header offsets. */
enum {
	VH_PCI_VENDOR_ID = 0x00,
	VH_PCI_DEVICE_ID = 0x02,
	VH_PCI_COMMAND = 0x04,
	VH_PCI_STATUS = 0x06,
	VH_PCI_REVISION = 0x08,
	VH_PCI_CLASS_PROG = 0x09, /* prog-if, subclass, class: 3 bytes */
	VH_PCI_HEADER_TYPE = 0x0e,
	VH_PCI_BAR0 = 0x10,
	VH_PCI_SUBSYS_VENDOR = 0x2c,
	VH_PCI_SUBSYS_ID = 0x2e,
	VH_PCI_CAP_PTR = 0x34,
	VH_PCI_INT_LINE = 0x3c,
	VH_PCI_INT_PIN = 0x3d,
	VH_PCI_CAP_START = 0x40,
};
#define VH_PCI_BARS            6u
#define VH_PCI_CMD_IO          0x1u
#define VH_PCI_CMD_MEMORY      0x2u
#define VH_PCI_CMD_MASTER      0x4u
#define VH_PCI_CMD_INTX_OFF    0x400u
#define VH_PCI_STATUS_CAP_LIST 0x10u
/* BAR kinds (the low bits of a memory BAR). */
#define VH_PCI_BAR_MEM64    0x4u
#define VH_PCI_BAR_PREFETCH 0x8u

#define VH_PCI_CFG_BYTES    256u

struct vh_pci_cfg {
	uint8_t data[VH_PCI_CFG_BYTES];
	uint8_t wmask[VH_PCI_CFG_BYTES];   /* bits a write sets as written */
	uint8_t w1cmask[VH_PCI_CFG_BYTES]; /* bits a write of 1 clears */
	uint8_t reset[VH_PCI_CFG_BYTES];   /* data at power-on */
	uint8_t cap_next;                  /* where the next capability goes */
};

/* The VM's PCI MMIO window, handed out from its base upwards. */
struct vh_pci_alloc {
	uint64_t next, end;
};

/* The window of the layout (vh/layout.h). */
void vh_pci_alloc_init(struct vh_pci_alloc *al);
/* size bytes (a power of two, at least 16) aligned to their size and to a
 * page, so a BAR never shares a page with another: the address in *addr,
 * or VH_E_NOMEM naming the size when the window is full (nothing taken). */
int vh_pci_alloc_mmio(struct vh_pci_alloc *al, uint64_t size, uint64_t *addr, struct vh_error *err);

/* A function's header: IDs, class (class << 16 | subclass << 8 | prog-if),
 * revision; command and status as the spec's writable and clearable bits;
 * no BARs, no capabilities, interrupt pin none. */
void vh_pci_cfg_init(struct vh_pci_cfg *c, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision);
/* A memory BAR of size bytes (power of two, >= 16) at index bar, kind
 * VH_PCI_BAR_MEM64 (takes bar and bar + 1) and/or VH_PCI_BAR_PREFETCH,
 * placed by al.  VH_E_INVAL for a bad index, size or kind, VH_E_NOMEM when
 * the window is full; nothing changes then. */
int vh_pci_cfg_add_bar(struct vh_pci_cfg *c, struct vh_pci_alloc *al, unsigned bar, uint64_t size,
		       unsigned kind, struct vh_error *err);
/* A capability of len bytes (>= 2: ID and next) with ID id, linked at the
 * head of the list: its offset in the space, or -1 with VH_E_NOMEM in err
 * when the space is full. */
int vh_pci_cfg_add_cap(struct vh_pci_cfg *c, uint8_t id, unsigned len, struct vh_error *err);
/* Interrupt pin (1 = INTA .. 4 = INTD, 0: none). */
void vh_pci_cfg_set_pin(struct vh_pci_cfg *c, uint8_t pin);
/* Back to the power-on contents (BARs at their assigned addresses). */
void vh_pci_cfg_reset(struct vh_pci_cfg *c);
/* The guest's access at a->offset (any register of 4 KiB; past the
 * header's 256 bytes reads 0), size 1, 2, 4 or 8. */
enum vh_io_result vh_pci_cfg_access(struct vh_pci_cfg *c, const struct vh_dev_access *a);
/* Where memory BAR bar decodes now, 0 while memory decoding is off. */
uint64_t vh_pci_cfg_bar(const struct vh_pci_cfg *c, unsigned bar);

#endif
