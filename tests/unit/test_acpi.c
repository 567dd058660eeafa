/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI tables (hypervisor/devices/acpi_tables.c) parsed back as a
 * guest would: RSDP checksums, the XSDT's pointers, each table's
 * signature, length and checksum, the MADT per vCPU count, the FADT's
 * registers, the MCFG's ECAM; and the AML encoder (acpi_aml.c) byte for
 * byte.  tests/unit/acpi_iasl.sh checks the same tables with iasl. */
#include <string.h>

#include "../../hypervisor/devices/acpi_aml.h"
#include "vh/acpi.h"
#include "vh/error.h"
#include "vh_test.h"

#define GPA VH_ACPI_GPA

static uint64_t ld(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static struct vh_acpi_config config(uint32_t vcpus)
{
	struct vh_acpi_config c = { .vcpus = vcpus, .ram_bytes = 256 * VH_MIB, .com1 = true };

	return c;
}

/* The table at guest-physical gpa inside buf (built for GPA), checked:
 * inside the buffer, its signature, a length that fits, a zero sum. */
static const uint8_t *table(const uint8_t *buf, size_t len, uint64_t gpa, const char *sig)
{
	const uint8_t *t;
	uint64_t tlen;

	VH_EXPECT_GE(gpa, GPA);
	if (gpa < GPA || gpa - GPA + 36 > len)
		return NULL;
	t = buf + (gpa - GPA);
	tlen = ld(t + 4, 4);
	VH_EXPECT_MEMEQ(t, sig, 4);
	VH_EXPECT_LE(gpa - GPA + tlen, len);
	VH_EXPECT_GE(tlen, 36u);
	if (gpa - GPA + tlen > len)
		return NULL;
	VH_EXPECT_EQ(sum(t, tlen), 0u);
	return t;
}

/* Follows RSDP -> XSDT -> tables as an OS does; returns the XSDT. */
static const uint8_t *walk(const uint8_t *buf, size_t len, const struct vh_acpi_info *info)
{
	const uint8_t *r = buf + (info->rsdp - GPA);

	VH_EXPECT_EQ(info->rsdp, VH_ACPI_RSDP_GPA);
	VH_EXPECT_MEMEQ(r, "RSD PTR ", 8);
	VH_EXPECT_EQ(sum(r, 20), 0u);
	VH_EXPECT_EQ(r[15], 2u); /* revision */
	VH_EXPECT_EQ(ld(r + 20, 4), 36u);
	VH_EXPECT_EQ(sum(r, 36), 0u);
	VH_EXPECT_EQ(ld(r + 24, 8), info->xsdt);
	return table(buf, len, ld(r + 24, 8), "XSDT");
}

VH_TEST(acpi, rsdp_xsdt_and_every_table_check_out)
{
	static uint8_t buf[VH_ACPI_MAX_BYTES];
	struct vh_acpi_config c = config(2);
	struct vh_acpi_info info;
	struct vh_error err = { 0 };
	const uint8_t *x, *f;
	static const char *const sigs[] = { "FACP", "APIC", "MCFG" };

	VH_ASSERT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_OK);
	VH_EXPECT_LE(info.len, sizeof(buf));
	VH_ASSERT(x = walk(buf, info.len, &info));
	VH_ASSERT_EQ(ld(x + 4, 4), 36u + 3 * 8);
	for (unsigned i = 0; i < 3; i++)
		VH_EXPECT(table(buf, info.len, ld(x + 36 + 8 * i, 8), sigs[i]) != NULL);
	VH_ASSERT(f = table(buf, info.len, info.fadt, "FACP"));
	VH_EXPECT_EQ(ld(f + 4, 4), 276u);
	VH_EXPECT_EQ(f[8], 6u);                  /* FADT 6.x */
	VH_EXPECT_EQ(ld(f + 140, 8), info.dsdt); /* X_DSDT */
	VH_EXPECT(table(buf, info.len, ld(f + 140, 8), "DSDT") != NULL);
	/* The MCFG: the layout's ECAM, segment 0, bus 0 only. */
	const uint8_t *m = table(buf, info.len, info.mcfg, "MCFG");
	VH_ASSERT(m);
	VH_EXPECT_EQ(ld(m + 4, 4), 60u);
	VH_EXPECT_EQ(ld(m + 44, 8), VH_LAYOUT_ECAM_BASE);
	VH_EXPECT_EQ(ld(m + 52, 2), 0u);
	VH_EXPECT_EQ(m[54], 0u);
	VH_EXPECT_EQ(m[55], 0u);
	/* Everything lies inside the area the e820 map reserves. */
	VH_EXPECT_LE(GPA + info.len, VH_LAYOUT_1M);
}

