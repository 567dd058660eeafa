/* SPDX-License-Identifier: Apache-2.0 */
/* Aligned tables, the default output: columns as wide as their widest
 * cell, two spaces apart, numbers right-aligned; the last column is not
 * padded, so lines carry no trailing blanks.  Widths count characters,
 * not bytes (names are ASCII, but a cmdline may not be). */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

/* The widest table vhctl prints has 13 columns. */
#define MAX_COLS 16

struct vhctl_table {
	size_t ncols, nrows, cap;
	bool header;
	bool *right;
	char **cells; /* row-major, header first when there is one */
	const char **sgr; /* per cell: an SGR parameter string ("1;31") or NULL */
};

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "vhctl: out of memory\n");
		exit(VHCTL_ERROR);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fprintf(stderr, "vhctl: out of memory\n");
		exit(VHCTL_ERROR);
	}
	return d;
}

static void add(struct vhctl_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
		t->sgr = xrealloc(t->sgr, t->cap * t->ncols * sizeof(char *));
	}
	for (size_t i = 0; i < t->ncols; i++) {
		t->cells[t->nrows * t->ncols + i] = xstrdup(cells[i] ? cells[i] : "-");
		t->sgr[t->nrows * t->ncols + i] = NULL;
	}
	t->nrows++;
}

struct vhctl_table *vhctl_table_new(size_t ncols, const char *const *headers)
{
	struct vhctl_table *t = xrealloc(NULL, sizeof(*t));

	if (ncols == 0 || ncols > MAX_COLS) {
		fprintf(stderr, "vhctl: internal error: a table of %zu columns\n", ncols);
		exit(VHCTL_ERROR);
	}
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = xrealloc(NULL, ncols * sizeof(bool));
	for (size_t i = 0; i < ncols; i++)
		t->right[i] = headers && headers[i][0] == '>';
	if (headers) {
		const char *h[MAX_COLS];

		for (size_t i = 0; i < ncols; i++)
			h[i] = headers[i] + (headers[i][0] == '>');
		add(t, h);
		t->header = true;
	}
	return t;
}

void vhctl_table_row(struct vhctl_table *t, const char *const *cells)
{
	add(t, cells);
}

void vhctl_table_rowf(struct vhctl_table *t, const char *fmt, ...)
{
	const char *cells[MAX_COLS];
	char *line, *p;
	va_list ap;
	size_t i = 0;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "vhctl: out of memory\n");
		exit(VHCTL_ERROR);
	}
	/* The last cell keeps any tabs of its own (a cmdline may have one). */
	for (p = line; i < t->ncols; i++) {
		cells[i] = p;
		if (p && i + 1 < t->ncols && (p = strchr(p, '\t')))
			*p++ = '\0';
	}
	add(t, cells);
	free(line);
}

void vhctl_table_style(struct vhctl_table *t, size_t col, const char *sgr)
{
	if (t->nrows && col < t->ncols)
		t->sgr[(t->nrows - 1) * t->ncols + col] = sgr;
}

/* Characters, counting each UTF-8 sequence once. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void vhctl_table_print(const struct vhctl_table *t, FILE *f)
{
	size_t w[MAX_COLS];

	memset(w, 0, sizeof(w));
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t cw = width(t->cells[r * t->ncols + i]);
			if (cw > w[i])
				w[i] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];
			const char *sgr = t->sgr[r * t->ncols + i];
			size_t pad = w[i] - width(s);
			bool last = i + 1 == t->ncols;

			if (i)
				fputs("  ", f);
			/* The escapes around the text only: widths stay the text's. */
			if (t->right[i])
				fprintf(f, "%*s", (int)pad, "");
			if (sgr)
				fprintf(f, "\033[%sm%s\033[0m", sgr, s);
			else
				fputs(s, f);
			if (!t->right[i])
				fprintf(f, "%*s", last ? 0 : (int)pad, "");
		}
		fputc('\n', f);
	}
}

void vhctl_table_free(struct vhctl_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->sgr);
	free(t->right);
	free(t);
}

/* ---- values ------------------------------------------------------------------- */

void vhctl_fmt_mib(struct json_object *v, char *out, size_t cap)
{
	if (!v || json_object_is_type(v, json_type_null))
		snprintf(out, cap, "unlimited");
	else if (json_object_is_type(v, json_type_int))
		vh_api_format_mib(json_object_get_uint64(v), out, cap);
	else
		snprintf(out, cap, "?");
}

void vhctl_fmt_mhz(struct json_object *v, char *out, size_t cap)
{
	uint64_t mhz;

	if (!v || json_object_is_type(v, json_type_null)) {
		snprintf(out, cap, "unlimited");
		return;
	}
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(out, cap, "?");
		return;
	}
	mhz = json_object_get_uint64(v);
	/* As people write rates: 2GHz, 1.5GHz, 500MHz. */
	if (mhz && mhz % 1000 == 0)
		snprintf(out, cap, "%lluGHz", (unsigned long long)(mhz / 1000));
	else if (mhz > 1000 && mhz % 100 == 0)
		snprintf(out, cap, "%llu.%lluGHz", (unsigned long long)(mhz / 1000),
			 (unsigned long long)(mhz % 1000 / 100));
	else
		snprintf(out, cap, "%lluMHz", (unsigned long long)mhz);
}

void vhctl_fmt_shares(struct json_object *v, char *out, size_t cap)
{
	if (v && json_object_is_type(v, json_type_string))
		snprintf(out, cap, "%s", json_object_get_string(v));
	else if (v && json_object_is_type(v, json_type_int))
		snprintf(out, cap, "%llu", (unsigned long long)json_object_get_uint64(v));
	else
		snprintf(out, cap, "?");
}

void vhctl_fmt_mibf(double mib, char *out, size_t cap)
{
	/* Whole MiB as such; small figures (a few pages) keep two decimals. */
	if (mib == (double)(uint64_t)mib)
		snprintf(out, cap, "%lluM", (unsigned long long)mib);
	else if (mib < 10)
		snprintf(out, cap, "%.2fM", mib);
	else
		snprintf(out, cap, "%.1fM", mib);
}
