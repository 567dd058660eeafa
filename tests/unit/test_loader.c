/* SPDX-License-Identifier: Apache-2.0 */
/* The guest loaders: Multiboot ELF32, ELF64 and a.out-kludge images and
 * raw binaries into a VM on the simulated platform, the information block
 * read back from guest memory, and every malformed-image error. */
#include "loader_env.h"
#include "vh/acpi.h"
#include "vh/loader.h"

/* ---- image builders ------------------------------------------------------ */

struct seg {
	uint64_t vaddr, paddr;
	uint32_t filesz, memsz;
	uint8_t fill;
};

struct image {
	uint8_t b[0x8000];
	size_t len;
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* The Multiboot header at offset 0x1000 (inside the first segment's bytes). */
static void mb_header(uint8_t *p, uint32_t flags)
{
	put32(p, VH_MULTIBOOT_HEADER_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, (uint32_t)-(VH_MULTIBOOT_HEADER_MAGIC + flags));
}

/* An ELF executable: headers at 0, segment i's bytes at 0x1000 * (i + 1). */
static void elf_image(struct image *im, bool is64, uint64_t entry, const struct seg *s, int n)
{
	uint8_t *b = im->b;
	size_t ph = is64 ? 64 : 52, phsz = is64 ? 56 : 32;

	memset(im, 0, sizeof(*im));
	memcpy(b, "\x7f" "ELF", 4);
	b[4] = is64 ? 2 : 1;
	b[5] = 1;
	b[6] = 1;
	put16(b + 16, 2);
	put16(b + 18, is64 ? 62 : 3);
	if (is64) {
		put64(b + 24, entry);
		put64(b + 32, ph);
		put16(b + 54, (uint16_t)phsz);
		put16(b + 56, (uint16_t)n);
	} else {
		put32(b + 24, (uint32_t)entry);
		put32(b + 28, (uint32_t)ph);
		put16(b + 42, (uint16_t)phsz);
		put16(b + 44, (uint16_t)n);
	}
	for (int i = 0; i < n; i++) {
		uint8_t *p = b + ph + i * phsz;
		uint32_t off = 0x1000u * (uint32_t)(i + 1);
		put32(p, 1);
		if (is64) {
			put64(p + 8, off);
			put64(p + 16, s[i].vaddr);
			put64(p + 24, s[i].paddr);
			put64(p + 32, s[i].filesz);
			put64(p + 40, s[i].memsz);
		} else {
			put32(p + 4, off);
			put32(p + 8, (uint32_t)s[i].vaddr);
			put32(p + 12, (uint32_t)s[i].paddr);
			put32(p + 16, s[i].filesz);
			put32(p + 20, s[i].memsz);
		}
		memset(b + off, s[i].fill, s[i].filesz);
		im->len = off + s[i].filesz;
	}
	/* The Multiboot header at the start of the first segment. */
	mb_header(b + 0x1000, 0x3);
}

static int load(struct loader_env *e, const struct image *im, const char *cmdline,
		const struct vh_loader_module *mods, uint32_t nmods)
{
	struct vh_loader_args a = {
		.kind = VH_IMAGE_MULTIBOOT, .image = im->b, .len = im->len, .cmdline = cmdline,
		.modules = mods, .nmodules = nmods,
	};
	return vh_loader_load(&e->m.h, e->vm, &a, &e->bs, &e->err);
}

static void expect_prot32_entry(const struct vh_boot_state *bs)
{
	VH_EXPECT_EQ((int)bs->mode, VH_BOOT_PROT32);
	VH_EXPECT_EQ(bs->rax, (uint64_t)VH_MULTIBOOT_BOOT_MAGIC);
	VH_EXPECT_EQ(bs->cr0 & 0x80000001ull, 1ull); /* PE on, PG off */
	VH_EXPECT_EQ(bs->rflags, 2ull);               /* IF off */
	VH_EXPECT_EQ(bs->cs.selector, 0x08);
	VH_EXPECT_EQ(bs->cs.base, 0ull);
	VH_EXPECT_EQ(bs->cs.limit, 0xffffffffu);
	VH_EXPECT_EQ(bs->cs.access, 0xc09bu);
	VH_EXPECT_EQ(bs->ds.access, 0xc093u);
	VH_EXPECT_EQ(bs->ss.selector, 0x10);
	VH_EXPECT_EQ(bs->gdt_limit, 23);
}

/* ---- Multiboot ---------------------------------------------------------------- */

VH_TEST(loader, elf32_segments_at_physical_addresses_with_info_block)
{
	struct loader_env e;
	struct image im;
	struct seg s[2] = {
		{ 0xc0100000, 0x100000, 0x800, 0x800, 0xaa },
		{ 0xc0200000, 0x200000, 0x100, 0x3000, 0xbb }, /* bss after */
	};
	struct vh_loader_module mods[2] = {
		{ "MODULE-ONE", 10, "initrd.img root=x" },
		{ "M2", 2, NULL },
	};
	char str[64];
	uint32_t info, mmap, mods_addr;

	loader_env_init(&e, 16);
	elf_image(&im, false, 0xc0100010, s, 2);
	if (load(&e, &im, "guest.elf a=1 b=2", mods, 2))
		VH_FAIL("load: %s", e.err.reason);
	expect_prot32_entry(&e.bs);
	VH_EXPECT_EQ(e.bs.rip, 0x100010ull); /* virtual entry made physical */
	VH_EXPECT_EQ(e.bs.image_start, 0x100000ull);
	VH_EXPECT_EQ(e.bs.image_end, 0x203000ull);
	/* Segment bytes, then zeros for bss. */
	VH_EXPECT_EQ(rd32(&e, 0x100000), VH_MULTIBOOT_HEADER_MAGIC);
	VH_EXPECT_EQ(rd32(&e, 0x100010), 0xaaaaaaaau);
	VH_EXPECT_EQ(rd32(&e, 0x1007fc), 0xaaaaaaaau);
	VH_EXPECT_EQ(rd32(&e, 0x2000fc), 0xbbbbbbbbu);
	VH_EXPECT_EQ(rd32(&e, 0x200100), 0u);
	/* Modules page-aligned after the image, the info block after them. */
	info = (uint32_t)e.bs.rbx;
	VH_EXPECT_EQ(info, (uint32_t)e.bs.info_addr);
	VH_EXPECT_GE(info, 0x205000u);
	VH_EXPECT_EQ(rd32(&e, info) & 0x24d, 0x24du); /* mem, cmdline, mods, mmap, name */
	VH_EXPECT_EQ(rd32(&e, info + 4), 639u);
	VH_EXPECT_EQ(rd32(&e, info + 8), 15u * 1024);
	rdstr(&e, rd32(&e, info + 16), str, sizeof(str));
	VH_EXPECT_STREQ(str, "guest.elf a=1 b=2");
	rdstr(&e, rd32(&e, info + 64), str, 3);
	VH_EXPECT_STREQ(str, "vh");
	VH_EXPECT_EQ(rd32(&e, info + 20), 2u);
	mods_addr = rd32(&e, info + 24);
	VH_EXPECT_EQ(rd32(&e, mods_addr), 0x203000u);
	VH_EXPECT_EQ(rd32(&e, mods_addr + 4), 0x20300au);
	VH_EXPECT_EQ(rd32(&e, mods_addr + 16), 0x204000u);
	VH_EXPECT_EQ(rd32(&e, mods_addr + 20), 0x204002u);
	rdstr(&e, rd32(&e, mods_addr + 8), str, 18);
	VH_EXPECT_STREQ(str, "initrd.img root=x");
	rdstr(&e, rd32(&e, mods_addr + 24), str, 1);
	VH_EXPECT_STREQ(str, "");
	rdstr(&e, 0x203000, str, 11);
	VH_EXPECT_STREQ(str, "MODULE-ONE");
	/* The memory map: 639 KiB, two reserved holes, RAM above 1 MiB. */
	VH_EXPECT_EQ(rd32(&e, info + 44), 4u * 24);
	mmap = rd32(&e, info + 48);
	VH_EXPECT_EQ(rd32(&e, mmap), 20u);
	VH_EXPECT_EQ(rd64(&e, mmap + 4), 0ull);
	VH_EXPECT_EQ(rd64(&e, mmap + 12), 0x9fc00ull);
	VH_EXPECT_EQ(rd32(&e, mmap + 20), 1u);
	VH_EXPECT_EQ(rd32(&e, mmap + 24 + 20), 2u);
	VH_EXPECT_EQ(rd64(&e, mmap + 72 + 4), 0x100000ull);
	VH_EXPECT_EQ(rd64(&e, mmap + 72 + 12), 15ull * VH_MIB);
	VH_EXPECT_EQ(rd32(&e, mmap + 72 + 20), 1u);
	/* The GDT matches the selectors. */
	VH_EXPECT_EQ(rd64(&e, e.bs.gdt_base + 8), 0x00cf9b000000ffffull);
	VH_EXPECT_EQ(rd64(&e, e.bs.gdt_base + 16), 0x00cf93000000ffffull);
	mem_env_fini(&e.m);
}

/* A 6 GiB VM: mem_upper ends at the 32-bit hole, the memory map lists RAM
 * to the hole and above 4 GiB and nothing inside it; a segment placed in
 * the hole is refused before anything is written. */
VH_TEST(loader, a_vm_above_the_hole_gets_its_e820_map)
{
	struct loader_env e;
	struct image im;
	struct seg s[1] = { { 0x100000, 0x100000, 0x800, 0x800, 0xaa } };
	struct seg hole[1] = { { 0xfee00000, 0xfee00000, 0x100, 0x100, 0xcc } };
	uint32_t info, mmap;

	loader_env_init(&e, 6 * 1024);
	elf_image(&im, false, 0x100000, s, 1);
	if (load(&e, &im, "big.elf", NULL, 0))
		VH_FAIL("load: %s", e.err.reason);
	info = (uint32_t)e.bs.rbx;
	VH_EXPECT_EQ(rd32(&e, info + 4), 639u);
	VH_EXPECT_EQ(rd32(&e, info + 8), (0xc0000000u - 0x100000u) / 1024);
	VH_EXPECT_EQ(rd32(&e, info + 44), 5u * 24);
	mmap = rd32(&e, info + 48);
	VH_EXPECT_EQ(rd64(&e, mmap + 72 + 4), 0x100000ull);
	VH_EXPECT_EQ(rd64(&e, mmap + 72 + 12), 0xc0000000ull - 0x100000);
	VH_EXPECT_EQ(rd32(&e, mmap + 72 + 20), 1u);
	VH_EXPECT_EQ(rd64(&e, mmap + 96 + 4), 0x100000000ull);
	VH_EXPECT_EQ(rd64(&e, mmap + 96 + 12), 3ull * 1024 * VH_MIB);
	VH_EXPECT_EQ(rd32(&e, mmap + 96 + 20), 1u);
	elf_image(&im, false, 0xfee00000, hole, 1);
	VH_EXPECT_EQ(load(&e, &im, "hole.elf", NULL, 0), VH_E_INVAL);
	mem_env_fini(&e.m);
}

/* vh_loader_prepare writes nothing; vh_loader_write in pieces of at most
 * 777 bytes (what a backend does to bound its lock holds) leaves guest
 * memory and the boot state exactly as one vh_loader_load. */
VH_TEST(loader, a_job_written_in_small_pieces_equals_one_load)
{
	static uint8_t whole[16 * 1024 * 1024], pieces[16 * 1024 * 1024];
	struct loader_env e1, e2;
	struct image im;
	struct seg s[2] = {
		{ 0x100000, 0x100000, 0x1800, 0x1800, 0xaa },
		{ 0x200000, 0x200000, 0x1000, 0x3000, 0xbb },
	};
	struct vh_loader_module mods[1] = { { "MODULE-ONE", 10, "initrd.img root=x" } };
	struct vh_loader_args a = {
		.kind = VH_IMAGE_MULTIBOOT,
		.cmdline = "guest.elf a=1",
		.modules = mods,
		.nmodules = 1,
	};
	static struct vh_loader_job job;
	uint64_t before;
	uint32_t calls = 0;

	loader_env_init(&e1, 16);
	loader_env_init(&e2, 16);
	elf_image(&im, false, 0x100010, s, 2);
	a.image = im.b;
	a.len = im.len;
	if (vh_loader_load(&e1.m.h, e1.vm, &a, &e1.bs, &e1.err))
		VH_FAIL("load: %s", e1.err.reason);
	if (vh_loader_prepare(16 * VH_MIB, &a, &job, &e2.err))
		VH_FAIL("prepare: %s", e2.err.reason);
	VH_EXPECT(!vh_loader_done(&job));
	VH_EXPECT_EQ(rd32(&e2, 0x100000), 0u); /* planned, not written */
	while (!vh_loader_done(&job)) {
		before = job.written;
		VH_ASSERT_EQ(vh_loader_write(&e2.m.h, e2.vm, &job, 777, &e2.err), VH_OK);
		VH_ASSERT_GT(job.written, before);
		VH_ASSERT_LE(job.written - before, 777ull);
		VH_ASSERT_LT(++calls, 100000u);
	}
	VH_EXPECT_EQ(job.written, job.total);
	VH_EXPECT_GE(calls, (uint32_t)(job.total / 777));
	VH_EXPECT_MEMEQ(&job.boot, &e1.bs, sizeof(job.boot));
	VH_ASSERT_EQ(vh_mem_guest_read(&e1.m.h, e1.vm, 0, whole, sizeof(whole), NULL), VH_OK);
	VH_ASSERT_EQ(vh_mem_guest_read(&e2.m.h, e2.vm, 0, pieces, sizeof(pieces), NULL), VH_OK);
	VH_EXPECT_MEMEQ(whole, pieces, sizeof(whole));
	mem_env_fini(&e1.m);
	mem_env_fini(&e2.m);
}

VH_TEST(loader, elf64_images_load_like_qemu_cannot)
{
	struct loader_env e;
	struct image im;
	struct seg s[1] = { { 0xffffffff80100000ull, 0x100000, 0x200, 0x1000, 0x64 } };
	char str[8];

	loader_env_init(&e, 4);
	elf_image(&im, true, 0xffffffff80100020ull, s, 1);
	if (load(&e, &im, NULL, NULL, 0))
		VH_FAIL("load: %s", e.err.reason);
	expect_prot32_entry(&e.bs);
	VH_EXPECT_EQ(e.bs.rip, 0x100020ull);
	VH_EXPECT_EQ(rd32(&e, 0x1001fc), 0x64646464u);
	VH_EXPECT_EQ(rd32(&e, 0x100200), 0u);
	rdstr(&e, rd32(&e, (uint32_t)e.bs.rbx + 16), str, sizeof(str));
	VH_EXPECT_STREQ(str, ""); /* no command line: an empty one */
	VH_EXPECT_EQ(rd32(&e, (uint32_t)e.bs.rbx) & 0x8, 0u); /* no modules */
	/* Linux's vmlinux gives its entry as a physical address (0x1000000
	 * with its text at 0xffffffff81000000): a byte of a segment's
	 * physical range is that byte, entered where it lies. */
	elf_image(&im, true, 0x100020, s, 1);
	if (load(&e, &im, NULL, NULL, 0))
		VH_FAIL("load: %s", e.err.reason);
	VH_EXPECT_EQ(e.bs.rip, 0x100020ull);
	mem_env_fini(&e.m);
}

/* An a.out-kludge image: the header at file offset 0x40 says the file
 * from offset 0 loads at 0x100000. */
static void aout_image(struct image *im, uint32_t header_addr, uint32_t load_addr,
		       uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	uint8_t *h;

	memset(im, 0, sizeof(*im));
	memset(im->b, 0x5c, 0x2000);
	im->len = 0x2000;
	h = im->b + 0x40;
	mb_header(h, 0x10003);
	put32(h + 12, header_addr);
	put32(h + 16, load_addr);
	put32(h + 20, load_end);
	put32(h + 24, bss_end);
	put32(h + 28, entry);
}

VH_TEST(loader, aout_kludge_address_fields)
{
	struct loader_env e;
	struct image im;

	loader_env_init(&e, 4);
	aout_image(&im, 0x100040, 0x100000, 0x101800, 0x104000, 0x100080);
	if (load(&e, &im, "k", NULL, 0))
		VH_FAIL("load: %s", e.err.reason);
	expect_prot32_entry(&e.bs);
	VH_EXPECT_EQ(e.bs.rip, 0x100080ull);
	VH_EXPECT_EQ(e.bs.image_end, 0x104000ull);
	VH_EXPECT_EQ(rd32(&e, 0x100040), VH_MULTIBOOT_HEADER_MAGIC);
	VH_EXPECT_EQ(rd32(&e, 0x1017fc), 0x5c5c5c5cu);
	VH_EXPECT_EQ(rd32(&e, 0x101800), 0u); /* bss */
	VH_EXPECT_GE(e.bs.rbx, 0x104000ull);
	/* load_end 0: the rest of the file; bss_end 0: no bss. */
	aout_image(&im, 0x100040, 0x100000, 0, 0, 0x100080);
	if (load(&e, &im, "k", NULL, 0))
		VH_FAIL("load: %s", e.err.reason);
	VH_EXPECT_EQ(e.bs.image_end, 0x102000ull);
	mem_env_fini(&e.m);
}

/* Each malformed image fails with a reason naming the problem, and
 * nothing is written to guest memory. */
static void expect_refused(struct loader_env *e, const struct image *im, const char *why)
{
	uint64_t granted = mem_env_stats(&e->m, e->vm).granted;

	e->err.reason[0] = 0;
	VH_EXPECT_EQ(load(e, im, "x", NULL, 0), VH_E_INVAL);
	if (!strstr(e->err.reason, why))
		VH_FAIL("expected \"%s\" in \"%s\"", why, e->err.reason);
	VH_EXPECT_EQ((int)e->bs.mode, 0);
	VH_EXPECT_EQ(mem_env_stats(&e->m, e->vm).granted, granted);
}

VH_TEST(loader, malformed_multiboot_images_are_refused)
{
	struct loader_env e;
	struct image im;

	loader_env_init(&e, 4);
	memset(&im, 0, sizeof(im));
	im.len = 0x3000;
	expect_refused(&e, &im, "no Multiboot header in the first 8192 bytes");
	/* A header past 8 KiB does not count. */
	mb_header(im.b + 0x2000, 0x3);
	expect_refused(&e, &im, "no Multiboot header");
	/* A bad checksum does not count. */
	mb_header(im.b + 0x100, 0x3);
	put32(im.b + 0x108, 0);
	expect_refused(&e, &im, "no Multiboot header");
	/* Required features vh lacks. */
	mb_header(im.b + 0x100, 0x3 | 0x8);
	expect_refused(&e, &im, "requires features");
	/* a.out fields cut off by the end of the file. */
	memset(&im, 0, sizeof(im));
	mb_header(im.b + 0x10, 0x10000);
	im.len = 0x20;
	expect_refused(&e, &im, "a.out fields missing");
	/* a.out: load_addr above header_addr; header_addr too far from
	 * load_addr; load_end below load_addr; more than the file; bss_end
	 * below the loaded end; entry outside; memory too small. */
	aout_image(&im, 0x100040, 0x100080, 0, 0, 0x100080);
	expect_refused(&e, &im, "above header_addr");
	aout_image(&im, 0x100040, 0xf0000, 0, 0, 0x100080);
	expect_refused(&e, &im, "exceeds the header's file offset");
	aout_image(&im, 0x100040, 0x100000, 0xff000, 0, 0x100080);
	expect_refused(&e, &im, "below load_addr");
	aout_image(&im, 0x100040, 0x100000, 0x110000, 0, 0x100080);
	expect_refused(&e, &im, "but the image has 8192");
	aout_image(&im, 0x100040, 0x100000, 0x101000, 0x100800, 0x100080);
	expect_refused(&e, &im, "bss_end_addr");
	aout_image(&im, 0x100040, 0x100000, 0, 0, 0x300000);
	expect_refused(&e, &im, "entry point 0x300000 is not in the image");
	aout_image(&im, 0x100040, 0x100000, 0, 0xfffff000u, 0x100080);
	expect_refused(&e, &im, "outside the VM's 4 MiB");
	mem_env_fini(&e.m);
}

VH_TEST(loader, malformed_elf_images_are_refused)
{
	struct loader_env e;
	struct image im;
	struct seg one[1] = { { 0x100000, 0x100000, 0x100, 0x100, 1 } };
	struct seg two[2] = { { 0x100000, 0x100000, 0x100, 0x2000, 1 },
			      { 0x101000, 0x101000, 0x100, 0x100, 2 } };

	loader_env_init(&e, 4);
	elf_image(&im, false, 0x100000, one, 1);
	im.b[0] = 0;
	expect_refused(&e, &im, "not an ELF file");
	elf_image(&im, false, 0x100000, one, 1);
	im.b[4] = 3;
	expect_refused(&e, &im, "unknown ELF class");
	elf_image(&im, false, 0x100000, one, 1);
	im.b[5] = 2;
	expect_refused(&e, &im, "not little-endian");
	elf_image(&im, false, 0x100000, one, 1);
	put16(im.b + 16, 3);
	expect_refused(&e, &im, "not an executable");
	elf_image(&im, false, 0x100000, one, 1);
	put16(im.b + 18, 62);
	expect_refused(&e, &im, "is not x86");
	/* Program headers beyond the file, too small, none. */
	elf_image(&im, false, 0x100000, one, 1);
	put32(im.b + 28, 0x7ff0);
	expect_refused(&e, &im, "run past the end");
	elf_image(&im, false, 0x100000, one, 1);
	put16(im.b + 42, 16);
	expect_refused(&e, &im, "program header size 16 too small");
	elf_image(&im, false, 0x100000, one, 1);
	put16(im.b + 44, 0);
	expect_refused(&e, &im, "no program headers");
	elf_image(&im, false, 0x100000, one, 1);
	put32(im.b + 52, 4); /* PT_NOTE only */
	expect_refused(&e, &im, "no loadable segment");
	/* Segment file bytes past the end; filesz > memsz. */
	elf_image(&im, false, 0x100000, one, 1);
	put32(im.b + 52 + 16, 0x100000);
	put32(im.b + 52 + 20, 0x100000);
	expect_refused(&e, &im, "runs past the end");
	elf_image(&im, false, 0x100000, one, 1);
	put32(im.b + 52 + 20, 0x10);
	expect_refused(&e, &im, "more file bytes");
	/* Outside guest memory, overflowing, overlapping, entry outside. */
	one[0].paddr = 0x3fff80;
	elf_image(&im, false, one[0].vaddr, one, 1);
	expect_refused(&e, &im, "outside the VM's 4 MiB");
	one[0].paddr = 0x100000;
	elf_image(&im, false, 0x100000, two, 2);
	expect_refused(&e, &im, "segments 0 and 1 overlap at 0x101000");
	elf_image(&im, false, 0x200000, one, 1);
	expect_refused(&e, &im, "entry point 0x200000 is in no loadable segment");
	{
		struct seg wrap[1] = { { 0x1000, 0xfffffffffffff000ull, 0x10, 0x2000, 1 } };
		elf_image(&im, true, 0x1000, wrap, 1);
		expect_refused(&e, &im, "overflows the address space");
	}
	/* Truncated ELF header. */
	elf_image(&im, false, 0x100000, one, 1);
	mb_header(im.b + 0x1c, 0x3); /* the Multiboot header must be found first */
	im.len = 40;
	expect_refused(&e, &im, "ELF header truncated");
	mem_env_fini(&e.m);
}

VH_TEST(loader, no_room_for_modules_or_the_info_block)
{
	struct loader_env e;
	struct image im;
	struct seg one[1] = { { 0x100000, 0x100000, 0x100, 0x2ff000, 1 } };
	static uint8_t big[0x200000];
	struct vh_loader_module m = { big, sizeof(big), "big" };
	uint64_t granted;

	loader_env_init(&e, 4);
	elf_image(&im, false, 0x100000, one, 1);
	/* The image ends 4 KiB before the end of memory: one page is not
	 * enough for a 2 MiB module. */
	granted = mem_env_stats(&e.m, e.vm).granted;
	VH_EXPECT_EQ(load(&e, &im, "x", &m, 1), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "modules[0]") != NULL);
	VH_EXPECT_EQ(mem_env_stats(&e.m, e.vm).granted, granted);
	/* The image fills memory: no room for the information block. */
	one[0].memsz = 0x300000;
	elf_image(&im, false, 0x100000, one, 1);
	VH_EXPECT_EQ(load(&e, &im, "x", NULL, 0), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "no room for the multiboot information") != NULL);
	/* Too many modules. */
	struct vh_loader_module many[VH_BOOT_MAX_MODULES + 1];
	memset(many, 0, sizeof(many));
	one[0].memsz = 0x1000;
	elf_image(&im, false, 0x100000, one, 1);
	VH_EXPECT_EQ(load(&e, &im, "x", many, VH_BOOT_MAX_MODULES + 1), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "modules: 9 given") != NULL);
	mem_env_fini(&e.m);
}

