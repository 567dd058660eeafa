/* SPDX-License-Identifier: Apache-2.0 */
/* A vCPU's start-up per boot generation, the same steps on every back end
 * (hypervisor/vcpu/boot.c).  Each start or reset of a VM moves its boot
 * generation (vm->boot_generation); before a vCPU runs, its back end asks
 * vh_vcpu_boot_next() what to do and does it, until the answer is to run
 * or to wait:
 *
 *   RESET  the vCPU's registers belong to an older generation: drop what
 *          that run left pending (an event to re-inject, KVM's unfinished
 *          I/O), then ask again;
 *   LOAD   vCPU 0 of a new generation: the guest image in memory (where the
 *          back end loads it here) and the loader's boot state in the
 *          registers, then vh_vcpu_boot_started();
 *   SIPI   an application processor got its start-up IPI: real mode at
 *          the struct vh_vcpu_sipi's CS (vector << 8, base vector << 12),
 *          IP 0, then vh_vcpu_boot_started();
 *   WAIT   halted until woken (an AP waiting for its SIPI, after INIT):
 *          the scheduler blocks it with no wake time;
 *   RUN    enter the guest.
 *
 * The local APIC model keeps INIT and SIPI (vh/lapic.h): a SIPI reaches
 * only a vCPU waiting for one, so the second of the usual pair is
 * ignored. */
#ifndef VH_VCPU_BOOT_H
#define VH_VCPU_BOOT_H

#include "vh/types.h"

struct vh_host;
struct vh_vm;
struct vh_vcpu;

/* Kept by the back end per vCPU, zeroed when it is created. */
struct vh_vcpu_boot {
	uint32_t generation; /* the boot generation its registers belong to */
	bool started;        /* its registers were set: boot state or SIPI */
};

enum vh_vcpu_boot_step {
	VH_VCPU_BOOT_RESET,
	VH_VCPU_BOOT_LOAD,
	VH_VCPU_BOOT_SIPI,
	VH_VCPU_BOOT_WAIT,
	VH_VCPU_BOOT_RUN,
};

/* Where a SIPI starts an application processor: real mode at
 * vector:0000. */
struct vh_vcpu_sipi {
	uint8_t vector;
	uint16_t cs_selector; /* vector << 8 */
	uint64_t cs_base;     /* vector << 12, the first instruction (IP 0) */
};

/* What the vCPU does next; *sipi is set with VH_VCPU_BOOT_SIPI.
 * Every answer but WAIT and RUN changes the state once its step is done,
 * so a back end that loops until WAIT or RUN ends.  Host lock held. */
enum vh_vcpu_boot_step vh_vcpu_boot_next(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
					 struct vh_vcpu_boot *b, struct vh_vcpu_sipi *sipi);
/* The back end set the registers for LOAD or SIPI: the vCPU runs from now
 * on.  Host lock held. */
void vh_vcpu_boot_started(struct vh_host *h, struct vh_vm *vm, struct vh_vcpu *vcpu,
			  struct vh_vcpu_boot *b);

#endif
