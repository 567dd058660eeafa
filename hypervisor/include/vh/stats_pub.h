/* SPDX-License-Identifier: Apache-2.0 */
/* Published counters: the host's and every VM's counters in memory a
 * reader maps read-only, so a monitoring request costs no protocol round
 * trip and no host lock (docs/protocol.md, "Published counters", is the
 * normative description; this header is its C form).
 *
 * The publisher (the core, hypervisor/core/stats_pub.c) writes records in
 * place; a reader (vhagent, tests; stats_read.c in libvhproto.a) copies a
 * record out under its sequence counter: the writer makes the counter odd,
 * writes, makes it even again; a reader that saw an odd counter or a
 * different one after its copy tries again, a bounded number of times.
 * One writer per record at a time (the core writes under the host lock).
 *
 * Unlike the wire layouts these are host-endian and read in place (the
 * publisher and its readers share a machine: vh-hosted and its agent, or
 * later the bare-metal kernel and its service VM); every field still has
 * an explicit width, natural alignment and no padding, and the offsets are
 * checked below.  Freestanding: no libc. */
#ifndef VH_STATS_PUB_H
#define VH_STATS_PUB_H

#include "vh/compiler.h"
#include "vh/proto.h"
#include "vh/types.h"
#include "vh/vm.h"

#define VH_PUB_MAGIC 0x54535056u /* "VPST" as bytes */
/* Bumped when a field changes meaning or moves; new fields go at the end
 * of a record, whose size the header states, so an older reader keeps
 * reading what it knows. */
#define VH_PUB_VERSION 1u
/* header.clock: the time base of every *_since_ns and heartbeat_ns. */
#define VH_PUB_CLOCK_MONOTONIC 1u /* Linux CLOCK_MONOTONIC of the publisher's host */
/* header.msgs has a slot per protocol message type (value < slots). */
#define VH_PUB_MSG_SLOTS 32u

struct vh_pub_header {
	uint32_t magic;           /*   0: VH_PUB_MAGIC */
	uint32_t version;         /*   4: VH_PUB_VERSION */
	uint64_t size;            /*   8: bytes of the whole area */
	uint64_t instance;        /*  16: the host's (vh_host_config.instance) */
	uint32_t clock;           /*  24: VH_PUB_CLOCK_* */
	uint32_t max_vms;         /*  28: VM slots */
	uint32_t max_vcpus;       /*  32: vCPU records per VM slot */
	uint32_t max_pcpus;       /*  36: pCPU records */
	uint32_t host_size;       /*  40: bytes of struct vh_pub_host */
	uint32_t pcpu_size;       /*  44: bytes of struct vh_pub_pcpu */
	uint32_t vm_size;         /*  48: bytes of struct vh_pub_vm */
	uint32_t vcpu_size;       /*  52: bytes of struct vh_pub_vcpu */
	uint64_t host_off;        /*  56: the host record */
	uint64_t pcpu_off;        /*  64: max_pcpus pCPU records */
	uint64_t vm_off;          /*  72: max_vms VM slots */
	uint64_t vm_stride;       /*  80: bytes per VM slot: the VM, then max_vcpus vCPUs */
	uint64_t generation;      /*  88: odd while a VM slot changes hands, bumped twice each */
	uint64_t heartbeat_ns;    /*  96: the publisher's last tick (clock) */
	uint32_t closed;          /* 104: 1: the publisher stopped; the counters are final */
	uint32_t reserved;        /* 108 */
	uint64_t msgs[VH_PUB_MSG_SLOTS]; /* 112: protocol messages answered, per type */
};

