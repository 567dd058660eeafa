/* SPDX-License-Identifier: Apache-2.0 */
/* CPU spinner: burns CPU in units of work and reports its progress, so a
 * host can measure how much CPU each VM got (the shares tests compare the
 * progress of spinners).  Command line:
 *   iters=N    units of work before exiting (0: spin forever; default 100)
 *   report=M   a progress line every M units (default 10)
 *   work=K     inner iterations per unit (default 100000)
 *   strio=1    first exercise string port I/O: a line through the UART
 *              by REP OUTSB, forwards and (DF set) backwards, and the
 *              fw_cfg signature and 300 bytes of an empty port read by
 *              REP INSB
 *   flood=SIZE first write SIZE bytes of console lines as fast as it can:
 *              4 KiB a console hypercall under vh, else through the UART
 *              (a guest that would fill the host's disk; the hosted
 *              console tests bound it)
 * Output: under vh, the CPU model's lines (cpu_model: "spinner: cpuid
 * ..."); "spinner:
 * progress U" lines, then "spinner: done U units checksum X"; exits with
 * GUEST_PASS. */
#include "lib/runtime.h"
#include "vh/cpuid.h"

const char guest_name[] = "spinner";

#define UART_THR    0x3f8
#define FW_CFG_SEL  0x510
#define FW_CFG_DATA 0x511
#define EMPTY_PORT  0x2f0 /* nothing there on a PC: reads all ones */

/* REP OUTSB/INSB as a driver with a FIFO uses them; the hypervisor must
 * emulate them (buffer through the page tables, rSI/rDI/rCX, DF). */
static void string_io(void)
{
	static const char fwd[] = "spinner: rep outsb forwards\n";
	static const char back[] = "\nsdrawkcab bstuo per dts :rennips"; /* sent last byte first */
	const char *p = fwd;
	uint32_t n = sizeof(fwd) - 1;
	char sig[5] = { 0 };
	char *q = sig;

	__asm__ volatile("cld; rep outsb" : "+S"(p), "+c"(n) : "d"(UART_THR) : "memory");
	p = back + sizeof(back) - 2;
	n = sizeof(back) - 1;
	__asm__ volatile("std; rep outsb; cld" : "+S"(p), "+c"(n) : "d"(UART_THR) : "memory");
	outw(FW_CFG_SEL, 0); /* the signature */
	n = 4;
	__asm__ volatile("cld; rep insb" : "+D"(q), "+c"(n) : "d"(FW_CFG_DATA) : "memory");
	printf("spinner: rep insb: fw_cfg signature \"%s\", rcx %u, rdi +%u\n", sig, n,
	       (uint32_t)(q - sig));
	/* Longer than one exit's batch in vh: the REP must resume. */
	static uint8_t big[300];
	uint32_t ones = 0;
	q = (char *)big;
	n = sizeof(big);
	__asm__ volatile("cld; rep insb" : "+D"(q), "+c"(n) : "d"(EMPTY_PORT) : "memory");
	for (uint32_t i = 0; i < sizeof(big); i++)
		ones += big[i] == 0xff;
	printf("spinner: rep insb: %u bytes from an empty port, %u read 0xff, rcx %u\n",
	       (uint32_t)sizeof(big), ones, n);
}

/* 64-byte "spinner: flood 5678901234...\n" lines, 4 KiB at a time, until
 * `total` bytes are out; then "spinner: flooded N KiB". */
static void flood(uint64_t total)
{
	static char chunk[4096];
	uint64_t sent = 0;

	while (sent < total) {
		uint32_t n =
		    total - sent < sizeof(chunk) ? (uint32_t)(total - sent) : sizeof(chunk);
		for (uint32_t i = 0, j = 0; i < n; i++, j = i % 64)
			chunk[i] = j == 63 || i == n - 1 ? '\n'
				   : j < 15              ? "spinner: flood "[j]
							 : (char)('0' + j % 10);
		if (vh_present)
			hypercall(VH_HC_CONSOLE_WRITE, (uint32_t)chunk, n, 0, 0);
		else
			for (uint32_t i = 0; i < n; i++)
				putchar_com1(chunk[i]);
		sent += n;
	}
	printf("spinner: flooded %u KiB\n", (uint32_t)(total >> 10));
}

