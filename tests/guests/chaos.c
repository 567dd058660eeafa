/* SPDX-License-Identifier: Apache-2.0 */
/* Chaos guest: hammers the hypervisor with what a buggy or hostile kernel
 * might do, at random, from a seed it prints first ("chaos: seed N"; the
 * command line's seed=N, else the TSC), so any run can be replayed:
 *
 *   - random instruction bytes in ring 3 (8 KiB of scratch code and stack
 *     behind 8 KiB segments, I/O ports opened by the TSS's I/O bitmap,
 *     random registers): every exception, software interrupt and the local APIC
 *     timer (which bounds each run) return to ring 0 through this guest's
 *     own GDT, TSS and 256-vector IDT (chaos_entry.S);
 *   - port reads and writes: mostly the devices vh emulates (COM1,
 *     fw_cfg, the PICs) and ports a PC would act on (PIT, CMOS, PCI
 *     configuration, keyboard controller and reset ports, Bochs and QEMU
 *     debug ports), else any port; never the isa-debug-exit port (0xf4),
 *     which ends the VM by design, nor writes to the guest's reboot and
 *     power-off registers (i8042 commands, ACPI at 0x600), nor the
 *     hypercall port (below);
 *   - MMIO reads and writes: the local APIC page, and addresses above the
 *     guest's memory;
 *   - RDMSR/WRMSR of interesting and random MSRs, writes to CR0, CR3, CR4
 *     and XCR0 with random values, keeping only what would take away this
 *     guest's own protected mode, paging and APIC (CR0.PE/PG, CR4.PSE,
 *     IA32_APIC_BASE's base and enable bits); each #GP or #UD is caught;
 *   - hypercalls (both forms) with random numbers and arguments; the
 *     addresses point at a pool of its own pages or above its memory, so
 *     a balloon call never takes the pages the guest runs from.
 *
 * Every `report` rounds it prints a line of counters ("chaos: round N
 * ..."); it runs `rounds` rounds (0: until the VM is stopped) and passes.
 * It asks only one thing of the hypervisor: to stay up and fair.
 *
 * Replaying a seed (every TAP line of the chaos tests names its seed):
 *   - vh-hosted: VH_CHAOS_SEEDS="N" make check TESTS=tests/kvm/chaos.sh
 *     (that seed and one random one beside the spinner), or by hand with a
 *     running vh-hosted: vh-msg define c kernel=chaos.elf memory=8
 *     "cmdline=seed=N report=200"; vh-msg start c; the guest's console is
 *     <log-dir>/c.log, a crash's reason is in the daemon's log;
 *   - bare metal: VH_CHAOS_SEEDS="N" make check TESTS=tests/boot/bochs_chaos.sh,
 *     or by hand: tests/harness/run-bochs --ips 50000000 --workdir DIR
 *     --kernel build/check/hypervisor/arch/x86/vh.elf
 *     --cmdline "vm=c,kernel=0,mem=8M runtime=4s stats=1s"
 *     --module "build/check/tests/guests/chaos.elf=seed=N report=100"
 *     (DIR/console.log holds the guest's lines and vh's crash reason);
 *   - without vh: tests/harness/run-qemu --kernel chaos.elf with the same
 *     command line.
 * The same seed gives the same random stream everywhere; where the
 * APIC timer cuts a ring-3 run depends on timing, so a replay follows
 * the same path only as far as that. */
#include "lib/runtime.h"

const char guest_name[] = "chaos";

#define APIC_BASE_ADDR 0xfee00000u
#define TIMER_VECTOR 0x40u
#define POOL_PAGES 16u

/* ---- the random source ----------------------------------------------------- */

static uint64_t rng;

