/* SPDX-License-Identifier: Apache-2.0 */
/* The instructions this host's /dev/kvm hands back to vh-hosted as
 * emulation failures (vh/unemulated.h), each with what a real CPU does:
 *   - INT3, INT n, INTO (OF set), with the return address after them; an
 *     INT n past the IDT's limit is #GP(n * 8 + 2) at the instruction;
 *   - CMPXCHG8B equal and unequal (ZF, EDX:EAX, memory), its register
 *     form (#UD);
 *   - CLAC/STAC (EFLAGS.AC) where CPUID offers SMAP, else #UD; XGETBV
 *     (#UD without CR4.OSXSAVE, XCR0 with it, #GP for XCR 2); RDPRU and
 *     INVPCID #UD where CPUID does not offer them; CLFLUSH; XRSTOR of the
 *     x87 state from memory and to its initial state, #GP(0) misaligned;
 *   - XRSTOR's compacted form where CPUID offers XSAVEC (#GP(0) where it
 *     does not): x87 and SSE from memory and to their initial state, with
 *     AVX and with the AVX-512 opmasks packed where XCR0 can have them,
 *     and #GP(0) for XSTATE_BV outside XCOMP_BV, header bytes 16..63 not
 *     zero, XCOMP_BV outside XCR0 and a reserved MXCSR bit; leaf 0xd is
 *     printed as the guest reads it first (docs/hosted.md);
 *   - CMPXCHG16B in 64-bit mode (4-level paging, a 64-bit code segment
 *     and IDT, back to 32-bit protected mode afterwards): equal,
 *     unequal, misaligned (#GP(0)), on a page not present (#PF, CR2) and
 *     on a read-only page with CR0.WP (#PF "present, write" although the
 *     compare fails: CMPXCHG always writes).
 * Every expectation follows the CPUID the guest sees, so the guest passes
 * on any correct CPU (QEMU's TCG as well: tests/guests/qemu_guests.sh);
 * which of these reached vh-hosted is the daemon log's business
 * (tests/kvm/unemulated.sh).  Output: one "unemulated: NAME ok" or
 * "unemulated: NAME FAILED ..." line per check, then "unemulated: done,
 * N failed". */
#include "lib/runtime.h"

const char guest_name[] = "unemulated";

#define EFER       0xc0000080u
#define EFER_LME   (1u << 8)
#define EFLAGS_AC  (1u << 18)
#define EFLAGS_ZF  (1u << 6)
#define CR0_WP     (1u << 16)
#define CR0_PG     0x80000000u
#define CR4_PAE    (1u << 5)
#define CR4_OSXSAVE (1u << 18)

static uint32_t failed;

/* What the last exception was; `skip` bytes are stepped over for a fault
 * (its EIP is the instruction's). */
static volatile uint32_t trap_vec, trap_err, trap_eip, trap_cr2, traps, skip;

static bool hook(struct guest_frame *f)
{
	trap_vec = f->vector;
	trap_err = f->error;
	trap_eip = f->eip;
	if (f->vector == 14)
		__asm__ volatile("movl %%cr2, %0" : "=r"(trap_cr2));
	traps++;
	if (f->vector == 6 || f->vector == 13 || f->vector == 14)
		f->eip += skip;
	return true;
}

static void check(const char *name, bool ok, const char *fmt, uint32_t a, uint32_t b)
{
	if (ok) {
		printf("unemulated: %s ok\n", name);
		return;
	}
	failed++;
	printf("unemulated: %s FAILED ", name);
	printf(fmt, a, b);
	printf("\n");
}

static void arm(uint32_t n)
{
	traps = 0;
	trap_vec = 0xff;
	skip = n;
}

static bool bit(uint32_t leaf, unsigned reg, unsigned b)
{
	uint32_t r[4];

	cpuid(leaf, 0, r);
	return (r[reg] >> b) & 1u;
}

