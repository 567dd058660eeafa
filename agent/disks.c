/* SPDX-License-Identifier: Apache-2.0 */
/* The datastore (agent/disks.h): disk files by name in one folder.
 *
 * Every change that makes or removes a name is a rename or unlink
 * followed by an fsync of the folder: a new disk appears whole or not at
 * all.  Thin creation writes a temporary file of the size (ftruncate:
 * no blocks), fsyncs it and renames it into place without replacing
 * (renameat2 RENAME_NOREPLACE), the same commit as an import's
 * (agent/upload.c). */
#define _GNU_SOURCE
#include "agent/disks.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/fsutil.h"
#include "vh/vm.h"

/* Sizes are whole sectors: a virtio-blk disk has 512-byte ones. */
#define SECTOR 512u

struct vh_disks {
	char *dir;
	int dirfd;
	/* Serializes what changes a name or a size (create, import's commit,
	 * grow, delete), so the free-space check and the change it admits
	 * are not interleaved with another's. */
	pthread_mutex_t lock;
};

struct vh_disk_import {
	struct vh_disks *ds;
	char name[64];
	struct vh_upload *u;
};

static bool listed(const char *name)
{
	return vh_vm_name_valid(name); /* never the dotted uploads */
}

static enum vh_file_err bad_name(const char *name, char *err, size_t errlen)
{
	return vh_file_fail(VH_FILE_EINVAL, err, errlen,
			    "bad disk name \"%.80s\": 1..63 letters, digits, '.', '_' or '-', "
			    "starting with a letter or digit",
			    name ? name : "");
}

struct vh_disks *vh_disks_open(const char *dir, char *err, size_t errlen)
{
	struct vh_disks *ds;

	if (vh_fs_mkdir_p(dir, 0750, err, errlen) < 0)
		return NULL;
	ds = calloc(1, sizeof(*ds));
	if (!ds || !(ds->dir = strdup(dir))) {
		free(ds);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ds->lock, NULL);
	ds->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ds->dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		vh_disks_close(ds);
		return NULL;
	}
	/* Only the agent imports, and it opens the datastore once at start. */
	vh_upload_clean(ds->dirfd);
	return ds;
}

void vh_disks_close(struct vh_disks *ds)
{
	if (!ds)
		return;
	if (ds->dirfd >= 0)
		close(ds->dirfd);
	pthread_mutex_destroy(&ds->lock);
	free(ds->dir);
	free(ds);
}

const char *vh_disks_dir(const struct vh_disks *ds)
{
	return ds->dir;
}

int vh_disks_free(struct vh_disks *ds, uint64_t *avail, char *err, size_t errlen)
{
	struct statvfs sv;

	if (fstatvfs(ds->dirfd, &sv) < 0) {
		snprintf(err, errlen, "%s: statvfs: %s", ds->dir, strerror(errno));
		return -1;
	}
	*avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return 0;
}

/* need more bytes fit the datastore's free space; else ENOSPC saying
 * by how much they do not. */
static enum vh_file_err room_for(struct vh_disks *ds, const char *what, uint64_t need, char *err,
				 size_t errlen)
{
	uint64_t avail;

	if (vh_disks_free(ds, &avail, err, errlen) < 0)
		return VH_FILE_EIO;
	if (need > avail)
		return vh_file_fail(VH_FILE_ENOSPC, err, errlen,
				    "%s needs %llu bytes but the datastore %s has %llu free", what,
				    (unsigned long long)need, ds->dir, (unsigned long long)avail);
	return VH_FILE_OK;
}

static enum vh_file_err size_ok(uint64_t size, bool zero_ok, char *err, size_t errlen)
{
	if ((!zero_ok && size == 0) || size % SECTOR || size > (uint64_t)INT64_MAX)
		return vh_file_fail(VH_FILE_EINVAL, err, errlen,
				    "size %llu: a disk is a positive whole number of %u-byte "
				    "sectors",
				    (unsigned long long)size, SECTOR);
	return VH_FILE_OK;
}

static void info_of(const char *name, const struct stat *st, struct vh_disk_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->size = (uint64_t)st->st_size;
	out->allocated = (uint64_t)st->st_blocks * 512u;
	out->mtime = st->st_mtim.tv_sec;
}

enum vh_file_err vh_disk_create(struct vh_disks *ds, const char *name, uint64_t size,
				struct vh_disk_info *out, char *err, size_t errlen)
{
	struct vh_upload *u = NULL;
	enum vh_file_err e;
	char what[80], hex[65];
	struct stat st;

