/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl top: a live per-VM view in the manner of esxtop.  Each
 * iteration takes GET /v1/stats (and the VM list, for the vCPU counts)
 * and divides the growth of each VM's used, ready, limited, costop and
 * wait milliseconds by the wall time between the two samples: like esxtop's
 * group view, 100% is one pCPU, so a 2-vCPU VM may show up to 200%.
 * %MLMTD (part of %RDY) is the ready time the VM's own limit caused, so a
 * capped VM is told apart from one starved by its neighbours.
 * Memory columns are the current MiB.  On a terminal it redraws in place
 * and "q" quits; with -b, or when stdout is not a terminal, it prints
 * one table per iteration (esxtop -b, top -b); -n bounds the count.
 * -o json prints one JSON document per line per iteration.
 *
 * Colour (--color=auto|always|never, auto by default: a terminal, unless
 * NO_COLOR is set and not empty, https://no-color.org, or TERM is dumb):
 * the header bold, and %RDY, %MLMTD and %CSTP yellow then red past
 * esxtop's rules of thumb, per vCPU, so the column that says what holds
 * a VM back stands out. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli/vhctl.h"

struct sample {
	struct json_object *stats; /* GET /v1/stats */
	struct json_object *vms;   /* every VM, for vcpus */
	double t;                  /* CLOCK_MONOTONIC seconds */
};

struct row {
	struct json_object *cur, *prev; /* stats entries; prev NULL: new VM */
	const char *name, *uuid;
	uint64_t vcpus;
	double used, ready, limited, costop, wait; /* percent of one pCPU; < 0: unknown */
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sample_free(struct sample *s)
{
	json_object_put(s->stats);
	json_object_put(s->vms);
	memset(s, 0, sizeof(*s));
}

static int take(struct vhctl *c, struct sample *s)
{
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = vhctl_call(c, "GET", "/v1/stats", NULL, NULL, &s->stats, NULL, 0)))
		return rc;
	s->t = now_s();
	if ((rc = vhctl_vm_all(c, NULL, NULL, NULL, &s->vms)))
		sample_free(s);
	return rc;
}

static struct json_object *by_uuid(struct json_object *arr, const char *uuid)
{
	for (size_t i = 0; arr && *uuid && i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		if (!strcmp(vhctl_jstr(e, "uuid"), uuid))
			return e;
	}
	return NULL;
}

/* Growth of a ms counter as a percentage of the interval; -1 when the
 * counter went back (the VM was defined again) or there is no earlier
 * sample. */
static double pct(struct json_object *cur, struct json_object *prev, const char *key, double ms)
{
	uint64_t a, b;

	if (!prev || ms <= 0)
		return -1;
	a = vhctl_ju64(prev, key);
	b = vhctl_ju64(cur, key);
	return b < a ? -1 : (double)(b - a) * 100.0 / ms;
}

static int by_used(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	if (a->used != b->used)
		return a->used < b->used ? 1 : -1;
	return strcmp(a->name, b->name);
}

static size_t rows_of(const struct sample *prev, const struct sample *cur, struct row **out)
{
	struct json_object *vms = vhctl_jget(cur->stats, "vms");
	struct json_object *pvms = vhctl_jget(prev->stats, "vms");
	size_t n = vms ? json_object_array_length(vms) : 0;
	struct row *r = calloc(n ? n : 1, sizeof(*r));
	double ms = (cur->t - prev->t) * 1000;

	if (!r) {
		fprintf(stderr, "vhctl: out of memory\n");
		exit(VHCTL_ERROR);
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(vms, i);
		struct json_object *p;

		r[i].cur = e;
		r[i].name = vhctl_jstr(e, "vm");
		r[i].uuid = vhctl_jstr(e, "uuid");
		r[i].prev = p = by_uuid(pvms, r[i].uuid);
		r[i].vcpus = vhctl_ju64(by_uuid(cur->vms, r[i].uuid), "vcpus");
		r[i].used = pct(e, p, "cpu.used_ms", ms);
		r[i].ready = pct(e, p, "cpu.ready_ms", ms);
		r[i].limited = pct(e, p, "cpu.limited_ms", ms);
		r[i].costop = pct(e, p, "cpu.costop_ms", ms);
		r[i].wait = pct(e, p, "cpu.wait_ms", ms);
	}
	qsort(r, n, sizeof(*r), by_used);
	*out = r;
	return n;
}

static double host_busy(const struct sample *prev, const struct sample *cur)
{
	double busy = (double)vhctl_ju64(cur->stats, "host.cpu.busy_ms") -
		      (double)vhctl_ju64(prev->stats, "host.cpu.busy_ms");
	double idle = (double)vhctl_ju64(cur->stats, "host.cpu.idle_ms") -
		      (double)vhctl_ju64(prev->stats, "host.cpu.idle_ms");

	return busy >= 0 && idle >= 0 && busy + idle > 0 ? busy * 100.0 / (busy + idle) : -1;
}

