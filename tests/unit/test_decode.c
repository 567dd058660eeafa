/* SPDX-License-Identifier: Apache-2.0 */
/* The shared x86 decoder (vh/decode.h), one test per instruction form:
 * prefixes, operand and address sizes, ModRM and SIB, 16-bit addressing,
 * RIP-relative, immediates, absolute addresses, MOVZX/MOVSX, the string
 * instructions with REP, what it refuses, and truncated input.  The
 * byte sequences are what an assembler emits for the named instruction
 * (checked against objdump). */
#include <string.h>

#include "vh/decode.h"
#include "vh_test.h"

#define NO VH_DECODE_NO_REG

/* Decodes a byte string given as a C literal (its terminating NUL not
 * counted); the decoder must take all of it. */
#define DEC(mode, lit, out) dec(mode, (const uint8_t *)(lit), sizeof(lit) - 1, out)

static int dec(enum vh_decode_mode mode, const uint8_t *b, unsigned n, struct vh_insn *o)
{
	enum vh_decode_result r = vh_decode(b, n, mode, o);

	if (r == VH_DECODE_OK)
		VH_EXPECT_EQ(o->len, n);
	return r;
}

VH_TEST(decode, mov_store_and_load_32)
{
	struct vh_insn in;

	/* mov [ebx], eax */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x89\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOV_STORE);
	VH_EXPECT_EQ(in.op_size, 4u);
	VH_EXPECT_EQ(in.addr_size, 4u);
	VH_EXPECT_EQ(in.base, 3u);
	VH_EXPECT_EQ(in.index, NO);
	VH_EXPECT_EQ(in.reg, 0u);
	VH_EXPECT_EQ(in.seg, VH_SREG_DS);
	VH_EXPECT(in.has_mem && in.has_modrm && !in.has_sib && !in.rip_rel);
	/* mov ecx, [ebx+0x10] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8b\x4b\x10", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOV_LOAD);
	VH_EXPECT_EQ(in.reg, 1u);
	VH_EXPECT_EQ(in.disp, 0x10);
	/* mov edx, [esi-0x100] (disp32, negative) */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8b\x96\x00\xff\xff\xff", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.base, 6u);
	VH_EXPECT_EQ(in.disp, -0x100);
	/* mov eax, ebx: ModRM names two registers, no memory operand */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x89\xd8", &in), VH_DECODE_OK);
	VH_EXPECT(!in.has_mem);
}

VH_TEST(decode, byte_registers_high_and_rex)
{
	struct vh_insn in;

	/* mov [eax], ah: AH is rAX's bits 15:8 */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x88\x20", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.op_size, 1u);
	VH_EXPECT(in.high_byte);
	VH_EXPECT_EQ(in.reg, 0u);
	/* mov bh, [eax] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8a\x38", &in), VH_DECODE_OK);
	VH_EXPECT(in.high_byte);
	VH_EXPECT_EQ(in.reg, 3u);
	/* mov [rax], spl: with any REX, 4-7 are SPL BPL SIL DIL */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x40\x88\x20", &in), VH_DECODE_OK);
	VH_EXPECT(!in.high_byte);
	VH_EXPECT_EQ(in.reg, 4u);
	/* mov [rax], r12b (REX.R) */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x44\x88\x20", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.reg, 12u);
	/* mov [eax], al */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x88\x00", &in), VH_DECODE_OK);
	VH_EXPECT(!in.high_byte);
}

