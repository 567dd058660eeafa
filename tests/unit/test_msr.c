/* SPDX-License-Identifier: Apache-2.0 */
/* The guest MSR table (vh/msr.h) against the SDM, written out again here
 * independently: every MSR a guest may write refuses each reserved bit,
 * non-canonical addresses and invalid memory types, and any value that
 * would reach hardware (a VMCS guest field or a real WRMSR) is one the
 * SDM says a WRMSR takes without #GP. */
#include "vh/cpuid.h"
#include "vh/devices.h"
#include "vh/lapic.h"
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
	{ 0x10, 0, PLAIN, false },     /* TSC: dropped */
	{ 0x1b, 0, PLAIN, false },     /* APIC base: same value only */
	{ 0x3b, ~0ull, PLAIN, false }, /* TSC_ADJUST: vh takes 0 only (the TSC is the host's) */
	{ 0x8b, 0, PLAIN, false },     /* BIOS_SIGN_ID: dropped */
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

		VH_EXPECT_EQ(vh_msr_row(r->msr), r);
		if (r->store == VH_MSR_ABSENT) {
			VH_EXPECT(o == NULL);
			VH_EXPECT(vh_msr_find(r->msr) == NULL);
			VH_EXPECT(!vh_msr_write_ok(r->msr, 0));
			continue;
		}
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

/* The guest's CPUID over a host that offers every bit: what the model
 * hides reads 0 whatever the host. */
static bool all_ones(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)h;
	(void)sub;
	out[0] = out[1] = out[2] = out[3] = 0xffffffffu;
	if (leaf == 0)
		out[0] = 0xd;
	else if (leaf == 0x80000000u)
		out[0] = 0x80000008u;
	return true;
}

static uint32_t guest_cpuid(uint32_t leaf, unsigned reg)
{
	struct vh_cpuid_host h = { .raw = all_ones };
	struct vh_cpuid_vm vm = { .vcpus = 1 };
	uint32_t r[4];

	vh_cpuid_host_init(&h);
	VH_EXPECT(vh_cpuid_guest(&h, &vm, leaf, 0, r));
	return r[reg];
}

VH_TEST(msr, rows_are_in_msr_order_and_each_has_a_policy)
{
	for (unsigned i = 0; i < vh_msr_rule_count; i++) {
		const struct vh_msr_rule *r = &vh_msr_rules[i];

		if (i)
			VH_EXPECT(vh_msr_rules[i - 1].msr < r->msr);
		VH_EXPECT(r->store <= VH_MSR_SPECIAL);
		/* Only an absent MSR says what hides it. */
		VH_EXPECT_EQ(r->store == VH_MSR_ABSENT, r->hidden_by != VH_MSR_BY_NONE);
	}
}

/* Each absent MSR is absent because the CPU model says so: its CPUID bit
 * reads 0 in the guest whatever the host offers, or MTRRCAP counts no
 * such range.  Showing one of these bits without giving the MSR a policy
 * fails here. */
VH_TEST(msr, absent_msrs_are_what_the_cpu_model_hides)
{
	unsigned n = 0;

	for (unsigned i = 0; i < vh_msr_rule_count; i++) {
		const struct vh_msr_rule *r = &vh_msr_rules[i];
		uint32_t word = 0;

		if (r->store != VH_MSR_ABSENT)
			continue;
		n++;
		switch (r->hidden_by) {
		case VH_MSR_BY_CPUID1_ECX: word = guest_cpuid(1, 2); break;
		case VH_MSR_BY_CPUID7_EBX: word = guest_cpuid(7, 1); break;
		case VH_MSR_BY_CPUID7_EDX: word = guest_cpuid(7, 3); break;
		case VH_MSR_BY_MTRRCAP:
			/* Bit 0 stands for VCNT (7:0), bit 8 is FIX. */
			word = (uint32_t)(r->bit == 0 ? VH_MSR_MTRRCAP_VALUE & 0xff
						      : VH_MSR_MTRRCAP_VALUE & (1u << r->bit));
			word = word ? 0xffffffffu : 0;
			break;
		case VH_MSR_BY_NONE: VH_FAIL("msr %#x: absent, but nothing says why", r->msr);
		}
		if (word & (1u << r->bit))
			VH_FAIL("msr %#x is absent, yet the CPU model shows its bit %u", r->msr,
				r->bit);
	}
	VH_EXPECT_EQ(n, 18u);
}

