/* SPDX-License-Identifier: Apache-2.0 */
/* The hypervisor's published counters (vh/stats_pub.h, docs/protocol.md
 * "Published counters"), mapped read-only: see hvconn.h.
 *
 * One watcher thread holds a connection of its own to the hypervisor: it
 * sends STATS_MAP, takes the sealed memfd that comes with the reply, maps
 * it read-only and offers the mapping; then it waits on that connection,
 * which ends when the hypervisor does (a restart: the old mapping is
 * withdrawn and the new hypervisor's mapped).  Before the hypervisor is
 * there, or while it is gone, it tries again every RETRY_MS.  It tells
 * the rest of the agent which hypervisor instance is there
 * (vh_hv_instance): the mapped one's, and none the moment it hangs up, so
 * a restart is known without a request having to break on it.
 *
 * Readers borrow the mapping under a read lock (never held across a
 * protocol call) and refuse it when it is closed or its heartbeat is
 * older than STALE_NS (a stopped hypervisor: the protocol then says what
 * it says, a 504).  The watcher swaps mappings under the write lock and
 * unmaps the old one after. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent/hvconn.h"
#include "vh/stats_pub.h"

#define RETRY_MS 200
#define STALE_NS (200 * 1000000ull)
/* Without these the area could shrink under a reader (SIGBUS) or be
 * written by another holder of the descriptor. */
#define NEED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE)

static char shm_sock[108];
static pthread_rwlock_t shm_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct vh_pub_view shm_view; /* hdr NULL: none */
static pthread_t shm_thread;
static bool shm_started;
static int shm_stop_pipe[2] = { -1, -1 };
static atomic_uint_fast64_t n_maps, n_reads, n_fallbacks, n_retries;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int connect_hv(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, shm_sock, sizeof(shm_sock));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Waits up to ms for fd to be readable (or the stop pipe): 1 readable, 0
 * timed out, -1 stopping. */
static int wait_readable(int fd, int ms)
{
	struct pollfd p[2] = { { .fd = shm_stop_pipe[0], .events = POLLIN },
			       { .fd = fd, .events = POLLIN } };
	int n = poll(p, fd >= 0 ? 2 : 1, ms);

	if (n > 0 && p[0].revents)
		return -1;
	return n > 0 ? 1 : 0;
}

/* Sends STATS_MAP on fd and reads the reply with the descriptor it
 * carries.  The memfd, or -1. */
static int fetch_area(int fd, struct vh_proto_stats_map *m)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	uint8_t req[VH_PROTO_HEADER_SIZE], rep[256];
	struct vh_proto_request rq;
	struct vh_proto_reply r;
	struct vh_error err;
	size_t len = 0, have = 0, total = VH_PROTO_HEADER_SIZE;
	int memfd = -1;

	vh_hv_request(&rq, VH_PROTO_STATS_MAP, NULL);
	rq.request_id = 1;
	if (vh_proto_encode_request(&rq, req, sizeof(req), &len, &err) ||
	    send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -1;
	while (have < total) {
		struct iovec iov = { rep + have, total - have };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (have == 0) {
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof(cm.buf);
		}
		if (wait_readable(fd, 2000) <= 0)
			goto fail;
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			goto fail;
		if (have == 0 && mh.msg_controllen >= CMSG_LEN(sizeof(int))) {
			struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
			if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
			    c->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(&memfd, CMSG_DATA(c), sizeof(memfd));
		}
		have += (size_t)n;
		if (have == VH_PROTO_HEADER_SIZE && total == VH_PROTO_HEADER_SIZE &&
		    (vh_proto_frame_len(rep, have, &total, NULL) != VH_OK || total > sizeof(rep)))
			goto fail;
	}
	if (vh_proto_decode_reply(rep, have, &r, &err) || r.hdr.status != VH_OK ||
	    r.hdr.type != VH_PROTO_STATS_MAP || memfd < 0)
		goto fail;
	*m = r.u.stats_map;
	return memfd;
fail:
	if (memfd >= 0)
		close(memfd);
	return -1;
}

/* Maps the area read-only after checking its seals and size; the view,
 * or hdr NULL. */
static struct vh_pub_view map_area(int memfd, const struct vh_proto_stats_map *m)
{
	struct vh_pub_view v = { 0 };
	struct vh_error err;
	struct stat st;
	int seals = fcntl(memfd, F_GET_SEALS);
	void *base;

