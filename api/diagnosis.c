/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnosis: why a VM lost time or memory, and what the host's VMs take,
 * from two samples of the counters a window apart (the agent reads them;
 * nothing here does I/O, so each cause is tested as a unit).
 *
 * Every cause is one row of a table: a stable code, whether it is a
 * problem or only information (an idle guest is not a slow one; page
 * sharing saves memory), and a function that measures it over the window
 * and writes its figures, one sentence an operator can read and the
 * change that would address it.  Causes are ranked by what they cost:
 * CPU causes as the percent of the VM's vCPU time they took, memory
 * causes as the percent of its configured memory, so both stand on one
 * scale. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

#define MSG_MAX 480

/* A cause found, before it becomes JSON. */
struct cause {
	const char *code;
	bool info; /* not a loss: reported, ranked, but not "the problem" */
	double cost_pct;
	struct json_object *figures;
	char message[MSG_MAX];
	char remedy[MSG_MAX];
};

/* Deltas of one VM over the window, and what it is. */
struct vm_view {
	const struct vh_api_diag_vm *v;
	const char *name;
	uint64_t used, ready, limited, stolen, costop, wait; /* ns over the window */
	double capacity_ns;                                  /* vcpus x window */
	bool on;                                             /* running or paused */
	uint64_t shares;
};

static uint64_t delta(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

/* Of a capacity: the counters are read a few microseconds after the
 * clock that dates them, so a part may exceed the whole by as much; no
 * operator should read "halted 100.2%". */
static double pct(double part, double whole)
{
	double v = whole > 0 ? 100.0 * part / whole : 0;

	return v > 100 ? 100 : v;
}

static double mib(uint64_t pages)
{
	return (double)pages * VH_PAGE_SIZE / VH_MIB;
}

/* Rounded to the figure an operator reads: 0.1 (percent, MiB, pCPUs). */
static struct json_object *num(double v)
{
	char s[40];

	snprintf(s, sizeof(s), "%.1f", v);
	return json_object_new_double_s(strtod(s, NULL), s);
}

static void fig(struct cause *c, const char *key, struct json_object *v)
{
	if (!c->figures)
		c->figures = json_object_new_object();
	if (c->figures && v)
		json_object_object_add(c->figures, key, v);
	else
		json_object_put(v);
}

static void say(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, MSG_MAX, fmt, ap);
	va_end(ap);
}

static void view_of(const struct vh_api_diag_input *in, size_t i, struct vm_view *w)
{
	const struct vh_api_diag_vm *v = &in->vms[i];
	const struct vh_cpu_stats *a = &v->a.cpu, *b = &v->b.cpu;

	memset(w, 0, sizeof(*w));
	w->v = v;
	w->name = v->s.name;
	w->used = delta(a->used_ns, b->used_ns);
	w->ready = delta(a->ready_ns, b->ready_ns);
	w->limited = delta(a->limited_ns, b->limited_ns);
	w->stolen = delta(a->stolen_ns, b->stolen_ns);
	/* Both are parts of ready; rounding in a backend never makes the
	 * rest negative. */
	if (w->limited > w->ready)
		w->limited = w->ready;
	if (w->stolen > w->ready - w->limited)
		w->stolen = w->ready - w->limited;
	w->costop = delta(a->costop_ns, b->costop_ns);
	w->wait = delta(a->wait_ns, b->wait_ns);
	w->capacity_ns = (double)v->s.vcpus * (double)in->window_ns;
	w->on = v->b.state == VH_VM_RUNNING || v->b.state == VH_VM_PAUSED;
	w->shares = vh_cpu_shares_value(&v->s.cpu.shares, v->s.vcpus);
}

/* pCPUs a VM wanted over the window: what it ran and waited to run. */
static double demand_pcpus(const struct vm_view *w, uint64_t window_ns)
{
	return window_ns ? (double)(w->used + w->ready + w->costop) / (double)window_ns : 0;
}

