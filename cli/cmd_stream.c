/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl console VM [-f] [--raw] and vhctl events [-f]: the agent's
 * streams (GET /v1/vms/{vm}/console, GET /v1/events).
 *
 * A console holds whatever the guest wrote, and the guest is not
 * trusted: an escape sequence printed as it is would drive the
 * operator's terminal (move the cursor, rewrite what is on the screen,
 * set the window title, on some terminals answer back into the input).
 * So vhctl prints printable characters, newlines and tabs as they are,
 * every other control character in caret notation (ESC as ^[, a lone CR
 * as ^M; CR LF as a newline), the C1 controls (U+0080..U+009F, whose
 * 0x9B is the one-byte CSI) as \u0080.., and bytes that are not UTF-8 as
 * \xHH; --raw writes the bytes untouched (for a pipe, or a trusted
 * guest).  An event's text goes through the same filter. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

/* ---- the terminal-safe filter ------------------------------------------------ */

struct safe {
	FILE *out;
	bool raw;
	unsigned char pend[4]; /* an unfinished UTF-8 sequence or a CR */
	size_t npend;
};

static size_t utf8_len(unsigned char b)
{
	return b >= 0xc2 && b <= 0xdf   ? 2
	       : b >= 0xe0 && b <= 0xef ? 3
	       : b >= 0xf0 && b <= 0xf4 ? 4
					: 0;
}

/* Whether s[0..n) is one whole, valid UTF-8 sequence (no overlong form,
 * no surrogate, at most U+10FFFF). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return false;
	if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f)))
		return false;
	if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f)))
		return false;
	return true;
}

static void put_byte(struct safe *s, unsigned char b)
{
	if (b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7f))
		fputc(b, s->out);
	else if (b < 0x20 || b == 0x7f)
		fprintf(s->out, "^%c", b ^ 0x40);
	else
		fprintf(s->out, "\\x%02x", b);
}

/* Feeds one byte; sequences and CR wait in pend until they are whole. */
static void safe_byte(struct safe *s, unsigned char b)
{
	if (s->npend && s->pend[0] == '\r') {
		s->npend = 0;
		if (b == '\n') {
			fputc('\n', s->out);
			return;
		}
		fputs("^M", s->out);
	}
	if (s->npend) {
		size_t want = utf8_len(s->pend[0]);

		if ((b & 0xc0) != 0x80) {
			/* Cut short: the lead and what followed are not UTF-8. */
			for (size_t i = 0; i < s->npend; i++)
				put_byte(s, s->pend[i]);
			s->npend = 0;
		} else {
			s->pend[s->npend++] = b;
			if (s->npend < want)
				return;
			if (!utf8_ok(s->pend, want))
				for (size_t i = 0; i < want; i++)
					put_byte(s, s->pend[i]);
			else if (s->pend[0] == 0xc2 && s->pend[1] < 0xa0)
				fprintf(s->out, "\\u%04x", s->pend[1]); /* a C1 control */
			else
				fwrite(s->pend, 1, want, s->out);
			s->npend = 0;
			return;
		}
	}
	if (b == '\r' || utf8_len(b)) {
		s->pend[s->npend++] = b;
		return;
	}
	put_byte(s, b);
}

static void safe_write(struct safe *s, const char *data, size_t len)
{
	if (s->raw) {
		fwrite(data, 1, len, s->out);
		return;
	}
	for (size_t i = 0; i < len; i++)
		safe_byte(s, (unsigned char)data[i]);
}

/* The end of the stream: an unfinished sequence is shown as bytes. */
static void safe_end(struct safe *s)
{
	for (size_t i = 0; i < s->npend; i++)
		put_byte(s, s->pend[i]);
	s->npend = 0;
}

/* ---- vhctl console ------------------------------------------------------------------ */

static int console_sink(void *ctx, const char *data, size_t len)
{
	struct safe *s = ctx;

	safe_write(s, data, len);
	fflush(s->out);
	return ferror(s->out) ? -1 : 0;
}

/* A streamed GET: the body to sink, a problem printed.  0 or an exit code. */
static int stream_get(struct vhctl *c, const char *path, const char *header, vhctl_sink_fn sink,
		      void *ctx)
{
	struct vhctl_resp resp;
	int rc = vhctl_stream(c, path, header, sink, ctx, &resp);

	if (rc)
		return rc;
	if (resp.status < 200 || resp.status > 299)
		rc = vhctl_problem(c, &resp);
	vhctl_resp_free(&resp);
	return rc;
}

int vhctl_cmd_console(struct vhctl *c, int argc, char **argv)
{
	const char *name = NULL;
	bool follow = false, raw = false;
	const struct vhctl_opt opts[] = {
		{ "follow", 'f', NULL, &follow },
		{ "raw", 0, NULL, &raw },
		{ NULL, 0, NULL, NULL },
	};
	struct safe s = { .out = stdout };
	char *path;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	s.raw = raw;
	path = vhctl_path("/v1/vms/", name, follow ? "/console?follow=true" : "/console");
	rc = stream_get(c, path, NULL, console_sink, &s);
	safe_end(&s);
	fflush(stdout);
	free(path);
	return rc;
}

/* ---- vhctl events -------------------------------------------------------------------- */

/* Server-sent events, line by line across the chunks they come in. */
struct sse {
	struct vhctl *c;
	struct safe s;
	char line[8192];
	size_t n;
	bool overlong;
	char *data; /* the record's data line */
};

static void print_event(struct sse *e)
{
	struct json_object *o = e->data ? json_tokener_parse(e->data) : NULL;
	char text[1024];

	if (!o) {
		fprintf(stderr, "vhctl: an event that is not JSON was skipped\n");
		return;
	}
	if (e->c->out == VHCTL_OUT_JSON) {
		/* Whole, however long: a JSON line cut short would not parse. */
		const char *j = json_object_to_json_string_ext(
		    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		safe_write(&e->s, j, strlen(j));
		text[0] = '\n';
		text[1] = '\0';
	} else {
		struct json_object *rest = json_object_new_object();
		const char *vm = vhctl_jstr(o, "vm.name");

		/* What is left once the columns took theirs, as JSON. */
		json_object_object_foreach(o, k, v)
		{
			if (strcmp(k, "id") && strcmp(k, "time") && strcmp(k, "type") &&
			    strcmp(k, "vm"))
				json_object_object_add(rest, k, json_object_get(v));
		}
		snprintf(text, sizeof(text), "%-6llu %-24s %-18s %-16s %s\n",
			 (unsigned long long)vhctl_ju64(o, "id"), vhctl_jstr(o, "time"),
			 vhctl_jstr(o, "type"), *vm ? vm : "-",
			 json_object_object_length(rest)
			     ? json_object_to_json_string_ext(
				   rest, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
			     : "");
		json_object_put(rest);
	}
	json_object_put(o);
	safe_write(&e->s, text, strlen(text));
	fflush(e->s.out);
}

static void sse_line(struct sse *e)
{
	e->line[e->n] = '\0';
	if (e->n && e->line[e->n - 1] == '\r')
		e->line[--e->n] = '\0';
	if (e->n == 0) {
		if (e->data)
			print_event(e);
		free(e->data);
		e->data = NULL;
	} else if (!strncmp(e->line, "data: ", 6)) {
		free(e->data);
		e->data = strdup(e->line + 6);
	} /* id:, event: (in the data too) and ": heartbeat" comments */
	e->n = 0;
}

static int sse_sink(void *ctx, const char *data, size_t len)
{
	struct sse *e = ctx;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			if (!e->overlong)
				sse_line(e);
			e->overlong = false;
			e->n = 0;
		} else if (e->n + 1 < sizeof(e->line)) {
			e->line[e->n++] = data[i];
		} else {
			e->overlong = true; /* dropped: no event of ours is that long */
		}
	}
	return ferror(e->s.out) ? -1 : 0;
}

int vhctl_cmd_events(struct vhctl *c, int argc, char **argv)
{
	const char *since = NULL;
	bool follow = false;
	const struct vhctl_opt opts[] = {
		{ "follow", 'f', NULL, &follow },
		{ "since", 0, &since, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct sse e = { .c = c, .s = { .out = stdout } };
	char header[64] = "", *end;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, NULL, 0, 0)) < 0)
		return vhctl_parse_exit(n);
	if (since) {
		unsigned long long id = strtoull(since, &end, 10);

		if (*since < '0' || *since > '9' || *end)
			return vhctl_usage_error(c, "--since \"%s\": an event id (a number)",
						 since);
		snprintf(header, sizeof(header), "Last-Event-ID: %llu", id);
	}
	if (c->out != VHCTL_OUT_JSON)
		printf("%-6s %-24s %-18s %-16s %s\n", "ID", "TIME", "TYPE", "VM", "DETAIL");
	fflush(stdout);
	rc = stream_get(c, follow ? "/v1/events?follow=true" : "/v1/events", since ? header : NULL,
			sse_sink, &e);
	free(e.data);
	return rc;
}
