/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's CPUID, one model for every back end: a table of leaves
 * saying, per register, which of the host's bits pass, which are forced
 * clear or set, and which leaves vh computes (its own hypervisor leaves,
 * the topology of the VM's vCPUs, the TSC and bus frequencies, the
 * address widths the back end maps).  The host side only supplies raw
 * values: bare metal the CPUID instruction, vh-hosted the entries of
 * KVM_GET_SUPPORTED_CPUID; the same rules then give the same guest view. */
#ifndef VH_CPUID_H
#define VH_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "vh/hypercall.h"

struct vh_cpuid_host {
	/* The host's answer to (leaf, subleaf); false where it has none
	 * (vh then starts from zeros). */
	bool (*raw)(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t out[4]);
	void *ctx;
	/* Filled by vh_cpuid_host_init from raw(): leaf 0 and 0x80000000 EAX. */
	uint32_t max_basic, max_ext;
};

/* What the back end decided about the VM and the asking vCPU. */
struct vh_cpuid_vm {
	uint32_t vcpus;       /* the VM's vCPU count, 1..255 */
	uint32_t vcpu_index;  /* the asking vCPU: its APIC id */
	uint32_t hc_features; /* VH_HC_FEAT_* this back end offers */
	uint64_t tsc_hz;      /* the guest's TSC rate; 0: unknown, leaves 0x15/0x16 read 0 */
	uint64_t bus_hz;      /* the local APIC timer's clock (VH_LAPIC_BUS_HZ), whole kHz */
	uint8_t phys_bits;    /* guest-physical address width the back end maps; 0: host's */
	bool osxsave;         /* the guest's CR4.OSXSAVE (leaf 1 ECX mirrors it) */
};

/* Leaves vh computes whatever the host says (a back end that lists leaves,
 * as KVM does, adds these where the host lacks them). */
#define VH_CPUID_TSC_LEAF  0x15u
#define VH_CPUID_FREQ_LEAF 0x16u
#define VH_CPUID_TOPO_LEAF 0xbu
#define VH_CPUID_ADDR_LEAF 0x80000008u

/* Bits vh hides (tests/unit/test_cpuid.c holds them against the table). */
#define VH_CPUID1_ECX_HIDE                                                                     \
	((1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 15) | (1u << 17) | \
	 (1u << 18) | (1u << 21) | (1u << 24))
#define VH_CPUID1_EDX_HIDE \
	((1u << 7) | (1u << 12) | (1u << 14) | (1u << 21) | (1u << 22) | (1u << 29) | (1u << 31))
#define VH_CPUID7_EBX_HIDE ((1u << 2) | (1u << 10) | (1u << 12) | (1u << 14) | (1u << 15))
/* Leaf 7 EBX bit 1, IA32_TSC_ADJUST: shown on every back end (this host's
 * /dev/kvm, PVM, shows it to its guests whatever KVM_SET_CPUID2 says), so
 * the MSR exists everywhere (vh/msr.h). */
#define VH_CPUID7_EBX_TSC_ADJUST (1u << 1)
#define VH_CPUID7_ECX_HIDE       ((1u << 5) | (1u << 30))
#define VH_CPUID7_EDX_HIDE       ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 29) | (1u << 31))
/* XSAVES, and XSAVEC: with it Linux saves in the compacted format, which
 * vh-hosted's XRSTOR completion does not take (this host's KVM hands
 * XRSTOR back: docs/hosted.md); the standard format needs no XSAVEC. */
#define VH_CPUIDD1_EAX_HIDE      ((1u << 1) | (1u << 3))
#define VH_CPUIDE8_EBX_RDPRU     (1u << 4) /* leaf 0x80000008 */
#define VH_CPUID1_ECX_OSXSAVE    (1u << 27)
#define VH_CPUID1_ECX_HYPERVISOR (1u << 31)
#define VH_CPUID1_EDX_HTT        (1u << 28)
#define VH_CPUID6_EAX_ARAT       (1u << 2) /* the APIC timer always runs */

/* Reads leaf 0 and 0x80000000 through h->raw. */
void vh_cpuid_host_init(struct vh_cpuid_host *h);

/* The guest's CPUID (leaf, subleaf) of the basic or extended range into
 * out[4] (EAX, EBX, ECX, EDX).  Returns false, out all zero, for a leaf
 * the guest's leaf 0 or 0x80000000 says does not exist. */
bool vh_cpuid_model(const struct vh_cpuid_host *h, const struct vh_cpuid_vm *vm, uint32_t leaf,
		    uint32_t sub, uint32_t out[4]);

#ifndef VH_HC_GUEST_ONLY
/* Any leaf: vh's hypervisor leaves here, inline, so that the CPUID exit a
 * guest makes to find vh stays the cheapest (docs/baremetal.md counts it);
 * other hypervisors' ranges read as absent. */
static inline bool vh_cpuid_guest(const struct vh_cpuid_host *h, const struct vh_cpuid_vm *vm,
				  uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	if (leaf - VH_CPUID_BASE >= 0x40000000u)
		return vh_cpuid_model(h, vm, leaf, sub, out);
	if (vh_hypercall_cpuid(leaf, vm->hc_features, out))
		return true;
	out[0] = out[1] = out[2] = out[3] = 0;
	return false;
}
#endif

/* The highest basic and extended leaves the guest sees. */
uint32_t vh_cpuid_max_basic(const struct vh_cpuid_host *h, const struct vh_cpuid_vm *vm);
uint32_t vh_cpuid_max_ext(const struct vh_cpuid_host *h);

#endif
