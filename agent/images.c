/* SPDX-License-Identifier: Apache-2.0 */
/* Guest images (agent/images.h).
 *
 * An upload is agent/upload.c's: ".upload-<random>" in the images folder
 * (a dotted name: vh-hosted loads only names without a leading dot, and
 * image names may not start with one), hashed with SHA-256 as it streams,
 * then verified, fsynced, renamed into place and the folder fsynced.
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

#include "agent/fsutil.h"

#define META_DIR ".meta"

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
	struct vh_upload *u;
};

static bool image_name_valid(const char *s)
{
	return vh_fs_name_ok(s, 63) && s[0] != '.';
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
	/* Only the agent uploads, and it opens the folder once at start. */
	vh_upload_clean(im->dirfd);
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

enum vh_file_err vh_image_upload_begin(struct vh_images *im, const char *name,
				       const char *expect_sha256, struct vh_image_upload **up,
				       char *err, size_t errlen)
{
	struct vh_image_upload *u;
	enum vh_file_err e;
	char what[80];

	*up = NULL;
	if (!name || !image_name_valid(name))
		return vh_file_fail(VH_FILE_EINVAL, err, errlen,
				    "bad image name \"%.80s\": 1..63 of A-Z a-z 0-9 . _ -, no "
				    "leading dot",
				    name ? name : "");
	u = calloc(1, sizeof(*u));
	if (!u)
		return vh_file_fail(VH_FILE_EIO, err, errlen, "out of memory");
	u->im = im;
	snprintf(u->name, sizeof(u->name), "%s", name);
	snprintf(what, sizeof(what), "image %s", name);
	e = vh_upload_begin(im->dirfd, im->dir, what, expect_sha256, &u->u, err, errlen);
	if (e != VH_FILE_OK) {
		free(u);
		return e;
	}
	*up = u;
	return VH_FILE_OK;
}

enum vh_file_err vh_image_upload_write(struct vh_image_upload *up, const void *buf, size_t len,
				       char *err, size_t errlen)
{
	return vh_upload_write(up->u, buf, len, up->im->max_bytes, err, errlen);
}

void vh_image_upload_abort(struct vh_image_upload *up)
{
	if (!up)
		return;
	vh_upload_abort(up->u);
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
	     vh_sha256_parse(h, hex) && size == (unsigned long long)st->st_size &&
	     ino == (unsigned long long)st->st_ino &&
	     mt == (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
	free(data);
	return ok;
}

enum vh_file_err vh_image_upload_finish(struct vh_image_upload *up, struct vh_image_info *out,
					int *created, char *err, size_t errlen)
{
	struct vh_images *im = up->im;
	char hex[65], merr[256];
	enum vh_file_err rc;
	struct stat st;
	int existed;

	if ((rc = vh_upload_seal(up->u, 0644, hex, &st, err, errlen)) != VH_FILE_OK)
		goto out;
	pthread_mutex_lock(&im->lock);
	existed = faccessat(im->dirfd, up->name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
	rc = vh_upload_commit(up->u, up->name, true, err, errlen);
	/* A failed meta write costs only a re-hash at the next listing. */
	if (rc == VH_FILE_OK)
		meta_write(im, up->name, hex, &st, merr, sizeof(merr));
	pthread_mutex_unlock(&im->lock);
	if (rc != VH_FILE_OK)
		goto out;
	if (out) {
		memset(out, 0, sizeof(*out));
		snprintf(out->name, sizeof(out->name), "%s", up->name);
		out->size = (uint64_t)st.st_size;
		memcpy(out->sha256, hex, sizeof(out->sha256));
		out->mtime = st.st_mtim.tv_sec;
	}
	if (created)
		*created = !existed;
out:
	vh_image_upload_abort(up); /* frees; after a commit the temporary name is gone */
	return rc;
}

enum vh_file_err vh_images_stat(struct vh_images *im, const char *name, struct vh_image_info *out)
{
	struct stat st;
	char hex[65];
	int fd;

	if (!image_name_valid(name))
		return VH_FILE_EINVAL;
	fd = openat(im->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? VH_FILE_ENOENT : VH_FILE_EIO;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return VH_FILE_ENOENT;
	}
	if (!meta_read(im, name, &st, hex)) {
		char merr[256];
		if (vh_sha256_fd(fd, hex) < 0) {
			close(fd);
			return VH_FILE_EIO;
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
	return VH_FILE_OK;
}

static bool listed(const char *name)
{
	return image_name_valid(name); /* not the dot files: uploads, meta */
}

int vh_images_each(struct vh_images *im, vh_image_visit_fn fn, void *ctx)
{
	char **names;
	size_t n;
	int rc = 0;

	if (vh_fs_list_names(im->dirfd, listed, &names, &n) < 0)
		return -1;
	for (size_t i = 0; !rc && i < n; i++) {
		struct vh_image_info info;
		/* Gone since the listing, or not a regular file: not an image. */
		if (vh_images_stat(im, names[i], &info) != VH_FILE_OK)
			continue;
		rc = fn(ctx, &info);
	}
	vh_fs_names_free(names, n);
	return rc;
}

enum vh_file_err vh_images_delete(struct vh_images *im, const char *name, char *err, size_t errlen)
{
	char mname[80];
	struct stat st;

	if (!image_name_valid(name))
		return vh_file_fail(VH_FILE_EINVAL, err, errlen, "bad image name \"%.80s\"", name);
	pthread_mutex_lock(&im->lock);
	if (fstatat(im->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
		pthread_mutex_unlock(&im->lock);
		return vh_file_fail(VH_FILE_ENOENT, err, errlen, "no image named %s", name);
	}
	if (unlinkat(im->dirfd, name, 0) < 0) {
		int e = errno;
		pthread_mutex_unlock(&im->lock);
		return vh_file_fail(e == ENOENT ? VH_FILE_ENOENT : VH_FILE_EIO, err, errlen,
			    "%s/%s: unlink: %s", im->dir, name, strerror(e));
	}
	if (meta_name(name, mname, sizeof(mname)) == 0 && unlinkat(im->metafd, mname, 0) == 0)
		vh_fs_fsync_dirfd(im->metafd);
	if (vh_fs_fsync_dirfd(im->dirfd) < 0) {
		int e = errno;
		pthread_mutex_unlock(&im->lock);
		return vh_file_fail(VH_FILE_EIO, err, errlen, "%s: fsync: %s", im->dir,
				    strerror(e));
	}
	pthread_mutex_unlock(&im->lock);
	return VH_FILE_OK;
}
