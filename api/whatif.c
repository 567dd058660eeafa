/* SPDX-License-Identifier: Apache-2.0 */
/* What-if (POST /v1/simulate): a request's changes checked against the
 * live host, the host turned into a vh-sim scenario, and vh-sim's report
 * turned into the reply.  Nothing here does I/O: the agent reads the
 * counters and runs vh-sim in a child process (agent/simrun.c), so the
 * scenario a host gives and the reply a report gives are tested as units.
 *
 * The model: every VM keeps its controls, co-scheduling and vCPUs; its
 * CPU demand is what it measured over the window (used + ready, the
 * time it was runnable, against the time it halted), as a workload that
 * is always runnable, always halted, or bursty with that duty cycle; its
 * memory demand is its granted memory, written at the rate of its active
 * memory.  A VM added or started by the request has no measurement: it
 * is assumed busy and all its memory active unless the request says
 * otherwise.  The changes are applied at time 0 by the core, as the API
 * would apply them, so a change admission control would refuse is
 * refused with the same error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

/* A bursty workload's period: long against the scheduler's quantum, so a
 * duty cycle is what it is, short against any duration asked for. */
#define BURST_PERIOD_NS 20000000ull
/* Below this share halted a VM is always runnable; above 100 minus it,
 * always halted. */
#define EDGE_PCT 1.0

