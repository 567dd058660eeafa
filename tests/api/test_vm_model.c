/* SPDX-License-Identifier: Apache-2.0 */
/* The VM object from JSON: create with defaults, every member's errors
 * naming the field, merge patches, and the persisted form round-tripping
 * exactly. */
#include "api_test.h"

static const char example[] =
	"{\"name\":\"web1\",\"vcpus\":2,\"memory_mib\":256,"
	"\"cpu\":{\"shares\":\"high\",\"reservation_mhz\":500,\"limit_mhz\":null},"
	"\"memory\":{\"shares\":\"normal\",\"reservation_mib\":128,\"limit_mib\":null},"
	"\"boot\":{\"kernel\":\"spinner.elf\",\"cmdline\":\"\"}}";

VH_TEST(vm_model, issue_example)
{
	struct vh_vm_config c;
	struct vh_api_problem p;
	uint64_t balloon = 0;

	VH_ASSERT_EQ(api_create(example, &c, &balloon, &p), 0);
	VH_EXPECT_STREQ(c.name, "web1");
	VH_EXPECT_EQ(c.vcpus, 2u);
	VH_EXPECT_EQ(c.memory_mib, 256ull);
	VH_EXPECT_EQ((int)c.cpu.shares.level, (int)VH_SHARES_HIGH);
	VH_EXPECT_EQ(c.cpu.reservation_mhz, 500ull);
	VH_EXPECT_EQ(c.cpu.limit_mhz, VH_UNLIMITED);
	VH_EXPECT_EQ((int)c.mem.shares.level, (int)VH_SHARES_NORMAL);
	VH_EXPECT_EQ(c.mem.reservation_mib, 128ull);
	VH_EXPECT_EQ(c.mem.limit_mib, VH_UNLIMITED);
	VH_EXPECT_STREQ(c.boot.kernel, "spinner.elf");
	VH_EXPECT_STREQ(c.boot.cmdline, "");
	VH_EXPECT_EQ(balloon, UINT64_MAX);
}

VH_TEST(vm_model, defaults_are_the_cores)
{
	struct vh_vm_config c, d;
	struct vh_api_problem p;
	uint64_t balloon;

	memset(&c, 0, sizeof(c));
	VH_ASSERT_EQ(api_create("{\"name\":\"a\"}", &c, &balloon, &p), 0);
	vh_vm_config_default(&d);
	snprintf(d.name, sizeof(d.name), "a");
	VH_EXPECT_MEMEQ(&c, &d, sizeof(c));
	VH_EXPECT_EQ(balloon, UINT64_MAX);
	/* null restores each member's default too. */
	VH_ASSERT_EQ(api_create("{\"name\":\"a\",\"vcpus\":null,\"memory_mib\":null,\"cpu\":null,"
				"\"memory\":null,\"cosched\":null,\"boot\":null,\"devices\":null,"
				"\"balloon\":null,\"uuid\":null}",
				&c, &balloon, &p),
		     0);
	VH_EXPECT_MEMEQ(&c, &d, sizeof(c));
}