/* The speculation-control MSRs exactly as CPUID.7:EDX advertises them
 * (SDM vol. 4 table 2-2): SPEC_CTRL with IBRS (26), STIBP (27) or SSBD
 * (31); PRED_CMD with IBPB (26); FLUSH_CMD with L1D_FLUSH (28);
 * ARCH_CAPABILITIES with bit 29.  All hidden: all absent. */
VH_TEST(msr, speculation_controls_follow_cpuid)
{
	static const struct {
		uint32_t msr, bits;
	} spec[] = {
		{ VH_MSR_SPEC_CTRL, (1u << 26) | (1u << 27) | (1u << 31) },
		{ VH_MSR_PRED_CMD, 1u << 26 },
		{ VH_MSR_FLUSH_CMD, 1u << 28 },
		{ VH_MSR_ARCH_CAPS, 1u << 29 },
	};
	uint32_t edx = guest_cpuid(7, 3);

	for (unsigned i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		const struct vh_msr_rule *row = vh_msr_row(spec[i].msr);
		bool shown = (edx & spec[i].bits) != 0;

		VH_ASSERT(row != NULL);
		VH_EXPECT_EQ(row->store == VH_MSR_ABSENT, !shown);
		VH_EXPECT_EQ(vh_msr_find(spec[i].msr) != NULL, shown);
		VH_EXPECT_EQ(vh_msr_write_ok(spec[i].msr, 0), shown);
	}
}

static bool all_zeros(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)h;
	(void)sub;
	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf == 0)
		out[0] = 0xd;
	return true;
}

/* TSC-deadline mode is hidden, so its MSR is absent; TSC_ADJUST is shown
 * whatever the host says, so its MSR exists (reading 0, taking 0). */
VH_TEST(msr, tsc_deadline_and_tsc_adjust_follow_cpuid)
{
	struct vh_cpuid_host h = { .raw = all_zeros };
	struct vh_cpuid_vm vm = { .vcpus = 1 };
	const struct vh_msr_rule *adj = vh_msr_find(VH_MSR_TSC_ADJUST);
	uint32_t r[4];

	VH_EXPECT_EQ(guest_cpuid(1, 2) & (1u << 24), 0u);
	VH_EXPECT(vh_msr_find(VH_MSR_TSC_DEADLINE) == NULL);
	vh_cpuid_host_init(&h);
	VH_EXPECT(vh_cpuid_guest(&h, &vm, 7, 0, r));
	VH_EXPECT_EQ(r[1] & (1u << 1), 1u << 1);
	VH_ASSERT(adj != NULL);
	VH_EXPECT_EQ(adj->value, 0ull);
	VH_EXPECT(vh_msr_write_ok(VH_MSR_TSC_ADJUST, 0));
	VH_EXPECT(!vh_msr_write_ok(VH_MSR_TSC_ADJUST, 1));
	/* The TSC itself exists: a write the backend handles. */
	VH_EXPECT(vh_msr_find(VH_MSR_TSC)->store == VH_MSR_SPECIAL);
}

/* MTRRCAP says no variable and no fixed ranges: each range MSR is absent
 * (none of the 16 possible variable pairs nor any fixed one is listed
 * otherwise), the default type exists, keeps what it is given and takes
 * only valid types. */
