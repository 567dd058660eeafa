/* SPDX-License-Identifier: Apache-2.0 */
/* x86 instruction decoding for both backends (vh/decode.h): one table
 * row per opcode says whether it has a ModRM byte, its immediate, its
 * operand size and the kind the callers act on, so a new form is a row,
 * not a branch.  The opcode maps are the SDM's (volume 2, appendix A). */
#include "vh/decode.h"

/* Row flags. */
#define F_MODRM  0x0001u /* a ModRM byte follows the opcode */
#define F_IB     0x0002u /* imm8 */
#define F_IZ     0x0004u /* imm16 or imm32 by operand size (imm32 for 64) */
#define F_IMM_G3 0x0008u /* group 3 (f6 f7): an immediate only for /0 and /1 */
#define F_BYTE   0x0010u /* 8-bit operand */
#define F_WORD   0x0020u /* 16-bit memory operand (MOVZX/MOVSX r, r/m16) */
#define F_MOFFS  0x0040u /* an absolute address as wide as the address size */
#define F_SRC    0x0080u /* string: seg:rSI */
#define F_DST    0x0100u /* string: ES:rDI */
#define F_INV64  0x0200u /* invalid in 64-bit mode */
#define F_VEX    0x0400u /* c4 c5 62: VEX/EVEX in 64-bit mode or with mod 3 */
#define F_EXT0   0x0800u /* only /0 is defined (8f: XOP otherwise; c6 c7) */
#define F_REGRM  0x1000u /* ModRM's r/m is a register whatever mod says (MOV CRn, DRn) */

struct op_row {
	uint16_t flags;
	uint8_t kind;
};

#define ROW(f, k)        \
	{                \
		(f), (k) \
	}
#define M(f) ROW(F_MODRM | (f), VH_INSN_OTHER)
/* The eight ALU operations 00-3f: r/m,r and r,r/m in byte and full size. */
#define ALU(op) [op] = M(F_BYTE), [op + 1] = M(0), [op + 2] = M(F_BYTE), [op + 3] = M(0)

