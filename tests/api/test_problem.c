/* SPDX-License-Identifier: Apache-2.0 */
/* Problem details: codes, statuses, the JSON shape, and the hypervisor's
 * errors in the API's vocabulary. */
#include "api_test.h"

VH_TEST(problem, every_code_has_a_unique_name_and_status)
{
	for (int i = 0; i < VH_API_CODE_COUNT; i++) {
		const char *name = vh_api_code_name((enum vh_api_code)i);
		VH_ASSERT(name != NULL);
		VH_EXPECT_EQ((int)vh_api_code_from_name(name), i);
		for (int j = 0; j < i; j++)
			VH_EXPECT(strcmp(name, vh_api_code_name((enum vh_api_code)j)) != 0);
		int st = vh_api_http_status((enum vh_api_code)i);
		VH_EXPECT(st == 200 || (st >= 400 && st <= 599));
	}
	VH_EXPECT_EQ((int)vh_api_code_from_name("no_such_code"), (int)VH_API_CODE_COUNT);
	VH_EXPECT_EQ((int)vh_api_code_from_name(NULL), (int)VH_API_CODE_COUNT);
}

VH_TEST(problem, statuses)
{
	static const struct {
		enum vh_api_code code;
		int status;
		const char *name;
	} rows[] = {
		{ VH_API_BAD_JSON, 400, "bad_json" },
		{ VH_API_INVALID_FIELD, 422, "invalid_field" },
		{ VH_API_MISSING_FIELD, 422, "missing_field" },
		{ VH_API_NOT_FOUND, 404, "not_found" },
		{ VH_API_METHOD_NOT_ALLOWED, 405, "method_not_allowed" },
		{ VH_API_CONFLICT, 409, "conflict" },
		{ VH_API_ADMISSION, 409, "admission" },
		{ VH_API_PRECONDITION, 412, "precondition_failed" },
		{ VH_API_PRECONDITION_REQUIRED, 428, "precondition_required" },
		{ VH_API_TOO_LARGE, 413, "too_large" },
		{ VH_API_UNSUPPORTED_MEDIA, 415, "unsupported_media_type" },
		{ VH_API_UNAUTHORIZED, 401, "unauthorized" },
		{ VH_API_FORBIDDEN, 403, "forbidden" },
		{ VH_API_LIMIT, 409, "limit" },
		{ VH_API_BUSY, 503, "busy" },
		{ VH_API_UNAVAILABLE, 503, "unavailable" },
		{ VH_API_CHECKSUM, 422, "checksum_mismatch" },
		{ VH_API_INTERNAL, 500, "internal" },
		{ VH_API_IDEMPOTENCY_MISMATCH, 422, "idempotency_mismatch" },
		{ VH_API_TOO_MANY_REQUESTS, 429, "too_many_requests" },
		{ VH_API_BAD_REQUEST, 400, "bad_request" },
		{ VH_API_INSUFFICIENT_STORAGE, 507, "insufficient_storage" },
		{ VH_API_TIMEOUT, 504, "hypervisor_timeout" },
		{ VH_API_SIMULATION_TIMEOUT, 504, "simulation_timeout" },
	};
	VH_EXPECT_EQ(sizeof(rows) / sizeof(rows[0]), (size_t)VH_API_CODE_COUNT - 1);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		VH_EXPECT_EQ(vh_api_http_status(rows[i].code), rows[i].status);
		VH_EXPECT_STREQ(vh_api_code_name(rows[i].code), rows[i].name);
	}
	/* Out of range is an internal error, never a crash. */
	VH_EXPECT_EQ(vh_api_http_status((enum vh_api_code)999), 500);
	VH_EXPECT_STREQ(vh_api_code_name((enum vh_api_code)999), "internal");
}

VH_TEST(problem, fail_fills_and_returns_minus_one)
{
	struct vh_api_problem p;

	VH_EXPECT_EQ(vh_api_fail(&p, VH_API_CONFLICT, "name", "a VM named \"%s\" exists", "web1"),
		     -1);
	EXPECT_PROBLEM(p, VH_API_CONFLICT, "name");
	VH_EXPECT_STREQ(p.detail, "a VM named \"web1\" exists");
	VH_EXPECT_EQ(vh_api_fail(&p, VH_API_BUSY, NULL, "x"), -1);
	VH_EXPECT_STREQ(p.field, "");
	VH_EXPECT_EQ(vh_api_fail(NULL, VH_API_BUSY, NULL, "x"), -1);
}

