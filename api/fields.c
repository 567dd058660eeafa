/* SPDX-License-Identifier: Apache-2.0 */
/* Field readers: the JSON type and range checked here, never trusted to
 * json-c (which clamps integers and converts types on request), and the
 * field named on every failure. */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

void vh_api_join_field(char *out, size_t cap, const char *prefix, const char *key)
{
	size_t n = prefix ? strlen(prefix) : 0;

	if (n == 0)
		snprintf(out, cap, "%s", key);
	else if (prefix[n - 1] == '.')
		snprintf(out, cap, "%s%s", prefix, key);
	else
		snprintf(out, cap, "%s.%s", prefix, key);
	vh_api_utf8_clean(out); /* a long key may be cut inside a character */
}

void vh_api_copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	memset(dst + n, 0, cap - n);
}

bool vh_api_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

static const char *type_word(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fraction";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "something else";
}

int vh_api_read_u64(struct json_object *v, const char *field, uint64_t min, uint64_t max,
		    uint64_t *out, struct vh_api_problem *p)
{
	if (!json_object_is_type(v, json_type_int))
		return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: must be an integer, not %s",
				   field, type_word(v));
	if (json_object_get_userdata(v) == &vh_api_clamped_marker)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field,
				   "%s: beyond 64 bits, outside %llu..%llu", field,
				   (unsigned long long)min, (unsigned long long)max);
	int64_t s = json_object_get_int64(v);
	if (s < 0)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: %lld outside %llu..%llu",
				   field, (long long)s, (unsigned long long)min,
				   (unsigned long long)max);
	/* Above INT64_MAX json-c holds the value as uint64: read it as such. */
	uint64_t u = json_object_get_uint64(v);
	if (u < min || u > max)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: %llu outside %llu..%llu",
				   field, (unsigned long long)u, (unsigned long long)min,
				   (unsigned long long)max);
	*out = u;
	return 0;
}

/* Finds a member: *present says whether the key is there (json-c holds a
 * JSON null as a NULL value, so *v alone cannot tell); a missing required
 * member fails. */
static int member(struct json_object *obj, const char *key, const char *field, bool required,
		  struct json_object **v, bool *present, struct vh_api_problem *p)
{
	if (!json_object_is_type(obj, json_type_object))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "", "the body must be a JSON object");
	*present = json_object_object_get_ex(obj, key, v);
	if (!*present && required)
		return vh_api_fail(p, VH_API_MISSING_FIELD, field, "%s: required", field);
	return 0;
}

/* The same, for a member that must have one JSON type: *v is NULL when
 * the member is absent; any other type fails ("FIELD: must be WHAT"). */
static int typed_member(struct json_object *obj, const char *key, const char *field, bool required,
			json_type type, const char *what, struct json_object **v,
			struct vh_api_problem *p)
{
	bool present = false;

	if (member(obj, key, field, required, v, &present, p))
		return -1;
	if (!present) {
		*v = NULL;
		return 0;
	}
	if (!json_object_is_type(*v, type))
		return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: must be %s, not %s", field,
				   what, type_word(*v));
	return 0;
}

int vh_api_get_u64(struct json_object *obj, const char *key, const char *field, uint64_t min,
		   uint64_t max, bool required, uint64_t *out, struct vh_api_problem *p)
{
	struct json_object *v;
	bool present = false;

	if (member(obj, key, field, required, &v, &present, p))
		return -1;
	return present ? vh_api_read_u64(v, field, min, max, out, p) : 0;
}

int vh_api_get_u64_or_null(struct json_object *obj, const char *key, const char *field,
			   uint64_t min, uint64_t max, uint64_t if_null, uint64_t *out,
			   struct vh_api_problem *p)
{
	struct json_object *v;
	bool present = false;

	if (member(obj, key, field, false, &v, &present, p))
		return -1;
	if (!present)
		return 0;
	if (json_object_is_type(v, json_type_null)) {
		*out = if_null;
		return 0;
	}
	if (!json_object_is_type(v, json_type_int))
		return vh_api_fail(p, VH_API_INVALID_FIELD, field,
				   "%s: must be an integer or null, not %s", field, type_word(v));
	return vh_api_read_u64(v, field, min, max, out, p);
}

int vh_api_get_string(struct json_object *obj, const char *key, const char *field, size_t max_len,
		      bool required, const char **out, struct vh_api_problem *p)
{
	struct json_object *v;

	if (typed_member(obj, key, field, required, json_type_string, "a string", &v, p))
		return -1;
	if (!v)
		return 0;
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (strlen(s) != n)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: must not contain NUL",
				   field);
	if (n > max_len)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: %zu bytes, at most %zu",
				   field, n, max_len);
	*out = s;
	return 0;
}

int vh_api_get_bool(struct json_object *obj, const char *key, const char *field, bool required,
		    bool *out, struct vh_api_problem *p)
{
	struct json_object *v;

	if (typed_member(obj, key, field, required, json_type_boolean, "true or false", &v, p))
		return -1;
	if (!v)
		return 0;
	*out = json_object_get_boolean(v);
	return 0;
}

int vh_api_only_keys(struct json_object *obj, const char *prefix, const char *const *keys,
		     struct vh_api_problem *p)
{
	char field[VH_API_FIELD_MAX];

	if (!json_object_is_type(obj, json_type_object)) {
		if (!prefix || !prefix[0])
			return vh_api_fail(p, VH_API_INVALID_FIELD, "",
					   "the body must be a JSON object, not %s",
					   type_word(obj));
		vh_api_join_field(field, sizeof(field), prefix, "");
		size_t n = strlen(field);
		if (n && field[n - 1] == '.')
			field[n - 1] = '\0';
		return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: must be an object, not %s",
				   field, type_word(obj));
	}
	json_object_object_foreach(obj, k, v) {
		(void)v;
		size_t i;
		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i]) {
			vh_api_join_field(field, sizeof(field), prefix, k);
			return vh_api_fail(p, VH_API_INVALID_FIELD, field, "%s: unknown field",
					   field);
		}
	}
	return 0;
}
