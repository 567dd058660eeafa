/* SPDX-License-Identifier: Apache-2.0 */
/* The control protocol (docs/protocol.md) on a unix stream socket.  One
 * thread, one epoll set, non-blocking sockets; each client has bounded
 * buffers (one request in, one reply out: VH_PROTO_MAX_MSG each), so a
 * slow or hostile client costs at most its own 128 KiB and never blocks
 * the others or the VMs.  Requests are answered one at a time per client,
 * in order (a client may pipeline; the next request is read once the
 * previous reply is out).
 *
 * Framing is the transport's job: a header whose magic or length is wrong
 * means the stream is out of step, so the client gets the dispatcher's
 * error reply for those bytes and is disconnected.  Everything inside a
 * well-framed message is the core dispatcher's to validate: a malformed
 * message gets an error reply and changes nothing.  A client that
 * disconnects mid-message leaves nothing behind but its freed buffers;
 * VMs never depend on a client being connected. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/error.h"
#include "vh/proto.h"

#define MAX_CLIENTS 64

struct client {
	int fd;
	bool closing;       /* framing broken: close once the reply is out */
	bool pass_pub;      /* the reply out is STATS_MAP's: its first bytes carry the area */
	size_t in_len;      /* bytes of the request being read */
	size_t out_len, out_off;
	uint8_t in[VH_PROTO_MAX_MSG];
	uint8_t out[VH_PROTO_MAX_MSG];
};

struct vh_hosted_server {
	struct vh_hosted *d;
	int listen_fd, epoll_fd, stop_fd;
	long vh_gid;
	pthread_t thread;
	bool thread_started;
	bool bound;          /* the socket file is ours to remove */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client *clients[MAX_CLIENTS];
	unsigned nclients;
};

/* Keys in epoll_event.data.u64: the listener and the stop event, or a
 * client slot. */
#define KEY_LISTEN UINT64_MAX
#define KEY_STOP (UINT64_MAX - 1)

static void client_close(struct vh_hosted_server *s, unsigned slot)
{
	struct client *c = s->clients[slot];

	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	s->clients[slot] = NULL;
	s->nclients--;
}

static void want(struct vh_hosted_server *s, unsigned slot, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = slot };

	epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, s->clients[slot]->fd, &ev);
}

/* Requests whose replies carry run and ready time
 * (VH_PROTO_MSG_CPU_COUNTERS in vh/proto_messages.h; a whole frame,
 * checked by vh_proto_frame_len). */
static bool reads_cpu_counters(const uint8_t *msg)
{
	size_t at = offsetof(struct vh_wire_header, type);
	uint16_t type = (uint16_t)(msg[at] | msg[at + 1] << 8);

	return vh_proto_msg_has(type, VH_PROTO_MSG_CPU_COUNTERS);
}

static bool is_stats_map(const uint8_t *msg)
{
	size_t at = offsetof(struct vh_wire_header, type);

	return (uint16_t)(msg[at] | msg[at + 1] << 8) == VH_PROTO_STATS_MAP;
}

/* Sends what is pending of c's reply; a STATS_MAP reply's first bytes
 * carry the published counters' memfd (SCM_RIGHTS), so the descriptor
 * arrives with the reply that describes it. */
static ssize_t send_out(struct vh_hosted_server *s, struct client *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { c->out + c->out_off, c->out_len - c->out_off };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (!c->pass_pub)
		return send(c->fd, iov.iov_base, iov.iov_len, MSG_NOSIGNAL | MSG_DONTWAIT);
	memset(&cm, 0, sizeof(cm));
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	cm.h.cmsg_level = SOL_SOCKET;
	cm.h.cmsg_type = SCM_RIGHTS;
	cm.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&cm.h), &s->d->pub_fd, sizeof(int));
	n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n > 0)
		c->pass_pub = false;
	return n;
}

/* Answers every whole request buffered, as long as replies go out at
 * once; leaves the client waiting for EPOLLOUT or more input. */
static void client_progress(struct vh_hosted_server *s, unsigned slot)
{
	struct client *c = s->clients[slot];

	for (;;) {
		size_t total = 0;
		int frc;

		/* Send what is pending first. */
		while (c->out_off < c->out_len) {
			ssize_t n = send_out(s, c);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				want(s, slot, EPOLLOUT);
				return;
			}
			if (n <= 0) {
				client_close(s, slot);
				return;
			}
			c->out_off += (size_t)n;
		}
		c->out_len = c->out_off = 0;
		if (c->closing) {
			client_close(s, slot);
			return;
		}
		/* Is a whole request buffered? */
		frc = vh_proto_frame_len(c->in, c->in_len, &total, NULL);
		if (frc != VH_OK) {
			/* Out of step: answer the header's fault, then hang up. */
			size_t hdr =
			    c->in_len < VH_PROTO_HEADER_SIZE ? c->in_len : VH_PROTO_HEADER_SIZE;
			vh_proto_dispatch(&s->d->host, c->in, hdr, c->out, sizeof(c->out),
					  &c->out_len);
			c->closing = true;
			c->in_len = 0;
			continue;
		}
		if (c->in_len < total) {
			want(s, slot, EPOLLIN);
			return;
		}
		/* Counters read now show what Linux took from running vCPUs so
		 * far as ready time, not used (worker.c). */
		if (reads_cpu_counters(c->in)) {
			vh_hosted_lock(s->d);
			vh_hosted_workers_settle_steal(s->d);
			vh_hosted_unlock(s->d);
		}
		c->pass_pub = vh_proto_dispatch(&s->d->host, c->in, total, c->out, sizeof(c->out),
						&c->out_len) == VH_OK &&
			      is_stats_map(c->in) && s->d->pub_fd >= 0;
		memmove(c->in, c->in + total, c->in_len - total);
		c->in_len -= total;
	}
}

