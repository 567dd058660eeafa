/* Idempotency keys (see idempotency.h): a chained hash table for lookup
 * and a list in insertion order for expiry, both under one mutex (the
 * work under it is a few compares and copies). */
#include "agent/idempotency.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096u

struct entry {
	struct entry *hnext;         /* bucket chain */
	struct entry *older, *newer; /* age list */
	char *id;                    /* scope "\n" key */
	uint8_t digest[32];
	time_t created;
	bool done;
	struct vh_idem_response resp;
};

struct vh_idem {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS];
	struct entry *oldest, *newest;
	size_t count, max;
	unsigned ttl;
};

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static char *make_id(const char *scope, const char *key)
{
	size_t a = strlen(scope), b = strlen(key);
	char *id = malloc(a + b + 2);

	if (id) {
		memcpy(id, scope, a);
		id[a] = '\n';
		memcpy(id + a + 1, key, b + 1);
	}
	return id;
}

struct vh_idem *vh_idem_new(size_t max_keys, unsigned ttl_s)
{
	struct vh_idem *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	t->max = max_keys ? max_keys : 1;
	t->ttl = ttl_s;
	return t;
}

static void unlink_entry(struct vh_idem *t, struct entry *e)
{
	struct entry **pp = &t->buckets[hash(e->id) % BUCKETS];

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
	t->count--;
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

/* Drops expired entries, then the oldest finished ones while over the
 * bound (an entry still running is never dropped: its owner finishes it). */
static void expire(struct vh_idem *t, time_t now)
{
	struct entry *e = t->oldest;

	while (e) {
		struct entry *next = e->newer;
		bool old = now - e->created >= (time_t)t->ttl;

		if (e->done && (old || t->count >= t->max))
			unlink_entry(t, e);
		else if (!old && t->count < t->max)
			break;
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

enum vh_idem_state vh_idem_begin(struct vh_idem *t, const char *scope, const char *key,
				 const uint8_t digest[32], time_t now, struct vh_idem_response *out)
{
	enum vh_idem_state st = VH_IDEM_NEW;
	char *id = make_id(scope, key);
	struct entry *e;

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
	} else if ((e = calloc(1, sizeof(*e)))) {
		uint64_t h = hash(id) % BUCKETS;

		e->id = id;
		memcpy(e->digest, digest, 32);
		e->created = now;
		e->hnext = t->buckets[h];
		t->buckets[h] = e;
		e->older = t->newest;
		if (t->newest)
			t->newest->newer = e;
		else
			t->oldest = e;
		t->newest = e;
		t->count++;
	} else {
		free(id);
		st = VH_IDEM_BUSY;
	}
	pthread_mutex_unlock(&t->lock);
	return st;
}

void vh_idem_finish(struct vh_idem *t, const char *scope, const char *key,
		    const struct vh_idem_response *resp, time_t now)
{
	char *id = make_id(scope, key);
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

void vh_idem_cancel(struct vh_idem *t, const char *scope, const char *key)
{
	char *id = make_id(scope, key);
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
