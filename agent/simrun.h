/* SPDX-License-Identifier: Apache-2.0 */
/* Runs vh-sim (the real core on the simulated platform) in a child
 * process for POST /v1/simulate: the scenario on its standard input, its
 * JSON report from its standard output, within a time bound.  A child,
 * not a thread: a simulation that runs long or exhausts memory is killed
 * or dies alone, and the agent, which never links the core, stays as
 * small as it is (tests/api/no_internals.sh). */
#ifndef VH_AGENT_SIMRUN_H
#define VH_AGENT_SIMRUN_H

#include "api/vh_api.h"

/* The most a report may hold (a few hundred bytes a VM). */
#define VH_SIMRUN_MAX_OUT (8u << 20)

/* Runs `path -` with scenario as its input.  0 with *out (malloc'd,
 * NUL-terminated) when it exits 0 within timeout_ms; else -1 with p: the
 * simulator missing or not runnable (VH_API_UNAVAILABLE), past the time
 * bound (VH_API_SIMULATION_TIMEOUT: it is killed), or failing (VH_API_INTERNAL with
 * its first line of error output). */
int vh_simrun(const char *path, const char *scenario, unsigned timeout_ms, char **out,
	      struct vh_api_problem *p);

#endif
