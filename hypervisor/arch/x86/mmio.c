/* SPDX-License-Identifier: Apache-2.0 */
/* MMIO emulation on bare metal: the instruction is fetched through the
 * guest's page tables and decoded by the shared decoder (vh/decode.h);
 * emulated are MOV r/m,r (88, 89), MOV r,r/m (8a, 8b), MOV with an
 * absolute address (a0-a3), MOV r/m,imm (c6 /0, c7 /0) and MOVZX
 * r,r/m8/16 (0f b6, 0f b7), with any prefixes.  That is what C compilers
 * emit for volatile device-register accesses (a local APIC driver, a
 * guest poking at memory it does not have).  Anything else stops the VM
 * with the bytes named: better than guessing. */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "mmio.h"
#include "vh/decode.h"
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/mem.h"
#include "vh/vcpu_io.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define MAX_INSN VH_DECODE_MAX_LEN

/* The forms emulated here, by kind: whether they write memory. */
static bool emulated(const struct vh_insn *in, bool *write)
{
	switch (in->kind) {
	case VH_INSN_MOV_LOAD:
	case VH_INSN_MOVZX: *write = false; return in->has_mem;
	case VH_INSN_MOV_STORE:
	case VH_INSN_MOV_IMM: *write = true; return in->has_mem;
	default: return false;
	}
}

static int read_table(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
	struct vh_exit *x = ctx;
	struct vh_error err;

	return vh_mem_guest_read(x->h, x->vm, gpa, buf, size, &err) == VH_OK ? 0 : -1;
}

enum vh_walk_result vh_mmio_walk(struct vh_exit *x, uint64_t lin, unsigned access, uint64_t *gpa,
				 uint32_t *pf_error)
{
	struct vh_walk w = {
		.cr0 = vh_exit_guest_cr0(),
		.cr3 = vh_vmread(VMCS_GUEST_CR3),
		.cr4 = vh_exit_guest_cr4(),
		.efer = vh_vmread(VMCS_GUEST_EFER),
		.rflags = vh_vmread(VMCS_GUEST_RFLAGS),
		.cpl = vh_exit_guest_cpl(),
		.maxphyaddr = vh_exit_guest_phys_bits(),
		.read = read_table,
		.ctx = x,
	};

	return vh_walk_translate(&w, lin, access, gpa, pf_error);
}

bool vh_mmio_translate(struct vh_exit *x, uint64_t lin, uint64_t *gpa)
{
	uint32_t pf_error;

	return vh_mmio_walk(x, lin, VH_WALK_NO_PERMS, gpa, &pf_error) == VH_WALK_OK;
}

static unsigned fetch(struct vh_exit *x, uint8_t *bytes)
{
	uint64_t lin = vh_vmread(VMCS_GUEST_CS_BASE) + vh_vmread(VMCS_GUEST_RIP);
	unsigned got = 0;
	struct vh_error err;

	while (got < MAX_INSN) {
		uint64_t gpa;
		unsigned chunk = 4096 - (unsigned)((lin + got) & 0xfff);
		if (chunk > MAX_INSN - got)
			chunk = MAX_INSN - got;
		if (!vh_mmio_translate(x, lin + got, &gpa) ||
		    vh_mem_guest_read(x->h, x->vm, gpa, bytes + got, chunk, &err) != VH_OK)
			break;
		got += chunk;
	}
	return got;
}

static enum vh_decode_mode code_size(void)
{
	uint64_t ar = vh_vmread(VMCS_GUEST_CS_AR);

	if (vh_exit_guest_long_mode() && (ar & (1u << 13)))
		return VH_DECODE_64;
	if (!(vh_exit_guest_cr0() & CR0_PE))
		return VH_DECODE_16;
	return (ar & (1u << 14)) ? VH_DECODE_32 : VH_DECODE_16;
}

enum vh_exit_action vh_mmio_emulate(struct vh_exit *x, uint64_t gpa, bool is_write)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint8_t bytes[MAX_INSN];
	struct vh_insn in;
	uint64_t value = 0;
	enum vh_io_result r;
	bool write = false;

	x->h->plat->lock(x->h->plat->ctx);
	unsigned n = fetch(x, bytes);
	x->h->plat->unlock(x->h->plat->ctx);
	if (vh_decode(bytes, n, code_size(), &in) != VH_DECODE_OK || !emulated(&in, &write) ||
	    write != is_write)
		return vh_exit_crash(x,
				     "%s %#llx outside its memory by an instruction vh cannot "
				     "emulate (%02x %02x %02x %02x at rip %#llx)",
				     is_write ? "writes" : "reads", (unsigned long long)gpa,
				     n > 0 ? bytes[0] : 0, n > 1 ? bytes[1] : 0,
				     n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0,
				     (unsigned long long)vh_vmread(VMCS_GUEST_RIP));
	uint64_t mask = in.op_size == 8 ? ~0ull : (1ull << (8 * in.op_size)) - 1;
	if (write) {
		uint64_t src = in.kind == VH_INSN_MOV_IMM ? in.imm : vh_exit_gpr(vv, in.reg);
		value = (in.high_byte ? src >> 8 : src) & mask;
	}
	/* The device takes its own lock, not the host lock. */
	r = vh_vcpu_mmio(x->h, x->vm, x->vcpu, gpa, in.op_size, write, &value, false);
	if (!write) {
		value &= mask;
		uint64_t old = vh_exit_gpr(vv, in.reg);
		unsigned dst = in.reg_size;
		uint64_t v;
		if (in.high_byte)
			v = (old & ~0xff00ull) | (value << 8);
		else if (dst == 8 || dst == 4)
			v = value; /* 32-bit results zero-extend */
		else
			v = (old & ~((1ull << (8 * dst)) - 1)) | value;
		vh_exit_set_gpr(vv, in.reg, v);
	}
	vh_vmwrite(VMCS_GUEST_RIP, vh_vmread(VMCS_GUEST_RIP) + in.len);
	return r == VH_IO_STOPPED ? VH_EXIT_GONE : VH_EXIT_RESUME;
}