VH_TEST(decode, operand_size_prefix_and_rex_w)
{
	static const struct {
		enum vh_decode_mode mode;
		const char *bytes;
		unsigned n, op_size;
	} cases[] = {
		{ VH_DECODE_16, "\x89\x07", 2, 2 },         /* mov [bx], ax */
		{ VH_DECODE_16, "\x66\x89\x07", 3, 4 },     /* mov [bx], eax */
		{ VH_DECODE_32, "\x66\x89\x03", 3, 2 },     /* mov [ebx], ax */
		{ VH_DECODE_64, "\x89\x03", 2, 4 },         /* mov [rbx], eax */
		{ VH_DECODE_64, "\x66\x89\x03", 3, 2 },     /* mov [rbx], ax */
		{ VH_DECODE_64, "\x48\x89\x03", 3, 8 },     /* mov [rbx], rax */
		{ VH_DECODE_64, "\x66\x48\x89\x03", 4, 8 }, /* REX.W wins over 66 */
		/* A REX before a legacy prefix is not the opcode's: 32-bit. */
		{ VH_DECODE_64, "\x48\x66\x89\x03", 4, 2 },
		/* In 32-bit mode 48 is DEC eAX: no memory operand. */
	};
	struct vh_insn in;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VH_ASSERT_EQ(dec(cases[i].mode, (const uint8_t *)cases[i].bytes, cases[i].n, &in),
			     VH_DECODE_OK);
		VH_EXPECT_EQ(in.op_size, cases[i].op_size);
		VH_EXPECT_EQ(in.kind, VH_INSN_MOV_STORE);
	}
	VH_EXPECT_EQ(DEC(VH_DECODE_32, "\x48\x89\x03", &in), VH_DECODE_UNSUPPORTED);
}

VH_TEST(decode, address_size_prefix)
{
	struct vh_insn in;
	uint64_t gpr[16] = { 0 };

	/* 32-bit code, 67: 16-bit addressing, mov [bx], eax */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x67\x89\x07", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.addr_size, 2u);
	VH_EXPECT_EQ(in.base, 3u);
	/* 16-bit code, 67: 32-bit addressing, mov [ebx], ax */
	VH_ASSERT_EQ(DEC(VH_DECODE_16, "\x67\x89\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.addr_size, 4u);
	VH_EXPECT_EQ(in.op_size, 2u);
	/* 64-bit code, 67: the offset wraps at 4 GiB, mov [ebx+8], eax */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x67\x89\x43\x08", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.addr_size, 4u);
	gpr[3] = 0x1fffffffcull;
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0), 4u);
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x89\x43\x08", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.addr_size, 8u);
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0), 0x200000004ull);
}

VH_TEST(decode, addressing_16bit)
{
	static const struct {
		const char *bytes;
		unsigned n, base, index, seg;
		int64_t disp;
	} cases[] = {
		{ "\x8b\x00", 2, 3, 6, VH_SREG_DS, 0 },                /* [bx+si] */
		{ "\x8b\x01", 2, 3, 7, VH_SREG_DS, 0 },                /* [bx+di] */
		{ "\x8b\x42\x04", 3, 5, 6, VH_SREG_SS, 4 },            /* [bp+si+4] */
		{ "\x8b\x43\xfe", 3, 5, 7, VH_SREG_SS, -2 },           /* [bp+di-2] */
		{ "\x8b\x04", 2, 6, NO, VH_SREG_DS, 0 },               /* [si] */
		{ "\x8b\x05", 2, 7, NO, VH_SREG_DS, 0 },               /* [di] */
		{ "\x8b\x06\x34\x12", 4, NO, NO, VH_SREG_DS, 0x1234 }, /* [0x1234] */
		{ "\x8b\x86\x00\x80", 4, 5, NO, VH_SREG_SS, -0x8000 }, /* [bp-0x8000] */
		{ "\x8b\x07", 2, 3, NO, VH_SREG_DS, 0 },               /* [bx] */
	};
	struct vh_insn in;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VH_ASSERT_EQ(dec(VH_DECODE_16, (const uint8_t *)cases[i].bytes, cases[i].n, &in),
			     VH_DECODE_OK);
		VH_EXPECT_EQ(in.base, cases[i].base);
		VH_EXPECT_EQ(in.index, cases[i].index);
		VH_EXPECT_EQ(in.seg, cases[i].seg);
		VH_EXPECT_EQ(in.disp, cases[i].disp);
		VH_EXPECT_EQ(in.addr_size, 2u);
	}
	/* [bx-2] with bx 1 wraps within the 64 KiB segment. */
	uint64_t gpr[16] = { [3] = 1 };
	VH_ASSERT_EQ(DEC(VH_DECODE_16, "\x8b\x47\xfe", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0), 0xffffu);
}

