/* SPDX-License-Identifier: Apache-2.0 */
/* vh_api_parse: exactly one strict JSON value, nothing json-c lets
 * through by default (trailing data, duplicate keys, NaN, clamped
 * integers, lax numbers, raw control characters, invalid UTF-8). */
#include <stdio.h>
#include <stdlib.h>

#include "api/api_internal.h"
#include "api_test.h"

VH_TEST(json_strict, accepts_valid_documents)
{
	static const char *const ok[] = {
		"{}",
		"[]",
		"{\"a\":1}",
		" \n\t{\"a\":[1,2,{\"b\":null}]}\r\n ",
		"1",
		"-0",
		"0",
		"\"x\"",
		"true",
		"null",
		"-12.5e-3",
		"1E5",
		"0.5",
		"{\"a\":{\"a\":{\"a\":1}}}",
		"{\"a\":1,\"b\":{\"a\":2}}",
		"[{\"k\":1},{\"k\":2}]",
		"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		"\"\\ud83d\\ude00 \\u00e9 \\\" \\\\ \\/\"",
		"18446744073709551615",
		"-9223372036854775808",
		"1E+2",
		"-0.0e-0",
		"[1e-400]",
		"0e0",
		"{\"x\\\\\":1,\"x\":2}",
		"[\"\\\\u0000\"]",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct vh_api_problem p;
		struct json_object *o = NULL;
		if (api_parse(ok[i], &o, &p))
			VH_FAIL("refused %s: %s", ok[i], p.detail);
		VH_EXPECT(o != NULL || !strcmp(ok[i], "null")); /* json-c's null is NULL */
		json_object_put(o);
	}
}

/* Each of these is refused as bad_json with the byte offset in the detail. */
static const struct {
	const char *text;
	const char *why; /* a piece of the detail */
} bad[] = {
	{ "", "empty" },
	{ "   \n", "empty" },
	{ "{", "byte 1" },
	{ "{\"a\":1} x", "byte 8" },
	{ "{\"a\":1}{}", "byte 7" },
	{ "[1]]", "byte 3" },
	{ "{\"a\":1,}", "byte 7" },
	{ "[1,]", "byte 3" },
	{ "{a:1}", "byte 1" },
	{ "[NaN]", "NaN" },
	{ "{\"a\":NaN}", "NaN" },
	{ "[Infinity]", "NaN and Infinity" },
	{ "[-Infinity]", "not a JSON number" },
	{ "NaN", "NaN" },
	{ "[1.]", "digit must follow" },
	{ "[1.e5]", "digit must follow" },
	{ "[-01]", "leading zero" },
	{ "[00]", "leading zero" },
	{ "01", "byte 2" },
	{ "{'a':1}", "byte 1" },
	{ "{\"a\":'b'}", "byte 5" },
	{ "[nullx]", "byte" },
	{ "[truefalse]", "byte" },
	{ "[1e400]", "range of a double" },
	{ "{\"a\":-1e400}", "range of a double" },
	{ "[\"a\tb\"]", "control character 0x09" },
	{ "[\"a\nb\"]", "control character 0x0a" },
	{ "[\"\x01\"]", "byte 2" },
	{ "[\"\\u0000\"]", "\\u0000" },
	{ "{\"name\\u0000x\":1}", "\\u0000" },
	{ "[\"\xff\"]", "invalid UTF-8" },
	{ "[\"\x80\"]", "invalid UTF-8" },
	{ "[\"\xc0\x80\"]", "invalid UTF-8" },          /* overlong NUL */
	{ "[\"\xe0\x80\xaf\"]", "invalid UTF-8" },      /* overlong '/' */
	{ "[\"\xed\xa0\x80\"]", "invalid UTF-8" },      /* an encoded surrogate */
	{ "[\"\xf4\x90\x80\x80\"]", "invalid UTF-8" },  /* above U+10FFFF */
	{ "[\"\xe2\x82\"]", "invalid UTF-8" },          /* cut short */
	{ "{\"a\":1,\"a\":2}", "duplicate key \"a\"" },
	{ "{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\"" },
	{ "{\"x\":{\"y\":[{\"k\":1,\"j\":2,\"k\":3}]}}", "byte 24: duplicate key \"k\"" },
	{ "[{\"a\":1},{\"b\":{\"c\":{\"d\":{\"e\":1,\"e\":1}}}}]", "duplicate key \"e\"" },
	{ "{\"a\":{\"x\":1},\"a\":{\"y\":2}}", "duplicate key \"a\"" },
	{ "{\"q\\\"k\":1,\"q\\u0022k\":2}", "duplicate key \"q\"k\"" },
	{ "tru", "byte" },
	{ "True", "byte 0" },
	{ "\"abc", "byte" },
	{ "[1 2]", "byte 3" },
	{ "/* c */ {}", "byte 0" },
	{ "{} // c", "byte 3" },
	{ "+1", "byte 0" },
	{ ".5", "byte 0" },
	{ "0x10", "byte 1" },
};