static uint64_t delta(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

static double mib(uint64_t pages)
{
	return (double)pages * VH_PAGE_SIZE / VH_MIB;
}

static const struct vh_api_diag_vm *find(const struct vh_api_whatif_input *in, const char *name)
{
	for (size_t i = 0; i < in->nvms; i++)
		if (strcmp(in->vms[i].s.name, name) == 0)
			return &in->vms[i];
	return NULL;
}

/* ---- the request ------------------------------------------------------------ */

/* A field the shared readers named ("cpu.limit_mhz") inside its change
 * ("changes[0].cpu.limit_mhz"); the detail keeps their words. */
static void prefix_field(struct vh_api_problem *p, const char *field)
{
	char f[VH_API_FIELD_MAX];

	vh_api_join_field(f, sizeof(f), field, p->field);
	snprintf(p->field, sizeof(p->field), "%s", f);
}

static int read_workload(struct json_object *o, const char *field, struct vh_api_whatif_change *c,
			 struct vh_api_problem *p)
{
	static const char *const keys[] = { "busy_pct", "active_pct", NULL };
	uint64_t busy = 100, active = 100;
	char f[VH_API_FIELD_MAX];

	if (vh_api_only_keys(o, field, keys, p))
		return -1;
	vh_api_join_field(f, sizeof(f), field, "busy_pct");
	if (vh_api_get_u64(o, "busy_pct", f, 0, 100, false, &busy, p))
		return -1;
	vh_api_join_field(f, sizeof(f), field, "active_pct");
	if (vh_api_get_u64(o, "active_pct", f, 0, 100, false, &active, p))
		return -1;
	c->busy_pct = (uint32_t)busy;
	c->active_pct = (uint32_t)active;
	return 0;
}

/* An added VM: the body POST /v1/vms takes, refused as it would be. */
static int read_add(struct json_object *o, const char *field, const struct vh_api_whatif_input *in,
		    const struct vh_api_whatif *w, struct vh_api_whatif_change *c,
		    struct vh_api_problem *p)
{
	uint64_t balloon;

	c->kind = VH_API_WHATIF_ADD;
	c->busy_pct = c->active_pct = 100;
	if (!(c->add = calloc(1, sizeof(*c->add))))
		return vh_api_fail(p, VH_API_INTERNAL, "", "out of memory");
	if (vh_api_vm_from_json(o, c->add, &balloon, p)) {
		prefix_field(p, field);
		return -1;
	}
	snprintf(c->vm, sizeof(c->vm), "%s", c->add->name);
	if (find(in, c->vm))
		return vh_api_fail(p, VH_API_CONFLICT, field, "%s: a VM named \"%s\" exists", field,
				   c->vm);
	for (const struct vh_api_whatif_change *k = w->changes; k < c; k++)
		if (k->kind == VH_API_WHATIF_ADD && strcmp(k->vm, c->vm) == 0)
			return vh_api_fail(p, VH_API_CONFLICT, field,
					   "%s: the request adds \"%s\" twice", field, c->vm);
	return 0;
}

static int read_change(struct json_object *o, size_t i, const struct vh_api_whatif_input *in,
		       struct vh_api_whatif *w, struct vh_api_problem *p)
{
	static const char *const keys[] = {
		"vm", "cpu", "memory", "power", "add", "workload", NULL
	};
	struct vh_api_whatif_change *c = &w->changes[i];
	struct json_object *cpu, *mem, *power, *add, *wl;
	const struct vh_api_diag_vm *v;
	const char *name = NULL, *state;
	char field[32], f[VH_API_FIELD_MAX];
	int kinds;

	snprintf(field, sizeof(field), "changes[%zu]", i);
	if (vh_api_only_keys(o, field, keys, p))
		return -1;
	kinds = json_object_object_get_ex(o, "cpu", &cpu) +
		json_object_object_get_ex(o, "memory", &mem) +
		json_object_object_get_ex(o, "power", &power) +
		json_object_object_get_ex(o, "add", &add);
	if (kinds != 1)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field,
				   "%s: give exactly one of cpu, memory, power or add", field);
	if (json_object_object_get_ex(o, "workload", &wl) && !add)
		return vh_api_fail(p, VH_API_INVALID_FIELD, field,
				   "%s.workload: only an added VM takes a workload", field);
	if (add) {
		if (json_object_object_get_ex(o, "vm", NULL))
			return vh_api_fail(p, VH_API_INVALID_FIELD, field,
					   "%s.vm: an added VM is named in add.name", field);
		snprintf(f, sizeof(f), "%s.add", field);
		if (read_add(add, f, in, w, c, p))
			return -1;
		snprintf(f, sizeof(f), "%s.workload", field);
		return wl ? read_workload(wl, f, c, p) : 0;
	}
	vh_api_join_field(f, sizeof(f), field, "vm");
	if (vh_api_get_string(o, "vm", f, VH_VM_NAME_MAX - 1, true, &name, p))
		return -1;
	snprintf(c->vm, sizeof(c->vm), "%s", name);
	/* A VM the request added earlier is changed in its definition. */
	if ((v = find(in, name))) {
		c->cpu = v->s.cpu;
		c->mem = v->s.mem;
	} else {
		size_t k = 0;
		while (k < i && (w->changes[k].kind != VH_API_WHATIF_ADD ||
				 strcmp(w->changes[k].vm, name) != 0))
			k++;
		if (k == i)
			return vh_api_fail(p, VH_API_NOT_FOUND, f, "%s: no VM named \"%s\"", f,
					   name);
		c->cpu = w->changes[k].add->cpu;
		c->mem = w->changes[k].add->mem;
	}
	if (cpu || mem) {
		int rc;
		c->kind = cpu ? VH_API_WHATIF_CPU : VH_API_WHATIF_MEM;
		rc = cpu ? vh_api_merge_cpu(cpu, &c->cpu, p) : vh_api_merge_mem(mem, &c->mem, p);
		if (rc)
			prefix_field(p, field);
		return rc;
	}
	vh_api_join_field(f, sizeof(f), field, "power");
	if (vh_api_get_string(o, "power", f, 16, true, &state, p))
		return -1;
	if (strcmp(state, "stopped") == 0)
		c->kind = VH_API_WHATIF_STOP;
	else if (strcmp(state, "running") == 0)
		c->kind = VH_API_WHATIF_START;
	else
		return vh_api_fail(p, VH_API_INVALID_FIELD, f,
				   "%s: \"%s\" is not stopped or running", f, state);
	return 0;
}

