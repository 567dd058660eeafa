/* SPDX-License-Identifier: Apache-2.0 */
/* Power (declarative, idempotent), reset, run-time controls with
 * admission control, balloon, statistics and the host, end to end. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "e2e.h"
#include "vh_test.h"

static void power(const char *vm, const char *body, long want, const char *state)
{
	struct e2e_resp r;
	char path[128];

	snprintf(path, sizeof(path), "/v1/vms/%s/power", vm);
	VH_EXPECT_EQ(e2e_call(&r, "PUT", path, body), want);
	if (state)
		VH_EXPECT_STREQ(e2e_str(r.json, "state"), state);
	if (r.code != want)
		fprintf(stderr, "  %s: %s\n", body, r.body ? r.body : "");
	e2e_resp_free(&r);
}

static int64_t boot_generation(const char *vm)
{
	struct e2e_resp r;
	char path[128];
	int64_t g;

	snprintf(path, sizeof(path), "/v1/vms/%s", vm);
	e2e_call(&r, "GET", path, NULL);
	g = e2e_int(r.json, "boot_generation");
	e2e_resp_free(&r);
	return g;
}

VH_TEST(power, declarative_and_idempotent)
{
	e2e_define("pw1", "");
	power("pw1", "{\"state\":\"running\"}", 200, "running");
	VH_EXPECT_EQ(boot_generation("pw1"), 1);
	/* Again: already there, nothing done (no second boot). */
	power("pw1", "{\"state\":\"running\",\"force\":false}", 200, "running");
	VH_EXPECT_EQ(boot_generation("pw1"), 1);
	power("pw1", "{\"state\":\"paused\"}", 200, "paused");
	power("pw1", "{\"state\":\"paused\"}", 200, "paused");
	power("pw1", "{\"state\":\"running\"}", 200, "running"); /* resumed, not rebooted */
	VH_EXPECT_EQ(boot_generation("pw1"), 1);
	/* Stopping powers the guest off: it needs force. */
	e2e_call_expect_problem("PUT", "/v1/vms/pw1/power", "{\"state\":\"stopped\"}", 409,
				"conflict", "force");
	power("pw1", "{\"state\":\"stopped\",\"force\":true}", 200, "stopped");
	power("pw1", "{\"state\":\"stopped\"}", 200, "stopped");
	/* A stopped VM cannot be paused. */
	e2e_call_expect_problem("PUT", "/v1/vms/pw1/power", "{\"state\":\"paused\"}", 409,
				"conflict", "state");
	power("pw1", "{\"state\":\"running\"}", 200, "running");
	VH_EXPECT_EQ(boot_generation("pw1"), 2);
	e2e_destroy("pw1");
}

VH_TEST(power, bad_bodies)
{
	static const struct {
		const char *body;
		long status;
		const char *code, *field;
	} cases[] = {
		{ "{\"state\":\"off\"}", 422, "invalid_field", "state" },
		{ "{\"state\":7}", 422, "invalid_field", "state" },
		{ "{}", 422, "missing_field", "state" },
		{ "{\"state\":\"running\",\"force\":\"yes\"}", 422, "invalid_field", "force" },
		{ "{\"state\":\"running\",\"now\":true}", 422, "invalid_field", "now" },
		{ "\"running\"", 422, "invalid_field", NULL },
		{ "{\"state\":", 400, "bad_json", NULL },
	};

	e2e_define("pw2", "");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e2e_call_expect_problem("PUT", "/v1/vms/pw2/power", cases[i].body, cases[i].status,
					cases[i].code, cases[i].field);
	}
	e2e_call_expect_problem("PUT", "/v1/vms/nosuch/power", "{\"state\":\"running\"}", 404,
				"not_found", NULL);
	VH_EXPECT_EQ(boot_generation("pw2"), 0);
	e2e_destroy("pw2");
}

VH_TEST(power, reset)
{
	struct e2e_resp r;

	e2e_define("rs1", "");
	e2e_call(&r, "POST", "/v1/vms/rs1/reset", NULL);
	e2e_expect_problem(&r, 409, "conflict", NULL); /* not running */
	e2e_resp_free(&r);
	power("rs1", "{\"state\":\"running\"}", 200, "running");
	VH_EXPECT_EQ(e2e_call(&r, "POST", "/v1/vms/rs1/reset", NULL), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "state"), "running");
	VH_EXPECT_EQ(e2e_int(r.json, "boot_generation"), 2);
	e2e_resp_free(&r);
	e2e_destroy("rs1");
}

VH_TEST(power, admission_control)
{
	struct e2e_resp r;

	/* Defining is fine; powering on a reservation beyond the host's
	 * capacity is refused with the shortfall, and nothing changes. */
	e2e_define("adm1", "\"cpu\":{\"reservation_mhz\":1000000}");
	e2e_call_expect_problem("PUT", "/v1/vms/adm1/power", "{\"state\":\"running\"}", 409,
				"admission", NULL);
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms/adm1", NULL), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "state"), "defined");
	e2e_resp_free(&r);
	e2e_destroy("adm1");
}

