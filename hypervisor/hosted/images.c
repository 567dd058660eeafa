/* SPDX-License-Identifier: Apache-2.0 */
/* Guest images by name: boot.kernel and boot.modules[i].image name files
 * in the image directory (--images).  A name is a plain file name: no
 * '/', not "." or "..", so a client cannot make the daemon (root) read
 * any other file. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"

int vh_hosted_image_read(const char *dir, const char *name, uint64_t max, void **bytes,
			 size_t *len, char *why, size_t whylen)
{
	char path[4096];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	*bytes = NULL;
	*len = 0;
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		snprintf(why, whylen, "image \"%s\": not a plain file name", name);
		return -1;
	}
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		snprintf(why, whylen, "image \"%s\": path too long", name);
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(why, whylen, "image \"%s\" in %s: %s", name, dir, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "image \"%s\": not a regular file", name);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(why, whylen, "image \"%s\": %lld bytes, larger than the VM's memory", name,
			 (long long)st.st_size);
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		snprintf(why, whylen, "image \"%s\": out of memory", name);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(why, whylen, "image \"%s\": read: %s", name,
				 n < 0 ? strerror(errno) : "short file");
			free(buf);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	*bytes = buf;
	*len = got;
	return 0;
}
