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
	uint64_t m = vh_exit_guest_long_mode() ? ~0ull : 0xffffffffull;
	struct vh_hypercall_regs r = {
		.rax = vv->regs.rax & m,
		.rbx = vv->regs.rbx & m,
		.rcx = vv->regs.rcx & m,
		.rdx = vv->regs.rdx & m,
		.rsi = vv->regs.rsi & m,
		.cpl = vh_exit_guest_cpl(),
	};
	enum vh_hc_action a;

	vh_spin_lock(&vh_host_lock);
	a = vh_hypercall(x->h, x->vm, x->vcpu, &r);
	vh_spin_unlock(&vh_host_lock);
	vv->regs.rax = r.rax & m;
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
