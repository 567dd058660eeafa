/* SPDX-License-Identifier: Apache-2.0 */
/* /v1/vms end to end: define, read, list (filters, pages), patch (ETag,
 * If-Match, concurrent writers), delete; every refusal with its status,
 * stable code and field. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "e2e.h"
#include "vh_test.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return NULL;
	n = getdelim(&buf, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

VH_TEST(vms, create_the_issue_example)
{
	static const char body[] =
	    "{\"name\":\"web1\",\"vcpus\":2,\"memory_mib\":256,"
	    "\"cpu\":{\"shares\":\"high\",\"reservation_mhz\":500,\"limit_mhz\":null},"
	    "\"memory\":{\"shares\":\"normal\",\"reservation_mib\":128,\"limit_mib\":null},"
	    "\"boot\":{\"kernel\":\"spinner.elf\",\"cmdline\":\"\"}}";
	const struct e2e_env *env = e2e_env();
	struct e2e_resp r, g;
	char path[256], rec[900];
	const char *uuid;
	char *text;

	VH_ASSERT_EQ(e2e_call(&r, "POST", "/v1/vms", body), 201L);
	uuid = e2e_str(r.json, "uuid");
	VH_ASSERT(uuid != NULL);
	snprintf(path, sizeof(path), "/v1/vms/%s", uuid);
	VH_EXPECT_STREQ(r.location, path);
	VH_EXPECT(r.etag[0] == '"');
	VH_EXPECT_STREQ(e2e_str(r.json, "name"), "web1");
	VH_EXPECT_STREQ(e2e_str(r.json, "state"), "defined");
	VH_EXPECT_STREQ(e2e_str(r.json, "cpu.shares"), "high");
	VH_EXPECT_EQ(e2e_int(r.json, "cpu.reservation_mhz"), 500);
	VH_EXPECT(json_object_is_type(e2e_get(r.json, "cpu.limit_mhz"), json_type_null));
	VH_EXPECT(e2e_get(r.json, "cpu.limit_mhz") == NULL &&
		  json_object_object_get_ex(e2e_get(r.json, "cpu"), "limit_mhz", NULL));
	VH_EXPECT_EQ(e2e_int(r.json, "memory.reservation_mib"), 128);
	VH_EXPECT_STREQ(e2e_str(r.json, "boot.kernel"), "spinner.elf");

	/* The Location, the uuid and the name all reach it, with one ETag. */
	VH_EXPECT_EQ(e2e_call(&g, "GET", path, NULL), 200L);
	VH_EXPECT_STREQ(g.etag, r.etag);
	e2e_resp_free(&g);
	VH_EXPECT_EQ(e2e_call(&g, "GET", "/v1/vms/web1", NULL), 200L);
	VH_EXPECT_STREQ(g.etag, r.etag);
	VH_EXPECT_STREQ(e2e_str(g.json, "uuid"), uuid);
	e2e_resp_free(&g);

	/* Persisted before the 201: {"format":1,"vm":{…},"power":…}. */
	snprintf(rec, sizeof(rec), "%s/vms/%s", env->state, uuid);
	text = slurp(rec);
	VH_ASSERT(text != NULL);
	{
		struct json_object *o = json_tokener_parse(text);
		VH_EXPECT_EQ(e2e_int(o, "format"), 1);
		VH_EXPECT_STREQ(e2e_str(o, "vm.name"), "web1");
		VH_EXPECT_STREQ(e2e_str(o, "vm.uuid"), uuid);
		VH_EXPECT_STREQ(e2e_str(o, "power"), "defined");
		json_object_put(o);
	}
	free(text);
	e2e_resp_free(&r);
	e2e_destroy("web1");
}

