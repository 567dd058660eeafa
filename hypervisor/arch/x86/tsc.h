/* SPDX-License-Identifier: Apache-2.0 */
/* Time: the TSC calibrated against the 8254 PIT, as nanoseconds since
 * calibration.  No floating point: fixed-point 32.32 multipliers. */
#ifndef VH_X86_TSC_H
#define VH_X86_TSC_H

#include <stdbool.h>
#include <stdint.h>

/* Measures the TSC against PIT channel 2.  False (with a message) when
 * the TSC does not advance. */
bool vh_tsc_calibrate(void);
uint64_t vh_tsc_hz(void);
bool vh_tsc_invariant(void);

uint64_t vh_now_ns(void);
uint64_t vh_tsc_to_ns(uint64_t ticks);
uint64_t vh_ns_to_tsc(uint64_t ns);
/* The TSC value, from tsc (a recent RDTSC on this CPU), at which
 * vh_now_ns() reaches ns: above tsc for a time ahead, tsc for a time
 * already past, UINT64_MAX for UINT64_MAX.  The CPU loop compares its
 * deadlines with RDTSC, which saves a conversion per VM exit. */
uint64_t vh_tsc_deadline(uint64_t tsc, uint64_t ns);
/* Busy-waits (SMP start-up delays, calibration). */
void vh_delay_ns(uint64_t ns);

#endif
