/* SPDX-License-Identifier: Apache-2.0 */
#include "vh/sched.h"
#include "vh/stats.h"

/* The scheduler settles a state's time with it, and readers of published
 * counters add a state's unsettled time with it (stats_read.c). */
void vh_cpu_stats_add_state(struct vh_cpu_stats *st, int state, uint64_t d)
{
	switch (state) {
	case VH_SCHED_THROTTLED: st->limited_ns += d; /* fall through */
	case VH_SCHED_READY: st->ready_ns += d; break;
	case VH_SCHED_RUNNING: st->used_ns += d; break;
	case VH_SCHED_WAIT: st->wait_ns += d; break;
	case VH_SCHED_COSTOP: st->costop_ns += d; break;
	}
}

static const char *const exit_kind_names[VH_EXIT_KIND_COUNT] = {
	[VH_EXIT_EXTERNAL_INTERRUPT] = "external_interrupt",
	[VH_EXIT_PREEMPTION_TIMER] = "preemption_timer",
	[VH_EXIT_HLT] = "hlt",
	[VH_EXIT_IO] = "io",
	[VH_EXIT_MMIO] = "mmio",
	[VH_EXIT_CPUID] = "cpuid",
	[VH_EXIT_MSR] = "msr",
	[VH_EXIT_CR_ACCESS] = "cr_access",
	[VH_EXIT_XSETBV] = "xsetbv",
	[VH_EXIT_EPT_VIOLATION] = "ept_violation",
	[VH_EXIT_HYPERCALL] = "hypercall",
	[VH_EXIT_EXCEPTION] = "exception",
	[VH_EXIT_TRIPLE_FAULT] = "triple_fault",
	[VH_EXIT_OTHER] = "other",
};

const char *vh_exit_kind_name(enum vh_exit_kind kind)
{
	if ((unsigned)kind < VH_EXIT_KIND_COUNT)
		return exit_kind_names[kind];
	return "unknown";
}

static const char *const balloon_reason_names[] = {
	[VH_BALLOON_NONE] = "none",
	[VH_BALLOON_REQUEST] = "request",
	[VH_BALLOON_LIMIT] = "limit",
	[VH_BALLOON_RECLAIM] = "reclaim",
	[VH_BALLOON_RESERVATION] = "reservation",
};

const char *vh_balloon_reason_name(uint32_t reason)
{
	if (reason < sizeof(balloon_reason_names) / sizeof(balloon_reason_names[0]))
		return balloon_reason_names[reason];
	return "unknown";
}