VH_TEST(decode, sib_forms)
{
	struct vh_insn in;
	uint64_t gpr[16] = { 0 };

	/* mov eax, [ebx+ecx*4] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8b\x04\x8b", &in), VH_DECODE_OK);
	VH_EXPECT(in.has_sib);
	VH_EXPECT_EQ(in.base, 3u);
	VH_EXPECT_EQ(in.index, 1u);
	VH_EXPECT_EQ(in.scale, 2u);
	gpr[3] = 0x1000;
	gpr[1] = 3;
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0), 0x100cu);
	/* mov eax, [0x12345678] through SIB: no base, no index */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8b\x04\x25\x78\x56\x34\x12", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.base, NO);
	VH_EXPECT_EQ(in.index, NO);
	VH_EXPECT_EQ(in.disp, 0x12345678);
	/* mov eax, [esp+8]: the stack segment */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8b\x44\x24\x08", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.base, 4u);
	VH_EXPECT_EQ(in.index, NO);
	VH_EXPECT_EQ(in.seg, VH_SREG_SS);
	/* mov eax, [ebp*2+0x10]: index without base, disp32 */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8b\x04\x6d\x10\x00\x00\x00", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.base, NO);
	VH_EXPECT_EQ(in.index, 5u);
	VH_EXPECT_EQ(in.scale, 1u);
	VH_EXPECT_EQ(in.seg, VH_SREG_DS);
	/* mov rax, [rax+r9*4] (REX.W REX.X) */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x4a\x8b\x04\x88", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.index, 9u);
	VH_EXPECT_EQ(in.base, 0u);
	VH_EXPECT_EQ(in.op_size, 8u);
	/* mov eax, [r12+r12]: with REX.X, index 4 is r12, not "none" */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x43\x8b\x04\x24", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.index, 12u);
	VH_EXPECT_EQ(in.base, 12u);
	/* mov eax, [r13+0] (REX.B, mod 1: r13 needs a displacement) */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x41\x8b\x45\x00", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.base, 13u);
	VH_EXPECT(!in.rip_rel);
}

VH_TEST(decode, rip_relative_only_in_64bit_mode)
{
	struct vh_insn in;
	uint64_t gpr[16] = { 0 };

	/* mov eax, [rip+0x10] */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x8b\x05\x10\x00\x00\x00", &in), VH_DECODE_OK);
	VH_EXPECT(in.rip_rel);
	VH_EXPECT_EQ(in.base, NO);
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0x400000), 0x400016u);
	/* mov dword [rip+0x100], 0x12345678: from the end, immediate included */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\xc7\x05\x00\x01\x00\x00\x78\x56\x34\x12", &in),
		     VH_DECODE_OK);
	VH_EXPECT(in.rip_rel);
	VH_EXPECT_EQ(in.imm, 0x12345678u);
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0x1000), 0x1000u + 10 + 0x100);
	/* mov eax, [rip-8] with 67: eip-relative, wraps at 4 GiB */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x67\x8b\x05\xf8\xff\xff\xff", &in), VH_DECODE_OK);
	VH_EXPECT(in.rip_rel);
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0x100000000ull), 0xffffffffu);
	/* The same bytes in 32-bit mode: an absolute disp32 */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x8b\x05\x10\x00\x00\x00", &in), VH_DECODE_OK);
	VH_EXPECT(!in.rip_rel);
	VH_EXPECT_EQ(vh_decode_offset(&in, gpr, 0x400000), 0x10u);
}

