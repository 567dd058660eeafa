/* SPDX-License-Identifier: Apache-2.0 */
/* The device bus: registration and overlap refusal, lookup at range
 * edges, the empty bus's answer, the device's lock (and not the host
 * lock) around its handler, MSI and the PIC's line to the right local
 * APIC, PCI functions. */
#include "mem_env.h"
#include "vh/bus.h"
#include "vh/lapic.h"
#include "vh/vcpu_io.h"

struct bus_env {
	struct mem_env m;
	struct vh_vm *vm;
	struct vh_bus *bus;
};

static void bus_env_init(struct bus_env *e, uint32_t vcpus)
{
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };

	mem_env_init(&e->m, 64);
	vh_vm_config_default(&cfg);
	snprintf(cfg.name, sizeof(cfg.name), "b");
	cfg.memory_mib = 4;
	cfg.vcpus = vcpus;
	e->vm = vh_vm_define(&e->m.h, &cfg, &err);
	if (!e->vm || vh_vm_start(&e->m.h, e->vm, &err))
		VH_FAIL("vm: %s", err.reason);
	e->bus = vh_devices_bus(e->vm);
	VH_ASSERT(e->bus != NULL);
}

/* A test device: records how it was called and does what it is told. */
struct probe {
	struct bus_env *e;
	struct vh_bus_dev *dev;
	unsigned calls;
	bool lock_held, host_lock_free;
	uint64_t offset, value;
	unsigned size;
	unsigned resets, resets_seen; /* resets so far, and at the last call */
	int wake;                     /* a write wakes this vCPU, -1: none */
	uint64_t msi_address;
	uint32_t msi_data;
	bool msi_ok;
	int irq_line; /* a write raises this line, -1: none */
	const char *print;
};

static enum vh_io_result probe_io(void *state, const struct vh_dev_access *a)
{
	struct probe *p = state;

	p->calls++;
	p->lock_held = vh_lock_held(&p->dev->lock);
	p->host_lock_free = p->e->m.sp.lock_depth == 0;
	p->offset = a->offset;
	p->size = a->size;
	p->resets_seen = p->resets;
	if (!a->is_write) {
		*a->value = 0x1234 + a->offset;
		return VH_IO_HANDLED;
	}
	if (p->msi_address)
		p->msi_ok = vh_dev_msi(a, p->msi_address, p->msi_data);
	if (p->irq_line >= 0) {
		vh_dev_irq(a, (unsigned)p->irq_line, true);
		vh_dev_irq(a, (unsigned)p->irq_line, false);
	}
	if (p->print)
		vh_dev_console(a, p->print, strlen(p->print));
	if (p->wake >= 0)
		vh_dev_wake(a, (uint32_t)p->wake);
	p->value = *a->value;
	return VH_IO_HANDLED;
}

static void probe_reset(void *state, const struct vh_bus *bus)
{
	(void)bus;
	((struct probe *)state)->resets++;
}

static struct probe *probe_add(struct bus_env *e, struct probe *p)
{
	struct vh_error err = { 0 };

	*p = (struct probe){ .e = e, .irq_line = -1, .wake = -1 };
	p->dev = vh_bus_add_device(e->bus, "probe", p, probe_reset, &err);
	VH_EXPECT(p->dev != NULL);
	return p;
}

