/* SPDX-License-Identifier: Apache-2.0 */
/* Runs a parsed scenario on the real core over the simulated platform and
 * reports per-VM and host counters as JSON (the engine behind vh-sim). */
#ifndef VH_SIM_RUN_H
#define VH_SIM_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "scenario.h"

struct vh_sim_run_options {
	bool samples; /* emit the series of samples at the scenario's interval */
};

/* Returns false (with err) when the scenario cannot start at all: the
 * host configuration is refused, out of memory.  Changes refused by the
 * hypervisor during the run are reported in the JSON, not as failures. */
bool vh_sim_run(const struct vh_sim_scenario *sc, const struct vh_sim_run_options *opt, FILE *out,
		char *err, size_t errlen);

#endif
