/* SPDX-License-Identifier: Apache-2.0 */
/* The VM object from JSON: POST /v1/vms (a whole VM onto the defaults)
 * and PATCH /v1/vms/{vm} (an RFC 7396 merge patch onto the current
 * definition) are one merge: present members change, null restores a
 * member's default, unknown members are refused, and the result passes
 * the core's own vh_vm_config_validate before anything is written. */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

/* The VM object's members, in the order they are checked (so the field
 * named for a body with several faults is predictable). */
static const char *const vm_keys[] = {
	"name", "uuid", "vcpus", "memory_mib", "cpu", "memory", "cosched", "boot", "devices",
	"disks", "balloon", "state", "state_changes", "boot_generation", NULL,
};
static const char *const read_only_keys[] = { "state", "state_changes", "boot_generation", NULL };
static const char *const boot_keys[] = { "kernel", "initrd", "cmdline", "kind", "modules", NULL };
static const char *const module_keys[] = { "image", "cmdline", NULL };
static const char *const balloon_keys[] = { "target_mib", NULL };
static const char *const disk_keys[] = { "disk", "readonly", NULL };

static const char *const cosched_names[] = {
	[VH_COSCHED_RELAXED] = "relaxed",
	[VH_COSCHED_STRICT] = "strict",
	[VH_COSCHED_NONE] = "none",
};

/* Device names as docs/protocol.md spells them. */
static const char *const device_names[] = {
	[VH_DEV_UART16550] = "uart16550",
	[VH_DEV_DEBUG_EXIT] = "debug_exit",
	[VH_DEV_FW_CFG] = "fw_cfg",
	[VH_DEV_BALLOON] = "balloon",
};

/* boot.kind: the image's kind from its contents, or a raw binary. */
static const char *const boot_kind_names[] = {
	[VH_BOOT_KIND_AUTO] = "auto",
	[VH_BOOT_KIND_RAW16] = "raw16",
	[VH_BOOT_KIND_RAW32] = "raw32",
};

const char *vh_api_boot_kind_name(uint32_t kind)
{
	return kind < sizeof(boot_kind_names) / sizeof(boot_kind_names[0]) ? boot_kind_names[kind]
									   : NULL;
}

const char *vh_api_cosched_name(uint32_t mode)
{
	return mode < sizeof(cosched_names) / sizeof(cosched_names[0]) ? cosched_names[mode] : NULL;
}

const char *vh_api_device_name(uint32_t type)
{
	return type >= 1 && type < sizeof(device_names) / sizeof(device_names[0])
		   ? device_names[type]
		   : NULL;
}

static bool is_null(struct json_object *v)
{
	return json_object_is_type(v, json_type_null);
}

/* An image name member: "" or null is none, else vh_api_image_name_valid. */
static int image_member(struct json_object *obj, const char *key, const char *field, bool required,
			char *dst, size_t cap, struct vh_api_problem *p)
{
	struct json_object *v;
	const char *s = NULL;

	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			return vh_api_fail(p, VH_API_MISSING_FIELD, field, "%s: required", field);
		return 0;
	}
	if (!is_null(v) && vh_api_get_string(obj, key, field, cap - 1, required, &s, p))
		return -1;
	if ((s && s[0]) ? !vh_api_image_name_valid(s) : required)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field,
				   "%s: an image name is 1..%zu letters, digits, '.', '_' or '-', "
				   "starting with a letter or digit",
				   field, cap - 1);
	vh_api_copy_str(dst, cap, s ? s : "");
	return 0;
}

/* A free-text member: null is "". */
static int text_member(struct json_object *obj, const char *key, const char *field, char *dst,
		       size_t cap, struct vh_api_problem *p)
{
	struct json_object *v;
	const char *s = "";

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!is_null(v) && vh_api_get_string(obj, key, field, cap - 1, false, &s, p))
		return -1;
	vh_api_copy_str(dst, cap, s);
	return 0;
}

