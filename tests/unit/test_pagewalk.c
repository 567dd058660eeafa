/* SPDX-License-Identifier: Apache-2.0 */
/* The guest page walk's permission checks on page tables built in a test
 * buffer: each paging mode, R/W with and without CR0.WP, U/S at CPL 3,
 * SMAP with and without RFLAGS.AC, reserved bits, and the #PF error code. */
#include <string.h>

#include "vh/pagewalk.h"
#include "vh_test.h"

#define MEM      (64 * 4096)
#define P        0x1u
#define RW       0x2u
#define US       0x4u
#define PS       0x80u
#define CR0_PG   (1ull << 31)
#define CR0_WP   (1ull << 16)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_SMAP (1ull << 21)
#define EFER_LMA ((1ull << 10) | (1ull << 8))
#define EFER_NXE (1ull << 11)
#define AC       (1ull << 18)

static uint8_t mem[MEM];

static int rd(void *ctx, uint64_t gpa, void *buf, unsigned size)
{
	(void)ctx;
	if (gpa + size > MEM)
		return -1;
	memcpy(buf, mem + gpa, size);
	return 0;
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(mem + gpa, &v, 4);
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, 8);
}

/* 4-level: PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000.  Linear
 * 0x0 page i -> frame 0x10000 + i * 0x1000 with the flags asked for;
 * the upper levels carry `upper`. */
static struct vh_walk setup64(uint64_t upper, const uint64_t *flags, unsigned n)
{
	memset(mem, 0, sizeof(mem));
	put64(0x1000, 0x2000 | upper);
	put64(0x2000, 0x3000 | upper);
	put64(0x3000, 0x4000 | upper);
	for (unsigned i = 0; i < n; i++)
		put64(0x4000 + 8 * i, (0x10000 + 0x1000ull * i) | flags[i]);
	return (struct vh_walk){ .cr0 = CR0_PG | CR0_WP | 1,
				 .cr3 = 0x1000,
				 .cr4 = CR4_PAE,
				 .efer = EFER_LMA | EFER_NXE,
				 .rflags = 2,
				 .cpl = 0,
				 .maxphyaddr = 36,
				 .read = rd };
}

static int go(const struct vh_walk *w, uint64_t lin, unsigned access, uint64_t *gpa, uint32_t *err)
{
	return (int)vh_walk_translate(w, lin, access, gpa, err);
}

