/* SPDX-License-Identifier: Apache-2.0 */
/* Crash-safe persistence of the agent's records under the state folder
 * (default /var/lib/vh): one file per record, written to a temporary
 * file, fsynced, renamed over the old one, and the folder fsynced, so a
 * crash at any instant leaves either the old or the new record, never a
 * mix.  The folder carries a format version (<dir>/FORMAT, "vh-state 1");
 * an unknown version is refused rather than misread.
 *
 * Collections are sub-folders ("vms", "tokens"); keys are file names
 * ([A-Za-z0-9._-], no leading dot).  Thread-safe. */
#ifndef VH_AGENT_STORE_H
#define VH_AGENT_STORE_H

#include <stddef.h>

#define VH_STORE_FORMAT 1

struct vh_store;

/* Opens (creating with mode 0750 when missing) dir and its FORMAT file. */
struct vh_store *vh_store_open(const char *dir, char *err, size_t errlen);
void vh_store_close(struct vh_store *s);
const char *vh_store_dir(const struct vh_store *s);

/* Writes collection/key atomically and durably (see above).  0 or -1
 * with err set; on failure the previous record is untouched. */
int vh_store_put(struct vh_store *s, const char *collection, const char *key, const void *data,
		 size_t len, char *err, size_t errlen);
/* Removes collection/key durably (unlink + fsync of the folder).  A
 * missing key is not an error. */
int vh_store_delete(struct vh_store *s, const char *collection, const char *key, char *err,
		    size_t errlen);
/* Reads one record into a malloc'd buffer (NUL-terminated, *len without
 * the NUL).  -1 with errno ENOENT when absent. */
int vh_store_get(struct vh_store *s, const char *collection, const char *key, char **data,
		 size_t *len, char *err, size_t errlen);

/* Calls fn for every record of the collection in key order.  Temporary
 * files left by a crash are removed first.  fn returns 0 to go on, or
 * non-zero to stop (returned).  A record fn rejects as unreadable can be
 * set aside with vh_store_quarantine. */
typedef int (*vh_store_visit_fn)(void *ctx, const char *key, const char *data, size_t len);
int vh_store_each(struct vh_store *s, const char *collection, vh_store_visit_fn fn, void *ctx,
		  char *err, size_t errlen);
/* Renames a bad record to <key>.corrupt-<time> so it is kept for a human
 * and skipped from then on. */
int vh_store_quarantine(struct vh_store *s, const char *collection, const char *key);

#endif
