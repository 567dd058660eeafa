/* SPDX-License-Identifier: Apache-2.0 */
/* The request-header deadline (agent/hdr_deadline.h): a connection whose
 * headers have been due past the limit is shut down (its peer reads end
 * of file), one whose headers came is not, a request's end re-arms the
 * clock, and a watch newer than the sweep's clock is never taken for an
 * old one (the sweeper reads the clock before it takes the lock, while
 * request threads go on adding and re-arming watches). */
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/fsutil.h"
#include "agent/hdr_deadline.h"
#include "vh_test.h"

#define LIMIT_NS (10ull * 1000000000ull)

/* A connection: fds[0] is the agent's end, fds[1] the client's. */
static void conn(int fds[2])
{
	VH_ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
}

/* Whether the client's end reads end of file (the agent's was shut down). */
static bool client_sees_eof(int fd)
{
	char b;

	return read(fd, &b, 1) == 0;
}

static void closeboth(int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

VH_TEST(hdr_deadline, overdue_headers_are_cut_and_others_are_not)
{
	struct vh_hdr_watch due = { 0 }, done = { 0 };
	int a[2], b[2];
	uint64_t t;

	conn(a);
	conn(b);
	vh_hdr_deadline_add(&due, a[0]);
	vh_hdr_deadline_add(&done, b[0]);
	vh_hdr_deadline_done(&done);
	t = vh_mono_ns();
	/* Within the limit: nothing. */
	VH_EXPECT_EQ(vh_hdr_deadline_sweep(t + LIMIT_NS / 2, LIMIT_NS), 0u);
	VH_EXPECT(!client_sees_eof(a[1]));
	/* Past it: the waiting one only, and once. */
	VH_EXPECT_EQ(vh_hdr_deadline_sweep(t + 2 * LIMIT_NS, LIMIT_NS), 1u);
	VH_EXPECT(client_sees_eof(a[1]));
	VH_EXPECT(!client_sees_eof(b[1]));
	VH_EXPECT_EQ(vh_hdr_deadline_sweep(t + 3 * LIMIT_NS, LIMIT_NS), 0u);
	vh_hdr_deadline_remove(&due);
	vh_hdr_deadline_remove(&done);
	closeboth(a);
	closeboth(b);
}

VH_TEST(hdr_deadline, a_request_end_rearms_the_clock)
{
	struct vh_hdr_watch w = { 0 };
	int a[2];
	uint64_t t0, t1;

	conn(a);
	t0 = vh_mono_ns();
	vh_hdr_deadline_add(&w, a[0]);
	vh_hdr_deadline_done(&w);
	usleep(2000);
	t1 = vh_mono_ns();
	vh_hdr_deadline_rearm(&w);
	/* Overdue from the add, not from the re-arm: kept. */
	VH_EXPECT_EQ(vh_hdr_deadline_sweep(t0 + LIMIT_NS + 1000000, LIMIT_NS), 0u);
	VH_EXPECT_EQ(vh_hdr_deadline_sweep(t1 + 2 * LIMIT_NS, LIMIT_NS), 1u);
	VH_EXPECT(client_sees_eof(a[1]));
	vh_hdr_deadline_remove(&w);
	closeboth(a);
}

VH_TEST(hdr_deadline, a_watch_newer_than_the_sweeps_clock_is_not_due)
{
	struct vh_hdr_watch fresh = { 0 }, rearmed = { 0 };
	int a[2], b[2];
	uint64_t now;

	conn(a);
	conn(b);
	vh_hdr_deadline_add(&rearmed, b[0]);
	vh_hdr_deadline_done(&rearmed);
	/* The sweeper read its clock here... */
	now = vh_mono_ns();
	usleep(1000);
	/* ...then a connection came and a request ended before it swept. */
	vh_hdr_deadline_add(&fresh, a[0]);
	vh_hdr_deadline_rearm(&rearmed);
	VH_EXPECT_EQ(vh_hdr_deadline_sweep(now, LIMIT_NS), 0u);
	VH_EXPECT(!client_sees_eof(a[1]));
	VH_EXPECT(!client_sees_eof(b[1]));
	vh_hdr_deadline_remove(&fresh);
	vh_hdr_deadline_remove(&rearmed);
	closeboth(a);
	closeboth(b);
}
