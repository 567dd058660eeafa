/* SPDX-License-Identifier: Apache-2.0 */
/* Crash-safe record store (agent/store.h).
 *
 * One file per record, written through vh_fs_write_atomic_at: temporary
 * file ".tmp-<key>-<random>" in the collection's folder, write, fsync,
 * rename over the key, fsync the folder.  Readers therefore see a whole
 * old or a whole new record, never a mix, and an acknowledged put
 * survives a crash or power loss.
 *
 * Temporary files a crash left behind are removed by vh_store_each.  A
 * second process (`vhagent token create`) may be writing into the same
 * folder at that moment, so writers hold a shared flock on the
 * collection's folder for the life of their temporary file and the
 * clean-up takes the exclusive lock without waiting: when a writer is
 * busy it leaves the leftovers for next time rather than delete a live
 * temporary file. */
#define _GNU_SOURCE
#include "agent/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/fsutil.h"

#define FORMAT_FILE "FORMAT"
#define KEY_MAX     128
#define RECORD_MAX  (64u << 20)
#define CORRUPT_TAG ".corrupt-"

struct vh_store {
	char *dir;
	int dirfd;
};

/* Keys and collection names: [A-Za-z0-9._-], 1..128, no leading dot (so
 * they never collide with temporary files), and never a quarantined
 * name. */
static int name_valid(const char *s)
{
	return vh_fs_name_ok(s, KEY_MAX) && s[0] != '.' && strstr(s, CORRUPT_TAG) == NULL;
}

static int check_names(const char *collection, const char *key, char *err, size_t errlen)
{
	if (!name_valid(collection)) {
		snprintf(err, errlen, "bad collection name \"%.80s\"", collection);
		errno = EINVAL;
		return -1;
	}
	if (key && !name_valid(key)) {
		snprintf(err, errlen,
			 "bad record key \"%.80s\" (1..128 of A-Z a-z 0-9 . _ -, no leading dot)",
			 key);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Reads FORMAT, or writes it when the folder has none yet. */
static int check_format(struct vh_store *s, char *err, size_t errlen)
{
	char line[64], *data;
	size_t len;
	int ver, used = 0;

	if (vh_fs_read_at(s->dirfd, FORMAT_FILE, 4096, &data, &len) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s/" FORMAT_FILE ": %s", s->dir, strerror(errno));
			return -1;
		}
		snprintf(line, sizeof(line), "vh-state %d\n", VH_STORE_FORMAT);
		return vh_fs_write_atomic_at(s->dirfd, s->dir, FORMAT_FILE, line, strlen(line),
					     0640, err, errlen);
	}
	if (sscanf(data, "vh-state %d%n", &ver, &used) != 1 || ver < 0 ||
	    strspn(data + used, " \t\r\n") != len - (size_t)used) {
		snprintf(err, errlen,
			 "%s/" FORMAT_FILE ": not a vh state folder format line (expected "
			 "\"vh-state %d\")",
			 s->dir, VH_STORE_FORMAT);
		free(data);
		return -1;
	}
	free(data);
	if (ver != VH_STORE_FORMAT) {
		snprintf(err, errlen,
			 "%s has state format %d; this vhagent reads format %d only: refusing to "
			 "touch it",
			 s->dir, ver, VH_STORE_FORMAT);
		return -1;
	}
	return 0;
}

struct vh_store *vh_store_open(const char *dir, char *err, size_t errlen)
{
	struct vh_store *s;

	if (vh_fs_mkdir_p(dir, 0750, err, errlen) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(s->dir);
		free(s);
		return NULL;
	}
	if (check_format(s, err, errlen) < 0) {
		vh_store_close(s);
		return NULL;
	}
	return s;
}

void vh_store_close(struct vh_store *s)
{
	if (!s)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->dir);
	free(s);
}

const char *vh_store_dir(const struct vh_store *s)
{
	return s->dir;
}

/* Opens the collection's folder; create makes it (durably) if missing.
 * -1 with errno ENOENT when missing and !create. */
static int open_collection(struct vh_store *s, const char *collection, int create, char *err,
			   size_t errlen)
{
	int fd = openat(s->dirfd, collection, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(s->dirfd, collection, 0750) < 0 && errno != EEXIST)
			goto fail;
		if (vh_fs_fsync_dirfd(s->dirfd) < 0)
			goto fail;
		fd = openat(s->dirfd, collection, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd >= 0)
		return fd;
fail:;
	int e = errno;
	snprintf(err, errlen, "%s/%s: %s", s->dir, collection, strerror(e));
	errno = e;
	return -1;
}

static int lock_fd(int fd, int op)
{
	int rc;

	do
		rc = flock(fd, op);
	while (rc < 0 && errno == EINTR);
	return rc;
}

