/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for libvhapi: what vhagent does with a request body
 * and its path and query strings, before anything reaches the hypervisor.
 *
 * Every input is, at once:
 *   - a request body for vh_api_parse, then (when it parses) for
 *     vh_api_vm_from_json (POST /v1/vms), vh_api_vm_patch (PATCH, on a
 *     stopped and on a running VM), vh_api_cpu_from_json and
 *     vh_api_mem_from_json (PUT .../cpu, .../memory), shares,
 *     vh_api_power_from_json (PUT .../power),
 *     vh_api_token_request_from_json (POST /v1/tokens),
 *     vh_api_disk_request_from_json (POST and PATCH /v1/disks) and
 *     vh_api_whatif_from_json (POST /v1/simulate, then its scenario),
 *     and as a simulator's report for vh_api_whatif_reply;
 *   - a path segment or flag value (its first 200 bytes as a C string)
 *     for vh_api_vm_ref, the name and uuid checks and the unit parsers;
 *   - a hypervisor error reply (code, field, reason from the bytes) for
 *     vh_api_from_proto_error.
 * Beyond the sanitizers and leak checking it asserts properties: a
 * refusal has a code of its family, a field that fits and problem JSON
 * that parses strictly; a refused patch leaves the definition untouched;
 * an accepted definition passes the core's vh_vm_config_validate and
 * round-trips exactly through its persisted JSON; a patch accepted on a
 * running VM changes nothing that needs it off; controls round-trip;
 * parsed units print and parse back to the same value. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/vh_api.h"

#define FUZZ_NAME "fuzz_api_request"
#include "fuzz.h"

/* Serializes o as the agent would send it: it must parse back strictly. */
static struct json_object *reparse(struct json_object *o, const char *what)
{
	const char *s;
	struct json_object *back = NULL;
	struct vh_api_problem p;
	size_t n = 0;

	if (!o)
		die("%s: NULL", what);
	s = json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (vh_api_parse(s, n, &back, &p))
		die("%s: our own output %s does not parse: %s", what, s, p.detail);
	return back;
}

/* A refusal: its code is one of `allowed`, its problem JSON is strict. */
static void check_problem(const struct vh_api_problem *p, const enum vh_api_code *allowed, size_t n,
			  const char *what)
{
	size_t i;
	char *j;
	struct json_object *o = NULL;
	struct vh_api_problem q;

	for (i = 0; i < n && p->code != allowed[i]; i++)
		;
	if (i == n)
		die("%s: unexpected code %s (%s)", what, vh_api_code_name(p->code), p->detail);
	if (strnlen(p->field, sizeof(p->field)) == sizeof(p->field) ||
	    strnlen(p->detail, sizeof(p->detail)) == sizeof(p->detail) || !p->detail[0])
		die("%s: field or detail not terminated, or no detail", what);
	j = vh_api_problem_json(p, "/v1/vms/x");
	if (!j)
		die("%s: no problem JSON", what);
	if (vh_api_parse(j, strlen(j), &o, &q))
		die("%s: problem JSON %s does not parse: %s", what, j, q.detail);
	json_object_put(o);
	free(j);
}

static const enum vh_api_code field_codes[] = { VH_API_INVALID_FIELD, VH_API_MISSING_FIELD };
static const enum vh_api_code parse_codes[] = { VH_API_BAD_JSON, VH_API_TOO_LARGE };

static void base_config(struct vh_vm_config *c, uint64_t *balloon)
{
	static const char body[] =
		"{\"name\":\"web1\",\"uuid\":\"6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7a1b2c\",\"vcpus\":2,"
		"\"memory_mib\":256,\"cpu\":{\"shares\":\"high\",\"reservation_mhz\":500},"
		"\"memory\":{\"reservation_mib\":128,\"limit_mib\":200},"
		"\"boot\":{\"kernel\":\"spinner.elf\",\"modules\":[{\"image\":\"m\"}]},"
		"\"devices\":[\"uart16550\",\"balloon\"],\"balloon\":{\"target_mib\":16}}";
	struct json_object *o = NULL;
	struct vh_api_problem p;

	if (vh_api_parse(body, sizeof(body) - 1, &o, &p) || vh_api_vm_from_json(o, c, balloon, &p))
		die("the base VM does not define: %s", p.detail);
	json_object_put(o);
}

