/* SPDX-License-Identifier: Apache-2.0 */
/* The Linux loaders (hypervisor/loader/linux.c) on the simulated platform:
 * a synthetic bzImage through the 64-bit entry (zero page, command line,
 * initrd, e820, RSDP, page tables, GDT, long-mode boot state), a PVH ELF
 * (hvm_start_info), the kind read from the contents, and every bad image
 * refused with its reason and nothing written. */
#include "bzimage_env.h"
#include "loader_env.h"
#include "vh/layout.h"

#define VM_MIB 32

static uint8_t initrd[8192 + 100];

static struct vh_loader_args bz_args(const struct bz *im, const char *cmdline)
{
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	return (struct vh_loader_args){ .kind = VH_IMAGE_AUTO,
					.image = im ? im->b : NULL,
					.len = im ? im->len : 0,
					.cmdline = cmdline,
					.initrd = initrd,
					.initrd_len = sizeof(initrd),
					.rsdp = 0xf0000040 };
}

static void expect_e820(struct loader_env *e, uint64_t at, uint32_t n, uint32_t stride)
{
	struct vh_e820_entry want[VH_E820_MAX];
	struct vh_layout lay;

	vh_layout_init(&lay, VM_MIB * VH_MIB);
	VH_ASSERT_EQ(n, vh_layout_e820(&lay, want));
	for (uint32_t i = 0; i < n; i++) {
		VH_EXPECT_EQ(rd64(e, at + i * stride), want[i].addr);
		VH_EXPECT_EQ(rd64(e, at + i * stride + 8), want[i].len);
		VH_EXPECT_EQ(rd32(e, at + i * stride + 16), want[i].type);
	}
}

VH_TEST(linux_loader, bzimage_64bit_entry_with_zero_page_initrd_and_page_tables)
{
	struct loader_env e;
	static struct bz im;
	struct vh_loader_args a;
	char cmd[64];
	uint32_t rd_at;

	loader_env_init(&e, VM_MIB);
	bz_image(&im);
	a = bz_args(&im, "console=ttyS0 root=/dev/ram0");
	VH_ASSERT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_OK);
	/* boot.rst's 64-bit entry state. */
	VH_EXPECT_EQ((int)e.bs.mode, VH_BOOT_LONG64);
	VH_EXPECT_EQ(e.bs.rip, 0x100200ull);
	VH_EXPECT_EQ(e.bs.rsi, 0x7000ull);
	VH_EXPECT_EQ(e.bs.cr3, 0x9000ull);
	VH_EXPECT_EQ(e.bs.cr0 & 0x80000001ull, 0x80000001ull);
	VH_EXPECT_EQ(e.bs.cr4, 0x20ull);
	VH_EXPECT_EQ(e.bs.efer, 0x500ull);
	VH_EXPECT_EQ(e.bs.rflags, 2ull);
	VH_EXPECT_EQ(e.bs.cs.selector, 0x10);
	VH_EXPECT_EQ(e.bs.cs.access, 0xa09bu); /* L set, D/B clear */
	VH_EXPECT_EQ(e.bs.ds.selector, 0x18);
	VH_EXPECT_EQ(e.bs.ss.selector, 0x18);
	VH_EXPECT_EQ(rd64(&e, e.bs.gdt_base + 0x10), 0x00af9b000000ffffull);
	VH_EXPECT_EQ(rd64(&e, e.bs.gdt_base + 0x18), 0x00cf93000000ffffull);
	VH_EXPECT_EQ(e.bs.gdt_limit, 31);
	/* The kernel's protected-mode part at 1 MiB. */
	expect_bytes(&e, 0x100000, im.b + PROT_OFF, PAYLOAD);
	/* Zero page: the header, the loader's fields, e820, the RSDP. */
	VH_EXPECT_EQ(rd32(&e, 0x7000 + 0x202), 0x53726448u); /* "HdrS" */
	VH_EXPECT_EQ(rd32(&e, 0x7000 + 0x260), 0x200000u);
	VH_EXPECT_EQ(rd32(&e, 0x7000 + 0x210) & 0xff, 0xffu);
	VH_EXPECT_EQ(rd64(&e, 0x7000 + 0x70), 0xf0000040ull);
	rdstr(&e, rd32(&e, 0x7000 + 0x228), cmd, sizeof(cmd));
	VH_EXPECT_STREQ(cmd, "console=ttyS0 root=/dev/ram0");
	rd_at = rd32(&e, 0x7000 + 0x218);
	VH_EXPECT_EQ(rd32(&e, 0x7000 + 0x21c), (uint32_t)sizeof(initrd));
	VH_EXPECT_EQ(rd_at % 4096, 0u);
	VH_EXPECT_LE(rd_at + sizeof(initrd), (uint64_t)VM_MIB * VH_MIB);
	VH_EXPECT_GE(rd_at, 0x1200000u); /* above 16 MiB + init_size */
	expect_bytes(&e, rd_at, initrd, sizeof(initrd));
	expect_e820(&e, 0x7000 + 0x2d0, rd32(&e, 0x7000 + 0x1e8) & 0xff, 20);
	/* 4 GiB identity-mapped with 2 MiB pages. */
	VH_EXPECT_EQ(rd64(&e, 0x9000), 0xa003ull);
	VH_EXPECT_EQ(rd64(&e, 0x9008), 0ull);
	VH_EXPECT_EQ(rd64(&e, 0xa000), 0xb003ull);
	VH_EXPECT_EQ(rd64(&e, 0xa018), 0xe003ull);
	VH_EXPECT_EQ(rd64(&e, 0xb000), 0x83ull);
	VH_EXPECT_EQ(rd64(&e, 0xb008), 0x200083ull);
	VH_EXPECT_EQ(rd64(&e, 0xb000 + 2047 * 8), 2047ull * 0x200000 | 0x83);
	mem_env_fini(&e.m);
}

