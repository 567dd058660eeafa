/* SPDX-License-Identifier: Apache-2.0 */
/* What a real CPU does with an instruction KVM handed back
 * (vh/unemulated.h): each table row completed where the model offers it
 * and #UD where it does not, the forms that are #UD whatever the model
 * says (LOCK, a register operand, INTO in 64-bit mode, CLAC at CPL 3),
 * lengths with prefixes, what is not in the table, truncated bytes, and
 * random bytes never read past n nor crash.  The byte strings are what an
 * assembler emits for the named instruction (checked with objdump). */
#include <stdlib.h>
#include <string.h>

#include "vh/unemulated.h"
#include "vh_test.h"

#define B(lit) (const uint8_t *)(lit), (unsigned)(sizeof(lit) - 1)

/* Everything the table tests, offered. */
static const struct vh_unem_cpu all = {
	.l1_ecx = (1u << 13) | (1u << 26),
	.l1_edx = (1u << 8) | (1u << 19),
	.l7_ebx = (1u << 10) | (1u << 20) | (1u << 23) | (1u << 24),
	.l80000008_ebx = 1u << 4,
};
static const struct vh_unem_cpu none = { 0 };

static struct vh_unem cls(const uint8_t *b, unsigned n, enum vh_decode_mode mode, unsigned cpl,
			  const struct vh_unem_cpu *cpu)
{
	struct vh_unem u;

	vh_unemulated(b, n, mode, cpl, cpu, &u);
	return u;
}

/* CMPXCHG8B with CX8 alone. */
static const struct vh_unem_cpu cx8 = { .l1_edx = 1u << 8 };

#define ANY (-1)

/* One instruction and what a real CPU does with it under the model: a
 * kind of ANY, a length of 0 or a vector of ANY leave that unchecked. */
struct unem_case {
	const char *what;
	const char *bytes;
	unsigned n;
	enum vh_decode_mode mode;
	unsigned cpl;
	const struct vh_unem_cpu *cpu;
	int kind;
	enum vh_unem_verdict verdict;
	unsigned len;
	int vector;
};

#define I(lit) lit, (unsigned)(sizeof(lit) - 1)