/* The VMs that competed for the pCPUs: powered on and wanting at least 1%
 * of a pCPU over the window. */
struct competition {
	unsigned vms, vcpus;
	uint64_t shares;
	double demand;
};

static void competition_of(const struct vh_api_diag_input *in, struct competition *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < in->nvms; i++) {
		struct vm_view w;
		double d;
		view_of(in, i, &w);
		d = demand_pcpus(&w, in->window_ns);
		if (!w.on || d < 0.01)
			continue;
		c->vms++;
		/* A vCPU counts when the VM wanted at least a tenth of it. */
		c->vcpus += (unsigned)(d + 0.9) < w.v->s.vcpus ? (unsigned)(d + 0.9) : w.v->s.vcpus;
		c->shares += w.shares;
		c->demand += d;
	}
}

static double mhz_as_pcpus(const struct vh_api_diag_input *in, uint64_t mhz)
{
	return in->hi->mhz_per_pcpu ? (double)mhz / in->hi->mhz_per_pcpu : 0;
}

/* ---- the causes of a VM's lost time and memory ------------------------------------ */

typedef bool (*cause_fn)(const struct vh_api_diag_input *in, const struct vm_view *w,
			 struct cause *c);

static bool cpu_contention(const struct vh_api_diag_input *in, const struct vm_view *w,
			   struct cause *c)
{
	uint64_t waited = w->ready - w->limited - w->stolen;
	struct competition k;
	double share, entitled;

	c->cost_pct = pct((double)waited, w->capacity_ns);
	if (c->cost_pct < 1.0)
		return false;
	competition_of(in, &k);
	share = k.shares ? (double)w->shares / (double)k.shares : 1;
	entitled = share * in->hi->pcpus;
	if (entitled > w->v->s.vcpus)
		entitled = w->v->s.vcpus;
	if (w->v->s.cpu.limit_mhz != VH_UNLIMITED &&
	    mhz_as_pcpus(in, w->v->s.cpu.limit_mhz) < entitled)
		entitled = mhz_as_pcpus(in, w->v->s.cpu.limit_mhz);
	if (mhz_as_pcpus(in, w->v->s.cpu.reservation_mhz) > entitled)
		entitled = mhz_as_pcpus(in, w->v->s.cpu.reservation_mhz);
	fig(c, "ready_ms", json_object_new_uint64(waited / VH_NSEC_PER_MSEC));
	fig(c, "ready_pct", num(c->cost_pct));
	fig(c, "competing_vcpus", json_object_new_uint64(k.vcpus));
	fig(c, "competing_vms", json_object_new_uint64(k.vms));
	fig(c, "pcpus", json_object_new_uint64(in->hi->pcpus));
	fig(c, "shares", json_object_new_uint64(w->shares));
	fig(c, "shares_total", json_object_new_uint64(k.shares));
	fig(c, "share_pct", num(100 * share));
	fig(c, "entitled_pcpus", num(entitled));
	fig(c, "used_pcpus", num((double)w->used / (double)in->window_ns));
	say(c->message,
	    "Waited for a pCPU %.1f%% of the time: %u vCPUs competed for %u pCPUs, and its %llu "
	    "shares are %.1f%% of the %llu shares competing, which entitles it to %.1f pCPUs "
	    "(it used %.1f).",
	    c->cost_pct, k.vcpus, in->hi->pcpus, (unsigned long long)w->shares, 100 * share,
	    (unsigned long long)k.shares, entitled, (double)w->used / (double)in->window_ns);
	say(c->remedy,
	    "Raise its CPU shares (vhctl vm cpu %s --shares high) or reserve CPU for it "
	    "(--reservation), or lower, limit or move the VMs that take most (vhctl explain "
	    "--host).",
	    w->name);
	return true;
}

