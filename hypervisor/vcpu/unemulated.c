/* SPDX-License-Identifier: Apache-2.0 */
/* What a real CPU does with an instruction the hardware assist gave back
 * (vh/unemulated.h).  One row per form: where it sits in the opcode maps,
 * its mandatory prefix, its ModRM shape, the CPUID bit that offers it, and
 * when it is #UD whatever that bit says (LOCK where it is not allowed,
 * outside its modes, a register where it takes memory, a CPL it forbids).
 * Memory forms are measured by the shared decoder (vh/decode.h), which
 * also locates their operand. */
#include "vh/unemulated.h"
#include "vh/compiler.h"

/* ModRM shapes. */
enum form {
	FORM_NONE,  /* no ModRM */
	FORM_IB,    /* no ModRM, an imm8 */
	FORM_EXACT, /* one ModRM value (0f 01 d0 ...) */
	FORM_MEM,   /* ModRM.reg == row.reg, a memory operand (mod 3: not this row) */
	FORM_MEM_UD, /* as FORM_MEM, and mod 3 is #UD (no register form exists) */
	FORM_MEM_R, /* ModRM.reg any register, a memory operand, mod 3 #UD */
};

/* CPUID bits (word, bit) rows may require. */
enum feat { FEAT_NONE, FEAT_CX8, FEAT_CX16, FEAT_XSAVE, FEAT_CLFSH, FEAT_SMAP, FEAT_INVPCID,
	    FEAT_CLFLUSHOPT, FEAT_CLWB, FEAT_RDPRU };

enum word { W_L1_ECX, W_L1_EDX, W_L7_EBX, W_E8_EBX };

static const struct {
	uint8_t word, bit;
} feats[] = {
	[FEAT_CX8] = { W_L1_EDX, 8 },       [FEAT_CX16] = { W_L1_ECX, 13 },
	[FEAT_XSAVE] = { W_L1_ECX, 26 },    [FEAT_CLFSH] = { W_L1_EDX, 19 },
	[FEAT_SMAP] = { W_L7_EBX, 20 },     [FEAT_INVPCID] = { W_L7_EBX, 10 },
	[FEAT_CLFLUSHOPT] = { W_L7_EBX, 23 }, [FEAT_CLWB] = { W_L7_EBX, 24 },
	[FEAT_RDPRU] = { W_E8_EBX, 4 },
};

/* Row flags. */
#define R_ANYPFX 0x01u /* 66, f2, f3 change nothing (else: only the row's prefix) */
#define R_LOCK   0x02u /* LOCK allowed (memory forms that take it) */
#define R_INV64  0x04u /* #UD in 64-bit mode */
#define R_CPL0   0x08u /* #UD at CPL > 0 (CLAC, STAC) */
#define R_NOT64  0x10u /* not in the table in 64-bit mode (KVM's own IRETQ) */

struct row {
	uint8_t map;    /* 0 one-byte, 1 0f, 2 0f 38 */
	uint8_t opcode;
	uint8_t prefix; /* mandatory: 0, 0x66 (f2 f3 take precedence, as in SSE) */
	uint8_t form;   /* enum form */
	uint8_t modrm;  /* FORM_EXACT: the byte; FORM_MEM*: the reg field */
	uint8_t feat;   /* enum feat */
	uint8_t flags;
	uint8_t kind;   /* enum vh_unem_kind */
};

