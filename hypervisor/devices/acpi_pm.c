/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI power-management registers of a hardware-reduced platform
 * (vh/acpi.h), where Cloud Hypervisor has them: the FADT's RESET_REG,
 * SLEEP_CONTROL_REG and SLEEP_STATUS_REG, and the PM timer.
 *
 * The reset register takes VH_ACPI_RESET_VALUE and the VM resets (Linux's
 * reboot=a, and its default on a hardware-reduced FADT); SLP_EN with
 * SLP_TYPx = 5 (the DSDT's _S5_) powers it off.  A sleep to any other
 * state is one vh does not offer (the DSDT lists only _S5_): it wakes at
 * once (WAK_STS set), so a guest that asks anyway never waits forever.
 * The PM timer counts at 3.579545 MHz from the platform clock since the
 * VM's boot, 32 bits wide; it is read-only, and the FADT does not name it
 * (acpi_tables.c says why). */
#include "dev_internal.h"
#include "vh/acpi.h"

#define NS_PER_S 1000000000ull

void vh_acpi_pm_reset(void *pm, const struct vh_bus *bus)
{
	struct vh_acpi_pm *p = pm;

	*p = (struct vh_acpi_pm){ .start_ns = vh_dev_now(bus) };
}

/* PM timer ticks in ns, without overflowing 64 bits: whole seconds and
 * the rest apart. */
static uint32_t pm_timer(const struct vh_acpi_pm *p, uint64_t now)
{
	uint64_t ns = now > p->start_ns ? now - p->start_ns : 0;

	return (uint32_t)((ns / NS_PER_S) * VH_ACPI_PM_TMR_HZ +
			  (ns % NS_PER_S) * VH_ACPI_PM_TMR_HZ / NS_PER_S);
}

static void sleep_control(struct vh_acpi_pm *p, const struct vh_dev_access *a, uint8_t v)
{
	p->sleep_control = v & (uint8_t)(VH_ACPI_SLP_TYP_MASK);
	if (!(v & VH_ACPI_SLP_EN))
		return;
	if (((v & VH_ACPI_SLP_TYP_MASK) >> VH_ACPI_SLP_TYP_SHIFT) == VH_ACPI_S5_TYPE)
		vh_dev_guest_power_off(a, "ACPI sleep control: S5");
	else
		p->sleep_status |= VH_ACPI_WAK_STS;
}

/* One byte of the block at offset off. */
static uint8_t read_byte(const struct vh_acpi_pm *p, const struct vh_dev_access *a, uint64_t off)
{
	uint64_t tmr = VH_ACPI_PM_TMR_REG - VH_ACPI_PM_BASE;

	switch (off) {
	case VH_ACPI_SLEEP_CONTROL_REG - VH_ACPI_PM_BASE: return p->sleep_control;
	case VH_ACPI_SLEEP_STATUS_REG - VH_ACPI_PM_BASE: return p->sleep_status;
	default: break;
	}
	if (off >= tmr && off < tmr + 4)
		return (uint8_t)(pm_timer(p, vh_dev_now(a->bus)) >> (8 * (off - tmr)));
	return 0; /* the reset register and the reserved bytes read 0 */
}

static void write_byte(struct vh_acpi_pm *p, const struct vh_dev_access *a, uint64_t off, uint8_t v)
{
	switch (off) {
	case VH_ACPI_RESET_REG - VH_ACPI_PM_BASE:
		if (v == VH_ACPI_RESET_VALUE)
			vh_dev_guest_reset(a, "ACPI reset register");
		break;
	case VH_ACPI_SLEEP_CONTROL_REG - VH_ACPI_PM_BASE: sleep_control(p, a, v); break;
	case VH_ACPI_SLEEP_STATUS_REG - VH_ACPI_PM_BASE:
		p->sleep_status &= (uint8_t) ~(v & VH_ACPI_WAK_STS); /* write 1 to clear */
		break;
	default: break; /* the timer is read-only; reserved bytes ignore writes */
	}
}

enum vh_io_result vh_acpi_pm_io(void *pm, const struct vh_dev_access *a)
{
	struct vh_acpi_pm *p = pm;
	uint64_t v = 0;

	/* A wide access covers consecutive registers, the first in the
	 * lowest byte; the timer is read in one piece whatever the width. */
	if (!a->is_write && a->offset == VH_ACPI_PM_TMR_REG - VH_ACPI_PM_BASE && a->size == 4) {
		*a->value = pm_timer(p, vh_dev_now(a->bus));
		return VH_IO_HANDLED;
	}
	for (unsigned i = 0; i < a->size; i++) {
		uint64_t off = a->offset + i;

		if (off >= VH_ACPI_PM_LEN)
			break;
		if (a->is_write)
			write_byte(p, a, off, (uint8_t)(*a->value >> (8 * i)));
		else
			v |= (uint64_t)read_byte(p, a, off) << (8 * i);
	}
	if (!a->is_write)
		*a->value = v;
	return VH_IO_HANDLED;
}