static void check_definition(struct json_object *body)
{
	struct vh_vm_config c, again;
	struct vh_api_problem p;
	struct vh_error err;
	uint64_t balloon = 1, balloon2 = 2;

	/* memcmp below: padding must not differ. */
	memset(&c, 0, sizeof(c));
	memset(&again, 0, sizeof(again));
	if (vh_api_vm_from_json(body, &c, &balloon, &p)) {
		check_problem(&p, field_codes, 2, "vm_from_json");
		return;
	}
	if (vh_vm_config_validate(&c, &err))
		die("vm_from_json accepted what the core refuses: %s", err.reason);
	/* The persisted form reads back to the very same definition. */
	struct json_object *j = vh_api_vm_config_to_json(&c, balloon);
	struct json_object *back = reparse(j, "vm_config_to_json");
	json_object_put(j);
	if (vh_api_vm_from_json(back, &again, &balloon2, &p))
		die("the persisted form does not read back: %s", p.detail);
	if (memcmp(&c, &again, sizeof(c)) || balloon != balloon2)
		die("the persisted form reads back different");
	json_object_put(back);
	/* The resource as the agent would serve it. */
	struct vh_proto_vm_info info;
	memset(&info, 0, sizeof(info));
	info.config = c;
	memcpy(info.summary.name, c.name, sizeof(c.name));
	info.summary.state = VH_VM_RUNNING;
	j = vh_api_vm_to_json(&info);
	json_object_put(reparse(j, "vm_to_json"));
	json_object_put(j);
}

static void check_patch(struct json_object *body, bool running)
{
	struct vh_vm_config c, before;
	struct vh_api_problem p;
	struct vh_error err;
	uint64_t balloon, balloon_before;
	unsigned what = 0xdead;
	static const enum vh_api_code codes[] = { VH_API_INVALID_FIELD, VH_API_MISSING_FIELD,
						  VH_API_CONFLICT };

	memset(&c, 0, sizeof(c));
	base_config(&c, &balloon);
	memcpy(&before, &c, sizeof(c));
	balloon_before = balloon;
	if (vh_api_vm_patch(body, running, &c, &balloon, &what, &p)) {
		check_problem(&p, codes, 3, "vm_patch");
		if (memcmp(&c, &before, sizeof(c)) || balloon != balloon_before || what != 0xdead)
			die("a refused patch changed the definition");
		if (p.code == VH_API_CONFLICT && !running)
			die("a conflict on a stopped VM");
		return;
	}
	if (vh_vm_config_validate(&c, &err))
		die("vm_patch accepted what the core refuses: %s", err.reason);
	if (running && (what & VH_API_PATCH_OFFLINE))
		die("a patch changed offline members of a running VM");
	if (what &
	    ~(VH_API_PATCH_CPU | VH_API_PATCH_MEM | VH_API_PATCH_BALLOON | VH_API_PATCH_OFFLINE))
		die("unknown bits in what: %#x", what);
	if (!(what & VH_API_PATCH_OFFLINE) &&
	    (strcmp(c.name, before.name) || c.vcpus != before.vcpus ||
	     c.memory_mib != before.memory_mib))
		die("offline members changed without VH_API_PATCH_OFFLINE");
	if (!(what & VH_API_PATCH_BALLOON) && balloon != balloon_before)
		die("the balloon changed without VH_API_PATCH_BALLOON");
}

static void check_controls(struct json_object *body)
{
	struct vh_cpu_controls cc, cc2;
	struct vh_mem_controls mc, mc2;
	struct vh_api_problem p;
	struct json_object *j, *back;

	memset(&cc, 0, sizeof(cc));
	memset(&cc2, 0, sizeof(cc2));
	memset(&mc, 0, sizeof(mc));
	memset(&mc2, 0, sizeof(mc2));

	if (vh_api_cpu_from_json(body, &cc, &p) == 0) {
		if (cc.reservation_mhz > cc.limit_mhz)
			die("cpu: reservation above limit accepted");
		j = vh_api_cpu_to_json(&cc);
		back = reparse(j, "cpu_to_json");
		if (vh_api_cpu_from_json(back, &cc2, &p) || memcmp(&cc, &cc2, sizeof(cc)))
			die("cpu controls do not round-trip");
		json_object_put(j);
		json_object_put(back);
	} else {
		check_problem(&p, field_codes, 2, "cpu_from_json");
	}
	if (vh_api_mem_from_json(body, &mc, &p) == 0) {
		if (mc.reservation_mib > mc.limit_mib)
			die("memory: reservation above limit accepted");
		j = vh_api_mem_to_json(&mc);
		back = reparse(j, "mem_to_json");
		if (vh_api_mem_from_json(back, &mc2, &p) || memcmp(&mc, &mc2, sizeof(mc)))
			die("memory controls do not round-trip");
		json_object_put(j);
		json_object_put(back);
	} else {
		check_problem(&p, field_codes, 2, "mem_from_json");
	}
	struct vh_shares s;
	if (vh_api_shares_from_json(body, "cpu.shares", &s, &p) == 0) {
		j = vh_api_shares_to_json(&s);
		json_object_put(j);
	} else {
		check_problem(&p, field_codes, 2, "shares_from_json");
	}
}

