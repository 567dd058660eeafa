/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the device models (hypervisor/devices/): each device's
 * state, its handler and reset for the bus (vh/bus.h), and the per-VM
 * record that holds them with the bus (devices.c). */
#ifndef VH_DEV_INTERNAL_H
#define VH_DEV_INTERNAL_H

#include "vh/bus.h"
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/ioapic.h"
#include "vh/pci.h"
#include "vh/vm.h"

/* ---- uart16550.c --------------------------------------------------------- */

struct vh_uart {
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t rbr;       /* the byte a read of RBR returns (loopback) */
	bool data_ready;   /* LSR.DR: rbr holds a byte */
	bool thre_pending; /* a THR-empty interrupt is pending (IIR) */
	bool irq;          /* the level of its interrupt line (IRQ 4) */
};

void vh_uart_reset(void *uart, const struct vh_bus *bus);
enum vh_io_result vh_uart_io(void *uart, const struct vh_dev_access *a);

/* ---- debug_exit.c -------------------------------------------------------- */

enum vh_io_result vh_debug_exit_io(void *unused, const struct vh_dev_access *a);

/* ---- fw_cfg.c ------------------------------------------------------------ */

struct vh_fw_cfg {
	uint16_t selector;
	uint32_t offset; /* next byte of the selected item */
	uint8_t ram_size[8];
	uint8_t nb_cpus[2];
	uint8_t uuid[16];
};

void vh_fw_cfg_reset(void *fw_cfg, const struct vh_bus *bus);
enum vh_io_result vh_fw_cfg_io(void *fw_cfg, const struct vh_dev_access *a);

/* ---- pic.c --------------------------------------------------------------- */

struct vh_pic {
	uint8_t imr;      /* interrupt mask (OCW1) */
	uint8_t icw_step; /* 0: operational; 2..4: the ICW expected next */
	bool icw4_needed;
	bool single; /* ICW1 said one PIC: no ICW3 */
	uint8_t vector_base;
	uint8_t level; /* the input lines' levels (vh_dev_irq) */
};

void vh_pic_reset(void *pic, const struct vh_bus *bus);
enum vh_io_result vh_pic_io(void *pic, const struct vh_dev_access *a);
/* Line `line` of this PIC rose (level true): the vector it maps to, or -1
 * when masked or not initialised.  The PIC's lock is held. */
int vh_pic_line(const struct vh_pic *p, unsigned line);

/* ---- lapic.c -------------------------------------------------------------- */

#define VH_LAPIC_LVTS 6 /* timer, thermal, perf, LINT0, LINT1, error */

struct vh_lapic {
	uint32_t id, tpr, ldr, dfr, svr, esr;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[VH_LAPIC_LVTS];
	uint32_t initial, dcr; /* timer initial count, divide configuration */
	uint64_t start;        /* when the count was (re)loaded */
	uint64_t deadline;     /* next expiry, UINT64_MAX: none */
	uint32_t irr[8], isr[8], tmr[8];
	uint8_t run_state; /* enum vh_lapic_run_state */
	uint8_t sipi_vector;
};

/* All of a VM's local APICs are one device on the bus with one lock: an
 * IPI or an MSI touches another vCPU's APIC, and one lock cannot be taken
 * in two orders.  The lock is a leaf: nothing else is taken under it. */
struct vh_lapics {
	struct vh_bus_dev *dev;
	uint32_t n;
	struct vh_lapic *a; /* n of them */
};

void vh_lapic_reset(struct vh_lapic *a, uint32_t index);
void vh_lapics_reset(void *lapics, const struct vh_bus *bus);
/* An access at offset (0..0xfff) of the APIC page by a->vcpu. */
enum vh_io_result vh_lapic_mmio(void *lapics, const struct vh_dev_access *a);
/* An MSI to the APICs it names; vCPUs to wake are added to *wake.  The
 * caller holds no device lock of the APICs'.  True when an APIC took it. */
bool vh_lapic_msi(struct vh_bus *b, uint64_t address, uint32_t data, uint64_t *wake);
/* An interrupt message from an IOAPIC or an MSI, in the ICR's layout: lo
 * has the vector, delivery mode, destination mode, VH_APIC_MSG_ASSERT and
 * the trigger mode (level: the accepting APIC sets the vector's TMR bit
 * and broadcasts its EOI), hi the destination in bits 31:24.  lowest:
 * lowest-priority arbitration, to one APIC.  Fixed, lowest priority and
 * INIT are delivered; other modes are refused (false).  True when an APIC
 * took it. */
#define VH_APIC_MSG_ASSERT 0x4000u
bool vh_lapic_message(struct vh_bus *b, uint32_t lo, uint32_t hi, bool lowest, uint64_t *wake);
/* A fixed interrupt from the PIC's virtual wire to vCPU 0. */
void vh_lapic_extint(struct vh_bus *b, uint8_t vector, uint64_t *wake);

/* ---- acpi_pm.c ------------------------------------------------------------ */

struct vh_acpi_pm {
	uint64_t start_ns; /* the PM timer's zero: the boot */
	uint8_t sleep_control, sleep_status;
};

