/* SPDX-License-Identifier: Apache-2.0 */
/* The control-protocol client (see hvconn.h): one connection per thread,
 * re-made when it breaks or belongs to a hypervisor instance that is not
 * the one the agent knows now (vh_hv_instance). */
#define _GNU_SOURCE
#include "agent/hvconn.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct hv_conn {
	int fd;
	/* The hypervisor instance this connection talks to: learnt from a
	 * HOST_INFO reply on it, else the one known when it was made (0: none
	 * known).  Never newer than the real one: a connection made after an
	 * instance was seen cannot reach an older one, which had gone before
	 * the newer answered on the same socket. */
	uint64_t instance;
	uint64_t next_id;
	uint8_t buf[VH_PROTO_MAX_MSG];
};

#define HV_TIMEOUT (-2) /* the deadline passed: 504, not 503 */

static char hv_path[108];
static unsigned hv_timeout_ms = 10000;
static pthread_key_t hv_key;
static pthread_once_t hv_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t n_calls, n_errors, n_failures, n_connects, n_breaks, n_writes;
static atomic_uint_fast64_t n_instances; /* times the known instance changed */
/* The hypervisor instance the agent knows is there now; 0: none known,
 * or the one it knew is gone. */
static _Atomic uint64_t hv_instance;

static void conn_free(void *v)
{
	struct hv_conn *c = v;

	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static void key_make(void)
{
	pthread_key_create(&hv_key, conn_free);
}

void vh_hv_init(const char *socket_path, unsigned timeout_ms)
{
	snprintf(hv_path, sizeof(hv_path), "%s", socket_path);
	if (timeout_ms)
		hv_timeout_ms = timeout_ms;
	pthread_once(&hv_once, key_make);
}

void vh_hv_counters(struct vh_hv_counters *c)
{
	c->calls = atomic_load(&n_calls);
	c->errors = atomic_load(&n_errors);
	c->failures = atomic_load(&n_failures);
	c->connects = atomic_load(&n_connects);
	vh_hv_list_counters(&c->list_walks, &c->list_requests);
}

static struct hv_conn *conn_get(void)
{
	struct hv_conn *c;

	pthread_once(&hv_once, key_make);
	c = pthread_getspecific(hv_key);
	if (!c) {
		c = malloc(sizeof(*c));
		if (!c)
			return NULL;
		c->fd = -1;
		/* Ids only need to match replies to requests on one stream;
		 * distinct per thread helps when reading the daemon's logs. */
		c->next_id = ((uint64_t)(uintptr_t)c & 0xffffffu) << 32;
		pthread_setspecific(hv_key, c);
	}
	return c;
}

/* Every close is a broken or unusable stream: the next request may find
 * the hypervisor changed (vh_hv_writes). */
static void conn_close(struct hv_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	atomic_fetch_add(&n_breaks, 1);
}

uint64_t vh_hv_instance(void)
{
	return atomic_load(&hv_instance);
}

void vh_hv_instance_seen(uint64_t instance)
{
	if (instance && atomic_exchange(&hv_instance, instance) != instance)
		atomic_fetch_add(&n_instances, 1);
}

void vh_hv_instance_gone(uint64_t instance)
{
	uint64_t was = instance;

	if (instance && atomic_compare_exchange_strong(&hv_instance, &was, 0))
		atomic_fetch_add(&n_instances, 1);
}

/* The peer hung up: the instance this connection talked to may be gone
 * (a restart).  Forgetting it makes the agent not ready until a reconcile
 * pass names the instance there now; the hypervisor closing a connection
 * for other reasons costs only that pass. */
static void conn_hung_up(struct hv_conn *c)
{
	vh_hv_instance_gone(c->instance);
	conn_close(c);
}

uint64_t vh_hv_conn_instance(void)
{
	struct hv_conn *c = pthread_getspecific(hv_key);

	return c && c->fd >= 0 ? c->instance : 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_send_timeout(int fd, int64_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* 0 connected, -1 failed, HV_TIMEOUT when the deadline passed first.  A
 * stopped hypervisor (SIGSTOP, a debugger, a stall) accepts nothing:
 * once its listen backlog is full, connect() blocks until it accepts
 * again.  SO_SNDTIMEO bounds that wait (a unix stream connect honours
 * it) and, reset to the whole timeout, every later send. */
static int conn_open(struct hv_conn *c, int64_t deadline, char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int64_t left;
	int fd;

	if (strlen(hv_path) >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "hypervisor socket path too long");
		return -1;
	}
	memcpy(sa.sun_path, hv_path, strlen(hv_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	left = deadline - now_ms();
	if (fd >= 0)
		set_send_timeout(fd, left > 0 ? left : 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno, timedout = e == EAGAIN || e == EINPROGRESS;

		if (timedout)
			snprintf(why, whylen, "%s: not accepting connections within %u ms", hv_path,
				 hv_timeout_ms);
		else
			snprintf(why, whylen, "%s: %s", hv_path, strerror(e));
		if (fd >= 0)
			close(fd);
		return timedout ? HV_TIMEOUT : -1;
	}
	set_send_timeout(fd, hv_timeout_ms);
	c->fd = fd;
	c->instance = atomic_load(&hv_instance);
	atomic_fetch_add(&n_connects, 1);
	return 0;
}

/* 0 sent; HV_TIMEOUT the peer read nothing for the whole timeout; -1
 * the peer is gone (nothing was delivered or it does not matter: the
 * stream is dead). */
static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return HV_TIMEOUT;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads one whole message into c->buf.  Returns its length, 0 when the
 * peer closed before any byte, HV_TIMEOUT when the deadline passed, -1
 * on error or garbage. */
static ssize_t recv_msg(struct hv_conn *c, int64_t deadline, char *why, size_t whylen)
{
	size_t have = 0, want = VH_PROTO_HEADER_SIZE;

	while (have < want) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;
		int pr;

		if (left <= 0) {
			snprintf(why, whylen, "no reply within %u ms", hv_timeout_ms);
			return HV_TIMEOUT;
		}
		pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue; /* the deadline check above ends it */
		n = recv(c->fd, c->buf + have, want - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && have == 0)
			return 0;
		if (n <= 0) {
			snprintf(why, whylen, "connection lost mid-reply");
			return -1;
		}
		have += (size_t)n;
		if (have == VH_PROTO_HEADER_SIZE && want == VH_PROTO_HEADER_SIZE) {
			size_t total;
			if (vh_proto_frame_len(c->buf, have, &total, NULL) != VH_OK ||
			    total > sizeof(c->buf)) {
				snprintf(why, whylen, "malformed reply header");
				return -1;
			}
			want = total;
		}
	}
	return (ssize_t)have;
}

/* Requests that only read (VH_PROTO_MSG_READ_ONLY in
 * vh/proto_messages.h): safe to send again when a reused connection died
 * without a byte of reply (we cannot tell whether it was acted on, and for
 * these it does not matter). */
static bool read_only(uint16_t type)
{
	return vh_proto_msg_has(type, VH_PROTO_MSG_READ_ONLY);
}

static int unavailable(struct vh_api_problem *p, const char *why)
{
	atomic_fetch_add(&n_failures, 1);
	return vh_api_fail(p, VH_API_UNAVAILABLE, "", "the hypervisor is unreachable: %s", why);
}

/* The stall gate.  libmicrohttpd's pool threads each serve their
 * connections one request at a time, so behind a request waiting out
 * hypervisor_timeout_ms on a stopped hypervisor the requests queued on
 * the same thread would each wait it out again: a client could wait a
 * multiple of the timeout.  Once a request times out the hypervisor is
 * marked stalled; until it answers again every request gets its 504 at
 * once, and one prober thread (started by the timeout, gone once the
 * hypervisor answers or is gone) keeps asking it HOST_INFO, so requests
 * flow again as soon as it wakes.  No client waits much longer than the
 * timeout, and none waits on a hypervisor already known not to answer. */
#define PROBE_GAP_MS 100

static atomic_int_fast64_t stalled_since_ms; /* 0: answering */
static atomic_bool prober_running;
static __thread bool is_prober;

static int call(struct vh_proto_request *req, struct vh_proto_reply *r, struct vh_api_problem *p);

static void *prober_main(void *arg)
{
	struct vh_proto_request req;
	struct vh_proto_reply r;
	struct vh_api_problem p;
	int rc;

	(void)arg;
	is_prober = true;
	do {
		struct timespec gap = { 0, PROBE_GAP_MS * 1000000L };

		vh_hv_request(&req, VH_PROTO_HOST_INFO, NULL);
		memset(&p, 0, sizeof(p));
		rc = call(&req, &r, &p);
		if (rc != 0 && p.code == VH_API_TIMEOUT)
			nanosleep(&gap, NULL);
	} while (rc != 0 && p.code == VH_API_TIMEOUT);
	/* Answered (or gone: a refused connect is quick, 503, no gate). */
	atomic_store(&stalled_since_ms, 0);
	atomic_store(&prober_running, false);
	return NULL;
}

static void stalled(void)
{
	int_fast64_t none = 0;
	bool idle = false;
	pthread_attr_t a;
	pthread_t t;

	atomic_compare_exchange_strong(&stalled_since_ms, &none, now_ms());
	if (is_prober || !atomic_compare_exchange_strong(&prober_running, &idle, true))
		return;
	if (pthread_attr_init(&a) != 0)
		goto fail;
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, prober_main, NULL) != 0) {
		pthread_attr_destroy(&a);
		goto fail;
	}
	pthread_attr_destroy(&a);
	return;
fail:
	/* No prober: leave the gate open so requests find out themselves. */
	atomic_store(&stalled_since_ms, 0);
	atomic_store(&prober_running, false);
}

/* The hypervisor is there but did not answer in time (stopped, stalled):
 * 504, and the request may still be acted on when it wakes. */
static int timed_out(struct vh_api_problem *p, const char *why)
{
	atomic_fetch_add(&n_failures, 1);
	stalled();
	return vh_api_fail(p, VH_API_TIMEOUT, "",
			   "the hypervisor did not answer in time (%s): the request may still "
			   "take effect; read the state again",
			   why);
}

/* While the gate is closed: 504 at once, the request not sent. */
static int gate_closed(struct vh_api_problem *p, int64_t since)
{
	atomic_fetch_add(&n_failures, 1);
	return vh_api_fail(p, VH_API_TIMEOUT, "",
			   "the hypervisor has not answered for %lld ms (the request was not "
			   "sent; vhagent keeps asking it): try again",
			   (long long)(now_ms() - since));
}

static int call(struct vh_proto_request *req, struct vh_proto_reply *r, struct vh_api_problem *p)
{
	struct hv_conn *c = conn_get();
	struct vh_error err = { 0 };
	char why[160] = "";
	size_t len = 0;
	uint8_t msg[4096]; /* every request fits: the largest, VM_DEFINE, is 3000 bytes */
	int64_t deadline = now_ms() + hv_timeout_ms; /* connect, send and reply together */

	int64_t since = atomic_load(&stalled_since_ms);

	memset(&r->hdr, 0, sizeof(r->hdr));
	if (since && !is_prober)
		return gate_closed(p, since);
	if (!c)
		return unavailable(p, "out of memory");
	req->request_id = ++c->next_id;
	if (c->fd >= 0 && c->instance != atomic_load(&hv_instance)) {
		/* Made under another instance than the one known now (the
		 * hypervisor restarted, or this connection predates knowing
		 * it): a connection to a gone instance would break at this
		 * request, so make a new one first.  Not a break: nothing
		 * failed. */
		close(c->fd);
		c->fd = -1;
	}
	if (vh_proto_encode_request(req, msg, sizeof(msg), &len, &err) != VH_OK)
		return vh_api_fail(p, VH_API_INTERNAL, "", "cannot encode %s: %s",
				   vh_proto_type_name(req->type), err.reason);

	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = c->fd < 0;
		ssize_t got;
		int rc;

		if (fresh && (rc = conn_open(c, deadline, why, sizeof(why))) < 0)
			return rc == HV_TIMEOUT ? timed_out(p, why) : unavailable(p, why);
		if ((rc = send_all(c->fd, msg, len)) == HV_TIMEOUT) {
			snprintf(why, sizeof(why), "the request not read within %u ms",
				 hv_timeout_ms);
			conn_close(c);
			return timed_out(p, why);
		}
		if (rc < 0) {
			/* A peer that went away makes send fail at once: the
			 * request was not read, so sending it again is safe. */
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			conn_hung_up(c);
			if (fresh)
				return unavailable(p, why);
			continue;
		}
		got = recv_msg(c, deadline, why, sizeof(why));
		if (got == 0) {
			snprintf(why, sizeof(why), "the hypervisor closed the connection");
			conn_hung_up(c);
			if (fresh || !read_only(req->type))
				return unavailable(p, why);
			continue;
		}
		if (got < 0) {
			/* Closed, so a late reply can never be read as the
			 * answer to a later request. */
			conn_close(c);
			return got == HV_TIMEOUT ? timed_out(p, why) : unavailable(p, why);
		}
		if (vh_proto_decode_reply(c->buf, (size_t)got, r, &err) != VH_OK) {
			conn_close(c);
			snprintf(why, sizeof(why), "undecodable reply: %.120s", err.reason);
			return unavailable(p, why);
		}
		if (r->hdr.request_id != req->request_id || r->hdr.type != req->type) {
			conn_close(c);
			return unavailable(p, "a reply that does not match the request");
		}
		atomic_fetch_add(&n_calls, 1);
		if (r->hdr.status == VH_OK && r->hdr.type == VH_PROTO_HOST_INFO) {
			/* The hypervisor names itself: this connection's
			 * instance exactly, and the one there now. */
			c->instance = r->u.host_info.instance;
			vh_hv_instance_seen(c->instance);
		}
		if (r->hdr.status != VH_OK) {
			atomic_fetch_add(&n_errors, 1);
			vh_api_from_proto_error(&r->u.error, p);
			return -1;
		}
		return 0;
	}
	return unavailable(p, why);
}