static bool cpu_limit(const struct vh_api_diag_input *in, const struct vm_view *w, struct cause *c)
{
	uint64_t lim = w->v->s.cpu.limit_mhz;

	c->cost_pct = pct((double)w->limited, w->capacity_ns);
	if (c->cost_pct < 1.0)
		return false;
	fig(c, "limited_ms", json_object_new_uint64(w->limited / VH_NSEC_PER_MSEC));
	fig(c, "limited_pct", num(c->cost_pct));
	fig(c, "limit_mhz", lim == VH_UNLIMITED ? NULL : json_object_new_uint64(lim));
	fig(c, "limit_pcpus", num(mhz_as_pcpus(in, lim == VH_UNLIMITED ? 0 : lim)));
	fig(c, "used_pcpus", num((double)w->used / (double)in->window_ns));
	if (lim == VH_UNLIMITED)
		say(c->message,
		    "Held back by its own CPU limit %.1f%% of the time (the limit has since been "
		    "lifted).",
		    c->cost_pct);
	else
		say(c->message,
		    "Held back by its own CPU limit %.1f%% of the time: it used its limit of %llu "
		    "MHz (%.1f pCPUs), and the limit, not the host, kept it waiting.",
		    c->cost_pct, (unsigned long long)lim, mhz_as_pcpus(in, lim));
	say(c->remedy, "Raise or remove its CPU limit (vhctl vm cpu %s --limit unlimited).",
	    w->name);
	return true;
}

/* vh-hosted's pCPUs are threads of a Linux process: time Linux gave
 * something else while a vCPU was on one is ready time no VM setting
 * changes. */
static bool host_steal(const struct vh_api_diag_input *in, const struct vm_view *w, struct cause *c)
{
	(void)in;
	c->cost_pct = pct((double)w->stolen, w->capacity_ns);
	if (c->cost_pct < 1.0)
		return false;
	fig(c, "stolen_ms", json_object_new_uint64(w->stolen / VH_NSEC_PER_MSEC));
	fig(c, "stolen_pct", num(c->cost_pct));
	say(c->message,
	    "The host took %.1f%% of the time from the pCPUs its vCPUs were on: other programs "
	    "ran on the machine's CPUs instead of vh's pCPU threads.",
	    c->cost_pct);
	say(c->remedy,
	    "Give vh-hosted's pCPU threads CPUs of their own (fewer --pcpus than host CPUs, or "
	    "move the other load), or run vh on bare metal.");
	return true;
}

/* The vCPU that ran least against the one that ran most, over the window. */
static bool costop(const struct vh_api_diag_input *in, const struct vm_view *w, struct cause *c)
{
	uint32_t lag = 0, lead = 0;
	uint64_t lo = UINT64_MAX, hi = 0;

	c->cost_pct = pct((double)w->costop, w->capacity_ns);
	if (c->cost_pct < 1.0)
		return false;
	for (uint32_t i = 0; in->vcpu_a && in->vcpu_b && i < in->nvcpus; i++) {
		uint64_t u = delta(in->vcpu_a[i].used_ns, in->vcpu_b[i].used_ns);
		if (u < lo)
			lo = u, lag = i;
		if (u > hi)
			hi = u, lead = i;
	}
	if (lo == UINT64_MAX)
		lo = 0;
	fig(c, "costop_ms", json_object_new_uint64(w->costop / VH_NSEC_PER_MSEC));
	fig(c, "costop_pct", num(c->cost_pct));
	fig(c, "skew_ms", json_object_new_uint64((hi - lo) / VH_NSEC_PER_MSEC));
	fig(c, "lagging_vcpu", json_object_new_uint64(lag));
	fig(c, "leading_vcpu", json_object_new_uint64(lead));
	say(c->message,
	    "Co-scheduling held its vCPUs back %.1f%% of the time: vCPU %u ran %llu ms less "
	    "than vCPU %u, so the others stopped to let it catch up.",
	    c->cost_pct, lag, (unsigned long long)((hi - lo) / VH_NSEC_PER_MSEC), lead);
	say(c->remedy,
	    "Give it only the vCPUs its work uses (vhctl vm edit %s), or free pCPUs so that its "
	    "vCPUs can run together.",
	    w->name);
	return true;
}

