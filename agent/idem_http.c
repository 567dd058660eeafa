/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotency-Key on POST (http_internal.h): the HTTP side of
 * idempotency.c's store.  The key is scoped by the caller and the path
 * and bound to a digest of the body; the first response is kept for
 * replays, marked Idempotent-Replayed. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/sha.h>

#include "agent/agent.h"
#include "agent/http_internal.h"
#include "agent/idempotency.h"
#include "agent/router.h"

bool vh_idem_http_start(struct vh_req *r)
{
	const char *key = vh_req_header(r, "Idempotency-Key");
	struct vh_idem_response resp = { 0 };
	uint8_t digest[32];
	size_t n;

	if (r->method != VH_M_POST || !key)
		return false;
	if (r->route->idem_refused) {
		/* Its response holds a secret, shown once and kept nowhere, so
		 * not in the replay cache either.  A retry needs no key there:
		 * names are unique, so a repeated create gets 409. */
		vh_reply_fail(
		    r, VH_API_BAD_REQUEST, "Idempotency-Key",
		    "Idempotency-Key is not accepted on %.40s: its response holds a secret "
		    "that is never kept, so it cannot be replayed; retry without the key "
		    "(a name is unique: 409 if the first went through)",
		    r->route->pattern);
		return true;
	}
	n = strlen(key);
	if (n == 0 || n >= sizeof(r->idem_key)) {
		vh_reply_fail(r, VH_API_INVALID_FIELD, "Idempotency-Key",
			      "Idempotency-Key: 1 to %zu characters", sizeof(r->idem_key) - 1);
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (key[i] < 0x21 || key[i] > 0x7e) {
			vh_reply_fail(r, VH_API_INVALID_FIELD, "Idempotency-Key",
				      "Idempotency-Key: printable ASCII without spaces only");
			return true;
		}
	}
	snprintf(r->idem_key, sizeof(r->idem_key), "%s", key);
	snprintf(r->idem_scope, sizeof(r->idem_scope), "POST %.200s", r->path);
	SHA256((const unsigned char *)(r->body ? r->body : ""), r->body_len, digest);
	switch (vh_idem_begin(vh_agent->idem, r->principal, r->idem_scope, r->idem_key, digest,
			      time(NULL), &resp)) {
	case VH_IDEM_NEW: r->idem_owner = true; return false;
	case VH_IDEM_REPLAY:
		/* The stored type is one of ours: map it back to the static
		 * string, since resp_type is not freed. */
		vh_reply_raw(r, resp.status,
			     strcmp(resp.content_type, "application/problem+json") == 0
				 ? "application/problem+json"
			     : resp.content_type[0] ? "application/json"
						    : NULL,
			     resp.body, resp.len);
		if (resp.location[0])
			vh_reply_header(r, MHD_HTTP_HEADER_LOCATION, resp.location);
		if (resp.etag[0])
			vh_reply_header(r, MHD_HTTP_HEADER_ETAG, resp.etag);
		vh_reply_header(r, "Idempotent-Replayed", "true");
		return true;
	case VH_IDEM_MISMATCH:
		vh_reply_fail(r, VH_API_IDEMPOTENCY_MISMATCH, "Idempotency-Key",
			      "Idempotency-Key \"%.60s\" was used with a different body", key);
		return true;
	case VH_IDEM_BUSY:
		vh_reply_fail(r, VH_API_CONFLICT, "Idempotency-Key",
			      "a request with Idempotency-Key \"%.60s\" is still in progress", key);
		return true;
	}
	return false;
}

void vh_idem_http_abandon(struct vh_req *r)
{
	if (!r->idem_owner)
		return;
	vh_idem_cancel(vh_agent->idem, r->principal, r->idem_scope, r->idem_key);
	r->idem_owner = false;
}

void vh_idem_http_end(struct vh_req *r)
{
	struct vh_idem_response resp = { 0 };

	if (!r->idem_owner)
		return;
	if (r->status >= 500 || r->status == 0) {
		vh_idem_http_abandon(r);
		return;
	}
	r->idem_owner = false;
	resp.status = r->status;
	snprintf(resp.content_type, sizeof(resp.content_type), "%s",
		 r->resp_type ? r->resp_type : "");
	for (int i = 0; i < r->nhdrs; i++) {
		if (strcasecmp(r->hdrs[i].name, MHD_HTTP_HEADER_LOCATION) == 0)
			snprintf(resp.location, sizeof(resp.location), "%s", r->hdrs[i].value);
		else if (strcasecmp(r->hdrs[i].name, MHD_HTTP_HEADER_ETAG) == 0)
			snprintf(resp.etag, sizeof(resp.etag), "%s", r->hdrs[i].value);
	}
	resp.body = r->resp;
	resp.len = r->resp_len;
	vh_idem_finish(vh_agent->idem, r->principal, r->idem_scope, r->idem_key, &resp, time(NULL));
}
