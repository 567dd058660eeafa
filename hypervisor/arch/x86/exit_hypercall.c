/* SPDX-License-Identifier: Apache-2.0 */
/* Hypercalls, by VMCALL or by a 4-byte write to VH_HC_PORT: the guest's
 * registers and privilege level go to the core's vh_hypercall(), which
 * validates everything and refuses a caller outside CPL 0. */
#include <stdint.h>

#include "exit.h"
#include "platform.h"
#include "vh/host.h"
#include "vh/hypercall.h"
#include "vh/vm.h"
#include "vmx_vcpu.h"

/* The exit's action for the core's: a load where a compare and a select
 * cost four instructions on every VMCALL (vh_hypercall() returns only
 * these two). */
static const enum vh_exit_action of_hc[] = {
	[VH_HC_RESUME] = VH_EXIT_RESUME,
	[VH_HC_YIELDED] = VH_EXIT_YIELD,
};

/* Inline in both callers: VMCALL is the common form on bare metal, and a
 * call through here costs its own prologue. */
static inline __attribute__((always_inline)) enum vh_exit_action hypercall(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	bool long_mode = vh_exit_guest_long_mode();
	struct vh_hypercall r;
	enum vh_hc_action a;

	/* Outside 64-bit mode the registers are 32 bits wide: two copies,
	 * 32-bit loads zero-extend, rather than a mask on each. */
	if (long_mode)
		r = (struct vh_hypercall){ x->h, x->vm, x->vcpu, vv->regs.rax, vv->regs.rbx,
					   vv->regs.rcx, vv->regs.rdx, vv->regs.rsi, 0, 0 };
	else
		r = (struct vh_hypercall){ x->h, x->vm, x->vcpu, (uint32_t)vv->regs.rax,
					   (uint32_t)vv->regs.rbx, (uint32_t)vv->regs.rcx,
					   (uint32_t)vv->regs.rdx, (uint32_t)vv->regs.rsi, 0, 0 };
	r.cpl = vh_exit_guest_cpl();
	vh_spin_lock(&vh_host_lock);
	a = vh_hypercall(&r);
	vh_spin_unlock(&vh_host_lock);
	vv->regs.rax = long_mode ? r.rax : (uint32_t)r.rax;
	return of_hc[a];
}

enum vh_exit_action vh_exit_hypercall_regs(struct vh_exit *x)
{
	return hypercall(x);
}

enum vh_exit_action vh_exit_vmcall(struct vh_exit *x)
{
	enum vh_exit_action a = hypercall(x);

	vh_exit_skip(x->vv);
	return a;
}