static bool halted(const struct vh_api_diag_input *in, const struct vm_view *w, struct cause *c)
{
	(void)in;
	c->info = true;
	c->cost_pct = pct((double)w->wait, w->capacity_ns);
	if (c->cost_pct < 1.0)
		return false;
	fig(c, "halted_ms", json_object_new_uint64(w->wait / VH_NSEC_PER_MSEC));
	fig(c, "halted_pct", num(c->cost_pct));
	fig(c, "used_pct", num(pct((double)w->used, w->capacity_ns)));
	say(c->message,
	    "Its vCPUs were halted %.1f%% of the time: the guest had nothing to run. An idle "
	    "guest is not a slow one; this time was not lost.",
	    c->cost_pct);
	say(c->remedy,
	    "Nothing to change on the host; if the guest is slow, look inside it (I/O, locks, "
	    "timers).");
	return true;
}

static uint64_t configured_pages(const struct vm_view *w)
{
	return w->v->s.memory_mib * VH_PAGES_PER_MIB;
}

static bool balloon(const struct vh_api_diag_input *in, const struct vm_view *w, struct cause *c)
{
	const struct vh_mem_stats *m = &w->v->b.mem;
	uint32_t why = m->balloon_reason;

	(void)in;
	c->cost_pct = pct((double)m->balloon, (double)configured_pages(w));
	if (!m->balloon || c->cost_pct < 1.0)
		return false;
	fig(c, "balloon_mib", num(mib(m->balloon)));
	fig(c, "target_mib", num(mib(w->v->s.balloon_target_pages)));
	fig(c, "reason", json_object_new_string(vh_balloon_reason_name(why)));
	fig(c, "entitled_mib", num(mib(m->entitled)));
	fig(c, "active_mib", num(mib(m->active)));
	fig(c, "configured_mib", json_object_new_uint64(w->v->s.memory_mib));
	switch (why) {
	case VH_BALLOON_REQUEST:
		say(c->message,
		    "The balloon holds %.1f MiB of its %llu MiB because an operator asked for a "
		    "balloon of %.1f MiB.",
		    mib(m->balloon), (unsigned long long)w->v->s.memory_mib,
		    mib(w->v->s.balloon_request_pages));
		say(c->remedy, "Lower the balloon request (vhctl vm balloon %s 0).", w->name);
		break;
	case VH_BALLOON_LIMIT:
		say(c->message,
		    "The balloon holds %.1f MiB of its %llu MiB because its memory limit of %llu "
		    "MiB "
		    "is below its configured size.",
		    mib(m->balloon), (unsigned long long)w->v->s.memory_mib,
		    (unsigned long long)w->v->s.mem.limit_mib);
		say(c->remedy,
		    "Raise or remove its memory limit (vhctl vm mem %s --limit unlimited).",
		    w->name);
		break;
	default:
		say(c->message,
		    "The host is short of memory: the balloon holds %.1f MiB of its %llu MiB, "
		    "bringing it down to its entitlement of %.1f MiB (its shares, with idle memory "
		    "taxed; %.1f MiB active).",
		    mib(m->balloon), (unsigned long long)w->v->s.memory_mib, mib(m->entitled),
		    mib(m->active));
		say(c->remedy,
		    "Raise its memory shares or reservation (vhctl vm mem %s --shares high), or "
		    "free "
		    "host memory (stop or shrink other VMs).",
		    w->name);
		break;
	}
	return true;
}

