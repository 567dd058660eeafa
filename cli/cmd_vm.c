/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl vm: list, create, show, power (start, stop, pause, resume as
 * PUT /power, which is declarative), reset and delete.  The run-time
 * controls are in cmd_vm_res.c, `vm edit` in cmd_vm_edit.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

int vhctl_check_vm_arg(struct vhctl *c, const char *name)
{
	if (name && *name)
		return 0;
	return vhctl_usage_error(c, "the VM name (or uuid) is empty");
}

/* ---- vm list ------------------------------------------------------------------ */

static void row(struct vhctl_table *t, struct json_object *vm)
{
	char mem[32], cs[32], cr[32], cl[32], ms[32], mr[32], ml[32];

	vhctl_fmt_mib(vhctl_jget(vm, "memory_mib"), mem, sizeof(mem));
	vhctl_fmt_shares(vhctl_jget(vm, "cpu.shares"), cs, sizeof(cs));
	vhctl_fmt_mhz(vhctl_jget(vm, "cpu.reservation_mhz"), cr, sizeof(cr));
	vhctl_fmt_mhz(vhctl_jget(vm, "cpu.limit_mhz"), cl, sizeof(cl));
	vhctl_fmt_shares(vhctl_jget(vm, "memory.shares"), ms, sizeof(ms));
	vhctl_fmt_mib(vhctl_jget(vm, "memory.reservation_mib"), mr, sizeof(mr));
	vhctl_fmt_mib(vhctl_jget(vm, "memory.limit_mib"), ml, sizeof(ml));
	vhctl_table_rowf(t, "%s\t%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", vhctl_jstr(vm, "name"),
			 vhctl_jstr(vm, "state"), (unsigned long long)vhctl_ju64(vm, "vcpus"), mem,
			 cs, cr, cl, ms, mr, ml, vhctl_jstr(vm, "uuid"));
}

static int append_query(char **path, const char *key, const char *val)
{
	char *esc, *np;
	int rc;

	if (!val)
		return 0;
	if (!(esc = vhctl_escape(val)))
		return -1;
	rc = asprintf(&np, "%s%c%s=%s", *path, strchr(*path, '?') ? '&' : '?', key, esc);
	free(esc);
	if (rc < 0)
		return -1;
	free(*path);
	*path = np;
	return 0;
}

int vhctl_vm_all(struct vhctl *c, const char *state, const char *prefix, const char *page_size,
		 struct json_object **out)
{
	/* The page token's names: the contract's, and the first agent's. */
	static const struct {
		const char *reply, *query;
	} tokens[] = { { "next_page_token", "page_token" }, { "next_cursor", "cursor" } };
	struct json_object *all = json_object_new_array(), *page = NULL;
	const char *param = NULL;
	char *next = NULL;
	int rc = 0;

	/* Follow the pages to the end: the list is every VM. */
	do {
		char *path = strdup("/v1/vms");
		struct json_object *items;

		if (!path || append_query(&path, "limit", page_size ? page_size : "1000") ||
		    append_query(&path, "state", state) ||
		    append_query(&path, "name_prefix", prefix) ||
		    (param && append_query(&path, param, next))) {
			free(path);
			fprintf(stderr, "vhctl: out of memory\n");
			rc = VHCTL_ERROR;
			break;
		}
		rc = vhctl_call(c, "GET", path, NULL, NULL, &page, NULL, 0);
		free(path);
		if (rc)
			break;
		items = vhctl_jget(page, "items");
		for (size_t i = 0; items && i < json_object_array_length(items); i++)
			json_object_array_add(all,
					      json_object_get(json_object_array_get_idx(items, i)));
		free(next);
		next = NULL;
		param = NULL;
		for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]) && !next; i++) {
			struct json_object *t = vhctl_jget(page, tokens[i].reply);

			if (t && json_object_is_type(t, json_type_string)) {
				param = tokens[i].query;
				next = strdup(json_object_get_string(t));
			}
		}
		json_object_put(page);
	} while (next);
	free(next);
	if (rc) {
		json_object_put(all);
		all = NULL;
	}
	*out = all;
	return rc;
}

