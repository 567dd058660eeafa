/* SPDX-License-Identifier: Apache-2.0 */
/* File-system helpers the libvhagent modules share (internal to
 * libvhagent): the crash-safe write (temporary file in the same folder,
 * write all, fsync, rename, fsync the folder), folder creation and
 * fsync, whole-file reads, files with fresh random names; and the
 * lower-case hex those names, digests and token records are written in;
 * and the monotonic clock the agent times things with.  Errors are
 * written to err as "what: why". */
#ifndef VH_AGENT_FSUTIL_H
#define VH_AGENT_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t vh_mono_ns(void);

/* write(2) until done, retrying EINTR; 0 or -1 with errno. */
int vh_fs_write_all(int fd, const void *buf, size_t len);
/* fsync of a folder given by fd or path; 0 or -1 with errno. */
int vh_fs_fsync_dirfd(int dirfd);
int vh_fs_fsync_dir(const char *path);
/* mkdir -p with mode for every folder it makes; each new folder's parent
 * is fsynced so the new entry is durable.  0 or -1 with err set. */
int vh_fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);
/* Writes name inside the folder dirfd atomically and durably with the
 * given mode: the file holds either its old or its new content after a
 * crash at any instant.  The temporary file is ".tmp-<name>-XXXXXX".
 * dirname is for messages.  0 or -1 with err set (errno kept). */
int vh_fs_write_atomic_at(int dirfd, const char *dirname, const char *name, const void *data,
			  size_t len, mode_t mode, char *err, size_t errlen);
/* The same for a path: the folder is the path's parent. */
int vh_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
		       size_t errlen);
/* Reads a whole regular file (at most max bytes) into a malloc'd
 * NUL-terminated buffer.  0 or -1 with errno (EFBIG when over max). */
int vh_fs_read_at(int dirfd, const char *name, size_t max, char **data, size_t *len);
/* 1..max characters of A-Z a-z 0-9 . _ - (the names of records, images
 * and tokens: never a path, nothing to quote). */
bool vh_fs_name_ok(const char *s, size_t max);
/* Creates "<prefix><2 * nrandom random hex digits>" exclusively in dirfd
 * (write-only, mode 0600), trying up to 16 random names; the name goes to
 * name (cap bytes).  nrandom is at most 32.  The fd, or -1 with errno
 * (ENAMETOOLONG when the name does not fit in cap). */
int vh_fs_create_unique(int dirfd, const char *prefix, size_t nrandom, char *name, size_t cap);
/* The names in the folder dirfd that keep() accepts, sorted, as a
 * malloc'd array of malloc'd strings (vh_fs_names_free).  0 or -1. */
int vh_fs_list_names(int dirfd, bool (*keep)(const char *name), char ***names, size_t *n);
void vh_fs_names_free(char **names, size_t n);
/* Lower-case hex of n bytes: 2n digits and a NUL in out. */
void vh_hex_encode(const unsigned char *b, size_t n, char *out);
/* A temporary file name made by vh_fs_write_atomic_at. */
bool vh_fs_is_temp_name(const char *name);
/* errno says the file system is full (no blocks or inodes left, or the
 * quota is spent): the client's request was fine, retry once space is
 * freed (507, not 500). */
bool vh_fs_is_full(int e);

/* Appends n bytes to a growable buffer (*buf of *len bytes in *cap; an
 * empty one starts at first_cap), keeping it NUL-terminated.  0, or -1
 * when memory runs out (the buffer is left as it was). */
int vh_buf_append(char **buf, size_t *len, size_t *cap, size_t first_cap, const void *data,
		  size_t n);

#endif