static void software_interrupts(void)
{
	uint32_t after;

	arm(0);
	__asm__ volatile("int3\n1:\tmovl $1b, %0" : "=r"(after) : : "memory");
	check("int3", traps == 1 && trap_vec == 3 && trap_eip == after,
	      "vector %u eip 0x%x", trap_vec, trap_eip);
	arm(0);
	__asm__ volatile("int $5\n1:\tmovl $1b, %0" : "=r"(after) : : "memory");
	check("int 5", traps == 1 && trap_vec == 5 && trap_eip == after, "vector %u eip 0x%x",
	      trap_vec, trap_eip);
	/* OF set: 0x7fffffff + 1 */
	arm(0);
	__asm__ volatile("movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\tinto\n1:\tmovl $1b, %0"
			 : "=r"(after) : : "eax", "cc", "memory");
	check("into", traps == 1 && trap_vec == 4 && trap_eip == after, "vector %u eip 0x%x",
	      trap_vec, trap_eip);
	/* The runtime's IDT holds 20 gates: INT 0x80 is #GP(0x80 * 8 + 2). */
	arm(2);
	__asm__ volatile("1:\tint $0x80\n\tmovl $1b, %0" : "=r"(after) : : "memory");
	check("int 0x80 past the IDT limit", traps == 1 && trap_vec == 13 && trap_err == 0x402 &&
	      trap_eip == after, "vector %u error 0x%x", trap_vec, trap_err);
}

static volatile uint64_t m64 __attribute__((aligned(8)));

/* cmpxchg8b at p: returns ZF; *edx_eax gets EDX:EAX after. */
static bool cx8(volatile uint64_t *p, uint64_t *edx_eax, uint64_t ecx_ebx)
{
	uint32_t lo = (uint32_t)*edx_eax, hi = (uint32_t)(*edx_eax >> 32);
	uint8_t zf;

	__asm__ volatile("lock cmpxchg8b %1\n\tsetz %0"
			 : "=q"(zf), "+m"(*p), "+a"(lo), "+d"(hi)
			 : "b"((uint32_t)ecx_ebx), "c"((uint32_t)(ecx_ebx >> 32))
			 : "memory", "cc");
	*edx_eax = (uint64_t)hi << 32 | lo;
	return zf;
}

static void cmpxchg8b(void)
{
	uint64_t v = 0x1111111122222222ull;

	if (!bit(1, 3, 8)) {
		printf("unemulated: no CX8 in CPUID: not checked\n");
		return;
	}
	m64 = v;
	check("cmpxchg8b equal", cx8(&m64, &v, 0x3333333344444444ull) &&
	      m64 == 0x3333333344444444ull && v == 0x1111111122222222ull,
	      "memory 0x%x... 0x%x", (uint32_t)(m64 >> 32), (uint32_t)m64);
	v = 5;
	check("cmpxchg8b unequal", !cx8(&m64, &v, 7) && v == 0x3333333344444444ull &&
	      m64 == 0x3333333344444444ull, "edx:eax 0x%x:0x%x", (uint32_t)(v >> 32), (uint32_t)v);
	arm(3);
	__asm__ volatile(".byte 0x0f, 0xc7, 0xc9" : : : "memory"); /* cmpxchg8b ecx: no such form */
	check("cmpxchg8b register form #UD", traps == 1 && trap_vec == 6, "vector %u traps %u",
	      trap_vec, traps);
}

/* XRSTOR of the x87 component (RFBM 1) from a standard-format area:
 * FCW 0x027f from memory, then the initial state (0x037f) with XSTATE_BV
 * clear; a misaligned area is #GP(0).  "xrstor (%esi)": 3 bytes. */
static uint8_t xarea[640] __attribute__((aligned(64)));

static void xrstor_at(void *p)
{
	__asm__ volatile("xrstor (%%esi)" : : "S"(p), "a"(1), "d"(0) : "memory");
}

static void xrstor_checks(void)
{
	uint16_t fcw = 0;

	memset(xarea, 0, sizeof(xarea));
	xarea[0] = 0x7f, xarea[1] = 0x02; /* FCW 0x027f */
	xarea[512] = 1;                   /* XSTATE_BV: x87 */
	arm(3);
	xrstor_at(xarea);
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	check("xrstor x87 from memory", traps == 0 && fcw == 0x027f, "fcw 0x%x traps %u", fcw,
	      traps);
	xarea[512] = 0; /* the x87 component's initial state */
	xrstor_at(xarea);
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	check("xrstor x87 initial state", traps == 0 && fcw == 0x037f, "fcw 0x%x traps %u", fcw,
	      traps);
	arm(3);
	xrstor_at(xarea + 16);
	check("xrstor misaligned #GP(0)", traps == 1 && trap_vec == 13 && trap_err == 0,
	      "vector %u error 0x%x", trap_vec, trap_err);
}

