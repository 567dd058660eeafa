/* SPDX-License-Identifier: Apache-2.0 */
/* Transparent page sharing (Waldspurger, OSDI 2002, section 4).
 *
 * A background scanner walks every running VM's private pages at a
 * configured rate and hashes each one.  The hash table holds two kinds of
 * frames: shared frames (read-only, reference-counted, mapped by every
 * sharer) and hints (a private page hashed once whose owner and gfn the
 * frame table records).  A page whose hash matches a shared frame joins it;
 * one whose hash matches a hint turns the hint into a shared frame and
 * joins it; otherwise it becomes a hint.  Every match is confirmed by a
 * full comparison after the candidate pages are write-protected, so a
 * guest writing concurrently (bare metal runs vCPUs while the scanner
 * works) either faults before the comparison or is seen by it.  A hint
 * that changed since it was hashed is dropped on its next match or scan.
 * All-zero pages go to one zero frame without hashing.
 *
 * A write to a shared page faults; the writer gets a private copy, or the
 * frame itself when it is the last sharer (vh_share_break).
 *
 * The table is chained through the frame table (vh_frame.next), so it
 * never allocates: one bucket head per two host frames. */
#include "mem_internal.h"

struct vh_share {
	uint32_t *buckets;
	uint64_t mask;
	vh_pfn_t zero_pfn; /* VH_PFN_INVALID until a zero page is shared */
	uint32_t cur_slot; /* scan cursor: VM slot and gfn */
	vh_gfn_t cur_gfn;
	bool clock_started;
	bool pass_waiting;       /* a pass ended: wait for scan_pass_min_ns */
	uint64_t pass_started_ns;
	uint64_t last_ns;
	uint64_t credit;   /* carried-over fraction of a page, in page-ns */
	struct vh_share_stats st;
};

static struct vh_share *share_of(struct vh_host *h)
{
	return h->mem.share;
}

struct vh_share_stats *vh_share_counters(struct vh_host *h)
{
	return &share_of(h)->st;
}

void vh_share_stats(struct vh_host *h, struct vh_share_stats *out)
{
	*out = share_of(h)->st;
}

int vh_share_init(struct vh_host *h, struct vh_error *err)
{
	struct vh_share *s = vh_mem_zalloc(h, sizeof(*s));
	uint64_t n = 1024;

	if (!s)
		return vh_error_set(err, VH_E_NOMEM, "memory: no metadata for page sharing");
	while (n < h->mem.total_frames / 2)
		n <<= 1;
	s->buckets = vh_mem_zalloc(h, sizeof(*s->buckets) * n);
	if (!s->buckets) {
		vh_mem_mfree(h, s, sizeof(*s));
		return vh_error_set(err, VH_E_NOMEM,
				    "memory: no metadata for the sharing hash table");
	}
	for (uint64_t i = 0; i < n; i++)
		s->buckets[i] = VH_FRAME_NIL;
	s->mask = n - 1;
	s->zero_pfn = VH_PFN_INVALID;
	h->mem.share = s;
	return VH_OK;
}

void vh_share_fini(struct vh_host *h)
{
	struct vh_share *s = share_of(h);

	if (!s)
		return;
	vh_mem_mfree(h, s->buckets, sizeof(*s->buckets) * (s->mask + 1));
	vh_mem_mfree(h, s, sizeof(*s));
	h->mem.share = NULL;
}

/* ---- the hash table ---------------------------------------------------------- */

static void hash_insert(struct vh_host *h, vh_pfn_t pfn, uint64_t hash)
{
	struct vh_share *s = share_of(h);
	struct vh_frame *f = vh_frame(h, pfn);
	uint32_t *head = &s->buckets[hash & s->mask];

	f->hash = hash;
	f->flags |= VH_FR_HASHED;
	f->next = *head;
	*head = (uint32_t)pfn;
}

void vh_share_unhash(struct vh_host *h, vh_pfn_t pfn)
{
	struct vh_share *s = share_of(h);
	struct vh_frame *f = vh_frame(h, pfn);
	uint32_t *link = &s->buckets[f->hash & s->mask];

	if (!(f->flags & VH_FR_HASHED))
		return;
	while (*link != VH_FRAME_NIL) {
		if (*link == pfn) {
			*link = f->next;
			break;
		}
		link = &vh_frame(h, *link)->next;
	}
	f->next = VH_FRAME_NIL;
	f->flags &= (uint8_t)~VH_FR_HASHED;
}

