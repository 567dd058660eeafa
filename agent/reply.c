/* SPDX-License-Identifier: Apache-2.0 */
/* The responses handlers build (http.h): one per request, replacing any
 * earlier one, held in struct vh_req until request.c queues it. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/events.h"
#include "agent/http_internal.h"
#include "agent/router.h"

void vh_reply_clear(struct vh_req *r)
{
	free(r->resp);
	r->resp = NULL;
	vh_follow_discard(r->follow);
	r->follow = NULL;
	r->resp_len = 0;
	r->resp_type = NULL;
	r->nhdrs = 0;
	r->status = 0;
}

void vh_reply_raw(struct vh_req *r, int status, const char *type, char *buf, size_t len)
{
	vh_reply_clear(r);
	r->status = status;
	r->resp_type = type;
	r->resp = buf;
	r->resp_len = len;
}

void vh_reply_json(struct vh_req *r, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *s;
	char *copy;

	if (!obj) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory building the response");
		return;
	}
	s = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	copy = s ? malloc(len + 1) : NULL;
	if (!copy) {
		json_object_put(obj);
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory building the response");
		return;
	}
	memcpy(copy, s, len);
	copy[len] = '\n';
	json_object_put(obj);
	vh_reply_raw(r, status, "application/json", copy, len + 1);
}

void vh_reply_empty(struct vh_req *r, int status)
{
	vh_reply_raw(r, status, NULL, NULL, 0);
}

void vh_reply_header(struct vh_req *r, const char *name, const char *value)
{
	for (int i = 0; i < r->nhdrs; i++) {
		if (strcasecmp(r->hdrs[i].name, name) == 0) {
			snprintf(r->hdrs[i].value, sizeof(r->hdrs[i].value), "%s", value);
			return;
		}
	}
	if (r->nhdrs < VH_REQ_HEADERS) {
		snprintf(r->hdrs[r->nhdrs].name, sizeof(r->hdrs[0].name), "%s", name);
		snprintf(r->hdrs[r->nhdrs].value, sizeof(r->hdrs[0].value), "%s", value);
		r->nhdrs++;
	}
}

/* A refusal by admission control is an event (events.h): the operator
 * watching the stream sees what was refused and the shortfall. */
static void admission_event(struct vh_req *r, const struct vh_api_problem *p)
{
	struct json_object *o = json_object_new_object();
	bool has_vm = r->route && strstr(r->route->pattern, "{vm}");

	json_object_object_add(o, "request",
			       json_object_new_string(r->route ? r->route->pattern : ""));
	json_object_object_add(o, "method", json_object_new_string(vh_method_name(r->method)));
	json_object_object_add(o, "detail", json_object_new_string(p->detail));
	json_object_object_add(o, "principal", json_object_new_string(r->principal));
	vh_events_publish("admission_refused", has_vm ? r->params[0] : NULL, NULL, o);
}

void vh_reply_problem(struct vh_req *r, const struct vh_api_problem *p)
{
	const char *path = r->path ? r->path : "";
	char *s = vh_api_problem_json(p, path);
	int status = vh_api_http_status(p->code);

	if (!s) {
		static const char oom[] = "{\"status\":500,\"code\":\"internal\"}\n";
		s = strdup(oom);
		status = 500;
	}
	vh_reply_raw(r, status, "application/problem+json", s, s ? strlen(s) : 0);
	if (p->code == VH_API_UNAUTHORIZED)
		vh_reply_header(r, "WWW-Authenticate", "Bearer realm=\"vh\"");
	if (p->code == VH_API_ADMISSION)
		admission_event(r, p);
	/* Transient: the hypervisor restarting, a reconcile pass due. */
	if (p->code == VH_API_UNAVAILABLE || p->code == VH_API_BUSY)
		vh_reply_header(r, "Retry-After", "1");
}

void vh_reply_fail(struct vh_req *r, enum vh_api_code code, const char *field, const char *fmt, ...)
{
	struct vh_api_problem p = { .code = code };
	va_list ap;

	snprintf(p.field, sizeof(p.field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(p.detail, sizeof(p.detail), fmt, ap);
	va_end(ap);
	vh_reply_problem(r, &p);
}