/* Opcodes without a row (zero flags) are unsupported. */
static const struct op_row one_byte[256] = {
	ALU(0x00),
	ALU(0x08),
	ALU(0x10),
	ALU(0x18),
	ALU(0x20),
	ALU(0x28),
	ALU(0x30),
	ALU(0x38),
	[0x62] = M(F_VEX), /* BOUND; EVEX */
	[0x63] = M(0),     /* ARPL; MOVSXD */
	[0x69] = M(F_IZ),  /* IMUL r, r/m, imm */
	[0x6b] = M(F_IB),
	[0x6c] = ROW(F_DST | F_BYTE, VH_INSN_INS),
	[0x6d] = ROW(F_DST, VH_INSN_INS),
	[0x6e] = ROW(F_SRC | F_BYTE, VH_INSN_OUTS),
	[0x6f] = ROW(F_SRC, VH_INSN_OUTS),
	[0x80] = M(F_IB | F_BYTE),
	[0x81] = M(F_IZ),
	[0x82] = M(F_IB | F_BYTE | F_INV64),
	[0x83] = M(F_IB),
	[0x84] = M(F_BYTE), /* TEST */
	[0x85] = M(0),
	[0x86] = M(F_BYTE), /* XCHG */
	[0x87] = M(0),
	[0x88] = ROW(F_MODRM | F_BYTE, VH_INSN_MOV_STORE),
	[0x89] = ROW(F_MODRM, VH_INSN_MOV_STORE),
	[0x8a] = ROW(F_MODRM | F_BYTE, VH_INSN_MOV_LOAD),
	[0x8b] = ROW(F_MODRM, VH_INSN_MOV_LOAD),
	[0x8c] = M(0),      /* MOV r/m, Sreg */
	[0x8d] = M(0),      /* LEA */
	[0x8e] = M(0),      /* MOV Sreg, r/m */
	[0x8f] = M(F_EXT0), /* POP r/m */
	[0xa0] = ROW(F_MOFFS | F_BYTE, VH_INSN_MOV_LOAD),
	[0xa1] = ROW(F_MOFFS, VH_INSN_MOV_LOAD),
	[0xa2] = ROW(F_MOFFS | F_BYTE, VH_INSN_MOV_STORE),
	[0xa3] = ROW(F_MOFFS, VH_INSN_MOV_STORE),
	[0xa4] = ROW(F_SRC | F_DST | F_BYTE, VH_INSN_MOVS),
	[0xa5] = ROW(F_SRC | F_DST, VH_INSN_MOVS),
	[0xa6] = ROW(F_SRC | F_DST | F_BYTE, VH_INSN_CMPS),
	[0xa7] = ROW(F_SRC | F_DST, VH_INSN_CMPS),
	[0xaa] = ROW(F_DST | F_BYTE, VH_INSN_STOS),
	[0xab] = ROW(F_DST, VH_INSN_STOS),
	[0xac] = ROW(F_SRC | F_BYTE, VH_INSN_LODS),
	[0xad] = ROW(F_SRC, VH_INSN_LODS),
	[0xae] = ROW(F_DST | F_BYTE, VH_INSN_SCAS),
	[0xaf] = ROW(F_DST, VH_INSN_SCAS),
	[0xc0] = M(F_IB | F_BYTE), /* shifts by imm8 */
	[0xc1] = M(F_IB),
	[0xc4] = M(F_VEX), /* LES; VEX3 */
	[0xc5] = M(F_VEX), /* LDS; VEX2 */
	[0xc6] = ROW(F_MODRM | F_IB | F_BYTE | F_EXT0, VH_INSN_MOV_IMM),
	[0xc7] = ROW(F_MODRM | F_IZ | F_EXT0, VH_INSN_MOV_IMM),
	[0xd0] = M(F_BYTE), /* shifts by 1, CL */
	[0xd1] = M(0),
	[0xd2] = M(F_BYTE),
	[0xd3] = M(0),
	[0xd8 ... 0xdf] = M(0), /* x87 */
	[0xf6] = M(F_IMM_G3 | F_BYTE),
	[0xf7] = M(F_IMM_G3),
	[0xfe] = M(F_BYTE), /* INC, DEC */
	[0xff] = M(0),
};

/* The 0f map: a ModRM byte unless the row says otherwise; the opcodes
 * without one (SYSCALL, RDTSC, Jcc, CPUID, BSWAP, ...) have no memory
 * operand and no row. */
static const struct op_row two_byte[256] = {
	[0x00 ... 0x03] = M(0),
	[0x0d] = M(0),    /* prefetch */
	[0x0f] = M(F_IB), /* 3DNow!: the opcode follows as an imm8 */
	[0x10 ... 0x1f] = M(0),
	[0x20 ... 0x23] = M(F_REGRM), /* MOV CRn, DRn */
	[0x28 ... 0x2f] = M(0),
	[0x40 ... 0x6f] = M(0),
	[0x70 ... 0x73] = M(F_IB),
	[0x74 ... 0x76] = M(0),
	[0x78 ... 0x7f] = M(0),
	[0x90 ... 0x9f] = M(0), /* SETcc */
	[0xa3] = M(0),
	[0xa4] = M(F_IB), /* SHLD imm8 */
	[0xa5] = M(0),
	[0xab] = M(0),
	[0xac] = M(F_IB), /* SHRD imm8 */
	[0xad ... 0xaf] = M(0),
	[0xb0 ... 0xb5] = M(0),
	[0xb6] = ROW(F_MODRM | F_BYTE, VH_INSN_MOVZX),
	[0xb7] = ROW(F_MODRM | F_WORD, VH_INSN_MOVZX),
	[0xb8 ... 0xb9] = M(0),
	[0xba] = M(F_IB), /* BT* imm8 */
	[0xbb ... 0xbd] = M(0),
	[0xbe] = ROW(F_MODRM | F_BYTE, VH_INSN_MOVSX),
	[0xbf] = ROW(F_MODRM | F_WORD, VH_INSN_MOVSX),
	[0xc0 ... 0xc1] = M(0), /* XADD */
	[0xc2] = M(F_IB),
	[0xc3] = M(0),
	[0xc4 ... 0xc6] = M(F_IB),
	[0xc7] = M(0), /* CMPXCHG8B/16B, VMPTRLD, RDRAND */
	[0xd0 ... 0xff] = M(0),
};