VH_TEST(vm_model, every_member)
{
	struct vh_vm_config c;
	struct vh_api_problem p;
	uint64_t balloon;

	VH_ASSERT_EQ(
	    api_create("{\"name\":\"db-2.prod_x\",\"uuid\":\"0123456789ABCDEF0123456789abcdef\"}",
		       &c, &balloon, &p),
	    -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "uuid");
	VH_ASSERT_EQ(
	    api_create("{\"name\":\"db-2.prod_x\","
		       "\"uuid\":\"01234567-89AB-cdef-0123-456789abcdef\","
		       "\"vcpus\":64,\"memory_mib\":1048576,"
		       "\"cpu\":{\"shares\":1000000,\"reservation_mhz\":10,\"limit_mhz\":20},"
		       "\"memory\":{\"shares\":\"low\",\"reservation_mib\":0,\"limit_mib\":4096},"
		       "\"cosched\":\"strict\","
		       "\"boot\":{\"kernel\":\"k.elf\",\"initrd\":\"rd.img\",\"kind\":\"auto\","
		       "\"cmdline\":\"console=ttyS0 x=\\\"y\\\"\","
		       "\"modules\":[{\"image\":\"initrd.img\",\"cmdline\":\"a b\"},"
		       "{\"image\":\"m2\"}]},"
		       "\"devices\":[\"balloon\",\"uart16550\",\"fw_cfg\",\"debug_exit\"],"
		       "\"balloon\":{\"target_mib\":512}}",
		       &c, &balloon, &p),
	    0);
	static const uint8_t uuid[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
	VH_EXPECT_MEMEQ(c.uuid, uuid, 16);
	VH_EXPECT_EQ(c.vcpus, 64u);
	VH_EXPECT_EQ(c.memory_mib, 1048576ull);
	VH_EXPECT_EQ((int)c.cpu.shares.level, (int)VH_SHARES_CUSTOM);
	VH_EXPECT_EQ(c.cpu.shares.custom, 1000000u);
	VH_EXPECT_EQ(c.cpu.limit_mhz, 20ull);
	VH_EXPECT_EQ((int)c.mem.shares.level, (int)VH_SHARES_LOW);
	VH_EXPECT_EQ(c.mem.limit_mib, 4096ull);
	VH_EXPECT_EQ((int)c.cosched, (int)VH_COSCHED_STRICT);
	VH_EXPECT_STREQ(c.boot.cmdline, "console=ttyS0 x=\"y\"");
	VH_EXPECT_STREQ(c.boot.initrd, "rd.img");
	VH_EXPECT_EQ(c.boot.kind, (uint32_t)VH_BOOT_KIND_AUTO);
	VH_EXPECT_EQ(c.boot.nmodules, 2u);
	VH_EXPECT_STREQ(c.boot.modules[0].image, "initrd.img");
	VH_EXPECT_STREQ(c.boot.modules[0].args, "a b");
	VH_EXPECT_STREQ(c.boot.modules[1].args, "");
	VH_EXPECT_EQ(c.ndevices, 4u);
	VH_EXPECT_EQ(c.devices[0].type, (uint32_t)VH_DEV_BALLOON);
	VH_EXPECT_EQ(c.devices[3].type, (uint32_t)VH_DEV_DEBUG_EXIT);
	VH_EXPECT_EQ(balloon, 512ull);
	/* A raw binary is loaded only where boot.kind says so. */
	VH_ASSERT_EQ(
	    api_create("{\"name\":\"r\",\"boot\":{\"kernel\":\"b.bin\",\"kind\":\"raw16\"}}", &c,
		       &balloon, &p),
	    0);
	VH_EXPECT_EQ(c.boot.kind, (uint32_t)VH_BOOT_KIND_RAW16);
}

/* Each body is refused with this code and field. */
static const struct {
	const char *body;
	enum vh_api_code code;
	const char *field;
} refused[] = {
	{ "{}", VH_API_MISSING_FIELD, "name" },
	{ "[]", VH_API_INVALID_FIELD, "" },
	{ "\"web1\"", VH_API_INVALID_FIELD, "" },
	{ "{\"name\":null}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":7}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\".hidden\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"-x\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"..\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"a/b\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"a b\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"caf\xc3\xa9\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"0123456789012345678901234567890123456789012345678901234567890123\"}",
	  VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"01234567-89ab-cdef-0123-456789abcdef\"}", VH_API_INVALID_FIELD, "name" },
	{ "{\"name\":\"a\",\"uuid\":\"00000000-0000-0000-0000-000000000000\"}",
	  VH_API_INVALID_FIELD, "uuid" },
	{ "{\"name\":\"a\",\"uuid\":\"01234567-89ab-cdef-0123-456789abcdeg\"}",
	  VH_API_INVALID_FIELD, "uuid" },
	{ "{\"name\":\"a\",\"uuid\":5}", VH_API_INVALID_FIELD, "uuid" },
	{ "{\"name\":\"a\",\"vcpus\":0}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"vcpus\":65}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"vcpus\":-1}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"vcpus\":1.5}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"vcpus\":\"2\"}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"vcpus\":9223372036854775808}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"vcpus\":4294967297}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"vcpus\":true}", VH_API_INVALID_FIELD, "vcpus" },
	{ "{\"name\":\"a\",\"memory_mib\":0}", VH_API_INVALID_FIELD, "memory_mib" },
	{ "{\"name\":\"a\",\"memory_mib\":1048577}", VH_API_INVALID_FIELD, "memory_mib" },
	{ "{\"name\":\"a\",\"memory_mib\":99999999999999999999}", VH_API_INVALID_FIELD,
	  "memory_mib" },
	{ "{\"name\":\"a\",\"cpu\":1}", VH_API_INVALID_FIELD, "cpu" },
	{ "{\"name\":\"a\",\"cpu\":{\"shares\":\"huge\"}}", VH_API_INVALID_FIELD, "cpu.shares" },
	{ "{\"name\":\"a\",\"cpu\":{\"shares\":\"HIGH\"}}", VH_API_INVALID_FIELD, "cpu.shares" },
	{ "{\"name\":\"a\",\"cpu\":{\"shares\":0}}", VH_API_INVALID_FIELD, "cpu.shares" },
	{ "{\"name\":\"a\",\"cpu\":{\"shares\":1000001}}", VH_API_INVALID_FIELD, "cpu.shares" },
	{ "{\"name\":\"a\",\"cpu\":{\"shares\":1.5}}", VH_API_INVALID_FIELD, "cpu.shares" },
	{ "{\"name\":\"a\",\"cpu\":{\"shares\":[]}}", VH_API_INVALID_FIELD, "cpu.shares" },
	{ "{\"name\":\"a\",\"cpu\":{\"reservation_mhz\":-5}}", VH_API_INVALID_FIELD,
	  "cpu.reservation_mhz" },
	{ "{\"name\":\"a\",\"cpu\":{\"reservation_mhz\":9007199254740992}}", VH_API_INVALID_FIELD,
	  "cpu.reservation_mhz" },
	{ "{\"name\":\"a\",\"cpu\":{\"limit_mhz\":0}}", VH_API_INVALID_FIELD, "cpu.limit_mhz" },
	{ "{\"name\":\"a\",\"cpu\":{\"limit_mhz\":\"unlimited\"}}", VH_API_INVALID_FIELD,
	  "cpu.limit_mhz" },
	{ "{\"name\":\"a\",\"cpu\":{\"reservation_mhz\":600,\"limit_mhz\":500}}",
	  VH_API_INVALID_FIELD, "cpu.reservation_mhz" },
	{ "{\"name\":\"a\",\"cpu\":{\"sharez\":1}}", VH_API_INVALID_FIELD, "cpu.sharez" },
	{ "{\"name\":\"a\",\"memory\":{\"shares\":\"max\"}}", VH_API_INVALID_FIELD,
	  "memory.shares" },
	{ "{\"name\":\"a\",\"memory\":{\"limit_mib\":-1}}", VH_API_INVALID_FIELD,
	  "memory.limit_mib" },
	{ "{\"name\":\"a\",\"memory\":{\"reservation_mib\":64,\"limit_mib\":32}}",
	  VH_API_INVALID_FIELD, "memory.reservation_mib" },
	{ "{\"name\":\"a\",\"memory_mib\":128,\"memory\":{\"reservation_mib\":129}}",
	  VH_API_INVALID_FIELD, "memory.reservation_mib" },
	{ "{\"name\":\"a\",\"memory\":{\"x\":1}}", VH_API_INVALID_FIELD, "memory.x" },
	{ "{\"name\":\"a\",\"memory\":[]}", VH_API_INVALID_FIELD, "memory" },
	{ "{\"name\":\"a\",\"cosched\":\"loose\"}", VH_API_INVALID_FIELD, "cosched" },
	{ "{\"name\":\"a\",\"cosched\":1}", VH_API_INVALID_FIELD, "cosched" },
	{ "{\"name\":\"a\",\"boot\":\"k.elf\"}", VH_API_INVALID_FIELD, "boot" },
	{ "{\"name\":\"a\",\"boot\":{\"kernel\":\"../etc/passwd\"}}", VH_API_INVALID_FIELD,
	  "boot.kernel" },
	{ "{\"name\":\"a\",\"boot\":{\"kernel\":\"/abs\"}}", VH_API_INVALID_FIELD, "boot.kernel" },
	{ "{\"name\":\"a\",\"boot\":{\"kernel\":3}}", VH_API_INVALID_FIELD, "boot.kernel" },
	{ "{\"name\":\"a\",\"boot\":{\"cmdline\":false}}", VH_API_INVALID_FIELD, "boot.cmdline" },
	{ "{\"name\":\"a\",\"boot\":{\"initrd\":\"../x\"}}", VH_API_INVALID_FIELD, "boot.initrd" },
	{ "{\"name\":\"a\",\"boot\":{\"initrd\":1}}", VH_API_INVALID_FIELD, "boot.initrd" },
	{ "{\"name\":\"a\",\"boot\":{\"kind\":\"raw64\"}}", VH_API_INVALID_FIELD, "boot.kind" },
	{ "{\"name\":\"a\",\"boot\":{\"kind\":1}}", VH_API_INVALID_FIELD, "boot.kind" },
	{ "{\"name\":\"a\",\"boot\":{\"kind\":\"raw32\",\"initrd\":\"i\"}}", VH_API_INVALID_FIELD,
	  "boot.initrd" },
	{ "{\"name\":\"a\",\"boot\":{\"modules\":{}}}", VH_API_INVALID_FIELD, "boot.modules" },
	{ "{\"name\":\"a\",\"boot\":{\"modules\":[{}]}}", VH_API_MISSING_FIELD,
	  "boot.modules[0].image" },
	{ "{\"name\":\"a\",\"boot\":{\"modules\":[{\"image\":\"x\"},{\"image\":\"\"}]}}",
	  VH_API_INVALID_FIELD, "boot.modules[1].image" },
	{ "{\"name\":\"a\",\"boot\":{\"modules\":[{\"image\":\"x\",\"args\":\"\"}]}}",
	  VH_API_INVALID_FIELD, "boot.modules[0].args" },
	{ "{\"name\":\"a\",\"boot\":{\"modules\":[7]}}", VH_API_INVALID_FIELD, "boot.modules[0]" },
	{ "{\"name\":\"a\",\"boot\":{\"modules\":[{\"image\":\"x\",\"cmdline\":1}]}}",
	  VH_API_INVALID_FIELD, "boot.modules[0].cmdline" },
	{ "{\"name\":\"a\",\"boot\":{\"modules\":[{\"image\":\"1\"},{\"image\":\"2\"},"
	  "{\"image\":\"3\"},{\"image\":\"4\"},{\"image\":\"5\"},{\"image\":\"6\"},{\"image\":"
	  "\"7\"},"
	  "{\"image\":\"8\"},{\"image\":\"9\"}]}}",
	  VH_API_INVALID_FIELD, "boot.modules" },
	{ "{\"name\":\"a\",\"devices\":\"uart16550\"}", VH_API_INVALID_FIELD, "devices" },
	{ "{\"name\":\"a\",\"devices\":[\"uart16550\",\"virtio\"]}", VH_API_INVALID_FIELD,
	  "devices[1]" },
	{ "{\"name\":\"a\",\"devices\":[\"balloon\",\"balloon\"]}", VH_API_INVALID_FIELD,
	  "devices[1]" },
	{ "{\"name\":\"a\",\"devices\":[4]}", VH_API_INVALID_FIELD, "devices[0]" },
	{ "{\"name\":\"a\",\"balloon\":{\"target_mib\":65}}", VH_API_INVALID_FIELD,
	  "balloon.target_mib" },
	{ "{\"name\":\"a\",\"balloon\":{\"target_mib\":-1}}", VH_API_INVALID_FIELD,
	  "balloon.target_mib" },
	{ "{\"name\":\"a\",\"balloon\":{\"target\":1}}", VH_API_INVALID_FIELD, "balloon.target" },
	{ "{\"name\":\"a\",\"balloon\":5}", VH_API_INVALID_FIELD, "balloon" },
	{ "{\"name\":\"a\",\"state\":\"running\"}", VH_API_INVALID_FIELD, "state" },
	{ "{\"name\":\"a\",\"state_changes\":1}", VH_API_INVALID_FIELD, "state_changes" },
	{ "{\"name\":\"a\",\"boot_generation\":1}", VH_API_INVALID_FIELD, "boot_generation" },
	{ "{\"name\":\"a\",\"Name\":\"b\"}", VH_API_INVALID_FIELD, "Name" },
	{ "{\"name\":\"a\",\"id\":3}", VH_API_INVALID_FIELD, "id" },
};

