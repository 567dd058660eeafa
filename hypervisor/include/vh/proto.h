/* SPDX-License-Identifier: Apache-2.0 */
/* The control protocol: versioned binary messages between a client (the
 * agent, vhctl, tests) and the hypervisor core.  docs/protocol.md is the
 * normative description of the bytes; this header is its C form.
 *
 * Every message is a 32-byte header followed by payload_len bytes of
 * payload.  All integers are little-endian, every field has an explicit
 * width, and every layout is a fixed sequence of naturally aligned fields
 * with no padding.  The `struct vh_wire_*` types below spell the layouts
 * out (their sizes and offsets are checked at compile time); they are never
 * laid over a buffer: the codec reads and writes every field with explicit
 * byte shifts at the offsets they define, so the same bytes mean the same
 * thing on any host and over any transport (AF_UNIX socket, vsock, a test
 * buffer).
 *
 * The codec (hypervisor/core/proto_codec.c) is freestanding and has no
 * state, so the agent and vhctl link it to build requests and read
 * replies; the dispatcher (proto_dispatch.c) is the hypervisor's side. */
#ifndef VH_PROTO_H
#define VH_PROTO_H

#include "vh/compiler.h"
#include "vh/error.h"
#include "vh/host.h"
#include "vh/resource.h"
#include "vh/stats.h"
#include "vh/types.h"
#include "vh/vm.h"

/* "VHCP" as bytes on the wire: 'V' 'H' 'C' 'P'. */
#define VH_PROTO_MAGIC 0x50434856u
#define VH_PROTO_VERSION 3u
/* The oldest and newest protocol versions this build understands.  A
 * reply is written in the version of its request: version 2 only grows
 * the per-VM and per-vCPU stats layouts at their end (limited time, the
 * balloon target's terms), so a version-1 peer reads what it always did;
 * version 3 grows host_info by the hypervisor's instance (an older peer
 * reads the 112 bytes it knows) and vm_config (and so vm_info) by the
 * VM's disks, which only a version-3 peer may send or read (the codec
 * refuses the rest). */
#define VH_PROTO_VERSION_MIN 1u
#define VH_PROTO_VERSION_MAX 3u

#define VH_PROTO_HEADER_SIZE 32u
/* No message (header included) is longer: transports size their buffers
 * with it and the paged replies (VM_LIST, VM_STATS_ALL) stop before it. */
#define VH_PROTO_MAX_MSG 65536u
#define VH_PROTO_MAX_PAYLOAD (VH_PROTO_MAX_MSG - VH_PROTO_HEADER_SIZE)
/* The dispatcher needs a reply buffer of at least this many bytes: every
 * reply that is not paged fits in it, and a page holds at least one entry. */
#define VH_PROTO_REPLY_MIN 8192u

/* Header flags.  Requests carry none; replies carry VH_PROTO_F_REPLY. */
#define VH_PROTO_F_REPLY 0x1u

/* Sizes of the string fields on the wire (NUL included). */
#define VH_PROTO_FIELD_MAX 64u    /* error.field */
#define VH_PROTO_VERSION_STR 32u  /* host_info.vh_version */
/* Exit counters carried per VM: one slot per enum vh_exit_kind, in that
 * enum's order; slots past VH_EXIT_KIND_COUNT are zero. */
#define VH_PROTO_EXIT_SLOTS 16u

/* Message types (enum vh_proto_type), their payload layouts and flags:
 * one row each in vh/proto_messages.h. */
#include "vh/proto_messages.h"

/* How a request names a VM. */
enum vh_proto_ref_kind {
	VH_PROTO_REF_ID = 1,
	VH_PROTO_REF_NAME = 2,
	VH_PROTO_REF_UUID = 3,
};

/* ---- wire layouts (offsets in comments; checked below) ------------------ */

struct vh_wire_header {
	uint32_t magic;       /*  0: VH_PROTO_MAGIC */
	uint16_t version;     /*  4: VH_PROTO_VERSION */
	uint16_t type;        /*  6: enum vh_proto_type */
	uint32_t flags;       /*  8: VH_PROTO_F_* */
	uint32_t status;      /* 12: reply: enum vh_errcode; request: 0 */
	uint64_t request_id;  /* 16: chosen by the client, echoed in the reply */
	uint32_t payload_len; /* 24: bytes after the header */
	uint32_t reserved;    /* 28: 0 */
};

struct vh_wire_vm_ref {
	uint32_t kind;        /*  0: enum vh_proto_ref_kind */
	uint32_t id;          /*  4: kind ID: nonzero; else 0 */
	uint8_t uuid[16];     /*  8: kind UUID: not all zero; else zero */
	char name[VH_VM_NAME_MAX]; /* 24: kind NAME: non-empty; else zero */
};