VH_TEST(json_strict, refuses_what_json_c_lets_through)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vh_api_problem p;
		struct json_object *o = (struct json_object *)&p; /* must be reset */
		int rc = api_parse(bad[i].text, &o, &p);
		if (rc == 0) {
			VH_EXPECT(!"accepted");
			fprintf(stderr, "accepted: %s\n", bad[i].text);
			json_object_put(o);
			continue;
		}
		VH_EXPECT(o == NULL);
		EXPECT_PROBLEM(p, VH_API_BAD_JSON, "");
		if (!strstr(p.detail, bad[i].why))
			VH_FAIL("%s: detail \"%s\" lacks \"%s\"", bad[i].text, p.detail,
				bad[i].why);
	}
}

VH_TEST(json_strict, duplicate_key_names_its_offset)
{
	struct vh_api_problem p;
	struct json_object *o;

	VH_ASSERT_EQ(api_parse("{\"vcpus\":1, \"vcpus\":2}", &o, &p), -1);
	VH_EXPECT_STREQ(p.detail, "malformed JSON at byte 12: duplicate key \"vcpus\"");
}

VH_TEST(json_strict, same_key_in_sibling_objects_is_fine)
{
	struct json_object *o =
	    API_JSON("[{\"a\":1,\"b\":2},{\"a\":3,\"b\":4},{\"a\":{\"a\":{\"a\":5}}}]");

	VH_EXPECT_EQ(json_object_array_length(o), (size_t)3);
	json_object_put(o);
}

/* Depth: 16 levels of arrays and objects parse, 17 do not. */
VH_TEST(json_strict, nesting_depth_is_sixteen)
{
	char ok[64], deep[64], obj[256];
	struct vh_api_problem p;
	struct json_object *o;
	size_t n = 0;

	snprintf(ok, sizeof(ok), "%.*s1%.*s", 16, "[[[[[[[[[[[[[[[[[[[[", 16,
		 "]]]]]]]]]]]]]]]]]]]]");
	snprintf(deep, sizeof(deep), "%.*s1%.*s", 17, "[[[[[[[[[[[[[[[[[[[[", 17,
		 "]]]]]]]]]]]]]]]]]]]]");
	VH_ASSERT_EQ(api_parse(ok, &o, &p), 0);
	json_object_put(o);
	VH_ASSERT_EQ(api_parse(deep, &o, &p), -1);
	EXPECT_PROBLEM(p, VH_API_BAD_JSON, "");
	VH_EXPECT(strstr(p.detail, "deeper than 16") != NULL);
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(obj + n, sizeof(obj) - n, "{\"a\":");
	n += (size_t)snprintf(obj + n, sizeof(obj) - n, "1");
	for (int i = 0; i < 17; i++)
		n += (size_t)snprintf(obj + n, sizeof(obj) - n, "}");
	VH_ASSERT_EQ(api_parse(obj, &o, &p), -1);
	EXPECT_PROBLEM(p, VH_API_BAD_JSON, "");
}

