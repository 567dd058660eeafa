/* SPDX-License-Identifier: Apache-2.0 */
/* The device bus (vh/bus.h): registration with overlap refusal, lookup
 * (last hit, then binary search over sorted ranges), calls under the
 * device's lock, resets when the VM's boot generation moves, and the
 * work devices leave for the host lock (vh_bus_finish). */
#include "dev_internal.h"
#include "vh/error.h"
#include "vh/format.h"
#include "vh/sched.h"
#include "vh/string.h"

/* An entry past a map's n: matches no address (first above last). */
static void map_init(struct vh_bus_map *m)
{
	for (uint32_t i = 0; i < VH_BUS_MAX_RANGES; i++)
		m->r[i] = (struct vh_bus_range){ .first = ~0ull, .last = 0 };
	m->hit = &m->r[0];
}

void vh_bus_init(struct vh_bus *b, struct vh_host *h, struct vh_vm *vm, uint32_t vcpus)
{
	map_init(&b->port);
	map_init(&b->mmio);
	b->h = h;
	b->plat = h->plat;
	b->vm = vm;
	b->vcpus = vcpus;
	b->gen_src = &vm->boot_generation;
	b->generation = vm->boot_generation - 1; /* the first sync resets */
}

struct vh_bus_dev *vh_bus_add_device(struct vh_bus *b, const char *name, void *state,
				     vh_dev_reset_fn reset, struct vh_error *err)
{
	struct vh_bus_dev *d;

	if (b->ndev == VH_BUS_MAX_DEVICES) {
		vh_error_set(err, VH_E_NOMEM, "device bus full: no room for %s", name);
		return NULL;
	}
	d = &b->dev[b->ndev++];
	*d = (struct vh_bus_dev){ .name = name, .state = state, .reset = reset };
	return d;
}

/* Inserts [first, last] in order, refusing an overlap. */
static int add_range(struct vh_bus_map *m, const char *space, struct vh_bus_dev *dev,
		     uint64_t first, uint64_t last, bool byte_wide, vh_dev_io_fn io,
		     struct vh_error *err)
{
	uint32_t at = 0;

	if (last < first || !io)
		return vh_error_set(err, VH_E_INVAL, "%s: empty %s range %#llx..%#llx", dev->name,
				    space, (unsigned long long)first, (unsigned long long)last);
	while (at < m->n && m->r[at].first <= last) {
		if (m->r[at].last >= first)
			return vh_error_set(
			    err, VH_E_INVAL, "%s: %s range %#llx..%#llx overlaps %s's %#llx..%#llx",
			    dev->name, space, (unsigned long long)first, (unsigned long long)last,
			    m->r[at].dev->name, (unsigned long long)m->r[at].first,
			    (unsigned long long)m->r[at].last);
		at++;
	}
	if (m->n == VH_BUS_MAX_RANGES)
		return vh_error_set(err, VH_E_NOMEM, "%s: no room for another %s range", dev->name,
				    space);
	vh_memmove(&m->r[at + 1], &m->r[at], (m->n - at) * sizeof(m->r[0]));
	m->r[at] = (struct vh_bus_range){ first, last, io, dev, byte_wide };
	m->n++;
	for (uint64_t a = first; a < VH_BUS_BUCKETED && a <= last;
	     a = (a | ((1u << VH_BUS_BUCKET_SHIFT) - 1)) + 1) {
		uint32_t bucket = (uint32_t)(a >> VH_BUS_BUCKET_SHIFT);
		m->claimed[bucket >> 6] |= 1ull << (bucket & 63);
	}
	return VH_OK;
}

int vh_bus_add_ports(struct vh_bus *b, struct vh_bus_dev *dev, uint16_t first, uint16_t last,
		     bool byte_wide, vh_dev_io_fn io, struct vh_error *err)
{
	return add_range(&b->port, "port", dev, first, last, byte_wide, io, err);
}

int vh_bus_add_mmio(struct vh_bus *b, struct vh_bus_dev *dev, uint64_t base, uint64_t size,
		    vh_dev_io_fn io, struct vh_error *err)
{
	if (!size || base + size - 1 < base)
		return vh_error_set(err, VH_E_INVAL, "%s: MMIO range at %#llx of %#llx bytes",
				    dev->name, (unsigned long long)base, (unsigned long long)size);
	return add_range(&b->mmio, "MMIO", dev, base, base + size - 1, false, io, err);
}

