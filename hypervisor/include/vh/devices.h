/* SPDX-License-Identifier: Apache-2.0 */
/* Device models shared by both backends (hypervisor/devices/): the QEMU-
 * compatible legacy machine a `qemu -kernel` guest expects.  One device a
 * file; each VM gets the devices its config lists (vm->cfg.devices) plus
 * the ones every PC has (PICs, local APICs, IOAPIC, PCI host).
 *
 *   uart16550.c   COM1 at 0x3f8..0x3ff, output to plat->console
 *   debug_exit.c  QEMU isa-debug-exit at 0xf4: stops the VM with (v<<1)|1
 *   fw_cfg.c      QEMU fw_cfg at 0x510 (selector) / 0x511 (data)
 *   pic.c         8259 mask and command writes accepted (0x20/0x21, 0xa0/0xa1)
 *   acpi_pm.c     ACPI reset, sleep control/status, PM timer at 0x600 (vh/acpi.h)
 *   i8042.c       keyboard controller at 0x60/0x64: 0xfe resets the VM
 *   rtc.c         CMOS clock and RAM at 0x70/0x71: the host's time of day
 *   lapic.c       local APIC (xAPIC MMIO at 0xfee00000), per vCPU (see lapic.h)
 *   ioapic.c      IOAPIC at 0xfec00000, 24 pins (see ioapic.h)
 *   pci_host.c    PCI mechanism #1 (0xcf8/0xcfc), ECAM, host bridge 00:00.0 (pci.h)
 *   pci.c         a PCI function's configuration space, the BAR allocator
 *   bus.c         the VM's device bus (vh/bus.h): ports, MMIO, PCI functions
 *   dev_iface.c   what a device may ask of the hypervisor (vh/bus.h)
 *   devices.c     per-VM state: the devices registered on the bus
 *
 * create/destroy/reset expect the host lock held, like every call into
 * the core; the accesses (vh_devices_io, vh_devices_mmio) are made WITHOUT
 * it: the device runs under its own lock and the host lock is taken only
 * for what the device asked of the core (console output, a stop, a wake). */
#ifndef VH_DEVICES_H
#define VH_DEVICES_H

#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_vcpu;
struct vh_error;

/* What happened to a port or MMIO access. */
enum vh_io_result {
	/* No device there: the backend's policy applies (reads return all
	 * ones, writes are ignored, vm->guest.io_unhandled counts them). */
	VH_IO_UNHANDLED = 0,
	VH_IO_HANDLED = 1,  /* done; for a read, *value holds the result */
	/* Done, and the VM is no longer running (isa-debug-exit stopped it):
	 * the vCPU must not re-enter the guest; go back to the scheduler. */
	VH_IO_STOPPED = 2,
};

/* Per-VM device state, hung off vm->devices.  Created by vh_vm_define()
 * and freed by vh_vm_undefine() (vm.c calls these; backends never do). */
int vh_devices_create(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
void vh_devices_destroy(struct vh_host *h, struct vh_vm *vm);

/* Puts every device back to its power-on state.  Also done by the entry
 * points below on their own when vm->boot_generation changed since the
 * last access (start, reset), so backends need not call it. */
void vh_devices_reset(struct vh_host *h, struct vh_vm *vm);

/* The VM's device bus, or NULL (vh/bus.h). */
struct vh_bus *vh_devices_bus(struct vh_vm *vm);

/* A guest port access of size 1, 2 or 4 bytes.  A write passes the value
 * in *value (low `size` bytes); a read returns it there (upper bytes 0).
 * vcpu may be NULL for accesses that are not a vCPU's (tests). */
enum vh_io_result vh_devices_io(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				uint16_t port, unsigned size, bool is_write, uint32_t *value);

/* Either access (mmio: MMIO at addr, else the port addr) by vcpu (may be
 * NULL).  host_locked: the caller holds the host lock; it is dropped
 * around the device, the bus pinned meanwhile, and held again on return
 * (a VM undefined meanwhile answers VH_IO_STOPPED: vm must not be touched
 * then).  The backends reach it through vh/vcpu_io.h. */
enum vh_io_result vh_devices_access(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				    bool mmio, uint64_t addr, unsigned size, bool is_write,
				    uint64_t *value, bool host_locked);

/* A guest access to guest-physical gpa that is not guest memory
 * (vh_mem_fault() answered VH_FAULT_BAD_ADDRESS): the local APIC page.
 * size 1, 2, 4 or 8; same value convention as vh_devices_io. */
enum vh_io_result vh_devices_mmio(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				  uint64_t gpa, unsigned size, bool is_write, uint64_t *value);

/* Days from 1970-01-01 to year-month-day (proleptic Gregorian; month
 * 1..12, day 1..31, a day past the month's end runs into the next): the
 * CMOS clock's arithmetic, shared with bare metal's reading of the real
 * one (rtc.c). */
int64_t vh_days_from_civil(int64_t year, int month, int day);

/* ---- fixed addresses ------------------------------------------------------ */

#define VH_COM1_PORT 0x3f8u
#define VH_DEBUG_EXIT_PORT 0xf4u
#define VH_FW_CFG_PORT_SEL 0x510u
#define VH_FW_CFG_PORT_DATA 0x511u
#define VH_I8042_DATA_PORT 0x60u
#define VH_I8042_CMD_PORT 0x64u
#define VH_RTC_PORT 0x70u /* index; 0x71 data */
#define VH_LAPIC_BASE 0xfee00000ull
#define VH_LAPIC_SIZE 0x1000ull

/* fw_cfg keys vh serves (QEMU's numbering); any other key reads zeros. */
#define VH_FW_CFG_SIGNATURE 0x0000u /* "QEMU" */
#define VH_FW_CFG_ID 0x0001u        /* 32-bit feature bits: 1 = traditional interface */
#define VH_FW_CFG_UUID 0x0002u      /* the VM's 16-byte uuid */
#define VH_FW_CFG_RAM_SIZE 0x0003u  /* 64-bit bytes */
#define VH_FW_CFG_NOGRAPHIC 0x0004u /* 16-bit: 1 */
#define VH_FW_CFG_NB_CPUS 0x0005u   /* 16-bit: vCPUs */
#define VH_FW_CFG_MAX_CPUS 0x000fu  /* 16-bit: vCPUs */

#endif