/* Leaf 0xd as this guest reads it (docs/hosted.md: what the guest sees
 * against what vh gave KVM). */
static void leafd_report(void)
{
	uint32_t r[4];

	cpuid(0xd, 0, r);
	printf("unemulated: cpuid 0xd.0 eax 0x%x ebx 0x%x ecx 0x%x\n", r[0], r[1], r[2]);
	cpuid(0xd, 1, r);
	printf("unemulated: cpuid 0xd.1 eax 0x%x ebx 0x%x ecx 0x%x\n", r[0], r[1], r[2]);
	for (uint32_t i = 2; i < 19; i++) {
		cpuid(0xd, i, r);
		if (r[0])
			printf("unemulated: cpuid 0xd.%u size %u offset %u ecx 0x%x\n", i, r[0],
			       r[1], r[2]);
	}
}

/* ---- XRSTOR's compacted form (XCOMP_BV bit 63) ---------------------------- */

#define CR4_OSFXSR (1u << 9)
#define COMPACTED  0x80000000u /* XCOMP_BV bit 63, in the high dword */

static uint8_t carea[1024] __attribute__((aligned(64)));

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A compacted area: FCW, MXCSR, XMM0's bytes 0x10.., XSTATE_BV and
 * XCOMP_BV (the high dword's bit 31 is bit 63). */
static void carea_init(uint16_t fcw, uint32_t mxcsr, uint32_t xstate_bv, uint32_t xcomp_lo)
{
	memset(carea, 0, sizeof(carea));
	carea[0] = (uint8_t)fcw, carea[1] = (uint8_t)(fcw >> 8);
	put32(carea + 24, mxcsr);
	for (unsigned i = 0; i < 16; i++)
		carea[160 + i] = (uint8_t)(0x10 + i);
	put32(carea + 512, xstate_bv);
	put32(carea + 520, xcomp_lo);
	put32(carea + 524, COMPACTED);
}

static void xrstor_mask(void *p, uint32_t rfbm)
{
	__asm__ volatile("xrstor (%%esi)" : : "S"(p), "a"(rfbm), "d"(0) : "memory");
}

static void xsetbv0(uint32_t lo)
{
	__asm__ volatile("xsetbv" : : "a"(lo), "d"(0), "c"(0) : "memory");
}

/* FCW and XMM0 as the vCPU has them.  Not MXCSR, YMM or the opmasks:
 * this KVM hands SSE instructions back as emulation failures in this
 * 32-bit guest (measured: STMXCSR, CVTSS2SI, MOVD stop the VM, "KVM
 * cannot emulate the instruction"), MOVDQU it emulates itself; their
 * placement is tests/unit/test_xsave.c's. */
static void fpu_state(uint16_t *fcw, uint8_t xmm0[16])
{
	__asm__ volatile("fnstcw %0" : "=m"(*fcw));
	__asm__ volatile("movdqu %%xmm0, (%0)" : : "r"(xmm0) : "memory");
}

static bool xmm0_is(const uint8_t x[16], uint8_t first)
{
	for (unsigned i = 0; i < 16; i++)
		if (x[i] != (uint8_t)(first ? first + i : 0))
			return false;
	return true;
}

/* A compacted XRSTOR of carea (RFBM rfbm) that must not fault and leave
 * FCW `fcw` and XMM0 0x10.. (xmm_first 0x10) or zeros (0). */
static void compacted_ok(const char *name, uint32_t rfbm, uint16_t fcw, uint8_t xmm_first)
{
	uint8_t xmm0[16];
	uint16_t got = 0;

	arm(3);
	xrstor_mask(carea, rfbm);
	fpu_state(&got, xmm0);
	check(name, traps == 0 && got == fcw && xmm0_is(xmm0, xmm_first), "fcw 0x%x traps %u",
	      got, traps);
}

/* One compacted XRSTOR that must be #GP(0) and change nothing: FCW stays
 * 0x027f (the area says 0x0360). */
static void compacted_gp(const char *name, uint32_t xstate_bv, uint32_t xcomp_lo,
			 unsigned bad_byte)
{
	uint16_t fcw = 0;

	carea_init(0x0360, 0x1f80, xstate_bv, xcomp_lo);
	if (bad_byte)
		carea[bad_byte] = 1;
	arm(3);
	xrstor_mask(carea, 3);
	__asm__ volatile("fnstcw %0" : "=m"(fcw));
	check(name, traps == 1 && trap_vec == 13 && trap_err == 0 && fcw == 0x027f,
	      "vector %u fcw 0x%x", trap_vec, fcw);
}

/* Called with CR4.OSXSAVE set and XCR0 as the runtime left it. */
static void xrstor_compacted_checks(void)
{
	uint32_t r[4], cr4, xcr0, lo, hi, outside = 4;
	bool avx, avx512;

	cpuid(0xd, 1, r);
	if (!(r[0] & 2)) {
		/* No XSAVEC: XCOMP_BV must be 0, bit 63 is #GP(0). */
		carea_init(0x027f, 0x1f80, 1, 1);
		arm(3);
		xrstor_mask(carea, 1);
		check("xrstor compacted without XSAVEC #GP(0)", traps == 1 && trap_vec == 13 &&
		      trap_err == 0, "vector %u error 0x%x", trap_vec, trap_err);
		return;
	}
	__asm__ volatile("xorl %%ecx, %%ecx\n\txgetbv" : "=a"(lo), "=d"(hi) : : "ecx");
	cpuid(0xd, 0, r);
	avx = (r[0] & 6) == 6 && bit(1, 2, 28);
	avx512 = avx && (r[0] & 0xe0) == 0xe0 && bit(7, 1, 16);
	printf("unemulated: xrstor compacted form: AVX %u AVX-512 %u\n", avx, avx512);
	__asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4 | CR4_OSFXSR));
	xsetbv0(avx512 ? 0xe7 : avx ? 7 : 3);

	/* x87 and SSE from memory, then their initial state: FCW 0x037f,
	 * XMM0 zero. */
	carea_init(0x027f, 0x3f80, 3, 3);
	compacted_ok("xrstor compacted x87 and SSE from memory", 3, 0x027f, 0x10);
	carea_init(0x027f, 0x3f80, 0, 3);
	compacted_ok("xrstor compacted x87 and SSE initial state", 3, 0x037f, 0);
	if (avx) {
		/* AVX (component 2, the first after the header: byte 576),
		 * with x87 and SSE. */
		carea_init(0x027f, 0x1f80, 7, 7);
		for (unsigned i = 0; i < 16; i++)
			carea[576 + i] = (uint8_t)(0x40 + i);
		compacted_ok("xrstor compacted with AVX", 7, 0x027f, 0x10);
	}
	if (avx512) {
		/* The opmasks (component 5) without AVX in XCOMP_BV: packed
		 * at 576; AVX, 6 and 7 in RFBM but not in XCOMP_BV go to their
		 * initial state. */
		carea_init(0x0360, 0x1f80, 0x23, 0x23);
		carea[576 + 8] = 0xef, carea[576 + 9] = 0xbe; /* k1 */
		compacted_ok("xrstor compacted opmask, AVX-512 initialized", 0xe7, 0x0360, 0x10);
	}
	xcr0 = avx512 ? 0xe7 : avx ? 7 : 3;
	while (outside < 32 && (xcr0 >> outside & 1))
		outside++;
	/* The #GP(0) cases, after a good restore of FCW 0x027f. */
	carea_init(0x027f, 0x1f80, 1, 3);
	xrstor_mask(carea, 3);
	compacted_gp("xrstor compacted XSTATE_BV outside XCOMP_BV #GP(0)", 3, 1, 0);
	compacted_gp("xrstor compacted header byte 40 set #GP(0)", 1, 3, 512 + 40);
	compacted_gp("xrstor compacted header byte 16 set #GP(0)", 1, 3, 512 + 16);
	compacted_gp("xrstor compacted XCOMP_BV outside XCR0 #GP(0)", 1, 3 | (1u << outside), 0);
	compacted_gp("xrstor compacted MXCSR reserved bit #GP(0)", 3, 3, 24 + 3);
	xsetbv0(lo);
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4));
}

