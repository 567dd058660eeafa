/* SPDX-License-Identifier: Apache-2.0 */
/* vh-sim scenario parser (format: docs/vh-sim.md).  Line oriented:
 * a directive, then key=value words.  Strict: unknown directives, unknown
 * keys, duplicate keys and malformed values are errors naming the line. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "vh/error.h"

#define MAX_WORDS 32
#define MAX_LINE 1024

struct parser {
	struct vh_sim_scenario *sc;
	unsigned line;
	char *err;
	size_t errlen;
	bool have_host, have_duration;
};

static bool fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(struct parser *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "line %u: %s", p->line, msg);
	return false;
}

/* ---- quantities ---------------------------------------------------------- */

/* A non-negative decimal with an optional fraction, then a unit suffix
 * from the table.  Fractions are kept exact in integer arithmetic. */
struct unit {
	const char *suffix;
	uint64_t scale;
};

static bool parse_scaled(const char *s, const struct unit *units, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, frac_div = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		if (whole > (UINT64_MAX - 9) / 10)
			return false;
		whole = whole * 10 + (uint64_t)(*p++ - '0');
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p)) {
			if (frac_div >= 1000000000ull)
				return false; /* more precision than any unit needs */
			frac = frac * 10 + (uint64_t)(*p++ - '0');
			frac_div *= 10;
		}
	}
	for (const struct unit *u = units; u->suffix; u++) {
		if (strcasecmp(p, u->suffix) == 0) {
			unsigned __int128 v = (unsigned __int128)whole * u->scale +
					      (unsigned __int128)frac * u->scale / frac_div;
			if (v > UINT64_MAX)
				return false;
			if (frac && ((unsigned __int128)frac * u->scale) % frac_div)
				return false; /* not a whole number of base units */
			*out = (uint64_t)v;
			return true;
		}
	}
	return false;
}

bool vh_sim_parse_duration(const char *s, uint64_t *ns)
{
	static const struct unit units[] = {
		{ "ns", 1 }, { "us", 1000ull }, { "ms", 1000000ull }, { "s", 1000000000ull },
		{ "m", 60000000000ull }, { NULL, 0 },
	};
	return parse_scaled(s, units, ns);
}

bool vh_sim_parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {
		{ "", 1 }, { "B", 1 }, { "K", 1ull << 10 }, { "KiB", 1ull << 10 },
		{ "M", 1ull << 20 }, { "MiB", 1ull << 20 }, { "G", 1ull << 30 },
		{ "GiB", 1ull << 30 }, { "T", 1ull << 40 }, { "TiB", 1ull << 40 }, { NULL, 0 },
	};
	return parse_scaled(s, units, bytes);
}

bool vh_sim_parse_mhz(const char *s, uint64_t *mhz)
{
	static const struct unit units[] = {
		{ "", 1 }, { "MHz", 1 }, { "GHz", 1000 }, { NULL, 0 },
	};
	return parse_scaled(s, units, mhz);
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_mib(const char *s, uint64_t *mib)
{
	uint64_t bytes;

	if (!vh_sim_parse_size(s, &bytes) || bytes % VH_MIB)
		return false;
	*mib = bytes / VH_MIB;
	return true;
}

static bool parse_shares(const char *s, struct vh_shares *out)
{
	uint64_t v;

	if (strcmp(s, "low") == 0)
		*out = (struct vh_shares){ .level = VH_SHARES_LOW };
	else if (strcmp(s, "normal") == 0)
		*out = (struct vh_shares){ .level = VH_SHARES_NORMAL };
	else if (strcmp(s, "high") == 0)
		*out = (struct vh_shares){ .level = VH_SHARES_HIGH };
	else if (parse_u64(s, VH_SHARES_CUSTOM_MAX, &v) && v >= VH_SHARES_CUSTOM_MIN)
		*out = (struct vh_shares){ .level = VH_SHARES_CUSTOM, .custom = (uint32_t)v };
	else
		return false;
	return true;
}

/* ---- words ----------------------------------------------------------------- */

struct kv {
	char *key;
	char *value; /* NULL for a bare word */
	bool used;
};

static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		if (n == max)
			return max + 1;
		words[n++] = w;
	}
	return n;
}