int vh_api_whatif_from_json(struct json_object *obj, const struct vh_api_whatif_input *in,
			    struct vh_api_whatif *w, struct vh_api_problem *p)
{
	static const char *const keys[] = { "duration_s", "changes", NULL };
	struct json_object *changes;
	size_t n, adds = 0;

	memset(w, 0, sizeof(*w));
	w->duration_s = VH_API_WHATIF_DURATION_DEFAULT;
	if (vh_api_only_keys(obj, "", keys, p) ||
	    vh_api_get_u64(obj, "duration_s", "duration_s", VH_API_WHATIF_DURATION_MIN,
			   VH_API_WHATIF_DURATION_MAX, false, &w->duration_s, p))
		return -1;
	if (!json_object_object_get_ex(obj, "changes", &changes))
		return vh_api_fail(p, VH_API_MISSING_FIELD, "changes",
				   "changes: the changes to predict are required (an empty list "
				   "predicts the host as it is)");
	if (!json_object_is_type(changes, json_type_array))
		return vh_api_fail(p, VH_API_INVALID_FIELD, "changes", "changes: not an array");
	n = json_object_array_length(changes);
	if (n > VH_API_WHATIF_MAX_CHANGES)
		return vh_api_fail(p, VH_API_INVALID_FIELD, "changes",
				   "changes: %zu changes, at most %d", n,
				   VH_API_WHATIF_MAX_CHANGES);
	for (size_t i = 0; i < n; i++) {
		w->nchanges = i + 1;
		if (read_change(json_object_array_get_idx(changes, i), i, in, w, p))
			goto fail;
		if (w->changes[i].kind == VH_API_WHATIF_ADD && ++adds > VH_API_WHATIF_MAX_ADDS) {
			vh_api_fail(p, VH_API_INVALID_FIELD, "changes",
				    "changes: more than %d VMs added", VH_API_WHATIF_MAX_ADDS);
			goto fail;
		}
	}
	if (in->nvms + adds > in->hi->max_vms) {
		vh_api_fail(p, VH_API_LIMIT, "changes", "changes: the host holds at most %u VMs",
			    in->hi->max_vms);
		goto fail;
	}
	return 0;
fail:
	vh_api_whatif_free(w);
	return -1;
}

void vh_api_whatif_free(struct vh_api_whatif *w)
{
	for (size_t i = 0; i < w->nchanges; i++) {
		free(w->changes[i].add);
		w->changes[i].add = NULL;
	}
	w->nchanges = 0;
}

/* ---- the scenario ------------------------------------------------------------ */

void vh_api_whatif_demand(const struct vh_api_diag_vm *v, struct vh_api_whatif_demand *d)
{
	uint64_t used = delta(v->a.cpu.used_ns, v->b.cpu.used_ns);
	uint64_t ready = delta(v->a.cpu.ready_ns, v->b.cpu.ready_ns);
	uint64_t wait = delta(v->a.cpu.wait_ns, v->b.cpu.wait_ns);
	uint64_t all = used + ready + wait;

	d->measured = all > 0;
	d->busy_pct = all ? 100.0 * (double)(used + ready) / (double)all : 100.0;
	d->active_mib = mib(v->b.mem.active);
	d->granted_mib = mib(v->b.mem.granted);
}

static void put_shares(FILE *f, const char *key, const struct vh_shares *s)
{
	static const char *const levels[] = { [VH_SHARES_LOW] = "low",
					      [VH_SHARES_NORMAL] = "normal",
					      [VH_SHARES_HIGH] = "high" };

	if (s->level == VH_SHARES_CUSTOM)
		fprintf(f, " %s=%u", key, s->custom);
	else
		fprintf(f, " %s=%s", key, levels[s->level]);
}

/* "cpu.shares=… cpu.reservation=… cpu.limit=…" (MHz) or the mem.* keys
 * (unit "M"): the whole of a control group, as PUT replaces it. */
