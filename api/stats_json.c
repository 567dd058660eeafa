/* SPDX-License-Identifier: Apache-2.0 */
/* Statistics and the host as JSON, in ESX's vocabulary (cpu used, ready,
 * costop, wait; memory granted, consumed, active, shared, balloon,
 * swapped, overhead) so dashboards map one to one.  Times are whole
 * milliseconds; memory is MiB with 3 decimals (counters are pages). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

const char *vh_api_exit_kind_name(unsigned kind)
{
	return kind < VH_EXIT_KIND_COUNT ? vh_exit_kind_name((enum vh_exit_kind)kind) : NULL;
}

/* The digits of pages as MiB: whole thousandths, rounded half up, in
 * integers (a double would print 0.00390625 as 0.0039062500000000002 with
 * json-c's "%.17g"); trailing zeros dropped but one ("256.0", "0.5"). */
static size_t mib_digits(uint64_t pages, uint64_t page_size, char s[40])
{
	unsigned __int128 milli =
	    ((unsigned __int128)pages * page_size * 1000 + VH_MIB / 2) / VH_MIB;
	uint64_t whole = (uint64_t)(milli / 1000);
	unsigned frac = (unsigned)(milli % 1000);
	char d[24];
	size_t i = sizeof(d), n;

	/* By hand, not snprintf: GET /v1/stats writes a thousand per request. */
	do
		d[--i] = (char)('0' + whole % 10);
	while ((whole /= 10));
	n = sizeof(d) - i;
	memcpy(s, d + i, n);
	s[n++] = '.';
	s[n++] = (char)('0' + frac / 100);
	s[n++] = (char)('0' + frac / 10 % 10);
	s[n++] = (char)('0' + frac % 10);
	while (s[n - 1] == '0' && s[n - 2] != '.')
		n--;
	s[n] = '\0';
	return n;
}

struct json_object *vh_api_mib_of_pages(uint64_t pages, uint64_t page_size)
{
	char s[40];

	mib_digits(pages, page_size, s);
	return json_object_new_double_s((double)pages * (double)page_size / (double)VH_MIB, s);
}

static struct json_object *ms(uint64_t ns)
{
	return json_object_new_uint64(ns / VH_NSEC_PER_MSEC);
}

/* The CPU figures in their order, for both writers: times in whole
 * milliseconds, then the count of runs. */
#define CPU_ROWS 7
struct cpu_row {
	const char *key;
	uint64_t value;
};

static void cpu_rows(const struct vh_cpu_stats *c, struct cpu_row rows[CPU_ROWS])
{
	const struct cpu_row r[CPU_ROWS] = {
		{ "used_ms", c->used_ns / VH_NSEC_PER_MSEC },
		{ "ready_ms", c->ready_ns / VH_NSEC_PER_MSEC },
		/* Part of ready: held back by the VM's own limit (ESX's %MLMTD). */
		{ "limited_ms", c->limited_ns / VH_NSEC_PER_MSEC },
		/* Part of ready: taken by the pCPU's host (vh-hosted: Linux). */
		{ "stolen_ms", c->stolen_ns / VH_NSEC_PER_MSEC },
		{ "costop_ms", c->costop_ns / VH_NSEC_PER_MSEC },
		{ "wait_ms", c->wait_ns / VH_NSEC_PER_MSEC },
		{ "runs", c->runs },
	};

	memcpy(rows, r, sizeof(r));
}