VH_TEST(acpi, fadt_is_hardware_reduced_with_reset_and_sleep_registers)
{
	static uint8_t buf[VH_ACPI_MAX_BYTES];
	struct vh_acpi_config c = config(1);
	struct vh_acpi_info info;
	struct vh_error err = { 0 };
	const uint8_t *f;

	VH_ASSERT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_OK);
	VH_ASSERT(f = table(buf, info.len, info.fadt, "FACP"));
	VH_EXPECT_EQ(ld(f + 112, 4) & (1u << 20), 1u << 20);        /* HW_REDUCED_ACPI */
	VH_EXPECT_EQ(ld(f + 112, 4) & (1u << 10), 1u << 10);        /* RESET_REG_SUP */
	VH_EXPECT_EQ(ld(f + 109, 2) & ((1u << 1) | (1u << 3)), 0u); /* no 8042, MSI allowed */
	VH_EXPECT_EQ(ld(f + 46, 2), 0u);                            /* no SCI */
	VH_EXPECT_EQ(ld(f + 76, 4), 0u);                            /* no PM timer named */
	/* RESET_REG: system I/O, 8 bits, at the PM block; its value. */
	VH_EXPECT_EQ(f[116], 1u);
	VH_EXPECT_EQ(f[117], 8u);
	VH_EXPECT_EQ(ld(f + 120, 8), VH_ACPI_PM_BASE + VH_ACPI_RESET_OFF);
	VH_EXPECT_EQ(f[128], VH_ACPI_RESET_VALUE);
	VH_EXPECT_EQ(f[244], 1u);
	VH_EXPECT_EQ(ld(f + 248, 8), VH_ACPI_PM_BASE + VH_ACPI_SLEEP_CONTROL_OFF);
	VH_EXPECT_EQ(f[256], 1u);
	VH_EXPECT_EQ(ld(f + 260, 8), VH_ACPI_PM_BASE + VH_ACPI_SLEEP_STATUS_OFF);
}

/* MADT entries by type for a VM of n vCPUs. */
static void madt_counts(uint32_t n)
{
	static uint8_t buf[VH_ACPI_MAX_BYTES];
	struct vh_acpi_config c = config(n);
	struct vh_acpi_info info;
	struct vh_error err = { 0 };
	const uint8_t *t, *p, *end;
	uint32_t lapics = 0, ioapics = 0, isos = 0;
	bool irq0_gsi2 = false, irq4_gsi4 = false;

	VH_ASSERT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_OK);
	VH_ASSERT(t = table(buf, info.len, info.madt, "APIC"));
	VH_EXPECT_EQ(ld(t + 36, 4), VH_LAYOUT_LAPIC_BASE);
	end = t + ld(t + 4, 4);
	for (p = t + 44; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		switch (p[0]) {
		case 0:
			VH_EXPECT_EQ(p[3], lapics); /* APIC ids 0..n-1, in order */
			VH_EXPECT_EQ(ld(p + 4, 4) & 1, 1u);
			lapics++;
			break;
		case 1:
			VH_EXPECT_EQ(ld(p + 4, 4), VH_LAYOUT_IOAPIC_BASE);
			VH_EXPECT_EQ(ld(p + 8, 4), 0u);
			ioapics++;
			break;
		case 2:
			irq0_gsi2 |= p[3] == 0 && ld(p + 4, 4) == 2;
			irq4_gsi4 |= p[3] == 4 && ld(p + 4, 4) == 4;
			isos++;
			break;
		}
	}
	VH_EXPECT(p == end); /* the entries fill the table exactly */
	VH_EXPECT_EQ(lapics, n);
	VH_EXPECT_EQ(ioapics, 1u);
	VH_EXPECT_EQ(isos, 2u);
	VH_EXPECT(irq0_gsi2);
	VH_EXPECT(irq4_gsi4);
}

VH_TEST(acpi, madt_has_a_local_apic_per_vcpu)
{
	static const uint32_t counts[] = { 1, 2, 3, 8, 64, 255 };

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		madt_counts(counts[i]);
}

static bool contains(const uint8_t *p, size_t n, const void *s, size_t sn)
{
	for (size_t i = 0; i + sn <= n; i++) {
		if (!memcmp(p + i, s, sn))
			return true;
	}
	return false;
}

