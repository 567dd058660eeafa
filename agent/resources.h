/* SPDX-License-Identifier: Apache-2.0 */
/* The resource handlers the route table (router.c) points at, one file
 * each: res_host.c, res_vms.c, res_power.c, res_controls.c, res_stats.c,
 * res_diagnosis.c,
 * res_images.c, res_tokens.c, res_metrics.c, res_health.c, res_console.c,
 * res_events.c, res_simulate.c.  Only the
 * route table (router.c) and the handlers include this: the modules
 * below them (the transport, vmutil.c, hvconn.c, reconcile.c, metrics.c)
 * never call up into a handler (tests/agent/layering.sh). */
#ifndef VH_AGENT_RESOURCES_H
#define VH_AGENT_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/http.h"
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

void vh_res_tokens_list(struct vh_req *r);
void vh_res_tokens_create(struct vh_req *r);
void vh_res_token_delete(struct vh_req *r);

void vh_res_metrics(struct vh_req *r);
void vh_res_healthz(struct vh_req *r);
void vh_res_readyz(struct vh_req *r);

#endif