int vh_hv_call(struct vh_proto_request *req, struct vh_proto_reply *r, struct vh_api_problem *p)
{
	int rc = call(req, r, p);

	/* Counted once the outcome is known, whatever it was: a request that
	 * failed or could not be answered may still have changed something. */
	if (!read_only(req->type))
		atomic_fetch_add(&n_writes, 1);
	return rc;
}

uint64_t vh_hv_writes(void)
{
	return atomic_load(&n_writes) + atomic_load(&n_breaks) + atomic_load(&n_instances);
}

void vh_hv_request(struct vh_proto_request *req, uint16_t type, const struct vh_proto_vm_ref *vm)
{
	memset(req, 0, sizeof(*req));
	req->type = type;
	if (vm)
		req->vm = *vm;
}

int vh_hv_vm_get(const struct vh_proto_vm_ref *vm, struct vh_proto_vm_info *info,
		 struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply r;

	vh_hv_request(&req, VH_PROTO_VM_GET, vm);
	if (vh_hv_call(&req, &r, p))
		return -1;
	*info = r.u.vm_info;
	return 0;
}

int vh_hv_summary_by_id(uint32_t id, struct vh_proto_vm_summary *s, struct vh_api_problem *p)
{
	struct vh_proto_request req;
	struct vh_proto_reply r;

	vh_hv_request(&req, VH_PROTO_VM_LIST, NULL);
	req.u.page.start_id = id;
	req.u.page.max_entries = 1;
	if (vh_hv_call(&req, &r, p))
		return -1;
	if (r.nentries < 1 || vh_proto_reply_vm_summary(&r, 0, s) != VH_OK || s->id != id)
		return vh_api_fail(p, VH_API_NOT_FOUND, "vm", "no VM with id %u", (unsigned)id);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void vh_hv_entry_of(const uint8_t *w, struct vh_hv_entry *e)
{
	e->wire = w;
	e->id = le32(w + offsetof(struct vh_wire_vm_summary, id));
	e->state = le32(w + offsetof(struct vh_wire_vm_summary, state));
	e->name = (const char *)w + offsetof(struct vh_wire_vm_summary, name);
}

int vh_hv_entry_decode(const struct vh_hv_entry *e, struct vh_proto_vm_summary *s)
{
	/* The codec reads entries of a reply: a one-entry VM_LIST reply
	 * around this record. */
	struct vh_proto_reply r;

	r.hdr.status = VH_OK;
	r.hdr.type = VH_PROTO_VM_LIST;
	r.entries = e->wire;
	r.nentries = 1;
	return vh_proto_reply_vm_summary(&r, 0, s) == VH_OK ? 0 : -1;
}

int vh_hv_each_summary(uint32_t start_id, uint32_t max_entries, vh_hv_summary_fn fn, void *ctx,
		       uint32_t *next_id, struct vh_api_problem *p)
{
	uint32_t start = start_id;

	for (;;) {
		struct vh_proto_request req;
		struct vh_proto_reply r;

		vh_hv_request(&req, VH_PROTO_VM_LIST, NULL);
		req.u.page.start_id = start;
		req.u.page.max_entries = max_entries;
		if (vh_hv_call(&req, &r, p))
			return -1;
		for (uint32_t i = 0; i < r.nentries; i++) {
			struct vh_hv_entry e;
			int rc;

			vh_hv_entry_of(r.entries + (size_t)i * sizeof(struct vh_wire_vm_summary),
				       &e);
			rc = fn(ctx, &e);

			if (rc) {
				/* Where to go on: this VM again when fn left it
				 * (VH_HV_STOP_BEFORE), else the ids after it. */
				if (next_id)
					*next_id = rc == VH_HV_STOP_BEFORE ? e.id : e.id + 1;
				return rc;
			}
		}
		if (r.u.page.next_id == 0) {
			if (next_id)
				*next_id = 0;
			return 0;
		}
		start = r.u.page.next_id;
	}
}

int vh_hv_each_stats(vh_hv_stats_fn fn, void *ctx, struct vh_api_problem *p)
{
	uint32_t start = 0;

	for (;;) {
		struct vh_proto_request req;
		struct vh_proto_reply r;

		vh_hv_request(&req, VH_PROTO_VM_STATS_ALL, NULL);
		req.u.page.start_id = start;
		if (vh_hv_call(&req, &r, p))
			return -1;
		for (uint32_t i = 0; i < r.nentries; i++) {
			struct vh_proto_vm_stats s;
			int rc;

			if (vh_proto_reply_vm_stats(&r, i, &s) != VH_OK)
				return vh_api_fail(p, VH_API_INTERNAL, "",
						   "VM_STATS_ALL entry %u unreadable", (unsigned)i);
			if ((rc = fn(ctx, &s)))
				return rc;
		}
		if (r.u.page.next_id == 0)
			return 0;
		start = r.u.page.next_id;
	}
}