static void client_read(struct vh_hosted_server *s, unsigned slot)
{
	struct client *c = s->clients[slot];
	ssize_t n;

	if (c->in_len == sizeof(c->in)) {
		client_progress(s, slot);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		/* Gone, perhaps mid-message: its partial request is dropped. */
		client_close(s, slot);
		return;
	}
	c->in_len += (size_t)n;
	client_progress(s, slot);
}

static void accept_clients(struct vh_hosted_server *s)
{
	for (;;) {
		char who[96];
		unsigned slot;
		struct client *c;
		struct epoll_event ev;
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (!vh_hosted_peer_allowed(fd, s->vh_gid, who, sizeof(who))) {
			vh_hosted_log(s->d, "control socket: refused %s (not root or group vh)",
				      who);
			close(fd);
			continue;
		}
		if (s->nclients == MAX_CLIENTS || !(c = calloc(1, sizeof(*c)))) {
			vh_hosted_log(s->d, "control socket: refused %s: %u clients connected", who,
				      s->nclients);
			close(fd);
			continue;
		}
		for (slot = 0; s->clients[slot]; slot++)
			;
		c->fd = fd;
		s->clients[slot] = c;
		s->nclients++;
		ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = slot };
		if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			client_close(s, slot);
		else if (s->d->opt.verbose)
			vh_hosted_log(s->d, "control socket: client %s connected", who);
	}
}

static void *server_main(void *arg)
{
	struct vh_hosted_server *s = arg;
	struct epoll_event evs[32];

	for (;;) {
		int n = epoll_wait(s->epoll_fd, evs, 32, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vh_hosted_log(s->d, "control socket: epoll_wait: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			uint64_t key = evs[i].data.u64;
			if (key == KEY_STOP)
				return NULL;
			if (key == KEY_LISTEN) {
				accept_clients(s);
				continue;
			}
			if (key >= MAX_CLIENTS || !s->clients[key])
				continue;
			if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN))
				client_close(s, (unsigned)key);
			else if (evs[i].events & EPOLLOUT)
				client_progress(s, (unsigned)key);
			else if (evs[i].events & EPOLLIN)
				client_read(s, (unsigned)key);
		}
	}
}

/* Is another daemon answering on path?  Then it must not be replaced. */
static bool socket_in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return used;
}

static int open_listener(struct vh_hosted_server *s, const char *path, char *why, size_t whylen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	char dir[sizeof(sa.sun_path)], *slash;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(why, whylen, "socket path \"%s\" is too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	strcpy(s->path, path);
	/* The default's directory (/run/vh) may not exist yet. */
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(why, whylen, "creating %s: %s", dir, strerror(errno));
			return -1;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(why, whylen, "%s exists and is not a socket", path);
			return -1;
		}
		if (socket_in_use(&sa)) {
			snprintf(why, whylen, "%s: another vh-hosted is listening there", path);
			return -1;
		}
		unlink(path);
	}
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(why, whylen, "bind %s: %s", path, strerror(errno));
		return -1;
	}
	s->bound = true;
	/* Root and group vh only; without the group, root only. */
	if (s->vh_gid >= 0 && chown(path, (uid_t)-1, (gid_t)s->vh_gid) < 0)
		vh_hosted_log(s->d, "chown %s to group vh: %s", path, strerror(errno));
	if (chmod(path, s->vh_gid >= 0 ? 0660 : 0600) < 0) {
		snprintf(why, whylen, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	if (listen(s->listen_fd, 128) < 0) {
		snprintf(why, whylen, "listen %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int vh_hosted_server_start(struct vh_hosted *d, char *why, size_t whylen)
{
	struct vh_hosted_server *s = calloc(1, sizeof(*s));
	struct epoll_event ev;
	int rc;

	if (!s) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	s->d = d;
	s->listen_fd = s->epoll_fd = s->stop_fd = -1;
	s->vh_gid = vh_hosted_vh_gid();
	d->server = s;
	if (open_listener(s, d->opt.socket_path, why, whylen))
		goto fail;
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->epoll_fd < 0 || s->stop_fd < 0) {
		snprintf(why, whylen, "epoll/eventfd: %s", strerror(errno));
		goto fail;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = KEY_LISTEN };
	epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev);
	ev = (struct epoll_event){ .events = EPOLLIN, .data.u64 = KEY_STOP };
	epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->stop_fd, &ev);
	if ((rc = pthread_create(&s->thread, NULL, server_main, s))) {
		snprintf(why, whylen, "server thread: %s", strerror(rc));
		goto fail;
	}
	pthread_setname_np(s->thread, "vh-control");
	s->thread_started = true;
	return 0;
fail:
	vh_hosted_server_stop(d);
	return -1;
}

void vh_hosted_server_stop(struct vh_hosted *d)
{
	struct vh_hosted_server *s = d->server;
	uint64_t one = 1;

	if (!s)
		return;
	if (s->thread_started) {
		if (write(s->stop_fd, &one, sizeof(one)) < 0)
			vh_hosted_log(d, "control socket: stop: %s", strerror(errno));
		pthread_join(s->thread, NULL);
	}
	for (unsigned i = 0; i < MAX_CLIENTS; i++) {
		if (s->clients[i])
			client_close(s, i);
	}
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->bound)
		unlink(s->path);
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s);
	d->server = NULL;
}
