/* SPDX-License-Identifier: Apache-2.0 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "json_out.h"

void vh_json_init(struct vh_json *j, FILE *f)
{
	*j = (struct vh_json){ .f = f, .depth = 0 };
	j->first[0] = true;
}

static void indent(struct vh_json *j)
{
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void write_escaped(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Comma, newline, indentation and the key, as the position requires. */
static void prefix(struct vh_json *j, const char *key)
{
	bool array = j->depth > 0 && j->in_array[j->depth];

	if (j->depth > 0) {
		if ((key == NULL) != array) {
			fprintf(stderr, "json: %s inside %s\n", key ? "key" : "bare value",
				array ? "an array" : "an object");
			abort();
		}
		if (!j->first[j->depth])
			fputc(',', j->f);
		j->first[j->depth] = false;
		indent(j);
	}
	if (key) {
		write_escaped(j->f, key);
		fputs(": ", j->f);
	}
}

static void container_open(struct vh_json *j, const char *key, char c, bool array)
{
	prefix(j, key);
	fputc(c, j->f);
	if (++j->depth >= VH_JSON_MAX_DEPTH) {
		fprintf(stderr, "json: nested too deep\n");
		abort();
	}
	j->first[j->depth] = true;
	j->in_array[j->depth] = array;
}

static void container_close(struct vh_json *j, char c, bool array)
{
	if (j->depth == 0 || j->in_array[j->depth] != array) {
		fprintf(stderr, "json: unbalanced %c\n", c);
		abort();
	}
	bool empty = j->first[j->depth];
	j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void vh_json_begin_object(struct vh_json *j, const char *key)
{
	container_open(j, key, '{', false);
}
void vh_json_end_object(struct vh_json *j) { container_close(j, '}', false); }
void vh_json_begin_array(struct vh_json *j, const char *key) { container_open(j, key, '[', true); }
void vh_json_end_array(struct vh_json *j) { container_close(j, ']', true); }

void vh_json_string(struct vh_json *j, const char *key, const char *value)
{
	prefix(j, key);
	write_escaped(j->f, value);
}

void vh_json_u64(struct vh_json *j, const char *key, uint64_t value)
{
	prefix(j, key);
	fprintf(j->f, "%" PRIu64, value);
}

void vh_json_i64(struct vh_json *j, const char *key, int64_t value)
{
	prefix(j, key);
	fprintf(j->f, "%" PRId64, value);
}

void vh_json_bool(struct vh_json *j, const char *key, bool value)
{
	prefix(j, key);
	fputs(value ? "true" : "false", j->f);
}

void vh_json_null(struct vh_json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}

void vh_json_fixed(struct vh_json *j, const char *key, double value, int decimals)
{
	prefix(j, key);
	if (!isfinite(value))
		fputs("null", j->f); /* JSON has no NaN or infinity */
	else
		fprintf(j->f, "%.*f", decimals, value);
}

void vh_json_finish(struct vh_json *j)
{
	if (j->depth != 0) {
		fprintf(stderr, "json: document ends inside a container\n");
		abort();
	}
	fputc('\n', j->f);
	fflush(j->f);
}
