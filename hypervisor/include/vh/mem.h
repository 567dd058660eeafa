/* SPDX-License-Identifier: Apache-2.0 */
/* The memory manager (hypervisor/core/mem/): host frames, guest-
 * physical maps filled on first touch, reservations and limits, shares
 * with an idle-memory tax, ballooning and transparent page sharing. */
#ifndef VH_MEM_H
#define VH_MEM_H

#include "vh/layout.h"
#include "vh/resource.h"
#include "vh/stats.h"
#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_error;

/* Guest access that faulted. */
enum vh_mem_access {
	VH_MEM_READ = 1,
	VH_MEM_WRITE = 2,
	VH_MEM_EXEC = 4,
};

/* What the backend does after vh_mem_fault(). */
enum vh_fault_result {
	VH_FAULT_MAPPED,     /* the mapping is in place: resume the guest */
	VH_FAULT_BALLOONED,  /* the guest touched a page it ballooned: mapped
	                        again (counted), resume */
	VH_FAULT_NO_MEMORY,  /* growth refused: the VM is at its entitlement and
	                        the host is short; the VM is told (see docs) */
	VH_FAULT_BAD_ADDRESS /* not RAM in the VM's layout (the 32-bit hole, or
	                        above its memory): device MMIO or a bug in the
	                        guest; the backend decides */
};

/* Memory tunables (host-wide).  Read live: a change applies at the next
 * vh_mem_tick(). */
struct vh_mem_params {
	uint32_t idle_tax_percent;      /* default 75; 0..100 */
	uint32_t sample_pages;          /* pages sampled per VM per period: 100 */
	uint64_t sample_period_ns;      /* 30 s in production, less in tests */
	uint64_t scan_pages_per_sec;    /* page-sharing scan rate ceiling; 0: off */
	uint64_t scan_pages_per_ghz;    /* and per GHz of host CPU capacity
	                                   (ESX's Mem.ShareScanGHz); 0: no bound */
	uint64_t scan_pass_min_ns;      /* a new scan pass starts at most this
	                                   often (default 1 s) */
	uint32_t low_free_percent;      /* start ballooning below this: 6 */
	uint32_t min_free_percent;      /* refuse growth beyond entitlement: 2 */
	uint64_t reclaim_period_ns;     /* entitlements and balloon targets: 1 s */
};

/* Per-VM memory state (owned by hypervisor/core/mem/).  Page counts are
 * 4 KiB pages. */
struct vh_vm_mem {
	void *p2m;                 /* root of the guest-physical map (p2m.c) */
	uint32_t p2m_levels;       /* radix levels, 9 bits of gfn each */
	uint32_t slot;             /* index in h->mem.vms (owner of a frame) */
	uint64_t p2m_nodes;        /* nodes allocated: overhead */
	bool started;              /* powered on: frames may be held */
	uint64_t pages;            /* configured guest pages (RAM frames) */
	struct vh_layout layout;   /* where they are: below the hole and above 4 GiB */
	uint64_t shares;           /* effective memory shares */
	uint64_t reserved_pages;
	uint64_t limit_pages;      /* VH_UNLIMITED: none */
	uint64_t balloon_target_pages;  /* effective target the guest driver sees:
	                                   max(operator, limit, reclaim) */
	uint64_t balloon_request_pages; /* the operator's (vh_mem_set_balloon_target) */
	uint64_t reclaim_target_pages;  /* from shares and the idle tax under pressure */
	uint64_t entitled_pages;   /* fair share from shares and the idle tax */
	uint64_t private_pages;    /* guest pages on a private frame */
	uint64_t pool_pages;       /* reserved frames held but not mapped yet */
	uint32_t pool_head;        /* their list, linked through the frame table */
	uint64_t balloon_touches;  /* guest touches of ballooned pages */
	uint64_t refused;          /* faults answered VH_FAULT_NO_MEMORY */
	/* Active-memory sampling (reclaim.c). */
	uint32_t *samples;         /* gfns unmapped this period */
	uint32_t nsamples, samples_cap;
	uint32_t touched;          /* of them, touched since */
	uint32_t active_fast, active_slow, active_now; /* fractions of 2^16 */
	bool active_measured;
	struct vh_mem_stats stats; /* granted, shared, balloon, active, overhead
	                              live; consumed at stats time */
};

/* Host-wide memory state (owned by hypervisor/core/mem/). */
struct vh_host_mem {
	struct vh_mem_params params;
	void *frames;          /* the host frame allocator (frames.c) */
	void *share;           /* page-sharing scanner and hash table (share.c) */
	struct vh_vm **vms;    /* VMs by slot (max_vms), for reverse maps */
	uint64_t total_frames; /* frames VMs may use: host capacity */
	bool pressure;         /* below low_free: balloon targets in force */
	uint64_t next_sample_ns, next_reclaim_ns;
	uint64_t refused;      /* growth refusals, all VMs */
	struct vh_host_mem_stats stats;
};

