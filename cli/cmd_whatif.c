/* SPDX-License-Identifier: Apache-2.0 */
/* vhctl what-if VM [controls] [--stop|--start] [--duration SECONDS]: the
 * agent's prediction (POST /v1/simulate) of what the change would do,
 * before it is made.  The flags are those of `vhctl vm cpu` and `vhctl vm
 * mem` (--mem-shares, --mem-reservation, --mem-limit for memory); the
 * agent merges them onto the VM's controls as a PATCH would.  Every VM of
 * the host is printed, each figure as "measured -> predicted", so the
 * change's cost to the neighbours shows beside its gain; refused changes
 * follow with the error the real request would get.  -o json prints the
 * agent's document. */
#include <stdlib.h>
#include <string.h>

#include "cli/vhctl.h"

/* "25.0 -> 40.0": a figure of before (may be NULL: an added VM) and after. */
static void pair(struct json_object *v, const char *key, bool mib, char *out, size_t cap)
{
	struct json_object *b = vhctl_jget(v, "before"), *a = vhctl_jget(v, "after");
	char bs[32] = "-", as[32];

	if (mib) {
		if (b)
			vhctl_fmt_mibf(vhctl_jdouble(b, key), bs, sizeof(bs));
		vhctl_fmt_mibf(vhctl_jdouble(a, key), as, sizeof(as));
	} else {
		if (b)
			snprintf(bs, sizeof(bs), "%.1f", vhctl_jdouble(b, key));
		snprintf(as, sizeof(as), "%.1f", vhctl_jdouble(a, key));
	}
	snprintf(out, cap, "%s -> %s", bs, as);
}

static void print_whatif(struct json_object *o)
{
	static const char *const hdr[] = { "VM",	  "",	      ">%USED",	    ">%RDY",
					   ">%MLMTD",	  ">%CSTP",   ">USED-MHZ",  ">GRANTED",
					   ">BALLOONED", ">SHARED" };
	static const char *const keys[] = { "used_pct",	   "ready_pct",	  "limited_pct",
					    "costop_pct",  "used_mhz",	  "granted_mib",
					    "balloon_mib", "shared_mib" };
	struct json_object *vms = vhctl_jget(o, "vms"), *refused = vhctl_jget(o, "refused");
	struct vhctl_table *t = vhctl_table_new(sizeof(hdr) / sizeof(hdr[0]), hdr);

	printf("what-if: %s\n", vhctl_jstr(o, "summary"));
	printf("each figure: measured -> predicted (%% of the VM's vCPU time; * changed, + "
	       "added)\n\n");
	for (size_t i = 0; vms && i < json_object_array_length(vms); i++) {
		struct json_object *v = json_object_array_get_idx(vms, i);
		const char *cells[10];
		char buf[8][48];

		cells[0] = vhctl_jstr(v, "vm");
		cells[1] = json_object_get_boolean(vhctl_jget(v, "added"))	   ? "+"
			   : json_object_get_boolean(vhctl_jget(v, "changed")) ? "*"
									       : "";
		for (size_t k = 0; k < 8; k++) {
			pair(v, keys[k], k >= 5, buf[k], sizeof(buf[k]));
			cells[2 + k] = buf[k];
		}
		vhctl_table_row(t, cells);
	}
	vhctl_table_print(t, stdout);
	vhctl_table_free(t);
	for (size_t i = 0; refused && i < json_object_array_length(refused); i++) {
		struct json_object *r = json_object_array_get_idx(refused, i);
		const char *field = vhctl_jstr(r, "field");

		printf("\nrefused: %s of %s: %llu %s%s%s: %s\n", vhctl_jstr(r, "action"),
		       vhctl_jstr(r, "vm"), (unsigned long long)vhctl_ju64(r, "status"),
		       vhctl_jstr(r, "code"), *field ? ", field " : "", field,
		       vhctl_jstr(r, "detail"));
	}
}

/* A change {"vm":name, key: obj} appended to changes. */
static void add_change(struct json_object *changes, const char *vm, const char *key,
		       struct json_object *obj)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "vm", json_object_new_string(vm));
	json_object_object_add(c, key, obj);
	json_object_array_add(changes, c);
}

int vhctl_cmd_whatif(struct vhctl *c, int argc, char **argv)
{
	const char *name = NULL, *shares = NULL, *res = NULL, *limit = NULL, *mshares = NULL,
		   *mres = NULL, *mlimit = NULL, *duration = NULL;
	bool stop = false, start = false;
	const struct vhctl_opt opts[] = {
		{ "shares", 0, &shares, NULL },
		{ "reservation", 0, &res, NULL },
		{ "limit", 0, &limit, NULL },
		{ "mem-shares", 0, &mshares, NULL },
		{ "mem-reservation", 0, &mres, NULL },
		{ "mem-limit", 0, &mlimit, NULL },
		{ "stop", 0, NULL, &stop },
		{ "start", 0, NULL, &start },
		{ "duration", 'd', &duration, NULL },
		{ NULL, 0, NULL, NULL },
	};
	struct json_object *body, *changes, *cpu, *mem, *o = NULL;
	double secs = 10;
	int n, rc;

	if ((n = vhctl_parse(c, argc, argv, opts, &name, 1, 1)) < 0)
		return vhctl_parse_exit(n);
	if ((rc = vhctl_check_vm_arg(c, name)))
		return rc;
	if (stop && start)
		return vhctl_usage_error(c, "--stop and --start exclude each other");
	if (duration && (vhctl_parse_seconds(duration, &secs) || secs < 1 || secs > 300 ||
			 secs != (double)(unsigned)secs))
		return vhctl_usage_error(
		    c, "--duration: \"%s\" is not a whole number of seconds (1 to 300)", duration);
	/* Flags first: a typo in a unit needs no round trip. */
	cpu = json_object_new_object();
	mem = json_object_new_object();
	if ((rc = vhctl_set_controls(c, cpu, false, shares, res, limit)) ||
	    (rc = vhctl_set_controls(c, mem, true, mshares, mres, mlimit))) {
		json_object_put(cpu);
		json_object_put(mem);
		return rc;
	}
	body = json_object_new_object();
	changes = json_object_new_array();
	json_object_object_add(body, "duration_s", json_object_new_int((int)secs));
	json_object_object_add(body, "changes", changes);
	if (json_object_object_length(cpu))
		add_change(changes, name, "cpu", cpu);
	else
		json_object_put(cpu);
	if (json_object_object_length(mem))
		add_change(changes, name, "memory", mem);
	else
		json_object_put(mem);
	if (stop || start)
		add_change(changes, name, "power", json_object_new_string(stop ? "stopped"
									       : "running"));
	if (json_object_array_length(changes) == 0) {
		json_object_put(body);
		return vhctl_usage_error(c, "name a change: --shares, --reservation, --limit, "
					    "--mem-shares, --mem-reservation, --mem-limit, --stop "
					    "or --start");
	}
	rc = vhctl_call(c, "POST", "/v1/simulate", body, NULL, &o, NULL, 0);
	json_object_put(body);
	if (rc)
		return rc;
	if (c->out == VHCTL_OUT_JSON)
		vhctl_print_json(o, false);
	else
		print_whatif(o);
	json_object_put(o);
	return VHCTL_OK;
}