/* 0f 38 and 0f 3a: every opcode has a ModRM byte; 0f 3a an imm8. */
static const struct op_row map_0f38 = M(0);
static const struct op_row map_0f3a = M(F_IB);

/* 16-bit addressing by r/m: base and index (bx+si, bx+di, bp+si, bp+di,
 * si, di, bp, bx). */
static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
static const uint8_t index16[8] = {
	6, 7, 6, 7, VH_DECODE_NO_REG, VH_DECODE_NO_REG, VH_DECODE_NO_REG, VH_DECODE_NO_REG
};

/* 26 2e 36 3e by bits 4:3. */
static const uint8_t seg_prefix[4] = { VH_SREG_ES, VH_SREG_CS, VH_SREG_SS, VH_SREG_DS };

struct cursor {
	const uint8_t *b;
	unsigned n, i;
};

/* Whether k more bytes are there: ok, or why not.  The 15-byte limit is
 * checked first, so a shorter prefix of a valid instruction is always
 * VH_DECODE_SHORT. */
static enum vh_decode_result need(const struct cursor *c, unsigned k)
{
	if (c->i + k > VH_DECODE_MAX_LEN)
		return VH_DECODE_TOO_LONG;
	if (c->i + k > c->n)
		return VH_DECODE_SHORT;
	return VH_DECODE_OK;
}

/* Little-endian, k bytes (need() checked). */
static uint64_t take(struct cursor *c, unsigned k)
{
	uint64_t v = 0;

	for (unsigned j = 0; j < k; j++)
		v |= (uint64_t)c->b[c->i + j] << (8 * j);
	c->i += k;
	return v;
}

static int64_t sext(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (int64_t)(v << shift) >> shift;
}

/* Legacy prefixes and REX.  A REX counts only right before the opcode. */
static enum vh_decode_result prefixes(struct cursor *c, enum vh_decode_mode mode, struct vh_insn *o,
				      bool *osz, bool *asz)
{
	for (;;) {
		enum vh_decode_result r = need(c, 1);
		if (r != VH_DECODE_OK)
			return r;
		uint8_t p = c->b[c->i];
		if (mode == VH_DECODE_64 && (p & 0xf0) == 0x40) {
			o->rex = p;
			c->i++;
			continue;
		}
		switch (p) {
		case 0x66: *osz = true; break;
		case 0x67: *asz = true; break;
		case 0xf0: o->lock = true; break;
		case 0xf2:
		case 0xf3: o->rep = p; break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			o->seg = seg_prefix[(p >> 3) & 3];
			o->seg_override = true;
			break;
		case 0x64:
		case 0x65:
			o->seg = p == 0x64 ? VH_SREG_FS : VH_SREG_GS;
			o->seg_override = true;
			break;
		default: return VH_DECODE_OK;
		}
		o->rex = 0;
		c->i++;
	}
}

/* The opcode's row: one byte, or the 0f, 0f 38, 0f 3a maps. */
static enum vh_decode_result opcode(struct cursor *c, struct vh_insn *o, struct op_row *row)
{
	enum vh_decode_result r = need(c, 1);

	if (r != VH_DECODE_OK)
		return r;
	o->opcode = (uint8_t)take(c, 1);
	if (o->opcode != 0x0f) {
		*row = one_byte[o->opcode];
		return VH_DECODE_OK;
	}
	if ((r = need(c, 1)) != VH_DECODE_OK)
		return r;
	o->map = 1;
	o->opcode = (uint8_t)take(c, 1);
	if (o->opcode == 0x38 || o->opcode == 0x3a) {
		bool three_a = o->opcode == 0x3a;
		if ((r = need(c, 1)) != VH_DECODE_OK)
			return r;
		o->map = three_a ? 3 : 2;
		o->opcode = (uint8_t)take(c, 1);
		*row = three_a ? map_0f3a : map_0f38;
		return VH_DECODE_OK;
	}
	*row = two_byte[o->opcode];
	return VH_DECODE_OK;
}

