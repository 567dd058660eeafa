/* SPDX-License-Identifier: Apache-2.0 */
/* Hypervisor access to guest-physical memory (loaders, hypercalls, device
 * models).  It goes through the guest map and, where a guest access would
 * fault, through vh_mem_fault() itself, so every page-state rule (zeroed
 * first touch, copy on write of shared pages, ballooned pages coming back,
 * limits and entitlement) applies to the hypervisor's writes exactly as to
 * the guest's: nothing here bypasses the memory manager's accounting. */
#include "mem_internal.h"
#include "vh/string.h"

bool vh_mem_guest_range_ok(const struct vh_vm *vm, uint64_t gpa, uint64_t len)
{
	return vh_layout_ram_range(&vm->mem.layout, gpa, len);
}

static int check(struct vh_vm *vm, uint64_t gpa, size_t len, const char *what,
		 struct vh_error *err)
{
	if (!vh_mem_vm_running(vm))
		return vh_error_set(err, VH_E_STATE, "guest %s: VM \"%s\" is not running", what,
				    vm->cfg.name);
	if (!vh_mem_guest_range_ok(vm, gpa, len))
		return vh_error_set(
		    err, VH_E_INVAL,
		    "guest %s: %#llx + %#llx is outside the VM's %llu MiB of memory", what,
		    (unsigned long long)gpa, (unsigned long long)len,
		    (unsigned long long)vm->cfg.memory_mib);
	return VH_OK;
}

/* The bytes of guest page gfn with the access wanted in *out, faulting it
 * in like a guest access would; an error when the host refused. */
static int page_for(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, bool write, uint8_t **out,
		    struct vh_error *err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t *e = vh_p2m_entry(h, vm, gfn, false);
		uint64_t st = e ? vh_p2m_state(*e) : VH_P2M_NONE;
		enum vh_fault_result r;

		if (st == VH_P2M_PRIVATE || (!write && st == VH_P2M_SHARED)) {
			*out = vh_frame_bytes(h, vh_p2m_pfn(*e));
			return VH_OK;
		}
		if (attempt)
			break;
		r = vh_mem_fault(h, vm, gfn, write ? VH_MEM_WRITE : VH_MEM_READ,
				 h->plat->now_ns(h->plat->ctx));
		if (r == VH_FAULT_NO_MEMORY)
			return vh_error_set(
			    err, VH_E_NOMEM,
			    "guest %s: the host refused a frame for gfn %#llx of VM \"%s\"",
			    write ? "write" : "read", (unsigned long long)gfn, vm->cfg.name);
		if (r == VH_FAULT_BAD_ADDRESS)
			break;
	}
	return vh_error_set(err, VH_E_INTERNAL, "guest access: gfn %#llx of VM \"%s\" did not map",
			    (unsigned long long)gfn, vm->cfg.name);
}

int vh_mem_guest_read(struct vh_host *h, struct vh_vm *vm, uint64_t gpa, void *buf, size_t len,
		      struct vh_error *err)
{
	uint8_t *dst = buf;
	int rc = check(vm, gpa, len, "read", err);

	if (rc)
		return rc;
	while (len) {
		vh_gfn_t gfn = gpa >> VH_PAGE_SHIFT;
		size_t off = gpa & (VH_PAGE_SIZE - 1);
		size_t n = VH_PAGE_SIZE - off < len ? VH_PAGE_SIZE - off : len;
		uint64_t *e = vh_p2m_entry(h, vm, gfn, false);

		if (!e || vh_p2m_state(*e) == VH_P2M_NONE) {
			/* Never touched: it reads as zeros, and reading it
			 * need not cost the host a frame. */
			vh_memset(dst, 0, n);
		} else {
			uint8_t *src;
			if ((rc = page_for(h, vm, gfn, false, &src, err)))
				return rc;
			vh_memcpy(dst, src + off, n);
		}
		dst += n;
		gpa += n;
		len -= n;
	}
	return VH_OK;
}

int vh_mem_guest_write(struct vh_host *h, struct vh_vm *vm, uint64_t gpa, const void *buf,
		       size_t len, struct vh_error *err)
{
	const uint8_t *src = buf;
	int rc = check(vm, gpa, len, "write", err);

	if (rc)
		return rc;
	while (len) {
		vh_gfn_t gfn = gpa >> VH_PAGE_SHIFT;
		size_t off = gpa & (VH_PAGE_SIZE - 1);
		size_t n = VH_PAGE_SIZE - off < len ? VH_PAGE_SIZE - off : len;
		uint8_t *dst;

		if ((rc = page_for(h, vm, gfn, true, &dst, err)))
			return rc;
		vh_memcpy(dst + off, src, n);
		src += n;
		gpa += n;
		len -= n;
	}
	return VH_OK;
}

int vh_mem_guest_ptr(struct vh_host *h, struct vh_vm *vm, uint64_t gpa, size_t len, bool write,
		     void **out, struct vh_error *err)
{
	int rc = check(vm, gpa, len, write ? "write" : "read", err);
	uint8_t *page;

	if (rc)
		return rc;
	if (len == 0 || (gpa & (VH_PAGE_SIZE - 1)) + len > VH_PAGE_SIZE)
		return vh_error_set(err, VH_E_INVAL, "guest access: %#llx + %#llx crosses a page",
				    (unsigned long long)gpa, (unsigned long long)len);
	if ((rc = page_for(h, vm, gpa >> VH_PAGE_SHIFT, write, &page, err)))
		return rc;
	*out = page + (gpa & (VH_PAGE_SIZE - 1));
	return VH_OK;
}