static struct json_object *cpu_stats_json(const struct vh_cpu_stats *c)
{
	struct cpu_row rows[CPU_ROWS];
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	cpu_rows(c, rows);
	for (size_t i = 0; ok && i < CPU_ROWS; i++)
		ok = vh_api_add(o, rows[i].key, json_object_new_uint64(rows[i].value));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The memory figures in their order, for both writers. */
#define MEM_ROWS 10
struct mem_row {
	const char *key;
	uint64_t pages;
};

static void mem_rows(const struct vh_mem_stats *m, struct mem_row rows[MEM_ROWS])
{
	const struct mem_row r[MEM_ROWS] = {
		{ "granted_mib", m->granted },
		{ "consumed_mib", m->consumed },
		{ "active_mib", m->active },
		{ "shared_mib", m->shared },
		{ "balloon_mib", m->balloon },
		{ "swapped_mib", m->swapped },
		{ "overhead_mib", m->overhead },
		/* Why the balloon target is what it is. */
		{ "entitled_mib", m->entitled },
		{ "reclaim_target_mib", m->reclaim_target },
		{ "idle_tax_mib", m->idle_tax },
	};

	memcpy(rows, r, sizeof(r));
}

static struct json_object *mem_stats_json(const struct vh_mem_stats *m)
{
	struct mem_row rows[MEM_ROWS];
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	mem_rows(m, rows);
	for (size_t i = 0; ok && i < MEM_ROWS; i++)
		ok = vh_api_add(o, rows[i].key, vh_api_mib_of_pages(rows[i].pages, VH_PAGE_SIZE));
	ok = ok && vh_api_add(o, "balloon_reason",
			      json_object_new_string(vh_balloon_reason_name(m->balloon_reason)));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *exits_json(const uint64_t *exits)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	for (unsigned k = 0; ok && k < VH_EXIT_KIND_COUNT; k++)
		ok = vh_api_add(o, vh_api_exit_kind_name(k), json_object_new_uint64(exits[k]));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* What the guest wrote to its console this run and how much of it the
 * hypervisor discarded over the VM's console budget. */
static struct json_object *console_json(const struct vh_proto_vm_stats *st)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && vh_api_add(o, "bytes", json_object_new_uint64(st->console_bytes));
	ok = ok && vh_api_add(o, "dropped_bytes", json_object_new_uint64(st->console_dropped));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *vcpus_json(const struct vh_proto_vcpu_stats *v, uint32_t n)
{
	struct json_object *a = json_object_new_array();
	bool ok = a != NULL;

	for (uint32_t i = 0; ok && i < n; i++) {
		struct json_object *e = json_object_new_object();
		ok = e != NULL;
		ok = ok && vh_api_add(e, "index", json_object_new_uint64(v[i].index));
		ok = ok && vh_api_add(e, "cpu", cpu_stats_json(&v[i].cpu));
		if (!ok || json_object_array_add(a, e)) {
			json_object_put(e);
			ok = false;
		}
	}
	if (!ok) {
		json_object_put(a);
		return NULL;
	}
	return a;
}

struct json_object *vh_api_vm_stats_to_json(const struct vh_proto_vm_summary *s,
					    const struct vh_proto_vm_stats *st,
					    const struct vh_proto_vcpu_stats *vcpus,
					    uint32_t nvcpus)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	if (ok && s) {
		char name[VH_VM_NAME_MAX], uuid[37];
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(s->name), s->name);
		vh_api_uuid_format(s->uuid, uuid);
		ok &= vh_api_add(o, "vm", json_object_new_string(vh_api_utf8_clean(name)));
		ok &= vh_api_add(o, "uuid", json_object_new_string(uuid));
	}
	ok = ok && vh_api_add(o, "id", json_object_new_uint64(st->id));
	ok = ok && vh_api_add(o, "state", json_object_new_string(vh_api_state_name(st->state)));
	ok = ok && vh_api_add(o, "cpu", cpu_stats_json(&st->cpu));
	ok = ok && vh_api_add(o, "memory", mem_stats_json(&st->mem));
	ok = ok && vh_api_add(o, "exits", exits_json(st->exits));
	ok = ok && vh_api_add(o, "console", console_json(st));
	ok = ok &&
	     vh_api_add(o, "admission_refusals", json_object_new_uint64(st->admission_refusals));
	if (ok && vcpus)
		ok = vh_api_add(o, "vcpus", vcpus_json(vcpus, nvcpus));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- the host --------------------------------------------------------------- */

struct row {
	const char *key;
	struct json_object *val;
};

/* An object from rows; every value is released on failure. */
static struct json_object *object_of(struct row *rows, size_t n)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	for (size_t i = 0; i < n; i++) {
		if (ok && rows[i].key)
			ok = vh_api_add(o, rows[i].key, rows[i].val);
		else
			json_object_put(rows[i].val);
	}
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

struct json_object *vh_api_host_to_json(const struct vh_proto_host_info *hi,
					const struct vh_proto_host_stats *hs)
{
	uint64_t psz = hi->page_size ? hi->page_size : VH_PAGE_SIZE;
	char version[VH_PROTO_VERSION_STR + 1];
	/* A row with a NULL key is left out (hs absent). */
	const char *k_hs = NULL;

	snprintf(version, sizeof(version), "%.*s", (int)sizeof(hi->vh_version), hi->vh_version);
	struct row proto[] = {
		{ "min", json_object_new_uint64(hi->version_min) },
		{ "max", json_object_new_uint64(hi->version_max) },
	};
	struct row cpu[] = {
		{ "pcpus", json_object_new_uint64(hi->pcpus) },
		{ "mhz_per_pcpu", json_object_new_uint64(hi->mhz_per_pcpu) },
		{ "total_mhz", json_object_new_uint64((uint64_t)hi->pcpus * hi->mhz_per_pcpu) },
		{ "capacity_mhz", json_object_new_uint64(hi->cpu_capacity_mhz) },
		{ hs ? "reserved_mhz" : k_hs, json_object_new_uint64(hs ? hs->reserved_mhz : 0) },
		{ hs ? "free_mhz" : k_hs,
		  json_object_new_uint64(hs ? sub0(hi->cpu_capacity_mhz, hs->reserved_mhz) : 0) },
		{ hs ? "busy_ms" : k_hs, ms(hs ? hs->busy_ns : 0) },
		{ hs ? "idle_ms" : k_hs, ms(hs ? hs->idle_ns : 0) },
	};
	struct row mem[] = {
		{ "total_mib", json_object_new_uint64(hi->memory_bytes / VH_MIB) },
		{ "overhead_mib", json_object_new_uint64(hi->overhead_bytes / VH_MIB) },
		{ "capacity_mib", json_object_new_uint64(hi->mem_capacity_mib) },
		{ hs ? "reserved_mib" : k_hs, json_object_new_uint64(hs ? hs->reserved_mib : 0) },
		{ hs ? "free_mib" : k_hs,
		  json_object_new_uint64(hs ? sub0(hi->mem_capacity_mib, hs->reserved_mib) : 0) },
		{ hs ? "unused_mib" : k_hs, vh_api_mib_of_pages(hs ? hs->mem.free : 0, psz) },
		{ hs ? "shared_saved_mib" : k_hs,
		  vh_api_mib_of_pages(hs ? hs->mem.shared_saved : 0, psz) },
	};
	struct row vms[] = {
		{ "defined", json_object_new_uint64(hs ? hs->nvms : hi->nvms) },
		{ hs ? "powered_on" : k_hs, json_object_new_uint64(hs ? hs->npowered_on : 0) },
		{ "max", json_object_new_uint64(hi->max_vms) },
	};
	struct row limits[] = {
		{ "max_vcpus", json_object_new_uint64(hi->max_vcpus) },
		{ "max_memory_mib", json_object_new_uint64(hi->max_memory_mib) },
		{ "max_modules", json_object_new_uint64(hi->max_modules) },
		{ "max_devices", json_object_new_uint64(hi->max_devices) },
	};
	struct row top[] = {
		{ "version", json_object_new_string(vh_api_utf8_clean(version)) },
		{ "protocol_version", object_of(proto, sizeof(proto) / sizeof(proto[0])) },
		{ "cpu", object_of(cpu, sizeof(cpu) / sizeof(cpu[0])) },
		{ "memory", object_of(mem, sizeof(mem) / sizeof(mem[0])) },
		{ "vms", object_of(vms, sizeof(vms) / sizeof(vms[0])) },
		{ "limits", object_of(limits, sizeof(limits) / sizeof(limits[0])) },
	};
	return object_of(top, sizeof(top) / sizeof(top[0]));
}

/* ---- the same statistics as text, without json-c ------------------------------ */

/* GET /v1/stats writes 100 VMs' statistics per request: built as json-c
 * objects (45 each) and serialized, that was 1.3 ms of the agent's CPU,
 * mostly malloc and printf.  These write the bytes json-c's
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE serialization
 * of vh_api_vm_stats_to_json's object gives (tests/api/test_stats_json.c
 * compares the two byte for byte), straight into a growing buffer. */

static void text_grow(struct vh_api_text *t, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *nb;

		while (cap < t->len + n + 1)
			cap *= 2;
		if (!(nb = realloc(t->buf, cap))) {
			t->oom = true;
			return;
		}
		t->buf = nb;
		t->cap = cap;
	}
}

