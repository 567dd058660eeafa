/* SPDX-License-Identifier: Apache-2.0 */
/* systemd integration (agent/sd.h) through libsystemd.
 *
 * sd_notify and friends do nothing when NOTIFY_SOCKET is unset, so the
 * wrappers are safe outside systemd.  Passed sockets are taken once
 * (sd_listen_fds_with_names, which also unsets LISTEN_* so children do
 * not inherit them) and handed out by name.
 *
 * Logging goes to the journal when stderr is the journal stream
 * (JOURNAL_STREAM names stderr's device and inode, as systemd documents)
 * or when systemd started us (NOTIFY_SOCKET or INVOCATION_ID) and stderr
 * is not open or is /dev/null; otherwise, or when no journal listens or
 * it refuses a line, it goes to stderr as "vhagent: <level>: <message>". */
#define _GNU_SOURCE
#include "agent/sd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "agent/logesc.h"

void vh_sd_ready(const char *status)
{
	if (status)
		sd_notifyf(0, "READY=1\nSTATUS=%s", status);
	else
		sd_notify(0, "READY=1");
}

void vh_sd_status(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", buf);
}

void vh_sd_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void vh_sd_reloading(void)
{
	struct timespec ts;

	/* MONOTONIC_USEC lets Type=notify-reload match this to its SIGHUP;
	 * plain Type=notify ignores it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
		       (unsigned long long)ts.tv_nsec / 1000);
}

uint64_t vh_sd_watchdog_usec(void)
{
	uint64_t usec = 0;

	/* 0 (unset env) keeps WATCHDOG_* for a later call. */
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	return usec;
}

void vh_sd_watchdog_ping(void)
{
	sd_notify(0, "WATCHDOG=1");
}

/* ---- socket activation ------------------------------------------------- */

static pthread_once_t listen_once = PTHREAD_ONCE_INIT;
static int listen_n;
static char **listen_names;

static void listen_take(void)
{
	int n = sd_listen_fds_with_names(1, &listen_names);

	listen_n = n > 0 ? n : 0;
	if (n <= 0)
		listen_names = NULL;
}

int vh_sd_listen_fd(const char *name)
{
	pthread_once(&listen_once, listen_take);
	for (int i = 0; i < listen_n; i++)
		if (listen_names && listen_names[i] && strcmp(listen_names[i], name) == 0)
			return SD_LISTEN_FDS_START + i;
	return -1;
}

/* ---- logging -------------------------------------------------------------- */

static _Atomic int log_max = VH_LOG_INFO;

static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static bool stderr_is_void(void)
{
	struct stat st;

	if (fstat(STDERR_FILENO, &st) < 0)
		return true;
	/* /dev/null is character device 1:3. */
	return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

/* Decided at each line (an fstat): stderr may be redirected after start,
 * and a forked child may live under other rules than its parent. */
static bool log_to_journal(void)
{
	bool by_systemd = getenv("NOTIFY_SOCKET") || getenv("INVOCATION_ID");

	/* libsystemd drops a line silently when no journal listens: look
	 * first, so that the line goes to stderr instead. */
	if (access("/run/systemd/journal/socket", F_OK) < 0)
		return false;
	return stderr_is_journal() || (by_systemd && stderr_is_void());
}

void vh_log_set_level(enum vh_log_level max)
{
	atomic_store(&log_max, (int)max);
}

static const char *level_name(enum vh_log_level l)
{
	switch (l) {
	case VH_LOG_ERR: return "error";
	case VH_LOG_WARNING: return "warning";
	case VH_LOG_INFO: return "info";
	case VH_LOG_DEBUG: return "debug";
	}
	return "log";
}

/* Every message is escaped whole (agent/logesc.h): its arguments carry
 * request paths, names and certificate subjects, and one control byte
 * among them would forge a line in the log or the journal. */
void vh_log(enum vh_log_level level, const char *fmt, ...)
{
	char raw[2048], buf[VH_LOG_ESCAPE_MAX(2048)];
	va_list ap;

	if ((int)level > atomic_load(&log_max))
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	vh_log_escape(raw, buf, sizeof(buf));
	if (log_to_journal() && sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", (int)level,
						"SYSLOG_IDENTIFIER=vhagent", NULL) >= 0)
		return;
	/* One write per line, so threads do not interleave inside a line. */
	char line[sizeof(buf) + 32];
	int n = snprintf(line, sizeof(line), "vhagent: %s: %s\n", level_name(level), buf);
	if (n > 0) {
		size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
		line[len - 1] = '\n'; /* kept when the line was cut */
		ssize_t w;
		do
			w = write(STDERR_FILENO, line, len);
		while (w < 0 && errno == EINTR);
	}
}
