/* SPDX-License-Identifier: Apache-2.0 */
/* Guest MSRs on vh-hosted, by the same table as bare metal (vh/msr.h).
 * Measured on this host's KVM (PVM), KVM's own answers differ from
 * hardware and from vh on bare metal in many places: a non-canonical
 * SYSENTER_ESP/EIP is silently canonicalised; an invalid PAT type, the
 * upper half of SYSENTER_CS or SFMASK, reserved MCG_STATUS / MISC_ENABLE
 * bits are taken; TSC_AUX is refused outright; the APIC page moves; the
 * MTRR ranges, TSC_ADJUST, TSC_DEADLINE, SPEC_CTRL, PRED_CMD and FLUSH_CMD
 * exist although CPUID hides them; MTRRCAP reads 0x508.  So KVM's MSR
 * filter denies the guest every MSR by default, and each RDMSR and WRMSR
 * comes here: an MSR the table does not list, or lists as absent, is #GP;
 * a constant is answered from the table; IA32_APIC_BASE follows the
 * core's rule; a value kept per vCPU (VMCS-like state, PAT, MTRR default
 * type) goes to KVM
 * as a host-initiated KVM_SET_MSRS once the table took it, and is read
 * with KVM_GET_MSRS.  Only the TSC and EFER stay KVM's (allowed by the
 * filter): its rules for them are hardware's (and vh's). */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/msr.h"
#include "vh/vm.h"

int vh_hosted_msr_filter(int vm_fd, char *why, size_t whylen)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR,
				      .args = { KVM_MSR_EXIT_REASON_FILTER } };
	/* A set bit allows the access: KVM handles it. */
	static const uint8_t allow[1] = { 1 };
	static const uint32_t kvms[] = { VH_MSR_TSC, VH_MSR_EFER };
	struct kvm_msr_filter f = { .flags = KVM_MSR_FILTER_DEFAULT_DENY };

	for (unsigned i = 0; i < sizeof(kvms) / sizeof(kvms[0]); i++)
		f.ranges[i] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = 1,
			.base = kvms[i],
			.bitmap = (uint8_t *)allow,
		};
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0) {
		snprintf(why, whylen, "KVM MSR filter (KVM_CAP_X86_USER_SPACE_MSR): %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* KVM_GET_MSRS or KVM_SET_MSRS of one MSR on the vCPU; false if refused. */
static bool kvm_msr(struct vh_hosted_vcpu *hv, bool write, uint32_t msr, uint64_t *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr = { .nmsrs = 1 }, .e = { .index = msr, .data = *v } };

	if (ioctl(hv->fd, write ? KVM_SET_MSRS : KVM_GET_MSRS, &m) != 1)
		return false;
	*v = m.e.data;
	return true;
}

void vh_hosted_msr_reset(int vcpu_fd)
{
	for (unsigned i = 0; i < vh_msr_rule_count; i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e;
		} m = { .hdr = { .nmsrs = 1 },
			.e = { .index = vh_msr_rules[i].msr, .data = vh_msr_rules[i].value } };

		/* Best effort, as the reset's other MSRs (kvm.c). */
		if (vh_msr_rules[i].store == VH_MSR_VCPU)
			(void)ioctl(vcpu_fd, KVM_SET_MSRS, &m);
	}
}

/* The guest's RDMSR (write false) or WRMSR of r's MSR; false: #GP. */
static bool guest_msr(struct vh_hosted_exit *x, const struct vh_msr_rule *r, bool write,
		      uint64_t *v)
{
	uint32_t index = x->vcpu->index;

	if (write && !vh_msr_write_ok(r->msr, *v))
		return false;
	switch (r->store) {
	case VH_MSR_ABSENT: return false;
	case VH_MSR_CONST_RO:
	case VH_MSR_CONST_WI:
		if (!write)
			*v = r->value;
		return true; /* a write here passed the check and is dropped */
	case VH_MSR_SPECIAL:
		if (r->msr == VH_MSR_APIC_BASE_MSR) {
			if (write)
				return vh_msr_apic_base_write_ok(index, *v);
			*v = vh_msr_apic_base(index);
			return true;
		}
		break; /* PAT (TSC and EFER, allowed, never come here) */
	case VH_MSR_GUEST:
	case VH_MSR_LOADED:
	case VH_MSR_VCPU: break; /* KVM keeps it (vh_hosted_msr_reset) */
	}
	return kvm_msr(x->hv, write, r->msr, v);
}

enum vh_hosted_next vh_hosted_msr_exit(struct vh_hosted_exit *x)
{
	struct kvm_run *run = x->hv->run;
	bool write = run->exit_reason == KVM_EXIT_X86_WRMSR;
	const struct vh_msr_rule *r = vh_msr_find(run->msr.index);
	uint64_t v = run->msr.data;

	x->vcpu->exits[VH_EXIT_MSR]++;
	if (!r || !guest_msr(x, r, write, &v)) {
		run->msr.error = 1; /* #GP */
		return VH_HOSTED_CONTINUE;
	}
	if (!write)
		run->msr.data = v;
	run->msr.error = 0;
	return VH_HOSTED_CONTINUE;
}