VH_TEST(vm_model, refusals_name_the_field)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct vh_vm_config c, before;
		struct vh_api_problem p;
		uint64_t balloon = 77;
		memset(&c, 0xa5, sizeof(c));
		before = c;
		if (api_create(refused[i].body, &c, &balloon, &p) == 0) {
			VH_FAIL("accepted %s", refused[i].body);
			continue;
		}
		if (p.code != refused[i].code || strcmp(p.field, refused[i].field))
			VH_FAIL("%s: want %s \"%s\", got %s \"%s\" (%s)", refused[i].body,
				vh_api_code_name(refused[i].code), refused[i].field,
				vh_api_code_name(p.code), p.field, p.detail);
		VH_EXPECT(p.detail[0] != '\0');
		/* Nothing written on failure. */
		VH_EXPECT_MEMEQ(&c, &before, sizeof(c));
		VH_EXPECT_EQ(balloon, 77ull);
	}
}

VH_TEST(vm_model, limits_at_the_edges)
{
	struct vh_vm_config c;
	struct vh_api_problem p;
	uint64_t balloon;

	VH_EXPECT_EQ(api_create("{\"name\":\"a\",\"cpu\":{\"reservation_mhz\":9007199254740991}}",
				&c, &balloon, &p),
		     0);
	VH_EXPECT_EQ(
	    api_create("{\"name\":\"a\",\"cpu\":{\"reservation_mhz\":500,\"limit_mhz\":500}}", &c,
		       &balloon, &p),
	    0);
	VH_EXPECT_EQ(api_create("{\"name\":\"a\",\"memory_mib\":128,"
				"\"memory\":{\"reservation_mib\":128,\"limit_mib\":128}}",
				&c, &balloon, &p),
		     0);
	VH_EXPECT_EQ(api_create("{\"name\":\"a\",\"cpu\":{\"shares\":1}}", &c, &balloon, &p), 0);
	VH_EXPECT_EQ(c.cpu.shares.custom, 1u);
	/* 1000 is a custom value, not "normal". */
	VH_EXPECT_EQ(api_create("{\"name\":\"a\",\"cpu\":{\"shares\":1000}}", &c, &balloon, &p), 0);
	VH_EXPECT_EQ((int)c.cpu.shares.level, (int)VH_SHARES_CUSTOM);
	VH_EXPECT_EQ(
	    api_create("{\"name\":\"a\",\"balloon\":{\"target_mib\":64}}", &c, &balloon, &p), 0);
	VH_EXPECT_EQ(balloon, 64ull);
	VH_EXPECT_EQ(api_create("{\"name\":\"a\",\"balloon\":{\"target_mib\":null}}", &c, &balloon,
				&p),
		     0);
	VH_EXPECT_EQ(balloon, UINT64_MAX);
	VH_EXPECT_EQ(api_create("{\"name\":\"A234567890123456789012345678901234567890123456789012"
				"34567890123\"}",
				&c, &balloon, &p),
		     0);
	VH_EXPECT_EQ(strlen(c.name), 63u);
	VH_EXPECT_EQ(api_create("{\"name\":\"a\",\"devices\":[]}", &c, &balloon, &p), 0);
	VH_EXPECT_EQ(c.ndevices, 0u);
	VH_EXPECT_EQ(api_create("{\"name\":\"a\",\"boot\":{\"kernel\":\"\"}}", &c, &balloon, &p),
		     0);
	VH_EXPECT_STREQ(c.boot.kernel, "");
}

