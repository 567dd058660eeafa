/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's event ring (events.c): what happened to the VMs, the
 * agent and the hypervisor, each event with a sequence number (the SSE
 * id of GET /v1/events), kept in a bounded ring so that a client that
 * reconnects with Last-Event-ID gets exactly what it missed while that
 * is still held, and an "events_lost" event when it is not.
 *
 * Sources: the watcher (vh_events_watch, on the main thread five times a
 * second) compares the hypervisor's VM_LIST with the last one it saw, so
 * what the hypervisor does alone (a guest that crashed or powered off, a
 * balloon target the memory manager moved) is seen like what the API
 * did: defined, started, stopped, paused, resumed, crashed, reset,
 * deleted, balloon_target; it also notices the hypervisor going and
 * coming back.  The agent adds its own start and stop and admission
 * refusals (reply.c, from the problem it answers). */
#ifndef VH_AGENT_EVENTS_H
#define VH_AGENT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#define VH_EVENTS_RING 1024u /* events held */

/* Appends an event: type, the VM's name and uuid (NULL: none), more
 * members (taken; may be NULL).  Returns its sequence number (from 1). */
uint64_t vh_events_publish(const char *type, const char *vm_name, const uint8_t *vm_uuid,
			   struct json_object *extra);

/* Whole SSE records ("id: N\nevent: T\ndata: {...}\n\n") from sequence
 * *next on, as many as fit max; *next moves past them.  A *next older
 * than the ring first gets one "events_lost" record naming the missed
 * range.  0 when there is nothing from *next yet. */
size_t vh_events_read(uint64_t *next, char *buf, size_t max);
/* The sequence number the next event will get. */
uint64_t vh_events_next(void);

/* One look at the hypervisor (the main loop calls it). */
void vh_events_watch(void);

/* Frees the ring (at exit). */
void vh_events_free(void);

#endif