static struct json_object *member(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

VH_TEST(problem, json_shape)
{
	struct vh_api_problem p;
	struct vh_api_problem q;
	struct json_object *o = NULL;
	char *s;

	vh_api_fail(&p, VH_API_INVALID_FIELD, "cpu.shares",
		    "cpu.shares: must be low, normal, high");
	s = vh_api_problem_json(&p, "/v1/vms/web1");
	VH_ASSERT(s != NULL);
	VH_ASSERT_EQ(vh_api_parse(s, strlen(s), &o, &q), 0);
	VH_EXPECT_EQ(json_object_object_length(o), 7);
	VH_EXPECT_STREQ(json_object_get_string(member(o, "type")),
			"https://vh.dev/problems/invalid_field");
	VH_EXPECT_STREQ(json_object_get_string(member(o, "title")), "Invalid field");
	VH_EXPECT_EQ(json_object_get_int(member(o, "status")), 422);
	VH_EXPECT_STREQ(json_object_get_string(member(o, "detail")),
			"cpu.shares: must be low, normal, high");
	VH_EXPECT_STREQ(json_object_get_string(member(o, "code")), "invalid_field");
	VH_EXPECT_STREQ(json_object_get_string(member(o, "field")), "cpu.shares");
	VH_EXPECT_STREQ(json_object_get_string(member(o, "instance")), "/v1/vms/web1");
	json_object_put(o);
	free(s);

	/* No field, no instance: the members are left out, not empty. */
	vh_api_fail(&p, VH_API_NOT_FOUND, "", "no VM named \"x\"");
	s = vh_api_problem_json(&p, NULL);
	VH_ASSERT(s != NULL);
	VH_ASSERT_EQ(vh_api_parse(s, strlen(s), &o, &q), 0);
	VH_EXPECT_EQ(json_object_object_length(o), 5);
	VH_EXPECT(member(o, "field") == NULL);
	VH_EXPECT(member(o, "instance") == NULL);
	VH_EXPECT_EQ(json_object_get_int(member(o, "status")), 404);
	json_object_put(o);
	free(s);
}

/* Details may carry what a client sent; the JSON must stay valid. */
VH_TEST(problem, hostile_detail_stays_valid_json)
{
	struct vh_api_problem p = { .code = VH_API_BAD_JSON };
	struct vh_api_problem q;
	struct json_object *o = NULL;
	char *s;

	snprintf(p.detail, sizeof(p.detail),
		 "quote \" backslash \\ ctl \x01 bad \xff\xfe cut \xe2\x82");
	snprintf(p.field, sizeof(p.field), "f\"\n\xc3");
	s = vh_api_problem_json(&p, "/v1/vms/\xff");
	VH_ASSERT(s != NULL);
	VH_ASSERT_EQ(vh_api_parse(s, strlen(s), &o, &q), 0);
	VH_EXPECT(strstr(json_object_get_string(member(o, "detail")), "quote \" backslash \\") !=
		  NULL);
	VH_EXPECT_STREQ(json_object_get_string(member(o, "field")), "f\"\n?");
	VH_EXPECT_STREQ(json_object_get_string(member(o, "instance")), "/v1/vms/?");
	json_object_put(o);
	free(s);
	/* An empty detail gets the title. */
	p = (struct vh_api_problem){ .code = VH_API_FORBIDDEN };
	s = vh_api_problem_json(&p, NULL);
	VH_ASSERT(s != NULL);
	VH_EXPECT(strstr(s, "\"detail\":\"Forbidden\"") != NULL);
	free(s);
}

VH_TEST(problem, proto_error_codes)
{
	static const struct {
		uint32_t code;
		enum vh_api_code api;
	} rows[] = {
		{ VH_E_INVAL, VH_API_INVALID_FIELD }, { VH_E_NOENT, VH_API_NOT_FOUND },
		{ VH_E_EXIST, VH_API_CONFLICT },      { VH_E_STATE, VH_API_CONFLICT },
		{ VH_E_NOMEM, VH_API_BUSY },          { VH_E_ADMISSION, VH_API_ADMISSION },
		{ VH_E_LIMIT, VH_API_LIMIT },         { VH_E_PROTO, VH_API_INTERNAL },
		{ VH_E_VERSION, VH_API_INTERNAL },    { VH_E_BUSY, VH_API_BUSY },
		{ VH_E_INTERNAL, VH_API_INTERNAL },   { 999, VH_API_INTERNAL },
		{ VH_OK, VH_API_INTERNAL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vh_proto_error e = { .code = rows[i].code };
		struct vh_api_problem p;
		snprintf(e.reason, sizeof(e.reason), "something");
		vh_api_from_proto_error(&e, &p);
		VH_EXPECT_EQ((int)p.code, (int)rows[i].api);
		VH_EXPECT_STREQ(p.detail, "something");
	}
}

/* The protocol's field paths in the API's names. */
VH_TEST(problem, proto_error_fields)
{
	static const struct {
		const char *wire, *api;
	} rows[] = {
		{ "cpu.reservation_mhz", "cpu.reservation_mhz" },
		{ "memory.reservation_mib", "memory.reservation_mib" },
		{ "cpu.shares.custom", "cpu.shares" },
		{ "memory.shares.level", "memory.shares" },
		{ "boot.nmodules", "boot.modules" },
		{ "boot.modules[3].args", "boot.modules[3].cmdline" },
		{ "boot.modules[].args", "boot.modules[].cmdline" },
		{ "boot.modules[2].image", "boot.modules[2].image" },
		{ "boot.kernel", "boot.kernel" },
		{ "ndevices", "devices" },
		{ "devices[1].type", "devices[1]" },
		{ "devices[0].flags", "devices[0]" },
		{ "vm.name", "vm" },
		{ "vm.uuid", "vm" },
		{ "vm.id", "vm" },
		{ "balloon.target", "balloon.target_mib" },
		{ "balloon.target_mib", "balloon.target_mib" },
		{ "header.magic", "" },
		{ "header", "" },
		{ "type", "" },
		{ "reserved", "" },
		{ "name", "name" },
		{ "uuid", "uuid" },
		{ "", "" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vh_proto_error e = { .code = VH_E_INVAL };
		struct vh_api_problem p;
		snprintf(e.field, sizeof(e.field), "%s", rows[i].wire);
		snprintf(e.reason, sizeof(e.reason), "%s: bad", rows[i].wire);
		vh_api_from_proto_error(&e, &p);
		if (strcmp(p.field, rows[i].api))
			VH_FAIL("%s -> \"%s\", want \"%s\"", rows[i].wire, p.field, rows[i].api);
	}
}

VH_TEST(problem, proto_error_real_reasons)
{
	/* As vh_proto_dispatch reports an admission failure. */
	struct vh_proto_error e = { .code = VH_E_ADMISSION, .field = "cpu.reservation_mhz" };
	struct vh_api_problem p;

	snprintf(e.reason, sizeof(e.reason),
		 "cpu.reservation_mhz: VM \"web1\" needs 500 MHz more but only 100 of 4000 MHz are "
		 "unreserved: short by 400 MHz");
	vh_api_from_proto_error(&e, &p);
	EXPECT_PROBLEM(p, VH_API_ADMISSION, "cpu.reservation_mhz");
	VH_EXPECT(strstr(p.detail, "short by 400 MHz") != NULL);
	VH_EXPECT_EQ(vh_api_http_status(p.code), 409);

	/* No reason at all still gives a detail. */
	e = (struct vh_proto_error){ .code = VH_E_BUSY };
	vh_api_from_proto_error(&e, &p);
	EXPECT_PROBLEM(p, VH_API_BUSY, "");
	/* A field that fills the wire's buffer is read within it. */
	e = (struct vh_proto_error){ .code = VH_E_INVAL };
	memset(e.field, 'a', sizeof(e.field));
	memset(e.reason, 'b', sizeof(e.reason));
	vh_api_from_proto_error(&e, &p);
	VH_EXPECT_EQ(strlen(p.field), sizeof(e.field) - 1);
	VH_EXPECT_LT(strlen(p.detail), sizeof(p.detail));
}

/* The contract's ProblemCode enum lists exactly the library's codes (but
 * "ok"), in the same order. */
VH_TEST(problem, codes_match_the_contract)
{
	char path[4096], line[256];
	FILE *f;
	int in_enum = 0, n = 1;

	snprintf(path, sizeof(path), "%s/api/openapi.yaml", VH_TOP_SRCDIR);
	VH_ASSERT((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		if (!strcmp(line, "    ProblemCode:\n")) {
			in_enum = 1;
			continue;
		}
		if (in_enum == 1 && !strcmp(line, "      enum:\n")) {
			in_enum = 2;
			continue;
		}
		if (in_enum != 2)
			continue;
		if (sscanf(line, "        - %63[a-z_]", name) != 1)
			break;
		if (n >= VH_API_CODE_COUNT)
			VH_FAIL("the contract lists %s beyond the library's codes", name);
		else
			VH_EXPECT_STREQ(name, vh_api_code_name((enum vh_api_code)n));
		n++;
	}
	fclose(f);
	VH_EXPECT_EQ(in_enum, 2);
	VH_EXPECT_EQ(n, (int)VH_API_CODE_COUNT);
}
