/* SPDX-License-Identifier: Apache-2.0 */
/* Guest images under <state>/images/, the folder vh-hosted loads kernels
 * and modules from (its --images).  An upload streams into a temporary
 * file while a SHA-256 is computed, then is verified (when the client
 * gave a digest), fsynced and renamed into place: a half-sent or
 * mismatching image never becomes visible.  The digest is kept beside
 * the image (<name>.sha256 in <state>/images/.meta/) for listings. */
#ifndef VH_AGENT_IMAGES_H
#define VH_AGENT_IMAGES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "agent/upload.h"

struct vh_images;
struct vh_image_upload;

struct vh_image_info {
	char name[64];
	uint64_t size;
	char sha256[65]; /* lower-case hex */
	time_t mtime;
};

struct vh_images *vh_images_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
void vh_images_close(struct vh_images *im);
const char *vh_images_dir(const struct vh_images *im);
/* The upload size limit, changed at run time (max_image_bytes is live on
 * SIGHUP); uploads already under way see the new limit too. */
void vh_images_set_max_bytes(struct vh_images *im, uint64_t max_bytes);

/* name must satisfy vh_api_image_name_valid.  expect_sha256 is NULL or
 * 64 hex digits (either case). */
enum vh_file_err vh_image_upload_begin(struct vh_images *im, const char *name,
					const char *expect_sha256, struct vh_image_upload **up,
					char *err, size_t errlen);
enum vh_file_err vh_image_upload_write(struct vh_image_upload *up, const void *buf, size_t len,
					char *err, size_t errlen);
/* Verifies, fsyncs, renames into place (replacing an older image of that
 * name), fsyncs the folder; frees up in every case.  *created tells
 * whether the name is new (201) or replaced (200). */
enum vh_file_err vh_image_upload_finish(struct vh_image_upload *up, struct vh_image_info *out,
					 int *created, char *err, size_t errlen);
void vh_image_upload_abort(struct vh_image_upload *up); /* removes the temp file */

/* Every image in name order; fn returns non-zero to stop. */
typedef int (*vh_image_visit_fn)(void *ctx, const struct vh_image_info *info);
int vh_images_each(struct vh_images *im, vh_image_visit_fn fn, void *ctx);
enum vh_file_err vh_images_stat(struct vh_images *im, const char *name, struct vh_image_info *out);
/* The caller checks first that no VM uses it. */
enum vh_file_err vh_images_delete(struct vh_images *im, const char *name, char *err,
				   size_t errlen);

#endif
