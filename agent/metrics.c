/* SPDX-License-Identifier: Apache-2.0 */
/* The transport's request counters (see metrics.h). */
#include "agent/metrics.h"

#include <stdatomic.h>

/* 0: any other code. */
const int vh_metrics_codes[VH_METRICS_CODES] = {
	200, 201, 204, 304, 400, 401, 403, 404, 405, 409, 412, 413, 415, 422, 428, 431, 500, 503, 0,
};
const double vh_metrics_buckets[VH_METRICS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};

static atomic_uint_fast64_t http_count[VH_M_COUNT][VH_METRICS_CODES];
static atomic_uint_fast64_t http_bucket[VH_METRICS_BUCKETS];
static atomic_uint_fast64_t http_total, http_ns;

void vh_metrics_http_request(enum vh_method m, int status, uint64_t duration_ns)
{
	size_t c = VH_METRICS_CODES - 1;
	double s = (double)duration_ns / 1e9;

	for (size_t i = 0; i + 1 < VH_METRICS_CODES; i++)
		if (vh_metrics_codes[i] == status)
			c = i;
	if ((unsigned)m >= VH_M_COUNT)
		m = VH_M_OTHER;
	atomic_fetch_add_explicit(&http_count[m][c], 1, memory_order_relaxed);
	/* Non-cumulative here; summed when printed. */
	for (size_t b = 0; b < VH_METRICS_BUCKETS; b++) {
		if (s <= vh_metrics_buckets[b]) {
			atomic_fetch_add_explicit(&http_bucket[b], 1, memory_order_relaxed);
			break;
		}
	}
	atomic_fetch_add_explicit(&http_total, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&http_ns, duration_ns, memory_order_relaxed);
}

void vh_metrics_http_read(struct vh_metrics_http *out)
{
	for (int m = 0; m < VH_M_COUNT; m++)
		for (size_t c = 0; c < VH_METRICS_CODES; c++)
			out->count[m][c] =
			    atomic_load_explicit(&http_count[m][c], memory_order_relaxed);
	for (size_t b = 0; b < VH_METRICS_BUCKETS; b++)
		out->bucket[b] = atomic_load_explicit(&http_bucket[b], memory_order_relaxed);
	out->total = atomic_load(&http_total);
	out->ns = atomic_load(&http_ns);
}
