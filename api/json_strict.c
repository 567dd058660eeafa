/* SPDX-License-Identifier: Apache-2.0 */
/* Strict JSON input.  json-c 0.16 in JSON_TOKENER_STRICT mode still lets
 * through NaN and Infinity, "1.", "-01", raw control characters in
 * strings, invalid UTF-8, clamps integers beyond 64 bits and lets the last
 * of duplicate keys win.  So json-c parses (grammar, depth, escapes), then
 * one linear scan of the same text checks what it let through and counts
 * the keys, and a walk of the tree compares that count with the keys
 * json-c kept: they differ exactly when an object repeated a key, and
 * only then does a slower pass find which one to name it. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* Nesting depth of arrays and objects; json-c counts one more. */
#define VH_API_MAX_DEPTH 16

const char vh_api_clamped_marker = 'C';

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

size_t vh_api_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return 0; /* a continuation byte, 0xc0/0xc1 (overlong) or 0xf5.. */
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *vh_api_utf8_clean(char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len;) {
		size_t n = vh_api_utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
	return s;
}

/* ---- the scan ------------------------------------------------------------ */

struct scan {
	const unsigned char *b;
	size_t end;
	size_t keys;      /* ':' outside strings: one per key */
	size_t numbers;   /* number tokens */
	size_t *clamped;  /* ordinals of integer literals json-c clamped */
	size_t nclamped, cap_clamped;
};

/* Does the decimal literal d[0..n) exceed lim (both without sign or
 * leading zeros)? */
static bool digits_above(const unsigned char *d, size_t n, const char *lim)
{
	size_t ln = strlen(lim);

	if (n != ln)
		return n > ln;
	return memcmp(d, lim, n) > 0;
}

static int note_clamped(struct scan *s, size_t ordinal, struct vh_api_problem *p)
{
	if (s->nclamped == s->cap_clamped) {
		size_t cap = s->cap_clamped ? s->cap_clamped * 2 : 8;
		size_t *n = realloc(s->clamped, cap * sizeof(*n));
		if (!n)
			return vh_api_fail(p, VH_API_INTERNAL, "", "out of memory");
		s->clamped = n;
		s->cap_clamped = cap;
	}
	s->clamped[s->nclamped++] = ordinal;
	return 0;
}

/* A number token at *i, in RFC 8259's grammar exactly. */
static int scan_number(struct scan *s, size_t *i, struct vh_api_problem *p)
{
	const unsigned char *b = s->b;
	size_t at = *i, j = *i, digits;
	bool neg = false, integer = true;

	if (b[j] == '-')
		neg = true, j++;
	if (j >= s->end || !is_digit(b[j]))
		return vh_api_fail(
		    p, VH_API_BAD_JSON, "",
		    "malformed JSON at byte %zu: not a JSON number (NaN and Infinity "
		    "are not JSON)",
		    at);
	digits = j;
	if (b[j] == '0') {
		j++;
		if (j < s->end && is_digit(b[j]))
			return vh_api_fail(
			    p, VH_API_BAD_JSON, "",
			    "malformed JSON at byte %zu: a number with a leading zero", at);
	} else {
		while (j < s->end && is_digit(b[j]))
			j++;
	}
	size_t int_end = j;
	if (j < s->end && b[j] == '.') {
		integer = false;
		if (++j >= s->end || !is_digit(b[j]))
			return vh_api_fail(
			    p, VH_API_BAD_JSON, "",
			    "malformed JSON at byte %zu: a digit must follow the '.'", at);
		while (j < s->end && is_digit(b[j]))
			j++;
	}
	if (j < s->end && (b[j] == 'e' || b[j] == 'E')) {
		integer = false;
		j++;
		if (j < s->end && (b[j] == '+' || b[j] == '-'))
			j++;
		if (j >= s->end || !is_digit(b[j]))
			return vh_api_fail(
			    p, VH_API_BAD_JSON, "",
			    "malformed JSON at byte %zu: a digit must follow the exponent", at);
		while (j < s->end && is_digit(b[j]))
			j++;
	}
	size_t ordinal = s->numbers++;
	/* Negative literals below INT64_MIN clamp too, but every reader
	 * refuses a negative number anyway: only the positive side matters. */
	if (integer && !neg &&
	    digits_above(b + digits, int_end - digits, "18446744073709551615") &&
	    note_clamped(s, ordinal, p))
		return -1;
	*i = j;
	return 0;
}

