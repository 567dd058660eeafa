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
 * in the single-threaded simulator), out of line in vh_lock_wait(): the
 * uncontended path is one locked add and a compare to take, one add to
 * drop. */
struct vh_lock {
	uint32_t next, owner;
};

/* Waits until ticket `me` is served (bus.c). */
void vh_lock_wait(const struct vh_platform *p, struct vh_lock *l, uint32_t me);

/* Draws a ticket into *me: true when the lock is the caller's at once,
 * else vh_lock_wait() with it.  Split from vh_lock_take() so that the exit
 * path reaches the platform only when it must wait. */
static inline bool vh_lock_ticket(struct vh_lock *l, uint32_t *me)
{
	*me = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	return __builtin_expect(__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) == *me, 1);
}

static inline void vh_lock_take(const struct vh_platform *p, struct vh_lock *l)
{
	uint32_t me;

	if (!vh_lock_ticket(l, &me))
		vh_lock_wait(p, l, me);
}

static inline void vh_lock_drop(struct vh_lock *l)
{
#if defined(__x86_64__) || defined(__i386__)
	/* Only the holder writes owner, and an x86 store is a release: a
	 * plain add to memory is the whole of it (the compiler would load,
	 * add and store an atomic store's value). */
	__asm__ volatile("addl $1, %0" : "+m"(l->owner) : : "memory");
#else
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
#endif
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

/* What a device asked of the core during one call (VH_DEV_CALL_*, bits
 * of `pending`), done by vh_bus_finish() with the host lock held.  The
 * exit path clears and tests `pending` alone: each other field is valid
 * only while its bit is set, and written first when the bit is set. */
enum {
	VH_DEV_CALL_CONSOLE = 1u << 0,   /* console[0..console_len) to print */
	VH_DEV_CALL_WAKE = 1u << 1,      /* wake: vCPUs (bit = index) to wake */
	VH_DEV_CALL_POWER_OFF = 1u << 2, /* power_action (debug exit, guest reset or S5) */
	VH_DEV_CALL_EOI = 1u << 3,       /* eoi: a level vector's EOI for the IOAPIC */
	VH_DEV_CALL_DEFER = 1u << 4,     /* defer: the device's work for the host lock */
};

struct vh_dev_call;
/* Work a device leaves for vh_bus_finish(): it runs with the host lock
 * held and the device's lock not (the device takes it again itself: host
 * lock first is the order), before the wakes are done, so what it asks
 * of the core through c (an MSI's wakes) is carried out with the rest. */
typedef void (*vh_dev_defer_fn)(void *state, struct vh_bus *b, struct vh_dev_call *c);

struct vh_dev_call {
	uint32_t pending;
	uint32_t console_len;
	uint64_t wake;
	char console[VH_DEV_CONSOLE_MAX];
	uint8_t power_action;           /* enum vh_dev_power */
	uint32_t exit_code, exit_value; /* VH_DEV_POWER_DEBUG_EXIT's */
	const char *power_why;          /* the guest's reset or power off: how, for the log */
	/* VH_DEV_EOI_LEVEL | vector: a local APIC's EOI of a level-triggered
	 * vector, for the IOAPIC (which must not be locked under the APICs'
	 * lock). */
	uint16_t eoi;
	vh_dev_defer_fn defer; /* VH_DEV_CALL_DEFER's, with its state */
	void *defer_state;
};

/* What the guest asked of the VM's power (vh_bus_finish carries it out). */
enum vh_dev_power {
	VH_DEV_POWER_DEBUG_EXIT = 0, /* isa-debug-exit: stopped with exit_code */
	VH_DEV_POWER_RESET = 1,      /* a reboot (ACPI reset register, i8042 0xfe): reset */
	VH_DEV_POWER_OFF = 2,        /* ACPI S5: stopped */
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
/* Global system interrupt gsi (an IOAPIC pin: PCI INTx lines are GSIs
 * 16..23, vh/acpi.h) goes to level (1: asserted). */
void vh_dev_gsi(const struct vh_dev_access *a, unsigned gsi, bool level);
/* fn(state, ...) later, with the host lock and without the device's lock
 * (VH_DEV_CALL_DEFER): for a device whose work touches guest memory.
 * One deferral a call: a second replaces the first. */
void vh_dev_defer(const struct vh_dev_access *a, vh_dev_defer_fn fn, void *state);
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
/* The same for every vCPU in mask (bit = index). */
void vh_dev_wake_mask(const struct vh_dev_access *a, uint64_t mask);
/* Bytes to the VM's console, in order. */
void vh_dev_console(const struct vh_dev_access *a, const char *bytes, size_t n);
/* The guest asked to power off with `code` (isa-debug-exit wrote value). */
void vh_dev_power_off(const struct vh_dev_access *a, uint32_t code, uint32_t value);
/* The guest asked for a reboot (the VM resets: its boot generation moves)
 * or to power off (the VM stops); `how` (a static string) names the
 * register, for the log. */
void vh_dev_guest_reset(const struct vh_dev_access *a, const char *how);
void vh_dev_guest_power_off(const struct vh_dev_access *a, const char *how);
/* The platform's clock, in ns. */
uint64_t vh_dev_now(const struct vh_bus *bus);
/* The time of day (UTC), in ns since 1970 (0 where the platform has no
 * wall clock). */
uint64_t vh_dev_wall(const struct vh_bus *bus);
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
/* The I/O port space in buckets of 16 ports, one bit each: set where a
 * range claims a port.  A port in an empty bucket (port 0x80, the
 * probes of absent hardware) is answered without a search. */
#define VH_BUS_BUCKET_SHIFT 4
#define VH_BUS_BUCKETED     0x10000u /* addresses below it have buckets */

struct vh_bus_map {
	struct vh_bus_range r[VH_BUS_MAX_RANGES];
	uint32_t n;
	uint64_t claimed[VH_BUS_BUCKETED >> VH_BUS_BUCKET_SHIFT >> 6];
	/* The range the last access hit: a guest talks to one device many
	 * times in a row (a UART line, a fw_cfg blob), so looking there
	 * first saves the search.  Always one of r[] (those past n match
	 * nothing: first above last), so the exit path tests it without a
	 * bound or NULL check.  Relaxed atomics: any entry is a hint. */
	const struct vh_bus_range *hit;
};

struct vh_bus_pci_fn {
	vh_dev_io_fn cfg; /* NULL: no function there */
	struct vh_bus_dev *dev;
};

struct vh_bus {
	struct vh_host *h;
	const struct vh_platform *plat; /* h->plat, for the inline exit path */
	struct vh_vm *vm;               /* NULL once undefined with a call in flight */
	uint32_t *gen_src;              /* &vm->boot_generation */
	uint32_t vcpus;                 /* local APICs, wakeable vCPUs */
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

/* What vh_bus_port_exit() does beyond its common case for a port some
 * device claims, and the host lock around vh_bus_finish() (bus.c, out of
 * the common case's way). */
enum vh_io_result vh_bus_port_exit_slow(struct vh_bus *b, uint32_t vcpu, uint16_t port,
					unsigned size, bool is_write, uint64_t *value);
enum vh_io_result vh_bus_finish_locked(struct vh_bus *b, struct vh_dev_call *call,
				       enum vh_io_result r);
/* vh_bus_port_call() when its device's lock was taken: waits for ticket
 * me, then the call, the drop and what the device asked for. */
enum vh_io_result vh_bus_call_contended(struct vh_bus *b, const struct vh_bus_range *r,
					const struct vh_dev_access *a, uint32_t me);
/* Operand masks by size - 1 (0: no such size). */
extern const uint64_t vh_bus_size_masks[8];

/* The common case of a port exit, in two inline halves an exit handler
 * may also call itself: the range the last access hit, if it holds port
 * for an access the device takes whole (a byte, or 2 or 4 bytes to a
 * device that is not byte-wide) on the devices of this boot generation,
 * else NULL; and the call of that range's device under its lock, then the
 * host lock only if the device asked the core for something (a UART
 * byte, a stop, a wake): a register access never takes it. */
static inline __attribute__((always_inline)) const struct vh_bus_range *
vh_bus_port_hit(struct vh_bus *b, uint16_t port, unsigned size)
{
	const struct vh_bus_range *r = __atomic_load_n(&b->port.hit, __ATOMIC_RELAXED);
	uint32_t gen = __atomic_load_n(vh_bus_vm_generation(b), __ATOMIC_RELAXED);

	if (__builtin_expect(__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) != gen ||
				 port < r->first || port > r->last ||
				 (size != 1 && (r->byte_wide || (size != 2 && size != 4))),
			     0))
		return 0;
	return r;
}

static inline __attribute__((always_inline)) enum vh_io_result
vh_bus_port_call(struct vh_bus *b, const struct vh_bus_range *r, uint32_t vcpu, uint16_t port,
		 unsigned size, bool is_write, uint64_t *value)
{
	struct vh_dev_call c;
	struct vh_dev_access a;
	struct vh_lock *l;
	enum vh_io_result res;
	uint32_t me;

	if (is_write)
		*value &= vh_bus_size_masks[size - 1];
	c.pending = 0;
	a = (struct vh_dev_access){ b, &c, vcpu, port - r->first, size, is_write, value };
	l = &r->dev->lock;
	/* A busy device: all of the call out of line, so that nothing here
	 * must outlive a wait. */
	if (!vh_lock_ticket(l, &me))
		return vh_bus_call_contended(b, r, &a, me);
	res = r->io(r->dev->state, &a);
	vh_lock_drop(l);
	if (__builtin_expect(c.pending != 0, 0))
		res = vh_bus_finish_locked(b, &c, res);
	return res;
}

/* A port access on the exit path without the host lock (bare metal):
 * sync, the device under its lock, then the host lock only if the device
 * asked the core for something.  Inline (bare metal's single IN/OUT ends
 * here): the common case is vh_bus_port_hit()'s.  Else a port no device
 * claims answers VH_IO_UNHANDLED after a leaf call (the lookup), and the
 * rest is vh_bus_port_exit_slow()'s (a reset first, a split access, an
 * odd size). */
static inline __attribute__((always_inline)) enum vh_io_result
vh_bus_port_exit(struct vh_bus *b, uint32_t vcpu, uint16_t port, unsigned size, bool is_write,
		 uint64_t *value)
{
	const struct vh_bus_range *r = vh_bus_port_hit(b, port, size);

	if (__builtin_expect(!r, 0)) {
		/* A port no device claims answers at once (a leaf call). */
		if (!vh_bus_find(&b->port, port))
			return VH_IO_UNHANDLED;
		return vh_bus_port_exit_slow(b, vcpu, port, size, is_write, value);
	}
	return vh_bus_port_call(b, r, vcpu, port, size, is_write, value);
}

/* Does what the call asked of the core; the host lock is held.  Returns
 * VH_IO_STOPPED when the VM stopped or is gone, else r. */
enum vh_io_result vh_bus_finish(struct vh_bus *b, struct vh_dev_call *call, enum vh_io_result r);
/* Anything for vh_bus_finish() to do? */
static inline bool vh_dev_call_pending(const struct vh_dev_call *c)
{
	return c->pending != 0;
}

/* A caller that drops the host lock around a call keeps the bus alive:
 * hold (host lock held) syncs and pins it, release (host lock held again)
 * unpins it and frees it if the VM was undefined meanwhile. */
void vh_bus_hold(struct vh_bus *b);
void vh_bus_release(struct vh_bus *b);

#endif
