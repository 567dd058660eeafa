/* SPDX-License-Identifier: Apache-2.0 */
/* A guest for a VM larger than the 32-bit hole (run it with 6 GiB; it
 * touches a few pages only).  It checks, in order:
 *   1. the Multiboot memory map: RAM below the hole and above 4 GiB,
 *      no RAM in [hole, 4 GiB) (hole=ADDR, default 0xc0000000);
 *   2. its local APIC at 0xfee00000 is a device, not RAM: the version
 *      register reads non-zero and keeps no write, TPR reads back and
 *      PPR follows it;
 *   3. an address in the hole (probe=ADDR, default 0xf8000000, where no
 *      device is) keeps no write;
 *   4. RAM above 4 GiB: with 4-level paging (EFER.LME, so the CPU is in
 *      IA-32e mode and this 32-bit code runs on in compatibility mode),
 *      2 MiB pages at the start and at the end of the high RAM the map
 *      reported are written and read back, and the low page with the same
 *      32-bit address is untouched.  IA-32e rather than 32-bit PAE paging
 *      because this machine's PVM KVM, built for 64-bit guests, raises #GP
 *      on the MOV to CR0 that turns legacy PAE paging on; hardware and
 *      Bochs take either.  high=0 skips the step.
 * Output: one line per step ("bigmem: e820 ...", "bigmem: lapic ...",
 * "bigmem: hole ...", "bigmem: high ...") and "bigmem: done"; exits
 * GUEST_PASS, or GUEST_FAIL with the reason. */
#include "lib/runtime.h"

const char guest_name[] = "bigmem";

#define FOUR_G    0x100000000ull
#define LAPIC     0xfee00000u
#define LAPIC_VER 0x30u
#define LAPIC_TPR 0x80u
#define LAPIC_PPR 0xa0u
#define PAGE_2M   0x200000ull
#define WINDOW    0x40000000u /* virtual: the second GiB maps high RAM */
#define LOW_PROBE 0x80000u    /* a low page: its address is high RAM's mod 4 GiB */
#define PATTERN   0x5eed0000u
#define EFER      0xc0000080u
#define EFER_LME  (1u << 8)

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd_low[512] __attribute__((aligned(4096)));
static uint64_t pd_high[512] __attribute__((aligned(4096)));

static volatile uint32_t *at(uint32_t a)
{
	return (volatile uint32_t *)a;
}

static bool check_e820(uint64_t hole, uint64_t *high_start, uint64_t *high_end)
{
	uint64_t addr, len, below = 0;
	uint32_t type;

	*high_start = *high_end = 0;
	for (uint32_t i = 0; multiboot_mmap(i, &addr, &len, &type); i++) {
		if (type != 1)
			continue;
		if (addr < FOUR_G && addr + len > hole) {
			printf("bigmem: e820 says RAM at 0x%llx..0x%llx, in the hole\n", addr,
			       addr + len);
			return false;
		}
		if (addr < hole && addr + len > below)
			below = addr + len;
		if (addr >= FOUR_G && !*high_start) {
			*high_start = addr;
			*high_end = addr + len;
		}
	}
	if (!below || *high_start != FOUR_G) {
		printf("bigmem: e820 lacks RAM below the hole (0x%llx) or from 4 GiB (0x%llx)\n",
		       below, *high_start);
		return false;
	}
	printf("bigmem: e820 ram below the hole to 0x%llx and 0x%llx..0x%llx, none in the hole\n",
	       below, *high_start, *high_end);
	return true;
}

static bool check_lapic(void)
{
	uint32_t ver = *at(LAPIC + LAPIC_VER), ver2, tpr, ppr;

	*at(LAPIC + LAPIC_VER) = 0xdead0000u;
	ver2 = *at(LAPIC + LAPIC_VER);
	*at(LAPIC + LAPIC_TPR) = 0x20;
	tpr = *at(LAPIC + LAPIC_TPR);
	ppr = *at(LAPIC + LAPIC_PPR);
	*at(LAPIC + LAPIC_TPR) = 0;
	if (ver == 0 || ver2 != ver || tpr != 0x20 || ppr != 0x20) {
		printf(
		    "bigmem: lapic is not the device: version 0x%x then 0x%x, tpr 0x%x ppr 0x%x\n",
		    ver, ver2, tpr, ppr);
		return false;
	}
	printf("bigmem: lapic version 0x%x keeps no write, tpr 0x%x ppr 0x%x: a device\n", ver, tpr,
	       ppr);
	return true;
}

