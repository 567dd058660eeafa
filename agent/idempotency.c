/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotency keys (see idempotency.h): a chained hash table for lookup,
 * a list of every key in insertion order for expiry, and a list per
 * caller for its bound, all under one mutex (the work under it is a few
 * compares and copies).  The bound is per caller so that one caller's
 * flood of keys evicts only its own: a retry by anyone else still finds
 * its first response. */
#include "agent/idempotency.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS        4096u
#define CALLER_BUCKETS 256u

struct caller {
	struct caller *hnext;
	struct entry *oldest, *newest; /* its keys, oldest first */
	size_t count;
	char name[];
};

struct entry {
	struct entry *hnext;             /* bucket chain */
	struct entry *older, *newer;     /* every key, by age */
	struct entry *c_older, *c_newer; /* the caller's keys, by age */
	struct caller *caller;
	char *id; /* caller "\n" scope "\n" key */
	uint8_t digest[32];
	time_t created;
	bool done;
	struct vh_idem_response resp;
};

struct vh_idem {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS];
	struct caller *callers[CALLER_BUCKETS];
	struct entry *oldest, *newest;
	size_t count, max; /* max: per caller */
	unsigned ttl;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static char *make_id(const char *caller, const char *scope, const char *key)
{
	size_t a = strlen(caller), b = strlen(scope), c = strlen(key);
	char *id = malloc(a + b + c + 3);

	if (id) {
		memcpy(id, caller, a);
		id[a] = '\n';
		memcpy(id + a + 1, scope, b);
		id[a + 1 + b] = '\n';
		memcpy(id + a + b + 2, key, c + 1);
	}
	return id;
}

struct vh_idem *vh_idem_new(size_t max_keys_per_caller, unsigned ttl_s)
{
	struct vh_idem *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->max = max_keys_per_caller ? max_keys_per_caller : 1;
	t->ttl = ttl_s;
	return t;
}

static struct caller *caller_get(struct vh_idem *t, const char *name, bool make)
{
	struct caller **pp = &t->callers[hash(name) % CALLER_BUCKETS];
	struct caller *c;
	size_t n = strlen(name);

	for (c = *pp; c; c = c->hnext)
		if (strcmp(c->name, name) == 0)
			return c;
	if (!make || !(c = calloc(1, sizeof(*c) + n + 1)))
		return NULL;
	memcpy(c->name, name, n + 1);
	c->hnext = *pp;
	*pp = c;
	return c;
}

/* A caller goes with its last key. */
static void caller_drop(struct vh_idem *t, struct caller *c)
{
	struct caller **pp = &t->callers[hash(c->name) % CALLER_BUCKETS];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	free(c);
}

static void unlink_entry(struct vh_idem *t, struct entry *e)
{
	struct entry **pp = &t->buckets[hash(e->id) % BUCKETS];
	struct caller *c = e->caller;

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	if (e->c_older)
		e->c_older->c_newer = e->c_newer;
	else
		c->oldest = e->c_newer;
	if (e->c_newer)
		e->c_newer->c_older = e->c_older;
	else
		c->newest = e->c_older;
	t->count--;
	if (--c->count == 0)
		caller_drop(t, c);
	free(e->resp.body);
	free(e->id);
	free(e);
}

void vh_idem_free(struct vh_idem *t)
{
	if (!t)
		return;
	while (t->oldest)
		unlink_entry(t, t->oldest);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static struct entry *find(struct vh_idem *t, const char *id)
{
	for (struct entry *e = t->buckets[hash(id) % BUCKETS]; e; e = e->hnext)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* Drops the expired finished entries of every caller (an entry still
 * running is never dropped: its owner finishes it). */
static void expire(struct vh_idem *t, time_t now)
{
	struct entry *e = t->oldest;

	while (e) {
		struct entry *next = e->newer;

		if (now - e->created < (time_t)t->ttl)
			break;
		if (e->done)
			unlink_entry(t, e);
		e = next;
	}
}

/* Makes room for one more key of caller c: its own oldest finished
 * entries go, nobody else's. */
static void make_room(struct vh_idem *t, struct caller *c)
{
	struct entry *e = c->oldest;

	while (e && c->count >= t->max) {
		struct entry *next = e->c_newer;

		if (e->done) {
			if (c->count == 1) {
				unlink_entry(t, e); /* frees c too */
				return;
			}
			unlink_entry(t, e);
		}
		e = next;
	}
}

static int copy_resp(struct vh_idem_response *dst, const struct vh_idem_response *src)
{
	*dst = *src;
	dst->body = NULL;
	if (src->len) {
		dst->body = malloc(src->len);
		if (!dst->body)
			return -1;
		memcpy(dst->body, src->body, src->len);
	}
	return 0;
}

static void link_entry(struct vh_idem *t, struct caller *c, struct entry *e)
{
	uint64_t h = hash(e->id) % BUCKETS;

	e->caller = c;
	e->hnext = t->buckets[h];
	t->buckets[h] = e;
	e->older = t->newest;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
	e->c_older = c->newest;
	if (c->newest)
		c->newest->c_newer = e;
	else
		c->oldest = e;
	c->newest = e;
	t->count++;
	c->count++;
}

enum vh_idem_state vh_idem_begin(struct vh_idem *t, const char *caller, const char *scope,
				 const char *key, const uint8_t digest[32], time_t now,
				 struct vh_idem_response *out)
{
	enum vh_idem_state st = VH_IDEM_NEW;
	char *id = make_id(caller, scope, key);
	struct entry *e;
	struct caller *c;

	if (!id)
		return VH_IDEM_BUSY;
	pthread_mutex_lock(&t->lock);
	expire(t, now);
	e = find(t, id);
	if (e) {
		if (memcmp(e->digest, digest, 32) != 0)
			st = VH_IDEM_MISMATCH;
		else if (!e->done)
			st = VH_IDEM_BUSY;
		else if (copy_resp(out, &e->resp) == 0)
			st = VH_IDEM_REPLAY;
		else
			st = VH_IDEM_BUSY;
		free(id);
	} else {
		if ((c = caller_get(t, caller, false)))
			make_room(t, c);
		c = caller_get(t, caller, true);
		e = c ? calloc(1, sizeof(*e)) : NULL;
		if (e) {
			e->id = id;
			memcpy(e->digest, digest, 32);
			e->created = now;
			link_entry(t, c, e);
		} else {
			if (c && c->count == 0)
				caller_drop(t, c);
			free(id);
			st = VH_IDEM_BUSY;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return st;
}

void vh_idem_finish(struct vh_idem *t, const char *caller, const char *scope, const char *key,
		    const struct vh_idem_response *resp, time_t now)
{
	char *id = make_id(caller, scope, key);
	struct entry *e;

	if (!id)
		return;
	pthread_mutex_lock(&t->lock);
	e = find(t, id);
	if (e && !e->done) {
		if (copy_resp(&e->resp, resp) == 0) {
			e->done = true;
			e->created = now;
		} else {
			unlink_entry(t, e);
		}
	}
	pthread_mutex_unlock(&t->lock);
	free(id);
}

void vh_idem_cancel(struct vh_idem *t, const char *caller, const char *scope, const char *key)
{
	char *id = make_id(caller, scope, key);
	struct entry *e;

	if (!id)
		return;
	pthread_mutex_lock(&t->lock);
	e = find(t, id);
	if (e && !e->done)
		unlink_entry(t, e);
	pthread_mutex_unlock(&t->lock);
	free(id);
}

size_t vh_idem_count(struct vh_idem *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = t->count;
	pthread_mutex_unlock(&t->lock);
	return n;
}
