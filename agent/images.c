/* SPDX-License-Identifier: Apache-2.0 */
/* Guest images (agent/images.h).
 *
 * An upload goes to ".upload-<random>" in the images folder (a dotted
 * name: vh-hosted loads only names without a leading dot, and image names
 * may not start with one), hashed with SHA-256 as it streams, then
 * verified, fsynced, renamed into place and the folder fsynced.
 *
 * The digest of each image is kept in .meta/<name>.sha256 as
 * "<hex> <size> <inode> <mtime ns>".  The identity fields let a reader
 * tell a stale record (a crash between the rename and the meta write, or
 * an image copied in by hand) from a current one: a stale or missing
 * record is recomputed from the file and rewritten, so a listing never
 * shows a wrong digest. */
#define _GNU_SOURCE
#include "agent/images.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/fsutil.h"

#define META_DIR      ".meta"
#define UPLOAD_PREFIX ".upload-"

struct vh_images {
	char *dir;
	int dirfd;
	int metafd;
	_Atomic uint64_t max_bytes;
	/* Serializes renames into place with their meta records, so that
	 * "created" is exact and two uploads of one name do not interleave
	 * their meta writes. */
	pthread_mutex_t lock;
};

struct vh_image_upload {
	struct vh_images *im;
	char name[64];
	char tmp[32];
	char expect[65];
	int fd;
	uint64_t size;
	EVP_MD_CTX *md;
};

static bool image_name_valid(const char *s)
{
	return vh_fs_name_ok(s, 63) && s[0] != '.';
}

/* 64 hex digits in either case, copied in lower case to out. */
static bool digest_parse(const char *s, char out[65])
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 64; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[64] = '\0';
	return true;
}

