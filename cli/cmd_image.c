/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl image upload|list|rm.  An upload streams the file as the body
 * (as curl -T does) with its SHA-256, computed here first unless given,
 * so the agent keeps the image only when every byte arrived intact. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "cli/vhctl.h"

static int sha256_file(FILE *f, char hex[65])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t n;
	int rc = -1;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		goto out;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (!EVP_DigestUpdate(ctx, buf, n))
			goto out;
	if (ferror(f) || !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 32)
		goto out;
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void image_row(struct vhctl_table *t, struct json_object *im)
{
	vhctl_table_rowf(t, "%s\t%llu\t%s\t%s", vhctl_jstr(im, "name"),
			 (unsigned long long)vhctl_ju64(im, "size"), vhctl_jstr(im, "sha256"),
			 vhctl_jstr(im, "modified"));
}

static const char *const image_hdr[] = { "NAME", ">SIZE", "SHA256", "MODIFIED" };

int vhctl_put_file(struct vhctl *c, const char *base, const char *what, const char *file,
		   const char *name, const char *sha, const char *progress,
		   struct json_object **out, long *status)
{
	char hex[65], *copy = NULL, *path, *query = NULL, *esc;
	struct vhctl_resp r;
	struct vh_api_problem p;
	struct stat st;
	FILE *f;
	int rc;

	*out = NULL;
	if (!(f = fopen(file, "re"))) {
		fprintf(stderr, "vhctl: %s: %s\n", file, strerror(errno));
		return VHCTL_USAGE;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "vhctl: %s: not a regular file\n", file);
		fclose(f);
		return VHCTL_USAGE;
	}
	if (!sha) {
		if (sha256_file(f, hex) || fseek(f, 0, SEEK_SET)) {
			fprintf(stderr, "vhctl: %s: cannot read it: %s\n", file, strerror(errno));
			fclose(f);
			return VHCTL_ERROR;
		}
		sha = hex;
	}
	/* The name: given, or the file's. */
	if (!name) {
		if (!(copy = strdup(file))) {
			fclose(f);
			return VHCTL_ERROR;
		}
		name = basename(copy);
	}
	if (!*name) {
		fclose(f);
		free(copy);
		return vhctl_usage_error(c, "the %s name is empty", what);
	}
	esc = vhctl_escape(sha);
	if (!esc || asprintf(&query, "?sha256=%s", esc) < 0) {
		free(esc);
		fclose(f);
		free(copy);
		return VHCTL_ERROR;
	}
	free(esc);
	path = vhctl_path(base, name, query);
	free(query);
	free(copy);
	rc = vhctl_upload(c, path, f, (uint64_t)st.st_size, progress, &r);
	free(path);
	fclose(f);
	if (rc)
		return rc;
	*status = r.status;
	if (r.status < 200 || r.status >= 300) {
		rc = vhctl_problem(c, &r);
	} else if (vh_api_parse(r.body, r.len, out, &p)) {
		fprintf(stderr, "vhctl: the agent's answer is not JSON: %s\n", p.detail);
		rc = VHCTL_ERROR;
	}
	vhctl_resp_free(&r);
	return rc;
}

static int image_upload(struct vhctl *c, int argc, char **argv)
{
	const char *sha = NULL, *pos[2] = { NULL, NULL };
	const struct vhctl_opt opts[] = {
		{ "sha256", 0, &sha, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_object *o = NULL;
	long status = 0;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, pos, 1, 2)) < 0)
		return vhctl_parse_exit(n);
	rc = vhctl_put_file(c, "/v1/images/", "image", pos[0], pos[1], sha, NULL, &o, &status);
	if (rc)
		return rc;
	if (c->out == VHCTL_OUT_JSON)
		vhctl_print_json(o, false);
	else
		printf("%s image %s (%llu bytes, sha256 %s)\n",
		       status == 201 ? "uploaded" : "replaced", vhctl_jstr(o, "name"),
		       (unsigned long long)vhctl_ju64(o, "size"), vhctl_jstr(o, "sha256"));
	json_object_put(o);
	return VHCTL_OK;
}

static int image_list(struct vhctl *c, int argc, char **argv)
{
	struct json_object *o, *items;
	struct vhctl_table *t;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, NULL, NULL, 0, 0)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_call(c, "GET", "/v1/images", NULL, NULL, &o, NULL, 0)))
		return rc;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(o, false);
		json_object_put(o);
		return VHCTL_OK;
	}
	t = vhctl_table_new(4, image_hdr);
	items = vhctl_jget(o, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++)
		image_row(t, json_object_array_get_idx(items, i));
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	json_object_put(o);
	return VHCTL_OK;
}

/* Every name is tried; the exit code is the first failure's. */
static int image_rm(struct vhctl *c, int argc, char **argv)
{
	const char *names[64];
	int n, rc = 0;

	if ((n = vhctl_parse(c, argc, argv, NULL, names, 1, 64)) < 0)
		return vhctl_parse_exit(n);
	for (int i = 0; i < n; i++) {
		char *path;
		int r;

		if (!*names[i]) {
			r = vhctl_usage_error(c, "the image name is empty");
		} else {
			path = vhctl_path("/v1/images/", names[i], NULL);
			r = vhctl_call(c, "DELETE", path, NULL, NULL, NULL, NULL, 0);
			free(path);
			if (!r && c->out == VHCTL_OUT_TABLE)
				printf("removed image %s\n", names[i]);
		}
		if (r && !rc)
			rc = r;
	}
	return rc;
}

const struct vhctl_cmd vhctl_image_cmds[] = {
	{ "upload", "FILE [NAME] [--sha256 HEX]",
	  "upload a guest image (the name defaults to the file's)", image_upload, NULL },
	{ "list", "", "list the images with their size and SHA-256", image_list, NULL },
	{ "rm", "NAME ...", "remove images (refused while a VM boots from one)", image_rm, NULL },
	{ NULL, NULL, NULL, NULL, NULL },
};