VH_TEST(vm_model, controls_put_replaces)
{
	struct vh_cpu_controls cc;
	struct vh_mem_controls mc;
	struct vh_api_problem p;
	struct json_object *o;

	o = API_JSON("{\"reservation_mhz\":300}");
	VH_ASSERT_EQ(vh_api_cpu_from_json(o, &cc, &p), 0);
	VH_EXPECT_EQ((int)cc.shares.level, (int)VH_SHARES_NORMAL);
	VH_EXPECT_EQ(cc.reservation_mhz, 300ull);
	VH_EXPECT_EQ(cc.limit_mhz, VH_UNLIMITED);
	json_object_put(o);

	o = API_JSON("{\"shares\":\"low\",\"limit_mib\":2048}");
	VH_ASSERT_EQ(vh_api_mem_from_json(o, &mc, &p), 0);
	VH_EXPECT_EQ((int)mc.shares.level, (int)VH_SHARES_LOW);
	VH_EXPECT_EQ(mc.reservation_mib, 0ull);
	VH_EXPECT_EQ(mc.limit_mib, 2048ull);
	json_object_put(o);

	/* A memory member in the CPU object is unknown there. */
	o = API_JSON("{\"reservation_mib\":1}");
	VH_EXPECT_EQ(vh_api_cpu_from_json(o, &cc, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "cpu.reservation_mib");
	VH_EXPECT_EQ(vh_api_mem_from_json(o, &mc, &p), 0);
	json_object_put(o);

	o = API_JSON("{\"reservation_mhz\":10,\"limit_mhz\":5}");
	VH_EXPECT_EQ(vh_api_cpu_from_json(o, &cc, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "cpu.reservation_mhz");
	json_object_put(o);

	o = API_JSON("[]");
	VH_EXPECT_EQ(vh_api_mem_from_json(o, &mc, &p), -1);
	EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "memory");
	json_object_put(o);
}

VH_TEST(vm_model, shares_json)
{
	struct vh_api_problem p;
	struct vh_shares s;
	struct json_object *o =
	    API_JSON("[\"low\",\"normal\",\"high\",1,1000000,0,1000001,\"Low\",null,"
		     "18446744073709551616]");
	static const int want[] = { 0, 0, 0, 0, 0, -1, -1, -1, -1, -1 };
	static const char *const back[] = { "\"low\"", "\"normal\"", "\"high\"", "1", "1000000" };

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		VH_EXPECT_EQ(vh_api_shares_from_json(json_object_array_get_idx(o, i),
						     "memory.shares", &s, &p),
			     want[i]);
		if (want[i]) {
			EXPECT_PROBLEM(p, VH_API_INVALID_FIELD, "memory.shares");
			continue;
		}
		struct json_object *j = vh_api_shares_to_json(&s);
		VH_EXPECT_STREQ(api_str(j), back[i]);
		json_object_put(j);
	}
	json_object_put(o);
}

