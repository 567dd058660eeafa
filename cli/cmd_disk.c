/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl disk create|import|list|show|grow|rm: the datastore
 * (/v1/disks).  An import streams the file as the body with its SHA-256
 * (vhctl_put_file, as an image upload), drawing a progress bar when
 * stderr is a terminal; sizes take units (10G, 512M, plain numbers are
 * MiB). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

static const char *const disk_hdr[] = { "NAME", ">SIZE", ">ALLOCATED", "ATTACHED", "MODIFIED" };

/* "web1, db (ro)" from [{"vm", "readonly"}]; "-" for none. */
static void attached_text(struct json_object *d, char *out, size_t cap)
{
	struct json_object *a = vhctl_jget(d, "attached");
	size_t used = 0;

	snprintf(out, cap, "-");
	for (size_t i = 0; a && i < json_object_array_length(a) && used < cap; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		struct json_object *ro = vhctl_jget(e, "readonly");
		used += (size_t)snprintf(out + used, cap - used, "%s%s%s", i ? ", " : "",
					 vhctl_jstr(e, "vm"),
					 ro && json_object_get_boolean(ro) ? " (ro)" : "");
	}
}

/* 1073741824 -> "1G", 3000 -> "0.0029M": the largest exact unit when
 * whole MiB, else MiB with a fraction. */
static void fmt_bytes(uint64_t b, char *out, size_t cap)
{
	if (b && b % 1048576 == 0)
		vh_api_format_mib(b >> 20, out, cap);
	else
		vhctl_fmt_mibf((double)b / 1048576.0, out, cap);
}

static void sizes(struct json_object *d, char *size, char *alloc, size_t cap)
{
	fmt_bytes(vhctl_ju64(d, "size"), size, cap);
	fmt_bytes(vhctl_ju64(d, "allocated"), alloc, cap);
}

static void disk_row(struct vhctl_table *t, struct json_object *d)
{
	char size[32], alloc[32], att[256];

	sizes(d, size, alloc, sizeof(size));
	attached_text(d, att, sizeof(att));
	vhctl_table_rowf(t, "%s\t%s\t%s\t%s\t%s", vhctl_jstr(d, "name"), size, alloc, att,
			 vhctl_jstr(d, "modified"));
}

/* One disk answer: JSON, or the line that says what happened. */
static void print_disk(struct vhctl *c, struct json_object *d, const char *what)
{
	char size[32], alloc[32];

	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(d, false);
		return;
	}
	sizes(d, size, alloc, sizeof(size));
	printf("%s disk %s (%s, %llu bytes; %s allocated)", what, vhctl_jstr(d, "name"), size,
	       (unsigned long long)vhctl_ju64(d, "size"), alloc);
	if (*vhctl_jstr(d, "sha256"))
		printf(", sha256 %s", vhctl_jstr(d, "sha256"));
	printf("\n");
}

static int check_name(struct vhctl *c, const char *name)
{
	return name && *name ? 0 : vhctl_usage_error(c, "the disk name is empty");
}

/* SIZE with units (vh_api_parse_mib: 10G, 512M, 256 = MiB) in bytes. */
static int parse_size(struct vhctl *c, const char *s, uint64_t *bytes)
{
	struct vh_api_problem p;
	uint64_t mib;

	if (vh_api_parse_mib(s, &mib, &p, "SIZE") || mib > (UINT64_MAX >> 21))
		return vhctl_usage_error(c, "SIZE: \"%s\" is not a size (10G, 512M; plain: MiB)",
					 s);
	*bytes = mib << 20;
	return 0;
}

/* create NAME SIZE (POST /v1/disks) and grow NAME SIZE (PATCH
 * /v1/disks/NAME): the same two words, one body. */
static int size_cmd(struct vhctl *c, int argc, char **argv, bool create)
{
	const char *pos[2];
	struct json_object *body, *d = NULL;
	uint64_t size;
	char *path;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, pos, 2, 2)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = check_name(c, pos[0])) || (rc = parse_size(c, pos[1], &size)))
		return rc;
	body = json_object_new_object();
	if (create)
		json_object_object_add(body, "name", json_object_new_string(pos[0]));
	json_object_object_add(body, "size", json_object_new_uint64(size));
	path = create ? strdup("/v1/disks") : vhctl_path("/v1/disks/", pos[0], NULL);
	rc = path ? vhctl_call(c, create ? "POST" : "PATCH", path, body, NULL, &d, NULL, 0)
		  : VHCTL_ERROR;
	free(path);
	json_object_put(body);
	if (rc)
		return rc;
	print_disk(c, d, create ? "created" : "grew");
	json_object_put(d);
	return VHCTL_OK;
}

