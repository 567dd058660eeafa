/* SPDX-License-Identifier: Apache-2.0 */
/* Where an instruction KVM failed to emulate touches memory.  On this
 * host KVM emulates accesses to guest pages that are not mapped writable
 * (first touch, shared, sampled) and reports them as MMIO, but it gives
 * up on some (a LOCKed read-modify-write, for one) with an emulation
 * failure that does not say the address.  vh-hosted then decodes the
 * instruction with the shared decoder (vh/decode.h), faults the pages of
 * its memory operands in through the core and lets KVM run the
 * instruction natively.  The operand size is not needed: the caller
 * faults the page of the last byte an operand of up to 16 bytes could
 * reach as well. */
#define _GNU_SOURCE
#include <linux/kvm.h>

#include "hosted.h"
#include "vh/decode.h"

static const struct kvm_segment *sreg(const struct kvm_sregs *sr, unsigned seg)
{
	const struct kvm_segment *s[] = { &sr->es, &sr->cs, &sr->ss, &sr->ds, &sr->fs, &sr->gs };

	return s[seg < 6 ? seg : VH_SREG_DS];
}

/* A segment's base as the CPU applies it: in 64-bit mode only FS's and
 * GS's. */
static uint64_t seg_base(const struct kvm_sregs *sr, bool lm, unsigned seg)
{
	if (lm && seg != VH_SREG_FS && seg != VH_SREG_GS)
		return 0;
	return sreg(sr, seg)->base;
}

int vh_hosted_decode_operands(const uint8_t *b, size_t len, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, uint64_t lin[2])
{
	bool lm = (sr->efer & (1u << 10)) && sr->cs.l;
	enum vh_decode_mode mode = lm ? VH_DECODE_64 : sr->cs.db ? VH_DECODE_32 : VH_DECODE_16;
	const uint64_t gpr[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				   r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };
	struct vh_insn in;
	int n = 0;

	if (vh_decode(b, len > VH_DECODE_MAX_LEN ? VH_DECODE_MAX_LEN : (unsigned)len, mode, &in) !=
	    VH_DECODE_OK)
		return 0;
	if (in.str_src)
		lin[n++] = seg_base(sr, lm, in.seg) + (r->rsi & vh_decode_addr_mask(&in));
	if (in.str_dst)
		lin[n++] = seg_base(sr, lm, VH_SREG_ES) + (r->rdi & vh_decode_addr_mask(&in));
	if (in.has_mem)
		lin[n++] = seg_base(sr, lm, in.seg) + vh_decode_offset(&in, gpr, r->rip);
	return n;
}

uint64_t vh_hosted_mem_linear(const struct vh_insn *in, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, uint64_t *offset,
			      const struct kvm_segment **seg)
{
	bool lm = (sr->efer & (1u << 10)) && sr->cs.l;
	const uint64_t gpr[16] = { r->rax, r->rcx, r->rdx, r->rbx, r->rsp, r->rbp, r->rsi, r->rdi,
				   r->r8,  r->r9,  r->r10, r->r11, r->r12, r->r13, r->r14, r->r15 };

	*offset = vh_decode_offset(in, gpr, r->rip);
	*seg = sreg(sr, in->seg);
	return seg_base(sr, lm, in->seg) + *offset;
}
