/* SPDX-License-Identifier: Apache-2.0 */
/* Guest console output (UART, console hypercall): one log file per VM,
 * <log-dir>/<vm name>.log, appended across power cycles.  Bytes are
 * buffered and written at each newline or when the buffer fills, so a
 * guest printing a character at a time costs one write per line, not per
 * byte; housekeeping flushes partial lines a few times a second.  The
 * protocol's VM_CONSOLE reads the tail the core keeps (core/console.c),
 * not this file.
 *
 * The files are bounded: when <vm>.log would pass --console-log-max bytes
 * it becomes <vm>.log.1 (.1 becomes .2, ..., up to --console-log-keep
 * rotated files; the oldest goes), so a VM holds at most
 * max * (keep + 1) bytes of disk.  How fast bytes arrive at all is the
 * core's console budget (vh/console.h).  Undefining the VM removes every
 * one of its files. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"

/* File i of a VM's log: base (<dir>/<vm>.log) for 0, base.<i> after;
 * false when the path does not fit. */
static bool numbered(char *out, size_t cap, const char *base, uint32_t i)
{
	int n = i ? snprintf(out, cap, "%s.%u", base, i) : snprintf(out, cap, "%s", base);
	return n >= 0 && (size_t)n < cap;
}

static bool base_path(char *out, size_t cap, const char *dir, const char *vm_name)
{
	int n = snprintf(out, cap, "%s/%s.log", dir, vm_name);
	return n >= 0 && (size_t)n < cap;
}

static void open_current(struct vh_hosted_console *c)
{
	struct stat st;

	/* VM names are letters, digits, '-', '_', '.' (the core validates),
	 * never '/', so the file stays inside dir.  O_NOFOLLOW: a link
	 * planted there cannot redirect the daemon's writes. */
	c->fd = open(c->base, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
	/* A file left by an earlier run counts against the bound. */
	c->size = c->fd >= 0 && fstat(c->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

void vh_hosted_console_open(struct vh_hosted_console *c, const char *dir, const char *vm_name,
			    const struct vh_hosted_log_limits *lim)
{
	c->len = 0;
	c->fd = -1;
	c->size = 0;
	c->lim = *lim;
	if (!base_path(c->base, sizeof(c->base), dir, vm_name)) {
		c->base[0] = '\0';
		return;
	}
	open_current(c);
}

/* <vm>.log.(keep-1) -> .keep, ..., <vm>.log -> .1, then a new <vm>.log.
 * With keep 0 the file starts over empty. */
static void rotate(struct vh_hosted_console *c)
{
	char from[sizeof(c->base) + 16], to[sizeof(c->base) + 16];

	close(c->fd);
	c->fd = -1;
	if (!c->lim.keep) {
		c->fd = open(c->base, O_WRONLY | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		c->size = 0;
		return;
	}
	for (uint32_t i = c->lim.keep; i > 0; i--)
		if (numbered(from, sizeof(from), c->base, i - 1) &&
		    numbered(to, sizeof(to), c->base, i))
			rename(from, to); /* a missing older file is no error */
	open_current(c);
}

/* Appends n bytes to the current file, rotating at the size bound. */
static void append(struct vh_hosted_console *c, const char *p, size_t n)
{
	while (c->fd >= 0 && n) {
		uint64_t room = c->size < c->lim.max_bytes ? c->lim.max_bytes - c->size : 0;
		size_t k = room < n ? (size_t)room : n;
		ssize_t w;

		if (!k) {
			rotate(c);
			continue;
		}
		w = write(c->fd, p, k);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* a full disk loses console output, never a VM */
		c->size += (uint64_t)w;
		p += w;
		n -= (size_t)w;
	}
}

void vh_hosted_console_flush(struct vh_hosted_console *c)
{
	append(c, c->buf, c->len);
	c->len = 0;
}

void vh_hosted_console_write(struct vh_hosted_console *c, const char *bytes, size_t n)
{
	while (n) {
		size_t room = sizeof(c->buf) - c->len, k = n < room ? n : room;
		memcpy(c->buf + c->len, bytes, k);
		c->len += k;
		bytes += k;
		n -= k;
		if (c->len == sizeof(c->buf) || memchr(c->buf + c->len - k, '\n', k))
			vh_hosted_console_flush(c);
	}
}

void vh_hosted_console_close(struct vh_hosted_console *c)
{
	vh_hosted_console_flush(c);
	vh_hosted_console_discard(c);
}

void vh_hosted_console_discard(struct vh_hosted_console *c)
{
	c->len = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

void vh_hosted_console_remove(const char *dir, const char *vm_name,
			      const struct vh_hosted_log_limits *lim)
{
	char base[4096], path[sizeof(base) + 16];

	if (!base_path(base, sizeof(base), dir, vm_name))
		return;
	/* keep may have been larger in an earlier run: the files past it
	 * were never written by this one, so only this run's set goes. */
	for (uint32_t i = 0; i <= lim->keep; i++)
		if (numbered(path, sizeof(path), base, i))
			unlink(path);
}
