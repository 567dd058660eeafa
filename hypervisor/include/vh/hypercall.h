/* SPDX-License-Identifier: Apache-2.0 */
/* The guest ABI: how a guest finds vh (CPUID) and calls it (VMCALL or an
 * I/O-port write), and the calls it can make.  Shared by both backends and
 * by guests (tests/guests include this header: it needs only <stdint.h>).
 * Guest authors: docs/hypercalls.md.
 *
 * Detection
 *   CPUID 0x40000000: EAX = highest hypervisor leaf (0x40000001),
 *                     EBX:ECX:EDX = "vhvhvhvhvhvh".
 *   CPUID 0x40000001: EAX = ABI version (VH_HC_ABI_VERSION),
 *                     EBX = feature bits (VH_HC_FEAT_*),
 *                     ECX = the hypercall port (VH_HC_PORT), EDX = 0.
 *
 * Calling (both forms use the same registers; only at CPL 0: a call
 * from user mode gets -VH_HC_EPERM on every backend)
 *   RAX = call number, RBX, RCX, RDX, RSI = arguments;
 *   result in RAX: >= 0 success, negative = -VH_HC_E*.
 *   Other registers are preserved.
 *   - VMCALL (bare-metal vh; VH_HC_FEAT_VMCALL).
 *   - `outl %eax, $VH_HC_PORT` (every backend; VH_HC_FEAT_PORT).  Under
 *     KVM a guest VMCALL is handled inside the host kernel and never
 *     reaches user space, so the hosted backend offers only this form.
 *     Only a 4-byte write to the port is a hypercall; anything else there
 *     is an ordinary unhandled port access.
 *   A guest in 32-bit mode passes 32-bit values: backends zero-extend the
 *   argument registers and the guest reads the result from EAX (negative
 *   as a signed 32-bit value). */
#ifndef VH_HYPERCALL_H
#define VH_HYPERCALL_H

#include <stdint.h>

#define VH_CPUID_BASE 0x40000000u
#define VH_CPUID_FEATURES 0x40000001u
#define VH_CPUID_MAX_LEAF VH_CPUID_FEATURES
/* "vhvhvhvhvhvh" in EBX, ECX, EDX (little-endian "vhvh"). */
#define VH_CPUID_SIG_EBX 0x68766876u
#define VH_CPUID_SIG_ECX 0x68766876u
#define VH_CPUID_SIG_EDX 0x68766876u

#define VH_HC_ABI_VERSION 1u
#define VH_HC_FEAT_VMCALL 0x1u /* VMCALL reaches vh */
#define VH_HC_FEAT_PORT 0x2u   /* outl %eax, $VH_HC_PORT reaches vh */
/* An 8-bit port so `outl %eax, $imm8` leaves RDX free for an argument. */
#define VH_HC_PORT 0xe4u

/* Call numbers (RAX). */
enum vh_hc_number {
	VH_HC_CONSOLE_WRITE = 1,   /* RBX = gpa, RCX = len -> bytes written */
	VH_HC_BALLOON_INFLATE = 2, /* RBX = gpa of uint64_t gfns[], RCX = count -> accepted */
	VH_HC_BALLOON_DEFLATE = 3, /* same -> accepted */
	VH_HC_BALLOON_TARGET = 4,  /* -> target in 4 KiB pages */
	VH_HC_YIELD = 5,           /* -> 0; the rest of the quantum goes to others */
	VH_HC_INFO = 6,            /* RBX = gpa of struct vh_hc_info -> 0 */
	VH_HC_COUNT_
};

/* Errors, negated in RAX (Linux errno values, so they read familiar). */
#define VH_HC_EPERM 1    /* not allowed for this VM (device not configured) */
#define VH_HC_E2BIG 7    /* a count above the per-call maximum */
#define VH_HC_EFAULT 14  /* a guest-physical range outside guest memory */
#define VH_HC_EINVAL 22  /* a malformed argument (alignment, zero count) */
#define VH_HC_ENOSYS 38  /* no such call */

/* Per-call maxima: a guest cannot make one call arbitrarily long. */
#define VH_HC_CONSOLE_MAX 4096u /* longer writes are cut (bytes written says so) */
#define VH_HC_BALLOON_MAX 512u  /* gfns per call (one 4 KiB page of them) */

/* Written by VH_HC_INFO at an 8-byte aligned gpa; fields little-endian. */
struct vh_hc_info {
	uint32_t abi_version;  /* VH_HC_ABI_VERSION */
	uint32_t size;         /* sizeof(struct vh_hc_info): later fields append */
	uint32_t vm_id;
	uint32_t vcpu_count;
	uint32_t vcpu_index;   /* the calling vCPU */
	uint32_t reserved;     /* 0 */
	uint64_t memory_pages; /* configured guest memory, 4 KiB pages */
};

#ifndef VH_HC_GUEST_ONLY
/* ---- the hypervisor side (needs the core's headers) -------------------- */
#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_vcpu;

/* One hypercall, filled in by the backend: who calls, and the guest's
 * registers at the call, read from the VMCS / KVM_GET_REGS (zero-extended
 * from 32 bits outside long mode); vh_hypercall() leaves the result in rax
 * for the backend to write back, and what to do next in action.  cpl is
 * the caller's privilege level (SS.DPL): only the guest kernel (CPL 0) may
 * call, whatever the form, so a guest's user programs cannot reach the
 * hypervisor behind its kernel's back.  The core's handlers work on this
 * record itself, so a call copies nothing on its way in. */
struct vh_hypercall {
	struct vh_host *h;
	struct vh_vm *vm;
	struct vh_vcpu *vcpu;
	uint64_t rax, rbx, rcx, rdx, rsi;
	unsigned cpl;
	uint32_t action; /* enum vh_hc_action, set by vh_hypercall() */
};

/* What the backend does after the call (RAX is set either way). */
enum vh_hc_action {
	VH_HC_RESUME = 0, /* re-enter the guest after the calling instruction */
	VH_HC_YIELDED = 1 /* leave the pCPU: vh_sched_next(..., VH_SCHED_YIELDED) */
};

/* Runs one hypercall for c->vcpu of c->vm (a running VM), host lock held.
 * Every argument is validated; a bad one gets a negative RAX, never more.
 * A call from CPL > 0 gets -VH_HC_EPERM and does nothing.  Returns (and
 * leaves in c->action) what the backend does next. */
enum vh_hc_action vh_hypercall(struct vh_hypercall *c);

/* The hypervisor CPUID leaves (VH_CPUID_BASE..VH_CPUID_MAX_LEAF) with the
 * backend's hypercall forms in `features` (VH_HC_FEAT_*): fills the four
 * registers and returns 1, or returns 0 for a leaf that is not vh's. */
int vh_hypercall_cpuid(uint32_t leaf, uint32_t features, uint32_t out[4]);

/* Is this port access the I/O form of a hypercall?  Backends test it
 * before handing the access to vh_devices_io(). */
static inline int vh_hypercall_is_port(uint16_t port, unsigned size, int is_write)
{
	return port == VH_HC_PORT && size == 4 && is_write;
}
#endif

#endif
