/* SPDX-License-Identifier: Apache-2.0 */
/* The datastore (agent/disks.h): thin creation (size, allocated bytes of
 * a sparse file), import with and without a SHA-256 (a wrong one leaves
 * nothing), names as VM names, sizes in sectors, grow never shrinks,
 * sizes beyond the file system's free space refused, listing order,
 * delete. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/disks.h"
#include "agent_test.h"
#include "vh_test.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static struct vh_disks *open_fresh(const char *tag, char **dir)
{
	char err[256], path[4096];

	*dir = at_tempdir(tag);
	if (!*dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/disks", *dir);
	return vh_disks_open(path, err, sizeof(err));
}

static enum vh_file_err import(struct vh_disks *ds, const char *name, const char *sha,
			       const char *data, size_t len, struct vh_disk_info *info,
			       char sha_out[65], char *err, size_t errlen)
{
	struct vh_disk_import *imp;
	enum vh_file_err e = vh_disk_import_begin(ds, name, sha, len, &imp, err, errlen);

	if (e)
		return e;
	for (size_t off = 0; off < len; off += 7) {
		size_t n = len - off < 7 ? len - off : 7;
		if ((e = vh_disk_import_write(imp, data + off, n, err, errlen))) {
			vh_disk_import_abort(imp);
			return e;
		}
	}
	return vh_disk_import_finish(imp, info, sha_out, err, errlen);
}

static int count(void *ctx, const struct vh_disk_info *di)
{
	char *names = ctx;

	strcat(names, di->name);
	strcat(names, " ");
	return 0;
}

VH_TEST(disks, thin_create_grow_list_delete)
{
	char *dir, err[256], names[256] = "";
	struct vh_disks *ds = open_fresh("disks", &dir);
	struct vh_disk_info di;

	VH_ASSERT(ds != NULL);
	VH_ASSERT_EQ((int)vh_disk_create(ds, "web-root", 1ull << 30, &di, err, sizeof(err)),
		     VH_FILE_OK);
	VH_EXPECT_STREQ(di.name, "web-root");
	VH_EXPECT_EQ(di.size, 1ull << 30);
	/* Thin: a GiB that holds (almost) nothing. */
	VH_EXPECT_LT(di.allocated, 1ull << 20);
	VH_EXPECT_EQ((int)vh_disk_create(ds, "web-root", 4096, &di, err, sizeof(err)),
		     VH_FILE_EEXIST);
	VH_EXPECT_EQ((int)vh_disk_create(ds, "odd", 1000, &di, err, sizeof(err)), VH_FILE_EINVAL);
	VH_EXPECT(strstr(err, "512") != NULL);
	VH_EXPECT_EQ((int)vh_disk_create(ds, "zero", 0, &di, err, sizeof(err)), VH_FILE_EINVAL);

	VH_ASSERT_EQ((int)vh_disk_grow(ds, "web-root", 2ull << 30, &di, err, sizeof(err)),
		     VH_FILE_OK);
	VH_EXPECT_EQ(di.size, 2ull << 30);
	VH_EXPECT_EQ((int)vh_disk_grow(ds, "web-root", 1ull << 30, &di, err, sizeof(err)),
		     VH_FILE_EINVAL);
	VH_EXPECT(strstr(err, "never shrink") != NULL);
	VH_EXPECT_EQ((int)vh_disk_grow(ds, "web-root", 2ull << 30, &di, err, sizeof(err)),
		     VH_FILE_OK);
	VH_EXPECT_EQ((int)vh_disk_grow(ds, "absent", 4096, &di, err, sizeof(err)), VH_FILE_ENOENT);
	VH_ASSERT_EQ((int)vh_disk_stat(ds, "web-root", &di), VH_FILE_OK);
	VH_EXPECT_EQ(di.size, 2ull << 30);

	VH_ASSERT_EQ((int)vh_disk_create(ds, "a-first", 512, NULL, err, sizeof(err)), VH_FILE_OK);
	VH_ASSERT_EQ((int)vh_disks_each(ds, count, names), 0);
	VH_EXPECT_STREQ(names, "a-first web-root ");
	VH_EXPECT_EQ(at_count(vh_disks_dir(ds), ".upload-"), 0);

	VH_EXPECT_EQ((int)vh_disk_delete(ds, "web-root", err, sizeof(err)), VH_FILE_OK);
	VH_EXPECT_EQ((int)vh_disk_stat(ds, "web-root", &di), VH_FILE_ENOENT);
	VH_EXPECT_EQ((int)vh_disk_delete(ds, "web-root", err, sizeof(err)), VH_FILE_ENOENT);
	vh_disks_close(ds);
	at_rm_rf(dir);
	free(dir);
}

