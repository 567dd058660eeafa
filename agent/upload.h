/* SPDX-License-Identifier: Apache-2.0 */
/* A streamed upload into a folder, shared by images (images.c) and the
 * datastore's disk imports (disks.c): the bytes go to a temporary file
 * ".upload-<random>" in the target folder (a dotted name neither store
 * lists, removed at the next open after a crash), hashed with SHA-256 as
 * they come; sealing checks the digest the client gave and fsyncs the
 * file; committing renames it into place and fsyncs the folder.  Until
 * the commit nothing is visible, so a truncated, mismatching or
 * out-of-space upload leaves nothing behind. */
#ifndef VH_AGENT_UPLOAD_H
#define VH_AGENT_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Outcomes of the file stores (images, disks) the HTTP layer maps to
 * problems. */
enum vh_file_err {
	VH_FILE_OK = 0,
	VH_FILE_EINVAL, /* bad name, digest syntax or size */
	VH_FILE_ENOENT,
	VH_FILE_ETOOBIG,   /* over a size limit */
	VH_FILE_ECHECKSUM, /* digest mismatch */
	VH_FILE_EIO,
	VH_FILE_ENOSPC, /* the folder's file system is full, or would be */
	VH_FILE_EEXIST, /* the name is taken (a store that never replaces) */
};

struct vh_upload;

/* 64 hex digits in either case, copied in lower case to out. */
bool vh_sha256_parse(const char *s, char out[65]);
/* The SHA-256 of what fd reads from its offset to the end. */
int vh_sha256_fd(int fd, char hex[65]);

/* expect_sha256: NULL or 64 hex digits.  dirname names the folder in
 * messages, what the object ("image web"). */
enum vh_file_err vh_upload_begin(int dirfd, const char *dirname, const char *what,
				 const char *expect_sha256, struct vh_upload **up, char *err,
				 size_t errlen);
/* Appends len bytes; refused (ETOOBIG) when the upload would pass max. */
enum vh_file_err vh_upload_write(struct vh_upload *up, const void *buf, size_t len, uint64_t max,
				 char *err, size_t errlen);
/* The temporary file, for a store that shapes it (a thin disk's size). */
int vh_upload_fd(const struct vh_upload *up);
/* Bytes written so far. */
uint64_t vh_upload_size(const struct vh_upload *up);
/* Checks the digest, sets mode, fsyncs; hex and st describe the file. */
enum vh_file_err vh_upload_seal(struct vh_upload *up, mode_t mode, char hex[65], struct stat *st,
				char *err, size_t errlen);
/* Renames the sealed file to name (replacing one of that name, or
 * EEXIST when !replace) and fsyncs the folder. */
enum vh_file_err vh_upload_commit(struct vh_upload *up, const char *name, bool replace, char *err,
				  size_t errlen);
/* Removes the temporary file if it is still there; frees up (NULL ok). */
void vh_upload_abort(struct vh_upload *up);
/* Removes the ".upload-*" leftovers a crash left in the folder: call it
 * only when no upload into it can be live (at open). */
void vh_upload_clean(int dirfd);
/* A failed write, fsync or rename: a full file system is the client's to
 * wait out (ENOSPC: 507), anything else is ours (EIO: 500). */
enum vh_file_err vh_file_io_err(int e);
/* Formats err and returns e. */
enum vh_file_err vh_file_fail(enum vh_file_err e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