static bool split_kvs(struct parser *p, char **words, size_t n, struct kv *kvs)
{
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq || eq == words[i] || !eq[1])
			return fail(p, "expected key=value, got \"%s\"", words[i]);
		*eq = '\0';
		kvs[i] = (struct kv){ .key = words[i], .value = eq + 1 };
		for (size_t j = 0; j < i; j++) {
			if (strcmp(kvs[j].key, kvs[i].key) == 0)
				return fail(p, "key \"%s\" given twice", kvs[i].key);
		}
	}
	return true;
}

static const char *take(struct kv *kvs, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (!kvs[i].used && strcmp(kvs[i].key, key) == 0) {
			kvs[i].used = true;
			return kvs[i].value;
		}
	}
	return NULL;
}

static bool all_used(struct parser *p, struct kv *kvs, size_t n, const char *where)
{
	for (size_t i = 0; i < n; i++) {
		if (!kvs[i].used)
			return fail(p, "unknown key \"%s\" for %s", kvs[i].key, where);
	}
	return true;
}

/* ---- shared key groups --------------------------------------------------- */

#define TAKE(key) take(kvs, n, key)

static bool parse_cpu_keys(struct parser *p, struct kv *kvs, size_t n, struct vh_cpu_controls *c,
			   bool set[3])
{
	const char *v;

	if ((v = TAKE("cpu.shares"))) {
		if (!parse_shares(v, &c->shares))
			return fail(p, "cpu.shares: \"%s\" is not low, normal, high or 1..1000000",
				    v);
		set[0] = true;
	}
	if ((v = TAKE("cpu.reservation"))) {
		if (!vh_sim_parse_mhz(v, &c->reservation_mhz))
			return fail(
			    p, "cpu.reservation: \"%s\" is not a frequency (500, 500MHz, 1.5GHz)",
			    v);
		set[1] = true;
	}
	if ((v = TAKE("cpu.limit"))) {
		if (strcmp(v, "unlimited") == 0)
			c->limit_mhz = VH_UNLIMITED;
		else if (!vh_sim_parse_mhz(v, &c->limit_mhz))
			return fail(p, "cpu.limit: \"%s\" is not a frequency or \"unlimited\"", v);
		set[2] = true;
	}
	return true;
}

static bool parse_mem_keys(struct parser *p, struct kv *kvs, size_t n, struct vh_mem_controls *m,
			   bool set[3])
{
	const char *v;

	if ((v = TAKE("mem.shares"))) {
		if (!parse_shares(v, &m->shares))
			return fail(p, "mem.shares: \"%s\" is not low, normal, high or 1..1000000",
				    v);
		set[0] = true;
	}
	if ((v = TAKE("mem.reservation"))) {
		if (!parse_mib(v, &m->reservation_mib))
			return fail(
			    p, "mem.reservation: \"%s\" is not a whole number of MiB (128M, 1G)",
			    v);
		set[1] = true;
	}
	if ((v = TAKE("mem.limit"))) {
		if (strcmp(v, "unlimited") == 0)
			m->limit_mib = VH_UNLIMITED;
		else if (!parse_mib(v, &m->limit_mib))
			return fail(
			    p, "mem.limit: \"%s\" is not a whole number of MiB or \"unlimited\"",
			    v);
		set[2] = true;
	}
	return true;
}

static bool parse_workload_keys(struct parser *p, struct kv *kvs, size_t n, const char *kind,
				struct vh_sim_workload *w)
{
	const char *v;
	uint64_t u;

	if (kind) {
		if (strcmp(kind, "cpu") == 0)
			w->kind = VH_SIM_WL_CPU;
		else if (strcmp(kind, "idle") == 0)
			w->kind = VH_SIM_WL_IDLE;
		else if (strcmp(kind, "bursty") == 0)
			w->kind = VH_SIM_WL_BURSTY;
		else if (strcmp(kind, "smp") == 0)
			w->kind = VH_SIM_WL_SMP;
		else
			return fail(p, "workload: \"%s\" is not cpu, idle, bursty or smp", kind);
	}
	if ((v = TAKE("run")) && (!vh_sim_parse_duration(v, &w->run_ns) || !w->run_ns))
		return fail(p, "run: \"%s\" is not a positive duration (5ms)", v);
	if ((v = TAKE("sleep")) && (!vh_sim_parse_duration(v, &w->sleep_ns) || !w->sleep_ns))
		return fail(p, "sleep: \"%s\" is not a positive duration (15ms)", v);
	if ((v = TAKE("touch_rate"))) {
		if (!parse_u64(v, 100000000, &w->touch_pages_per_sec))
			return fail(p, "touch_rate: \"%s\" is not pages per second (0..100000000)",
				    v);
	}
	if ((v = TAKE("touch"))) {
		if (!parse_u64(v, 100, &u))
			return fail(p, "touch: \"%s\" is not a percentage 0..100", v);
		w->touch_percent = (uint32_t)u;
	}
	if ((v = TAKE("content"))) {
		if (!parse_u64(v, UINT32_MAX, &u))
			return fail(p, "content: \"%s\" is not a seed 0..4294967295", v);
		w->content_seed = (uint32_t)u;
	}
	if (w->kind == VH_SIM_WL_BURSTY && (!w->run_ns || !w->sleep_ns))
		return fail(p, "workload bursty needs run= and sleep=");
	if (w->kind == VH_SIM_WL_SMP && !w->run_ns)
		return fail(p, "workload smp needs run= (work between barriers)");
	return true;
}

