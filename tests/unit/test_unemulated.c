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

VH_TEST(unemulated, cmpxchg16b_and_8b)
{
	/* lock cmpxchg16b [rdi] */
	struct vh_unem u = cls(B("\xf0\x48\x0f\xc7\x0f"), VH_DECODE_64, 0, &all);

	VH_EXPECT_EQ(u.kind, VH_UNEM_CMPXCHG16B);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 5u);
	VH_EXPECT(u.mem.has_mem && u.mem.base == 7u && u.mem.lock);
	VH_EXPECT_STREQ(u.name, "CMPXCHG16B");
	/* Linux's SLUB: lock cmpxchg16b 0x20(%rsi) ... with a disp8 */
	u = cls(B("\xf0\x48\x0f\xc7\x4e\x20"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 6u);
	VH_EXPECT_EQ(u.mem.disp, 0x20);
	/* Without CX16 in the model: #UD; CX8 alone does not offer it. */
	u = cls(B("\xf0\x48\x0f\xc7\x0f"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	{
		struct vh_unem_cpu cx8 = { .l1_edx = 1u << 8 };
		u = cls(B("\xf0\x48\x0f\xc7\x0f"), VH_DECODE_64, 0, &cx8);
		VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
		/* lock cmpxchg8b [rdi]: CX8 is enough */
		u = cls(B("\xf0\x0f\xc7\x0f"), VH_DECODE_64, 0, &cx8);
		VH_EXPECT_EQ(u.kind, VH_UNEM_CMPXCHG8B);
		VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	}
	/* In 32-bit mode 48 is DEC eAX, a separate instruction: the
	 * bytes at RIP are that one, which is not in the table. */
	u = cls(B("\x48\x0f\xc7\x0f"), VH_DECODE_32, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	/* cmpxchg8b [ebx+esi*4+0x10] in 32-bit mode */
	u = cls(B("\x0f\xc7\x4c\xb3\x10"), VH_DECODE_32, 3, &all);
	VH_EXPECT_EQ(u.kind, VH_UNEM_CMPXCHG8B);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 5u);
	VH_EXPECT(u.mem.has_sib && u.mem.scale == 2u);
	/* A register operand (0f c7 c9: mod 3, /1) does not exist: #UD. */
	u = cls(B("\x0f\xc7\xc9"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.kind, VH_UNEM_CMPXCHG8B);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	/* Other /n of 0f c7 (RDRAND is /6 mod 3, VMPTRLD /6 mem): not ours. */
	u = cls(B("\x0f\xc7\xf0"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	u = cls(B("\x0f\xc7\x30"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
}

VH_TEST(unemulated, software_interrupts)
{
	struct vh_unem u = cls(B("\xcc"), VH_DECODE_64, 0, &none);

	VH_EXPECT_EQ(u.kind, VH_UNEM_INT3);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 1u);
	VH_EXPECT_EQ(u.vector, 3u);
	/* int $0x80 */
	u = cls(B("\xcd\x80"), VH_DECODE_32, 3, &none);
	VH_EXPECT_EQ(u.kind, VH_UNEM_INTN);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 2u);
	VH_EXPECT_EQ(u.vector, 0x80u);
	/* INT n without its immediate: not enough bytes to say. */
	u = cls(B("\xcd"), VH_DECODE_32, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	/* INTO: 32-bit yes, 64-bit #UD */
	u = cls(B("\xce"), VH_DECODE_32, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.vector, 4u);
	u = cls(B("\xce"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	/* INT1 */
	u = cls(B("\xf1"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.kind, VH_UNEM_INT1);
	VH_EXPECT_EQ(u.vector, 1u);
	/* LOCK INT3 is #UD. */
	u = cls(B("\xf0\xcc"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.kind, VH_UNEM_INT3);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
}

VH_TEST(unemulated, smap_and_system)
{
	/* clac, stac at CPL 0 with SMAP offered */
	struct vh_unem u = cls(B("\x0f\x01\xca"), VH_DECODE_64, 0, &all);

	VH_EXPECT_EQ(u.kind, VH_UNEM_CLAC);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 3u);
	u = cls(B("\x0f\x01\xcb"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.kind, VH_UNEM_STAC);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	/* at CPL 3, or without SMAP: #UD */
	u = cls(B("\x0f\x01\xcb"), VH_DECODE_64, 3, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	u = cls(B("\x0f\x01\xca"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	/* xgetbv needs XSAVE */
	u = cls(B("\x0f\x01\xd0"), VH_DECODE_32, 0, &all);
	VH_EXPECT_EQ(u.kind, VH_UNEM_XGETBV);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	u = cls(B("\x0f\x01\xd0"), VH_DECODE_32, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	/* rdpru, invpcid [rax], rcx: offered or #UD */
	u = cls(B("\x0f\x01\xfd"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.kind, VH_UNEM_RDPRU);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	u = cls(B("\x66\x0f\x38\x82\x08"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.kind, VH_UNEM_INVPCID);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	VH_EXPECT_EQ(u.len, 5u);
	u = cls(B("\x66\x0f\x38\x82\x08"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	/* without its mandatory 66 it is another instruction */
	u = cls(B("\x0f\x38\x82\x08"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	/* IRET outside 64-bit mode; IRETQ is KVM's */
	u = cls(B("\xcf"), VH_DECODE_32, 0, &none);
	VH_EXPECT_EQ(u.kind, VH_UNEM_IRET);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	u = cls(B("\x48\xcf"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
}

VH_TEST(unemulated, cache_flushes)
{
	/* clflush [rax]; clflushopt [rax]; clwb [rax]; each by its own bit */
	struct vh_unem u = cls(B("\x0f\xae\x38"), VH_DECODE_64, 0, &all);

	VH_EXPECT_EQ(u.kind, VH_UNEM_CLFLUSH);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	u = cls(B("\x66\x0f\xae\x38"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.kind, VH_UNEM_CLFLUSHOPT);
	VH_EXPECT_EQ(u.len, 4u);
	u = cls(B("\x66\x0f\xae\x30"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.kind, VH_UNEM_CLWB);
	u = cls(B("\x66\x0f\xae\x38"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	/* xrstor64 [rdi] (Linux's fpu__init_system): XSAVE offers it; lfence
	 * (0f ae e8, /5 mod 3) is another instruction */
	u = cls(B("\x48\x0f\xae\x2f"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.kind, VH_UNEM_XRSTOR);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 4u);
	u = cls(B("\x48\x0f\xae\x2f"), VH_DECODE_64, 0, &none);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UD);
	u = cls(B("\x0f\xae\xe8"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	/* sfence (0f ae f8, mod 3) and mfence are other instructions */
	u = cls(B("\x0f\xae\xf8"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	u = cls(B("\x0f\xae\xf0"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_UNKNOWN);
	/* a segment prefix counts in the length: clflush fs:[rax] */
	u = cls(B("\x64\x0f\xae\x38"), VH_DECODE_64, 0, &all);
	VH_EXPECT_EQ(u.verdict, VH_UNEM_COMPLETE);
	VH_EXPECT_EQ(u.len, 4u);
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