struct vh_wire_shares {
	uint32_t level;       /*  0: enum vh_shares_level */
	uint32_t custom;      /*  4: level CUSTOM: 1..1,000,000; else 0 */
};

struct vh_wire_cpu_controls {
	struct vh_wire_shares shares; /*  0 */
	uint64_t reservation_mhz;     /*  8 */
	uint64_t limit_mhz;           /* 16: VH_UNLIMITED for none */
};

struct vh_wire_mem_controls {
	struct vh_wire_shares shares; /*  0 */
	uint64_t reservation_mib;     /*  8 */
	uint64_t limit_mib;           /* 16: VH_UNLIMITED for none */
};

struct vh_wire_module {
	char image[VH_BOOT_PATH_MAX]; /*   0 */
	char args[VH_BOOT_PATH_MAX];  /* 128 */
};

struct vh_wire_device {
	uint32_t type;  /* 0: enum vh_device_type */
	uint32_t flags; /* 4: 0 */
};

struct vh_wire_disk {
	char name[VH_DISK_NAME_MAX]; /*  0: datastore disk name */
	uint32_t flags;              /* 64: VH_DISK_F_* */
	uint32_t reserved;           /* 68: 0 */
};

struct vh_wire_vm_config {
	char name[VH_VM_NAME_MAX];               /*    0 */
	uint8_t uuid[16];                        /*   64: all zero: generated */
	uint32_t vcpus;                          /*   80 */
	uint32_t cosched;                        /*   84: enum vh_cosched_mode */
	uint64_t memory_mib;                     /*   88 */
	struct vh_wire_cpu_controls cpu;         /*   96 */
	struct vh_wire_mem_controls memory;      /*  120 */
	char kernel[VH_BOOT_PATH_MAX];           /*  144 */
	char cmdline[VH_BOOT_CMDLINE_MAX];       /*  272 */
	uint32_t nmodules;                       /*  784: 0..8 */
	uint32_t ndevices;                       /*  788: 0..16 */
	struct vh_wire_module modules[VH_BOOT_MAX_MODULES]; /* 792: unused ones zero */
	struct vh_wire_device devices[VH_VM_MAX_DEVICES];   /* 2840: unused ones zero */
	char initrd[VH_BOOT_PATH_MAX];           /* 2968: image name; "" none */
	uint32_t boot_kind;                      /* 3096: enum vh_boot_kind */
	uint32_t reserved;                       /* 3100: 0 */
	uint32_t ndisks;                         /* 3104: 0..8 (version 3) */
	uint32_t reserved2;                      /* 3108: 0 */
	struct vh_wire_disk disks[VH_VM_MAX_DISKS]; /* 3112: boot order; unused ones zero */
};

/* VM_SET_CPU, VM_SET_MEM, VM_SET_BALLOON requests. */
struct vh_wire_set_cpu {
	struct vh_wire_vm_ref vm;         /*  0 */
	struct vh_wire_cpu_controls cpu;  /* 88 */
};

struct vh_wire_set_mem {
	struct vh_wire_vm_ref vm;            /*  0 */
	struct vh_wire_mem_controls memory;  /* 88 */
};

struct vh_wire_set_balloon {
	struct vh_wire_vm_ref vm; /*  0 */
	uint64_t target_mib;      /* 88: 0..memory_mib */
};

/* VM_CONSOLE request: the console stream from byte `from` on. */
struct vh_wire_console_req {
	struct vh_wire_vm_ref vm; /*   0 */
	uint64_t from;            /*  88: stream position, 0..total */
	uint32_t max_bytes;       /*  96: 0: all that is held */
	uint32_t reserved;        /* 100: 0 */
};

/* VM_LIST and VM_STATS_ALL requests. */
struct vh_wire_page_req {
	uint32_t start_id;    /* 0: first VM id wanted (0 and 1 mean "from the start") */
	uint32_t max_entries; /* 4: 0: as many as fit */
};

/* Error reply payload (header.status != 0). */
struct vh_wire_error {
	uint32_t code;                        /*  0: = header.status */
	uint32_t reserved;                    /*  4 */
	char field[VH_PROTO_FIELD_MAX];       /*  8: the field at fault, or "" */
	char reason[VH_ERROR_REASON_MAX];     /* 72: for humans */
};