static int vm_list(struct vhctl *c, int argc, char **argv)
{
	static const char *const hdr[] = { "NAME",       "STATE",      ">VCPUS",     ">MEMORY",
					   "CPU-SHARES", ">CPU-RESV",  ">CPU-LIMIT", "MEM-SHARES",
					   ">MEM-RESV",  ">MEM-LIMIT", "UUID" };
	const char *state = NULL, *prefix = NULL, *page_size = NULL;
	const struct vhctl_opt opts[] = {
		{ "state", 0, &state, NULL },
		{ "prefix", 0, &prefix, NULL },
		{ "page-size", 0, &page_size, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_object *all;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, NULL, 0, 0)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_vm_all(c, state, prefix, page_size, &all)))
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "count",
				       json_object_new_uint64(json_object_array_length(all)));
		json_object_object_add(o, "items", all);
		vhctl_print_json(o, false);
		json_object_put(o);
		return VHCTL_OK;
	}
	struct vhctl_table *t = vhctl_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	for (size_t i = 0; i < json_object_array_length(all); i++)
		row(t, json_object_array_get_idx(all, i));
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	json_object_put(all);
	return VHCTL_OK;
}

/* ---- vm show -------------------------------------------------------------------- */

void vhctl_vm_print(struct json_object *vm)
{
	struct vhctl_table *t = vhctl_table_new(2, NULL);
	struct json_object *mods = vhctl_jget(vm, "boot.modules"),
			   *devs = vhctl_jget(vm, "devices"), *disks = vhctl_jget(vm, "disks");
	struct json_object *balloon = vhctl_jget(vm, "balloon.target_mib");
	char a[32], b[32], d[32];

	vhctl_table_rowf(t, "Name:\t%s", vhctl_jstr(vm, "name"));
	vhctl_table_rowf(t, "UUID:\t%s", vhctl_jstr(vm, "uuid"));
	vhctl_table_rowf(t, "State:\t%s (%llu state changes, boot generation %llu)",
			 vhctl_jstr(vm, "state"),
			 (unsigned long long)vhctl_ju64(vm, "state_changes"),
			 (unsigned long long)vhctl_ju64(vm, "boot_generation"));
	vhctl_fmt_mib(vhctl_jget(vm, "memory_mib"), a, sizeof(a));
	vhctl_table_rowf(t, "vCPUs:\t%llu (co-scheduling %s)",
			 (unsigned long long)vhctl_ju64(vm, "vcpus"), vhctl_jstr(vm, "cosched"));
	vhctl_table_rowf(t, "Memory:\t%s", a);
	vhctl_fmt_shares(vhctl_jget(vm, "cpu.shares"), a, sizeof(a));
	vhctl_fmt_mhz(vhctl_jget(vm, "cpu.reservation_mhz"), b, sizeof(b));
	vhctl_fmt_mhz(vhctl_jget(vm, "cpu.limit_mhz"), d, sizeof(d));
	vhctl_table_rowf(t, "CPU:\tshares %s, reservation %s, limit %s", a, b, d);
	vhctl_fmt_shares(vhctl_jget(vm, "memory.shares"), a, sizeof(a));
	vhctl_fmt_mib(vhctl_jget(vm, "memory.reservation_mib"), b, sizeof(b));
	vhctl_fmt_mib(vhctl_jget(vm, "memory.limit_mib"), d, sizeof(d));
	vhctl_table_rowf(t, "Memory controls:\tshares %s, reservation %s, limit %s", a, b, d);
	if (balloon && json_object_is_type(balloon, json_type_int))
		vhctl_fmt_mib(balloon, a, sizeof(a));
	else
		snprintf(a, sizeof(a), "none");
	vhctl_table_rowf(t, "Balloon target:\t%s", a);
	vhctl_table_rowf(t, "Kernel:\t%s", vhctl_jstr(vm, "boot.kernel"));
	vhctl_table_rowf(t, "Initrd:\t%s", vhctl_jstr(vm, "boot.initrd"));
	vhctl_table_rowf(t, "Cmdline:\t%s", vhctl_jstr(vm, "boot.cmdline"));
	for (size_t i = 0; mods && i < json_object_array_length(mods); i++) {
		struct json_object *m = json_object_array_get_idx(mods, i);
		vhctl_table_rowf(t, "Module:\t%s %s", vhctl_jstr(m, "image"),
				 vhctl_jstr(m, "cmdline"));
	}
	if (devs && json_object_is_type(devs, json_type_array)) {
		char list[256] = "";
		size_t used = 0;

		for (size_t i = 0; i < json_object_array_length(devs) && used < sizeof(list); i++)
			used += (size_t)snprintf(
			    list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
			    json_object_get_string(json_object_array_get_idx(devs, i)));
		vhctl_table_rowf(t, "Devices:\t%s", list);
	}
	for (size_t i = 0; disks && i < json_object_array_length(disks); i++) {
		struct json_object *dk = json_object_array_get_idx(disks, i);
		struct json_object *ro = vhctl_jget(dk, "readonly");
		vhctl_table_rowf(t, "Disk %zu:\t%s%s", i, vhctl_jstr(dk, "disk"),
				 ro && json_object_get_boolean(ro) ? " (read-only)" : "");
	}
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
}

