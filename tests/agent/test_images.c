/* SPDX-License-Identifier: Apache-2.0 */
/* Guest images (agent/images.h): streaming upload with SHA-256, replace,
 * digest mismatch and abort leave nothing, the size limit, name rules,
 * listing order, stat and delete, digests recomputed for stale or
 * hand-copied images. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/images.h"
#include "agent_test.h"
#include "vh_test.h"

/* sha256 of "" and of "abc" (FIPS 180-2 test vectors). */
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static struct vh_images *open_fresh(const char *tag, char **dir, uint64_t max)
{
	char err[256], path[4096];

	*dir = at_tempdir(tag);
	if (!*dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/images", *dir);
	return vh_images_open(path, max, err, sizeof(err));
}

/* Uploads data in chunks of step bytes. */
static enum vh_file_err upload(struct vh_images *im, const char *name, const char *sha,
				const char *data, size_t len, size_t step,
				struct vh_image_info *info, int *created, char *err, size_t errlen)
{
	struct vh_image_upload *up;
	enum vh_file_err e = vh_image_upload_begin(im, name, sha, &up, err, errlen);

	if (e)
		return e;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		e = vh_image_upload_write(up, data + off, n, err, errlen);
		if (e) {
			vh_image_upload_abort(up);
			return e;
		}
	}
	return vh_image_upload_finish(up, info, created, err, errlen);
}

static int files_in(struct vh_images *im)
{
	return at_count(vh_images_dir(im), "");
}