VH_TEST(acpi, dsdt_names_com1_only_when_the_vm_has_one_and_the_cmos_clock_always)
{
	static uint8_t buf[VH_ACPI_MAX_BYTES];
	struct vh_acpi_config c = config(1);
	struct vh_acpi_info info;
	struct vh_error err = { 0 };
	const uint8_t *d;

	VH_ASSERT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_OK);
	VH_ASSERT(d = table(buf, info.len, info.dsdt, "DSDT"));
	VH_EXPECT(contains(d, ld(d + 4, 4), "COM1", 4));
	VH_EXPECT(contains(d, ld(d + 4, 4), "PCI0", 4));
	VH_EXPECT(contains(d, ld(d + 4, 4), "_S5_", 4));
	VH_EXPECT(contains(d, ld(d + 4, 4), "_PRT", 4));
	/* The CMOS clock: Device (RTC0), _HID EISAID ("PNP0B00"), I/O
	 * 0x70-0x71 (an I/O port descriptor: 0x47, decode 16, min = max =
	 * 0x70, alignment 1, length 2), always. */
	VH_EXPECT(contains(d, ld(d + 4, 4), "RTC0", 4));
	VH_EXPECT(contains(d, ld(d + 4, 4), "\x41\xd0\x0b\x00", 4));
	VH_EXPECT(contains(d, ld(d + 4, 4), "\x47\x01\x70\x00\x70\x00\x01\x02", 8));
	c.com1 = false;
	VH_ASSERT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_OK);
	VH_ASSERT(d = table(buf, info.len, info.dsdt, "DSDT"));
	VH_EXPECT(!contains(d, ld(d + 4, 4), "COM1", 4));
	VH_EXPECT(contains(d, ld(d + 4, 4), "RTC0", 4));
	VH_EXPECT(contains(d, ld(d + 4, 4), "PCI0", 4));
}

/* Every buffer too small fails with a reason and writes nothing past its
 * end; out-of-range configs fail before anything is written. */
VH_TEST(acpi, bad_input_gets_a_reason_and_stays_in_bounds)
{
	static uint8_t buf[VH_ACPI_MAX_BYTES + 64];
	struct vh_acpi_config c = config(64);
	struct vh_acpi_info info;
	struct vh_error err = { 0 };
	size_t need;

	VH_ASSERT_EQ(vh_acpi_build(&c, buf, VH_ACPI_MAX_BYTES, GPA, &info, &err), VH_OK);
	need = info.len;
	for (size_t len = 0; len < need; len++) {
		memset(buf, 0xa5, sizeof(buf));
		err = (struct vh_error){ 0 };
		VH_ASSERT_EQ(vh_acpi_build(&c, buf, len, GPA, &info, &err), VH_E_INVAL);
		VH_EXPECT(strstr(err.reason, "do not fit") != NULL);
		for (size_t i = len; i < sizeof(buf); i++)
			VH_ASSERT_EQ(buf[i], 0xa5u);
	}
	c.vcpus = 0;
	VH_EXPECT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "vCPUs") != NULL);
	c.vcpus = 256;
	VH_EXPECT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_E_INVAL);
	c = config(1);
	VH_EXPECT_EQ(vh_acpi_build(&c, buf, sizeof(buf), UINT64_MAX - 15, &info, &err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA + 1, &info, &err), VH_E_INVAL);
	c.mmio64_base = 0x100000000ull; /* not above 256 MiB of RAM's layout top */
	c.mmio64_size = 1ull << 30;
	c.ram_bytes = 4096 * VH_MIB;
	VH_EXPECT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "64-bit PCI window") != NULL);
	c.mmio64_base = UINT64_MAX - 4095;
	VH_EXPECT_EQ(vh_acpi_build(&c, buf, sizeof(buf), GPA, &info, &err), VH_E_INVAL);
}

/* ---- the AML encoder ------------------------------------------------------------ */

static void expect_aml(const struct vh_aml *a, const uint8_t *want, size_t n)
{
	VH_EXPECT(!a->overflow);
	VH_EXPECT_EQ(a->len, n);
	if (a->len == n)
		VH_EXPECT_MEMEQ(a->buf, want, n);
}

VH_TEST(acpi_aml, integers_take_their_shortest_form)
{
	static const struct {
		uint64_t v;
		uint8_t bytes[9];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 1, { 0x01 }, 1 },
		{ 2, { 0x0a, 2 }, 2 },
		{ 0xff, { 0x0a, 0xff }, 2 },
		{ 0x100, { 0x0b, 0x00, 0x01 }, 3 },
		{ 0x10000, { 0x0c, 0, 0, 1, 0 }, 5 },
		{ 0x100000000ull, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9 },
		{ UINT64_MAX, { 0xff }, 1 },
	};
	uint8_t buf[16];
	struct vh_aml a;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vh_aml_init(&a, buf, sizeof(buf));
		vh_aml_integer(&a, cases[i].v);
		expect_aml(&a, cases[i].bytes, cases[i].n);
	}
}