int vh_mem_host_init(struct vh_host *h, struct vh_error *err);
void vh_mem_host_fini(struct vh_host *h);
void vh_mem_params_default(struct vh_mem_params *p);

/* VM lifecycle, called by vm.c with the host lock held. */
int vh_mem_vm_init(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
void vh_mem_vm_fini(struct vh_host *h, struct vh_vm *vm);
/* Power on: takes the reserved frames (the reservation is admitted by
 * vm.c against host capacity first). */
int vh_mem_vm_start(struct vh_host *h, struct vh_vm *vm, struct vh_error *err);
/* Power off or reset: every frame of the VM goes back to the host. */
void vh_mem_vm_stop(struct vh_host *h, struct vh_vm *vm);
/* Shares, reservation and limit at run time; a reservation increase on a
 * running VM takes real frames or fails with VH_E_ADMISSION. */
int vh_mem_set_controls(struct vh_host *h, struct vh_vm *vm, const struct vh_mem_controls *c,
			struct vh_error *err);
/* The balloon driver's target for the guest, in pages. */
int vh_mem_set_balloon_target(struct vh_host *h, struct vh_vm *vm, uint64_t pages,
			      struct vh_error *err);

/* A guest access the backend could not satisfy (EPT violation, KVM
 * memory fault, simulator miss). */
enum vh_fault_result vh_mem_fault(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn,
				  enum vh_mem_access access, uint64_t now);

/* The guest balloon driver hands pages back (inflate) or asks for them
 * again (deflate).  Returns how many were accepted. */
uint64_t vh_mem_balloon_inflate(struct vh_host *h, struct vh_vm *vm, const vh_gfn_t *gfns,
				uint64_t n);
uint64_t vh_mem_balloon_deflate(struct vh_host *h, struct vh_vm *vm, const vh_gfn_t *gfns,
				uint64_t n);

/* Periodic work: active-memory sampling, the page-sharing scanner (within
 * its rate), reclaim targets.  Backends call it every few milliseconds. */
void vh_mem_tick(struct vh_host *h, uint64_t now);

/* The page-sharing scan rate now, pages per second: scan_pages_per_sec,
 * held to scan_pages_per_ghz per GHz of the host's CPU capacity. */
uint64_t vh_share_scan_rate(const struct vh_host *h);

/* Copies between hypervisor memory and guest-physical memory of a running
 * VM (guest_access.c), through the guest map: a page never touched gets
 * a zeroed frame, a write to a shared page unshares it, a ballooned page
 * gets a frame back (counted as a balloon touch), exactly as a guest
 * access would.  The whole range [gpa, gpa + len) must lie inside guest
 * memory, or nothing is copied and VH_E_INVAL names the range.  Returns
 * VH_OK, VH_E_INVAL (range), VH_E_STATE (VM not running) or VH_E_NOMEM
 * (the host refused a frame; a write may then be partly done).  Device
 * models, hypercalls and loaders touch guest memory only through these. */
int vh_mem_guest_read(struct vh_host *h, struct vh_vm *vm, uint64_t gpa, void *buf, size_t len,
		      struct vh_error *err);
int vh_mem_guest_write(struct vh_host *h, struct vh_vm *vm, uint64_t gpa, const void *buf,
		       size_t len, struct vh_error *err);
/* The bytes of guest-physical [gpa, gpa + len), one page at most, in
 * place: faulted in as a guest access would be (a write unshares), for an
 * access that must be the guest's own memory operation (vh-hosted's
 * atomic CMPXCHG16B completion, which other vCPUs running natively must
 * see as one locked access).  Valid while the host lock is held (the
 * core may remap the page once it is dropped).  VH_E_INVAL for a range
 * outside RAM or across a page. */
int vh_mem_guest_ptr(struct vh_host *h, struct vh_vm *vm, uint64_t gpa, size_t len, bool write,
		     void **out, struct vh_error *err);
/* Is [gpa, gpa + len) RAM in the VM's layout (no overflow)?  The hole
 * below 4 GiB never is. */
bool vh_mem_guest_range_ok(const struct vh_vm *vm, uint64_t gpa, uint64_t len);

void vh_mem_vm_stats(struct vh_host *h, struct vh_vm *vm, struct vh_mem_stats *out);
void vh_mem_host_stats(struct vh_host *h, struct vh_host_mem_stats *out);

#endif