static uint32_t rnd(void)
{
	/* xorshift64*: fast, and every seed gives the same stream everywhere */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t pick(const uint32_t *v, uint32_t n) { return v[rnd() % n]; }

/* ---- descriptor tables, TSS, paging --------------------------------------- */

struct tss {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
	uint8_t iobitmap[8192 + 1]; /* all zero: ring 3 may use every port */
} __attribute__((packed));

static uint64_t gdt[6] __attribute__((aligned(8)));
static uint64_t idt[256] __attribute__((aligned(8)));
static struct tss tss __attribute__((aligned(16)));
static uint8_t trap_stack[8192] __attribute__((aligned(16)));
static uint32_t pd[1024] __attribute__((aligned(4096)));
/* Ring 3's whole world: code in the first page, stack in the second,
 * through segments based here with 8 KiB limits (so it needs no paging,
 * which not every backend offers a 32-bit guest). */
static uint8_t user_area[8192] __attribute__((aligned(4096)));
#define user_code user_area
static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static uint64_t gfn_list[64] __attribute__((aligned(8)));

extern const uint8_t chaos_vectors[];
uint32_t chaos_user_run(const uint32_t regs[7], uint32_t eip, uint32_t esp);
uint32_t chaos_trap(struct guest_frame *f);
uint32_t chaos_kernel_esp, chaos_user_vector;

/* A ring-0 instruction this guest expects may fault: its length, so the
 * trap handler steps over it. */
static volatile uint32_t fixup_len;

static struct {
	uint32_t rounds, user_runs, user_timer, user_faults, k_faults, ports, mmio, msrs, crs,
	    hypercalls, hc_errors;
} n;

static uint64_t seg(uint32_t base, uint32_t limit, uint32_t access, uint32_t flags)
{
	return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void tables_init(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} d;

	gdt[1] = seg(0, 0xfffff, 0x9a, 0xc);                          /* 0x08 kernel code */
	gdt[2] = seg(0, 0xfffff, 0x92, 0xc);                          /* 0x10 kernel data */
	gdt[3] = seg((uint32_t)user_area, 4095, 0xfa, 0x4);           /* 0x1b user code */
	gdt[4] = seg((uint32_t)user_area, 8191, 0xf2, 0x4);           /* 0x23 user data */
	gdt[5] = seg((uint32_t)&tss, sizeof(tss) - 1, 0x89, 0);       /* 0x28 TSS */
	tss.ss0 = 0x10;
	tss.esp0 = (uint32_t)(trap_stack + sizeof(trap_stack));
	tss.iomap = (uint16_t)__builtin_offsetof(struct tss, iobitmap);
	tss.iobitmap[8192] = 0xff;
	/* Closed to ring 3 (a #GP): the debug-exit port, which powers the VM
	 * off by design, and the hypercall port, through which random
	 * registers could balloon away this guest's own pages. */
	tss.iobitmap[0xe0 / 8] = 0xfe; /* 0xe1-0xe7 */
	tss.iobitmap[0xf0 / 8] = 0xfe; /* 0xf1-0xf7 */
	for (uint32_t v = 0; v < 256; v++) {
		uint32_t h = (uint32_t)(chaos_vectors + 16 * v);
		/* interrupt gates, DPL 0: INT n from ring 3 is a #GP */
		idt[v] = (h & 0xffff) | (0x08u << 16) | ((uint64_t)0x8e00 << 32) |
			 ((uint64_t)(h >> 16) << 48);
	}
	d.limit = sizeof(gdt) - 1;
	d.base = (uint32_t)gdt;
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp $0x08, $1f\n"
			 "1:\tmovw $0x10, %%ax\n\t"
			 "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%ss\n\t"
			 "movw %%ax, %%fs\n\tmovw %%ax, %%gs\n\t"
			 "movw $0x28, %%ax\n\tltr %%ax"
			 :
			 : "m"(d)
			 : "eax", "memory");
	d.limit = sizeof(idt) - 1;
	d.base = (uint32_t)idt;
	__asm__ volatile("lidt %0" : : "m"(d));
}

/* Paging where the backend offers it to a 32-bit guest (PVM-based KVM
 * does not: the CR0 write is a #GP, caught): identity-mapped 4 GiB in
 * 4 MiB pages, user-accessible only where user_area lies (its segments
 * keep ring 3 inside it anyway). */