/* The CPU model vh decides (vh/cpuid.h), in lines that read the same on
 * every back end: tests/boot/bochs_vmx.sh and tests/kvm/guests.sh expect
 * the same ones. */
static void cpu_model(void)
{
	uint32_t r[4], b[4], ebx1, ecx1, edx1, n, d, crystal;

	cpuid(VH_CPUID_FEATURES, 0, r);
	printf("spinner: cpuid hypervisor abi %u port 0x%x\n", r[0], r[2]);
	/* What vh does not virtualise must not be offered: VMX, SMX,
	 * x2APIC and TSC-deadline mode hidden, the hypervisor bit set. */
	cpuid(1, 0, r);
	ebx1 = r[1];
	ecx1 = r[2];
	edx1 = r[3];
	n = ecx1 & ((1u << 5) | (1u << 6) | (1u << 21) | (1u << 24));
	printf("spinner: cpuid leaf 1 ecx 0x%08x: vmx smx x2apic tsc-deadline %s, "
	       "hypervisor bit %s\n",
	       ecx1, n ? "shown" : "hidden", (ecx1 >> 31) ? "set" : "clear");
	printf("spinner: cpuid leaf 1 ecx hidden bits shown: 0x%x\n", ecx1 & VH_CPUID1_ECX_HIDE);
	printf("spinner: cpuid leaf 1 edx hidden bits shown: 0x%x, htt %u\n",
	       edx1 & VH_CPUID1_EDX_HIDE, (edx1 >> 28) & 1);
	cpuid(7, 0, r);
	printf("spinner: cpuid leaf 7 hidden bits shown: ebx 0x%x ecx 0x%x edx 0x%x\n",
	       r[1] & VH_CPUID7_EBX_HIDE, r[2] & VH_CPUID7_ECX_HIDE, r[3] & VH_CPUID7_EDX_HIDE);
	cpuid(0xb, 0, r);
	cpuid(0xb, 1, b);
	printf("spinner: cpuid topology: apic id %u, %u logical, smt %u core %u bits %u\n", b[3],
	       (ebx1 >> 16) & 0xff, r[1], b[1], b[0]);
	cpuid(6, 0, r);
	printf("spinner: cpuid leaf 6 eax 0x%x ebx 0x%x ecx 0x%x: arat %s\n", r[0], r[1], r[2],
	       (r[0] >> 2) & 1 ? "set" : "clear");
	cpuid(0, 0, r);
	if (r[0] >= VH_CPUID_FREQ_LEAF) {
		cpuid(VH_CPUID_TSC_LEAF, 0, r);
		cpuid(VH_CPUID_FREQ_LEAF, 0, b);
		d = r[0];
		n = r[1];
		crystal = r[2];
		/* Linux's TSC: crystal_khz * n / d in 32 bits, so the product
		 * must fit; leaf 0x16's base MHz is that rate truncated (no
		 * 64-bit division here: products only).  The rate itself is
		 * the back end's (Bochs's ips, the host's TSC): its own line. */
		uint64_t t = (uint64_t)(crystal / 1000) * n;
		bool fits = t <= 0xffffffffu;
		bool same =
		    d && (uint64_t)b[0] * 1000 * d <= t && t < (uint64_t)(b[0] + 1) * 1000 * d;
		printf("spinner: cpuid tsc: crystal %u MHz, bus %u MHz, ratio %s leaf 0x16, "
		       "product %s 32 bits\n",
		       crystal / 1000000, b[2], same ? "matches" : "differs from",
		       fits ? "fits in" : "overflows");
		printf("spinner: cpuid tsc rate %u kHz\n", fits && d ? (uint32_t)t / d : 0);
	} else {
		printf("spinner: cpuid tsc: no leaf 0x15/0x16 (max 0x%x)\n", r[0]);
	}
	cpuid(0x80000008u, 0, r);
	printf("spinner: cpuid address widths: physical %u, linear %u\n", r[0] & 0xff,
	       (r[0] >> 8) & 0xff);
}

unsigned guest_main(void)
{
	uint32_t iters = arg_u32("iters", 100), report = arg_u32("report", 10);
	uint32_t work = arg_u32("work", 100000);
	uint32_t x = 0x12345678, unit = 0;

	if (report == 0)
		report = 1;
	if (arg_u32("strio", 0))
		string_io();
	if (arg_size("flood", 0))
		flood(arg_size("flood", 0));
	if (vh_present)
		cpu_model();
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
