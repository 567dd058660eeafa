/* SPDX-License-Identifier: Apache-2.0 */
/* struct vh_platform for the hosted daemon: the core's view of Linux.
 * Time is CLOCK_MONOTONIC, metadata comes from the C heap (counted as the
 * hypervisor's overhead), frames from the memfd pool, guest mappings are
 * mmaps into the VM's KVM memory slot, kicks are signals to worker
 * threads, console bytes go to the VM's log file. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/random.h>
#include <time.h>

#include "hosted.h"
#include "vh/vm.h"

uint64_t vh_hosted_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vh_hosted_log(struct vh_hosted *d, const char *fmt, ...)
{
	char line[512];
	struct timespec ts;
	va_list ap;

	(void)d;
	clock_gettime(CLOCK_REALTIME, &ts);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf per line: lines from several threads do not mix. */
	fprintf(stderr, "vh-hosted[%ld.%03ld]: %s\n", (long)ts.tv_sec, ts.tv_nsec / 1000000, line);
}

void vh_hosted_lock(struct vh_hosted *d)
{
	/* Counted when it has to wait, so that a long job that takes the
	 * lock in batches (image_load.c) can let the waiters in first. */
	if (pthread_mutex_trylock(&d->lock) == 0)
		return;
	atomic_fetch_add(&d->lock_waiters, 1);
	pthread_mutex_lock(&d->lock);
	atomic_fetch_sub(&d->lock_waiters, 1);
}

void vh_hosted_unlock(struct vh_hosted *d)
{
	pthread_mutex_unlock(&d->lock);
}

static uint64_t p_now(void *ctx)
{
	(void)ctx;
	return vh_hosted_now();
}

/* The guests' CMOS clock reads the host's time of day. */
static uint64_t p_wall(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *p_alloc(void *ctx, size_t size)
{
	struct vh_hosted *d = ctx;
	void *p = calloc(1, size ? size : 1);

	if (p)
		atomic_fetch_add(&d->overhead_bytes, size);
	return p;
}

static void p_free(void *ctx, void *p, size_t size)
{
	struct vh_hosted *d = ctx;

	if (!p)
		return;
	atomic_fetch_sub(&d->overhead_bytes, size);
	free(p);
}

static void *p_frame_ptr(void *ctx, vh_pfn_t pfn)
{
	struct vh_hosted *d = ctx;

	return d->frames.base + pfn * VH_PAGE_SIZE;
}

static int p_map(void *ctx, struct vh_vm *vm, vh_gfn_t gfn, vh_pfn_t pfn, unsigned prot)
{
	struct vh_hosted *d = ctx;
	struct vh_hosted_vm *hvm = vm->backend;

	if (!hvm) {
		/* Nothing of this VM was ever mapped, so there is nothing to
		 * remove; a mapping needs the VM's KVM side first. */
		if (!prot)
			return 0;
		if (!(hvm = vh_hosted_vm_get(d, vm)))
			return -1;
	}
	return vh_hosted_guest_mem_map(&hvm->mem, &d->frames, gfn, pfn, prot);
}

static void p_kick(void *ctx, unsigned pcpu)
{
	vh_hosted_worker_kick(ctx, pcpu);
}

static uint64_t p_random(void *ctx)
{
	uint64_t r = 0;

	(void)ctx;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = vh_hosted_now() * 0x9e3779b97f4a7c15ull;
	return r;
}

static void p_lock(void *ctx)
{
	vh_hosted_lock(ctx);
}

static void p_unlock(void *ctx)
{
	vh_hosted_unlock(ctx);
}

/* A device's lock is held for a handful of register updates: spin a
 * little, then let the holder's thread run (it may be preempted). */
static void p_lock_wait(void *ctx)
{
	(void)ctx;
	sched_yield();
}

static void p_release(void *ctx, vh_pfn_t pfn, uint64_t n)
{
	struct vh_hosted *d = ctx;

	vh_hosted_frames_release(&d->frames, pfn, n);
}

static void p_log(void *ctx, const char *line)
{
	vh_hosted_log(ctx, "%s", line);
}

static void p_console(void *ctx, struct vh_vm *vm, const char *bytes, size_t n)
{
	struct vh_hosted_vm *hvm = vm->backend ? vm->backend : vh_hosted_vm_get(ctx, vm);

	if (hvm)
		vh_hosted_console_write(&hvm->console, bytes, n);
}

static void p_vm_gone(void *ctx, struct vh_vm *vm)
{
	vh_hosted_vm_gone(ctx, vm);
}

static int p_boot_check(void *ctx, const struct vh_vm *vm, struct vh_error *err)
{
	struct vh_hosted *d = ctx;

	return vh_hosted_boot_check(d->opt.images_dir, vm, err);
}

void vh_hosted_platform_init(struct vh_hosted *d)
{
	d->plat = (struct vh_platform){
		.ctx = d,
		.now_ns = p_now,
		.wall_ns = p_wall,
		.alloc = p_alloc,
		.free = p_free,
		.frame_ptr = p_frame_ptr,
		.map = p_map,
		.kick = p_kick,
		.random = p_random,
		.lock = p_lock,
		.unlock = p_unlock,
		.lock_wait = p_lock_wait,
		.release = p_release,
		.vm_gone = p_vm_gone,
		.boot_check = p_boot_check,
		.log = p_log,
		.console = p_console,
	};
}
