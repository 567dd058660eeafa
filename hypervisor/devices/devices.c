/* SPDX-License-Identifier: Apache-2.0 */
/* Per-VM device state, the port dispatch table and the MMIO entry.  At define time the
 * VM's configured devices (vm->cfg.devices) and the ones every PC has
 * (the PIC mask registers) become a small sorted table of port ranges;
 * an access finds its range and calls that device's handler.  Devices
 * reset themselves when the VM's boot generation moves (start, reset), so
 * the backends never have to remember to. */
#include "dev_internal.h"
#include "vh/string.h"

/* Which port ranges each device type brings (cfg type 0: always there),
 * with the handler and where its state lives in struct vh_devices
 * (NO_STATE: none). */
#define NO_STATE SIZE_MAX
struct port_template {
	uint32_t cfg_type;
	uint16_t first, last;
	bool byte_wide;
	vh_port_io_fn io;
	size_t state;
};

static const struct port_template templates[] = {
	{ 0, 0x20, 0x21, true, vh_pic_io, offsetof(struct vh_devices, pic[0]) },
	{ 0, 0xa0, 0xa1, true, vh_pic_io, offsetof(struct vh_devices, pic[1]) },
	{ VH_DEV_DEBUG_EXIT, VH_DEBUG_EXIT_PORT, VH_DEBUG_EXIT_PORT + 3, false, vh_debug_exit_io,
	  NO_STATE },
	{ VH_DEV_UART16550, VH_COM1_PORT, VH_COM1_PORT + 7, true, vh_uart_io,
	  offsetof(struct vh_devices, uart) },
	{ VH_DEV_FW_CFG, VH_FW_CFG_PORT_SEL, VH_FW_CFG_PORT_DATA, false, vh_fw_cfg_io,
	  offsetof(struct vh_devices, fw_cfg) },
};

VH_STATIC_ASSERT(VH_ARRAY_SIZE(templates) <= VH_DEV_MAX_RANGES, "dispatch table too small");

static bool configured(const struct vh_vm *vm, uint32_t type)
{
	if (type == 0)
		return true;
	for (uint32_t i = 0; i < vm->cfg.ndevices; i++) {
		if (vm->cfg.devices[i].type == type)
			return true;
	}
	return false;
}

int vh_devices_create(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	struct vh_devices *d = h->plat->alloc(h->plat->ctx, sizeof(*d));

	if (!d)
		return vh_error_set(err, VH_E_NOMEM, "no hypervisor memory for VM \"%s\"'s devices",
				    vm->cfg.name);
	/* The templates are in port order, so the table is sorted. */
	for (size_t i = 0; i < VH_ARRAY_SIZE(templates); i++) {
		const struct port_template *t = &templates[i];

		if (configured(vm, t->cfg_type))
			d->ranges[d->nranges++] = (struct vh_port_range){
				t->first, t->last, t->byte_wide, t->io,
				t->state == NO_STATE ? NULL : (char *)d + t->state
			};
	}
	d->lapic = h->plat->alloc(h->plat->ctx, sizeof(*d->lapic) * vm->cfg.vcpus);
	if (!d->lapic) {
		h->plat->free(h->plat->ctx, d, sizeof(*d));
		return vh_error_set(err, VH_E_NOMEM,
				    "no hypervisor memory for VM \"%s\"'s devices (local APICs)",
				    vm->cfg.name);
	}
	vm->devices = d;
	vh_devices_reset(h, vm);
	return VH_OK;
}

void vh_devices_destroy(struct vh_host *h, struct vh_vm *vm)
{
	if (!vm->devices)
		return;
	h->plat->free(h->plat->ctx, vm->devices->lapic,
		      sizeof(*vm->devices->lapic) * vm->cfg.vcpus);
	h->plat->free(h->plat->ctx, vm->devices, sizeof(*vm->devices));
	vm->devices = NULL;
}

