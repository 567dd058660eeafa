/* SPDX-License-Identifier: Apache-2.0 */
/* A reader of vh/stats_pub.h's published counters: the header checked
 * once, records copied out under their sequence counters, and the same
 * structures the protocol's decoder gives (vh_proto_host_info,
 * vh_proto_vm_summary, vh_proto_vm_stats ...), so a client serves either
 * source with the same code.  Part of libvhproto.a: no state, no libc.
 *
 * The area is another process's memory that it keeps writing: every
 * offset is checked against the size before the first read, counts read
 * from records are clamped to what the header laid out, and nothing read
 * is trusted to be terminated or in range. */
#include "vh/stats_pub.h"
#include "vh/string.h"

/* Whole structures cleared by the compiler's memset (glibc's in user
 * space, compiler_rt.c's in the kernel), not vh_memset's byte loop: a
 * GET /v1/stats clears two per VM. */
#define ZERO(p) __builtin_memset((p), 0, sizeof(*(p)))

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Copies n bytes (a multiple of 8) of the record at src into dst, with a
 * consistent sequence counter around them.  VH_E_BUSY after
 * VH_PUB_READ_TRIES tries that saw the record change. */
static int copy_rec(struct vh_pub_view *v, void *dst, const void *src, size_t n)
{
	const uint64_t *s = src;
	uint64_t *d = dst;

	for (uint32_t t = 0; t < VH_PUB_READ_TRIES; t++) {
		uint64_t s0 = __atomic_load_n(&s[0], __ATOMIC_ACQUIRE), s1;

		if (!(s0 & 1)) {
			for (size_t i = 1; i < n / 8; i++)
				d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			s1 = __atomic_load_n(&s[0], __ATOMIC_RELAXED);
			if (s0 == s1) {
				d[0] = s0;
				return VH_OK;
			}
		}
		v->retries++;
		relax();
	}
	return VH_E_BUSY;
}

/* off + n bytes inside size, without overflow. */
static bool inside(uint64_t off, uint64_t n, uint64_t size)
{
	return off <= size && n <= size - off;
}

int vh_pub_open(struct vh_pub_view *v, const void *base, size_t size, struct vh_error *err)
{
	struct vh_pub_header h;
	uint64_t vms;

	vh_memset(v, 0, sizeof(*v));
	if (!base || ((uintptr_t)base & 7) || size < sizeof(h))
		return vh_error_set(err, VH_E_PROTO, "the area is smaller than its header");
	/* One copy, checked and kept: the live header is not read again for
	 * the layout. */
	__builtin_memcpy(&h, base, offsetof(struct vh_pub_header, generation));
	if (h.magic != VH_PUB_MAGIC || h.version != VH_PUB_VERSION)
		return vh_error_set(err, VH_E_PROTO, "magic 0x%x version %u: not layout version %u",
				    h.magic, h.version, VH_PUB_VERSION);
	if (h.clock != VH_PUB_CLOCK_MONOTONIC)
		return vh_error_set(err, VH_E_PROTO, "clock %u is not one this reader knows",
				    h.clock);
	if (h.size > size)
		return vh_error_set(err, VH_E_PROTO, "the header says %llu bytes, %llu mapped",
				    (unsigned long long)h.size, (unsigned long long)size);
	/* Records may have grown at their end; never shrunk. */
	if (h.host_size < sizeof(struct vh_pub_host) || h.pcpu_size < sizeof(struct vh_pub_pcpu) ||
	    h.vm_size < sizeof(struct vh_pub_vm) || h.vcpu_size < sizeof(struct vh_pub_vcpu) ||
	    (h.host_size | h.pcpu_size | h.vm_size | h.vcpu_size) & 7 ||
	    ((h.host_off | h.pcpu_off | h.vm_off | h.vm_stride) & 7))
		return vh_error_set(err, VH_E_PROTO, "record sizes or offsets out of layout");
	if (h.max_vcpus > VH_VM_MAX_VCPUS || h.max_pcpus > VH_HOST_MAX_PCPUS ||
	    h.max_vms > VH_HOST_MAX_VMS)
		return vh_error_set(err, VH_E_PROTO, "more VMs, vCPUs or pCPUs than a host has");
	vms = (uint64_t)h.max_vms * h.vm_stride;
	if (h.vm_stride < h.vm_size + (uint64_t)h.max_vcpus * h.vcpu_size ||
	    !inside(h.host_off, h.host_size, h.size) ||
	    !inside(h.pcpu_off, (uint64_t)h.max_pcpus * h.pcpu_size, h.size) ||
	    !inside(h.vm_off, vms, h.size))
		return vh_error_set(err, VH_E_PROTO, "records past the area's end");
	v->base = base;
	v->size = size;
	v->hdr = base;
	v->lay = (struct vh_pub_layout){
		.host_off = h.host_off,
		.pcpu_off = h.pcpu_off,
		.vm_off = h.vm_off,
		.vm_stride = h.vm_stride,
		.max_vms = h.max_vms,
		.max_vcpus = h.max_vcpus,
		.max_pcpus = h.max_pcpus,
		.pcpu_size = h.pcpu_size,
		.vm_size = h.vm_size,
		.vcpu_size = h.vcpu_size,
	};
	return VH_OK;
}