static bool paging;

static void paging_init(void)
{
	uint32_t cr0;

	for (uint32_t i = 0; i < 1024; i++)
		pd[i] = (i << 22) | 0x83; /* P, RW, PS */
	pd[(uint32_t)user_area >> 22] |= 0x4;
	__asm__ volatile("movl %%cr4, %%eax\n\torl $0x10, %%eax\n\tmovl %%eax, %%cr4\n\t"
			 "movl %0, %%cr3"
			 :
			 : "r"(pd)
			 : "eax", "memory");
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	fixup_len = 3;
	__asm__ volatile("movl %0, %%cr0" : : "r"(cr0 | 0x80010000u) : "memory");
	fixup_len = 0;
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	paging = cr0 >> 31;
	printf("chaos: paging %s\n", paging ? "on" : "refused");
}

/* ---- the trap handler ------------------------------------------------------- */

static void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_BASE_ADDR + reg) = v;
}

uint32_t chaos_trap(struct guest_frame *f)
{
	/* From ring 3 the CPU switched to the TSS's stack; ring-0 faults
	 * stay on the kernel stack.  (Not f->cs: an interrupt on a vector
	 * with an error code, 8 to 17, shifts the frame by one word.) */
	if ((uint32_t)f >= (uint32_t)trap_stack &&
	    (uint32_t)f < (uint32_t)trap_stack + sizeof(trap_stack)) {
		chaos_user_vector = f->vector;
		if (f->vector >= 32) {
			n.user_timer++;
			apic_write(0xb0, 0); /* EOI */
		} else {
			n.user_faults++;
		}
		return 1;
	}
	if (fixup_len) {
		f->eip += fixup_len;
		fixup_len = 0;
		n.k_faults++;
		return 0;
	}
	if (f->vector == 1 || f->vector == 2 || f->vector >= 32)
		return 0; /* a debug trap, an NMI, a stray interrupt: carry on */
	console_init();
	printf("chaos: unexpected exception %u error 0x%x at eip 0x%x\n", f->vector, f->error,
	       f->eip);
	guest_exit(GUEST_FAIL);
}

/* ---- ring 3: random instruction bytes ------------------------------------------ */

/* Instructions that exit to a hypervisor or that it emulates, spliced
 * into the random bytes. */
static const uint8_t interesting[][4] = {
	{ 2, 0x0f, 0xa2 },       /* cpuid */
	{ 2, 0x0f, 0x31 },       /* rdtsc */
	{ 3, 0x0f, 0x01, 0xf9 }, /* rdtscp */
	{ 2, 0x0f, 0x33 },       /* rdpmc */
	{ 2, 0x0f, 0x32 },       /* rdmsr */
	{ 2, 0x0f, 0x30 },       /* wrmsr */
	{ 3, 0x0f, 0x01, 0xc1 }, /* vmcall */
	{ 3, 0x0f, 0x01, 0xd9 }, /* vmmcall */
	{ 3, 0x0f, 0x01, 0xd4 }, /* vmfunc */
	{ 3, 0x0f, 0x01, 0xd0 }, /* xgetbv */
	{ 3, 0x0f, 0x01, 0xd1 }, /* xsetbv */
	{ 3, 0x0f, 0x01, 0xc8 }, /* monitor */
	{ 3, 0x0f, 0x01, 0xc9 }, /* mwait */
	{ 2, 0x0f, 0x08 },       /* invd */
	{ 2, 0x0f, 0x09 },       /* wbinvd */
	{ 1, 0xf4 },             /* hlt */
	{ 1, 0xec },             /* in al, dx */
	{ 1, 0xef },             /* out dx, eax */
	{ 2, 0xf3, 0x6c },       /* rep insb */
	{ 2, 0xf3, 0x6f },       /* rep outsd */
	{ 2, 0xcd, 0x80 },       /* int 0x80 */
	{ 1, 0xcf },             /* iret */
	{ 2, 0x0f, 0x05 },       /* syscall */
	{ 2, 0x0f, 0x34 },       /* sysenter */
	{ 2, 0x0f, 0x0b },       /* ud2 */
	{ 3, 0x0f, 0xc7, 0xf0 }, /* rdrand eax */
	{ 3, 0x0f, 0x01, 0x08 }, /* sidt [eax] */
	{ 3, 0x0f, 0x00, 0xc8 }, /* str eax */
	{ 3, 0x0f, 0x20, 0xc0 }, /* mov eax, cr0 */
	{ 3, 0x0f, 0x22, 0xe0 }, /* mov cr4, eax */
	{ 2, 0x8e, 0xd0 },       /* mov ss, ax */
	{ 1, 0x9d },             /* popf */
};