struct vh_wire_host_info {
	uint16_t version_min;                 /*   0 */
	uint16_t version_max;                 /*   2 */
	uint32_t page_size;                   /*   4: bytes per *_pages counter */
	char vh_version[VH_PROTO_VERSION_STR];/*   8: vh_version(), "0.1.0" */
	uint32_t pcpus;                       /*  40 */
	uint32_t mhz_per_pcpu;                /*  44 */
	uint64_t memory_bytes;                /*  48 */
	uint64_t overhead_bytes;              /*  56 */
	uint64_t cpu_capacity_mhz;            /*  64: what reservations may use */
	uint64_t mem_capacity_mib;            /*  72 */
	uint32_t max_vms;                     /*  80 */
	uint32_t nvms;                        /*  84 */
	uint32_t max_vcpus;                   /*  88 */
	uint32_t max_modules;                 /*  92 */
	uint32_t max_devices;                 /*  96 */
	uint32_t max_msg;                     /* 100: VH_PROTO_MAX_MSG */
	uint64_t max_memory_mib;              /* 104 */
	uint64_t instance;                    /* 112: version 3 on: names this start */
};
/* host_info as versions 1 and 2 have it: without instance. */
#define VH_WIRE_HOST_INFO_V2_SIZE 112u

/* A VM's identity, state and controls: VM_LIST entries and the reply of
 * lifecycle and set-* requests. */
struct vh_wire_vm_summary {
	uint32_t id;                          /*   0 */
	uint32_t state;                       /*   4: enum vh_vm_state */
	uint8_t uuid[16];                     /*   8 */
	char name[VH_VM_NAME_MAX];            /*  24 */
	uint32_t vcpus;                       /*  88 */
	uint32_t cosched;                     /*  92 */
	uint64_t memory_mib;                  /*  96 */
	struct vh_wire_cpu_controls cpu;      /* 104 */
	struct vh_wire_mem_controls memory;   /* 128 */
	uint64_t balloon_request_pages;       /* 152: the operator's (VM_SET_BALLOON) */
	uint64_t balloon_target_pages;        /* 160: effective: max(request, limit, reclaim) */
	uint64_t state_changes;               /* 168 */
	uint32_t boot_generation;             /* 176: bumped at every power-on and reset */
	uint32_t reserved;                    /* 180 */
};

/* VM_DEFINE and VM_GET reply. */
struct vh_wire_vm_info {
	struct vh_wire_vm_summary summary;    /*   0 */
	struct vh_wire_vm_config config;      /* 184 */
	char crash_reason[VH_VM_CRASH_REASON_MAX]; /* 3872: why it crashed ("" unless crashed) */
};

struct vh_wire_cpu_stats {
	uint64_t used_ns;   /*  0 */
	uint64_t ready_ns;  /*  8 */
	uint64_t costop_ns; /* 16 */
	uint64_t wait_ns;   /* 24 */
	uint64_t runs;      /* 32 */
};

struct vh_wire_mem_stats {
	uint64_t granted_pages;  /*  0 */
	uint64_t consumed_pages; /*  8 */
	uint64_t active_pages;   /* 16 */
	uint64_t shared_pages;   /* 24 */
	uint64_t balloon_pages;  /* 32 */
	uint64_t swapped_pages;  /* 40 */
	uint64_t overhead_pages; /* 48 */
};

/* One VM's counters: VM_STATS_ALL entries and part of the VM_STATS reply. */
struct vh_wire_vm_stats {
	uint32_t id;                          /*   0 */
	uint32_t state;                       /*   4 */
	struct vh_wire_cpu_stats cpu;         /*   8: sum over the vCPUs */
	struct vh_wire_mem_stats mem;         /*  48 */
	uint64_t exits[VH_PROTO_EXIT_SLOTS];  /* 104: sum over the vCPUs */
	uint64_t console_bytes;               /* 232: written by the guest this run */
	uint64_t console_dropped;             /* 240: of them, over the console budget */
	/* Version 2 on: */
	uint64_t limited_ns;                  /* 248: of cpu.ready_ns, held back by the limit */
	uint64_t entitled_pages;              /* 256: fair share (shares, idle tax) */
	uint64_t reclaim_target_pages;        /* 264: reclaim's balloon term */
	uint64_t idle_tax_pages;              /* 272: of it, charged to idle pages */
	uint32_t balloon_reason;              /* 280: enum vh_balloon_reason */
	uint32_t admission_refusals;          /* 284: power-ons and changes refused */
	uint64_t stolen_ns;                   /* 288: of cpu.ready_ns, taken by the host */
};
/* Version 1's vh_wire_vm_stats: the same fields up to console_dropped. */
#define VH_WIRE_VM_STATS_V1_SIZE 248u

struct vh_wire_vcpu_stats {
	uint32_t index;                       /*  0 */
	uint32_t reserved;                    /*  4 */
	struct vh_wire_cpu_stats cpu;         /*  8 */
	uint64_t limited_ns;                  /* 48: version 2 on */
	uint64_t stolen_ns;                   /* 56: version 2 on */
};
#define VH_WIRE_VCPU_STATS_V1_SIZE 48u

