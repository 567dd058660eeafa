/* SPDX-License-Identifier: Apache-2.0 */
/* Identifiers (uuids, names, path segments, states) and the VM resource
 * as JSON from the hypervisor's replies. */
#include "api_test.h"

VH_TEST(ids, uuid_format_and_parse)
{
	static const uint8_t u[16] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x4a, 0xbc,
				       0x80, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc };
	uint8_t back[16];
	char s[37];

	vh_api_uuid_format(u, s);
	VH_EXPECT_STREQ(s, "deadbeef-0001-4abc-8000-123456789abc");
	VH_ASSERT_EQ(vh_api_uuid_parse(s, back), 0);
	VH_EXPECT_MEMEQ(back, u, 16);
	VH_ASSERT_EQ(vh_api_uuid_parse("DEADBEEF-0001-4ABC-8000-123456789ABC", back), 0);
	VH_EXPECT_MEMEQ(back, u, 16);

	static const char *const bad[] = {
		"", "deadbeef", "deadbeef-0001-4abc-8000-123456789ab",
		"deadbeef-0001-4abc-8000-123456789abcd", "deadbeef00014abc8000123456789abc",
		"deadbeef-0001-4abc-8000_123456789abc", "deadbeeg-0001-4abc-8000-123456789abc",
		"{deadbeef-0001-4abc-8000-123456789ab}", " deadbeef-0001-4abc-8000-123456789ab",
		"deadbeef-00014-abc-8000-123456789abc", "-eadbeef-0001-4abc-8000-123456789abc",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(back, 0x11, sizeof(back));
		if (vh_api_uuid_parse(bad[i], back) == 0)
			VH_FAIL("accepted \"%s\"", bad[i]);
		VH_EXPECT_EQ(back[0], 0x11); /* untouched */
	}
	VH_EXPECT_EQ(vh_api_uuid_parse(NULL, back), -1);
}