static void user_round(void)
{
	uint32_t regs[7], i = 0, len = 16 + rnd() % 48;

	while (i < len) {
		if (rnd() % 4 == 0) {
			const uint8_t *x = interesting[rnd() % (sizeof(interesting) / 4)];
			for (uint32_t k = 1; k <= x[0] && i < len; k++)
				user_code[i++] = x[k];
		} else {
			user_code[i++] = (uint8_t)rnd();
		}
	}
	memset(user_code + len, 0xcc, sizeof(user_code) - len); /* int3: a #GP from ring 3 */
	for (i = 0; i < 7; i++)
		regs[i] = rnd() % 2 ? rnd() : rnd() % 8192;
	/* The APIC timer ends the run if the bytes loop: enabled, one-shot. */
	apic_write(0x80, 0); /* TPR: the timer's class may not be masked */
	apic_write(0xf0, 0x1ff);
	apic_write(0x3e0, 0xb);
	apic_write(0x320, TIMER_VECTOR);
	apic_write(0x380, 20000 + rnd() % 20000);
	chaos_user_run(regs, 0, 8192 - 64 + (rnd() % 16) * 4);
	apic_write(0x380, 0);
	n.user_runs++;
}

/* ---- ring 0: ports, MMIO, MSRs, control registers, hypercalls ---------------- */

static const uint32_t ports[] = {
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, /* COM1 */
	0x510, 0x511, 0x514,                                     /* fw_cfg, its DMA */
	0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1,                   /* PICs, ELCR */
	0x40, 0x41, 0x42, 0x43, 0x61,                           /* PIT, speaker */
	0x70, 0x71, 0x80, 0x60, 0x64, 0x92, 0xcf9,              /* CMOS, POST, reset ports */
	0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff,                      /* PCI configuration */
	0x402, 0xe9, 0x8900, 0xb004, 0x604,                     /* debug, Bochs, ACPI PM */
	0x2f8, 0x3e8, 0x378,                                    /* absent devices */
};

static void port_round(void)
{
	uint32_t p = rnd() % 4 ? pick(ports, sizeof(ports) / 4) : rnd() & 0xffff;
	uint32_t v = rnd(), size = rnd() % 3;
	bool write = rnd() % 2;

	if ((p >= 0xf1 && p <= 0xf7) || (p >= VH_HC_PORT - 3 && p <= VH_HC_PORT + 3))
		return;
	/* The guest's reboot and power-off registers end the run by design
	 * too: the i8042's command port (0xfe, or its output port through
	 * 0xd1, resets) and the ACPI reset and sleep control registers from
	 * 0x600 (a wide write at 0x5fd reaches them); reads are harmless. */
	if (write && (p == 0x64 || (p >= 0x5fd && p <= 0x602)))
		return;
	n.ports++;
	fixup_len = 0;
	if (write) {
		if (size == 0)
			outb((uint16_t)p, (uint8_t)v);
		else if (size == 1)
			outw((uint16_t)p, (uint16_t)v);
		else
			outl((uint16_t)p, v);
	} else {
		(void)(size == 0   ? inb((uint16_t)p)
		       : size == 1 ? inw((uint16_t)p)
				   : inl((uint16_t)p));
	}
}