VH_TEST(bus, overlapping_ranges_are_refused_naming_both_devices)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };

	bus_env_init(&e, 1);
	probe_add(&e, &p);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x100, 0x103, false, probe_io, &err), VH_OK);
	/* The last port of the new range on the first of the old. */
	VH_EXPECT_EQ(vh_bus_add_ports(e.bus, p.dev, 0xfe, 0x100, false, probe_io, &err),
		     VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "overlaps probe's 0x100..0x103") != NULL);
	/* The UART the VM's config brought. */
	VH_EXPECT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x3ff, 0x3ff, false, probe_io, &err),
		     VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "uart16550") != NULL);
	VH_EXPECT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x200, 0x1ff, false, probe_io, &err),
		     VH_E_INVAL);
	/* The local APIC's page, and an MMIO range that wraps. */
	VH_EXPECT_EQ(vh_bus_add_mmio(e.bus, p.dev, VH_LAPIC_BASE + 0xff0, 0x20, probe_io, &err),
		     VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "local APIC") != NULL);
	VH_EXPECT_EQ(vh_bus_add_mmio(e.bus, p.dev, ~0ull - 3, 8, probe_io, &err), VH_E_INVAL);
	/* Right next to it on both sides is fine, and nothing moved. */
	VH_EXPECT_EQ(vh_bus_add_ports(e.bus, p.dev, 0xfc, 0xff, false, probe_io, &err), VH_OK);
	VH_EXPECT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x104, 0x104, false, probe_io, &err), VH_OK);
	VH_EXPECT_EQ(
	    vh_bus_add_mmio(e.bus, p.dev, VH_LAPIC_BASE + VH_LAPIC_SIZE, 16, probe_io, &err),
	    VH_OK);
	for (uint32_t i = 1; i < e.bus->port.n; i++)
		VH_EXPECT_GT(e.bus->port.r[i].first, e.bus->port.r[i - 1].last);
	mem_env_fini(&e.m);
}

VH_TEST(bus, lookup_at_the_edges_of_ranges)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };
	const struct vh_bus_range *r;

	bus_env_init(&e, 1);
	probe_add(&e, &p);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x400, 0x40f, false, probe_io, &err), VH_OK);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x410, 0x410, false, probe_io, &err), VH_OK);
	r = vh_bus_find(&e.bus->port, 0x400);
	VH_ASSERT(r != NULL);
	VH_EXPECT_EQ(r->first, 0x400u);
	VH_EXPECT(vh_bus_find(&e.bus->port, 0x40f) == r);
	VH_EXPECT(vh_bus_find(&e.bus->port, 0x3ff) != r); /* the UART's last port */
	VH_EXPECT_EQ(vh_bus_find(&e.bus->port, 0x3ff)->first, 0x3f8u);
	VH_EXPECT_EQ(vh_bus_find(&e.bus->port, 0x410)->first, 0x410u);
	VH_EXPECT(vh_bus_find(&e.bus->port, 0x411) == NULL);
	VH_EXPECT(vh_bus_find(&e.bus->port, 0x3f7) == NULL);
	/* Every port of every range, from both ends of the table: the
	 * last-hit cache never answers for a neighbour. */
	for (uint32_t port = 0; port < 0x600; port++) {
		r = vh_bus_find(&e.bus->port, port);
		if (r)
			VH_EXPECT(port >= r->first && port <= r->last);
	}
	VH_EXPECT(vh_bus_find(&e.bus->mmio, VH_LAPIC_BASE - 1) == NULL);
	VH_EXPECT(vh_bus_find(&e.bus->mmio, VH_LAPIC_BASE) != NULL);
	VH_EXPECT(vh_bus_find(&e.bus->mmio, VH_LAPIC_BASE + VH_LAPIC_SIZE - 1) != NULL);
	VH_EXPECT(vh_bus_find(&e.bus->mmio, VH_LAPIC_BASE + VH_LAPIC_SIZE) == NULL);
	/* A call reaches the device with the offset in its range. */
	uint32_t v = 0;
	VH_EXPECT_EQ((int)vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x40f, 1, false, &v, false),
		     (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(v, 0x1234u + 0xf);
	VH_EXPECT_EQ(p.offset, (uint64_t)0xf);
	mem_env_fini(&e.m);
}

/* The claimed-bucket bits: a range that straddles buckets marks each one
 * it touches, so every claimed port is still found, and a port no range
 * claims is not, whether its bucket is empty or shared with a range. */
