/* SPDX-License-Identifier: Apache-2.0 */
/* Exit-cost benchmark: how many TSC ticks one VM-exit round trip costs,
 * for CPUID, I/O writes and a VMCALL.  Each kind runs a timed loop of
 * `iters` exiting instructions and the same loop with a NOP in their
 * place; the difference divided by `iters` is the cost of one round trip.
 * In Bochs (clock: sync=none) the TSC ticks once per instruction and the
 * VM exit itself is none, so the figure is the hypervisor's instruction
 * count from the first one after the exit to the VMRESUME, both
 * included (bench/baremetal/exit_cost.sh).  The loops interleave, `rounds`
 * times, and the median is reported: a round that a housekeeping exit or
 * the end of a quantum lands in stands out and is ignored.
 *
 * The exits measured (the common path of each):
 *   cpuid   CPUID leaf 0x40000000 (vh's signature: answered by vh itself,
 *           no host CPUID)
 *   io      OUT to COM1's scratch register (0x3ff): the port lookup and
 *           the UART model, the device every guest talks to
 *   io80    OUT to port 0x80, where no device answers (the POST-code port
 *           kernels write for an I/O delay): the port lookup alone
 *   vmcall  VMCALL VH_HC_BALLOON_TARGET, what a balloon driver polls: the
 *           core's hypercall dispatch, no guest memory touched
 * Command line: iters=N (default 200), rounds=R (default 15, at most 63),
 * trace=1: first one exit of each kind between Bochs magic breakpoints
 * (XCHG BX,BX), for bench/baremetal/exit_trace.sh to record every
 * hypervisor instruction of a round trip (under anything but Bochs' debugger
 * a magic breakpoint is a plain XCHG).
 * Output: "exitbench: KIND median M min A max B ..." per kind, then
 * "exitbench: result KIND M" lines for scripts; exits GUEST_PASS.  RDTSC
 * must not exit (it would be timed with the hypervisor in it): under vh a
 * back-to-back pair above RDTSC_MAX ticks fails the guest.  Without vh
 * (QEMU) there is no VMCALL, and the figures are wall-clock ticks. */
#include "lib/runtime.h"

const char guest_name[] = "exitbench";

#define MAX_ROUNDS 63u
#define RDTSC_MAX 20u
#define COM1_SCR 0x3ff
#define POST_PORT 0x80

enum kind { K_CPUID, K_IO, K_IO80, K_VMCALL, K_COUNT };

static const char *const kind_name[K_COUNT] = { "cpuid", "io", "io80", "vmcall" };

/* One timed loop as a single asm block, so the exiting loop and its
 * baseline differ in exactly one instruction: RDTSC, n times BODY (which
 * loads the immediate `v` and has the exiting instruction or a NOP),
 * RDTSC.  32-bit deltas: a round is far below 2^32 ticks. */
#define TIMED(body, val)                                                              \
	({                                                                            \
		uint32_t t_, n_ = n;                                                  \
		__asm__ volatile("rdtsc; movl %%eax, %%edi\n"                         \
				 "1: " body "\n"                                      \
				 "decl %%esi; jnz 1b\n"                               \
				 "rdtsc; subl %%edi, %%eax"                           \
				 : "=&a"(t_), "+S"(n_)                                \
				 : [v] "i"(val)                                       \
				 : "ebx", "ecx", "edx", "edi", "memory", "cc");       \
		t_;                                                                   \
	})

#define CPUID_BODY(insn) "movl %[v], %%eax; xorl %%ecx, %%ecx; " insn
#define IO_BODY(insn) "movb $0x5a, %%al; movw %[v], %%dx; " insn
#define VMCALL_BODY(insn) "movl %[v], %%eax; " insn

/* Ticks for n iterations of the loop of kind k, with the exit or with a
 * NOP in its place. */
static uint32_t timed_loop(enum kind k, uint32_t n, bool exiting)
{
	switch (k) {
	case K_CPUID:
		return exiting ? TIMED(CPUID_BODY("cpuid"), VH_CPUID_BASE)
			       : TIMED(CPUID_BODY("nop"), VH_CPUID_BASE);
	case K_IO:
		return exiting ? TIMED(IO_BODY("outb %%al, %%dx"), COM1_SCR)
			       : TIMED(IO_BODY("nop"), COM1_SCR);
	case K_IO80:
		return exiting ? TIMED(IO_BODY("outb %%al, %%dx"), POST_PORT)
			       : TIMED(IO_BODY("nop"), POST_PORT);
	case K_VMCALL:
		return exiting ? TIMED(VMCALL_BODY("vmcall"), VH_HC_BALLOON_TARGET)
			       : TIMED(VMCALL_BODY("nop"), VH_HC_BALLOON_TARGET);
	default:
		return 0;
	}
}