/* ---- patches -------------------------------------------------------------- */

struct patched {
	struct vh_vm_config c;
	uint64_t balloon;
	unsigned what;
	struct vh_api_problem p;
	int rc;
};

static struct patched patch(const char *base, const char *body, bool running)
{
	struct patched r;
	struct json_object *o;

	memset(&r, 0, sizeof(r));
	VH_ASSERT_EQ(api_create(base, &r.c, &r.balloon, &r.p), 0);
	o = API_JSON(body);
	memset(&r.p, 0, sizeof(r.p));
	r.what = 0xdead;
	r.rc = vh_api_vm_patch(o, running, &r.c, &r.balloon, &r.what, &r.p);
	json_object_put(o);
	return r;
}

VH_TEST(vm_patch, merge_changes_only_what_is_named)
{
	struct patched r = patch(example, "{\"cpu\":{\"limit_mhz\":2000}}", true);

	VH_ASSERT_EQ(r.rc, 0);
	VH_EXPECT_EQ(r.what, VH_API_PATCH_CPU);
	VH_EXPECT_EQ(r.c.cpu.limit_mhz, 2000ull);
	VH_EXPECT_EQ(r.c.cpu.reservation_mhz, 500ull); /* kept */
	VH_EXPECT_EQ((int)r.c.cpu.shares.level, (int)VH_SHARES_HIGH);
	VH_EXPECT_EQ(r.c.mem.reservation_mib, 128ull);

	/* null removes the limit: unlimited. */
	r = patch("{\"name\":\"a\",\"cpu\":{\"limit_mhz\":900},\"memory\":{\"limit_mib\":32}}",
		  "{\"cpu\":{\"limit_mhz\":null},\"memory\":{\"limit_mib\":null,\"shares\":2}}",
		  true);
	VH_ASSERT_EQ(r.rc, 0);
	VH_EXPECT_EQ(r.what, VH_API_PATCH_CPU | VH_API_PATCH_MEM);
	VH_EXPECT_EQ(r.c.cpu.limit_mhz, VH_UNLIMITED);
	VH_EXPECT_EQ(r.c.mem.limit_mib, VH_UNLIMITED);
	VH_EXPECT_EQ(r.c.mem.shares.custom, 2u);

	/* null on a whole object restores its defaults. */
	r = patch(example, "{\"cpu\":null}", true);
	VH_ASSERT_EQ(r.rc, 0);
	VH_EXPECT_EQ(r.what, VH_API_PATCH_CPU);
	VH_EXPECT_EQ(r.c.cpu.reservation_mhz, 0ull);
	VH_EXPECT_EQ((int)r.c.cpu.shares.level, (int)VH_SHARES_NORMAL);

	/* An empty patch changes nothing. */
	r = patch(example, "{}", true);
	VH_ASSERT_EQ(r.rc, 0);
	VH_EXPECT_EQ(r.what, 0u);

	r = patch(example, "{\"balloon\":{\"target_mib\":100}}", true);
	VH_ASSERT_EQ(r.rc, 0);
	VH_EXPECT_EQ(r.what, VH_API_PATCH_BALLOON);
	VH_EXPECT_EQ(r.balloon, 100ull);
}