static void put_controls(FILE *f, const char *group, const struct vh_shares *shares,
			 uint64_t reservation, uint64_t limit, const char *unit)
{
	char key[16];

	snprintf(key, sizeof(key), "%s.shares", group);
	put_shares(f, key, shares);
	fprintf(f, " %s.reservation=%llu%s", group, (unsigned long long)reservation, unit);
	if (limit == VH_UNLIMITED)
		fprintf(f, " %s.limit=unlimited", group);
	else
		fprintf(f, " %s.limit=%llu%s", group, (unsigned long long)limit, unit);
}

static void put_cpu(FILE *f, const struct vh_cpu_controls *c)
{
	put_controls(f, "cpu", &c->shares, c->reservation_mhz, c->limit_mhz, "");
}

static void put_mem(FILE *f, const struct vh_mem_controls *m)
{
	put_controls(f, "mem", &m->shares, m->reservation_mib, m->limit_mib, "M");
}

/* The workload keys of a VM busy busy_pct of its time, writing
 * touch_mib of its memory at rate_mib a second (content unique to it:
 * the agent cannot see what pages hold, so no sharing between VMs is
 * assumed). */
static void put_workload(FILE *f, double busy_pct, uint64_t memory_mib, double touch_mib,
			 double rate_mib, unsigned seed)
{
	double touch_pct = memory_mib ? 100.0 * touch_mib / (double)memory_mib : 0;

	if (busy_pct >= 100.0 - EDGE_PCT) {
		fputs(" workload=cpu", f);
	} else if (busy_pct <= EDGE_PCT) {
		fputs(" workload=idle", f);
	} else {
		uint64_t run = (uint64_t)((double)BURST_PERIOD_NS * busy_pct / 100.0);
		fprintf(f, " workload=bursty run=%lluns sleep=%lluns", (unsigned long long)run,
			(unsigned long long)(BURST_PERIOD_NS - run));
	}
	if (touch_pct > 100)
		touch_pct = 100;
	if (touch_mib > 0 && rate_mib > 0)
		fprintf(f, " touch=%u touch_rate=%llu content=%u", (unsigned)ceil(touch_pct),
			(unsigned long long)ceil(rate_mib * VH_MIB / VH_PAGE_SIZE), seed);
}

static const char *cosched_word(uint32_t m)
{
	const char *n = vh_api_cosched_name(m);
	return n ? n : "relaxed";
}

/* Lines are counted so each change knows its line in the report. */
struct out {
	FILE *f;
	unsigned line;
};

static void endline(struct out *o)
{
	fputc('\n', o->f);
	o->line++;
}

double vh_api_whatif_steal_pct(const struct vh_api_whatif_input *in)
{
	uint64_t used = 0, stolen = 0;

	for (size_t i = 0; i < in->nvms; i++) {
		used += delta(in->vms[i].a.cpu.used_ns, in->vms[i].b.cpu.used_ns);
		stolen += delta(in->vms[i].a.cpu.stolen_ns, in->vms[i].b.cpu.stolen_ns);
	}
	return used + stolen ? 100.0 * (double)stolen / (double)(used + stolen) : 0;
}