static uint32_t rdtsc_pair(void)
{
	uint32_t a, b;

	__asm__ volatile("rdtsc; movl %%eax, %%ecx; rdtsc" : "=a"(b), "=c"(a) : : "edx");
	return b - a;
}

/* One exit of each kind, fenced by magic breakpoints, in the order of
 * kind_name[]: the debugger traces from one to the next. */
static void trace_once(void)
{
	uint32_t r[4];

	__asm__ volatile("xchgw %%bx, %%bx" ::: "memory");
	cpuid(VH_CPUID_BASE, 0, r);
	__asm__ volatile("xchgw %%bx, %%bx" ::: "memory");
	outb(COM1_SCR, 0x5a);
	__asm__ volatile("xchgw %%bx, %%bx" ::: "memory");
	outb(POST_PORT, 0x5a);
	__asm__ volatile("xchgw %%bx, %%bx" ::: "memory");
	hypercall_vmcall(VH_HC_BALLOON_TARGET, 0, 0, 0, 0);
	__asm__ volatile("xchgw %%bx, %%bx" ::: "memory");
}

static void sort(uint32_t *v, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		uint32_t x = v[i], j = i;
		while (j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

unsigned guest_main(void)
{
	uint32_t iters = arg_u32("iters", 200), rounds = arg_u32("rounds", 15);
	uint32_t cost[K_COUNT][MAX_ROUNDS], base[K_COUNT][MAX_ROUNDS], median[K_COUNT] = { 0 };
	bool run[K_COUNT] = { true, true, true, (vh_features & VH_HC_FEAT_VMCALL) != 0 };
	uint32_t pair = rdtsc_pair();

	if (iters == 0)
		iters = 1;
	if (rounds == 0 || rounds > MAX_ROUNDS)
		rounds = rounds ? MAX_ROUNDS : 1;
	printf("exitbench: iters %u rounds %u, rdtsc back-to-back %u ticks\n", iters, rounds, pair);
	if (vh_present && pair > RDTSC_MAX) {
		printf("exitbench: RDTSC takes %u ticks: it exits, the figures would be wrong\n",
		       pair);
		return GUEST_FAIL;
	}
	if (vh_present &&
	    (!run[K_VMCALL] || hypercall_vmcall(VH_HC_BALLOON_TARGET, 0, 0, 0, 0) < 0)) {
		printf("exitbench: VMCALL balloon target fails under vh\n");
		return GUEST_FAIL;
	}
	if (arg_u32("trace", 0) && run[K_VMCALL])
		trace_once();
	/* The lines above are still on their way out: vh feeds its serial
	 * console from a ring between guest instructions, and a timed round
	 * must not pay for that.  About 3 million instructions let it drain. */
	for (uint32_t i = 0; i < 1000000; i++)
		cpu_relax();
	for (uint32_t r = 0; r < rounds; r++) {
		for (int k = 0; k < K_COUNT; k++) {
			if (!run[k])
				continue;
			uint32_t e = timed_loop((enum kind)k, iters, true);
			uint32_t b = timed_loop((enum kind)k, iters, false);
			/* A baseline that an exit landed in can exceed its
			 * pair: count that round as free, it sorts first. */
			cost[k][r] = e > b ? (e - b + iters / 2) / iters : 0;
			base[k][r] = (b + iters / 2) / iters;
		}
	}
	for (int k = 0; k < K_COUNT; k++) {
		if (!run[k])
			continue;
		sort(cost[k], rounds);
		sort(base[k], rounds);
		median[k] = cost[k][rounds / 2];
		printf("exitbench: %s median %u min %u max %u ticks per round trip "
		       "(%u rounds of %u; the loop without exits: %u ticks an iteration)\n",
		       kind_name[k], median[k], cost[k][0], cost[k][rounds - 1], rounds, iters,
		       base[k][rounds / 2]);
	}
	for (int k = 0; k < K_COUNT; k++)
		if (run[k])
			printf("exitbench: result %s %u\n", kind_name[k], median[k]);
	return GUEST_PASS;
}
