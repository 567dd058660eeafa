/* SPDX-License-Identifier: Apache-2.0 */
/* The counters the transport keeps for /metrics: HTTP requests by
 * method and status code, and their durations as a histogram.
 * request.c counts each queued response; res_metrics.c only renders a
 * snapshot.  Lock-free (relaxed atomics): a scrape may see a request's
 * count before its duration, never a torn value. */
#ifndef VH_AGENT_METRICS_H
#define VH_AGENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/http.h"

/* The status codes counted one by one; the last slot, 0, counts the
 * others. */
#define VH_METRICS_CODES 19
extern const int vh_metrics_codes[VH_METRICS_CODES];
/* The histogram's upper bounds, in seconds (+Inf is the total). */
#define VH_METRICS_BUCKETS 12
extern const double vh_metrics_buckets[VH_METRICS_BUCKETS];

struct vh_metrics_http {
	uint64_t count[VH_M_COUNT][VH_METRICS_CODES]; /* by method and vh_metrics_codes slot */
	uint64_t bucket[VH_METRICS_BUCKETS];          /* non-cumulative: one bucket per request */
	uint64_t total;                               /* requests */
	uint64_t ns;                                  /* their durations summed */
};

/* Counts a finished request (its response queued). */
void vh_metrics_http_request(enum vh_method m, int status, uint64_t duration_ns);
/* The counters as they are now. */
void vh_metrics_http_read(struct vh_metrics_http *out);

#endif