static inline void text_put(struct vh_api_text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap)
		text_grow(t, n);
	if (t->oom)
		return;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

void vh_api_text_raw(struct vh_api_text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

void vh_api_text_add(struct vh_api_text *t, const char *s, size_t n)
{
	text_put(t, s, n);
}

static void text_u64(struct vh_api_text *t, uint64_t v)
{
	char d[24];
	size_t i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10));
	text_put(t, d + i, sizeof(d) - i);
}

/* sep"key": with both literals, one copy of a length known at compile
 * time (the keys are ours: nothing to escape). */
#define TEXT_KEY(t, sep, key) text_put((t), sep "\"" key "\":", sizeof(sep "\"" key "\":") - 1)

/* The same for a key known only at run time (exit kinds). */
static void text_key(struct vh_api_text *t, const char *sep, const char *key)
{
	text_put(t, sep, strlen(sep));
	text_put(t, "\"", 1);
	text_put(t, key, strlen(key));
	text_put(t, "\":", 2);
}

/* A string as json-c escapes it without slash escapes. */
static void text_str(struct vh_api_text *t, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	text_put(t, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char e[7] = { '\\', 0 };
		size_t n = 2;

		switch (c) {
		case '\b': e[1] = 'b'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\f': e[1] = 'f'; break;
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		default:
			if (c >= ' ')
				continue;
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			n = 6;
		}
		text_put(t, run, (size_t)(s - run));
		text_put(t, e, n);
		run = s + 1;
	}
	text_put(t, run, (size_t)(s - run));
	text_put(t, "\"", 1);
}

