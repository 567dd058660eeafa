/* SPDX-License-Identifier: Apache-2.0 */
/* The request cycle on libmicrohttpd (http_internal.h), and the request
 * data handlers read (http.h).
 *
 * A request goes: first call (headers): route, credentials, body limits
 * and media type; body calls: bytes kept (JSON) or streamed (images);
 * last call: the handler runs and the response is queued.  Responses are
 * queued on that last call, never the first, because libmicrohttpd
 * 0.9.75 closes the connection after a response queued on the first
 * call (no keep-alive: 4-5x slower); only a refusal of a body far over
 * the limit, of unknown length, or from a client without credentials is
 * queued at once, with "Connection: close" (the connection then closes,
 * which is what we want for such an upload; see drain_first). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/fsutil.h"
#include "agent/http_internal.h"
#include "agent/media.h"
#include "agent/metrics.h"
#include "agent/router.h"
#include "agent/sd.h"

/* Body buffers up to this size stay with the connection for the next
 * request on it; larger ones are freed after their request. */
#define BODY_KEEP 16384u
/* A refused body read this far past its limit is still read to its end
 * (to answer it), but the answer then closes the connection. */
#define DISCARD_SLACK (1024u * 1024u)

/* ---- request data ---------------------------------------------------------- */

const char *vh_req_query(struct vh_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->mhd, MHD_GET_ARGUMENT_KIND, key);
}

const char *vh_req_header(struct vh_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->mhd, MHD_HEADER_KIND, name);
}

int vh_req_query_bool(struct vh_req *r, const char *name, bool def, bool *out)
{
	const char *v = vh_req_query(r, name);

	if (!v) {
		*out = def;
		return 0;
	}
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0') {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = false;
		return 0;
	}
	vh_reply_fail(r, VH_API_INVALID_FIELD, name, "%s: expected true or false, got \"%.40s\"",
		      name, v);
	return -1;
}

struct json_object *vh_req_json(struct vh_req *r)
{
	struct vh_api_problem p = { 0 };
	struct json_object *obj = NULL;

	if (r->body_len == 0) {
		vh_reply_fail(r, VH_API_BAD_JSON, "", "a JSON body is required");
		return NULL;
	}
	if (vh_api_parse(r->body, r->body_len, &obj, &p) != 0) {
		vh_reply_problem(r, &p);
		return NULL;
	}
	return obj;
}

/* ---- the request cycle --------------------------------------------------- */

static enum vh_method method_of(const char *m)
{
	static const struct {
		const char *name;
		enum vh_method m;
	} t[] = { { "GET", VH_M_GET }, { "HEAD", VH_M_HEAD },   { "POST", VH_M_POST },
		  { "PUT", VH_M_PUT }, { "PATCH", VH_M_PATCH }, { "DELETE", VH_M_DELETE } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(m, t[i].name) == 0)
			return t[i].m;
	return VH_M_OTHER;
}