static struct json_object *num_or_null(double v)
{
	char s[32];

	if (v < 0)
		return NULL;
	/* Two decimals, printed as such (a double would print 12.340000000000001). */
	snprintf(s, sizeof(s), "%.2f", v);
	return json_object_new_double_s(v, s);
}

static void print_json(const struct sample *prev, const struct sample *cur, struct row *r, size_t n)
{
	static const char *const mem[] = { "granted_mib", "consumed_mib", "active_mib",
					   "shared_mib",  "balloon_mib",  "swapped_mib" };
	struct json_object *o = json_object_new_object(), *host = json_object_new_object();
	struct json_object *vms = json_object_new_array();
	char when[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "interval_s", num_or_null(cur->t - prev->t));
	json_object_object_add(host, "pcpus",
			       json_object_new_uint64(vhctl_ju64(cur->stats, "host.cpu.pcpus")));
	json_object_object_add(host, "busy_pct", num_or_null(host_busy(prev, cur)));
	json_object_object_add(o, "host", host);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_new_object();

		json_object_object_add(v, "vm", json_object_new_string(r[i].name));
		json_object_object_add(v, "uuid", json_object_new_string(r[i].uuid));
		json_object_object_add(v, "id", json_object_new_uint64(vhctl_ju64(r[i].cur, "id")));
		json_object_object_add(v, "state",
				       json_object_new_string(vhctl_jstr(r[i].cur, "state")));
		json_object_object_add(v, "vcpus", json_object_new_uint64(r[i].vcpus));
		json_object_object_add(v, "used_pct", num_or_null(r[i].used));
		json_object_object_add(v, "ready_pct", num_or_null(r[i].ready));
		json_object_object_add(v, "limited_pct", num_or_null(r[i].limited));
		json_object_object_add(v, "costop_pct", num_or_null(r[i].costop));
		json_object_object_add(v, "wait_pct", num_or_null(r[i].wait));
		for (size_t k = 0; k < sizeof(mem) / sizeof(mem[0]); k++) {
			struct json_object *m = vhctl_jget(vhctl_jget(r[i].cur, "memory"), mem[k]);
			json_object_object_add(v, mem[k], json_object_get(m));
		}
		json_object_array_add(vms, v);
	}
	json_object_object_add(o, "vms", vms);
	vhctl_print_json(o, true);
	json_object_put(o);
}

/* Past which share of one vCPU's time a column turns yellow, then red
 * (esxtop's rules of thumb: ready past 5-10% per vCPU hurts; any limited
 * time is the VM's own limit at work; co-stop past 3% is worth a look). */
static const struct {
	size_t col;
	double warn, bad;
} alarms[] = {
	{ 4, 5, 10 }, /* %RDY */
	{ 5, 1, 10 }, /* %MLMTD */
	{ 6, 3, 10 }, /* %CSTP */
};
#define SGR_HEADER "1"
#define SGR_WARN   "33"
#define SGR_BAD    "1;31"

static void colour_row(struct vhctl_table *t, const struct row *r)
{
	const double v[] = { r->ready, r->limited, r->costop };

	for (size_t k = 0; k < sizeof(alarms) / sizeof(alarms[0]); k++) {
		double per_vcpu = v[k] / (double)(r->vcpus ? r->vcpus : 1);
		if (v[k] < 0)
			continue;
		if (per_vcpu >= alarms[k].bad)
			vhctl_table_style(t, alarms[k].col, SGR_BAD);
		else if (per_vcpu >= alarms[k].warn)
			vhctl_table_style(t, alarms[k].col, SGR_WARN);
	}
}

/* --color: 1 colour, 0 not, -1 a bad value. */
static int colour_wanted(const char *when)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (!when || !strcmp(when, "auto"))
		return isatty(STDOUT_FILENO) && !(no && *no) &&
		       !(term && !strcmp(term, "dumb"));
	if (!strcmp(when, "always"))
		return 1;
	if (!strcmp(when, "never"))
		return 0;
	return -1;
}

static void fmt_pct(double v, char *out, size_t cap)
{
	if (v < 0)
		snprintf(out, cap, "-");
	else
		snprintf(out, cap, "%.1f", v);
}