VH_TEST(bus, port_buckets_agree_with_the_ranges)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };

	bus_env_init(&e, 1);
	probe_add(&e, &p);
	/* 0x4fe..0x521: three buckets, neither end aligned; 0xfff0..0xffff:
	 * the last bucket. */
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x4fe, 0x521, false, probe_io, &err), VH_OK);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0xfff0, 0xffff, false, probe_io, &err), VH_OK);
	for (uint32_t port = 0; port <= 0xffff; port++) {
		const struct vh_bus_range *r = vh_bus_find(&e.bus->port, port);
		bool claimed = false;

		for (uint32_t i = 0; i < e.bus->port.n; i++)
			claimed |= port >= e.bus->port.r[i].first && port <= e.bus->port.r[i].last;
		if (claimed != (r != NULL) || (r && (port < r->first || port > r->last)))
			VH_FAIL("port %#x: found %p, claimed %d", port, (const void *)r, claimed);
	}
	VH_EXPECT(vh_bus_find(&e.bus->port, 0x80) == NULL);
	VH_EXPECT(vh_bus_find(&e.bus->port, 0x4fd) == NULL); /* its bucket is claimed */
	mem_env_fini(&e.m);
}

/* An entry past a map's ranges answers for no address: the last-hit
 * hint starts there on an empty map and is tested with no bound check. */
VH_TEST(bus, an_empty_map_answers_for_no_address)
{
	struct bus_env e;
	struct vh_bus *b;

	bus_env_init(&e, 1);
	b = calloc(1, sizeof(*b));
	VH_ASSERT(b != NULL);
	vh_bus_init(b, &e.m.h, e.vm, 1);
	VH_EXPECT_EQ(b->port.n, 0u);
	for (uint64_t addr = 0; addr < 0x10000; addr++)
		if (vh_bus_find(&b->port, addr))
			VH_FAIL("port %#llx found on an empty bus", (unsigned long long)addr);
	VH_EXPECT(vh_bus_find(&b->mmio, 0) == NULL);
	VH_EXPECT(vh_bus_find(&b->mmio, ~0ull) == NULL);
	free(b);
	mem_env_fini(&e.m);
}

static enum vh_io_result port(struct bus_env *e, uint16_t port, unsigned size, bool is_write,
			      uint32_t *v)
{
	return vh_vcpu_port(&e->m.h, e->vm, &e->vm->vcpus[0], port, size, is_write, v, false);
}

/* Bare metal's port exit takes a short way when the port is in the range
 * the last access hit; it keeps every rule of the long one: the device's
 * lock and not the host lock, a write's value cut to its size, the
 * console bytes and wakes done after the call, the devices reset first
 * when the boot generation moved, a byte-wide device's wide access split,
 * odd sizes and a neighbouring port no device claims unanswered and
 * counted. */
