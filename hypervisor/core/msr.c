/* SPDX-License-Identifier: Apache-2.0 */
/* The guest-visible MSR table (vh/msr.h).  Reserved bits are those the SDM
 * (vol. 4, architectural MSRs; vol. 2, WRMSR) says raise #GP when set, so
 * a guest sees what hardware would do, and no value that would fault a
 * hardware WRMSR or fail a VM entry is ever stored. */
#include "vh/msr.h"
#include "vh/devices.h"
#include "vh/lapic.h"

#define HIGH32 0xffffffff00000000ull

/* EFER: SCE, LME, LMA, NXE; nothing else is offered (CPUID says so). */
#define EFER_RESERVED (~((1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11)))
/* MISC_ENABLE: the architectural bits (fast strings, TCC, perfmon, BTS,
 * PEBS, EIST, MONITOR, limit CPUID, xTPR, XD disable); the rest reserved.
 * A valid write is dropped: it reads VH_MSR_MISC_ENABLE_VALUE. */
#define MISC_ENABLE_OK                                                                          \
	((1ull << 0) | (1ull << 3) | (1ull << 7) | (1ull << 11) | (1ull << 12) | (1ull << 16) | \
	 (1ull << 18) | (1ull << 22) | (1ull << 23) | (1ull << 34))
/* MTRR_DEF_TYPE: type 7:0, FE 10, E 11. */
#define MTRR_DEF_TYPE_OK (0xffull | (1ull << 10) | (1ull << 11))
/* MCG_STATUS: RIPV, EIPV, MCIP, LMCE_S. */
#define MCG_STATUS_OK 0xfull
#define FC_LOCKED     1ull

#define ROW(m, st, val, res, chk)                                                            \
	{                                                                                    \
		.msr = (m), .store = (st), .value = (val), .reserved = (res), .check = (chk) \
	}
#define ABSENT(m, by, b)                                                          \
	{                                                                         \
		.msr = (m), .store = VH_MSR_ABSENT, .hidden_by = (by), .bit = (b) \
	}
/* MTRRCAP bit 8: fixed ranges supported. */
#define MTRRCAP_FIX 8

