/* SPDX-License-Identifier: Apache-2.0 */
/* Guest MSR writes on vh-hosted, checked by the same table as bare metal
 * (vh/msr.h).  Measured on this host's KVM (PVM), a guest WRMSR of a
 * non-canonical SYSENTER_ESP/EIP is silently canonicalised, an invalid
 * PAT type, the upper half of SYSENTER_CS or SFMASK, or reserved
 * MCG_STATUS / MISC_ENABLE bits are taken, and TSC_AUX is refused
 * outright: all unlike hardware and unlike vh on bare metal.  So KVM's
 * MSR filter sends the guest's RDMSR and WRMSR of those MSRs here: a
 * write the table refuses is #GP, one it takes goes to KVM as a
 * host-initiated KVM_SET_MSRS, and a read comes from KVM_GET_MSRS.  The
 * MSRs with KVM's own rules (TSC, APIC base, EFER: KVM refuses what the
 * table refuses) stay KVM's. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hosted.h"
#include "vh/msr.h"
#include "vh/vm.h"

static bool filtered(const struct vh_msr_rule *r)
{
	return r->store != VH_MSR_CONST_RO && (r->store != VH_MSR_SPECIAL || r->msr == VH_MSR_PAT);
}

int vh_hosted_msr_filter(int vm_fd, char *why, size_t whylen)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR,
				      .args = { KVM_MSR_EXIT_REASON_FILTER } };
	/* A clear bit denies the access to the guest: KVM exits instead. */
	static const uint8_t deny[VH_MSR_RULES_MAX / 8 + 1];
	struct kvm_msr_filter f = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };
	unsigned n = 0;

	for (unsigned i = 0; i < vh_msr_rule_count; i++) {
		const struct vh_msr_rule *r = &vh_msr_rules[i];
		struct kvm_msr_filter_range *last = n ? &f.ranges[n - 1] : NULL;

		if (!filtered(r))
			continue;
		if (last && last->base + last->nmsrs == r->msr) {
			last->nmsrs++; /* the table lists neighbours in order */
			continue;
		}
		if (n == KVM_MSR_FILTER_MAX_RANGES) {
			snprintf(why, whylen, "MSR filter: more than %d ranges",
				 KVM_MSR_FILTER_MAX_RANGES);
			return -1;
		}
		f.ranges[n++] = (struct kvm_msr_filter_range){
			.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
			.nmsrs = 1,
			.base = r->msr,
			.bitmap = (uint8_t *)deny,
		};
	}
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0 ||
	    ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0) {
		snprintf(why, whylen, "KVM MSR filter (KVM_CAP_X86_USER_SPACE_MSR): %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

enum vh_hosted_next vh_hosted_msr_exit(struct vh_hosted_exit *x)
{
	struct kvm_run *run = x->hv->run;
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr = { .nmsrs = 1 }, .e = { .index = run->msr.index, .data = run->msr.data } };
	bool write = run->exit_reason == KVM_EXIT_X86_WRMSR;
	const struct vh_msr_rule *r = vh_msr_find(run->msr.index);

	x->vcpu->exits[VH_EXIT_MSR]++;
	run->msr.error = 1; /* #GP unless taken below */
	if (!r || !filtered(r) || (write && !vh_msr_write_ok(r->msr, run->msr.data)))
		return VH_HOSTED_CONTINUE;
	if (ioctl(x->hv->fd, write ? KVM_SET_MSRS : KVM_GET_MSRS, &m) != 1)
		return VH_HOSTED_CONTINUE;
	if (!write)
		run->msr.data = m.e.data;
	run->msr.error = 0;
	return VH_HOSTED_CONTINUE;
}
