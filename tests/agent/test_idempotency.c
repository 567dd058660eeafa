/* Idempotency keys: the first response is replayed, another body with
 * the same key is refused, a key in flight is busy, keys are scoped,
 * they expire and their number is bounded. */
#include <stdlib.h>
#include <string.h>

#include "agent/idempotency.h"
#include "vh_test.h"

static void digest(uint8_t d[32], int v)
{
	memset(d, 0, 32);
	d[0] = (uint8_t)v;
}

static void finish(struct vh_idem *t, const char *scope, const char *key, int status,
		   const char *body, time_t now)
{
	struct vh_idem_response resp = { .status = status };

	strcpy(resp.content_type, "application/json");
	strcpy(resp.location, "/v1/vms/x");
	strcpy(resp.etag, "\"abc\"");
	resp.body = (char *)body;
	resp.len = strlen(body);
	vh_idem_finish(t, scope, key, &resp, now);
}

VH_TEST(idempotency, replay_mismatch_busy)
{
	struct vh_idem *t = vh_idem_new(100, 3600);
	struct vh_idem_response out = { 0 };
	uint8_t d1[32], d2[32];

	digest(d1, 1);
	digest(d2, 2);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0 POST /v1/vms", "k", d1, 100, &out),
		     (int)VH_IDEM_NEW);
	/* A retry while the first is still running. */
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0 POST /v1/vms", "k", d1, 100, &out),
		     (int)VH_IDEM_BUSY);
	finish(t, "uid:0 POST /v1/vms", "k", 201, "{\"name\":\"a\"}", 101);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0 POST /v1/vms", "k", d1, 102, &out),
		     (int)VH_IDEM_REPLAY);
	VH_EXPECT_EQ(out.status, 201);
	VH_EXPECT_EQ(out.len, strlen("{\"name\":\"a\"}"));
	VH_EXPECT_MEMEQ(out.body, "{\"name\":\"a\"}", out.len);
	VH_EXPECT_STREQ(out.location, "/v1/vms/x");
	VH_EXPECT_STREQ(out.etag, "\"abc\"");
	free(out.body);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0 POST /v1/vms", "k", d2, 103, &out),
		     (int)VH_IDEM_MISMATCH);
	/* Another principal's key of the same name is another key. */
	VH_EXPECT_EQ((int)vh_idem_begin(t, "token:1 POST /v1/vms", "k", d2, 103, &out),
		     (int)VH_IDEM_NEW);
	VH_EXPECT_EQ(vh_idem_count(t), (size_t)2);
	vh_idem_free(t);
}

VH_TEST(idempotency, cancel_forgets)
{
	struct vh_idem *t = vh_idem_new(100, 3600);
	struct vh_idem_response out = { 0 };
	uint8_t d[32];

	digest(d, 1);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "s", "k", d, 0, &out), (int)VH_IDEM_NEW);
	vh_idem_cancel(t, "s", "k");
	VH_EXPECT_EQ(vh_idem_count(t), (size_t)0);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "s", "k", d, 0, &out), (int)VH_IDEM_NEW);
	/* Cancelling a finished key does nothing. */
	finish(t, "s", "k", 201, "x", 0);
	vh_idem_cancel(t, "s", "k");
	VH_EXPECT_EQ((int)vh_idem_begin(t, "s", "k", d, 1, &out), (int)VH_IDEM_REPLAY);
	free(out.body);
	vh_idem_free(t);
}

VH_TEST(idempotency, keys_expire)
{
	struct vh_idem *t = vh_idem_new(100, 24 * 3600);
	struct vh_idem_response out = { 0 };
	uint8_t d[32];

	digest(d, 1);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "s", "k", d, 1000, &out), (int)VH_IDEM_NEW);
	finish(t, "s", "k", 201, "x", 1000);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "s", "k", d, 1000 + 24 * 3600 - 1, &out),
		     (int)VH_IDEM_REPLAY);
	free(out.body);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "s", "k", d, 1000 + 24 * 3600, &out), (int)VH_IDEM_NEW);
	vh_idem_free(t);
}

VH_TEST(idempotency, bounded)
{
	struct vh_idem *t = vh_idem_new(3, 3600);
	struct vh_idem_response out = { 0 };
	char key[8];
	uint8_t d[32];

	digest(d, 1);
	for (int i = 0; i < 10; i++) {
		key[0] = (char)('a' + i);
		key[1] = '\0';
		VH_ASSERT_EQ((int)vh_idem_begin(t, "s", key, d, i, &out), (int)VH_IDEM_NEW);
		finish(t, "s", key, 201, "x", i);
		VH_EXPECT_LE(vh_idem_count(t), (size_t)3);
	}
	/* The oldest went first; the newest is still there. */
	VH_EXPECT_EQ((int)vh_idem_begin(t, "s", "a", d, 20, &out), (int)VH_IDEM_NEW);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "s", "j", d, 20, &out), (int)VH_IDEM_REPLAY);
	free(out.body);
	vh_idem_free(t);
}