/* Prints a VM answer: its JSON, or the listing, or one short line. */
static void print_vm(struct vhctl *c, struct json_object *vm, const char *line)
{
	if (c->out == VHCTL_OUT_JSON)
		vhctl_print_json(vm, false);
	else if (line)
		printf("%s\n", line);
	else
		vhctl_vm_print(vm);
}

static int vm_show(struct vhctl *c, int argc, char **argv)
{
	const char *name;
	struct json_object *vm;
	char *path;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	path = vhctl_path("/v1/vms/", name, NULL);
	rc = vhctl_call(c, "GET", path, NULL, NULL, &vm, NULL, 0);
	free(path);
	if (rc)
		return rc;
	print_vm(c, vm, NULL);
	json_object_put(vm);
	return VHCTL_OK;
}

/* ---- vm create ------------------------------------------------------------------- */

struct create_args {
	const char *vcpus, *mem, *kernel, *initrd, *cmdline, *boot_kind, *cosched, *shares, *res,
	    *limit;
	const char *mem_shares, *mem_res, *mem_limit, *file, *disks;
	bool start;
};

/* --disk NAME[:ro][,NAME[:ro]]...: the VM's disks in boot order, as the
 * API's [{"disk", "readonly"}]; the agent judges the names. */
static int set_disks(struct vhctl *c, struct json_object *vm, const char *spec)
{
	struct json_object *arr = json_object_new_array();
	char *copy = strdup(spec), *save = NULL;

	if (!arr || !copy) {
		json_object_put(arr);
		free(copy);
		return VHCTL_ERROR;
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct json_object *d = json_object_new_object();
		size_t n = strlen(tok);
		bool ro = n > 3 && !strcmp(tok + n - 3, ":ro");

		if (ro)
			tok[n - 3] = '\0';
		json_object_object_add(d, "disk", json_object_new_string(tok));
		json_object_object_add(d, "readonly", json_object_new_boolean(ro));
		json_object_array_add(arr, d);
	}
	free(copy);
	if (!json_object_array_length(arr)) {
		json_object_put(arr);
		return vhctl_usage_error(c, "--disk: name a disk (NAME[:ro][,NAME[:ro]]...)");
	}
	json_object_object_add(vm, "disks", arr);
	return 0;
}

/* obj[key] as an object, made when absent. */
static struct json_object *sub(struct json_object *obj, const char *key)
{
	struct json_object *s;

	if (json_object_object_get_ex(obj, key, &s) && json_object_is_type(s, json_type_object))
		return s;
	s = json_object_new_object();
	json_object_object_add(obj, key, s);
	return s;
}

/* "high" or 1500: a level as a string (the API names a bad one), digits
 * as an integer. */
static struct json_object *shares_json(const char *s)
{
	uint64_t v;

	if (vh_api_parse_uint(s, 0, INT64_MAX, &v) == 0)
		return json_object_new_int64((int64_t)v);
	return json_object_new_string(s);
}

static bool unlimited(const char *s)
{
	return !strcmp(s, "unlimited") || !strcmp(s, "none");
}

/* A rate or size flag into obj[key]: "unlimited" is null where allowed. */
static int set_unit(struct vhctl *c, struct json_object *obj, const char *key, const char *flag,
		    const char *val, bool mhz, bool may_be_unlimited)
{
	struct vh_api_problem p;
	uint64_t v;

	if (!val)
		return 0;
	if (may_be_unlimited && unlimited(val)) {
		json_object_object_add(obj, key, NULL);
		return 0;
	}
	if (mhz ? vh_api_parse_mhz(val, &v, &p, flag) : vh_api_parse_mib(val, &v, &p, flag))
		return vhctl_usage_error(c, "%s%s", p.detail,
					 may_be_unlimited ? " or \"unlimited\"" : "");
	json_object_object_add(obj, key, json_object_new_uint64(v));
	return 0;
}

