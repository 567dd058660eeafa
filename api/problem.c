/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9457 problem details: stable codes, their HTTP statuses, and the
 * hypervisor's errors translated into the API's vocabulary.  Clients
 * switch on `code` (and `field`), never on the human text. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

struct code_info {
	const char *name;
	int status;
	const char *title;
};

/* The names are the contract (api/openapi.yaml lists them in the Problem
 * schema's enum): never rename one. */
static const struct code_info codes[VH_API_CODE_COUNT] = {
	[VH_API_OK] = { "ok", 200, "OK" },
	[VH_API_BAD_JSON] = { "bad_json", 400, "Malformed JSON" },
	[VH_API_INVALID_FIELD] = { "invalid_field", 422, "Invalid field" },
	[VH_API_MISSING_FIELD] = { "missing_field", 422, "Missing field" },
	[VH_API_NOT_FOUND] = { "not_found", 404, "Not found" },
	[VH_API_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405, "Method not allowed" },
	[VH_API_CONFLICT] = { "conflict", 409, "Conflict" },
	[VH_API_ADMISSION] = { "admission", 409, "Admission control refused the reservation" },
	[VH_API_PRECONDITION] = { "precondition_failed", 412, "Precondition failed" },
	[VH_API_PRECONDITION_REQUIRED] = { "precondition_required", 428, "Precondition required" },
	[VH_API_TOO_LARGE] = { "too_large", 413, "Request body too large" },
	[VH_API_UNSUPPORTED_MEDIA] = { "unsupported_media_type", 415, "Unsupported media type" },
	[VH_API_UNAUTHORIZED] = { "unauthorized", 401, "Unauthorized" },
	[VH_API_FORBIDDEN] = { "forbidden", 403, "Forbidden" },
	[VH_API_LIMIT] = { "limit", 409, "A hard limit is reached" },
	[VH_API_BUSY] = { "busy", 503, "Busy, try again" },
	[VH_API_UNAVAILABLE] = { "unavailable", 503, "The hypervisor is unavailable" },
	[VH_API_CHECKSUM] = { "checksum_mismatch", 422, "Checksum mismatch" },
	[VH_API_INTERNAL] = { "internal", 500, "Internal error" },
	[VH_API_IDEMPOTENCY_MISMATCH] = { "idempotency_mismatch", 422,
					  "Idempotency key reused with a different request" },
	[VH_API_TOO_MANY_REQUESTS] = { "too_many_requests", 429, "Too many requests" },
	[VH_API_BAD_REQUEST] = { "bad_request", 400, "Bad request" },
	[VH_API_INSUFFICIENT_STORAGE] = { "insufficient_storage", 507, "Insufficient storage" },
	[VH_API_TIMEOUT] = { "hypervisor_timeout", 504, "The hypervisor did not answer in time" },
	[VH_API_SIMULATION_TIMEOUT] = { "simulation_timeout", 504,
					"The simulation did not finish in time" },
};

static const struct code_info *info_of(enum vh_api_code code)
{
	if ((unsigned)code < VH_API_CODE_COUNT && codes[code].name)
		return &codes[code];
	return &codes[VH_API_INTERNAL];
}