VH_TEST(pagewalk, four_level_rights)
{
	/* page 0: kernel read-only; 1: kernel RW; 2: user RO; 3: user RW; 4: absent */
	const uint64_t f[] = { P, P | RW, P | US, P | RW | US, 0 };
	struct vh_walk w = setup64(P | RW | US, f, 5);
	uint64_t gpa;
	uint32_t err;

	VH_EXPECT_EQ(go(&w, 0x0123, 0, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(gpa, (uint64_t)0x10123);
	/* CR0.WP: a supervisor write to a read-only page faults... */
	VH_EXPECT_EQ(go(&w, 0x0010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_WRITE);
	/* ...and goes through with WP clear. */
	w.cr0 &= ~CR0_WP;
	VH_EXPECT_EQ(go(&w, 0x0010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
	w.cr0 |= CR0_WP;
	VH_EXPECT_EQ(go(&w, 0x1010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(gpa, (uint64_t)0x11010);
	/* CPL 3: no supervisor page, no write to a read-only user page,
	 * whatever CR0.WP says. */
	w.cpl = 3;
	VH_EXPECT_EQ(go(&w, 0x1010, 0, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_USER);
	VH_EXPECT_EQ(go(&w, 0x1010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_WRITE | VH_PF_USER);
	VH_EXPECT_EQ(go(&w, 0x2010, 0, &gpa, &err), (int)VH_WALK_OK);
	w.cr0 &= ~CR0_WP;
	VH_EXPECT_EQ(go(&w, 0x2010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	w.cr0 |= CR0_WP;
	VH_EXPECT_EQ(go(&w, 0x3010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
	/* Not present: P clear in the error code. */
	VH_EXPECT_EQ(go(&w, 0x4000, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_WRITE | VH_PF_USER);
	/* Presence-only (instruction bytes): rights not checked. */
	VH_EXPECT_EQ(go(&w, 0x1010, VH_WALK_NO_PERMS, &gpa, &err), (int)VH_WALK_OK);
}

VH_TEST(pagewalk, upper_levels_limit_the_rights)
{
	const uint64_t f[] = { P | RW | US };
	struct vh_walk w = setup64(P | US, f, 1); /* read-only above */
	uint64_t gpa;
	uint32_t err;

	w.cpl = 3;
	VH_EXPECT_EQ(go(&w, 0x10, 0, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(go(&w, 0x10, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	w = setup64(P | RW, f, 1); /* supervisor above */
	w.cpl = 3;
	VH_EXPECT_EQ(go(&w, 0x10, 0, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_USER);
}

VH_TEST(pagewalk, smap_keeps_the_kernel_off_user_pages_unless_ac)
{
	const uint64_t f[] = { P | RW | US, P | RW };
	struct vh_walk w = setup64(P | RW | US, f, 2);
	uint64_t gpa;
	uint32_t err;

	VH_EXPECT_EQ(go(&w, 0x10, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
	w.cr4 |= CR4_SMAP;
	VH_EXPECT_EQ(go(&w, 0x10, 0, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT);
	VH_EXPECT_EQ(go(&w, 0x10, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_WRITE);
	VH_EXPECT_EQ(go(&w, 0x1010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
	w.rflags |= AC;
	VH_EXPECT_EQ(go(&w, 0x10, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
	/* AC does not open user pages to... user mode is unaffected by SMAP. */
	w.cpl = 3;
	w.rflags &= ~AC;
	VH_EXPECT_EQ(go(&w, 0x10, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
}

VH_TEST(pagewalk, reserved_bits_fault_with_rsvd)
{
	const uint64_t f[] = { P | RW, P | RW | (1ull << 40), P | RW | (1ull << 63) };
	struct vh_walk w = setup64(P | RW | US, f, 3);
	uint64_t gpa;
	uint32_t err;

	VH_EXPECT_EQ(go(&w, 0x10, 0, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(go(&w, 0x1010, 0, &gpa, &err), (int)VH_WALK_FAULT); /* above MAXPHYADDR 36 */
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_RSVD);
	VH_EXPECT_EQ(go(&w, 0x2010, 0, &gpa, &err), (int)VH_WALK_OK); /* XD with NXE */
	w.efer &= ~EFER_NXE;
	VH_EXPECT_EQ(go(&w, 0x2010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_RSVD | VH_PF_WRITE);
	/* PS in the PML4 entry is reserved. */
	put64(0x1000, 0x2000 | P | RW | PS);
	VH_EXPECT_EQ(go(&w, 0x10, 0, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_RSVD);
	/* A table outside guest memory is not the guest's fault. */
	put64(0x1000, 0x7fff000 | P | RW);
	VH_EXPECT_EQ(go(&w, 0x10, 0, &gpa, &err), (int)VH_WALK_NO_TABLES);
}

VH_TEST(pagewalk, two_mib_page)
{
	const uint64_t f[] = { 0 };
	struct vh_walk w = setup64(P | RW | US, f, 0);
	uint64_t gpa;
	uint32_t err;

	put64(0x3000 + 8, 0x200000 | P | PS | US); /* 2 MiB..4 MiB: user, read-only */
	w.cpl = 3;
	VH_EXPECT_EQ(go(&w, 0x234567, 0, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(gpa, (uint64_t)0x234567);
	VH_EXPECT_EQ(go(&w, 0x234567, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	put64(0x3000 + 8, 0x200000 | P | PS | US | 0x4000); /* bit 14: reserved in a 2 MiB entry */
	VH_EXPECT_EQ(go(&w, 0x234567, 0, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_RSVD | VH_PF_USER);
}

VH_TEST(pagewalk, thirty_two_bit_paging)
{
	struct vh_walk w = { .cr0 = CR0_PG | CR0_WP | 1,
			     .cr3 = 0x1000,
			     .cr4 = CR4_PSE,
			     .rflags = 2,
			     .maxphyaddr = 36,
			     .read = rd };
	uint64_t gpa;
	uint32_t err;

	memset(mem, 0, sizeof(mem));
	put32(0x1000, 0x2000 | P | RW | US); /* 0..4 MiB through a page table */
	put32(0x1004, 0x400000 | P | PS);    /* 4..8 MiB: a kernel 4 MiB page, read-only */
	put32(0x2000, 0x10000 | P | US);     /* page 0: user read-only */
	put32(0x2004, 0x11000 | P | RW);     /* page 1: kernel RW */
	w.cpl = 3;
	VH_EXPECT_EQ(go(&w, 0x10, 0, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(gpa, (uint64_t)0x10010);
	VH_EXPECT_EQ(go(&w, 0x10, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_WRITE | VH_PF_USER);
	VH_EXPECT_EQ(go(&w, 0x1010, 0, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(go(&w, 0x400010, 0, &gpa, &err), (int)VH_WALK_FAULT);
	w.cpl = 0;
	VH_EXPECT_EQ(go(&w, 0x1010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(go(&w, 0x400010, 0, &gpa, &err), (int)VH_WALK_OK);
	VH_EXPECT_EQ(gpa, (uint64_t)0x400010);
	VH_EXPECT_EQ(go(&w, 0x400010, VH_WALK_WRITE, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, VH_PF_PRESENT | VH_PF_WRITE);
	VH_EXPECT_EQ(go(&w, 0x800010, 0, &gpa, &err), (int)VH_WALK_FAULT);
	VH_EXPECT_EQ(err, (uint32_t)0);
}
