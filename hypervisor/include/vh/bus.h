/* SPDX-License-Identifier: Apache-2.0 */
/* The device bus of a VM (hypervisor/devices/bus.c): devices register port
 * ranges, MMIO ranges and PCI functions (bus 0, device/function -> config
 * space handler) with a handler, their state and a lock of their own; an
 * exit looks the address up and calls the device under that lock, not the
 * host lock.
 *
 * Locks.  The order is host lock -> bus reset lock -> device lock, never
 * the other way: a device never takes the host lock.  What a device asks of
 * the rest of the hypervisor through the narrow interface below (console
 * bytes, powering the VM off, waking vCPUs) is recorded in its struct
 * vh_dev_call and done by vh_bus_finish() once the device's lock is dropped,
 * with the host lock held.  The local APIC's lock is also taken by the
 * interrupt-injection path with the host lock held (vh/lapic.h).
 *
 * Freestanding. */
#ifndef VH_BUS_H
#define VH_BUS_H

#include "vh/devices.h"
#include "vh/platform.h"
#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_error;

/* ---- the per-device lock ------------------------------------------------- */

/* A ticket lock: zeroed is unlocked.  The platform supplies the wait
 * (lock_wait: PAUSE on bare metal, a yield in vh-hosted, a deadlock report
 * in the single-threaded simulator); the uncontended path is two atomics. */
struct vh_lock {
	uint32_t next, owner;
};

static inline void vh_lock_take(const struct vh_platform *p, struct vh_lock *l)
{
	uint32_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		p->lock_wait(p->ctx);
}

