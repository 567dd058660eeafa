/* SPDX-License-Identifier: Apache-2.0 */
/* uload: an HTTP/1.1 load generator for a unix socket (wrk cannot
 * connect to one).  N keep-alive connections, one request in flight on
 * each (no pipelining), for D seconds, from one epoll thread; prints
 * requests per second and latency percentiles, like wrk --latency.
 *
 *   uload --socket PATH [-c CONNS] [-d SECONDS] [-H "Name: value"]... PATH...
 *
 * Several paths are used round robin.  Every response must be 200 with a
 * Content-Length body; anything else counts as an error (and the run
 * fails with exit status 1). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATHS   16
#define MAX_HEADERS 8
#define BUF         262144

struct conn {
	int fd;
	char *in;
	size_t have;
	uint64_t sent_ns;
	const char *req;
	size_t req_len, req_off;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

/* Length of one whole response at the start of buf (headers + body), 0
 * when incomplete, -1 when malformed; *status gets the code. */
static long response_len(const char *buf, size_t have, int *status)
{
	const char *end = memmem(buf, have, "\r\n\r\n", 4);
	const char *p;
	long clen = -1;

	if (!end)
		return 0;
	if (have < 12 || strncmp(buf, "HTTP/1.1 ", 9) != 0)
		return -1;
	*status = atoi(buf + 9);
	for (p = buf; p && p < end; p = memchr(p, '\n', (size_t)(end - p))) {
		if (*p == '\n')
			p++;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = atol(p + 15);
	}
	if (clen < 0)
		return -1;
	if ((size_t)(end + 4 - buf) + (size_t)clen > have)
		return 0;
	return (long)(end + 4 - buf) + clen;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	const char *paths[MAX_PATHS], *headers[MAX_HEADERS];
	int npaths = 0, nheaders = 0, nconns = 32, secs = 5;
	char *reqs[MAX_PATHS];
	size_t req_lens[MAX_PATHS];
	struct conn *c;
	uint64_t *lat, nlat = 0, cap = 1 << 20, errors = 0, t0, t_end;
	int ep, next_path = 0;
	struct epoll_event evs[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			nconns = atoi(argv[++i]);
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			secs = atoi(argv[++i]);
		else if (strcmp(argv[i], "-H") == 0 && i + 1 < argc && nheaders < MAX_HEADERS)
			headers[nheaders++] = argv[++i];
		else if (argv[i][0] == '/' && npaths < MAX_PATHS)
			paths[npaths++] = argv[i];
		else {
			fprintf(stderr, "usage: uload --socket PATH [-c CONNS] [-d SECONDS] [-H "
					"HEADER]... PATH...\n");
			return 2;
		}
	}
	if (!sock || npaths == 0 || nconns < 1 || secs < 1) {
		fprintf(stderr, "uload: --socket and at least one path are needed\n");
		return 2;
	}
	for (int i = 0; i < npaths; i++) {
		char hdrs[2048] = "";
		for (int h = 0; h < nheaders; h++) {
			strncat(hdrs, headers[h], sizeof(hdrs) - strlen(hdrs) - 3);
			strcat(hdrs, "\r\n");
		}
		if (asprintf(&reqs[i], "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", paths[i],
			     hdrs) < 0)
			return 2;
		req_lens[i] = strlen(reqs[i]);
	}
	c = calloc((size_t)nconns, sizeof(*c));
	lat = malloc(cap * sizeof(*lat));
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (!c || !lat || ep < 0)
		return 2;
	t0 = now_ns();
	t_end = t0 + (uint64_t)secs * 1000000000ull;
	for (int i = 0; i < nconns; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		c[i].fd = connect_unix(sock);
		c[i].in = malloc(BUF);
		if (!c[i].in)
			return 2;
		c[i].req = reqs[next_path];
		c[i].req_len = req_lens[next_path];
		next_path = (next_path + 1) % npaths;
		c[i].sent_ns = now_ns();
		if (send(c[i].fd, c[i].req, c[i].req_len, MSG_NOSIGNAL) != (ssize_t)c[i].req_len) {
			perror("send");
			return 2;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
	}
	for (;;) {
		uint64_t t = now_ns();
		int n;

		if (t >= t_end)
			break;
		n = epoll_wait(ep, evs, 256, (int)((t_end - t) / 1000000 + 1));
		if (n < 0 && errno == EINTR)
			continue;
		for (int k = 0; k < n; k++) {
			struct conn *cn = &c[evs[k].data.u32];
			ssize_t got = recv(cn->fd, cn->in + cn->have, BUF - cn->have, 0);
			long len;
			int status = 0;

			if (got <= 0) {
				fprintf(stderr, "uload: connection closed by the server\n");
				return 1;
			}
			cn->have += (size_t)got;
			len = response_len(cn->in, cn->have, &status);
			if (len < 0 || (len == 0 && cn->have == BUF)) {
				fprintf(stderr, "uload: malformed response\n");
				return 1;
			}
			if (len == 0)
				continue;
			t = now_ns();
			if (status != 200)
				errors++;
			if (nlat == cap) {
				cap *= 2;
				if (!(lat = realloc(lat, cap * sizeof(*lat))))
					return 2;
			}
			lat[nlat++] = t - cn->sent_ns;
			memmove(cn->in, cn->in + len, cn->have - (size_t)len);
			cn->have -= (size_t)len;
			cn->req = reqs[next_path];
			cn->req_len = req_lens[next_path];
			next_path = (next_path + 1) % npaths;
			cn->sent_ns = t;
			if (send(cn->fd, cn->req, cn->req_len, MSG_NOSIGNAL) !=
			    (ssize_t)cn->req_len) {
				perror("send");
				return 1;
			}
		}
	}
	{
		double elapsed = (double)(now_ns() - t0) / 1e9;

		qsort(lat, nlat, sizeof(*lat), cmp_u64);
		printf("requests %llu in %.2f s: %.0f req/s, errors %llu\n",
		       (unsigned long long)nlat, elapsed, (double)nlat / elapsed,
		       (unsigned long long)errors);
		if (nlat)
			printf("latency p50 %.3f ms p90 %.3f ms p99 %.3f ms max %.3f ms\n",
			       (double)lat[nlat / 2] / 1e6, (double)lat[nlat * 9 / 10] / 1e6,
			       (double)lat[nlat * 99 / 100] / 1e6, (double)lat[nlat - 1] / 1e6);
	}
	return errors ? 1 : 0;
}
