/* SPDX-License-Identifier: Apache-2.0 */
/* The control-protocol client: vhagent's only way to the hypervisor
 * (docs/protocol.md).  Requests are built and replies read with the
 * core's freestanding codec (vh_proto_encode_request,
 * vh_proto_frame_len, vh_proto_decode_reply).
 *
 * Each thread that calls keeps its own connection and 64 KiB message
 * buffer (thread-local, made at the first call, closed when the thread
 * ends), so request handlers in libmicrohttpd's thread pool never wait
 * for each other on the hypervisor socket.  A connection that broke
 * (vh-hosted restarted) is re-made and a request that cannot have been
 * acted on is sent again. */
#ifndef VH_AGENT_HVCONN_H
#define VH_AGENT_HVCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/vh_api.h"
#include "vh/proto.h"
#include "vh/stats_pub.h"

/* The hypervisor's socket (copied) and how long one request may take,
 * connecting included (hypervisor_timeout_ms); call before any thread
 * calls. */
void vh_hv_init(const char *socket_path, unsigned timeout_ms);

/* Sends req (its request_id is set here) and decodes the reply into *r.
 * Returns 0 on success.  -1 when the hypervisor answered an error (p
 * gets it, mapped by vh_api_from_proto_error; r->hdr.status is set) or
 * could not be reached (VH_API_UNAVAILABLE, r->hdr.status is 0) or did
 * not answer within the timeout (VH_API_TIMEOUT: the request may still
 * be acted on; the connection is closed, so its late reply is never
 * taken for another's).  The
 * reply's arrays (r->entries) live in this thread's buffer until its
 * next call. */
int vh_hv_call(struct vh_proto_request *req, struct vh_proto_reply *r, struct vh_api_problem *p);

/* Convenience forms. */
void vh_hv_request(struct vh_proto_request *req, uint16_t type, const struct vh_proto_vm_ref *vm);
int vh_hv_vm_get(const struct vh_proto_vm_ref *vm, struct vh_proto_vm_info *info,
		 struct vh_api_problem *p);
/* The summary of the VM with this id (a one-entry VM_LIST page): -1 with
 * VH_API_NOT_FOUND when there is none. */
int vh_hv_summary_by_id(uint32_t id, struct vh_proto_vm_summary *s, struct vh_api_problem *p);

/* One VM_LIST entry as it arrived: the 184-byte wire record (in this
 * thread's reply buffer), with the fields filters need read off it;
 * vh_hv_entry_decode gives the whole summary when it is needed (decoding
 * every entry of a large page costs more than the rest of a listing). */
struct vh_hv_entry {
	const uint8_t *wire;
	uint32_t id, state;
	const char *name; /* NUL-terminated (the reply was checked) */
};
int vh_hv_entry_decode(const struct vh_hv_entry *e, struct vh_proto_vm_summary *s);
/* The entry of a wire summary (checked by the reply's decoder before). */
void vh_hv_entry_of(const uint8_t *wire, struct vh_hv_entry *e);

/* Walks every VM from start_id on, page by page (start_id/next_id).  fn
 * gets each entry; it must not call the hypervisor (the page lives in
 * this thread's buffer) and returns 0 to go on, VH_HV_STOP_AFTER to stop
 * with this VM used or VH_HV_STOP_BEFORE to stop without it; *next_id
 * (optional) is then the id to resume from, 0 when the walk reached the
 * end.  max_entries bounds each page (0: as many as fit).  Returns 0,
 * fn's non-zero value, or -1 with p set. */
#define VH_HV_STOP_AFTER  1
#define VH_HV_STOP_BEFORE 2
typedef int (*vh_hv_summary_fn)(void *ctx, const struct vh_hv_entry *e);
typedef int (*vh_hv_stats_fn)(void *ctx, const struct vh_proto_vm_stats *s);
int vh_hv_each_summary(uint32_t start_id, uint32_t max_entries, vh_hv_summary_fn fn, void *ctx,
		       uint32_t *next_id, struct vh_api_problem *p);
int vh_hv_each_stats(vh_hv_stats_fn fn, void *ctx, struct vh_api_problem *p);

/* Requests that may have changed something in the hypervisor (every
 * type but the read-only ones, counted once answered or failed) plus
 * broken connections and changes of the known instance (a restarted
 * hypervisor): a snapshot taken when this was n is stale once it is not. */
uint64_t vh_hv_writes(void);

/* Every VM's summary as one snapshot (hvlist.c), for listings.  A
 * snapshot reflects every change this agent made before the call began
 * (vh_hv_writes) and everything else that happened in the hypervisor
 * until at most VH_HV_LIST_MAX_AGE_NS before the call began (a VM that
 * crashed, a balloon target the memory manager moved, a VM another
 * client of the hypervisor changed).  Callers within that window share
 * one snapshot; a caller that needs a newer one shares a walk: if none
 * is running it runs one, if one is running it waits for the next,
 * which serves everyone waiting.  Under load the hypervisor then walks
 * its VM table at most about once per window, not once per request.
 * Entries are in id order. */