static inline void vh_lock_drop(struct vh_lock *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

/* Someone holds it (for assertions and tests). */
static inline bool vh_lock_held(const struct vh_lock *l)
{
	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
}

/* ---- one call into a device ------------------------------------------------ */

#define VH_BUS_NO_VCPU UINT32_MAX
/* Console bytes one call may leave for vh_bus_finish(). */
#define VH_DEV_CONSOLE_MAX 96

struct vh_bus;

/* What a device asked of the core during one call, done by
 * vh_bus_finish() with the host lock held. */
struct vh_dev_call {
	uint64_t wake; /* vCPUs (bit = index) to wake */
	char console[VH_DEV_CONSOLE_MAX];
	uint32_t console_len;
	bool power_off; /* isa-debug-exit: stop the VM with exit_code */
	uint32_t exit_code, exit_value;
	/* VH_DEV_EOI_LEVEL | vector: a local APIC's EOI of a level-triggered
	 * vector, for the IOAPIC (which must not be locked under the APICs'
	 * lock); 0: none. */
	uint16_t eoi;
};
#define VH_DEV_EOI_LEVEL 0x100u

/* One access handed to a device: the address relative to the range's
 * start (the register number for a PCI function's configuration space),
 * the size in bytes (a byte-wide port device only sees 1), and the value:
 * a write's in the low size bytes of *value, a read's returned there. */
struct vh_dev_access {
	struct vh_bus *bus;
	struct vh_dev_call *call;
	uint32_t vcpu; /* the accessing vCPU's index, or VH_BUS_NO_VCPU */
	uint64_t offset;
	unsigned size;
	bool is_write;
	uint64_t *value;
};

typedef enum vh_io_result (*vh_dev_io_fn)(void *state, const struct vh_dev_access *a);
/* Back to the power-on state (start, reset); the device's lock is held. */
typedef void (*vh_dev_reset_fn)(void *state, const struct vh_bus *bus);

/* ---- the narrow interface: all a device may ask of the hypervisor ----------- */

/* Interrupt line `line` (0..15, the ISA IRQs) goes to `level` (1:
 * asserted), wired as on a PC to both the PIC pair (to vCPU 0's local
 * APIC, the virtual wire) and the IOAPIC's pin for its GSI
 * (vh_isa_irq_gsi, vh/ioapic.h): a masked 8259 input or IOAPIC pin
 * delivers nothing there. */
void vh_dev_irq(const struct vh_dev_access *a, unsigned line, bool level);
/* A message-signalled interrupt (address 0xfeeXXXXX, data per the SDM's
 * MSI format) to the local APICs it names.  False when it names none or
 * is malformed. */
bool vh_dev_msi(const struct vh_dev_access *a, uint64_t address, uint32_t data);
/* Copies guest-physical memory (DMA).  0, or -1 where the range is not
 * the guest's RAM or the VM is gone.  Takes the host lock, so it is not
 * for a handler (a device's lock is held there; the host lock comes
 * first): a device copies from its own context, outside its lock. */
int vh_dev_mem_read(struct vh_bus *bus, uint64_t gpa, void *buf, size_t n);
int vh_dev_mem_write(struct vh_bus *bus, uint64_t gpa, const void *buf, size_t n);
/* Wakes vCPU `index` (halted: runnable; running: kicked back to the
 * scheduler so the interrupt is injected now). */
void vh_dev_wake(const struct vh_dev_access *a, uint32_t index);
/* Bytes to the VM's console, in order. */
void vh_dev_console(const struct vh_dev_access *a, const char *bytes, size_t n);
/* The guest asked to power off with `code` (isa-debug-exit wrote value). */
void vh_dev_power_off(const struct vh_dev_access *a, uint32_t code, uint32_t value);
/* The platform's clock, in ns. */
uint64_t vh_dev_now(const struct vh_bus *bus);
/* The VM's configuration, for a device's reset (sizes, uuid). */
const struct vh_vm_config *vh_dev_config(const struct vh_bus *bus);

/* ---- the bus ------------------------------------------------------------------- */

#define VH_BUS_MAX_DEVICES 16
#define VH_BUS_MAX_RANGES  16
#define VH_PCI_SLOTS       32
#define VH_PCI_FUNCS       8

struct vh_bus_dev {
	const char *name;
	void *state;
	vh_dev_reset_fn reset;
	struct vh_lock lock;
};

struct vh_bus_range {
	uint64_t first, last; /* inclusive */
	vh_dev_io_fn io;
	struct vh_bus_dev *dev;
	bool byte_wide; /* wider accesses are split into bytes */
};

/* One address space's ranges, sorted by first address. */
struct vh_bus_map {
	struct vh_bus_range r[VH_BUS_MAX_RANGES];
	uint32_t n;
	/* The range the last access hit: a guest talks to one device many
	 * times in a row (a UART line, a fw_cfg blob), so looking there
	 * first saves the search.  Relaxed atomics: any value is a hint. */
	uint32_t hit;
};

struct vh_bus_pci_fn {
	vh_dev_io_fn cfg; /* NULL: no function there */
	struct vh_bus_dev *dev;
};

struct vh_bus {
	struct vh_host *h;
	struct vh_vm *vm;  /* NULL once undefined with a call in flight */
	uint32_t *gen_src; /* &vm->boot_generation */
	uint32_t vcpus;    /* local APICs, wakeable vCPUs */
	struct vh_bus_dev dev[VH_BUS_MAX_DEVICES];
	uint32_t ndev;
	struct vh_bus_map port, mmio;
	struct vh_bus_pci_fn pci[VH_PCI_SLOTS * VH_PCI_FUNCS];
	/* vm->boot_generation at the last reset, and the lock that makes one
	 * vCPU do the reset while the others wait for it. */
	uint32_t generation;
	struct vh_lock reset_lock;
	/* Calls in flight with the host lock dropped (vh-hosted): the bus
	 * outlives its VM until they are back (all under the host lock). */
	uint32_t users;
	bool dead;
	bool console_mid_line; /* the last console byte was not a newline */
};

/* &vm->boot_generation of the bus's VM (bus.c; vm.h stays out of here). */
static inline uint32_t *vh_bus_vm_generation(struct vh_bus *b)
{
	return b->gen_src;
}

/* Initialises an empty bus for vm (zeroed storage). */
void vh_bus_init(struct vh_bus *b, struct vh_host *h, struct vh_vm *vm, uint32_t vcpus);

/* Registration, at VM definition.  A range that overlaps one already on
 * the bus, an empty or wrapping one, a full table or a taken PCI function
 * is refused with VH_E_INVAL (VH_E_NOMEM for a full table) naming both
 * devices; nothing changes then. */
struct vh_bus_dev *vh_bus_add_device(struct vh_bus *b, const char *name, void *state,
				     vh_dev_reset_fn reset, struct vh_error *err);
int vh_bus_add_ports(struct vh_bus *b, struct vh_bus_dev *dev, uint16_t first, uint16_t last,
		     bool byte_wide, vh_dev_io_fn io, struct vh_error *err);
int vh_bus_add_mmio(struct vh_bus *b, struct vh_bus_dev *dev, uint64_t base, uint64_t size,
		    vh_dev_io_fn io, struct vh_error *err);
int vh_bus_add_pci(struct vh_bus *b, struct vh_bus_dev *dev, unsigned slot, unsigned fn,
		   vh_dev_io_fn cfg, struct vh_error *err);

/* The range holding addr, or NULL. */
const struct vh_bus_range *vh_bus_find(struct vh_bus_map *m, uint64_t addr);
/* The device at bus 0, slot, fn, or NULL. */
const struct vh_bus_pci_fn *vh_bus_find_pci(const struct vh_bus *b, unsigned slot, unsigned fn);

/* Resets the devices (each under its lock) if the VM's boot generation
 * moved since the last reset; one caller resets, the others wait. */
void vh_bus_sync_slow(struct vh_bus *b, uint32_t gen);
static inline void vh_bus_sync(struct vh_bus *b)
{
	uint32_t gen = __atomic_load_n(vh_bus_vm_generation(b), __ATOMIC_RELAXED);

	if (__builtin_expect(__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) != gen, 0))
		vh_bus_sync_slow(b, gen);
}
/* Resets every device now. */
void vh_bus_reset(struct vh_bus *b);

