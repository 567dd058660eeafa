/* SPDX-License-Identifier: Apache-2.0 */
/* Prints what libvhapi produces, one "SchemaName JSON" line each, for
 * tests/api/openapi_lint.sh to validate against api/openapi.yaml
 * (lint-openapi --instances): the contract and the library cannot drift
 * apart.  Samples cover defaults, every member set, nulls, custom shares,
 * each state, and every problem code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/vh_api.h"

static int failures;

static void emit(const char *schema, struct json_object *o)
{
	if (!o) {
		fprintf(stderr, "api_samples: %s: NULL\n", schema);
		failures++;
		return;
	}
	printf("%s %s\n", schema,
	       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* A VM definition from a request body, as POST /v1/vms makes it. */
static void define(const char *body, struct vh_vm_config *c, uint64_t *balloon)
{
	struct vh_api_problem p;
	struct json_object *o = NULL;

	if (vh_api_parse(body, strlen(body), &o, &p) || vh_api_vm_from_json(o, c, balloon, &p)) {
		fprintf(stderr, "api_samples: %s: %s\n", body, p.detail);
		exit(1);
	}
	json_object_put(o);
}

static struct vh_proto_vm_info info_of(const struct vh_vm_config *c, uint32_t state,
				       uint64_t balloon)
{
	struct vh_proto_vm_info i;

	memset(&i, 0, sizeof(i));
	i.config = *c;
	if (!c->uuid[0])
		i.config.uuid[0] = 0x5a; /* the hypervisor always reports one */
	i.summary.id = 1 + state;
	i.summary.state = state;
	memcpy(i.summary.uuid, i.config.uuid, 16);
	memcpy(i.summary.name, c->name, sizeof(i.summary.name));
	i.summary.vcpus = c->vcpus;
	i.summary.memory_mib = c->memory_mib;
	i.summary.cpu = c->cpu;
	i.summary.mem = c->mem;
	i.summary.cosched = (uint32_t)c->cosched;
	i.summary.balloon_request_pages = balloon == UINT64_MAX ? 0 : balloon * VH_PAGES_PER_MIB;
	i.summary.state_changes = state;
	i.summary.boot_generation = state ? 1 : 0;
	return i;
}

static const char *const bodies[] = {
	"{\"name\":\"a\"}",
	"{\"name\":\"web1\",\"vcpus\":2,\"memory_mib\":256,"
	"\"cpu\":{\"shares\":\"high\",\"reservation_mhz\":500,\"limit_mhz\":null},"
	"\"memory\":{\"shares\":\"normal\",\"reservation_mib\":128,\"limit_mib\":null},"
	"\"boot\":{\"kernel\":\"spinner.elf\",\"cmdline\":\"\"}}",
	"{\"name\":\"db.2_x-y\",\"uuid\":\"01234567-89ab-cdef-0123-456789abcdef\",\"vcpus\":64,"
	"\"memory_mib\":1048576,\"cpu\":{\"shares\":1000000,\"reservation_mhz\":9007199254740991},"
	"\"memory\":{\"shares\":1,\"reservation_mib\":4096,\"limit_mib\":9007199254740991},"
	"\"cosched\":\"strict\",\"boot\":{\"kernel\":\"k\",\"cmdline\":\"console=ttyS0\","
	"\"modules\":[{\"image\":\"m1\",\"cmdline\":\"x\"},{\"image\":\"m2\"}]},"
	"\"devices\":[\"uart16550\",\"debug_exit\",\"fw_cfg\",\"balloon\"],"
	"\"balloon\":{\"target_mib\":1024}}",
	("{\"name\":\"bare\",\"devices\":[],\"cosched\":\"none\",\"cpu\":{\"shares\":\"low\","
	 "\"limit_mhz\":1},\"balloon\":{\"target_mib\":null}}"),
};