int vh_store_put(struct vh_store *s, const char *collection, const char *key, const void *data,
		 size_t len, char *err, size_t errlen)
{
	char where[PATH_MAX];
	int fd, rc, e;

	if (check_names(collection, key, err, errlen) < 0)
		return -1;
	fd = open_collection(s, collection, 1, err, errlen);
	if (fd < 0)
		return -1;
	if (lock_fd(fd, LOCK_SH) < 0) {
		e = errno;
		snprintf(err, errlen, "%s/%s: flock: %s", s->dir, collection, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	snprintf(where, sizeof(where), "%s/%s", s->dir, collection);
	rc = vh_fs_write_atomic_at(fd, where, key, data, len, 0640, err, errlen);
	e = errno;
	close(fd); /* drops the lock */
	errno = e;
	return rc;
}

int vh_store_delete(struct vh_store *s, const char *collection, const char *key, char *err,
		    size_t errlen)
{
	int fd, e;

	if (check_names(collection, key, err, errlen) < 0)
		return -1;
	fd = open_collection(s, collection, 0, err, errlen);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (unlinkat(fd, key, 0) < 0) {
		e = errno;
		close(fd);
		if (e == ENOENT)
			return 0;
		snprintf(err, errlen, "%s/%s/%s: unlink: %s", s->dir, collection, key, strerror(e));
		errno = e;
		return -1;
	}
	if (vh_fs_fsync_dirfd(fd) < 0) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "%s/%s: fsync: %s", s->dir, collection, strerror(e));
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

int vh_store_get(struct vh_store *s, const char *collection, const char *key, char **data,
		 size_t *len, char *err, size_t errlen)
{
	int fd, e;

	if (check_names(collection, key, err, errlen) < 0)
		return -1;
	fd = open_collection(s, collection, 0, err, errlen);
	if (fd < 0)
		return -1;
	if (vh_fs_read_at(fd, key, RECORD_MAX, data, len) < 0) {
		e = errno;
		close(fd);
		snprintf(err, errlen, "%s/%s/%s: %s", s->dir, collection, key,
			 e == ENOENT ? "no such record" : strerror(e));
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes temporary files, unless a writer holds the folder. */
static void remove_leftovers(int fd, char **temps, size_t ntemps)
{
	if (!ntemps || lock_fd(fd, LOCK_EX | LOCK_NB) < 0)
		return;
	for (size_t i = 0; i < ntemps; i++)
		unlinkat(fd, temps[i], 0);
	vh_fs_fsync_dirfd(fd);
	lock_fd(fd, LOCK_UN);
}

static int push(char ***v, size_t *n, size_t *cap, const char *name)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		char **nv = realloc(*v, nc * sizeof(**v));
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	if (!((*v)[*n] = strdup(name)))
		return -1;
	(*n)++;
	return 0;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int is_regular(int fd, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_REG)
		return 1;
	if (de->d_type != DT_UNKNOWN)
		return 0;
	return fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int vh_store_each(struct vh_store *s, const char *collection, vh_store_visit_fn fn, void *ctx,
		  char *err, size_t errlen)
{
	char **keys = NULL, **temps = NULL;
	size_t nkeys = 0, capkeys = 0, ntemps = 0, captemps = 0;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (check_names(collection, NULL, err, errlen) < 0)
		return -1;
	fd = open_collection(s, collection, 0, err, errlen);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1; /* no collection yet: no records */
	d = fdopendir(dup(fd));
	if (!d) {
		snprintf(err, errlen, "%s/%s: %s", s->dir, collection, strerror(errno));
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		int bad = 0;
		if (vh_fs_is_temp_name(de->d_name))
			bad = push(&temps, &ntemps, &captemps, de->d_name);
		else if (name_valid(de->d_name) && is_regular(fd, de))
			bad = push(&keys, &nkeys, &capkeys, de->d_name);
		if (bad) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
	}
	if (!rc && errno) {
		snprintf(err, errlen, "%s/%s: readdir: %s", s->dir, collection, strerror(errno));
		rc = -1;
	}
	closedir(d);
	if (!rc)
		remove_leftovers(fd, temps, ntemps);
	if (!rc && nkeys)
		qsort(keys, nkeys, sizeof(*keys), cmp_names);
	for (size_t i = 0; !rc && i < nkeys; i++) {
		char *data;
		size_t len;
		if (vh_fs_read_at(fd, keys[i], RECORD_MAX, &data, &len) < 0) {
			if (errno == ENOENT) /* deleted since the listing */
				continue;
			snprintf(err, errlen, "%s/%s/%s: %s", s->dir, collection, keys[i],
				 strerror(errno));
			rc = -1;
			break;
		}
		rc = fn(ctx, keys[i], data, len);
		free(data);
	}
	free_names(keys, nkeys);
	free_names(temps, ntemps);
	close(fd);
	return rc;
}

int vh_store_quarantine(struct vh_store *s, const char *collection, const char *key)
{
	char err[256], name[KEY_MAX + 64];
	long now = (long)time(NULL);
	int fd, rc = -1;

	if (check_names(collection, key, err, sizeof(err)) < 0)
		return -1;
	fd = open_collection(s, collection, 0, err, sizeof(err));
	if (fd < 0)
		return -1;
	for (int n = 0; n < 100; n++) {
		if (n)
			snprintf(name, sizeof(name), "%s" CORRUPT_TAG "%ld-%d", key, now, n);
		else
			snprintf(name, sizeof(name), "%s" CORRUPT_TAG "%ld", key, now);
		/* Never overwrite an earlier quarantined copy. */
		rc = renameat2(fd, key, fd, name, RENAME_NOREPLACE);
		if (rc == 0 || errno != EEXIST)
			break;
	}
	if (rc == 0)
		rc = vh_fs_fsync_dirfd(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}