static void mmio_round(void)
{
	uint32_t a;
	volatile uint32_t *p;

	if (rnd() % 2)
		a = APIC_BASE_ADDR + (rnd() % 4096 & ~3u);
	else
		a = ((uint32_t)mem_end + (rnd() % (0xfe000000u - (uint32_t)mem_end))) & ~3u;
	/* A write to the APIC's ICR could INIT or SIPI this very vCPU: allowed,
	 * (the guest would restart from its reset vector and the run would
	 * end), but not the point of this round. */
	if (a == APIC_BASE_ADDR + 0x300)
		return;
	p = (volatile uint32_t *)a;
	n.mmio++;
	if (rnd() % 2)
		*p = rnd();
	else
		(void)*p;
}

static const uint32_t msrs[] = {
	0x10,  0x1b,  0x3a,  0x8b,  0xe7,  0xe8,  0xfe,  0x174, 0x175, 0x176,
	0x179, 0x17a, 0x1a0, 0x1d9, 0x277, 0x2ff, 0x480, 0x481, 0x482, 0x48b,
	0x491, 0x6e0, 0x802, 0x808, 0x830, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000100,
	0xc0000101, 0xc0000102, 0xc0000103, 0x40000000,
};

static void msr_round(void)
{
	uint32_t m = rnd() % 4 ? pick(msrs, sizeof(msrs) / 4) : rnd();
	uint32_t lo = rnd(), hi = rnd() % 2 ? 0 : rnd();

	if (m == 0x1b) {
		/* IA32_APIC_BASE: keep the base, the enable bit and xAPIC mode */
		lo = (lo & 0x100) | APIC_BASE_ADDR | 0x800;
		hi = 0;
	}
	n.msrs++;
	if (rnd() % 2) {
		fixup_len = 2;
		__asm__ volatile("wrmsr" : : "c"(m), "a"(lo), "d"(hi) : "memory");
	} else {
		fixup_len = 2;
		__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m) : "memory");
	}
	fixup_len = 0;
	/* What would let ring-3 code into ring 0 at a random address:
	 * SYSENTER_CS and EFER.SCE go back to 0 (each write may fault). */
	fixup_len = 2;
	__asm__ volatile("wrmsr" : : "c"(0x174), "a"(0), "d"(0) : "memory");
	fixup_len = 2;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u) : "memory");
	fixup_len = 2;
	__asm__ volatile("wrmsr" : : "c"(0xc0000080u), "a"(lo & ~1u), "d"(hi) : "memory");
	fixup_len = 0;
}

static void cr_round(void)
{
	uint32_t v = rnd(), which = rnd() % 4;

	n.crs++;
	switch (which) {
	case 0: /* CR0: keep PE, ET and paging as it is */
		v = (v | 0x11u) & ~0x80000000u;
		v |= paging ? 0x80000000u : 0;
		fixup_len = 3;
		__asm__ volatile("movl %0, %%cr0" : : "r"(v) : "memory");
		break;
	case 1: /* CR4: keep PSE and non-PAE paging (this guest's pages);
		 * no SMEP or SMAP: its kernel shares a user-accessible 4 MiB page
		 * with ring 3's area, so either would end it in a triple fault at
		 * its next fault (an architectural shutdown, but the end of the
		 * chaos) */
		v = (v | 0x10) & ~0x300020u &
		    0x7f7fffu; /* defined bits: TCG hangs on some others */
		fixup_len = 3;
		__asm__ volatile("movl %0, %%cr4" : : "r"(v) : "memory");
		break;
	case 2: /* CR3: the same tables, random PWT/PCD */
		fixup_len = 3;
		__asm__ volatile("movl %0, %%cr3" : : "r"((uint32_t)pd | (v & 0x18)) : "memory");
		break;
	default: /* XCR0: x87 always (else #GP), the rest random */
		fixup_len = 3;
		__asm__ volatile("xsetbv" : : "c"(0), "a"(v | 1), "d"(0) : "memory");
		break;
	}
	fixup_len = 0;
}