/* In MSR order, so the table reads as the SDM's list does. */
const struct vh_msr_rule vh_msr_rules[] = {
	ROW(VH_MSR_TSC, VH_MSR_SPECIAL, 0, 0, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_PLATFORM_ID, VH_MSR_CONST_RO, 0, 0, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_APIC_BASE_MSR, VH_MSR_SPECIAL, 0, 0, VH_MSR_CHECK_NONE),
	/* Locked with VMX off: the guest cannot turn VMX on. */
	ROW(VH_MSR_FEATURE_CONTROL, VH_MSR_CONST_RO, FC_LOCKED, 0, VH_MSR_CHECK_NONE),
	/* CPUID shows it (VH_CPUID7_EBX_TSC_ADJUST).  The guest's TSC is the
	 * host's (a TSC write is dropped on every back end), so its
	 * adjustment reads 0; writing 0 is taken, any other value raises #GP
	 * rather than being lost without a word. */
	ROW(VH_MSR_TSC_ADJUST, VH_MSR_CONST_WI, 0, ~0ull, VH_MSR_CHECK_NONE),
	/* The speculation controls exist exactly as CPUID.7:EDX says:
	 * IBRS/IBPB (26) for SPEC_CTRL and PRED_CMD, L1D_FLUSH (28),
	 * ARCH_CAPABILITIES (29); vh hides them all. */
	ABSENT(VH_MSR_SPEC_CTRL, VH_MSR_BY_CPUID7_EDX, 26),
	ABSENT(VH_MSR_PRED_CMD, VH_MSR_BY_CPUID7_EDX, 26),
	ROW(VH_MSR_BIOS_SIGN_ID, VH_MSR_CONST_WI, 0, 0, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_MTRRCAP, VH_MSR_CONST_RO, VH_MSR_MTRRCAP_VALUE, 0, VH_MSR_CHECK_NONE),
	ABSENT(VH_MSR_ARCH_CAPS, VH_MSR_BY_CPUID7_EDX, 29),
	ABSENT(VH_MSR_FLUSH_CMD, VH_MSR_BY_CPUID7_EDX, 28),
	/* The VMCS field is 32 bits: the upper half cannot be kept. */
	ROW(VH_MSR_SYSENTER_CS, VH_MSR_GUEST, 0, HIGH32, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_SYSENTER_ESP, VH_MSR_GUEST, 0, 0, VH_MSR_CHECK_CANONICAL),
	ROW(VH_MSR_SYSENTER_EIP, VH_MSR_GUEST, 0, 0, VH_MSR_CHECK_CANONICAL),
	ROW(VH_MSR_MCG_CAP, VH_MSR_CONST_RO, 0, 0, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_MCG_STATUS, VH_MSR_CONST_WI, 0, ~MCG_STATUS_OK, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_MISC_ENABLE, VH_MSR_CONST_WI, VH_MSR_MISC_ENABLE_VALUE, ~MISC_ENABLE_OK,
	    VH_MSR_CHECK_NONE),
	/* MTRRCAP.VCNT is 0: the first variable range's pair stands for all. */
	ABSENT(VH_MSR_MTRR_PHYSBASE0, VH_MSR_BY_MTRRCAP, 0),
	ABSENT(VH_MSR_MTRR_PHYSBASE0 + 1, VH_MSR_BY_MTRRCAP, 0),
	ABSENT(VH_MSR_MTRR_FIX64K, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX16K, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX16K + 1, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 0, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 1, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 2, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 3, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 4, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 5, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 6, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ABSENT(VH_MSR_MTRR_FIX4K + 7, VH_MSR_BY_MTRRCAP, MTRRCAP_FIX),
	ROW(VH_MSR_PAT, VH_MSR_SPECIAL, 0, 0, VH_MSR_CHECK_PAT),
	/* Read-write as on hardware, though vh's EPT maps guest RAM
	 * write-back whatever the guest's MTRRs say. */
	ROW(VH_MSR_MTRR_DEF_TYPE, VH_MSR_VCPU, 0x6, ~MTRR_DEF_TYPE_OK, VH_MSR_CHECK_MTRR_TYPE),
	/* TSC-deadline mode is hidden (CPUID.1:ECX bit 24). */
	ABSENT(VH_MSR_TSC_DEADLINE, VH_MSR_BY_CPUID1_ECX, 24),
	ROW(VH_MSR_EFER, VH_MSR_SPECIAL, 0, EFER_RESERVED, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_STAR, VH_MSR_LOADED, 0, 0, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_LSTAR, VH_MSR_LOADED, 0, 0, VH_MSR_CHECK_CANONICAL),
	ROW(VH_MSR_CSTAR, VH_MSR_LOADED, 0, 0, VH_MSR_CHECK_CANONICAL),
	ROW(VH_MSR_FMASK, VH_MSR_LOADED, 0, HIGH32, VH_MSR_CHECK_NONE),
	ROW(VH_MSR_FS_BASE, VH_MSR_GUEST, 0, 0, VH_MSR_CHECK_CANONICAL),
	ROW(VH_MSR_GS_BASE, VH_MSR_GUEST, 0, 0, VH_MSR_CHECK_CANONICAL),
	ROW(VH_MSR_KERNEL_GS_BASE, VH_MSR_LOADED, 0, 0, VH_MSR_CHECK_CANONICAL),
	ROW(VH_MSR_TSC_AUX, VH_MSR_LOADED, 0, HIGH32, VH_MSR_CHECK_NONE),
};

const unsigned vh_msr_rule_count = sizeof(vh_msr_rules) / sizeof(vh_msr_rules[0]);

const struct vh_msr_rule *vh_msr_row(uint32_t msr)
{
	for (unsigned i = 0; i < vh_msr_rule_count; i++)
		if (vh_msr_rules[i].msr == msr)
			return &vh_msr_rules[i];
	return 0;
}

const struct vh_msr_rule *vh_msr_find(uint32_t msr)
{
	const struct vh_msr_rule *r = vh_msr_row(msr);

	return r && r->store != VH_MSR_ABSENT ? r : 0;
}

bool vh_msr_canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

static bool pat_type_ok(unsigned t)
{
	return t <= 7 && t != 2 && t != 3;
}

static bool check_ok(enum vh_msr_check c, uint64_t v)
{
	switch (c) {
	case VH_MSR_CHECK_NONE: return true;
	case VH_MSR_CHECK_CANONICAL: return vh_msr_canonical(v);
	case VH_MSR_CHECK_PAT:
		for (int i = 0; i < 8; i++)
			if (!pat_type_ok((unsigned)(v >> (8 * i)) & 0xff))
				return false;
		return true;
	case VH_MSR_CHECK_MTRR_TYPE:
		/* 7 (UC-) is a PAT type only, never an MTRR's. */
		return pat_type_ok((unsigned)v & 0xff) && (v & 0xff) != 7;
	}
	return false;
}

bool vh_msr_write_ok(uint32_t msr, uint64_t v)
{
	const struct vh_msr_rule *r = vh_msr_find(msr);

	return r && r->store != VH_MSR_CONST_RO && !(v & r->reserved) && check_ok(r->check, v);
}

uint64_t vh_msr_apic_base(uint32_t vcpu_index)
{
	return VH_LAPIC_BASE | VH_APIC_BASE_ENABLE | (vcpu_index == 0 ? VH_APIC_BASE_BSP : 0);
}

bool vh_msr_apic_base_write_ok(uint32_t vcpu_index, uint64_t v)
{
	return v == vh_msr_apic_base(vcpu_index);
}