static void system_instructions(void)
{
	uint32_t fl, cr4, lo, hi;

	/* CLAC/STAC: SMAP is CPUID.7.0:EBX[20]. */
	if (bit(7, 1, 20)) {
		arm(0);
		__asm__ volatile(".byte 0x0f, 0x01, 0xcb\n\tpushfl\n\tpopl %0"
				 : "=r"(fl)
				 :
				 : "memory");
		check("stac sets AC", traps == 0 && (fl & EFLAGS_AC), "traps %u eflags 0x%x", traps,
		      fl);
		__asm__ volatile(".byte 0x0f, 0x01, 0xca\n\tpushfl\n\tpopl %0"
				 : "=r"(fl)
				 :
				 : "memory");
		check("clac clears AC", traps == 0 && !(fl & EFLAGS_AC), "traps %u eflags 0x%x",
		      traps, fl);
	} else {
		arm(3);
		__asm__ volatile(".byte 0x0f, 0x01, 0xcb" : : : "memory");
		check("stac without SMAP #UD", traps == 1 && trap_vec == 6, "vector %u traps %u",
		      trap_vec, traps);
		arm(3);
		__asm__ volatile(".byte 0x0f, 0x01, 0xca" : : : "memory");
		check("clac without SMAP #UD", traps == 1 && trap_vec == 6, "vector %u traps %u",
		      trap_vec, traps);
	}
	/* RDPRU: CPUID 0x80000008 EBX[4]; INVPCID: 7.0:EBX[10]. */
	if (!bit(0x80000008u, 1, 4)) {
		arm(3);
		__asm__ volatile("xorl %%ecx, %%ecx\n\t.byte 0x0f, 0x01, 0xfd" : : : "eax", "ecx",
				 "edx", "memory");
		check("rdpru not offered #UD", traps == 1 && trap_vec == 6, "vector %u traps %u",
		      trap_vec, traps);
	}
	if (!bit(7, 1, 10)) {
		static uint64_t desc[2];
		arm(5);
		__asm__ volatile("xorl %%ecx, %%ecx\n\t.byte 0x66, 0x0f, 0x38, 0x82, 0x08"
				 : : "a"(desc) : "ecx", "memory"); /* invpcid (eax), ecx */
		check("invpcid not offered #UD", traps == 1 && trap_vec == 6, "vector %u traps %u",
		      trap_vec, traps);
	}
	if (bit(1, 3, 19)) {
		arm(0);
		__asm__ volatile("clflush %0" : : "m"(m64) : "memory");
		check("clflush", traps == 0, "traps %u vector %u", traps, trap_vec);
	}
	/* XGETBV: XSAVE is CPUID.1:ECX[26]. */
	if (!bit(1, 2, 26))
		return;
	__asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4 & ~CR4_OSXSAVE));
	arm(3);
	__asm__ volatile("xorl %%ecx, %%ecx\n\txgetbv" : "=a"(lo), "=d"(hi) : : "ecx", "memory");
	check("xgetbv without CR4.OSXSAVE #UD", traps == 1 && trap_vec == 6, "vector %u traps %u",
	      trap_vec, traps);
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4 | CR4_OSXSAVE));
	arm(3);
	__asm__ volatile("xorl %%ecx, %%ecx\n\txgetbv" : "=a"(lo), "=d"(hi) : : "ecx", "memory");
	check("xgetbv xcr0", traps == 0 && (lo & 1u), "xcr0 0x%x traps %u", lo, traps);
	arm(3);
	__asm__ volatile("movl $2, %%ecx\n\txgetbv" : "=a"(lo), "=d"(hi) : : "ecx", "memory");
	check("xgetbv xcr2 #GP(0)", traps == 1 && trap_vec == 13 && trap_err == 0,
	      "vector %u error 0x%x", trap_vec, trap_err);
	xrstor_checks();
	xrstor_compacted_checks();
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4));
}

