/* SPDX-License-Identifier: Apache-2.0 */
/* A deadline for a request's headers (request_header_timeout_s).
 *
 * libmicrohttpd 0.9.75 restarts its idle timeout with every byte and has
 * no bound on the time a client takes to send its request line and
 * headers, so a client dripping a byte every few seconds (slowloris)
 * holds its slot for as long as it likes.  Each connection is watched
 * from its start, and again from the end of each request on it, until
 * libmicrohttpd hands the next request's complete headers to the access
 * handler; a connection still short of them after the deadline has its
 * socket shut down, which libmicrohttpd sees as the peer closing.
 *
 * Thread safety: libmicrohttpd's pool threads add, mark and remove
 * watches; one sweeper thread scans them; one mutex covers the list
 * (marking a request's start and end takes none).  A watch is removed in
 * MHD_CONNECTION_NOTIFY_CLOSED, which libmicrohttpd calls before it closes the socket, so the
 * sweeper never shuts down an fd that was closed and reused. */
#ifndef VH_AGENT_HDR_DEADLINE_H
#define VH_AGENT_HDR_DEADLINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The list links, fd and cut are the mutex's; since_ns and waiting are
 * atomics the request path sets without it (twice a request). */
struct vh_hdr_watch {
	struct vh_hdr_watch *prev, *next;
	int fd;
	_Atomic uint64_t since_ns; /* when the current request's headers became due */
	_Atomic bool waiting;      /* headers due and not complete yet */
	bool cut;                  /* shut down already */
};

/* A new connection on fd: its first request's headers are due now. */
void vh_hdr_deadline_add(struct vh_hdr_watch *w, int fd);
/* The connection closes (before its fd does). */
void vh_hdr_deadline_remove(struct vh_hdr_watch *w);
/* The current request's headers are complete. */
void vh_hdr_deadline_done(struct vh_hdr_watch *w);
/* A request ended: the next one's headers are due from now. */
void vh_hdr_deadline_rearm(struct vh_hdr_watch *w);
/* Shuts down every watched socket whose headers have been due for
 * longer than limit_ns at now_ns; returns how many. */
unsigned vh_hdr_deadline_sweep(uint64_t now_ns, uint64_t limit_ns);
/* The sweeper thread (timeout_s > 0), which sweeps four times a second. */
int vh_hdr_deadline_start(unsigned timeout_s);
void vh_hdr_deadline_stop(void);

#endif