char *vh_api_whatif_scenario(const struct vh_api_whatif_input *in, struct vh_api_whatif *w)
{
	double steal = vh_api_whatif_steal_pct(in);

	struct out o = { NULL, 1 };
	char *text = NULL;
	size_t len = 0;

	if (!(o.f = open_memstream(&text, &len)))
		return NULL;
	fprintf(o.f, "# what-if of the live host: %zu VMs, %zu changes", in->nvms, w->nchanges);
	endline(&o);
	fprintf(o.f, "host pcpus=%u mhz=%u memory=%llu overhead=%llu steal=%.1f%%", in->hi->pcpus,
		in->hi->mhz_per_pcpu, (unsigned long long)in->hi->memory_bytes,
		(unsigned long long)in->hi->overhead_bytes, steal > 90 ? 90.0 : steal);
	endline(&o);
	fprintf(o.f, "duration %llus", (unsigned long long)w->duration_s);
	endline(&o);
	for (size_t i = 0; i < in->nvms; i++) {
		const struct vh_api_diag_vm *v = &in->vms[i];
		struct vh_api_whatif_demand d;
		bool on = v->s.state == VH_VM_RUNNING || v->s.state == VH_VM_PAUSED;

		vh_api_whatif_demand(v, &d);
		fprintf(o.f, "vm %s vcpus=%u memory=%lluM", v->s.name, v->s.vcpus,
			(unsigned long long)v->s.memory_mib);
		put_cpu(o.f, &v->s.cpu);
		put_mem(o.f, &v->s.mem);
		fprintf(o.f, " cosched=%s start=%s", cosched_word(v->s.cosched), on ? "yes" : "no");
		if (d.measured)
			put_workload(o.f, d.busy_pct, v->s.memory_mib, d.granted_mib, d.active_mib,
				     (unsigned)i + 1);
		else /* never ran in the window: as an added VM */
			put_workload(o.f, 100, v->s.memory_mib, (double)v->s.memory_mib,
				     (double)v->s.memory_mib, (unsigned)i + 1);
		endline(&o);
		if (v->s.state == VH_VM_PAUSED) {
			fprintf(o.f, "at 0s %s pause", v->s.name);
			endline(&o);
		}
	}
	for (size_t i = 0; i < w->nchanges; i++) {
		struct vh_api_whatif_change *c = &w->changes[i];
		const struct vh_vm_config *a = c->add;

		if (c->kind != VH_API_WHATIF_ADD)
			continue;
		fprintf(o.f, "vm %s vcpus=%u memory=%lluM", a->name, a->vcpus,
			(unsigned long long)a->memory_mib);
		put_cpu(o.f, &a->cpu);
		put_mem(o.f, &a->mem);
		fprintf(o.f, " cosched=%s start=no", cosched_word(a->cosched));
		put_workload(o.f, c->busy_pct, a->memory_mib,
			     (double)a->memory_mib * c->active_pct / 100.0,
			     (double)a->memory_mib * c->active_pct / 100.0,
			     (unsigned)(in->nvms + i + 1));
		endline(&o);
	}
	/* The changes, in the request's order, at time 0; an added VM is
	 * powered on where the request adds it, as POST /v1/vms then PUT
	 * power would. */
	for (size_t i = 0; i < w->nchanges; i++) {
		struct vh_api_whatif_change *c = &w->changes[i];

		c->line = o.line;
		fprintf(o.f, "at 0s %s ", c->vm);
		switch (c->kind) {
		case VH_API_WHATIF_CPU:
			fputs("set", o.f);
			put_cpu(o.f, &c->cpu);
			break;
		case VH_API_WHATIF_MEM:
			fputs("set", o.f);
			put_mem(o.f, &c->mem);
			break;
		case VH_API_WHATIF_STOP: fputs("stop", o.f); break;
		case VH_API_WHATIF_START:
		case VH_API_WHATIF_ADD: fputs("start", o.f); break;
		}
		endline(&o);
	}
	if (fclose(o.f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- the reply ---------------------------------------------------------------- */

static double pct(double part, double whole)
{
	double v = whole > 0 ? 100.0 * part / whole : 0;
	return v > 100 ? 100 : v;
}

static struct json_object *num(double v, int decimals)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

/* A member of the report as a string: "" when absent, null or not one
 * (the report is another program's output: nothing in it is trusted). */
static const char *js(struct json_object *o, const char *key)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
		return "";
	return json_object_get_string(x);
}

static double jd(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &x))
		return 0;
	return json_object_get_double(x);
}