VH_TEST(vm_patch, offline_members_while_running)
{
	static const struct {
		const char *body, *field;
	} rows[] = {
		{ "{\"name\":\"web2\"}", "name" },
		{ "{\"vcpus\":4}", "vcpus" },
		{ "{\"memory_mib\":512}", "memory_mib" },
		{ "{\"cosched\":\"none\"}", "cosched" },
		{ "{\"boot\":{\"cmdline\":\"quiet\"}}", "boot" },
		{ "{\"boot\":null}", "boot" },
		{ "{\"devices\":[\"uart16550\"]}", "devices" },
		{ "{\"disks\":[{\"disk\":\"root\"}]}", "disks" },
		{ "{\"vcpus\":null}", "vcpus" },
		{ "{\"cpu\":{\"limit_mhz\":900},\"vcpus\":3}", "vcpus" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct patched r = patch(example, rows[i].body, true);
		struct vh_vm_config c;
		uint64_t b;
		struct vh_api_problem p;
		memset(&c, 0, sizeof(c));
		VH_ASSERT_EQ(api_create(example, &c, &b, &p), 0);
		VH_EXPECT_EQ(r.rc, -1);
		if (r.p.code != VH_API_CONFLICT || strcmp(r.p.field, rows[i].field))
			VH_FAIL("%s: got %s \"%s\"", rows[i].body, vh_api_code_name(r.p.code),
				r.p.field);
		VH_EXPECT_MEMEQ(&r.c, &c, sizeof(c)); /* untouched */
		/* The same patch is fine while the VM is off. */
		r = patch(example, rows[i].body, false);
		VH_EXPECT_EQ(r.rc, 0);
		VH_EXPECT(r.what & VH_API_PATCH_OFFLINE);
	}
	/* Sending back unchanged offline members is no change at all. */
	struct patched r =
	    patch(example,
		  "{\"name\":\"web1\",\"vcpus\":2,\"memory_mib\":256,"
		  "\"boot\":{\"kernel\":\"spinner.elf\",\"initrd\":\"\",\"cmdline\":\"\",\"kind\":"
		  "\"auto\","
		  "\"modules\":[]},"
		  "\"devices\":[\"uart16550\",\"debug_exit\"],\"cosched\":\"relaxed\"}",
		  true);
	VH_EXPECT_EQ(r.rc, 0);
	VH_EXPECT_EQ(r.what, 0u);
}

VH_TEST(vm_patch, refusals)
{
	static const struct {
		const char *body;
		enum vh_api_code code;
		const char *field;
	} rows[] = {
		{ "[]", VH_API_INVALID_FIELD, "" },
		{ "null", VH_API_INVALID_FIELD, "" },
		{ "{\"name\":null}", VH_API_INVALID_FIELD, "name" },
		{ "{\"uuid\":null}", VH_API_INVALID_FIELD, "uuid" },
		{ "{\"uuid\":\"11111111-2222-3333-4444-555555555555\"}", VH_API_INVALID_FIELD,
		  "uuid" },
		{ "{\"state\":\"stopped\"}", VH_API_INVALID_FIELD, "state" },
		{ "{\"cpu\":{\"limit_mhz\":100}}", VH_API_INVALID_FIELD, "cpu.reservation_mhz" },
		{ "{\"memory\":{\"reservation_mib\":300}}", VH_API_INVALID_FIELD,
		  "memory.reservation_mib" },
		{ "{\"memory_mib\":64}", VH_API_INVALID_FIELD, "memory.reservation_mib" },
		{ "{\"balloon\":{\"target_mib\":257}}", VH_API_INVALID_FIELD,
		  "balloon.target_mib" },
		{ "{\"cpu\":{\"bogus\":1}}", VH_API_INVALID_FIELD, "cpu.bogus" },
		{ "{\"boot\":{\"modules\":[{\"image\":\"ok\",\"x\":1}]}}", VH_API_INVALID_FIELD,
		  "boot.modules[0].x" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct patched r = patch(example, rows[i].body, false);
		VH_EXPECT_EQ(r.rc, -1);
		VH_EXPECT_EQ(r.what, 0xdeadu); /* untouched */
		if (r.p.code != rows[i].code || strcmp(r.p.field, rows[i].field))
			VH_FAIL("%s: got %s \"%s\" (%s)", rows[i].body, vh_api_code_name(r.p.code),
				r.p.field, r.p.detail);
	}
	/* The uuid may be sent back unchanged. */
	struct vh_vm_config c;
	uint64_t b = UINT64_MAX;
	unsigned what;
	struct vh_api_problem p;
	struct json_object *o = API_JSON("{\"uuid\":\"01234567-89ab-cdef-0123-456789ABCDEF\"}");
	vh_vm_config_default(&c);
	snprintf(c.name, sizeof(c.name), "x");
	VH_ASSERT_EQ(vh_api_uuid_parse("01234567-89ab-cdef-0123-456789abcdef", c.uuid), 0);
	VH_EXPECT_EQ(vh_api_vm_patch(o, true, &c, &b, &what, &p), 0);
	VH_EXPECT_EQ(what, 0u);
	json_object_put(o);
}

/* ---- the persisted form ------------------------------------------------- */

static void round_trip(const char *body)
{
	struct vh_vm_config a, b;
	struct vh_api_problem p;
	uint64_t ba, bb;
	struct json_object *j;
	char *text;

	memset(&a, 0, sizeof(a)); /* compared with memcmp: no stray padding */
	memset(&b, 0, sizeof(b));
	VH_ASSERT_EQ(api_create(body, &a, &ba, &p), 0);
	j = vh_api_vm_config_to_json(&a, ba);
	VH_ASSERT(j != NULL);
	text = strdup(api_str(j));
	json_object_put(j);
	if (api_create(text, &b, &bb, &p))
		VH_FAIL("%s did not read back: %s", text, p.detail);
	VH_EXPECT_MEMEQ(&a, &b, sizeof(a));
	VH_EXPECT_EQ(ba, bb);
	free(text);
}

/* disks: [{"disk", "readonly"}] in boot order, at most 8, names as VM
 * names, none twice; each refusal names its field and writes nothing. */
VH_TEST(vm_model, disks)
{
	static const struct {
		const char *body, *field;
	} bad[] = {
		{ "{\"name\":\"a\",\"disks\":{}}", "disks" },
		{ "{\"name\":\"a\",\"disks\":[\"root\"]}", "disks[0]" },
		{ "{\"name\":\"a\",\"disks\":[{}]}", "disks[0].disk" },
		{ "{\"name\":\"a\",\"disks\":[{\"disk\":\"a/b\"}]}", "disks[0].disk" },
		{ "{\"name\":\"a\",\"disks\":[{\"disk\":\"..\"}]}", "disks[0].disk" },
		{ "{\"name\":\"a\",\"disks\":[{\"disk\":\"x\"},{\"disk\":7}]}", "disks[1].disk" },
		{ "{\"name\":\"a\",\"disks\":[{\"disk\":\"x\",\"readonly\":1}]}",
		  "disks[0].readonly" },
		{ "{\"name\":\"a\",\"disks\":[{\"disk\":\"x\",\"size\":1}]}", "disks[0].size" },
		{ "{\"name\":\"a\",\"disks\":[{\"disk\":\"x\"},{\"disk\":\"x\",\"readonly\":true}]"
		  "}",
		  "disks[1].disk" },
		{ "{\"name\":\"a\",\"disks\":[{\"disk\":\"a\"},{\"disk\":\"b\"},{\"disk\":\"c\"},"
		  "{\"disk\":\"d\"},{\"disk\":\"e\"},{\"disk\":\"f\"},{\"disk\":\"g\"},"
		  "{\"disk\":\"h\"},{\"disk\":\"i\"}]}",
		  "disks" },
	};
	struct vh_vm_config c, before;
	struct vh_api_problem p;
	uint64_t balloon;

	VH_ASSERT_EQ(api_create("{\"name\":\"a\",\"disks\":[{\"disk\":\"web-root\"},"
				"{\"disk\":\"tools.iso\",\"readonly\":true},"
				"{\"disk\":\"scratch\",\"readonly\":false}]}",
				&c, &balloon, &p),
		     0);
	VH_EXPECT_EQ(c.ndisks, 3u);
	VH_EXPECT_STREQ(c.disks[0].name, "web-root");
	VH_EXPECT_EQ(c.disks[0].flags, 0u);
	VH_EXPECT_STREQ(c.disks[1].name, "tools.iso");
	VH_EXPECT_EQ(c.disks[1].flags, VH_DISK_F_READONLY);
	VH_EXPECT_STREQ(c.disks[2].name, "scratch");
	VH_EXPECT_EQ(c.disks[2].flags, 0u);
	VH_ASSERT_EQ(api_create("{\"name\":\"a\",\"disks\":null}", &c, &balloon, &p), 0);
	VH_EXPECT_EQ(c.ndisks, 0u);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&c, 0x5a, sizeof(c));
		before = c;
		if (api_create(bad[i].body, &c, &balloon, &p) == 0) {
			VH_FAIL("accepted %s", bad[i].body);
			continue;
		}
		/* {} lacks the disk: missing, the rest invalid. */
		enum vh_api_code want = i == 2 ? VH_API_MISSING_FIELD : VH_API_INVALID_FIELD;
		if (p.code != want || strcmp(p.field, bad[i].field))
			VH_FAIL("%s: want %s \"%s\", got %s \"%s\" (%s)", bad[i].body,
				vh_api_code_name(want),
				bad[i].field, vh_api_code_name(p.code), p.field, p.detail);
		VH_EXPECT_MEMEQ(&c, &before, sizeof(c));
	}
	/* A patch replaces the list (RFC 7396: arrays are values). */
	struct patched r = patch("{\"name\":\"a\",\"disks\":[{\"disk\":\"one\"}]}",
				 "{\"disks\":[{\"disk\":\"two\",\"readonly\":true}]}", false);
	VH_EXPECT_EQ(r.rc, 0);
	VH_EXPECT(r.what & VH_API_PATCH_OFFLINE);
	VH_EXPECT_EQ(r.c.ndisks, 1u);
	VH_EXPECT_STREQ(r.c.disks[0].name, "two");
	r = patch("{\"name\":\"a\",\"disks\":[{\"disk\":\"one\"}]}", "{\"disks\":null}", false);
	VH_EXPECT_EQ(r.rc, 0);
	VH_EXPECT_EQ(r.c.ndisks, 0u);
}