static bool idle_tax(const struct vh_api_diag_input *in, const struct vm_view *w, struct cause *c)
{
	const struct vh_mem_stats *m = &w->v->b.mem;

	(void)in;
	c->cost_pct = pct((double)m->idle_tax, (double)configured_pages(w));
	if (!m->idle_tax || c->cost_pct < 1.0)
		return false;
	fig(c, "idle_tax_mib", num(mib(m->idle_tax)));
	fig(c, "active_mib", num(mib(m->active)));
	fig(c, "granted_mib", num(mib(m->granted)));
	fig(c, "reclaim_target_mib", num(mib(m->reclaim_target)));
	say(c->message,
	    "The idle-memory tax took %.1f MiB: only %.1f of its %.1f MiB were active, and idle "
	    "memory is reclaimed first while the host is short.",
	    mib(m->idle_tax), mib(m->active), mib(m->granted));
	say(c->remedy,
	    "Nothing if the guest really is idle; a memory reservation protects memory from the "
	    "tax (vhctl vm mem %s --reservation SIZE).",
	    w->name);
	return true;
}

static bool page_sharing(const struct vh_api_diag_input *in, const struct vm_view *w,
			 struct cause *c)
{
	const struct vh_mem_stats *m = &w->v->b.mem;

	(void)in;
	c->info = true;
	c->cost_pct = 0; /* a saving: the guest loses nothing until it writes a shared page */
	if (!m->shared || pct((double)m->shared, (double)configured_pages(w)) < 1.0)
		return false;
	fig(c, "shared_mib", num(mib(m->shared)));
	fig(c, "shared_pct", num(pct((double)m->shared, (double)configured_pages(w))));
	say(c->message,
	    "%.1f MiB of its memory share host pages with identical pages: a saving that costs "
	    "the guest nothing until it writes one (a copy on write).",
	    mib(m->shared));
	say(c->remedy, "Nothing to change.");
	return true;
}

static bool admission(const struct vh_api_diag_input *in, const struct vm_view *w, struct cause *c)
{
	const struct vh_proto_host_stats *hs = in->hs;
	uint32_t n = w->v->b.admission_refusals;
	uint64_t free_mhz = in->hi->cpu_capacity_mhz > hs->reserved_mhz
				? in->hi->cpu_capacity_mhz - hs->reserved_mhz
				: 0;
	uint64_t free_mib = in->hi->mem_capacity_mib > hs->reserved_mib
				? in->hi->mem_capacity_mib - hs->reserved_mib
				: 0;

	if (!n)
		return false;
	/* Refused and off: the whole VM is lost; a refused change to a
	 * running VM costs nothing now. */
	c->cost_pct = w->on ? 0 : 100;
	fig(c, "refusals", json_object_new_uint64(n));
	fig(c, "refusals_in_window", json_object_new_uint64(delta(w->v->a.admission_refusals, n)));
	fig(c, "reservation_mhz", json_object_new_uint64(w->v->s.cpu.reservation_mhz));
	fig(c, "reservation_mib", json_object_new_uint64(w->v->s.mem.reservation_mib));
	fig(c, "unreserved_mhz", json_object_new_uint64(free_mhz));
	fig(c, "unreserved_mib", json_object_new_uint64(free_mib));
	say(c->message,
	    "Admission control refused %u power-ons or control changes of this VM: it reserves "
	    "%llu MHz and %llu MiB, and the host has %llu MHz and %llu MiB unreserved.",
	    n, (unsigned long long)w->v->s.cpu.reservation_mhz,
	    (unsigned long long)w->v->s.mem.reservation_mib, (unsigned long long)free_mhz,
	    (unsigned long long)free_mib);
	say(c->remedy,
	    "Lower its reservations (vhctl vm cpu %s --reservation, vhctl vm mem %s "
	    "--reservation), or lower other VMs' reservations or stop them.",
	    w->name, w->name);
	return true;
}

static bool not_running(const struct vh_api_diag_input *in, const struct vm_view *w,
			struct cause *c)
{
	(void)in;
	c->info = true;
	c->cost_pct = 100;
	if (w->on)
		return false;
	fig(c, "state", json_object_new_string(vh_api_state_name(w->v->b.state)));
	say(c->message, "The VM is %s: it runs nothing.", vh_api_state_name(w->v->b.state));
	say(c->remedy, "Start it (vhctl vm start %s).", w->name);
	return true;
}

/* cpu: measured over the window's CPU time, which a VM that is not
 * powered on does not have. */
