/* Hypercalls, by VMCALL or by a 4-byte write to VH_HC_PORT: the guest's
 * registers go to the core's vh_hypercall(), which validates everything.
 * Only the guest kernel (CPL 0) may call: a guest's user programs must
 * not reach the hypervisor behind its kernel's back. */
#include <stdint.h>

#include "exit.h"
#include "vh/host.h"
#include "vh/hypercall.h"
#include "vh/vm.h"
#include "vmx_vcpu.h"



enum vh_exit_action vh_exit_hypercall_regs(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	bool wide = vh_exit_guest_long_mode();
	uint64_t m = wide ? ~0ull : 0xffffffffull;
	struct vh_hypercall_regs r = {
		.rax = vv->regs.rax & m, .rbx = vv->regs.rbx & m, .rcx = vv->regs.rcx & m,
		.rdx = vv->regs.rdx & m, .rsi = vv->regs.rsi & m,
	};
	enum vh_hc_action a = VH_HC_RESUME;

	if (vh_exit_guest_cpl() != 0) {
		r.rax = (uint64_t)-(int64_t)VH_HC_EPERM;
	} else {
		x->h->plat->lock(x->h->plat->ctx);
		a = vh_hypercall(x->h, x->vm, x->vcpu, &r);
		x->h->plat->unlock(x->h->plat->ctx);
	}
	vv->regs.rax = r.rax & m;
	return a == VH_HC_YIELDED ? VH_EXIT_YIELD : VH_EXIT_RESUME;
}

enum vh_exit_action vh_exit_vmcall(struct vh_exit *x)
{
	enum vh_exit_action a = vh_exit_hypercall_regs(x);

	vh_exit_skip(x->vv);
	return a;
}
