/* SPDX-License-Identifier: Apache-2.0 */
/* Statistics and the host as JSON. */
#include "api/api_internal.h"
#include "api_test.h"

VH_TEST(stats_json, mib_of_pages_has_three_decimals)
{
	static const struct {
		uint64_t pages;
		const char *text;
	} rows[] = {
		{ 0, "0.0" },        { 1, "0.004" },         { 128, "0.5" },
		{ 256, "1.0" },      { 256 * 1024, "1024.0" }, { 257, "1.004" },
		{ 300, "1.172" },    { 255, "0.996" },
		{ UINT64_MAX, "72057594037927935.996" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *j = vh_api_mib_of_pages(rows[i].pages, 4096);
		VH_EXPECT_STREQ(api_str(j), rows[i].text);
		VH_EXPECT(json_object_is_type(j, json_type_double));
		json_object_put(j);
	}
}

static struct vh_proto_vm_stats sample_stats(void)
{
	struct vh_proto_vm_stats st;

	memset(&st, 0, sizeof(st));
	st.id = 5;
	st.state = VH_VM_RUNNING;
	st.cpu = (struct vh_cpu_stats){ .used_ns = 1999999999,
					.ready_ns = 1000000,
					.costop_ns = 999999,
					.wait_ns = 5000000000ull,
					.runs = 42,
					.limited_ns = 1000000 };
	st.mem = (struct vh_mem_stats){ .granted = 256,
					.consumed = 128,
					.active = 1,
					.shared = 0,
					.balloon = 512,
					.swapped = 3,
					.overhead = 10,
					.entitled = 200,
					.reclaim_target = 100,
					.idle_tax = 50,
					.balloon_reason = VH_BALLOON_RECLAIM };
	for (unsigned k = 0; k < VH_EXIT_KIND_COUNT; k++)
		st.exits[k] = 100 + k;
	st.console_bytes = 70000;
	st.console_dropped = 65000;
	st.admission_refusals = 3;
	return st;
}

VH_TEST(stats_json, vm_stats)
{
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st = sample_stats();
	struct vh_proto_vcpu_stats v[2] = {
		{ .index = 0, .cpu = { .used_ns = 3000000, .runs = 1 } },
		{ .index = 1, .cpu = { .ready_ns = 7000000, .stolen_ns = 2000000 } },
	};
	struct json_object *j, *cpu, *mem, *exits, *vcpus, *x;

	memset(&s, 0, sizeof(s));
	snprintf(s.name, sizeof(s.name), "web1");
	s.uuid[15] = 1;
	j = vh_api_vm_stats_to_json(&s, &st, v, 2);
	VH_ASSERT(j != NULL);
	VH_ASSERT(json_object_object_get_ex(j, "vm", &x));
	VH_EXPECT_STREQ(json_object_get_string(x), "web1");
	VH_ASSERT(json_object_object_get_ex(j, "uuid", &x));
	VH_EXPECT_STREQ(json_object_get_string(x), "00000000-0000-0000-0000-000000000001");
	VH_ASSERT(json_object_object_get_ex(j, "state", &x));
	VH_EXPECT_STREQ(json_object_get_string(x), "running");
	VH_ASSERT(json_object_object_get_ex(j, "cpu", &cpu));
	VH_EXPECT_STREQ(api_str(cpu),
			"{\"used_ms\":1999,\"ready_ms\":1,\"limited_ms\":1,"
			"\"stolen_ms\":0,\"costop_ms\":0,\"wait_ms\":5000,\"runs\":42}");
	VH_ASSERT(json_object_object_get_ex(j, "memory", &mem));
	VH_EXPECT_STREQ(api_str(mem), "{\"granted_mib\":1.0,\"consumed_mib\":0.5,"
				      "\"active_mib\":0.004,\"shared_mib\":0.0,\"balloon_mib\":2.0,"
				      "\"swapped_mib\":0.012,\"overhead_mib\":0.039,"
				      "\"entitled_mib\":0.781,\"reclaim_target_mib\":0.391,"
				      "\"idle_tax_mib\":0.195,\"balloon_reason\":\"reclaim\"}");
	VH_ASSERT(json_object_object_get_ex(j, "exits", &exits));
	VH_EXPECT_EQ(json_object_object_length(exits), VH_EXIT_KIND_COUNT);
	for (unsigned k = 0; k < VH_EXIT_KIND_COUNT; k++) {
		VH_ASSERT(json_object_object_get_ex(exits, vh_api_exit_kind_name(k), &x));
		VH_EXPECT_EQ(json_object_get_int64(x), (int64_t)(100 + k));
	}
	VH_ASSERT(json_object_object_get_ex(exits, "io", &x));
	VH_ASSERT(json_object_object_get_ex(exits, "ept_violation", &x));
	VH_ASSERT(json_object_object_get_ex(j, "console", &x));
	VH_EXPECT_STREQ(api_str(x), "{\"bytes\":70000,\"dropped_bytes\":65000}");
	VH_ASSERT(json_object_object_get_ex(j, "admission_refusals", &x));
	VH_EXPECT_EQ(json_object_get_int64(x), 3);
	VH_ASSERT(json_object_object_get_ex(j, "vcpus", &vcpus));
	VH_EXPECT_STREQ(api_str(vcpus),
			"[{\"index\":0,\"cpu\":{\"used_ms\":3,\"ready_ms\":0,\"limited_ms\":0,"
			"\"stolen_ms\":0,\"costop_ms\":0,\"wait_ms\":0,\"runs\":1}},{\"index\":1,"
			"\"cpu\":{\"used_ms\":0,\"ready_ms\":7,\"limited_ms\":0,\"stolen_ms\":2,"
			"\"costop_ms\":0,\"wait_ms\":0,\"runs\":0}}]");
	json_object_put(j);

	/* A VM_STATS_ALL entry: no name, no vCPUs. */
	j = vh_api_vm_stats_to_json(NULL, &st, NULL, 0);
	VH_ASSERT(j != NULL);
	VH_EXPECT(!json_object_object_get_ex(j, "vm", NULL));
	VH_EXPECT(!json_object_object_get_ex(j, "vcpus", NULL));
	VH_ASSERT(json_object_object_get_ex(j, "id", &x));
	VH_EXPECT_EQ(json_object_get_int(x), 5);
	json_object_put(j);
}

/* The text writer gives json-c's bytes for the same object: random
 * counters (small, large and UINT64_MAX), every state and balloon reason,
 * names with every character json-c escapes, with and without a summary
 * and vCPUs. */
static void expect_same_text(const struct vh_proto_vm_summary *s,
			     const struct vh_proto_vm_stats *st,
			     const struct vh_proto_vcpu_stats *v, uint32_t n)
{
	struct vh_api_text t = { 0 };
	struct json_object *j = vh_api_vm_stats_to_json(s, st, v, n);
	const char *want;

	VH_ASSERT(j != NULL);
	want = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	/* Appended after what is there, as GET /v1/stats joins them. */
	vh_api_text_raw(&t, "[");
	VH_ASSERT_EQ(vh_api_vm_stats_text(&t, s, st, v, n), 0);
	VH_EXPECT_EQ(t.len, strlen(want) + 1);
	VH_EXPECT_STREQ(t.buf + 1, want);
	free(t.buf);
	json_object_put(j);
}

static uint64_t rnd(uint64_t *x)
{
	static const uint64_t picks[] = { 0, 1, 999999, 1000000, UINT64_MAX, 4096, 255 };

	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x % 3 == 0 ? picks[(*x >> 8) % 7] : *x >> (*x % 64);
}

VH_TEST(stats_json, text_writer_gives_json_c_bytes)
{
	struct vh_proto_vcpu_stats v[VH_VM_MAX_VCPUS];
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	static const char *const names[] = { "web1", "a\"b\\c/d", "tab\there\nnl\r\b\f",
					     "ctl\001\037x", "caf\xc3\xa9", "bad\xff\xfe" };

	for (int round = 0; round < 200; round++) {
		uint32_t n = (uint32_t)(rnd(&x) % (VH_VM_MAX_VCPUS + 1));
		uint64_t *w = (uint64_t *)&st.cpu;

		memset(&s, 0, sizeof(s));
		memset(&st, 0, sizeof(st));
		snprintf(s.name, sizeof(s.name), "%s", names[round % 6]);
		for (int i = 0; i < 16; i++)
			s.uuid[i] = (uint8_t)rnd(&x);
		st.id = (uint32_t)rnd(&x);
		st.state = (uint32_t)(round % (VH_VM_STATE_COUNT + 1));
		for (size_t i = 0; i < sizeof(st.cpu) / 8; i++)
			w[i] = rnd(&x);
		st.mem = (struct vh_mem_stats){ rnd(&x), rnd(&x), rnd(&x), rnd(&x), rnd(&x),
						rnd(&x), rnd(&x), rnd(&x), rnd(&x), rnd(&x),
						(uint32_t)(round % 7) };
		for (unsigned k = 0; k < VH_PROTO_EXIT_SLOTS; k++)
			st.exits[k] = rnd(&x);
		st.console_bytes = rnd(&x);
		st.console_dropped = rnd(&x);
		st.admission_refusals = (uint32_t)rnd(&x);
		for (uint32_t i = 0; i < n; i++) {
			v[i].index = i;
			w = (uint64_t *)&v[i].cpu;
			for (size_t k = 0; k < sizeof(v[i].cpu) / 8; k++)
				w[k] = rnd(&x);
		}
		expect_same_text(&s, &st, v, n);
		expect_same_text(NULL, &st, NULL, 0);
		expect_same_text(&s, &st, round % 2 ? v : NULL, round % 2 ? n : 0);
	}
}

VH_TEST(stats_json, exit_kind_names)
{
	VH_EXPECT_STREQ(vh_api_exit_kind_name(VH_EXIT_IO), "io");
	VH_EXPECT_STREQ(vh_api_exit_kind_name(VH_EXIT_CPUID), "cpuid");
	VH_EXPECT_STREQ(vh_api_exit_kind_name(VH_EXIT_OTHER), "other");
	VH_EXPECT(vh_api_exit_kind_name(VH_EXIT_KIND_COUNT) == NULL);
	for (unsigned k = 0; k < VH_EXIT_KIND_COUNT; k++) {
		const char *n = vh_api_exit_kind_name(k);
		VH_ASSERT(n != NULL);
		VH_EXPECT(strcmp(n, "unknown") != 0);
		for (unsigned m = 0; m < k; m++)
			VH_EXPECT(strcmp(n, vh_api_exit_kind_name(m)) != 0);
	}
}

static struct vh_proto_host_info sample_host(void)
{
	struct vh_proto_host_info hi;

	memset(&hi, 0, sizeof(hi));
	hi.version_min = 1;
	hi.version_max = 1;
	hi.page_size = 4096;
	snprintf(hi.vh_version, sizeof(hi.vh_version), "0.1.0");
	hi.pcpus = 2;
	hi.mhz_per_pcpu = 2400;
	hi.memory_bytes = 1024ull << 20;
	hi.overhead_bytes = 64ull << 20;
	hi.cpu_capacity_mhz = 4320;
	hi.mem_capacity_mib = 900;
	hi.max_vms = 128;
	hi.nvms = 3;
	hi.max_vcpus = 64;
	hi.max_modules = 8;
	hi.max_devices = 16;
	hi.max_msg = 65536;
	hi.max_memory_mib = 1048576;
	return hi;
}

VH_TEST(stats_json, host)
{
	struct vh_proto_host_info hi = sample_host();
	struct vh_proto_host_stats hs;
	struct json_object *j;

	memset(&hs, 0, sizeof(hs));
	hs.pcpus = 2;
	hs.nvms = 3;
	hs.npowered_on = 1;
	hs.reserved_mhz = 500;
	hs.reserved_mib = 128;
	hs.busy_ns = 2500000;
	hs.idle_ns = 7000000000ull;
	hs.mem.total = 230400;
	hs.mem.free = 1280;
	hs.mem.shared_saved = 64;
	j = vh_api_host_to_json(&hi, &hs);
	VH_ASSERT(j != NULL);
	VH_EXPECT_STREQ(api_str(j),
			"{\"version\":\"0.1.0\",\"protocol_version\":{\"min\":1,\"max\":1},"
			"\"cpu\":{\"pcpus\":2,\"mhz_per_pcpu\":2400,\"total_mhz\":4800,"
			"\"capacity_mhz\":4320,\"reserved_mhz\":500,\"free_mhz\":3820,"
			"\"busy_ms\":2,\"idle_ms\":7000},"
			"\"memory\":{\"total_mib\":1024,\"overhead_mib\":64,\"capacity_mib\":900,"
			"\"reserved_mib\":128,\"free_mib\":772,\"unused_mib\":5.0,"
			"\"shared_saved_mib\":0.25},"
			"\"vms\":{\"defined\":3,\"powered_on\":1,\"max\":128},"
			"\"limits\":{\"max_vcpus\":64,\"max_memory_mib\":1048576,\"max_modules\":8,"
			"\"max_devices\":16}}");
	json_object_put(j);

	/* Without the stats the dynamic figures are left out. */
	j = vh_api_host_to_json(&hi, NULL);
	VH_ASSERT(j != NULL);
	VH_EXPECT_STREQ(api_str(j),
			"{\"version\":\"0.1.0\",\"protocol_version\":{\"min\":1,\"max\":1},"
			"\"cpu\":{\"pcpus\":2,\"mhz_per_pcpu\":2400,\"total_mhz\":4800,"
			"\"capacity_mhz\":4320},"
			"\"memory\":{\"total_mib\":1024,\"overhead_mib\":64,\"capacity_mib\":900},"
			"\"vms\":{\"defined\":3,\"max\":128},"
			"\"limits\":{\"max_vcpus\":64,\"max_memory_mib\":1048576,\"max_modules\":8,"
			"\"max_devices\":16}}");
	json_object_put(j);

	/* Reserved beyond capacity (a capacity change) never goes negative. */
	hs.reserved_mhz = 99999;
	j = vh_api_host_to_json(&hi, &hs);
	VH_EXPECT(strstr(api_str(j), "\"free_mhz\":0,") != NULL);
	json_object_put(j);
}
