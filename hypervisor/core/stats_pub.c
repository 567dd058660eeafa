/* SPDX-License-Identifier: Apache-2.0 */
/* The publisher of vh/stats_pub.h: the core writes the host's, the pCPUs',
 * every VM's and every vCPU's counters into an area its readers map
 * read-only.  Everything here runs under the host lock (the one writer a
 * record's sequence counter allows); the scheduler calls vh_pub_vcpu and
 * vh_pub_pcpu at every state change, so a reader adds the time since the
 * change and needs nothing else from the publisher between two changes.
 *
 * A record is built in a local copy and stored word by word with relaxed
 * atomics between the two counter stores, so no reader sees a torn word
 * and the compiler cannot move a store outside the odd window. */
#include "vh/host.h"
#include "vh/mem.h"
#include "vh/stats_pub.h"
#include "vh/string.h"
#include "vh/vm.h"

#define ALIGN_UP(x, a) (((x) + (a) - 1) / (a) * (a))

static uint64_t vm_stride(void)
{
	return ALIGN_UP(sizeof(struct vh_pub_vm) + VH_VM_MAX_VCPUS * sizeof(struct vh_pub_vcpu),
			64u);
}

size_t vh_pub_area_size(const struct vh_host *h)
{
	uint64_t n = ALIGN_UP(sizeof(struct vh_pub_header), 64u) +
		     ALIGN_UP(sizeof(struct vh_pub_host), 64u) +
		     ALIGN_UP((uint64_t)h->cfg.pcpus * sizeof(struct vh_pub_pcpu), 64u) +
		     (uint64_t)h->cfg.max_vms * vm_stride();

	return (size_t)ALIGN_UP(n, 4096u);
}

/* Stores the words of src after its sequence counter into the record at
 * dst, inside an odd window of that counter.  n: the record's bytes. */
