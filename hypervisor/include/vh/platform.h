/* SPDX-License-Identifier: Apache-2.0 */
/* The platform interface: everything the core needs from the machine,
 * supplied by a backend (the bare-metal kernel, the hosted daemon, the
 * simulator used by tests and vh-sim).  The core never touches hardware or
 * an OS directly; it calls these and nothing else.
 *
 * All callbacks receive `ctx`.  The core calls them with its host lock
 * held, except lock/unlock themselves; they must not call back into the
 * core. */
#ifndef VH_PLATFORM_H
#define VH_PLATFORM_H

#include "vh/types.h"

struct vh_vm;
struct vh_error;

/* Guest access rights for map(). */
#define VH_PROT_READ 0x1u
#define VH_PROT_WRITE 0x2u
#define VH_PROT_EXEC 0x4u
#define VH_PROT_RWX (VH_PROT_READ | VH_PROT_WRITE | VH_PROT_EXEC)

struct vh_platform {
	void *ctx;

	/* Monotonic time in nanoseconds. */
	uint64_t (*now_ns)(void *ctx);

	/* Optional (NULL: none; guests then see 1970).  The time of day,
	 * UTC, in nanoseconds since 1970-01-01 (the guests' CMOS clock). */
	uint64_t (*wall_ns)(void *ctx);

	/* Zeroed hypervisor metadata (VM and vCPU structures, page maps,
	 * hash tables).  NULL when exhausted.  Counted as overhead. */
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p, size_t size);

	/* The bytes of host frame pfn (pfn < host memory / 4 KiB), for
	 * zeroing, hashing, comparing and copying guest pages. */
	void *(*frame_ptr)(void *ctx, vh_pfn_t pfn);

	/* Makes guest frame gfn of vm refer to host frame pfn with the given
	 * rights (EPT entry, KVM memory mapping, simulator table); prot 0
	 * removes the mapping so the next access faults into the core.
	 * Stale translations must be gone when it returns.  Returns 0, or a
	 * negative value when the backend could not do it. */
	int (*map)(void *ctx, struct vh_vm *vm, vh_gfn_t gfn, vh_pfn_t pfn, unsigned prot);

	/* Ask pCPU `pcpu` to come back to the scheduler soon (IPI, signal,
	 * preemption-timer shortening).  May be called for the calling pCPU. */
	void (*kick)(void *ctx, unsigned pcpu);

	/* 64 random bits (sampling for the active-memory estimate). */
	uint64_t (*random)(void *ctx);

	/* The host lock that serialises entry into the core. */
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);

	/* One turn of waiting for a device's lock another pCPU holds
	 * (vh/bus.h): PAUSE, a yield.  Called without the host lock. */
	void (*lock_wait)(void *ctx);

	/* Optional (NULL: nothing to do).  Frames [pfn, pfn + n) went back
	 * to the core's free pool: a backend may return their memory to its
	 * OS (hosted punches holes in its memfd).  The core zeroes a frame
	 * before a guest sees it again, so the contents need not survive. */
	void (*release)(void *ctx, vh_pfn_t pfn, uint64_t n);

	/* Optional (NULL: nothing to do).  vh_vm_undefine() is about to free
	 * vm (it is stopped, its frames are gone): the backend drops what it
	 * keeps for it (vm->backend) and must not touch vm afterwards. */
	void (*vm_gone)(void *ctx, struct vh_vm *vm);

	/* Optional (NULL: every image is taken on trust).  vh_vm_start() is
	 * about to power vm on: the backend checks that its boot images load
	 * (the kind read from the kernel's contents, headers, sizes against
	 * its memory) and refuses with a reason naming the boot field at
	 * fault, so a bad image fails the start and leaves the VM as it was.
	 * Called with the host lock held: it must be quick (no copy). */
	int (*boot_check)(void *ctx, const struct vh_vm *vm, struct vh_error *err);

	/* One line of diagnostics, without a trailing newline. */
	void (*log)(void *ctx, const char *line);

	/* Bytes a guest wrote to its console (UART, console hypercall):
	 * the backend shows or stores them per VM. */
	void (*console)(void *ctx, struct vh_vm *vm, const char *bytes, size_t n);
};

#endif