/* ModRM's memory operand with 16-bit addressing. */
static enum vh_decode_result modrm16(struct cursor *c, struct vh_insn *o, unsigned mod, unsigned rm)
{
	unsigned dsz = mod == 1 ? 1 : mod == 2 ? 2 : (mod == 0 && rm == 6) ? 2 : 0;
	enum vh_decode_result r = need(c, dsz);

	if (r != VH_DECODE_OK)
		return r;
	if (!(mod == 0 && rm == 6)) {
		o->base = base16[rm];
		o->index = index16[rm];
	}
	if (dsz)
		o->disp = sext(take(c, dsz), dsz);
	/* BP-based forms address the stack. */
	if (o->base == 5 && !o->seg_override)
		o->seg = VH_SREG_SS;
	return VH_DECODE_OK;
}

/* ModRM's memory operand with 32- or 64-bit addressing (SIB, RIP). */
static enum vh_decode_result modrm32(struct cursor *c, struct vh_insn *o, enum vh_decode_mode mode,
				     unsigned mod, unsigned rm)
{
	enum vh_decode_result r;
	unsigned dsz = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	unsigned rex_b = o->rex & 1 ? 8 : 0;

	if (rm == 4) {
		if ((r = need(c, 1)) != VH_DECODE_OK)
			return r;
		o->has_sib = true;
		o->sib = (uint8_t)take(c, 1);
		unsigned idx = ((o->sib >> 3) & 7) | (o->rex & 2 ? 8 : 0), base = o->sib & 7;
		if (idx != 4) {
			o->index = (uint8_t)idx;
			o->scale = o->sib >> 6;
		}
		if (base == 5 && mod == 0)
			dsz = 4;
		else
			o->base = (uint8_t)(base | rex_b);
	} else if (rm == 5 && mod == 0) {
		dsz = 4;
		o->rip_rel = mode == VH_DECODE_64;
	} else {
		o->base = (uint8_t)(rm | rex_b);
	}
	if ((r = need(c, dsz)) != VH_DECODE_OK)
		return r;
	if (dsz)
		o->disp = sext(take(c, dsz), dsz);
	/* rSP- and rBP-based forms address the stack. */
	if (o->base != VH_DECODE_NO_REG && ((o->base & 7) == 4 || (o->base & 7) == 5) &&
	    !o->seg_override)
		o->seg = VH_SREG_SS;
	return VH_DECODE_OK;
}

static enum vh_decode_result modrm(struct cursor *c, struct vh_insn *o, enum vh_decode_mode mode,
				   const struct op_row *row)
{
	enum vh_decode_result r = need(c, 1);

	if (r != VH_DECODE_OK)
		return r;
	o->has_modrm = true;
	o->modrm = (uint8_t)take(c, 1);
	unsigned mod = o->modrm >> 6, reg = (o->modrm >> 3) & 7, rm = o->modrm & 7;
	if ((row->flags & F_VEX) && (mode == VH_DECODE_64 || mod == 3))
		return VH_DECODE_UNSUPPORTED;
	if ((row->flags & F_EXT0) && reg != 0)
		return VH_DECODE_UNSUPPORTED;
	o->reg = (uint8_t)(reg | (o->rex & 4 ? 8 : 0));
	/* A byte register without REX: 4-7 are AH CH DH BH. */
	if (o->reg_size == 1 && !o->rex && reg >= 4 && o->kind != VH_INSN_MOV_IMM) {
		o->high_byte = true;
		o->reg = (uint8_t)(reg - 4);
	}
	if (mod == 3 || (row->flags & F_REGRM))
		return VH_DECODE_OK;
	o->has_mem = true;
	return o->addr_size == 2 ? modrm16(c, o, mod, rm) : modrm32(c, o, mode, mod, rm);
}

