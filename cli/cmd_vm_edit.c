/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl vm edit NAME, like kubectl edit: the VM's JSON in $VISUAL or
 * $EDITOR, then an RFC 7396 merge patch of what changed, sent with
 * If-Match the ETag that was read, so an edit never overwrites a change
 * made meanwhile (412: exit 4).  An edit the agent refuses, or that is
 * not JSON, is kept in its file and the path printed: nothing typed is
 * lost. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/vhctl.h"

/* What the agent reports but a definition does not hold. */
static const char *const read_only[] = { "uuid", "state", "state_changes", "boot_generation",
					 NULL };

static bool is_read_only(const char *key)
{
	for (size_t i = 0; read_only[i]; i++)
		if (!strcmp(read_only[i], key))
			return true;
	return false;
}

/* The merge patch that turns a into b (both objects); NULL when equal.
 * A member b lacks becomes null, which a merge patch reads as "remove"
 * and the API as "back to the default" (a limit: unlimited). */
static struct json_object *diff(struct json_object *a, struct json_object *b)
{
	struct json_object *patch = json_object_new_object();

	json_object_object_foreach(a, ka, va)
	{
		(void)va;
		if (!json_object_object_get_ex(b, ka, NULL))
			json_object_object_add(patch, ka, NULL);
	}
	json_object_object_foreach(b, kb, vb)
	{
		struct json_object *old = NULL;

		if (!json_object_object_get_ex(a, kb, &old)) {
			json_object_object_add(patch, kb, json_object_get(vb));
		} else if (json_object_is_type(old, json_type_object) &&
			   json_object_is_type(vb, json_type_object)) {
			struct json_object *d = diff(old, vb);
			if (d)
				json_object_object_add(patch, kb, d);
		} else if (!json_object_equal(old, vb)) {
			json_object_object_add(patch, kb, json_object_get(vb));
		}
	}
	if (json_object_object_length(patch) == 0) {
		json_object_put(patch);
		return NULL;
	}
	return patch;
}

static int run_editor(const char *file)
{
	const char *ed = getenv("VISUAL");
	char *cmd;
	pid_t pid;
	int st;

	if (!ed || !*ed)
		ed = getenv("EDITOR");
	if (!ed || !*ed)
		ed = "vi";
	/* Through the shell, as git does, so EDITOR may carry arguments. */
	if (asprintf(&cmd, "%s \"$1\"", ed) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, "vhctl-edit", file, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "vhctl: the editor (%s) failed%s\n", ed,
			WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ": not found" : "");
		return -1;
	}
	return 0;
}

/* The file without its '#' lines (no JSON line starts with '#'). */
static char *read_edit(const char *file, size_t *len)
{
	FILE *f = fopen(file, "re");
	char *line = NULL, *out = NULL;
	size_t cap = 0, olen = 0;
	FILE *mem;
	ssize_t n;

	if (!f)
		return NULL;
	if (!(mem = open_memstream(&out, &olen))) {
		fclose(f);
		return NULL;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		const char *p = line + strspn(line, " \t");
		if (*p != '#')
			fwrite(line, 1, (size_t)n, mem);
	}
	free(line);
	fclose(f);
	if (fclose(mem))
		return NULL;
	*len = olen;
	return out;
}

static bool blank(const char *s)
{
	return s[strspn(s, " \t\r\n")] == '\0';
}

int vhctl_vm_edit(struct vhctl *c, int argc, char **argv)
{
	const char *name, *tmp = getenv("TMPDIR");
	struct json_object *vm = NULL, *edited = NULL, *patch = NULL, *now = NULL;
	struct vh_api_problem p;
	char etag[128], *path, *file = NULL, *text = NULL;
	bool keep = false;
	size_t len = 0;
	FILE *f;
	int n, rc, fd;

	if ((n = vhctl_parse(c, argc, argv, NULL, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	path = vhctl_path("/v1/vms/", name, NULL);
	rc = vhctl_call(c, "GET", path, NULL, NULL, &vm, etag, sizeof(etag));
	free(path);
	if (rc)
		return rc;
	if (asprintf(&file, "%s/vhctl-edit-XXXXXX.json", tmp && *tmp ? tmp : "/tmp") < 0 ||
	    (fd = mkstemps(file, 5)) < 0 || !(f = fdopen(fd, "w"))) {
		fprintf(stderr, "vhctl: cannot make a file to edit in: %s\n", strerror(errno));
		free(file);
		json_object_put(vm);
		return VHCTL_ERROR;
	}
	fprintf(f,
		"# VM %s (uuid %s), %s.  Lines starting with '#' are ignored; an empty\n"
		"# file cancels.  While the VM runs, only cpu, memory and balloon change.\n",
		vhctl_jstr(vm, "name"), vhctl_jstr(vm, "uuid"), vhctl_jstr(vm, "state"));
	for (size_t i = 0; read_only[i]; i++)
		json_object_object_del(vm, read_only[i]);
	fprintf(f, "%s\n",
		json_object_to_json_string_ext(vm, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	if (fclose(f)) {
		fprintf(stderr, "vhctl: %s: %s\n", file, strerror(errno));
		rc = VHCTL_ERROR;
		goto out;
	}
	if (run_editor(file)) {
		rc = VHCTL_ERROR;
		goto out;
	}
	if (!(text = read_edit(file, &len))) {
		fprintf(stderr, "vhctl: %s: %s\n", file, strerror(errno));
		rc = VHCTL_ERROR;
		goto out;
	}
	if (blank(text)) {
		fprintf(stderr, "vhctl: edit cancelled (empty file): nothing changed\n");
		goto out;
	}
	keep = true;
	if (vh_api_parse(text, len, &edited, &p) ||
	    !json_object_is_type(edited, json_type_object)) {
		fprintf(stderr, "vhctl: the edit is not a JSON object: %s\n",
			edited ? "another JSON value" : p.detail);
		rc = VHCTL_USAGE;
		goto out;
	}
	json_object_object_foreach(edited, k, v)
	{
		(void)v;
		if (is_read_only(k)) {
			fprintf(stderr, "vhctl: \"%s\" is read-only and cannot be edited\n", k);
			rc = VHCTL_USAGE;
			goto out;
		}
	}
	if (!(patch = diff(vm, edited))) {
		keep = false;
		fprintf(stderr, "vhctl: no changes\n");
		goto out;
	}
	path = vhctl_path("/v1/vms/", name, NULL);
	rc = vhctl_call(c, "PATCH", path, patch, etag[0] ? etag : NULL, &now, NULL, 0);
	free(path);
	if (rc)
		goto out;
	keep = false;
	if (c->out == VHCTL_OUT_JSON) {
		vhctl_print_json(now, false);
	} else {
		printf("edited VM %s:", vhctl_jstr(now, "name"));
		json_object_object_foreach(patch, pk, pv)
		{
			(void)pv;
			printf(" %s", pk);
		}
		printf("\n");
	}
out:
	if (keep)
		fprintf(stderr, "vhctl: the edit is kept in %s\n", file);
	else
		unlink(file);
	free(file);
	free(text);
	json_object_put(vm);
	json_object_put(edited);
	json_object_put(patch);
	json_object_put(now);
	return rc;
}