VH_TEST(controls, cpu_and_memory_at_run_time)
{
	struct e2e_resp r;

	e2e_define("ct1", "");
	power("ct1", "{\"state\":\"running\"}", 200, "running");
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/ct1/cpu",
			      "{\"shares\":2500,\"reservation_mhz\":100,\"limit_mhz\":800}"),
		     200L);
	VH_EXPECT_EQ(e2e_int(r.json, "cpu.shares"), 2500);
	VH_EXPECT_EQ(e2e_int(r.json, "cpu.reservation_mhz"), 100);
	VH_EXPECT_EQ(e2e_int(r.json, "cpu.limit_mhz"), 800);
	e2e_resp_free(&r);
	/* PUT replaces: absent keys take the defaults. */
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/ct1/cpu", "{\"shares\":\"low\"}"), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "cpu.shares"), "low");
	VH_EXPECT_EQ(e2e_int(r.json, "cpu.reservation_mhz"), 0);
	e2e_resp_free(&r);
	/* Admission-controlled on a running VM: refused, unchanged. */
	e2e_call_expect_problem("PUT", "/v1/vms/ct1/cpu", "{\"reservation_mhz\":1000000}", 409,
				"admission", NULL);
	e2e_call(&r, "PUT", "/v1/vms/ct1/memory", "{\"reservation_mib\":100000}");
	VH_EXPECT(r.code == 409 || r.code == 422);
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/ct1/memory",
			      "{\"shares\":\"high\",\"reservation_mib\":8,\"limit_mib\":12}"),
		     200L);
	VH_EXPECT_EQ(e2e_int(r.json, "memory.reservation_mib"), 8);
	VH_EXPECT_EQ(e2e_int(r.json, "memory.limit_mib"), 12);
	e2e_resp_free(&r);
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms/ct1", NULL), 200L);
	VH_EXPECT_STREQ(e2e_str(r.json, "cpu.shares"), "low");
	VH_EXPECT_STREQ(e2e_str(r.json, "memory.shares"), "high");
	e2e_resp_free(&r);
	e2e_call_expect_problem("PUT", "/v1/vms/ct1/cpu", "{\"shares\":\"low\",\"turbo\":true}",
				422, "invalid_field", "cpu.turbo");
	e2e_call_expect_problem("PUT", "/v1/vms/ct1/memory", "{\"limit_mib\":\"lots\"}", 422,
				"invalid_field", "memory.limit_mib");
	e2e_destroy("ct1");
}

VH_TEST(controls, balloon)
{
	struct e2e_resp r;

	e2e_define("bl1", "");
	VH_ASSERT_EQ(e2e_call(&r, "PUT", "/v1/vms/bl1/balloon", "{\"target_mib\":4}"), 200L);
	VH_EXPECT_EQ(e2e_int(r.json, "balloon.target_mib"), 4);
	e2e_resp_free(&r);
	e2e_call_expect_problem("PUT", "/v1/vms/bl1/balloon", "{\"target_mib\":17}", 422,
				"invalid_field", "target_mib");
	e2e_call_expect_problem("PUT", "/v1/vms/bl1/balloon", "{\"target\":1}", 422,
				"invalid_field", "target");
	e2e_destroy("bl1");
}

VH_TEST(stats, vm_and_all)
{
	static const char *const keys[] = {
		"cpu.used_ms",        "cpu.ready_ms",        "cpu.costop_ms",
		"cpu.wait_ms",        "memory.granted_mib",  "memory.consumed_mib",
		"memory.active_mib",  "memory.shared_mib",   "memory.balloon_mib",
		"memory.swapped_mib", "memory.overhead_mib", "exits.io",
		"exits.hlt",
	};
	struct e2e_resp r;
	bool found = false;

	e2e_define("st1", "");
	power("st1", "{\"state\":\"running\"}", 200, "running");
	{
		struct timespec ts = { 0, 300 * 1000000L };
		nanosleep(&ts, NULL);
	}
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/vms/st1/stats", NULL), 200L);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!e2e_get(r.json, keys[i]))
			VH_FAIL("stats has no %s: %s", keys[i], r.body);
	VH_EXPECT_STREQ(e2e_str(r.json, "vm"), "st1");
	VH_EXPECT_GT(e2e_int(r.json, "cpu.used_ms"), 0);
	VH_EXPECT_GT(e2e_int(r.json, "exits.io"), 0);
	VH_EXPECT(e2e_get(r.json, "vcpus.0.cpu.used_ms") != NULL);
	e2e_resp_free(&r);

	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/stats", NULL), 200L);
	VH_EXPECT(e2e_get(r.json, "host") != NULL);
	for (size_t i = 0; i < json_object_array_length(e2e_get(r.json, "vms")); i++) {
		struct json_object *v = json_object_array_get_idx(e2e_get(r.json, "vms"), i);
		if (e2e_str(v, "vm") && strcmp(e2e_str(v, "vm"), "st1") == 0) {
			found = true;
			VH_EXPECT_GT(e2e_int(v, "cpu.used_ms"), 0);
		}
	}
	VH_EXPECT(found);
	e2e_resp_free(&r);
	e2e_call_expect_problem("GET", "/v1/vms/nosuch/stats", NULL, 404, "not_found", NULL);
	e2e_destroy("st1");
}

VH_TEST(host, capacity_and_reservations)
{
	struct e2e_resp r;

	e2e_env();
	VH_ASSERT_EQ(e2e_call(&r, "GET", "/v1/host", NULL), 200L);
	VH_EXPECT_EQ(e2e_int(r.json, "cpu.pcpus"), 2);
	VH_EXPECT_GT(e2e_int(r.json, "cpu.mhz_per_pcpu"), 0);
	VH_EXPECT_EQ(e2e_int(r.json, "memory.total_mib"), 256);
	VH_EXPECT(e2e_get(r.json, "cpu.reserved_mhz") != NULL);
	VH_EXPECT(e2e_get(r.json, "cpu.free_mhz") != NULL);
	VH_EXPECT(e2e_get(r.json, "memory.reserved_mib") != NULL);
	VH_EXPECT(e2e_get(r.json, "memory.free_mib") != NULL);
	VH_EXPECT(e2e_str(r.json, "version") != NULL);
	e2e_resp_free(&r);
}