/* ---- shared frames ----------------------------------------------------------- */

vh_pfn_t vh_share_zero_get(struct vh_host *h)
{
	struct vh_share *s = share_of(h);
	struct vh_frame *f;

	if (s->zero_pfn == VH_PFN_INVALID) {
		vh_pfn_t pfn = vh_frames_alloc(vh_frames_of(h), 0);
		if (pfn == VH_PFN_INVALID)
			return pfn;
		vh_page_zero(vh_frame_bytes(h, pfn));
		f = vh_frame(h, pfn);
		f->flags = VH_FR_SHARED | VH_FR_ZERO;
		f->aux = 0;
		s->zero_pfn = pfn;
	}
	f = vh_frame(h, s->zero_pfn);
	if (f->aux++ == 0)
		s->st.frames++;
	s->st.refs++;
	return s->zero_pfn;
}

void vh_share_frame_free(struct vh_host *h, vh_pfn_t pfn)
{
	struct vh_share *s = share_of(h);
	struct vh_frame *f = vh_frame(h, pfn);

	vh_share_unhash(h, pfn);
	if (f->flags & VH_FR_ZERO)
		s->zero_pfn = VH_PFN_INVALID;
	f->flags = 0;
	f->aux = 0;
	s->st.frames--;
	vh_frames_free(vh_frames_of(h), pfn, 0);
}

bool vh_share_break(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t *e,
		    enum vh_grow_refusal *why)
{
	struct vh_share *s = share_of(h);
	vh_pfn_t pfn = vh_p2m_pfn(*e), np;
	struct vh_frame *f = vh_frame(h, pfn);

	if (f->aux == 1 && !(f->flags & VH_FR_ZERO)) {
		/* The last sharer: the frame becomes its private page again,
		 * no copy.  It is about to change, so it leaves the table. */
		if (!vh_mem_adopt(h, vm, why))
			return false;
		vh_share_unhash(h, pfn);
		vh_mem_own(h, vm, pfn, gfn);
		s->st.frames--;
		s->st.refs--;
	} else {
		np = vh_mem_grow(h, vm, why);
		if (np == VH_PFN_INVALID)
			return false;
		if (f->flags & VH_FR_ZERO)
			vh_page_zero(vh_frame_bytes(h, np));
		else
			vh_page_copy(vh_frame_bytes(h, np), vh_frame_bytes(h, pfn));
		vh_mem_own(h, vm, np, gfn);
		vh_mem_release_shared(h, pfn);
		pfn = np;
		s->st.cow++;
	}
	*e = vh_p2m_make(VH_P2M_PRIVATE, pfn);
	vm->mem.stats.shared--;
	return true;
}

/* ---- the scanner ------------------------------------------------------------- */

/* Candidate gfn of vm (entry e, frame pfn) goes to shared frame q. */
static void join(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t *e, vh_pfn_t pfn,
		 vh_pfn_t q)
{
	struct vh_share *s = share_of(h);

	*e = vh_p2m_make(VH_P2M_SHARED, q);
	vh_mem_map(h, vm, gfn, q, VH_PROT_SHARED);
	vh_mem_release_private(h, vm, pfn);
	vm->mem.stats.shared++;
	s->st.merged++;
}

static void share_zero(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t *e,
		       vh_pfn_t pfn)
{
	struct vh_share *s = share_of(h);
	vh_pfn_t z;

	/* Write-protect, then confirm: the guest may be writing it now. */
	vh_mem_map(h, vm, gfn, pfn, VH_PROT_SHARED);
	if (!vh_page_is_zero(vh_frame_bytes(h, pfn)) ||
	    (z = vh_share_zero_get(h)) == VH_PFN_INVALID) {
		vh_mem_map(h, vm, gfn, pfn, VH_PROT_PRIVATE);
		return;
	}
	join(h, vm, gfn, e, pfn, z);
	s->st.zero_merged++;
}

/* A hint (private frame q of owner at ogfn) matched the candidate by hash.
 * Returns true when both now share q; false when the hint was stale and
 * has been dropped (the caller makes the candidate a hint). */