bool vh_pub_live(const struct vh_pub_view *v)
{
	return v->hdr && !__atomic_load_n(&v->hdr->closed, __ATOMIC_ACQUIRE);
}

uint64_t vh_pub_generation(const struct vh_pub_view *v)
{
	return __atomic_load_n(&v->hdr->generation, __ATOMIC_ACQUIRE);
}

uint64_t vh_pub_msgs(const struct vh_pub_view *v, uint32_t type)
{
	return type < VH_PUB_MSG_SLOTS ? __atomic_load_n(&v->hdr->msgs[type], __ATOMIC_RELAXED)
				       : 0;
}

static const uint8_t *slot_at(const struct vh_pub_view *v, uint32_t slot)
{
	return v->base + v->lay.vm_off + (uint64_t)slot * v->lay.vm_stride;
}

static const uint8_t *vcpu_at(const struct vh_pub_view *v, uint32_t slot, uint32_t i)
{
	return slot_at(v, slot) + v->lay.vm_size + (uint64_t)i * v->lay.vcpu_size;
}

static uint64_t since(uint64_t now, uint64_t t)
{
	return now > t ? now - t : 0;
}

int vh_pub_read_host(struct vh_pub_view *v, uint64_t now, struct vh_proto_host_info *hi,
		     struct vh_proto_host_stats *hs, struct vh_pcpu_stats *pcpus,
		     uint32_t max_pcpus, uint32_t *npcpus)
{
	const struct vh_pub_layout *h = &v->lay;
	struct vh_pub_host r;
	uint32_t n;
	int rc;

	if ((rc = copy_rec(v, &r, v->base + h->host_off, sizeof(r))))
		return rc;
	ZERO(hi);
	hi->version_min = r.version_min;
	hi->version_max = r.version_max;
	hi->page_size = r.page_size;
	vh_memcpy(hi->vh_version, r.vh_version, sizeof(hi->vh_version));
	hi->vh_version[sizeof(hi->vh_version) - 1] = '\0';
	hi->pcpus = r.pcpus;
	hi->mhz_per_pcpu = r.mhz_per_pcpu;
	hi->memory_bytes = r.memory_bytes;
	hi->overhead_bytes = r.overhead_bytes;
	hi->cpu_capacity_mhz = r.cpu_capacity_mhz;
	hi->mem_capacity_mib = r.mem_capacity_mib;
	hi->max_vms = r.max_vms;
	hi->nvms = r.nvms;
	hi->max_vcpus = r.max_vcpus;
	hi->max_modules = r.max_modules;
	hi->max_devices = r.max_devices;
	hi->max_msg = r.max_msg;
	hi->max_memory_mib = r.max_memory_mib;
	hi->instance = v->hdr->instance;
	ZERO(hs);
	hs->now_ns = now;
	hs->pcpus = r.pcpus;
	hs->nvms = r.nvms;
	hs->npowered_on = r.npowered_on;
	hs->reserved_mhz = r.reserved_mhz;
	hs->reserved_mib = r.reserved_mib;
	hs->cpu_capacity_mhz = r.cpu_capacity_mhz;
	hs->mem_capacity_mib = r.mem_capacity_mib;
	hs->mem.total = r.total_pages;
	hs->mem.free = r.free_pages;
	hs->mem.reserved = r.reserved_pages;
	hs->mem.shared_saved = r.shared_saved_pages;
	n = r.pcpus < h->max_pcpus ? r.pcpus : h->max_pcpus;
	if (npcpus)
		*npcpus = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct vh_pub_pcpu p;
		struct vh_pcpu_stats ps;

		if ((rc = copy_rec(v, &p, v->base + h->pcpu_off + (uint64_t)i * h->pcpu_size,
				   sizeof(p))))
			return rc;
		ps.busy_ns = p.busy_ns + (p.busy ? since(now, p.since_ns) : 0);
		ps.idle_ns = p.idle_ns + (p.busy ? 0 : since(now, p.since_ns));
		hs->busy_ns += ps.busy_ns;
		hs->idle_ns += ps.idle_ns;
		if (pcpus && npcpus && *npcpus < max_pcpus)
			pcpus[(*npcpus)++] = ps;
	}
	return VH_OK;
}

