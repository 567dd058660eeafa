/* SPDX-License-Identifier: Apache-2.0 */
/* The resource handlers the route table (router.c) points at, one file
 * each: res_host.c, res_vms.c, res_power.c, res_controls.c, res_stats.c,
 * res_diagnosis.c,
 * res_images.c, res_disks.c, res_tokens.c, res_metrics.c, res_health.c, res_console.c,
 * res_events.c, res_simulate.c.  Only the
 * route table (router.c) and the handlers include this: the modules
 * below them (the transport, vmutil.c, hvconn.c, reconcile.c, metrics.c)
 * never call up into a handler (tests/agent/layering.sh). */
#ifndef VH_AGENT_RESOURCES_H
#define VH_AGENT_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/http.h"
#include "agent/upload.h"
#include "agent/sd.h"
#include "agent/vmutil.h"
#include "vh/proto.h"

void vh_res_host_get(struct vh_req *r);

void vh_res_vms_list(struct vh_req *r);
void vh_res_vms_create(struct vh_req *r);
void vh_res_vm_get(struct vh_req *r);
void vh_res_vm_patch(struct vh_req *r);
void vh_res_vm_delete(struct vh_req *r);

void vh_res_vm_power(struct vh_req *r);
void vh_res_vm_reset(struct vh_req *r);

void vh_res_vm_cpu(struct vh_req *r);
void vh_res_vm_memory(struct vh_req *r);
void vh_res_vm_balloon(struct vh_req *r);

void vh_res_vm_stats(struct vh_req *r);
void vh_res_stats(struct vh_req *r);

void vh_res_vm_diagnosis(struct vh_req *r);
void vh_res_host_diagnosis(struct vh_req *r);
void vh_res_vm_console(struct vh_req *r);
void vh_res_events(struct vh_req *r);
void vh_res_simulate(struct vh_req *r);

void vh_res_images_list(struct vh_req *r);
void vh_res_image_get(struct vh_req *r);
void vh_res_image_delete(struct vh_req *r);
void vh_res_image_put(struct vh_req *r);
int vh_res_image_put_begin(struct vh_req *r);
int vh_res_image_put_data(struct vh_req *r, const char *data, size_t len);
void vh_res_image_put_abort(struct vh_req *r);

/* A file store's outcome (images, disks) as its problem: EINVAL 422
 * naming field, ENOENT 404, ETOOBIG 413, ECHECKSUM 422 on sha256,
 * ENOSPC 507, EEXIST 409, EIO 500; err is the detail. */
void vh_res_file_problem(struct vh_req *r, enum vh_file_err e, const char *field,
			 const char *err);

void vh_res_disks_list(struct vh_req *r);
void vh_res_disk_get(struct vh_req *r);
void vh_res_disk_post(struct vh_req *r);
void vh_res_disk_patch(struct vh_req *r);
void vh_res_disk_delete(struct vh_req *r);
void vh_res_disk_put(struct vh_req *r);
int vh_res_disk_put_begin(struct vh_req *r);
int vh_res_disk_put_data(struct vh_req *r, const char *data, size_t len);
void vh_res_disk_put_abort(struct vh_req *r);
/* The disks a VM definition names exist, and none is held by another VM
 * in a way that excludes this one (read-write anywhere: one writer, no
 * readers beside it).  self is the VM's uuid (its own attachments do not
 * count).  0, or -1 after a problem reply.  Hold vh_agent->disk_lock
 * from the check until the definition is made. */
int vh_res_disks_check(struct vh_req *r, const struct vh_vm_config *cfg, const uint8_t self[16]);

void vh_res_tokens_list(struct vh_req *r);
void vh_res_tokens_create(struct vh_req *r);
void vh_res_token_delete(struct vh_req *r);

void vh_res_metrics(struct vh_req *r);
void vh_res_healthz(struct vh_req *r);
void vh_res_readyz(struct vh_req *r);

#endif
