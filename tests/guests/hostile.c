/* SPDX-License-Identifier: Apache-2.0 */
/* Hostile guest: does what a broken or malicious kernel would, one step
 * at a time, announcing each step (and flushing the UART) before trying
 * it, so a log shows how far it got:
 *   1. bad hypercalls (vh only): unknown numbers, wild addresses, huge
 *      counts; each must come back as an error
 *   2. wild I/O ports: writes and reads where no device is; REP INSB
 *      into a read-only page (paging on, CR0.WP): #PF, the page intact
 *   3. forbidden MSRs: VMX capability and control MSRs, reserved EFER
 *      bits; under vh, the MSR model: every architectural MSR an OS
 *      touches at boot, one line each (what it reads, whether a valid
 *      write reads back, whether an invalid one raises #GP), compared
 *      with tests/guests/msr_model.expect on every back end; every MSR
 *      the CPU model lets a guest write, with a reserved
 *      bit set (or a non-canonical address, an invalid memory type):
 *      each must raise #GP, and a valid value must be taken and read
 *      back; under vh, control registers and XCR0: CR4.VMXE (vh keeps
 *      VMX to itself), then, where CPUID offers XSAVE, a valid XCR0
 *      (x87|SSE, read back with XGETBV) and an invalid one (SSE without
 *      x87); each #GP is caught and reported
 *   4. writes outside its memory; REP INSB and REP OUTSB with the buffer
 *      outside its memory (unclaimed MMIO: writes dropped, reads all ones,
 *      the VM runs on) and REP INSB past ES's limit (a small segment of
 *      its own): #GP(0) at the first element outside, the ones before
 *      written, EDI and ECX where the CPU leaves them (QEMU's TCG checks
 *      no segment limits: there the line says "no fault")
 *   5. a triple fault (IDT limit 0, then an exception)
 * The machine should end at step 5: QEMU with -no-reboot exits 0; vh
 * marks the VM crashed.  Reaching the end is a failure (GUEST_FAIL). */
#include "lib/runtime.h"

const char guest_name[] = "hostile";

static volatile uint32_t gp_faults, page_faults, last_pf_error, last_cr2;
static volatile uint32_t ins_gp_faults, ins_gp_error, ins_gp_edi, ins_gp_ecx;

/* #GP from the instructions step 3 tries: rdmsr (0f 32), wrmsr (0f 30),
 * mov to a control register (0f 22 modrm) or xsetbv (0f 01 d1).  Counts
 * it and steps over the instruction. */
static bool gp_fault(struct guest_frame *f)
{
	const uint8_t *ip = (const uint8_t *)f->eip;
	uint32_t len = 0;

	/* INS (6c, 6d; after REP f3) into a page it may not write, or past
	 * its segment's limit. */
	if ((f->vector == 14 || f->vector == 13) && (ip[0] == 0xf3 ? ip[1] : ip[0]) >= 0x6c &&
	    (ip[0] == 0xf3 ? ip[1] : ip[0]) <= 0x6d) {
		if (f->vector == 14) {
			page_faults++;
			last_pf_error = f->error;
			__asm__ volatile("mov %%cr2, %0" : "=r"(last_cr2));
		} else {
			ins_gp_faults++;
			ins_gp_error = f->error;
			ins_gp_edi = f->edi;
			ins_gp_ecx = f->ecx;
		}
		f->eip += ip[0] == 0xf3 ? 2 : 1;
		return true;
	}
	if (f->vector != 13 || ip[0] != 0x0f)
		return false;
	if (ip[1] == 0x32 || ip[1] == 0x30)
		len = 2;
	else if (ip[1] == 0x22 && (ip[2] & 0xc0) == 0xc0)
		len = 3;
	else if (ip[1] == 0x01 && ip[2] == 0xd1)
		len = 3;
	if (!len)
		return false;
	gp_faults++;
	f->eip += len;
	return true;
}

static void __attribute__((format(__printf__, 1, 2))) announce(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vprintf(fmt, ap);
	va_end(ap);
	console_flush();
}

#define CR4_VMXE    (1u << 13)
#define CR4_OSXSAVE (1u << 18)

