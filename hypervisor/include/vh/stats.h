/* SPDX-License-Identifier: Apache-2.0 */
/* Counters, in ESX's vocabulary so dashboards map one to one. */
#ifndef VH_STATS_H
#define VH_STATS_H

#include "vh/types.h"

/* CPU time of a vCPU (or the sum over a VM's vCPUs), nanoseconds. */
struct vh_cpu_stats {
	uint64_t used_ns;   /* running on a pCPU */
	uint64_t ready_ns;  /* runnable, waiting for a pCPU */
	uint64_t costop_ns; /* held back by co-scheduling while runnable */
	uint64_t wait_ns;   /* halted, waiting for an interrupt or timer */
	uint64_t runs;      /* times dispatched onto a pCPU */
	uint64_t limited_ns; /* of ready_ns, held back by the VM's own limit (ESX's %MLMTD) */
	uint64_t stolen_ns;  /* of ready_ns, taken by the pCPU's host (vh-hosted: Linux) */
};

/* Adds d ns in scheduler state `state` (enum vh_sched_state) to the
 * counter that state counts in (throttled: ready and limited). */
void vh_cpu_stats_add_state(struct vh_cpu_stats *st, int state, uint64_t d);

struct vh_pcpu_stats {
	uint64_t busy_ns;
	uint64_t idle_ns;
};

/* Memory of a VM, in 4 KiB pages. */
struct vh_mem_stats {
	uint64_t granted;  /* guest pages backed by a frame (private or shared) */
	uint64_t consumed; /* host frames charged to the VM (shared frames split) */
	uint64_t active;   /* estimate from sampling */
	uint64_t shared;   /* guest pages mapped to a shared frame */
	uint64_t balloon;  /* pages the guest handed back through the balloon */
	uint64_t swapped;  /* pages swapped out by the hypervisor */
	uint64_t overhead; /* hypervisor metadata for this VM */
	/* Why the balloon target is what it is (core/mem/reclaim.c, balloon.c): */
	uint64_t entitled;       /* fair share from shares and the idle-memory tax */
	uint64_t reclaim_target; /* reclaim's term of the target (0 without pressure) */
	uint64_t idle_tax;       /* of reclaim_target, pages the idle-memory tax took */
	uint32_t balloon_reason; /* enum vh_balloon_reason: the term that set the target */
};

/* Which term of the balloon target decided it. */
enum vh_balloon_reason {
	VH_BALLOON_NONE = 0,        /* target 0: nothing asks for memory back */
	VH_BALLOON_REQUEST = 1,     /* the operator's request */
	VH_BALLOON_LIMIT = 2,       /* the memory limit below the configured size */
	VH_BALLOON_RECLAIM = 3,     /* host memory pressure: held above entitlement */
	VH_BALLOON_RESERVATION = 4, /* capped so the reservation stays usable */
};
/* Stable lower-case name ("reclaim"); "unknown" past the enum. */
const char *vh_balloon_reason_name(uint32_t reason);

struct vh_host_mem_stats {
	uint64_t total;        /* frames given to the core */
	uint64_t free;         /* frames not in use */
	uint64_t reserved;     /* frames held for reservations */
	uint64_t shared_saved; /* frames saved by page sharing */
};

/* What the guest did through its devices and hypercalls (per VM; kept by
 * hypervisor/devices/ and hypervisor/core/hypercall.c, io_unhandled by
 * the backends).  Cleared at power-on. */
struct vh_guest_stats {
	bool exited;             /* the guest wrote isa-debug-exit */
	uint32_t exit_code;      /* then: (value << 1) | 1, as QEMU exits */
	uint64_t console_bytes;  /* UART and console hypercall output */
	uint64_t console_dropped; /* of them, over the console budget: discarded */
	uint64_t io_unhandled;   /* port and MMIO accesses no device took */
	uint64_t hypercalls;     /* calls made */
	uint64_t hypercall_errors; /* of them, answered with an error */
	uint64_t resets;         /* the guest's reboots (ACPI reset register, i8042 0xfe) */
	uint64_t poweroffs;      /* the guest's power offs (ACPI S5) */
};

/* Why a vCPU left the guest, across backends.  Backends map their own
 * exit reasons (VMX basic exit reasons, KVM exit codes) onto these. */
enum vh_exit_kind {
	VH_EXIT_EXTERNAL_INTERRUPT,
	VH_EXIT_PREEMPTION_TIMER,
	VH_EXIT_HLT,
	VH_EXIT_IO,
	VH_EXIT_MMIO,
	VH_EXIT_CPUID,
	VH_EXIT_MSR,
	VH_EXIT_CR_ACCESS,
	VH_EXIT_XSETBV,
	VH_EXIT_EPT_VIOLATION,
	VH_EXIT_HYPERCALL,
	VH_EXIT_EXCEPTION,
	VH_EXIT_TRIPLE_FAULT,
	VH_EXIT_OTHER,
	VH_EXIT_KIND_COUNT
};

/* Stable lower-case name of an exit kind ("io", "ept_violation"). */
const char *vh_exit_kind_name(enum vh_exit_kind kind);

#endif