/* Whether a body follows the headers (Content-Length > 0 or chunked). */
static bool has_body(struct vh_req *r, uint64_t *declared, bool *known)
{
	const char *cl = vh_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = vh_req_header(r, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	*known = false;
	*declared = 0;
	if (cl) {
		char *end;
		errno = 0;
		*declared = strtoull(cl, &end, 10);
		*known = errno == 0 && end != cl;
		return *declared > 0;
	}
	return te != NULL;
}

static void req_reset(struct vh_req *r, struct MHD_Connection *mc)
{
	char *body = r->body;
	size_t cap = r->body_cap;

	if (body && cap > BODY_KEEP) {
		free(body);
		body = NULL;
		cap = 0;
	}
	vh_reply_clear(r);
	memset(r, 0, sizeof(*r));
	r->body = body;
	r->body_cap = cap;
	r->mhd = mc;
}

static int body_append(struct vh_req *r, const char *data, size_t n)
{
	return vh_buf_append(&r->body, &r->body_len, &r->body_cap, 4096, data, n);
}

/* The first call: route, credentials, limits.  Leaves r->status 0 when
 * the request may go on. */
static void begin(struct vh_conn *c, struct vh_req *r, const char *url, const char *method)
{
	char allow[64];
	const char *need;
	uint64_t declared;
	bool known;

	r->method = method_of(method);
	r->path = url;
	switch (vh_route_find(r->method, url, r, &r->route, allow, sizeof(allow))) {
	case VH_ROUTE_NO_PATH:
		vh_reply_fail(r, VH_API_NOT_FOUND, "", "no resource at %.120s", url);
		return;
	case VH_ROUTE_NO_METHOD:
		vh_reply_fail(r, VH_API_METHOD_NOT_ALLOWED, "",
			      "%.10s is not allowed on %.120s (allowed: %s)", method, url, allow);
		vh_reply_header(r, MHD_HTTP_HEADER_ALLOW, allow);
		return;
	case VH_ROUTE_FOUND: break;
	}
	if (vh_authn_request(c, r))
		return;
	if (r->route->min_role > r->role) {
		if (r->role == VH_ROLE_NONE)
			vh_reply_fail(r, VH_API_UNAUTHORIZED, "",
				      "credentials required: a Bearer token%s",
				      c->l->client_ca ? " or a client certificate" : "");
		else
			vh_reply_fail(
			    r, VH_API_FORBIDDEN, "", "%s %.100s needs the %s role; %s has %s",
			    vh_method_name(r->method), r->route->pattern,
			    vh_role_name(r->route->min_role), r->principal, vh_role_name(r->role));
		return;
	}
	if ((need = vh_media_required(r->method, r->route->body,
				      vh_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE)))) {
		vh_reply_fail(r, VH_API_UNSUPPORTED_MEDIA, "Content-Type",
			      "%s %.100s needs Content-Type: %s, with or without a body (a type no "
			      "browser sends cross-site without a CORS preflight)",
			      vh_method_name(r->method), r->route->pattern, need);
		return;
	}
	if (r->route->body == VH_BODY_JSON) {
		uint64_t max = atomic_load(&vh_agent->max_body_bytes);

		if (has_body(r, &declared, &known) && known && declared > max) {
			vh_reply_fail(r, VH_API_TOO_LARGE, "",
				      "the body (%llu bytes) is over the limit of %llu bytes",
				      (unsigned long long)declared, (unsigned long long)max);
			return;
		}
	} else if (r->route->body == VH_BODY_STREAM) {
		if (r->route->stream_begin(r) != 0 && !r->status)
			vh_reply_fail(r, VH_API_INTERNAL, "", "the upload could not start");
	}
}

static void body_chunk(struct vh_req *r, const char *data, size_t n)
{
	r->body_seen += n;
	if (r->status)
		return; /* refused already: the bytes are dropped */
	switch (r->route->body) {
	case VH_BODY_JSON:
		if (r->body_seen > atomic_load(&vh_agent->max_body_bytes)) {
			r->body_too_large = true;
			vh_reply_fail(r, VH_API_TOO_LARGE, "",
				      "the body is over the limit of %llu bytes",
				      (unsigned long long)atomic_load(&vh_agent->max_body_bytes));
			return;
		}
		if (body_append(r, data, n))
			vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory reading the body");
		return;
	case VH_BODY_STREAM:
		if (r->route->stream_data(r, data, n) != 0 && !r->status)
			vh_reply_fail(r, VH_API_INTERNAL, "", "the upload failed");
		return;
	case VH_BODY_NONE:
		if (r->body_seen > atomic_load(&vh_agent->max_body_bytes))
			vh_reply_fail(r, VH_API_TOO_LARGE, "", "this request takes no body");
		return;
	}
}

static void dispatch(struct vh_req *r)
{
	if (vh_idem_http_start(r))
		return;
	r->route->handle(r);
	if (!r->status)
		vh_reply_fail(r, VH_API_INTERNAL, "", "the handler gave no response");
	vh_idem_http_end(r);
}

