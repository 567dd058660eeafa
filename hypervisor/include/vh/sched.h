/* SPDX-License-Identifier: Apache-2.0 */
/* The proportional-share CPU scheduler with co-scheduling
 * (hypervisor/core/sched*.c).
 *
 * Every pCPU of the backend runs the same loop: ask vh_sched_next() what
 * to run, run that vCPU until the returned deadline (or until it halts,
 * yields or the pCPU is kicked), then call vh_sched_next() again saying
 * why it stopped.  The scheduler decides which vCPU, on which pCPU, for how
 * long; the backend only performs the world switch (and, when its pCPUs
 * are shared with others, says how much time they lost: vh_sched_steal). */
#ifndef VH_SCHED_H
#define VH_SCHED_H

#include "vh/resource.h"
#include "vh/stats.h"
#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_vcpu;
struct vh_error;

/* Why the previous vCPU stopped running. */
enum vh_sched_event {
	VH_SCHED_PREEMPTED, /* its quantum ended or the pCPU was kicked */
	VH_SCHED_HALTED,    /* HLT: blocks until vh_sched_wake() or wake_at */
	VH_SCHED_YIELDED,   /* gave up the rest of its quantum (PAUSE loop, hypercall) */
};

/* What a pCPU should do next. */
struct vh_sched_pick {
	struct vh_vcpu *vcpu;  /* NULL: stay idle until kicked or `until_ns` */
	uint64_t until_ns;     /* absolute end of the quantum (or of idling) */
};

/* Scheduler tunables (host-wide, set at init, changeable at run time
 * with vh_sched_set_params). */
struct vh_sched_params {
	uint64_t quantum_ns;          /* default 10 ms; 1 ms for tests */
	uint64_t limit_window_ns;     /* sliding window for limits: 1 s */
	uint64_t cosched_skew_ns;     /* relaxed co-scheduling threshold: 3 ms */
};

/* Where a vCPU stands (vh_vcpu_sched.state). */
enum vh_sched_state {
	VH_SCHED_OFF = 0,   /* its VM is not running (defined, paused, stopped) */
	VH_SCHED_READY,     /* runnable, waiting for a pCPU (in a run queue) */
	VH_SCHED_RUNNING,   /* on a pCPU */
	VH_SCHED_WAIT,      /* halted: until vh_sched_wake() or its wake_at */
	VH_SCHED_COSTOP,    /* runnable, held back by co-scheduling */
	VH_SCHED_THROTTLED, /* runnable, its VM used its limit in the window
			       (counted as ready, as ESX does) */
};

/* A node of the scheduler's indexed binary heaps (run queues, timers).
 * Embedded in the structure it stands for. */
struct vh_sched_node {
	uint32_t index; /* 1-based position in its heap; 0: not in it */
	uint8_t kind;   /* what it is embedded in (sched_internal.h) */
};

struct vh_sched_slot {
	uint64_t key; /* virtual time, or absolute ns for timers */
	struct vh_sched_node *node;
};

struct vh_sched_heap {
	struct vh_sched_slot *slots;
	uint32_t len, cap;
};

/* Per-vCPU scheduler state (owned by sched*.c). */
struct vh_vcpu_sched {
	uint64_t vtime;           /* virtual time: run time scaled by 1/weight */
	uint64_t wake_at;         /* halted with a timer: absolute ns, 0: none */
	uint64_t state_since;     /* when the current state (or run) began */
	uint64_t progress_ns;     /* guest progress for co-scheduling skew */
	uint64_t commit_ns;       /* run time promised to the limit window */
	uint64_t stolen_ns;       /* time on a pCPU its host took (vh_sched_steal):
				     counted in stats.ready_ns, not used_ns */
	int state;                /* enum vh_sched_state */
	int pcpu;                 /* where running, or -1 */
	bool wake_pending;        /* woken while running: do not block */
	bool on_credit;           /* dispatched on reservation credit */
	struct vh_sched_node qnode; /* in the shares queue */
	struct vh_sched_node rnode; /* in the reservation queue */
	struct vh_sched_node tnode; /* wake timer */
	struct vh_cpu_stats stats;
};

/* Limit accounting: run time per slot of window/VH_SCHED_LIMIT_SLOTS, the
 * newest slot included, so the sum covers the whole sliding window. */
#define VH_SCHED_LIMIT_SLOTS 64