VH_TEST(decode, mov_immediate)
{
	struct vh_insn in;

	/* mov byte [eax], 0xab */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\xc6\x00\xab", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOV_IMM);
	VH_EXPECT_EQ(in.op_size, 1u);
	VH_EXPECT_EQ(in.imm_size, 1u);
	VH_EXPECT_EQ(in.imm, 0xabu);
	/* mov word [eax], 0x1234 */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x66\xc7\x00\x34\x12", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.op_size, 2u);
	VH_EXPECT_EQ(in.imm, 0x1234u);
	/* mov qword [rax], -1: imm32 sign-extended */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x48\xc7\x00\xff\xff\xff\xff", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.op_size, 8u);
	VH_EXPECT_EQ(in.imm, ~0ull);
	/* mov dword [rax], 0xffffffff: zero-extended at 32 bits */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\xc7\x00\xff\xff\xff\xff", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.imm, 0xffffffffu);
	/* mov dword [ebx+ecx*2+0x20], 1 in 16-bit code with 66 67 */
	VH_ASSERT_EQ(DEC(VH_DECODE_16, "\x66\x67\xc7\x44\x4b\x20\x01\x00\x00\x00", &in),
		     VH_DECODE_OK);
	VH_EXPECT_EQ(in.op_size, 4u);
	VH_EXPECT_EQ(in.disp, 0x20);
	/* c7 /1 is undefined */
	VH_EXPECT_EQ(DEC(VH_DECODE_32, "\xc7\x08\x01\x00\x00\x00", &in), VH_DECODE_UNSUPPORTED);
}

VH_TEST(decode, absolute_address_moffs)
{
	struct vh_insn in;

	/* mov eax, [0x12345678] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\xa1\x78\x56\x34\x12", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOV_LOAD);
	VH_EXPECT(in.has_mem && !in.has_modrm);
	VH_EXPECT_EQ(in.disp, 0x12345678);
	VH_EXPECT_EQ(in.reg, 0u);
	/* mov [0xfee00000fee000b0], rax: 8 address bytes */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x48\xa3\xb0\x00\xe0\xfe\x00\xe0\xe0\xfe", &in),
		     VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOV_STORE);
	VH_EXPECT_EQ(in.op_size, 8u);
	VH_EXPECT_EQ((uint64_t)in.disp, 0xfee0e000fee000b0ull);
	/* 67 in 64-bit mode: 4 address bytes; mov al, [0x11223344] */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x67\xa0\x44\x33\x22\x11", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.op_size, 1u);
	VH_EXPECT(!in.high_byte);
	/* 16-bit code: 2 address bytes, mov [0x1234], al with an ES override */
	VH_ASSERT_EQ(DEC(VH_DECODE_16, "\x26\xa2\x34\x12", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.seg, VH_SREG_ES);
	VH_EXPECT(in.seg_override);
	VH_EXPECT_EQ(in.disp, 0x1234);
}

