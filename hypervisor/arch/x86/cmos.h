/* SPDX-License-Identifier: Apache-2.0 */
/* The machine's CMOS clock (cmos.c): read once at boot, after the TSC is
 * calibrated; the time of day since then follows the TSC. */
#ifndef VH_X86_CMOS_H
#define VH_X86_CMOS_H

#include <stdint.h>

void vh_cmos_init(void);
/* UTC (what the CMOS clock holds), ns since 1970. */
uint64_t vh_cmos_wall_ns(void);

#endif