/* ---- raw binaries and general refusals --------------------------------------- */

VH_TEST(loader, raw_binaries_in_real_and_protected_mode)
{
	struct loader_env e;
	uint8_t code[16] = { 0xf4, 0xeb, 0xfd };
	struct vh_loader_args a = { .kind = VH_IMAGE_RAW_REAL, .image = code, .len = sizeof(code),
				    .load_addr = 0x7c00 };

	loader_env_init(&e, 4);
	VH_ASSERT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_OK);
	VH_EXPECT_EQ((int)e.bs.mode, VH_BOOT_REAL);
	VH_EXPECT_EQ(e.bs.cs.selector, 0x7c0);
	VH_EXPECT_EQ(e.bs.cs.base, 0x7c00ull);
	VH_EXPECT_EQ(e.bs.cs.limit, 0xffffu);
	VH_EXPECT_EQ(e.bs.rip, 0ull);
	VH_EXPECT_EQ(e.bs.rsp, 0x7c00ull);
	VH_EXPECT_EQ(e.bs.cr0 & 1, 0ull);
	VH_EXPECT_EQ(rd32(&e, 0x7c00), 0xfdebf4u);
	/* Real mode, an address that is not a multiple of 16. */
	a.load_addr = 0x12345;
	VH_ASSERT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_OK);
	VH_EXPECT_EQ(e.bs.cs.selector, 0x1234);
	VH_EXPECT_EQ(e.bs.rip, 5ull);
	VH_EXPECT_EQ(e.bs.rsp, 0ull);
	/* Flat 32-bit. */
	a.kind = VH_IMAGE_RAW_PROT32;
	a.load_addr = 0x200000;
	VH_ASSERT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_OK);
	VH_EXPECT_EQ((int)e.bs.mode, VH_BOOT_PROT32);
	VH_EXPECT_EQ(e.bs.rip, 0x200000ull);
	VH_EXPECT_EQ(e.bs.info_addr, 0ull);
	VH_EXPECT_EQ(rd32(&e, 0x200000), 0xfdebf4u);
	/* Refusals. */
	a.load_addr = 0x400000 - 8;
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "do not fit") != NULL);
	VH_EXPECT_EQ((int)e.bs.mode, 0);
	a.load_addr = UINT64_MAX - 4;
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_INVAL);
	a.kind = VH_IMAGE_RAW_REAL;
	a.load_addr = 0x100000;
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "above 1 MiB") != NULL);
	a.load_addr = 0x7c00;
	a.len = 0;
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_INVAL);
	a.len = sizeof(code);
	a.kind = (enum vh_image_kind)9;
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_INVAL);
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, NULL, &e.bs, &e.err), VH_E_INVAL);
	/* Only a powered-on VM has memory to load into. */
	a.kind = VH_IMAGE_RAW_REAL;
	VH_ASSERT_EQ(vh_vm_stop(&e.m.h, e.vm, NULL), VH_OK);
	VH_EXPECT_EQ(vh_loader_load(&e.m.h, e.vm, &a, &e.bs, &e.err), VH_E_STATE);
	mem_env_fini(&e.m);
}

