/* SPDX-License-Identifier: Apache-2.0 */
/* Hypercall dispatch: the guest ABI of vh/hypercall.h.  A guest can put
 * anything in its registers, so every call validates every argument before
 * acting: ranges must lie inside guest memory, counts within the per-call
 * maxima, arrays aligned; a bad argument gets a negative error in RAX and
 * changes nothing.  Guest memory is reached only through
 * vh_mem_guest_read/write, so the memory manager's rules hold. */
#include "vh/hypercall.h"
#include "vh/host.h"
#include "vh/string.h"
#include "vh/vm.h"

static int64_t err_of(int e)
{
	return -(int64_t)e;
}

/* RBX = gpa, RCX = len: copies up to VH_HC_CONSOLE_MAX bytes to the
 * console through a bounded buffer, so a long write costs a bounded
 * amount of hypervisor stack and time. */
static int64_t hc_console_write(struct vh_hypercall *c)
{
	uint64_t gpa = c->rbx, len = c->rcx, done = 0;
	char buf[256];

	if (len > VH_HC_CONSOLE_MAX)
		len = VH_HC_CONSOLE_MAX;
	if (!vh_mem_guest_range_ok(c->vm, gpa, len))
		return err_of(VH_HC_EFAULT);
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? (size_t)(len - done) : sizeof(buf);
		if (vh_mem_guest_read(c->h, c->vm, gpa + done, buf, n, NULL))
			return done ? (int64_t)done : err_of(VH_HC_EFAULT);
		vh_vm_console_write(c->h, c->vm, buf, n);
		done += n;
	}
	return (int64_t)done;
}

/* RBX = gpa of uint64_t gfns[RCX]. */
static int64_t hc_balloon(struct vh_hypercall *c, bool inflate)
{
	uint64_t gpa = c->rbx, count = c->rcx;
	vh_gfn_t gfns[VH_HC_BALLOON_MAX];

	if (!vh_vm_has_device(c->vm, VH_DEV_BALLOON))
		return err_of(VH_HC_EPERM);
	if (count > VH_HC_BALLOON_MAX)
		return err_of(VH_HC_E2BIG);
	if (gpa & 7)
		return err_of(VH_HC_EINVAL);
	if (!vh_mem_guest_range_ok(c->vm, gpa, count * sizeof(vh_gfn_t)))
		return err_of(VH_HC_EFAULT);
	if (count == 0)
		return 0;
	if (vh_mem_guest_read(c->h, c->vm, gpa, gfns, count * sizeof(vh_gfn_t), NULL))
		return err_of(VH_HC_EFAULT);
	/* The memory manager skips gfns outside guest memory and pages
	 * already in the state asked for, and counts only what it took:
	 * duplicates and wild gfns are harmless. */
	return (int64_t)(inflate ? vh_mem_balloon_inflate(c->h, c->vm, gfns, count)
				 : vh_mem_balloon_deflate(c->h, c->vm, gfns, count));
}

static int64_t hc_balloon_inflate(struct vh_hypercall *c)
{
	return hc_balloon(c, true);
}

static int64_t hc_balloon_deflate(struct vh_hypercall *c)
{
	return hc_balloon(c, false);
}

static int64_t hc_balloon_target(struct vh_hypercall *c)
{
	if (!vh_vm_has_device(c->vm, VH_DEV_BALLOON))
		return err_of(VH_HC_EPERM);
	return (int64_t)c->vm->mem.balloon_target_pages;
}

static int64_t hc_yield(struct vh_hypercall *c)
{
	c->action = VH_HC_YIELDED;
	return 0;
}

static int64_t hc_info(struct vh_hypercall *c)
{
	uint64_t gpa = c->rbx;
	struct vh_hc_info info = {
		.abi_version = VH_HC_ABI_VERSION,
		.size = sizeof(info),
		.vm_id = c->vm->id,
		.vcpu_count = c->vm->cfg.vcpus,
		.vcpu_index = c->vcpu ? c->vcpu->index : 0,
		.memory_pages = c->vm->mem.pages,
	};

	if (gpa & 7)
		return err_of(VH_HC_EINVAL);
	if (!vh_mem_guest_range_ok(c->vm, gpa, sizeof(info)))
		return err_of(VH_HC_EFAULT);
	if (vh_mem_guest_write(c->h, c->vm, gpa, &info, sizeof(info), NULL))
		return err_of(VH_HC_EFAULT);
	return 0;
}

/* Numbers the ABI does not define (0). */
static int64_t hc_nosys(struct vh_hypercall *c)
{
	(void)c;
	return err_of(VH_HC_ENOSYS);
}

/* Every number below VH_HC_COUNT_ has a function (hc_nosys where the ABI
 * defines none): the dispatch is a bound check and an indirect call. */
static int64_t (*const calls[VH_HC_COUNT_])(struct vh_hypercall *c) = {
	[0] = hc_nosys,
	[VH_HC_CONSOLE_WRITE] = hc_console_write,
	[VH_HC_BALLOON_INFLATE] = hc_balloon_inflate,
	[VH_HC_BALLOON_DEFLATE] = hc_balloon_deflate,
	[VH_HC_BALLOON_TARGET] = hc_balloon_target,
	[VH_HC_YIELD] = hc_yield,
	[VH_HC_INFO] = hc_info,
};
VH_STATIC_ASSERT(VH_HC_INFO + 1 == VH_HC_COUNT_, "a function for every hypercall number");

enum vh_hc_action vh_hypercall(struct vh_hypercall *c)
{
	int64_t r;

	c->vm->guest.hypercalls++;
	c->action = VH_HC_RESUME;
	if (c->vm->state != VH_VM_RUNNING || c->cpl != 0)
		r = err_of(VH_HC_EPERM);
	else if (c->rax < VH_HC_COUNT_)
		r = calls[c->rax](c);
	else
		r = err_of(VH_HC_ENOSYS);
	if (r < 0)
		c->vm->guest.hypercall_errors++;
	c->rax = (uint64_t)r;
	return (enum vh_hc_action)c->action;
}

int vh_hypercall_cpuid(uint32_t leaf, uint32_t features, uint32_t out[4])
{
	switch (leaf) {
	case VH_CPUID_BASE:
		out[0] = VH_CPUID_MAX_LEAF;
		out[1] = VH_CPUID_SIG_EBX;
		out[2] = VH_CPUID_SIG_ECX;
		out[3] = VH_CPUID_SIG_EDX;
		return 1;
	case VH_CPUID_FEATURES:
		out[0] = VH_HC_ABI_VERSION;
		out[1] = features & (VH_HC_FEAT_VMCALL | VH_HC_FEAT_PORT);
		out[2] = VH_HC_PORT;
		out[3] = 0;
		return 1;
	default: return 0;
	}
}