static void summary_of(const struct vh_pub_vm *r, struct vh_proto_vm_summary *s)
{
	ZERO(s);
	s->id = r->id;
	s->state = r->state;
	vh_memcpy(s->uuid, r->uuid, sizeof(s->uuid));
	vh_memcpy(s->name, r->name, sizeof(s->name));
	s->name[sizeof(s->name) - 1] = '\0';
	s->vcpus = r->vcpus;
	s->cosched = r->cosched;
	s->memory_mib = r->memory_mib;
	s->cpu.shares.level = (enum vh_shares_level)r->cpu_shares_level;
	s->cpu.shares.custom = r->cpu_shares_custom;
	s->cpu.reservation_mhz = r->cpu_reservation_mhz;
	s->cpu.limit_mhz = r->cpu_limit_mhz;
	s->mem.shares.level = (enum vh_shares_level)r->mem_shares_level;
	s->mem.shares.custom = r->mem_shares_custom;
	s->mem.reservation_mib = r->mem_reservation_mib;
	s->mem.limit_mib = r->mem_limit_mib;
	s->balloon_request_pages = r->balloon_request_pages;
	s->balloon_target_pages = r->balloon_target_pages;
	s->state_changes = r->state_changes;
	s->boot_generation = r->boot_generation;
}

static void stats_of(const struct vh_pub_vm *r, struct vh_proto_vm_stats *st)
{
	ZERO(st);
	st->id = r->id;
	st->state = r->state;
	st->mem.granted = r->granted_pages;
	st->mem.consumed = r->consumed_pages;
	st->mem.active = r->active_pages;
	st->mem.shared = r->shared_pages;
	st->mem.balloon = r->balloon_pages;
	st->mem.swapped = r->swapped_pages;
	st->mem.overhead = r->overhead_pages;
	st->mem.entitled = r->entitled_pages;
	st->mem.reclaim_target = r->reclaim_target_pages;
	st->mem.idle_tax = r->idle_tax_pages;
	st->mem.balloon_reason = r->balloon_reason;
	st->console_bytes = r->console_bytes;
	st->console_dropped = r->console_dropped;
	st->admission_refusals = r->admission_refusals;
}

/* One vCPU's times at now: the settled ones plus the time in its state
 * since it began. */
static void vcpu_cpu(const struct vh_pub_vcpu *c, uint64_t now, struct vh_cpu_stats *out)
{
	*out = (struct vh_cpu_stats){
		.used_ns = c->used_ns,
		.ready_ns = c->ready_ns,
		.costop_ns = c->costop_ns,
		.wait_ns = c->wait_ns,
		.runs = c->runs,
		.limited_ns = c->limited_ns,
		.stolen_ns = c->stolen_ns,
	};
	vh_cpu_stats_add_state(out, (int)c->state, since(now, c->since_ns));
}

static int read_vm_once(struct vh_pub_view *v, uint32_t slot, uint64_t now,
			struct vh_proto_vm_summary *s, struct vh_proto_vm_stats *st,
			struct vh_proto_vcpu_stats *vcpus, uint32_t *nvcpus)
{
	struct vh_pub_vm r;
	uint32_t n;
	int rc;

