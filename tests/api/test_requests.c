/* SPDX-License-Identifier: Apache-2.0 */
/* The power and token request bodies: what each accepts, and that every
 * refusal names its field. */
#include "api_test.h"

static int power(const char *s, struct vh_api_power *out, struct vh_api_problem *p)
{
	struct json_object *o = API_JSON(s);
	int rc;

	memset(p, 0, sizeof(*p));
	rc = vh_api_power_from_json(o, out, p);
	json_object_put(o);
	return rc;
}

static int token(const char *s, struct vh_api_token_request *out, struct vh_api_problem *p)
{
	struct json_object *o = API_JSON(s);
	int rc;

	memset(p, 0, sizeof(*p));
	rc = vh_api_token_request_from_json(o, out, p);
	json_object_put(o);
	return rc;
}

VH_TEST(requests, power_states_and_force)
{
	struct vh_api_power w;
	struct vh_api_problem p;

	VH_ASSERT_EQ(power("{\"state\":\"running\"}", &w, &p), 0);
	VH_EXPECT_EQ((int)w.state, (int)VH_API_POWER_RUNNING);
	VH_EXPECT(!w.force);
	VH_ASSERT_EQ(power("{\"state\":\"stopped\",\"force\":true}", &w, &p), 0);
	VH_EXPECT_EQ((int)w.state, (int)VH_API_POWER_STOPPED);
	VH_EXPECT(w.force);
	VH_ASSERT_EQ(power("{\"state\":\"paused\"}", &w, &p), 0);
	VH_EXPECT_EQ((int)w.state, (int)VH_API_POWER_PAUSED);

	VH_EXPECT_EQ(power("{\"state\":\"off\"}", &w, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "state");
	VH_EXPECT_EQ(power("{}", &w, &p), -1);
	EXPECT_PROBLEM(p, VH_API_MISSING_FIELD, "state");
	VH_EXPECT_EQ(power("{\"state\":\"running\",\"force\":1}", &w, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "force");
	VH_EXPECT_EQ(power("{\"state\":\"running\",\"now\":true}", &w, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "now");
	VH_EXPECT_EQ(power("[\"running\"]", &w, &p), -1);
	VH_EXPECT_NE((int)p.code, 0);
}

VH_TEST(requests, token_names_and_roles)
{
	struct vh_api_token_request t;
	struct vh_api_problem p;

	VH_ASSERT_EQ(token("{\"name\":\"ci-bot\",\"role\":\"operator\"}", &t, &p), 0);
	VH_EXPECT_STREQ(t.name, "ci-bot");
	VH_EXPECT_STREQ(t.role, "operator");
	VH_ASSERT_EQ(token("{\"role\":\"admin\",\"name\":\"a\"}", &t, &p), 0);
	VH_EXPECT_STREQ(t.role, "admin");

	VH_EXPECT_EQ(token("{\"name\":\"ci bot\",\"role\":\"viewer\"}", &t, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "name");
	VH_EXPECT_EQ(token("{\"name\":\"ci\",\"role\":\"root\"}", &t, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "role");
	VH_EXPECT_EQ(token("{\"name\":\"ci\"}", &t, &p), -1);
	EXPECT_PROBLEM(p, VH_API_MISSING_FIELD, "role");
	VH_EXPECT_EQ(token("{\"name\":\"ci\",\"role\":\"viewer\",\"ttl\":1}", &t, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "ttl");
	/* 64 characters: one past the longest name. */
	VH_EXPECT_EQ(
	    token("{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
		  "\"role\":\"viewer\"}",
		  &t, &p),
	    -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "name");
}

static int disk(const char *s, bool with_name, struct vh_api_disk_request *out,
		struct vh_api_problem *p)
{
	struct json_object *o = API_JSON(s);
	int rc;

	memset(p, 0, sizeof(*p));
	rc = vh_api_disk_request_from_json(o, with_name, out, p);
	json_object_put(o);
	return rc;
}

/* POST /v1/disks and PATCH /v1/disks/{disk}: a disk name (never a path)
 * and a size in whole sectors. */
VH_TEST(requests, disk_names_and_sizes)
{
	struct vh_api_disk_request d;
	struct vh_api_problem p;

	VH_ASSERT_EQ(disk("{\"name\":\"web-root\",\"size\":1073741824}", true, &d, &p), 0);
	VH_EXPECT_STREQ(d.name, "web-root");
	VH_EXPECT_EQ(d.size, 1073741824ull);
	VH_ASSERT_EQ(disk("{\"size\":512}", false, &d, &p), 0);
	VH_EXPECT_EQ(d.size, 512ull);

	VH_EXPECT_EQ(disk("{\"name\":\"a/b\",\"size\":512}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "name");
	VH_EXPECT_EQ(disk("{\"name\":\"..\",\"size\":512}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "name");
	VH_EXPECT_EQ(disk("{\"name\":\"x\",\"size\":1000}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "size");
	VH_EXPECT_EQ(disk("{\"name\":\"x\",\"size\":0}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "size");
	VH_EXPECT_EQ(disk("{\"name\":\"x\",\"size\":-512}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "size");
	VH_EXPECT_EQ(disk("{\"name\":\"x\",\"size\":\"1G\"}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "size");
	VH_EXPECT_EQ(disk("{\"name\":\"x\",\"size\":9223372036854775807}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "size");
	VH_EXPECT_EQ(disk("{\"name\":\"x\"}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_MISSING_FIELD, "size");
	VH_EXPECT_EQ(disk("{\"size\":512}", true, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_MISSING_FIELD, "name");
	/* A grow names no disk: the path does. */
	VH_EXPECT_EQ(disk("{\"name\":\"x\",\"size\":512}", false, &d, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "name");
}
