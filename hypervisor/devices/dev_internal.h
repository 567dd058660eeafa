/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the device models (hypervisor/devices/): each device's
 * state and its port handler, and the per-VM dispatch table that maps
 * port ranges to them (devices.c). */
#ifndef VH_DEV_INTERNAL_H
#define VH_DEV_INTERNAL_H

#include "vh/devices.h"
#include "vh/host.h"
#include "vh/vm.h"

/* One port access handed to a device: the port relative to the range's
 * first port, the size (1, 2 or 4; byte-wide devices only see 1) and the
 * value convention of vh_devices_io. */
struct vh_dev_access {
	struct vh_host *h;
	struct vh_vm *vm;
	struct vh_vcpu *vcpu;
	uint16_t offset;
	unsigned size;
	bool is_write;
	uint32_t *value;
};

/* ---- uart16550.c --------------------------------------------------------- */

struct vh_uart {
	uint8_t ier, lcr, mcr, scr, fcr;
	uint8_t dll, dlm;
	uint8_t rbr;       /* the byte a read of RBR returns (loopback) */
	bool data_ready;   /* LSR.DR: rbr holds a byte */
	bool thre_pending; /* a THR-empty interrupt is pending (IIR) */
};

void vh_uart_reset(struct vh_uart *u);
enum vh_io_result vh_uart_io(void *uart, const struct vh_dev_access *a);

/* ---- debug_exit.c -------------------------------------------------------- */

enum vh_io_result vh_debug_exit_io(void *unused, const struct vh_dev_access *a);

/* ---- fw_cfg.c ------------------------------------------------------------ */

struct vh_fw_cfg {
	uint16_t selector;
	uint32_t offset;    /* next byte of the selected item */
	uint8_t ram_size[8];
	uint8_t nb_cpus[2];
};

void vh_fw_cfg_reset(struct vh_fw_cfg *f, const struct vh_vm *vm);
enum vh_io_result vh_fw_cfg_io(void *fw_cfg, const struct vh_dev_access *a);

/* ---- pic.c --------------------------------------------------------------- */

struct vh_pic {
	uint8_t imr;       /* interrupt mask (OCW1) */
	uint8_t icw_step;  /* 0: operational; 2..4: the ICW expected next */
	bool icw4_needed;
	bool single;       /* ICW1 said one PIC: no ICW3 */
	uint8_t vector_base;
};

void vh_pic_reset(struct vh_pic *p);
enum vh_io_result vh_pic_io(void *pic, const struct vh_dev_access *a);

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
	uint8_t run_state;     /* enum vh_lapic_run_state */
	uint8_t sipi_vector;
};

void vh_lapic_reset(struct vh_lapic *a, uint32_t index);
/* An access at offset (0..0xfff) of the APIC page by vcpu. */
enum vh_io_result vh_lapic_mmio(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				uint64_t offset, unsigned size, bool is_write, uint64_t *value);

/* ---- devices.c ----------------------------------------------------------- */

/* A port device's access handler; dev is its state in struct vh_devices. */
typedef enum vh_io_result (*vh_port_io_fn)(void *dev, const struct vh_dev_access *a);

/* A range of ports served by one device, in the VM's dispatch table: the
 * handler and its state are resolved at define time, so an access is one
 * indirect call. */
struct vh_port_range {
	uint16_t first, last; /* inclusive */
	bool byte_wide;       /* wider accesses are split into bytes */
	vh_port_io_fn io;
	void *dev;
};

#define VH_DEV_MAX_RANGES 8

struct vh_devices {
	uint32_t generation; /* vm->boot_generation at the last reset */
	uint32_t nranges;
	struct vh_port_range ranges[VH_DEV_MAX_RANGES]; /* sorted by first port */
	/* The range the last access hit: a guest talks to one device many
	 * times in a row (a UART line, a fw_cfg blob), so looking there
	 * first saves the walk on the exit path.  Read and written under
	 * the host lock, like the rest of this struct. */
	uint32_t last_hit;
	struct vh_uart uart;
	struct vh_fw_cfg fw_cfg;
	struct vh_pic pic[2];
	struct vh_lapic *lapic; /* one per vCPU */
	bool console_mid_line; /* the last console byte was not a newline */
};

/* Resets the devices when the VM's boot generation moved (every entry
 * point calls it first). */
void vh_devices_sync(struct vh_host *h, struct vh_vm *vm);

/* Sends bytes to the VM's console and counts them. */
void vh_dev_console(struct vh_host *h, struct vh_vm *vm, const char *bytes, size_t n);

#endif
