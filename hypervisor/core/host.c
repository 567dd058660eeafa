/* SPDX-License-Identifier: Apache-2.0 */
/* The host: capacity, the VM table, and set-up of the scheduler and the
 * memory manager over the platform the backend supplies. */
#include <stdarg.h>

#include "vh/format.h"
#include "vh/host.h"
#include "vh/string.h"
#include "vh/vm.h"

uint64_t vh_host_cpu_capacity_mhz(const struct vh_host *h)
{
	return (uint64_t)h->cfg.pcpus * h->cfg.mhz_per_pcpu;
}

uint64_t vh_host_mem_capacity_mib(const struct vh_host *h)
{
	return (h->cfg.memory_bytes - h->cfg.overhead_bytes) / VH_MIB;
}

static int validate_platform(const struct vh_platform *p, struct vh_error *err)
{
	if (!p || !p->now_ns || !p->alloc || !p->free || !p->frame_ptr || !p->map || !p->kick ||
	    !p->random || !p->lock || !p->unlock || !p->log || !p->console)
		return vh_error_set(err, VH_E_INVAL, "platform: every callback must be provided");
	return VH_OK;
}

static int validate_config(const struct vh_host_config *c, struct vh_error *err)
{
	if (c->pcpus == 0 || c->pcpus > VH_HOST_MAX_PCPUS)
		return vh_error_set(err, VH_E_INVAL, "host.pcpus: %u outside 1..%u", c->pcpus,
				    VH_HOST_MAX_PCPUS);
	if (c->mhz_per_pcpu == 0 || c->mhz_per_pcpu > 100000)
		return vh_error_set(err, VH_E_INVAL, "host.mhz_per_pcpu: %u outside 1..100000",
				    c->mhz_per_pcpu);
	if (c->memory_bytes < VH_MIB || c->memory_bytes % VH_PAGE_SIZE)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "host.memory_bytes: %llu is not a multiple of 4 KiB of at least 1 MiB",
		    (unsigned long long)c->memory_bytes);
	if (c->overhead_bytes >= c->memory_bytes)
		return vh_error_set(
		    err, VH_E_INVAL,
		    "host.overhead_bytes: %llu leaves no memory for VMs (host has %llu)",
		    (unsigned long long)c->overhead_bytes, (unsigned long long)c->memory_bytes);
	if (c->max_vms > VH_HOST_MAX_VMS)
		return vh_error_set(err, VH_E_INVAL, "host.max_vms: %u above %u", c->max_vms,
				    VH_HOST_MAX_VMS);
	if (c->console_rate > VH_CONSOLE_RATE_MAX)
		return vh_error_set(err, VH_E_INVAL, "host.console_rate: %llu bytes/s above %llu",
				    (unsigned long long)c->console_rate, VH_CONSOLE_RATE_MAX);
	if (c->console_burst > VH_CONSOLE_BURST_MAX)
		return vh_error_set(err, VH_E_INVAL, "host.console_burst: %llu bytes above %llu",
				    (unsigned long long)c->console_burst, VH_CONSOLE_BURST_MAX);
	return VH_OK;
}

int vh_host_init(struct vh_host *h, const struct vh_host_config *cfg,
		 const struct vh_platform *plat, struct vh_error *err)
{
	int rc;

	vh_memset(h, 0, sizeof(*h));
	if ((rc = validate_platform(plat, err)) || (rc = validate_config(cfg, err)))
		return rc;
	h->cfg = *cfg;
	if (!h->cfg.max_vms)
		h->cfg.max_vms = VH_HOST_MAX_VMS;
	if (!h->cfg.console_rate)
		h->cfg.console_rate = VH_CONSOLE_RATE_DEFAULT;
	if (!h->cfg.console_burst)
		h->cfg.console_burst = VH_CONSOLE_BURST_DEFAULT;
	h->plat = plat;
	h->next_vm_id = 1;
	h->vms = plat->alloc(plat->ctx, sizeof(*h->vms) * h->cfg.max_vms);
	if (!h->vms)
		return vh_error_set(err, VH_E_NOMEM, "host: no memory for the VM table");
	if ((rc = vh_sched_host_init(h, err)))
		goto fail_sched;
	if ((rc = vh_mem_host_init(h, err)))
		goto fail_mem;
	return VH_OK;

fail_mem:
	vh_sched_host_fini(h);
fail_sched:
	plat->free(plat->ctx, h->vms, sizeof(*h->vms) * h->cfg.max_vms);
	h->vms = NULL;
	return rc;
}

void vh_host_fini(struct vh_host *h)
{
	if (!h->vms)
		return;
	/* The backend calls this after its pCPU loops have ended. */
	vh_sched_pcpus_stopped(h);
	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->vms[i];
		if (!vm)
			continue;
		if (vm->state == VH_VM_RUNNING || vm->state == VH_VM_PAUSED)
			vh_vm_stop(h, vm, NULL);
		vh_vm_undefine(h, vm, NULL);
	}
	vh_mem_host_fini(h);
	vh_sched_host_fini(h);
	h->plat->free(h->plat->ctx, h->vms, sizeof(*h->vms) * h->cfg.max_vms);
	h->vms = NULL;
}

void vh_host_log(struct vh_host *h, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vh_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	h->plat->log(h->plat->ctx, line);
}
