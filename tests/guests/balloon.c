/* SPDX-License-Identifier: Apache-2.0 */
/* Balloon driver guest: asks vh for its balloon target and keeps that
 * many of its pages in the balloon, inflating and deflating through the
 * hypercalls, reporting each round.  Under a hypervisor that is not vh
 * (QEMU) it says so and passes: there is nothing to balloon.  Command line:
 *   rounds=R   target checks (default 3); between them it spins and yields
 *   fill=N     first write to N pages of the pool (so that they have
 *              frames for the balloon to give back)
 *   start=R    keep no pages in the balloon before round R
 *   spin=N     PAUSE loops between rounds (default 1000000)
 *   wait=1     after the spin, yield until the target differs from what
 *              the balloon holds (the host drives the rounds; the last
 *              round does not wait)
 *   touch=1    in the first round that inflates, write a marker to the
 *              last page it will give, and once it is in the balloon read
 *              it and write it (breaks the balloon promise on purpose: vh
 *              counts a balloon touch, and the page must read 0, not the
 *              marker: its frame went back to the host); the guest then
 *              takes that page back from its balloon
 *   release=R  from round R on, keep no pages in the balloon whatever the
 *              target (a driver being unloaded deflates everything)
 * Output: "balloon: info ...", "balloon: filled N pages", "balloon:
 * ballooned page gfn G reads X (marker M before the inflate)", "balloon:
 * round R target T held H", "balloon: done"; exits GUEST_PASS, or
 * GUEST_FAIL on a hypercall error. */
#include "lib/runtime.h"

const char guest_name[] = "balloon";

#define MAX_HELD 16384u /* 64 MiB of balloon */
#define BATCH VH_HC_BALLOON_MAX

static uint32_t held[MAX_HELD];  /* gfns in the balloon, in order */
static uint32_t nheld;
static uint64_t batch[BATCH] __attribute__((aligned(8)));
static struct vh_hc_info info __attribute__((aligned(8)));

/* Inflates the next up to `want` pool pages; returns pages accepted or
 * a negative error. */
static long inflate(uint32_t first_gfn, uint32_t want)
{
	uint32_t n = want < BATCH ? want : BATCH;
	long r;

	for (uint32_t i = 0; i < n; i++)
		batch[i] = first_gfn + nheld + i;
	r = hypercall(VH_HC_BALLOON_INFLATE, (uint32_t)batch, n, 0, 0);
	if (r > 0) {
		/* vh accepts in order and skips none of ours (fresh pages). */
		for (long i = 0; i < r; i++)
			held[nheld + i] = (uint32_t)batch[i];
		nheld += (uint32_t)r;
	}
	return r;
}

static long deflate(uint32_t want)
{
	uint32_t n = want < BATCH ? want : BATCH;
	long r;

	for (uint32_t i = 0; i < n; i++)
		batch[i] = held[nheld - n + i];
	r = hypercall(VH_HC_BALLOON_DEFLATE, (uint32_t)batch, n, 0, 0);
	if (r > 0)
		nheld -= (uint32_t)r;
	return r;
}

unsigned guest_main(void)
{
	uint32_t rounds = arg_u32("rounds", 3), touch = arg_u32("touch", 0);
	uint32_t release = arg_u32("release", 0), fill = arg_u32("fill", 0);
	uint32_t start = arg_u32("start", 0), touched = 0, spin = arg_u32("spin", 1000000);
	uint32_t wait = arg_u32("wait", 0);
	uint32_t first_gfn = free_start / PAGE_SIZE, pool;
	const uint32_t marker = 0x5a17ab1e;
	long r;

	if (!vh_present) {
		printf("balloon: vh absent (hypervisor \"%s\"): nothing to balloon\n",
		       hv_signature);
		return GUEST_PASS;
	}
	pool = (uint32_t)(mem_end / PAGE_SIZE) - first_gfn;
	if (pool > MAX_HELD)
		pool = MAX_HELD;
	/* INFO through VMCALL where vh offers it, so both forms are used. */
	r = (vh_features & VH_HC_FEAT_VMCALL)
		? hypercall_vmcall(VH_HC_INFO, (uint32_t)&info, 0, 0, 0)
		: hypercall(VH_HC_INFO, (uint32_t)&info, 0, 0, 0);
	if (r < 0) {
		printf("balloon: info failed: %d\n", (int)r);
		return GUEST_FAIL;
	}
	printf("balloon: info abi %u vm %u vcpus %u memory %u pages; features 0x%x pool %u pages\n",
	       info.abi_version, info.vm_id, info.vcpu_count, (uint32_t)info.memory_pages,
	       vh_features, pool);
	if (fill > pool)
		fill = pool;
	for (uint32_t i = 0; i < fill; i++)
		*(volatile uint32_t *)((first_gfn + i) * PAGE_SIZE) = 0xf111ed00u + i;
	if (fill)
		printf("balloon: filled %u pages\n", fill);
	for (uint32_t round = 1; round <= rounds; round++) {
		long target = hypercall(VH_HC_BALLOON_TARGET, 0, 0, 0, 0);
		volatile uint32_t *mark = NULL;

		if (target < 0) {
			printf("balloon: target failed: %d\n", (int)target);
			return GUEST_FAIL;
		}
		if ((uint32_t)target > pool)
			target = pool;
		if ((release && round >= release) || round < start)
			target = 0;
		if (touch && !touched && (uint32_t)target > nheld) {
			mark =
			    (volatile uint32_t *)((first_gfn + (uint32_t)target - 1) * PAGE_SIZE);
			*mark = marker;
		}
		while (nheld < (uint32_t)target) {
			if ((r = inflate(first_gfn, (uint32_t)target - nheld)) <= 0)
				break;
		}
		while (nheld > (uint32_t)target) {
			if ((r = deflate(nheld - (uint32_t)target)) <= 0)
				break;
		}
		if (r < 0) {
			printf("balloon: round %u: hypercall failed: %d\n", round, (int)r);
			return GUEST_FAIL;
		}
		if (mark && nheld == (uint32_t)target &&
		    held[nheld - 1] * PAGE_SIZE == (uint32_t)(uintptr_t)mark) {
			uint32_t seen = *mark;

			printf(
			    "balloon: ballooned page gfn 0x%x reads 0x%08x (marker 0x%08x before "
			    "the inflate)\n",
			    held[nheld - 1], seen, marker);
			*mark = 0x600df00d;
			nheld--; /* touched: it is the guest's again */
			touched = 1;
		}
		printf("balloon: round %u target %u held %u\n", round, (uint32_t)target, nheld);
		for (uint32_t i = 0; i < spin; i++)
			cpu_relax();
		hypercall(VH_HC_YIELD, 0, 0, 0, 0);
		while (wait && round < rounds) {
			long t = hypercall(VH_HC_BALLOON_TARGET, 0, 0, 0, 0);

			if (t < 0 || (uint32_t)(t > (long)pool ? (long)pool : t) != nheld)
				break;
			hypercall(VH_HC_YIELD, 0, 0, 0, 0);
		}
	}
	printf("balloon: done\n");
	return GUEST_PASS;
}
