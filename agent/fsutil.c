/* SPDX-License-Identifier: Apache-2.0 */
/* File-system helpers shared by the libvhagent modules, and their clock
 * (agent/fsutil.h). */
#define _GNU_SOURCE
#include "agent/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t vh_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define TEMP_PREFIX ".tmp-"

int vh_fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int vh_fs_fsync_dirfd(int dirfd)
{
	/* EINVAL: a file system without directory fsync (some FUSE, some
	 * network file systems); nothing more can be done there. */
	if (fsync(dirfd) < 0 && errno != EINVAL)
		return -1;
	return 0;
}

int vh_fs_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc, e;

	if (fd < 0)
		return -1;
	rc = vh_fs_fsync_dirfd(fd);
	e = errno;
	close(fd);
	errno = e;
	return rc;
}

/* The parent folder of path ("." when it has none). */
static void parent_of(const char *path, char *out, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(out, cap, ".");
	} else if (slash == path) {
		snprintf(out, cap, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= cap)
			n = cap - 1;
		memcpy(out, path, n);
		out[n] = '\0';
	}
}

int vh_fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
	char buf[PATH_MAX], parent[PATH_MAX];
	size_t n = strlen(path);
	struct stat st;

	if (n == 0 || n >= sizeof(buf)) {
		snprintf(err, errlen, "%s: bad folder path", path);
		errno = EINVAL;
		return -1;
	}
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (stat(buf, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		snprintf(err, errlen, "%s: exists and is not a folder", buf);
		errno = ENOTDIR;
		return -1;
	}
	parent_of(buf, parent, sizeof(parent));
	if (strcmp(parent, buf) != 0 && vh_fs_mkdir_p(parent, mode, err, errlen) < 0)
		return -1;
	if (mkdir(buf, mode) < 0 && errno != EEXIST) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot create folder: %s", buf, strerror(e));
		errno = e;
		return -1;
	}
	/* The new entry lives in the parent: make it durable there. */
	if (vh_fs_fsync_dir(parent) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: fsync: %s", parent, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

bool vh_fs_is_temp_name(const char *name)
{
	return strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0;
}

bool vh_fs_is_full(int e)
{
	return e == ENOSPC || e == EDQUOT;
}

bool vh_fs_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

void vh_hex_encode(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int vh_fs_create_unique(int dirfd, const char *prefix, size_t nrandom, char *name, size_t cap)
{
	size_t plen = strlen(prefix);

	if (nrandom > 32 || plen + 2 * nrandom >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int tries = 0; tries < 16; tries++) {
		unsigned char r[32];
		int fd;

		if (getrandom(r, nrandom, 0) != (ssize_t)nrandom)
			return -1;
		memcpy(name, prefix, plen);
		vh_hex_encode(r, nrandom, name + plen);
		fd =
		    openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/* Creates ".tmp-<name>-<12 random hex>" exclusively in dirfd. */
static int open_temp(int dirfd, const char *name, char *tmp, size_t cap)
{
	char prefix[NAME_MAX + 1];

	if ((size_t)snprintf(prefix, sizeof(prefix), TEMP_PREFIX "%s-", name) >= sizeof(prefix)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return vh_fs_create_unique(dirfd, prefix, 6, tmp, cap);
}

int vh_fs_write_atomic_at(int dirfd, const char *dirname, const char *name, const void *data,
			  size_t len, mode_t mode, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1];
	const char *step;
	int fd, e;

	fd = open_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s/%s: cannot create a temporary file: %s", dirname, name,
			 strerror(e));
		errno = e;
		return -1;
	}
	/* Exact mode, whatever the umask: a key must be 0600. */
	step = "chmod";
	if (fchmod(fd, mode) < 0)
		goto fail;
	step = "write";
	if (vh_fs_write_all(fd, data, len) < 0)
		goto fail;
	/* Data first, then the name: after a crash the new name never
	 * points at blocks that did not reach the disk. */
	step = "fsync";
	if (fsync(fd) < 0)
		goto fail;
	step = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	step = "rename";
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		goto fail;
	step = "fsync of the folder";
	if (vh_fs_fsync_dirfd(dirfd) < 0) {
		/* The rename happened; only its durability is in doubt. */
		e = errno;
		snprintf(err, errlen, "%s/%s: %s: %s", dirname, name, step, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	snprintf(err, errlen, "%s/%s: %s: %s", dirname, name, step, strerror(e));
	errno = e;
	return -1;
}

int vh_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
		       size_t errlen)
{
	char dir[PATH_MAX];
	const char *base = strrchr(path, '/');
	int dirfd, rc, e;

	parent_of(path, dir, sizeof(dir));
	base = base ? base + 1 : path;
	if (!*base) {
		snprintf(err, errlen, "%s: not a file path", path);
		errno = EINVAL;
		return -1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	rc = vh_fs_write_atomic_at(dirfd, dir, base, data, len, mode, err, errlen);
	e = errno;
	close(dirfd);
	errno = e;
	return rc;
}

int vh_fs_read_at(int dirfd, const char *name, size_t max, char **data, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t cap, used = 0;
	int fd, e;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		goto fail;
	for (;;) {
		ssize_t n;
		if (used + 1 == cap) {
			/* The file grew while read: take what fits under max. */
			if (cap > max) {
				errno = EFBIG;
				goto fail;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + used, cap - 1 - used);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return 0;
fail:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return -1;
}

int vh_buf_append(char **buf, size_t *len, size_t *cap, size_t first_cap, const void *data,
		  size_t n)
{
	if (n > SIZE_MAX / 4 - *len)
		return -1;
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : first_cap;
		char *nb;

		while (c < *len + n + 1)
			c *= 2;
		if (!(nb = realloc(*buf, c)))
			return -1;
		*buf = nb;
		*cap = c;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vh_fs_list_names(int dirfd, bool (*keep)(const char *name), char ***out, size_t *nout)
{
	DIR *d = fdopendir(dup(dirfd));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (!d)
		return -1;
	rewinddir(d); /* the dup shares its offset with dirfd */
	while ((de = readdir(d))) {
		if (!keep(de->d_name))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 32;
			char **nv = realloc(names, nc * sizeof(*names));
			if (!nv) {
				rc = -1;
				break;
			}
			names = nv;
			cap = nc;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (rc) {
		vh_fs_names_free(names, n);
		return -1;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*nout = n;
	return 0;
}

void vh_fs_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
