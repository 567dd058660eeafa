/* SPDX-License-Identifier: Apache-2.0 */
/* Every table is checksummed before use and every length bounded by the
 * identity map (4 GiB): firmware tables are input, not trusted. */
#include <stdint.h>

#include "acpi.h"
#include "console.h"
#include "vh/compiler.h"
#include "vh/string.h"

#define MAPPED_LIMIT (4ull << 30)
#define EBDA_SEGMENT_PTR 0x40e
#define BIOS_AREA_START 0xe0000
#define BIOS_AREA_END 0x100000
#define MADT_LAPIC 0
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_ENABLED 0x1u
#define MADT_ONLINE_CAPABLE 0x2u
#define TABLE_MAX_LEN (1u << 20)

struct rsdp {
	char signature[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;
	uint8_t reserved[3];
} VH_PACKED;

struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_revision;
	uint32_t creator;
	uint32_t creator_revision;
} VH_PACKED;

struct madt {
	struct sdt_header h;
	uint32_t lapic;
	uint32_t flags;
} VH_PACKED;

/* A physical address in the identity map as a pointer.  Laundered
 * through an empty asm so the compiler does not treat low constants such
 * as the BIOS data area as null-pointer arithmetic. */
static const void *phys(uint64_t a)
{
	__asm__("" : "+r"(a));
	return (const void *)(uintptr_t)a;
}

static uint8_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *b++);
	return s;
}

static const struct rsdp *scan(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + sizeof(struct rsdp) <= end; a += 16) {
		const struct rsdp *r = phys(a);
		if (vh_memcmp(r->signature, "RSD PTR ", 8) == 0 && sum(r, 20) == 0)
			return r;
	}
	return 0;
}

static const struct rsdp *find_rsdp(void)
{
	uint64_t ebda = (uint64_t)*(const volatile uint16_t *)phys(EBDA_SEGMENT_PTR) << 4;
	const struct rsdp *r = 0;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = scan(ebda, ebda + 1024);
	return r ? r : scan(BIOS_AREA_START, BIOS_AREA_END);
}

/* A table's header and body must lie in the identity map and sum to 0. */
static const struct sdt_header *table(uint64_t addr, const char *sig)
{
	const struct sdt_header *h;

	if (!addr || addr + sizeof(*h) > MAPPED_LIMIT)
		return 0;
	h = phys(addr);
	if (sig && vh_memcmp(h->signature, sig, 4) != 0)
		return 0;
	if (h->length < sizeof(*h) || h->length > TABLE_MAX_LEN || addr + h->length > MAPPED_LIMIT)
		return 0;
	if (sum(h, h->length) != 0) {
		vh_console_printf("vh: acpi: table %.4s at %#llx has a bad checksum; ignored\n",
				  h->signature, (unsigned long long)addr);
		return 0;
	}
	return h;
}

static const struct madt *find_madt(const struct rsdp *r, bool *xsdt)
{
	const struct sdt_header *root = 0;
	unsigned width = 4;

	*xsdt = false;
	if (r->revision >= 2 && r->length >= sizeof(*r) && sum(r, sizeof(*r)) == 0 &&
	    (root = table(r->xsdt, "XSDT"))) {
		width = 8;
		*xsdt = true;
	} else {
		root = table(r->rsdt, "RSDT");
	}
	if (!root)
		return 0;
	const uint8_t *entries = (const uint8_t *)(root + 1);
	unsigned n = (root->length - sizeof(*root)) / width;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = 0;
		vh_memcpy(&a, entries + i * width, width);
		const struct sdt_header *h = table(a, "APIC");
		if (h && h->length >= sizeof(struct madt))
			return (const struct madt *)h;
	}
	return 0;
}

static void add_cpu(struct vh_acpi_cpus *out, uint32_t apic_id, uint32_t flags)
{
	if (!(flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE)))
		return;
	for (unsigned i = 0; i < out->ncpus; i++)
		if (out->apic_ids[i] == apic_id)
			return; /* listed as both xAPIC and x2APIC */
	if (out->ncpus == VH_MAX_CPUS) {
		out->ignored++;
		return;
	}
	out->apic_ids[out->ncpus++] = apic_id;
}

bool vh_acpi_find_cpus(struct vh_acpi_cpus *out)
{
	const struct rsdp *r = find_rsdp();
	const struct madt *m;

	vh_memset(out, 0, sizeof(*out));
	if (!r) {
		vh_console_printf("vh: acpi: no RSDP found\n");
		return false;
	}
	vh_memcpy(out->oem, r->oem, 6);
	if (!(m = find_madt(r, &out->xsdt))) {
		vh_console_printf("vh: acpi: no valid MADT\n");
		return false;
	}
	out->lapic_phys = m->lapic;
	const uint8_t *p = (const uint8_t *)(m + 1);
	const uint8_t *end = (const uint8_t *)m + m->h.length;
	while (p + 2 <= end) {
		uint8_t type = p[0], len = p[1];
		if (len < 2 || p + len > end)
			break; /* a malformed entry ends the walk */
		if (type == MADT_LAPIC && len >= 8) {
			uint32_t flags;
			vh_memcpy(&flags, p + 4, 4);
			add_cpu(out, p[3], flags);
		} else if (type == MADT_X2APIC && len >= 16) {
			uint32_t id, flags;
			vh_memcpy(&id, p + 4, 4);
			vh_memcpy(&flags, p + 8, 4);
			/* xAPIC mode reaches only 8-bit ids. */
			if (id < 0xff)
				add_cpu(out, id, flags);
		} else if (type == MADT_LAPIC_OVERRIDE && len >= 12) {
			vh_memcpy(&out->lapic_phys, p + 4, 8);
		}
		p += len;
	}
	return out->ncpus > 0;
}
