/* SPDX-License-Identifier: Apache-2.0 */
/* What the VM resources share (vmutil.c): references from the path,
 * ETags, If-Match, the persisted record, the per-VM mutation locks.
 * Below the handlers: reconcile.c persists records with it too. */
#ifndef VH_AGENT_VMUTIL_H
#define VH_AGENT_VMUTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/http.h"
#include "vh/proto.h"

/* The VM path parameter ({vm}: uuid or name) as a protocol reference. */
void vh_vmu_ref_of(struct vh_req *r, struct vh_proto_vm_ref *ref);
/* The strong ETag of a VM resource ("\"<16 hex>\""): a hash of the JSON
 * that GET /v1/vms/{vm} returns, so it changes exactly when that does. */
void vh_vmu_etag(const struct vh_proto_vm_info *info, char out[24]);
/* If-Match against the VM's current ETag: 0 when absent, "*" or a match;
 * otherwise replies 412 and returns -1. */
int vh_vmu_if_match(struct vh_req *r, const struct vh_proto_vm_info *info);
/* Replies status with the VM resource and its ETag. */
void vh_vmu_reply(struct vh_req *r, int status, const struct vh_proto_vm_info *info);
/* A read's problem reply.  A VM the hypervisor does not know, while the
 * agent has not reconciled with it (it restarted and lost definitions
 * the next pass gives back), is 503 busy with Retry-After, not 404.
 * Call it after the read: the read is what notices the restart. */
void vh_vmu_read_problem(struct vh_req *r, const struct vh_api_problem *p);
/* Whether a read may answer now: 0, or -1 after that 503 reply (for
 * listings, which would miss the VMs not yet defined again). */
int vh_vmu_read_ready(struct vh_req *r);
/* The operator's balloon target in MiB from a summary. */
uint64_t vh_vmu_balloon_mib(const struct vh_proto_vm_summary *s);
/* Persists the VM's record ({"format":1,"vm":…,"power":…}) from what the
 * hypervisor reports.  0 or -1 with p set (VH_API_INSUFFICIENT_STORAGE
 * when the state folder is full, else VH_API_INTERNAL). */
int vh_vmu_persist(const struct vh_proto_vm_info *info, struct vh_api_problem *p);
/* Locks the VM named by the request for a mutation: resolves it
 * (VM_GET), takes the reconcile lock for reading and the VM's mutation
 * lock, and reads the VM again under them (info is fresh).  Returns the
 * held VM lock, or NULL after a problem reply (503 while the agent has
 * not reconciled yet).  vh_vmu_unlock releases both. */
pthread_mutex_t *vh_vmu_lock(struct vh_req *r, struct vh_proto_vm_info *info);
/* The same for a VM that does not exist yet (create): by uuid. */
pthread_mutex_t *vh_vmu_lock_new(struct vh_req *r, const uint8_t uuid[16]);
void vh_vmu_unlock(pthread_mutex_t *lock);
/* VM_UNDEFINE by uuid, waiting out the moment a just-stopped VM is
 * still leaving a pCPU (the hypervisor answers busy then). */
int vh_vmu_undefine(const uint8_t uuid[16], struct vh_api_problem *p);
/* Whether the VM boots from image (its kernel or a module). */
bool vh_vmu_uses_image(const struct vh_vm_config *cfg, const char *image);

#endif
