/* SPDX-License-Identifier: Apache-2.0 */
/* The route table: method, path pattern ("/v1/vms/{vm}/power"), the
 * least role allowed, how the body is read, and the handler.  A path no
 * pattern matches is 404; a path that matches with another method is 405
 * with Allow. */
#ifndef VH_AGENT_ROUTER_H
#define VH_AGENT_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "agent/auth.h"
#include "agent/http.h"

enum vh_body_kind {
	VH_BODY_NONE,   /* a body is read and ignored */
	VH_BODY_JSON,   /* application/json, at most max_body_bytes, kept in r->body */
	VH_BODY_STREAM, /* raw bytes handed to stream_data as they come (images) */
};

struct vh_route {
	enum vh_method method;
	const char *pattern;
	enum vh_role min_role; /* VH_ROLE_NONE: no credentials needed */
	enum vh_body_kind body;
	void (*handle)(struct vh_req *r);
	/* VH_BODY_STREAM only.  begin: before the first byte (may reply to
	 * refuse); data: each chunk (non-zero: stop, the reply is set);
	 * abort: the request ended before handle (client gone, refused). */
	int (*stream_begin)(struct vh_req *r);
	int (*stream_data)(struct vh_req *r, const char *data, size_t len);
	void (*stream_abort)(struct vh_req *r);
	/* Idempotency-Key refused (400): the response holds a secret that
	 * must not be kept for a replay (POST /v1/tokens). */
	bool idem_refused;
};

enum vh_route_match { VH_ROUTE_FOUND, VH_ROUTE_NO_PATH, VH_ROUTE_NO_METHOD };

/* Finds the route for method and path, filling r->params.  On
 * VH_ROUTE_NO_METHOD, allow gets the methods the path has ("GET, PUT"). */
enum vh_route_match vh_route_find(enum vh_method m, const char *path, struct vh_req *r,
				  const struct vh_route **out, char *allow, size_t allowcap);
/* "METHOD PATTERN" lines (vhagent --routes). */
void vh_routes_print(FILE *f);

#endif
