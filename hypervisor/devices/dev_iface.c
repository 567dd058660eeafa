/* SPDX-License-Identifier: Apache-2.0 */
/* The narrow interface of vh/bus.h: all a device may ask of the rest of
 * the hypervisor.  Interrupts go straight to the PIC, IOAPIC and local
 * APIC models under their locks; what needs the host lock (console, power
 * off, wakes) is left in the call for vh_bus_finish(). */
#include "dev_internal.h"
#include "vh/error.h"
#include "vh/mem.h"
#include "vh/string.h"

void vh_dev_irq(const struct vh_dev_access *a, unsigned line, bool level)
{
	struct vh_devices *d = vh_devices_of(a->bus);
	const struct vh_platform *p = a->bus->h->plat;
	unsigned chip = line >> 3, pin = line & 7;
	struct vh_pic *pic;
	int vector = -1;
	bool rose;

	if (line >= 16)
		return;
	pic = &d->pic[chip];
	uint64_t io_wakes = 0;
	vh_ioapic_line(a->bus, vh_isa_irq_gsi(line) - VH_IOAPIC_GSI_BASE, level, &io_wakes);
	vh_dev_wake_mask(a, io_wakes);
	if (!d->pic_dev[chip])
		return;
	vh_lock_take(p, &d->pic_dev[chip]->lock);
	/* Edge-triggered, as the PC's PICs are set up: a rising edge
	 * requests the interrupt. */
	rose = level && !(pic->level & (1u << pin));
	pic->level = (uint8_t)(level ? pic->level | (1u << pin) : pic->level & ~(1u << pin));
	if (rose)
		vector = vh_pic_line(pic, pin);
	vh_lock_drop(&d->pic_dev[chip]->lock);
	if (vector >= 0 && chip == 1) {
		/* The slave reaches the CPU through the master's line 2. */
		vh_lock_take(p, &d->pic_dev[0]->lock);
		if (vh_pic_line(&d->pic[0], 2) < 0)
			vector = -1;
		vh_lock_drop(&d->pic_dev[0]->lock);
	}
	if (vector >= 0) {
		uint64_t wakes = 0;

		vh_lapic_extint(a->bus, (uint8_t)vector, &wakes);
		vh_dev_wake_mask(a, wakes);
	}
}

void vh_dev_gsi(const struct vh_dev_access *a, unsigned gsi, bool level)
{
	uint64_t wakes = 0;

	/* The one IOAPIC's GSI base is 0: a GSI is its pin. */
	if (gsi >= VH_IOAPIC_GSI_BASE + VH_IOAPIC_PINS)
		return;
	vh_ioapic_line(a->bus, gsi, level, &wakes);
	vh_dev_wake_mask(a, wakes);
}

void vh_dev_defer(const struct vh_dev_access *a, vh_dev_defer_fn fn, void *state)
{
	a->call->defer = fn;
	a->call->defer_state = state;
	a->call->pending |= VH_DEV_CALL_DEFER;
}

bool vh_dev_msi(const struct vh_dev_access *a, uint64_t address, uint32_t data)
{
	uint64_t wakes = 0;
	bool named = vh_lapic_msi(a->bus, address, data, &wakes);

	vh_dev_wake_mask(a, wakes);
	return named;
}

static int mem_copy(struct vh_bus *b, uint64_t gpa, void *buf, size_t n, bool write)
{
	const struct vh_platform *p = b->h->plat;
	struct vh_error err;
	int rc = -1;

	p->lock(p->ctx);
	if (b->vm && vh_mem_guest_range_ok(b->vm, gpa, n))
		rc = (write ? vh_mem_guest_write(b->h, b->vm, gpa, buf, n, &err)
			    : vh_mem_guest_read(b->h, b->vm, gpa, buf, n, &err)) == VH_OK
			 ? 0
			 : -1;
	p->unlock(p->ctx);
	return rc;
}

int vh_dev_mem_read(struct vh_bus *bus, uint64_t gpa, void *buf, size_t n)
{
	return mem_copy(bus, gpa, buf, n, false);
}

int vh_dev_mem_write(struct vh_bus *bus, uint64_t gpa, const void *buf, size_t n)
{
	return mem_copy(bus, gpa, (void *)buf, n, true);
}

void vh_dev_wake_mask(const struct vh_dev_access *a, uint64_t mask)
{
	struct vh_dev_call *c = a->call;

	if (a->bus->vcpus < 64)
		mask &= (1ull << a->bus->vcpus) - 1;
	if (!mask)
		return;
	if (!(c->pending & VH_DEV_CALL_WAKE))
		c->wake = 0;
	c->wake |= mask;
	c->pending |= VH_DEV_CALL_WAKE;
}

void vh_dev_wake(const struct vh_dev_access *a, uint32_t index)
{
	if (index < 64)
		vh_dev_wake_mask(a, 1ull << index);
}

void vh_dev_console(const struct vh_dev_access *a, const char *bytes, size_t n)
{
	struct vh_dev_call *c = a->call;

	if (!(c->pending & VH_DEV_CALL_CONSOLE))
		c->console_len = 0;
	c->pending |= VH_DEV_CALL_CONSOLE;
	/* A device prints a few bytes a call (a UART byte, split accesses:
	 * four); more than that is cut, never overrun. */
	if (n > VH_DEV_CONSOLE_MAX - c->console_len)
		n = VH_DEV_CONSOLE_MAX - c->console_len;
	vh_memcpy(c->console + c->console_len, bytes, n);
	c->console_len += (uint32_t)n;
}

void vh_dev_power_off(const struct vh_dev_access *a, uint32_t code, uint32_t value)
{
	a->call->pending |= VH_DEV_CALL_POWER_OFF;
	a->call->power_action = VH_DEV_POWER_DEBUG_EXIT;
	a->call->exit_code = code;
	a->call->exit_value = value;
}

void vh_dev_guest_reset(const struct vh_dev_access *a, const char *how)
{
	a->call->pending |= VH_DEV_CALL_POWER_OFF;
	a->call->power_action = VH_DEV_POWER_RESET;
	a->call->power_why = how;
}

void vh_dev_guest_power_off(const struct vh_dev_access *a, const char *how)
{
	a->call->pending |= VH_DEV_CALL_POWER_OFF;
	a->call->power_action = VH_DEV_POWER_OFF;
	a->call->power_why = how;
}

uint64_t vh_dev_wall(const struct vh_bus *bus)
{
	const struct vh_platform *p = bus->h->plat;

	return p->wall_ns ? p->wall_ns(p->ctx) : 0;
}

uint64_t vh_dev_now(const struct vh_bus *bus)
{
	return bus->h->plat->now_ns(bus->h->plat->ctx);
}

const struct vh_vm_config *vh_dev_config(const struct vh_bus *bus)
{
	return &bus->vm->cfg;
}