VH_TEST(bus, the_port_exit_short_way_keeps_the_bus_rules)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };
	struct vh_sched_pick pick;
	uint32_t v;
	unsigned resets;

	bus_env_init(&e, 1);
	probe_add(&e, &p);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x500, 0x503, false, probe_io, &err), VH_OK);
	for (unsigned i = 0; i < 3; i++) {
		p.lock_held = p.host_lock_free = false;
		v = 0x1a5 + i;
		VH_EXPECT_EQ((int)port(&e, 0x501, 1, true, &v), (int)VH_IO_HANDLED);
		/* From the second on, the hint holds the range. */
		VH_EXPECT_EQ(e.bus->port.hit->first, 0x500u);
		VH_EXPECT(p.lock_held);
		VH_EXPECT(p.host_lock_free);
		VH_EXPECT(!vh_lock_held(&p.dev->lock));
		VH_EXPECT_EQ(p.offset, (uint64_t)1);
		VH_EXPECT_EQ(p.size, 1u);
		VH_EXPECT_EQ(p.value, (uint64_t)(0xa5 + i));
	}
	VH_EXPECT_EQ(p.calls, 3u);
	/* Wider accesses reach a device that is not byte-wide whole. */
	v = 0xdeadbeef;
	VH_EXPECT_EQ((int)port(&e, 0x500, 4, true, &v), (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(p.size, 4u);
	VH_EXPECT_EQ(p.value, (uint64_t)0xdeadbeef);
	v = 0x12345;
	VH_EXPECT_EQ((int)port(&e, 0x502, 2, true, &v), (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(p.value, (uint64_t)0x2345);
	VH_EXPECT_EQ((int)port(&e, 0x500, 2, false, &v), (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(v, 0x1234u);
	/* An odd size and the port next to the range: nobody's. */
	VH_EXPECT_EQ(p.calls, 6u);
	VH_EXPECT_EQ((int)port(&e, 0x500, 3, true, &v), (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ((int)port(&e, 0x504, 1, false, &v), (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ(v, 0xffffffffu);
	VH_EXPECT_EQ(p.calls, 6u);
	VH_EXPECT_EQ(e.vm->guest.io_unhandled, (uint64_t)2);
	/* Console bytes and a wake, done under the host lock after the
	 * call: vCPU 0 is on a pCPU, so it is told not to halt and kicked. */
	pick = vh_sched_next(&e.m.h, 0, e.m.sp.now_ns, NULL, VH_SCHED_PREEMPTED, 0);
	VH_ASSERT(pick.vcpu == &e.vm->vcpus[0]);
	VH_ASSERT(!pick.vcpu->sched.wake_pending);
	p.print = "short\n";
	p.wake = 0;
	VH_EXPECT_EQ((int)port(&e, 0x503, 1, true, &v), (int)VH_IO_HANDLED);
	VH_EXPECT(strstr(e.m.sp.console, "b: short\n") != NULL);
	VH_EXPECT(pick.vcpu->sched.wake_pending);
	VH_EXPECT_EQ(e.m.sp.kicks[0], 1u);
	VH_EXPECT_EQ(e.m.sp.lock_depth, 0);
	p.print = NULL;
	p.wake = -1;
	/* A reset moves the boot generation: the device is reset before the
	 * next access reaches it, once. */
	resets = p.resets;
	VH_ASSERT_EQ(vh_vm_reset(&e.m.h, e.vm, &err), VH_OK);
	VH_EXPECT_EQ(e.bus->port.hit->first, 0x500u);
	VH_EXPECT_EQ((int)port(&e, 0x501, 1, true, &v), (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(p.resets_seen, resets + 1);
	VH_EXPECT_EQ((int)port(&e, 0x501, 1, true, &v), (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(p.resets, resets + 1);
	/* The UART is byte-wide: once its range is the hint, a 16-bit read
	 * of its last port is still split (the byte past it reads ones). */
	v = 0x5a;
	VH_EXPECT_EQ((int)port(&e, 0x3ff, 1, true, &v), (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(e.bus->port.hit->first, 0x3f8u);
	VH_EXPECT_EQ((int)port(&e, 0x3ff, 2, false, &v), (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(v, 0xff5au);
	mem_env_fini(&e.m);
}

VH_TEST(bus, nothing_there_reads_all_ones_drops_writes_and_counts)
{
	struct bus_env e;
	uint32_t v = 0x12;
	uint64_t w = 0x12;

	bus_env_init(&e, 1);
	VH_EXPECT_EQ((int)vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x80, 1, true, &v, false),
		     (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ((int)vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x80, 4, false, &v, false),
		     (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ(v, 0xffffffffu);
	/* The hole between the firmware room and the IOAPIC: nothing. */
	VH_EXPECT_EQ(
	    (int)vh_vcpu_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], 0xf8000000, 4, false, &w, false),
	    (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ(w, ~0ull);
	/* An MMIO access that runs past the APIC's page is not the APIC's. */
	w = 0;
	VH_EXPECT_EQ((int)vh_vcpu_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], VH_LAPIC_BASE + 0xffc, 8,
				       false, &w, false),
		     (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ(e.vm->guest.io_unhandled, (uint64_t)4);
	mem_env_fini(&e.m);
}

VH_TEST(bus, the_handler_runs_under_its_lock_not_the_host_lock)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };
	uint32_t v = 'x';
	uint64_t w = 0;

	bus_env_init(&e, 1);
	probe_add(&e, &p);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x500, 0x500, false, probe_io, &err), VH_OK);
	VH_ASSERT_EQ(vh_bus_add_mmio(e.bus, p.dev, 0xfed00000, 0x1000, probe_io, &err), VH_OK);
	p.print = "hi\n";
	/* As bare metal calls it (no host lock held)... */
	VH_EXPECT_EQ((int)vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false),
		     (int)VH_IO_HANDLED);
	VH_EXPECT(p.lock_held);
	VH_EXPECT(p.host_lock_free);
	/* ...and as vh-hosted does (host lock held: dropped around it). */
	p.lock_held = p.host_lock_free = false;
	e.m.h.plat->lock(e.m.h.plat->ctx);
	VH_EXPECT_EQ(
	    (int)vh_vcpu_mmio(&e.m.h, e.vm, &e.vm->vcpus[0], 0xfed00010, 4, true, &w, true),
	    (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(e.m.sp.lock_depth, 1);
	e.m.h.plat->unlock(e.m.h.plat->ctx);
	VH_EXPECT(p.lock_held);
	VH_EXPECT(p.host_lock_free);
	VH_EXPECT_EQ(p.calls, 2u);
	VH_EXPECT_EQ(p.offset, (uint64_t)0x10);
	/* Released after the call; what it printed reached the console
	 * (under the host lock, after its own). */
	VH_EXPECT(!vh_lock_held(&p.dev->lock));
	VH_EXPECT_STREQ(e.m.sp.console, "b: hi\nb: hi\n");
	mem_env_fini(&e.m);
}

static void apic_enable(struct bus_env *e, uint32_t cpu)
{
	uint64_t v = 0x1ff;

	VH_EXPECT_EQ((int)vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[cpu], VH_LAPIC_BASE + 0xf0,
					  4, true, &v),
		     (int)VH_IO_HANDLED);
}

/* Is vector latched in cpu's IRR?  (APs wait for their SIPI, so
 * vh_lapic_pending() would not say.) */
static bool irr_has(struct bus_env *e, uint32_t cpu, uint8_t vector)
{
	uint64_t v = 0;

	vh_devices_mmio(&e->m.h, e->vm, &e->vm->vcpus[cpu],
			VH_LAPIC_BASE + 0x200 + (vector >> 5) * 0x10, 4, false, &v);
	return (v >> (vector & 31)) & 1;
}

VH_TEST(bus, an_msi_reaches_the_apic_it_names)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };
	uint32_t v = 0;

	bus_env_init(&e, 3);
	for (uint32_t i = 0; i < 3; i++)
		apic_enable(&e, i);
	probe_add(&e, &p);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x500, 0x500, false, probe_io, &err), VH_OK);
	/* Physical destination 2, fixed, vector 0x45. */
	p.msi_address = 0xfee00000u | (2u << 12);
	p.msi_data = 0x45;
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT(p.msi_ok);
	VH_EXPECT(irr_has(&e, 2, 0x45));
	VH_EXPECT(!irr_has(&e, 0, 0x45));
	VH_EXPECT(!irr_has(&e, 1, 0x45));
	/* Broadcast (destination 0xff) reaches them all. */
	p.msi_address = 0xfee00000u | (0xffu << 12);
	p.msi_data = 0x51;
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	for (uint32_t i = 0; i < 3; i++)
		VH_EXPECT(irr_has(&e, i, 0x51));
	/* Outside 0xfeeXXXXX, a vector below 16, an absent APIC, NMI mode:
	 * refused, nothing raised. */
	p.msi_data = 0x60;
	p.msi_address = 0xfed00000u;
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT(!p.msi_ok);
	p.msi_address = 0xfee00000u | (7u << 12);
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT(!p.msi_ok);
	p.msi_address = 0xfee00000u;
	p.msi_data = 0x0f;
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT(!p.msi_ok);
	p.msi_data = 0x460; /* delivery mode 4: NMI */
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT(!p.msi_ok);
	VH_EXPECT(!irr_has(&e, 0, 0x60) && !irr_has(&e, 0, 0x0f));
	mem_env_fini(&e.m);
}

static void pic_out(struct bus_env *e, uint16_t port, uint32_t v)
{
	VH_EXPECT_EQ((int)vh_devices_io(&e->m.h, e->vm, &e->vm->vcpus[0], port, 1, true, &v),
		     (int)VH_IO_HANDLED);
}

VH_TEST(bus, an_irq_line_goes_through_the_pic_to_the_boot_apic)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };
	uint32_t v = 0;

	bus_env_init(&e, 2);
	apic_enable(&e, 0);
	apic_enable(&e, 1);
	probe_add(&e, &p);
	VH_ASSERT_EQ(vh_bus_add_ports(e.bus, p.dev, 0x500, 0x500, false, probe_io, &err), VH_OK);
	/* Not initialised: nothing. */
	p.irq_line = 4;
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT_EQ(vh_lapic_pending(&e.m.h, e.vm, &e.vm->vcpus[0]), -1);
	/* ICW1..ICW4 with vectors from 0x30, then everything but line 4
	 * masked. */
	pic_out(&e, 0x20, 0x11);
	pic_out(&e, 0x21, 0x30);
	pic_out(&e, 0x21, 0x04);
	pic_out(&e, 0x21, 0x01);
	pic_out(&e, 0x21, 0xef);
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT_EQ(vh_lapic_pending(&e.m.h, e.vm, &e.vm->vcpus[0]), 0x34);
	VH_EXPECT(!irr_has(&e, 1, 0x34));
	/* A masked line raises nothing. */
	vh_lapic_ack(&e.m.h, e.vm, &e.vm->vcpus[0], 0x34);
	p.irq_line = 3;
	vh_vcpu_port(&e.m.h, e.vm, &e.vm->vcpus[0], 0x500, 1, true, &v, false);
	VH_EXPECT_EQ(vh_lapic_pending(&e.m.h, e.vm, &e.vm->vcpus[0]), -1);
	mem_env_fini(&e.m);
}

static enum vh_io_result cfg_space(void *state, const struct vh_dev_access *a)
{
	(void)state;
	if (!a->is_write)
		*a->value = a->offset == 0 ? 0x10001af4u : 0; /* vendor, device */
	return VH_IO_HANDLED;
}

VH_TEST(bus, a_pci_function_is_registered_and_found)
{
	struct bus_env e;
	struct probe p;
	struct vh_error err = { 0 };
	struct vh_dev_call c = { 0 };
	uint64_t v = 0;

	bus_env_init(&e, 1);
	probe_add(&e, &p);
	VH_EXPECT(vh_bus_find_pci(e.bus, 3, 1) == NULL);
	VH_ASSERT_EQ(vh_bus_add_pci(e.bus, p.dev, 3, 1, cfg_space, &err), VH_OK);
	VH_EXPECT(vh_bus_find_pci(e.bus, 3, 1) != NULL);
	VH_EXPECT(vh_bus_find_pci(e.bus, 3, 0) == NULL);
	VH_EXPECT(vh_bus_find_pci(e.bus, 32, 0) == NULL);
	/* Taken, or out of range: refused. */
	VH_EXPECT_EQ(vh_bus_add_pci(e.bus, p.dev, 3, 1, cfg_space, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "00:03.1 is probe's") != NULL);
	VH_EXPECT_EQ(vh_bus_add_pci(e.bus, p.dev, 3, 8, cfg_space, &err), VH_E_INVAL);
	VH_EXPECT_EQ((int)vh_bus_pci_config(e.bus, &c, 0, 0, 3, 1, 0, 4, false, &v),
		     (int)VH_IO_HANDLED);
	VH_EXPECT_EQ(v, 0x10001af4u);
	VH_EXPECT_EQ((int)vh_bus_pci_config(e.bus, &c, 0, 0, 3, 2, 0, 4, false, &v),
		     (int)VH_IO_UNHANDLED);
	VH_EXPECT_EQ((int)vh_bus_pci_config(e.bus, &c, 0, 1, 3, 1, 0, 4, false, &v),
		     (int)VH_IO_UNHANDLED);
	mem_env_fini(&e.m);
}
