/* SPDX-License-Identifier: Apache-2.0 */
/* The field readers: types and ranges checked, the field named. */
#include "api_test.h"

static const char doc[] =
	"{\"two63\":9223372036854775808,\"neg\":-1,\"frac\":1.5,\"whole_frac\":1.0,"
	"\"exp\":1e3,\"str\":\"12\",\"t\":true,\"nul\":null,\"zero\":0,\"five\":5,"
	"\"obj\":{},\"arr\":[],\"max\":18446744073709551615,\"long\":\"abcdef\",\"empty\":\"\"}";

VH_TEST(fields, u64_types_and_ranges)
{
	static const struct {
		const char *key;
		const char *why;
	} bad[] = {
		{ "two63", "9223372036854775808 outside 0..100" },
		{ "neg", "-1 outside 0..100" },
		{ "frac", "must be an integer, not a fraction" },
		{ "whole_frac", "must be an integer, not a fraction" },
		{ "exp", "must be an integer, not a fraction" },
		{ "str", "must be an integer, not a string" },
		{ "t", "not a boolean" },
		{ "nul", "not null" },
		{ "obj", "not an object" },
		{ "arr", "not an array" },
		{ "max", "18446744073709551615 outside 0..100" },
	};
	struct json_object *o = API_JSON(doc);
	struct vh_api_problem p;
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char field[64];
		snprintf(field, sizeof(field), "x.%s", bad[i].key);
		v = 42;
		VH_EXPECT_EQ(vh_api_get_u64(o, bad[i].key, field, 0, 100, false, &v, &p), -1);
		EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, field);
		VH_EXPECT_EQ(v, 42ull); /* untouched on failure */
		if (!strstr(p.detail, bad[i].why) || strncmp(p.detail, field, strlen(field)))
			VH_FAIL("%s: detail \"%s\" lacks \"%s\"", bad[i].key, p.detail, bad[i].why);
	}
	VH_EXPECT_EQ(vh_api_get_u64(o, "five", "five", 5, 5, true, &v, &p), 0);
	VH_EXPECT_EQ(v, 5ull);
	VH_EXPECT_EQ(vh_api_get_u64(o, "five", "five", 6, 10, true, &v, &p), -1);
	VH_EXPECT(strstr(p.detail, "5 outside 6..10") != NULL);
	VH_EXPECT_EQ(vh_api_get_u64(o, "zero", "zero", 0, 0, true, &v, &p), 0);
	VH_EXPECT_EQ(v, 0ull);
	VH_EXPECT_EQ(vh_api_get_u64(o, "two63", "two63", 0, UINT64_MAX, true, &v, &p), 0);
	VH_EXPECT_EQ(v, 9223372036854775808ull);
	VH_EXPECT_EQ(vh_api_get_u64(o, "max", "max", 0, UINT64_MAX, true, &v, &p), 0);
	VH_EXPECT_EQ(v, UINT64_MAX);
	json_object_put(o);
}

VH_TEST(fields, absent_optional_and_required)
{
	struct json_object *o = API_JSON("{\"a\":1}");
	struct vh_api_problem p;
	uint64_t v = 9;
	const char *s = "keep";
	bool b = true;

	VH_EXPECT_EQ(vh_api_get_u64(o, "b", "cpu.b", 0, 10, false, &v, &p), 0);
	VH_EXPECT_EQ(v, 9ull);
	VH_EXPECT_EQ(vh_api_get_u64(o, "b", "cpu.b", 0, 10, true, &v, &p), -1);
	EXPECT_PROBLEM(p, VH_API_MISSING_FIELD, "cpu.b");
	VH_EXPECT_EQ(vh_api_get_string(o, "s", "s", 10, false, &s, &p), 0);
	VH_EXPECT_STREQ(s, "keep");
	VH_EXPECT_EQ(vh_api_get_string(o, "s", "boot.s", 10, true, &s, &p), -1);
	EXPECT_PROBLEM(p, VH_API_MISSING_FIELD, "boot.s");
	VH_EXPECT_EQ(vh_api_get_bool(o, "f", "f", false, &b, &p), 0);
	VH_EXPECT(b);
	VH_EXPECT_EQ(vh_api_get_bool(o, "f", "force", true, &b, &p), -1);
	EXPECT_PROBLEM(p, VH_API_MISSING_FIELD, "force");
	json_object_put(o);
}

