/* SPDX-License-Identifier: Apache-2.0 */
/* The guest MSR table (vh/msr.h) against the SDM, written out again here
 * independently: every MSR a guest may write refuses each reserved bit,
 * non-canonical addresses and invalid memory types, and any value that
 * would reach hardware (a VMCS guest field or a real WRMSR) is one the
 * SDM says a WRMSR takes without #GP. */
#include "vh/msr.h"
#include "vh_test.h"

enum oracle_kind { PLAIN, CANON, PAT, MTRR };

/* What hardware accepts (SDM vol. 4 table 2-2, vol. 2 WRMSR), and the
 * MSRs vh lets a guest write, with where the value goes. */
static const struct oracle {
	uint32_t msr;
	uint64_t reserved;
	enum oracle_kind kind;
	bool reaches_hw; /* VMCS guest field or real MSR */
} sdm[] = {
	{ 0x10, 0, PLAIN, false },                     /* TSC: dropped */
	{ 0x1b, 0, PLAIN, false },                     /* APIC base: same value only */
	{ 0x8b, 0, PLAIN, false },                     /* BIOS_SIGN_ID: dropped */
	{ 0x174, 0xffffffff00000000ull, PLAIN, true }, /* SYSENTER_CS: 32-bit field */
	{ 0x175, 0, CANON, true },
	{ 0x176, 0, CANON, true },
	{ 0x17a, ~0xfull, PLAIN, false },
	{ 0x1a0, ~0x400c51889ull, PLAIN, false },
	{ 0x277, 0, PAT, true },
	{ 0x2ff, ~0xcffull, MTRR, false },
	{ 0xc0000080, ~0xd01ull, PLAIN, true },
	{ 0xc0000081, 0, PLAIN, true },
	{ 0xc0000082, 0, CANON, true },
	{ 0xc0000083, 0, CANON, true },
	{ 0xc0000084, 0xffffffff00000000ull, PLAIN, true },
	{ 0xc0000100, 0, CANON, true },
	{ 0xc0000101, 0, CANON, true },
	{ 0xc0000102, 0, CANON, true },
	{ 0xc0000103, 0xffffffff00000000ull, PLAIN, true }, /* TSC_AUX */
};

#define NSDM (sizeof(sdm) / sizeof(sdm[0]))

static const struct oracle *oracle(uint32_t msr)
{
	for (unsigned i = 0; i < NSDM; i++)
		if (sdm[i].msr == msr)
			return &sdm[i];
	return NULL;
}

static bool mem_type_ok(unsigned t, bool pat)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

static bool hw_accepts(const struct oracle *o, uint64_t v)
{
	if (v & o->reserved)
		return false;
	switch (o->kind) {
	case PLAIN: return true;
	case CANON: return v < (1ull << 47) || v >= 0xffff800000000000ull;
	case PAT:
		for (int i = 0; i < 8; i++)
			if (!mem_type_ok((unsigned)(v >> (8 * i)) & 0xff, true))
				return false;
		return true;
	case MTRR: return mem_type_ok((unsigned)v & 0xff, false);
	}
	return false;
}

/* A value the MSR's own checks like, to set one more bit on. */
static uint64_t base_value(const struct oracle *o)
{
	return o->kind == PAT ? 0x0007040600070406ull : o->kind == MTRR ? 6 : 0;
}

VH_TEST(msr, table_fits_the_backends_arrays)
{
	VH_EXPECT_LE(vh_msr_rule_count, (unsigned)VH_MSR_RULES_MAX);
}

VH_TEST(msr, every_writable_msr_is_one_the_sdm_list_knows)
{
	for (unsigned i = 0; i < vh_msr_rule_count; i++) {
		const struct vh_msr_rule *r = &vh_msr_rules[i];
		const struct oracle *o = oracle(r->msr);

		VH_EXPECT_EQ(vh_msr_find(r->msr), r);
		if (r->store == VH_MSR_CONST_RO) {
			VH_EXPECT(o == NULL);
			VH_EXPECT(!vh_msr_write_ok(r->msr, r->value));
			continue;
		}
		VH_ASSERT(o != NULL);
		/* Values that reach hardware are listed as such. */
		if (r->store == VH_MSR_GUEST || r->store == VH_MSR_LOADED)
			VH_EXPECT(o->reaches_hw);
	}
	for (unsigned i = 0; i < NSDM; i++)
		VH_EXPECT(vh_msr_find(sdm[i].msr) != NULL);
}