/* The host: HOST_INFO's and HOST_STATS's fields but the pCPU times. */
struct vh_pub_host {
	uint64_t seq;                 /*   0 */
	uint32_t pcpus;               /*   8 */
	uint32_t mhz_per_pcpu;        /*  12 */
	uint64_t memory_bytes;        /*  16 */
	uint64_t overhead_bytes;      /*  24 */
	uint64_t cpu_capacity_mhz;    /*  32 */
	uint64_t mem_capacity_mib;    /*  40 */
	uint32_t max_vms;             /*  48 */
	uint32_t nvms;                /*  52 */
	uint32_t npowered_on;         /*  56 */
	uint32_t page_size;           /*  60 */
	uint64_t reserved_mhz;        /*  64 */
	uint64_t reserved_mib;        /*  72 */
	uint64_t total_pages;         /*  80 */
	uint64_t free_pages;          /*  88 */
	uint64_t reserved_pages;      /*  96 */
	uint64_t shared_saved_pages;  /* 104 */
	char vh_version[VH_PROTO_VERSION_STR]; /* 112 */
	uint16_t version_min;         /* 144: protocol versions spoken */
	uint16_t version_max;         /* 146 */
	uint32_t max_vcpus;           /* 148 */
	uint32_t max_modules;         /* 152 */
	uint32_t max_devices;         /* 156 */
	uint32_t max_msg;             /* 160 */
	uint32_t reserved;            /* 164 */
	uint64_t max_memory_mib;      /* 168 */
};

/* A pCPU: settled busy and idle time, and since when it is in its
 * current one (the reader adds now - since_ns to it). */
struct vh_pub_pcpu {
	uint64_t seq;       /*  0 */
	uint64_t busy_ns;   /*  8 */
	uint64_t idle_ns;   /* 16 */
	uint64_t since_ns;  /* 24 */
	uint32_t busy;      /* 32: 1: running a vCPU since since_ns */
	uint32_t reserved;  /* 36 */
};

/* A vCPU: its settled times, its scheduler state (enum vh_sched_state)
 * and since when, so a reader adds now - since_ns to that state's time:
 * a running vCPU's used time grows between two reads without the
 * publisher writing.  Steal time is settled by the publisher (it moves
 * used time to ready and restarts since_ns), never by a reader.  The
 * exit counters are those of the vCPU's last state change (at most one
 * quantum behind). */
struct vh_pub_vcpu {
	uint64_t seq;        /*   0 */
	uint32_t state;      /*   8: enum vh_sched_state */
	uint32_t reserved;   /*  12 */
	uint64_t since_ns;   /*  16 */
	uint64_t used_ns;    /*  24 */
	uint64_t ready_ns;   /*  32 */
	uint64_t costop_ns;  /*  40 */
	uint64_t wait_ns;    /*  48 */
	uint64_t runs;       /*  56 */
	uint64_t limited_ns; /*  64 */
	uint64_t stolen_ns;  /*  72 */
	uint64_t exits[VH_PROTO_EXIT_SLOTS]; /* 80 */
};

/* A VM slot: id 0 means free.  VM_LIST's summary and VM_STATS's
 * counters but the CPU times, which are the sum of its vCPU records. */
struct vh_pub_vm {
	uint64_t seq;                    /*   0 */
	uint32_t id;                     /*   8 */
	uint32_t state;                  /*  12: enum vh_vm_state */
	uint8_t uuid[16];                /*  16 */
	char name[VH_VM_NAME_MAX];       /*  32 */
	uint32_t vcpus;                  /*  96 */
	uint32_t cosched;                /* 100 */
	uint64_t memory_mib;             /* 104 */
	uint32_t cpu_shares_level;       /* 112 */
	uint32_t cpu_shares_custom;      /* 116 */
	uint64_t cpu_reservation_mhz;    /* 120 */
	uint64_t cpu_limit_mhz;          /* 128 */
	uint32_t mem_shares_level;       /* 136 */
	uint32_t mem_shares_custom;      /* 140 */
	uint64_t mem_reservation_mib;    /* 144 */
	uint64_t mem_limit_mib;          /* 152 */
	uint64_t balloon_request_pages;  /* 160 */
	uint64_t balloon_target_pages;   /* 168 */
	uint64_t state_changes;          /* 176 */
	uint32_t boot_generation;        /* 184 */
	uint32_t admission_refusals;     /* 188 */
	uint64_t granted_pages;          /* 192 */
	uint64_t consumed_pages;         /* 200 */
	uint64_t active_pages;           /* 208 */
	uint64_t shared_pages;           /* 216 */
	uint64_t balloon_pages;          /* 224 */
	uint64_t swapped_pages;          /* 232 */
	uint64_t overhead_pages;         /* 240 */
	uint64_t entitled_pages;         /* 248 */
	uint64_t reclaim_target_pages;   /* 256 */
	uint64_t idle_tax_pages;         /* 264 */
	uint32_t balloon_reason;         /* 272 */
	uint32_t reserved;               /* 276 */
	uint64_t console_bytes;          /* 280 */
	uint64_t console_dropped;        /* 288 */
};

