/* SPDX-License-Identifier: Apache-2.0 */
/* The datastore: VM disks as raw, sparse files in one folder (disks_dir,
 * default <state>/disks = /var/lib/vh/disks), the folder vh-hosted opens
 * them from (its --disks).  A disk's file name is its name, checked as a
 * VM name is (vh_vm_name_valid: no slash, no "..", at most 63 bytes).
 *
 * Create of a size is thin (ftruncate: nothing allocated until written);
 * import streams a raw body through agent/upload.c (SHA-256, temporary
 * file, fsync, rename without replacing, folder fsync), so a truncated,
 * mismatching or out-of-space import leaves nothing; grow extends the
 * file (never shrinks); delete unlinks.  A size beyond the free space of
 * the datastore's file system (statvfs) is refused up front.  Whether a
 * VM uses a disk is the caller's to check: this module knows files, not
 * VMs.  docs/datastore.md says what is crash-safe and how to back up. */
#ifndef VH_AGENT_DISKS_H
#define VH_AGENT_DISKS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/upload.h"

struct vh_disks;
struct vh_disk_import;

struct vh_disk_info {
	char name[64];
	uint64_t size;      /* bytes the guest sees */
	uint64_t allocated; /* bytes the file holds on disk (st_blocks x 512) */
	time_t mtime;
};

struct vh_disks *vh_disks_open(const char *dir, char *err, size_t errlen);
void vh_disks_close(struct vh_disks *ds);
const char *vh_disks_dir(const struct vh_disks *ds);
/* Bytes an unprivileged writer may still use on the datastore's file
 * system (statvfs f_bavail x f_frsize); 0 with err set on failure. */
int vh_disks_free(struct vh_disks *ds, uint64_t *avail, char *err, size_t errlen);

/* A new thin disk of size bytes (1..): EINVAL (name, size 0 or not a
 * multiple of 512), EEXIST, ENOSPC (beyond the free space), EIO. */
enum vh_file_err vh_disk_create(struct vh_disks *ds, const char *name, uint64_t size,
				struct vh_disk_info *out, char *err, size_t errlen);
/* An import: expect_sha256 NULL or 64 hex digits; expect_size the
 * body's announced length (UINT64_MAX: unknown), refused (ENOSPC) up
 * front when beyond the free space; an existing name is EEXIST. */
enum vh_file_err vh_disk_import_begin(struct vh_disks *ds, const char *name,
				      const char *expect_sha256, uint64_t expect_size,
				      struct vh_disk_import **imp, char *err, size_t errlen);
enum vh_file_err vh_disk_import_write(struct vh_disk_import *imp, const void *buf, size_t len,
				      char *err, size_t errlen);
/* Verifies, fsyncs, renames into place, fsyncs the folder; frees imp in
 * every case.  sha256 gets the body's digest. */
enum vh_file_err vh_disk_import_finish(struct vh_disk_import *imp, struct vh_disk_info *out,
				       char sha256[65], char *err, size_t errlen);
void vh_disk_import_abort(struct vh_disk_import *imp); /* removes the temp file */

/* Grows name to size bytes: EINVAL when smaller than it is (disks never
 * shrink: the guest's file system ends where it ends) or not a multiple
 * of 512, ENOSPC when the growth is beyond the free space.  The same size
 * changes nothing. */
enum vh_file_err vh_disk_grow(struct vh_disks *ds, const char *name, uint64_t size,
			      struct vh_disk_info *out, char *err, size_t errlen);
enum vh_file_err vh_disk_stat(struct vh_disks *ds, const char *name, struct vh_disk_info *out);
/* The caller checks first that no VM names it. */
enum vh_file_err vh_disk_delete(struct vh_disks *ds, const char *name, char *err, size_t errlen);
/* Every disk in name order; fn returns non-zero to stop. */
typedef int (*vh_disk_visit_fn)(void *ctx, const struct vh_disk_info *info);
int vh_disks_each(struct vh_disks *ds, vh_disk_visit_fn fn, void *ctx);

#endif