int vh_bus_add_pci(struct vh_bus *b, struct vh_bus_dev *dev, unsigned slot, unsigned fn,
		   vh_dev_io_fn cfg, struct vh_error *err)
{
	struct vh_bus_pci_fn *p;

	if (slot >= VH_PCI_SLOTS || fn >= VH_PCI_FUNCS || !cfg)
		return vh_error_set(err, VH_E_INVAL, "%s: no PCI function 00:%02x.%x", dev->name,
				    slot, fn);
	p = &b->pci[slot * VH_PCI_FUNCS + fn];
	if (p->cfg)
		return vh_error_set(err, VH_E_INVAL, "%s: PCI function 00:%02x.%x is %s's",
				    dev->name, slot, fn, p->dev->name);
	*p = (struct vh_bus_pci_fn){ cfg, dev };
	return VH_OK;
}

static inline __attribute__((always_inline)) const struct vh_bus_range *find(struct vh_bus_map *m,
									     uint64_t addr)
{
	const struct vh_bus_range *hit = __atomic_load_n(&m->hit, __ATOMIC_RELAXED);
	uint32_t lo = 0, hi = m->n;

	if (addr >= hit->first && addr <= hit->last)
		return hit;
	if (addr < VH_BUS_BUCKETED) {
		uint32_t bucket = (uint32_t)(addr >> VH_BUS_BUCKET_SHIFT);
		if (!(m->claimed[bucket >> 6] & (1ull << (bucket & 63))))
			return NULL;
	}
	/* A PC's handful of port ranges: a walk that stops at the first
	 * range past addr is shorter than halving (fewer compares and no
	 * index arithmetic on the exit path); more than that: halving. */
	if (m->n <= 8) {
		for (uint32_t i = 0; i < m->n && addr >= m->r[i].first; i++) {
			if (addr <= m->r[i].last) {
				__atomic_store_n(&m->hit, &m->r[i], __ATOMIC_RELAXED);
				return &m->r[i];
			}
		}
		return NULL;
	}
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (addr < m->r[mid].first) {
			hi = mid;
		} else if (addr > m->r[mid].last) {
			lo = mid + 1;
		} else {
			__atomic_store_n(&m->hit, &m->r[mid], __ATOMIC_RELAXED);
			return &m->r[mid];
		}
	}
	return NULL;
}

const struct vh_bus_range *vh_bus_find(struct vh_bus_map *m, uint64_t addr)
{
	return find(m, addr);
}

const struct vh_bus_pci_fn *vh_bus_find_pci(const struct vh_bus *b, unsigned slot, unsigned fn)
{
	const struct vh_bus_pci_fn *p;

	if (slot >= VH_PCI_SLOTS || fn >= VH_PCI_FUNCS)
		return NULL;
	p = &b->pci[slot * VH_PCI_FUNCS + fn];
	return p->cfg ? p : NULL;
}

void vh_lock_wait(const struct vh_platform *p, struct vh_lock *l, uint32_t me)
{
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		p->lock_wait(p->ctx);
}

/* ---- resets ------------------------------------------------------------------ */

static void reset_all(struct vh_bus *b)
{
	const struct vh_platform *p = b->h->plat;

	for (uint32_t i = 0; i < b->ndev; i++) {
		struct vh_bus_dev *d = &b->dev[i];

		if (!d->reset)
			continue;
		vh_lock_take(p, &d->lock);
		d->reset(d->state, b);
		vh_lock_drop(&d->lock);
	}
	b->console_mid_line = false;
}

void vh_bus_reset(struct vh_bus *b)
{
	vh_lock_take(b->h->plat, &b->reset_lock);
	reset_all(b);
	__atomic_store_n(&b->generation, b->vm->boot_generation, __ATOMIC_RELEASE);
	vh_lock_drop(&b->reset_lock);
}

void vh_bus_sync_slow(struct vh_bus *b, uint32_t gen)
{
	vh_lock_take(b->h->plat, &b->reset_lock);
	if (b->generation != gen) {
		reset_all(b);
		__atomic_store_n(&b->generation, gen, __ATOMIC_RELEASE);
	}
	vh_lock_drop(&b->reset_lock);
}

/* ---- calls --------------------------------------------------------------------- */