/* ---- CMPXCHG16B in 64-bit mode ------------------------------------------------ */

static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));
static uint64_t pd64[512] __attribute__((aligned(4096)));
/* The runtime's code and data segments, and a 64-bit code segment. */
static uint64_t gdt64[4] = { 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull,
			     0x00af9b000000ffffull };
/* A 64-bit IDT: #GP and #PF only (interrupts stay off). */
static uint64_t idt64[2 * 16] __attribute__((aligned(16)));
/* Not present: the second GiB has no page directory.  Read-only: one
 * 2 MiB page without R/W (CR0.WP set). */
#define CX16_ABSENT 0x40000010u
#define CX16_RO_2M  0x00e00000u
#define RUNS        5
/* Per run: the operand's address, RAX, RDX, RBX, RCX.  Out: ZF, RAX,
 * RDX, the exception's vector (0: none), its error code, CR2. */
volatile uint64_t m128[4] __attribute__((aligned(16)));
volatile uint64_t cx16_in[RUNS][5], cx16_out[RUNS][6];
/* The last fault in 64-bit mode: vector, error code, CR2. */
volatile uint64_t cx16_fault[3];

/* Enters 64-bit mode (selector 0x18) with the 64-bit IDT, runs the
 * CMPXCHG16Bs of cx16_in (each "lock cmpxchg16b (%r8)": 5 bytes, which a
 * fault handler steps over), and comes back to 32-bit protected mode. */