static const struct {
	const char *code;
	cause_fn fn;
	bool cpu;
} vm_causes[] = {
	{ "not_running", not_running, false },
	{ "cpu_contention", cpu_contention, true },
	{ "cpu_limit", cpu_limit, true },
	{ "host_steal", host_steal, true },
	{ "costop", costop, true },
	{ "halted", halted, true },
	{ "balloon", balloon, false },
	{ "idle_memory_tax", idle_tax, false },
	{ "page_sharing", page_sharing, false },
	{ "admission", admission, false },
};
#define NCAUSES (sizeof(vm_causes) / sizeof(vm_causes[0]))

/* Most costly first; a loss before information of the same cost. */
static int by_cost(const void *x, const void *y)
{
	const struct cause *a = x, *b = y;

	if (a->cost_pct != b->cost_pct)
		return a->cost_pct < b->cost_pct ? 1 : -1;
	if (a->info != b->info)
		return a->info ? 1 : -1;
	return strcmp(a->code, b->code);
}

static struct json_object *cause_json(struct cause *c)
{
	struct json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(c->figures);
		return NULL;
	}
	json_object_object_add(o, "code", json_object_new_string(c->code));
	json_object_object_add(o, "kind", json_object_new_string(c->info ? "info" : "problem"));
	json_object_object_add(o, "cost_pct", num(c->cost_pct));
	json_object_object_add(o, "figures", c->figures ? c->figures : json_object_new_object());
	json_object_object_add(o, "message", json_object_new_string(c->message));
	json_object_object_add(o, "remedy", json_object_new_string(c->remedy));
	return o;
}

/* The causes of the VM at in->self, ranked, as a JSON array; the top
 * one's message in *summary (empty when none). */
static struct json_object *vm_causes_json(const struct vh_api_diag_input *in,
					  const struct vm_view *w, char *summary)
{
	struct cause found[NCAUSES];
	struct json_object *arr = json_object_new_array();
	size_t n = 0;

	for (size_t i = 0; i < NCAUSES; i++) {
		struct cause *c = &found[n];
		memset(c, 0, sizeof(*c));
		c->code = vm_causes[i].code;
		if (vm_causes[i].cpu && !w->on)
			continue;
		if (vm_causes[i].fn(in, w, c))
			n++;
		else
			json_object_put(c->figures);
	}
	qsort(found, n, sizeof(found[0]), by_cost);
	summary[0] = '\0';
	if (n)
		snprintf(summary, MSG_MAX, "%s", found[0].message);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = cause_json(&found[i]);
		if (!arr || !c || json_object_array_add(arr, c))
			json_object_put(c);
	}
	return arr;
}

static struct json_object *cpu_pcts(const struct vm_view *w)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "used_pct", num(pct((double)w->used, w->capacity_ns)));
	json_object_object_add(o, "ready_pct", num(pct((double)w->ready, w->capacity_ns)));
	json_object_object_add(o, "limited_pct", num(pct((double)w->limited, w->capacity_ns)));
	json_object_object_add(o, "stolen_pct", num(pct((double)w->stolen, w->capacity_ns)));
	json_object_object_add(o, "costop_pct", num(pct((double)w->costop, w->capacity_ns)));
	json_object_object_add(o, "wait_pct", num(pct((double)w->wait, w->capacity_ns)));
	return o;
}

struct json_object *vh_api_diagnose_vm(const struct vh_api_diag_input *in)
{
	struct json_object *o;
	struct vm_view w;
	char summary[MSG_MAX], name[VH_VM_NAME_MAX], uuid[37];

