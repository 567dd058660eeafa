/* SPDX-License-Identifier: Apache-2.0 */
/* The message table: vh/proto_messages.h's rows with the wire sizes of
 * their layouts.  Part of libvhproto.a, so clients read it too. */
#include "vh/proto.h"

/* Per request layout: its payload size and the flags it implies. */
#define REQ_SIZE_NONE         0u
#define REQ_SIZE_PAGE         sizeof(struct vh_wire_page_req)
#define REQ_SIZE_VM_CONFIG    sizeof(struct vh_wire_vm_config)
#define REQ_SIZE_VM_REF       sizeof(struct vh_wire_vm_ref)
#define REQ_SIZE_SET_CPU      sizeof(struct vh_wire_set_cpu)
#define REQ_SIZE_SET_MEM      sizeof(struct vh_wire_set_mem)
#define REQ_SIZE_SET_BALLOON  sizeof(struct vh_wire_set_balloon)
#define REQ_SIZE_CONSOLE      sizeof(struct vh_wire_console_req)
#define REQ_FLAGS_NONE        0u
#define REQ_FLAGS_PAGE        0u
#define REQ_FLAGS_VM_CONFIG   0u
#define REQ_FLAGS_VM_REF      VH_PROTO_MSG_VM
#define REQ_FLAGS_SET_CPU     VH_PROTO_MSG_VM
#define REQ_FLAGS_SET_MEM     VH_PROTO_MSG_VM
#define REQ_FLAGS_SET_BALLOON VH_PROTO_MSG_VM
#define REQ_FLAGS_CONSOLE     VH_PROTO_MSG_VM

/* The layouts that name a VM start with it, where the dispatcher and the
 * codec read it. */
VH_STATIC_ASSERT(offsetof(struct vh_wire_set_cpu, vm) == 0, "set_cpu starts with its VM");
VH_STATIC_ASSERT(offsetof(struct vh_wire_set_mem, vm) == 0, "set_mem starts with its VM");
VH_STATIC_ASSERT(offsetof(struct vh_wire_set_balloon, vm) == 0, "set_balloon starts with its VM");
VH_STATIC_ASSERT(offsetof(struct vh_wire_console_req, vm) == 0, "console_req starts with its VM");

/* Per reply layout: the fixed part and the size of an array entry. */
#define REPLY_FIXED_NONE         0u
#define REPLY_FIXED_HOST_INFO    sizeof(struct vh_wire_host_info)
#define REPLY_FIXED_HOST_STATS   sizeof(struct vh_wire_host_stats)
#define REPLY_FIXED_VM_INFO      sizeof(struct vh_wire_vm_info)
#define REPLY_FIXED_VM_SUMMARY   sizeof(struct vh_wire_vm_summary)
#define REPLY_FIXED_VM_STATS     sizeof(struct vh_wire_vm_stats_reply)
#define REPLY_FIXED_VM_LIST      sizeof(struct vh_wire_page_reply)
#define REPLY_FIXED_VM_STATS_ALL sizeof(struct vh_wire_page_reply)
#define REPLY_FIXED_CONSOLE      sizeof(struct vh_wire_console_reply)
#define REPLY_FIXED_STATS_MAP    sizeof(struct vh_wire_stats_map)
#define REPLY_ENTRY_NONE         0u
#define REPLY_ENTRY_HOST_INFO    0u
#define REPLY_ENTRY_HOST_STATS   sizeof(struct vh_wire_pcpu_stats)
#define REPLY_ENTRY_VM_INFO      0u
#define REPLY_ENTRY_VM_SUMMARY   0u
#define REPLY_ENTRY_VM_STATS     sizeof(struct vh_wire_vcpu_stats)
#define REPLY_ENTRY_VM_LIST      sizeof(struct vh_wire_vm_summary)
#define REPLY_ENTRY_VM_STATS_ALL sizeof(struct vh_wire_vm_stats)
#define REPLY_ENTRY_CONSOLE      1u
#define REPLY_ENTRY_STATS_MAP    0u

/* A row whose value is out of order or repeated fails to compile here
 * (index past the array, or -Woverride-init). */
static const struct vh_proto_msg messages[VH_PROTO_TYPE_COUNT] = {
#define ROW(t, value, n, req, rep, fl)               \
	[value] = { .type = VH_PROTO_##t,            \
		    .name = #n,                      \
		    .request = VH_PROTO_REQ_##req,   \
		    .reply = VH_PROTO_REPLY_##rep,   \
		    .flags = (fl) | REQ_FLAGS_##req, \
		    .request_size = REQ_SIZE_##req,  \
		    .reply_size = REPLY_FIXED_##rep, \
		    .reply_entry_size = REPLY_ENTRY_##rep },
	VH_PROTO_MESSAGES(ROW)
#undef ROW
};

const struct vh_proto_msg *vh_proto_msg(uint32_t type)
{
	return type < VH_PROTO_TYPE_COUNT && messages[type].name ? &messages[type] : NULL;
}

bool vh_proto_msg_has(uint32_t type, uint32_t flags)
{
	const struct vh_proto_msg *m = vh_proto_msg(type);

	return m && (m->flags & flags) == flags;
}

const char *vh_proto_type_name(uint32_t type)
{
	const struct vh_proto_msg *m = vh_proto_msg(type);

	return m ? m->name : "unknown";
}

/* Version 1 had the stats layouts without their version-2 tails,
 * versions 1 and 2 host_info without its version-3 instance. */
uint32_t vh_proto_reply_size(const struct vh_proto_msg *m, uint16_t version)
{
	if (version < 3 && m->reply == VH_PROTO_REPLY_HOST_INFO)
		return VH_WIRE_HOST_INFO_V2_SIZE;
	if (version < 2 && m->reply == VH_PROTO_REPLY_VM_STATS)
		return VH_WIRE_VM_STATS_REPLY_V1_SIZE;
	return m->reply_size;
}

uint32_t vh_proto_reply_entry_size(const struct vh_proto_msg *m, uint16_t version)
{
	if (version >= 2)
		return m->reply_entry_size;
	if (m->reply == VH_PROTO_REPLY_VM_STATS)
		return VH_WIRE_VCPU_STATS_V1_SIZE;
	if (m->reply == VH_PROTO_REPLY_VM_STATS_ALL)
		return VH_WIRE_VM_STATS_V1_SIZE;
	return m->reply_entry_size;
}