/* An ELF64 vmlinux: one PT_LOAD at 2 MiB (virtual 0xffffffff81000000)
 * and a PT_NOTE holding two notes, the second the PVH entry. */
static size_t pvh_image(uint8_t *b, size_t cap, uint32_t note_type)
{
	static const uint8_t note[] = {
		4, 0, 0, 0, 4, 0, 0,  0, 1, 0, 0,   0,   'G', 'N', 'U',  0, 1,    2, 3, 4, 4, 0,
		0, 0, 8, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0,   0x40, 0, 0x20, 0, 0, 0, 0, 0,
	};
	uint8_t *ph = b + 64;

	memset(b, 0, cap);
	memcpy(b,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	put16(b + 16, 2);
	put16(b + 18, 62);
	put64(b + 24, 0xffffffff81000000ull);
	put64(b + 32, 64);
	put16(b + 54, 56);
	put16(b + 56, 2);
	put32(ph, 1);
	put64(ph + 8, 0x1000);
	put64(ph + 16, 0xffffffff81000000ull);
	put64(ph + 24, 0x200000);
	put64(ph + 32, 0x100);
	put64(ph + 40, 0x1000);
	put32(ph + 56, 4);
	put64(ph + 56 + 8, 0x200);
	put64(ph + 56 + 32, sizeof(note));
	memcpy(b + 0x200, note, sizeof(note));
	b[0x200 + 28] = (uint8_t)note_type;
	memset(b + 0x1000, 0xcc, 0x100);
	return 0x1100;
}

VH_TEST(linux_loader, pvh_elf_gets_hvm_start_info_with_the_initrd_as_module_0)
{
	struct loader_env e;
	static uint8_t img[0x1100];
	struct vh_loader_args a;
	char cmd[32];

	loader_env_init(&e, VM_MIB);
	a = bz_args(NULL, "quiet");
	a.image = img;
	a.len = pvh_image(img, sizeof(img), 18);
	VH_EXPECT_EQ((int)vh_loader_detect(a.image, a.len), VH_IMAGE_PVH);
	VH_ASSERT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_OK);
	VH_EXPECT_EQ((int)e.bs.mode, VH_BOOT_PROT32);
	VH_EXPECT_EQ(e.bs.rip, 0x200040ull);
	VH_EXPECT_EQ(e.bs.rbx, 0x6000ull);
	VH_EXPECT_EQ(e.bs.cr0 & 0x80000001ull, 1ull);
	VH_EXPECT_EQ(rd64(&e, e.bs.gdt_base + e.bs.cs.selector), 0x00cf9b000000ffffull);
	VH_EXPECT_EQ(rd64(&e, e.bs.gdt_base + e.bs.ds.selector), 0x00cf93000000ffffull);
	VH_EXPECT_EQ(rd32(&e, 0x200000), 0xccccccccu);
	VH_EXPECT_EQ(rd32(&e, 0x6000), 0x336ec578u);
	VH_EXPECT_EQ(rd32(&e, 0x6004), 1u);
	VH_EXPECT_EQ(rd32(&e, 0x600c), 1u);
	VH_EXPECT_EQ(rd64(&e, 0x6020), 0xf0000040ull);
	rdstr(&e, rd64(&e, 0x6018), cmd, sizeof(cmd));
	VH_EXPECT_STREQ(cmd, "quiet");
	uint64_t mod = rd64(&e, 0x6010);
	VH_EXPECT_EQ(rd64(&e, mod + 8), (uint64_t)sizeof(initrd));
	expect_bytes(&e, rd64(&e, mod), initrd, sizeof(initrd));
	expect_e820(&e, rd64(&e, 0x6028), rd32(&e, 0x6030), 24);
	/* Without the note it is a plain ELF: refused, naming what was
	 * looked for. */
	pvh_image(img, sizeof(img), 17);
	VH_EXPECT_EQ((int)vh_loader_detect(a.image, a.len), VH_IMAGE_AUTO);
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "ELF PVH note)") != NULL);
	a.kind = VH_IMAGE_PVH;
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "no PVH entry note (Xen note type 18)") != NULL);
	mem_env_fini(&e.m);
}

