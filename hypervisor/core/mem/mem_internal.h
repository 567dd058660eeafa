/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the memory manager, shared by its files:
 *
 *   frames.c   host frame allocator (buddy, 4 KiB .. 2 MiB) and frame table
 *   page.c     page contents: zero, copy, compare, hash
 *   layout.c   the guest-physical layout: RAM, the 32-bit hole, e820
 *   p2m.c      guest-physical to host-frame radix map per VM
 *   mem.c      VM lifecycle, controls, faults, charging frames to VMs, stats
 *   balloon.c  inflate / deflate and balloon targets
 *   share.c    transparent page sharing: hash table and scanner
 *   reclaim.c  entitlements (shares and idle tax), targets, sampling, tick
 *
 * Everything runs under the host lock (see host.h). */
#ifndef VH_MEM_INTERNAL_H
#define VH_MEM_INTERNAL_H

#include "vh/host.h"
#include "vh/mem.h"
#include "vh/vm.h"

/* ---- frames.c ----------------------------------------------------------- */

#define VH_FRAME_NIL UINT32_MAX
#define VH_FRAME_MAX_ORDER 9 /* 2 MiB */
#define VH_FRAME_ORDERS (VH_FRAME_MAX_ORDER + 1)

/* Frame flags. */
#define VH_FR_FREE 0x01   /* head of a free buddy block (order valid) */
#define VH_FR_HASHED 0x02 /* in the sharing hash table (hash valid) */
#define VH_FR_SHARED 0x04 /* a shared read-only frame (aux = references) */
#define VH_FR_ZERO 0x08   /* the shared zero frame */
#define VH_FR_POOL 0x10   /* held for a VM's reservation, not mapped */

/* One entry per host frame, 24 bytes.  The fields are reused by state:
 * a free block links through next/prev; a reserved pool frame through
 * next; a hashed frame chains its hash bucket through next; a private
 * frame records its owner and gfn (the reverse map the sharing scanner
 * needs to turn a hint into a shared page); a shared frame counts its
 * references in aux. */
struct vh_frame {
	uint64_t hash;
	uint32_t next;
	uint32_t prev;
	uint32_t aux;   /* private: gfn; shared: references */
	uint16_t owner; /* private: VM slot + 1; 0: none */
	uint8_t order;  /* free block head: its order */
	uint8_t flags;
};

struct vh_frames {
	const struct vh_platform *plat; /* release(): freed frames to the backend */
	struct vh_frame *f;
	uint64_t n;
	uint64_t nfree;
	uint32_t head[VH_FRAME_ORDERS]; /* free lists per order */
	uint64_t count[VH_FRAME_ORDERS];
};

int vh_frames_init(struct vh_host *h, uint64_t n, struct vh_error *err);
void vh_frames_fini(struct vh_host *h);
/* A block of 2^order frames, aligned; VH_PFN_INVALID when none. */
vh_pfn_t vh_frames_alloc(struct vh_frames *fr, unsigned order);
/* Frees one block (or any frame of an allocated block, as order 0). */
void vh_frames_free(struct vh_frames *fr, vh_pfn_t pfn, unsigned order);

static inline struct vh_frames *vh_frames_of(struct vh_host *h)
{
	return h->mem.frames;
}

static inline struct vh_frame *vh_frame(struct vh_host *h, vh_pfn_t pfn)
{
	return &vh_frames_of(h)->f[pfn];
}

/* ---- page.c ------------------------------------------------------------- */

void vh_page_zero(void *page);
void vh_page_copy(void *dst, const void *src);
bool vh_page_equal(const void *a, const void *b);
bool vh_page_is_zero(const void *page);
/* A fast 64-bit hash of 4 KiB (xxHash64's mixing, fixed length). */
uint64_t vh_page_hash(const void *page);

static inline void *vh_frame_bytes(struct vh_host *h, vh_pfn_t pfn)
{
	return h->plat->frame_ptr(h->plat->ctx, pfn);
}

/* ---- p2m.c -------------------------------------------------------------- */