static bool promote_hint(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t *e,
			 vh_pfn_t pfn, vh_pfn_t q)
{
	struct vh_share *s = share_of(h);
	struct vh_frame *fq = vh_frame(h, q);
	struct vh_vm *owner = fq->owner ? h->mem.vms[fq->owner - 1] : NULL;
	vh_gfn_t ogfn = fq->aux;
	uint64_t *oe = vh_mem_vm_running(owner) ? vh_p2m_entry(h, owner, ogfn, false) : NULL;
	bool osampled;

	if (!oe || vh_p2m_state(*oe) != VH_P2M_PRIVATE || vh_p2m_pfn(*oe) != q) {
		vh_share_unhash(h, q);
		return false;
	}
	osampled = (*oe & VH_P2M_SAMPLED) != 0;
	if (!osampled)
		vh_mem_map(h, owner, ogfn, q, VH_PROT_SHARED);
	vh_mem_map(h, vm, gfn, pfn, VH_PROT_SHARED);
	if (!vh_page_equal(vh_frame_bytes(h, pfn), vh_frame_bytes(h, q)) ||
	    !vh_mem_unprivate(h, owner)) {
		/* Changed since it was hashed (or its owner's reservation
		 * cannot be refilled): both stay private. */
		if (!osampled)
			vh_mem_map(h, owner, ogfn, q, VH_PROT_PRIVATE);
		vh_mem_map(h, vm, gfn, pfn, VH_PROT_PRIVATE);
		vh_share_unhash(h, q);
		return false;
	}
	/* q becomes a shared frame with its owner as first sharer. */
	fq->flags = (uint8_t)((fq->flags & VH_FR_HASHED) | VH_FR_SHARED);
	fq->owner = 0;
	fq->aux = 2;
	s->st.frames++;
	s->st.refs += 2;
	*oe = vh_p2m_make(VH_P2M_SHARED, q) | (osampled ? VH_P2M_SAMPLED : 0);
	owner->mem.stats.shared++;
	s->st.merged++;
	join(h, vm, gfn, e, pfn, q);
	return true;
}

static void scan_page(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t *e)
{
	struct vh_share *s = share_of(h);
	vh_pfn_t pfn = vh_p2m_pfn(*e);
	struct vh_frame *f = vh_frame(h, pfn);
	const void *p = vh_frame_bytes(h, pfn);
	uint64_t hash;
	uint32_t q;

	s->st.scanned++;
	if (vh_page_is_zero(p)) {
		if (f->flags & VH_FR_HASHED)
			vh_share_unhash(h, pfn);
		share_zero(h, vm, gfn, e, pfn);
		return;
	}
	hash = vh_page_hash(p);
	if (f->flags & VH_FR_HASHED) {
		if (f->hash == hash)
			return; /* an unchanged hint: nothing matched it yet */
		vh_share_unhash(h, pfn);
	}
	for (q = s->buckets[hash & s->mask]; q != VH_FRAME_NIL; q = vh_frame(h, q)->next) {
		struct vh_frame *fq = vh_frame(h, q);
		if (fq->hash != hash)
			continue;
		if (fq->flags & VH_FR_SHARED) {
			vh_mem_map(h, vm, gfn, pfn, VH_PROT_SHARED);
			if (vh_page_equal(p, vh_frame_bytes(h, q))) {
				fq->aux++;
				s->st.refs++;
				join(h, vm, gfn, e, pfn, q);
				return;
			}
			/* Same hash, different page: 2^-64 for honest data. */
			s->st.collisions++;
			vh_mem_map(h, vm, gfn, pfn, VH_PROT_PRIVATE);
			return;
		}
		if (promote_hint(h, vm, gfn, e, pfn, q))
			return;
		break;
	}
	hash_insert(h, pfn, hash);
}