static int merge_modules(struct json_object *v, struct vh_boot_config *b, struct vh_api_problem *p)
{
	struct vh_boot_config n = *b;
	char field[VH_API_FIELD_MAX];

	memset(n.modules, 0, sizeof(n.modules));
	n.nmodules = 0;
	if (!is_null(v)) {
		if (!json_object_is_type(v, json_type_array))
			return vh_api_fail(p, VH_API_INVALID_FIELD, "boot.modules",
					   "boot.modules: must be an array");
		size_t count = json_object_array_length(v);
		if (count > VH_BOOT_MAX_MODULES)
			return vh_api_fail(p, VH_API_INVALID_FIELD, "boot.modules",
					   "boot.modules: %zu modules, at most %u", count,
					   VH_BOOT_MAX_MODULES);
		for (size_t i = 0; i < count; i++) {
			struct json_object *m = json_object_array_get_idx(v, i);
			struct vh_boot_module *bm = &n.modules[i];
			snprintf(field, sizeof(field), "boot.modules[%zu]", i);
			if (vh_api_only_keys(m, field, module_keys, p))
				return -1;
			snprintf(field, sizeof(field), "boot.modules[%zu].image", i);
			if (image_member(m, "image", field, true, bm->image, sizeof(bm->image), p))
				return -1;
			snprintf(field, sizeof(field), "boot.modules[%zu].cmdline", i);
			if (text_member(m, "cmdline", field, bm->args, sizeof(bm->args), p))
				return -1;
		}
		n.nmodules = (uint32_t)count;
	}
	*b = n;
	return 0;
}

static int merge_boot(struct json_object *v, struct vh_boot_config *b, struct vh_api_problem *p)
{
	struct vh_boot_config n = *b;
	struct json_object *m;

	if (is_null(v)) {
		memset(b, 0, sizeof(*b));
		return 0;
	}
	if (vh_api_only_keys(v, "boot", boot_keys, p) ||
	    image_member(v, "kernel", "boot.kernel", false, n.kernel, sizeof(n.kernel), p) ||
	    image_member(v, "initrd", "boot.initrd", false, n.initrd, sizeof(n.initrd), p) ||
	    text_member(v, "cmdline", "boot.cmdline", n.cmdline, sizeof(n.cmdline), p))
		return -1;
	if (json_object_object_get_ex(v, "kind", &m)) {
		uint32_t k = 0;
		if (!is_null(m) && json_object_is_type(m, json_type_string)) {
			while (k <= VH_BOOT_KIND_MAX &&
			       strcmp(json_object_get_string(m), boot_kind_names[k]))
				k++;
		} else if (!is_null(m)) {
			k = VH_BOOT_KIND_MAX + 1;
		}
		if (k > VH_BOOT_KIND_MAX)
			return vh_api_fail(p, VH_API_INVALID_FIELD, "boot.kind",
					   "boot.kind: must be auto, raw16 or raw32");
		n.kind = k;
	}
	if (json_object_object_get_ex(v, "modules", &m) && merge_modules(m, &n, p))
		return -1;
	*b = n;
	return 0;
}

static int set_devices(struct json_object *v, struct vh_vm_config *c, struct vh_api_problem *p)
{
	struct vh_vm_config d;
	char field[VH_API_FIELD_MAX];

	if (is_null(v)) {
		vh_vm_config_default(&d);
		c->ndevices = d.ndevices;
		memcpy(c->devices, d.devices, sizeof(c->devices));
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "devices",
				   "devices: must be an array of device names");
	size_t count = json_object_array_length(v);
	if (count > VH_VM_MAX_DEVICES)
		return vh_api_fail(p, VH_API_INVALID_FIELD, "devices", "devices: %zu, at most %u",
				   count, VH_VM_MAX_DEVICES);
	memset(d.devices, 0, sizeof(d.devices));
	for (size_t i = 0; i < count; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		const char *name =
		    json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;
		uint32_t t;
		snprintf(field, sizeof(field), "devices[%zu]", i);
		for (t = 1; name && t < sizeof(device_names) / sizeof(device_names[0]); t++) {
			if (!strcmp(name, device_names[t]))
				break;
		}
		if (!name || t == sizeof(device_names) / sizeof(device_names[0]))
			return vh_api_fail(p, VH_API_INVALID_FIELD, field,
					   "%s: must be uart16550, debug_exit, fw_cfg or balloon",
					   field);
		for (size_t j = 0; j < i; j++) {
			if (d.devices[j].type == t)
				return vh_api_fail(p, VH_API_INVALID_FIELD, field,
						   "%s: %s appears twice", field, name);
		}
		d.devices[i].type = t;
	}
	c->ndevices = (uint32_t)count;
	memcpy(c->devices, d.devices, sizeof(c->devices));
	return 0;
}

/* disks: [{"disk": NAME, "readonly": BOOL}] in boot order; null or []
 * is none.  Whether each disk exists, and who else holds it, is the
 * agent's to check (the datastore is not the model's). */