	if (in->self >= in->nvms || !in->window_ns)
		return NULL;
	view_of(in, in->self, &w);
	if (!(o = json_object_new_object()))
		return NULL;
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(w.v->s.name), w.v->s.name);
	vh_api_uuid_format(w.v->s.uuid, uuid);
	json_object_object_add(o, "vm", json_object_new_string(vh_api_utf8_clean(name)));
	json_object_object_add(o, "uuid", json_object_new_string(uuid));
	json_object_object_add(o, "state", json_object_new_string(vh_api_state_name(w.v->b.state)));
	json_object_object_add(o, "window_ms",
			       json_object_new_uint64(in->window_ns / VH_NSEC_PER_MSEC));
	json_object_object_add(o, "vcpus", json_object_new_uint64(w.v->s.vcpus));
	json_object_object_add(o, "cpu", cpu_pcts(&w));
	json_object_object_add(o, "causes", vm_causes_json(in, &w, summary));
	if (!summary[0])
		snprintf(
		    summary, sizeof(summary),
		    "Nothing held it back over the last %.1f s: it ran %.1f%% of its vCPU time.",
		    (double)in->window_ns / VH_NSEC_PER_SEC, pct((double)w.used, w.capacity_ns));
	json_object_object_add(o, "summary", json_object_new_string(summary));
	return o;
}

/* ---- the host ----------------------------------------------------------------------- */

struct taker {
	size_t i;
	double used_pcpus;
};

static int by_used(const void *x, const void *y)
{
	const struct taker *a = x, *b = y;

	if (a->used_pcpus != b->used_pcpus)
		return a->used_pcpus < b->used_pcpus ? 1 : -1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Every powered-on VM, most CPU first, with what it took and lost. */
static struct json_object *takers_json(const struct vh_api_diag_input *in)
{
	struct taker *t = calloc(in->nvms ? in->nvms : 1, sizeof(*t));
	struct json_object *arr = json_object_new_array();
	size_t n = 0;

	if (!t || !arr) {
		free(t);
		json_object_put(arr);
		return NULL;
	}
	for (size_t i = 0; i < in->nvms; i++) {
		struct vm_view w;
		view_of(in, i, &w);
		if (!w.on)
			continue;
		t[n].i = i;
		t[n++].used_pcpus = (double)w.used / (double)in->window_ns;
	}
	qsort(t, n, sizeof(*t), by_used);
	for (size_t k = 0; k < n; k++) {
		struct json_object *e = json_object_new_object();
		char name[VH_VM_NAME_MAX];
		struct vm_view w;
		const struct vh_api_diag_vm *v = &in->vms[t[k].i];
		view_of(in, t[k].i, &w);
		if (!e)
			break;
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(v->s.name), v->s.name);
		json_object_object_add(e, "vm", json_object_new_string(vh_api_utf8_clean(name)));
		json_object_object_add(e, "vcpus", json_object_new_uint64(v->s.vcpus));
		json_object_object_add(e, "used_pcpus", num(t[k].used_pcpus));
		json_object_object_add(e, "used_pct_of_host",
				       num(pct(t[k].used_pcpus, in->hi->pcpus)));
		json_object_object_add(e, "ready_pct", num(pct((double)w.ready, w.capacity_ns)));
		json_object_object_add(e, "limited_pct",
				       num(pct((double)w.limited, w.capacity_ns)));
		json_object_object_add(e, "shares", json_object_new_uint64(w.shares));
		json_object_object_add(e, "reservation_mhz",
				       json_object_new_uint64(v->s.cpu.reservation_mhz));
		json_object_object_add(e, "reservation_mib",
				       json_object_new_uint64(v->s.mem.reservation_mib));
		json_object_object_add(e, "consumed_mib", num(mib(v->b.mem.consumed)));
		json_object_object_add(e, "balloon_mib", num(mib(v->b.mem.balloon)));
		json_object_array_add(arr, e);
	}
	free(t);
	return arr;
}

struct json_object *vh_api_diagnose_host(const struct vh_api_diag_input *in)
{
	const struct vh_proto_host_info *hi = in->hi;
	const struct vh_proto_host_stats *hs = in->hs;
	struct json_object *o, *res, *adm;
	struct competition k;
	uint64_t free_mhz, free_mib, refusals = 0, balloon = 0, tax = 0;
	double cpu_used_pct, mem_used_pct, closest, waited = 0;
	char summary[MSG_MAX];