static bool check_hole(uint32_t probe)
{
	uint32_t v;

	*at(probe) = PATTERN;
	v = *at(probe);
	if (v == PATTERN) {
		printf("bigmem: hole 0x%x keeps a write: RAM\n", probe);
		return false;
	}
	printf("bigmem: hole 0x%x keeps no write (reads 0x%x)\n", probe, v);
	return true;
}

static void paging(bool on)
{
	uint32_t cr0, cr4;

	uint32_t efer_lo, efer_hi;

	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("rdmsr" : "=a"(efer_lo), "=d"(efer_hi) : "c"(EFER));
	if (!on) {
		/* Paging off in compatibility mode leaves IA-32e mode; then LME. */
		__asm__ volatile("movl %0, %%cr0" : : "r"(cr0 & ~0x80000000u) : "memory");
		__asm__ volatile("wrmsr" : : "a"(efer_lo & ~EFER_LME), "d"(efer_hi), "c"(EFER));
		return;
	}
	__asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4 | 0x20u)); /* PAE */
	__asm__ volatile("movl %0, %%cr3" : : "r"((uint32_t)pml4) : "memory");
	__asm__ volatile("wrmsr" : : "a"(efer_lo | EFER_LME), "d"(efer_hi), "c"(EFER));
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0 | 0x80000000u) : "memory");
}

static bool check_high(uint64_t start, uint64_t end)
{
	const uint32_t page = (uint32_t)PAGE_2M;
	const uint64_t phys[2] = { start, (end - page) & ~(uint64_t)(page - 1) };
	/* Four words in each page, one at the offset of LOW_PROBE. */
	static const uint32_t offs[4] = { LOW_PROBE, LOW_PROBE + 0x1000, 0x100000, PAGE_2M - 4 };
	uint32_t low_before = *at(LOW_PROBE), bad = 0;

	/* The first GiB identity-mapped (the guest's code, data and stack);
	 * the second GiB: two 2 MiB pages of high RAM. */
	for (uint32_t i = 0; i < 512; i++)
		pd_low[i] = (uint64_t)i * PAGE_2M | 0x83; /* P, RW, PS */
	for (uint32_t i = 0; i < 2; i++)
		pd_high[i] = phys[i] | 0x83;
	pdpt[0] = (uint32_t)pd_low | 3; /* P, RW */
	pdpt[1] = (uint32_t)pd_high | 3;
	pml4[0] = (uint32_t)pdpt | 3;
	paging(true);
	for (uint32_t i = 0; i < 2; i++) {
		for (uint32_t k = 0; k < 4; k++)
			*at(WINDOW + i * page + offs[k]) = PATTERN + i * 16 + k;
	}
	for (uint32_t i = 0; i < 2; i++) {
		for (uint32_t k = 0; k < 4; k++) {
			uint32_t got = *at(WINDOW + i * page + offs[k]);
			if (got != PATTERN + i * 16 + k) {
				printf("bigmem: high 0x%llx: read 0x%x, wrote 0x%x\n",
				       phys[i] + offs[k], got, PATTERN + i * 16 + k);
				bad++;
			}
		}
	}
	paging(false);
	if (*at(LOW_PROBE) != low_before) {
		printf("bigmem: low 0x%x changed (0x%x -> 0x%x): high RAM aliases it\n", LOW_PROBE,
		       low_before, *at(LOW_PROBE));
		bad++;
	}
	if (bad)
		return false;
	printf("bigmem: high 0x%llx and 0x%llx written and read back, low 0x%x untouched\n",
	       phys[0], phys[1], LOW_PROBE);
	return true;
}

unsigned guest_main(void)
{
	uint64_t hole = arg_size("hole", 0xc0000000u), high_start, high_end;
	uint32_t probe = arg_u32("probe", 0xf8000000u);
	uint32_t high = arg_u32("high", 1);

	if (!check_e820(hole, &high_start, &high_end) || !check_lapic() || !check_hole(probe) ||
	    (high && !check_high(high_start, high_end)))
		return GUEST_FAIL;
	printf("bigmem: done\n");
	return GUEST_PASS;
}
