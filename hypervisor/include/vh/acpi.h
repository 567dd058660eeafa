/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI power-management registers vh offers (hypervisor/devices/
 * acpi_pm.c), at fixed I/O ports as Cloud Hypervisor has them, for the
 * FADT that describes them to the guest (hardware-reduced: RESET_REG,
 * SLEEP_CONTROL_REG, SLEEP_STATUS_REG, X_PM_TMR_BLK) and the DSDT's _S5_.
 *
 *   0x600  reset register        write VH_ACPI_RESET_VALUE: the VM resets
 *   0x601  sleep control         SLP_TYPx (bits 2-4), SLP_EN (bit 5)
 *   0x602  sleep status          WAK_STS (bit 7), write 1 to clear
 *   0x608  PM timer              32-bit, 3.579545 MHz (FADT TMR_VAL_EXT)
 *
 * Freestanding. */
#ifndef VH_ACPI_H
#define VH_ACPI_H

#define VH_ACPI_PM_BASE           0x600u
#define VH_ACPI_PM_LEN            12u /* 0x600..0x60b */

#define VH_ACPI_RESET_REG         (VH_ACPI_PM_BASE + 0u)
#define VH_ACPI_RESET_VALUE       1u

#define VH_ACPI_SLEEP_CONTROL_REG (VH_ACPI_PM_BASE + 1u)
#define VH_ACPI_SLP_TYP_SHIFT     2u
#define VH_ACPI_SLP_TYP_MASK      (7u << VH_ACPI_SLP_TYP_SHIFT)
#define VH_ACPI_SLP_EN            (1u << 5)
#define VH_ACPI_S5_TYPE           5u /* the DSDT's _S5_ package gives this SLP_TYP */
#define VH_ACPI_S5_VALUE          ((VH_ACPI_S5_TYPE << VH_ACPI_SLP_TYP_SHIFT) | VH_ACPI_SLP_EN)

#define VH_ACPI_SLEEP_STATUS_REG  (VH_ACPI_PM_BASE + 2u)
#define VH_ACPI_WAK_STS           (1u << 7)

#define VH_ACPI_PM_TMR_REG        (VH_ACPI_PM_BASE + 8u)
#define VH_ACPI_PM_TMR_HZ         3579545u
#define VH_ACPI_PM_TMR_BITS       32u

/* The CMOS RTC's century register (FADT CENTURY). */
#define VH_ACPI_RTC_CENTURY 0x32u

#endif