	if (!in->window_ns || !(o = json_object_new_object()))
		return NULL;
	competition_of(in, &k);
	for (size_t i = 0; i < in->nvms; i++) {
		struct vm_view w;
		view_of(in, i, &w);
		refusals += in->vms[i].b.admission_refusals;
		balloon += in->vms[i].b.mem.balloon;
		tax += in->vms[i].b.mem.idle_tax;
		waited += (double)(w.ready - w.limited - w.stolen);
	}
	free_mhz =
	    hi->cpu_capacity_mhz > hs->reserved_mhz ? hi->cpu_capacity_mhz - hs->reserved_mhz : 0;
	free_mib =
	    hi->mem_capacity_mib > hs->reserved_mib ? hi->mem_capacity_mib - hs->reserved_mib : 0;
	cpu_used_pct = pct((double)hs->reserved_mhz, (double)hi->cpu_capacity_mhz);
	mem_used_pct = pct((double)hs->reserved_mib, (double)hi->mem_capacity_mib);
	closest = cpu_used_pct > mem_used_pct ? cpu_used_pct : mem_used_pct;

	json_object_object_add(o, "window_ms",
			       json_object_new_uint64(in->window_ns / VH_NSEC_PER_MSEC));
	json_object_object_add(o, "pcpus", json_object_new_uint64(hi->pcpus));
	json_object_object_add(o, "competing_vcpus", json_object_new_uint64(k.vcpus));
	json_object_object_add(o, "demand_pcpus", num(k.demand));
	json_object_object_add(o, "ready_pcpus", num(waited / (double)in->window_ns));
	json_object_object_add(o, "vms", takers_json(in));
	res = json_object_new_object();
	if (res) {
		json_object_object_add(res, "cpu_reserved_mhz",
				       json_object_new_uint64(hs->reserved_mhz));
		json_object_object_add(res, "cpu_capacity_mhz",
				       json_object_new_uint64(hi->cpu_capacity_mhz));
		json_object_object_add(res, "cpu_reserved_pct", num(cpu_used_pct));
		json_object_object_add(res, "memory_reserved_mib",
				       json_object_new_uint64(hs->reserved_mib));
		json_object_object_add(res, "memory_capacity_mib",
				       json_object_new_uint64(hi->mem_capacity_mib));
		json_object_object_add(res, "memory_reserved_pct", num(mem_used_pct));
	}
	json_object_object_add(o, "reserved", res);
	adm = json_object_new_object();
	if (adm) {
		json_object_object_add(adm, "unreserved_mhz", json_object_new_uint64(free_mhz));
		json_object_object_add(adm, "unreserved_mib", json_object_new_uint64(free_mib));
		json_object_object_add(adm, "closest_pct", num(closest));
		json_object_object_add(adm, "refusals", json_object_new_uint64(refusals));
	}
	json_object_object_add(o, "admission", adm);
	json_object_object_add(o, "memory_balloon_mib", num(mib(balloon)));
	json_object_object_add(o, "memory_idle_tax_mib", num(mib(tax)));
	json_object_object_add(o, "memory_unused_mib", num(mib(hs->mem.free)));
	snprintf(
	    summary, sizeof(summary),
	    "%u vCPUs competed for %u pCPUs over the last %.1f s (demand %.1f pCPUs, %.1f pCPUs "
	    "of it waiting); reservations hold %.1f%% of CPU and %.1f%% of memory capacity, so "
	    "admission control refuses a power-on reserving more than %llu MHz or %llu MiB "
	    "(%llu refusals so far).",
	    k.vcpus, hi->pcpus, (double)in->window_ns / VH_NSEC_PER_SEC, k.demand,
	    waited / (double)in->window_ns, cpu_used_pct, mem_used_pct,
	    (unsigned long long)free_mhz, (unsigned long long)free_mib,
	    (unsigned long long)refusals);
	json_object_object_add(o, "summary", json_object_new_string(summary));
	return o;
}