VH_TEST(vms, malformed_json_is_400)
{
	static const char *const bodies[] = {
		"{\"name\":\"x\"",                 /* cut short */
		"{\"name\":\"x\"} {}",             /* trailing data */
		"{\"name\":\"x\",\"name\":\"y\"}", /* duplicate key */
		"{\"name\":\"x\",\"vcpus\":NaN}",  /* not JSON */
		"[1,2",
	};
	struct e2e_resp r;

	e2e_env();
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		e2e_call_expect_problem("POST", "/v1/vms", bodies[i], 400, "bad_json", NULL);
	}
	/* An empty body is not a VM either. */
	e2e_req(&r, E2E_UNIX, NULL, "POST", "/v1/vms", "", NULL);
	e2e_expect_problem(&r, 400, "bad_json", NULL);
	e2e_resp_free(&r);
}

VH_TEST(vms, invalid_fields_are_422_with_the_field)
{
	static const struct {
		const char *body, *code, *field;
	} cases[] = {
		{ "{\"name\":\"f1\",\"vcpus\":\"2\"}", "invalid_field", "vcpus" },
		{ "{\"name\":\"f1\",\"vcpus\":65}", "invalid_field", "vcpus" },
		{ "{\"name\":\"f1\",\"vcpus\":18446744073709551617}", "invalid_field", "vcpus" },
		{ "{\"name\":\"f1\",\"memory_mib\":-1}", "invalid_field", "memory_mib" },
		{ "{\"name\":\"f1\",\"colour\":\"red\"}", "invalid_field", "colour" },
		{ "{\"name\":\"f1\",\"cpu\":{\"sharez\":1}}", "invalid_field", "cpu.sharez" },
		{ "{\"name\":\"f1\",\"cpu\":{\"shares\":\"huge\"}}", "invalid_field",
		  "cpu.shares" },
		{ "{\"name\":\"f1\",\"cpu\":{\"shares\":1000001}}", "invalid_field", "cpu.shares" },
		{ "{\"name\":\"bad name\"}", "invalid_field", "name" },
		{ "{\"vcpus\":1}", "missing_field", "name" },
		{ "{\"name\":\"f1\",\"state\":\"running\"}", "invalid_field", "state" },
		{ "{\"name\":\"f1\",\"boot\":{\"kernel\":\"nosuch.elf\"}}", "invalid_field",
		  "boot.kernel" },
	};
	struct e2e_resp r;

	e2e_env();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e2e_call(&r, "POST", "/v1/vms", cases[i].body);
		if (r.code != 422)
			fprintf(stderr, "  case %zu: %s\n", i, cases[i].body);
		e2e_expect_problem(&r, 422, cases[i].code, cases[i].field);
		e2e_resp_free(&r);
	}
	/* Nothing of them was defined. */
	VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/vms/f1", NULL), 404L);
	e2e_resp_free(&r);
}

VH_TEST(vms, duplicate_name_is_409_and_unknown_is_404)
{
	e2e_define("dup1", "");
	e2e_call_expect_problem("POST", "/v1/vms", "{\"name\":\"dup1\"}", 409, "conflict", NULL);
	e2e_call_expect_problem("GET", "/v1/vms/nosuchvm", NULL, 404, "not_found", NULL);
	e2e_call_expect_problem("GET", "/v1/vms/00000000-0000-4000-8000-000000000001", NULL, 404,
				"not_found", NULL);
	e2e_destroy("dup1");
}

