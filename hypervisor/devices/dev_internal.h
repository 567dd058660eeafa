/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the device models (hypervisor/devices/): each device's
 * state, its handler and reset for the bus (vh/bus.h), and the per-VM
 * record that holds them with the bus (devices.c). */
#ifndef VH_DEV_INTERNAL_H
#define VH_DEV_INTERNAL_H

#include "vh/bus.h"
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/vm.h"

/* ---- uart16550.c --------------------------------------------------------- */

struct vh_uart {
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t rbr;       /* the byte a read of RBR returns (loopback) */
	bool data_ready;   /* LSR.DR: rbr holds a byte */
	bool thre_pending; /* a THR-empty interrupt is pending (IIR) */
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
 * caller holds no device lock of the APICs'. */
bool vh_lapic_msi(struct vh_bus *b, uint64_t address, uint32_t data, uint64_t *wake);
/* A fixed interrupt from the PIC's virtual wire to vCPU 0. */
void vh_lapic_extint(struct vh_bus *b, uint8_t vector, uint64_t *wake);

/* ---- devices.c ----------------------------------------------------------- */

struct vh_devices {
	struct vh_bus bus;
	struct vh_uart uart;
	struct vh_fw_cfg fw_cfg;
	struct vh_pic pic[2];
	struct vh_bus_dev *pic_dev[2];
	struct vh_lapics lapics;
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