/* A p2m entry: state in the low bits, host frame number above bit 12. */
#define VH_P2M_STATE_MASK 0x7ull
#define VH_P2M_NONE 0ull      /* never touched (or deflated): no frame */
#define VH_P2M_PRIVATE 1ull   /* the VM's own frame, writable */
#define VH_P2M_SHARED 2ull    /* a shared frame, mapped read-only */
#define VH_P2M_BALLOONED 3ull /* handed back by the balloon: no frame */
#define VH_P2M_SAMPLED 0x8ull /* unmapped to see whether it is touched */
#define VH_P2M_PFN_SHIFT 12

static inline uint64_t vh_p2m_state(uint64_t e)
{
	return e & VH_P2M_STATE_MASK;
}

static inline vh_pfn_t vh_p2m_pfn(uint64_t e)
{
	return e >> VH_P2M_PFN_SHIFT;
}

static inline uint64_t vh_p2m_make(uint64_t state, vh_pfn_t pfn)
{
	return state | (pfn << VH_P2M_PFN_SHIFT);
}

int vh_p2m_init(struct vh_host *h, struct vh_vm *vm);
/* The entry of gfn, allocating radix nodes when create is set; NULL when
 * absent (or out of metadata). */
uint64_t *vh_p2m_entry(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, bool create);
/* The 512-entry leaf holding gfn (NULL when absent), for sequential
 * walks: entries of gfn & ~511 .. gfn | 511. */
uint64_t *vh_p2m_leaf(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn);
/* Calls fn on every entry with a state, then frees every node. */
void vh_p2m_destroy(struct vh_host *h, struct vh_vm *vm,
		    void (*fn)(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t e));

#define VH_P2M_LEAF_ENTRIES 512u

/* ---- mem.c -------------------------------------------------------------- */

enum vh_grow_refusal {
	VH_GROW_OK = 0,
	VH_GROW_LIMIT,       /* the VM is at its limit */
	VH_GROW_ENTITLEMENT, /* free memory is low and the VM is at its share */
	VH_GROW_HOST_FLOOR,  /* the host keeps its last frames */
};

/* A frame for new guest memory of vm: its reservation pool first, then the
 * host within the VM's limit and entitlement.  Not zeroed.  Returns
 * VH_PFN_INVALID and the reason when growth is refused. */
vh_pfn_t vh_mem_grow(struct vh_host *h, struct vh_vm *vm, enum vh_grow_refusal *why);
/* Gives back a private frame of vm (to its reservation pool while the VM
 * holds less than it reserves, else to the host). */
void vh_mem_release_private(struct vh_host *h, struct vh_vm *vm, vh_pfn_t pfn);
/* vm takes over a frame it already maps (the last sharer of a shared
 * frame): charged like growth within its limit; no host frame is taken. */
bool vh_mem_adopt(struct vh_host *h, struct vh_vm *vm, enum vh_grow_refusal *why);
/* A private frame of vm stops being charged to it (it became shared);
 * refills the reservation pool from the host when needed.  False when
 * the host has no frame for that (nothing changes). */
bool vh_mem_unprivate(struct vh_host *h, struct vh_vm *vm);
/* Drops vm's reference to a shared frame. */
void vh_mem_release_shared(struct vh_host *h, vh_pfn_t pfn);
/* Records a private frame's reverse map. */
void vh_mem_own(struct vh_host *h, struct vh_vm *vm, vh_pfn_t pfn, vh_gfn_t gfn);
/* Frames the VM holds privately (mapped or pooled): what limits bound. */
static inline uint64_t vh_mem_held(const struct vh_vm *vm)
{
	return vm->mem.private_pages + vm->mem.pool_pages;
}
/* Free-memory thresholds in frames, from the percentages. */
uint64_t vh_mem_low_free(const struct vh_host *h);
uint64_t vh_mem_min_free(const struct vh_host *h);
uint64_t vh_mem_floor_free(const struct vh_host *h);
/* The platform's map(); failures are logged. */
int vh_mem_map(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, vh_pfn_t pfn, unsigned prot);

