/* SPDX-License-Identifier: Apache-2.0 */
/* Idempotency keys: the first response is replayed, another body with
 * the same key is refused, a key in flight is busy, keys are scoped,
 * they expire and their number is bounded per caller. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/idempotency.h"
#include "vh_test.h"

static void digest(uint8_t d[32], int v)
{
	memset(d, 0, 32);
	d[0] = (uint8_t)v;
}

static void finish(struct vh_idem *t, const char *caller, const char *scope, const char *key,
		   int status, const char *body, time_t now)
{
	struct vh_idem_response resp = { .status = status };

	strcpy(resp.content_type, "application/json");
	strcpy(resp.location, "/v1/vms/x");
	strcpy(resp.etag, "\"abc\"");
	resp.body = (char *)body;
	resp.len = strlen(body);
	vh_idem_finish(t, caller, scope, key, &resp, now);
}

VH_TEST(idempotency, replay_mismatch_busy)
{
	struct vh_idem *t = vh_idem_new(100, 3600);
	struct vh_idem_response out = { 0 };
	uint8_t d1[32], d2[32];

	digest(d1, 1);
	digest(d2, 2);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0", "POST /v1/vms", "k", d1, 100, &out),
		     (int)VH_IDEM_NEW);
	/* A retry while the first is still running. */
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0", "POST /v1/vms", "k", d1, 100, &out),
		     (int)VH_IDEM_BUSY);
	finish(t, "uid:0", "POST /v1/vms", "k", 201, "{\"name\":\"a\"}", 101);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0", "POST /v1/vms", "k", d1, 102, &out),
		     (int)VH_IDEM_REPLAY);
	VH_EXPECT_EQ(out.status, 201);
	VH_EXPECT_EQ(out.len, strlen("{\"name\":\"a\"}"));
	VH_EXPECT_MEMEQ(out.body, "{\"name\":\"a\"}", out.len);
	VH_EXPECT_STREQ(out.location, "/v1/vms/x");
	VH_EXPECT_STREQ(out.etag, "\"abc\"");
	free(out.body);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0", "POST /v1/vms", "k", d2, 103, &out),
		     (int)VH_IDEM_MISMATCH);
	/* Another principal's key of the same name is another key. */
	VH_EXPECT_EQ((int)vh_idem_begin(t, "token:1", "POST /v1/vms", "k", d2, 103, &out),
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
	VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0", "s", "k", d, 0, &out), (int)VH_IDEM_NEW);
	vh_idem_cancel(t, "uid:0", "s", "k");
	VH_EXPECT_EQ(vh_idem_count(t), (size_t)0);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0", "s", "k", d, 0, &out), (int)VH_IDEM_NEW);
	/* Cancelling a finished key does nothing. */
	finish(t, "uid:0", "s", "k", 201, "x", 0);
	vh_idem_cancel(t, "uid:0", "s", "k");
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0", "s", "k", d, 1, &out), (int)VH_IDEM_REPLAY);
	free(out.body);
	vh_idem_free(t);
}

VH_TEST(idempotency, keys_expire)
{
	struct vh_idem *t = vh_idem_new(100, 24 * 3600);
	struct vh_idem_response out = { 0 };
	uint8_t d[32];

	digest(d, 1);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0", "s", "k", d, 1000, &out), (int)VH_IDEM_NEW);
	finish(t, "uid:0", "s", "k", 201, "x", 1000);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0", "s", "k", d, 1000 + 24 * 3600 - 1, &out),
		     (int)VH_IDEM_REPLAY);
	free(out.body);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0", "s", "k", d, 1000 + 24 * 3600, &out),
		     (int)VH_IDEM_NEW);
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
		VH_ASSERT_EQ((int)vh_idem_begin(t, "uid:0", "s", key, d, i, &out),
			     (int)VH_IDEM_NEW);
		finish(t, "uid:0", "s", key, 201, "x", i);
		VH_EXPECT_LE(vh_idem_count(t), (size_t)3);
	}
	/* The oldest went first; the newest is still there. */
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0", "s", "a", d, 20, &out), (int)VH_IDEM_NEW);
	VH_EXPECT_EQ((int)vh_idem_begin(t, "uid:0", "s", "j", d, 20, &out), (int)VH_IDEM_REPLAY);
	free(out.body);
	vh_idem_free(t);
}

/* One caller's flood evicts its own keys only: another caller's retry
 * still gets its first response. */
VH_TEST(idempotency, bounded_per_caller)
{
	struct vh_idem *t = vh_idem_new(3, 3600);
	struct vh_idem_response out = { 0 };
	char key[16];
	uint8_t d[32];

	digest(d, 1);
	VH_ASSERT_EQ((int)vh_idem_begin(t, "token:victim", "POST /v1/vms", "mine", d, 0, &out),
		     (int)VH_IDEM_NEW);
	finish(t, "token:victim", "POST /v1/vms", "mine", 201, "v", 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "flood-%d", i);
		VH_ASSERT_EQ((int)vh_idem_begin(t, "token:flood", "POST /v1/vms", key, d, 1, &out),
			     (int)VH_IDEM_NEW);
		finish(t, "token:flood", "POST /v1/vms", key, 201, "f", 1);
	}
	VH_EXPECT_EQ(vh_idem_count(t), (size_t)4); /* 3 of the flood, 1 of the victim */
	VH_ASSERT_EQ((int)vh_idem_begin(t, "token:victim", "POST /v1/vms", "mine", d, 2, &out),
		     (int)VH_IDEM_REPLAY);
	VH_EXPECT_MEMEQ(out.body, "v", out.len);
	free(out.body);
	/* The flood's oldest went, its newest stayed. */
	VH_EXPECT_EQ((int)vh_idem_begin(t, "token:flood", "POST /v1/vms", "flood-0", d, 2, &out),
		     (int)VH_IDEM_NEW);
	vh_idem_cancel(t, "token:flood", "POST /v1/vms", "flood-0");
	VH_EXPECT_EQ((int)vh_idem_begin(t, "token:flood", "POST /v1/vms", "flood-999", d, 2, &out),
		     (int)VH_IDEM_REPLAY);
	free(out.body);
	/* A key in flight is never evicted; the caller's finished ones are. */
	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "run-%d", i);
		VH_EXPECT_EQ((int)vh_idem_begin(t, "token:flood", "POST /v1/vms", key, d, 3, &out),
			     (int)VH_IDEM_NEW);
	}
	VH_EXPECT_EQ((int)vh_idem_begin(t, "token:flood", "POST /v1/vms", "run-0", d, 3, &out),
		     (int)VH_IDEM_BUSY);
	vh_idem_free(t);
}