static const struct unem_case cases[] = {
	{ "lock cmpxchg16b [rdi]", I("\xf0\x48\x0f\xc7\x0f"), VH_DECODE_64, 0, &all,
	  VH_UNEM_CMPXCHG16B, VH_UNEM_COMPLETE, 5, ANY },
	{ "Linux's SLUB: lock cmpxchg16b 0x20(%rsi), a disp8", I("\xf0\x48\x0f\xc7\x4e\x20"),
	  VH_DECODE_64, 0, &all, ANY, VH_UNEM_COMPLETE, 6, ANY },
	{ "cmpxchg16b without CX16 in the model: #UD", I("\xf0\x48\x0f\xc7\x0f"), VH_DECODE_64, 0,
	  &none, ANY, VH_UNEM_UD, 0, ANY },
	{ "cmpxchg16b with CX8 alone: #UD", I("\xf0\x48\x0f\xc7\x0f"), VH_DECODE_64, 0, &cx8, ANY,
	  VH_UNEM_UD, 0, ANY },
	{ "lock cmpxchg8b [rdi]: CX8 is enough", I("\xf0\x0f\xc7\x0f"), VH_DECODE_64, 0, &cx8,
	  VH_UNEM_CMPXCHG8B, VH_UNEM_COMPLETE, 0, ANY },
	{ "in 32-bit mode 48 is DEC eAX, another instruction", I("\x48\x0f\xc7\x0f"), VH_DECODE_32,
	  0, &all, ANY, VH_UNEM_UNKNOWN, 0, ANY },
	{ "cmpxchg8b [ebx+esi*4+0x10] in 32-bit mode at CPL 3", I("\x0f\xc7\x4c\xb3\x10"),
	  VH_DECODE_32, 3, &all, VH_UNEM_CMPXCHG8B, VH_UNEM_COMPLETE, 5, ANY },
	{ "cmpxchg8b with a register operand (mod 3) does not exist: #UD", I("\x0f\xc7\xc9"),
	  VH_DECODE_64, 0, &all, VH_UNEM_CMPXCHG8B, VH_UNEM_UD, 0, ANY },
	{ "rdrand (0f c7 /6 mod 3) is not ours", I("\x0f\xc7\xf0"), VH_DECODE_64, 0, &all, ANY,
	  VH_UNEM_UNKNOWN, 0, ANY },
	{ "vmptrld (0f c7 /6 memory) is not ours", I("\x0f\xc7\x30"), VH_DECODE_64, 0, &all, ANY,
	  VH_UNEM_UNKNOWN, 0, ANY },
	{ "int3", I("\xcc"), VH_DECODE_64, 0, &none, VH_UNEM_INT3, VH_UNEM_COMPLETE, 1, 3 },
	{ "int $0x80 at CPL 3", I("\xcd\x80"), VH_DECODE_32, 3, &none, VH_UNEM_INTN,
	  VH_UNEM_COMPLETE, 2, 0x80 },
	{ "int n without its immediate: not enough bytes to say", I("\xcd"), VH_DECODE_32, 0, &none,
	  ANY, VH_UNEM_UNKNOWN, 0, ANY },
	{ "into in 32-bit mode", I("\xce"), VH_DECODE_32, 0, &none, ANY, VH_UNEM_COMPLETE, 0, 4 },
	{ "into in 64-bit mode: #UD", I("\xce"), VH_DECODE_64, 0, &none, ANY, VH_UNEM_UD, 0, ANY },
	{ "int1", I("\xf1"), VH_DECODE_64, 0, &none, VH_UNEM_INT1, VH_UNEM_COMPLETE, 0, 1 },
	{ "lock int3: #UD", I("\xf0\xcc"), VH_DECODE_64, 0, &none, VH_UNEM_INT3, VH_UNEM_UD, 0,
	  ANY },
	{ "clac at CPL 0 with SMAP offered", I("\x0f\x01\xca"), VH_DECODE_64, 0, &all, VH_UNEM_CLAC,
	  VH_UNEM_COMPLETE, 3, ANY },
	{ "stac at CPL 0 with SMAP offered", I("\x0f\x01\xcb"), VH_DECODE_64, 0, &all, VH_UNEM_STAC,
	  VH_UNEM_COMPLETE, 0, ANY },
	{ "stac at CPL 3: #UD", I("\x0f\x01\xcb"), VH_DECODE_64, 3, &all, ANY, VH_UNEM_UD, 0, ANY },
	{ "clac without SMAP: #UD", I("\x0f\x01\xca"), VH_DECODE_64, 0, &none, ANY, VH_UNEM_UD, 0,
	  ANY },
	{ "xgetbv with XSAVE offered", I("\x0f\x01\xd0"), VH_DECODE_32, 0, &all, VH_UNEM_XGETBV,
	  VH_UNEM_COMPLETE, 0, ANY },
	{ "xgetbv without XSAVE: #UD", I("\x0f\x01\xd0"), VH_DECODE_32, 0, &none, ANY, VH_UNEM_UD,
	  0, ANY },
	{ "rdpru not offered: #UD", I("\x0f\x01\xfd"), VH_DECODE_64, 0, &none, VH_UNEM_RDPRU,
	  VH_UNEM_UD, 0, ANY },
	{ "invpcid [rax], rcx not offered: #UD", I("\x66\x0f\x38\x82\x08"), VH_DECODE_64, 0, &none,
	  VH_UNEM_INVPCID, VH_UNEM_UD, 5, ANY },
	{ "invpcid [rax], rcx offered", I("\x66\x0f\x38\x82\x08"), VH_DECODE_64, 0, &all, ANY,
	  VH_UNEM_COMPLETE, 0, ANY },
	{ "0f 38 82 without its mandatory 66 is another instruction", I("\x0f\x38\x82\x08"),
	  VH_DECODE_64, 0, &all, ANY, VH_UNEM_UNKNOWN, 0, ANY },
	{ "iret outside 64-bit mode", I("\xcf"), VH_DECODE_32, 0, &none, VH_UNEM_IRET,
	  VH_UNEM_COMPLETE, 0, ANY },
	{ "iretq is KVM's", I("\x48\xcf"), VH_DECODE_64, 0, &none, ANY, VH_UNEM_UNKNOWN, 0, ANY },
	{ "clflush [rax]", I("\x0f\xae\x38"), VH_DECODE_64, 0, &all, VH_UNEM_CLFLUSH,
	  VH_UNEM_COMPLETE, 0, ANY },
	{ "clflushopt [rax]", I("\x66\x0f\xae\x38"), VH_DECODE_64, 0, &all, VH_UNEM_CLFLUSHOPT,
	  VH_UNEM_COMPLETE, 4, ANY },
	{ "clwb [rax]", I("\x66\x0f\xae\x30"), VH_DECODE_64, 0, &all, VH_UNEM_CLWB,
	  VH_UNEM_COMPLETE, 0, ANY },
	{ "clflushopt not offered: #UD", I("\x66\x0f\xae\x38"), VH_DECODE_64, 0, &none, ANY,
	  VH_UNEM_UD, 0, ANY },
	{ "xrstor64 [rdi] (Linux's fpu__init_system) with XSAVE offered", I("\x48\x0f\xae\x2f"),
	  VH_DECODE_64, 0, &all, VH_UNEM_XRSTOR, VH_UNEM_COMPLETE, 4, ANY },
	{ "xrstor64 [rdi] without XSAVE: #UD", I("\x48\x0f\xae\x2f"), VH_DECODE_64, 0, &none, ANY,
	  VH_UNEM_UD, 0, ANY },
	{ "lfence (0f ae e8, /5 mod 3) is another instruction", I("\x0f\xae\xe8"), VH_DECODE_64, 0,
	  &all, ANY, VH_UNEM_UNKNOWN, 0, ANY },
	{ "sfence (0f ae f8, mod 3) is another instruction", I("\x0f\xae\xf8"), VH_DECODE_64, 0,
	  &all, ANY, VH_UNEM_UNKNOWN, 0, ANY },
	{ "mfence (0f ae f0) is another instruction", I("\x0f\xae\xf0"), VH_DECODE_64, 0, &all, ANY,
	  VH_UNEM_UNKNOWN, 0, ANY },
	{ "a segment prefix counts in the length: clflush fs:[rax]", I("\x64\x0f\xae\x38"),
	  VH_DECODE_64, 0, &all, ANY, VH_UNEM_COMPLETE, 4, ANY },
};