int vhctl_set_controls(struct vhctl *c, struct json_object *obj, bool mem, const char *shares,
		       const char *res, const char *limit)
{
	if (shares)
		json_object_object_add(obj, "shares", shares_json(shares));
	if (set_unit(c, obj, mem ? "reservation_mib" : "reservation_mhz", "--reservation", res,
		     !mem, false) ||
	    set_unit(c, obj, mem ? "limit_mib" : "limit_mhz", "--limit", limit, !mem, true))
		return VHCTL_USAGE;
	return 0;
}

/* The agent's own limit on JSON bodies is 1 MiB by default. */
#define MAX_VM_FILE (1u << 20)

static int read_file(struct vhctl *c, const char *file, struct json_object **out)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	struct vh_api_problem p;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "vhctl: %s: %s\n", file, strerror(errno));
		return VHCTL_USAGE;
	}
	do {
		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
			if (!nb) {
				free(buf);
				if (f != stdin)
					fclose(f);
				return VHCTL_ERROR;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len <= MAX_VM_FILE);
	if (f != stdin)
		fclose(f);
	if (len > MAX_VM_FILE) {
		free(buf);
		return vhctl_usage_error(c, "%s: over %u bytes: not a VM definition", file,
					 MAX_VM_FILE);
	}
	if (vh_api_parse(buf, len, out, &p) || !json_object_is_type(*out, json_type_object)) {
		if (*out)
			snprintf(p.detail, sizeof(p.detail), "not a JSON object");
		json_object_put(*out);
		*out = NULL;
		free(buf);
		return vhctl_usage_error(c, "%s: %s", file, p.detail);
	}
	free(buf);
	return 0;
}

static int build_vm(struct vhctl *c, const char *name, const struct create_args *a,
		    struct json_object **out)
{
	struct json_object *vm = NULL;
	uint64_t v;
	int rc;

	if (a->file) {
		if ((rc = read_file(c, a->file, &vm)))
			return rc;
	} else {
		vm = json_object_new_object();
	}
	*out = vm;
	if (name)
		json_object_object_add(vm, "name", json_object_new_string(name));
	else if (!json_object_object_get_ex(vm, "name", NULL))
		return vhctl_usage_error(c, "give the VM a NAME (or a \"name\" in --file)");
	if (a->vcpus) {
		if (vh_api_parse_uint(a->vcpus, 0, UINT32_MAX, &v))
			return vhctl_usage_error(c, "--vcpus: \"%s\" is not a whole number",
						 a->vcpus);
		json_object_object_add(vm, "vcpus", json_object_new_uint64(v));
	}
	if ((rc = set_unit(c, vm, "memory_mib", "--mem", a->mem, false, false)))
		return rc;
	if (a->kernel)
		json_object_object_add(sub(vm, "boot"), "kernel",
				       json_object_new_string(a->kernel));
	if (a->cmdline)
		json_object_object_add(sub(vm, "boot"), "cmdline",
				       json_object_new_string(a->cmdline));
	if (a->initrd)
		json_object_object_add(sub(vm, "boot"), "initrd",
				       json_object_new_string(a->initrd));
	if (a->boot_kind)
		json_object_object_add(sub(vm, "boot"), "kind",
				       json_object_new_string(a->boot_kind));
	if (a->cosched)
		json_object_object_add(vm, "cosched", json_object_new_string(a->cosched));
	if (a->disks && (rc = set_disks(c, vm, a->disks)))
		return rc;
	if ((a->shares || a->res || a->limit) &&
	    (rc = vhctl_set_controls(c, sub(vm, "cpu"), false, a->shares, a->res, a->limit)))
		return rc;
	if ((a->mem_shares || a->mem_res || a->mem_limit) &&
	    (rc = vhctl_set_controls(c, sub(vm, "memory"), true, a->mem_shares, a->mem_res,
				     a->mem_limit)))
		return rc;
	return 0;
}

