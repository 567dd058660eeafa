/* SPDX-License-Identifier: Apache-2.0 */
/* What-if as a unit: a live host and a request in, the vh-sim scenario
 * out (each VM's controls and measured demand, the changes at time 0);
 * bad requests refused naming the field; a vh-sim report in, the reply
 * out, with a refused change given the problem the real request gets. */
#include "api/api_internal.h"
#include "api_test.h"

#define MS     VH_NSEC_PER_MSEC
#define WINDOW (1000 * MS)

struct fixture {
	struct vh_proto_host_info hi;
	struct vh_api_diag_vm vms[4];
	struct vh_api_whatif_input in;
	struct vh_api_whatif w;
};

/* One pCPU of 1000 MHz, 256 MiB; three VMs measured over a second: a
 * spinner capped at 250 MHz (always runnable), one busy half its time,
 * one halted throughout. */
static void host(struct fixture *f)
{
	static const struct {
		const char *name;
		uint64_t limit, used, ready, limited, wait, active_pages;
	} rows[] = {
		{ "capped", 250, 250, 750, 750, 0, 256 },
		{ "half", VH_UNLIMITED, 300, 200, 0, 500, 512 },
		{ "idle", VH_UNLIMITED, 0, 0, 0, 1000, 0 },
	};

	memset(f, 0, sizeof(*f));
	f->hi.pcpus = 1;
	f->hi.mhz_per_pcpu = 1000;
	f->hi.memory_bytes = 256ull << 20;
	f->hi.max_vms = 8;
	for (size_t i = 0; i < 3; i++) {
		struct vh_api_diag_vm *v = &f->vms[i];
		snprintf(v->s.name, sizeof(v->s.name), "%s", rows[i].name);
		v->s.state = VH_VM_RUNNING;
		v->s.vcpus = 1;
		v->s.memory_mib = 8;
		v->s.cpu.shares.level = VH_SHARES_NORMAL;
		v->s.cpu.limit_mhz = rows[i].limit;
		v->s.mem.shares.level = VH_SHARES_NORMAL;
		v->s.mem.limit_mib = VH_UNLIMITED;
		v->a.cpu.used_ns = 7000 * MS; /* history before the window */
		v->b.cpu = v->a.cpu;
		v->b.cpu.used_ns += rows[i].used * MS;
		v->b.cpu.ready_ns += rows[i].ready * MS;
		v->b.cpu.limited_ns += rows[i].limited * MS;
		v->b.cpu.wait_ns += rows[i].wait * MS;
		v->b.mem.active = v->b.mem.granted = rows[i].active_pages;
	}
	f->in = (struct vh_api_whatif_input){ .hi = &f->hi,
					      .window_ns = WINDOW,
					      .vms = f->vms,
					      .nvms = 3 };
}

