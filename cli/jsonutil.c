/* SPDX-License-Identifier: Apache-2.0 */
/* Reading the agent's JSON by dotted path, and printing JSON for
 * scripts (-o json): pretty for one document, one compact line each for
 * a stream of them (--watch, top), so `while read` loops work. */
#include <string.h>

#include "cli/vhctl.h"

void vhctl_print_json(struct json_object *o, bool compact)
{
	int flags =
	    JSON_C_TO_STRING_NOSLASHESCAPE |
	    (compact ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);

	fputs(o ? json_object_to_json_string_ext(o, flags) : "null", stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

struct json_object *vhctl_jget(struct json_object *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key) || !json_object_is_type(o, json_type_object))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path += n + (path[n] == '.');
	}
	return o;
}

const char *vhctl_jstr(struct json_object *o, const char *path)
{
	struct json_object *v = vhctl_jget(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

uint64_t vhctl_ju64(struct json_object *o, const char *path)
{
	struct json_object *v = vhctl_jget(o, path);

	if (v && json_object_is_type(v, json_type_int))
		return json_object_get_uint64(v);
	if (v && json_object_is_type(v, json_type_double) && json_object_get_double(v) >= 0)
		return (uint64_t)json_object_get_double(v);
	return 0;
}

double vhctl_jdouble(struct json_object *o, const char *path)
{
	struct json_object *v = vhctl_jget(o, path);

	if (v &&
	    (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return json_object_get_double(v);
	return 0;
}