	if ((rc = copy_rec(v, &r, slot_at(v, slot), sizeof(r))))
		return rc;
	if (!r.id)
		return VH_E_NOENT;
	if (s)
		summary_of(&r, s);
	stats_of(&r, st);
	n = r.vcpus < v->lay.max_vcpus ? r.vcpus : v->lay.max_vcpus;
	for (uint32_t i = 0; i < n; i++) {
		struct vh_pub_vcpu c;
		struct vh_cpu_stats cs;

		if ((rc = copy_rec(v, &c, vcpu_at(v, slot, i), sizeof(c))))
			return rc;
		vcpu_cpu(&c, now, &cs);
		st->cpu.used_ns += cs.used_ns;
		st->cpu.ready_ns += cs.ready_ns;
		st->cpu.costop_ns += cs.costop_ns;
		st->cpu.wait_ns += cs.wait_ns;
		st->cpu.runs += cs.runs;
		st->cpu.limited_ns += cs.limited_ns;
		st->cpu.stolen_ns += cs.stolen_ns;
		for (uint32_t k = 0; k < VH_PROTO_EXIT_SLOTS; k++)
			st->exits[k] += c.exits[k];
		if (vcpus)
			vcpus[i] = (struct vh_proto_vcpu_stats){ .index = i, .cpu = cs };
	}
	if (nvcpus)
		*nvcpus = n;
	return VH_OK;
}

int vh_pub_read_vm(struct vh_pub_view *v, uint32_t slot, uint64_t now,
		   struct vh_proto_vm_summary *s, struct vh_proto_vm_stats *st,
		   struct vh_proto_vcpu_stats *vcpus, uint32_t *nvcpus)
{
	if (slot >= v->lay.max_vms)
		return VH_E_NOENT;
	/* The VM and its vCPUs are separate records: a slot that changed
	 * hands between them (the generation moved) is read again. */
	for (uint32_t t = 0; t < VH_PUB_READ_TRIES; t++) {
		uint64_t g = vh_pub_generation(v);
		int rc;

		if (g & 1) {
			relax();
			continue;
		}
		rc = read_vm_once(v, slot, now, s, st, vcpus, nvcpus);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (rc == VH_E_BUSY || vh_pub_generation(v) == g)
			return rc;
		v->retries++;
	}
	return VH_E_BUSY;
}

uint32_t vh_pub_slot_id(const struct vh_pub_view *v, uint32_t slot)
{
	const struct vh_pub_vm *r;

	if (slot >= v->lay.max_vms)
		return 0;
	r = (const struct vh_pub_vm *)slot_at(v, slot);
	return __atomic_load_n(&r->id, __ATOMIC_RELAXED);
}

static bool matches(const struct vh_pub_vm *r, const struct vh_proto_vm_ref *ref)
{
	switch (ref->kind) {
	case VH_PROTO_REF_ID: return r->id == ref->id;
	case VH_PROTO_REF_UUID: return vh_memcmp(r->uuid, ref->uuid, 16) == 0;
	case VH_PROTO_REF_NAME:
		return vh_strncmp(r->name, ref->name, sizeof(r->name)) == 0 &&
		       r->name[sizeof(r->name) - 1] == '\0';
	}
	return false;
}

int vh_pub_find(struct vh_pub_view *v, const struct vh_proto_vm_ref *ref)
{
	for (uint32_t slot = 0; slot < v->lay.max_vms; slot++) {
		struct vh_pub_vm r;

		if (!vh_pub_slot_id(v, slot))
			continue;
		if (copy_rec(v, &r, slot_at(v, slot), sizeof(r)) == VH_OK && r.id &&
		    matches(&r, ref))
			return (int)slot;
	}
	return -1;
}

bool vh_pub_slot_is(struct vh_pub_view *v, uint32_t slot, const struct vh_proto_vm_ref *ref)
{
	struct vh_pub_vm r;

	return slot < v->lay.max_vms && copy_rec(v, &r, slot_at(v, slot), sizeof(r)) == VH_OK &&
	       r.id && matches(&r, ref);
}