void vh_acpi_pm_reset(void *pm, const struct vh_bus *bus);
enum vh_io_result vh_acpi_pm_io(void *pm, const struct vh_dev_access *a);

/* ---- i8042.c -------------------------------------------------------------- */

#define VH_I8042_QUEUE 8

struct vh_i8042 {
	uint8_t status, config, outport;
	uint8_t pending; /* the command whose argument 0x60 takes next, or 0 */
	uint8_t queue[VH_I8042_QUEUE], src[VH_I8042_QUEUE]; /* output buffer, who sent it */
	uint8_t head, count, last;
	bool irq1, irq12; /* the lines' levels */
};

void vh_i8042_reset(void *i8042, const struct vh_bus *bus);
enum vh_io_result vh_i8042_data_io(void *i8042, const struct vh_dev_access *a); /* 0x60 */
enum vh_io_result vh_i8042_cmd_io(void *i8042, const struct vh_dev_access *a);  /* 0x64 */

/* ---- rtc.c ---------------------------------------------------------------- */

struct vh_rtc {
	uint8_t index, a, b;
	uint8_t alarm[3];
	uint8_t ram[114];                   /* 0x0e..0x7f (0x32 is the century) */
	bool started;                       /* battery-backed state set: kept across resets */
	bool held;                          /* B.SET: the clock holds held_s */
	uint64_t base_wall_ns, base_now_ns; /* the host's time of day at the first start */
	int64_t offset_s;                   /* what the guest set, against the host's */
	int64_t held_s, last_uf_s;
};

void vh_rtc_reset(void *rtc, const struct vh_bus *bus);
enum vh_io_result vh_rtc_io(void *rtc, const struct vh_dev_access *a);

/* ---- ioapic.c ------------------------------------------------------------- */

struct vh_ioapic {
	uint32_t id;                                     /* bits 27:24 */
	uint8_t sel;                                     /* IOREGSEL */
	uint32_t lines;                                  /* each pin's input level (vh_dev_irq) */
	uint32_t lo[VH_IOAPIC_PINS], hi[VH_IOAPIC_PINS]; /* redirection entries */
};

void vh_ioapic_reset(void *ioapic, const struct vh_bus *bus);
enum vh_io_result vh_ioapic_mmio(void *ioapic, const struct vh_dev_access *a);
/* Pin `pin`'s input goes to level; vCPUs to wake are added to *wake.
 * Takes the IOAPIC's lock (the caller may hold a device's). */
void vh_ioapic_line(struct vh_bus *b, unsigned pin, bool level, uint64_t *wake);
/* A local APIC's EOI of a level-triggered vector: remote IRR clears on
 * the pins with that vector, and a line still asserted delivers again. */
void vh_ioapic_eoi(struct vh_bus *b, uint8_t vector, uint64_t *wake);

/* ---- pci.c, pci_host.c ------------------------------------------------------ */

struct vh_pci_host {
	uint32_t cf8; /* the configuration address (mechanism #1) */
};

void vh_pci_host_reset(void *host, const struct vh_bus *bus);
/* 0xcf8..0xcff, and the ECAM window. */
enum vh_io_result vh_pci_host_ports(void *host, const struct vh_dev_access *a);
enum vh_io_result vh_pci_host_ecam(void *host, const struct vh_dev_access *a);
/* The host bridge function at 00:00.0 (its state: a struct vh_pci_cfg). */
void vh_pci_bridge_init(struct vh_pci_cfg *c);
void vh_pci_bridge_reset(void *cfg, const struct vh_bus *bus);
enum vh_io_result vh_pci_bridge_cfg(void *cfg, const struct vh_dev_access *a);

/* ---- devices.c ----------------------------------------------------------- */

struct vh_devices {
	struct vh_bus bus;
	struct vh_uart uart;
	struct vh_fw_cfg fw_cfg;
	struct vh_pic pic[2];
	struct vh_bus_dev *pic_dev[2];
	struct vh_lapics lapics;
	struct vh_acpi_pm acpi_pm;
	struct vh_i8042 i8042;
	struct vh_rtc rtc;
	struct vh_ioapic ioapic;
	struct vh_bus_dev *ioapic_dev;
	struct vh_pci_host pci_host;
	struct vh_pci_cfg pci_bridge;
	struct vh_pci_alloc pci_mmio; /* BARs assigned from the PCI MMIO window */
};

/* vh/vcpu_io.h reaches the bus from vm->devices without a call. */
VH_STATIC_ASSERT(offsetof(struct vh_devices, bus) == 0, "the bus comes first");

/* The VM's record from its bus (it comes first in struct vh_devices). */
static inline struct vh_devices *vh_devices_of(const struct vh_bus *b)
{
	return (struct vh_devices *)b;
}

/* Frees the record (the bus's last user is back after undefinition). */
void vh_devices_free(struct vh_bus *b);
/* Does vm's config bring a device of this type (0: one every VM has)? */
bool vh_devices_configured(const struct vh_vm *vm, uint32_t type);

#endif