/* XSETBV of XCR0 = v, then what XGETBV reads. */
static void try_xsetbv(uint32_t v)
{
	uint32_t before = gp_faults, lo, hi;

	announce("hostile: step 3: xsetbv 0x%x\n", v);
	__asm__ volatile("xsetbv" : : "c"(0), "a"(v), "d"(0));
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	printf("hostile: step 3: xsetbv 0x%x: %s, xcr0 reads 0x%x\n", v,
	       gp_faults != before ? "#GP" : "accepted", hi ? 0xffffffffu : lo);
}

/* Step 3, control registers and XCR0. */
static void control_registers(void)
{
	uint32_t cr4, before, r[4];

	if (!vh_present) {
		/* What a plain QEMU makes of these is not vh's business. */
		announce("hostile: step 3: no vh: control registers left alone\n");
		return;
	}
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	announce("hostile: step 3: cr4 |= vmxe\n");
	before = gp_faults;
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_VMXE));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	printf("hostile: step 3: cr4.vmxe: %s\n", gp_faults != before ? "#GP"
						  : (cr4 & CR4_VMXE)  ? "set"
								      : "ignored");
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 26))) {
		printf("hostile: step 3: no xsave\n");
		return;
	}
	__asm__ volatile("mov %0, %%cr4" : : "r"((cr4 & ~CR4_VMXE) | CR4_OSXSAVE));
	try_xsetbv(3); /* x87 | SSE */
	try_xsetbv(2); /* SSE without x87: invalid */
}

static bool try_wrmsr(uint32_t msr, uint64_t v)
{
	uint32_t before = gp_faults;

	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
	return gp_faults == before;
}

static uint64_t read_msr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/* Step 3, the writable MSRs: a value hardware refuses with #GP, then a
 * valid one read back (where the MSR keeps what is written), then the
 * value it had.  One line each and a count the tests check. */
static void msr_reserved_bits(void)
{
	static const struct {
		uint32_t msr;
		uint64_t bad, good;
		bool keeps; /* reads back what was written */
	} cases[] = {
		{ 0x1b, 0, 0, false }, /* APIC base: bad = current | bit 0 */
		{ 0x174, 1ull << 32, 0x10, true },
		{ 0x175, 0x0000800000000000ull, 0x1000, true },
		{ 0x176, 0xffff7fffffff0000ull, 0x2000, true },
		{ 0x17a, 1ull << 4, 0, false },
		{ 0x1a0, 1ull << 1, 1, false },
		{ 0x277, 0x0007040600070402ull, 0x0007040600070406ull, true },
		{ 0x2ff, 0xc02, 0xc06, false },
		{ 0x2ff, 1ull << 12, 0xc06, false },
		{ 0xc0000080, 1ull << 1, 0, false },
		{ 0xc0000081, 0, 0x0023001000000000ull, true },
		{ 0xc0000082, 0x0000800000000000ull, 0xffffffff81000000ull, true },
		{ 0xc0000083, 0x8000000000000000ull, 0xffffffff81000040ull, true },
		{ 0xc0000084, 1ull << 32, 0x47700, true },
		{ 0xc0000100, 0x0001000000000000ull, 0x12345000, true },
		{ 0xc0000101, 0x00ff000000000000ull, 0x12346000, true },
		{ 0xc0000102, 0xfff0000000000000ull, 0xffff800000001000ull, true },
		{ 0xc0000103, 0x500000005ull, 0x12345678, true },
	};
	unsigned ok = 0, wrong = 0;

	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t msr = cases[i].msr;
		uint64_t old = read_msr(msr), bad = cases[i].bad, back = 0;
		bool gp = true, took = true, same = true;

		if (msr == 0x1b)
			bad = old | 1;
		announce("hostile: step 3: msr 0x%x reserved 0x%x:%08x\n", msr,
			 (uint32_t)(bad >> 32), (uint32_t)bad);
		if (bad)
			gp = !try_wrmsr(msr, bad);
		if (msr == 0x1b || msr == 0xc0000080) {
			took = try_wrmsr(msr, old); /* the value it has is valid */
		} else {
			took = try_wrmsr(msr, cases[i].good);
			back = read_msr(msr);
			same = !cases[i].keeps || back == cases[i].good;
			try_wrmsr(msr, old);
		}
		printf("hostile: step 3: msr 0x%x: reserved %s, valid %s%s\n", msr,
		       !bad ? "none"
		       : gp ? "#GP"
			    : "accepted",
		       took ? "taken" : "#GP", same ? "" : ", reads back something else");
		if (gp && took && same)
			ok++;
		else
			wrong++;
	}
	printf("hostile: step 3: msr checks: %u as hardware, %u not\n", ok, wrong);
}