	if (!name || !vh_vm_name_valid(name))
		return bad_name(name, err, errlen);
	if ((e = size_ok(size, false, err, errlen)) != VH_FILE_OK)
		return e;
	snprintf(what, sizeof(what), "disk %s", name);
	pthread_mutex_lock(&ds->lock);
	if (faccessat(ds->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		e = vh_file_fail(VH_FILE_EEXIST, err, errlen, "%s exists already", what);
		goto out;
	}
	/* Thin, but a disk the file system could never hold is refused now,
	 * not when the guest's writes fail. */
	if ((e = room_for(ds, what, size, err, errlen)) != VH_FILE_OK)
		goto out;
	if ((e = vh_upload_begin(ds->dirfd, ds->dir, what, NULL, &u, err, errlen)) != VH_FILE_OK)
		goto out;
	/* The upload's file, grown to the size without a byte written. */
	if (ftruncate(vh_upload_fd(u), (off_t)size) < 0) {
		int en = errno;
		e = vh_file_fail(vh_file_io_err(en), err, errlen, "%s/%s: ftruncate: %s", ds->dir,
				 name, strerror(en));
		goto out;
	}
	if ((e = vh_upload_seal(u, 0640, hex, &st, err, errlen)) != VH_FILE_OK ||
	    (e = vh_upload_commit(u, name, false, err, errlen)) != VH_FILE_OK)
		goto out;
	if (out)
		info_of(name, &st, out);
out:
	vh_upload_abort(u);
	pthread_mutex_unlock(&ds->lock);
	return e;
}

enum vh_file_err vh_disk_import_begin(struct vh_disks *ds, const char *name,
				      const char *expect_sha256, uint64_t expect_size,
				      struct vh_disk_import **imp, char *err, size_t errlen)
{
	struct vh_disk_import *d;
	enum vh_file_err e;
	char what[80];

	*imp = NULL;
	if (!name || !vh_vm_name_valid(name))
		return bad_name(name, err, errlen);
	snprintf(what, sizeof(what), "disk %s", name);
	if (faccessat(ds->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return vh_file_fail(VH_FILE_EEXIST, err, errlen, "%s exists already", what);
	if (expect_size != UINT64_MAX &&
	    (e = room_for(ds, what, expect_size, err, errlen)) != VH_FILE_OK)
		return e;
	d = calloc(1, sizeof(*d));
	if (!d)
		return vh_file_fail(VH_FILE_EIO, err, errlen, "out of memory");
	d->ds = ds;
	snprintf(d->name, sizeof(d->name), "%s", name);
	e = vh_upload_begin(ds->dirfd, ds->dir, what, expect_sha256, &d->u, err, errlen);
	if (e != VH_FILE_OK) {
		free(d);
		return e;
	}
	*imp = d;
	return VH_FILE_OK;
}

enum vh_file_err vh_disk_import_write(struct vh_disk_import *imp, const void *buf, size_t len,
				      char *err, size_t errlen)
{
	/* No limit but the file system's: a write it cannot hold is ENOSPC. */
	return vh_upload_write(imp->u, buf, len, (uint64_t)INT64_MAX, err, errlen);
}

void vh_disk_import_abort(struct vh_disk_import *imp)
{
	if (!imp)
		return;
	vh_upload_abort(imp->u);
	free(imp);
}

enum vh_file_err vh_disk_import_finish(struct vh_disk_import *imp, struct vh_disk_info *out,
				       char sha256[65], char *err, size_t errlen)
{
	struct vh_disks *ds = imp->ds;
	uint64_t size = vh_upload_size(imp->u);
	enum vh_file_err e;
	struct stat st;
	char hex[65];

	/* A raw image that is not whole sectors is padded with zeros (a
	 * hole): the guest sees sectors, and the digest is of the body. */
	if (size % SECTOR &&
	    ftruncate(vh_upload_fd(imp->u), (off_t)(size + SECTOR - size % SECTOR)) < 0) {
		int en = errno;
		e = vh_file_fail(vh_file_io_err(en), err, errlen, "%s/%s: ftruncate: %s", ds->dir,
				 imp->name, strerror(en));
		goto out;
	}
	if (size == 0) {
		e = vh_file_fail(VH_FILE_EINVAL, err, errlen,
				 "disk %s: the body is empty (create an empty disk with a size)",
				 imp->name);
		goto out;
	}
	if ((e = vh_upload_seal(imp->u, 0640, hex, &st, err, errlen)) != VH_FILE_OK)
		goto out;
	pthread_mutex_lock(&ds->lock);
	e = vh_upload_commit(imp->u, imp->name, false, err, errlen);
	pthread_mutex_unlock(&ds->lock);
	if (e != VH_FILE_OK)
		goto out;
	if (out)
		info_of(imp->name, &st, out);
	if (sha256)
		memcpy(sha256, hex, 65);
out:
	vh_disk_import_abort(imp);
	return e;
}

enum vh_file_err vh_disk_grow(struct vh_disks *ds, const char *name, uint64_t size,
			      struct vh_disk_info *out, char *err, size_t errlen)
{
	enum vh_file_err e;
	struct stat st;
	char what[80];
	int fd;

	if (!name || !vh_vm_name_valid(name))
		return bad_name(name, err, errlen);
	if ((e = size_ok(size, false, err, errlen)) != VH_FILE_OK)
		return e;
	snprintf(what, sizeof(what), "growing disk %s", name);
	pthread_mutex_lock(&ds->lock);
	fd = openat(ds->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		e = fd < 0 && errno != ENOENT && errno != ELOOP
			? vh_file_fail(VH_FILE_EIO, err, errlen, "%s/%s: %s", ds->dir, name,
				       strerror(errno))
			: vh_file_fail(VH_FILE_ENOENT, err, errlen, "no disk named \"%s\"", name);
		goto out;
	}
	if (size < (uint64_t)st.st_size) {
		e = vh_file_fail(VH_FILE_EINVAL, err, errlen,
				 "size %llu: disk %s has %llu bytes and disks never shrink",
				 (unsigned long long)size, name, (unsigned long long)st.st_size);
		goto out;
	}
	if (size > (uint64_t)st.st_size) {
		if ((e = room_for(ds, what, size - (uint64_t)st.st_size, err, errlen)) !=
		    VH_FILE_OK)
			goto out;
		if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0 || fstat(fd, &st) < 0) {
			int en = errno;
			e = vh_file_fail(vh_file_io_err(en), err, errlen, "%s/%s: grow: %s",
					 ds->dir, name, strerror(en));
			goto out;
		}
	}
	if (out)
		info_of(name, &st, out);
	e = VH_FILE_OK;
out:
	if (fd >= 0)
		close(fd);
	pthread_mutex_unlock(&ds->lock);
	return e;
}

enum vh_file_err vh_disk_stat(struct vh_disks *ds, const char *name, struct vh_disk_info *out)
{
	struct stat st;