/* A member by dotted path ("after.used_pct"); NULL when absent. */
static struct json_object *jget(struct json_object *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

static int request(struct fixture *f, const char *json, struct vh_api_problem *p)
{
	struct json_object *o = API_JSON(json);
	int rc;

	memset(p, 0, sizeof(*p));
	rc = vh_api_whatif_from_json(o, &f->in, &f->w, p);
	json_object_put(o);
	return rc;
}

static char *scenario(struct fixture *f, const char *json)
{
	struct vh_api_problem p;
	char *s;

	VH_ASSERT_EQ(request(f, json, &p), 0);
	s = vh_api_whatif_scenario(&f->in, &f->w);
	VH_ASSERT(s != NULL);
	printf("# scenario:\n# %s\n", s);
	return s;
}

/* The text of line n (1-based) of s, in buf. */
static const char *line_of(const char *s, unsigned n, char *buf, size_t cap)
{
	for (unsigned i = 1; i < n && s; i++)
		if ((s = strchr(s, '\n')))
			s++;
	if (!s)
		return "";
	snprintf(buf, cap, "%.*s", (int)strcspn(s, "\n"), s);
	return buf;
}

VH_TEST(whatif, scenario_holds_the_host_each_vm_and_its_measured_demand)
{
	struct fixture f;
	char *s;

	host(&f);
	s = scenario(&f, "{\"changes\":[]}");
	VH_EXPECT(strstr(s, "host pcpus=1 mhz=1000 memory=268435456 overhead=0 steal=0.0%\n") !=
		  NULL);
	VH_EXPECT(strstr(s, "duration 10s\n") != NULL);
	/* Always runnable (its limited time is demand too): cpu. */
	VH_EXPECT(strstr(s,
			 "vm capped vcpus=1 memory=8M cpu.shares=normal cpu.reservation=0 "
			 "cpu.limit=250 mem.shares=normal mem.reservation=0M mem.limit=unlimited "
			 "cosched=relaxed start=yes workload=cpu touch=13 touch_rate=256 "
			 "content=1\n") != NULL);
	/* 500 ms runnable of 1000: a 50% duty cycle. */
	VH_EXPECT(strstr(s,
			 "vm half vcpus=1 memory=8M cpu.shares=normal cpu.reservation=0 "
			 "cpu.limit=unlimited mem.shares=normal mem.reservation=0M "
			 "mem.limit=unlimited cosched=relaxed start=yes workload=bursty "
			 "run=10000000ns sleep=10000000ns touch=25 touch_rate=512 content=2\n") !=
		  NULL);
	VH_EXPECT(strstr(s, "vm idle ") != NULL && strstr(s, " workload=idle\n") != NULL);
	VH_EXPECT(strstr(s, "at 0s") == NULL);
	free(s);
	vh_api_whatif_free(&f.w);
}

VH_TEST(whatif, cpu_change_merges_onto_the_vms_controls_as_patch_does)
{
	struct fixture f;
	char buf[256];
	char *s;

	host(&f);
	s = scenario(&f, "{\"duration_s\":30,\"changes\":[{\"vm\":\"capped\",\"cpu\":{\"shares\":"
			 "\"high\"}},{\"vm\":\"half\",\"cpu\":{\"limit_mhz\":2000}},"
			 "{\"vm\":\"idle\",\"power\":\"stopped\"}]}");
	VH_EXPECT(strstr(s, "duration 30s\n") != NULL);
	VH_ASSERT_EQ(f.w.nchanges, 3u);
	/* Shares changed, the 250 MHz limit kept. */
	VH_EXPECT_STREQ(line_of(s, f.w.changes[0].line, buf, sizeof(buf)),
			"at 0s capped set cpu.shares=high cpu.reservation=0 cpu.limit=250");
	VH_EXPECT_STREQ(line_of(s, f.w.changes[1].line, buf, sizeof(buf)),
			"at 0s half set cpu.shares=normal cpu.reservation=0 cpu.limit=2000");
	VH_EXPECT_STREQ(line_of(s, f.w.changes[2].line, buf, sizeof(buf)), "at 0s idle stop");
	free(s);
	vh_api_whatif_free(&f.w);
}

VH_TEST(whatif, added_vm_is_defined_stopped_and_powered_on_as_a_change)
{
	struct fixture f;
	char buf[256];
	char *s;

	host(&f);
	s = scenario(&f, "{\"changes\":[{\"add\":{\"name\":\"new\",\"memory_mib\":16,\"cpu\":{"
			 "\"reservation_mhz\":100}},\"workload\":{\"busy_pct\":25,\"active_pct\":"
			 "50}},{\"vm\":\"new\",\"memory\":{\"limit_mib\":12}}]}");
	VH_EXPECT(strstr(s,
			 "vm new vcpus=1 memory=16M cpu.shares=normal cpu.reservation=100 "
			 "cpu.limit=unlimited mem.shares=normal mem.reservation=0M "
			 "mem.limit=unlimited cosched=relaxed start=no workload=bursty "
			 "run=5000000ns sleep=15000000ns touch=50 touch_rate=2048 content=4\n") !=
		  NULL);
	VH_EXPECT_STREQ(line_of(s, f.w.changes[0].line, buf, sizeof(buf)), "at 0s new start");
	VH_EXPECT_STREQ(line_of(s, f.w.changes[1].line, buf, sizeof(buf)),
			"at 0s new set mem.shares=normal mem.reservation=0M mem.limit=12M");
	free(s);
	vh_api_whatif_free(&f.w);
}

VH_TEST(whatif, bad_requests_name_the_field)
{
	static const struct {
		const char *json;
		enum vh_api_code code;
		const char *field;
	} cases[] = {
		{ "{\"changes\":[{\"vm\":\"nosuch\",\"cpu\":{}}]}", VH_API_NOT_FOUND,
		  "changes[0].vm" },
		{ "{\"duration_s\":0,\"changes\":[]}", VH_API_INVALID_FIELD, "duration_s" },
		{ "{\"duration_s\":301,\"changes\":[]}", VH_API_INVALID_FIELD, "duration_s" },
		{ "{\"duration_s\":\"10s\",\"changes\":[]}", VH_API_INVALID_FIELD, "duration_s" },
		{ "{}", VH_API_MISSING_FIELD, "changes" },
		{ "{\"changes\":{}}", VH_API_INVALID_FIELD, "changes" },
		{ "{\"changes\":[],\"extra\":1}", VH_API_INVALID_FIELD, "extra" },
		{ "{\"changes\":[{\"vm\":\"capped\",\"cpu\":{\"limit_mhz\":\"2GHz\"}}]}",
		  VH_API_INVALID_FIELD, "changes[0].cpu.limit_mhz" },
		{ "{\"changes\":[{\"vm\":\"capped\",\"cpu\":{\"shares\":\"huge\"}}]}",
		  VH_API_INVALID_FIELD, "changes[0].cpu.shares" },
		{ "{\"changes\":[{\"vm\":\"capped\",\"cpu\":{},\"memory\":{}}]}",
		  VH_API_INVALID_FIELD, "changes[0]" },
		{ "{\"changes\":[{\"vm\":\"capped\"}]}", VH_API_INVALID_FIELD, "changes[0]" },
		{ "{\"changes\":[{\"vm\":\"capped\",\"power\":\"paused\"}]}", VH_API_INVALID_FIELD,
		  "changes[0].power" },
		{ "{\"changes\":[{\"vm\":\"capped\",\"cpu\":{},\"workload\":{}}]}",
		  VH_API_INVALID_FIELD, "changes[0]" },
		{ "{\"changes\":[{\"add\":{\"name\":\"half\"}}]}", VH_API_CONFLICT,
		  "changes[0].add" },
		{ "{\"changes\":[{\"add\":{\"memory_mib\":8}}]}", VH_API_MISSING_FIELD,
		  "changes[0].add.name" },
		{ "{\"changes\":[{\"add\":{\"name\":\"n\"},\"workload\":{\"busy_pct\":101}}]}",
		  VH_API_INVALID_FIELD, "changes[0].workload.busy_pct" },
		{ "{\"changes\":[{\"add\":{\"name\":\"n\"}},{\"add\":{\"name\":\"n\"}}]}",
		  VH_API_CONFLICT, "changes[1].add" },
	};
	struct fixture f;
	struct vh_api_problem p;

	host(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		printf("# %s\n", cases[i].json);
		VH_EXPECT_EQ(request(&f, cases[i].json, &p), -1);
		EXPECT_PROBLEM(p, cases[i].code, cases[i].field);
		VH_EXPECT_EQ(f.w.nchanges, 0u); /* nothing left allocated */
	}
}

VH_TEST(whatif, too_many_changes_or_vms_are_refused)
{
	struct fixture f;
	struct vh_api_problem p;
	char *json = malloc(8192), *e;

	host(&f);
	e = json + sprintf(json, "{\"changes\":[");
	for (int i = 0; i <= VH_API_WHATIF_MAX_CHANGES; i++)
		e += sprintf(e, "%s{\"vm\":\"idle\",\"power\":\"stopped\"}", i ? "," : "");
	strcpy(e, "]}");
	VH_EXPECT_EQ(request(&f, json, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "changes");
	/* Five more VMs than the host holds (8, three defined). */
	e = json + sprintf(json, "{\"changes\":[");
	for (int i = 0; i < 6; i++)
		e += sprintf(e, "%s{\"add\":{\"name\":\"n%d\"}}", i ? "," : "", i);
	strcpy(e, "]}");
	VH_EXPECT_EQ(request(&f, json, &p), -1);
	EXPECT_PROBLEM(p, VH_API_LIMIT, "changes");
	free(json);
}

/* A report as vh-sim writes it for the host above after a refused
 * reservation (line 7) and a raised limit (line 8). */
static const char report[] =
    "{\"duration_s\":10.000,\"seed\":1,\"events\":["
    "{\"at_s\":0.000,\"vm\":\"capped\",\"action\":\"start\",\"line\":0,\"result\":\"ok\"},"
    "{\"at_s\":0.000,\"vm\":\"half\",\"action\":\"set_cpu\",\"line\":7,\"result\":\"admission\","
    "\"reason\":\"cpu.reservation_mhz: VM \\\"half\\\" needs 2000 MHz more but only 1000 of "
    "1000 MHz are unreserved: short by 1000 MHz\"},"
    "{\"at_s\":0.000,\"vm\":\"capped\",\"action\":\"set_cpu\",\"line\":8,\"result\":\"ok\"}],"
    "\"events_refused\":1,\"host\":{},\"vms\":["
    "{\"name\":\"capped\",\"state\":\"running\",\"vcpus\":1,\"cpu\":{\"used_ms\":4000.000,"
    "\"ready_ms\":6000.000,\"limited_ms\":1000.000,\"costop_ms\":0.000,\"wait_ms\":0.000},"
    "\"memory\":{\"granted_mib\":1.000,\"balloon_mib\":0.000,\"shared_mib\":0.000}},"
    "{\"name\":\"half\",\"state\":\"running\",\"vcpus\":1,\"cpu\":{\"used_ms\":5000.000,"
    "\"ready_ms\":0.000,\"limited_ms\":0.000,\"costop_ms\":0.000,\"wait_ms\":5000.000},"
    "\"memory\":{\"granted_mib\":2.000,\"balloon_mib\":0.000,\"shared_mib\":0.000}}]}";

VH_TEST(whatif, reply_sets_prediction_beside_measurement_and_refusals_as_the_api_would)
{
	struct fixture f;
	struct vh_api_problem p = { 0 };
	struct json_object *o, *v, *x;
	char *s;

	host(&f);
	s = scenario(&f, "{\"changes\":[{\"vm\":\"half\",\"cpu\":{\"reservation_mhz\":2000}},"
			 "{\"vm\":\"capped\",\"cpu\":{\"limit_mhz\":400}}]}");
	free(s);
	VH_ASSERT_EQ(f.w.changes[0].line, 7u);
	VH_ASSERT_EQ(f.w.changes[1].line, 8u);
	o = vh_api_whatif_reply(&f.in, &f.w, report, &p);
	VH_ASSERT(o != NULL);
	printf("# %s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	v = json_object_array_get_idx(jget(o, "vms"), 0);
	VH_EXPECT_STREQ(json_object_get_string(jget(v, "vm")), "capped");
	VH_EXPECT(json_object_get_boolean(jget(v, "changed")));
	VH_EXPECT_NEAR(json_object_get_double(jget(v, "after.used_pct")), 40.0, 1e-9);
	VH_EXPECT_NEAR(json_object_get_double(jget(v, "after.used_mhz")), 400.0, 1e-9);
	VH_EXPECT_NEAR(json_object_get_double(jget(v, "after.limited_pct")), 10.0, 1e-9);
	VH_EXPECT_NEAR(json_object_get_double(jget(v, "before.used_pct")), 25.0, 1e-9);
	VH_EXPECT_NEAR(json_object_get_double(jget(v, "before.limited_pct")), 75.0,
		       1e-9);
	VH_EXPECT_NEAR(json_object_get_double(jget(v, "demand.busy_pct")), 100.0, 1e-9);
	x = json_object_array_get_idx(jget(o, "refused"), 0);
	VH_ASSERT(x != NULL);
	VH_EXPECT_EQ(json_object_array_length(jget(o, "refused")), 1u);
	VH_EXPECT_EQ(json_object_get_int(jget(x, "change")), 0);
	VH_EXPECT_STREQ(json_object_get_string(jget(x, "vm")), "half");
	VH_EXPECT_EQ(json_object_get_int(jget(x, "status")), 409);
	VH_EXPECT_STREQ(json_object_get_string(jget(x, "code")), "admission");
	VH_EXPECT_STREQ(json_object_get_string(jget(x, "field")), "cpu.reservation_mhz");
	VH_EXPECT(strstr(json_object_get_string(jget(x, "detail")), "short by 1000 MHz"));
	VH_EXPECT(strstr(json_object_get_string(jget(o, "summary")),
			 "2 changes over 10 simulated seconds: 1 applied, 1 refused") != NULL);
	json_object_put(o);
	/* A report that is not vh-sim's is an internal error, not a crash. */
	VH_EXPECT(vh_api_whatif_reply(&f.in, &f.w, "{\"vms\":1}", &p) == NULL);
	VH_EXPECT(p.code == VH_API_INTERNAL);
	VH_EXPECT(vh_api_whatif_reply(&f.in, &f.w, "not json", &p) == NULL);
	vh_api_whatif_free(&f.w);
}

VH_TEST(whatif, the_hosts_take_of_the_pcpus_becomes_the_scenarios_steal)
{
	struct fixture f;
	char *s;

	host(&f);
	/* Of 550 ms the VMs held the pCPU, the host took 220 (40%). */
	f.vms[0].b.cpu.stolen_ns = f.vms[0].a.cpu.stolen_ns + 100 * MS;
	f.vms[1].b.cpu.stolen_ns = f.vms[1].a.cpu.stolen_ns + 120 * MS;
	f.vms[0].b.cpu.used_ns -= 100 * MS;
	f.vms[1].b.cpu.used_ns -= 120 * MS;
	VH_EXPECT_NEAR(vh_api_whatif_steal_pct(&f.in), 40.0, 1e-9);
	s = scenario(&f, "{\"changes\":[]}");
	VH_EXPECT(strstr(s, " steal=40.0%\n") != NULL);
	free(s);
	vh_api_whatif_free(&f.w);
}