/* A string token from the '"' at *i; *i ends on the closing quote. */
static int scan_string(struct scan *s, size_t *i, struct vh_api_problem *p)
{
	const unsigned char *b = s->b;
	size_t j = *i + 1;

	while (j < s->end && b[j] != '"') {
		unsigned char c = b[j];
		if (c == '\\') {
			/* json-c checked the escape; \u0000 would let "name\u0000x"
			 * pass as "name" (json-c's keys are C strings). */
			if (j + 5 < s->end && b[j + 1] == 'u' && !memcmp(b + j + 2, "0000", 4))
				return vh_api_fail(
				    p, VH_API_BAD_JSON, "",
				    "malformed JSON at byte %zu: \\u0000 is not allowed "
				    "in strings",
				    j);
			j += 2;
			continue;
		}
		if (c < 0x20)
			return vh_api_fail(
			    p, VH_API_BAD_JSON, "",
			    "malformed JSON at byte %zu: control character 0x%02x in a "
			    "string (escape it)",
			    j, c);
		size_t n = vh_api_utf8_seq(b + j, s->end - j);
		if (n == 0)
			return vh_api_fail(p, VH_API_BAD_JSON, "",
					   "malformed JSON at byte %zu: invalid UTF-8", j);
		j += n;
	}
	*i = j;
	return 0;
}

/* true, false or null, exactly, at i. */
static size_t literal_len(const struct scan *s, size_t i)
{
	static const char *const lits[] = { "true", "false", "null" };

	for (size_t k = 0; k < sizeof(lits) / sizeof(lits[0]); k++) {
		size_t n = strlen(lits[k]);
		if (i + n <= s->end && !memcmp(s->b + i, lits[k], n) &&
		    (i + n == s->end || !(s->b[i + n] >= 'a' && s->b[i + n] <= 'z')))
			return n;
	}
	return 0;
}

/* Outside strings only RFC 8259's tokens may appear (json-c lets through
 * NaN, Infinity and single-quoted keys). */
static int scan(struct scan *s, struct vh_api_problem *p)
{
	const unsigned char *b = s->b;

	for (size_t i = 0; i < s->end; i++) {
		unsigned char c = b[i];
		size_t n;
		if (c == '"') {
			if (scan_string(s, &i, p))
				return -1;
		} else if (c == '-' || is_digit(c)) {
			if (scan_number(s, &i, p))
				return -1;
			i--;
		} else if (c == ':') {
			s->keys++;
		} else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || is_ws(c)) {
			continue;
		} else if ((n = literal_len(s, i))) {
			i += n - 1;
		} else if (c == 'N' || c == 'I') {
			return vh_api_fail(
			    p, VH_API_BAD_JSON, "",
			    "malformed JSON at byte %zu: NaN and Infinity are not JSON", i);
		} else {
			return vh_api_fail(p, VH_API_BAD_JSON, "",
					   "malformed JSON at byte %zu: unexpected character", i);
		}
	}
	return 0;
}

/* ---- the tree ----------------------------------------------------------- */

struct walk {
	struct scan *s;
	size_t keys;
	size_t number;  /* ordinal of the next number node */
	size_t next_clamped;
};

/* Pre-order, members in insertion order: the order of the text, so the
 * n-th number node is the n-th number token (while no key repeated; when
 * one did the key counts differ and the parse fails anyway). */
static int walk(struct walk *w, struct json_object *o, struct vh_api_problem *p)
{
	switch (json_object_get_type(o)) {
	case json_type_object:
		w->keys += (size_t)json_object_object_length(o);
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (walk(w, v, p))
				return -1;
		}
		return 0;
	case json_type_array:
		for (size_t i = 0, n = json_object_array_length(o); i < n; i++) {
			if (walk(w, json_object_array_get_idx(o, i), p))
				return -1;
		}
		return 0;
	case json_type_int: {
		size_t ord = w->number++;
		if (w->next_clamped < w->s->nclamped && w->s->clamped[w->next_clamped] == ord) {
			json_object_set_userdata(o, (void *)&vh_api_clamped_marker, NULL);
			w->next_clamped++;
		}
		return 0;
	}
	case json_type_double:
		w->number++;
		if (!isfinite(json_object_get_double(o)))
			return vh_api_fail(
			    p, VH_API_BAD_JSON, "",
			    "malformed JSON: a number is beyond the range of a double");
		return 0;
	default:
		return 0;
	}
}

/* ---- naming a duplicate key --------------------------------------------- */

/* The end of the string token starting at the '"' at i (its closing
 * quote); the text is valid JSON here. */
