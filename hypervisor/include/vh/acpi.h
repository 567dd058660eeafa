/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI tables a VM's guest finds (hypervisor/devices/acpi_tables.c,
 * acpi_aml.c), and the constants the devices they describe share with
 * them: the power-management registers (devices' acpi_pm), the IOAPIC's
 * id, the PCI interrupt routing.  A device includes this header, so the
 * tables and the device cannot disagree.
 *
 * The tables (RSDP rev 2, XSDT, a hardware-reduced FADT, MADT, MCFG, a
 * DSDT in AML vh generates) are built per VM from its vCPU count, its
 * memory and its devices into a byte buffer, addressed for where they will
 * lie in the guest: VH_ACPI_GPA, the start of the legacy BIOS area
 * [0xf0000, 0x100000).  That area is RAM the e820 map already reports
 * reserved (vh/layout.h), and it lies in the range [0xe0000, 0x100000)
 * that an OS scans for "RSD PTR " when no one tells it where the RSDP is;
 * a Linux zero page carries VH_ACPI_RSDP_GPA in acpi_rsdp_addr. */
#ifndef VH_ACPI_H
#define VH_ACPI_H

#include "vh/layout.h"
#include "vh/types.h"

struct vh_vm;
struct vh_error;

/* ---- the power-management registers (an I/O block, as Cloud Hypervisor's) --
 * hypervisor/devices/acpi_pm.c implements them; the FADT (hardware-reduced:
 * RESET_REG, SLEEP_CONTROL_REG, SLEEP_STATUS_REG) and the DSDT's \_S5_
 * describe them:
 *
 *   0x600  reset register        write VH_ACPI_RESET_VALUE: the VM resets
 *   0x601  sleep control         SLP_TYPx (bits 2-4), SLP_EN (bit 5): S5 powers off
 *   0x602  sleep status          WAK_STS (bit 7), write 1 to clear
 *   0x608  PM timer              32-bit, 3.579545 MHz; the FADT does not name it
 *                                (see acpi_tables.c: a clock Linux would check
 *                                the TSC against) */
#define VH_ACPI_PM_BASE           0x600u
#define VH_ACPI_PM_LEN            12u /* 0x600..0x60b */
#define VH_ACPI_RESET_OFF         0x0u
#define VH_ACPI_SLEEP_CONTROL_OFF 0x1u
#define VH_ACPI_SLEEP_STATUS_OFF  0x2u
#define VH_ACPI_PM_TIMER_OFF      0x8u
#define VH_ACPI_RESET_REG         (VH_ACPI_PM_BASE + VH_ACPI_RESET_OFF)
#define VH_ACPI_SLEEP_CONTROL_REG (VH_ACPI_PM_BASE + VH_ACPI_SLEEP_CONTROL_OFF)
#define VH_ACPI_SLEEP_STATUS_REG  (VH_ACPI_PM_BASE + VH_ACPI_SLEEP_STATUS_OFF)
#define VH_ACPI_PM_TMR_REG        (VH_ACPI_PM_BASE + VH_ACPI_PM_TIMER_OFF)
#define VH_ACPI_RESET_VALUE       0x01u
#define VH_ACPI_SLP_TYP_SHIFT     2u
#define VH_ACPI_SLP_TYP_MASK      (7u << VH_ACPI_SLP_TYP_SHIFT)
#define VH_ACPI_SLP_EN            (1u << 5)
#define VH_ACPI_WAK_STS           (1u << 7)
#define VH_ACPI_S5_TYPE           5u /* the \_S5_ object's SLP_TYP */
#define VH_ACPI_S5_VALUE          ((VH_ACPI_S5_TYPE << VH_ACPI_SLP_TYP_SHIFT) | VH_ACPI_SLP_EN)
#define VH_ACPI_PM_TMR_HZ         3579545u
#define VH_ACPI_PM_TMR_BITS       32u

/* The CMOS RTC's century register (the FADT leaves CENTURY 0). */
#define VH_ACPI_RTC_CENTURY 0x32u

/* ---- interrupts ------------------------------------------------------------ */
#define VH_ACPI_IOAPIC_ID       0u /* the MADT's IOAPIC entry; its ID register */
#define VH_ACPI_IOAPIC_GSI_BASE 0u
#define VH_ACPI_IOAPIC_PINS     24u
/* PCI INTx: device dev's pin (0 = INTA .. 3 = INTD) on bus 0 goes to a
 * GSI among 16..23 (the _PRT, level-triggered, active low), swizzled so
 * that neighbouring devices' INTA do not share a line.  The host bridge
 * writes the same number into a function's Interrupt Line register. */
#define VH_ACPI_PCI_GSI_BASE  16u
#define VH_ACPI_PCI_GSI_COUNT 8u
static inline uint32_t vh_acpi_pci_gsi(uint32_t dev, uint32_t pin)
{
	return VH_ACPI_PCI_GSI_BASE + ((dev + pin) % VH_ACPI_PCI_GSI_COUNT);
}

/* ---- where the tables lie -------------------------------------------------- */
#define VH_ACPI_GPA      VH_LAYOUT_BIOS_START /* RSDP first, the tables after it */
/* F000:FFF0, the BIOS reset vector: the loaders put a write of the reset
 * register there (hypervisor/loader/loader.c), as a PC's BIOS resets. */
#define VH_ACPI_RESET_VECTOR_GPA (VH_LAYOUT_1M - 16)
#define VH_ACPI_RSDP_GPA VH_ACPI_GPA
/* The most bytes the tables take (64 vCPUs: about 4 KiB). */
#define VH_ACPI_MAX_BYTES 8192u

/* What the tables describe. */
struct vh_acpi_config {
	uint32_t vcpus;     /* local APIC ids 0 .. vcpus-1, 1..255 */
	uint64_t ram_bytes; /* the VM's memory (vh/layout.h) */
	bool com1;          /* a 16550 at 0x3f8, IRQ 4 */
	/* A 64-bit PCI MMIO window for the root bridge's _CRS; size 0: none
	 * (the layout names none yet). */
	uint64_t mmio64_base, mmio64_size;
};

/* Where each table went (guest-physical), for tests and the loaders. */
struct vh_acpi_info {
	uint64_t rsdp, xsdt, fadt, madt, mcfg, dsdt;
	size_t len; /* bytes of buf used, from buf[0] = gpa */
};

/* Builds every table into buf (len bytes; VH_ACPI_MAX_BYTES always
 * suffice) as they must lie at guest-physical gpa, with their checksums.
 * VH_E_INVAL with the reason for a config out of range or a buffer too
 * small; nothing beyond buf is touched either way. */
int vh_acpi_build(const struct vh_acpi_config *c, uint8_t *buf, size_t len, uint64_t gpa,
		  struct vh_acpi_info *info, struct vh_error *err);

/* The config of a defined VM: its vCPUs, memory, and COM1 if configured. */
void vh_acpi_config_vm(const struct vh_vm *vm, struct vh_acpi_config *c);

#endif
