/* SPDX-License-Identifier: Apache-2.0 */
/* The console token bucket (vh/console.h).  Credit is kept in
 * byte-nanoseconds: a refill is elapsed_ns * rate with no division, so a
 * guest writing a byte every few nanoseconds still earns its rate exactly,
 * and a byte costs 1e9.  The caps keep every product below 2^63. */
#include "vh/console.h"
#include "vh/types.h"

size_t vh_console_budget_take(struct vh_console_budget *b, uint64_t rate, uint64_t burst,
			      uint64_t now, size_t n)
{
	uint64_t cap = burst * VH_NSEC_PER_SEC, elapsed, avail;

	if (!b->primed || b->credit > cap) {
		b->credit = cap;
		b->refilled_ns = now;
		b->primed = true;
	}
	elapsed = now > b->refilled_ns ? now - b->refilled_ns : 0;
	b->refilled_ns = now > b->refilled_ns ? now : b->refilled_ns;
	/* elapsed > (cap - credit) / rate fills the bucket; up to that the
	 * product fits what the bucket lacks. */
	if (elapsed > (cap - b->credit) / rate)
		b->credit = cap;
	else
		b->credit += elapsed * rate;
	avail = b->credit / VH_NSEC_PER_SEC;
	if ((uint64_t)n > avail)
		n = (size_t)avail;
	b->credit -= (uint64_t)n * VH_NSEC_PER_SEC;
	return n;
}
