/* SPDX-License-Identifier: Apache-2.0 */
/* The console budget of a VM: a token bucket that bounds how fast a guest
 * can push bytes into the hypervisor through its console (UART, console
 * hypercall), so that a guest printing in a loop cannot fill the host's
 * disk or starve the other VMs of the console path.  It sits where both
 * paths meet (core/console.c), so every backend enforces it.
 * hypervisor/core/console_budget.c. */
#ifndef VH_CONSOLE_H
#define VH_CONSOLE_H

#include "vh/types.h"

/* Defaults: a kernel's boot log passes whole, a flood is cut to a trickle. */
#define VH_CONSOLE_RATE_DEFAULT  (64u * 1024u)  /* bytes per second */
#define VH_CONSOLE_BURST_DEFAULT (256u * 1024u) /* bytes */
/* Limits of both, so that burst * 1e9 and the refill fit in 64 bits. */
#define VH_CONSOLE_RATE_MAX  (1ull << 30)
#define VH_CONSOLE_BURST_MAX (1ull << 32)

struct vh_console_budget {
	/* Credit in byte-nanoseconds (bytes * 1e9): refills of a few
	 * nanoseconds add up exactly instead of rounding to nothing. */
	uint64_t credit;
	uint64_t refilled_ns; /* when credit was last brought up to date */
	bool primed;          /* false until the first byte: then a full burst */
};

/* Of n bytes offered at time now, how many the budget admits (a prefix of
 * them); takes their credit.  rate in bytes/s (1..VH_CONSOLE_RATE_MAX),
 * burst in bytes (1..VH_CONSOLE_BURST_MAX). */
size_t vh_console_budget_take(struct vh_console_budget *b, uint64_t rate, uint64_t burst,
			      uint64_t now, size_t n);

#endif
