/* SPDX-License-Identifier: Apache-2.0 */
/* vh_kernel_main: the bare-metal kernel's C entry, reached from boot.S in
 * long mode on the boot CPU.  Brings the machine up in dependency order:
 * console and exceptions, the loader's information, time, memory, the
 * local APIC, the other CPUs; then reports what it found. */
#include <stdbool.h>
#include <stdint.h>

#include "acpi.h"
#include "apic.h"
#include "bootinfo.h"
#include "cmos.h"
#include "console.h"
#include "cpu.h"
#include "heap.h"
#include "hv.h"
#include "kcmdline.h"
#include "machine.h"
#include "memlayout.h"
#include "paging.h"
#include "percpu.h"
#include "serial.h"
#include "smp.h"
#include "trap.h"
#include "tsc.h"
#include "vmx.h"
#include "vh/string.h"
#include "vh/version.h"

void vh_kernel_main(uint32_t magic, uint32_t info_addr);

/* The heap holds the core's metadata, page tables and stacks: a share of
 * memory, never less than the minimum. */
#define HEAP_PERCENT 6
#define HEAP_MIN_BYTES (4ull << 20)
#define TIMER_CHECK_NS 1000000ull /* 1 ms */

static void report_cpu(void)
{
	uint32_t a, b, c, d;
	char vendor[13];

	cpuid(0, 0, &a, &b, &c, &d);
	vh_memcpy(vendor, &b, 4);
	vh_memcpy(vendor + 4, &d, 4);
	vh_memcpy(vendor + 8, &c, 4);
	vendor[12] = '\0';
	cpuid(1, 0, &a, &b, &c, &d);
	vh_console_printf("vh: cpu %s family %u model %u, vmx %s\n", vendor,
			  ((a >> 8) & 0xf) + ((a >> 20) & 0xff),
			  ((a >> 4) & 0xf) | ((a >> 12) & 0xf0),
			  (c & CPUID1_ECX_VMX) ? "yes" : "no");
}

static void report_memory(void)
{
	if (vh_boot.has_mem)
		vh_console_printf("vh: memory %u KiB low, %u KiB high\n", vh_boot.mem_lower_kib,
				  vh_boot.mem_upper_kib);
	else
		vh_console_printf("vh: boot loader gave no memory size\n");
}

static void *stack_alloc(size_t n)
{
	return vh_heap_alloc(n, 4096);
}

static bool setup_memory(void)
{
	if (!vh_memlayout_build(&vh_boot, HEAP_PERCENT, HEAP_MIN_BYTES))
		return false;
	if (vh_mem.highest > vh_paging_mapped_end() && !vh_paging_map_to(vh_mem.highest)) {
		vh_console_printf("vh: cannot identity-map RAM up to %#llx\n",
				  (unsigned long long)vh_mem.highest);
		return false;
	}
	vh_heap_init((void *)(uintptr_t)vh_mem.heap_base, vh_mem.heap_bytes);
	/* The first and last frame of every range must hold what is
	 * written: catches a wrong map or identity mapping at boot. */
	for (unsigned i = 0; i < vh_mem.nranges; i++) {
		volatile uint64_t *first = (volatile uint64_t *)(uintptr_t)vh_mem.ranges[i].base;
		volatile uint64_t *last = (volatile uint64_t *)(uintptr_t)(
			vh_mem.ranges[i].base + (vh_mem.ranges[i].npages - 1) * 4096);
		*first = 0x7668666972737421ull;
		*last = ~0x7668666972737421ull;
		if (*first != 0x7668666972737421ull || *last != ~0x7668666972737421ull) {
			vh_console_printf("vh: RAM at %#llx does not keep what is written\n",
					  (unsigned long long)vh_mem.ranges[i].base);
			return false;
		}
	}
	vh_console_printf(
	    "vh: ram %llu MiB: kernel %llu KiB at %#llx, modules %llu KiB, heap %llu MiB, "
	    "%llu frames (%llu MiB) in %u ranges for guests\n",
	    (unsigned long long)(vh_mem.ram_bytes >> 20),
	    (unsigned long long)((vh_mem.kernel_end - vh_mem.kernel_start) >> 10),
	    (unsigned long long)vh_mem.kernel_start,
	    (unsigned long long)(vh_mem.modules_bytes >> 10),
	    (unsigned long long)(vh_mem.heap_bytes >> 20), (unsigned long long)vh_mem.nframes,
	    (unsigned long long)(vh_mem.nframes >> 8), vh_mem.nranges);
	return true;
}

static bool trampoline_page_free(void)
{
	for (unsigned i = 0; i < vh_boot.nregions; i++) {
		const struct vh_boot_region *r = &vh_boot.regions[i];
		if (r->type == VH_MEM_AVAILABLE && r->base <= VH_TRAMPOLINE_BASE &&
		    r->base + r->len >= VH_TRAMPOLINE_BASE + 4096)
			return true;
	}
	return vh_boot.nregions == 0 && vh_boot.has_mem &&
	       vh_boot.mem_lower_kib * 1024ull >= 0x9000;
}