void long_mode_cx16(void);
void cx16_gp(void);
void cx16_pf(void);
__asm__(".text\n"
	".globl long_mode_cx16\n"
	"long_mode_cx16:\n\t"
	"pushl %ebx\n\tpushl %esi\n\tpushl %edi\n\tpushl %ebp\n\t"
	"ljmp $0x18, $1f\n"
	".code64\n"
	"1:\n\t"
	"movl $cx16_in, %esi\n\t"
	"movl $cx16_out, %edi\n\t"
	"movl $5, %ebp\n"
	"2:\n\t"
	"movl $cx16_fault, %r10d\n\t"
	"movq $0, (%r10)\n\t"
	"movq 0(%rsi), %r8\n\t"
	"movq 8(%rsi), %rax\n\tmovq 16(%rsi), %rdx\n\t"
	"movq 24(%rsi), %rbx\n\tmovq 32(%rsi), %rcx\n\t"
	"lock cmpxchg16b (%r8)\n\t"
	"setz %r9b\n\tmovzbq %r9b, %r9\n\t"
	"movq %r9, 0(%rdi)\n\tmovq %rax, 8(%rdi)\n\tmovq %rdx, 16(%rdi)\n\t"
	"movq 0(%r10), %rax\n\tmovq %rax, 24(%rdi)\n\t"
	"movq 8(%r10), %rax\n\tmovq %rax, 32(%rdi)\n\t"
	"movq 16(%r10), %rax\n\tmovq %rax, 40(%rdi)\n\t"
	"addq $40, %rsi\n\taddq $48, %rdi\n\t"
	"decl %ebp\n\tjnz 2b\n\t"
	"pushq $0x08\n\t"
	"movl $3f, %eax\n\t"
	"pushq %rax\n\t"
	"lretq\n"
	"cx16_gp:\n\t"
	"movq $13, (%r10)\n\t"
	"jmp 4f\n"
	"cx16_pf:\n\t"
	"movq $14, (%r10)\n\t"
	"movq %cr2, %rax\n\tmovq %rax, 16(%r10)\n"
	"4:\n\t"
	"popq %rax\n\tmovq %rax, 8(%r10)\n\t"
	"addq $5, (%rsp)\n\t"
	"iretq\n"
	".code32\n"
	"3:\n\t"
	"popl %ebp\n\tpopl %edi\n\tpopl %esi\n\tpopl %ebx\n\t"
	"ret\n");

static void gate64(unsigned v, void (*h)(void))
{
	uint32_t a = (uint32_t)h;

	idt64[2 * v] = (a & 0xffff) | (0x18u << 16) | ((uint64_t)0x8e00 << 32) |
		       ((uint64_t)(a >> 16) << 48);
	idt64[2 * v + 1] = 0;
}

static void cx16_run(unsigned i, uint32_t addr, uint64_t rax, uint64_t rdx, uint64_t rbx,
		     uint64_t rcx)
{
	cx16_in[i][0] = addr;
	cx16_in[i][1] = rax;
	cx16_in[i][2] = rdx;
	cx16_in[i][3] = rbx;
	cx16_in[i][4] = rcx;
}