VH_TEST(unemulated, table_of_instructions)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct unem_case *c = &cases[i];
		struct vh_unem u = cls((const uint8_t *)c->bytes, c->n, c->mode, c->cpl, c->cpu);

		VH_CHECK_(false, u.verdict == c->verdict, "%s: verdict %d, want %d", c->what,
			  (int)u.verdict, (int)c->verdict);
		VH_CHECK_(false, c->kind == ANY || (int)u.kind == c->kind, "%s: kind %d, want %d",
			  c->what, (int)u.kind, c->kind);
		VH_CHECK_(false, !c->len || u.len == c->len, "%s: length %u, want %u", c->what,
			  u.len, c->len);
		VH_CHECK_(false, c->vector == ANY || (int)u.vector == c->vector,
			  "%s: vector %u, want %d", c->what, (unsigned)u.vector, c->vector);
	}
}

/* The memory operand the completion will use. */
VH_TEST(unemulated, operands)
{
	struct vh_unem u = cls(B("\xf0\x48\x0f\xc7\x0f"), VH_DECODE_64, 0, &all);

	VH_EXPECT(u.mem.has_mem && u.mem.base == 7u && u.mem.lock);
	VH_EXPECT_STREQ(u.name, "CMPXCHG16B");
	u = cls(B("\xf0\x48\x0f\xc7\x4e\x20"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.mem.disp, 0x20);
	u = cls(B("\x0f\xc7\x4c\xb3\x10"), VH_DECODE_32, 3, &all);
	VH_EXPECT(u.mem.has_sib && u.mem.scale == 2u);
	u = cls(B("\x64\x0f\xae\x38"), VH_DECODE_64, 0, &all);
	VH_EXPECT(u.mem.seg_override);
}

VH_TEST(unemulated, unknown_and_truncated)
{
	static const uint8_t nop[] = { 0x90 }, pfx[15] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
							   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
							   0x66 };
	struct vh_unem u = cls(nop, 1, VH_DECODE_64, 0, &all);

	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	VH_EXPECT_EQ(u.kind, VH_UNEM_NONE);
	VH_EXPECT_STREQ(u.name, "?");
	u = cls(nop, 0, VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	/* Only prefixes, 15 of them: no opcode within the limit. */
	u = cls(pfx, sizeof(pfx), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	/* Every proper prefix of lock cmpxchg16b [rdi+0x12345678] is too
	 * short to say. */
	{
		static const uint8_t full[] = {
			0xf0, 0x48, 0x0f, 0xc7, 0x8f, 0x78, 0x56, 0x34, 0x12
		};
		for (unsigned n = 0; n < sizeof(full); n++) {
			u = cls(full, n, VH_DECODE_64, 0, &all);
			VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
		}
		u = cls(full, sizeof(full), VH_DECODE_64, 0, &all);
		VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
		VH_EXPECT_EQ(u.len, 9u);
	}
	VH_EXPECT_STREQ(vh_unem_name(VH_UNEM_KINDS), "?");
	VH_EXPECT_STREQ(vh_unem_name(VH_UNEM_CLAC), "CLAC");
}

/* Random bytes in every mode: the result is consistent (a kind with a
 * verdict, a length within the bytes given), and nothing past n is read
 * (ASan: each buffer is exactly n bytes on the heap). */
VH_TEST(unemulated, random_bytes_never_crash)
{
	static const enum vh_decode_mode modes[] = { VH_DECODE_16, VH_DECODE_32, VH_DECODE_64 };
	unsigned seed = 13, known = 0;

	for (unsigned iter = 0; iter < 200000; iter++) {
		unsigned n = 1 + (unsigned)(rand_r(&seed) % 16);
		uint8_t *b = malloc(n);
		struct vh_unem u;

		VH_ASSERT(b != NULL);
		for (unsigned i = 0; i < n; i++) {
			/* Bias towards the table's bytes so rows are reached. */
			static const uint8_t hot[] = { 0x0f, 0xc7, 0x01, 0xae, 0x66, 0xf0,
						       0x48, 0xcc, 0xcd, 0x38, 0x82, 0xca };
			unsigned v = (unsigned)rand_r(&seed);
			b[i] = (v & 1) ? hot[(v >> 1) % sizeof(hot)] : (uint8_t)(v >> 8);
		}
		vh_unemulated(b, n, modes[iter % 3], iter & 3, iter & 4 ? &all : &none, &u);
		if (u.verdict != VH_UNEM_UNKNOWN) {
			known++;
			VH_ASSERT(u.kind != VH_UNEM_NONE && u.kind < VH_UNEM_KINDS);
			VH_ASSERT(u.len >= 1 && u.len <= n);
		} else {
			VH_ASSERT_EQ(u.kind, VH_UNEM_NONE);
		}
		free(b);
	}
	VH_EXPECT(known > 1000);
}
