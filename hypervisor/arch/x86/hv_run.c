/* SPDX-License-Identifier: Apache-2.0 */
/* The VMs the command line defines, the CPU loops, and the clockwork CPU 0
 * keeps: the memory manager's periodic work, one stats line per VM every
 * period, and the end of a bounded run (tests). */
#include <stdint.h>

#include "bmvm.h"
#include "bootinfo.h"
#include "console.h"
#include "exit.h"
#include "hv.h"
#include "kcmdline.h"
#include "machine.h"
#include "percpu.h"
#include "smp.h"
#include "tsc.h"
#include "vcpu_run.h"
#include "vh/format.h"
#include "vh/mem.h"
#include "vh/sched.h"
#include "vh/string.h"
#include "vh/vm.h"
#include "vmspec.h"

#define MEM_TICK_NS (10 * VH_NSEC_PER_MSEC)
/* While console output is pending, CPU 0 feeds the UART this often: its
 * 16-byte FIFO at 115200 baud empties in 1.4 ms. */
#define CONSOLE_PUMP_NS VH_NSEC_PER_MSEC
#define DEFAULT_STATS_NS VH_NSEC_PER_SEC

static uint64_t runtime_ns;     /* 0: run for ever */
static uint64_t stats_ns = DEFAULT_STATS_NS;
static bool until_done;
static char until_vm[VH_VM_NAME_MAX]; /* until=stopped:NAME; "": none */
static uint64_t start_ns, next_tick, next_stats, next_pump;
static unsigned nvms;
static volatile unsigned cpus_ready;

struct parse_state {
	bool ok;
	unsigned n;
};

static bool option(const char *w, size_t n, void *arg)
{
	struct parse_state *ps = arg;
	char err[200];

	if (n > 3 && vh_strncmp(w, "vm=", 3) == 0) {
		struct vh_vmspec spec;
		struct vh_error e = { 0 };
		if (!vh_vmspec_parse(w + 3, n - 3, vh_boot.nmodules, &spec, err, sizeof(err))) {
			vh_console_printf("vh: cmdline: %s\n", err);
			ps->ok = false;
			return false;
		}
		const struct vh_boot_module_info *m = &vh_boot.modules[spec.module];
		struct vh_host *h = &vh_the_host;
		h->plat->lock(h->plat->ctx);
		struct vh_vm *vm = vh_vm_define(h, &spec.cfg, &e);
		struct vh_bmvm *b = vm ? vh_bmvm_get(vm) : 0;
		if (b) {
			b->image = (const void *)(uintptr_t)m->start;
			b->image_len = m->end - m->start;
			vh_strlcpy(b->image_cmdline, spec.has_cmdline ? spec.cmdline : m->args,
				   sizeof(b->image_cmdline));
			if (spec.has_initrd) {
				const struct vh_boot_module_info *rd =
				    &vh_boot.modules[spec.initrd_module];
				b->initrd = (const void *)(uintptr_t)rd->start;
				b->initrd_len = rd->end - rd->start;
			}
		}
		int rc = b ? vh_vm_start(h, vm, &e) : VH_E_NOMEM;
		h->plat->unlock(h->plat->ctx);
		if (!vm || rc != VH_OK) {
			vh_console_printf("vh: cmdline: vm %s: %s\n", spec.cfg.name,
					  e.reason[0] ? e.reason : "out of hypervisor memory");
			ps->ok = false;
			return false;
		}
		vh_console_printf(
		    "vh: vm %s: %u vcpus, %llu MiB, cpu shares %llu, image module %u "
		    "(%llu KiB), command line \"%s\"\n",
		    vm->cfg.name, vm->cfg.vcpus, (unsigned long long)vm->cfg.memory_mib,
		    (unsigned long long)vh_cpu_shares_value(&vm->cfg.cpu.shares, vm->cfg.vcpus),
		    spec.module, (unsigned long long)((m->end - m->start) >> 10), b->image_cmdline);
		ps->n++;
	} else if (n > 8 && vh_strncmp(w, "runtime=", 8) == 0) {
		if (!vh_parse_duration(w + 8, n - 8, &runtime_ns) || runtime_ns == 0) {
			vh_console_printf("vh: cmdline: bad runtime \"%.*s\"\n", (int)n, w);
			ps->ok = false;
			return false;
		}
	} else if (n > 6 && vh_strncmp(w, "stats=", 6) == 0) {
		if (!vh_parse_duration(w + 6, n - 6, &stats_ns) || stats_ns < VH_NSEC_PER_MSEC) {
			vh_console_printf("vh: cmdline: bad stats period \"%.*s\" (at least 1ms)\n",
					  (int)n, w);
			ps->ok = false;
			return false;
		}
	} else if (n > 10 && vh_strncmp(w, "scan_rate=", 10) == 0) {
		/* The page-sharing scanner's rate and its bound per GHz of the
		 * host (docs/memory.md), as vh-hosted's --scan-rate and
		 * --scan-per-ghz. */
		if (!vh_parse_count(w + 10, n - 10, &vh_the_host.mem.params.scan_pages_per_sec)) {
			vh_console_printf("vh: cmdline: bad scan rate \"%.*s\"\n", (int)n, w);
			ps->ok = false;
			return false;
		}
	} else if (n > 13 && vh_strncmp(w, "scan_per_ghz=", 13) == 0) {
		if (!vh_parse_count(w + 13, n - 13, &vh_the_host.mem.params.scan_pages_per_ghz)) {
			vh_console_printf("vh: cmdline: bad scan bound \"%.*s\"\n", (int)n, w);
			ps->ok = false;
			return false;
		}
	} else if (n > 12 && vh_strncmp(w, "trace-exits=", 12) == 0) {
		uint64_t v = 0;
		for (size_t k = 12; k < n && w[k] >= '0' && w[k] <= '9'; k++)
			v = v * 10 + (uint64_t)(w[k] - '0');
		vh_exit_trace_left = v;
	} else if (n == 10 && vh_strncmp(w, "until=done", 10) == 0) {
		until_done = true;
	} else if (n > 14 && vh_strncmp(w, "until=stopped:", 14) == 0) {
		/* A run that ends with one VM, beside others that run for
		 * ever (a Linux guest beside spinners). */
		if (n - 14 >= VH_VM_NAME_MAX) {
			vh_console_printf("vh: cmdline: VM name too long in \"%.*s\"\n", (int)n, w);
			ps->ok = false;
			return false;
		}
		vh_memcpy(until_vm, w + 14, n - 14);
		until_vm[n - 14] = 0;
	}
	return true;
}

