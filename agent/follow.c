/* SPDX-License-Identifier: Apache-2.0 */
/* Streaming responses (http.h: vh_reply_follow): a console that follows
 * the guest, the event stream.  A follower never holds a pool thread:
 * when its source has nothing new, the content reader suspends the
 * connection (libmicrohttpd takes it out of its event loop) and one
 * agent thread, the followers' thread, resumes it when the source has
 * something (the source's ready(), asked every FOLLOW_TICK_NS or at once
 * after vh_follow_kick), when a heartbeat is due, or when the client
 * hung up (POLLRDHUP on its socket: a suspended connection is not read,
 * so libmicrohttpd itself would not notice).  A slow reader costs its
 * position in the source and nothing else (the sources keep no
 * per-reader buffer); the number of followers is bounded
 * (max_followers), the rest get 503.  Suspended connections must all be
 * resumed before libmicrohttpd's daemons stop: vh_follow_stop ends them. */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/config.h"
#include "agent/fsutil.h"
#include "agent/http_internal.h"

#define FOLLOW_TICK_NS 100000000ull /* how often ready() is asked */
#define FOLLOW_BLOCK   16384u       /* bytes per content-reader call */

struct vh_follow {
	const struct vh_follow_ops *ops;
	void *ctx;
	struct MHD_Connection *mhd;
	int fd;
	unsigned refs;     /* the response, and the thread while it looks at it */
	bool linked;       /* in the list (its response exists) */
	bool waiting;      /* suspended, for the thread to resume */
	bool ending;       /* end the stream at the next read */
	bool hb_due;       /* send the heartbeat at the next read */
	uint64_t quiet_ns; /* when it last sent something */
	struct vh_follow *prev, *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct vh_follow *head;
	unsigned count, max; /* followers claimed (linked or not) and the bound */
	uint64_t heartbeat_ns;
	bool kicked, stop, running;
	pthread_t thread;
} hub = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void destroy(struct vh_follow *f)
{
	if (f->ops->free)
		f->ops->free(f->ctx);
	pthread_mutex_lock(&hub.lock);
	hub.count--;
	pthread_mutex_unlock(&hub.lock);
	free(f);
}

/* Under the lock; true when f is to be destroyed (outside it). */
static bool unref(struct vh_follow *f)
{
	return --f->refs == 0;
}

int vh_reply_follow(struct vh_req *r, int status, const char *type, const struct vh_follow_ops *ops,
		    void *ctx)
{
	struct vh_follow *f = calloc(1, sizeof(*f));
	unsigned max;
	bool full;

	pthread_mutex_lock(&hub.lock);
	max = hub.max;
	full = !hub.running || hub.count >= hub.max;
	if (!full && f)
		hub.count++;
	pthread_mutex_unlock(&hub.lock);
	if (!f || full) {
		free(f);
		if (ops->free)
			ops->free(ctx);
		if (full)
			vh_reply_fail(r, VH_API_BUSY, "",
				      "every one of the %u followers this agent serves at once is "
				      "taken (max_followers)",
				      max);
		else
			vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		return -1;
	}
	f->ops = ops;
	f->ctx = ctx;
	f->refs = 1;
	f->quiet_ns = vh_mono_ns();
	vh_reply_clear(r);
	r->status = status;
	r->resp_type = type;
	r->follow = f;
	return 0;
}