void vh_devices_reset(struct vh_host *h, struct vh_vm *vm)
{
	struct vh_devices *d = vm->devices;

	(void)h;
	vh_uart_reset(&d->uart);
	vh_fw_cfg_reset(&d->fw_cfg, vm);
	vh_pic_reset(&d->pic[0]);
	vh_pic_reset(&d->pic[1]);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		vh_lapic_reset(&d->lapic[i], i);
	d->console_mid_line = false;
	d->generation = vm->boot_generation;
}

void vh_dev_console(struct vh_host *h, struct vh_vm *vm, const char *bytes, size_t n)
{
	if (!n)
		return;
	vm->devices->console_mid_line = bytes[n - 1] != '\n';
	vh_vm_console_write(h, vm, bytes, n);
}

void vh_devices_sync(struct vh_host *h, struct vh_vm *vm)
{
	if (vm->devices->generation != vm->boot_generation)
		vh_devices_reset(h, vm);
}

static const struct vh_port_range *find_range(struct vh_devices *d, uint16_t port)
{
	const struct vh_port_range *hit = &d->ranges[d->last_hit];

	if (d->last_hit < d->nranges && port >= hit->first && port <= hit->last)
		return hit;
	for (uint32_t i = 0; i < d->nranges; i++) {
		if (port < d->ranges[i].first)
			break; /* sorted */
		if (port <= d->ranges[i].last) {
			d->last_hit = i;
			return &d->ranges[i];
		}
	}
	return NULL;
}

/* A byte-wide device sees a wider access as consecutive byte accesses, as
 * the ISA bus splits them; bytes past the range read as ones and are
 * dropped on writes.  Rare (guests use byte I/O on such devices), so kept
 * out of the exit path's way. */
static __attribute__((noinline)) enum vh_io_result
split_wide(const struct vh_port_range *r, struct vh_dev_access *a,
	   uint16_t port)
{
	uint32_t in = a->is_write ? *a->value : 0, out = 0, *value = a->value;
	unsigned size = a->size;
	enum vh_io_result res = VH_IO_HANDLED;

	for (unsigned i = 0; i < size && res == VH_IO_HANDLED; i++) {
		uint32_t byte = (in >> (8 * i)) & 0xff;
		uint32_t p = (uint32_t)port + i;

		if (p > r->last) {
			byte = 0xff;
		} else {
			a->offset = (uint16_t)(p - r->first);
			a->size = 1;
			a->value = &byte;
			res = r->io(r->dev, a);
		}
		out |= (byte & 0xff) << (8 * i);
	}
	if (!a->is_write)
		*value = out;
	return res;
}

/* Operand masks by size - 1 (sizes 1, 2 and 4 only). */
static const uint32_t size_masks[4] = { 0xffu, 0xffffu, 0, 0xffffffffu };

enum vh_io_result vh_devices_io(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
	struct vh_devices *d = vm->devices;
	const struct vh_port_range *r;
	struct vh_dev_access a = { h, vm, vcpu, 0, size, is_write, value };

	if (!d || (size != 1 && size != 2 && size != 4))
		return VH_IO_UNHANDLED;
	if (__builtin_expect(d->generation != vm->boot_generation, 0))
		vh_devices_reset(h, vm);
	r = find_range(d, port);
	if (!r)
		return VH_IO_UNHANDLED;
	if (is_write)
		*value &= size_masks[size - 1];
	if (r->byte_wide && size != 1)
		return split_wide(r, &a, port);
	a.offset = (uint16_t)(port - r->first);
	return r->io(r->dev, &a);
}

enum vh_io_result vh_devices_mmio(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				  uint64_t gpa, unsigned size, bool is_write, uint64_t *value)
{
	if (!vm->devices || (size != 1 && size != 2 && size != 4 && size != 8))
		return VH_IO_UNHANDLED;
	vh_devices_sync(h, vm);
	/* Each vCPU sees its own APIC at the same address. */
	if (gpa >= VH_LAPIC_BASE && gpa - VH_LAPIC_BASE < VH_LAPIC_SIZE &&
	    gpa - VH_LAPIC_BASE + size <= VH_LAPIC_SIZE)
		return vh_lapic_mmio(h, vm, vcpu, gpa - VH_LAPIC_BASE, size, is_write, value);
	return VH_IO_UNHANDLED;
}