VH_TEST(decode, movzx_movsx)
{
	struct vh_insn in;

	/* movzx eax, byte [ebx] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x0f\xb6\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOVZX);
	VH_EXPECT_EQ(in.map, 1u);
	VH_EXPECT_EQ(in.op_size, 1u);
	VH_EXPECT_EQ(in.reg_size, 4u);
	/* movzx esp, byte [ebx]: the register is wide, 4 is not AH */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x0f\xb6\x23", &in), VH_DECODE_OK);
	VH_EXPECT(!in.high_byte);
	VH_EXPECT_EQ(in.reg, 4u);
	/* movzx ax, word [ebx] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x66\x0f\xb7\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.op_size, 2u);
	VH_EXPECT_EQ(in.reg_size, 2u);
	/* movsx rax, word [rbx] */
	VH_ASSERT_EQ(DEC(VH_DECODE_64, "\x48\x0f\xbf\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOVSX);
	VH_EXPECT_EQ(in.op_size, 2u);
	VH_EXPECT_EQ(in.reg_size, 8u);
	/* movsx ecx, byte [eax] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x0f\xbe\x08", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.kind, VH_INSN_MOVSX);
	VH_EXPECT_EQ(in.reg, 1u);
}

VH_TEST(decode, string_instructions_and_rep)
{
	static const struct {
		enum vh_decode_mode mode;
		const char *bytes;
		unsigned n, kind, op_size, addr_size, rep, seg;
		bool src, dst;
	} cases[] = {
		{ VH_DECODE_32, "\xf3\xa4", 2, VH_INSN_MOVS, 1, 4, 0xf3, VH_SREG_DS, 1, 1 },
		{ VH_DECODE_32, "\xa5", 1, VH_INSN_MOVS, 4, 4, 0, VH_SREG_DS, 1, 1 },
		{ VH_DECODE_64, "\xf3\x48\xab", 3, VH_INSN_STOS, 8, 8, 0xf3, VH_SREG_DS, 0, 1 },
		{ VH_DECODE_64, "\x48\xf3\xab", 3, VH_INSN_STOS, 4, 8, 0xf3, VH_SREG_DS, 0, 1 },
		{ VH_DECODE_16, "\xf3\xaa", 2, VH_INSN_STOS, 1, 2, 0xf3, VH_SREG_DS, 0, 1 },
		{ VH_DECODE_32, "\x26\xac", 2, VH_INSN_LODS, 1, 4, 0, VH_SREG_ES, 1, 0 },
		{ VH_DECODE_32, "\x66\xad", 2, VH_INSN_LODS, 2, 4, 0, VH_SREG_DS, 1, 0 },
		{ VH_DECODE_32, "\xf3\x6c", 2, VH_INSN_INS, 1, 4, 0xf3, VH_SREG_DS, 0, 1 },
		{ VH_DECODE_32, "\xf3\x66\x6d", 3, VH_INSN_INS, 2, 4, 0xf3, VH_SREG_DS, 0, 1 },
		{ VH_DECODE_32, "\xf3\x64\x6f", 3, VH_INSN_OUTS, 4, 4, 0xf3, VH_SREG_FS, 1, 0 },
		{ VH_DECODE_16, "\x67\xf3\x6e", 3, VH_INSN_OUTS, 1, 4, 0xf3, VH_SREG_DS, 1, 0 },
		{ VH_DECODE_32, "\xf3\xa6", 2, VH_INSN_CMPS, 1, 4, 0xf3, VH_SREG_DS, 1, 1 },
		{ VH_DECODE_32, "\xf2\xae", 2, VH_INSN_SCAS, 1, 4, 0xf2, VH_SREG_DS, 0, 1 },
		{ VH_DECODE_64, "\x67\xf3\xa5", 3, VH_INSN_MOVS, 4, 4, 0xf3, VH_SREG_DS, 1, 1 },
	};
	struct vh_insn in;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VH_ASSERT_EQ(dec(cases[i].mode, (const uint8_t *)cases[i].bytes, cases[i].n, &in),
			     VH_DECODE_OK);
		VH_EXPECT_EQ(in.kind, cases[i].kind);
		VH_EXPECT_EQ(in.op_size, cases[i].op_size);
		VH_EXPECT_EQ(in.addr_size, cases[i].addr_size);
		VH_EXPECT_EQ(in.rep, cases[i].rep);
		VH_EXPECT_EQ(in.seg, cases[i].seg);
		VH_EXPECT_EQ(in.str_src, cases[i].src);
		VH_EXPECT_EQ(in.str_dst, cases[i].dst);
		VH_EXPECT(!in.has_mem && !in.has_modrm);
	}
}

VH_TEST(decode, segment_overrides)
{
	struct vh_insn in;

	/* mov eax, fs:[ebx] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x64\x8b\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.seg, VH_SREG_FS);
	VH_EXPECT(in.seg_override);
	/* mov eax, cs:[ebp+0]: the override beats the stack default */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x2e\x8b\x45\x00", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.seg, VH_SREG_CS);
	/* the last of several */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x26\x65\x8b\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.seg, VH_SREG_GS);
	/* ss:[ebx], ds:[ebp] */
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x36\x8b\x03", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.seg, VH_SREG_SS);
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\x3e\x8b\x45\x00", &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.seg, VH_SREG_DS);
}

/* The read-modify-write forms vh-hosted locates for KVM: the length
 * counts every immediate. */
VH_TEST(decode, alu_and_other_memory_operands)
{
	static const struct {
		enum vh_decode_mode mode;
		const char *bytes;
		unsigned n, imm_size;
		bool mem;
	} cases[] = {
		{ VH_DECODE_32, "\xf0\x83\x03\x01", 4, 1, 1 },         /* lock add [ebx], 1 */
		{ VH_DECODE_32, "\x81\x0b\x00\x00\x01\x00", 6, 4, 1 }, /* or [ebx], 0x10000 */
		{ VH_DECODE_32, "\x66\x81\x23\xff\x00", 5, 2, 1 },     /* and word [ebx], 0xff */
		{ VH_DECODE_32, "\x80\x33\x80", 3, 1, 1 },             /* xor byte [ebx], 0x80 */
		{ VH_DECODE_32, "\x31\x03", 2, 0, 1 },                 /* xor [ebx], eax */
		{ VH_DECODE_32, "\xf6\x03\x01", 3, 1, 1 },             /* test byte [ebx], 1 */
		{ VH_DECODE_32, "\xf7\x03\x00\x00\x00\x80", 6, 4, 1 }, /* test [ebx], imm32 */
		{ VH_DECODE_32, "\xf7\x13", 2, 0, 1 },                 /* not [ebx] */
		{ VH_DECODE_32, "\x39\x03", 2, 0, 1 },                 /* cmp [ebx], eax */
		{ VH_DECODE_32, "\x85\x03", 2, 0, 1 },                 /* test [ebx], eax */
		{ VH_DECODE_64, "\xf0\x48\x0f\xc1\x03", 5, 0, 1 },     /* lock xadd [rbx], rax */
		{ VH_DECODE_32, "\xf0\x0f\xc7\x0b", 4, 0, 1 },         /* lock cmpxchg8b [ebx] */
		{ VH_DECODE_32, "\x0f\xba\x2b\x05", 4, 1, 1 },         /* bts dword [ebx], 5 */
		{ VH_DECODE_32, "\x66\x0f\x3a\x0f\x03\x04", 6, 1, 1 }, /* palignr xmm0, [ebx], 4 */
		{ VH_DECODE_32, "\x66\x0f\x38\x00\x03", 5, 0, 1 },     /* pshufb xmm0, [ebx] */
		{ VH_DECODE_32, "\xc1\x23\x04", 3, 1, 1 },             /* shl dword [ebx], 4 */
		{ VH_DECODE_32, "\x8f\x03", 2, 0, 1 },                 /* pop dword [ebx] */
		{ VH_DECODE_32, "\xc4\x03", 2, 0, 1 },                 /* les eax, [ebx] */
		{ VH_DECODE_32, "\x82\x03\x01", 3, 1, 1 },             /* add byte [ebx], 1 */
		{ VH_DECODE_32, "\x0f\x20\xc0", 3, 0, 0 },             /* mov eax, cr0 */
		{ VH_DECODE_32, "\x0f\x22\x18", 3, 0, 0 },             /* mov cr3, eax (mod 0) */
		{ VH_DECODE_32, "\x69\x03\x10\x00\x00\x00", 6, 4, 1 }, /* imul eax, [ebx], 16 */
	};
	struct vh_insn in;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		VH_ASSERT_EQ(dec(cases[i].mode, (const uint8_t *)cases[i].bytes, cases[i].n, &in),
			     VH_DECODE_OK);
		VH_EXPECT_EQ(in.kind, VH_INSN_OTHER);
		VH_EXPECT_EQ(in.imm_size, cases[i].imm_size);
		VH_EXPECT_EQ(in.has_mem, cases[i].mem);
	}
	VH_ASSERT_EQ(DEC(VH_DECODE_32, "\xf0\x83\x03\x01", &in), VH_DECODE_OK);
	VH_EXPECT(in.lock);
}

