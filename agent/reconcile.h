/* SPDX-License-Identifier: Apache-2.0 */
/* Reconciliation of the persisted VM definitions with what the
 * hypervisor runs, at start and whenever the hypervisor may have
 * restarted:
 *   - a persisted VM the hypervisor has (same uuid) is adopted as it
 *     is: a VM that kept running while the agent was down stays running,
 *     untouched;
 *   - a persisted VM the hypervisor lacks (it restarted and lost its
 *     definitions) is defined again from the record, powered off;
 *   - a VM the hypervisor has that the store lacks (defined by another
 *     client) is persisted;
 *   - a record that does not parse is set aside (<key>.corrupt-<time>)
 *     and reported, never guessed at. */
#ifndef VH_AGENT_RECONCILE_H
#define VH_AGENT_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

struct vh_reconcile_report {
	unsigned adopted, running, redefined, persisted, corrupt, failed;
	uint64_t instance; /* the hypervisor instance reconciled (HOST_INFO's) */
};

/* 0 when done (rep says what happened; failed counts definitions the
 * hypervisor refused), -1 with err set when the hypervisor or the store
 * could not be read, or the hypervisor restarted during the pass (try
 * again later). */
int vh_reconcile(struct vh_reconcile_report *rep, char *err, size_t errlen);

#endif