static int set_disks(struct json_object *v, struct vh_vm_config *c, struct vh_api_problem *p)
{
	struct vh_disk_config d[VH_VM_MAX_DISKS];
	char field[VH_API_FIELD_MAX];
	size_t count = 0;

	memset(d, 0, sizeof(d));
	if (!is_null(v)) {
		if (!json_object_is_type(v, json_type_array))
			return vh_api_fail(p, VH_API_INVALID_FIELD, "disks",
					   "disks: must be an array of {\"disk\", \"readonly\"}");
		count = json_object_array_length(v);
		if (count > VH_VM_MAX_DISKS)
			return vh_api_fail(p, VH_API_INVALID_FIELD, "disks",
					   "disks: %zu disks, at most %u", count, VH_VM_MAX_DISKS);
	}
	for (size_t i = 0; i < count; i++) {
		struct json_object *e = json_object_array_get_idx(v, i), *ro;
		const char *name;
		snprintf(field, sizeof(field), "disks[%zu]", i);
		if (vh_api_only_keys(e, field, disk_keys, p))
			return -1;
		snprintf(field, sizeof(field), "disks[%zu].disk", i);
		if (vh_api_get_string(e, "disk", field, VH_DISK_NAME_MAX - 1, true, &name, p))
			return -1;
		if (!vh_vm_name_valid(name))
			return vh_api_fail(p, VH_API_INVALID_FIELD, field,
					   "%s: \"%s\" is not a disk name (1..%u letters, digits, "
					   "'.', '_' or '-', starting with a letter or digit)",
					   field, name, VH_DISK_NAME_MAX - 1);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(d[j].name, name))
				return vh_api_fail(p, VH_API_INVALID_FIELD, field,
						   "%s: disk \"%s\" is attached twice (also "
						   "disks[%zu])",
						   field, name, j);
		vh_api_copy_str(d[i].name, sizeof(d[i].name), name);
		if (json_object_object_get_ex(e, "readonly", &ro) && !is_null(ro)) {
			snprintf(field, sizeof(field), "disks[%zu].readonly", i);
			if (!json_object_is_type(ro, json_type_boolean))
				return vh_api_fail(p, VH_API_INVALID_FIELD, field,
						   "%s: must be true or false", field);
			if (json_object_get_boolean(ro))
				d[i].flags |= VH_DISK_F_READONLY;
		}
	}
	c->ndisks = (uint32_t)count;
	memcpy(c->disks, d, sizeof(c->disks));
	return 0;
}

static int set_cosched(struct json_object *v, struct vh_vm_config *c, struct vh_api_problem *p)
{
	if (is_null(v)) {
		c->cosched = VH_COSCHED_RELAXED;
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		for (uint32_t i = 0; i < sizeof(cosched_names) / sizeof(cosched_names[0]); i++) {
			if (!strcmp(json_object_get_string(v), cosched_names[i])) {
				c->cosched = (enum vh_cosched_mode)i;
				return 0;
			}
		}
	}
	return vh_api_fail(p, VH_API_INVALID_FIELD, "cosched",
			   "cosched: must be relaxed, strict or none");
}

static int set_balloon(struct json_object *v, uint64_t *balloon, struct vh_api_problem *p)
{
	if (is_null(v)) {
		*balloon = UINT64_MAX;
		return 0;
	}
	if (vh_api_only_keys(v, "balloon", balloon_keys, p))
		return -1;
	return vh_api_get_u64_or_null(v, "target_mib", "balloon.target_mib", 0,
				      VH_VM_MAX_MEMORY_MIB, UINT64_MAX, balloon, p);
}

static int set_name(struct json_object *obj, bool create, struct vh_vm_config *c,
		    struct vh_api_problem *p)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(obj, "name", &v)) {
		if (create)
			return vh_api_fail(p, VH_API_MISSING_FIELD, "name", "name: required");
		return 0;
	}
	if (is_null(v))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "name", "name: cannot be removed");
	if (vh_api_get_string(obj, "name", "name", VH_VM_NAME_MAX - 1, true, &s, p))
		return -1;
	if (!vh_api_name_valid(s))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "name",
				   "name: 1..%u letters, digits, '.', '_' or '-', starting with a "
				   "letter or digit, and not shaped like a uuid",
				   VH_VM_NAME_MAX - 1);
	vh_api_copy_str(c->name, sizeof(c->name), s);
	return 0;
}

