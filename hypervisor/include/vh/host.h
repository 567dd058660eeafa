/* SPDX-License-Identifier: Apache-2.0 */
/* The host: its capacity, the platform it runs on, and every VM.  One
 * struct vh_host is the whole state of the core; there are no globals, so
 * tests and vh-sim can run several hosts side by side.
 *
 * Locking: the backend takes h->plat->lock around every call into the
 * core (vh_sched_next, vh_mem_fault, the protocol dispatcher, ...). */
#ifndef VH_HOST_H
#define VH_HOST_H

#include "vh/error.h"
#include "vh/mem.h"
#include "vh/platform.h"
#include "vh/sched.h"
#include "vh/types.h"

#define VH_HOST_MAX_PCPUS 256
#define VH_HOST_MAX_VMS 1024

struct vh_vm;

struct vh_host_config {
	uint32_t pcpus;          /* physical CPUs given to vh */
	uint32_t mhz_per_pcpu;   /* nominal clock: converts MHz controls to time */
	uint64_t memory_bytes;   /* host memory given to the core, in frames */
	uint64_t overhead_bytes; /* the hypervisor's own, kept out of admission */
	uint32_t max_vms;        /* 0: VH_HOST_MAX_VMS */
	/* Each VM's console budget (vh/console.h); 0: the defaults. */
	uint64_t console_rate;  /* bytes per second, sustained */
	uint64_t console_burst; /* bytes at once */
	/* Names this start of the hypervisor (HOST_INFO's instance, the
	 * published counters' header): the backend picks it, a restart picks
	 * another, so a client tells a restarted hypervisor from the one it
	 * knew.  Nonzero: 0 is what an older hypervisor's HOST_INFO decodes
	 * to. */
	uint64_t instance;
};

struct vh_host {
	struct vh_host_config cfg;
	const struct vh_platform *plat;
	struct vh_vm **vms;        /* max_vms slots, NULL when free */
	uint32_t nvms;
	uint32_t next_vm_id;
	/* The defined VMs in ascending id order (ids only grow, so a new VM
	 * goes last): paged listings walk it instead of scanning the slots. */
	struct vh_vm *vm_first, *vm_last;
	uint64_t reserved_mhz;     /* sum over powered-on VMs */
	uint64_t reserved_mib;
	struct vh_host_sched sched;
	struct vh_host_mem mem;
	/* Where the counters are published (vh/stats_pub.h), or NULL. */
	struct vh_pub_header *pub;
};

/* Capacity that reservations may use. */
uint64_t vh_host_cpu_capacity_mhz(const struct vh_host *h);
uint64_t vh_host_mem_capacity_mib(const struct vh_host *h);

int vh_host_init(struct vh_host *h, const struct vh_host_config *cfg,
		 const struct vh_platform *plat, struct vh_error *err);
/* Undefines every VM (stopping running ones) and frees everything.  Call
 * it only after the backend's pCPU loops have ended. */
void vh_host_fini(struct vh_host *h);

/* Diagnostics through the platform's log. */
void vh_host_log(struct vh_host *h, const char *fmt, ...) VH_PRINTF(2, 3);

#endif
