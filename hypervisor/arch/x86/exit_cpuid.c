/* SPDX-License-Identifier: Apache-2.0 */
/* CPUID: the shared CPU model (vh/cpuid.h) over the host's own answers.
 * What this back end supplies: the CPUID instruction, the TSC rate it
 * calibrated, the local APIC model's clock and the guest-physical width
 * its EPT maps. */
#include <stdint.h>

#include "cpu.h"
#include "ept.h"
#include "exit.h"
#include "tsc.h"
#include "vh/cpuid.h"
#include "vh/hypercall.h"
#include "vh/lapic.h"
#include "vh/vm.h"
#include "vmx_vcpu.h"

static bool host_cpuid(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	(void)h;
	cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
	return true;
}

/* Read once: leaf 0 and 0x80000000 do not change while vh runs. */
static struct vh_cpuid_host host = { .raw = host_cpuid };
static uint8_t phys_bits;

static void host_setup(void)
{
	uint32_t r[4] = { 0 };

	if (host.max_basic)
		return;
	vh_cpuid_host_init(&host);
	if (host.max_ext >= VH_CPUID_ADDR_LEAF)
		host_cpuid(&host, VH_CPUID_ADDR_LEAF, 0, r);
	phys_bits = (r[0] & 0xff) ? (uint8_t)(r[0] & 0xff) : 36;
	if (phys_bits > VH_EPT_GPA_BITS)
		phys_bits = VH_EPT_GPA_BITS;
}

unsigned vh_exit_guest_phys_bits(void)
{
	host_setup();
	return phys_bits;
}

/* At the vCPU's creation, so that the exit only looks up its leaf. */
void vh_exit_cpuid_setup(struct vh_vmx_vcpu *vv)
{
	host_setup();
	vv->cpuid = (struct vh_cpuid_vm){
		.vcpus = vv->vcpu->vm->cfg.vcpus,
		.vcpu_index = vv->vcpu->index,
		.hc_features = VH_HC_FEAT_VMCALL | VH_HC_FEAT_PORT,
		.tsc_hz = vh_tsc_hz(),
		.bus_hz = VH_LAPIC_BUS_HZ,
		.phys_bits = phys_bits,
	};
}

enum vh_exit_action vh_exit_cpuid(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint32_t leaf = (uint32_t)vv->regs.rax, r[4];

	if (leaf == 1) /* OSXSAVE mirrors the guest's CR4: read it only here */
		vv->cpuid.osxsave = (vh_exit_guest_cr4() & CR4_OSXSAVE) != 0;
	vh_cpuid_guest(&host, &vv->cpuid, leaf, (uint32_t)vv->regs.rcx, r);
	vv->regs.rax = r[0];
	vv->regs.rbx = r[1];
	vv->regs.rcx = r[2];
	vv->regs.rdx = r[3];
	vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}