int main(void)
{
	for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
		struct vh_vm_config c;
		uint64_t balloon;
		define(bodies[b], &c, &balloon);
		/* The persisted form is a valid create body. */
		emit("VMCreate", vh_api_vm_config_to_json(&c, balloon));
		emit("CpuControls", vh_api_cpu_to_json(&c.cpu));
		emit("MemoryControls", vh_api_mem_to_json(&c.mem));
		for (uint32_t s = 0; s < VH_VM_STATE_COUNT; s++) {
			struct vh_proto_vm_info i = info_of(&c, s, balloon);
			emit("VM", vh_api_vm_to_json(&i));
			emit("VMSummary", vh_api_vm_summary_to_json(&i.summary));
		}
	}

	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st;
	struct vh_proto_vcpu_stats v[2];
	memset(&s, 0, sizeof(s));
	memset(&st, 0, sizeof(st));
	memset(v, 0, sizeof(v));
	snprintf(s.name, sizeof(s.name), "web1");
	s.uuid[3] = 9;
	st.id = 4;
	st.state = VH_VM_RUNNING;
	st.cpu =
	    (struct vh_cpu_stats){ 123456789, 2000000, 3000000, 4000000000ull, 77, 1500000, 0 };
	st.mem = (struct vh_mem_stats){
		65536, 60000, 1234, 512, 256, 3, 17, 40000, 256, 200, VH_BALLOON_RECLAIM
	};
	for (unsigned k = 0; k < VH_EXIT_KIND_COUNT; k++)
		st.exits[k] = k * 1000;
	v[1].index = 1;
	v[1].cpu.used_ns = 5000000;
	emit("VMStats", vh_api_vm_stats_to_json(&s, &st, v, 2));
	emit("VMStats", vh_api_vm_stats_to_json(&s, &st, NULL, 0));
	emit("VMStats", vh_api_vm_stats_to_json(NULL, &st, NULL, 0));

	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	memset(&hi, 0, sizeof(hi));
	memset(&hs, 0, sizeof(hs));
	hi.version_min = hi.version_max = 1;
	hi.page_size = 4096;
	snprintf(hi.vh_version, sizeof(hi.vh_version), "0.1.0");
	hi.pcpus = 2;
	hi.mhz_per_pcpu = 2400;
	hi.memory_bytes = 1ull << 30;
	hi.overhead_bytes = 64ull << 20;
	hi.cpu_capacity_mhz = 4320;
	hi.mem_capacity_mib = 900;
	hi.max_vms = 128;
	hi.max_vcpus = 64;
	hi.max_modules = 8;
	hi.max_devices = 16;
	hi.max_memory_mib = 1048576;
	hs.nvms = 2;
	hs.npowered_on = 1;
	hs.reserved_mhz = 500;
	hs.reserved_mib = 128;
	hs.busy_ns = 1000000000;
	hs.mem.free = 1000;
	hs.mem.shared_saved = 3;
	emit("Host", vh_api_host_to_json(&hi, &hs));
	emit("Host", vh_api_host_to_json(&hi, NULL));

	/* GET /v1/stats as the agent assembles it. */
	struct json_object *all = json_object_new_object(), *vms = json_object_new_array();
	json_object_object_add(all, "host", vh_api_host_to_json(&hi, &hs));
	json_object_array_add(vms, vh_api_vm_stats_to_json(&s, &st, NULL, 0));
	json_object_object_add(all, "vms", vms);
	emit("Stats", all);

	/* Diagnoses with every cause: a capped VM on a crowded host with a
	 * balloon, taxed, shared, refused; a stopped one; and the host. */
	struct vh_api_diag_vm dv[2];
	struct vh_cpu_stats ca[2] = { { 0 }, { 0 } },
			    cb[2] = { { .used_ns = 400000000 }, { .used_ns = 100000000 } };
	memset(dv, 0, sizeof(dv));
	dv[0].s = s;
	dv[0].s.vcpus = 2;
	dv[0].s.memory_mib = 64;
	dv[0].s.cpu.limit_mhz = 1200;
	dv[0].s.mem.limit_mib = VH_UNLIMITED;
	dv[0].a.state = dv[0].b.state = VH_VM_RUNNING;
	dv[0].b.cpu = (struct vh_cpu_stats){ 500000000, 900000000, 200000000, 300000000,
					     9,         300000000, 100000000 };
	dv[0].b.mem = (struct vh_mem_stats){
		16384, 9000, 1024, 2048, 4096, 0, 17, 8000, 6000, 5000, VH_BALLOON_RECLAIM
	};
	dv[0].b.admission_refusals = 2;
	dv[1] = dv[0];
	snprintf(dv[1].s.name, sizeof(dv[1].s.name), "off");
	dv[1].a.state = dv[1].b.state = VH_VM_STOPPED;
	dv[1].b.mem.balloon_reason = VH_BALLOON_LIMIT;
	struct vh_api_diag_input din = { .hi = &hi,
					 .hs = &hs,
					 .window_ns = 1000000000,
					 .vms = dv,
					 .nvms = 2,
					 .vcpu_a = ca,
					 .vcpu_b = cb,
					 .nvcpus = 2 };
	emit("VMDiagnosis", vh_api_diagnose_vm(&din));
	din.self = 1;
	emit("VMDiagnosis", vh_api_diagnose_vm(&din));
	emit("HostDiagnosis", vh_api_diagnose_host(&din));

	/* A what-if over the same host: a raised limit, an added VM whose
	 * power-on admission control refuses, and vh-sim's report of it. */
	struct vh_api_whatif_input win = {
		.hi = &hi, .window_ns = 1000000000, .vms = dv, .nvms = 2
	};
	struct vh_api_whatif *w = calloc(1, sizeof(*w));
	struct vh_api_problem wp;
	char req[256], report[2048];
	struct json_object *wo;
	snprintf(req, sizeof(req),
		 "{\"changes\":[{\"vm\":\"%s\",\"cpu\":{\"limit_mhz\":2000}},"
		 "{\"add\":{\"name\":\"new\",\"cpu\":{\"reservation_mhz\":9000}}}]}",
		 dv[0].s.name);
	if (!w || vh_api_parse(req, strlen(req), &wo, &wp) ||
	    vh_api_whatif_from_json(wo, &win, w, &wp)) {
		fprintf(stderr, "api_samples: what-if request: %s\n", w ? wp.detail : "ENOMEM");
		return 1;
	}
	json_object_put(wo);
	free(vh_api_whatif_scenario(&win, w));
	snprintf(report, sizeof(report),
		 "{\"events\":[{\"vm\":\"new\",\"line\":%u,\"result\":\"admission\","
		 "\"reason\":\"cpu.reservation_mhz: short by 8000 MHz\"}],\"vms\":["
		 "{\"name\":\"%s\",\"state\":\"running\",\"vcpus\":2,\"cpu\":{\"used_ms\":10.5},"
		 "\"memory\":{\"granted_mib\":1.5}},"
		 "{\"name\":\"new\",\"state\":\"defined\",\"vcpus\":1,\"cpu\":{},\"memory\":{}}]}",
		 w->changes[1].line, dv[0].s.name);
	emit("WhatIf", vh_api_whatif_reply(&win, w, report, &wp));
	vh_api_whatif_free(w);
	free(w);

	for (int code = 1; code < VH_API_CODE_COUNT; code++) {
		struct vh_api_problem p;
		struct json_object *o = NULL;
		struct vh_api_problem q;
		vh_api_fail(&p, (enum vh_api_code)code, code % 2 ? "cpu.shares" : "", "detail %d",
			    code);
		char *text = vh_api_problem_json(&p, code % 3 ? "/v1/vms/web1" : NULL);
		if (!text || vh_api_parse(text, strlen(text), &o, &q)) {
			fprintf(stderr, "api_samples: problem %d does not read back\n", code);
			failures++;
		} else {
			emit("Problem", o);
		}
		free(text);
	}
	return failures ? 1 : 0;
}
