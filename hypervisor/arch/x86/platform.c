/* SPDX-License-Identifier: Apache-2.0 */
/* Frames are the RAM memlayout.c left for guests, numbered 0..N-1 across
 * its ranges and reached through the identity map; metadata comes from the
 * kernel heap; map() edits the VM's EPT tree and shoots down stale
 * translations; kick() is an IPI; time is the calibrated TSC. */
#include <stdint.h>

#include "bmvm.h"
#include "apic.h"
#include "cmos.h"
#include "console.h"
#include "cpu.h"
#include "ept.h"
#include "heap.h"
#include "memlayout.h"
#include "percpu.h"
#include "platform.h"
#include "spinlock.h"
#include "trap.h"
#include "tsc.h"
#include "vh/vm.h"

#define RDRAND_RETRIES 10

struct vh_spinlock vh_host_lock;

struct kplatform {
	struct vh_spinlock rng_lock;
	bool rdrand;
	uint64_t rng_state;
	volatile uint64_t core_bytes;
};

static struct kplatform kp;
static struct vh_platform plat;

static uint64_t k_now(void *ctx)
{
	(void)ctx;
	return vh_now_ns();
}

static uint64_t k_wall(void *ctx)
{
	(void)ctx;
	return vh_cmos_wall_ns();
}

static void *k_alloc(void *ctx, size_t size)
{
	void *p = vh_heap_alloc(size, 16);

	(void)ctx;
	if (p)
		__atomic_add_fetch(&kp.core_bytes, size, __ATOMIC_RELAXED);
	return p;
}

static void k_free(void *ctx, void *p, size_t size)
{
	(void)ctx;
	if (!p)
		return;
	vh_heap_free(p, size);
	__atomic_sub_fetch(&kp.core_bytes, size, __ATOMIC_RELAXED);
}

static void *k_frame_ptr(void *ctx, vh_pfn_t pfn)
{
	(void)ctx;
	if (pfn >= vh_mem.nframes)
		vh_panic("platform: frame %llu beyond the %llu host frames",
			 (unsigned long long)pfn, (unsigned long long)vh_mem.nframes);
	return (void *)(uintptr_t)vh_frame_phys(pfn);
}

static int k_map(void *ctx, struct vh_vm *vm, vh_gfn_t gfn, vh_pfn_t pfn, unsigned prot)
{
	struct vh_bmvm *b = vh_bmvm_get(vm);
	bool stale;
	uint64_t hpa = 0;

	(void)ctx;
	if (!b)
		return -1;
	if (prot) {
		if (pfn >= vh_mem.nframes)
			return -1;
		hpa = vh_frame_phys(pfn);
	}
	if (!vh_ept_set(&b->ept, gfn << VH_PAGE_SHIFT, hpa, prot & VH_PROT_RWX, &stale))
		return -1;
	/* A removed, write-protected (page sharing) or moved entry: no CPU
	 * may go on using the old translation once map() returns. */
	if (stale)
		vh_ept_sync(&b->ept);
	return 0;
}

static void k_kick(void *ctx, unsigned pcpu)
{
	(void)ctx;
	if (pcpu >= vh_ncpus)
		return;
	vh_cpus[pcpu].kicked = true;
	if (pcpu != vh_this_cpu()->index)
		vh_apic_send_ipi(vh_cpus[pcpu].apic_id, VH_VEC_KICK);
}

static bool rdrand64(uint64_t *v)
{
	for (int i = 0; i < RDRAND_RETRIES; i++) {
		bool ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
		if (ok)
			return true;
	}
	return false;
}

/* RDRAND where the CPU has it (and it delivers), else xorshift64* seeded
 * from the TSC at boot: the core only samples pages with it. */
static uint64_t k_random(void *ctx)
{
	uint64_t v;

	(void)ctx;
	if (kp.rdrand && rdrand64(&v))
		return v;
	vh_spin_lock(&kp.rng_lock);
	uint64_t x = kp.rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	kp.rng_state = x;
	vh_spin_unlock(&kp.rng_lock);
	return x * 0x2545f4914f6cdd1dull;
}

static void k_lock(void *ctx)
{
	(void)ctx;
	vh_spin_lock(&vh_host_lock);
}

static void k_unlock(void *ctx)
{
	(void)ctx;
	vh_spin_unlock(&vh_host_lock);
}

static void k_lock_wait(void *ctx)
{
	(void)ctx;
	cpu_relax();
}

static void k_vm_gone(void *ctx, struct vh_vm *vm)
{
	(void)ctx;
	vh_bmvm_destroy(vm);
}

static void k_log(void *ctx, const char *line)
{
	(void)ctx;
	vh_console_printf("vh: %s\n", line);
}

static void flush_line(struct vh_vm *vm, struct vh_bmvm *b)
{
	vh_console_printf("%s| %.*s\n", vm->cfg.name, (int)b->line_len, b->line);
	b->line_len = 0;
}

/* Guest output arrives byte by byte (UART) or in chunks (hypercall);
 * whole lines keep several VMs' output readable on one console. */
static void k_console(void *ctx, struct vh_vm *vm, const char *bytes, size_t n)
{
	struct vh_bmvm *b = vh_bmvm_get(vm);

	(void)ctx;
	if (!b)
		return;
	for (size_t i = 0; i < n; i++) {
		char c = bytes[i];
		if (c == '\n') {
			flush_line(vm, b);
			continue;
		}
		if (c == '\r')
			continue;
		/* Control bytes would let a guest forge hypervisor lines. */
		b->line[b->line_len++] = (c >= 0x20 && c < 0x7f) || c == '\t' ? c : '?';
		if (b->line_len == VH_BMVM_LINE_MAX)
			flush_line(vm, b);
	}
}

/* Before power-on: the module's image, initrd and command line planned
 * against the VM's memory, so a bad image is refused with its reason
 * before the VM starts (the job lives on this stack only for the check). */
static int k_boot_check(void *ctx, const struct vh_vm *vm, struct vh_error *err)
{
	struct vh_bmvm *b = vh_bmvm_get((struct vh_vm *)vm);
	struct vh_loader_args a;
	struct vh_loader_job job;

	(void)ctx;
	if (!b || !b->image)
		return VH_OK; /* no image: the first run says so */
	vh_bmvm_loader_args(b, &a);
	return vh_loader_prepare(vm->cfg.memory_mib * VH_MIB, &a, &job, err);
}

const struct vh_platform *vh_kplatform_init(void)
{
	kp.rdrand = (cpuid_ecx(1) & CPUID1_ECX_RDRAND) != 0;
	kp.rng_state = rdtsc() | 1;
	plat = (struct vh_platform){
		.ctx = &kp,
		.now_ns = k_now,
		.wall_ns = k_wall,
		.alloc = k_alloc,
		.free = k_free,
		.frame_ptr = k_frame_ptr,
		.map = k_map,
		.kick = k_kick,
		.random = k_random,
		.lock = k_lock,
		.unlock = k_unlock,
		.lock_wait = k_lock_wait,
		.release = 0,
		.vm_gone = k_vm_gone,
		.boot_check = k_boot_check,
		.log = k_log,
		.console = k_console,
	};
	return &plat;
}

uint64_t vh_kplatform_core_bytes(void)
{
	return kp.core_bytes;
}
