/* SPDX-License-Identifier: Apache-2.0 */
/* Port I/O: the hypercall port first, then the VM's device models; a port
 * no device claims reads all ones and swallows writes, as on a PC with
 * nothing there.  String I/O (INS/OUTS, with or without REP) is emulated
 * element by element against the device models, each element checked
 * against its segment first (the I/O exit comes before the CPU's own
 * segment checks: vh makes them, #GP(0) or #SS(0) for the guest), the
 * buffer reached through the guest's page tables; a buffer element at a
 * guest-physical address that is not RAM is an MMIO access (the device
 * models, else writes dropped and reads all ones), as on a PC.  The
 * hypercall port takes only the single-value form (a string of
 * hypercalls means nothing). */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "mmio.h"
#include "platform.h"
#include "vh/error.h"
#include "vh/mem.h"
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/hypercall.h"
#include "vh/segment.h"
#include "vh/vcpu_io.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define IO_SIZE_MASK 0x7u
#define IO_IN (1u << 3)
#define IO_STRING (1u << 4)
#define IO_REP (1u << 5)
#define RFLAGS_DF (1u << 10)
/* Elements moved per exit: a long REP resumes where it stopped (RIP is
 * left on the instruction), so interrupts and the scheduler's quantum
 * are never held up for more than this many device accesses, as a CPU
 * takes interrupts between iterations. */
#define IO_STRING_BATCH 256u

/* Where copying one element to or from guest memory failed
 * (IO_MEM_NOT_MAPPED: the guest's #PF, from its page tables or rights;
 * IO_MEM_FAILED: guest RAM vh could not reach, an internal error). */
enum io_mem_result { IO_MEM_OK, IO_MEM_NOT_MAPPED, IO_MEM_FAILED, IO_MEM_NO_FRAME };

/* Part of an element at a guest-physical address that is not RAM: what
 * the CPU's access would do there, through the device bus (the local
 * APIC); unclaimed, a write is dropped and a read gives all ones.  The
 * host lock is held (dropped around the device). */
static void mmio_part(struct vh_exit *x, uint64_t gpa, uint8_t *buf, unsigned len, bool write)
{
	uint64_t value = 0;

	for (unsigned i = 0; write && i < len; i++)
		value |= (uint64_t)buf[i] << (8 * i);
	vh_vcpu_mmio(x->h, x->vm, x->vcpu, gpa, len, write, &value, true);
	for (unsigned i = 0; !write && i < len; i++)
		buf[i] = (uint8_t)(value >> (8 * i));
}

/* Copies size bytes between buf and guest-linear lin, page by page (an
 * element may straddle two pages).  *fault_lin names the first byte that
 * failed.  The caller holds the host lock. */
static enum io_mem_result copy_linear(struct vh_exit *x, uint64_t lin, uint8_t *buf,
				      unsigned size, bool to_guest, uint64_t *fault_lin,
				      uint32_t *pf_error)
{
	for (unsigned done = 0; done < size;) {
		unsigned chunk = 4096u - (unsigned)((lin + done) & 0xfff);
		struct vh_error err;
		uint64_t gpa;
		int rc;

		if (chunk > size - done)
			chunk = size - done;
		*fault_lin = lin + done;
		/* With the guest's own rights: INS cannot write a read-only
		 * or (from CPL 3) a supervisor page, nor OUTS read one. */
		switch (vh_mmio_walk(x, lin + done, to_guest ? VH_WALK_WRITE : 0, &gpa, pf_error)) {
		case VH_WALK_OK:
			break;
		case VH_WALK_FAULT:
			return IO_MEM_NOT_MAPPED;
		case VH_WALK_NO_TABLES:
			*pf_error = (to_guest ? VH_PF_WRITE : 0) |
				    (vh_exit_guest_cpl() == 3 ? VH_PF_USER : 0);
			return IO_MEM_NOT_MAPPED;
		}
		if (!vh_mem_guest_range_ok(x->vm, gpa, chunk)) {
			mmio_part(x, gpa, buf + done, chunk, to_guest);
			done += chunk;
			continue;
		}
		rc = to_guest ? vh_mem_guest_write(x->h, x->vm, gpa, buf + done, chunk, &err)
			      : vh_mem_guest_read(x->h, x->vm, gpa, buf + done, chunk, &err);
		if (rc == VH_E_NOMEM)
			return IO_MEM_NO_FRAME;
		if (rc != VH_OK)
			return IO_MEM_FAILED;
		done += chunk;
	}
	return IO_MEM_OK;
}

