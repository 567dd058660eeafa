/* SPDX-License-Identifier: Apache-2.0 */
/* The last minute of every VM's counters, for diagnoses (res_diagnosis.c):
 * one thread reads them once a second.  A diagnosis reads the counters
 * again when asked and takes its rates against the sample a window
 * earlier, so it answers at once and no request waits a window out on a
 * libmicrohttpd thread (where the requests queued behind it would wait
 * too). */
#ifndef VH_AGENT_SAMPLER_H
#define VH_AGENT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "agent/hvconn.h"
#include "vh/proto.h"

/* Samples kept: a minute at one a second, plus the one being replaced. */
#define VH_SAMPLER_KEEP      62u
#define VH_SAMPLER_PERIOD_MS 1000u

/* One sample: the hypervisor's clock when it was read and every VM's
 * counters (vms[i].id identifies them). */
struct vh_sample {
	uint64_t now_ns;
	struct vh_proto_vm_stats *vms;
	size_t n;
};

/* Starts the thread (idempotent); 0, or -1 when it cannot. */
int vh_sampler_start(void);
/* Stops and joins it and frees the samples. */
void vh_sampler_stop(void);
/* Copies into *out the newest sample read at or before at_ns on the
 * hypervisor's clock, or when none is that old the oldest one at least
 * min_age_ns before now_ns; with id, only samples that hold that VM (one
 * defined within the window is measured from its first sample).
 * out->vms is malloc'd.  -1 when there is none (the agent, the
 * hypervisor or the VM came less than a period ago). */
int vh_sampler_before(uint64_t at_ns, uint64_t now_ns, uint64_t min_age_ns, uint32_t id,
		      struct vh_sample *out);

/* The VMs now (b, n of them), each with its counters from the earlier
 * sample a; a VM defined since starts from zero (all it did falls in
 * the window).  malloc'd; NULL when out of memory. */
struct vh_api_diag_vm *vh_sampler_pair(const struct vh_sample *a, const struct vh_hv_vm_snap *b,
				       size_t n);

#endif