#define VH_PUB_CHECK_(type, size) \
	VH_STATIC_ASSERT(sizeof(struct type) == (size), #type " must be " #size " bytes")
#define VH_PUB_AT_(type, field, off) \
	VH_STATIC_ASSERT(offsetof(struct type, field) == (off), #type "." #field " at " #off)
VH_PUB_CHECK_(vh_pub_header, 368);
VH_PUB_AT_(vh_pub_header, generation, 88);
VH_PUB_AT_(vh_pub_header, msgs, 112);
VH_PUB_CHECK_(vh_pub_host, 176);
VH_PUB_AT_(vh_pub_host, max_memory_mib, 168);
VH_PUB_AT_(vh_pub_host, vh_version, 112);
VH_PUB_CHECK_(vh_pub_pcpu, 40);
VH_PUB_CHECK_(vh_pub_vcpu, 208);
VH_PUB_AT_(vh_pub_vcpu, exits, 80);
VH_PUB_CHECK_(vh_pub_vm, 296);
VH_PUB_AT_(vh_pub_vm, name, 32);
VH_PUB_AT_(vh_pub_vm, granted_pages, 192);
VH_PUB_AT_(vh_pub_vm, console_dropped, 288);
VH_STATIC_ASSERT(VH_PROTO_TYPE_COUNT <= VH_PUB_MSG_SLOTS, "message types must fit header.msgs");

/* ---- the publisher (hypervisor/core/stats_pub.c, under the host lock) --- */

struct vh_host;

/* Bytes an area for this host needs (its max_vms and pcpus). */
size_t vh_pub_area_size(const struct vh_host *h);
/* Lays the header out in area (zeroed, vh_pub_area_size bytes, 8-byte
 * aligned), publishes the host and every VM, and keeps publishing into it
 * from now on.  -1 when area is too small. */
int vh_pub_attach(struct vh_host *h, void *area, size_t size, uint32_t clock);
/* Marks the area closed (the counters are final) and stops publishing. */
void vh_pub_detach(struct vh_host *h);
/* The host record, the pCPUs and every VM record (the backend's periodic
 * tick: memory counters, console bytes); also the heartbeat.  vCPU
 * records are the scheduler's (vh_pub_vcpu at every state change). */
void vh_pub_tick(struct vh_host *h, uint64_t now);
void vh_pub_host(struct vh_host *h);
void vh_pub_vm(struct vh_host *h, struct vh_vm *vm);
/* A VM took or left slot (vm->pub follows). */
void vh_pub_vm_added(struct vh_host *h, struct vh_vm *vm, uint32_t slot);
void vh_pub_vm_removed(struct vh_host *h, struct vh_vm *vm);
/* The scheduler's hooks: a vCPU's times or state changed; a pCPU's.
 * Inline tests, so a backend that publishes nothing (bare metal, for
 * now) pays a branch on its exit path, not a call. */
void vh_pub_vcpu_write(struct vh_vcpu *v);
void vh_pub_pcpu_write(struct vh_pcpu_sched *pc);
static inline void vh_pub_vcpu(struct vh_vcpu *v)
{
	if (v->pub)
		vh_pub_vcpu_write(v);
}
static inline void vh_pub_pcpu(struct vh_pcpu_sched *pc)
{
	if (pc->pub)
		vh_pub_pcpu_write(pc);
}
/* The dispatcher's HOST_INFO, and HOST_STATS but the pCPUs' times at now
 * (proto_dispatch.c): the publisher writes the same values. */
void vh_proto_host_info_of(const struct vh_host *h, struct vh_proto_host_info *hi);
void vh_proto_host_stats_of(struct vh_host *h, uint64_t now, struct vh_proto_host_stats *hs);
/* A protocol message of this type was answered. */
void vh_pub_msg(struct vh_host *h, uint32_t type);

/* ---- a reader (hypervisor/core/stats_read.c, in libvhproto.a) ---------- */

/* Where the records are: the header's layout as vh_pub_open read and
 * checked it.  Readers use this copy, never the live header, so a
 * publisher that rewrote its header later could not send them outside
 * the area. */
struct vh_pub_layout {
	uint64_t host_off, pcpu_off, vm_off, vm_stride;
	uint32_t max_vms, max_vcpus, max_pcpus;
	uint32_t pcpu_size, vm_size, vcpu_size;
};

/* A mapped area, checked once by vh_pub_open. */
struct vh_pub_view {
	const uint8_t *base;
	size_t size;
	const struct vh_pub_header *hdr; /* live: generation, heartbeat, closed, msgs */
	struct vh_pub_layout lay;
	uint32_t retries; /* reads that had to try again (diagnostics) */
};

/* How many times a read copies a record that keeps changing before it
 * gives up (VH_E_BUSY: the caller falls back to the protocol). */
#define VH_PUB_READ_TRIES 1000u

/* Checks the header of a size-byte area (magic, version, clock, record
 * sizes, every record inside it).  VH_OK or VH_E_PROTO with err set. */
int vh_pub_open(struct vh_pub_view *v, const void *base, size_t size, struct vh_error *err);
bool vh_pub_live(const struct vh_pub_view *v); /* not closed */
uint64_t vh_pub_generation(const struct vh_pub_view *v);
uint64_t vh_pub_msgs(const struct vh_pub_view *v, uint32_t type);
/* HOST_INFO and HOST_STATS as the protocol would answer at now (pcpus:
 * up to max_pcpus pCPUs' times, may be NULL). */
int vh_pub_read_host(struct vh_pub_view *v, uint64_t now, struct vh_proto_host_info *hi,
		     struct vh_proto_host_stats *hs, struct vh_pcpu_stats *pcpus,
		     uint32_t max_pcpus, uint32_t *npcpus);
/* Slot's VM as VM_LIST's summary and VM_STATS's counters at now (vcpus:
 * VH_VM_MAX_VCPUS entries or NULL).  VH_E_NOENT for a free slot. */
int vh_pub_read_vm(struct vh_pub_view *v, uint32_t slot, uint64_t now,
		   struct vh_proto_vm_summary *s, struct vh_proto_vm_stats *st,
		   struct vh_proto_vcpu_stats *vcpus, uint32_t *nvcpus);
/* The slot holding the VM a reference names (id, name or uuid), or -1. */
int vh_pub_find(struct vh_pub_view *v, const struct vh_proto_vm_ref *ref);
/* Does slot hold the VM ref names (a remembered vh_pub_find answer)? */
bool vh_pub_slot_is(struct vh_pub_view *v, uint32_t slot, const struct vh_proto_vm_ref *ref);
/* A slot's id without a consistent read (0: free): for scans. */
uint32_t vh_pub_slot_id(const struct vh_pub_view *v, uint32_t slot);

#endif