/* reg advanced by delta within an address size of `bits`: a 16-bit
 * update keeps the register's upper bits, a 32-bit one clears them (as a
 * 32-bit register write does), a 64-bit one is the whole register. */
static uint64_t addr_step(uint64_t reg, int64_t delta, unsigned bits)
{
	if (bits == 16)
		return (reg & ~0xffffull) | ((reg + (uint64_t)delta) & 0xffff);
	if (bits == 32)
		return (reg + (uint64_t)delta) & 0xffffffffull;
	return reg + (uint64_t)delta;
}

/* The segment of a string I/O element (INS: ES; OUTS: DS or the
 * prefix's, from the exit's instruction information), from the VMCS. */
static void io_segment(bool in, struct vh_seg *seg, bool *is_ss)
{
	/* ES, CS, SS, DS, FS, GS: their VMCS fields are 2 apart. */
	unsigned n = in ? 0 : (unsigned)(vh_vmread(VMCS_EXIT_INSN_INFO) >> 15) & 7;

	if (n > 5)
		n = 3;
	*is_ss = n == 2;
	vh_seg_from_vmx((uint16_t)vh_vmread(VMCS_GUEST_ES_SEL + 2 * n),
			vh_vmread(VMCS_GUEST_ES_BASE + 2 * n),
			(uint32_t)vh_vmread(VMCS_GUEST_ES_LIMIT + 2 * n),
			(uint32_t)vh_vmread(VMCS_GUEST_ES_AR + 2 * n), seg);
	if (!(vh_exit_guest_cr0() & CR0_PE)) {
		/* Real mode: the limit checks only (a writable data segment
		 * whatever a VMCS holds for it). */
		seg->type = 3;
		seg->s = seg->present = true;
		seg->unusable = false;
	}
}

/* INS (port -> ES:rDI) and OUTS (DS:rSI or the override -> port).  The
 * exit gives the first element's linear address (segment base applied)
 * and the address size; each element then moves rSI/rDI by the operand
 * size, down when RFLAGS.DF is set, and a REP counts rCX down.  Registers
 * are updated per element, so a fault or a stop leaves the guest exactly
 * where a CPU would. */
