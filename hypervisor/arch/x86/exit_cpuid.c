/* SPDX-License-Identifier: Apache-2.0 */
/* CPUID: the host CPU's answers with what vh does not virtualise hidden
 * (VMX, SMX, MONITOR/MWAIT, x2APIC, TSC deadline, PCID/INVPCID, machine
 * check, MTRRs, performance monitoring, thermal and power management,
 * the speculation-control MSRs, XSAVES), the hypervisor bit set, the
 * topology of the VM (APIC id = vCPU index in leaves 1 and 0xB), and vh's
 * own leaves. */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "vh/hypercall.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define L1_ECX_HIDE ((1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 8) | (1u << 15) | \
		     (1u << 17) | (1u << 18) | (1u << 21) | (1u << 24))
#define L1_EDX_HIDE ((1u << 7) | (1u << 12) | (1u << 14) | (1u << 21) | (1u << 22) | \
		     (1u << 29) | (1u << 31))
#define L7_EBX_HIDE ((1u << 2) | (1u << 10) | (1u << 12) | (1u << 14) | (1u << 15))
#define L7_ECX_HIDE ((1u << 5) | (1u << 30))
#define L7_EDX_HIDE ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 29) | (1u << 31))
#define LD1_EAX_XSAVES (1u << 3)

/* Leaf 0xB, the extended topology: the VM is one package of `vcpus`
 * cores with one thread each, and EDX is this vCPU's APIC id, the same
 * value as leaf 1 EBX[31:24] and the local APIC model's ID register, so
 * a guest that numbers its CPUs by either finds the same answer.  The
 * host's topology would give every vCPU the id of whatever CPU ran it. */
static void topology(const struct vh_exit *x, uint32_t sub, uint32_t r[4])
{
	uint32_t n = x->vm->cfg.vcpus, shift = 0;

	while ((1u << shift) < n)
		shift++;
	r[3] = x->vcpu->index;
	switch (sub) {
	case 0: /* SMT level: one thread per core */
		r[0] = 0;
		r[1] = 1;
		r[2] = (1u << 8) | sub;
		break;
	case 1: /* core level: the whole VM */
		r[0] = shift;
		r[1] = n;
		r[2] = (2u << 8) | sub;
		break;
	default: /* no more levels: type 0, counts 0 */
		r[0] = r[1] = 0;
		r[2] = sub & 0xff;
		break;
	}
}

enum vh_exit_action vh_exit_cpuid(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint32_t leaf = (uint32_t)vv->regs.rax, sub = (uint32_t)vv->regs.rcx;
	uint32_t r[4];

	if (!vh_hypercall_cpuid(leaf, VH_HC_FEAT_VMCALL | VH_HC_FEAT_PORT, r)) {
		if (leaf >= VH_CPUID_BASE && leaf < 0x80000000u) {
			r[0] = r[1] = r[2] = r[3] = 0; /* other hypervisor ranges */
		} else {
			cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
		}
		switch (leaf) {
		case 1:
			r[2] &= ~L1_ECX_HIDE;
			r[2] |= CPUID1_ECX_HYPERVISOR;
			/* OSXSAVE mirrors the guest's CR4, not ours. */
			r[2] &= ~CPUID1_ECX_OSXSAVE;
			if (vh_exit_guest_cr4() & CR4_OSXSAVE)
				r[2] |= CPUID1_ECX_OSXSAVE;
			r[3] &= ~L1_EDX_HIDE;
			/* EBX: initial APIC id, logical processors. */
			r[1] = (r[1] & 0xffff) | (x->vcpu->index << 24) |
			       ((x->vm->cfg.vcpus & 0xff) << 16);
			if (x->vm->cfg.vcpus > 1)
				r[3] |= 1u << 28; /* HTT: the count above is valid */
			break;
		case 4:
			r[0] &= 0x3ff; /* one core, one thread per cache */
			break;
		case 0xb:
			topology(x, sub, r);
			break;
		case 5: case 6: case 0xa: case 0x1f:
			r[0] = r[1] = r[2] = r[3] = 0;
			break;
		case 7:
			if (sub == 0) {
				r[1] &= ~L7_EBX_HIDE;
				r[2] &= ~L7_ECX_HIDE;
				r[3] &= ~L7_EDX_HIDE;
			} else {
				r[0] = r[1] = r[2] = r[3] = 0;
			}
			break;
		case 0xd:
			if (sub == 1)
				r[0] &= ~LD1_EAX_XSAVES;
			break;
		}
	}
	vv->regs.rax = r[0];
	vv->regs.rbx = r[1];
	vv->regs.rcx = r[2];
	vv->regs.rdx = r[3];
	vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}
