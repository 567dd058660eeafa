/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotency-Key for POST: the first response to a key is kept (in
 * memory, 24 hours) and replayed to a retry with the same key and the
 * same body; the same key with another body is refused (422), and a
 * retry while the first is still running gets 409.  A key is scoped by
 * who sent it (the caller: the request's principal) and where (method
 * and path), so two clients cannot see each other's responses.  The
 * number of keys is bounded per caller: a caller's new key evicts that
 * caller's oldest finished one, never another caller's. */
#ifndef VH_AGENT_IDEMPOTENCY_H
#define VH_AGENT_IDEMPOTENCY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct vh_idem;

struct vh_idem_response {
	int status;
	char content_type[48];
	char location[160];
	char etag[32];
	char *body; /* malloc'd */
	size_t len;
};

enum vh_idem_state {
	VH_IDEM_NEW,      /* first use: the caller must call _finish or _cancel */
	VH_IDEM_REPLAY,   /* *out holds a copy of the first response (free out->body) */
	VH_IDEM_MISMATCH, /* the key was used with another body */
	VH_IDEM_BUSY,     /* the first request with this key is still running */
};

struct vh_idem *vh_idem_new(size_t max_keys_per_caller, unsigned ttl_s);
void vh_idem_free(struct vh_idem *t);

/* now is the caller's clock (seconds), so tests can age entries. */
enum vh_idem_state vh_idem_begin(struct vh_idem *t, const char *caller, const char *scope,
				 const char *key, const uint8_t digest[32], time_t now,
				 struct vh_idem_response *out);
/* Keeps a copy of resp for the key begun with VH_IDEM_NEW. */
void vh_idem_finish(struct vh_idem *t, const char *caller, const char *scope, const char *key,
		    const struct vh_idem_response *resp, time_t now);
/* Forgets a key begun with VH_IDEM_NEW (the request failed in a way a
 * retry should repeat: 5xx). */
void vh_idem_cancel(struct vh_idem *t, const char *caller, const char *scope, const char *key);
/* Keys of every caller together. */
size_t vh_idem_count(struct vh_idem *t);

#endif
