/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the libvhapi tests. */
#ifndef VH_API_TEST_H
#define VH_API_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/vh_api.h"
#include "vh_test.h"

/* Checks a refusal: the code, the field named, and a detail for humans. */
#define EXPECT_PROBLEM(p, c, f) api_expect_problem(__FILE__, __LINE__, &(p), (c), (f))
static inline void api_expect_problem(const char *file, int line, const struct vh_api_problem *p,
				      enum vh_api_code code, const char *field)
{
	if (p->code != code || strcmp(p->field, field) || !p->detail[0])
		vh_test_fail(file, line, false,
			     "expected problem %s field \"%s\"\n  got %s field \"%s\": %s",
			     vh_api_code_name(code), field, vh_api_code_name(p->code), p->field,
			     p->detail);
}

/* Parses text that must be valid (strictly); the test ends otherwise. */
#define API_JSON(s) api_json(__FILE__, __LINE__, (s))
static inline struct json_object *api_json(const char *file, int line, const char *s)
{
	struct vh_api_problem p = { 0 };
	struct json_object *o = NULL;

	if (vh_api_parse(s, strlen(s), &o, &p))
		vh_test_fail(file, line, true, "vh_api_parse(%s): %s", s, p.detail);
	return o;
}

/* Parses with vh_api_parse; returns its result, the problem in *p. */
static inline int api_parse(const char *s, struct json_object **o, struct vh_api_problem *p)
{
	memset(p, 0, sizeof(*p));
	return vh_api_parse(s, strlen(s), o, p);
}

/* A VM body through vh_api_vm_from_json (the text must parse). */
static inline int api_create(const char *s, struct vh_vm_config *c, uint64_t *balloon,
			     struct vh_api_problem *p)
{
	struct json_object *o = api_json(__FILE__, __LINE__, s);
	int rc;

	memset(p, 0, sizeof(*p));
	rc = vh_api_vm_from_json(o, c, balloon, p);
	json_object_put(o);
	return rc;
}

/* Serialized compactly (the caller frees nothing: json-c owns it while o
 * lives). */
static inline const char *api_str(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
}

#endif
