/* SPDX-License-Identifier: Apache-2.0 */
/* Shared VM_LIST walks for listings (see vh_hv_list_get in hvconn.h).
 *
 * A caller may use the last walk's snapshot when that walk began after
 * every change this agent had made by the time the caller arrived
 * (vh_hv_writes) and at most VH_HV_LIST_MAX_AGE_NS before it arrived.
 * Otherwise it needs a new walk: if none is running it runs one itself;
 * if one is running it waits for it and judges its outcome the same way
 * (a walk that began too early serves others, not it).  Each snapshot is
 * reference-counted: readers keep it while they build their responses,
 * and the last one frees it.  Without the window every listing under
 * load cost a hypervisor round trip shared by a few callers at most;
 * with it the hypervisor sees about one walk per window. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "agent/fsutil.h"
#include "agent/hvconn.h"

struct snap {
	struct vh_hv_list pub;
	atomic_int refs;
	uint8_t *buf;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static bool running;         /* a walk is in progress */
static bool have_latest;     /* a walk finished (its outcome is below) */
static struct snap *latest;  /* the last walk's snapshot (one reference held here) */
static int latest_rc;        /* and its outcome */
static struct vh_api_problem latest_problem;
static uint64_t latest_t0;     /* when it began (CLOCK_MONOTONIC ns) */
static uint64_t latest_writes; /* vh_hv_writes() when it began */
static atomic_uint_fast64_t n_walks, n_requests;

struct collect {
	uint8_t *buf;
	size_t n, cap;
	bool oom;
};

static int collect(void *ctx, const struct vh_hv_entry *e)
{
	struct collect *c = ctx;
	size_t sz = sizeof(struct vh_wire_vm_summary);

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 128;
		uint8_t *nb = realloc(c->buf, cap * sz);

		if (!nb) {
			c->oom = true;
			return VH_HV_STOP_AFTER;
		}
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->n * sz, e->wire, sz);
	c->n++;
	return 0;
}

static void snap_put(struct snap *s)
{
	if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
		free(s->buf);
		free(s);
	}
}

/* One walk, without the lock. */
static struct snap *walk(int *rc, struct vh_api_problem *p)
{
	struct collect c = { 0 };
	struct snap *s;

	*rc = vh_hv_each_summary(0, 0, collect, &c, NULL, p);
	if (*rc == 0 && c.oom) {
		*rc = -1;
		vh_api_fail(p, VH_API_INTERNAL, "", "out of memory listing VMs");
	}
	if (*rc != 0 || !(s = calloc(1, sizeof(*s)))) {
		if (*rc == 0) {
			*rc = -1;
			vh_api_fail(p, VH_API_INTERNAL, "", "out of memory listing VMs");
		}
		free(c.buf);
		return NULL;
	}
	s->buf = c.buf;
	s->pub.n = (uint32_t)c.n;
	s->pub.wire = c.buf;
	atomic_init(&s->refs, 1);
	return s;
}

/* Whether the last walk serves a caller that arrived at `arrived` when
 * vh_hv_writes() was `writes`. */
static bool latest_serves(uint64_t arrived, uint64_t writes)
{
	return have_latest && latest_writes >= writes &&
	       (latest_t0 >= arrived || arrived - latest_t0 <= VH_HV_LIST_MAX_AGE_NS);
}

int vh_hv_list_get(const struct vh_hv_list **out, struct vh_api_problem *p)
{
	uint64_t writes = vh_hv_writes(), arrived = vh_mono_ns();
	struct snap *s;
	int rc;

	atomic_fetch_add(&n_requests, 1);
	pthread_mutex_lock(&lock);
	while (!latest_serves(arrived, writes)) {
		uint64_t t0, w0;

		if (running) {
			pthread_cond_wait(&done, &lock);
			continue;
		}
		running = true;
		pthread_mutex_unlock(&lock);
		/* The changes counted before the walk began are in it. */
		w0 = vh_hv_writes();
		t0 = vh_mono_ns();
		s = walk(&rc, p);
		atomic_fetch_add(&n_walks, 1);
		pthread_mutex_lock(&lock);
		snap_put(latest);
		latest = s;
		latest_rc = rc;
		if (rc)
			latest_problem = *p;
		latest_t0 = t0;
		latest_writes = w0;
		have_latest = true;
		running = false;
		pthread_cond_broadcast(&done);
	}
	rc = latest_rc;
	if (rc) {
		*p = latest_problem;
		*out = NULL;
	} else {
		atomic_fetch_add(&latest->refs, 1);
		*out = &latest->pub;
	}
	pthread_mutex_unlock(&lock);
	return rc ? -1 : 0;
}

void vh_hv_list_put(const struct vh_hv_list *l)
{
	/* pub is the first member of struct snap. */
	snap_put((struct snap *)(uintptr_t)l);
}

void vh_hv_list_entry(const struct vh_hv_list *l, uint32_t i, struct vh_hv_entry *e)
{
	vh_hv_entry_of(l->wire + (size_t)i * sizeof(struct vh_wire_vm_summary), e);
}

void vh_hv_list_counters(uint64_t *walks, uint64_t *requests)
{
	*walks = atomic_load(&n_walks);
	*requests = atomic_load(&n_requests);
}
