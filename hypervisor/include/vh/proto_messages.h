/* SPDX-License-Identifier: Apache-2.0 */
/* Every control-protocol message, described once.  The codec
 * (proto_codec.c: names, payload sizes, which layout to read and write),
 * the dispatcher (proto_dispatch.c: whether the VM is resolved first, which
 * handler runs), the agent's client (agent/hvconn.c: what may be sent
 * again), vh-hosted's server (hosted/server.c: whether counters are
 * settled first) and vh-msg (its per-VM commands and how it prints a
 * reply) all read this list or the table built from it (proto_table.c,
 * vh_proto_msg()).  Adding a message is a row here plus its handler
 * do_<name> in proto_dispatch.c (a missing handler does not compile), and
 * its description in docs/protocol.md; a new payload layout also needs its
 * wire struct in vh/proto.h and its codec.
 *
 * X(TYPE, value, name, request, reply, flags):
 *   TYPE     VH_PROTO_<TYPE> in enum vh_proto_type
 *   value    its number on the wire (header.type); never reused
 *   name     its lower-case name (vh_proto_type_name, logs, vh-msg)
 *   request  its request payload: VH_PROTO_REQ_<request>
 *   reply    its reply payload: VH_PROTO_REPLY_<reply>
 *   flags    VH_PROTO_MSG_READ_ONLY, VH_PROTO_MSG_CPU_COUNTERS (and
 *            VH_PROTO_MSG_VM, which the table adds for every request
 *            layout that names a VM) */
#ifndef VH_PROTO_MESSAGES_H
#define VH_PROTO_MESSAGES_H

/* The request does not change the hypervisor: a client may send it again
 * when a connection died before the reply (it cannot tell whether it was
 * acted on, and for these it does not matter). */
#define VH_PROTO_MSG_READ_ONLY 0x1u
/* The reply carries CPU time (used, ready): a backend whose pCPUs are
 * shared settles what the host took from running vCPUs before it. */
#define VH_PROTO_MSG_CPU_COUNTERS 0x2u
/* The request names one VM (struct vh_wire_vm_ref at the start of its
 * payload): the dispatcher resolves it before the handler runs.  Set by
 * the table from the request layout, never by a row. */
#define VH_PROTO_MSG_VM 0x4u

#define VH_PROTO_RO     VH_PROTO_MSG_READ_ONLY
#define VH_PROTO_RO_CPU (VH_PROTO_MSG_READ_ONLY | VH_PROTO_MSG_CPU_COUNTERS)

#define VH_PROTO_MESSAGES(X)                                                                   \
	X(HOST_INFO, 1, host_info, NONE, HOST_INFO, VH_PROTO_RO)        /* capacity, limits */ \
	X(HOST_STATS, 2, host_stats, NONE, HOST_STATS, VH_PROTO_RO_CPU) /* + every pCPU's */   \
	X(VM_LIST, 3, vm_list, PAGE, VM_LIST, VH_PROTO_RO)              /* VM summaries */     \
	X(VM_DEFINE, 4, vm_define, VM_CONFIG, VM_INFO, 0)                                      \
	X(VM_UNDEFINE, 5, vm_undefine, VM_REF, NONE, 0)                                        \
	X(VM_GET, 6, vm_get, VM_REF, VM_INFO, VH_PROTO_RO)                                     \
	X(VM_START, 7, vm_start, VM_REF, VM_SUMMARY, 0)                                        \
	X(VM_STOP, 8, vm_stop, VM_REF, VM_SUMMARY, 0)                                          \
	X(VM_PAUSE, 9, vm_pause, VM_REF, VM_SUMMARY, 0)                                        \
	X(VM_RESUME, 10, vm_resume, VM_REF, VM_SUMMARY, 0)                                     \
	X(VM_RESET, 11, vm_reset, VM_REF, VM_SUMMARY, 0)                                       \
	X(VM_SET_CPU, 12, vm_set_cpu, SET_CPU, VM_SUMMARY, 0)                                  \
	X(VM_SET_MEM, 13, vm_set_mem, SET_MEM, VM_SUMMARY, 0)                                  \
	X(VM_SET_BALLOON, 14, vm_set_balloon, SET_BALLOON, VM_SUMMARY, 0)                      \
	X(VM_STATS, 15, vm_stats, VM_REF, VM_STATS, VH_PROTO_RO_CPU) /* + every vCPU's */      \
	X(VM_STATS_ALL, 16, vm_stats_all, PAGE, VM_STATS_ALL, VH_PROTO_RO_CPU)                 \
	X(VM_CONSOLE, 17, vm_console, CONSOLE, CONSOLE, VH_PROTO_RO) /* + the bytes */        \
	X(STATS_MAP, 18, stats_map, NONE, STATS_MAP, VH_PROTO_RO) /* + the area (stats_pub.h) */

/* Request payloads (struct vh_wire_* in vh/proto.h). */
enum vh_proto_req_layout {
	VH_PROTO_REQ_NONE,        /* no payload */
	VH_PROTO_REQ_PAGE,        /* vh_wire_page_req */
	VH_PROTO_REQ_VM_CONFIG,   /* vh_wire_vm_config */
	VH_PROTO_REQ_VM_REF,      /* vh_wire_vm_ref */
	VH_PROTO_REQ_SET_CPU,     /* vh_wire_set_cpu */
	VH_PROTO_REQ_SET_MEM,     /* vh_wire_set_mem */
	VH_PROTO_REQ_SET_BALLOON, /* vh_wire_set_balloon */
	VH_PROTO_REQ_CONSOLE,     /* vh_wire_console_req */
	VH_PROTO_REQ_LAYOUT_COUNT
};

/* Reply payloads when the status is VH_OK (an error reply is always a
 * vh_wire_error): a fixed part, then for some an array. */
enum vh_proto_reply_layout {
	VH_PROTO_REPLY_NONE,         /* no payload */
	VH_PROTO_REPLY_HOST_INFO,    /* vh_wire_host_info */
	VH_PROTO_REPLY_HOST_STATS,   /* vh_wire_host_stats + pcpus vh_wire_pcpu_stats */
	VH_PROTO_REPLY_VM_INFO,      /* vh_wire_vm_info */
	VH_PROTO_REPLY_VM_SUMMARY,   /* vh_wire_vm_summary */
	VH_PROTO_REPLY_VM_STATS,     /* vh_wire_vm_stats_reply + nvcpus vh_wire_vcpu_stats */
	VH_PROTO_REPLY_VM_LIST,      /* vh_wire_page_reply + count vh_wire_vm_summary */
	VH_PROTO_REPLY_VM_STATS_ALL, /* vh_wire_page_reply + count vh_wire_vm_stats */
	VH_PROTO_REPLY_CONSOLE,      /* vh_wire_console_reply + len bytes */
	VH_PROTO_REPLY_STATS_MAP,    /* vh_wire_stats_map (the transport passes the area) */
	VH_PROTO_REPLY_LAYOUT_COUNT
};

/* Message types.  A reply carries the type of its request. */
enum vh_proto_type {
#define VH_PROTO_TYPE_(type, value, name, request, reply, flags) VH_PROTO_##type = (value),
	VH_PROTO_MESSAGES(VH_PROTO_TYPE_)
#undef VH_PROTO_TYPE_
	    VH_PROTO_TYPE_COUNT /* the rows are in ascending order: the last + 1 */
};

#endif