VH_TEST(msr, each_reserved_bit_is_refused)
{
	for (unsigned i = 0; i < NSDM; i++) {
		const struct oracle *o = &sdm[i];
		uint64_t base = base_value(o);

		VH_EXPECT(vh_msr_write_ok(o->msr, base));
		for (unsigned b = 0; b < 64; b++) {
			uint64_t v = base | (1ull << b);
			bool want = hw_accepts(o, v);
			if (vh_msr_write_ok(o->msr, v) != want)
				VH_FAIL("msr %#x value %#llx: vh says %d, the SDM %d", o->msr,
					(unsigned long long)v, !want, want);
		}
	}
}

VH_TEST(msr, addresses_must_be_canonical)
{
	static const uint64_t bad[] = { 1ull << 47, 0x0000800000000000ull, 0x8000000000000000ull,
					0xffff7fffffffffffull, 0x00ff000000000000ull };
	static const uint64_t good[] = { 0, 0x00007fffffffffffull, 0xffff800000000000ull,
					 0xffffffff81000000ull };

	for (unsigned i = 0; i < NSDM; i++) {
		if (sdm[i].kind != CANON)
			continue;
		for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
			VH_EXPECT(!vh_msr_write_ok(sdm[i].msr, bad[k]));
		for (unsigned k = 0; k < sizeof(good) / sizeof(good[0]); k++)
			VH_EXPECT(vh_msr_write_ok(sdm[i].msr, good[k]));
	}
}

VH_TEST(msr, memory_types_must_be_valid)
{
	for (unsigned byte = 0; byte < 8; byte++) {
		for (unsigned t = 0; t < 256; t++) {
			uint64_t v = (0x0007040600070406ull & ~(0xffull << (8 * byte))) |
				     ((uint64_t)t << (8 * byte));
			VH_EXPECT_EQ(vh_msr_write_ok(VH_MSR_PAT, v), mem_type_ok(t, true));
		}
	}
	for (unsigned t = 0; t < 256; t++)
		VH_EXPECT_EQ(vh_msr_write_ok(VH_MSR_MTRR_DEF_TYPE, 0xc00 | t),
			     mem_type_ok(t, false));
}

/* Pseudo-random values with few and many bits set: whatever vh takes for
 * an MSR whose value reaches hardware, hardware takes too. */
VH_TEST(msr, no_value_reaching_hardware_is_one_hardware_refuses)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (unsigned n = 0; n < 20000; n++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = (n & 3) == 0   ? x
			     : (n & 3) == 1 ? x & (x >> 11)
			     : (n & 3) == 2 ? x >> (n % 64)
					    : (x | (x << 3)) & ~0xf8f8f8f8f8f8f8f8ull;
		for (unsigned i = 0; i < vh_msr_rule_count; i++) {
			const struct vh_msr_rule *r = &vh_msr_rules[i];
			const struct oracle *o = oracle(r->msr);
			if (!o || !vh_msr_write_ok(r->msr, v))
				continue;
			if (!hw_accepts(o, v))
				VH_FAIL("msr %#x takes %#llx, which hardware refuses", r->msr,
					(unsigned long long)v);
		}
	}
}

VH_TEST(msr, unlisted_and_read_only_msrs_are_refused)
{
	VH_EXPECT(vh_msr_find(0x480) == NULL);
	VH_EXPECT(!vh_msr_write_ok(0x480, 0));
	VH_EXPECT(!vh_msr_write_ok(0xdeadbeef, 0));
	VH_EXPECT(!vh_msr_write_ok(VH_MSR_FEATURE_CONTROL, 5));
	VH_EXPECT(!vh_msr_write_ok(VH_MSR_MCG_CAP, 0));
}