static void print_table(const struct sample *prev, const struct sample *cur, struct row *r,
			size_t n, bool redraw, bool colour)
{
	static const char *const hdr[] = { ">ID",     "NAME",     ">NVCPU",   ">%USED", ">%RDY",
					   ">%MLMTD", ">%CSTP",   ">%WAIT",   ">GRANT", ">CONSUMED",
					   ">SHARED", ">BALLOON", ">SWAPPED", "STATE" };
	struct vhctl_table *t = vhctl_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);
	char when[16], busy[16], unused[32], total[32];

	for (size_t k = 0; colour && k < sizeof(hdr) / sizeof(hdr[0]); k++)
		vhctl_table_style(t, k, SGR_HEADER);
	time_t now = time(NULL);

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	fmt_pct(host_busy(prev, cur), busy, sizeof(busy));
	vhctl_fmt_mibf(vhctl_jdouble(cur->stats, "host.memory.unused_mib"), unused, sizeof(unused));
	vhctl_fmt_mib(vhctl_jget(cur->stats, "host.memory.total_mib"), total, sizeof(total));
	if (redraw)
		fputs("\033[H\033[2J", stdout);
	printf("%s  vh %s  %llu pCPUs  CPU busy %s%%  VMs %llu (%llu on)  memory unused %s of %s\n",
	       when, vhctl_jstr(cur->stats, "host.version"),
	       (unsigned long long)vhctl_ju64(cur->stats, "host.cpu.pcpus"), busy,
	       (unsigned long long)vhctl_ju64(cur->stats, "host.vms.defined"),
	       (unsigned long long)vhctl_ju64(cur->stats, "host.vms.powered_on"), unused, total);
	printf("%%USED %%RDY %%MLMTD %%CSTP %%WAIT: percent of one pCPU over the last %.1f s "
	       "(%%MLMTD: of %%RDY, held back by the VM's own limit)\n",
	       cur->t - prev->t);
	if (colour)
		printf("per vCPU, \033[" SGR_WARN "mwarn\033[0m/\033[" SGR_BAD "mbad\033[0m past: "
		       "%%RDY 5/10%%, %%MLMTD 1/10%%, %%CSTP 3/10%%\n");
	fputc('\n', stdout);
	for (size_t i = 0; i < n; i++) {
		char u[16], rd[16], ml[16], cs[16], w[16], m[5][32];
		static const char *const mem[] = { "memory.granted_mib", "memory.consumed_mib",
						   "memory.shared_mib", "memory.balloon_mib",
						   "memory.swapped_mib" };

		fmt_pct(r[i].used, u, sizeof(u));
		fmt_pct(r[i].ready, rd, sizeof(rd));
		fmt_pct(r[i].limited, ml, sizeof(ml));
		fmt_pct(r[i].costop, cs, sizeof(cs));
		fmt_pct(r[i].wait, w, sizeof(w));
		for (size_t k = 0; k < 5; k++)
			vhctl_fmt_mibf(vhctl_jdouble(r[i].cur, mem[k]), m[k], sizeof(m[k]));
		vhctl_table_rowf(t, "%llu\t%s\t%llu\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
				 (unsigned long long)vhctl_ju64(r[i].cur, "id"), r[i].name,
				 (unsigned long long)r[i].vcpus, u, rd, ml, cs, w, m[0], m[1], m[2],
				 m[3], m[4], vhctl_jstr(r[i].cur, "state"));
		if (colour)
			colour_row(t, &r[i]);
	}
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	fflush(stdout);
}

int vhctl_cmd_top(struct vhctl *c, int argc, char **argv)
{
	const char *delay = NULL, *iters = NULL, *when = NULL;
	bool batch = false;
	const struct vhctl_opt opts[] = {
		{ "color", 0, &when, NULL },
		{ "delay", 'd', &delay, NULL },
		{ "interval", 0, &delay, NULL },
		{ "iterations", 'n', &iters, NULL },
		{ "batch", 'b', NULL, &batch },
		{ NULL, 0, NULL, NULL },
	};
	struct sample prev, cur;
	struct termios saved, raw;
	bool keys = false, tty;
	int colour;
	double secs = 2;
	uint64_t limit = 0;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, NULL, 0, 0)) < 0)
		return vhctl_parse_exit(n);
	if (delay && vhctl_parse_seconds(delay, &secs))
		return vhctl_usage_error(c, "-d: \"%s\" is not a number of seconds (0.05 to 86400)",
					 delay);
	if (iters && vh_api_parse_uint(iters, 1, UINT32_MAX, &limit))
		return vhctl_usage_error(c, "-n: \"%s\" is not a count from 1", iters);
	if ((colour = colour_wanted(when)) < 0)
		return vhctl_usage_error(c, "--color: \"%s\" is not auto, always or never", when);
	tty = !batch && c->out == VHCTL_OUT_TABLE && isatty(STDOUT_FILENO);
	if ((rc = take(c, &prev)))
		return rc;
	vhctl_catch_signals();
	/* Interactive: single keys without echo, so "q" quits at once. */
	if (tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		keys = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	for (uint64_t i = 0; !limit || i < limit; i++) {
		struct row *r;
		size_t nr;

		vhctl_sleep(secs, keys);
		if (vhctl_stop)
			break;
		if ((rc = take(c, &cur)))
			break;
		nr = rows_of(&prev, &cur, &r);
		if (c->out == VHCTL_OUT_JSON) {
			print_json(&prev, &cur, r, nr);
		} else {
			if (i && !tty)
				fputc('\n', stdout);
			print_table(&prev, &cur, r, nr, tty, colour == 1);
		}
		free(r);
		sample_free(&prev);
		prev = cur;
	}
	sample_free(&prev);
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return rc;
}