/* "0xHI:LO" into buf (the runtime's printf has no 64-bit conversions). */
static const char *hex64(char buf[24], uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char *p = buf;

	*p++ = '0';
	*p++ = 'x';
	for (int i = 15; i >= 0; i--) {
		*p++ = digits[(v >> (4 * i)) & 0xf];
		if (i == 8)
			*p++ = ':';
	}
	*p = 0;
	return buf;
}

static bool try_rdmsr(uint32_t msr, uint64_t *v)
{
	uint32_t before = gp_faults, lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	*v = ((uint64_t)hi << 32) | lo;
	return gp_faults == before;
}

enum {
	MM_SHOW = 1,    /* print the value it reads (the same on every back end) */
	MM_REWRITE = 2, /* the valid write is the value it reads */
	MM_TSC = 4,     /* the valid write moves the TSC 2^40 ahead */
};

/* The CPUID bit that says whether an MSR exists: leaf, register, bit. */
#define CPUID_BIT(leaf, reg, bit) (((leaf) << 16) | ((reg) << 8) | (bit))
#define ECX                       2
#define EBX                       1
#define EDX                       3

/* The MSR model a guest sees under vh: the architectural MSRs an OS
 * touches at boot, each with a value hardware takes (written and read
 * back, then the old value restored) and, where there is one, a value
 * hardware refuses with #GP.  An MSR whose CPUID bit is hidden, or which
 * MTRRCAP does not count, must raise #GP on RDMSR and on WRMSR. */