VH_TEST(decode, refuses_what_it_does_not_know)
{
	static const struct {
		enum vh_decode_mode mode;
		const char *bytes;
		unsigned n;
	} cases[] = {
		{ VH_DECODE_32, "\xb8\x01\x00\x00\x00", 5 },     /* mov eax, 1 */
		{ VH_DECODE_32, "\xe9\x00\x00\x00\x00", 5 },     /* jmp rel32 */
		{ VH_DECODE_64, "\x0f\x05", 2 },                 /* syscall */
		{ VH_DECODE_32, "\x0f\x84\x00\x00\x00\x00", 6 }, /* je rel32 */
		{ VH_DECODE_32, "\x0f\xa2", 2 },                 /* cpuid */
		{ VH_DECODE_32, "\xc5\xf8\x77", 3 },             /* vzeroupper (VEX2) */
		{ VH_DECODE_64, "\xc4\x03", 2 },                 /* VEX3 in 64-bit mode */
		{ VH_DECODE_64, "\x62\x03", 2 },                 /* EVEX in 64-bit mode */
		{ VH_DECODE_64, "\x82\x03\x01", 3 },             /* invalid in 64-bit mode */
		{ VH_DECODE_32, "\x8f\xc8\x78", 3 },             /* XOP */
		{ VH_DECODE_32, "\xc6\xf8\x01", 3 },             /* xabort */
		{ VH_DECODE_32, "\xf4", 1 },                     /* hlt */
	};
	struct vh_insn in;

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		VH_EXPECT_EQ(dec(cases[i].mode, (const uint8_t *)cases[i].bytes, cases[i].n, &in),
			     VH_DECODE_UNSUPPORTED);
	VH_EXPECT_EQ((int)vh_decode((const uint8_t *)"\x89\x03", 2, (enum vh_decode_mode)8, &in),
		     VH_DECODE_UNSUPPORTED);
	VH_EXPECT_EQ(in.len, 0u);
}