static void check_strings(const char *s)
{
	struct vh_api_problem p;
	struct vh_proto_vm_ref ref;
	uint8_t u[16], u2[16];
	uint64_t v, v2;
	char buf[40];

	vh_api_vm_ref(s, &ref);
	if (strnlen(ref.name, sizeof(ref.name)) == sizeof(ref.name))
		die("vm_ref: name not terminated");
	if (vh_api_uuid_parse(s, u) == 0) {
		char f[37];
		vh_api_uuid_format(u, f);
		if (vh_api_uuid_parse(f, u2) || memcmp(u, u2, 16) || vh_api_name_valid(s))
			die("uuid \"%s\" does not round-trip or passes as a name", s);
	}
	if (vh_api_name_valid(s) && (strlen(s) >= VH_VM_NAME_MAX || !vh_api_image_name_valid(s)))
		die("name \"%s\" valid but too long or not an image name", s);
	if (vh_api_parse_mib(s, &v, &p, "memory_mib") == 0) {
		vh_api_format_mib(v, buf, sizeof(buf));
		if (v != UINT64_MAX && (vh_api_parse_mib(buf, &v2, &p, "x") || v2 != v))
			die("\"%s\" = %llu MiB prints as \"%s\" which reads back differently", s,
			    (unsigned long long)v, buf);
	} else {
		check_problem(&p, field_codes, 2, "parse_mib");
	}
	if (vh_api_parse_mhz(s, &v, &p, "cpu.limit_mhz"))
		check_problem(&p, field_codes, 2, "parse_mhz");
	int st = vh_api_state_from_name(s);
	if (st >= 0 && strcmp(vh_api_state_name((uint32_t)st), s))
		die("state \"%s\" does not round-trip", s);
	(void)vh_api_code_from_name(s);
}

static void check_proto_error(const uint8_t *data, size_t size)
{
	struct vh_proto_error e;
	struct vh_api_problem p;
	static const enum vh_api_code all[] = {
		VH_API_INVALID_FIELD, VH_API_NOT_FOUND, VH_API_CONFLICT, VH_API_ADMISSION,
		VH_API_LIMIT, VH_API_BUSY, VH_API_INTERNAL,
	};

	memset(&e, 0, sizeof(e));
	e.code = size ? data[0] % 16 : 0;
	if (size > 1) {
		size_t n = size - 1 < sizeof(e.field) - 1 ? size - 1 : sizeof(e.field) - 1;
		memcpy(e.field, data + 1, n);
		n = size - 1 < sizeof(e.reason) - 1 ? size - 1 : sizeof(e.reason) - 1;
		memcpy(e.reason, data + 1, n);
	}
	vh_api_from_proto_error(&e, &p);
	check_problem(&p, all, sizeof(all) / sizeof(all[0]), "from_proto_error");
}

/* The power, token and disk bodies: an accepted one is within its enums,
 * names a valid token or disk name and a disk size of whole sectors; a
 * refusal names a field. */