VH_TEST(ids, names)
{
	static const char *const ok[] = {
		"a", "web1", "Web-1.prod_2",
		"0", "9.9",  "a23456789012345678901234567890123456789012345678901234567890123"
	};
	static const char *const bad[] = {
		"", ".", "..", ".a", "-a", "_a", "a/b", "a b", "a\\b", "caf\xc3\xa9", "a:b", "a%2f",
		"a234567890123456789012345678901234567890123456789012345678901234",
		"01234567-89ab-cdef-0123-456789abcdef", "01234567-89AB-CDEF-0123-456789ABCDEF",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		VH_EXPECT(vh_api_name_valid(ok[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vh_api_name_valid(bad[i]))
			VH_FAIL("name \"%s\" accepted", bad[i]);
	}
	VH_EXPECT(!vh_api_name_valid(NULL));
	/* Image names: the same characters, up to 63 of them (the image store's
	 * limit); uuids are fine. */
	VH_EXPECT(vh_api_image_name_valid("spinner.elf"));
	VH_EXPECT(vh_api_image_name_valid("01234567-89ab-cdef-0123-456789abcdef"));
	VH_EXPECT(!vh_api_image_name_valid("../spinner.elf"));
	VH_EXPECT(!vh_api_image_name_valid(".spinner"));
	VH_EXPECT(!vh_api_image_name_valid("a/b"));
	VH_EXPECT(!vh_api_image_name_valid(""));
	char long_name[200];
	memset(long_name, 'x', sizeof(long_name));
	long_name[63] = '\0';
	VH_EXPECT(vh_api_image_name_valid(long_name));
	long_name[63] = 'x';
	long_name[64] = '\0';
	VH_EXPECT(!vh_api_image_name_valid(long_name));
}

VH_TEST(ids, vm_ref_from_a_path_segment)
{
	struct vh_proto_vm_ref r;

	vh_api_vm_ref("web1", &r);
	VH_EXPECT_EQ(r.kind, (uint32_t)VH_PROTO_REF_NAME);
	VH_EXPECT_STREQ(r.name, "web1");
	VH_EXPECT_EQ(r.id, 0u);
	vh_api_vm_ref("DEADBEEF-0001-4abc-8000-123456789abc", &r);
	VH_EXPECT_EQ(r.kind, (uint32_t)VH_PROTO_REF_UUID);
	VH_EXPECT_EQ(r.uuid[0], 0xde);
	VH_EXPECT_STREQ(r.name, "");
	/* Too long to be a name: never cut down to another VM's name. */
	char seg[100];
	memset(seg, 'a', sizeof(seg));
	seg[99] = '\0';
	vh_api_vm_ref(seg, &r);
	VH_EXPECT_EQ(r.kind, (uint32_t)VH_PROTO_REF_NAME);
	VH_EXPECT_STREQ(r.name, "");
	seg[63] = '\0';
	vh_api_vm_ref(seg, &r);
	VH_EXPECT_EQ(strlen(r.name), 63u);
}

VH_TEST(ids, states)
{
	static const char *const names[] = { "defined", "running", "paused", "stopped", "crashed" };

	for (uint32_t s = 0; s < VH_VM_STATE_COUNT; s++) {
		VH_EXPECT_STREQ(vh_api_state_name(s), names[s]);
		VH_EXPECT_EQ(vh_api_state_from_name(names[s]), (int)s);
	}
	VH_EXPECT_STREQ(vh_api_state_name(VH_VM_STATE_COUNT), "unknown");
	VH_EXPECT_EQ(vh_api_state_from_name("Running"), -1);
	VH_EXPECT_EQ(vh_api_state_from_name("unknown"), -1);
	VH_EXPECT_EQ(vh_api_state_from_name(NULL), -1);
}

static struct vh_proto_vm_info sample_info(void)
{
	struct vh_proto_vm_info i;
	struct vh_api_problem p;
	uint64_t b;

	memset(&i, 0, sizeof(i));
	VH_ASSERT_EQ(
	    api_create("{\"name\":\"web1\",\"uuid\":\"deadbeef-0001-4abc-8000-123456789abc\","
		       "\"vcpus\":2,\"memory_mib\":256,\"cpu\":{\"shares\":\"high\","
		       "\"reservation_mhz\":500},\"memory\":{\"reservation_mib\":128,"
		       "\"limit_mib\":200},\"boot\":{\"kernel\":\"spinner.elf\","
		       "\"modules\":[{\"image\":\"m\",\"cmdline\":\"c\"}]},"
		       "\"devices\":[\"uart16550\",\"balloon\"]}",
		       &i.config, &b, &p),
	    0);
	i.summary.id = 7;
	i.summary.state = VH_VM_RUNNING;
	memcpy(i.summary.uuid, i.config.uuid, 16);
	memcpy(i.summary.name, i.config.name, sizeof(i.summary.name));
	i.summary.vcpus = i.config.vcpus;
	i.summary.memory_mib = i.config.memory_mib;
	i.summary.cpu = i.config.cpu;
	i.summary.mem = i.config.mem;
	i.summary.cosched = VH_COSCHED_RELAXED;
	i.summary.balloon_request_pages = 32 * VH_PAGES_PER_MIB;
	i.summary.balloon_target_pages = 40 * VH_PAGES_PER_MIB;
	i.summary.state_changes = 3;
	i.summary.boot_generation = 2;
	return i;
}

VH_TEST(vm_json, resource)
{
	struct vh_proto_vm_info i = sample_info();
	struct json_object *j = vh_api_vm_to_json(&i);

	VH_ASSERT(j != NULL);
	VH_EXPECT_STREQ(
	    api_str(j),
	    "{\"name\":\"web1\",\"uuid\":\"deadbeef-0001-4abc-8000-123456789abc\","
	    "\"vcpus\":2,\"memory_mib\":256,"
	    "\"cpu\":{\"shares\":\"high\",\"reservation_mhz\":500,\"limit_mhz\":null},"
	    "\"memory\":{\"shares\":\"normal\",\"reservation_mib\":128,\"limit_mib\":200},"
	    "\"cosched\":\"relaxed\","
	    "\"boot\":{\"kernel\":\"spinner.elf\",\"initrd\":\"\",\"cmdline\":\"\",\"kind\":"
	    "\"auto\","
	    "\"modules\":[{\"image\":\"m\",\"cmdline\":\"c\"}]},"
	    "\"devices\":[\"uart16550\",\"balloon\"],\"disks\":[],\"balloon\":{\"target_mib\":32},"
	    "\"state\":\"running\",\"state_changes\":3,\"boot_generation\":2}");
	json_object_put(j);
}

/* The resource minus its read-only members is a valid PATCH (and POST)
 * body: clients can GET, edit and send back. */
VH_TEST(vm_json, resource_reads_back_as_a_definition)
{
	struct vh_proto_vm_info i = sample_info();
	struct json_object *j = vh_api_vm_to_json(&i);
	struct vh_vm_config c;
	struct vh_api_problem p;
	uint64_t b;

	json_object_object_del(j, "state");
	json_object_object_del(j, "state_changes");
	json_object_object_del(j, "boot_generation");
	memset(&c, 0, sizeof(c));
	VH_ASSERT_EQ(vh_api_vm_from_json(j, &c, &b, &p), 0);
	VH_EXPECT_MEMEQ(&c, &i.config, sizeof(c));
	VH_EXPECT_EQ(b, 32ull);
	json_object_put(j);
}

VH_TEST(vm_json, summary)
{
	struct vh_proto_vm_info i = sample_info();
	struct json_object *j = vh_api_vm_summary_to_json(&i.summary);

	VH_ASSERT(j != NULL);
	VH_EXPECT_STREQ(
	    api_str(j),
	    "{\"name\":\"web1\",\"uuid\":\"deadbeef-0001-4abc-8000-123456789abc\","
	    "\"vcpus\":2,\"memory_mib\":256,"
	    "\"cpu\":{\"shares\":\"high\",\"reservation_mhz\":500,\"limit_mhz\":null},"
	    "\"memory\":{\"shares\":\"normal\",\"reservation_mib\":128,\"limit_mib\":200},"
	    "\"cosched\":\"relaxed\",\"balloon\":{\"target_mib\":32},"
	    "\"state\":\"running\",\"state_changes\":3,\"boot_generation\":2}");
	json_object_put(j);
	/* A name that fills its field is still read within it. */
	memset(i.summary.name, 'n', sizeof(i.summary.name));
	i.summary.state = 99;
	j = vh_api_vm_summary_to_json(&i.summary);
	VH_ASSERT(j != NULL);
	struct json_object *v;
	VH_ASSERT(json_object_object_get_ex(j, "name", &v));
	VH_EXPECT_EQ(strlen(json_object_get_string(v)), (size_t)VH_VM_NAME_MAX - 1);
	VH_ASSERT(json_object_object_get_ex(j, "state", &v));
	VH_EXPECT_STREQ(json_object_get_string(v), "unknown");
	json_object_put(j);
}