static void publish(void *dst, const void *src, size_t n)
{
	uint64_t *d = dst;
	const uint64_t *s = src;
	uint64_t seq = __atomic_load_n(&d[0], __ATOMIC_RELAXED);

	__atomic_store_n(&d[0], seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (size_t i = 1; i < n / 8; i++)
		__atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
	__atomic_store_n(&d[0], seq + 2, __ATOMIC_RELEASE);
}

static uint8_t *area(const struct vh_host *h)
{
	return (uint8_t *)h->pub;
}

static struct vh_pub_vm *slot_rec(const struct vh_host *h, uint32_t slot)
{
	return (struct vh_pub_vm *)(area(h) + h->pub->vm_off + slot * h->pub->vm_stride);
}

static struct vh_pub_vcpu *vcpu_rec(struct vh_pub_vm *vm, uint32_t i)
{
	return (struct vh_pub_vcpu *)((uint8_t *)vm + sizeof(*vm)) + i;
}

void vh_pub_vcpu_write(struct vh_vcpu *v)
{
	const struct vh_vcpu_sched *s = &v->sched;
	struct vh_pub_vcpu r = {
		.state = (uint32_t)s->state,
		.since_ns = s->state_since,
		.used_ns = s->stats.used_ns,
		.ready_ns = s->stats.ready_ns,
		.costop_ns = s->stats.costop_ns,
		.wait_ns = s->stats.wait_ns,
		.runs = s->stats.runs,
		.limited_ns = s->stats.limited_ns,
		.stolen_ns = s->stolen_ns,
	};

	for (uint32_t k = 0; k < VH_EXIT_KIND_COUNT; k++)
		r.exits[k] = v->exits[k];
	publish(v->pub, &r, sizeof(r));
}

void vh_pub_pcpu_write(struct vh_pcpu_sched *pc)
{
	struct vh_pub_pcpu r = {
		.busy_ns = pc->stats.busy_ns,
		.idle_ns = pc->stats.idle_ns,
		.since_ns = pc->since,
		.busy = pc->current != NULL,
	};

	publish(pc->pub, &r, sizeof(r));
}

void vh_pub_vm(struct vh_host *h, struct vh_vm *vm)
{
	struct vh_pub_vm r = {
		.id = vm->id,
		.state = (uint32_t)vm->state,
		.vcpus = vm->cfg.vcpus,
		.cosched = (uint32_t)vm->cfg.cosched,
		.memory_mib = vm->cfg.memory_mib,
		.cpu_shares_level = (uint32_t)vm->cfg.cpu.shares.level,
		.cpu_shares_custom = vm->cfg.cpu.shares.custom,
		.cpu_reservation_mhz = vm->cfg.cpu.reservation_mhz,
		.cpu_limit_mhz = vm->cfg.cpu.limit_mhz,
		.mem_shares_level = (uint32_t)vm->cfg.mem.shares.level,
		.mem_shares_custom = vm->cfg.mem.shares.custom,
		.mem_reservation_mib = vm->cfg.mem.reservation_mib,
		.mem_limit_mib = vm->cfg.mem.limit_mib,
		.balloon_request_pages = vm->mem.balloon_request_pages,
		.balloon_target_pages = vm->mem.balloon_target_pages,
		.state_changes = vm->state_changes,
		.boot_generation = vm->boot_generation,
		.admission_refusals = vm->admission_refusals,
		.console_bytes = vm->guest.console_bytes,
		.console_dropped = vm->guest.console_dropped,
	};
	struct vh_mem_stats ms;

	if (!h->pub || !vm->pub)
		return;
	vh_memcpy(r.uuid, vm->cfg.uuid, sizeof(r.uuid));
	vh_strlcpy(r.name, vm->cfg.name, sizeof(r.name));
	vh_mem_vm_stats(h, vm, &ms);
	r.granted_pages = ms.granted;
	r.consumed_pages = ms.consumed;
	r.active_pages = ms.active;
	r.shared_pages = ms.shared;
	r.balloon_pages = ms.balloon;
	r.swapped_pages = ms.swapped;
	r.overhead_pages = ms.overhead;
	r.entitled_pages = ms.entitled;
	r.reclaim_target_pages = ms.reclaim_target;
	r.idle_tax_pages = ms.idle_tax;
	r.balloon_reason = ms.balloon_reason;
	publish(vm->pub, &r, sizeof(r));
}

/* The dispatcher's HOST_INFO and HOST_STATS (but the pCPU times, which
 * are their own records). */
void vh_pub_host(struct vh_host *h)
{
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_pub_host r = { .seq = 0 };

	if (!h->pub)
		return;
	vh_proto_host_info_of(h, &hi);
	vh_proto_host_stats_of(h, 0, &hs);
	r.pcpus = hi.pcpus;
	r.mhz_per_pcpu = hi.mhz_per_pcpu;
	r.memory_bytes = hi.memory_bytes;
	r.overhead_bytes = hi.overhead_bytes;
	r.cpu_capacity_mhz = hi.cpu_capacity_mhz;
	r.mem_capacity_mib = hi.mem_capacity_mib;
	r.max_vms = hi.max_vms;
	r.nvms = hi.nvms;
	r.npowered_on = hs.npowered_on;
	r.page_size = hi.page_size;
	r.reserved_mhz = hs.reserved_mhz;
	r.reserved_mib = hs.reserved_mib;
	r.total_pages = hs.mem.total;
	r.free_pages = hs.mem.free;
	r.reserved_pages = hs.mem.reserved;
	r.shared_saved_pages = hs.mem.shared_saved;
	vh_memcpy(r.vh_version, hi.vh_version, sizeof(r.vh_version));
	r.version_min = hi.version_min;
	r.version_max = hi.version_max;
	r.max_vcpus = hi.max_vcpus;
	r.max_modules = hi.max_modules;
	r.max_devices = hi.max_devices;
	r.max_msg = hi.max_msg;
	r.max_memory_mib = hi.max_memory_mib;
	publish(area(h) + h->pub->host_off, &r, sizeof(r));
}

void vh_pub_tick(struct vh_host *h, uint64_t now)
{
	if (!h->pub)
		return;
	__atomic_store_n(&h->pub->heartbeat_ns, now, __ATOMIC_RELAXED);
	vh_pub_host(h);
	for (uint32_t i = 0; i < h->cfg.pcpus; i++)
		vh_pub_pcpu(&h->sched.pcpus[i]);
	for (struct vh_vm *v = h->vm_first; v; v = v->id_next)
		vh_pub_vm(h, v);
}

/* A slot changes hands inside an odd window of the generation, so a
 * reader that walked the slots or matched a name to one can tell. */
static void generation_bump(struct vh_host *h)
{
	uint64_t g = __atomic_load_n(&h->pub->generation, __ATOMIC_RELAXED);

	__atomic_store_n(&h->pub->generation, g + 1, __ATOMIC_RELEASE);
}

void vh_pub_vm_added(struct vh_host *h, struct vh_vm *vm, uint32_t slot)
{
	if (!h->pub || slot >= h->pub->max_vms)
		return;
	generation_bump(h);
	vm->pub = slot_rec(h, slot);
	for (uint32_t i = 0; i < vm->cfg.vcpus && i < h->pub->max_vcpus; i++) {
		vm->vcpus[i].pub = vcpu_rec(vm->pub, i);
		vh_pub_vcpu(&vm->vcpus[i]);
	}
	vh_pub_vm(h, vm);
	generation_bump(h);
	vh_pub_host(h);
}

void vh_pub_vm_removed(struct vh_host *h, struct vh_vm *vm)
{
	struct vh_pub_vm gone = { .id = 0 };

	if (!h->pub || !vm->pub)
		return;
	generation_bump(h);
	publish(vm->pub, &gone, sizeof(gone));
	vm->pub = NULL;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++)
		vm->vcpus[i].pub = NULL;
	generation_bump(h);
	vh_pub_host(h);
}