static int disk_create(struct vhctl *c, int argc, char **argv)
{
	return size_cmd(c, argc, argv, true);
}

static int disk_grow(struct vhctl *c, int argc, char **argv)
{
	return size_cmd(c, argc, argv, false);
}

static int disk_import(struct vhctl *c, int argc, char **argv)
{
	const char *sha = NULL, *pos[2] = { NULL, NULL };
	const struct vhctl_opt opts[] = {
		{ "sha256", 0, &sha, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_object *d = NULL;
	char label[96];
	long status = 0;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, pos, 1, 2)) < 0)
		return vhctl_parse_exit(n);
	snprintf(label, sizeof(label), "importing %.64s", pos[1] ? pos[1] : pos[0]);
	rc = vhctl_put_file(c, "/v1/disks/", "disk", pos[0], pos[1], sha, label, &d, &status);
	if (rc)
		return rc;
	print_disk(c, d, "imported");
	json_object_put(d);
	return VHCTL_OK;
}

static int disk_list(struct vhctl *c, int argc, char **argv)
{
	struct json_object *o, *items;
	struct vhctl_table *t;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, NULL, 0, 0)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_call(c, "GET", "/v1/disks", NULL, NULL, &o, NULL, 0)))
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(o, false);
		json_object_put(o);
		return VHCTL_OK;
	}
	t = vhctl_table_new(5, disk_hdr);
	items = vhctl_jget(o, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++)
		disk_row(t, json_object_array_get_idx(items, i));
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	json_object_put(o);
	return VHCTL_OK;
}

static int disk_show(struct vhctl *c, int argc, char **argv)
{
	struct json_object *d;
	struct vhctl_table *t;
	char size[32], alloc[32], att[256];
	const char *name;
	char *path;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = check_name(c, name)))
		return rc;
	path = vhctl_path("/v1/disks/", name, NULL);
	rc = vhctl_call(c, "GET", path, NULL, NULL, &d, NULL, 0);
	free(path);
	if (rc)
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(d, false);
		json_object_put(d);
		return VHCTL_OK;
	}
	sizes(d, size, alloc, sizeof(size));
	attached_text(d, att, sizeof(att));
	t = vhctl_table_new(2, NULL);
	vhctl_table_rowf(t, "Name:\t%s", vhctl_jstr(d, "name"));
	vhctl_table_rowf(t, "Size:\t%s (%llu bytes)", size,
			 (unsigned long long)vhctl_ju64(d, "size"));
	vhctl_table_rowf(t, "Allocated:\t%s (%llu bytes)", alloc,
			 (unsigned long long)vhctl_ju64(d, "allocated"));
	vhctl_table_rowf(t, "Attached to:\t%s", att);
	vhctl_table_rowf(t, "Modified:\t%s", vhctl_jstr(d, "modified"));
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	json_object_put(d);
	return VHCTL_OK;
}

/* Every name is tried; the exit code is the first failure's. */
static int disk_rm(struct vhctl *c, int argc, char **argv)
{
	const char *names[64];
	int n, rc = 0;

	if ((n = vhctl_parse(c, argc, argv, NULL, names, 1, 64)) < 0)
		return vhctl_parse_exit(n);
	for (int i = 0; i < n; i++) {
		int r = check_name(c, names[i]);

		if (!r) {
			char *path = vhctl_path("/v1/disks/", names[i], NULL);
			r = vhctl_call(c, "DELETE", path, NULL, NULL, NULL, NULL, 0);
			free(path);
			if (!r && c->out == VHCTL_OUT_TABLE)
				printf("removed disk %s\n", names[i]);
		}
		if (r && !rc)
			rc = r;
	}
	return rc;
}

const struct vhctl_cmd vhctl_disk_cmds[] = {
	{ "create", "NAME SIZE", "create an empty thin disk (SIZE: 10G, 512M)", disk_create, NULL },
	{ "import", "FILE [NAME] [--sha256 HEX]",
	  "import a raw disk image (the name defaults to the file's; a progress bar on a "
	  "terminal)",
	  disk_import, NULL },
	{ "list", "", "list the disks: size, allocated bytes, the VMs attached", disk_list, NULL },
	{ "show", "NAME", "a disk's size, allocation and attachments", disk_show, NULL },
	{ "grow", "NAME SIZE", "grow a disk to SIZE (never shrinks)", disk_grow, NULL },
	{ "rm", "NAME ...", "delete disks (refused while a VM names one)", disk_rm, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};
