/* SPDX-License-Identifier: Apache-2.0 */
/* vh-sim scenario files: a host, VMs with their controls and workload
 * models, changes at given times, and a duration.  The format is in
 * docs/vh-sim.md; parsing is strict and every error names the line. */
#ifndef VH_SIM_SCENARIO_H
#define VH_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vh/host.h"
#include "vh/mem.h"
#include "vh/sched.h"
#include "vh/vm.h"

/* What a simulated vCPU does (see sim_cpu.h for the behaviour). */
enum vh_sim_workload_kind {
	VH_SIM_WL_CPU,    /* always runnable */
	VH_SIM_WL_IDLE,   /* always halted */
	VH_SIM_WL_BURSTY, /* runs run_ns of CPU, then halts sleep_ns */
	VH_SIM_WL_SMP,    /* runs run_ns, then waits at a barrier for its siblings */
};

struct vh_sim_workload {
	enum vh_sim_workload_kind kind;
	uint64_t run_ns;
	uint64_t sleep_ns;
	/* Memory behaviour: pages written per second, the fraction (in
	 * percent) of the VM's memory they touch, and whether every VM with
	 * the same content seed writes identical bytes (page sharing). */
	uint64_t touch_pages_per_sec;
	uint32_t touch_percent;
	uint32_t content_seed;
};

struct vh_sim_vm_spec {
	struct vh_vm_config cfg;
	struct vh_sim_workload workload;
	bool start; /* powered on at time 0 */
};

enum vh_sim_event_kind {
	VH_SIM_EV_START,
	VH_SIM_EV_STOP,
	VH_SIM_EV_PAUSE,
	VH_SIM_EV_RESUME,
	VH_SIM_EV_SET_CPU,
	VH_SIM_EV_SET_MEM,
	VH_SIM_EV_BALLOON,
	VH_SIM_EV_WORKLOAD,
};

struct vh_sim_event {
	uint64_t at_ns;
	unsigned line;
	char vm[VH_VM_NAME_MAX];
	enum vh_sim_event_kind kind;
	struct vh_cpu_controls cpu; /* SET_CPU: full controls after the change */
	bool cpu_fields[3];         /* which of shares/reservation/limit the line set */
	struct vh_mem_controls mem;
	bool mem_fields[3];
	uint64_t balloon_mib;
	struct vh_sim_workload workload;
};

struct vh_sim_scenario {
	struct vh_host_config host;
	struct vh_sched_params sched;
	struct vh_mem_params mem;
	uint64_t duration_ns;
	uint64_t sample_interval_ns; /* 0: only the final report */
	uint64_t seed;
	uint32_t steal_permille; /* host steal=: what the pCPUs' host takes */
	struct vh_sim_vm_spec *vms;
	size_t nvms;
	struct vh_sim_event *events; /* sorted by time, then file order */
	size_t nevents;
};

/* Parses a scenario from text.  On error returns false and writes
 * "LINE: reason" into err. */
bool vh_sim_scenario_parse(const char *text, struct vh_sim_scenario *sc, char *err,
			   size_t errlen);
void vh_sim_scenario_free(struct vh_sim_scenario *sc);

/* Quantities the way people write them; false when malformed. */
bool vh_sim_parse_duration(const char *s, uint64_t *ns);  /* 10s 250ms 50us 1500ns */
bool vh_sim_parse_size(const char *s, uint64_t *bytes);   /* 512M 2G 4096 64K 1T */
bool vh_sim_parse_mhz(const char *s, uint64_t *mhz);      /* 500 500MHz 1.5GHz */

#endif
