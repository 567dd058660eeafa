/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated platform (see sim_platform.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_platform.h"
#include "vh/vm.h"

static struct vh_sim_platform *self(void *ctx)
{
	return ctx;
}

static uint64_t sim_now(void *ctx)
{
	return self(ctx)->now_ns;
}

static uint64_t sim_wall(void *ctx)
{
	return self(ctx)->wall_base_ns + self(ctx)->now_ns;
}

/* Metadata allocations carry their size in a header so the tracked total
 * can be checked against the size the core passes to free(): a mismatch
 * is a core bug and aborts the test. */
struct alloc_header {
	size_t size;
	uint64_t magic;
};
#define ALLOC_MAGIC 0x76682d73696d2121ull

static void *sim_alloc(void *ctx, size_t size)
{
	struct vh_sim_platform *sp = self(ctx);
	struct alloc_header *hdr;

	if (sp->alloc_fail_after && sp->alloc_bytes + size > sp->alloc_fail_after)
		return NULL;
	hdr = calloc(1, sizeof(*hdr) + size);
	if (!hdr)
		return NULL;
	hdr->size = size;
	hdr->magic = ALLOC_MAGIC;
	sp->alloc_bytes += size;
	if (sp->alloc_bytes > sp->alloc_peak)
		sp->alloc_peak = sp->alloc_bytes;
	return hdr + 1;
}

static void sim_free(void *ctx, void *p, size_t size)
{
	struct vh_sim_platform *sp = self(ctx);
	struct alloc_header *hdr;

	if (!p)
		return;
	hdr = (struct alloc_header *)p - 1;
	if (hdr->magic != ALLOC_MAGIC || hdr->size != size) {
		fprintf(stderr, "sim: free(%p, %zu) does not match its allocation (%zu bytes)\n", p,
			size, hdr->magic == ALLOC_MAGIC ? hdr->size : (size_t)0);
		abort();
	}
	hdr->magic = 0;
	sp->alloc_bytes -= size;
	free(hdr);
}

static void *sim_frame_ptr(void *ctx, vh_pfn_t pfn)
{
	struct vh_sim_platform *sp = self(ctx);

	if (pfn >= sp->nframes) {
		fprintf(stderr, "sim: frame %llu outside the %llu host frames\n",
			(unsigned long long)pfn, (unsigned long long)sp->nframes);
		abort();
	}
	return sp->arena + pfn * VH_PAGE_SIZE;
}

static struct vh_sim_vm_map *find_map(struct vh_sim_platform *sp, uint32_t vm_id)
{
	for (size_t i = 0; i < sp->nmaps; i++) {
		if (sp->maps[i].vm_id == vm_id)
			return &sp->maps[i];
	}
	return NULL;
}

static struct vh_sim_vm_map *get_map(struct vh_sim_platform *sp, const struct vh_vm *vm)
{
	struct vh_sim_vm_map *m = find_map(sp, vm->id);

	if (m)
		return m;
	if (sp->nmaps == sp->maps_cap) {
		size_t cap = sp->maps_cap ? sp->maps_cap * 2 : 16;
		struct vh_sim_vm_map *n = realloc(sp->maps, cap * sizeof(*n));
		if (!n)
			return NULL;
		sp->maps = n;
		sp->maps_cap = cap;
	}
	m = &sp->maps[sp->nmaps];
	m->vm_id = vm->id;
	/* Indexed by gfn: up to the highest RAM frame (above 4 GiB in a VM
	 * larger than the 32-bit hole's start; the hole's entries stay empty). */
	m->npages = vh_layout_ram_top(&vm->mem.layout) >> VH_PAGE_SHIFT;
	m->entries = calloc(m->npages, sizeof(*m->entries));
	if (!m->entries)
		return NULL;
	sp->nmaps++;
	return m;
}

static int sim_map(void *ctx, struct vh_vm *vm, vh_gfn_t gfn, vh_pfn_t pfn, unsigned prot)
{
	struct vh_sim_platform *sp = self(ctx);
	struct vh_sim_vm_map *m = get_map(sp, vm);

	sp->map_calls++;
	if (!m || gfn >= m->npages)
		return -1;
	if (prot && pfn >= sp->nframes) {
		fprintf(stderr, "sim: map of gfn %llu to frame %llu beyond the host\n",
			(unsigned long long)gfn, (unsigned long long)pfn);
		abort();
	}
	m->entries[gfn].pfn = prot ? pfn : VH_PFN_INVALID;
	m->entries[gfn].prot = (uint8_t)prot;
	return 0;
}

static void sim_kick(void *ctx, unsigned pcpu)
{
	struct vh_sim_platform *sp = self(ctx);

	if (pcpu < sp->npcpus) {
		sp->kicks[pcpu]++;
		sp->kick_pending[pcpu] = true;
	}
}

/* xorshift64*: deterministic for a given seed. */
static uint64_t sim_random(void *ctx)
{
	struct vh_sim_platform *sp = self(ctx);
	uint64_t x = sp->rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sp->rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* The simulation is single-threaded; the lock only checks discipline:
 * re-entering the core with the lock held is a bug. */
static void sim_lock(void *ctx)
{
	struct vh_sim_platform *sp = self(ctx);

	if (sp->lock_depth++ != 0) {
		fprintf(stderr, "sim: host lock taken twice\n");
		abort();
	}
}

static void sim_unlock(void *ctx)
{
	struct vh_sim_platform *sp = self(ctx);

	if (--sp->lock_depth != 0) {
		fprintf(stderr, "sim: host lock released while not held\n");
		abort();
	}
}

/* Single-threaded: a device lock found taken is one taken twice. */
static void sim_lock_wait(void *ctx)
{
	(void)ctx;
	fprintf(stderr, "sim: a device lock taken twice\n");
	abort();
}

static void sim_log(void *ctx, const char *line)
{
	struct vh_sim_platform *sp = self(ctx);

	sp->log_lines++;
	snprintf(sp->last_log, sizeof(sp->last_log), "%s", line);
	if (sp->log_to_stderr)
		fprintf(stderr, "vh: %s\n", line);
}

static void console_append(struct vh_sim_platform *sp, const char *s, size_t n)
{
	if (sp->console_len + n + 1 > sp->console_cap) {
		size_t cap = sp->console_cap ? sp->console_cap : 4096;
		while (cap < sp->console_len + n + 1)
			cap *= 2;
		char *grown = realloc(sp->console, cap);
		if (!grown)
			return; /* drop output rather than fail the guest */
		sp->console = grown;
		sp->console_cap = cap;
	}
	memcpy(sp->console + sp->console_len, s, n);
	sp->console_len += n;
	sp->console[sp->console_len] = '\0';
}

static void sim_console(void *ctx, struct vh_vm *vm, const char *bytes, size_t n)
{
	struct vh_sim_platform *sp = self(ctx);

	for (size_t i = 0; i < n; i++) {
		if (sp->console_at_line_start) {
			console_append(sp, vm->cfg.name, strlen(vm->cfg.name));
			console_append(sp, ": ", 2);
			sp->console_at_line_start = false;
		}
		console_append(sp, &bytes[i], 1);
		if (bytes[i] == '\n')
			sp->console_at_line_start = true;
	}
}

bool vh_sim_platform_init(struct vh_sim_platform *sp, uint64_t memory_bytes, unsigned npcpus,
			  uint64_t seed)
{
	memset(sp, 0, sizeof(*sp));
	sp->nframes = memory_bytes / VH_PAGE_SIZE;
	sp->arena = calloc(sp->nframes ? sp->nframes : 1, VH_PAGE_SIZE);
	sp->npcpus = npcpus;
	sp->kicks = calloc(npcpus ? npcpus : 1, sizeof(*sp->kicks));
	sp->kick_pending = calloc(npcpus ? npcpus : 1, sizeof(*sp->kick_pending));
	if (!sp->arena || !sp->kicks || !sp->kick_pending) {
		vh_sim_platform_fini(sp);
		return false;
	}
	sp->rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
	sp->plat = (struct vh_platform){
		.ctx = sp,
		.now_ns = sim_now,
		.wall_ns = sim_wall,
		.alloc = sim_alloc,
		.free = sim_free,
		.frame_ptr = sim_frame_ptr,
		.map = sim_map,
		.kick = sim_kick,
		.random = sim_random,
		.lock = sim_lock,
		.unlock = sim_unlock,
		.lock_wait = sim_lock_wait,
		.log = sim_log,
		.console = sim_console,
	};
	sp->console_at_line_start = true;
	return true;
}

void vh_sim_platform_fini(struct vh_sim_platform *sp)
{
	for (size_t i = 0; i < sp->nmaps; i++)
		free(sp->maps[i].entries);
	free(sp->maps);
	free(sp->console);
	sp->console = NULL;
	sp->console_len = sp->console_cap = 0;
	free(sp->arena);
	free(sp->kicks);
	free(sp->kick_pending);
	sp->maps = NULL;
	sp->arena = NULL;
	sp->kicks = NULL;
	sp->kick_pending = NULL;
	sp->nmaps = sp->maps_cap = 0;
}

const struct vh_sim_map_entry *vh_sim_lookup(struct vh_sim_platform *sp, const struct vh_vm *vm,
					      vh_gfn_t gfn)
{
	struct vh_sim_vm_map *m = find_map(sp, vm->id);

	if (!m || gfn >= m->npages)
		return NULL;
	return &m->entries[gfn];
}

/* Resolves gfn for the given access, faulting into the core as a backend
 * would until the mapping allows it.  Returns the bytes or NULL with the
 * fault result in *res. */
static uint8_t *resolve(struct vh_sim_platform *sp, struct vh_host *h, struct vh_vm *vm,
			vh_gfn_t gfn, enum vh_mem_access access, enum vh_fault_result *res)
{
	unsigned need = access == VH_MEM_WRITE ? VH_PROT_WRITE : VH_PROT_READ;

	/* Two faults at most: one to map, one more when a read mapping
	 * must become writable (unshare).  More means the core is looping. */
	for (int attempt = 0; attempt < 3; attempt++) {
		const struct vh_sim_map_entry *e = vh_sim_lookup(sp, vm, gfn);
		if (e && (e->prot & need))
			return sp->arena + e->pfn * VH_PAGE_SIZE;
		sp->plat.lock(sp);
		*res = vh_mem_fault(h, vm, gfn, access, sp->now_ns);
		sp->plat.unlock(sp);
		if (*res != VH_FAULT_MAPPED && *res != VH_FAULT_BALLOONED)
			return NULL;
	}
	fprintf(stderr, "sim: gfn %llu still not accessible after repeated faults\n",
		(unsigned long long)gfn);
	abort();
}

static enum vh_fault_result guest_access(struct vh_sim_platform *sp, struct vh_host *h,
					 struct vh_vm *vm, uint64_t gpa, void *buf, size_t n,
					 enum vh_mem_access access)
{
	uint8_t *b = buf;
	enum vh_fault_result res = VH_FAULT_MAPPED;

	while (n) {
		uint64_t off = gpa & (VH_PAGE_SIZE - 1);
		size_t chunk = VH_PAGE_SIZE - off < n ? (size_t)(VH_PAGE_SIZE - off) : n;
		uint8_t *page = resolve(sp, h, vm, gpa >> VH_PAGE_SHIFT, access, &res);
		if (!page)
			return res;
		if (access == VH_MEM_WRITE)
			memcpy(page + off, b, chunk);
		else
			memcpy(b, page + off, chunk);
		b += chunk;
		gpa += chunk;
		n -= chunk;
	}
	return VH_FAULT_MAPPED;
}

enum vh_fault_result vh_sim_guest_write(struct vh_sim_platform *sp, struct vh_host *h,
					struct vh_vm *vm, uint64_t gpa, const void *src, size_t n)
{
	return guest_access(sp, h, vm, gpa, (void *)(uintptr_t)src, n, VH_MEM_WRITE);
}

enum vh_fault_result vh_sim_guest_read(struct vh_sim_platform *sp, struct vh_host *h,
				       struct vh_vm *vm, uint64_t gpa, void *dst, size_t n)
{
	return guest_access(sp, h, vm, gpa, dst, n, VH_MEM_READ);
}

enum vh_fault_result vh_sim_guest_fill_page(struct vh_sim_platform *sp, struct vh_host *h,
					    struct vh_vm *vm, vh_gfn_t gfn, uint8_t value)
{
	uint8_t page[VH_PAGE_SIZE];

	memset(page, value, sizeof(page));
	return vh_sim_guest_write(sp, h, vm, gfn << VH_PAGE_SHIFT, page, sizeof(page));
}

static int cmp_pfn(const void *a, const void *b)
{
	vh_pfn_t x = *(const vh_pfn_t *)a, y = *(const vh_pfn_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t vh_sim_mapped_frames(struct vh_sim_platform *sp)
{
	size_t total = 0, k = 0;
	uint64_t distinct = 0;
	vh_pfn_t *all;

	for (size_t i = 0; i < sp->nmaps; i++)
		total += sp->maps[i].npages;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		abort();
	for (size_t i = 0; i < sp->nmaps; i++) {
		for (uint64_t g = 0; g < sp->maps[i].npages; g++) {
			if (sp->maps[i].entries[g].prot)
				all[k++] = sp->maps[i].entries[g].pfn;
		}
	}
	qsort(all, k, sizeof(*all), cmp_pfn);
	for (size_t i = 0; i < k; i++) {
		if (i == 0 || all[i] != all[i - 1])
			distinct++;
	}
	free(all);
	return distinct;
}