static void msr_model(void)
{
	static const struct {
		uint32_t msr;
		const char *name;
		unsigned flags;
		uint32_t cpuid; /* CPUID_BIT() that advertises it, or 0 */
		uint64_t good, bad;
	} cases[] = {
		{ 0x10, "tsc", MM_TSC, 0, 0, 0 },
		{ 0x1b, "apic_base", MM_SHOW | MM_REWRITE, 0, 0, 0xfed00900 }, /* moved */
		{ 0x1b, "apic_base", MM_SHOW | MM_REWRITE, 0, 0, 0xfee00d00 }, /* x2APIC */
		{ 0x3b, "tsc_adjust", MM_SHOW, CPUID_BIT(7, EBX, 1), 0, 1 },
		{ 0x48, "spec_ctrl", 0, CPUID_BIT(7, EDX, 26), 0, 0 },
		{ 0x49, "pred_cmd", 0, CPUID_BIT(7, EDX, 26), 1, 0 },
		{ 0x10a, "arch_capabilities", 0, CPUID_BIT(7, EDX, 29), 0, 0 },
		{ 0x10b, "flush_cmd", 0, CPUID_BIT(7, EDX, 28), 1, 0 },
		{ 0xfe, "mtrrcap", MM_SHOW | MM_REWRITE, 0, 0, 0 },
		{ 0x174, "sysenter_cs", 0, 0, 0x10, 1ull << 32 },
		{ 0x175, "sysenter_esp", 0, 0, 0xffff800000001000ull, 1ull << 47 },
		{ 0x176, "sysenter_eip", 0, 0, 0x00007ffffffff000ull, 1ull << 63 },
		{ 0x1a0, "misc_enable", MM_SHOW | MM_REWRITE, 0, 0, 1ull << 1 },
		{ 0x200, "mtrr_physbase0", 0, 0, 0x6, 0 },
		{ 0x201, "mtrr_physmask0", 0, 0, 0x800, 0 },
		{ 0x250, "mtrr_fix64k_00000", 0, 0, 0x0606060606060606ull, 0 },
		{ 0x258, "mtrr_fix16k_80000", 0, 0, 0x0606060606060606ull, 0 },
		{ 0x268, "mtrr_fix4k_c0000", 0, 0, 0x0606060606060606ull, 0 },
		{ 0x277, "pat", MM_SHOW, 0, 0x0007010600070106ull, 0x0007040600070402ull },
		{ 0x2ff, "mtrr_def_type", MM_SHOW, 0, 0xc06, 0xc02 },
		{ 0x6e0, "tsc_deadline", 0, CPUID_BIT(1, ECX, 24), 0, 0 },
		{ 0xc0000080, "efer", MM_SHOW | MM_REWRITE, 0, 0, 1ull << 1 },
		{ 0xc0000081, "star", 0, 0, 0x0023001000000000ull, 0 },
		{ 0xc0000082, "lstar", 0, 0, 0xffffffff81000000ull, 1ull << 47 },
		{ 0xc0000083, "cstar", 0, 0, 0xffffffff81000040ull, 1ull << 60 },
		{ 0xc0000084, "sfmask", 0, 0, 0x47700, 1ull << 32 },
		{ 0xc0000100, "fs_base", 0, 0, 0x12345000, 0x0001000000000000ull },
		{ 0xc0000101, "gs_base", 0, 0, 0x12346000, 0x00ff000000000000ull },
		{ 0xc0000102, "kernel_gs_base", 0, 0, 0xffff800000002000ull,
		  0xfff0000000000000ull },
	};
	char a[24], b[24];

	for (uint32_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t msr = cases[i].msr, c = cases[i].cpuid, r[4];
		const char *name = cases[i].name;
		unsigned fl = cases[i].flags;
		uint64_t old, w = cases[i].good, back = 0;
		bool took, same;

		announce("hostile: msr model: 0x%x %s\n", msr, name);
		if (c) {
			cpuid(c >> 16, 0, r);
			printf("hostile: msr 0x%x %s: cpuid leaf 0x%x %s bit %u %s\n", msr, name,
			       c >> 16,
			       ((c >> 8) & 0xff) == EDX   ? "edx"
			       : ((c >> 8) & 0xff) == EBX ? "ebx"
							  : "ecx",
			       c & 0xff,
			       (r[(c >> 8) & 0xff] >> (c & 0xff)) & 1 ? "shown" : "hidden");
		}
		if (!try_rdmsr(msr, &old)) {
			/* PRED_CMD and FLUSH_CMD are write-only where they exist. */
			took = try_wrmsr(msr, w);
			printf("hostile: msr 0x%x %s: rdmsr #GP, wrmsr %s %s\n", msr, name,
			       hex64(b, w), took ? "taken" : "#GP");
			continue;
		}
		if (fl & MM_REWRITE)
			w = old;
		if (fl & MM_TSC)
			w = old + (1ull << 40);
		took = try_wrmsr(msr, w);
		(void)try_rdmsr(msr, &back);
		if (fl & MM_TSC)
			/* Ahead by at most the instructions since (2^32 is ample). */
			same = back >= w && back - w < (1ull << 32);
		else
			same = back == w;
		if (took && !(fl & MM_REWRITE))
			(void)try_wrmsr(msr, (fl & MM_TSC) ? back - (1ull << 40) : old);
		if (fl & MM_SHOW)
			printf("hostile: msr 0x%x %s: reads %s", msr, name, hex64(a, old));
		else
			printf("hostile: msr 0x%x %s: reads", msr, name);
		if (fl & MM_TSC)
			printf(", 2^40 ahead %s", !took ? "#GP" : same ? "read back" : "lost");
		else if (fl & MM_REWRITE)
			printf(", same value %s", !took ? "#GP" : same ? "read back" : "lost");
		else
			printf(", %s %s", hex64(b, w), !took ? "#GP" : same ? "read back" : "lost");
		if (cases[i].bad) {
			took = try_wrmsr(msr, cases[i].bad);
			if (took)
				(void)try_wrmsr(msr, old);
			printf(", %s %s", hex64(b, cases[i].bad), took ? "taken" : "#GP");
		}
		printf("\n");
	}
}

#define PTE_P   0x1u
#define PTE_RW  0x2u
#define PTE_PS  0x80u
#define CR0_PG  (1u << 31)
#define CR0_WP  (1u << 16)
#define CR4_PSE (1u << 4)

/* Step 2b: with paging on and CR0.WP set, REP INSB from an empty port
 * into a read-only page must raise #PF (present, write: error 3, CR2 the
 * page) and leave the page as it was.  vh emulates INS itself, so its
 * page walk must honour R/W as the CPU would. */