static const struct row rows[] = {
	{ 0, 0xcf, 0, FORM_NONE, 0, FEAT_NONE, R_NOT64, VH_UNEM_IRET },
	{ 0, 0xcc, 0, FORM_NONE, 0, FEAT_NONE, R_ANYPFX, VH_UNEM_INT3 },
	{ 0, 0xcd, 0, FORM_IB, 0, FEAT_NONE, R_ANYPFX, VH_UNEM_INTN },
	{ 0, 0xce, 0, FORM_NONE, 0, FEAT_NONE, R_ANYPFX | R_INV64, VH_UNEM_INTO },
	{ 0, 0xf1, 0, FORM_NONE, 0, FEAT_NONE, R_ANYPFX, VH_UNEM_INT1 },
	{ 1, 0x01, 0, FORM_EXACT, 0xd0, FEAT_XSAVE, 0, VH_UNEM_XGETBV },
	{ 1, 0x01, 0, FORM_EXACT, 0xca, FEAT_SMAP, R_CPL0, VH_UNEM_CLAC },
	{ 1, 0x01, 0, FORM_EXACT, 0xcb, FEAT_SMAP, R_CPL0, VH_UNEM_STAC },
	{ 1, 0x01, 0, FORM_EXACT, 0xfd, FEAT_RDPRU, 0, VH_UNEM_RDPRU },
	/* CMPXCHG16B with REX.W in 64-bit mode: vh_unemulated() switches. */
	{ 1, 0xc7, 0, FORM_MEM_UD, 1, FEAT_CX8, R_ANYPFX | R_LOCK, VH_UNEM_CMPXCHG8B },
	{ 2, 0x82, 0x66, FORM_MEM_R, 0, FEAT_INVPCID, 0, VH_UNEM_INVPCID },
	{ 1, 0xae, 0, FORM_MEM, 7, FEAT_CLFSH, 0, VH_UNEM_CLFLUSH },
	{ 1, 0xae, 0x66, FORM_MEM, 7, FEAT_CLFLUSHOPT, 0, VH_UNEM_CLFLUSHOPT },
	{ 1, 0xae, 0x66, FORM_MEM, 6, FEAT_CLWB, 0, VH_UNEM_CLWB },
	/* 0f ae /5 with mod 3 is LFENCE: another instruction. */
	{ 1, 0xae, 0, FORM_MEM, 5, FEAT_XSAVE, 0, VH_UNEM_XRSTOR },
};

static const char *const names[VH_UNEM_KINDS] = {
	[VH_UNEM_NONE] = "?",
	[VH_UNEM_IRET] = "IRET",
	[VH_UNEM_INT3] = "INT3",
	[VH_UNEM_INTN] = "INT n",
	[VH_UNEM_INTO] = "INTO",
	[VH_UNEM_INT1] = "INT1",
	[VH_UNEM_XGETBV] = "XGETBV",
	[VH_UNEM_CLAC] = "CLAC",
	[VH_UNEM_STAC] = "STAC",
	[VH_UNEM_RDPRU] = "RDPRU",
	[VH_UNEM_CMPXCHG8B] = "CMPXCHG8B",
	[VH_UNEM_CMPXCHG16B] = "CMPXCHG16B",
	[VH_UNEM_INVPCID] = "INVPCID",
	[VH_UNEM_CLFLUSH] = "CLFLUSH",
	[VH_UNEM_CLFLUSHOPT] = "CLFLUSHOPT",
	[VH_UNEM_CLWB] = "CLWB",
	[VH_UNEM_XRSTOR] = "XRSTOR",
};

const char *vh_unem_name(unsigned kind)
{
	return kind < VH_UNEM_KINDS && names[kind] ? names[kind] : "?";
}

static bool offered(const struct vh_unem_cpu *cpu, unsigned f)
{
	uint32_t w[] = { cpu->l1_ecx, cpu->l1_edx, cpu->l7_ebx, cpu->l80000008_ebx };

	return f == FEAT_NONE || (w[feats[f].word] >> feats[f].bit) & 1u;
}

/* The prefixes before the opcode. */
struct pfx {
	unsigned count;   /* bytes of prefixes and REX */
	uint8_t mandatory; /* 0, 0x66, 0xf2, 0xf3 as the SSE rules pick it */
	bool lock, rex_w;
};

static bool is_legacy(uint8_t p)
{
	switch (p) {
	case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return false;
	}
}

static bool scan_prefixes(const uint8_t *b, unsigned n, enum vh_decode_mode mode, struct pfx *p)
{
	bool p66 = false;
	uint8_t rep = 0;
	uint8_t rex = 0;
	unsigned i = 0;

	*p = (struct pfx){ 0 };
	for (; i < n && i < VH_DECODE_MAX_LEN; i++) {
		if (is_legacy(b[i])) {
			rex = 0; /* a REX counts only right before the opcode */
			p66 |= b[i] == 0x66;
			p->lock |= b[i] == 0xf0;
			if (b[i] == 0xf2 || b[i] == 0xf3)
				rep = b[i];
		} else if (mode == VH_DECODE_64 && (b[i] & 0xf0) == 0x40) {
			rex = b[i];
		} else {
			break;
		}
	}
	if (i >= n || i >= VH_DECODE_MAX_LEN)
		return false;
	p->count = i;
	p->rex_w = rex & 0x08u;
	p->mandatory = rep ? rep : p66 ? 0x66 : 0;
	return true;
}

