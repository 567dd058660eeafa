/* SPDX-License-Identifier: Apache-2.0 */
/* The MSRs a guest may touch and what a write must satisfy: one table for
 * every backend, each MSR with its policy (vh_msr_store): storage per vCPU
 * (a VMCS field, a copy loaded with the vCPU, or vh's own), a read-only value, a
 * value whose writes are checked and dropped, emulated with side effects
 * (the backend's rule, or the core's for IA32_APIC_BASE), or absent: an
 * architectural MSR that vh's CPU model says does not exist (its CPUID
 * bit hidden, or MTRRCAP counting no such range), which raises #GP as on
 * hardware.  An MSR not in the table at all raises #GP too.  Whatever value a guest's WRMSR passes
 * reaches hardware (a VMCS guest field loaded at VM entry, or a per-vCPU copy that the bare-metal
 * kernel puts in the real MSR with WRMSR) only after vh_msr_write_ok() took it; a value the SDM
 * says raises #GP on hardware (a reserved bit set, a non-canonical address, an invalid memory type)
 * raises #GP in the guest instead. */
#ifndef VH_MSR_H
#define VH_MSR_H

#include <stdbool.h>
#include <stdint.h>

#define VH_MSR_TSC             0x10u
#define VH_MSR_PLATFORM_ID     0x17u
#define VH_MSR_APIC_BASE_MSR   0x1bu
#define VH_MSR_FEATURE_CONTROL 0x3au
#define VH_MSR_TSC_ADJUST      0x3bu
#define VH_MSR_SPEC_CTRL       0x48u
#define VH_MSR_PRED_CMD        0x49u
#define VH_MSR_BIOS_SIGN_ID    0x8bu
#define VH_MSR_MTRRCAP         0xfeu
#define VH_MSR_ARCH_CAPS       0x10au
#define VH_MSR_FLUSH_CMD       0x10bu
#define VH_MSR_SYSENTER_CS     0x174u
#define VH_MSR_SYSENTER_ESP    0x175u
#define VH_MSR_SYSENTER_EIP    0x176u
#define VH_MSR_MCG_CAP         0x179u
#define VH_MSR_MCG_STATUS      0x17au
#define VH_MSR_MISC_ENABLE     0x1a0u
#define VH_MSR_MTRR_PHYSBASE0  0x200u /* variable ranges: base, mask pairs */
#define VH_MSR_MTRR_FIX64K     0x250u
#define VH_MSR_MTRR_FIX16K     0x258u /* and 0x259 */
#define VH_MSR_MTRR_FIX4K      0x268u /* to 0x26f */
#define VH_MSR_PAT             0x277u
#define VH_MSR_MTRR_DEF_TYPE   0x2ffu
#define VH_MSR_TSC_DEADLINE    0x6e0u
#define VH_MSR_EFER            0xc0000080u
#define VH_MSR_STAR            0xc0000081u
#define VH_MSR_LSTAR           0xc0000082u
#define VH_MSR_CSTAR           0xc0000083u
#define VH_MSR_FMASK           0xc0000084u
#define VH_MSR_FS_BASE         0xc0000100u
#define VH_MSR_GS_BASE         0xc0000101u
#define VH_MSR_KERNEL_GS_BASE  0xc0000102u
#define VH_MSR_TSC_AUX         0xc0000103u

/* IA32_MISC_ENABLE as hardware with vh's CPU model reports it: fast
 * strings on; BTS and PEBS unavailable (no performance monitoring); EIST,
 * MONITOR/MWAIT, limit-CPUID and XD-disable off, as CPUID shows them. */
#define VH_MSR_MISC_ENABLE_VALUE ((1ull << 0) | (1ull << 11) | (1ull << 12))
/* IA32_MTRRCAP: no variable ranges (VCNT 0), no fixed ranges, no WC, no
 * SMRR; so every range MSR is absent and only MTRR_DEF_TYPE exists. */
#define VH_MSR_MTRRCAP_VALUE 0ull