static void ins_read_only(void)
{
	uint32_t *pd = (uint32_t *)free_start, *pt = pd + 1024;
	volatile uint8_t *ro = (volatile uint8_t *)(free_start + 2 * PAGE_SIZE);
	uint32_t cr0, cr4, before = page_faults, intact = 1;

	for (uint32_t i = 0; i < 1024; i++)
		pt[i] = (i * PAGE_SIZE) | PTE_P | PTE_RW;
	for (uint32_t i = 1; i < 1024; i++)
		pd[i] = (i << 22) | PTE_P | PTE_RW | PTE_PS;
	pd[0] = (uint32_t)pt | PTE_P | PTE_RW;
	for (uint32_t i = 0; i < PAGE_SIZE; i++)
		ro[i] = 0x5a;
	pt[(uint32_t)ro >> 12] &= ~PTE_RW;
	announce("hostile: step 2: rep insb into a read-only page at 0x%x\n", (uint32_t)ro);
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_PSE));
	__asm__ volatile("mov %0, %%cr3" : : "r"(pd));
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_PG | CR0_WP) : "memory");
	__asm__ volatile("cld; rep insb"
			 : "+D"(ro), "+c"((uint32_t){ 16 })
			 : "d"(0x300)
			 : "memory");
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0) : "memory");
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	ro = (volatile uint8_t *)(free_start + 2 * PAGE_SIZE);
	for (uint32_t i = 0; i < PAGE_SIZE; i++)
		intact &= ro[i] == 0x5a;
	printf("hostile: step 2: rep insb into a read-only page: %s error 0x%x cr2 %s, page %s\n",
	       page_faults != before ? "#PF" : "no fault", last_pf_error,
	       last_cr2 == (uint32_t)ro ? "right" : "wrong", intact ? "intact" : "written");
}

/* Step 4b: string I/O whose buffer is not RAM is an MMIO access to
 * nothing (vh once stopped the VM instead), and one past ES's limit is a
 * #GP(0) before the first element outside it (the I/O exit comes before
 * the CPU's own segment checks: vh must make them). */
static void string_io_outside(void)
{
	/* The runtime's flat code and data, and data based at 0 with a
	 * 4 KiB limit (byte granularity, 32-bit, read/write). */
	static uint64_t gdt[4] = { 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
				   0x0040930000000fffull };
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} d = { sizeof(gdt) - 1, (uint32_t)gdt };
	uint32_t di = 0xf8000000u, cx = 16, before;
	uint32_t edge_at = 0xff8;
	volatile uint8_t *edge;
	uint8_t saved[16];

	__asm__("" : "+r"(edge_at)); /* a plain address, not an object the compiler knows */
	edge = (volatile uint8_t *)edge_at;

	announce("hostile: step 4: rep insb to 0x%x, outside its memory\n", di);
	__asm__ volatile("cld; rep insb" : "+D"(di), "+c"(cx) : "d"(0x300) : "memory");
	printf("hostile: step 4: rep insb outside memory: edi +%u ecx %u\n", di - 0xf8000000u, cx);
	{
		uint32_t si = 0xf8000000u;
		cx = 16;
		announce("hostile: step 4: rep outsb from 0x%x, outside its memory\n", si);
		__asm__ volatile("cld; rep outsb" : "+S"(si), "+c"(cx) : "d"(0x300) : "memory");
		printf("hostile: step 4: rep outsb outside memory: esi +%u ecx %u\n",
		       si - 0xf8000000u, cx);
	}
	for (uint32_t i = 0; i < 16; i++) {
		saved[i] = edge[i];
		edge[i] = 0x5a;
	}
	announce("hostile: step 4: rep insb past ES's limit 0xfff\n");
	__asm__ volatile("lgdt %0" : : "m"(d));
	before = ins_gp_faults;
	di = 0xff8;
	cx = 16;
	__asm__ volatile("movw $0x18, %%ax\n\tmovw %%ax, %%es\n\t"
			 "cld; rep insb\n\t"
			 "movw $0x10, %%ax\n\tmovw %%ax, %%es"
			 : "+D"(di), "+c"(cx)
			 : "d"(0x300)
			 : "eax", "memory");
	printf("hostile: step 4: rep insb past ES's limit: %s error 0x%x edi 0x%x ecx %u, "
	       "below the limit %s, above it %s\n",
	       ins_gp_faults != before ? "#GP" : "no fault", ins_gp_error, ins_gp_edi, ins_gp_ecx,
	       edge[7] == 0xff ? "written" : "not written", edge[8] == 0x5a ? "intact" : "written");
	for (uint32_t i = 0; i < 16; i++)
		edge[i] = saved[i];
}