static uint32_t hc_arg(void)
{
	switch (rnd() % 5) {
	case 0: return rnd();                                      /* anything */
	case 1: return rnd() % 1024;                               /* a count */
	case 2: return (uint32_t)pool + rnd() % sizeof(pool);      /* its pool */
	case 3: return (uint32_t)gfn_list;                         /* a gfn list */
	default: return (uint32_t)mem_end + (rnd() % 0x1000000u);  /* above memory */
	}
}

static void hypercall_round(void)
{
	uint32_t nr = rnd() % 4 ? rnd() % (VH_HC_COUNT_ + 2) : rnd(), a[4];
	long r;

	/* The gfns the balloon calls may take: the pool's, or none at all. */
	for (uint32_t i = 0; i < sizeof(gfn_list) / 8; i++)
		gfn_list[i] = rnd() % 2 ? ((uint32_t)pool[rnd() % POOL_PAGES]) >> 12
					: ((uint64_t)rnd() << 32 | rnd());
	for (uint32_t i = 0; i < 4; i++)
		a[i] = hc_arg();
	/* An address argument below the pool would be the guest's own code. */
	for (uint32_t i = 0; i < 4; i++)
		if (a[i] < (uint32_t)mem_end &&
		    (a[i] < (uint32_t)pool[0] || a[i] >= (uint32_t)pool[POOL_PAGES - 1] + 4096) &&
		    (a[i] < (uint32_t)gfn_list || a[i] >= (uint32_t)gfn_list + sizeof(gfn_list)) &&
		    a[i] >= 1024)
			a[i] = (uint32_t)pool;
	n.hypercalls++;
	fixup_len = 3; /* VMCALL: #UD where nothing handles it */
	/* VMCALL only where vh says it reaches it (bare metal): this host's
	 * PVM-based KVM re-enters a ring-0 VMCALL forever (docs/hosted.md),
	 * which would end the test's chaos at its first one. */
	r = rnd() % 2 || !(vh_features & VH_HC_FEAT_VMCALL)
		    ? hypercall_port(nr, a[0], a[1], a[2], a[3])
		    : hypercall_vmcall(nr, a[0], a[1], a[2], a[3]);
	fixup_len = 0;
	if (r < 0)
		n.hc_errors++;
}

static void report(void)
{
	console_init(); /* random UART writes may have changed its settings */
	printf("chaos: round %u user=%u timer=%u user_faults=%u k_faults=%u ports=%u mmio=%u "
	       "msrs=%u crs=%u hypercalls=%u hc_errors=%u\n",
	       n.rounds, n.user_runs, n.user_timer, n.user_faults, n.k_faults, n.ports, n.mmio,
	       n.msrs, n.crs, n.hypercalls, n.hc_errors);
}

unsigned guest_main(void)
{
	const char *s = arg("seed");
	uint32_t seed, rounds = arg_u32("rounds", 0), every = arg_u32("report", 200);

	if (s) {
		seed = arg_u32("seed", 0);
	} else {
		uint32_t lo, hi;
		__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
		seed = lo ^ hi;
	}
	printf("chaos: seed %u\n", seed);
	console_flush();
	rng = ((uint64_t)seed << 32 | seed) ^ 0x9e3779b97f4a7c15ull;
	tables_init();
	paging_init();
	for (n.rounds = 1; !rounds || n.rounds <= rounds; n.rounds++) {
		switch (rnd() % 8) {
		case 0:
		case 1: user_round(); break;
		case 2:
		case 3: port_round(); break;
		case 4: mmio_round(); break;
		case 5: msr_round(); break;
		case 6: cr_round(); break;
		default: hypercall_round(); break;
		}
		if (every && n.rounds % every == 0)
			report();
	}
	report();
	printf("chaos: done\n");
	return GUEST_PASS;
}