static size_t string_end(const unsigned char *b, size_t end, size_t i)
{
	for (i++; i < end && b[i] != '"'; i++) {
		if (b[i] == '\\')
			i++;
	}
	return i;
}

/* Finds the first key repeated within one object, comparing unescaped
 * keys as json-c does ("a" and "\u0061" are the same key). */
static int name_duplicate(const unsigned char *b, size_t end, struct vh_api_problem *p)
{
	struct json_object *sets[VH_API_MAX_DEPTH + 2] = { 0 };
	int depth = 0, rc = -2;

	for (size_t i = 0; i < end && rc == -2; i++) {
		unsigned char c = b[i];
		if (c == '{' || c == '[') {
			if (depth == (int)(sizeof(sets) / sizeof(sets[0])))
				break;
			sets[depth++] = c == '{' ? json_object_new_object() : NULL;
		} else if (c == '}' || c == ']') {
			if (depth > 0) {
				json_object_put(sets[--depth]);
				sets[depth] = NULL;
			}
		} else if (c == '"') {
			size_t j = string_end(b, end, i), k = j + 1;
			while (k < end && is_ws(b[k]))
				k++;
			if (k < end && b[k] == ':' && depth > 0 && sets[depth - 1]) {
				struct json_tokener *t = json_tokener_new();
				struct json_object *key =
				    t ? json_tokener_parse_ex(t, (const char *)b + i,
							      (int)(j + 1 - i))
				      : NULL;
				const char *ks = key ? json_object_get_string(key) : NULL;
				if (ks && json_object_object_get_ex(sets[depth - 1], ks, NULL)) {
					char shown[48];
					snprintf(shown, sizeof(shown), "%s", ks);
					rc = vh_api_fail(
					    p, VH_API_BAD_JSON, "",
					    "malformed JSON at byte %zu: duplicate key \"%s\"", i,
					    vh_api_utf8_clean(shown));
				} else if (ks) {
					json_object_object_add(sets[depth - 1], ks, NULL);
				}
				json_object_put(key);
				if (t)
					json_tokener_free(t);
			}
			i = j;
		}
	}
	while (depth > 0)
		json_object_put(sets[--depth]);
	if (rc == -2)
		rc = vh_api_fail(p, VH_API_BAD_JSON, "", "malformed JSON: an object repeats a key");
	return rc;
}

/* ---- vh_api_parse --------------------------------------------------------- */

static int tokener_fail(enum json_tokener_error e, size_t at, struct vh_api_problem *p)
{
	if (e == json_tokener_error_depth)
		return vh_api_fail(p, VH_API_BAD_JSON, "",
				   "malformed JSON at byte %zu: nested deeper than %d levels", at,
				   VH_API_MAX_DEPTH);
	return vh_api_fail(p, VH_API_BAD_JSON, "", "malformed JSON at byte %zu: %s", at,
			   json_tokener_error_desc(e));
}

int vh_api_parse(const char *buf, size_t len, struct json_object **out, struct vh_api_problem *p)
{
	const unsigned char *b = (const unsigned char *)buf;
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;
	size_t end, i;
	int rc = -1;

	*out = NULL;
	for (i = 0; i < len && is_ws(b[i]); i++)
		;
	if (i == len)
		return vh_api_fail(p, VH_API_BAD_JSON, "",
				   "the body is empty: a JSON value is required");
	if (len > INT_MAX)
		return vh_api_fail(p, VH_API_TOO_LARGE, "", "the body is over %d bytes", INT_MAX);
	tok = json_tokener_new_ex(VH_API_MAX_DEPTH + 1);
	if (!tok)
		return vh_api_fail(p, VH_API_INTERNAL, "", "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!o && e == json_tokener_continue) {
		/* All consumed and nothing returned: a bare number waits for
		 * its end, anything else is cut short.  A NUL ends both. */
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	/* json-c returns JSON null as NULL with json_tokener_success. */
	if (e != json_tokener_success)
		return tokener_fail(e, end, p);
	for (i = end; i < len; i++) {
		if (!is_ws(b[i])) {
			vh_api_fail(p, VH_API_BAD_JSON, "",
				    "malformed JSON at byte %zu: data after the JSON value", i);
			goto out;
		}
	}

	struct scan s = { .b = b, .end = end };
	struct walk w = { .s = &s };
	if (scan(&s, p) == 0 && walk(&w, o, p) == 0) {
		if (w.keys != s.keys)
			name_duplicate(b, end, p);
		else
			rc = 0;
	}
	free(s.clamped);
out:
	if (rc)
		json_object_put(o);
	else
		*out = o;
	return rc;
}
