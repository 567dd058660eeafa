/* SPDX-License-Identifier: Apache-2.0 */
/* Where an instruction KVM failed to emulate touches memory.  On this
 * host KVM emulates accesses to guest pages that are not mapped writable
 * (first touch, shared, sampled) and reports them as MMIO, but it gives
 * up on some (a LOCKed read-modify-write, for one) with an emulation
 * failure that does not say the address.  vh-hosted then decodes the
 * instruction's memory operand itself, faults that page in through the
 * core and lets KVM run the instruction natively.  x86 decoding of
 * prefixes, ModRM, SIB and displacement for 16-, 32- and 64-bit
 * addressing, and the implicit operands of string instructions; the
 * operand size is not needed (the caller faults the page of the last
 * byte an operand of up to 16 bytes could reach as well). */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <string.h>

#include "hosted.h"

/* One-byte opcodes with a ModRM byte (bit set), from the SDM's opcode
 * map: the ALU r/m forms 00-3b, 62 63 69 6b, 80-8f, c0 c1 c4-c7, d0-d3,
 * d8-df (x87), f6 f7 fe ff. */
static const uint32_t modrm_1byte[8] = { 0x0f0f0f0f, 0x0f0f0f0f, 0x00000000, 0x00000a0c,
					 0x0000ffff, 0x00000000, 0xff0f00f3, 0xc0c00000 };

static bool has_modrm_1byte(uint8_t op)
{
	return modrm_1byte[op >> 5] >> (op & 31) & 1;
}

static uint64_t reg(const struct kvm_regs *r, unsigned n)
{
	const uint64_t v[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				 r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	return v[n & 15];
}

static const struct kvm_segment *seg_of(const struct kvm_sregs *sr, int prefix, bool ss_default)
{
	switch (prefix) {
	case 0x26: return &sr->es;
	case 0x2e: return &sr->cs;
	case 0x36: return &sr->ss;
	case 0x3e: return &sr->ds;
	case 0x64: return &sr->fs;
	case 0x65: return &sr->gs;
	default: return ss_default ? &sr->ss : &sr->ds;
	}
}

int vh_hosted_decode_operands(const uint8_t *b, size_t len, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, uint64_t lin[2])
{
	bool lm = (sr->efer & (1u << 10)) && sr->cs.l;
	unsigned asz = lm ? 64 : sr->cs.db ? 32 : 16, rex = 0;
	int segp = 0, n = 0;
	size_t i = 0;
	uint8_t op;

	/* Prefixes. */
	for (; i < len; i++) {
		uint8_t p = b[i];
		if (p == 0x67)
			asz = lm ? 32 : asz == 32 ? 16 : 32;
		else if (p == 0x26 || p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65)
			segp = p;
		else if (p != 0x66 && p != 0xf0 && p != 0xf2 && p != 0xf3)
			break;
	}
	if (lm && i < len && (b[i] & 0xf0) == 0x40)
		rex = b[i++];
	if (i >= len)
		return 0;
	op = b[i++];
	/* String instructions: DS:rSI and/or ES:rDI. */
	if ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) ||
	    (op >= 0x6c && op <= 0x6f)) {
		uint64_t mask = asz == 64 ? ~0ull : asz == 32 ? 0xffffffffull : 0xffffull;
		bool src = !(op == 0xaa || op == 0xab || op == 0xae || op == 0xaf || op == 0x6c ||
			     op == 0x6d);
		bool dst = !(op == 0xac || op == 0xad || op == 0x6e || op == 0x6f);
		if (src)
			lin[n++] = seg_of(sr, segp, false)->base + (r->rsi & mask);
		if (dst)
			lin[n++] = sr->es.base + (r->rdi & mask);
		return n;
	}
	if (op == 0x0f) {
		if (i >= len)
			return 0;
		op = b[i++];
		if (op == 0x38 || op == 0x3a)
			i++; /* three-byte opcode: ModRM follows */
	} else if (!has_modrm_1byte(op)) {
		return 0;
	}
	if (i >= len)
		return 0;
	{
		uint8_t m = b[i++];
		unsigned mod = m >> 6, rm = m & 7;
		uint64_t ea = 0;
		bool ss = false;
		int64_t disp = 0;

		if (mod == 3)
			return 0; /* a register operand */
		if (asz == 16) {
			static const uint8_t base16[8] = {
				3, 3, 5, 5, 6, 7, 5, 3
			}; /* bx bx bp bp si di bp bx */
			static const int8_t index16[8] = {
				6, 7, 6, 7, -1, -1, -1, -1
			}; /* si di si di */
			if (mod == 0 && rm == 6) {
				if (i + 2 > len)
					return 0;
				ea = (uint16_t)(b[i] | b[i + 1] << 8);
				i += 2;
			} else {
				ea = reg(r, base16[rm]);
				if (index16[rm] >= 0)
					ea += reg(r, (unsigned)index16[rm]);
				ss = rm == 2 || rm == 3 || rm == 6;
				if (mod == 1 && i < len)
					disp = (int8_t)b[i++];
				else if (mod == 2 && i + 2 <= len) {
					disp = (int16_t)(b[i] | b[i + 1] << 8);
					i += 2;
				}
				ea += (uint64_t)disp;
			}
			ea &= 0xffff;
		} else {
			bool riprel = false;
			if (rm == 4) {
				uint8_t s;
				if (i >= len)
					return 0;
				s = b[i++];
				unsigned idx = ((s >> 3) & 7) | (rex & 2 ? 8 : 0),
					 base = (s & 7) | (rex & 1 ? 8 : 0);
				if (idx != 4)
					ea += reg(r, idx) << (s >> 6);
				if ((s & 7) == 5 && mod == 0) {
					if (i + 4 > len)
						return 0;
					disp = (int32_t)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 |
							 (uint32_t)b[i + 3] << 24);
					i += 4;
				} else {
					ea += reg(r, base);
					ss = (base & 7) == 4 || (base & 7) == 5;
				}
			} else if (rm == 5 && mod == 0) {
				if (i + 4 > len)
					return 0;
				disp = (int32_t)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 |
						 (uint32_t)b[i + 3] << 24);
				i += 4;
				riprel = lm;
			} else {
				ea = reg(r, rm | (rex & 1 ? 8 : 0));
				ss = rm == 5;
			}
			if (mod == 1 && i < len)
				disp = (int8_t)b[i++];
			else if (mod == 2 && i + 4 <= len) {
				disp = (int32_t)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 |
						 (uint32_t)b[i + 3] << 24);
				i += 4;
			}
			ea += (uint64_t)disp;
			/* RIP-relative counts from the end of the instruction,
			 * which depends on an immediate we do not size: the
			 * caller faults a 16-byte window that covers it. */
			if (riprel)
				ea += r->rip + i;
			if (asz == 32)
				ea &= 0xffffffffull;
		}
		lin[n++] =
		    (lm && segp != 0x64 && segp != 0x65 ? 0 : seg_of(sr, segp, ss)->base) + ea;
	}
	return n;
}
