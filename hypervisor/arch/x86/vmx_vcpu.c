/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "exit.h"
#include "heap.h"
#include "spinlock.h"
#include "vh/vm.h"
#include "vmx.h"
#include "vmx_vcpu.h"

#define FXSAVE_SIZE 512
#define MXCSR_DEFAULT 0x1f80u
#define FCW_DEFAULT 0x037fu
#define VPID_MAX 0xffffu

/* VPIDs tag the guests' TLB entries so a world switch flushes nothing.
 * 0 is the host's; they are handed out once and never reused while the
 * host lives (wrapping past 65535 would need INVVPID of the reused tag,
 * done in vh_vmx_vcpu_create when it happens). */
static uint32_t next_vpid = 1;
static struct vh_spinlock vpid_lock;

static void fpu_init_area(struct vh_vmx_vcpu *vv)
{
	uint8_t *a = vv->fpu;

	/* The legacy region's FCW and MXCSR: XRSTOR loads MXCSR from here
	 * whenever SSE or AVX is requested, even in the init state, and
	 * FXRSTOR loads everything.  The XSAVE header (bytes 512..575)
	 * stays zero: every component in its initial state. */
	*(uint16_t *)(a + 0) = FCW_DEFAULT;
	*(uint32_t *)(a + 24) = MXCSR_DEFAULT;
}

bool vh_vmx_vcpu_create(struct vh_vcpu *vcpu)
{
	struct vh_vmx_vcpu *vv = vh_heap_alloc(sizeof(*vv), 64);

	if (!vv)
		return false;
	vv->vcpu = vcpu;
	vv->cpu = -1;
	vv->vmcs = vh_heap_alloc_page();
	vv->fpu_size = vh_vmx.xsave_size ? vh_vmx.xsave_size : FXSAVE_SIZE;
	vv->fpu = vh_heap_alloc(vv->fpu_size, 64);
	if (!vv->vmcs || !vv->fpu) {
		vh_heap_free(vv->vmcs, 4096);
		vh_heap_free(vv->fpu, vv->fpu_size);
		vh_heap_free(vv, sizeof(*vv));
		return false;
	}
	fpu_init_area(vv);
	vh_spin_lock(&vpid_lock);
	vv->vpid = (uint16_t)next_vpid;
	next_vpid = next_vpid == VPID_MAX ? 1 : next_vpid + 1;
	vh_spin_unlock(&vpid_lock);
	vv->xcr0 = 1;
	vh_exit_cpuid_setup(vv);
	vcpu->backend = vv;
	return true;
}

void vh_vmx_vcpu_destroy(struct vh_vcpu *vcpu)
{
	struct vh_vmx_vcpu *vv = vcpu->backend;

	if (!vv)
		return;
	vh_heap_free(vv->vmcs, 4096);
	vh_heap_free(vv->fpu, vv->fpu_size);
	vh_heap_free(vv, sizeof(*vv));
	vcpu->backend = 0;
}