	if (seals < 0 || (seals & NEED_SEALS) != NEED_SEALS || fstat(memfd, &st) < 0 ||
	    m->size == 0 || (uint64_t)st.st_size < m->size || m->size > SIZE_MAX)
		return v;
	base = mmap(NULL, (size_t)m->size, PROT_READ, MAP_SHARED, memfd, 0);
	if (base == MAP_FAILED)
		return v;
	if (vh_pub_open(&v, base, (size_t)m->size, &err) != VH_OK ||
	    v.hdr->instance != m->instance) {
		munmap(base, (size_t)m->size);
		memset(&v, 0, sizeof(v));
	}
	return v;
}

static void offer(const struct vh_pub_view *v)
{
	struct vh_pub_view old;

	pthread_rwlock_wrlock(&shm_lock);
	old = shm_view;
	if (v)
		shm_view = *v;
	else
		memset(&shm_view, 0, sizeof(shm_view));
	pthread_rwlock_unlock(&shm_lock);
	if (old.hdr)
		munmap((void *)old.base, old.size);
}

static void *watcher_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct vh_proto_stats_map m;
		struct vh_pub_view v = { 0 };
		int fd = connect_hv(), memfd = fd >= 0 ? fetch_area(fd, &m) : -1;

		if (memfd >= 0) {
			v = map_area(memfd, &m);
			close(memfd);
		}
		if (v.hdr) {
			offer(&v);
			atomic_fetch_add(&n_maps, 1);
			vh_hv_instance_seen(m.instance);
			/* Until the hypervisor hangs up (it sends nothing else). */
			for (;;) {
				char b;
				int w = wait_readable(fd, -1);
				if (w < 0) {
					close(fd);
					return NULL;
				}
				ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
				if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
					break;
			}
			offer(NULL);
			vh_hv_instance_gone(m.instance);
		}
		if (fd >= 0)
			close(fd);
		if (wait_readable(-1, RETRY_MS) < 0)
			return NULL;
	}
}

void vh_hv_shm_start(const char *socket_path)
{
	if (shm_started || strlen(socket_path) >= sizeof(shm_sock))
		return;
	snprintf(shm_sock, sizeof(shm_sock), "%s", socket_path);
	if (pipe2(shm_stop_pipe, O_CLOEXEC) < 0)
		return;
	shm_started = pthread_create(&shm_thread, NULL, watcher_main, NULL) == 0;
	if (shm_started)
		pthread_setname_np(shm_thread, "vh-counters");
}

void vh_hv_shm_stop(void)
{
	if (shm_started) {
		if (write(shm_stop_pipe[1], "x", 1) < 0)
			perror("vhagent: stopping the counters watcher");
		pthread_join(shm_thread, NULL);
		shm_started = false;
	}
	offer(NULL);
	for (int i = 0; i < 2; i++) {
		if (shm_stop_pipe[i] >= 0)
			close(shm_stop_pipe[i]);
		shm_stop_pipe[i] = -1;
	}
}

bool vh_hv_shm_begin(struct vh_hv_shm *s)
{
	pthread_rwlock_rdlock(&shm_lock);
	s->v = shm_view;
	s->v.retries = 0;
	s->now = mono_ns();
	if (s->v.hdr && vh_pub_live(&s->v) &&
	    s->now < __atomic_load_n(&s->v.hdr->heartbeat_ns, __ATOMIC_RELAXED) + STALE_NS)
		return true;
	pthread_rwlock_unlock(&shm_lock);
	return false;
}

void vh_hv_shm_end(struct vh_hv_shm *s, int rc)
{
	if (s->v.retries)
		atomic_fetch_add_explicit(&n_retries, s->v.retries, memory_order_relaxed);
	pthread_rwlock_unlock(&shm_lock);
	if (rc == VH_E_BUSY)
		atomic_fetch_add_explicit(&n_fallbacks, 1, memory_order_relaxed);
	else if (rc == VH_OK)
		atomic_fetch_add_explicit(&n_reads, 1, memory_order_relaxed);
}

void vh_hv_shm_counters(struct vh_hv_shm_counters *c)
{
	bool mapped;

	pthread_rwlock_rdlock(&shm_lock);
	mapped = shm_view.hdr != NULL;
	pthread_rwlock_unlock(&shm_lock);
	c->mapped = mapped;
	c->maps = atomic_load(&n_maps);
	c->reads = atomic_load(&n_reads);
	c->fallbacks = atomic_load(&n_fallbacks);
	c->retries = atomic_load(&n_retries);
}