static unsigned imm_size(const struct vh_insn *o, const struct op_row *row)
{
	unsigned z = o->op_size == 2 ? 2 : 4;

	if (row->flags & F_IB)
		return 1;
	if (row->flags & F_IZ)
		return z;
	if ((row->flags & F_IMM_G3) && ((o->modrm >> 3) & 7) < 2)
		return o->op_size == 1 ? 1 : z;
	return 0;
}

static enum vh_decode_result decode(struct cursor *c, enum vh_decode_mode mode, struct vh_insn *o)
{
	enum vh_decode_result r;
	struct op_row row;
	bool osz = false, asz = false;
	unsigned opsize;

	o->seg = VH_SREG_DS;
	o->base = o->index = VH_DECODE_NO_REG;
	if ((r = prefixes(c, mode, o, &osz, &asz)) != VH_DECODE_OK ||
	    (r = opcode(c, o, &row)) != VH_DECODE_OK)
		return r;
	if (!(row.flags & (F_MODRM | F_MOFFS | F_SRC | F_DST)) ||
	    (mode == VH_DECODE_64 && (row.flags & F_INV64)))
		return VH_DECODE_UNSUPPORTED;
	o->kind = row.kind;
	opsize = mode == VH_DECODE_16 ? 2 : 4;
	if (osz)
		opsize = opsize == 2 ? 4 : 2;
	if (o->rex & 8)
		opsize = 8;
	o->op_size = (uint8_t)(row.flags & F_BYTE ? 1 : row.flags & F_WORD ? 2 : opsize);
	o->reg_size =
	    o->kind == VH_INSN_MOVZX || o->kind == VH_INSN_MOVSX ? (uint8_t)opsize : o->op_size;
	o->addr_size = mode == VH_DECODE_64   ? (asz ? 4 : 8)
		       : mode == VH_DECODE_32 ? (asz ? 2 : 4)
					      : (asz ? 4 : 2);
	if (row.flags & F_MOFFS) {
		if ((r = need(c, o->addr_size)) != VH_DECODE_OK)
			return r;
		o->has_mem = true;
		o->disp = (int64_t)take(c, o->addr_size);
		o->reg = 0;
	}
	o->str_src = (row.flags & F_SRC) != 0;
	o->str_dst = (row.flags & F_DST) != 0;
	if ((row.flags & F_MODRM) && (r = modrm(c, o, mode, &row)) != VH_DECODE_OK)
		return r;
	o->imm_size = (uint8_t)imm_size(o, &row);
	if ((r = need(c, o->imm_size)) != VH_DECODE_OK)
		return r;
	o->imm = take(c, o->imm_size);
	if (o->imm_size == 4 && o->op_size == 8)
		o->imm = (uint64_t)sext(o->imm, 4);
	o->len = (uint8_t)c->i;
	return VH_DECODE_OK;
}

enum vh_decode_result vh_decode(const uint8_t *b, unsigned n, enum vh_decode_mode mode,
				struct vh_insn *out)
{
	struct cursor c = { .b = b, .n = n, .i = 0 };
	enum vh_decode_result r;

	*out = (struct vh_insn){ 0 };
	if (mode != VH_DECODE_16 && mode != VH_DECODE_32 && mode != VH_DECODE_64)
		return VH_DECODE_UNSUPPORTED;
	r = decode(&c, mode, out);
	if (r != VH_DECODE_OK)
		*out = (struct vh_insn){ 0 };
	return r;
}

uint64_t vh_decode_addr_mask(const struct vh_insn *in)
{
	return in->addr_size >= 8 ? ~0ull : (1ull << (8 * in->addr_size)) - 1;
}

uint64_t vh_decode_offset(const struct vh_insn *in, const uint64_t gpr[16], uint64_t rip)
{
	uint64_t off = (uint64_t)in->disp;

	if (in->base != VH_DECODE_NO_REG)
		off += gpr[in->base & 15];
	if (in->index != VH_DECODE_NO_REG)
		off += gpr[in->index & 15] << in->scale;
	if (in->rip_rel)
		off += rip + in->len;
	return off & vh_decode_addr_mask(in);
}