/* Names are VM names: never a path, never a dot file. */
VH_TEST(disks, names_are_checked_as_vm_names)
{
	static const char *const bad[] = { "a/b", "..", ".", ".upload-x", "", "-lead",
					   "has space", "../etc" };
	char *dir, err[256], long_name[80];
	struct vh_disks *ds = open_fresh("disks-names", &dir);
	struct vh_disk_import *imp;
	struct vh_disk_info di;

	VH_ASSERT(ds != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		VH_EXPECT_EQ((int)vh_disk_create(ds, bad[i], 4096, &di, err, sizeof(err)),
			     VH_FILE_EINVAL);
		VH_EXPECT_EQ((int)vh_disk_import_begin(ds, bad[i], NULL, 3, &imp, err, sizeof(err)),
			     VH_FILE_EINVAL);
		VH_EXPECT_EQ((int)vh_disk_grow(ds, bad[i], 4096, &di, err, sizeof(err)),
			     VH_FILE_EINVAL);
		VH_EXPECT_EQ((int)vh_disk_delete(ds, bad[i], err, sizeof(err)), VH_FILE_EINVAL);
	}
	memset(long_name, 'n', 64);
	long_name[64] = '\0';
	VH_EXPECT_EQ((int)vh_disk_create(ds, long_name, 4096, &di, err, sizeof(err)),
		     VH_FILE_EINVAL);
	long_name[63] = '\0';
	VH_EXPECT_EQ((int)vh_disk_create(ds, long_name, 4096, &di, err, sizeof(err)), VH_FILE_OK);
	VH_EXPECT_EQ(at_count(vh_disks_dir(ds), ""), 1);
	vh_disks_close(ds);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(disks, import_checks_the_digest_and_leaves_nothing_when_refused)
{
	char *dir, err[256], sha[65], path[4200], *got;
	struct vh_disks *ds = open_fresh("disks-import", &dir);
	struct vh_disk_info di;
	size_t len;

	VH_ASSERT(ds != NULL);
	/* Without a digest: the body's is reported; padded to a sector. */
	VH_ASSERT_EQ((int)import(ds, "abc", NULL, "abc", 3, &di, sha, err, sizeof(err)),
		     VH_FILE_OK);
	VH_EXPECT_STREQ(sha, SHA_ABC);
	VH_EXPECT_EQ(di.size, 512ull);
	snprintf(path, sizeof(path), "%s/abc", vh_disks_dir(ds));
	got = at_read_file(path, &len);
	VH_ASSERT(got != NULL);
	VH_EXPECT_EQ(len, (size_t)512);
	VH_EXPECT_EQ(memcmp(got, "abc\0\0", 5), 0);
	free(got);
	/* With the right one (either case). */
	VH_EXPECT_EQ((int)import(ds, "abc2",
				 "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
				 "abc", 3, &di, sha, err, sizeof(err)),
		     VH_FILE_OK);
	/* A wrong one: refused, nothing left, not even the temporary file. */
	VH_EXPECT_EQ((int)import(ds, "wrong", SHA_ABC, "abd", 3, &di, sha, err, sizeof(err)),
		     VH_FILE_ECHECKSUM);
	VH_EXPECT(strstr(err, "SHA-256") != NULL);
	VH_EXPECT_EQ((int)vh_disk_stat(ds, "wrong", &di), VH_FILE_ENOENT);
	VH_EXPECT_EQ(at_count(vh_disks_dir(ds), ".upload-"), 0);
	VH_EXPECT_EQ((int)import(ds, "bad-sha", "12", "abc", 3, &di, sha, err, sizeof(err)),
		     VH_FILE_EINVAL);
	/* An existing disk is never replaced by an import. */
	VH_EXPECT_EQ((int)import(ds, "abc", NULL, "xyz", 3, &di, sha, err, sizeof(err)),
		     VH_FILE_EEXIST);
	/* An empty body is no disk. */
	VH_EXPECT_EQ((int)import(ds, "empty", NULL, "", 0, &di, sha, err, sizeof(err)),
		     VH_FILE_EINVAL);
	VH_EXPECT_EQ(at_count(vh_disks_dir(ds), ""), 2);
	vh_disks_close(ds);
	at_rm_rf(dir);
	free(dir);
}

/* Beyond the free space of the datastore's file system: refused up front
 * with the numbers, for a create, a grow and an announced import. */
VH_TEST(disks, sizes_beyond_the_free_space_are_refused)
{
	char *dir, err[256];
	struct vh_disks *ds = open_fresh("disks-space", &dir);
	struct vh_disk_import *imp = NULL;
	struct vh_disk_info di;
	uint64_t avail, huge;

	VH_ASSERT(ds != NULL);
	VH_ASSERT_EQ((int)vh_disks_free(ds, &avail, err, sizeof(err)), 0);
	huge = (avail + (1ull << 30)) & ~511ull;
	VH_EXPECT_EQ((int)vh_disk_create(ds, "huge", huge, &di, err, sizeof(err)), VH_FILE_ENOSPC);
	VH_EXPECT(strstr(err, "free") != NULL);
	VH_EXPECT_EQ((int)vh_disk_import_begin(ds, "huge", NULL, huge, &imp, err, sizeof(err)),
		     VH_FILE_ENOSPC);
	VH_EXPECT(imp == NULL);
	VH_ASSERT_EQ((int)vh_disk_create(ds, "small", 4096, &di, err, sizeof(err)), VH_FILE_OK);
	VH_EXPECT_EQ((int)vh_disk_grow(ds, "small", huge + 4096, &di, err, sizeof(err)),
		     VH_FILE_ENOSPC);
	VH_ASSERT_EQ((int)vh_disk_stat(ds, "small", &di), VH_FILE_OK);
	VH_EXPECT_EQ(di.size, 4096ull);
	VH_EXPECT_EQ(at_count(vh_disks_dir(ds), ""), 1);
	vh_disks_close(ds);
	at_rm_rf(dir);
	free(dir);
}