VH_TEST(acpi_aml, names_eisa_ids_and_strings)
{
	uint8_t buf[32];
	struct vh_aml a;

	vh_aml_init(&a, buf, sizeof(buf));
	vh_aml_namestring(&a, "\\_SB.PCI0");
	expect_aml(&a, (const uint8_t *)"\\\x2e_SB_PCI0", 10);
	vh_aml_init(&a, buf, sizeof(buf));
	vh_aml_namestring(&a, "\\_SB.PCI0.COM");
	expect_aml(&a, (const uint8_t *)"\\\x2f\x03_SB_PCI0COM_", 15);
	vh_aml_init(&a, buf, sizeof(buf));
	vh_aml_namestring(&a, "_S5");
	expect_aml(&a, (const uint8_t *)"_S5_", 4);
	/* EISAID("PNP0A03") is 0x030ad041, as iasl compiles it. */
	vh_aml_init(&a, buf, sizeof(buf));
	vh_aml_eisaid(&a, "PNP0A03");
	expect_aml(&a, (const uint8_t[]){ 0x0c, 0x41, 0xd0, 0x0a, 0x03 }, 5);
	vh_aml_init(&a, buf, sizeof(buf));
	vh_aml_string(&a, "vh");
	expect_aml(&a, (const uint8_t[]){ 0x0d, 'v', 'h', 0 }, 4);
}

/* A package whose PkgLength needs one byte (up to 63 with itself), then
 * two: the length counts its own bytes, and the body moves intact. */
VH_TEST(acpi_aml, pkglength_grows_past_63_bytes)
{
	uint8_t buf[5000];
	struct vh_aml a;
	vh_aml_mark m;

	/* 1 count byte + 61 body bytes + 1 length byte = 63: one byte. */
	vh_aml_init(&a, buf, sizeof(buf));
	m = vh_aml_package(&a, 61);
	for (int i = 0; i < 61; i++)
		vh_aml_integer(&a, 0);
	vh_aml_close(&a, m);
	VH_EXPECT_EQ(a.len, 64u);
	VH_EXPECT_EQ(buf[1], 63u);
	VH_EXPECT_EQ(buf[2], 61u);
	/* One more: 62 + 1 + 2 = 65 in two bytes, 0x41 = (1 << 6) | 1, 0x04. */
	vh_aml_init(&a, buf, sizeof(buf));
	m = vh_aml_package(&a, 62);
	for (int i = 0; i < 62; i++)
		vh_aml_integer(&a, 0);
	vh_aml_close(&a, m);
	VH_EXPECT_EQ(a.len, 66u);
	VH_EXPECT_EQ(buf[1], 0x41u);
	VH_EXPECT_EQ(buf[2], 0x04u);
	VH_EXPECT_EQ(buf[3], 62u);
	/* Past 4095: three bytes. */
	vh_aml_init(&a, buf, sizeof(buf));
	m = vh_aml_buffer(&a);
	for (int i = 0; i < 4096; i++)
		vh_aml_byte(&a, 0x5a);
	vh_aml_close_buffer(&a, m);
	/* 0x11, PkgLength (3), WordPrefix 0x1000 (3), 4096 bytes. */
	VH_EXPECT_EQ(a.len, 1u + 3 + 3 + 4096);
	VH_EXPECT_EQ(buf[1], 0x80u | ((3 + 3 + 4096) & 0xf));
	VH_EXPECT_EQ(buf[2], (uint8_t)((3 + 3 + 4096) >> 4));
	VH_EXPECT_EQ(buf[3], (uint8_t)((3 + 3 + 4096) >> 12));
	VH_EXPECT_EQ(buf[4], 0x0bu);
	VH_EXPECT_EQ(ld(buf + 5, 2), 4096u);
	VH_EXPECT_EQ(buf[7], 0x5au);
	VH_EXPECT_EQ(buf[a.len - 1], 0x5au);
}

VH_TEST(acpi_aml, a_full_buffer_drops_writes_and_says_so)
{
	uint8_t buf[8 + 4];
	struct vh_aml a;
	vh_aml_mark m;

	memset(buf, 0xa5, sizeof(buf));
	vh_aml_init(&a, buf, 8);
	m = vh_aml_device(&a, "DEV0");
	vh_aml_name(&a, "_UID");
	vh_aml_integer(&a, 7);
	vh_aml_close(&a, m);
	VH_EXPECT(a.overflow);
	VH_EXPECT_LE(a.len, 8u);
	for (size_t i = 8; i < sizeof(buf); i++)
		VH_EXPECT_EQ(buf[i], 0xa5u);
}
