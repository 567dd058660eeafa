/* SPDX-License-Identifier: Apache-2.0 */
/* The per-thread text cache (textcache.h).  A slot holds one allocation:
 * the key's bytes, then the text with a NUL after it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/textcache.h"

struct slot {
	char *blob; /* key_size bytes of key, then the text and a NUL */
	size_t len; /* of the text */
};

struct thread_slots {
	unsigned n;
	struct slot s[];
};

static void thread_slots_free(void *v)
{
	struct thread_slots *t = v;

	for (unsigned i = 0; i < t->n; i++)
		free(t->s[i].blob);
	free(t);
}

/* The thread key is made on first use, once per cache. */
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

static bool key_ready(struct vh_text_cache *c)
{
	if (__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE))
		return true;
	pthread_mutex_lock(&create_lock);
	if (!c->ready && pthread_key_create(&c->key, thread_slots_free) == 0)
		__atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&create_lock);
	return __atomic_load_n(&c->ready, __ATOMIC_ACQUIRE);
}

static struct slot *slot_of(struct vh_text_cache *c, uint32_t id)
{
	struct thread_slots *t;

	if (!c->slots || !key_ready(c))
		return NULL;
	if (!(t = pthread_getspecific(c->key))) {
		if (!(t = calloc(1, sizeof(*t) + c->slots * sizeof(t->s[0]))))
			return NULL;
		t->n = c->slots;
		if (pthread_setspecific(c->key, t)) {
			free(t);
			return NULL;
		}
	}
	return &t->s[id % t->n];
}

const char *vh_text_cache_get(struct vh_text_cache *c, uint32_t id, const void *key, size_t *len)
{
	struct slot *s = slot_of(c, id);

	if (!s || !s->blob || memcmp(s->blob, key, c->key_size))
		return NULL;
	*len = s->len;
	return s->blob + c->key_size;
}

const char *vh_text_cache_put(struct vh_text_cache *c, uint32_t id, const void *key,
			      const char *text, size_t len)
{
	struct slot *s = slot_of(c, id);
	char *blob;

	if (!s)
		return NULL;
	free(s->blob);
	s->blob = NULL;
	if (len > SIZE_MAX - c->key_size - 1 || !(blob = malloc(c->key_size + len + 1)))
		return NULL;
	memcpy(blob, key, c->key_size);
	memcpy(blob + c->key_size, text, len);
	blob[c->key_size + len] = '\0';
	s->blob = blob;
	s->len = len;
	return blob + c->key_size;
}