static inline __attribute__((always_inline)) enum vh_io_result
call(struct vh_bus *b, const struct vh_bus_range *r, struct vh_dev_access *a)
{
	enum vh_io_result res;

	vh_lock_take(b->h->plat, &r->dev->lock);
	res = r->io(r->dev->state, a);
	vh_lock_drop(&r->dev->lock);
	return res;
}

/* A byte-wide device sees a wider access as consecutive byte accesses, as
 * the ISA bus splits them; bytes past the range read as ones and are
 * dropped on writes.  Rare (guests use byte I/O on such devices), so kept
 * out of the exit path's way. */
static __attribute__((noinline)) enum vh_io_result
split_wide(struct vh_bus *b, const struct vh_bus_range *r, struct vh_dev_access *a, uint64_t addr)
{
	uint64_t in = a->is_write ? *a->value : 0, out = 0, *value = a->value;
	unsigned size = a->size;
	enum vh_io_result res = VH_IO_HANDLED;

	for (unsigned i = 0; i < size && res == VH_IO_HANDLED; i++) {
		uint64_t byte = (in >> (8 * i)) & 0xff;

		if (addr + i > r->last) {
			byte = 0xff;
		} else {
			a->offset = addr + i - r->first;
			a->size = 1;
			a->value = &byte;
			res = call(b, r, a);
		}
		out |= (byte & 0xff) << (8 * i);
	}
	if (!a->is_write)
		*value = out;
	return res;
}

/* whole: an MMIO access must lie within its range; a port access is the
 * device's from its first port on (a 32-bit OUT to isa-debug-exit's last
 * port, a 32-bit IN from fw_cfg's data port), as on the ISA bus. */
static inline __attribute__((always_inline)) enum vh_io_result
dispatch(struct vh_bus *b, struct vh_bus_map *m, struct vh_dev_call *c, uint32_t vcpu,
	 uint64_t addr, unsigned size, bool is_write, uint64_t *value, bool whole)
{
	const struct vh_bus_range *r = find(m, addr);
	struct vh_dev_access a = { b, c, vcpu, 0, size, is_write, value };

	if (!r)
		return VH_IO_UNHANDLED;
	if (__builtin_expect(r->byte_wide && size != 1, 0))
		return split_wide(b, r, &a, addr);
	if (whole && addr + size - 1 > r->last)
		return VH_IO_UNHANDLED;
	a.offset = addr - r->first;
	return call(b, r, &a);
}

const uint64_t vh_bus_size_masks[8] = { 0xffu, 0xffffu, 0, 0xffffffffu, 0, 0, 0, ~0ull };

static inline __attribute__((always_inline)) enum vh_io_result
bus_port(struct vh_bus *b, struct vh_dev_call *call, uint32_t vcpu, uint16_t port, unsigned size,
	 bool is_write, uint64_t *value)
{
	if (size != 1 && size != 2 && size != 4)
		return VH_IO_UNHANDLED;
	if (is_write)
		*value &= vh_bus_size_masks[size - 1];
	return dispatch(b, &b->port, call, vcpu, port, size, is_write, value, false);
}

static inline __attribute__((always_inline)) enum vh_io_result
bus_mmio(struct vh_bus *b, struct vh_dev_call *call, uint32_t vcpu, uint64_t gpa, unsigned size,
	 bool is_write, uint64_t *value)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return VH_IO_UNHANDLED;
	if (is_write)
		*value &= vh_bus_size_masks[size - 1];
	return dispatch(b, &b->mmio, call, vcpu, gpa, size, is_write, value, true);
}

enum vh_io_result vh_bus_port(struct vh_bus *b, struct vh_dev_call *call, uint32_t vcpu,
			      uint16_t port, unsigned size, bool is_write, uint64_t *value)
{
	return bus_port(b, call, vcpu, port, size, is_write, value);
}

enum vh_io_result vh_bus_mmio(struct vh_bus *b, struct vh_dev_call *call, uint32_t vcpu,
			      uint64_t gpa, unsigned size, bool is_write, uint64_t *value)
{
	return bus_mmio(b, call, vcpu, gpa, size, is_write, value);
}