static unsigned start_cpus(void)
{
	struct vh_acpi_cpus acpi;
	bool have_madt = vh_acpi_find_cpus(&acpi);

	if (!vh_apic_init_bsp(have_madt ? acpi.lapic_phys : 0))
		vh_machine_stop(1);
	if (have_madt)
		vh_console_printf("vh: acpi: %s %s lists %u cpus%s\n", acpi.oem,
				  acpi.xsdt ? "XSDT" : "RSDT", acpi.ncpus,
				  acpi.ignored ? " (more than vh supports: the rest unused)" : "");
	uint64_t per_ms = vh_apic_timer_calibrate();
	vh_console_printf("vh: apic: id %u, timer %llu kHz\n", vh_apic_id(),
			  (unsigned long long)per_ms);
	if (!have_madt)
		return vh_smp_start(0, stack_alloc);
	if (!trampoline_page_free()) {
		vh_console_printf("vh: smp: page %#x is not free RAM; running on one cpu\n",
				  VH_TRAMPOLINE_BASE);
		return vh_smp_start(0, stack_alloc);
	}
	return vh_smp_start(&acpi, stack_alloc);
}

/* ---- the APIC timer check: every CPU takes one timer interrupt ---- */

static volatile unsigned timer_hits;
static volatile unsigned timer_checked;

static void timer_irq(unsigned vector)
{
	(void)vector;
	__atomic_fetch_add(&timer_hits, 1, __ATOMIC_RELAXED);
}

static void kick_irq(unsigned vector)
{
	(void)vector;
	vh_this_cpu()->kicked = true;
}

static void check_timer(struct vh_cpu *c)
{
	unsigned before = timer_hits;
	uint64_t start = vh_now_ns();

	(void)c;
	vh_apic_timer_oneshot(TIMER_CHECK_NS);
	while (timer_hits == before && vh_now_ns() - start < 100 * TIMER_CHECK_NS)
		cpu_wait_irq();
	__atomic_fetch_add(&timer_checked, 1, __ATOMIC_RELEASE);
}

static void ap_selftest(struct vh_cpu *c)
{
	if (c->index == 1)
		__asm__ volatile("ud2");
}

void vh_kernel_main(uint32_t magic, uint32_t info_addr)
{
	vh_percpu_load(&vh_cpus[0]);
	vh_serial_init();
	vh_console_printf("\nvh %s (x86_64): long mode, 4 GiB identity-mapped\n", vh_version());

	if (!vh_bootinfo_copy(magic, info_addr)) {
		vh_console_printf("vh: not started by a Multiboot 1 loader (eax=%#x)\n", magic);
		vh_machine_stop(1);
	}
	if (vh_boot.loader[0])
		vh_console_printf("vh: loaded by %s\n", vh_boot.loader);
	const char *cmdline = vh_boot.cmdline;
	vh_console_printf("vh: command line \"%s\"\n", cmdline);
	if (vh_boot.truncated)
		vh_console_printf("vh: some boot information did not fit and was cut\n");
	report_memory();
	report_cpu();
	vh_cpu_setup_features();

	/* Self-tests of the failure path, used by make check to prove that
	 * a fault is reported and fails the run. */
	if (vh_cmdline_has(cmdline, "selftest=ud2"))
		__asm__ volatile("ud2");
	if (vh_cmdline_has(cmdline, "selftest=fail"))
		vh_machine_stop(3);

	if (!vh_tsc_calibrate())
		vh_machine_stop(1);
	vh_console_printf("vh: tsc %llu kHz%s\n", (unsigned long long)(vh_tsc_hz() / 1000),
			  vh_tsc_invariant() ? ", invariant" : "");
	vh_cmos_init();
	if (!setup_memory())
		vh_machine_stop(1);

	vh_irq_register(VH_VEC_APIC_TIMER, timer_irq);
	vh_irq_register(VH_VEC_KICK, kick_irq);
	unsigned n = start_cpus();
	vh_console_printf("vh: smp: %u cpus online\n", n);

	if (vh_cmdline_has(cmdline, "selftest=ap-fault") && n > 1) {
		vh_smp_release(ap_selftest);
		vh_delay_ns(1000ull * 1000 * 1000);
		vh_console_printf("vh: the AP fault did not stop the machine\n");
		vh_machine_stop(4);
	}

	vh_smp_release(check_timer);
	check_timer(&vh_cpus[0]);
	uint64_t deadline = vh_now_ns() + 1000 * TIMER_CHECK_NS;
	while (timer_checked < n && vh_now_ns() < deadline)
		cpu_relax();
	vh_console_printf("vh: apic timer: %u of %u cpus took their interrupt\n", timer_hits, n);
	if (timer_hits < n)
		vh_machine_stop(1);

	if (!vh_hv_host_init())
		vh_machine_stop(1);
	if (vh_cmdline_has(cmdline, "selftest=platform") && !vh_hv_platform_selftest())
		vh_machine_stop(1);

	/* A machine that cannot run guests says what it lacks and stops
	 * with status 5 (not a fault: nothing is wrong with vh). */
	if (!vh_vmx_probe())
		vh_machine_stop(5);
	if (!vh_hv_setup_vms(cmdline))
		vh_machine_stop(1);
	vh_console_printf("vh: boot complete\n");
	if (vh_the_host.nvms == 0) {
		vh_console_printf("vh: no VMs on the command line; stopping\n");
		vh_machine_stop(0);
	}
	vh_hv_run();
}