bool vh_hv_setup_vms(const char *cmdline)
{
	struct parse_state ps = { .ok = true };

	vh_cmdline_each(cmdline, option, &ps);
	nvms = ps.n;
	return ps.ok;
}

static void ms(char *buf, size_t n, uint64_t ns)
{
	vh_snprintf(buf, n, "%llu", (unsigned long long)(ns / VH_NSEC_PER_MSEC));
}

static void print_stats(uint64_t now, bool final)
{
	struct vh_host *h = &vh_the_host;
	uint64_t t = now - start_ns;

	h->plat->lock(h->plat->ctx);
	{
		struct vh_host_mem_stats hm;

		/* The host's frames: what page sharing saves shows here. */
		vh_mem_host_stats(h, &hm);
		vh_console_printf("vh: host t=%llu.%03llus frames=%llu free=%llu reserved=%llu "
				  "shared_saved=%llu\n",
				  (unsigned long long)(t / VH_NSEC_PER_SEC),
				  (unsigned long long)(t % VH_NSEC_PER_SEC / VH_NSEC_PER_MSEC),
				  (unsigned long long)hm.total, (unsigned long long)hm.free,
				  (unsigned long long)hm.reserved,
				  (unsigned long long)hm.shared_saved);
	}
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->vms[i];
		struct vh_cpu_stats cs;
		struct vh_mem_stats mst;
		uint64_t exits[VH_EXIT_KIND_COUNT] = { 0 }, total = 0;
		char used[24], ready[24], costop[24], wait[24], skew[40] = "";

		if (!vm)
			continue;
		vh_sched_vm_stats(h, vm, now, &cs);
		vh_mem_vm_stats(h, vm, &mst);
		for (uint32_t v = 0; v < vm->cfg.vcpus; v++)
			for (int k = 0; k < VH_EXIT_KIND_COUNT; k++) {
				exits[k] += vm->vcpus[v].exits[k];
				total += vm->vcpus[v].exits[k];
			}
		ms(used, sizeof(used), cs.used_ns);
		ms(ready, sizeof(ready), cs.ready_ns);
		ms(costop, sizeof(costop), cs.costop_ns);
		ms(wait, sizeof(wait), cs.wait_ns);
		/* Co-scheduling skew of a multiprocessor VM, in us: what the
		 * relaxed policy bounds (docs/scheduler.md). */
		if (vm->cfg.vcpus > 1)
			vh_snprintf(skew, sizeof(skew), " skew=%lluus",
				    (unsigned long long)(vh_sched_vm_skew(h, vm, now) /
							 VH_NSEC_PER_USEC));
		vh_console_printf(
		    "vh: stats t=%llu.%03llus vm=%s state=%s used=%sms ready=%sms "
		    "costop=%sms wait=%sms granted=%llu consumed=%llu shared=%llu "
		    "balloon=%llu console=%llu console_dropped=%llu exits=%llu%s\n",
		    (unsigned long long)(t / VH_NSEC_PER_SEC),
		    (unsigned long long)(t % VH_NSEC_PER_SEC / VH_NSEC_PER_MSEC), vm->cfg.name,
		    vh_vm_state_name(vm->state), used, ready, costop, wait,
		    (unsigned long long)mst.granted, (unsigned long long)mst.consumed,
		    (unsigned long long)mst.shared, (unsigned long long)mst.balloon,
		    (unsigned long long)vm->guest.console_bytes,
		    (unsigned long long)vm->guest.console_dropped, (unsigned long long)total, skew);
		if (final) {
			char line[400];
			size_t len = 0;
			for (int k = 0; k < VH_EXIT_KIND_COUNT; k++)
				if (exits[k] && len < sizeof(line))
					len +=
					    vh_snprintf(line + len, sizeof(line) - len, " %s=%llu",
							vh_exit_kind_name((enum vh_exit_kind)k),
							(unsigned long long)exits[k]);
			vh_console_printf("vh: exits vm=%s%s\n", vm->cfg.name,
					  len ? line : " none");
			if (vm->guest.exited)
				vh_console_printf("vh: vm %s exit code %u\n", vm->cfg.name,
						  vm->guest.exit_code);
			/* The guest's own reboots and power offs, as vh-msg
			 * shows them on vh-hosted. */
			vh_console_printf("vh: power vm=%s boot_generation=%u state_changes=%llu "
					  "guest_resets=%llu guest_poweroffs=%llu\n",
					  vm->cfg.name, vm->boot_generation,
					  (unsigned long long)vm->state_changes,
					  (unsigned long long)vm->guest.resets,
					  (unsigned long long)vm->guest.poweroffs);
		}
	}
	h->plat->unlock(h->plat->ctx);
}

