/* Shared VM_LIST walks for listings (see vh_hv_list_get in hvconn.h).
 *
 * Rounds: a caller needs a walk that starts after it arrived.  If none is
 * running it runs one itself (and whoever arrives meanwhile waits for the
 * next); if one is running, that one started too early, so it waits for
 * the round after it, which the first of the waiters runs.  Each round's
 * snapshot is reference-counted: readers keep it while they build their
 * responses, and the last one frees it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "agent/hvconn.h"

struct snap {
	struct vh_hv_list pub;
	atomic_int refs;
	uint8_t *buf;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static uint64_t rounds_done; /* walks finished */
static bool running;         /* a walk is in progress */
static struct snap *latest;  /* the last walk's snapshot (one reference held here) */
static int latest_rc;        /* and its outcome */
static struct vh_api_problem latest_problem;

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

int vh_hv_list_get(const struct vh_hv_list **out, struct vh_api_problem *p)
{
	uint64_t need;
	struct snap *s;
	int rc;

	pthread_mutex_lock(&lock);
	/* The round that starts next is the first one that started after
	 * we arrived: the one after the running one, or a new one now. */
	need = rounds_done + (running ? 2 : 1);
	while (rounds_done < need) {
		if (running) {
			pthread_cond_wait(&done, &lock);
			continue;
		}
		running = true;
		pthread_mutex_unlock(&lock);
		s = walk(&rc, p);
		pthread_mutex_lock(&lock);
		snap_put(latest);
		latest = s;
		latest_rc = rc;
		if (rc)
			latest_problem = *p;
		running = false;
		rounds_done++;
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