static int power(struct vhctl *c, const char *name, const char *state, bool force,
		 struct json_object **vm);

static int vm_create(struct vhctl *c, int argc, char **argv)
{
	struct create_args a = { 0 };
	const struct vhctl_opt opts[] = {
		{ "vcpus", 0, &a.vcpus, NULL },
		{ "mem", 0, &a.mem, NULL },
		{ "memory", 0, &a.mem, NULL },
		{ "kernel", 0, &a.kernel, NULL },
		{ "cmdline", 0, &a.cmdline, NULL },
		{ "initrd", 0, &a.initrd, NULL },
		{ "boot-kind", 0, &a.boot_kind, NULL },
		{ "cosched", 0, &a.cosched, NULL },
		{ "disk", 0, &a.disks, NULL },
		{ "shares", 0, &a.shares, NULL },
		{ "reservation", 0, &a.res, NULL },
		{ "limit", 0, &a.limit, NULL },
		{ "mem-shares", 0, &a.mem_shares, NULL },
		{ "mem-reservation", 0, &a.mem_res, NULL },
		{ "mem-limit", 0, &a.mem_limit, NULL },
		{ "file", 'f', &a.file, NULL },
		{ "start", 0, NULL, &a.start },
		{ NULL, 0, NULL, NULL },
	};
	const char *name = NULL;
	struct json_object *vm = NULL, *made = NULL;
	char line[160];
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, 0, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((name && (rc = vhctl_check_vm_arg(c, name))) || (rc = build_vm(c, name, &a, &vm))) {
		json_object_put(vm);
		return rc;
	}
	rc = vhctl_call(c, "POST", "/v1/vms", vm, NULL, &made, NULL, 0);
	json_object_put(vm);
	if (rc)
		return rc;
	if (a.start) {
		struct json_object *started = NULL;
		const char *nm = vhctl_jstr(made, "uuid");

		if ((rc = power(c, *nm ? nm : vhctl_jstr(made, "name"), "running", false,
				&started))) {
			fprintf(stderr, "vhctl: VM %s is defined but did not start\n",
				vhctl_jstr(made, "name"));
			json_object_put(made);
			return rc;
		}
		json_object_put(made);
		made = started;
	}
	snprintf(line, sizeof(line), "created VM %s (%s), %s", vhctl_jstr(made, "name"),
		 vhctl_jstr(made, "uuid"), vhctl_jstr(made, "state"));
	print_vm(c, made, line);
	json_object_put(made);
	return VHCTL_OK;
}

/* ---- power, reset, delete ----------------------------------------------------- */

static int power(struct vhctl *c, const char *name, const char *state, bool force,
		 struct json_object **vm)
{
	struct json_object *body = json_object_new_object();
	char *path = vhctl_path("/v1/vms/", name, "/power");
	int rc;

	json_object_object_add(body, "state", json_object_new_string(state));
	if (force)
		json_object_object_add(body, "force", json_object_new_boolean(1));
	rc = vhctl_call(c, "PUT", path, body, NULL, vm, NULL, 0);
	json_object_put(body);
	free(path);
	return rc;
}

static void force_hint(struct vhctl *c, const char *what, const char *name)
{
	if (c->last_code == VH_API_CONFLICT && !strcmp(c->last_field, "force"))
		fprintf(stderr, "vhctl: hint: `vhctl vm %s %s --force` powers it off\n", what,
			name);
}

static int power_cmd(struct vhctl *c, int argc, char **argv, const char *state, bool can_force)
{
	bool force = false;
	const struct vhctl_opt opts[] = {
		{ "force", 0, NULL, &force },
		{ NULL, 0, NULL, NULL },
	};
	const char *name;
	struct json_object *vm;
	char line[128];
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, can_force ? opts : NULL, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	if ((rc = power(c, name, state, force, &vm))) {
		if (can_force)
			force_hint(c, argv[0], name);
		return rc;
	}
	snprintf(line, sizeof(line), "%s: %s", vhctl_jstr(vm, "name"), vhctl_jstr(vm, "state"));
	print_vm(c, vm, line);
	json_object_put(vm);
	return VHCTL_OK;
}

static int vm_start(struct vhctl *c, int argc, char **argv)
{
	return power_cmd(c, argc, argv, "running", false);
}

