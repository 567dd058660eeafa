/* SPDX-License-Identifier: Apache-2.0 */
/* The VM object to JSON (the resource, list entries, the persisted
 * definition), and the names that identify VMs: states, uuids, VM names,
 * image names and path segments. */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

/* ---- identifiers ---------------------------------------------------------- */

const char *vh_api_state_name(uint32_t state)
{
	return state < VH_VM_STATE_COUNT ? vh_vm_state_name((enum vh_vm_state)state) : "unknown";
}

int vh_api_state_from_name(const char *name)
{
	for (uint32_t s = 0; name && s < VH_VM_STATE_COUNT; s++) {
		if (!strcmp(name, vh_vm_state_name((enum vh_vm_state)s)))
			return (int)s;
	}
	return -1;
}

void vh_api_uuid_format(const uint8_t uuid[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 15];
	}
	out[o] = '\0';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vh_api_uuid_parse(const char *s, uint8_t uuid[16])
{
	uint8_t u[16];
	size_t o = 0;

	if (!s || strlen(s) != 36)
		return -1;
	for (size_t i = 0; i < 36;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -1;
			continue;
		}
		int hi = hex_val(s[i]), lo = hex_val(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		u[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(uuid, u, sizeof(u));
	return 0;
}

/* A name that fits the charset is never a path to elsewhere: no '/', and
 * the first character is a letter or digit (so never "." or ".."). */
static bool charset_ok(const char *s, size_t max_len)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > max_len)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

bool vh_api_name_valid(const char *name)
{
	uint8_t u[16];

	return charset_ok(name, VH_VM_NAME_MAX - 1) && vh_api_uuid_parse(name, u) != 0;
}

bool vh_api_image_name_valid(const char *name)
{
	/* 63, as VM names: the image store keeps names in 64-byte fields. */
	return charset_ok(name, 63);
}

void vh_api_vm_ref(const char *segment, struct vh_proto_vm_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	if (vh_api_uuid_parse(segment, ref->uuid) == 0) {
		ref->kind = VH_PROTO_REF_UUID;
		return;
	}
	ref->kind = VH_PROTO_REF_NAME;
	/* A segment too long to be a name stays empty: the hypervisor then
	 * refuses the reference instead of finding a VM by a cut name. */
	if (strlen(segment) < sizeof(ref->name))
		vh_api_copy_str(ref->name, sizeof(ref->name), segment);
}

/* ---- to JSON -------------------------------------------------------------- */

static struct json_object *uuid_json(const uint8_t uuid[16])
{
	char s[37];

	vh_api_uuid_format(uuid, s);
	return json_object_new_string(s);
}

static struct json_object *boot_json(const struct vh_boot_config *b)
{
	struct json_object *o = json_object_new_object(), *mods = json_object_new_array();
	bool ok = o && mods;

	for (uint32_t i = 0; ok && i < b->nmodules && i < VH_BOOT_MAX_MODULES; i++) {
		struct json_object *m = json_object_new_object();
		ok = m != NULL;
		ok = ok && vh_api_add(m, "image", json_object_new_string(b->modules[i].image));
		ok = ok && vh_api_add(m, "cmdline", json_object_new_string(b->modules[i].args));
		if (!ok || json_object_array_add(mods, m)) {
			json_object_put(m);
			ok = false;
		}
	}
	if (ok) {
		const char *kind = vh_api_boot_kind_name(b->kind);
		ok &= vh_api_add(o, "kernel", json_object_new_string(b->kernel));
		ok &= vh_api_add(o, "initrd", json_object_new_string(b->initrd));
		ok &= vh_api_add(o, "cmdline", json_object_new_string(b->cmdline));
		ok &= vh_api_add(o, "kind", json_object_new_string(kind ? kind : "auto"));
		ok &= vh_api_add(o, "modules", mods);
		mods = NULL;
	}
	json_object_put(mods);
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *devices_json(const struct vh_vm_config *c)
{
	struct json_object *a = json_object_new_array();

	for (uint32_t i = 0; a && i < c->ndevices && i < VH_VM_MAX_DEVICES; i++) {
		const char *name = vh_api_device_name(c->devices[i].type);
		struct json_object *s = json_object_new_string(name ? name : "unknown");
		if (!s || json_object_array_add(a, s)) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/* disks: [{"disk", "readonly"}] in boot order, as vm_model.c reads it. */
static struct json_object *disks_json(const struct vh_vm_config *c)
{
	struct json_object *a = json_object_new_array();

	for (uint32_t i = 0; a && i < c->ndisks && i < VH_VM_MAX_DISKS; i++) {
		struct json_object *d = json_object_new_object();
		char name[VH_DISK_NAME_MAX];
		bool ok = d != NULL;

		/* The hypervisor terminates its names; a caller's may not. */
		memcpy(name, c->disks[i].name, sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		ok = ok && vh_api_add(d, "disk", json_object_new_string(vh_api_utf8_clean(name)));
		ok = ok && vh_api_add(d, "readonly",
				      json_object_new_boolean(
					  (c->disks[i].flags & VH_DISK_F_READONLY) != 0));
		if (!ok || json_object_array_add(a, d)) {
			json_object_put(d);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *balloon_json(uint64_t target_mib)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (target_mib == UINT64_MAX
		? json_object_object_add(o, "target_mib", NULL) != 0
		: !vh_api_add(o, "target_mib", json_object_new_uint64(target_mib))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static bool nil_uuid(const uint8_t u[16])
{
	static const uint8_t nil[16];

	return !memcmp(u, nil, sizeof(nil));
}

/* The members of the VM object that a definition holds. */
static bool add_config(struct json_object *o, const struct vh_vm_config *c, bool with_boot)
{
	const char *cs = vh_api_cosched_name((uint32_t)c->cosched);
	char name[VH_VM_NAME_MAX];
	bool ok = true;

	/* The hypervisor terminates its names; a caller's struct may not. */
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(c->name), c->name);
	ok &= vh_api_add(o, "name", json_object_new_string(vh_api_utf8_clean(name)));
	if (!nil_uuid(c->uuid))
		ok &= vh_api_add(o, "uuid", uuid_json(c->uuid));
	ok &= vh_api_add(o, "vcpus", json_object_new_uint64(c->vcpus));
	ok &= vh_api_add(o, "memory_mib", json_object_new_uint64(c->memory_mib));
	ok &= vh_api_add(o, "cpu", vh_api_cpu_to_json(&c->cpu));
	ok &= vh_api_add(o, "memory", vh_api_mem_to_json(&c->mem));
	ok &= vh_api_add(o, "cosched", json_object_new_string(cs ? cs : "unknown"));
	if (with_boot) {
		ok &= vh_api_add(o, "boot", boot_json(&c->boot));
		ok &= vh_api_add(o, "devices", devices_json(c));
		ok &= vh_api_add(o, "disks", disks_json(c));
	}
	return ok;
}

static struct json_object *finish(struct json_object *o, bool ok)
{
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *vh_api_vm_config_to_json(const struct vh_vm_config *cfg,
					     uint64_t balloon_target_mib)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && add_config(o, cfg, true);
	ok = ok && vh_api_add(o, "balloon", balloon_json(balloon_target_mib));
	return finish(o, ok);
}

/* The state and the read-only counters of a summary. */
static bool add_status(struct json_object *o, const struct vh_proto_vm_summary *s)
{
	bool ok = true;

	ok &= vh_api_add(o, "balloon", balloon_json(s->balloon_request_pages / VH_PAGES_PER_MIB));
	ok &= vh_api_add(o, "state", json_object_new_string(vh_api_state_name(s->state)));
	ok &= vh_api_add(o, "state_changes", json_object_new_uint64(s->state_changes));
	ok &= vh_api_add(o, "boot_generation", json_object_new_uint64(s->boot_generation));
	return ok;
}

struct json_object *vh_api_vm_to_json(const struct vh_proto_vm_info *info)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && add_config(o, &info->config, true);
	ok = ok && add_status(o, &info->summary);
	return finish(o, ok);
}

struct json_object *vh_api_vm_summary_to_json(const struct vh_proto_vm_summary *s)
{
	struct json_object *o = json_object_new_object();
	struct vh_vm_config c;
	bool ok = o != NULL;

	/* The summary carries the definition's members but boot, devices and disks. */
	memset(&c, 0, sizeof(c));
	memcpy(c.name, s->name, sizeof(c.name));
	memcpy(c.uuid, s->uuid, sizeof(c.uuid));
	c.vcpus = s->vcpus;
	c.memory_mib = s->memory_mib;
	c.cpu = s->cpu;
	c.mem = s->mem;
	c.cosched = (enum vh_cosched_mode)s->cosched;
	ok = ok && add_config(o, &c, false);
	ok = ok && add_status(o, s);
	return finish(o, ok);
}