VH_TEST(json_strict, length_bounds_the_text)
{
	/* Only buf[0..len) is the value: what follows is not looked at. */
	const char text[] = "{\"a\":1}GARBAGE";
	struct vh_api_problem p;
	struct json_object *o;

	VH_ASSERT_EQ(vh_api_parse(text, 7, &o, &p), 0);
	json_object_put(o);
	VH_ASSERT_EQ(vh_api_parse(text, 8, &o, &p), -1);
	VH_EXPECT(strstr(p.detail, "byte 7") != NULL);
	/* A NUL byte is not whitespace. */
	VH_ASSERT_EQ(vh_api_parse("{}\0", 3, &o, &p), -1);
	EXPECT_PROBLEM(p, VH_API_BAD_JSON, "");
	VH_ASSERT_EQ(vh_api_parse("[\"a\0b\"]", 7, &o, &p), -1);
	EXPECT_PROBLEM(p, VH_API_BAD_JSON, "");
}

/* json-c would clamp this to UINT64_MAX; the readers must see that it
 * was out of range even for a field whose range is all of uint64. */
VH_TEST(json_strict, clamped_integers_are_marked)
{
	struct json_object *o =
		API_JSON("{\"big\":18446744073709551616,\"max\":18446744073709551615,"
			 "\"arr\":[1.5,99999999999999999999999,2],\"neg\":-99999999999999999999}");
	struct vh_api_problem p;
	uint64_t v = 7;

	VH_EXPECT_EQ(vh_api_get_u64(o, "big", "big", 0, UINT64_MAX, true, &v, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "big");
	VH_EXPECT(strstr(p.detail, "beyond 64 bits") != NULL);
	VH_EXPECT_EQ(v, 7ull);
	VH_EXPECT_EQ(vh_api_get_u64(o, "max", "max", 0, UINT64_MAX, true, &v, &p), 0);
	VH_EXPECT_EQ(v, UINT64_MAX);
	VH_EXPECT_EQ(vh_api_get_u64(o, "neg", "neg", 0, UINT64_MAX, true, &v, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "neg");

	struct json_object *arr;
	VH_ASSERT(json_object_object_get_ex(o, "arr", &arr));
	/* The marker is on the second element only (numbers counted in order;
	 * json-c keeps a double's text as its userdata). */
	for (size_t i = 0; i < 3; i++) {
		void *u = json_object_get_userdata(json_object_array_get_idx(arr, i));
		VH_EXPECT_EQ(u == &vh_api_clamped_marker, i == 1);
	}
	json_object_put(o);
}

/* A big flat object is linear work, and every key is checked. */
VH_TEST(json_strict, many_keys)
{
	size_t cap = 20000 * 16, n = 0;
	char *s = malloc(cap);
	struct vh_api_problem p;
	struct json_object *o;

	VH_ASSERT(s != NULL);
	n += (size_t)snprintf(s + n, cap - n, "{");
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s\"k%d\":%d", i ? "," : "", i, i);
	snprintf(s + n, cap - n, "}");
	VH_EXPECT_EQ(api_parse(s, &o, &p), 0);
	VH_EXPECT_EQ(json_object_object_length(o), 20000);
	json_object_put(o);
	/* The same with the last key repeating the first. */
	n = 0;
	n += (size_t)snprintf(s + n, cap - n, "{");
	for (int i = 0; i < 20000; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s\"k%d\":%d", i ? "," : "",
				      i < 19999 ? i : 0, i);
	snprintf(s + n, cap - n, "}");
	VH_ASSERT_EQ(api_parse(s, &o, &p), -1);
	VH_EXPECT(strstr(p.detail, "duplicate key \"k0\"") != NULL);
	free(s);
}