VH_TEST(images, upload_stat_replace_delete)
{
	char *dir, err[256], path[4096];
	struct vh_images *im = open_fresh("img-basic", &dir, 1 << 20);
	struct vh_image_info info;
	int created = -1;

	VH_ASSERT(im != NULL);
	VH_ASSERT_EQ(
	    (int)upload(im, "spinner.elf", NULL, "abc", 3, 1, &info, &created, err, sizeof(err)),
	    VH_FILE_OK);
	VH_EXPECT_EQ(created, 1);
	VH_EXPECT_STREQ(info.name, "spinner.elf");
	VH_EXPECT_EQ(info.size, (uint64_t)3);
	VH_EXPECT_STREQ(info.sha256, SHA_ABC);
	snprintf(path, sizeof(path), "%s/spinner.elf", vh_images_dir(im));
	char *got = at_read_file(path, NULL);
	VH_EXPECT_STREQ(got, "abc");
	free(got);
	struct stat st;
	VH_ASSERT_EQ(stat(path, &st), 0);
	VH_EXPECT_EQ(st.st_mode & 0777, 0644u);

	/* The digest given in upper case is accepted. */
	char upper[65];
	for (int i = 0; i < 65; i++)
		upper[i] = (char)(SHA_EMPTY[i] >= 'a' ? SHA_EMPTY[i] - 32 : SHA_EMPTY[i]);
	VH_ASSERT_EQ(
	    (int)upload(im, "spinner.elf", upper, "", 0, 1, &info, &created, err, sizeof(err)),
	    VH_FILE_OK);
	VH_EXPECT_EQ(created, 0); /* replaced: 200, not 201 */
	VH_EXPECT_EQ(info.size, (uint64_t)0);
	VH_EXPECT_STREQ(info.sha256, SHA_EMPTY);

	memset(&info, 0, sizeof(info));
	VH_ASSERT_EQ((int)vh_images_stat(im, "spinner.elf", &info), VH_FILE_OK);
	VH_EXPECT_STREQ(info.sha256, SHA_EMPTY);
	VH_EXPECT_EQ(info.size, (uint64_t)0);
	VH_EXPECT_EQ((int)vh_images_stat(im, "absent.elf", &info), VH_FILE_ENOENT);
	VH_EXPECT_EQ((int)vh_images_stat(im, "../x", &info), VH_FILE_EINVAL);

	VH_EXPECT_EQ((int)vh_images_delete(im, "spinner.elf", err, sizeof(err)), VH_FILE_OK);
	VH_EXPECT_EQ((int)vh_images_stat(im, "spinner.elf", &info), VH_FILE_ENOENT);
	VH_EXPECT_EQ((int)vh_images_delete(im, "spinner.elf", err, sizeof(err)), VH_FILE_ENOENT);
	VH_EXPECT_EQ(files_in(im), 1); /* .meta only */
	vh_images_close(im);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(images, large_streamed_upload_digest)
{
	char *dir, err[256];
	struct vh_images *im = open_fresh("img-large", &dir, 8 << 20);
	struct vh_image_info a, b;
	size_t len = 3 * 1024 * 1024 + 17;
	char *data = malloc(len);

	VH_ASSERT(im != NULL && data != NULL);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 131 + i / 4096);
	/* The same bytes in different chunkings give the same digest. */
	VH_ASSERT_EQ((int)upload(im, "big.bin", NULL, data, len, 65536, &a, NULL, err, sizeof(err)),
		     VH_FILE_OK);
	VH_ASSERT_EQ(
	    (int)upload(im, "big2.bin", a.sha256, data, len, 777, &b, NULL, err, sizeof(err)),
	    VH_FILE_OK);
	VH_EXPECT_STREQ(a.sha256, b.sha256);
	VH_EXPECT_EQ(a.size, (uint64_t)len);
	free(data);
	vh_images_close(im);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(images, mismatch_abort_and_too_big_leave_nothing)
{
	char *dir, err[256] = "";
	struct vh_images *im = open_fresh("img-fail", &dir, 1000);
	struct vh_image_info info;
	struct vh_image_upload *up;

	VH_ASSERT(im != NULL);
	/* Digest mismatch: nothing visible, no temporary file, old kept. */
	VH_ASSERT_EQ((int)upload(im, "k.elf", NULL, "old", 3, 3, &info, NULL, err, sizeof(err)),
		     VH_FILE_OK);
	VH_EXPECT_EQ((int)upload(im, "k.elf", SHA_ABC, "abd", 3, 3, &info, NULL, err, sizeof(err)),
		     VH_FILE_ECHECKSUM);
	VH_EXPECT(strstr(err, SHA_ABC) != NULL);
	VH_EXPECT_EQ(
	    (int)upload(im, "new.elf", SHA_ABC, "abd", 3, 3, &info, NULL, err, sizeof(err)),
	    VH_FILE_ECHECKSUM);
	VH_EXPECT_EQ((int)vh_images_stat(im, "new.elf", &info), VH_FILE_ENOENT);
	char path[4096];
	snprintf(path, sizeof(path), "%s/k.elf", vh_images_dir(im));
	char *got = at_read_file(path, NULL);
	VH_EXPECT_STREQ(got, "old");
	free(got);
	VH_EXPECT_EQ(at_count(vh_images_dir(im), ".upload-"), 0);

	/* Abort mid-way (a client that hung up). */
	VH_ASSERT_EQ((int)vh_image_upload_begin(im, "half.elf", NULL, &up, err, sizeof(err)),
		     VH_FILE_OK);
	VH_EXPECT_EQ(at_count(vh_images_dir(im), ".upload-"), 1);
	VH_EXPECT_EQ((int)vh_image_upload_write(up, "12345", 5, err, sizeof(err)), VH_FILE_OK);
	vh_image_upload_abort(up);
	VH_EXPECT_EQ(at_count(vh_images_dir(im), ".upload-"), 0);
	VH_EXPECT_EQ((int)vh_images_stat(im, "half.elf", &info), VH_FILE_ENOENT);

	/* Over the limit: refused at the write that crosses it. */
	char kb[600];
	memset(kb, 'z', sizeof(kb));
	VH_ASSERT_EQ((int)vh_image_upload_begin(im, "big.elf", NULL, &up, err, sizeof(err)),
		     VH_FILE_OK);
	VH_EXPECT_EQ((int)vh_image_upload_write(up, kb, sizeof(kb), err, sizeof(err)), VH_FILE_OK);
	VH_EXPECT_EQ((int)vh_image_upload_write(up, kb, sizeof(kb), err, sizeof(err)),
		     VH_FILE_ETOOBIG);
	VH_EXPECT(strstr(err, "1000") != NULL);
	vh_image_upload_abort(up);
	/* Exactly at the limit is fine. */
	char exact[1000];
	memset(exact, 'e', sizeof(exact));
	VH_EXPECT_EQ((int)upload(im, "exact.elf", NULL, exact, sizeof(exact), 1000, &info, NULL,
				 err, sizeof(err)),
		     VH_FILE_OK);
	/* The limit changes at run time (SIGHUP). */
	vh_images_set_max_bytes(im, 999);
	VH_EXPECT_EQ((int)upload(im, "exact2.elf", NULL, exact, sizeof(exact), 10, &info, NULL, err,
				 sizeof(err)),
		     VH_FILE_ETOOBIG);
	VH_EXPECT_EQ((int)vh_images_stat(im, "big.elf", &info), VH_FILE_ENOENT);
	VH_EXPECT_EQ((int)vh_images_stat(im, "exact2.elf", &info), VH_FILE_ENOENT);
	VH_EXPECT_EQ(at_count(vh_images_dir(im), ".upload-"), 0);
	VH_EXPECT_EQ(files_in(im), 3); /* .meta, k.elf, exact.elf */
	vh_images_close(im);
	at_rm_rf(dir);
	free(dir);
}

VH_TEST(images, bad_names_and_digests)
{
	static const char *const bad[] = {
		"",
		".",
		"..",
		".hidden",
		"a/b",
		"../etc",
		"a b",
		"x\ny",
		"é.elf",
		"a:b",
		"0123456789012345678901234567890123456789012345678901234567890123"
	};
	static const char *const bad_sha[] = {
		"", "abc", SHA_ABC "0",
		"ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"
	};
	char *dir, err[256];
	struct vh_images *im = open_fresh("img-names", &dir, 1000);
	struct vh_image_upload *up = NULL;

	VH_ASSERT(im != NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (vh_image_upload_begin(im, bad[i], NULL, &up, err, sizeof(err)) !=
			VH_FILE_EINVAL ||
		    up != NULL || !strstr(err, "bad image name"))
			VH_FAIL("name \"%s\" accepted (%s)", bad[i], err);
		if (vh_images_delete(im, bad[i], err, sizeof(err)) != VH_FILE_EINVAL)
			VH_FAIL("delete of \"%s\" not refused", bad[i]);
	}
	for (size_t i = 0; i < sizeof(bad_sha) / sizeof(bad_sha[0]); i++) {
		err[0] = '\0';
		if (vh_image_upload_begin(im, "ok.elf", bad_sha[i], &up, err, sizeof(err)) !=
			VH_FILE_EINVAL ||
		    up != NULL || !strstr(err, "SHA-256"))
			VH_FAIL("digest \"%s\" accepted (%s)", bad_sha[i], err);
	}
	/* 63 characters, dots and dashes inside: fine. */
	const char *ok = "a23456789012345678901234567890123456789012345678901234567890.-_";
	VH_EXPECT_EQ(strlen(ok), (size_t)63);
	VH_ASSERT_EQ((int)vh_image_upload_begin(im, ok, NULL, &up, err, sizeof(err)), VH_FILE_OK);
	VH_EXPECT_EQ((int)vh_image_upload_finish(up, NULL, NULL, err, sizeof(err)), VH_FILE_OK);
	VH_EXPECT_EQ(at_count(vh_images_dir(im), ""), 2);
	vh_images_close(im);
	at_rm_rf(dir);
	free(dir);
}

struct listing {
	char names[8][64];
	char sha[8][65];
	int n;
};

static int list_fn(void *ctx, const struct vh_image_info *i)
{
	struct listing *l = ctx;

	if (l->n < 8) {
		snprintf(l->names[l->n], 64, "%s", i->name);
		snprintf(l->sha[l->n], 65, "%s", i->sha256);
	}
	l->n++;
	return 0;
}

VH_TEST(images, list_in_name_order_with_digests)
{
	char *dir, err[256], path[4096];
	struct vh_images *im = open_fresh("img-list", &dir, 1000);
	struct listing l = { 0 };

	VH_ASSERT(im != NULL);
	const char *names[] = { "toucher.elf", "Balloon.elf", "smp.elf", "a.bin" };
	for (int i = 0; i < 4; i++)
		VH_ASSERT_EQ(
		    (int)upload(im, names[i], NULL, "abc", 3, 3, NULL, NULL, err, sizeof(err)),
		    VH_FILE_OK);
	/* An image copied in by hand (no digest recorded yet) and a stray
	 * upload file from a crash, a folder. */
	snprintf(path, sizeof(path), "%s/hand.elf", vh_images_dir(im));
	VH_ASSERT_EQ(at_write_file(path, "", 0), 0);
	snprintf(path, sizeof(path), "%s/sub", vh_images_dir(im));
	VH_ASSERT_EQ(mkdir(path, 0755), 0);
	VH_ASSERT_EQ(vh_images_each(im, list_fn, &l), 0);
	VH_ASSERT_EQ(l.n, 5);
	const char *want[] = { "Balloon.elf", "a.bin", "hand.elf", "smp.elf", "toucher.elf" };
	for (int i = 0; i < 5; i++)
		VH_EXPECT_STREQ(l.names[i], want[i]);
	VH_EXPECT_STREQ(l.sha[2], SHA_EMPTY);
	VH_EXPECT_STREQ(l.sha[0], SHA_ABC);

	/* Replaced by hand behind our back: the digest follows the file. */
	snprintf(path, sizeof(path), "%s/smp.elf", vh_images_dir(im));
	VH_ASSERT_EQ(unlink(path), 0);
	VH_ASSERT_EQ(at_write_file(path, "", 0), 0);
	struct vh_image_info info;
	VH_ASSERT_EQ((int)vh_images_stat(im, "smp.elf", &info), VH_FILE_OK);
	VH_EXPECT_STREQ(info.sha256, SHA_EMPTY);
	vh_images_close(im);

	/* Leftover uploads are removed when the folder is opened. */
	snprintf(path, sizeof(path), "%s/images/.upload-0011223344556677", dir);
	VH_ASSERT_EQ(at_write_file(path, "junk", 4), 0);
	snprintf(path, sizeof(path), "%s/images", dir);
	im = vh_images_open(path, 1000, err, sizeof(err));
	VH_ASSERT(im != NULL);
	VH_EXPECT_EQ(at_count(path, ".upload-"), 0);
	vh_images_close(im);
	at_rm_rf(dir);
	free(dir);
}
