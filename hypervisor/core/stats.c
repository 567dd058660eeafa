/* SPDX-License-Identifier: Apache-2.0 */
#include "vh/stats.h"

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