#define VH_PROT_PRIVATE VH_PROT_RWX
#define VH_PROT_SHARED (VH_PROT_READ | VH_PROT_EXEC)

/* ---- balloon.c ---------------------------------------------------------- */

/* Recomputes vm's effective balloon target from the operator's request,
 * its limit and the reclaim target. */
void vh_balloon_update_target(struct vh_host *h, struct vh_vm *vm, uint64_t reclaim_pages);

/* ---- share.c ------------------------------------------------------------ */

struct vh_share_stats {
	uint64_t scanned;      /* pages hashed */
	uint64_t passes;       /* full passes over every running VM */
	uint64_t merged;       /* pages that joined a shared frame */
	uint64_t zero_merged;  /* of them, onto the zero frame */
	uint64_t collisions;   /* same hash, different contents */
	uint64_t cow;          /* copies on write */
	uint64_t frames;       /* shared frames in use */
	uint64_t refs;         /* guest pages mapped to them */
};

int vh_share_init(struct vh_host *h, struct vh_error *err);
void vh_share_fini(struct vh_host *h);
/* Scans up to budget pages from the cursor, stopping early at the end of
 * a full pass; returns pages examined. */
uint64_t vh_share_scan(struct vh_host *h, uint64_t budget);
/* Scans at the configured rate for the time since the last call. */
void vh_share_tick(struct vh_host *h, uint64_t now);
/* Removes a frame from the hash table (it is changing or going away). */
void vh_share_unhash(struct vh_host *h, vh_pfn_t pfn);
/* Takes a reference on the shared zero frame (allocating it on first
 * use); VH_PFN_INVALID when no frame is free. */
vh_pfn_t vh_share_zero_get(struct vh_host *h);
/* A write to a shared page: gives vm a private copy (or the frame itself
 * when vm is its last sharer).  Returns false when growth is refused. */
bool vh_share_break(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t *e,
		    enum vh_grow_refusal *why);
/* The frame's reference count dropped to zero: unhash and free it. */
void vh_share_frame_free(struct vh_host *h, vh_pfn_t pfn);
/* VM vm is going away: move the scan cursor off it. */
void vh_share_forget_vm(struct vh_host *h, struct vh_vm *vm);
void vh_share_stats(struct vh_host *h, struct vh_share_stats *out);
/* Host counters kept by share.c. */
struct vh_share_stats *vh_share_counters(struct vh_host *h);

/* ---- reclaim.c ---------------------------------------------------------- */

/* Entitlements and balloon targets of every running VM, from free memory,
 * shares, the idle tax and the active estimates. */
void vh_reclaim_update(struct vh_host *h);
/* Ends the sampling period of vm and starts the next one. */
void vh_reclaim_sample(struct vh_host *h, struct vh_vm *vm);
/* Drops vm's samples (the VM stops). */
void vh_reclaim_vm_stop(struct vh_host *h, struct vh_vm *vm);
/* Active pages of vm from the estimate. */
uint64_t vh_reclaim_active_pages(const struct vh_vm *vm);

/* ---- helpers ------------------------------------------------------------ */

static inline void *vh_mem_zalloc(struct vh_host *h, size_t n)
{
	return h->plat->alloc(h->plat->ctx, n);
}

static inline void vh_mem_mfree(struct vh_host *h, void *p, size_t n)
{
	h->plat->free(h->plat->ctx, p, n);
}

/* Is guest frame gfn RAM in vm's layout? */
static inline bool vh_mem_is_ram(const struct vh_vm *vm, vh_gfn_t gfn)
{
	return gfn < (UINT64_MAX >> VH_PAGE_SHIFT) &&
	       vh_layout_is_ram(&vm->mem.layout, gfn << VH_PAGE_SHIFT);
}

/* One past the highest RAM frame: the span of the guest map. */
static inline vh_gfn_t vh_mem_gfn_end(const struct vh_vm *vm)
{
	return vh_layout_ram_top(&vm->mem.layout) >> VH_PAGE_SHIFT;
}

static inline bool vh_mem_vm_running(const struct vh_vm *vm)
{
	return vm && vm->mem.started;
}

#endif