/* Guest memory the refused loads must not touch. */
static const uint64_t watched[] = { 0x500,  0x6000,  0x7000,   0x9000,
				    0xb000, 0x20000, 0x100000, (VM_MIB - 1) * VH_MIB };

static void mark(struct loader_env *e)
{
	uint64_t v = 0x1122334455667788ull;

	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		VH_ASSERT_EQ(vh_mem_guest_write(&e->m.h, e->vm, watched[i], &v, 8, NULL), VH_OK);
}

static void refused(struct loader_env *e, const struct vh_loader_args *a, const char *why)
{
	uint64_t granted = mem_env_stats(&e->m, e->vm).granted;

	e->err.reason[0] = 0;
	VH_EXPECT_EQ(vh_loader_load(&e->m.h, e->vm, a, &e->bs, &e->err), VH_E_INVAL);
	if (!strstr(e->err.reason, why))
		VH_FAIL("expected \"%s\" in \"%s\"", why, e->err.reason);
	VH_EXPECT_EQ((int)e->bs.mode, 0);
	VH_EXPECT_EQ(mem_env_stats(&e->m, e->vm).granted, granted);
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		VH_EXPECT_EQ(rd64(e, watched[i]), 0x1122334455667788ull);
}

VH_TEST(linux_loader, bad_bzimages_are_refused_with_their_reason_and_nothing_written)
{
	struct loader_env e;
	static struct bz im;
	struct vh_loader_args a;
	char longline[300];

	loader_env_init(&e, VM_MIB);
	mark(&e);
	bz_image(&im);
	a = bz_args(&im, "x");
	/* Truncated: the payload cut short of syssize, then the header. */
	a.len = im.len - 16;
	refused(&e, &a, "bzImage truncated: syssize says 4096 bytes of kernel, the file has 4080");
	a.len = 0x210;
	refused(&e, &a, "bzImage truncated: 528 bytes");
	a.len = im.len;
	/* Wrong magic: not recognised as anything. */
	im.b[0x205] = 'X';
	refused(&e, &a,
		"unknown kind (no bzImage \"HdrS\" at 0x202, Multiboot magic "
		"0x1badb002 in 8192 bytes, ELF PVH note)");
	a.kind = VH_IMAGE_BZIMAGE;
	refused(&e, &a, "not a Linux bzImage");
	a.kind = VH_IMAGE_AUTO;
	bz_image(&im);
	/* A setup header that points outside the file. */
	im.b[0x1f1] = 200;
	refused(&e, &a, "setup_sects 200 puts the kernel at 0x19200, outside the 5120-byte file");
	bz_image(&im);
	a.len = 0x280;
	im.b[0x201] = 0x90;
	refused(&e, &a, "setup header: says it ends at 0x292, outside the file");
	a.len = im.len;
	bz_image(&im);
	put16(im.b + 0x1fe, 0x1234);
	refused(&e, &a, "boot_flag 0x1234 is not 0xaa55");
	bz_image(&im);
	put16(im.b + 0x206, 0x20b);
	refused(&e, &a, "boot protocol 2.11 is older than 2.12");
	bz_image(&im);
	put16(im.b + 0x236, 0);
	refused(&e, &a, "no 64-bit entry point (XLF_KERNEL_64 clear)");
	bz_image(&im);
	im.b[0x211] = 0;
	refused(&e, &a, "a zImage (LOADED_HIGH clear)");
	bz_image(&im);
	put32(im.b + 0x230, 0x300000);
	refused(&e, &a, "kernel_alignment 0x300000 is not a power of two");
	bz_image(&im);
	put32(im.b + 0x260, 0x800);
	refused(&e, &a, "init_size 0x800 is smaller than the 0x1000-byte kernel");
	bz_image(&im);
	put32(im.b + 0x260, 0x2000000);
	refused(&e, &a, "kernel: needs 32 MiB (init_size) from 0x1000000, the VM's 32 MiB");
	bz_image(&im);
	/* An initrd larger than memory; one that fits only above the
	 * kernel's initrd_addr_max. */
	a.initrd_len = 40 * VH_MIB;
	refused(&e, &a, "initrd: 41943040 bytes do not fit in the VM's 32 MiB of memory");
	a.initrd_len = sizeof(initrd);
	put32(im.b + 0x22c, 0x1000fff);
	refused(&e, &a, "initrd: 8292 bytes do not fit");
	bz_image(&im);
	/* A command line longer than the kernel accepts. */
	memset(longline, 'c', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = 0;
	a.cmdline = longline;
	refused(&e, &a, "cmdline: 299 bytes, longer than the 255 kernel (cmdline_size) accepts");
	a.cmdline = "x";
	/* Modules are Multiboot's; an initrd is Linux's. */
	struct vh_loader_module m = { initrd, 16, "m" };
	a.modules = &m;
	a.nmodules = 1;
	refused(&e, &a, "a Linux kernel takes an initrd, not modules");
	a.nmodules = 0;
	a.kind = VH_IMAGE_RAW_PROT32;
	a.load_addr = 0x100000;
	refused(&e, &a, "initrd: only a Linux kernel takes one (this image is raw32)");
	/* Raw bytes are refused unless the caller says raw. */
	a.kind = VH_IMAGE_AUTO;
	a.initrd = NULL;
	a.initrd_len = 0;
	a.image = "\xf4\xeb\xfd";
	a.len = 3;
	refused(&e, &a, "raw needs boot.kind raw16 or raw32");
	mem_env_fini(&e.m);
}

/* Every prefix and single-bit corruption of the header is loaded or
 * refused, never a crash (ASan watches); a refusal leaves mode 0. */
VH_TEST(linux_loader, bzimage_truncations_and_corruptions_never_crash)
{
	struct loader_env e;
	static struct bz im, bad;
	struct vh_loader_args a;

	loader_env_init(&e, VM_MIB);
	bz_image(&im);
	for (size_t n = 0; n < im.len; n += 61) {
		bad = im;
		a = bz_args(&bad, "t");
		a.len = n;
		int rc = vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err);
		VH_ASSERT(rc == VH_OK || rc == VH_E_INVAL);
		VH_ASSERT(rc == VH_OK || e.bs.mode == 0);
	}
	for (size_t i = 0x1f1; i < 0x268; i++) {
		for (int bit = 0; bit < 8; bit++) {
			bad = im;
			bad.b[i] ^= (uint8_t)(1u << bit);
			a = bz_args(&bad, "t");
			int rc = vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err);
			VH_ASSERT(rc == VH_OK || rc == VH_E_INVAL);
			VH_ASSERT(rc == VH_OK || e.bs.mode == 0);
		}
	}
	mem_env_fini(&e.m);
}