static int set_uuid(struct json_object *obj, bool create, struct vh_vm_config *c,
		    struct vh_api_problem *p)
{
	static const uint8_t nil[16];
	struct json_object *v;
	const char *s;
	uint8_t u[16];

	if (!json_object_object_get_ex(obj, "uuid", &v))
		return 0;
	if (is_null(v)) {
		if (!create)
			return vh_api_fail(p, VH_API_INVALID_FIELD, "uuid",
					   "uuid: cannot be removed");
		memset(c->uuid, 0, sizeof(c->uuid)); /* the hypervisor makes one */
		return 0;
	}
	if (vh_api_get_string(obj, "uuid", "uuid", 36, true, &s, p))
		return -1;
	if (vh_api_uuid_parse(s, u) || !memcmp(u, nil, sizeof(nil)))
		return vh_api_fail(
		    p, VH_API_INVALID_FIELD, "uuid",
		    "uuid: must be a uuid (8-4-4-4-12 hex digits), not the nil uuid");
	if (!create && memcmp(u, c->uuid, sizeof(u)))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "uuid", "uuid: cannot change");
	memcpy(c->uuid, u, sizeof(u));
	return 0;
}

/* Members whose value is an integer or null (null: the default). */
static int set_count(struct json_object *obj, const char *key, uint64_t min, uint64_t max,
		     uint64_t dflt, uint64_t *out, struct vh_api_problem *p)
{
	return vh_api_get_u64_or_null(obj, key, key, min, max, dflt, out, p);
}

static int merge(struct json_object *obj, bool create, struct vh_vm_config *c, uint64_t *balloon,
		 struct vh_api_problem *p)
{
	struct json_object *v;
	uint64_t vcpus = c->vcpus, mib = c->memory_mib;
	struct vh_error err;

	if (vh_api_only_keys(obj, "", vm_keys, p))
		return -1;
	for (size_t i = 0; read_only_keys[i]; i++) {
		if (json_object_object_get_ex(obj, read_only_keys[i], NULL))
			return vh_api_fail(p, VH_API_INVALID_FIELD, read_only_keys[i],
					   "%s: read-only (the hypervisor reports it)",
					   read_only_keys[i]);
	}
	if (set_name(obj, create, c, p) || set_uuid(obj, create, c, p) ||
	    set_count(obj, "vcpus", 1, VH_VM_MAX_VCPUS, 1, &vcpus, p) ||
	    set_count(obj, "memory_mib", VH_VM_MIN_MEMORY_MIB, VH_VM_MAX_MEMORY_MIB, 64, &mib, p))
		return -1;
	c->vcpus = (uint32_t)vcpus;
	c->memory_mib = mib;
	if (json_object_object_get_ex(obj, "cpu", &v)) {
		if (is_null(v))
			c->cpu = (struct vh_cpu_controls){ .shares.level = VH_SHARES_NORMAL,
							   .limit_mhz = VH_UNLIMITED };
		else if (vh_api_merge_cpu(v, &c->cpu, p))
			return -1;
	}
	if (json_object_object_get_ex(obj, "memory", &v)) {
		if (is_null(v))
			c->mem = (struct vh_mem_controls){ .shares.level = VH_SHARES_NORMAL,
							   .limit_mib = VH_UNLIMITED };
		else if (vh_api_merge_mem(v, &c->mem, p))
			return -1;
	}
	if ((json_object_object_get_ex(obj, "cosched", &v) && set_cosched(v, c, p)) ||
	    (json_object_object_get_ex(obj, "boot", &v) && merge_boot(v, &c->boot, p)) ||
	    (json_object_object_get_ex(obj, "devices", &v) && set_devices(v, c, p)) ||
	    (json_object_object_get_ex(obj, "disks", &v) && set_disks(v, c, p)) ||
	    (json_object_object_get_ex(obj, "balloon", &v) && set_balloon(v, balloon, p)))
		return -1;
	/* Rules across members. */
	if (*balloon != UINT64_MAX && *balloon > c->memory_mib)
		return vh_api_fail(p, VH_API_INVALID_FIELD, "balloon.target_mib",
				   "balloon.target_mib: %llu exceeds the VM's memory (%llu MiB)",
				   (unsigned long long)*balloon, (unsigned long long)c->memory_mib);
	if (vh_vm_config_validate(c, &err)) {
		vh_api_from_vh_error(&err, p);
		return -1;
	}
	return 0;
}