VH_TEST(msr, mtrr_ranges_match_mtrrcap)
{
	static const uint32_t fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
					  0x26b, 0x26c, 0x26d, 0x26e, 0x26f };

	VH_EXPECT_EQ(vh_msr_find(VH_MSR_MTRRCAP)->value, VH_MSR_MTRRCAP_VALUE);
	VH_EXPECT_EQ(VH_MSR_MTRRCAP_VALUE & 0xff, 0ull);        /* VCNT */
	VH_EXPECT_EQ(VH_MSR_MTRRCAP_VALUE & (1ull << 8), 0ull); /* FIX */
	for (uint32_t m = 0x200; m < 0x220; m++)
		VH_EXPECT(vh_msr_find(m) == NULL);
	for (unsigned i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		VH_EXPECT(vh_msr_row(fixed[i]) != NULL);
		VH_EXPECT(vh_msr_find(fixed[i]) == NULL);
	}
	VH_EXPECT(!vh_msr_write_ok(VH_MSR_MTRRCAP, VH_MSR_MTRRCAP_VALUE));
	/* The default type is read-write storage, as on hardware. */
	VH_EXPECT(vh_msr_find(VH_MSR_MTRR_DEF_TYPE)->store == VH_MSR_VCPU);
	VH_EXPECT(vh_msr_write_ok(VH_MSR_MTRR_DEF_TYPE, 0xc06));
	VH_EXPECT(!vh_msr_write_ok(VH_MSR_MTRR_DEF_TYPE, 0xc02));
}

/* MISC_ENABLE reads what hardware with this CPU model would: fast
 * strings on; BTS and PEBS unavailable and performance monitoring off
 * (leaf 0xA reads 0); EIST and MONITOR off (CPUID.1:ECX 7 and 3 hidden);
 * CPUID not limited; XD not disabled. */
VH_TEST(msr, misc_enable_reads_as_the_cpu_model_says)
{
	const struct vh_msr_rule *r = vh_msr_find(VH_MSR_MISC_ENABLE);
	uint32_t ecx1 = guest_cpuid(1, 2);

	VH_ASSERT(r != NULL);
	VH_EXPECT(r->store == VH_MSR_CONST_WI);
	VH_EXPECT_EQ(r->value, 0x1801ull);
	VH_EXPECT_EQ(guest_cpuid(0xa, 0), 0u);
	VH_EXPECT_EQ(ecx1 & ((1u << 3) | (1u << 7)), 0u);
	VH_EXPECT(vh_msr_write_ok(VH_MSR_MISC_ENABLE, r->value));
	VH_EXPECT(!vh_msr_write_ok(VH_MSR_MISC_ENABLE, r->value | (1ull << 1)));
}

/* IA32_APIC_BASE: the BSP and enable bits as every OS writes them back;
 * moving the page, disabling the APIC or turning on x2APIC (hidden) is
 * refused. */
VH_TEST(msr, apic_base_keeps_its_page)
{
	VH_EXPECT_EQ(vh_msr_apic_base(0), 0xfee00900ull);
	VH_EXPECT_EQ(vh_msr_apic_base(1), 0xfee00800ull);
	VH_EXPECT_EQ(vh_msr_apic_base(7), VH_LAPIC_BASE | VH_APIC_BASE_ENABLE);
	VH_EXPECT(vh_msr_apic_base_write_ok(0, 0xfee00900ull));
	VH_EXPECT(vh_msr_apic_base_write_ok(3, 0xfee00800ull));
	VH_EXPECT(!vh_msr_apic_base_write_ok(0, 0xfed00900ull));  /* moved */
	VH_EXPECT(!vh_msr_apic_base_write_ok(0, 0xfee00d00ull));  /* x2APIC */
	VH_EXPECT(!vh_msr_apic_base_write_ok(0, 0xfee00100ull));  /* disabled */
	VH_EXPECT(!vh_msr_apic_base_write_ok(1, 0xfee00900ull));  /* not the BSP */
	VH_EXPECT(!vh_msr_apic_base_write_ok(0, 0x1fee00900ull)); /* above the page */
	VH_EXPECT_EQ(guest_cpuid(1, 2) & (1u << 21), 0u);         /* x2APIC hidden */
}