/* Every prefix of a valid image, and every single-byte corruption of its
 * headers, is either loaded or refused: never a crash (ASan watches). */
VH_TEST(loader, truncations_and_corruptions_never_crash)
{
	struct loader_env e;
	struct image im, bad;
	struct seg s[2] = { { 0x100000, 0x100000, 0x80, 0x1000, 1 },
			    { 0x102000, 0x102000, 0x80, 0x80, 2 } };

	loader_env_init(&e, 4);
	elf_image(&im, false, 0x100000, s, 2);
	for (size_t n = 0; n < im.len; n += 7) {
		bad = im;
		bad.len = n;
		int rc = load(&e, &bad, "t", NULL, 0);
		VH_ASSERT(rc == VH_OK || rc == VH_E_INVAL);
		VH_ASSERT(rc == VH_OK || e.bs.mode == 0);
	}
	for (size_t i = 0; i < 52 + 2 * 32; i++) {
		for (int bit = 0; bit < 8; bit++) {
			bad = im;
			bad.b[i] ^= (uint8_t)(1u << bit);
			int rc = load(&e, &bad, "t", NULL, 0);
			VH_ASSERT(rc == VH_OK || rc == VH_E_INVAL);
		}
	}
	mem_env_fini(&e.m);
}

/* A load with the VM's ACPI tables puts them at VH_ACPI_GPA, where a guest
 * scanning the BIOS area finds the RSDP, with its checksum, inside the
 * range the e820 map reserves; an image over that range is refused before
 * anything is written. */