static int vm_stop(struct vhctl *c, int argc, char **argv)
{
	return power_cmd(c, argc, argv, "stopped", true);
}

static int vm_pause(struct vhctl *c, int argc, char **argv)
{
	return power_cmd(c, argc, argv, "paused", false);
}

static int vm_resume(struct vhctl *c, int argc, char **argv)
{
	return power_cmd(c, argc, argv, "running", false);
}

static int vm_reset(struct vhctl *c, int argc, char **argv)
{
	const char *name;
	struct json_object *vm;
	char *path, line[128];
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	path = vhctl_path("/v1/vms/", name, "/reset");
	rc = vhctl_call(c, "POST", path, NULL, NULL, &vm, NULL, 0);
	free(path);
	if (rc)
		return rc;
	snprintf(line, sizeof(line), "%s: reset, %s (boot generation %llu)", vhctl_jstr(vm, "name"),
		 vhctl_jstr(vm, "state"), (unsigned long long)vhctl_ju64(vm, "boot_generation"));
	print_vm(c, vm, line);
	json_object_put(vm);
	return VHCTL_OK;
}

static int vm_delete(struct vhctl *c, int argc, char **argv)
{
	bool force = false;
	const struct vhctl_opt opts[] = {
		{ "force", 0, NULL, &force },
		{ NULL, 0, NULL, NULL },
	};
	const char *name;
	char *path;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	path = vhctl_path("/v1/vms/", name, force ? "?force=true" : NULL);
	rc = vhctl_call(c, "DELETE", path, NULL, NULL, NULL, NULL, 0);
	free(path);
	if (rc) {
		force_hint(c, "delete", name);
		return rc;
	}
	if (c->out == VHCTL_OUT_TABLE)
		printf("deleted VM %s\n", name);
	return VHCTL_OK;
}

static int vm_stats(struct vhctl *c, int argc, char **argv)
{
	return vhctl_cmd_vm_stats(c, argc, argv);
}

const struct vhctl_cmd vhctl_vm_cmds[] = {
	{ "list", "[--state STATE] [--prefix PREFIX] [--page-size N]",
	  "list VMs (every page, N a request)", vm_list, NULL },
	{ "create",
	  "NAME [--vcpus N] [--mem SIZE] [--kernel IMAGE] [--initrd IMAGE] [--cmdline TEXT]\n"
	  "       [--boot-kind auto|raw16|raw32] [--cosched MODE] [--disk NAME[:ro][,...]]\n"
	  "       [--shares S] [--reservation RATE] [--limit RATE] [--mem-shares S]\n"
	  "       [--mem-reservation SIZE] [--mem-limit SIZE] [--file VM.json] [--start]",
	  "define a VM (flags override --file), and start it with --start", vm_create, NULL },
	{ "show", "NAME", "a VM's definition and state", vm_show, NULL },
	{ "edit", "NAME", "edit a VM's JSON in $EDITOR and apply the difference (If-Match)",
	  vhctl_vm_edit, NULL },
	{ "start", "NAME", "power on (declarative: nothing to do when running)", vm_start, NULL },
	{ "stop", "NAME [--force]", "power off (--force: vh has no guest shutdown)", vm_stop,
	  NULL },
	{ "pause", "NAME", "pause a running VM", vm_pause, NULL },
	{ "resume", "NAME", "run a paused VM again", vm_resume, NULL },
	{ "reset", "NAME", "reset: boot the VM again from its image", vm_reset, NULL },
	{ "delete", "NAME [--force]", "undefine (--force: a running VM too)", vm_delete, NULL },
	{ "cpu", "NAME [--shares low|normal|high|N] [--reservation RATE] [--limit RATE|unlimited]",
	  "CPU controls at run time (unnamed ones are kept)", vhctl_vm_cpu, NULL },
	{ "mem", "NAME [--shares low|normal|high|N] [--reservation SIZE] [--limit SIZE|unlimited]",
	  "memory controls at run time (unnamed ones are kept)", vhctl_vm_mem, NULL },
	{ "balloon", "NAME SIZE", "set the balloon target (0 deflates)", vhctl_vm_balloon, NULL },
	{ "stats", "NAME [--watch] [--interval SECONDS] [-n COUNT]",
	  "a VM's counters (as vhctl stats NAME)", vm_stats, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};