int vh_api_vm_from_json(struct json_object *obj, struct vh_vm_config *cfg,
			uint64_t *balloon_target_mib, struct vh_api_problem *p)
{
	struct vh_vm_config c;
	uint64_t balloon = UINT64_MAX;

	vh_vm_config_default(&c);
	if (merge(obj, true, &c, &balloon, p))
		return -1;
	*cfg = c;
	*balloon_target_mib = balloon;
	return 0;
}

static bool boot_equal(const struct vh_boot_config *a, const struct vh_boot_config *b)
{
	if (strcmp(a->kernel, b->kernel) || strcmp(a->cmdline, b->cmdline) ||
	    strcmp(a->initrd, b->initrd) || a->kind != b->kind || a->nmodules != b->nmodules)
		return false;
	for (uint32_t i = 0; i < a->nmodules && i < VH_BOOT_MAX_MODULES; i++) {
		if (strcmp(a->modules[i].image, b->modules[i].image) ||
		    strcmp(a->modules[i].args, b->modules[i].args))
			return false;
	}
	return true;
}

static bool devices_equal(const struct vh_vm_config *a, const struct vh_vm_config *b)
{
	if (a->ndevices != b->ndevices)
		return false;
	for (uint32_t i = 0; i < a->ndevices && i < VH_VM_MAX_DEVICES; i++) {
		if (a->devices[i].type != b->devices[i].type ||
		    a->devices[i].flags != b->devices[i].flags)
			return false;
	}
	return true;
}

static bool disks_equal(const struct vh_vm_config *a, const struct vh_vm_config *b)
{
	if (a->ndisks != b->ndisks)
		return false;
	for (uint32_t i = 0; i < a->ndisks && i < VH_VM_MAX_DISKS; i++)
		if (strcmp(a->disks[i].name, b->disks[i].name) ||
		    a->disks[i].flags != b->disks[i].flags)
			return false;
	return true;
}

static bool shares_equal(const struct vh_shares *a, const struct vh_shares *b)
{
	return a->level == b->level && (a->level != VH_SHARES_CUSTOM || a->custom == b->custom);
}

/* The first member that changes only while the VM is off, or NULL. */
static const char *offline_change(const struct vh_vm_config *a, const struct vh_vm_config *b)
{
	if (strcmp(a->name, b->name))
		return "name";
	if (a->vcpus != b->vcpus)
		return "vcpus";
	if (a->memory_mib != b->memory_mib)
		return "memory_mib";
	if (a->cosched != b->cosched)
		return "cosched";
	if (!boot_equal(&a->boot, &b->boot))
		return "boot";
	if (!devices_equal(a, b))
		return "devices";
	if (!disks_equal(a, b))
		return "disks";
	return NULL;
}

int vh_api_vm_patch(struct json_object *patch, bool running, struct vh_vm_config *cfg,
		    uint64_t *balloon_target_mib, unsigned *what, struct vh_api_problem *p)
{
	struct vh_vm_config c = *cfg;
	uint64_t balloon = *balloon_target_mib;
	const char *offline;
	unsigned w = 0;

	if (!json_object_is_type(patch, json_type_object))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "",
				   "a merge patch of a VM must be a JSON object");
	if (merge(patch, false, &c, &balloon, p))
		return -1;
	offline = offline_change(cfg, &c);
	if (offline && running)
		return vh_api_fail(
		    p, VH_API_CONFLICT, offline,
		    "%s: changes only while the VM is not running or paused: stop it "
		    "first",
		    offline);
	if (!shares_equal(&c.cpu.shares, &cfg->cpu.shares) ||
	    c.cpu.reservation_mhz != cfg->cpu.reservation_mhz ||
	    c.cpu.limit_mhz != cfg->cpu.limit_mhz)
		w |= VH_API_PATCH_CPU;
	if (!shares_equal(&c.mem.shares, &cfg->mem.shares) ||
	    c.mem.reservation_mib != cfg->mem.reservation_mib ||
	    c.mem.limit_mib != cfg->mem.limit_mib)
		w |= VH_API_PATCH_MEM;
	if (balloon != *balloon_target_mib)
		w |= VH_API_PATCH_BALLOON;
	if (offline)
		w |= VH_API_PATCH_OFFLINE;
	*cfg = c;
	*balloon_target_mib = balloon;
	*what = w;
	return 0;
}
