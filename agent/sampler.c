/* SPDX-License-Identifier: Apache-2.0 */
/* See sampler.h.  The ring holds samples of one hypervisor instance
 * (vh_hv_instance) and is dropped when another is known: a restarted
 * hypervisor's ids and clock start again, so an older sample would pair
 * the wrong VMs. */
#include "agent/sampler.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/hvconn.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake;
static pthread_t thread;
static bool running, stopping;
static struct vh_sample ring[VH_SAMPLER_KEEP];
static size_t head, count; /* ring[head] is the next slot written */
static uint64_t ring_gen; /* the instance the samples are of */

struct grow {
	struct vh_sample s;
	size_t cap;
	bool oom;
};

static int add(void *ctx, const struct vh_proto_vm_stats *st)
{
	struct grow *g = ctx;

	if (g->s.n == g->cap) {
		size_t cap = g->cap ? 2 * g->cap : 16;
		struct vh_proto_vm_stats *v = realloc(g->s.vms, cap * sizeof(*v));
		if (!v) {
			g->oom = true;
			return VH_HV_STOP_BEFORE;
		}
		g->s.vms = v;
		g->cap = cap;
	}
	g->s.vms[g->s.n++] = *st;
	return 0;
}

static void clear_locked(void)
{
	for (size_t i = 0; i < VH_SAMPLER_KEEP; i++) {
		free(ring[i].vms);
		memset(&ring[i], 0, sizeof(ring[i]));
	}
	head = count = 0;
}

static void take_one(void)
{
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_api_problem p;
	struct grow g = { 0 };
	uint64_t gen = vh_hv_instance();

	/* The clock first, then the counters: what is read is no older
	 * than the time it is filed under.  Filed only when all of it is of
	 * the instance known before and after (the host record names its
	 * own). */
	if (vh_hv_host_read(&hi, &hs, NULL, 0, NULL, &p) || vh_hv_each_stats(add, &g, &p) ||
	    g.oom || gen == 0 || hi.instance != gen || vh_hv_instance() != gen) {
		free(g.s.vms);
		return;
	}
	g.s.now_ns = hs.now_ns;
	pthread_mutex_lock(&lock);
	if (gen != ring_gen) {
		clear_locked();
		ring_gen = gen;
	}
	free(ring[head].vms);
	ring[head] = g.s;
	head = (head + 1) % VH_SAMPLER_KEEP;
	if (count < VH_SAMPLER_KEEP)
		count++;
	pthread_mutex_unlock(&lock);
}

static void *sampler_main(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	pthread_mutex_lock(&lock);
	while (!stopping) {
		pthread_mutex_unlock(&lock);
		take_one();
		pthread_mutex_lock(&lock);
		ts.tv_sec += VH_SAMPLER_PERIOD_MS / 1000;
		ts.tv_nsec += (long)(VH_SAMPLER_PERIOD_MS % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!stopping && pthread_cond_timedwait(&wake, &lock, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int vh_sampler_start(void)
{
	pthread_condattr_t ca;

	if (running)
		return 0;
	stopping = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&thread, NULL, sampler_main, NULL) != 0) {
		pthread_cond_destroy(&wake);
		return -1;
	}
	running = true;
	return 0;
}

void vh_sampler_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	pthread_cond_destroy(&wake);
	pthread_mutex_lock(&lock);
	clear_locked();
	pthread_mutex_unlock(&lock);
	running = false;
}

static bool holds(const struct vh_sample *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->vms[i].id == id)
			return true;
	return !id;
}

int vh_sampler_before(uint64_t at_ns, uint64_t now_ns, uint64_t min_age_ns, uint32_t id,
		      struct vh_sample *out)
{
	const struct vh_sample *best = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&lock);
	if (ring_gen && ring_gen == vh_hv_instance()) {
		/* Oldest first: the last one at or before at_ns wins; else the
		 * oldest that is old enough. */
		for (size_t k = 0; k < count; k++) {
			const struct vh_sample *s =
			    &ring[(head + VH_SAMPLER_KEEP - count + k) % VH_SAMPLER_KEEP];
			if (!holds(s, id))
				continue;
			if (s->now_ns <= at_ns)
				best = s;
			else if (!best && s->now_ns + min_age_ns <= now_ns)
				best = s;
		}
	}
	if (best && (out->vms = malloc((best->n ? best->n : 1) * sizeof(*out->vms)))) {
		if (best->n) /* an empty sample holds no array */
			memcpy(out->vms, best->vms, best->n * sizeof(*out->vms));
		out->n = best->n;
		out->now_ns = best->now_ns;
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

struct vh_api_diag_vm *vh_sampler_pair(const struct vh_sample *a, const struct vh_hv_vm_snap *b,
				       size_t n)
{
	struct vh_api_diag_vm *v = calloc(n ? n : 1, sizeof(*v));

	for (size_t i = 0; v && i < n; i++) {
		v[i].s = b[i].s;
		v[i].b = b[i].st;
		v[i].a.id = b[i].st.id;
		v[i].a.state = b[i].st.state;
		for (size_t k = 0; k < a->n; k++)
			if (a->vms[k].id == b[i].st.id)
				v[i].a = a->vms[k];
	}
	return v;
}