int vh_api_fail(struct vh_api_problem *p, enum vh_api_code code, const char *field,
		const char *fmt, ...)
{
	va_list ap;

	if (!p)
		return -1;
	p->code = code;
	snprintf(p->field, sizeof(p->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	return -1;
}

int vh_api_http_status(enum vh_api_code code)
{
	return info_of(code)->status;
}

const char *vh_api_code_name(enum vh_api_code code)
{
	return info_of(code)->name;
}

enum vh_api_code vh_api_code_from_name(const char *name)
{
	for (unsigned i = 0; name && i < VH_API_CODE_COUNT; i++) {
		if (codes[i].name && !strcmp(codes[i].name, name))
			return (enum vh_api_code)i;
	}
	return VH_API_CODE_COUNT;
}

/* ---- the hypervisor's errors ------------------------------------------- */

static enum vh_api_code code_of_errcode(uint32_t code)
{
	switch (code) {
	case VH_E_INVAL: return VH_API_INVALID_FIELD;
	case VH_E_NOENT: return VH_API_NOT_FOUND;
	case VH_E_EXIST: return VH_API_CONFLICT;
	case VH_E_STATE: return VH_API_CONFLICT;
	case VH_E_ADMISSION: return VH_API_ADMISSION;
	case VH_E_LIMIT: return VH_API_LIMIT;
	/* The hypervisor out of metadata memory is transient: VMs stop and
	 * give it back. */
	case VH_E_NOMEM: return VH_API_BUSY;
	case VH_E_BUSY: return VH_API_BUSY;
	default: return VH_API_INTERNAL; /* PROTO, VERSION, INTERNAL: our bug */
	}
}

/* The protocol's field paths name wire records; the API's name JSON
 * members.  Table-driven: a prefix of the wire's name and what replaces
 * it (an empty replacement drops the field: it is the agent's own message
 * at fault, not anything the client sent). */
struct field_map {
	const char *wire;
	bool whole; /* the entire field must match, else a prefix */
	const char *api;
};

static const struct field_map field_maps[] = {
	{ "cpu.shares.", false, "cpu.shares" },
	{ "memory.shares.", false, "memory.shares" },
	{ "boot.nmodules", true, "boot.modules" },
	{ "ndevices", true, "devices" },
	{ "vm.", false, "vm" },
	{ "balloon.target", true, "balloon.target_mib" },
	{ "header", false, "" },
	{ "type", true, "" },
	{ "reserved", true, "" },
	{ "buffer", true, "" },
	{ "error.", false, "" },
	{ "console.", false, "" },
	{ "host.", false, "" },
};

static void translate_field(const char *wire, char *out, size_t cap)
{
	size_t n = strlen(wire);

	for (size_t i = 0; i < sizeof(field_maps) / sizeof(field_maps[0]); i++) {
		const struct field_map *m = &field_maps[i];
		size_t k = strlen(m->wire);
		if (m->whole ? !strcmp(wire, m->wire) : !strncmp(wire, m->wire, k)) {
			snprintf(out, cap, "%s", m->api);
			return;
		}
	}
	/* boot.modules[N].args is the API's boot.modules[N].cmdline. */
	if (!strncmp(wire, "boot.modules[", 13) && n > 5 && !strcmp(wire + n - 5, ".args") &&
	    n - 5 + sizeof(".cmdline") <= cap) {
		memcpy(out, wire, n - 5);
		memcpy(out + n - 5, ".cmdline", sizeof(".cmdline"));
		return;
	}
	/* devices[N].type and .flags: the API names a device, not its parts. */
	if (!strncmp(wire, "devices[", 8)) {
		const char *dot = strchr(wire, '.');
		snprintf(out, cap, "%.*s", (int)(dot ? (size_t)(dot - wire) : n), wire);
		return;
	}
	snprintf(out, cap, "%s", wire);
}

void vh_api_from_proto_error(const struct vh_proto_error *e, struct vh_api_problem *p)
{
	char wire[VH_PROTO_FIELD_MAX];

	/* The wire's strings are terminated by the decoder; be safe anyway. */
	snprintf(wire, sizeof(wire), "%.*s", (int)sizeof(wire) - 1, e->field);
	p->code = code_of_errcode(e->code);
	translate_field(wire, p->field, sizeof(p->field));
	snprintf(p->detail, sizeof(p->detail), "%.*s", (int)sizeof(e->reason), e->reason);
	if (!p->detail[0])
		snprintf(p->detail, sizeof(p->detail), "the hypervisor refused the request (%s)",
			 vh_errcode_name((enum vh_errcode)e->code));
}

/* The field at fault is the reason's prefix up to ": " when it looks like
 * a field path, as the dispatcher lifts it (proto_dispatch.c). */
void vh_api_from_vh_error(const struct vh_error *e, struct vh_api_problem *p)
{
	struct vh_proto_error pe = { .code = (uint32_t)e->code };
	size_t n = 0;

	for (;; n++) {
		char ch = e->reason[n];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '[' ||
			  ch == ']';
		if (!ok)
			break;
	}
	if (n == 0 || n >= sizeof(pe.field) || e->reason[n] != ':' || e->reason[n + 1] != ' ')
		n = 0;
	memcpy(pe.field, e->reason, n);
	pe.field[n] = '\0';
	snprintf(pe.reason, sizeof(pe.reason), "%s", e->reason);
	vh_api_from_proto_error(&pe, p);
}

/* ---- application/problem+json ------------------------------------------ */

char *vh_api_problem_json(const struct vh_api_problem *p, const char *instance)
{
	const struct code_info *ci = info_of(p->code);
	struct json_object *o = json_object_new_object();
	char type[96];
	char *out = NULL;
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	snprintf(type, sizeof(type), "https://vh.dev/problems/%s", ci->name);
	ok &= vh_api_add(o, "type", json_object_new_string(type));
	ok &= vh_api_add(o, "title", json_object_new_string(ci->title));
	ok &= vh_api_add(o, "status", json_object_new_int(ci->status));
	/* The detail and field may hold bytes a client sent: json-c escapes
	 * them, and a truncated UTF-8 sequence is cut back to a whole one. */
	char detail[VH_API_DETAIL_MAX], field[VH_API_FIELD_MAX];
	snprintf(detail, sizeof(detail), "%s", p->detail[0] ? p->detail : ci->title);
	snprintf(field, sizeof(field), "%s", p->field);
	ok &= vh_api_add(o, "detail", json_object_new_string(vh_api_utf8_clean(detail)));
	ok &= vh_api_add(o, "code", json_object_new_string(ci->name));
	if (field[0])
		ok &= vh_api_add(o, "field", json_object_new_string(vh_api_utf8_clean(field)));
	if (instance && instance[0]) {
		char inst[512];
		snprintf(inst, sizeof(inst), "%s", instance);
		ok &= vh_api_add(o, "instance", json_object_new_string(vh_api_utf8_clean(inst)));
	}
	if (ok)
		out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}