/* What the VM measured over the window. */
static struct json_object *measured(const struct vh_api_whatif_input *in,
				    const struct vh_api_diag_vm *v)
{
	struct json_object *o = json_object_new_object();
	double cap = (double)in->window_ns * v->s.vcpus;
	uint64_t used = delta(v->a.cpu.used_ns, v->b.cpu.used_ns);
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	ok &= vh_api_add(o, "state", json_object_new_string(vh_api_state_name(v->s.state)));
	ok &= vh_api_add(o, "used_pct", num(pct((double)used, cap), 2));
	ok &= vh_api_add(o, "ready_pct",
			 num(pct((double)delta(v->a.cpu.ready_ns, v->b.cpu.ready_ns), cap), 2));
	ok &= vh_api_add(o, "limited_pct",
			 num(pct((double)delta(v->a.cpu.limited_ns, v->b.cpu.limited_ns), cap), 2));
	ok &= vh_api_add(o, "costop_pct",
			 num(pct((double)delta(v->a.cpu.costop_ns, v->b.cpu.costop_ns), cap), 2));
	ok &= vh_api_add(o, "used_mhz",
			 num(in->window_ns ? (double)used * in->hi->mhz_per_pcpu /
						 (double)in->window_ns
					   : 0,
			     1));
	ok &= vh_api_add(o, "granted_mib", num(mib(v->b.mem.granted), 3));
	ok &= vh_api_add(o, "balloon_mib", num(mib(v->b.mem.balloon), 3));
	ok &= vh_api_add(o, "shared_mib", num(mib(v->b.mem.shared), 3));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* What the simulation predicts, from the VM's entry of the report. */
static struct json_object *predicted(const struct vh_api_whatif_input *in, struct json_object *sv,
				     uint64_t duration_s, uint32_t vcpus)
{
	struct json_object *o = json_object_new_object();
	double cap = (double)duration_s * 1000.0 * vcpus;
	double used = jd(sv, "cpu", "used_ms");
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	ok &= vh_api_add(o, "state", json_object_new_string(js(sv, "state")));
	ok &= vh_api_add(o, "used_ms", num(used, 3));
	ok &= vh_api_add(o, "ready_ms", num(jd(sv, "cpu", "ready_ms"), 3));
	ok &= vh_api_add(o, "limited_ms", num(jd(sv, "cpu", "limited_ms"), 3));
	ok &= vh_api_add(o, "costop_ms", num(jd(sv, "cpu", "costop_ms"), 3));
	ok &= vh_api_add(o, "used_pct", num(pct(used, cap), 2));
	ok &= vh_api_add(o, "ready_pct", num(pct(jd(sv, "cpu", "ready_ms"), cap), 2));
	ok &= vh_api_add(o, "limited_pct", num(pct(jd(sv, "cpu", "limited_ms"), cap), 2));
	ok &= vh_api_add(o, "costop_pct", num(pct(jd(sv, "cpu", "costop_ms"), cap), 2));
	ok &= vh_api_add(o, "used_mhz",
			 num(used * in->hi->mhz_per_pcpu / ((double)duration_s * 1000.0), 1));
	ok &= vh_api_add(o, "granted_mib", num(jd(sv, "memory", "granted_mib"), 3));
	ok &= vh_api_add(o, "balloon_mib", num(jd(sv, "memory", "balloon_mib"), 3));
	ok &= vh_api_add(o, "shared_mib", num(jd(sv, "memory", "shared_mib"), 3));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const char *action_name(enum vh_api_whatif_kind k)
{
	static const char *const names[] = {
		[VH_API_WHATIF_CPU] = "cpu",     [VH_API_WHATIF_MEM] = "memory",
		[VH_API_WHATIF_STOP] = "stop",   [VH_API_WHATIF_START] = "start",
		[VH_API_WHATIF_ADD] = "add",
	};
	return names[k];
}

/* A refused event of the report: the change it was and the problem the
 * real request would have got (the core's error, mapped as the agent
 * maps the hypervisor's). */
static struct json_object *refusal(const struct vh_api_whatif *w, struct json_object *ev)
{
	struct json_object *o, *x;
	struct vh_error e = { .code = VH_E_INTERNAL };
	struct vh_api_problem p = { 0 };
	const char *result = "", *reason = "";
	unsigned line = 0;
	long change = -1;
	bool ok;

	result = js(ev, "result");
	reason = js(ev, "reason");
	if (json_object_object_get_ex(ev, "line", &x))
		line = (unsigned)json_object_get_int64(x);
	for (int c = 1; c < VH_E_COUNT_; c++)
		if (strcmp(vh_errcode_name((enum vh_errcode)c), result) == 0)
			e.code = (enum vh_errcode)c;
	snprintf(e.reason, sizeof(e.reason), "%s", reason);
	vh_api_from_vh_error(&e, &p);
	for (size_t i = 0; i < w->nchanges; i++)
		if (w->changes[i].line == line)
			change = (long)i;
	if (!(o = json_object_new_object()))
		return NULL;
	/* A VM's own power-on at time 0 (the live host's) is no change. */
	ok = json_object_object_add(o, "change",
				    change >= 0 ? json_object_new_int64(change) : NULL) == 0;
	ok &= vh_api_add(o, "vm", json_object_new_string(js(ev, "vm")));
	ok &= vh_api_add(o, "action", json_object_new_string(
					  change >= 0 ? action_name(w->changes[change].kind)
						      : "power_on"));
	ok &= vh_api_add(o, "status", json_object_new_int(vh_api_http_status(p.code)));
	ok &= vh_api_add(o, "code", json_object_new_string(vh_api_code_name(p.code)));
	if (p.field[0])
		ok &= vh_api_add(o, "field", json_object_new_string(p.field));
	ok &= vh_api_add(o, "detail", json_object_new_string(p.detail));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static bool changed(const struct vh_api_whatif *w, const char *name, bool *added)
{
	bool any = false;

	*added = false;
	for (size_t i = 0; i < w->nchanges; i++) {
		if (strcmp(w->changes[i].vm, name))
			continue;
		any = true;
		if (w->changes[i].kind == VH_API_WHATIF_ADD)
			*added = true;
	}
	return any;
}

static struct json_object *demand_json(const struct vh_api_whatif *w,
				       const struct vh_api_diag_vm *v, const char *name)
{
	struct json_object *o = json_object_new_object();
	struct vh_api_whatif_demand d = { 100, 0, 0, false };
	bool ok = o != NULL;

	if (!ok)
		return NULL;
	if (v) {
		vh_api_whatif_demand(v, &d);
		if (!d.measured)
			d.active_mib = d.granted_mib = (double)v->s.memory_mib;
	} else {
		for (size_t i = 0; i < w->nchanges; i++)
			if (w->changes[i].kind == VH_API_WHATIF_ADD &&
			    strcmp(w->changes[i].vm, name) == 0) {
				d.busy_pct = w->changes[i].busy_pct;
				d.active_mib = d.granted_mib =
				    (double)w->changes[i].add->memory_mib *
				    w->changes[i].active_pct / 100.0;
			}
	}
	ok &= vh_api_add(o, "measured", json_object_new_boolean(d.measured));
	ok &= vh_api_add(o, "busy_pct", num(d.busy_pct, 2));
	ok &= vh_api_add(o, "active_mib", num(d.active_mib, 3));
	ok &= vh_api_add(o, "granted_mib", num(d.granted_mib, 3));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *vm_entry(const struct vh_api_whatif_input *in,
				    const struct vh_api_whatif *w, struct json_object *sv)
{
	struct json_object *o = json_object_new_object(), *x;
	const char *name = "";
	const struct vh_api_diag_vm *v;
	uint32_t vcpus;
	bool added, ok = o != NULL;

	if (!ok)
		return NULL;
	name = js(sv, "name");
	vcpus = json_object_object_get_ex(sv, "vcpus", &x) ? (uint32_t)json_object_get_int64(x)
							    : 1;
	v = find(in, name);
	ok &= vh_api_add(o, "vm", json_object_new_string(name));
	ok &= vh_api_add(o, "vcpus", json_object_new_int64(vcpus));
	ok &= vh_api_add(o, "changed", json_object_new_boolean(changed(w, name, &added)));
	ok &= vh_api_add(o, "added", json_object_new_boolean(added));
	ok &= vh_api_add(o, "demand", demand_json(w, v, name));
	if (v)
		ok &= vh_api_add(o, "before", measured(in, v));
	else /* added: nothing was measured */
		ok &= json_object_object_add(o, "before", NULL) == 0;
	ok &= vh_api_add(o, "after", predicted(in, sv, w->duration_s, vcpus ? vcpus : 1));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *vh_api_whatif_reply(const struct vh_api_whatif_input *in,
					const struct vh_api_whatif *w, const char *sim,
					struct vh_api_problem *p)
{
	struct json_object *r = NULL, *o = NULL, *vms, *evs, *out_vms, *refused, *host;
	size_t nref = 0;
	char summary[256];
	bool ok;

	if (vh_api_parse(sim, strlen(sim), &r, p) ||
	    !json_object_object_get_ex(r, "vms", &vms) ||
	    !json_object_is_type(vms, json_type_array) ||
	    !json_object_object_get_ex(r, "events", &evs) ||
	    !json_object_is_type(evs, json_type_array)) {
		json_object_put(r);
		return vh_api_fail(p, VH_API_INTERNAL, "",
				   "the simulator's report is not what vh-sim writes"),
		       NULL;
	}
	o = json_object_new_object();
	out_vms = json_object_new_array();
	refused = json_object_new_array();
	host = json_object_new_object();
	ok = o && out_vms && refused && host;
	for (size_t i = 0; ok && i < json_object_array_length(vms); i++) {
		struct json_object *e = vm_entry(in, w, json_object_array_get_idx(vms, i));
		ok &= e && json_object_array_add(out_vms, e) == 0;
	}
	for (size_t i = 0; ok && i < json_object_array_length(evs); i++) {
		struct json_object *ev = json_object_array_get_idx(evs, i);
		if (*js(ev, "result") && strcmp(js(ev, "result"), "ok") != 0) {
			struct json_object *f = refusal(w, ev), *c;
			ok &= f && json_object_array_add(refused, f) == 0;
			if (f && json_object_object_get_ex(f, "change", &c) && c)
				nref++;
		}
	}
	if (ok) {
		ok &= vh_api_add(host, "pcpus", json_object_new_int64(in->hi->pcpus));
		ok &= vh_api_add(host, "mhz_per_pcpu", json_object_new_int64(in->hi->mhz_per_pcpu));
		ok &= vh_api_add(host, "memory_mib",
				 json_object_new_int64((int64_t)(in->hi->memory_bytes / VH_MIB)));
		ok &= vh_api_add(host, "steal_pct", num(vh_api_whatif_steal_pct(in), 1));
		snprintf(summary, sizeof(summary),
			 "%zu change%s over %llu simulated seconds: %zu applied, %zu refused; "
			 "demand measured over the last %.1f s",
			 w->nchanges, w->nchanges == 1 ? "" : "s",
			 (unsigned long long)w->duration_s, w->nchanges - nref, nref,
			 (double)in->window_ns / 1e9);
		ok &= vh_api_add(o, "duration_s", json_object_new_int64((int64_t)w->duration_s));
		ok &= vh_api_add(o, "window_ms",
				 json_object_new_int64((int64_t)(in->window_ns / 1000000)));
		ok &= vh_api_add(o, "host", host);
		host = NULL;
		ok &= vh_api_add(o, "vms", out_vms);
		out_vms = NULL;
		ok &= vh_api_add(o, "refused", refused);
		refused = NULL;
		ok &= vh_api_add(o, "summary", json_object_new_string(summary));
	}
	json_object_put(r);
	json_object_put(host);
	json_object_put(out_vms);
	json_object_put(refused);
	if (!ok) {
		json_object_put(o);
		vh_api_fail(p, VH_API_INTERNAL, "", "out of memory");
		return NULL;
	}
	return o;
}