static void cmpxchg16b(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} g = { sizeof(gdt64) - 1, (uint32_t)gdt64 }, i64 = { sizeof(idt64) - 1, (uint32_t)idt64 },
	  i32;
	uint32_t cr0, cr4, lo, hi;

	if (!bit(1, 2, 13)) {
		printf("unemulated: no CX16 in CPUID: not checked\n");
		return;
	}
	for (uint32_t i = 0; i < 512; i++)
		pd64[i] = (uint64_t)i << 21 | 0x83;
	pd64[CX16_RO_2M >> 21] = CX16_RO_2M | 0x81; /* present, 2 MiB, read-only */
	pdpt[0] = (uint32_t)pd64 | 3;
	pml4[0] = (uint32_t)pdpt | 3;
	gate64(13, cx16_gp);
	gate64(14, cx16_pf);
	m128[0] = 0x0123456789abcdefull;
	m128[1] = 0xfedcba9876543210ull;
	/* 0, equal: rdx:rax = the memory, rcx:rbx the new value. */
	cx16_run(0, (uint32_t)m128, m128[0], m128[1], 0x1111222233334444ull,
		 0x5555666677778888ull);
	/* 1, unequal: rdx:rax get the memory. */
	cx16_run(1, (uint32_t)m128, 1, 2, 3, 4);
	/* 2, misaligned: #GP(0); 3, not present: #PF write (2); 4, a
	 * read-only page, unequal: #PF present+write (3). */
	cx16_run(2, (uint32_t)&m128[1], 0, 0, 0, 0);
	cx16_run(3, CX16_ABSENT, 0, 0, 0, 0);
	cx16_run(4, CX16_RO_2M + 0x40, 5, 6, 7, 8);
	__asm__ volatile("sidt %0" : "=m"(i32));
	__asm__ volatile("lgdt %0" : : "m"(g));
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4 | CR4_PAE));
	__asm__ volatile("movl %0, %%cr3" : : "r"((uint32_t)pml4) : "memory");
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(EFER));
	__asm__ volatile("wrmsr" : : "a"(lo | EFER_LME), "d"(hi), "c"(EFER));
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0 | CR0_PG | CR0_WP) : "memory");
	__asm__ volatile("lidt %0" : : "m"(i64));
	long_mode_cx16();
	/* Paging off in compatibility mode leaves IA-32e mode; then LME. */
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0) : "memory");
	__asm__ volatile("wrmsr" : : "a"(lo & ~EFER_LME), "d"(hi), "c"(EFER));
	__asm__ volatile("movl %0, %%cr4" : : "r"(cr4));
	__asm__ volatile("lidt %0" : : "m"(i32));
	check("cmpxchg16b equal", cx16_out[0][0] == 1 && !cx16_out[0][3] &&
	      m128[0] == 0x1111222233334444ull && m128[1] == 0x5555666677778888ull,
	      "zf %u memory low 0x%x", (uint32_t)cx16_out[0][0], (uint32_t)m128[0]);
	check("cmpxchg16b unequal", cx16_out[1][0] == 0 && !cx16_out[1][3] &&
	      cx16_out[1][1] == 0x1111222233334444ull && cx16_out[1][2] == 0x5555666677778888ull &&
	      m128[0] == 0x1111222233334444ull, "zf %u rax low 0x%x", (uint32_t)cx16_out[1][0],
	      (uint32_t)cx16_out[1][1]);
	check("cmpxchg16b misaligned: #GP(0)", cx16_out[2][3] == 13 && cx16_out[2][4] == 0,
	      "vector %u error 0x%x", (uint32_t)cx16_out[2][3], (uint32_t)cx16_out[2][4]);
	/* Not present: CPUs report the locked read-modify-write as a write
	 * (vh-hosted does), QEMU's TCG as a read: the W bit is not held. */
	check("cmpxchg16b on a page not present: #PF", cx16_out[3][3] == 14 &&
	      (cx16_out[3][4] & ~2ull) == 0 && cx16_out[3][5] == CX16_ABSENT,
	      "error 0x%x cr2 0x%x", (uint32_t)cx16_out[3][4], (uint32_t)cx16_out[3][5]);
	check("cmpxchg16b on a read-only page: #PF present+write", cx16_out[4][3] == 14 &&
	      cx16_out[4][4] == 3 && cx16_out[4][5] == CX16_RO_2M + 0x40, "error 0x%x cr2 0x%x",
	      (uint32_t)cx16_out[4][4], (uint32_t)cx16_out[4][5]);
}

unsigned guest_main(void)
{
	trap_hook = hook;
	leafd_report();
	software_interrupts();
	cmpxchg8b();
	system_instructions();
	cmpxchg16b();
	printf("unemulated: done, %u failed\n", failed);
	return failed ? GUEST_FAIL : GUEST_PASS;
}
