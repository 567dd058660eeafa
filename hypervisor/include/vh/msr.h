/* SPDX-License-Identifier: Apache-2.0 */
/* The MSRs a guest may touch and what a write must satisfy: one table for
 * every backend.  Whatever value a guest's WRMSR passes reaches hardware
 * (a VMCS guest field loaded at VM entry, or a per-vCPU copy that the
 * bare-metal kernel puts in the real MSR with WRMSR) only after
 * vh_msr_write_ok() took it; a value the SDM says raises #GP on hardware
 * (a reserved bit set, a non-canonical address, an invalid memory type)
 * raises #GP in the guest instead. */
#ifndef VH_MSR_H
#define VH_MSR_H

#include <stdbool.h>
#include <stdint.h>

#define VH_MSR_TSC             0x10u
#define VH_MSR_PLATFORM_ID     0x17u
#define VH_MSR_APIC_BASE_MSR   0x1bu
#define VH_MSR_FEATURE_CONTROL 0x3au
#define VH_MSR_BIOS_SIGN_ID    0x8bu
#define VH_MSR_MTRRCAP         0xfeu
#define VH_MSR_SYSENTER_CS     0x174u
#define VH_MSR_SYSENTER_ESP    0x175u
#define VH_MSR_SYSENTER_EIP    0x176u
#define VH_MSR_MCG_CAP         0x179u
#define VH_MSR_MCG_STATUS      0x17au
#define VH_MSR_MISC_ENABLE     0x1a0u
#define VH_MSR_PAT             0x277u
#define VH_MSR_MTRR_DEF_TYPE   0x2ffu
#define VH_MSR_EFER            0xc0000080u
#define VH_MSR_STAR            0xc0000081u
#define VH_MSR_LSTAR           0xc0000082u
#define VH_MSR_CSTAR           0xc0000083u
#define VH_MSR_FMASK           0xc0000084u
#define VH_MSR_FS_BASE         0xc0000100u
#define VH_MSR_GS_BASE         0xc0000101u
#define VH_MSR_KERNEL_GS_BASE  0xc0000102u
#define VH_MSR_TSC_AUX         0xc0000103u

/* Where a guest's value lives; the backend maps each kind to its storage. */
enum vh_msr_store {
	VH_MSR_CONST_RO, /* reads `value`; a write raises #GP */
	VH_MSR_CONST_WI, /* reads `value`; a valid write is dropped */
	VH_MSR_GUEST,    /* guest state the CPU loads at VM entry (a VMCS field) */
	VH_MSR_LOADED,   /* a per-vCPU copy WRMSR'd into the real MSR while it runs */
	VH_MSR_SPECIAL,  /* the backend's own rule (TSC, APIC base, EFER, PAT) */
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
};

/* Backends may size per-rule arrays with this (the unit test checks it). */
#define VH_MSR_RULES_MAX 32

extern const struct vh_msr_rule vh_msr_rules[];
extern const unsigned vh_msr_rule_count;

/* The rule for msr, or NULL: the guest gets #GP for an MSR not listed. */
const struct vh_msr_rule *vh_msr_find(uint32_t msr);
/* May the guest write v to msr?  False for an unlisted or read-only MSR
 * and for any value hardware would refuse with #GP. */
bool vh_msr_write_ok(uint32_t msr, uint64_t v);
bool vh_msr_canonical(uint64_t v);

#endif