/* VM_STATS reply: this, then nvcpus vh_wire_vcpu_stats. */
struct vh_wire_vm_stats_reply {
	uint64_t now_ns;                      /*   0: when the counters were read */
	uint32_t nvcpus;                      /*   8 */
	uint32_t reserved;                    /*  12 */
	struct vh_wire_vm_stats vm;           /*  16 */
};
#define VH_WIRE_VM_STATS_REPLY_V1_SIZE (16u + VH_WIRE_VM_STATS_V1_SIZE)

/* VM_LIST and VM_STATS_ALL replies: this, then count entries. */
struct vh_wire_page_reply {
	uint32_t total;     /*  0: VMs on the host now */
	uint32_t count;     /*  4: entries in this reply */
	uint32_t next_id;   /*  8: start_id of the next page; 0: this was the last */
	uint32_t reserved;  /* 12 */
	uint64_t now_ns;    /* 16 */
};

/* VM_CONSOLE reply: this, then len bytes of console output, stream
 * positions first..first+len.  first > the request's from: the bytes in
 * between are no longer held. */
struct vh_wire_console_reply {
	uint64_t total;     /*  0: bytes the VM has written since it was defined */
	uint64_t first;     /*  8: stream position of the first byte returned */
	uint32_t len;       /* 16 */
	uint32_t reserved;  /* 20 */
};

struct vh_wire_pcpu_stats {
	uint64_t busy_ns; /* 0 */
	uint64_t idle_ns; /* 8 */
};

/* HOST_STATS reply: this, then pcpus vh_wire_pcpu_stats. */
struct vh_wire_host_stats {
	uint64_t now_ns;            /*   0 */
	uint32_t pcpus;             /*   8 */
	uint32_t nvms;              /*  12 */
	uint32_t npowered_on;       /*  16: running or paused */
	uint32_t reserved;          /*  20 */
	uint64_t reserved_mhz;      /*  24: sum over powered-on VMs */
	uint64_t reserved_mib;      /*  32 */
	uint64_t cpu_capacity_mhz;  /*  40 */
	uint64_t mem_capacity_mib;  /*  48 */
	uint64_t busy_ns;           /*  56: sum over the pCPUs */
	uint64_t idle_ns;           /*  64 */
	uint64_t total_pages;       /*  72 */
	uint64_t free_pages;        /*  80 */
	uint64_t reserved_pages;    /*  88 */
	uint64_t shared_saved_pages;/*  96 */
};

/* STATS_MAP reply: the published counters' area (vh/stats_pub.h) that
 * the transport hands over with this reply (on a unix socket: a sealed
 * memfd in SCM_RIGHTS, to be mapped read-only). */
struct vh_wire_stats_map {
	uint32_t layout_version;    /*   0: VH_PUB_VERSION */
	uint32_t clock;             /*   4: VH_PUB_CLOCK_* */
	uint64_t size;              /*   8: bytes to map */
	uint64_t instance;          /*  16: the publisher's, as in the area's header */
};