static void check_small_bodies(struct json_object *body)
{
	struct vh_api_power pw = { .state = VH_API_POWER_COUNT };
	struct vh_api_token_request tk;
	struct vh_api_problem p;

	memset(&p, 0, sizeof(p));
	if (vh_api_power_from_json(body, &pw, &p) == 0) {
		if ((unsigned)pw.state >= VH_API_POWER_COUNT)
			die("power: accepted state %d out of range", (int)pw.state);
	} else {
		check_problem(&p, field_codes, 2, "power");
	}
	memset(&p, 0, sizeof(p));
	memset(&tk, 0xa5, sizeof(tk));
	if (vh_api_token_request_from_json(body, &tk, &p) == 0) {
		if (!memchr(tk.name, 0, sizeof(tk.name)) || !vh_api_name_valid(tk.name) ||
		    (strcmp(tk.role, "viewer") && strcmp(tk.role, "operator") &&
		     strcmp(tk.role, "admin")))
			die("token: accepted a bad name or role");
	} else {
		check_problem(&p, field_codes, 2, "token");
	}
	for (int with_name = 0; with_name < 2; with_name++) {
		struct vh_api_disk_request dk;

		memset(&p, 0, sizeof(p));
		if (vh_api_disk_request_from_json(body, with_name, &dk, &p) == 0) {
			if (!dk.size || dk.size % 512 || dk.size > VH_API_DISK_MAX_BYTES ||
			    (with_name ? !vh_vm_name_valid(dk.name) : dk.name[0] != '\0'))
				die("disk: accepted a bad name or size");
		} else {
			check_problem(&p, field_codes, 2, "disk");
		}
	}
}

/* What-if against a fixed live host of two VMs: an accepted request
 * gives a scenario with a line for each change; a refusal names a field
 * with a code the real requests use.  The same bytes as a simulator's
 * report give a reply that parses strictly, or an internal error. */
static void check_whatif(struct json_object *body, const char *raw)
{
	static const enum vh_api_code codes[] = { VH_API_INVALID_FIELD, VH_API_MISSING_FIELD,
						  VH_API_NOT_FOUND, VH_API_CONFLICT,
						  VH_API_LIMIT };
	static const enum vh_api_code internal[] = { VH_API_INTERNAL };
	struct vh_proto_host_info hi = { .pcpus = 2, .mhz_per_pcpu = 1000, .max_vms = 8,
					 .memory_bytes = 64ull << 20 };
	struct vh_api_diag_vm vms[2];
	struct vh_api_whatif_input in = { .hi = &hi, .window_ns = 1000000000, .vms = vms,
					  .nvms = 2 };
	struct vh_api_whatif *w = calloc(1, sizeof(*w));
	struct vh_api_problem p;
	struct json_object *r;
	char *sc;

	if (!w)
		die("whatif: out of memory");
	memset(vms, 0, sizeof(vms));
	for (int i = 0; i < 2; i++) {
		snprintf(vms[i].s.name, sizeof(vms[i].s.name), "vm%d", i);
		vms[i].s.state = VH_VM_RUNNING;
		vms[i].s.vcpus = 1;
		vms[i].s.memory_mib = 16;
		vms[i].s.cpu.limit_mhz = VH_UNLIMITED;
		vms[i].s.mem.limit_mib = VH_UNLIMITED;
		vms[i].b.cpu.used_ns = 300000000;
		vms[i].b.cpu.wait_ns = 700000000;
	}
	memset(&p, 0, sizeof(p));
	if (body && vh_api_whatif_from_json(body, &in, w, &p) == 0) {
		if (!(sc = vh_api_whatif_scenario(&in, w)))
			die("whatif: no scenario");
		for (size_t i = 0; i < w->nchanges; i++)
			if (!w->changes[i].line)
				die("whatif: change %zu has no line", i);
		free(sc);
	} else if (body) {
		check_problem(&p, codes, sizeof(codes) / sizeof(codes[0]), "whatif");
	}
	memset(&p, 0, sizeof(p));
	if ((r = vh_api_whatif_reply(&in, w, raw, &p)))
		json_object_put(reparse(r, "whatif reply")), json_object_put(r);
	else
		check_problem(&p, internal, 1, "whatif reply");
	vh_api_whatif_free(w);
	free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL;
	struct vh_api_problem p;
	char s[201];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	if (vh_api_parse((const char *)data, size, &o, &p) == 0) {
		char *raw = malloc(size + 1);
		check_definition(o);
		check_patch(o, false);
		check_patch(o, true);
		check_controls(o);
		check_small_bodies(o);
		if (!raw)
			die("out of memory");
		memcpy(raw, data, size);
		raw[size] = '\0';
		check_whatif(o, raw);
		free(raw);
		json_object_put(o);
	} else {
		if (o)
			die("a refused parse returned an object");
		check_problem(&p, parse_codes, 2, "parse");
	}
	memcpy(s, data, n);
	s[n] = '\0';
	check_strings(s);
	check_proto_error(data, size);
	return 0;
}
