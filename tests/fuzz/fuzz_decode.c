/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the x86 instruction decoder (vh/decode.h) both
 * backends run on bytes a guest chose.  The input is the instruction
 * bytes; each is decoded as 16-, 32- and 64-bit code.
 *
 * Beyond the sanitizers (the bytes sit in a buffer of exactly their
 * size, so a read past them is ASan's) it checks: a decoded instruction
 * is 1..15 bytes and no longer than the input; its own bytes decode to
 * the same result, and every shorter prefix of them is VH_DECODE_SHORT
 * (so the length is exactly what was read); fields are in their ranges;
 * a refusal leaves the output zeroed; the operand offset stays within
 * the address size. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vh/decode.h"

#define FUZZ_NAME "fuzz_decode"
#include "fuzz.h"

static bool same(const struct vh_insn *a, const struct vh_insn *b)
{
	return a->len == b->len && a->kind == b->kind && a->map == b->map &&
	       a->opcode == b->opcode && a->op_size == b->op_size && a->reg_size == b->reg_size &&
	       a->addr_size == b->addr_size && a->seg == b->seg && a->rep == b->rep &&
	       a->rex == b->rex && a->lock == b->lock && a->seg_override == b->seg_override &&
	       a->has_modrm == b->has_modrm && a->modrm == b->modrm && a->has_sib == b->has_sib &&
	       a->sib == b->sib && a->has_mem == b->has_mem && a->base == b->base &&
	       a->index == b->index && a->scale == b->scale && a->rip_rel == b->rip_rel &&
	       a->disp == b->disp && a->str_src == b->str_src && a->str_dst == b->str_dst &&
	       a->reg == b->reg && a->high_byte == b->high_byte && a->imm_size == b->imm_size &&
	       a->imm == b->imm;
}

static bool is_zero(const struct vh_insn *a)
{
	static const struct vh_insn zero;

	return same(a, &zero);
}

static bool size_ok(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static void check_fields(const struct vh_insn *in, enum vh_decode_mode mode)
{
	if (in->len < 1 || in->len > VH_DECODE_MAX_LEN)
		die("mode %d: length %u", mode, in->len);
	if (!size_ok(in->op_size) || !size_ok(in->reg_size) || in->addr_size < 2 ||
	    !size_ok(in->addr_size) || in->reg_size < in->op_size)
		die("mode %d: sizes op %u reg %u addr %u", mode, in->op_size, in->reg_size,
		    in->addr_size);
	if (mode == VH_DECODE_64 ? in->addr_size == 2 : in->addr_size == 8)
		die("mode %d: address size %u", mode, in->addr_size);
	if (in->kind > VH_INSN_OUTS || in->map > 3 || in->seg > VH_SREG_GS || in->scale > 3)
		die("mode %d: kind %u map %u seg %u scale %u", mode, in->kind, in->map, in->seg,
		    in->scale);
	if (in->reg > 15 || (in->base != VH_DECODE_NO_REG && in->base > 15) ||
	    (in->index != VH_DECODE_NO_REG && in->index > 15))
		die("mode %d: registers %u %u %u", mode, in->reg, in->base, in->index);
	if (in->rip_rel && mode != VH_DECODE_64)
		die("mode %d: RIP-relative outside 64-bit mode", mode);
	if (in->rex && mode != VH_DECODE_64)
		die("mode %d: REX outside 64-bit mode", mode);
	if (in->high_byte && (in->rex || in->reg > 3))
		die("mode %d: high byte register %u with REX %#x", mode, in->reg, in->rex);
	if (in->imm_size != 0 && in->imm_size != 1 && in->imm_size != 2 && in->imm_size != 4)
		die("mode %d: immediate of %u bytes", mode, in->imm_size);
	if ((in->str_src || in->str_dst) && (in->has_mem || in->has_modrm))
		die("mode %d: a string instruction with a ModRM operand", mode);
}

static void check_mode(const uint8_t *data, unsigned size, enum vh_decode_mode mode)
{
	struct vh_insn in, again;
	enum vh_decode_result r = vh_decode(data, size, mode, &in);

	if (r != VH_DECODE_OK) {
		if (r != VH_DECODE_SHORT && r != VH_DECODE_TOO_LONG && r != VH_DECODE_UNSUPPORTED)
			die("mode %d: result %d", mode, r);
		if (!is_zero(&in))
			die("mode %d: refused (%d) but the output is not zeroed", mode, r);
		if (r == VH_DECODE_SHORT && size >= VH_DECODE_MAX_LEN)
			die("mode %d: too short with %u bytes", mode, size);
		return;
	}
	check_fields(&in, mode);
	if (in.len > size)
		die("mode %d: length %u past the %u bytes given", mode, in.len, size);

	/* Its own bytes alone, in a buffer of exactly that size. */
	uint8_t *own = malloc(in.len);
	if (!own)
		die("out of memory");
	memcpy(own, data, in.len);
	if (vh_decode(own, in.len, mode, &again) != VH_DECODE_OK || !same(&in, &again))
		die("mode %d: its own %u bytes decode differently", mode, in.len);
	for (unsigned k = 0; k < in.len; k++) {
		if ((r = vh_decode(own, k, mode, &again)) != VH_DECODE_SHORT)
			die("mode %d: %u of its %u bytes: result %d, not short", mode, k, in.len,
			    r);
	}
	free(own);

	/* The offset stays within the address size, whatever the registers. */
	uint64_t gpr[16];
	for (unsigned i = 0; i < 16; i++)
		gpr[i] = 0x0123456789abcdefull * (i + 1);
	if (vh_decode_offset(&in, gpr, ~0ull) & ~vh_decode_addr_mask(&in))
		die("mode %d: offset wider than the address size", mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* At most 32 bytes matter (the decoder reads 15); copied to a
	 * buffer of exactly their size (none for an empty input). */
	unsigned n = size > 32 ? 32 : (unsigned)size;
	uint8_t *b = malloc(n);

	if (!b && n)
		die("out of memory");
	memcpy(b, data, n);
	check_mode(b, n, VH_DECODE_16);
	check_mode(b, n, VH_DECODE_32);
	check_mode(b, n, VH_DECODE_64);
	free(b);
	return 0;
}
