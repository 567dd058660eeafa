/* SPDX-License-Identifier: Apache-2.0 */
/* vh-hosted's use of the shared decoder (hosted/decode.c): the
 * guest-linear addresses of the memory operands of an instruction KVM
 * failed to emulate, which it faults in before KVM retries.  Segment
 * bases as the CPU applies them (64-bit mode: FS and GS only), implicit
 * string operands, absolute addresses and RIP-relative operands counted
 * from the end of the instruction. */
#include <linux/kvm.h>
#include <string.h>

#include "../../hypervisor/hosted/hosted.h"
#include "vh_test.h"

#define OPS(lit, r, sr, lin) \
	vh_hosted_decode_operands((const uint8_t *)(lit), sizeof(lit) - 1, r, sr, lin)

static void long_mode(struct kvm_sregs *sr)
{
	memset(sr, 0, sizeof(*sr));
	sr->efer = 1u << 10; /* LMA */
	sr->cs.l = 1;
	/* Stale bases a 64-bit CPU ignores. */
	sr->ds.base = 0x1000000;
	sr->es.base = 0x2000000;
	sr->ss.base = 0x3000000;
	sr->fs.base = 0x7f0000000000ull;
	sr->gs.base = 0xffff800000000000ull;
}

static void prot32(struct kvm_sregs *sr)
{
	memset(sr, 0, sizeof(*sr));
	sr->cs.db = 1;
	sr->ds.base = 0x10000;
	sr->es.base = 0x20000;
	sr->ss.base = 0x30000;
	sr->fs.base = 0x40000;
}

VH_TEST(hosted_decode, long_mode_ignores_all_but_fs_gs_bases)
{
	struct kvm_regs r = { .rbx = 0x5000, .rsi = 0x6000, .rdi = 0x7000, .rbp = 0x8000 };
	struct kvm_sregs sr;
	uint64_t lin[2];

	long_mode(&sr);
	/* lock add dword [rbx], 1 */
	VH_ASSERT_EQ(OPS("\xf0\x83\x03\x01", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x5000u);
	/* add dword [rbp+8], 1: SS's base is ignored too */
	VH_ASSERT_EQ(OPS("\x83\x45\x08\x01", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x8008u);
	/* lock add dword gs:[rbx], 1 */
	VH_ASSERT_EQ(OPS("\xf0\x65\x83\x03\x01", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0xffff800000005000ull);
	/* rep movsq: DS:rSI and ES:rDI, both without their stale bases */
	VH_ASSERT_EQ(OPS("\xf3\x48\xa5", &r, &sr, lin), 2);
	VH_EXPECT_EQ(lin[0], 0x6000u);
	VH_EXPECT_EQ(lin[1], 0x7000u);
	/* rep movsb fs:[rsi] -> es:[rdi] */
	VH_ASSERT_EQ(OPS("\xf3\x64\xa4", &r, &sr, lin), 2);
	VH_EXPECT_EQ(lin[0], 0x7f0000006000ull);
	VH_EXPECT_EQ(lin[1], 0x7000u);
}

VH_TEST(hosted_decode, rip_relative_from_the_instruction_end)
{
	struct kvm_regs r = { .rip = 0x400000 };
	struct kvm_sregs sr;
	uint64_t lin[2];

	long_mode(&sr);
	/* lock or dword [rip+0x100], 0x10000: 11 bytes, imm32 included */
	VH_ASSERT_EQ(OPS("\xf0\x81\x0d\x00\x01\x00\x00\x00\x00\x01\x00", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x400000u + 11 + 0x100);
}

VH_TEST(hosted_decode, protected_mode_segments_and_addresses)
{
	struct kvm_regs r = { .rbx = 0x100, .rsi = 0xffff0010, .rdi = 0x200, .rbp = 0x300 };
	struct kvm_sregs sr;
	uint64_t lin[2];

	prot32(&sr);
	/* xchg [ebx], eax */
	VH_ASSERT_EQ(OPS("\x87\x03", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x10100u);
	/* lock inc dword [ebp]: the stack segment */
	VH_ASSERT_EQ(OPS("\xf0\xff\x45\x00", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x30300u);
	/* mov eax, fs:[0x1234]: an absolute address */
	VH_ASSERT_EQ(OPS("\x64\xa1\x34\x12\x00\x00", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x41234u);
	/* 67: 16-bit addressing, rep movsb with SI and DI */
	VH_ASSERT_EQ(OPS("\x67\xf3\xa4", &r, &sr, lin), 2);
	VH_EXPECT_EQ(lin[0], 0x10010u);
	VH_EXPECT_EQ(lin[1], 0x20200u);
	/* No memory operand, or nothing vh decodes: none. */
	VH_EXPECT_EQ(OPS("\x89\xd8", &r, &sr, lin), 0);         /* mov eax, ebx */
	VH_EXPECT_EQ(OPS("\x0f\x31\x8b\x03", &r, &sr, lin), 0); /* rdtsc */
	VH_EXPECT_EQ(OPS("\x8b", &r, &sr, lin), 0);             /* cut short */
}

VH_TEST(hosted_decode, real_mode)
{
	struct kvm_regs r = { .rbx = 0x10, .rsi = 0x4, .rbp = 0xfffe };
	struct kvm_sregs sr;
	uint64_t lin[2];

	memset(&sr, 0, sizeof(sr));
	sr.ds.base = 0x10000;
	sr.ss.base = 0x20000;
	/* lock add word [bx+si+2], 1 */
	VH_ASSERT_EQ(OPS("\xf0\x83\x40\x02\x01", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x10016u);
	/* add word [bp+4], 1: SS, the offset wraps at 64 KiB */
	VH_ASSERT_EQ(OPS("\x83\x46\x04\x01", &r, &sr, lin), 1);
	VH_EXPECT_EQ(lin[0], 0x20002u);
}