#define VH_HV_LIST_MAX_AGE_NS 1000000ull
struct vh_hv_list {
	uint32_t n;
	const uint8_t *wire; /* n wire summaries, 184 bytes each */
};
int vh_hv_list_get(const struct vh_hv_list **out, struct vh_api_problem *p);
void vh_hv_list_put(const struct vh_hv_list *l);
/* Entry i as vh_hv_each_summary gives it. */
void vh_hv_list_entry(const struct vh_hv_list *l, uint32_t i, struct vh_hv_entry *e);

/* Reads several resources share (hvquery.c).  HOST_INFO and HOST_STATS;
 * with npcpus, up to max_pcpus of the pCPUs' counters into pcpus (pcpus
 * and npcpus may be NULL).  0 or -1 with p set. */
int vh_hv_host_read(struct vh_proto_host_info *hi, struct vh_proto_host_stats *hs,
		    struct vh_pcpu_stats *pcpus, uint32_t max_pcpus, uint32_t *npcpus,
		    struct vh_api_problem *p);
/* Every VM's summary and counters, matched by id, in id order (a VM
 * defined or undefined between the two walks is left out).  *out is
 * malloc'd. */
struct vh_hv_vm_snap {
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats st;
};
int vh_hv_vms_snapshot(struct vh_hv_vm_snap **out, size_t *n, struct vh_api_problem *p);

/* Every VM's definition (VM_LIST, then VM_GET of each; a VM undefined
 * between the two is left out), in id order: what the image and disk
 * resources ask "who uses this?" of.  fn returns non-zero to stop.
 * Returns 0, fn's value, or -1 with p set. */
typedef int (*vh_hv_info_fn)(void *ctx, const struct vh_proto_vm_info *info);
int vh_hv_each_vm_info(vh_hv_info_fn fn, void *ctx, struct vh_api_problem *p);

/* The hypervisor's published counters (hvshm.c; vh/stats_pub.h), mapped
 * read-only through STATS_MAP by a watcher thread that follows the
 * hypervisor across restarts.  The reads above (vh_hv_host_read,
 * vh_hv_vms_snapshot, vh_hv_vm_stats) take them from there, with no
 * protocol message, and from the protocol when there is no mapping (the
 * hypervisor not there yet, stopped, or closed), or a record kept
 * changing for VH_PUB_READ_TRIES copies (counted: fallbacks). */
void vh_hv_shm_start(const char *socket_path);
void vh_hv_shm_stop(void);
struct vh_hv_shm {
	struct vh_pub_view v; /* this reader's copy of the view */
	uint64_t now;         /* CLOCK_MONOTONIC, the area's clock */
};
/* True with the mapping held (end it with vh_hv_shm_end, before any
 * protocol call); false with nothing held. */
bool vh_hv_shm_begin(struct vh_hv_shm *s);
/* rc: the read's (VH_OK served, VH_E_BUSY a fallback, other: neither). */
void vh_hv_shm_end(struct vh_hv_shm *s, int rc);
struct vh_hv_shm_counters {
	bool mapped;
	uint64_t maps;      /* mappings made (one per hypervisor instance seen) */
	uint64_t reads;     /* reads served from them */
	uint64_t fallbacks; /* reads that went to the protocol: a record never settled */
	uint64_t retries;   /* copies tried again because a record changed meanwhile */
};
void vh_hv_shm_counters(struct vh_hv_shm_counters *c);

/* A VM's counters, its vCPUs' (up to VH_VM_MAX_VCPUS into vcpus) and its
 * summary, as VM_STATS and VM_LIST give them (hvquery.c). */
int vh_hv_vm_stats(const struct vh_proto_vm_ref *ref, struct vh_proto_vm_summary *s,
		   struct vh_proto_vm_stats *st, struct vh_proto_vcpu_stats *vcpus,
		   uint32_t *nvcpus, struct vh_api_problem *p);

/* The hypervisor instance the agent knows is there now (HOST_INFO's
 * instance: each start of the hypervisor has another); 0 when none is
 * known or the one known is gone.  Learnt from every HOST_INFO reply and
 * from the published counters' watcher (hvshm.c), which also tells at
 * once when the instance it mapped went away.  What a thread cached from
 * replies under another instance (VM ids resolve to other VMs after a
 * restart) must be read again; a thread's connection made under another
 * instance is made again before its next request. */
uint64_t vh_hv_instance(void);
/* instance answered (nonzero): it is the one there now. */
void vh_hv_instance_seen(uint64_t instance);
/* instance went away (its connection ended): none is known until the
 * next is seen; nothing when another is known already. */
void vh_hv_instance_gone(uint64_t instance);
/* The instance this thread's connection talks to (0: none, or not
 * known): a reconcile pass checks its calls all went to one. */
uint64_t vh_hv_conn_instance(void);

/* Counters for /metrics and the reconciler. */
struct vh_hv_counters {
	uint64_t calls;    /* requests answered */
	uint64_t errors;   /* of which the hypervisor refused */
	uint64_t failures; /* transport failures (unreachable, timeout, garbage) */
	uint64_t connects; /* connections made, all threads */
	uint64_t list_walks;    /* VM_LIST walks for listings (hvlist.c) */
	uint64_t list_requests; /* listings served, shared walks included */
};
void vh_hv_counters(struct vh_hv_counters *c);
void vh_hv_list_counters(uint64_t *walks, uint64_t *requests);

#endif