/* Per-VM scheduler state (owned by sched*.c). */
struct vh_vm_sched {
	uint64_t shares;            /* effective VM shares */
	uint64_t inv_weight;        /* vtime per ns of run, 32.32 fixed point */
	uint64_t reservation_mhz;
	uint64_t limit_mhz;
	enum vh_cosched_mode cosched; /* effective mode */
	bool active;                /* running: its vCPUs may be queued */
	uint32_t nrunning;          /* vCPUs on pCPUs */
	/* Reservation: CPU time owed to the VM, accrued at the reserved
	 * rate, spent by running; positive credit puts its vCPUs ahead of
	 * the shares order. */
	int64_t credit_ns;
	int64_t credit_cap_ns;
	uint64_t credit_at;
	bool credit_ok;             /* its queued vCPUs are in the reserve queue */
	struct vh_sched_node credit_timer;
	/* Limit over a sliding window. */
	uint64_t limit_budget_ns;   /* per window; 0: unlimited */
	uint64_t window_slot;       /* index of the newest slot */
	uint64_t window_used_ns;    /* sum over the ring */
	uint64_t window_ring[VH_SCHED_LIMIT_SLOTS + 1];
	uint64_t committed_ns;      /* promised to running vCPUs, not yet charged */
	bool throttled;
	struct vh_sched_node throttle_timer;
	/* Strict co-scheduling: the VM's runnable vCPUs queue as one gang. */
	int gang_state;
	uint32_t gang_waiting;      /* claimed pCPUs still to arrive */
	uint64_t gang_ready_at;     /* when the last of them is due back */
	uint64_t gang_until;
	struct vh_sched_node gang_qnode, gang_rnode;
	struct vh_vm *gang_next;    /* in the host's list of gangs waiting to gather */
	bool gang_waiting_list;
	bool strict_warned;
};

struct vh_pcpu_sched {
	struct vh_vcpu *current;
	uint64_t since;             /* busy/idle accounting */
	uint64_t until;             /* end of what it was last told */
	uint64_t slice_end;         /* end of the current vCPU's quantum */
	struct vh_vcpu *assigned;   /* gang member to hand over on the next call */
	struct vh_vcpu *handed;     /* what the last vh_sched_next gave the backend */
	struct vh_vm *claim;        /* gang this pCPU is held for */
	bool claim_arrived;         /* ... and it is at the scheduler for the gang
				       (not running a victim's or a backfill slice) */
	bool kicked;                /* kicked, not yet back */
	uint32_t idle_pos;          /* 1-based position in the idle set; 0: not idle */
	uint64_t stolen_ns;         /* busy time its host took from the vCPUs it ran
				       (vh_sched_steal): busy = their used + this */
	struct vh_pcpu_stats stats;
	struct vh_pub_pcpu *pub;    /* its published record (vh/stats_pub.h), or NULL */
};

/* Host-wide scheduler state (owned by sched*.c). */
struct vh_host_sched {
	struct vh_sched_params params;
	struct vh_pcpu_sched *pcpus;
	uint32_t *idle;             /* idle pCPUs (a set, O(1) add/remove) */
	uint32_t nidle;
	struct vh_sched_heap shares_q;  /* runnable vCPUs and gangs by vtime */
	struct vh_sched_heap reserve_q; /* those of VMs with reservation credit */
	struct vh_sched_heap timers;    /* wakes, throttle ends, credit refills */
	uint64_t vclock;            /* monotonic lower bound of runnable vtimes */
	uint32_t entities;          /* vCPUs and gangs the heaps are sized for */
	unsigned watch_pcpu;        /* the pCPU that comes back for the next timer */
	uint64_t watch_until;
	bool in_next;               /* inside vh_sched_next: the caller re-plans */
	struct vh_vm *gathering;    /* the one strict gang gathering pCPUs */
	uint64_t gathering_key;
	struct vh_vm *gang_wait;    /* gangs picked while another gathered */
	uint64_t picks;
};

/* Host set-up and tear-down (called by vh_host_init/fini). */
int vh_sched_host_init(struct vh_host *h, struct vh_error *err);
void vh_sched_host_fini(struct vh_host *h);
void vh_sched_params_default(struct vh_sched_params *p);
/* Changes the tunables at run time: quantum and skew at least 10 us,
 * window at least 1 ms.  Applies from each pCPU's next decision; limit
 * windows start afresh. */