/* The row for the opcode at b[at..n), and where its ModRM byte is. */
static const struct row *find(const uint8_t *b, unsigned n, unsigned at, const struct pfx *p,
			      unsigned *modrm_at)
{
	unsigned map = 0, i = at;

	if (b[i] == 0x0f) {
		map = 1;
		if (++i >= n)
			return 0;
		if (b[i] == 0x38) {
			map = 2;
			if (++i >= n)
				return 0;
		}
	}
	*modrm_at = i + 1;
	for (unsigned k = 0; k < VH_ARRAY_SIZE(rows); k++) {
		const struct row *r = &rows[k];
		uint8_t m;

		if (r->map != map || r->opcode != b[i])
			continue;
		if (!(r->flags & R_ANYPFX) && p->mandatory != r->prefix)
			continue;
		if (r->form == FORM_NONE || r->form == FORM_IB)
			return r;
		if (i + 1 >= n)
			return 0;
		m = b[i + 1];
		if (r->form == FORM_EXACT) {
			if (m == r->modrm)
				return r;
			continue;
		}
		if (r->form == FORM_MEM_R)
			return r;
		if (((m >> 3) & 7u) != r->modrm)
			continue;
		if (r->form == FORM_MEM && (m >> 6) == 3)
			continue; /* the register form is another instruction */
		return r;
	}
	return 0;
}

void vh_unemulated(const uint8_t *b, unsigned n, enum vh_decode_mode mode, unsigned cpl,
		   const struct vh_unem_cpu *cpu, struct vh_unem *out)
{
	const struct row *r;
	struct pfx p;
	unsigned modrm_at = 0, feat;
	uint8_t kind;

	*out = (struct vh_unem){ .name = "?" };
	if (n > VH_DECODE_MAX_LEN)
		n = VH_DECODE_MAX_LEN;
	if (!scan_prefixes(b, n, mode, &p) || !(r = find(b, n, p.count, &p, &modrm_at)))
		return;
	if ((r->flags & R_NOT64) && mode == VH_DECODE_64)
		return;
	kind = r->kind;
	feat = r->feat;
	if (kind == VH_UNEM_CMPXCHG8B && mode == VH_DECODE_64 && p.rex_w) {
		kind = VH_UNEM_CMPXCHG16B;
		feat = FEAT_CX16;
	}
	out->kind = kind;
	out->name = vh_unem_name(kind);
	out->rex_w = p.rex_w;
	switch (r->form) {
	case FORM_NONE:
		out->len = (uint8_t)(modrm_at);
		break;
	case FORM_IB:
		if (modrm_at >= n)
			goto unknown;
		out->len = (uint8_t)(modrm_at + 1);
		out->vector = b[modrm_at];
		break;
	case FORM_EXACT:
		out->len = (uint8_t)(modrm_at + 1);
		break;
	default:
		/* Memory forms: the shared decoder measures the instruction
		 * and locates its operand (a register form has none). */
		if (vh_decode(b, n, mode, &out->mem) != VH_DECODE_OK)
			goto unknown;
		out->len = out->mem.len;
		break;
	}
	if (kind == VH_UNEM_INT3)
		out->vector = 3;
	else if (kind == VH_UNEM_INTO)
		out->vector = 4;
	else if (kind == VH_UNEM_INT1)
		out->vector = 1;
	/* The checks in the order the SDM's pseudo-code makes them. */
	out->verdict = VH_UNEM_UD;
	if (p.lock && !(r->flags & R_LOCK))
		return;
	if ((r->flags & R_INV64) && mode == VH_DECODE_64)
		return;
	if (!offered(cpu, feat))
		return;
	if ((r->form == FORM_MEM_UD || r->form == FORM_MEM_R) && !out->mem.has_mem)
		return;
	if ((r->flags & R_CPL0) && cpl > 0)
		return;
	out->verdict = VH_UNEM_COMPLETE;
	return;
unknown:
	*out = (struct vh_unem){ .name = "?" };
}
