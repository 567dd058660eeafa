/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/events: the agent's event ring (events.h) as server-sent
 * events (text/event-stream).  Without follow: every event still held
 * after Last-Event-ID (all of them without it), then the response ends.
 * With ?follow=true: the events after Last-Event-ID (without it, only
 * those to come), streamed as they happen (follow.c), with a comment
 * line after heartbeat_s of silence so proxies keep the stream.  A
 * client that reconnects with the last id it saw misses nothing the
 * ring still holds; one that fell further behind first gets an
 * "events_lost" event naming the range. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/events.h"
#include "agent/resources.h"

#define EVENTS_TYPE "text/event-stream; charset=utf-8"

struct events_follow {
	uint64_t next;
};

static ssize_t follow_fill(void *ctx, char *buf, size_t max)
{
	struct events_follow *ef = ctx;

	return (ssize_t)vh_events_read(&ef->next, buf, max);
}

static bool follow_ready(void *ctx)
{
	struct events_follow *ef = ctx;

	return vh_events_next() > ef->next;
}

static const struct vh_follow_ops events_ops = {
	.fill = follow_fill,
	.ready = follow_ready,
	.free = free,
	.heartbeat = ": heartbeat\n\n",
};

/* Last-Event-ID: the sequence number to go on from (its successor);
 * 0 when absent.  -1 after a 422. */
static int last_event_id(struct vh_req *r, uint64_t *next)
{
	const char *v = vh_req_header(r, "Last-Event-ID");
	unsigned long long id;
	char *end;

	*next = 0;
	if (!v)
		return 0;
	errno = 0;
	id = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || id == UINT64_MAX) {
		vh_reply_fail(r, VH_API_INVALID_FIELD, "Last-Event-ID",
			      "Last-Event-ID: \"%.40s\" is not an event id (a decimal number)", v);
		return -1;
	}
	*next = id + 1;
	return 0;
}

static void sse_headers(struct vh_req *r)
{
	vh_reply_header(r, "Cache-Control", "no-store");
	vh_reply_header(r, "X-Accel-Buffering", "no"); /* nginx: pass each event on */
}

void vh_res_events(struct vh_req *r)
{
	struct events_follow *ef;
	uint64_t next;
	bool follow;
	char *buf = NULL;
	size_t used = 0, cap = 0, n;

	if (vh_req_query_bool(r, "follow", false, &follow) || last_event_id(r, &next))
		return;
	if (follow) {
		if (!(ef = calloc(1, sizeof(*ef)))) {
			vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
			return;
		}
		ef->next = next ? next : vh_events_next();
		if (vh_reply_follow(r, 200, EVENTS_TYPE, &events_ops, ef) == 0)
			sse_headers(r);
		return;
	}
	if (!next)
		next = 1;
	do {
		if (cap - used < 65536) {
			char *nb = realloc(buf, cap + 65536);

			if (!nb) {
				free(buf);
				vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
				return;
			}
			buf = nb;
			cap += 65536;
		}
		n = vh_events_read(&next, buf + used, cap - used);
		used += n;
	} while (n);
	vh_reply_raw(r, 200, EVENTS_TYPE, buf, used);
	sse_headers(r);
}