static void text_cpu(struct vh_api_text *t, const struct vh_cpu_stats *c)
{
	struct cpu_row rows[CPU_ROWS];

	cpu_rows(c, rows);
	for (size_t i = 0; i < CPU_ROWS; i++) {
		text_key(t, i ? "," : "{", rows[i].key);
		text_u64(t, rows[i].value);
	}
	text_put(t, "}", 1);
}

static void text_mem(struct vh_api_text *t, const struct vh_mem_stats *m)
{
	struct mem_row rows[MEM_ROWS];

	mem_rows(m, rows);
	for (size_t i = 0; i < MEM_ROWS; i++) {
		char mib[40];

		/* The digits vh_api_mib_of_pages gives json-c, which prints a
		 * double made with a string as that string. */
		size_t n = mib_digits(rows[i].pages, VH_PAGE_SIZE, mib);

		text_key(t, i ? "," : "{", rows[i].key);
		text_put(t, mib, n);
	}
	TEXT_KEY(t, ",", "balloon_reason");
	text_str(t, vh_balloon_reason_name(m->balloon_reason));
	text_put(t, "}", 1);
}

int vh_api_vm_stats_text(struct vh_api_text *t, const struct vh_proto_vm_summary *s,
			 const struct vh_proto_vm_stats *st,
			 const struct vh_proto_vcpu_stats *vcpus, uint32_t nvcpus)
{
	if (s) {
		char name[VH_VM_NAME_MAX + 1], uuid[37];
		size_t n = strnlen(s->name, sizeof(s->name));

		memcpy(name, s->name, n);
		name[n] = '\0';
		vh_api_uuid_format(s->uuid, uuid);
		TEXT_KEY(t, "{", "vm");
		text_str(t, vh_api_utf8_clean(name));
		TEXT_KEY(t, ",", "uuid");
		text_str(t, uuid);
	}
	if (s)
		TEXT_KEY(t, ",", "id");
	else
		TEXT_KEY(t, "{", "id");
	text_u64(t, st->id);
	TEXT_KEY(t, ",", "state");
	text_str(t, vh_api_state_name(st->state));
	TEXT_KEY(t, ",", "cpu");
	text_cpu(t, &st->cpu);
	TEXT_KEY(t, ",", "memory");
	text_mem(t, &st->mem);
	TEXT_KEY(t, ",", "exits");
	for (unsigned k = 0; k < VH_EXIT_KIND_COUNT; k++) {
		text_key(t, k ? "," : "{", vh_api_exit_kind_name(k));
		text_u64(t, st->exits[k]);
	}
	text_put(t, "}", 1);
	TEXT_KEY(t, ",", "console");
	TEXT_KEY(t, "{", "bytes");
	text_u64(t, st->console_bytes);
	TEXT_KEY(t, ",", "dropped_bytes");
	text_u64(t, st->console_dropped);
	text_put(t, "}", 1);
	TEXT_KEY(t, ",", "admission_refusals");
	text_u64(t, st->admission_refusals);
	if (vcpus) {
		TEXT_KEY(t, ",", "vcpus");
		text_put(t, "[", 1);
		for (uint32_t i = 0; i < nvcpus; i++) {
			if (i)
				TEXT_KEY(t, ",{", "index");
			else
				TEXT_KEY(t, "{", "index");
			text_u64(t, vcpus[i].index);
			TEXT_KEY(t, ",", "cpu");
			text_cpu(t, &vcpus[i].cpu);
			text_put(t, "}", 1);
		}
		text_put(t, "]", 1);
	}
	text_put(t, "}", 1);
	return t->oom ? -1 : 0;
}
