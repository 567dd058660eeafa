/* SPDX-License-Identifier: Apache-2.0 */
/* MMIO emulation for guest accesses outside guest memory: fetch the
 * faulting instruction through the guest's own page tables, decode it
 * (vh/decode.h), emulate the MOV forms compilers emit for device
 * registers, and hand the access to the device models (vh_devices_mmio). */
#ifndef VH_X86_MMIO_H
#define VH_X86_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "exit.h"
#include "vh/pagewalk.h"

enum vh_exit_action vh_mmio_emulate(struct vh_exit *x, uint64_t gpa, bool is_write);

/* Guest-linear to guest-physical through the guest's page tables (none,
 * 32-bit, PAE or 4-level) with the shared walker (vh/pagewalk.h) and the
 * guest's CR0, CR3, CR4, EFER, RFLAGS and CPL: access is VH_WALK_* bits;
 * a refusal fills the guest's #PF error code.  Host lock held. */
enum vh_walk_result vh_mmio_walk(struct vh_exit *x, uint64_t lin, unsigned access, uint64_t *gpa,
				 uint32_t *pf_error);
/* Presence only: re-reading an instruction the CPU already fetched.
 * False when not mapped. */
bool vh_mmio_translate(struct vh_exit *x, uint64_t lin, uint64_t *gpa);

#endif