void vh_follow_discard(struct vh_follow *f)
{
	if (f)
		destroy(f);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct vh_follow *f = cls;
	ssize_t n;

	(void)pos;
	/* The source is read outside the lock (it may ask the hypervisor),
	 * and before an end is honoured: what it holds goes out first (the
	 * agent's "agent_stopped" event to the event streams). */
	n = f->ops->fill(f->ctx, buf, max);
	if (n < 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n > 0) {
		f->quiet_ns = vh_mono_ns();
		return n;
	}
	pthread_mutex_lock(&hub.lock);
	if (f->ending) {
		pthread_mutex_unlock(&hub.lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (f->hb_due && f->ops->heartbeat) {
		size_t len = strlen(f->ops->heartbeat);

		f->hb_due = false;
		pthread_mutex_unlock(&hub.lock);
		if (len > max)
			len = max;
		memcpy(buf, f->ops->heartbeat, len);
		f->quiet_ns = vh_mono_ns();
		return (ssize_t)len;
	}
	f->hb_due = false;
	f->waiting = true;
	MHD_suspend_connection(f->mhd);
	pthread_mutex_unlock(&hub.lock);
	return 0;
}

/* libmicrohttpd is done with the response (sent, or the client went). */
static void response_freed(void *cls)
{
	struct vh_follow *f = cls;
	bool last;

	pthread_mutex_lock(&hub.lock);
	if (f->linked) {
		if (f->prev)
			f->prev->next = f->next;
		else
			hub.head = f->next;
		if (f->next)
			f->next->prev = f->prev;
		f->linked = false;
	}
	f->waiting = false;
	last = unref(f);
	pthread_mutex_unlock(&hub.lock);
	if (last)
		destroy(f);
}

struct MHD_Response *vh_follow_response(struct vh_req *r)
{
	struct vh_follow *f = r->follow;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct MHD_Response *resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, FOLLOW_BLOCK, reader, f, response_freed);

	if (!resp)
		return NULL; /* r->follow stays: vh_reply_clear frees it */
	r->follow = NULL;
	f->mhd = r->mhd;
	f->fd = ci ? ci->connect_fd : -1;
	pthread_mutex_lock(&hub.lock);
	f->linked = true;
	f->next = hub.head;
	if (hub.head)
		hub.head->prev = f;
	hub.head = f;
	pthread_mutex_unlock(&hub.lock);
	return resp;
}

void vh_follow_kick(void)
{
	pthread_mutex_lock(&hub.lock);
	hub.kicked = true;
	pthread_cond_signal(&hub.cond);
	pthread_mutex_unlock(&hub.lock);
}

/* The client closed its end (or the socket broke). */
static bool hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* One pass over the waiting followers.  Their sources are asked outside
 * the lock (ready() may ask the hypervisor); a reference keeps each
 * alive meanwhile. */
static void pass(void)
{
	static struct vh_follow *batch[VH_FOLLOW_MAX]; /* only the followers' thread */
	static bool wake[VH_FOLLOW_MAX], end[VH_FOLLOW_MAX], hb[VH_FOLLOW_MAX];
	unsigned n = 0;
	uint64_t now = vh_mono_ns();

	pthread_mutex_lock(&hub.lock);
	for (struct vh_follow *f = hub.head; f && n < VH_FOLLOW_MAX; f = f->next) {
		if (!f->waiting)
			continue;
		f->refs++;
		batch[n++] = f;
	}
	pthread_mutex_unlock(&hub.lock);
	for (unsigned i = 0; i < n; i++) {
		struct vh_follow *f = batch[i];

		end[i] = hung_up(f->fd);
		hb[i] = f->ops->heartbeat && now - f->quiet_ns >= hub.heartbeat_ns;
		wake[i] = !end[i] && f->ops->ready(f->ctx);
	}
	pthread_mutex_lock(&hub.lock);
	for (unsigned i = 0; i < n; i++) {
		struct vh_follow *f = batch[i];

		if (f->linked && f->waiting && (wake[i] || end[i] || hb[i])) {
			f->ending |= end[i];
			f->hb_due = hb[i];
			f->waiting = false;
			MHD_resume_connection(f->mhd);
		}
		if (!unref(f))
			batch[i] = NULL;
	}
	pthread_mutex_unlock(&hub.lock);
	for (unsigned i = 0; i < n; i++)
		if (batch[i])
			destroy(batch[i]);
}

static void *run(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&hub.lock);
	while (!hub.stop) {
		if (!hub.kicked) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += (long)FOLLOW_TICK_NS;
			if (ts.tv_nsec >= 1000000000l) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000l;
			}
			pthread_cond_timedwait(&hub.cond, &hub.lock, &ts);
		}
		if (hub.stop)
			break;
		hub.kicked = false;
		pthread_mutex_unlock(&hub.lock);
		pass();
		pthread_mutex_lock(&hub.lock);
	}
	pthread_mutex_unlock(&hub.lock);
	return NULL;
}

int vh_follow_start(unsigned max_followers, unsigned heartbeat_s)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hub.cond, &ca);
	pthread_condattr_destroy(&ca);
	hub.max = max_followers;
	hub.heartbeat_ns = (uint64_t)heartbeat_s * 1000000000ull;
	hub.stop = false;
	if (pthread_create(&hub.thread, NULL, run, NULL) != 0)
		return -1;
	hub.running = true;
	return 0;
}

void vh_follow_stop(void)
{
	if (!hub.running)
		return;
	pthread_mutex_lock(&hub.lock);
	hub.stop = true;
	hub.running = false;
	pthread_cond_signal(&hub.cond);
	/* Every stream ends; none may stay suspended when the daemons stop. */
	for (struct vh_follow *f = hub.head; f; f = f->next) {
		f->ending = true;
		if (f->waiting) {
			f->waiting = false;
			MHD_resume_connection(f->mhd);
		}
	}
	pthread_mutex_unlock(&hub.lock);
	pthread_join(hub.thread, NULL);
	pthread_cond_destroy(&hub.cond);
	/* A moment for the streams to end properly (their last chunk sent)
	 * before the daemons close every connection. */
	for (int i = 0; i < 100; i++) {
		bool left;

		pthread_mutex_lock(&hub.lock);
		left = hub.head != NULL;
		pthread_mutex_unlock(&hub.lock);
		if (!left)
			break;
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
}
