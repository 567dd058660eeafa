/* SPDX-License-Identifier: Apache-2.0 */
/* acpi_dump DIR VCPUS [com1|nocom1] [MMIO64_BASE MMIO64_SIZE]: writes the
 * ACPI tables vh builds for such a VM (vh/acpi.h) into DIR, one file per
 * table named by its signature (RSDP.dat, XSDT.dat, FACP.dat, APIC.dat,
 * MCFG.dat, DSDT.dat), for tests/unit/acpi_iasl.sh to check with iasl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh/acpi.h"
#include "vh/error.h"

static int write_table(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	if (!(f = fopen(path, "wb")) || fwrite(p, 1, n, f) != n || fclose(f)) {
		fprintf(stderr, "acpi_dump: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char **argv)
{
	static uint8_t buf[VH_ACPI_MAX_BYTES];
	struct vh_acpi_config c = { .ram_bytes = 256 * VH_MIB, .com1 = true };
	struct vh_acpi_info info;
	struct vh_error err = { 0 };
	int rc = 0;

	if (argc < 3 || argc == 5 || argc > 6) {
		fprintf(stderr, "usage: acpi_dump DIR VCPUS [com1|nocom1] [MMIO64_BASE SIZE]\n");
		return 2;
	}
	c.vcpus = (uint32_t)strtoul(argv[2], NULL, 0);
	if (argc > 3)
		c.com1 = strcmp(argv[3], "nocom1") != 0;
	if (argc > 5) {
		c.mmio64_base = strtoull(argv[4], NULL, 0);
		c.mmio64_size = strtoull(argv[5], NULL, 0);
	}
	if (vh_acpi_build(&c, buf, sizeof(buf), VH_ACPI_GPA, &info, &err)) {
		fprintf(stderr, "acpi_dump: %s\n", err.reason);
		return 1;
	}
	const struct {
		const char *name;
		uint64_t gpa;
	} t[] = {
		{ "XSDT", info.xsdt }, { "FACP", info.fadt }, { "APIC", info.madt },
		{ "MCFG", info.mcfg }, { "DSDT", info.dsdt },
	};
	rc |= write_table(argv[1], "RSDP", buf + (info.rsdp - VH_ACPI_GPA), 36);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const uint8_t *p = buf + (t[i].gpa - VH_ACPI_GPA);
		rc |= write_table(argv[1], t[i].name, p, le32(p + 4));
	}
	return rc;
}