/* "12.5%" or "12.5" (one decimal at most) as thousandths, up to max. */
static bool parse_permille(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t whole = 0, tenth = 0;
	const char *q = s;

	if (*q < '0' || *q > '9')
		return false;
	while (*q >= '0' && *q <= '9' && whole <= max)
		whole = whole * 10 + (uint64_t)(*q++ - '0');
	if (*q == '.') {
		q++;
		if (*q < '0' || *q > '9')
			return false;
		tenth = (uint64_t)(*q++ - '0');
	}
	if (*q == '%')
		q++;
	if (*q || whole * 10 + tenth > max)
		return false;
	*out = (uint32_t)(whole * 10 + tenth);
	return true;
}

/* ---- directives ---------------------------------------------------------- */

static bool d_host(struct parser *p, struct kv *kvs, size_t n)
{
	struct vh_host_config *h = &p->sc->host;
	const char *v;
	uint64_t u;

	if (p->have_host)
		return fail(p, "host given twice");
	p->have_host = true;
	if ((v = TAKE("pcpus"))) {
		if (!parse_u64(v, VH_HOST_MAX_PCPUS, &u) || !u)
			return fail(p, "pcpus: \"%s\" is not 1..%u", v, VH_HOST_MAX_PCPUS);
		h->pcpus = (uint32_t)u;
	}
	if ((v = TAKE("mhz"))) {
		if (!vh_sim_parse_mhz(v, &u) || !u || u > 100000)
			return fail(p, "mhz: \"%s\" is not a clock rate (2400, 2.4GHz)", v);
		h->mhz_per_pcpu = (uint32_t)u;
	}
	if ((v = TAKE("memory")) && !vh_sim_parse_size(v, &h->memory_bytes))
		return fail(p, "memory: \"%s\" is not a size (4G)", v);
	if ((v = TAKE("overhead")) && !vh_sim_parse_size(v, &h->overhead_bytes))
		return fail(p, "overhead: \"%s\" is not a size (64M)", v);
	if ((v = TAKE("steal")) && !parse_permille(v, 900, &p->sc->steal_permille))
		return fail(p, "steal: \"%s\" is not a percentage 0..90 (12.5%%)", v);
	if (h->memory_bytes > (64ull << 30))
		return fail(p, "memory: vh-sim holds simulated memory in RAM; at most 64G");
	return all_used(p, kvs, n, "host");
}

static bool d_sched(struct parser *p, struct kv *kvs, size_t n)
{
	struct vh_sched_params *s = &p->sc->sched;
	const char *v;

	if ((v = TAKE("quantum")) && (!vh_sim_parse_duration(v, &s->quantum_ns) || !s->quantum_ns))
		return fail(p, "quantum: \"%s\" is not a positive duration", v);
	if ((v = TAKE("skew")) &&
	    (!vh_sim_parse_duration(v, &s->cosched_skew_ns) || !s->cosched_skew_ns))
		return fail(p, "skew: \"%s\" is not a positive duration", v);
	if ((v = TAKE("window")) &&
	    (!vh_sim_parse_duration(v, &s->limit_window_ns) || !s->limit_window_ns))
		return fail(p, "window: \"%s\" is not a positive duration", v);
	return all_used(p, kvs, n, "sched");
}

