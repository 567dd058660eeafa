/* SPDX-License-Identifier: Apache-2.0 */
/* A small streaming JSON writer for vh-sim's reports: objects, arrays,
 * strings (escaped), integers and fixed-point numbers, indented two
 * spaces.  Nesting errors abort: they are programming errors. */
#ifndef VH_SIM_JSON_OUT_H
#define VH_SIM_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define VH_JSON_MAX_DEPTH 16

struct vh_json {
	FILE *f;
	int depth;
	bool first[VH_JSON_MAX_DEPTH];
	bool in_array[VH_JSON_MAX_DEPTH];
	bool after_key;
};

void vh_json_init(struct vh_json *j, FILE *f);
/* key is NULL inside arrays and for the top-level value. */
void vh_json_begin_object(struct vh_json *j, const char *key);
void vh_json_end_object(struct vh_json *j);
void vh_json_begin_array(struct vh_json *j, const char *key);
void vh_json_end_array(struct vh_json *j);
void vh_json_string(struct vh_json *j, const char *key, const char *value);
void vh_json_u64(struct vh_json *j, const char *key, uint64_t value);
void vh_json_i64(struct vh_json *j, const char *key, int64_t value);
void vh_json_bool(struct vh_json *j, const char *key, bool value);
void vh_json_null(struct vh_json *j, const char *key);
/* A finite double with the given decimals (percentages, ratios). */
void vh_json_fixed(struct vh_json *j, const char *key, double value, int decimals);
/* Ends the document with a newline. */
void vh_json_finish(struct vh_json *j);

#endif