enum vh_io_result vh_bus_pci_config(struct vh_bus *b, struct vh_dev_call *c, uint32_t vcpu,
				    unsigned bus, unsigned slot, unsigned fn, uint16_t reg,
				    unsigned size, bool is_write, uint64_t *value)
{
	const struct vh_bus_pci_fn *p = bus == 0 ? vh_bus_find_pci(b, slot, fn) : NULL;
	struct vh_dev_access a = { b, c, vcpu, reg, size, is_write, value };
	enum vh_io_result res;

	if (!p || (size != 1 && size != 2 && size != 4 && size != 8))
		return VH_IO_UNHANDLED;
	if (is_write)
		*value &= vh_bus_size_masks[size - 1];
	vh_lock_take(b->h->plat, &p->dev->lock);
	res = p->cfg(p->dev->state, &a);
	vh_lock_drop(&p->dev->lock);
	return res;
}

/* The host lock for what a call asked of the core: rare on the exit
 * path (a UART byte, a stop, a wake), so out of its way. */
enum vh_io_result vh_bus_finish_locked(struct vh_bus *b, struct vh_dev_call *c, enum vh_io_result r)
{
	const struct vh_platform *p = b->h->plat;

	p->lock(p->ctx);
	r = vh_bus_finish(b, c, r);
	p->unlock(p->ctx);
	return r;
}

enum vh_io_result vh_bus_call_contended(struct vh_bus *b, const struct vh_bus_range *r,
					const struct vh_dev_access *a, uint32_t me)
{
	struct vh_lock *l = &r->dev->lock;
	enum vh_io_result res;

	vh_lock_wait(b->plat, l, me);
	res = r->io(r->dev->state, a);
	vh_lock_drop(l);
	if (__builtin_expect(vh_dev_call_pending(a->call), 0))
		res = vh_bus_finish_locked(b, a->call, res);
	return res;
}

/* The port exit beyond its common case (the port is a device's:
 * vh_bus_port_exit() looked): sync, then vh_bus_port()'s lookup, size
 * check and split. */
enum vh_io_result vh_bus_port_exit_slow(struct vh_bus *b, uint32_t vcpu, uint16_t port,
					unsigned size, bool is_write, uint64_t *value)
{
	struct vh_dev_call c;
	enum vh_io_result r;

	vh_bus_sync(b);
	c.pending = 0;
	r = bus_port(b, &c, vcpu, port, size, is_write, value);
	if (__builtin_expect(vh_dev_call_pending(&c), 0))
		r = vh_bus_finish_locked(b, &c, r);
	return r;
}

/* The exit path's entry (vh/devices.h): everything the common case runs
 * is inlined here, since it is on every port and MMIO exit. */
enum vh_io_result vh_devices_access(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				    bool mmio, uint64_t addr, unsigned size, bool is_write,
				    uint64_t *value, bool host_locked)
{
	const struct vh_platform *p = h->plat;
	struct vh_bus *b = vm->devices ? &vm->devices->bus : NULL; /* its first member */
	uint32_t idx = vcpu ? vcpu->index : VH_BUS_NO_VCPU;
	struct vh_dev_call c;
	enum vh_io_result r;

	if (!b)
		return VH_IO_UNHANDLED;
	if (__builtin_expect(host_locked, 0)) {
		vh_bus_hold(b);
		p->unlock(p->ctx);
	} else {
		vh_bus_sync(b);
	}
	c.pending = 0;
	r = mmio ? bus_mmio(b, &c, idx, addr, size, is_write, value)
		 : bus_port(b, &c, idx, (uint16_t)addr, size, is_write, value);
	if (host_locked) {
		/* The bus was pinned: a VM undefined meanwhile answers
		 * VH_IO_STOPPED, and the record goes with the release. */
		p->lock(p->ctx);
		r = vh_bus_finish(b, &c, r);
		vh_bus_release(b);
	} else if (__builtin_expect(vh_dev_call_pending(&c), 0)) {
		/* The host lock only for what the device asked of the core
		 * (a UART byte, a stop, a wake): a port no device claims
		 * and a register read never take it. */
		r = vh_bus_finish_locked(b, &c, r);
	}
	return r;
}

/* ---- what devices left for the host lock ------------------------------------------- */

static void wake(struct vh_host *h, struct vh_vcpu *v, uint64_t now)
{
	vh_sched_wake(h, v, now);
	if (v->sched.state == VH_SCHED_RUNNING && v->sched.pcpu >= 0)
		h->plat->kick(h->plat->ctx, (unsigned)v->sched.pcpu);
}

static enum vh_io_result debug_exit(struct vh_bus *b, const struct vh_dev_call *c)
{
	struct vh_vm *vm = b->vm;
	char line[64];
	size_t n;