	if (!name || !vh_vm_name_valid(name))
		return VH_FILE_EINVAL;
	if (fstatat(ds->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? VH_FILE_ENOENT : VH_FILE_EIO;
	if (!S_ISREG(st.st_mode))
		return VH_FILE_ENOENT;
	info_of(name, &st, out);
	return VH_FILE_OK;
}

enum vh_file_err vh_disk_delete(struct vh_disks *ds, const char *name, char *err, size_t errlen)
{
	struct stat st;
	enum vh_file_err e = VH_FILE_OK;

	if (!name || !vh_vm_name_valid(name))
		return bad_name(name, err, errlen);
	pthread_mutex_lock(&ds->lock);
	if (fstatat(ds->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		e = vh_file_fail(VH_FILE_ENOENT, err, errlen, "no disk named \"%s\"", name);
	else if (unlinkat(ds->dirfd, name, 0) < 0)
		e = vh_file_fail(errno == ENOENT ? VH_FILE_ENOENT : VH_FILE_EIO, err, errlen,
				 "%s/%s: unlink: %s", ds->dir, name, strerror(errno));
	else if (vh_fs_fsync_dirfd(ds->dirfd) < 0)
		e = vh_file_fail(VH_FILE_EIO, err, errlen, "%s: fsync: %s", ds->dir,
				 strerror(errno));
	pthread_mutex_unlock(&ds->lock);
	return e;
}

int vh_disks_each(struct vh_disks *ds, vh_disk_visit_fn fn, void *ctx)
{
	char **names;
	size_t n;
	int rc = 0;

	if (vh_fs_list_names(ds->dirfd, listed, &names, &n) < 0)
		return -1;
	for (size_t i = 0; !rc && i < n; i++) {
		struct vh_disk_info info;
		/* Gone since the listing, or not a regular file: not a disk. */
		if (vh_disk_stat(ds, names[i], &info) != VH_FILE_OK)
			continue;
		rc = fn(ctx, &info);
	}
	vh_fs_names_free(names, n);
	return rc;
}