static bool d_mem(struct parser *p, struct kv *kvs, size_t n)
{
	struct vh_mem_params *m = &p->sc->mem;
	const char *v;
	uint64_t u;

	if ((v = TAKE("idle_tax"))) {
		if (!parse_u64(v, 99, &u))
			return fail(p, "idle_tax: \"%s\" is not a percentage 0..99", v);
		m->idle_tax_percent = (uint32_t)u;
	}
	if ((v = TAKE("sample_pages"))) {
		if (!parse_u64(v, 100000, &u) || !u)
			return fail(p, "sample_pages: \"%s\" is not 1..100000", v);
		m->sample_pages = (uint32_t)u;
	}
	if ((v = TAKE("sample_period")) &&
	    (!vh_sim_parse_duration(v, &m->sample_period_ns) || !m->sample_period_ns))
		return fail(p, "sample_period: \"%s\" is not a positive duration", v);
	if ((v = TAKE("reclaim_period")) &&
	    (!vh_sim_parse_duration(v, &m->reclaim_period_ns) || !m->reclaim_period_ns))
		return fail(p, "reclaim_period: \"%s\" is not a positive duration", v);
	if ((v = TAKE("scan_pass")) && !vh_sim_parse_duration(v, &m->scan_pass_min_ns))
		return fail(p, "scan_pass: \"%s\" is not a duration", v);
	if ((v = TAKE("scan_rate")) && !parse_u64(v, 100000000, &m->scan_pages_per_sec))
		return fail(p, "scan_rate: \"%s\" is not pages per second", v);
	if ((v = TAKE("scan_per_ghz")) && !parse_u64(v, 100000000, &m->scan_pages_per_ghz))
		return fail(p, "scan_per_ghz: \"%s\" is not pages per second per GHz", v);
	if ((v = TAKE("low_free"))) {
		if (!parse_u64(v, 50, &u))
			return fail(p, "low_free: \"%s\" is not a percentage 0..50", v);
		m->low_free_percent = (uint32_t)u;
	}
	if ((v = TAKE("min_free"))) {
		if (!parse_u64(v, 50, &u))
			return fail(p, "min_free: \"%s\" is not a percentage 0..50", v);
		m->min_free_percent = (uint32_t)u;
	}
	return all_used(p, kvs, n, "mem");
}

static struct vh_sim_vm_spec *find_vm(struct vh_sim_scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->nvms; i++) {
		if (strcmp(sc->vms[i].cfg.name, name) == 0)
			return &sc->vms[i];
	}
	return NULL;
}

static bool d_vm(struct parser *p, const char *name, struct kv *kvs, size_t n)
{
	struct vh_sim_scenario *sc = p->sc;
	struct vh_sim_vm_spec spec, *grown;
	struct vh_error verr;
	const char *v;
	uint64_t u;
	bool cset[3] = { 0 }, mset[3] = { 0 };

	memset(&spec, 0, sizeof(spec));
	vh_vm_config_default(&spec.cfg);
	spec.start = true;
	spec.workload.kind = VH_SIM_WL_CPU;
	if (strlen(name) >= sizeof(spec.cfg.name))
		return fail(p, "vm name \"%s\" longer than %zu", name, sizeof(spec.cfg.name) - 1);
	if (find_vm(sc, name))
		return fail(p, "vm \"%s\" defined twice", name);
	snprintf(spec.cfg.name, sizeof(spec.cfg.name), "%s", name);
	if ((v = TAKE("vcpus"))) {
		if (!parse_u64(v, VH_VM_MAX_VCPUS, &u) || !u)
			return fail(p, "vcpus: \"%s\" is not 1..%u", v, VH_VM_MAX_VCPUS);
		spec.cfg.vcpus = (uint32_t)u;
	}
	if ((v = TAKE("memory")) && !parse_mib(v, &spec.cfg.memory_mib))
		return fail(p, "memory: \"%s\" is not a whole number of MiB (64M, 1G)", v);
	if (!parse_cpu_keys(p, kvs, n, &spec.cfg.cpu, cset) ||
	    !parse_mem_keys(p, kvs, n, &spec.cfg.mem, mset))
		return false;
	if ((v = TAKE("cosched"))) {
		if (strcmp(v, "relaxed") == 0)
			spec.cfg.cosched = VH_COSCHED_RELAXED;
		else if (strcmp(v, "strict") == 0)
			spec.cfg.cosched = VH_COSCHED_STRICT;
		else if (strcmp(v, "none") == 0)
			spec.cfg.cosched = VH_COSCHED_NONE;
		else
			return fail(p, "cosched: \"%s\" is not relaxed, strict or none", v);
	}
	if ((v = TAKE("start"))) {
		if (strcmp(v, "yes") && strcmp(v, "no"))
			return fail(p, "start: \"%s\" is not yes or no", v);
		spec.start = strcmp(v, "yes") == 0;
	}
	if (!parse_workload_keys(p, kvs, n, TAKE("workload"), &spec.workload) ||
	    !all_used(p, kvs, n, "vm"))
		return false;
	if (vh_vm_config_validate(&spec.cfg, &verr))
		return fail(p, "vm \"%s\": %s", name, verr.reason);
	grown = realloc(sc->vms, (sc->nvms + 1) * sizeof(*sc->vms));
	if (!grown)
		return fail(p, "out of memory");
	sc->vms = grown;
	sc->vms[sc->nvms++] = spec;
	return true;
}