/* The VM until=stopped: names has stopped or crashed (or is gone). */
static bool until_vm_stopped(void)
{
	struct vh_host *h = &vh_the_host;
	struct vh_vm *vm;
	bool stopped;

	if (!until_vm[0])
		return false;
	h->plat->lock(h->plat->ctx);
	vm = vh_vm_find_name(h, until_vm);
	stopped = !vm || vm->state == VH_VM_STOPPED || vm->state == VH_VM_CRASHED;
	h->plat->unlock(h->plat->ctx);
	return stopped;
}

static bool any_running(void)
{
	struct vh_host *h = &vh_the_host;
	bool any = false;

	h->plat->lock(h->plat->ctx);
	for (uint32_t i = 0; i < h->cfg.max_vms && !any; i++)
		any = h->vms[i] &&
		      (h->vms[i]->state == VH_VM_RUNNING || h->vms[i]->state == VH_VM_PAUSED);
	h->plat->unlock(h->plat->ctx);
	return any;
}

uint64_t vh_hv_deadline(struct vh_cpu *c, uint64_t until)
{
	uint64_t d = until;

	if (c->index != 0)
		return d;
	if (next_tick < d)
		d = next_tick;
	if (next_stats < d)
		d = next_stats;
	if (next_pump < d && vh_console_pending())
		d = next_pump;
	return d;
}

void vh_hv_housekeeping(struct vh_cpu *c, uint64_t now)
{
	struct vh_host *h = &vh_the_host;

	if (c->index != 0)
		return;
	if (now >= next_tick) {
		h->plat->lock(h->plat->ctx);
		vh_mem_tick(h, now);
		h->plat->unlock(h->plat->ctx);
		next_tick = now + MEM_TICK_NS;
		if ((runtime_ns && now - start_ns >= runtime_ns) ||
		    (until_done && !any_running()) || until_vm_stopped()) {
			print_stats(now, true);
			vh_console_printf(
			    "vh: %s after %llu ms\n",
			    runtime_ns && now - start_ns >= runtime_ns ? "run time over"
			    : until_vm[0] && until_vm_stopped()
				? "the VM named by until= has stopped"
				: "every VM has stopped",
			    (unsigned long long)((now - start_ns) / VH_NSEC_PER_MSEC));
			vh_machine_stop(0);
		}
	}
	if (now >= next_stats) {
		print_stats(now, false);
		next_stats += stats_ns;
		if (next_stats <= now)
			next_stats = now + stats_ns;
	}
	if (now >= next_pump && vh_console_pending()) {
		vh_console_pump();
		next_pump = now + CONSOLE_PUMP_NS;
	}
}

void vh_hv_cpu_ready(struct vh_cpu *c)
{
	unsigned n = __atomic_add_fetch(&cpus_ready, 1, __ATOMIC_ACQ_REL);

	(void)c;
	if (n == vh_ncpus)
		vh_console_printf("vh: vmx: %u cpus in VMX operation, scheduling %u VMs\n", n,
				  nvms);
}

static void ap_run(struct vh_cpu *c)
{
	vh_run_cpu(c);
}

void vh_hv_run(void)
{
	start_ns = vh_now_ns();
	next_tick = start_ns + MEM_TICK_NS;
	next_stats = start_ns + stats_ns;
	next_pump = start_ns;
	vh_console_buffered();
	vh_smp_release(ap_run);
	vh_run_cpu(&vh_cpus[0]);
}