	/* On a line of its own, whatever the guest printed last. */
	n = vh_snprintf(line, sizeof(line), "%svh: debug-exit code %u (value %u)\n",
			b->console_mid_line ? "\n" : "", c->exit_code, c->exit_value);
	vh_vm_console_write(b->h, vm, line, n < sizeof(line) ? n : sizeof(line) - 1);
	b->console_mid_line = false;
	vm->guest.exited = true;
	vm->guest.exit_code = c->exit_code;
	vh_host_log(b->h, "VM \"%s\": the guest wrote %#x to isa-debug-exit: stopped with code %u",
		    vm->cfg.name, c->exit_value, c->exit_code);
	/* Not running (paused by the operator meanwhile, say): the code is
	 * kept, the state is the operator's. */
	if (vm->state == VH_VM_RUNNING && vh_vm_stop(b->h, vm, NULL) == VH_OK)
		return VH_IO_STOPPED;
	return VH_IO_HANDLED;
}

/* The guest's own reboot or power off: what the operator's VM_RESET and
 * VM_STOP do, so the VM ends `running` in a new boot generation or
 * `stopped` (never `crashed`), counted in its state changes and in
 * vm->guest.  Either way this vCPU must not re-enter the guest it left. */
static enum vh_io_result guest_power(struct vh_bus *b, const struct vh_dev_call *c)
{
	struct vh_vm *vm = b->vm;
	bool reset = c->power_action == VH_DEV_POWER_RESET;
	struct vh_error err = { 0 };
	int rc;

	/* Paused by the operator meanwhile: the state is the operator's. */
	if (vm->state != VH_VM_RUNNING)
		return VH_IO_HANDLED;
	vh_host_log(b->h, "VM \"%s\": the guest %s (%s)", vm->cfg.name,
		    reset ? "rebooted" : "powered off", c->power_why ? c->power_why : "?");
	if (reset) {
		vm->guest.resets++;
		rc = vh_vm_reset(b->h, vm, &err);
	} else {
		vm->guest.poweroffs++;
		rc = vh_vm_stop(b->h, vm, &err);
	}
	if (rc)
		vh_host_log(b->h, "VM \"%s\": %s", vm->cfg.name, err.reason);
	return VH_IO_STOPPED;
}

static enum vh_io_result power_off(struct vh_bus *b, const struct vh_dev_call *c)
{
	return c->power_action == VH_DEV_POWER_DEBUG_EXIT ? debug_exit(b, c) : guest_power(b, c);
}

enum vh_io_result vh_bus_finish(struct vh_bus *b, struct vh_dev_call *c, enum vh_io_result r)
{
	struct vh_vm *vm = b->vm;

	if (!vm)
		return VH_IO_STOPPED; /* undefined while the device ran */
	if (c->pending & VH_DEV_CALL_DEFER) {
		/* First: the wakes its interrupts ask for are done below. */
		c->pending &= ~(uint32_t)VH_DEV_CALL_DEFER;
		c->defer(c->defer_state, b, c);
	}
	if (c->pending & VH_DEV_CALL_EOI) {
		uint64_t wake = (c->pending & VH_DEV_CALL_WAKE) ? c->wake : 0;

		vh_ioapic_eoi(b, (uint8_t)c->eoi, &wake);
		if (wake) {
			c->wake = wake;
			c->pending |= VH_DEV_CALL_WAKE;
		}
	}
	if ((c->pending & VH_DEV_CALL_CONSOLE) && c->console_len) {
		b->console_mid_line = c->console[c->console_len - 1] != '\n';
		vh_vm_console_write(b->h, vm, c->console, c->console_len);
	}
	if (c->pending & VH_DEV_CALL_WAKE) {
		uint64_t now = b->h->plat->now_ns(b->h->plat->ctx);

		for (uint32_t i = 0; i < b->vcpus && i < 64; i++) {
			if (c->wake & (1ull << i))
				wake(b->h, &vm->vcpus[i], now);
		}
	}
	if ((c->pending & VH_DEV_CALL_POWER_OFF) && power_off(b, c) == VH_IO_STOPPED)
		r = VH_IO_STOPPED;
	c->pending = 0;
	return r;
}

void vh_bus_hold(struct vh_bus *b)
{
	vh_bus_sync(b);
	b->users++;
}

void vh_bus_release(struct vh_bus *b)
{
	if (--b->users == 0 && b->dead)
		vh_devices_free(b);
}