/* Every proper prefix of an instruction is too short; nothing past the
 * instruction matters; over 15 bytes is too long. */
VH_TEST(decode, truncated_and_too_long)
{
	static const char *const insns[] = {
		"\x8b\x04\x25\x78\x56\x34\x12",
		"\x66\x67\xc7\x44\x4b\x20\x01\x00\x00\x00",
		"\x48\xa3\xb0\x00\xe0\xfe\x00\xe0\xe0\xfe",
		"\x66\x0f\x3a\x0f\x03\x04",
	};
	static const unsigned lens[] = { 7, 10, 10, 6 };
	static const enum vh_decode_mode modes[] = { VH_DECODE_32, VH_DECODE_16, VH_DECODE_64,
						     VH_DECODE_32 };
	uint8_t buf[32];
	struct vh_insn in;

	for (unsigned i = 0; i < 4; i++) {
		memset(buf, 0x90, sizeof(buf));
		memcpy(buf, insns[i], lens[i]);
		for (unsigned k = 0; k < lens[i]; k++)
			VH_EXPECT_EQ((int)vh_decode(buf, k, modes[i], &in), VH_DECODE_SHORT);
		VH_ASSERT_EQ((int)vh_decode(buf, sizeof(buf), modes[i], &in), VH_DECODE_OK);
		VH_EXPECT_EQ(in.len, lens[i]);
	}
	/* 13 operand-size prefixes and mov [ebx], eax: 15 bytes, fine. */
	memset(buf, 0x66, 13);
	buf[13] = 0x89;
	buf[14] = 0x03;
	VH_ASSERT_EQ((int)vh_decode(buf, 15, VH_DECODE_32, &in), VH_DECODE_OK);
	VH_EXPECT_EQ(in.len, 15u);
	/* One more: 16, a #GP on the CPU. */
	memset(buf, 0x66, 14);
	buf[14] = 0x89;
	buf[15] = 0x03;
	VH_EXPECT_EQ((int)vh_decode(buf, 16, VH_DECODE_32, &in), VH_DECODE_TOO_LONG);
	VH_EXPECT_EQ((int)vh_decode(buf, 15, VH_DECODE_32, &in), VH_DECODE_TOO_LONG);
	/* Prefixes only. */
	VH_EXPECT_EQ((int)vh_decode(buf, 5, VH_DECODE_32, &in), VH_DECODE_SHORT);
}