/* The accesses, without the host lock: the device's handler runs under
 * its lock; what it asked of the core is left in *call.  size: 1, 2 or 4
 * for ports, 1, 2, 4 or 8 for MMIO and PCI configuration space. */
enum vh_io_result vh_bus_port(struct vh_bus *b, struct vh_dev_call *call, uint32_t vcpu,
			      uint16_t port, unsigned size, bool is_write, uint64_t *value);
enum vh_io_result vh_bus_mmio(struct vh_bus *b, struct vh_dev_call *call, uint32_t vcpu,
			      uint64_t gpa, unsigned size, bool is_write, uint64_t *value);
enum vh_io_result vh_bus_pci_config(struct vh_bus *b, struct vh_dev_call *call, uint32_t vcpu,
				    unsigned bus, unsigned slot, unsigned fn, uint16_t reg,
				    unsigned size, bool is_write, uint64_t *value);

/* A port access on the exit path without the host lock (bare metal):
 * sync, the device under its lock, then the host lock only if the device
 * asked the core for something.  vh_devices_access's common case, lean. */
enum vh_io_result vh_bus_port_exit(struct vh_bus *b, uint32_t vcpu, uint16_t port, unsigned size,
				   bool is_write, uint64_t *value);

/* Does what the call asked of the core; the host lock is held.  Returns
 * VH_IO_STOPPED when the VM stopped or is gone, else r. */
enum vh_io_result vh_bus_finish(struct vh_bus *b, struct vh_dev_call *call, enum vh_io_result r);
/* Anything for vh_bus_finish() to do? */
static inline bool vh_dev_call_pending(const struct vh_dev_call *c)
{
	return c->wake || c->console_len || c->power_off || c->eoi;
}

/* A caller that drops the host lock around a call keeps the bus alive:
 * hold (host lock held) syncs and pins it, release (host lock held again)
 * unpins it and frees it if the VM was undefined meanwhile. */
void vh_bus_hold(struct vh_bus *b);
void vh_bus_release(struct vh_bus *b);

#endif