static enum MHD_Result queue(struct vh_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->follow)
		resp = vh_follow_response(r);
	else
		resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (void *)"",
						       r->resp ? MHD_RESPMEM_MUST_FREE
							       : MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	r->resp = NULL; /* libmicrohttpd frees it with the response */
	if (r->resp_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
	for (int i = 0; i < r->nhdrs; i++)
		MHD_add_response_header(resp, r->hdrs[i].name, r->hdrs[i].value);
	ret = MHD_queue_response(r->mhd, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->queued = true;
	vh_metrics_http_request(r->method, r->status, vh_mono_ns() - r->t0_ns);
	if (r->status >= 500)
		vh_log(VH_LOG_WARNING, "%s %s -> %d (%s)", vh_method_name(r->method), r->path,
		       r->status, r->principal);
	return ret;
}

static uint64_t body_limit(const struct vh_req *r)
{
	return r->route && r->route->body == VH_BODY_STREAM
		   ? atomic_load(&vh_agent->max_image_bytes)
		   : atomic_load(&vh_agent->max_body_bytes);
}

/* A body refused as too large at its headers, by a client whose
 * credentials passed, that declares at most DISCARD_SLACK past the limit:
 * read and dropped, and the 413 goes out at its end.  Answering at once
 * and closing would race the client's writes: a client still sending
 * when the connection closes gets a reset (EPIPE) and may never read
 * its 413.  A body further past the limit, of unknown length, or from a
 * client without credentials is not read: its refusal goes out at once
 * (a client that sends Expect: 100-continue, as curl does past 1 MiB,
 * reads it before sending a byte). */
static bool drain_first(const struct vh_req *r, uint64_t declared, bool known)
{
	return r->status == 413 && r->route && r->role != VH_ROLE_NONE && known &&
	       declared <= body_limit(r) + DISCARD_SLACK;
}

enum MHD_Result vh_http_on_request(void *cls, struct MHD_Connection *mc, const char *url,
				   const char *method, const char *version, const char *upload_data,
				   size_t *upload_data_size, void **req_cls)
{
	struct vh_req *r = *req_cls;

	(void)cls;
	(void)version;
	if (!r) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		struct vh_conn *c = ci ? ci->socket_context : NULL;
		uint64_t declared;
		bool known;

		if (!c)
			return MHD_NO;
		vh_hdr_deadline_done(&c->hdr);
		r = &c->req;
		req_reset(r, mc);
		r->t0_ns = vh_mono_ns();
		*req_cls = r;
		begin(c, r, url, method);
		/* A refusal of a body larger than a JSON body may be (an
		 * image, an oversized or unknown-length body) goes out now
		 * and the connection closes, said in the response so that a
		 * client never sends its next request on a connection the
		 * agent is closing.  A small body is read and dropped and the
		 * refusal waits for the last call: the connection stays. */
		if (r->status && has_body(r, &declared, &known) &&
		    (!known || declared > atomic_load(&vh_agent->max_body_bytes)) &&
		    !drain_first(r, declared, known)) {
			vh_reply_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
			return queue(r);
		}
		return MHD_YES;
	}
	if (r->queued) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		body_chunk(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		/* A body refused midway (over the limit without a
		 * Content-Length, a failed upload) is read to its end and
		 * dropped, so the refusal goes out then: libmicrohttpd 0.9.75
		 * takes no response while a body is arriving, and cutting the
		 * connection would leave the client a reset instead of its
		 * 413.  Dropping keeps no memory, and only a request that
		 * passed the credential and role checks gets here (a refusal
		 * at the headers of a body of unknown or excessive length goes
		 * out at once and closes).  One that went far past the limit
		 * is answered with "Connection: close". */
		if (r->status && r->body_seen > body_limit(r) + DISCARD_SLACK)
			vh_reply_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
		return MHD_YES;
	}
	if (!r->status)
		dispatch(r);
	return queue(r);
}

void vh_http_on_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct vh_req *r = *req_cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct vh_conn *c = ci ? ci->socket_context : NULL;

	(void)cls;
	(void)toe;
	if (c) /* a keep-alive connection's next request starts its clock now */
		vh_hdr_deadline_rearm(&c->hdr);
	if (!r)
		return;
	if (r->stream && r->route && r->route->stream_abort)
		r->route->stream_abort(r);
	vh_idem_http_abandon(r);
	vh_reply_clear(r);
	*req_cls = NULL;
}

void vh_http_on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
			   enum MHD_ConnectionNotificationCode toe)
{
	struct vh_listener *l = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct vh_conn *c = calloc(1, sizeof(*c));
		if (c) {
			c->l = l;
			vh_hdr_deadline_add(&c->hdr, ci ? ci->connect_fd : -1);
		}
		*socket_context = c;
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct vh_conn *c = *socket_context;
		if (c) {
			/* Before libmicrohttpd closes the fd (it may be reused). */
			vh_hdr_deadline_remove(&c->hdr);
			vh_reply_clear(&c->req);
			free(c->req.body);
			free(c);
		}
		*socket_context = NULL;
	}
}