VH_TEST(vms, list_filters_and_pages)
{
	struct e2e_resp r;
	char name[32], path[256], cursor[32] = "";
	int seen = 0, pages = 0;

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "pg-%d", i);
		e2e_define(name, "");
	}
	/* Pages of two: 2, 2, 1, following next_cursor. */
	do {
		struct json_object *items;

		snprintf(path, sizeof(path), "/v1/vms?name_prefix=pg-&limit=2%s%s",
			 cursor[0] ? "&page_token=" : "", cursor);
		VH_ASSERT_EQ(e2e_call(&r, "GET", path, NULL), 200L);
		items = e2e_get(r.json, "items");
		VH_ASSERT(items != NULL);
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			snprintf(name, sizeof(name), "pg-%d", seen++);
			VH_EXPECT_STREQ(
			    e2e_str(items, (snprintf(path, sizeof(path), "%zu.name", i), path)),
			    name);
		}
		pages++;
		VH_EXPECT_LE(json_object_array_length(items), (size_t)2);
		snprintf(cursor, sizeof(cursor), "%s",
			 e2e_str(r.json, "next_page_token") ? e2e_str(r.json, "next_page_token")
							    : "");
		e2e_resp_free(&r);
	} while (cursor[0] && pages < 10);
	VH_EXPECT_EQ(seen, 5);
	VH_EXPECT_EQ(pages, 3);

	/* By state. */
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/pg-3/power", "{\"state\":\"running\"}"), 200L);
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms?name_prefix=pg-&state=running", NULL), 200L);
	VH_EXPECT_EQ(json_object_array_length(e2e_get(r.json, "items")), (size_t)1);
	VH_EXPECT_STREQ(e2e_str(r.json, "items.0.name"), "pg-3");
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms?name_prefix=pg-&state=defined", NULL), 200L);
	VH_EXPECT_EQ(json_object_array_length(e2e_get(r.json, "items")), (size_t)4);
	e2e_resp_free(&r);

	/* Bad parameters name themselves. */
	e2e_call_expect_problem("GET", "/v1/vms?state=asleep", NULL, 422, "invalid_field", "state");
	e2e_call_expect_problem("GET", "/v1/vms?limit=0", NULL, 422, "invalid_field", "limit");
	e2e_call_expect_problem("GET", "/v1/vms?limit=1001", NULL, 422, "invalid_field", "limit");
	e2e_call_expect_problem("GET", "/v1/vms?page_token=abc", NULL, 422, "invalid_field",
				"page_token");
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "pg-%d", i);
		e2e_destroy(name);
	}
}

/* Listings share one hypervisor walk for up to a millisecond
 * (VH_HV_LIST_MAX_AGE_NS), but never across a change this agent made:
 * with another client listing all the time (so that there is always a
 * fresh shared walk), every change shows in the very next listing. */
static atomic_bool lister_stop;

static void *lister(void *arg)
{
	struct e2e_resp r;

	(void)arg;
	while (!atomic_load(&lister_stop)) {
		e2e_call(&r, "GET", "/v1/vms", NULL);
		e2e_resp_free(&r);
	}
	e2e_thread_done();
	return NULL;
}

static size_t listed(const char *query)
{
	struct e2e_resp r;
	char path[160];
	size_t n = (size_t)-1;

	snprintf(path, sizeof(path), "/v1/vms?%s", query);
	if (e2e_call(&r, "GET", path, NULL) == 200)
		n = json_object_array_length(e2e_get(r.json, "items"));
	e2e_resp_free(&r);
	return n;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

VH_TEST(vms, listings_share_walks_and_see_every_change)
{
	struct e2e_resp r;
	char name[32], q[96], path[160];
	pthread_t t[2];
	double walks0, lists0, walks1, lists1;
	uint64_t t0, ms;

	e2e_env();
	atomic_store(&lister_stop, false);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, lister, NULL);
	for (int i = 0; i < 15; i++) {
		snprintf(name, sizeof(name), "lw-%02d", i);
		snprintf(q, sizeof(q), "name_prefix=%s", name);
		e2e_define(name, "");
		VH_EXPECT_EQ(listed(q), (size_t)1);
		snprintf(path, sizeof(path), "/v1/vms/%s/power", name);
		VH_EXPECT_EQ(e2e_call(&r, "PUT", path, "{\"state\":\"running\"}"), 200L);
		e2e_resp_free(&r);
		snprintf(q, sizeof(q), "name_prefix=%s&state=running", name);
		VH_EXPECT_EQ(listed(q), (size_t)1);
		/* Pause and resume: quick changes, nothing persisted. */
		for (int k = 0; k < 8; k++) {
			const char *to = k % 2 ? "running" : "paused";

			snprintf(q, sizeof(q), "{\"state\":\"%s\"}", to);
			VH_EXPECT_EQ(e2e_call(&r, "PUT", path, q), 200L);
			e2e_resp_free(&r);
			snprintf(q, sizeof(q), "name_prefix=%s&state=%s", name, to);
			VH_EXPECT_EQ(listed(q), (size_t)1);
		}
		e2e_destroy(name);
		snprintf(q, sizeof(q), "name_prefix=%s", name);
		VH_EXPECT_EQ(listed(q), (size_t)0);
	}
	/* A change made past the agent shows once the window has passed. */
	e2e_define("lw-hv", "");
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/lw-hv/power", "{\"state\":\"running\"}"), 200L);
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_vh_msg("pause lw-hv"), 0);
	usleep(2000);
	VH_EXPECT_EQ(listed("name_prefix=lw-hv&state=paused"), (size_t)1);
	atomic_store(&lister_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	e2e_destroy("lw-hv");

	/* Back-to-back listings without changes: at most about one walk a
	 * millisecond, however many listings. */
	walks0 = e2e_metric("vh_agent_vm_list_walks_total");
	lists0 = e2e_metric("vh_agent_vm_listings_total");
	t0 = mono_ms();
	for (int i = 0; i < 200; i++)
		VH_ASSERT(listed("limit=5") != (size_t)-1);
	ms = mono_ms() - t0;
	walks1 = e2e_metric("vh_agent_vm_list_walks_total");
	lists1 = e2e_metric("vh_agent_vm_listings_total");
	VH_EXPECT_EQ(lists1 - lists0, 200.0);
	VH_EXPECT_LE(walks1 - walks0, (double)ms + 2);
	VH_EXPECT(walks1 - walks0 >= 1);
	fprintf(stderr, "  200 listings in %llu ms took %.0f walks\n", (unsigned long long)ms,
		walks1 - walks0);
}

