/* SPDX-License-Identifier: Apache-2.0 */
/* Supported: MOV r/m,r (88, 89), MOV r,r/m (8a, 8b), MOV with an absolute
 * address (a0-a3), MOV r/m,imm (c6 /0, c7 /0), MOVZX r,r/m8/16 (0f b6,
 * 0f b7), with operand-size, address-size, segment, LOCK and REX prefixes.
 * That is what C compilers emit for volatile device-register accesses (a
 * local APIC driver, a guest poking at memory it does not have).  Anything
 * else stops the VM with the bytes named: better than guessing. */
#include <stdint.h>

#include "cpu.h"
#include "exit.h"
#include "mmio.h"
#include "vh/devices.h"
#include "vh/host.h"
#include "vh/mem.h"
#include "vh/vm.h"
#include "vmcs_fields.h"
#include "vmx_insn.h"
#include "vmx_vcpu.h"

#define MAX_INSN 15

bool vh_mmio_decode(const uint8_t *b, unsigned n, unsigned code_size, struct vh_mmio_insn *o)
{
	unsigned i = 0, opsize = code_size == 16 ? 2 : 4, addr = code_size;
	unsigned rex = 0;
	bool osz = false;

	*o = (struct vh_mmio_insn){ 0 };
	for (; i < n; i++) {
		uint8_t p = b[i];
		if (p == 0x66)
			osz = true;
		else if (p == 0x67)
			addr = code_size == 64 ? 32 : code_size == 32 ? 16 : 32;
		else if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 ||
			 p == 0x65 || p == 0xf0)
			continue;
		else
			break;
	}
	if (osz)
		opsize = opsize == 2 ? 4 : 2;
	if (i < n && code_size == 64 && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (rex & 0x8)
		opsize = 8;
	if (i >= n)
		return false;
	uint8_t op = b[i++];
	bool twobyte = false;
	if (op == 0x0f) {
		if (i >= n)
			return false;
		op = b[i++];
		twobyte = true;
	}
	if (twobyte && (op == 0xb6 || op == 0xb7)) {
		o->write = false;
		o->zero_extend = true;
		o->dst_size = opsize;
		o->size = op == 0xb6 ? 1 : 2;
	} else if (!twobyte && (op == 0x88 || op == 0x89 || op == 0x8a || op == 0x8b)) {
		o->write = op == 0x88 || op == 0x89;
		o->size = (op & 1) ? opsize : 1;
		o->dst_size = o->size;
	} else if (!twobyte && op >= 0xa0 && op <= 0xa3) {
		/* MOV between AL/eAX and an absolute address (moffs): no
		 * ModRM, the address is as wide as the address size. */
		o->write = op >= 0xa2;
		o->size = (op & 1) ? opsize : 1;
		o->dst_size = o->size;
		o->reg = 0;
		i += addr / 8;
		if (i > n)
			return false;
		o->len = i;
		return true;
	} else if (!twobyte && (op == 0xc6 || op == 0xc7)) {
		o->write = true;
		o->has_imm = true;
		o->size = op == 0xc6 ? 1 : opsize;
	} else {
		return false;
	}
	if (i >= n)
		return false;
	uint8_t modrm = b[i++];
	unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
	if (mod == 3)
		return false; /* a register operand: not a memory access */
	if (o->has_imm && reg != 0)
		return false;
	o->reg = reg | ((rex & 0x4) ? 8 : 0);
	o->high_byte = o->size == 1 && !rex && reg >= 4 && !o->has_imm && !o->zero_extend;
	if (o->high_byte)
		o->reg = reg - 4;
	unsigned disp = 0;
	if (addr == 16) {
		disp = mod == 1 ? 1 : mod == 2 ? 2 : (mod == 0 && rm == 6) ? 2 : 0;
	} else {
		if (rm == 4) {
			if (i >= n)
				return false;
			uint8_t sib = b[i++];
			if (mod == 0 && (sib & 7) == 5)
				disp = 4;
		}
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || (mod == 0 && rm == 5))
			disp = 4;
	}
	i += disp;
	if (o->has_imm) {
		unsigned isz = o->size == 8 ? 4 : o->size;
		if (i + isz > n)
			return false;
		uint64_t v = 0;
		for (unsigned k = 0; k < isz; k++)
			v |= (uint64_t)b[i + k] << (8 * k);
		if (o->size == 8 && (v & 0x80000000u))
			v |= 0xffffffff00000000ull; /* imm32 sign-extended */
		o->imm = v;
		i += isz;
	}
	if (i > n)
		return false;
	o->len = i;
	return true;
}

static int read_table(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
	struct vh_exit *x = ctx;
	struct vh_error err;

	return vh_mem_guest_read(x->h, x->vm, gpa, buf, size, &err) == VH_OK ? 0 : -1;
}

/* The guest's physical address width, as its CPUID reports the host's. */
static unsigned maxphyaddr(void)
{
	uint32_t a, b, c, d;

	if (cpuid_max_ext() < 0x80000008u)
		return 36;
	cpuid(0x80000008u, 0, &a, &b, &c, &d);
	return a & 0xff;
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
		.maxphyaddr = maxphyaddr(),
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

static unsigned code_size(void)
{
	uint64_t ar = vh_vmread(VMCS_GUEST_CS_AR);

	if (vh_exit_guest_long_mode() && (ar & (1u << 13)))
		return 64;
	if (!(vh_exit_guest_cr0() & CR0_PE))
		return 16;
	return (ar & (1u << 14)) ? 32 : 16;
}

enum vh_exit_action vh_mmio_emulate(struct vh_exit *x, uint64_t gpa, bool is_write)
{
	struct vh_vmx_vcpu *vv = x->vv;
	uint8_t bytes[MAX_INSN];
	struct vh_mmio_insn in;
	uint64_t value = 0;
	enum vh_io_result r;

	x->h->plat->lock(x->h->plat->ctx);
	unsigned n = fetch(x, bytes);
	x->h->plat->unlock(x->h->plat->ctx);
	if (!vh_mmio_decode(bytes, n, code_size(), &in) || in.write != is_write)
		return vh_exit_crash(x,
				     "%s %#llx outside its memory by an instruction vh cannot "
				     "emulate (%02x %02x %02x %02x at rip %#llx)",
				     is_write ? "writes" : "reads", (unsigned long long)gpa,
				     n > 0 ? bytes[0] : 0, n > 1 ? bytes[1] : 0,
				     n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0,
				     (unsigned long long)vh_vmread(VMCS_GUEST_RIP));
	uint64_t mask = in.size == 8 ? ~0ull : (1ull << (8 * in.size)) - 1;
	if (in.write) {
		uint64_t src = in.has_imm ? in.imm : vh_exit_gpr(vv, in.reg);
		value = (in.high_byte ? src >> 8 : src) & mask;
	}
	x->h->plat->lock(x->h->plat->ctx);
	r = vh_devices_mmio(x->h, x->vm, x->vcpu, gpa, in.size, in.write, &value);
	if (r == VH_IO_UNHANDLED) {
		x->vm->guest.io_unhandled++;
		value = ~0ull;
	}
	x->h->plat->unlock(x->h->plat->ctx);
	if (!in.write) {
		value &= mask;
		uint64_t old = vh_exit_gpr(vv, in.reg);
		unsigned dst = in.dst_size;
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
