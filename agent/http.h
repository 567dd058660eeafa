/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP side of vhagent (libmicrohttpd): the listeners (unix socket,
 * HTTPS, optional loopback HTTP; listen.c), who a request comes from
 * (authn.c), its body and the request cycle (request.c), Idempotency-Key
 * (idem_http.c), and the response a handler builds (reply.c); how they
 * fit: http_internal.h.  Handlers (res_*.c) see only struct vh_req and
 * the vh_req_* and vh_reply_* calls below. */
#ifndef VH_AGENT_HTTP_H
#define VH_AGENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "agent/auth.h"
#include "api/vh_api.h"

enum vh_method {
	VH_M_GET,
	VH_M_HEAD,
	VH_M_POST,
	VH_M_PUT,
	VH_M_PATCH,
	VH_M_DELETE,
	VH_M_OTHER,
	VH_M_COUNT
};
const char *vh_method_name(enum vh_method m);

#define VH_REQ_PARAMS    2
#define VH_REQ_PARAM_MAX 128
#define VH_REQ_HEADERS   4

struct vh_route;
struct MHD_Connection;

struct vh_req {
	struct MHD_Connection *mhd;
	const char *path; /* as libmicrohttpd decoded it; lives as long as the request */
	enum vh_method method;
	const struct vh_route *route;
	char params[VH_REQ_PARAMS][VH_REQ_PARAM_MAX]; /* path parameters, in pattern order */
	enum vh_role role;
	char principal[80]; /* "uid:0", "token:1a2b3c4d", "cert:CN" (logs, idempotency scope) */
	uint64_t t0_ns;

	/* The request body (JSON routes), NUL-terminated. */
	char *body;
	size_t body_len, body_cap;
	uint64_t body_seen; /* bytes received, kept or not */
	bool body_too_large;
	void *stream;             /* a streaming route's state (images) */
	struct vh_follow *follow; /* a streamed response (vh_reply_follow), until queued */

	/* Idempotency-Key handling (POST). */
	bool idem_owner;
	char idem_scope[240];
	char idem_key[256];

	/* The response. */
	int status;  /* 0 until a handler replied */
	bool queued; /* handed to libmicrohttpd */
	char *resp;  /* malloc'd */
	size_t resp_len;
	const char *resp_type;
	int nhdrs;
	struct {
		char name[24];
		char value[200];
	} hdrs[VH_REQ_HEADERS];
};

/* Request data. */
const char *vh_req_query(struct vh_req *r, const char *key);   /* NULL when absent */
const char *vh_req_header(struct vh_req *r, const char *name); /* NULL when absent */
/* The body as one strict JSON value (vh_api_parse).  NULL after a
 * problem reply (400 malformed or empty). */
struct json_object *vh_req_json(struct vh_req *r);
/* ?name=true|false (absent: def); a bad value replies 400 and returns -1. */
int vh_req_query_bool(struct vh_req *r, const char *name, bool def, bool *out);

/* Responses.  Each replaces a previous one. */
void vh_reply_json(struct vh_req *r, int status, struct json_object *obj); /* takes obj */
void vh_reply_raw(struct vh_req *r, int status, const char *type, char *buf,
		  size_t len); /* takes buf */
void vh_reply_empty(struct vh_req *r, int status);
void vh_reply_problem(struct vh_req *r, const struct vh_api_problem *p);
void vh_reply_fail(struct vh_req *r, enum vh_api_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void vh_reply_header(struct vh_req *r, const char *name, const char *value);

/* A streamed response (follow.c): the body comes from a source as it
 * grows (a console, the event stream), chunked, until the source ends,
 * the client goes or the agent stops.  No pool thread waits for it: a
 * follower with nothing to send is suspended until its source is ready. */
struct vh_follow_ops {
	/* The next bytes: > 0 written to buf, 0 nothing yet, -1 the end.
	 * Runs on a pool thread, never while ready() runs. */
	ssize_t (*fill)(void *ctx, char *buf, size_t max);
	/* Whether fill has something (or the end) now: asked by the
	 * followers' thread about a waiting follower every 100 ms and after
	 * vh_follow_kick; may ask the hypervisor. */
	bool (*ready)(void *ctx);
	void (*free)(void *ctx); /* the stream is over */
	/* Sent after heartbeat_s of silence (an SSE comment) so that proxies
	 * keep an idle stream; NULL: none. */
	const char *heartbeat;
};
/* Replies status with a streamed body of this Content-Type; takes ctx
 * (freed by ops->free in every case).  -1 after a 503 when every
 * follower slot (max_followers) is taken. */
int vh_reply_follow(struct vh_req *r, int status, const char *type, const struct vh_follow_ops *ops,
		    void *ctx);
/* Something new for the followers: they are asked at once, not at the
 * next tick. */
void vh_follow_kick(void);

/* The listeners.  Starts every listener the configuration asks for
 * (socket-activated fds first); 0 or -1 with err set. */
struct vh_agent_config;
int vh_http_start(const struct vh_agent_config *cfg, char *err, size_t errlen);
void vh_http_stop(void);

#endif