VH_TEST(vms, patch_with_etags)
{
	const struct e2e_env *env = e2e_env();
	struct e2e_resp r, g;
	char etag[64], hdr[128], rec[900];
	const char *h[2] = { hdr, NULL };
	char *text;

	e2e_define("pt1", "");
	VH_ASSERT_EQ(e2e_call(&g, "GET", "/v1/vms/pt1", NULL), 200L);
	snprintf(etag, sizeof(etag), "%s", g.etag);

	/* A run-time control, with the current ETag. */
	snprintf(hdr, sizeof(hdr), "If-Match: %s", etag);
	VH_ASSERT_EQ(e2e_req(&r, E2E_UNIX, NULL, "PATCH", "/v1/vms/pt1",
			     "{\"cpu\":{\"shares\":\"low\"}}", h),
		     200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "cpu.shares"), "low");
	VH_EXPECT(strcmp(r.etag, etag) != 0);
	e2e_resp_free(&r);

	/* The old ETag is stale now: 412, nothing changes. */
	e2e_req(&r, E2E_UNIX, NULL, "PATCH", "/v1/vms/pt1", "{\"cpu\":{\"shares\":\"high\"}}", h);
	e2e_expect_problem(&r, 412, "precondition_failed", NULL);
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms/pt1", NULL), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "cpu.shares"), "low");
	e2e_resp_free(&r);

	/* Unknown keys and bad values: 422 naming the field. */
	e2e_call_expect_problem("PATCH", "/v1/vms/pt1", "{\"cpu\":{\"shares\":\"lots\"}}", 422,
				"invalid_field", "cpu.shares");
	e2e_call_expect_problem("PATCH", "/v1/vms/pt1", "{\"speed\":3}", 422, "invalid_field",
				"speed");

	/* Offline changes while it is not running: a rename keeps the uuid. */
	VH_ASSERT_EQ(e2e_call(&r, "PATCH", "/v1/vms/pt1", "{\"name\":\"pt1b\",\"vcpus\":2}"), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "name"), "pt1b");
	VH_EXPECT_EQ(e2e_int(r.json, "vcpus"), 2);
	VH_EXPECT_STREQ(e2e_str(r.json, "uuid"), e2e_str(g.json, "uuid"));
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/vms/pt1", NULL), 404L);
	e2e_resp_free(&r);
	snprintf(rec, sizeof(rec), "%s/vms/%s", env->state, e2e_str(g.json, "uuid"));
	text = slurp(rec);
	VH_EXPECT(text && strstr(text, "\"pt1b\""));
	free(text);

	/* ... but not while it runs: 409, naming the field. */
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/pt1b/power", "{\"state\":\"running\"}"), 200L);
	e2e_resp_free(&r);
	e2e_call_expect_problem("PATCH", "/v1/vms/pt1b", "{\"vcpus\":1}", 409, "conflict", "vcpus");
	e2e_resp_free(&g);
	e2e_destroy("pt1b");
}

