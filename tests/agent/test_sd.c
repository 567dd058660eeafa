/* SPDX-License-Identifier: Apache-2.0 */
/* systemd integration (agent/sd.h): notifications reach NOTIFY_SOCKET,
 * the watchdog interval is read, sockets passed with names are found,
 * and logs go to the journal or to stderr as documented.  The journal is
 * a socket this test binds at /run/systemd/journal/socket inside a
 * private mount namespace of a child (a user namespace too when not
 * root), so the real journal, if any, is never touched. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/sd.h"
#include "agent_test.h"
#include "vh_test.h"

/* A datagram socket in the abstract namespace; *addr gets "@name". */
static int dgram_listen(char *addr, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int n;

	if (fd < 0)
		return -1;
	n = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "vh-test-notify-%d-%ld", getpid(),
		     (long)time(NULL));
	if (bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		close(fd);
		return -1;
	}
	snprintf(addr, cap, "@%s", sa.sun_path + 1);
	return fd;
}

static int recv_msg(int fd, char *buf, size_t cap)
{
	struct timeval tv = { .tv_sec = 2 };
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, cap - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

VH_TEST(sd, notifications_reach_notify_socket)
{
	char addr[128], msg[512];
	int fd = dgram_listen(addr, sizeof(addr));

	VH_ASSERT(fd >= 0);
	VH_ASSERT_EQ(setenv("NOTIFY_SOCKET", addr, 1), 0);
	vh_sd_ready("serving 3 VMs");
	VH_ASSERT_EQ(recv_msg(fd, msg, sizeof(msg)), 0);
	VH_EXPECT_STREQ(msg, "READY=1\nSTATUS=serving 3 VMs");
	vh_sd_ready(NULL);
	VH_ASSERT_EQ(recv_msg(fd, msg, sizeof(msg)), 0);
	VH_EXPECT_STREQ(msg, "READY=1");
	vh_sd_status("reconciling %d of %d", 2, 5);
	VH_ASSERT_EQ(recv_msg(fd, msg, sizeof(msg)), 0);
	VH_EXPECT_STREQ(msg, "STATUS=reconciling 2 of 5");
	vh_sd_reloading();
	VH_ASSERT_EQ(recv_msg(fd, msg, sizeof(msg)), 0);
	VH_EXPECT_EQ(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27), 0);
	VH_EXPECT(strtoull(msg + 27, NULL, 10) > 0);
	vh_sd_watchdog_ping();
	VH_ASSERT_EQ(recv_msg(fd, msg, sizeof(msg)), 0);
	VH_EXPECT_STREQ(msg, "WATCHDOG=1");
	vh_sd_stopping();
	VH_ASSERT_EQ(recv_msg(fd, msg, sizeof(msg)), 0);
	VH_EXPECT_STREQ(msg, "STOPPING=1");
	unsetenv("NOTIFY_SOCKET");
	/* Without systemd every call is harmless and sends nothing. */
	vh_sd_ready("x");
	vh_sd_stopping();
	struct timeval tv = { .tv_usec = 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	VH_EXPECT_EQ(recv(fd, msg, sizeof(msg), 0), (ssize_t)-1);
	close(fd);
}

VH_TEST(sd, watchdog_interval)
{
	char pid[32];

	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	VH_EXPECT_EQ(vh_sd_watchdog_usec(), (uint64_t)0);
	snprintf(pid, sizeof(pid), "%d", getpid());
	setenv("WATCHDOG_USEC", "20000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	VH_EXPECT_EQ(vh_sd_watchdog_usec(), (uint64_t)20000000);
	/* Still there: the value is not consumed. */
	VH_EXPECT_EQ(vh_sd_watchdog_usec(), (uint64_t)20000000);
	/* Meant for another process (a parent's variable inherited). */
	snprintf(pid, sizeof(pid), "%d", getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	VH_EXPECT_EQ(vh_sd_watchdog_usec(), (uint64_t)0);
	unsetenv("WATCHDOG_PID");
	VH_EXPECT_EQ(vh_sd_watchdog_usec(), (uint64_t)20000000);
	setenv("WATCHDOG_USEC", "junk", 1);
	VH_EXPECT_EQ(vh_sd_watchdog_usec(), (uint64_t)0);
	unsetenv("WATCHDOG_USEC");
}

/* Runs fn in a child with stderr on a pipe; returns the exit status and
 * what the child wrote to stderr. */
static int in_child(int (*fn)(void *), void *arg, char *err_out, size_t cap)
{
	int p[2], st = -1;
	size_t got = 0;

	if (pipe(p) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		close(p[1]);
		_exit(fn(arg));
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], err_out + got, cap - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == cap - 1)
			break;
	}
	err_out[got] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

struct listen_case {
	const char *names; /* LISTEN_FDNAMES */
	int pid_offset;    /* LISTEN_PID = getpid() + this */
};

/* In the child: three sockets at fds 3, 4, 5 as systemd passes them. */
static int listen_child(void *arg)
{
	const struct listen_case *lc = arg;
	ino_t ino[3];
	char buf[32];

	for (int i = 0; i < 3; i++) {
		struct stat st;
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (s < 0 || fstat(s, &st) < 0)
			return 10;
		ino[i] = st.st_ino;
		/* Out of the way first, then onto 3 + i. */
		int hi = fcntl(s, F_DUPFD, 200 + i);
		close(s);
		if (hi < 0)
			return 11;
		if (dup2(hi, 3 + i) < 0)
			return 12;
		close(hi);
	}
	snprintf(buf, sizeof(buf), "%d", getpid() + lc->pid_offset);
	setenv("LISTEN_PID", buf, 1);
	setenv("LISTEN_FDS", "3", 1);
	setenv("LISTEN_FDNAMES", lc->names, 1);
	unsetenv("LISTEN_FDS_START");

	int u = vh_sd_listen_fd("unix"), h = vh_sd_listen_fd("https");
	int again = vh_sd_listen_fd("https"), none = vh_sd_listen_fd("nope");
	fprintf(stderr, "unix=%d https=%d again=%d nope=%d env=%s", u, h, again, none,
		getenv("LISTEN_FDS") ? "kept" : "gone");
	for (int fd = 3; fd < 6; fd++) {
		struct stat st;
		if (fd == u || fd == h) {
			if (fstat(fd, &st) < 0 || st.st_ino != ino[fd - 3])
				return 20;
			if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
				return 21;
		}
	}
	return 0;
}

VH_TEST(sd, listen_fds_by_name)
{
	char out[256];
	struct listen_case lc = { "unix:https:metrics", 0 };

	VH_EXPECT_EQ(in_child(listen_child, &lc, out, sizeof(out)), 0);
	VH_EXPECT_STREQ(out, "unix=3 https=4 again=4 nope=-1 env=gone");
	lc.names = "https:other:unix";
	VH_EXPECT_EQ(in_child(listen_child, &lc, out, sizeof(out)), 0);
	VH_EXPECT_STREQ(out, "unix=5 https=3 again=3 nope=-1 env=gone");
	/* For another process (inherited variables): none taken. */
	lc.pid_offset = 1;
	VH_EXPECT_EQ(in_child(listen_child, &lc, out, sizeof(out)), 0);
	VH_EXPECT_STREQ(out, "unix=-1 https=-1 again=-1 nope=-1 env=gone");
}

static void clean_env(void)
{
	unsetenv("JOURNAL_STREAM");
	unsetenv("NOTIFY_SOCKET");
	unsetenv("INVOCATION_ID");
}

static int log_plain_child(void *arg)
{
	(void)arg;
	clean_env();
	vh_log(VH_LOG_INFO, "hello %d", 1);
	vh_log(VH_LOG_DEBUG, "hidden by default");
	vh_log(VH_LOG_ERR, "bad thing: %s", "why");
	vh_log_set_level(VH_LOG_DEBUG);
	vh_log(VH_LOG_DEBUG, "now shown");
	vh_log_set_level(VH_LOG_ERR);
	vh_log(VH_LOG_WARNING, "hidden at err");
	vh_log(VH_LOG_ERR, "still shown");
	vh_log(VH_LOG_ERR, "GET %s -> 503", "/v1/vms/a\nvhagent: error: forged");
	return 0;
}

VH_TEST(sd, log_to_stderr_with_levels)
{
	char out[1024];

	VH_EXPECT_EQ(in_child(log_plain_child, NULL, out, sizeof(out)), 0);
	VH_EXPECT_STREQ(out, "vhagent: info: hello 1\n"
			     "vhagent: error: bad thing: why\n"
			     "vhagent: debug: now shown\n"
			     "vhagent: error: still shown\n"
			     "vhagent: error: GET /v1/vms/a\\x0avhagent: error: forged -> 503\n");
}

/* A private /run with a journal socket of our own (see the top). */
static int fake_journal(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (unshare(CLONE_NEWNS) < 0) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -1;
		int f = open("/proc/self/setgroups", O_WRONLY);
		if (f >= 0) {
			(void)!write(f, "deny", 4);
			close(f);
		}
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
		f = open("/proc/self/uid_map", O_WRONLY);
		if (f < 0 || write(f, map, strlen(map)) < 0)
			return -1;
		close(f);
		snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
		f = open("/proc/self/gid_map", O_WRONLY);
		if (f < 0 || write(f, map, strlen(map)) < 0)
			return -1;
		close(f);
	}
	/* Nothing below may reach the host's mount table. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") < 0 ||
	    mkdir("/run/systemd", 0755) < 0 || mkdir("/run/systemd/journal", 0755) < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/run/systemd/journal/socket");
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	return fd;
}

static void stream_env(void)
{
	struct stat st;
	char v[64];

	fstat(STDERR_FILENO, &st);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
}

/* Child: stderr is the journal stream; the line must arrive at the fake
 * journal with its priority, and nothing on stderr. */
static int log_journal_child(void *arg)
{
	int mode = *(int *)arg;
	char msg[2048];
	int j;

	clean_env();
	j = fake_journal();
	if (j < 0) {
		fprintf(stderr, "cannot make a private journal socket: %s", strerror(errno));
		return 30;
	}
	if (mode == 0) {
		stream_env();
	} else {
		/* Started by systemd with StandardError=null. */
		int null = open("/dev/null", O_WRONLY);
		setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
		/* Keep the pipe on fd 9 for reports; stderr to /dev/null. */
		dup2(STDERR_FILENO, 9);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	vh_log(VH_LOG_WARNING, "disk %s is %d%% full", "sda", 93);
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(j, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = recv(j, msg, sizeof(msg) - 1, 0);
	int report = mode == 0 ? STDERR_FILENO : 9;
	if (n <= 0) {
		dprintf(report, "nothing reached the journal");
		return 31;
	}
	msg[n] = '\0';
	if (!strstr(msg, "MESSAGE=disk sda is 93% full\n") || !strstr(msg, "PRIORITY=4\n") ||
	    !strstr(msg, "SYSLOG_IDENTIFIER=vhagent\n")) {
		dprintf(report, "journal got: %s", msg);
		return 32;
	}
	return 0;
}

VH_TEST(sd, log_to_the_journal_when_stderr_is_the_journal_stream)
{
	char out[2048];
	int mode = 0;

	int rc = in_child(log_journal_child, &mode, out, sizeof(out));
	if (rc)
		VH_FAIL("child %d: %s", rc, out);
	VH_EXPECT_STREQ(out, "");
}

VH_TEST(sd, log_to_the_journal_when_systemd_runs_us_without_stderr)
{
	char out[2048];
	int mode = 1;

	int rc = in_child(log_journal_child, &mode, out, sizeof(out));
	if (rc)
		VH_FAIL("child %d: %s", rc, out);
}

/* JOURNAL_STREAM says journal, but no journal listens: stderr instead. */
static int log_fallback_child(void *arg)
{
	(void)arg;
	clean_env();
	int j = fake_journal();
	if (j < 0)
		return 30;
	close(j);
	unlink("/run/systemd/journal/socket");
	stream_env();
	vh_log(VH_LOG_INFO, "falls back");
	return 0;
}

static int log_inherited_stream_child(void *arg)
{
	(void)arg;
	clean_env();
	/* A JOURNAL_STREAM naming some other stream (inherited from a
	 * service that started a shell): not ours, so stderr. */
	setenv("JOURNAL_STREAM", "8:12345", 1);
	vh_log(VH_LOG_INFO, "plain");
	return 0;
}

VH_TEST(sd, log_falls_back_to_stderr)
{
	char out[1024];

	VH_EXPECT_EQ(in_child(log_fallback_child, NULL, out, sizeof(out)), 0);
	VH_EXPECT_STREQ(out, "vhagent: info: falls back\n");
	VH_EXPECT_EQ(in_child(log_inherited_stream_child, NULL, out, sizeof(out)), 0);
	VH_EXPECT_STREQ(out, "vhagent: info: plain\n");
}