static void bad_hypercalls(void)
{
	static const struct {
		uint32_t nr, a1, a2;
	} calls[] = {
		{ 0, 0, 0 },
		{ 999, 0, 0 },
		{ VH_HC_CONSOLE_WRITE, 0xfffff000u, 0x100000u },
		{ VH_HC_CONSOLE_WRITE, 0xffffffffu, 2 },
		{ VH_HC_BALLOON_INFLATE, 0xfffffff8u, 1 },
		{ VH_HC_BALLOON_INFLATE, 0x1000, 0xffffffffu },
		{ VH_HC_BALLOON_DEFLATE, 0x1001, 1 },
		{ VH_HC_INFO, 0xfffffff8u, 0 },
		{ VH_HC_INFO, 0x1003, 0 },
	};

	for (uint32_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		long r;
		printf("hostile: step 1: hypercall %u (0x%x, 0x%x)", calls[i].nr, calls[i].a1,
		       calls[i].a2);
		console_flush();
		r = hypercall(calls[i].nr, calls[i].a1, calls[i].a2, 0, 0);
		printf(" -> %d\n", (int)r);
	}
}

unsigned guest_main(void)
{
	static const uint16_t ports[] = { 0x300, 0x1234, 0x5678, 0xbeef, 0xfff0 };
	static const uint32_t msrs_read[] = { 0x480, 0x48d, 0xdeadbeef };
	uint32_t lo, hi;

	trap_hook = gp_fault;
	if (vh_present)
		bad_hypercalls();
	else
		announce("hostile: step 1: no vh (\"%s\"): no hypercalls to abuse\n", hv_signature);

	for (uint32_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		announce("hostile: step 2: port 0x%x\n", ports[i]);
		outb(ports[i], 0xa5);
		outl(ports[i] & ~3u, 0xdeadbeef);
		printf("hostile: step 2: port 0x%x reads 0x%x\n", ports[i], inb(ports[i]));
	}

	ins_read_only();

	for (uint32_t i = 0; i < sizeof(msrs_read) / sizeof(msrs_read[0]); i++) {
		uint32_t before = gp_faults;
		announce("hostile: step 3: rdmsr 0x%x\n", msrs_read[i]);
		lo = hi = 0;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msrs_read[i]));
		if (gp_faults != before)
			printf("hostile: step 3: rdmsr 0x%x: #GP\n", msrs_read[i]);
		else
			printf("hostile: step 3: rdmsr 0x%x = 0x%x%08x\n", msrs_read[i], hi, lo);
	}
	{
		uint32_t before = gp_faults;
		/* EFER with every reserved bit set. */
		announce("hostile: step 3: wrmsr 0x%x\n", 0xc0000080u);
		__asm__ volatile("wrmsr" : : "c"(0xc0000080u), "a"(0xfffff000u), "d"(0xffffffffu));
		printf("hostile: step 3: wrmsr 0xc0000080: %s\n",
		       gp_faults != before ? "#GP" : "accepted");
	}
	msr_reserved_bits();
	if (vh_present)
		msr_model();
	control_registers();

	{
		/* Past the end of RAM, and high in the 32-bit address space. */
		uint32_t targets[2] = { (uint32_t)mem_end + (16u << 20), 0xf8000000u };
		for (int i = 0; i < 2; i++) {
			volatile uint32_t *p = (volatile uint32_t *)targets[i];
			announce("hostile: step 4: write outside memory at 0x%x\n", targets[i]);
			*p = 0xbadc0de;
			printf("hostile: step 4: 0x%x reads 0x%x\n", targets[i], *p);
		}
	}

	string_io_outside();

	announce("hostile: step 5: triple fault\n");
	idt_clear();
	__asm__ volatile("int3");
	printf("hostile: still running after the triple fault\n");
	return GUEST_FAIL;
}