void vh_pub_msg(struct vh_host *h, uint32_t type)
{
	if (h->pub && type < VH_PUB_MSG_SLOTS)
		__atomic_fetch_add(&h->pub->msgs[type], 1, __ATOMIC_RELAXED);
}

int vh_pub_attach(struct vh_host *h, void *base, size_t size, uint32_t clock)
{
	struct vh_pub_header *hd = base;
	uint64_t at = ALIGN_UP(sizeof(*hd), 64u);

	if (!base || ((uintptr_t)base & 7) || size < vh_pub_area_size(h))
		return -1;
	hd->magic = VH_PUB_MAGIC;
	hd->version = VH_PUB_VERSION;
	hd->size = size;
	hd->instance = h->cfg.instance;
	hd->clock = clock;
	hd->max_vms = h->cfg.max_vms;
	hd->max_vcpus = VH_VM_MAX_VCPUS;
	hd->max_pcpus = h->cfg.pcpus;
	hd->host_size = sizeof(struct vh_pub_host);
	hd->pcpu_size = sizeof(struct vh_pub_pcpu);
	hd->vm_size = sizeof(struct vh_pub_vm);
	hd->vcpu_size = sizeof(struct vh_pub_vcpu);
	hd->host_off = at;
	at += ALIGN_UP(sizeof(struct vh_pub_host), 64u);
	hd->pcpu_off = at;
	at += ALIGN_UP((uint64_t)h->cfg.pcpus * sizeof(struct vh_pub_pcpu), 64u);
	hd->vm_off = at;
	hd->vm_stride = vm_stride();
	h->pub = hd;
	for (uint32_t i = 0; i < h->cfg.pcpus; i++)
		h->sched.pcpus[i].pub = (struct vh_pub_pcpu *)(area(h) + hd->pcpu_off) + i;
	for (uint32_t slot = 0; slot < h->cfg.max_vms; slot++)
		if (h->vms[slot])
			vh_pub_vm_added(h, h->vms[slot], slot);
	vh_pub_tick(h, h->plat->now_ns(h->plat->ctx));
	return 0;
}

void vh_pub_detach(struct vh_host *h)
{
	if (!h->pub)
		return;
	vh_pub_tick(h, h->plat->now_ns(h->plat->ctx));
	__atomic_store_n(&h->pub->closed, 1u, __ATOMIC_RELEASE);
	for (uint32_t i = 0; i < h->cfg.pcpus; i++)
		h->sched.pcpus[i].pub = NULL;
	for (struct vh_vm *v = h->vm_first; v; v = v->id_next) {
		v->pub = NULL;
		for (uint32_t i = 0; i < v->cfg.vcpus; i++)
			v->vcpus[i].pub = NULL;
	}
	h->pub = NULL;
}
