/* SPDX-License-Identifier: Apache-2.0 */
/* Streamed uploads (agent/upload.h): temporary file, SHA-256 as the
 * bytes come, fsync, rename, folder fsync. */
#define _GNU_SOURCE
#include "agent/upload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent/fsutil.h"

#define UPLOAD_PREFIX ".upload-"

struct vh_upload {
	int dirfd;
	char dir[256];
	char what[96];
	char tmp[32];
	char expect[65];
	int fd;
	bool sealed;
	uint64_t size;
	EVP_MD_CTX *md;
};

enum vh_file_err vh_file_fail(enum vh_file_err e, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

enum vh_file_err vh_file_io_err(int e)
{
	return vh_fs_is_full(e) ? VH_FILE_ENOSPC : VH_FILE_EIO;
}

bool vh_sha256_parse(const char *s, char out[65])
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

int vh_sha256_fd(int fd, char hex[65])
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

void vh_upload_clean(int dirfd)
{
	DIR *d = fdopendir(dup(dirfd));
	struct dirent *de;
	int removed = 0;

	if (!d)
		return;
	rewinddir(d); /* the dup shares its offset with dirfd */
	while ((de = readdir(d)))
		if (strncmp(de->d_name, UPLOAD_PREFIX, strlen(UPLOAD_PREFIX)) == 0 &&
		    unlinkat(dirfd, de->d_name, 0) == 0)
			removed = 1;
	closedir(d);
	if (removed)
		vh_fs_fsync_dirfd(dirfd);
}

enum vh_file_err vh_upload_begin(int dirfd, const char *dirname, const char *what,
				 const char *expect_sha256, struct vh_upload **up, char *err,
				 size_t errlen)
{
	struct vh_upload *u;

	*up = NULL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return vh_file_fail(VH_FILE_EIO, err, errlen, "out of memory");
	u->dirfd = dirfd;
	u->fd = -1;
	snprintf(u->dir, sizeof(u->dir), "%s", dirname);
	snprintf(u->what, sizeof(u->what), "%s", what);
	if (expect_sha256 && !vh_sha256_parse(expect_sha256, u->expect)) {
		free(u);
		return vh_file_fail(VH_FILE_EINVAL, err, errlen,
				    "bad SHA-256 \"%.80s\": 64 hexadecimal digits expected",
				    expect_sha256);
	}
	u->md = EVP_MD_CTX_new();
	if (!u->md || !EVP_DigestInit_ex(u->md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(u->md);
		free(u);
		return vh_file_fail(VH_FILE_EIO, err, errlen, "SHA-256 unavailable");
	}
	u->fd = vh_fs_create_unique(dirfd, UPLOAD_PREFIX, 8, u->tmp, sizeof(u->tmp));
	if (u->fd < 0) {
		int e = errno;
		EVP_MD_CTX_free(u->md);
		free(u);
		return vh_file_fail(vh_file_io_err(e), err, errlen,
				    "%s: cannot create an upload file: %s", dirname, strerror(e));
	}
	*up = u;
	return VH_FILE_OK;
}

enum vh_file_err vh_upload_write(struct vh_upload *up, const void *buf, size_t len, uint64_t max,
				 char *err, size_t errlen)
{
	if (len > max || up->size > max - len)
		return vh_file_fail(VH_FILE_ETOOBIG, err, errlen,
				    "%s is larger than the limit of %llu bytes", up->what,
				    (unsigned long long)max);
	if (!EVP_DigestUpdate(up->md, buf, len))
		return vh_file_fail(VH_FILE_EIO, err, errlen, "SHA-256 failed");
	if (vh_fs_write_all(up->fd, buf, len) < 0) {
		int e = errno;
		return vh_file_fail(vh_file_io_err(e), err, errlen, "%s/%s: write: %s", up->dir,
				    up->tmp, strerror(e));
	}
	up->size += len;
	return VH_FILE_OK;
}

int vh_upload_fd(const struct vh_upload *up)
{
	return up->fd;
}

uint64_t vh_upload_size(const struct vh_upload *up)
{
	return up->size;
}

enum vh_file_err vh_upload_seal(struct vh_upload *up, mode_t mode, char hex[65], struct stat *st,
				char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_DigestFinal_ex(up->md, md, &mdlen) || mdlen != 32)
		return vh_file_fail(VH_FILE_EIO, err, errlen, "SHA-256 failed");
	vh_hex_encode(md, mdlen, hex);
	if (up->expect[0] && strcmp(hex, up->expect) != 0)
		return vh_file_fail(VH_FILE_ECHECKSUM, err, errlen,
				    "%s: SHA-256 of the body is %s, not the %s given", up->what,
				    hex, up->expect);
	if (fchmod(up->fd, mode) < 0 || fsync(up->fd) < 0 || fstat(up->fd, st) < 0) {
		int e = errno;
		return vh_file_fail(vh_file_io_err(e), err, errlen, "%s/%s: %s", up->dir, up->tmp,
				    strerror(e));
	}
	up->sealed = true;
	return VH_FILE_OK;
}

enum vh_file_err vh_upload_commit(struct vh_upload *up, const char *name, bool replace, char *err,
				  size_t errlen)
{
	int rc;

	if (!up->sealed)
		return vh_file_fail(VH_FILE_EIO, err, errlen, "%s: not sealed", up->what);
	rc = replace ? renameat(up->dirfd, up->tmp, up->dirfd, name)
		     : renameat2(up->dirfd, up->tmp, up->dirfd, name, RENAME_NOREPLACE);
	if (rc < 0) {
		int e = errno;
		if (e == EEXIST)
			return vh_file_fail(VH_FILE_EEXIST, err, errlen, "%s exists already",
					    up->what);
		return vh_file_fail(vh_file_io_err(e), err, errlen, "%s/%s: rename: %s", up->dir,
				    name, strerror(e));
	}
	close(up->fd);
	up->fd = -1; /* the temporary name is gone: nothing for abort to remove */
	if (vh_fs_fsync_dirfd(up->dirfd) < 0) {
		int e = errno;
		return vh_file_fail(vh_file_io_err(e), err, errlen, "%s: fsync: %s", up->dir,
				    strerror(e));
	}
	return VH_FILE_OK;
}

void vh_upload_abort(struct vh_upload *up)
{
	if (!up)
		return;
	if (up->fd >= 0) {
		close(up->fd);
		if (unlinkat(up->dirfd, up->tmp, 0) == 0)
			vh_fs_fsync_dirfd(up->dirfd);
	}
	EVP_MD_CTX_free(up->md);
	free(up);
}
