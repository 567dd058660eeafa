/* SPDX-License-Identifier: Apache-2.0 */
/* CPU discovery from ACPI: the RSDP (EBDA or BIOS area), the RSDT or
 * XSDT, and the MADT's local APIC entries. */
#ifndef VH_X86_ACPI_H
#define VH_X86_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "percpu.h"

struct vh_acpi_cpus {
	uint64_t lapic_phys;           /* from the MADT (0: not given) */
	unsigned ncpus;                /* enabled processors, at most VH_MAX_CPUS */
	unsigned ignored;              /* enabled beyond VH_MAX_CPUS */
	uint32_t apic_ids[VH_MAX_CPUS];
	char oem[7];                   /* the RSDP's OEM id */
	bool xsdt;                     /* the XSDT was used */
};

/* Fills out and returns true when a valid MADT was found; false with a
 * message on the console (the caller then runs on the boot CPU alone). */
bool vh_acpi_find_cpus(struct vh_acpi_cpus *out);

#endif