static __attribute__((noinline)) enum vh_exit_action string_io(struct vh_exit *x, uint16_t port,
								unsigned size, bool in)
{
	/* Read here: the single IN/OUT path needs no copy in x. */
	x->qual = vh_vmread(VMCS_EXIT_QUALIFICATION);
	struct vh_vmx_vcpu *vv = x->vv;
	static const unsigned addr_bits[4] = { 16, 32, 64, 0 };
	unsigned bits = addr_bits[(vh_vmread(VMCS_EXIT_INSN_INFO) >> 7) & 3];
	uint64_t amask = bits == 64 ? ~0ull : (1ull << bits) - 1;
	bool rep = (x->qual & IO_REP) != 0;
	uint64_t *idx = in ? &vv->regs.rdi : &vv->regs.rsi;
	uint64_t base = vh_vmread(VMCS_GUEST_LINEAR_ADDR) - (*idx & amask);
	int64_t step = (vh_vmread(VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t count = rep ? vv->regs.rcx & amask : 1;
	enum vh_io_result r = VH_IO_HANDLED;
	enum io_mem_result m = IO_MEM_OK;
	uint64_t fault_lin = 0;
	uint32_t pf_error = 0;
	bool long_mode = vh_exit_guest_long_mode(), seg_ok = true, is_ss = false;
	struct vh_seg seg;

	if (!bits)
		return vh_exit_crash(x, "string I/O with a reserved address size");
	io_segment(in, &seg, &is_ss);
	x->h->plat->lock(x->h->plat->ctx);
	for (unsigned n = 0; count && n < IO_STRING_BATCH && r != VH_IO_STOPPED; n++) {
		uint64_t lin = base + (*idx & amask);
		uint32_t value = 0;
		uint8_t buf[4];

		/* Outside 64-bit mode the element must lie within its
		 * segment, with the segment's rights, before the port is
		 * touched (the CPU checks before the access). */
		if (!long_mode && !(seg_ok = vh_seg_access_ok(&seg, *idx & amask, size, in)))
			break;
		if (!long_mode)
			lin &= 0xffffffffull; /* linear addresses wrap at 4 GiB */
		if (!in) {
			if ((m = copy_linear(x, lin, buf, size, false, &fault_lin, &pf_error)) !=
			    IO_MEM_OK)
				break;
			for (unsigned i = 0; i < size; i++)
				value |= (uint32_t)buf[i] << (8 * i);
		}
		/* The buffer's memory needs the host lock, the device
		 * does not: dropped around it. */
		r = vh_vcpu_port(x->h, x->vm, x->vcpu, port, size, !in, &value, true);
		if (in) {
			for (unsigned i = 0; i < size; i++)
				buf[i] = (uint8_t)(value >> (8 * i));
			if ((m = copy_linear(x, lin, buf, size, true, &fault_lin, &pf_error)) !=
			    IO_MEM_OK)
				break; /* the port was read: as on a CPU, that value is lost */
		}
		*idx = addr_step(*idx, step, bits);
		if (rep)
			vv->regs.rcx = addr_step(vv->regs.rcx, -1, bits);
		count--;
	}
	x->h->plat->unlock(x->h->plat->ctx);
	if (!seg_ok) {
		vh_exit_inject_exception(vv, is_ss ? VH_EXC_SS : VH_EXC_GP, true, 0);
		return VH_EXIT_RESUME;
	}
	switch (m) {
	case IO_MEM_OK:
		break;
	case IO_MEM_NOT_MAPPED:
		/* The guest's own page tables refuse the buffer: its #PF. */
		vv->regs.cr2 = fault_lin;
		write_cr2(fault_lin); /* the guest's CR2 lives in the register */
		vh_exit_inject_exception(vv, VH_EXC_PF, true, pf_error);
		return VH_EXIT_RESUME;
	case IO_MEM_NO_FRAME:
		/* No host frame now: the instruction repeats after a
		 * scheduler round, from the element that failed. */
		return VH_EXIT_YIELD;
	case IO_MEM_FAILED:
		return vh_exit_crash(x, "%s on port %#x: vh could not reach its buffer at %#llx",
				     in ? "ins" : "outs", port, (unsigned long long)fault_lin);
	}
	if (r == VH_IO_STOPPED)
		return VH_EXIT_GONE;
	if (!count)
		vh_exit_skip(vv);
	return VH_EXIT_RESUME;
}

/* The I/O form of a hypercall (RIP is ours to advance).  Not rare (the
 * test guests' runtime prefers it), just kept out of the single IN/OUT
 * path's registers, like string_io(). */
static __attribute__((noinline)) enum vh_exit_action port_hypercall(struct vh_exit *x)
{
	enum vh_exit_action a = vh_exit_hypercall_regs(x);

	vh_exit_skip(x->vv);
	return a;
}

/* Operand masks by the qualification's size field (0, 1, 3). */
static const uint32_t io_masks[4] = { 0xffu, 0xffffu, 0, 0xffffffffu };

/* The exit's action for the bus's answer: a load, not a compare and a
 * select, on every port exit. */
static const enum vh_exit_action of_io[] = {
	[VH_IO_UNHANDLED] = VH_EXIT_RESUME,
	[VH_IO_HANDLED] = VH_EXIT_RESUME,
	[VH_IO_STOPPED] = VH_EXIT_GONE,
};

/* One access to the VM's device bus, without the host lock (the device
 * takes its own); a port no device claims reads all ones. */
static inline __attribute__((always_inline)) enum vh_io_result
device_io(struct vh_exit *x, uint16_t port, unsigned size, bool in, uint32_t *value)
{
	/* An exit is always some vCPU's: the bus's NULL test folds away. */
	if (!x->vcpu)
		__builtin_unreachable();
	return vh_vcpu_port(x->h, x->vm, x->vcpu, port, size, !in, value, false);
}

/* IN and OUT each in a function of its own, reached by a jump: each
 * saves only the registers it needs across the device's call. */
static __attribute__((noinline)) enum vh_exit_action port_in(struct vh_exit *x, uint16_t port,
							     unsigned size)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint32_t mask = io_masks[(size - 1) & 3], value = 0;
	enum vh_io_result r = device_io(x, port, size, true, &value);

	value &= mask;
	/* A 32-bit result zero-extends into RAX; 8 and 16 bits keep the
	 * rest of the register. */
	if (size == 4)
		vv->regs.rax = value;
	else
		vv->regs.rax = (vv->regs.rax & ~(uint64_t)mask) | value;
	vh_exit_skip(vv);
	return of_io[r];
}

static __attribute__((noinline)) enum vh_exit_action port_out(struct vh_exit *x, uint16_t port,
							      unsigned size)
{
	uint32_t value = (uint32_t)x->vv->regs.rax; /* masked to size by the bus */

	/* RIP first: nothing of the guest's is needed after the device. */
	vh_exit_skip(x->vv);
	return of_io[device_io(x, port, size, false, &value)];
}

/* Every port exit but a single OUT to the device the last access hit:
 * string I/O, the hypercall port, IN, an OUT elsewhere.  Out of
 * vh_exit_io()'s way, so that its registers serve the common case. */
static __attribute__((noinline)) enum vh_exit_action io_other(struct vh_exit *x, uint64_t qual)
{
	unsigned size = (unsigned)(qual & IO_SIZE_MASK) + 1;
	bool in = (qual & IO_IN) != 0;
	uint16_t port = (uint16_t)(qual >> 16);

	if (qual & IO_STRING)
		return string_io(x, port, size, in);
	if (vh_hypercall_is_port(port, size, !in))
		return port_hypercall(x);
	if (in)
		return port_in(x, port, size);
	return port_out(x, port, size); /* a reset first, a split, an odd size */
}

/* A single OUT to a port no device claims: dropped, counted (atomically:
 * no host lock here), as vh_vcpu_port() would. */
static __attribute__((noinline)) enum vh_exit_action out_unclaimed(struct vh_exit *x)
{
	__atomic_fetch_add(&x->vm->guest.io_unhandled, 1, __ATOMIC_RELAXED);
	vh_exit_skip(x->vv);
	return VH_EXIT_RESUME;
}

/* A single OUT to the device the last port access hit is the commonest
 * port exit of all (a guest talks to one device many times in a row):
 * here the bus's two inline halves (vh/bus.h) without the rest of
 * vh_vcpu_port()'s cases, RIP moved first (nothing of the guest's is
 * needed after the device), every other case a jump to out_unclaimed()
 * or io_other(). */
enum vh_exit_action vh_exit_io(struct vh_exit *x)
{
	uint64_t qual = vh_vmread(VMCS_EXIT_QUALIFICATION);
	unsigned size = (unsigned)(qual & IO_SIZE_MASK) + 1;
	uint16_t port = (uint16_t)(qual >> 16);
	/* The bus is the first member of vm->devices (vh/vcpu_io.h). */
	struct vh_bus *b = (struct vh_bus *)(void *)x->vm->devices;
	const struct vh_bus_range *r;
	enum vh_io_result res;
	uint64_t value;

	if (VH_UNLIKELY((qual & (IO_STRING | IO_IN)) || port == VH_HC_PORT || !b))
		return io_other(x, qual);
	r = vh_bus_port_hit(b, port, size);
	if (VH_UNLIKELY(!r)) {
		/* A port no device claims answers after the lookup (a
		 * leaf call), like the probes of absent hardware. */
		if (!vh_bus_find(&b->port, port))
			return out_unclaimed(x);
		return io_other(x, qual);
	}
	value = x->vv->regs.rax; /* the bus masks it to size */
	vh_exit_skip(x->vv);
	res = vh_bus_port_call(b, r, x->vcpu->index, port, size, true, &value);
	if (VH_UNLIKELY(res == VH_IO_UNHANDLED)) /* the device declined it */
		__atomic_fetch_add(&x->vm->guest.io_unhandled, 1, __ATOMIC_RELAXED);
	return of_io[res];
}
