/* SPDX-License-Identifier: Apache-2.0 */
/* A VM's devices: at define time the configured devices (vm->cfg.devices)
 * and the ones every PC has (the PICs, the local APICs, the IOAPIC, the
 * PCI host and its host bridge) register on the
 * VM's bus (vh/bus.h); the entry points below are the bus's accesses with
 * the host-lock work done after the device's lock is dropped.  Devices
 * reset themselves when the VM's boot generation moves (start, reset), so
 * the backends never have to remember to. */
#include "dev_internal.h"
#include "vh/acpi.h"
#include "vh/error.h"
#include "vh/layout.h"
#include "vh/string.h"

/* The port devices: which configured type brings them (0: always
 * there), their ports and where their state lives in struct vh_devices
 * (NO_STATE: none). */
#define NO_STATE SIZE_MAX
struct port_device {
	uint32_t cfg_type;
	const char *name;
	uint16_t first, last;
	bool byte_wide;
	vh_dev_io_fn io;
	vh_dev_reset_fn reset;
	size_t state;
};

static const struct port_device port_devices[] = {
	{ 0, "pic0", 0x20, 0x21, true, vh_pic_io, vh_pic_reset,
	  offsetof(struct vh_devices, pic[0]) },
	{ 0, "pic1", 0xa0, 0xa1, true, vh_pic_io, vh_pic_reset,
	  offsetof(struct vh_devices, pic[1]) },
	{ VH_DEV_DEBUG_EXIT, "isa-debug-exit", VH_DEBUG_EXIT_PORT, VH_DEBUG_EXIT_PORT + 3, false,
	  vh_debug_exit_io, NULL, NO_STATE },
	{ VH_DEV_UART16550, "uart16550", VH_COM1_PORT, VH_COM1_PORT + 7, true, vh_uart_io,
	  vh_uart_reset, offsetof(struct vh_devices, uart) },
	{ VH_DEV_FW_CFG, "fw_cfg", VH_FW_CFG_PORT_SEL, VH_FW_CFG_PORT_DATA, false, vh_fw_cfg_io,
	  vh_fw_cfg_reset, offsetof(struct vh_devices, fw_cfg) },
	/* The PC platform a stock kernel expects: power and reset, the
	 * keyboard controller's reset, the time of day. */
	{ 0, "acpi-pm", VH_ACPI_PM_BASE, VH_ACPI_PM_BASE + VH_ACPI_PM_LEN - 1, false, vh_acpi_pm_io,
	  vh_acpi_pm_reset, offsetof(struct vh_devices, acpi_pm) },
	{ 0, "cmos-rtc", VH_RTC_PORT, VH_RTC_PORT + 1, true, vh_rtc_io, vh_rtc_reset,
	  offsetof(struct vh_devices, rtc) },
};

/* The platform's interrupt controller and PCI host, on every VM: the
 * IOAPIC; the PCI host's configuration mechanism #1 (0xcf8 the address,
 * 0xcfc..0xcff the data at any width) and ECAM window; the host bridge
 * at 00:00.0, a device of its own (the host's lock is held when a
 * configuration access reaches it). */
static int attach_platform(struct vh_devices *d, struct vh_error *err)
{
	struct vh_bus *b = &d->bus;
	struct vh_bus_dev *dev = vh_bus_add_device(b, "ioapic", &d->ioapic, vh_ioapic_reset, err);

	if (!dev || vh_bus_add_mmio(b, dev, VH_LAYOUT_IOAPIC_BASE, VH_LAYOUT_IOAPIC_SIZE,
				    vh_ioapic_mmio, err))
		return err->code;
	d->ioapic_dev = dev;
	dev = vh_bus_add_device(b, "pci-host", &d->pci_host, vh_pci_host_reset, err);
	if (!dev ||
	    vh_bus_add_ports(b, dev, VH_PCI_CONFIG_ADDRESS, VH_PCI_CONFIG_DATA + 3, false,
			     vh_pci_host_ports, err) ||
	    vh_bus_add_mmio(b, dev, VH_LAYOUT_ECAM_BASE, VH_LAYOUT_ECAM_SIZE, vh_pci_host_ecam,
			    err))
		return err->code;
	vh_pci_alloc_init(&d->pci_mmio);
	vh_pci_bridge_init(&d->pci_bridge);
	dev = vh_bus_add_device(b, "pci-host-bridge", &d->pci_bridge, vh_pci_bridge_reset, err);
	if (!dev || vh_bus_add_pci(b, dev, 0, 0, vh_pci_bridge_cfg, err))
		return err->code;
	return VH_OK;
}

