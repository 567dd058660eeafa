/* SPDX-License-Identifier: Apache-2.0 */
/* vh-sim as a child process (simrun.h).  posix_spawn, since the agent is
 * multithreaded: nothing runs in the child between fork and exec that a
 * lock held by another thread could block.  Its three pipes are close-on-
 * exec in the agent, so no other request's child inherits them; one poll
 * loop writes the scenario and drains both outputs (a child that fills
 * one pipe while the agent waits on the other would hang both), and the
 * child is killed at the deadline and always reaped. */
#define _GNU_SOURCE
#include "agent/simrun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERR_MAX 512

extern char **environ;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

struct child {
	pid_t pid;
	int in, out, err; /* the agent's ends */
};

static int spawn(const char *path, struct child *c)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	char *const argv[] = { (char *)path, (char *)"-", NULL };
	posix_spawn_file_actions_t fa;
	int rc = -1;

	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC))
		goto out;
	if (posix_spawn_file_actions_init(&fa))
		goto out;
	/* dup2 onto 0, 1, 2 clears close-on-exec on the copies only. */
	if (!posix_spawn_file_actions_adddup2(&fa, pin[0], 0) &&
	    !posix_spawn_file_actions_adddup2(&fa, pout[1], 1) &&
	    !posix_spawn_file_actions_adddup2(&fa, perr[1], 2)) {
		int e = posix_spawn(&c->pid, path, &fa, NULL, argv, environ);
		if (e)
			errno = e; /* posix_spawn returns its error */
		rc = e ? -1 : 0;
	}
	posix_spawn_file_actions_destroy(&fa);
out:
	close_fd(&pin[0]);
	close_fd(&pout[1]);
	close_fd(&perr[1]);
	if (rc) {
		close_fd(&pin[1]);
		close_fd(&pout[0]);
		close_fd(&perr[0]);
		return -1;
	}
	c->in = pin[1];
	c->out = pout[0];
	c->err = perr[0];
	fcntl(c->in, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Appends what fd has to buf (up to cap, the rest read and dropped);
 * false at the end of the stream or on an error. */
static bool drain(int fd, char *buf, size_t *len, size_t cap, bool *overflow)
{
	char chunk[16384];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	if (*len + (size_t)n > cap) {
		*overflow = true;
		n = (ssize_t)(cap - *len);
	}
	memcpy(buf + *len, chunk, (size_t)n);
	*len += (size_t)n;
	return true;
}

int vh_simrun(const char *path, const char *scenario, unsigned timeout_ms, char **out,
	      struct vh_api_problem *p)
{
	struct child c = { -1, -1, -1, -1 };
	size_t inlen = strlen(scenario), sent = 0, olen = 0, elen = 0;
	char *obuf = malloc(VH_SIMRUN_MAX_OUT + 1), ebuf[ERR_MAX + 1];
	uint64_t deadline = now_ms() + timeout_ms;
	bool overflow = false, eoverflow = false, timed_out = false;
	int status = 0, rc = -1;

	*out = NULL;
	if (!obuf)
		return vh_api_fail(p, VH_API_INTERNAL, "", "out of memory");
	if (spawn(path, &c)) {
		int e = errno;
		free(obuf);
		errno = e;
		return vh_api_fail(p, VH_API_UNAVAILABLE, "",
				   "the simulator %s cannot be started: %s (the agent's simulator "
				   "setting names it)",
				   path, strerror(errno));
	}
	while (c.out >= 0 || c.err >= 0) {
		struct pollfd fds[3];
		nfds_t n = 0;
		uint64_t t = now_ms();

		if (t >= deadline) {
			timed_out = true;
			break;
		}
		if (c.in >= 0)
			fds[n++] = (struct pollfd){ .fd = c.in, .events = POLLOUT };
		if (c.out >= 0)
			fds[n++] = (struct pollfd){ .fd = c.out, .events = POLLIN };
		if (c.err >= 0)
			fds[n++] = (struct pollfd){ .fd = c.err, .events = POLLIN };
		if (poll(fds, n, (int)(deadline - t)) < 0 && errno != EINTR)
			break;
		for (nfds_t i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			if (fds[i].fd == c.in) {
				ssize_t k = write(c.in, scenario + sent, inlen - sent);
				if (k > 0)
					sent += (size_t)k;
				if ((k < 0 && errno != EAGAIN && errno != EINTR) || sent == inlen)
					close_fd(&c.in); /* the end of its input */
			} else if (fds[i].fd == c.out) {
				if (!drain(c.out, obuf, &olen, VH_SIMRUN_MAX_OUT, &overflow))
					close_fd(&c.out);
			} else if (!drain(c.err, ebuf, &elen, ERR_MAX, &eoverflow)) {
				close_fd(&c.err);
			}
		}
	}
	close_fd(&c.in);
	close_fd(&c.out);
	close_fd(&c.err);
	if (timed_out)
		kill(c.pid, SIGKILL);
	while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR)
		;
	obuf[olen] = '\0';
	ebuf[elen] = '\0';
	ebuf[strcspn(ebuf, "\n")] = '\0';
	if (timed_out)
		vh_api_fail(p, VH_API_SIMULATION_TIMEOUT, "",
			    "the simulation did not finish within %u ms (ask for a shorter "
			    "duration_s)",
			    timeout_ms);
	else if (overflow)
		vh_api_fail(p, VH_API_INTERNAL, "", "the simulator's report is over %u bytes",
			    VH_SIMRUN_MAX_OUT);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		vh_api_fail(p, VH_API_INTERNAL, "", "the simulator failed (%s %d): %s",
			    WIFEXITED(status) ? "exit" : "signal",
			    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			    elen ? ebuf : "no message");
	else
		rc = 0;
	if (rc)
		free(obuf);
	else
		*out = obuf;
	return rc;
}
