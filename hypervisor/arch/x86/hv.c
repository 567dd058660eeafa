/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "bmvm.h"
#include "console.h"
#include "cpu.h"
#include "ept.h"
#include "heap.h"
#include "hv.h"
#include "memlayout.h"
#include "percpu.h"
#include "platform.h"
#include "tsc.h"
#include "vh/mem.h"
#include "vh/string.h"
#include "vh/vm.h"

struct vh_host vh_the_host;

/* Names this start of the kernel (HOST_INFO's instance): the TSC when the
 * host is made, which differs from boot to boot (firmware, memory sizing
 * and SMP bring-up take no exact number of cycles), and a count of hosts
 * made since this boot, so two in one boot differ even on a TSC that a
 * hypervisor below us fixed.  Scrambled so nearby TSCs share no bits;
 * never 0 (what an older hypervisor reports). */
static uint64_t new_instance(void)
{
	static uint64_t made;
	uint64_t x = rdtsc() + ++made * 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x ? x : 1;
}

bool vh_hv_host_init(void)
{
	const struct vh_platform *plat = vh_kplatform_init();
	struct vh_host_config cfg = {
		.pcpus = vh_ncpus,
		/* The nominal clock converts MHz reservations and limits into
		 * CPU time; the TSC rate is the best we know. */
		.mhz_per_pcpu = (uint32_t)(vh_tsc_hz() / 1000000),
		.memory_bytes = vh_mem.nframes * VH_PAGE_SIZE,
		.overhead_bytes = vh_mem.heap_bytes,
		.instance = new_instance(),
	};
	struct vh_error err = { 0 };

	if (cfg.mhz_per_pcpu == 0)
		cfg.mhz_per_pcpu = 1;
	if (vh_host_init(&vh_the_host, &cfg, plat, &err) != VH_OK) {
		vh_console_printf("vh: cannot create the host: %s\n", err.reason);
		return false;
	}
	return true;
}

/* ---- selftest=platform ------------------------------------------------ */

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			vh_console_printf("vh: platform selftest: " __VA_ARGS__); \
			vh_console_printf("\n");                          \
			ok = false;                                       \
			goto out;                                         \
		}                                                         \
	} while (0)

static bool platform_selftest_once(uint64_t *ept_entry)
{
	struct vh_host *h = &vh_the_host;
	const struct vh_platform *p = h->plat;
	struct vh_vm_config cfg;
	struct vh_error err = { 0 };
	struct vh_vm *vm = 0;
	bool ok = true;
	static const char pattern[] = "vh platform selftest";
	char back[sizeof(pattern)];

	vh_vm_config_default(&cfg);
	vh_strlcpy(cfg.name, "probe", sizeof(cfg.name));
	cfg.memory_mib = 4;
	p->lock(p->ctx);
	vm = vh_vm_define(h, &cfg, &err);
	CHECK(vm, "define: %s", err.reason);
	CHECK(vh_vm_start(h, vm, &err) == VH_OK, "start: %s", err.reason);

	/* A write fault maps a zeroed frame read-write in the EPT. */
	enum vh_fault_result r = vh_mem_fault(h, vm, 3, VH_MEM_WRITE, p->now_ns(p->ctx));
	CHECK(r == VH_FAULT_MAPPED, "fault on gfn 3 answered %d", (int)r);
	struct vh_bmvm *b = vm->backend;
	CHECK(b, "no backend state after a map");
	uint64_t e = vh_ept_lookup(&b->ept, 3 << 12);
	CHECK((e & VH_EPT_RWX) == VH_EPT_RWX ||
		  (e & (VH_EPT_R | VH_EPT_W)) == (VH_EPT_R | VH_EPT_W),
	      "EPT entry for gfn 3 is %#llx, not read-write", (unsigned long long)e);
	CHECK((e & 0x38) == VH_EPT_MT_WB, "EPT entry %#llx is not write-back",
	      (unsigned long long)e);
	uint64_t hpa = e & VH_EPT_ADDR_MASK;
	CHECK(hpa >= vh_mem.ranges[0].base && hpa < vh_mem.highest,
	      "EPT entry points at %#llx, outside the guest frames", (unsigned long long)hpa);

	/* The core's copy lands in the frame the EPT names. */
	CHECK(vh_mem_guest_write(h, vm, (3 << 12) + 100, pattern, sizeof(pattern), &err) == VH_OK,
	      "guest write: %s", err.reason);
	CHECK(vh_memcmp((const char *)(uintptr_t)hpa + 100, pattern, sizeof(pattern)) == 0,
	      "the bytes written are not in the frame the EPT maps");
	CHECK(vh_mem_guest_read(h, vm, (3 << 12) + 100, back, sizeof(back), &err) == VH_OK &&
		      vh_memcmp(back, pattern, sizeof(pattern)) == 0,
	      "guest read back differs");
	/* Outside guest memory is refused. */
	CHECK(vh_mem_fault(h, vm, 4 * 256, VH_MEM_READ, p->now_ns(p->ctx)) == VH_FAULT_BAD_ADDRESS,
	      "a fault beyond 4 MiB was not refused");

	/* Ballooning the page removes its EPT entry. */
	vh_gfn_t g = 3;
	CHECK(vh_mem_balloon_inflate(h, vm, &g, 1) == 1, "balloon inflate refused gfn 3");
	e = vh_ept_lookup(&b->ept, 3 << 12);
	CHECK(!(e & VH_EPT_RWX), "ballooned gfn 3 still mapped: %#llx", (unsigned long long)e);

	uint64_t r1 = p->random(p->ctx), r2 = p->random(p->ctx);
	CHECK(r1 != r2, "random repeats %#llx", (unsigned long long)r1);
	uint64_t t1 = p->now_ns(p->ctx);
	vh_delay_ns(1000000);
	uint64_t t2 = p->now_ns(p->ctx);
	CHECK(t2 >= t1 + 900000, "1 ms delay measured %llu ns", (unsigned long long)(t2 - t1));

	CHECK(vh_vm_stop(h, vm, &err) == VH_OK, "stop: %s", err.reason);
	CHECK(vh_vm_undefine(h, vm, &err) == VH_OK, "undefine: %s", err.reason);
	vm = 0;
	*ept_entry = hpa | VH_EPT_MT_WB | VH_EPT_RWX;
out:
	p->unlock(p->ctx);
	return ok;
}

bool vh_hv_platform_selftest(void)
{
	uint64_t entry = 0;

	/* The first VM grows the core's tables for good (scheduler heaps);
	 * from the second on, a VM's life must leave the heap as it was:
	 * the EPT tree and the backend state are freed with it. */
	if (!platform_selftest_once(&entry))
		return false;
	size_t before = vh_heap_used();
	if (!platform_selftest_once(&entry))
		return false;
	if (vh_heap_used() != before) {
		vh_console_printf("vh: platform selftest: heap: %zu bytes before, %zu after a VM's "
				  "life\n", before, vh_heap_used());
		return false;
	}
	vh_console_printf("vh: platform selftest: ok (fault, ept entry %#llx, guest copy, balloon "
			  "unmap, random, clock, teardown without leaks)\n",
			  (unsigned long long)entry);
	return true;
}