bool vh_devices_configured(const struct vh_vm *vm, uint32_t type)
{
	return type == 0 || vh_vm_has_device(vm, type);
}

static int attach(struct vh_devices *d, struct vh_vm *vm, struct vh_error *err)
{
	struct vh_bus *b = &d->bus;
	struct vh_bus_dev *dev;

	for (size_t i = 0; i < VH_ARRAY_SIZE(port_devices); i++) {
		const struct port_device *t = &port_devices[i];
		void *state = t->state == NO_STATE ? NULL : (char *)d + t->state;

		if (!vh_devices_configured(vm, t->cfg_type))
			continue;
		dev = vh_bus_add_device(b, t->name, state, t->reset, err);
		if (!dev || vh_bus_add_ports(b, dev, t->first, t->last, t->byte_wide, t->io, err))
			return err->code;
		if (i < 2)
			d->pic_dev[i] = dev;
	}
	/* The i8042's two ports are not contiguous: one device, two ranges. */
	dev = vh_bus_add_device(b, "i8042", &d->i8042, vh_i8042_reset, err);
	if (!dev ||
	    vh_bus_add_ports(b, dev, VH_I8042_DATA_PORT, VH_I8042_DATA_PORT, true, vh_i8042_data_io,
			     err) ||
	    vh_bus_add_ports(b, dev, VH_I8042_CMD_PORT, VH_I8042_CMD_PORT, true, vh_i8042_cmd_io,
			     err))
		return err->code;
	dev = vh_bus_add_device(b, "local APIC", &d->lapics, vh_lapics_reset, err);
	if (!dev || vh_bus_add_mmio(b, dev, VH_LAPIC_BASE, VH_LAPIC_SIZE, vh_lapic_mmio, err))
		return err->code;
	d->lapics.dev = dev;
	return attach_platform(d, err);
}

int vh_devices_create(struct vh_host *h, struct vh_vm *vm, struct vh_error *err)
{
	struct vh_devices *d = h->plat->alloc(h->plat->ctx, sizeof(*d));
	int rc;

	if (!d)
		return vh_error_set(err, VH_E_NOMEM, "no hypervisor memory for VM \"%s\"'s devices",
				    vm->cfg.name);
	vh_bus_init(&d->bus, h, vm, vm->cfg.vcpus);
	d->lapics.n = vm->cfg.vcpus;
	d->lapics.a = h->plat->alloc(h->plat->ctx, sizeof(*d->lapics.a) * vm->cfg.vcpus);
	if (!d->lapics.a) {
		h->plat->free(h->plat->ctx, d, sizeof(*d));
		return vh_error_set(err, VH_E_NOMEM,
				    "no hypervisor memory for VM \"%s\"'s devices (local APICs)",
				    vm->cfg.name);
	}
	rc = attach(d, vm, err);
	if (rc) {
		vh_devices_free(&d->bus);
		return rc;
	}
	vm->devices = d;
	vh_bus_reset(&d->bus);
	return VH_OK;
}

void vh_devices_free(struct vh_bus *b)
{
	struct vh_devices *d = vh_devices_of(b);
	const struct vh_platform *p = b->h->plat;

	p->free(p->ctx, d->lapics.a, sizeof(*d->lapics.a) * d->lapics.n);
	p->free(p->ctx, d, sizeof(*d));
}

void vh_devices_destroy(struct vh_host *h, struct vh_vm *vm)
{
	struct vh_devices *d = vm->devices;

	(void)h;
	if (!d)
		return;
	vm->devices = NULL;
	/* A vCPU still in a device call with the host lock dropped frees it
	 * when it comes back (vh_bus_release). */
	d->bus.vm = NULL;
	d->bus.dead = true;
	if (!d->bus.users)
		vh_devices_free(&d->bus);
}

void vh_devices_reset(struct vh_host *h, struct vh_vm *vm)
{
	(void)h;
	vh_bus_reset(&vm->devices->bus);
}

struct vh_bus *vh_devices_bus(struct vh_vm *vm)
{
	return vm->devices ? &vm->devices->bus : NULL;
}

enum vh_io_result vh_devices_io(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				uint16_t port, unsigned size, bool is_write, uint32_t *value)
{
	uint64_t v = *value;
	enum vh_io_result r =
	    vh_devices_access(h, vm, vcpu, false, port, size, is_write, &v, false);

	*value = (uint32_t)v;
	return r;
}

enum vh_io_result vh_devices_mmio(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
				  uint64_t gpa, unsigned size, bool is_write, uint64_t *value)
{
	return vh_devices_access(h, vm, vcpu, true, gpa, size, is_write, value, false);
}
