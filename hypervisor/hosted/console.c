/* Guest console output (UART, console hypercall): one log file per VM,
 * <log-dir>/<vm name>.log, appended across power cycles.  Bytes are
 * buffered and written at each newline or when the buffer fills, so a
 * guest printing a character at a time costs one write per line, not per
 * byte; housekeeping flushes partial lines a few times a second.  The
 * file holds the whole stream; the protocol's VM_CONSOLE reads the tail
 * the core keeps (core/console.c), not this file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hosted.h"

void vh_hosted_console_open(struct vh_hosted_console *c, const char *dir, const char *vm_name)
{
	char path[4096];

	c->len = 0;
	c->fd = -1;
	if (snprintf(path, sizeof(path), "%s/%s.log", dir, vm_name) >= (int)sizeof(path))
		return;
	/* VM names are letters, digits, '-', '_', '.' (the core validates),
	 * never '/', so the file stays inside dir.  O_NOFOLLOW: a link
	 * planted there cannot redirect the daemon's writes. */
	c->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
}

void vh_hosted_console_flush(struct vh_hosted_console *c)
{
	size_t off = 0;

	while (c->fd >= 0 && off < c->len) {
		ssize_t n = write(c->fd, c->buf + off, c->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a full disk loses console output, never a VM */
		off += (size_t)n;
	}
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
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
