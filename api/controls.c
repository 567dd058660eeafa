/* SPDX-License-Identifier: Apache-2.0 */
/* Resource controls as JSON: shares (a level or 1..1,000,000), and the
 * cpu and memory objects (shares, reservation, limit; a null limit is
 * unlimited).  The core's own vh_shares_validate has the last word. */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

static const char *const level_names[] = {
	[VH_SHARES_NORMAL] = "normal",
	[VH_SHARES_LOW] = "low",
	[VH_SHARES_HIGH] = "high",
};

int vh_api_shares_from_json(struct json_object *v, const char *field, struct vh_shares *out,
			    struct vh_api_problem *p)
{
	struct vh_shares s = { .level = VH_SHARES_NORMAL };
	struct vh_error err;

	if (json_object_is_type(v, json_type_string)) {
		const char *name = json_object_get_string(v);
		size_t i;
		for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
			if (!strcmp(name, level_names[i]))
				break;
		}
		if (i == sizeof(level_names) / sizeof(level_names[0]) ||
		    strlen(name) != (size_t)json_object_get_string_len(v))
			return vh_api_fail(p, VH_API_INVALID_FIELD, field,
					   "%s: must be low, normal, high or an integer %u..%u",
					   field, VH_SHARES_CUSTOM_MIN, VH_SHARES_CUSTOM_MAX);
		s.level = (enum vh_shares_level)i;
	} else if (json_object_is_type(v, json_type_int)) {
		uint64_t n;
		if (vh_api_read_u64(v, field, VH_SHARES_CUSTOM_MIN, VH_SHARES_CUSTOM_MAX, &n, p))
			return -1;
		s.level = VH_SHARES_CUSTOM;
		s.custom = (uint32_t)n;
	} else {
		return vh_api_fail(p, VH_API_INVALID_FIELD, field,
				   "%s: must be low, normal, high or an integer %u..%u", field,
				   VH_SHARES_CUSTOM_MIN, VH_SHARES_CUSTOM_MAX);
	}
	if (vh_shares_validate(&s, field, &err)) {
		vh_api_from_vh_error(&err, p);
		return -1;
	}
	*out = s;
	return 0;
}

struct json_object *vh_api_shares_to_json(const struct vh_shares *s)
{
	if (s->level == VH_SHARES_CUSTOM)
		return json_object_new_int64((int64_t)s->custom);
	if ((unsigned)s->level < sizeof(level_names) / sizeof(level_names[0]))
		return json_object_new_string(level_names[s->level]);
	return json_object_new_string("normal");
}

/* One controls object: the three members share their shape between CPU
 * (MHz) and memory (MiB). */
struct controls {
	struct vh_shares shares;
	uint64_t reservation, limit;
};

static int merge_controls(struct json_object *obj, const char *prefix, const char *res_key,
			  const char *lim_key, struct controls *c, struct vh_api_problem *p)
{
	const char *const keys[] = { "shares", res_key, lim_key, NULL };
	char f_sh[VH_API_FIELD_MAX], f_res[VH_API_FIELD_MAX], f_lim[VH_API_FIELD_MAX];
	struct controls n = *c;
	struct json_object *v;

	if (vh_api_only_keys(obj, prefix, keys, p))
		return -1;
	vh_api_join_field(f_sh, sizeof(f_sh), prefix, "shares");
	vh_api_join_field(f_res, sizeof(f_res), prefix, res_key);
	vh_api_join_field(f_lim, sizeof(f_lim), prefix, lim_key);
	if (json_object_object_get_ex(obj, "shares", &v)) {
		if (json_object_is_type(v, json_type_null))
			n.shares = (struct vh_shares){ .level = VH_SHARES_NORMAL };
		else if (vh_api_shares_from_json(v, f_sh, &n.shares, p))
			return -1;
	}
	if (vh_api_get_u64_or_null(obj, res_key, f_res, 0, VH_API_MAX_INT, 0, &n.reservation, p) ||
	    vh_api_get_u64_or_null(obj, lim_key, f_lim, 1, VH_API_MAX_INT, VH_UNLIMITED, &n.limit,
				   p))
		return -1;
	if (n.reservation > n.limit)
		return vh_api_fail(p, VH_API_INVALID_FIELD, f_res, "%s: %llu exceeds %s %llu",
				   f_res, (unsigned long long)n.reservation, f_lim,
				   (unsigned long long)n.limit);
	*c = n;
	return 0;
}

int vh_api_merge_cpu(struct json_object *obj, struct vh_cpu_controls *c, struct vh_api_problem *p)
{
	struct controls k = { c->shares, c->reservation_mhz, c->limit_mhz };

	if (merge_controls(obj, "cpu", "reservation_mhz", "limit_mhz", &k, p))
		return -1;
	c->shares = k.shares;
	c->reservation_mhz = k.reservation;
	c->limit_mhz = k.limit;
	return 0;
}

int vh_api_merge_mem(struct json_object *obj, struct vh_mem_controls *m, struct vh_api_problem *p)
{
	struct controls k = { m->shares, m->reservation_mib, m->limit_mib };

	if (merge_controls(obj, "memory", "reservation_mib", "limit_mib", &k, p))
		return -1;
	m->shares = k.shares;
	m->reservation_mib = k.reservation;
	m->limit_mib = k.limit;
	return 0;
}

/* PUT replaces: what the body leaves out takes the default. */
int vh_api_cpu_from_json(struct json_object *obj, struct vh_cpu_controls *out,
			 struct vh_api_problem *p)
{
	struct vh_cpu_controls c = { .shares.level = VH_SHARES_NORMAL, .limit_mhz = VH_UNLIMITED };

	if (vh_api_merge_cpu(obj, &c, p))
		return -1;
	*out = c;
	return 0;
}

int vh_api_mem_from_json(struct json_object *obj, struct vh_mem_controls *out,
			 struct vh_api_problem *p)
{
	struct vh_mem_controls m = { .shares.level = VH_SHARES_NORMAL, .limit_mib = VH_UNLIMITED };

	if (vh_api_merge_mem(obj, &m, p))
		return -1;
	*out = m;
	return 0;
}

static struct json_object *controls_json(const struct vh_shares *s, const char *res_key,
					 uint64_t res, const char *lim_key, uint64_t lim)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	ok &= vh_api_add(o, "shares", vh_api_shares_to_json(s));
	ok &= vh_api_add(o, res_key, json_object_new_uint64(res));
	/* json-c has no null object: a NULL value is JSON null. */
	if (ok)
		ok = lim == VH_UNLIMITED ? json_object_object_add(o, lim_key, NULL) == 0
					 : vh_api_add(o, lim_key, json_object_new_uint64(lim));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *vh_api_cpu_to_json(const struct vh_cpu_controls *c)
{
	return controls_json(&c->shares, "reservation_mhz", c->reservation_mhz, "limit_mhz",
			     c->limit_mhz);
}

struct json_object *vh_api_mem_to_json(const struct vh_mem_controls *m)
{
	return controls_json(&m->shares, "reservation_mib", m->reservation_mib, "limit_mib",
			     m->limit_mib);
}