VH_TEST(vm_model, config_round_trips_exactly)
{
	round_trip(example);
	round_trip("{\"name\":\"a\",\"disks\":[{\"disk\":\"root\",\"readonly\":false},"
		   "{\"disk\":\"iso.1\",\"readonly\":true}]}");
	round_trip("{\"name\":\"a\"}");
	round_trip("{\"name\":\"a\",\"balloon\":{\"target_mib\":0}}");
	round_trip("{\"name\":\"a\",\"balloon\":{\"target_mib\":64},\"devices\":[]}");
	round_trip("{\"name\":\"zz\",\"uuid\":\"ffffffff-0000-1111-2222-333333333333\",\"vcpus\":3,"
		   "\"memory_mib\":777,\"cpu\":{\"shares\":12345,\"reservation_mhz\":1,"
		   "\"limit_mhz\":9007199254740991},\"memory\":{\"shares\":\"high\","
		   "\"reservation_mib\":777,\"limit_mib\":777},\"cosched\":\"none\","
		   "\"boot\":{\"kernel\":\"a.elf\",\"cmdline\":\"\\u00e9 \\\"q\\\" \\\\ \\n\","
		   "\"modules\":[{\"image\":\"m1\",\"cmdline\":\"x\"},{\"image\":\"m2\"},"
		   "{\"image\":\"m3\",\"cmdline\":\"\"}]},"
		   "\"devices\":[\"fw_cfg\",\"balloon\"],\"balloon\":{\"target_mib\":null}}");
}

VH_TEST(vm_model, config_json_shape)
{
	struct vh_vm_config c;
	struct vh_api_problem p;
	uint64_t b;
	struct json_object *j;

	VH_ASSERT_EQ(api_create(example, &c, &b, &p), 0);
	j = vh_api_vm_config_to_json(&c, b);
	VH_EXPECT_STREQ(
	    api_str(j),
	    "{\"name\":\"web1\",\"vcpus\":2,\"memory_mib\":256,"
	    "\"cpu\":{\"shares\":\"high\",\"reservation_mhz\":500,\"limit_mhz\":null},"
	    "\"memory\":{\"shares\":\"normal\",\"reservation_mib\":128,\"limit_mib\":null},"
	    "\"cosched\":\"relaxed\","
	    "\"boot\":{\"kernel\":\"spinner.elf\",\"initrd\":\"\",\"cmdline\":\"\",\"kind\":"
	    "\"auto\","
	    "\"modules\":[]},"
	    "\"devices\":[\"uart16550\",\"debug_exit\"],\"disks\":[],"
		"\"balloon\":{\"target_mib\":null}}");
	json_object_put(j);
}
