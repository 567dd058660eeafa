/* CPU spinner: burns CPU in units of work and reports its progress, so a
 * host can measure how much CPU each VM got (the shares tests compare the
 * progress of spinners).  Command line:
 *   iters=N    units of work before exiting (0: spin forever; default 100)
 *   report=M   a progress line every M units (default 10)
 *   work=K     inner iterations per unit (default 100000)
 * Output: "spinner: progress U" lines, then "spinner: done U units
 * checksum X"; exits with GUEST_PASS. */
#include "lib/runtime.h"

const char guest_name[] = "spinner";

unsigned guest_main(void)
{
	uint32_t iters = arg_u32("iters", 100), report = arg_u32("report", 10);
	uint32_t work = arg_u32("work", 100000);
	uint32_t x = 0x12345678, unit = 0;

	if (report == 0)
		report = 1;
	printf("spinner: iters %u report %u work %u\n", iters, report, work);
	for (unit = 1; iters == 0 || unit <= iters; unit++) {
		/* A dependent chain the compiler cannot fold away. */
		for (uint32_t i = 0; i < work; i++)
			x = x * 1664525u + 1013904223u;
		__asm__ volatile("" : "+r"(x));
		if (unit % report == 0)
			printf("spinner: progress %u\n", unit);
	}
	printf("spinner: done %u units checksum %x\n", unit - 1, x);
	return GUEST_PASS;
}