struct racer {
	char etag[64];
	int shares;
	long code;
};

static void *race(void *arg)
{
	struct racer *rc = arg;
	struct e2e_resp r;
	char hdr[128], body[96];
	const char *h[2] = { hdr, NULL };

	snprintf(hdr, sizeof(hdr), "If-Match: %s", rc->etag);
	snprintf(body, sizeof(body), "{\"cpu\":{\"shares\":%d}}", rc->shares);
	rc->code = e2e_req(&r, E2E_UNIX, NULL, "PATCH", "/v1/vms/race1", body, h);
	e2e_resp_free(&r);
	e2e_thread_done();
	return NULL;
}

VH_TEST(vms, concurrent_patches_with_one_etag_one_wins)
{
	enum { N = 8 };
	struct racer rc[N];
	pthread_t t[N];
	struct e2e_resp g;
	int ok = 0, stale = 0;

	e2e_define("race1", "");
	VH_ASSERT_EQ(e2e_call(&g, "GET", "/v1/vms/race1", NULL), 200L);
	for (int i = 0; i < N; i++) {
		snprintf(rc[i].etag, sizeof(rc[i].etag), "%s", g.etag);
		rc[i].shares = 100 + i;
		pthread_create(&t[i], NULL, race, &rc[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		ok += rc[i].code == 200;
		stale += rc[i].code == 412;
	}
	VH_EXPECT_EQ(ok, 1);
	VH_EXPECT_EQ(stale, N - 1);
	e2e_resp_free(&g);
	e2e_destroy("race1");
}

VH_TEST(vms, delete_needs_force_while_running)
{
	const struct e2e_env *env = e2e_env();
	struct e2e_resp r;
	char rec[900], uuid[64];
	const char *h[] = { "If-Match: \"0000000000000000\"", NULL };

	e2e_define("del1", "");
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms/del1", NULL), 200L);
	snprintf(uuid, sizeof(uuid), "%s", e2e_str(r.json, "uuid"));
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/del1/power", "{\"state\":\"running\"}"), 200L);
	e2e_resp_free(&r);

	e2e_call_expect_problem("DELETE", "/v1/vms/del1", NULL, 409, "conflict", "force");
	e2e_req(&r, E2E_UNIX, NULL, "DELETE", "/v1/vms/del1?force=true", NULL, h);
	e2e_expect_problem(&r, 412, "precondition_failed", NULL);
	e2e_resp_free(&r);
	e2e_call_expect_problem("DELETE", "/v1/vms/del1?force=maybe", NULL, 422, "invalid_field",
				"force");

	VH_EXPECT_EQ(e2e_call(&r, "DELETE", "/v1/vms/del1?force=true", NULL), 204L);
	VH_EXPECT_EQ(r.len, (size_t)0);
	e2e_resp_free(&r);
	VH_EXPECT_EQ(e2e_call(&r, "GET", "/v1/vms/del1", NULL), 404L);
	e2e_resp_free(&r);
	snprintf(rec, sizeof(rec), "%s/vms/%s", env->state, uuid);
	VH_EXPECT(access(rec, F_OK) != 0);
	e2e_call_expect_problem("DELETE", "/v1/vms/del1", NULL, 404, "not_found", NULL);

	/* A VM that is not running goes without force. */
	e2e_define("del2", "");
	VH_EXPECT_EQ(e2e_call(&r, "DELETE", "/v1/vms/del2", NULL), 204L);
	e2e_resp_free(&r);
}