uint64_t vh_share_scan(struct vh_host *h, uint64_t budget)
{
	struct vh_share *s = share_of(h);
	uint64_t done = 0;
	/* Entries skipped (not private) cost little but are bounded too, so
	 * an all-shared host does not spin. */
	uint64_t steps = 0, max_steps = budget * 16 + 4096;

	while (done < budget && steps < max_steps) {
		struct vh_vm *vm = s->cur_slot < h->cfg.max_vms ? h->mem.vms[s->cur_slot] : NULL;
		uint64_t *leaf;
		vh_gfn_t end;

		if (vh_mem_vm_running(vm))
			s->cur_gfn = vh_layout_next_ram_gfn(&vm->mem.layout, s->cur_gfn);
		if (!vh_mem_vm_running(vm) || s->cur_gfn >= vh_mem_gfn_end(vm)) {
			steps++;
			s->cur_gfn = 0;
			if (++s->cur_slot >= h->cfg.max_vms) {
				/* A pass ends here; the next starts with the next
				 * call, so a caller can tell passes apart. */
				s->cur_slot = 0;
				s->st.passes++;
				break;
			}
			continue;
		}
		leaf = vh_p2m_leaf(h, vm, s->cur_gfn);
		end = (s->cur_gfn | (VH_P2M_LEAF_ENTRIES - 1)) + 1;
		if (end > vh_mem_gfn_end(vm))
			end = vh_mem_gfn_end(vm);
		if (!leaf) {
			steps++;
			s->cur_gfn = end;
			continue;
		}
		for (; s->cur_gfn < end && done < budget && steps < max_steps; s->cur_gfn++) {
			uint64_t *e = &leaf[s->cur_gfn & (VH_P2M_LEAF_ENTRIES - 1)];
			steps++;
			if (vh_p2m_state(*e) != VH_P2M_PRIVATE || (*e & VH_P2M_SAMPLED))
				continue;
			scan_page(h, vm, s->cur_gfn, e);
			done++;
		}
	}
	return done;
}

uint64_t vh_share_scan_rate(const struct vh_host *h)
{
	const struct vh_mem_params *p = &h->mem.params;
	uint64_t rate = p->scan_pages_per_sec, bound;

	if (!p->scan_pages_per_ghz)
		return rate;
	/* MHz x pages per GHz / 1000, dividing first where the product
	 * would overflow and saturating where even that would. */
	bound = vh_host_cpu_capacity_mhz(h);
	if (bound / 1000 > UINT64_MAX / p->scan_pages_per_ghz)
		bound = UINT64_MAX;
	else if (bound > UINT64_MAX / p->scan_pages_per_ghz)
		bound = bound / 1000 * p->scan_pages_per_ghz;
	else
		bound = bound * p->scan_pages_per_ghz / 1000;
	return rate < bound ? rate : bound;
}

void vh_share_tick(struct vh_host *h, uint64_t now)
{
	struct vh_share *s = share_of(h);
	uint64_t rate = vh_share_scan_rate(h), dt, work;

	if (!s->clock_started || now < s->last_ns) {
		s->clock_started = true;
		s->last_ns = now;
		s->pass_started_ns = now;
		return;
	}
	dt = now - s->last_ns;
	s->last_ns = now;
	if (!rate)
		return;
	/* A long gap (a stalled backend) does not turn into a burst. */
	if (dt > VH_NSEC_PER_SEC)
		dt = VH_NSEC_PER_SEC;
	if (rate > UINT64_MAX / 2 / VH_NSEC_PER_SEC)
		rate = UINT64_MAX / 2 / VH_NSEC_PER_SEC;
	/* A pass over few pages ends quickly; starting the next one at once
	 * would re-hash the same pages many times a second, holding the host
	 * lock and write-protecting pages the guests are busy filling (on a
	 * slow CPU that starves them).  Passes start at most once per
	 * scan_pass_min_ns. */
	if (s->pass_waiting) {
		if (now - s->pass_started_ns < h->mem.params.scan_pass_min_ns) {
			s->credit = 0;
			return;
		}
		s->pass_waiting = false;
		s->pass_started_ns = now;
	}
	work = dt * rate + s->credit;
	s->credit = work % VH_NSEC_PER_SEC;
	work /= VH_NSEC_PER_SEC;
	if (work) {
		uint64_t passes = s->st.passes;
		vh_share_scan(h, work);
		if (s->st.passes != passes)
			s->pass_waiting = true;
	}
}

void vh_share_forget_vm(struct vh_host *h, struct vh_vm *vm)
{
	struct vh_share *s = share_of(h);

	if (s->cur_slot == vm->mem.slot)
		s->cur_gfn = vh_mem_gfn_end(vm);
}
