/* SPDX-License-Identifier: Apache-2.0 */
/* A per-thread cache of response texts, each kept with the bytes it is a
 * pure function of (a VM's wire summary, a VM's counters) in a slot chosen
 * by id.  Most VMs do not change between two requests, so a listing of
 * unchanged VMs becomes copies of texts made before (json-c building 100
 * objects a request was 90% of GET /v1/vms's time).  Exact: a key that
 * differs in any byte misses.  Each of libmicrohttpd's threads has its
 * own slots, so nothing is locked on the way, and a thread holds at most
 * one text per slot however many VMs come and go. */
#ifndef VH_AGENT_TEXTCACHE_H
#define VH_AGENT_TEXTCACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct vh_text_cache {
	unsigned slots;  /* texts a thread keeps, by id modulo slots */
	size_t key_size; /* bytes of the key each text is kept with */
	pthread_key_t key;
	int ready; /* the thread key exists (atomic) */
};

#define VH_TEXT_CACHE_INIT(slots_, key_size_) { .slots = (slots_), .key_size = (key_size_) }

/* The text kept for id under exactly these key bytes (key_size of them),
 * its length in *len; NULL on a miss. */
const char *vh_text_cache_get(struct vh_text_cache *c, uint32_t id, const void *key, size_t *len);

/* Keeps a copy of text (len bytes) for id and key in this thread's slot,
 * replacing what the slot held.  Returns the copy, valid until the next
 * put into the same slot on this thread; NULL without memory (the slot
 * then holds nothing). */
const char *vh_text_cache_put(struct vh_text_cache *c, uint32_t id, const void *key,
			      const char *text, size_t len);

#endif