/* Where a guest's value lives; the backend maps each kind to its storage. */
enum vh_msr_store {
	VH_MSR_ABSENT,   /* no such MSR in vh's CPU model: #GP (see `hidden_by`) */
	VH_MSR_CONST_RO, /* reads `value`; a write raises #GP */
	VH_MSR_CONST_WI, /* reads `value`; a valid write is dropped */
	VH_MSR_GUEST,    /* guest state the CPU loads at VM entry (a VMCS field) */
	VH_MSR_LOADED,   /* a per-vCPU copy WRMSR'd into the real MSR while it runs */
	VH_MSR_VCPU,     /* kept per vCPU, never in hardware: `value` at reset,
			  * then what the guest last wrote */
	VH_MSR_SPECIAL,  /* emulated: the backend's rule (TSC, EFER, PAT) or the
			  * core's (APIC base: vh_msr_apic_base_*) */
};

/* What in vh's CPU model says an VH_MSR_ABSENT MSR does not exist; the
 * unit tests hold each row against the CPUID model (vh/cpuid.h). */
enum vh_msr_hidden_by {
	VH_MSR_BY_NONE,
	VH_MSR_BY_CPUID1_ECX, /* CPUID.1:ECX bit `bit` hidden */
	VH_MSR_BY_CPUID7_EBX, /* CPUID.(7,0):EBX bit `bit` hidden */
	VH_MSR_BY_CPUID7_EDX, /* CPUID.(7,0):EDX bit `bit` hidden */
	VH_MSR_BY_MTRRCAP,    /* IA32_MTRRCAP bit `bit` clear (FIX) or VCNT 0 */
};

/* Value checks beyond the reserved-bit mask. */
enum vh_msr_check {
	VH_MSR_CHECK_NONE,
	VH_MSR_CHECK_CANONICAL, /* a 48-bit canonical linear address */
	VH_MSR_CHECK_PAT,       /* each byte a valid PAT type: 0, 1, 4, 5, 6, 7 */
	VH_MSR_CHECK_MTRR_TYPE, /* bits 7:0 a valid MTRR type: 0, 1, 4, 5, 6 */
};

struct vh_msr_rule {
	uint32_t msr;
	enum vh_msr_store store;
	uint64_t value;    /* VH_MSR_CONST_*: what a read returns */
	uint64_t reserved; /* bits a write must leave clear */
	enum vh_msr_check check;
	enum vh_msr_hidden_by hidden_by; /* VH_MSR_ABSENT: why */
	uint8_t bit;                     /* ... which bit says so */
};

/* Backends may size per-rule arrays with this (the unit test checks it). */
#define VH_MSR_RULES_MAX 48

extern const struct vh_msr_rule vh_msr_rules[];
extern const unsigned vh_msr_rule_count;

/* The rule for msr, or NULL: the guest gets #GP for an MSR not listed or
 * listed as VH_MSR_ABSENT. */
const struct vh_msr_rule *vh_msr_find(uint32_t msr);
/* The table's row for msr, VH_MSR_ABSENT ones included (for tests and
 * for backends that must send every listed MSR to vh). */
const struct vh_msr_rule *vh_msr_row(uint32_t msr);
/* May the guest write v to msr?  False for an unlisted or read-only MSR
 * and for any value hardware would refuse with #GP. */
bool vh_msr_write_ok(uint32_t msr, uint64_t v);
bool vh_msr_canonical(uint64_t v);

/* IA32_APIC_BASE of vCPU `vcpu_index`: the local APIC model at
 * VH_LAPIC_BASE, enabled, in xAPIC mode (x2APIC is hidden), BSP on vCPU
 * 0.  A write is taken only when it changes nothing: the APIC page does
 * not move, and the model can be neither disabled nor put in x2APIC mode
 * (those bits are reserved while CPUID hides x2APIC). */
uint64_t vh_msr_apic_base(uint32_t vcpu_index);
bool vh_msr_apic_base_write_ok(uint32_t vcpu_index, uint64_t v);

#endif