static bool d_at(struct parser *p, char **words, size_t nwords)
{
	struct vh_sim_scenario *sc = p->sc;
	struct vh_sim_event ev, *grown;
	struct vh_sim_vm_spec *vm;
	struct kv kvs[MAX_WORDS];
	size_t n = nwords > 3 ? nwords - 3 : 0;
	const char *action;

	if (nwords < 3)
		return fail(p, "expected: at TIME VM ACTION [key=value...]");
	memset(&ev, 0, sizeof(ev));
	ev.line = p->line;
	if (!vh_sim_parse_duration(words[0], &ev.at_ns))
		return fail(p, "at: \"%s\" is not a time (2s, 1500ms)", words[0]);
	vm = find_vm(sc, words[1]);
	if (!vm)
		return fail(p, "at: no vm \"%s\" defined above", words[1]);
	snprintf(ev.vm, sizeof(ev.vm), "%s", words[1]);
	action = words[2];
	if (!split_kvs(p, words + 3, n, kvs))
		return false;
	if (strcmp(action, "start") == 0)
		ev.kind = VH_SIM_EV_START;
	else if (strcmp(action, "stop") == 0)
		ev.kind = VH_SIM_EV_STOP;
	else if (strcmp(action, "pause") == 0)
		ev.kind = VH_SIM_EV_PAUSE;
	else if (strcmp(action, "resume") == 0)
		ev.kind = VH_SIM_EV_RESUME;
	else if (strcmp(action, "set") == 0) {
		ev.cpu = vm->cfg.cpu;
		ev.mem = vm->cfg.mem;
		if (!parse_cpu_keys(p, kvs, n, &ev.cpu, ev.cpu_fields) ||
		    !parse_mem_keys(p, kvs, n, &ev.mem, ev.mem_fields))
			return false;
		bool cpu = ev.cpu_fields[0] || ev.cpu_fields[1] || ev.cpu_fields[2];
		bool mem = ev.mem_fields[0] || ev.mem_fields[1] || ev.mem_fields[2];
		if (cpu && mem)
			return fail(p, "set: change cpu.* and mem.* on separate lines");
		if (!cpu && !mem)
			return fail(p, "set: nothing to set (cpu.shares=, mem.limit=, ...)");
		ev.kind = cpu ? VH_SIM_EV_SET_CPU : VH_SIM_EV_SET_MEM;
	} else if (strcmp(action, "balloon") == 0) {
		const char *v = take(kvs, n, "target");
		if (!v || !parse_mib(v, &ev.balloon_mib))
			return fail(p, "balloon: needs target=SIZE in whole MiB (256M)");
		ev.kind = VH_SIM_EV_BALLOON;
	} else if (strcmp(action, "workload") == 0) {
		ev.workload = vm->workload;
		if (!parse_workload_keys(p, kvs, n, take(kvs, n, "kind"), &ev.workload))
			return false;
		ev.kind = VH_SIM_EV_WORKLOAD;
	} else {
		return fail(p,
			    "at: unknown action \"%s\" (start, stop, pause, resume, set, balloon, "
			    "workload)",
			    action);
	}
	if (!all_used(p, kvs, n, action))
		return false;
	grown = realloc(sc->events, (sc->nevents + 1) * sizeof(*sc->events));
	if (!grown)
		return fail(p, "out of memory");
	sc->events = grown;
	sc->events[sc->nevents++] = ev;
	return true;
}

