/* Balloon driver guest: asks vh for its balloon target and keeps that
 * many of its pages in the balloon, inflating and deflating through the
 * hypercalls, reporting each round.  Under a hypervisor that is not vh
 * (QEMU) it says so and passes: there is nothing to balloon.  Command line:
 *   rounds=R   target checks (default 3); between them it spins and yields
 *   touch=1    after inflating, touch one ballooned page (breaks the
 *              balloon promise on purpose: vh counts it as a balloon touch)
 *   release=R  from round R on, keep no pages in the balloon whatever the
 *              target (a driver being unloaded deflates everything)
 * Output: "balloon: info ...", "balloon: round R target T held H",
 * "balloon: done"; exits GUEST_PASS, or GUEST_FAIL on a hypercall error. */
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
	uint32_t release = arg_u32("release", 0);
	uint32_t first_gfn = free_start / PAGE_SIZE, pool;
	long r;

	if (!vh_present) {
		printf("balloon: vh absent (hypervisor \"%s\"): nothing to balloon\n", hv_signature);
		return GUEST_PASS;
	}
	pool = (uint32_t)(mem_end / PAGE_SIZE) - first_gfn;
	if (pool > MAX_HELD)
		pool = MAX_HELD;
	/* INFO through VMCALL where vh offers it, so both forms are used. */
	r = (vh_features & VH_HC_FEAT_VMCALL) ? hypercall_vmcall(VH_HC_INFO, (uint32_t)&info, 0, 0, 0)
					       : hypercall(VH_HC_INFO, (uint32_t)&info, 0, 0, 0);
	if (r < 0) {
		printf("balloon: info failed: %d\n", (int)r);
		return GUEST_FAIL;
	}
	printf("balloon: info abi %u vm %u vcpus %u memory %u pages; features 0x%x pool %u pages\n",
	       info.abi_version, info.vm_id, info.vcpu_count, (uint32_t)info.memory_pages,
	       vh_features, pool);
	for (uint32_t round = 1; round <= rounds; round++) {
		long target = hypercall(VH_HC_BALLOON_TARGET, 0, 0, 0, 0);
		if (target < 0) {
			printf("balloon: target failed: %d\n", (int)target);
			return GUEST_FAIL;
		}
		if ((uint32_t)target > pool)
			target = pool;
		if (release && round >= release)
			target = 0;
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
		printf("balloon: round %u target %u held %u\n", round, (uint32_t)target, nheld);
		if (touch && nheld) {
			printf("balloon: touching ballooned page gfn 0x%x\n", held[0]);
			*(volatile uint32_t *)(held[0] * PAGE_SIZE) = 0x600df00d;
		}
		for (uint32_t i = 0; i < 1000000; i++)
			cpu_relax();
		hypercall(VH_HC_YIELD, 0, 0, 0, 0);
	}
	printf("balloon: done\n");
	return GUEST_PASS;
}