VH_TEST(fields, readers_need_an_object)
{
	struct json_object *o = API_JSON("[1]");
	struct vh_api_problem p;
	uint64_t v;

	VH_EXPECT_EQ(vh_api_get_u64(o, "a", "a", 0, 10, false, &v, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "");
	json_object_put(o);
}

VH_TEST(fields, strings)
{
	struct json_object *o = API_JSON(doc);
	struct vh_api_problem p;
	const char *s = NULL;

	VH_EXPECT_EQ(vh_api_get_string(o, "long", "long", 6, true, &s, &p), 0);
	VH_EXPECT_STREQ(s, "abcdef");
	VH_EXPECT_EQ(vh_api_get_string(o, "long", "boot.cmdline", 5, true, &s, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "boot.cmdline");
	VH_EXPECT(strstr(p.detail, "6 bytes, at most 5") != NULL);
	VH_EXPECT_EQ(vh_api_get_string(o, "empty", "empty", 5, true, &s, &p), 0);
	VH_EXPECT_STREQ(s, "");
	VH_EXPECT_EQ(vh_api_get_string(o, "five", "five", 5, true, &s, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "five");
	VH_EXPECT(strstr(p.detail, "must be a string, not an integer") != NULL);
	VH_EXPECT_EQ(vh_api_get_string(o, "nul", "nul", 5, true, &s, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "nul");
	json_object_put(o);

	/* A string built with a NUL inside (vh_api_parse never makes one). */
	o = json_object_new_object();
	json_object_object_add(o, "k", json_object_new_string_len("a\0b", 3));
	VH_EXPECT_EQ(vh_api_get_string(o, "k", "k", 10, true, &s, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "k");
	VH_EXPECT(strstr(p.detail, "NUL") != NULL);
	json_object_put(o);
}

VH_TEST(fields, booleans)
{
	struct json_object *o = API_JSON(doc);
	struct vh_api_problem p;
	bool b = false;

	VH_EXPECT_EQ(vh_api_get_bool(o, "t", "t", true, &b, &p), 0);
	VH_EXPECT(b);
	VH_EXPECT_EQ(vh_api_get_bool(o, "zero", "force", true, &b, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "force");
	VH_EXPECT_EQ(vh_api_get_bool(o, "str", "force", true, &b, &p), -1);
	VH_EXPECT(strstr(p.detail, "true or false, not a string") != NULL);
	json_object_put(o);
}

VH_TEST(fields, only_keys)
{
	static const char *const keys[] = { "shares", "reservation_mhz", "limit_mhz", NULL };
	struct json_object *o = API_JSON("{\"shares\":1,\"limit_mhz\":null}");
	struct json_object *bad = API_JSON("{\"shares\":1,\"sharez\":2}");
	struct json_object *arr = API_JSON("[]");
	struct vh_api_problem p;

	VH_EXPECT_EQ(vh_api_only_keys(o, "cpu", keys, &p), 0);
	VH_EXPECT_EQ(vh_api_only_keys(bad, "cpu", keys, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "cpu.sharez");
	VH_EXPECT(strstr(p.detail, "unknown field") != NULL);
	VH_EXPECT_EQ(vh_api_only_keys(bad, "cpu.", keys, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "cpu.sharez");
	VH_EXPECT_EQ(vh_api_only_keys(bad, "", keys, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "sharez");
	VH_EXPECT_EQ(vh_api_only_keys(arr, "cpu", keys, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "cpu");
	VH_EXPECT(strstr(p.detail, "must be an object, not an array") != NULL);
	VH_EXPECT_EQ(vh_api_only_keys(arr, "", keys, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "");
	json_object_put(o);
	json_object_put(bad);
	json_object_put(arr);
}

/* A key too long for the field buffer is cut, never overflows, and the
 * cut does not split a UTF-8 character into invalid text. */
VH_TEST(fields, long_unknown_key_is_cut_cleanly)
{
	static const char *const keys[] = { NULL };
	char text[400];
	struct vh_api_problem p;
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "\xc3\xa9");
	snprintf(text + n, sizeof(text) - n, "\":1}");
	struct json_object *o = API_JSON(text);
	VH_EXPECT_EQ(vh_api_only_keys(o, "boot", keys, &p), -1);
	VH_EXPECT_EQ((int)p.code, (int)VH_API_INVALID_FIELD);
	VH_EXPECT_LT(strlen(p.field), (size_t)VH_API_FIELD_MAX);
	VH_EXPECT_EQ(strncmp(p.field, "boot.", 5), 0);
	char *j = vh_api_problem_json(&p, NULL);
	struct json_object *back = NULL;
	struct vh_api_problem q;
	VH_ASSERT(j != NULL);
	VH_EXPECT_EQ(vh_api_parse(j, strlen(j), &back, &q), 0);
	json_object_put(back);
	free(j);
	json_object_put(o);
}