static int cmp_event(const void *a, const void *b)
{
	const struct vh_sim_event *x = a, *y = b;

	if (x->at_ns != y->at_ns)
		return x->at_ns < y->at_ns ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static bool parse_line(struct parser *p, char *line)
{
	char *words[MAX_WORDS + 1];
	struct kv kvs[MAX_WORDS];
	char *hash = strchr(line, '#');
	size_t n;

	if (hash)
		*hash = '\0';
	n = split_words(line, words, MAX_WORDS);
	if (n == 0)
		return true;
	if (n > MAX_WORDS)
		return fail(p, "more than %d words", MAX_WORDS);
	if (strcmp(words[0], "at") == 0)
		return d_at(p, words + 1, n - 1);
	if (strcmp(words[0], "vm") == 0) {
		if (n < 2)
			return fail(p, "expected: vm NAME [key=value...]");
		return split_kvs(p, words + 2, n - 2, kvs) && d_vm(p, words[1], kvs, n - 2);
	}
	if (strcmp(words[0], "duration") == 0 || strcmp(words[0], "sample") == 0 ||
	    strcmp(words[0], "seed") == 0) {
		if (n != 2)
			return fail(p, "expected: %s VALUE", words[0]);
		if (words[0][0] == 'd') {
			if (!vh_sim_parse_duration(words[1], &p->sc->duration_ns) ||
			    !p->sc->duration_ns)
				return fail(p, "duration: \"%s\" is not a positive duration",
					    words[1]);
			p->have_duration = true;
		} else if (words[0][1] == 'a') {
			if (!vh_sim_parse_duration(words[1], &p->sc->sample_interval_ns))
				return fail(p, "sample: \"%s\" is not a duration", words[1]);
		} else if (!parse_u64(words[1], UINT64_MAX, &p->sc->seed)) {
			return fail(p, "seed: \"%s\" is not a number", words[1]);
		}
		return true;
	}
	if (!split_kvs(p, words + 1, n - 1, kvs))
		return false;
	if (strcmp(words[0], "host") == 0)
		return d_host(p, kvs, n - 1);
	if (strcmp(words[0], "sched") == 0)
		return d_sched(p, kvs, n - 1);
	if (strcmp(words[0], "mem") == 0)
		return d_mem(p, kvs, n - 1);
	return fail(p,
		    "unknown directive \"%s\" (host, sched, mem, vm, at, duration, sample, seed)",
		    words[0]);
}

bool vh_sim_scenario_parse(const char *text, struct vh_sim_scenario *sc, char *err, size_t errlen)
{
	struct parser p = { .sc = sc, .err = err, .errlen = errlen };
	const char *s = text;

	memset(sc, 0, sizeof(*sc));
	sc->host = (struct vh_host_config){ .pcpus = 1, .mhz_per_pcpu = 2400,
					    .memory_bytes = 1ull << 30, .overhead_bytes = 0 };
	vh_sched_params_default(&sc->sched);
	vh_mem_params_default(&sc->mem);
	sc->seed = 1;
	while (*s) {
		char line[MAX_LINE];
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		p.line++;
		if (len >= sizeof(line)) {
			fail(&p, "longer than %d characters", MAX_LINE - 1);
			goto error;
		}
		memcpy(line, s, len);
		line[len] = '\0';
		if (!parse_line(&p, line))
			goto error;
		s += len + (nl ? 1 : 0);
	}
	p.line = 0;
	if (!p.have_duration) {
		snprintf(err, errlen, "no duration given (duration 10s)");
		goto error;
	}
	if (sc->nvms == 0) {
		snprintf(err, errlen, "no vm defined");
		goto error;
	}
	for (size_t i = 0; i < sc->nevents; i++) {
		if (sc->events[i].at_ns > sc->duration_ns) {
			snprintf(err, errlen,
				 "line %u: event at %llu ns is after the end (%llu ns)",
				 sc->events[i].line, (unsigned long long)sc->events[i].at_ns,
				 (unsigned long long)sc->duration_ns);
			goto error;
		}
	}
	if (sc->nevents)
		qsort(sc->events, sc->nevents, sizeof(*sc->events), cmp_event);
	return true;

error:
	vh_sim_scenario_free(sc);
	return false;
}

void vh_sim_scenario_free(struct vh_sim_scenario *sc)
{
	free(sc->vms);
	free(sc->events);
	sc->vms = NULL;
	sc->events = NULL;
	sc->nvms = sc->nevents = 0;
}