static int load_acpi(struct loader_env *e, const struct image *im, uint8_t *acpi, size_t len)
{
	struct vh_loader_args a = {
		.kind = VH_IMAGE_MULTIBOOT, .image = im->b, .len = im->len, .cmdline = "x",
		.acpi = acpi, .acpi_len = len,
	};
	return vh_loader_load(&e->m.h, e->vm, &a, &e->bs, &e->err);
}

VH_TEST(loader, the_acpi_tables_go_to_the_bios_area)
{
	static uint8_t acpi[VH_ACPI_MAX_BYTES];
	struct loader_env e;
	struct image im;
	struct seg s[1] = { { 0x100000, 0x100000, 0x800, 0x800, 0xaa } };
	struct vh_e820_entry map[VH_E820_MAX];
	struct vh_layout l;
	uint8_t rsdp[20], sum = 0;
	size_t len = 0;
	bool reserved = false;

	loader_env_init(&e, 16);
	elf_image(&im, false, 0x100010, s, 1);
	VH_ASSERT_EQ(vh_loader_acpi(e.vm, acpi, sizeof(acpi), &len, &e.err), VH_OK);
	VH_ASSERT_GT(len, 36u);
	if (load_acpi(&e, &im, acpi, len))
		VH_FAIL("load: %s", e.err.reason);
	VH_ASSERT_EQ(vh_mem_guest_read(&e.m.h, e.vm, VH_ACPI_RSDP_GPA, rsdp, 20, NULL), VH_OK);
	VH_EXPECT_MEMEQ(rsdp, "RSD PTR ", 8);
	for (int i = 0; i < 20; i++)
		sum = (uint8_t)(sum + rsdp[i]);
	VH_EXPECT_EQ(sum, 0u);
	VH_EXPECT_EQ(rd64(&e, VH_ACPI_RSDP_GPA + 24) - VH_ACPI_GPA < len, true); /* the XSDT */
	vh_layout_init(&l, 16 * VH_MIB);
	for (uint32_t i = 0, n = vh_layout_e820(&l, map); i < n; i++)
		reserved |= map[i].type == VH_E820_RESERVED && map[i].addr <= VH_ACPI_GPA &&
			    VH_ACPI_GPA + len <= map[i].addr + map[i].len;
	VH_EXPECT(reserved);
	/* A segment over the tables: refused, nothing written. */
	s[0] = (struct seg){ 0xf0400, 0xf0400, 0x800, 0x800, 0xaa };
	elf_image(&im, false, 0xf0410, s, 1);
	uint64_t granted = mem_env_stats(&e.m, e.vm).granted;
	VH_EXPECT_EQ(load_acpi(&e, &im, acpi, len), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "overlaps the ACPI tables") != NULL);
	VH_EXPECT_EQ(mem_env_stats(&e.m, e.vm).granted, granted);
	/* Tables larger than the BIOS area: refused. */
	VH_EXPECT_EQ(load_acpi(&e, &im, acpi, VH_LAYOUT_1M - VH_ACPI_GPA + 1), VH_E_INVAL);
	VH_EXPECT(strstr(e.err.reason, "do not fit") != NULL);
	mem_env_fini(&e.m);
}