int vh_sched_set_params(struct vh_host *h, const struct vh_sched_params *p, struct vh_error *err);

/* VM lifecycle, called by vm.c with the host lock held. */
int vh_sched_vm_init(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
void vh_sched_vm_fini(struct vh_host *h, struct vh_vm *vm);
/* Start or resume: every vCPU becomes runnable. */
void vh_sched_vm_run(struct vh_host *h, struct vh_vm *vm, uint64_t now);
/* Pause or stop: no vCPU of the VM is picked again; running ones are
 * kicked off their pCPUs. */
void vh_sched_vm_park(struct vh_host *h, struct vh_vm *vm, uint64_t now);
/* Applies shares, reservation and limit within one quantum.  Admission
 * control of the reservation happens in vm.c before this is called. */
void vh_sched_set_controls(struct vh_host *h, struct vh_vm *vm, const struct vh_cpu_controls *c,
			   enum vh_cosched_mode mode, uint64_t now);

/* The per-pCPU loop (see above).  prev is what the backend ran (NULL:
 * nothing); the scheduler goes by its own record of what runs on the pCPU
 * and never reads prev, so a vCPU taken off meanwhile (its VM paused or
 * stopped, maybe undefined) is safe to report.  An idle pick's until_ns
 * is UINT64_MAX when only a kick can bring new work.  wake_at: with
 * VH_SCHED_HALTED, the absolute time of the guest's next timer, 0: none. */
struct vh_sched_pick vh_sched_next(struct vh_host *h, unsigned pcpu, uint64_t now,
				   struct vh_vcpu *prev, enum vh_sched_event why, uint64_t wake_at);
/* Steal time.  A backend that shares its CPUs with someone else (the
 * hosted daemon's worker threads, which Linux may deschedule, even inside
 * KVM_RUN) reports how much of the wall time since its previous report
 * (or the pCPU's last vh_sched_next) the pCPU did not actually run the
 * vCPU it was given: stolen_ns.  Host lock held; right before
 * vh_sched_next with the same `now`, and, if the backend likes, at any
 * moment in between (vh-hosted also reports every 5 ms from another
 * thread).  The stolen part of the vCPU's time is charged as ready time,
 * not used: it advances neither the virtual time (a vCPU gets its share of
 * the CPU that really ran it), nor the guest progress that co-scheduling
 * compares (a relaxed VM's leaders are held back for it), nor the limit
 * window, and spends no reservation credit.  It is clamped to the time
 * since the vCPU was last charged, and ignored while the pCPU is idle or
 * holds a gang member it has not been handed yet.  The pCPU counts it as
 * busy (vh_pcpu_sched.stolen_ns says how much).  A backend that owns its
 * CPUs (bare metal, the simulator) never calls it. */
void vh_sched_steal(struct vh_host *h, unsigned pcpu, uint64_t now, uint64_t stolen_ns);
/* True while a pCPU's backend may still hold one of vm's vCPUs: it was
 * handed out by vh_sched_next and that pCPU has not called again.  A VM
 * in use cannot be freed (vh_vm_undefine answers VH_E_BUSY). */
bool vh_sched_vm_in_use(struct vh_host *h, const struct vh_vm *vm, unsigned *pcpu);
/* The backend's pCPU loops have ended (shutdown): nothing is handed out. */
void vh_sched_pcpus_stopped(struct vh_host *h);

/* An interrupt for a halted vCPU (device, IPI, timer). */
void vh_sched_wake(struct vh_host *h, struct vh_vcpu *v, uint64_t now);

/* Counters up to `now` (intervals in progress included). */
void vh_sched_vcpu_stats(struct vh_host *h, struct vh_vcpu *v, uint64_t now,
			 struct vh_cpu_stats *out);
void vh_sched_vm_stats(struct vh_host *h, struct vh_vm *vm, uint64_t now, struct vh_cpu_stats *out);
void vh_sched_pcpu_stats(struct vh_host *h, unsigned pcpu, uint64_t now, struct vh_pcpu_stats *out);
/* Co-scheduling skew of a VM now: the largest difference in guest
 * progress between two of its runnable vCPUs (0 with fewer than two). */
uint64_t vh_sched_vm_skew(struct vh_host *h, struct vh_vm *vm, uint64_t now);

#endif