static enum vh_image_err fail(enum vh_image_err e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum vh_image_err fail(enum vh_image_err e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* A failed write, fsync or rename: a full file system is the caller's
 * to wait out (507), anything else is ours (500). */
static enum vh_image_err io_err(int e)
{
	return vh_fs_is_full(e) ? VH_IMAGE_ENOSPC : VH_IMAGE_EIO;
}

/* Leftovers of uploads a crash interrupted: only the agent uploads, and
 * it opens the folder once at start, so none of them is live. */
static void remove_stale_uploads(struct vh_images *im)
{
	DIR *d = fdopendir(dup(im->dirfd));
	struct dirent *de;
	int removed = 0;

	if (!d)
		return;
	rewinddir(d); /* the dup shares its offset with dirfd */
	while ((de = readdir(d)))
		if (strncmp(de->d_name, UPLOAD_PREFIX, strlen(UPLOAD_PREFIX)) == 0 &&
		    unlinkat(im->dirfd, de->d_name, 0) == 0)
			removed = 1;
	closedir(d);
	if (removed)
		vh_fs_fsync_dirfd(im->dirfd);
}

struct vh_images *vh_images_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
	struct vh_images *im;

	if (vh_fs_mkdir_p(dir, 0755, err, errlen) < 0)
		return NULL;
	im = calloc(1, sizeof(*im));
	if (!im || !(im->dir = strdup(dir))) {
		free(im);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	im->metafd = -1;
	im->max_bytes = max_bytes;
	pthread_mutex_init(&im->lock, NULL);
	im->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (im->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (mkdirat(im->dirfd, META_DIR, 0755) == 0)
		vh_fs_fsync_dirfd(im->dirfd);
	else if (errno != EEXIST) {
		snprintf(err, errlen, "%s/" META_DIR ": %s", dir, strerror(errno));
		goto fail;
	}
	im->metafd = openat(im->dirfd, META_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (im->metafd < 0) {
		snprintf(err, errlen, "%s/" META_DIR ": %s", dir, strerror(errno));
		goto fail;
	}
	remove_stale_uploads(im);
	return im;
fail:
	vh_images_close(im);
	return NULL;
}

void vh_images_close(struct vh_images *im)
{
	if (!im)
		return;
	if (im->dirfd >= 0)
		close(im->dirfd);
	if (im->metafd >= 0)
		close(im->metafd);
	pthread_mutex_destroy(&im->lock);
	free(im->dir);
	free(im);
}

const char *vh_images_dir(const struct vh_images *im)
{
	return im->dir;
}

void vh_images_set_max_bytes(struct vh_images *im, uint64_t max_bytes)
{
	im->max_bytes = max_bytes;
}

enum vh_image_err vh_image_upload_begin(struct vh_images *im, const char *name,
					const char *expect_sha256, struct vh_image_upload **up,
					char *err, size_t errlen)
{
	struct vh_image_upload *u;

	*up = NULL;
	if (!name || !image_name_valid(name))
		return fail(VH_IMAGE_EINVAL, err, errlen,
			    "bad image name \"%.80s\": 1..63 of A-Z a-z 0-9 . _ -, no leading dot",
			    name ? name : "");
	u = calloc(1, sizeof(*u));
	if (!u)
		return fail(VH_IMAGE_EIO, err, errlen, "out of memory");
	u->im = im;
	u->fd = -1;
	snprintf(u->name, sizeof(u->name), "%s", name);
	if (expect_sha256 && !digest_parse(expect_sha256, u->expect)) {
		free(u);
		return fail(VH_IMAGE_EINVAL, err, errlen,
			    "bad SHA-256 \"%.80s\": 64 hexadecimal digits expected", expect_sha256);
	}
	u->md = EVP_MD_CTX_new();
	if (!u->md || !EVP_DigestInit_ex(u->md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(u->md);
		free(u);
		return fail(VH_IMAGE_EIO, err, errlen, "SHA-256 unavailable");
	}
	u->fd = vh_fs_create_unique(im->dirfd, UPLOAD_PREFIX, 8, u->tmp, sizeof(u->tmp));
	if (u->fd < 0) {
		int e = errno;
		EVP_MD_CTX_free(u->md);
		free(u);
		return fail(io_err(e), err, errlen, "%s: cannot create an upload file: %s", im->dir,
			    strerror(e));
	}
	*up = u;
	return VH_IMAGE_OK;
}

enum vh_image_err vh_image_upload_write(struct vh_image_upload *up, const void *buf, size_t len,
					char *err, size_t errlen)
{
	uint64_t max = up->im->max_bytes;

	if (len > max || up->size > max - len)
		return fail(VH_IMAGE_ETOOBIG, err, errlen,
			    "image %s is larger than the limit of %" PRIu64 " bytes", up->name,
			    max);
	if (!EVP_DigestUpdate(up->md, buf, len))
		return fail(VH_IMAGE_EIO, err, errlen, "SHA-256 failed");
	if (vh_fs_write_all(up->fd, buf, len) < 0)
		return fail(io_err(errno), err, errlen, "%s/%s: write: %s", up->im->dir, up->tmp,
			    strerror(errno));
	up->size += len;
	return VH_IMAGE_OK;
}

void vh_image_upload_abort(struct vh_image_upload *up)
{
	if (!up)
		return;
	if (up->fd >= 0) {
		close(up->fd);
		unlinkat(up->im->dirfd, up->tmp, 0);
	}
	EVP_MD_CTX_free(up->md);
	free(up);
}

static int meta_name(const char *name, char *out, size_t cap)
{
	return (size_t)snprintf(out, cap, "%s.sha256", name) < cap ? 0 : -1;
}

static int meta_write(struct vh_images *im, const char *name, const char *hex,
		      const struct stat *st, char *err, size_t errlen)
{
	char mname[80], line[160], where[PATH_MAX];

	if (meta_name(name, mname, sizeof(mname)) < 0)
		return -1;
	snprintf(line, sizeof(line), "%s %" PRIu64 " %" PRIu64 " %lld\n", hex,
		 (uint64_t)st->st_size, (uint64_t)st->st_ino,
		 (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec);
	snprintf(where, sizeof(where), "%s/" META_DIR, im->dir);
	return vh_fs_write_atomic_at(im->metafd, where, mname, line, strlen(line), 0644, err,
				     errlen);
}

/* The recorded digest, when it still describes the file st. */
static bool meta_read(struct vh_images *im, const char *name, const struct stat *st, char hex[65])
{
	char mname[80], *data, h[65];
	unsigned long long size, ino;
	long long mt;
	size_t len;
	bool ok;

	if (meta_name(name, mname, sizeof(mname)) < 0 ||
	    vh_fs_read_at(im->metafd, mname, 512, &data, &len) < 0)
		return false;
	ok = sscanf(data, "%64s %llu %llu %lld", h, &size, &ino, &mt) == 4 &&
	     digest_parse(h, hex) && size == (unsigned long long)st->st_size &&
	     ino == (unsigned long long)st->st_ino &&
	     mt == (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	free(data);
	return ok;
}

static int hash_fd(int fd, char hex[65])
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int rc = -1;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(c, buf, (size_t)n))
			goto out;
	}
	if (!EVP_DigestFinal_ex(c, md, &mdlen))
		goto out;
	vh_hex_encode(md, mdlen, hex);
	rc = 0;
out:
	EVP_MD_CTX_free(c);
	return rc;
}

enum vh_image_err vh_image_upload_finish(struct vh_image_upload *up, struct vh_image_info *out,
					 int *created, char *err, size_t errlen)
{
	struct vh_images *im = up->im;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[65], merr[256];
	enum vh_image_err rc;
	struct stat st;
	int existed;

	if (!EVP_DigestFinal_ex(up->md, md, &mdlen) || mdlen != 32) {
		rc = fail(VH_IMAGE_EIO, err, errlen, "SHA-256 failed");
		goto abort;
	}
	vh_hex_encode(md, mdlen, hex);
	if (up->expect[0] && strcmp(hex, up->expect) != 0) {
		rc = fail(VH_IMAGE_ECHECKSUM, err, errlen,
			  "image %s: SHA-256 of the body is %s, not the %s given", up->name, hex,
			  up->expect);
		goto abort;
	}
	if (fchmod(up->fd, 0644) < 0 || fsync(up->fd) < 0 || fstat(up->fd, &st) < 0) {
		rc = fail(io_err(errno), err, errlen, "%s/%s: %s", im->dir, up->tmp,
			  strerror(errno));
		goto abort;
	}
	pthread_mutex_lock(&im->lock);
	existed = faccessat(im->dirfd, up->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	if (renameat(im->dirfd, up->tmp, im->dirfd, up->name) < 0) {
		pthread_mutex_unlock(&im->lock);
		rc = fail(io_err(errno), err, errlen, "%s/%s: rename: %s", im->dir, up->name,
			  strerror(errno));
		goto abort;
	}
	close(up->fd);
	up->fd = -1;
	if (vh_fs_fsync_dirfd(im->dirfd) < 0) {
		pthread_mutex_unlock(&im->lock);
		rc = fail(io_err(errno), err, errlen, "%s: fsync: %s", im->dir, strerror(errno));
		goto abort;
	}
	/* A failed meta write costs only a re-hash at the next listing. */
	meta_write(im, up->name, hex, &st, merr, sizeof(merr));
	pthread_mutex_unlock(&im->lock);
	if (out) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", up->name);
		out->size = (uint64_t)st.st_size;
		memcpy(out->sha256, hex, sizeof(out->sha256));
		out->mtime = st.st_mtim.tv_sec;
	}
	if (created)
		*created = !existed;
	vh_image_upload_abort(up); /* frees; the temporary name is gone */
	return VH_IMAGE_OK;
abort:
	vh_image_upload_abort(up);
	return rc;
}

enum vh_image_err vh_images_stat(struct vh_images *im, const char *name, struct vh_image_info *out)
{
	struct stat st;
	char hex[65];
	int fd;

	if (!image_name_valid(name))
		return VH_IMAGE_EINVAL;
	fd = openat(im->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? VH_IMAGE_ENOENT : VH_IMAGE_EIO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return VH_IMAGE_ENOENT;
	}
	if (!meta_read(im, name, &st, hex)) {
		char merr[256];
		if (hash_fd(fd, hex) < 0) {
			close(fd);
			return VH_IMAGE_EIO;
		}
		pthread_mutex_lock(&im->lock);
		meta_write(im, name, hex, &st, merr, sizeof(merr));
		pthread_mutex_unlock(&im->lock);
	}
	close(fd);
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->size = (uint64_t)st.st_size;
	memcpy(out->sha256, hex, sizeof(out->sha256));
	out->mtime = st.st_mtim.tv_sec;
	return VH_IMAGE_OK;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vh_images_each(struct vh_images *im, vh_image_visit_fn fn, void *ctx)
{
	DIR *d = fdopendir(dup(im->dirfd));
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;

	if (!d)
		return -1;
	rewinddir(d); /* the dup shares its offset with dirfd */
	while ((de = readdir(d))) {
		if (!image_name_valid(de->d_name))
			continue; /* dot files: uploads, meta */
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
	if (!rc && n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; !rc && i < n; i++) {
		struct vh_image_info info;
		/* Gone since the listing, or not a regular file: not an image. */
		if (vh_images_stat(im, names[i], &info) != VH_IMAGE_OK)
			continue;
		rc = fn(ctx, &info);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

enum vh_image_err vh_images_delete(struct vh_images *im, const char *name, char *err, size_t errlen)
{
	char mname[80];
	struct stat st;

	if (!image_name_valid(name))
		return fail(VH_IMAGE_EINVAL, err, errlen, "bad image name \"%.80s\"", name);
	pthread_mutex_lock(&im->lock);
	if (fstatat(im->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
		pthread_mutex_unlock(&im->lock);
		return fail(VH_IMAGE_ENOENT, err, errlen, "no image named %s", name);
	}
	if (unlinkat(im->dirfd, name, 0) < 0) {
		int e = errno;
		pthread_mutex_unlock(&im->lock);
		return fail(e == ENOENT ? VH_IMAGE_ENOENT : VH_IMAGE_EIO, err, errlen,
			    "%s/%s: unlink: %s", im->dir, name, strerror(e));
	}
	if (meta_name(name, mname, sizeof(mname)) == 0 && unlinkat(im->metafd, mname, 0) == 0)
		vh_fs_fsync_dirfd(im->metafd);
	if (vh_fs_fsync_dirfd(im->dirfd) < 0) {
		int e = errno;
		pthread_mutex_unlock(&im->lock);
		return fail(VH_IMAGE_EIO, err, errlen, "%s: fsync: %s", im->dir, strerror(e));
	}
	pthread_mutex_unlock(&im->lock);
	return VH_IMAGE_OK;
}