#define VH_WIRE_CHECK_(type, size) \
	VH_STATIC_ASSERT(sizeof(struct type) == (size), #type " must be " #size " bytes")
#define VH_WIRE_AT_(type, field, off)                           \
	VH_STATIC_ASSERT(offsetof(struct type, field) == (off), \
			 #type "." #field " must be at " #off)

VH_WIRE_CHECK_(vh_wire_header, 32);
VH_WIRE_AT_(vh_wire_header, version, 4);
VH_WIRE_AT_(vh_wire_header, type, 6);
VH_WIRE_AT_(vh_wire_header, flags, 8);
VH_WIRE_AT_(vh_wire_header, status, 12);
VH_WIRE_AT_(vh_wire_header, request_id, 16);
VH_WIRE_AT_(vh_wire_header, payload_len, 24);
VH_WIRE_AT_(vh_wire_header, reserved, 28);
VH_WIRE_CHECK_(vh_wire_vm_ref, 88);
VH_WIRE_AT_(vh_wire_vm_ref, uuid, 8);
VH_WIRE_AT_(vh_wire_vm_ref, name, 24);
VH_WIRE_CHECK_(vh_wire_shares, 8);
VH_WIRE_CHECK_(vh_wire_cpu_controls, 24);
VH_WIRE_AT_(vh_wire_cpu_controls, limit_mhz, 16);
VH_WIRE_CHECK_(vh_wire_mem_controls, 24);
VH_WIRE_AT_(vh_wire_mem_controls, limit_mib, 16);
VH_WIRE_CHECK_(vh_wire_module, 256);
VH_WIRE_CHECK_(vh_wire_device, 8);
VH_WIRE_CHECK_(vh_wire_disk, 72);
VH_WIRE_CHECK_(vh_wire_vm_config, 3688);
VH_WIRE_AT_(vh_wire_vm_config, uuid, 64);
VH_WIRE_AT_(vh_wire_vm_config, vcpus, 80);
VH_WIRE_AT_(vh_wire_vm_config, cosched, 84);
VH_WIRE_AT_(vh_wire_vm_config, memory_mib, 88);
VH_WIRE_AT_(vh_wire_vm_config, cpu, 96);
VH_WIRE_AT_(vh_wire_vm_config, memory, 120);
VH_WIRE_AT_(vh_wire_vm_config, kernel, 144);
VH_WIRE_AT_(vh_wire_vm_config, cmdline, 272);
VH_WIRE_AT_(vh_wire_vm_config, nmodules, 784);
VH_WIRE_AT_(vh_wire_vm_config, ndevices, 788);
VH_WIRE_AT_(vh_wire_vm_config, modules, 792);
VH_WIRE_AT_(vh_wire_vm_config, devices, 2840);
VH_WIRE_AT_(vh_wire_vm_config, initrd, 2968);
VH_WIRE_AT_(vh_wire_vm_config, boot_kind, 3096);
VH_WIRE_AT_(vh_wire_vm_config, reserved, 3100);
VH_WIRE_AT_(vh_wire_vm_config, ndisks, 3104);
VH_WIRE_AT_(vh_wire_vm_config, disks, 3112);
VH_WIRE_CHECK_(vh_wire_set_cpu, 112);
VH_WIRE_CHECK_(vh_wire_set_mem, 112);
VH_WIRE_CHECK_(vh_wire_set_balloon, 96);
VH_WIRE_CHECK_(vh_wire_page_req, 8);
VH_WIRE_CHECK_(vh_wire_console_req, 104);
VH_WIRE_AT_(vh_wire_console_req, from, 88);
VH_WIRE_AT_(vh_wire_console_req, max_bytes, 96);
VH_WIRE_CHECK_(vh_wire_console_reply, 24);
VH_WIRE_AT_(vh_wire_console_reply, len, 16);
VH_WIRE_CHECK_(vh_wire_error, 232);
VH_WIRE_AT_(vh_wire_error, field, 8);
VH_WIRE_AT_(vh_wire_error, reason, 72);
VH_WIRE_CHECK_(vh_wire_host_info, 120);
VH_WIRE_AT_(vh_wire_host_info, instance, VH_WIRE_HOST_INFO_V2_SIZE);
VH_WIRE_AT_(vh_wire_host_info, pcpus, 40);
VH_WIRE_AT_(vh_wire_host_info, max_vms, 80);
VH_WIRE_AT_(vh_wire_host_info, max_memory_mib, 104);
VH_WIRE_CHECK_(vh_wire_vm_summary, 184);
VH_WIRE_AT_(vh_wire_vm_summary, name, 24);
VH_WIRE_AT_(vh_wire_vm_summary, vcpus, 88);
VH_WIRE_AT_(vh_wire_vm_summary, memory_mib, 96);
VH_WIRE_AT_(vh_wire_vm_summary, cpu, 104);
VH_WIRE_AT_(vh_wire_vm_summary, memory, 128);
VH_WIRE_AT_(vh_wire_vm_summary, balloon_request_pages, 152);
VH_WIRE_AT_(vh_wire_vm_summary, balloon_target_pages, 160);
VH_WIRE_AT_(vh_wire_vm_summary, boot_generation, 176);
VH_WIRE_CHECK_(vh_wire_vm_info, 4000);
VH_WIRE_AT_(vh_wire_vm_info, crash_reason, 3872);
VH_WIRE_AT_(vh_wire_vm_info, config, 184);
VH_WIRE_CHECK_(vh_wire_cpu_stats, 40);
VH_WIRE_CHECK_(vh_wire_mem_stats, 56);
VH_WIRE_CHECK_(vh_wire_vm_stats, 296);
VH_WIRE_AT_(vh_wire_vm_stats, mem, 48);
VH_WIRE_AT_(vh_wire_vm_stats, exits, 104);
VH_WIRE_AT_(vh_wire_vm_stats, console_dropped, 240);
VH_WIRE_AT_(vh_wire_vm_stats, limited_ns, VH_WIRE_VM_STATS_V1_SIZE);
VH_WIRE_AT_(vh_wire_vm_stats, balloon_reason, 280);
VH_WIRE_CHECK_(vh_wire_vcpu_stats, 64);
VH_WIRE_AT_(vh_wire_vcpu_stats, limited_ns, VH_WIRE_VCPU_STATS_V1_SIZE);
VH_WIRE_CHECK_(vh_wire_vm_stats_reply, 312);
VH_WIRE_CHECK_(vh_wire_page_reply, 24);
VH_WIRE_CHECK_(vh_wire_pcpu_stats, 16);
VH_WIRE_CHECK_(vh_wire_host_stats, 104);
VH_WIRE_CHECK_(vh_wire_stats_map, 24);
VH_WIRE_AT_(vh_wire_host_stats, busy_ns, 56);
VH_WIRE_AT_(vh_wire_host_stats, shared_saved_pages, 96);
VH_STATIC_ASSERT(VH_EXIT_KIND_COUNT <= VH_PROTO_EXIT_SLOTS, "exit kinds must fit the wire");
VH_STATIC_ASSERT(sizeof(struct vh_wire_vm_stats_reply) + VH_VM_MAX_VCPUS *
		 sizeof(struct vh_wire_vcpu_stats) + VH_PROTO_HEADER_SIZE <= VH_PROTO_REPLY_MIN,
		 "a VM_STATS reply must fit the minimum reply buffer");
VH_STATIC_ASSERT(sizeof(struct vh_wire_host_stats) +
			 VH_HOST_MAX_PCPUS * sizeof(struct vh_wire_pcpu_stats) +
			 VH_PROTO_HEADER_SIZE <=
		     VH_PROTO_REPLY_MIN,
		 "a HOST_STATS reply must fit the minimum reply buffer");
VH_STATIC_ASSERT(sizeof(struct vh_wire_vm_info) + VH_PROTO_HEADER_SIZE <= VH_PROTO_REPLY_MIN,
		 "a VM_GET reply must fit the minimum reply buffer");
VH_STATIC_ASSERT(sizeof(struct vh_wire_console_reply) + VH_CONSOLE_TAIL_BYTES +
			 VH_PROTO_HEADER_SIZE <=
		     VH_PROTO_REPLY_MIN,
		 "a VM_CONSOLE reply must fit the minimum reply buffer");

/* ---- decoded (host-side) forms ------------------------------------------- */

struct vh_proto_header {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t flags;
	uint32_t status;
	uint64_t request_id;
	uint32_t payload_len;
	uint32_t reserved;
};

struct vh_proto_vm_ref {
	uint32_t kind; /* enum vh_proto_ref_kind */
	uint32_t id;
	uint8_t uuid[16];
	char name[VH_VM_NAME_MAX];
};

struct vh_proto_page_req {
	uint32_t start_id;
	uint32_t max_entries;
};

struct vh_proto_console_req {
	uint64_t from;
	uint32_t max_bytes;
};

struct vh_proto_request {
	uint16_t type; /* enum vh_proto_type */
	uint16_t version; /* decoded: the header's; encoded: always VH_PROTO_VERSION */
	uint64_t request_id;
	/* The VM addressed: UNDEFINE, GET, START..RESET, SET_*, VM_STATS,
	 * VM_CONSOLE. */
	struct vh_proto_vm_ref vm;
	union {
		struct vh_vm_config define;    /* VM_DEFINE */
		struct vh_cpu_controls cpu;    /* VM_SET_CPU */
		struct vh_mem_controls mem;    /* VM_SET_MEM */
		uint64_t balloon_target_mib;   /* VM_SET_BALLOON */
		struct vh_proto_page_req page; /* VM_LIST, VM_STATS_ALL */
		struct vh_proto_console_req console; /* VM_CONSOLE */
	} u;
};

struct vh_proto_error {
	uint32_t code; /* enum vh_errcode */
	char field[VH_PROTO_FIELD_MAX];
	char reason[VH_ERROR_REASON_MAX];
};

struct vh_proto_host_info {
	uint16_t version_min, version_max;
	uint32_t page_size;
	char vh_version[VH_PROTO_VERSION_STR];
	uint32_t pcpus, mhz_per_pcpu;
	uint64_t memory_bytes, overhead_bytes;
	uint64_t cpu_capacity_mhz, mem_capacity_mib;
	uint32_t max_vms, nvms;
	uint32_t max_vcpus, max_modules, max_devices, max_msg;
	uint64_t max_memory_mib;
	/* This start of the hypervisor (vh_host_config.instance); decoded
	 * from a version-1 or -2 reply: 0. */
	uint64_t instance;
};

struct vh_proto_vm_summary {
	uint32_t id;
	uint32_t state; /* enum vh_vm_state */
	uint8_t uuid[16];
	char name[VH_VM_NAME_MAX];
	uint32_t vcpus;
	uint32_t cosched; /* enum vh_cosched_mode */
	uint64_t memory_mib;
	struct vh_cpu_controls cpu;
	struct vh_mem_controls mem;
	uint64_t balloon_request_pages;
	uint64_t balloon_target_pages;
	uint64_t state_changes;
	uint32_t boot_generation;
};

struct vh_proto_vm_info {
	struct vh_proto_vm_summary summary;
	struct vh_vm_config config;
	char crash_reason[VH_VM_CRASH_REASON_MAX];
};

struct vh_proto_vm_stats {
	uint32_t id;
	uint32_t state;
	struct vh_cpu_stats cpu;
	struct vh_mem_stats mem;
	uint64_t exits[VH_PROTO_EXIT_SLOTS];
	uint64_t console_bytes, console_dropped;
	uint32_t admission_refusals; /* version 2 */
};

struct vh_proto_vcpu_stats {
	uint32_t index;
	struct vh_cpu_stats cpu;
};

struct vh_proto_page_reply {
	uint32_t total, count, next_id;
	uint64_t now_ns;
};

struct vh_proto_console_reply {
	uint64_t total, first;
	uint32_t len; /* the bytes are r->entries, r->nentries == len */
};

struct vh_proto_stats_map {
	uint32_t layout_version, clock;
	uint64_t size, instance;
};

struct vh_proto_host_stats {
	uint64_t now_ns;
	uint32_t pcpus, nvms, npowered_on;
	uint64_t reserved_mhz, reserved_mib;
	uint64_t cpu_capacity_mhz, mem_capacity_mib;
	uint64_t busy_ns, idle_ns;
	struct vh_host_mem_stats mem;
};

/* A decoded reply.  Arrays (vCPUs, pCPUs, page entries) stay in the
 * message buffer: read them with vh_proto_reply_entry_*() below while the
 * buffer lives. */
struct vh_proto_reply {
	struct vh_proto_header hdr;
	union {
		struct vh_proto_error error;           /* hdr.status != VH_OK */
		struct vh_proto_host_info host_info;   /* HOST_INFO */
		struct vh_proto_host_stats host_stats; /* HOST_STATS */
		struct vh_proto_vm_info vm_info;       /* VM_DEFINE, VM_GET */
		struct vh_proto_vm_summary vm;         /* START..RESET, SET_* */
		struct {
			uint64_t now_ns;
			struct vh_proto_vm_stats vm;
		} vm_stats;                            /* VM_STATS */
		struct vh_proto_page_reply page;       /* VM_LIST, VM_STATS_ALL */
		struct vh_proto_console_reply console; /* VM_CONSOLE */
		struct vh_proto_stats_map stats_map;   /* STATS_MAP */
	} u;                                           /* VM_UNDEFINE: none */
	const uint8_t *entries; /* the array after the fixed part */
	uint32_t nentries;      /* vCPUs, pCPUs, page entries or console bytes */
};

/* ---- API ----------------------------------------------------------------- */

/* One message as vh/proto_messages.h describes it, with the sizes its
 * layouts have on the wire. */
struct vh_proto_msg {
	uint16_t type;                    /* enum vh_proto_type */
	const char *name;                 /* "vm_define" */
	enum vh_proto_req_layout request;
	enum vh_proto_reply_layout reply;
	uint32_t flags;                   /* VH_PROTO_MSG_* */
	uint32_t request_size;            /* payload bytes of the request */
	uint32_t reply_size;              /* the reply's fixed part */
	uint32_t reply_entry_size;        /* bytes per array entry after it; 0: none */
};

/* A reply's fixed part and array entry size in a protocol version (the
 * table's sizes are the newest version's). */
uint32_t vh_proto_reply_size(const struct vh_proto_msg *m, uint16_t version);
uint32_t vh_proto_reply_entry_size(const struct vh_proto_msg *m, uint16_t version);

/* The message of that type; NULL for a type no row describes. */
const struct vh_proto_msg *vh_proto_msg(uint32_t type);
/* Whether the type is known and carries every flag in `flags`. */
bool vh_proto_msg_has(uint32_t type, uint32_t flags);

/* Stable lower-case name of a message type ("vm_define"), "unknown"
 * otherwise. */
const char *vh_proto_type_name(uint32_t type);

/* For stream transports: how many bytes the whole message starting at buf
 * has.  With fewer than VH_PROTO_HEADER_SIZE bytes it asks for the header
 * (*total = VH_PROTO_HEADER_SIZE); then header plus payload_len.  Fails
 * with VH_E_PROTO when the magic is wrong or payload_len is above
 * VH_PROTO_MAX_PAYLOAD: the stream is out of step and should be closed. */
int vh_proto_frame_len(const void *buf, size_t len, size_t *total, struct vh_error *err);

/* Requests (client side).  The encoder writes canonical bytes: every
 * field the request uses verbatim (even out of range: judging values is
 * the hypervisor's job), every field it does not use (reference fields of
 * another kind, custom shares below a preset level, array slots past the
 * count, reserved fields) as zero.  A string is written up to its field's
 * size; one that fills the field has no NUL and is refused by the
 * hypervisor.  Fails with VH_E_INVAL for an unknown type and VH_E_LIMIT
 * when cap is too small; *len is the message length. */
int vh_proto_encode_request(const struct vh_proto_request *req, void *buf, size_t cap,
			    size_t *len, struct vh_error *err);

/* Requests (hypervisor side): checks the header (length, magic, version,
 * flags, status, reserved, type, payload length for the type) and every
 * payload field that the wire defines (enums in range, strings
 * NUL-terminated within their field with zero bytes after the NUL, counts
 * within their arrays, unused and reserved fields zero).  Range checks that
 * depend on the host (vCPUs, memory, admission) are the VM API's.  On
 * failure the reason starts with the field at fault ("vm.kind: ...").
 * *req is filled as far as the header could be read (type, request_id),
 * so that an error reply can echo them. */
int vh_proto_decode_request(const void *buf, size_t len, struct vh_proto_request *req,
			    struct vh_error *err);

/* Replies (client side): checks the header (magic, version, the reply
 * flag, payload length) and the payload's length for the type and status,
 * array counts against the length, and that strings are terminated.  For
 * an error reply r->u.error holds the code, field and reason. */
int vh_proto_decode_reply(const void *buf, size_t len, struct vh_proto_reply *r,
			  struct vh_error *err);
/* Entry i of a reply's array; VH_E_INVAL when the reply has no such array
 * or i >= r->nentries. */
int vh_proto_reply_vcpu(const struct vh_proto_reply *r, uint32_t i,
			struct vh_proto_vcpu_stats *out);
int vh_proto_reply_pcpu(const struct vh_proto_reply *r, uint32_t i, struct vh_pcpu_stats *out);
int vh_proto_reply_vm_summary(const struct vh_proto_reply *r, uint32_t i,
			      struct vh_proto_vm_summary *out);
int vh_proto_reply_vm_stats(const struct vh_proto_reply *r, uint32_t i,
			    struct vh_proto_vm_stats *out);

/* Record codecs: each writes or reads exactly sizeof(struct vh_wire_X)
 * bytes at p (any alignment).  The writers follow the canonical rules of
 * vh_proto_encode_request; the readers do not judge values (the decoders
 * above do).  The dispatcher builds its replies with them; clients and
 * tests may too. */
void vh_proto_put_header(void *p, const struct vh_proto_header *h);
void vh_proto_get_header(const void *p, struct vh_proto_header *h);
void vh_proto_put_vm_ref(void *p, const struct vh_proto_vm_ref *r);
void vh_proto_put_vm_config(void *p, const struct vh_vm_config *c);
void vh_proto_put_error(void *p, const struct vh_proto_error *e);
void vh_proto_put_host_info(void *p, const struct vh_proto_host_info *hi, uint16_t version);
void vh_proto_put_host_stats(void *p, const struct vh_proto_host_stats *hs);
void vh_proto_put_pcpu_stats(void *p, const struct vh_pcpu_stats *s);
void vh_proto_put_vm_summary(void *p, const struct vh_proto_vm_summary *s);
void vh_proto_put_vm_stats(void *p, const struct vh_proto_vm_stats *s, uint16_t version);
/* The fixed part of a VM_STATS reply (struct vh_wire_vm_stats_reply). */
void vh_proto_put_vm_stats_reply(void *p, uint64_t now_ns, uint32_t nvcpus,
				 const struct vh_proto_vm_stats *s, uint16_t version);
void vh_proto_put_vcpu_stats(void *p, const struct vh_proto_vcpu_stats *s, uint16_t version);
void vh_proto_put_page_reply(void *p, const struct vh_proto_page_reply *pg);
void vh_proto_put_console_reply(void *p, const struct vh_proto_console_reply *c);
void vh_proto_put_stats_map(void *p, const struct vh_proto_stats_map *m);

/* The hypervisor side: decodes and validates the request in req (see
 * vh_proto_decode_request), performs it under the host lock (taken here:
 * the caller must not hold it) and writes the reply (at most
 * min(reply_cap, VH_PROTO_MAX_MSG) bytes) to reply.  Every request gets a
 * reply, carrying its type and request id whenever the request held a
 * whole header (0 and 0 otherwise); a refused request changes nothing.
 * Returns the reply's status (VH_OK or the error code) with *reply_len
 * set, or VH_E_INVAL with *reply_len = 0 and nothing written when
 * reply_cap < VH_PROTO_REPLY_MIN.  reply may be the same buffer as req:
 * the request is read whole before the reply is written.  Uses about
 * 4 KiB of stack. */
int vh_proto_dispatch(struct vh_host *h, const void *req, size_t req_len, void *reply,
		      size_t reply_cap, size_t *reply_len);

#endif
