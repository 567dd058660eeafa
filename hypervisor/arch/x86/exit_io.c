/* Port I/O: the hypercall port first, then the VM's device models; a port
 * no device claims reads all ones and swallows writes, as on a PC with
 * nothing there. */
#include <stdint.h>

#include "exit.h"
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/hypercall.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define IO_SIZE_MASK 0x7u
#define IO_IN (1u << 3)
#define IO_STRING (1u << 4)



enum vh_exit_action vh_exit_io(struct vh_exit *x)
{
	struct vh_vmx_vcpu *vv = x->vv;
	unsigned size = (unsigned)(x->qual & IO_SIZE_MASK) + 1;
	bool in = (x->qual & IO_IN) != 0;
	uint16_t port = (uint16_t)(x->qual >> 16);
	uint32_t mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	uint32_t value;
	enum vh_io_result r;

	if (x->qual & IO_STRING) {
		/* INS/OUTS would need guest-virtual memory access; the guests
		 * vh runs use single-value port I/O. */
		return vh_exit_crash(x, "string I/O (%s) on port %#x is not supported",
				     in ? "ins" : "outs", port);
	}
	if (vh_hypercall_is_port(port, size, !in)) {
		enum vh_exit_action a = vh_exit_hypercall_regs(x);
		vh_exit_skip(vv);
		return a;
	}
	value = in ? 0 : (uint32_t)vv->regs.rax & mask;
	x->h->plat->lock(x->h->plat->ctx);
	r = vh_devices_io(x->h, x->vm, x->vcpu, port, size, !in, &value);
	if (r == VH_IO_UNHANDLED) {
		x->vm->guest.io_unhandled++;
		value = 0xffffffffu;
	}
	x->h->plat->unlock(x->h->plat->ctx);
	if (in) {
		value &= mask;
		/* A 32-bit result zero-extends into RAX; 8 and 16 bits keep
		 * the rest of the register. */
		if (size == 4)
			vv->regs.rax = value;
		else
			vv->regs.rax = (vv->regs.rax & ~(uint64_t)mask) | value;
	}
	vh_exit_skip(vv);
	return r == VH_IO_STOPPED ? VH_EXIT_GONE : VH_EXIT_RESUME;
}
