/* SPDX-License-Identifier: Apache-2.0 */
/* The guest's CPUID (vh/cpuid.h): one table, indexed by leaf so that the
 * CPUID exit costs a lookup and no search.  Each rule says which host bits
 * are cleared and which are set; a leaf whose answer depends on the VM,
 * the vCPU or the subleaf also has a function that computes it.  Hidden:
 * what vh does not virtualise (VMX, SMX, MONITOR/MWAIT, x2APIC, TSC
 * deadline, PCID/INVPCID, machine check, MTRRs, performance monitoring,
 * thermal and power management, the speculation-control MSRs, XSAVES,
 * XSAVEC);
 * vh/msr.h lists the MSRs these bits hide as absent.  Set: the hypervisor
 * bit, TSC_ADJUST (whose MSR vh/msr.h has). */
#include "vh/cpuid.h"
#include "vh/compiler.h"
#include "vh/hypercall.h"

struct rule {
	uint32_t clear[4]; /* host bits the guest does not see */
	uint32_t set[4];   /* bits the guest sees whatever the host says */
	void (*compute)(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4]);
};

#define ALL 0xffffffffu
#define ZERO                                    \
	{                                       \
		.clear = { ALL, ALL, ALL, ALL } \
	}

/* log2 of the vCPU count rounded up: the APIC-id bits the cores take. */
static uint32_t core_bits(const struct vh_cpuid_vm *vm)
{
	uint32_t shift = 0;

	while ((1u << shift) < vm->vcpus)
		shift++;
	return shift;
}

/* Leaf 1: EBX is the initial APIC id (the vCPU index, as in leaf 0xB and
 * the local APIC model's ID register) and the logical processor count;
 * HTT says whether that count means anything; OSXSAVE mirrors the
 * guest's CR4, not the host's. */
static void leaf1(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	(void)sub;
	r[1] = (r[1] & 0xffffu) | (vm->vcpu_index << 24) | ((vm->vcpus & 0xffu) << 16);
	r[2] &= ~VH_CPUID1_ECX_OSXSAVE;
	if (vm->osxsave)
		r[2] |= VH_CPUID1_ECX_OSXSAVE;
	r[3] &= ~VH_CPUID1_EDX_HTT;
	if (vm->vcpus > 1)
		r[3] |= VH_CPUID1_EDX_HTT;
}

/* Leaf 4, the caches: one thread per core, the VM's cores in one package;
 * the level-3 cache is the package's, lower levels the core's. */
static void leaf4(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	uint32_t ids = (1u << core_bits(vm)) - 1, level = (r[0] >> 5) & 7;

	(void)sub;
	if (!(r[0] & 0x1f)) /* no cache: the list ends */
		return;
	r[0] = (r[0] & 0x3ffu) | (ids << 26) | ((level >= 3 ? ids : 0) << 14);
}

/* Leaf 7: subleaf 0 only (its masks); later subleaves describe features
 * vh does not offer. */
static void leaf7(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	(void)vm;
	if (sub != 0)
		r[0] = r[1] = r[2] = r[3] = 0;
}

/* Leaf 0xB, the extended topology: one package of `vcpus` cores with one
 * thread each; EDX is this vCPU's APIC id.  The host's topology would give
 * every vCPU the id of whatever CPU ran it. */
static void leafb(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	r[3] = vm->vcpu_index;
	switch (sub) {
	case 0: /* SMT level: one thread per core */
		r[0] = 0;
		r[1] = 1;
		r[2] = (1u << 8) | sub;
		break;
	case 1: /* core level: the whole VM */
		r[0] = core_bits(vm);
		r[1] = vm->vcpus;
		r[2] = (2u << 8) | sub;
		break;
	default: /* no more levels: type 0, counts 0 */
		r[0] = r[1] = 0;
		r[2] = sub & 0xff;
		break;
	}
}

/* Leaf 0xD subleaf 1: no XSAVES (vh does not manage IA32_XSS), no XSAVEC
 * (the compacted format: vh/cpuid.h). */
static void leafd(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	(void)vm;
	if (sub == 1)
		r[0] &= ~VH_CPUIDD1_EAX_HIDE;
}

/* The fraction with the smallest numerator and denominator in [a/b, c/d]
 * (0 < a/b <= c/d), by continued fractions: x = (p1 * y + p0) / (q1 * y +
 * q0) while y's interval shrinks, stopped once the numerator passes
 * `nmax`.  False when no fraction that small lies in the interval. */
static bool simplest(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t nmax, uint32_t *n,
		     uint32_t *m)
{
	uint64_t p0 = 0, q0 = 1, p1 = 1, q1 = 0;

	while (p1 <= nmax && q1 <= ALL) {
		uint64_t f = a / b, t, na, nb;

		if (f * b == a || (f + 1) * d <= c) {
			t = f * b == a ? f : f + 1; /* an integer lies in it */
			if (t > nmax || p1 * t + p0 > nmax || q1 * t + q0 > ALL)
				return false;
			*n = (uint32_t)(p1 * t + p0);
			*m = (uint32_t)(q1 * t + q0);
			return true;
		}
		/* f < a/b <= c/d < f + 1: x = f + 1/y, y in [d/(c-fd), b/(a-fb)];
		 * the next numerator is at least f (and the products fit). */
		if (f > nmax)
			return false;
		t = p1 * f + p0;
		p0 = p1;
		p1 = t;
		t = q1 * f + q0;
		q0 = q1;
		q1 = t;
		na = d;
		nb = c - f * d;
		c = b;
		d = a - f * b;
		a = na;
		b = nb;
	}
	return false;
}

/* Leaf 0x15's TSC/crystal ratio EBX/EAX.  Linux (native_calibrate_tsc)
 * computes the TSC's kHz as crystal_khz * EBX / EAX in 32-bit unsigned
 * arithmetic, so the product must stay below 2^32: the exact ratio of a
 * 2893337 kHz TSC to a crystal is no use to it.  The simplest fraction
 * whose result lands on the TSC's kHz (rounded down, within half a kHz)
 * does; where none is small enough (about 1 rate in 70 with a 25 MHz
 * crystal) the window widens a kHz at a time (at most about 11 kHz, a
 * few ppm).  False without a rate or with a crystal not in whole kHz. */
static bool tsc_ratio(const struct vh_cpuid_vm *vm, uint32_t *num, uint32_t *den)
{
	uint64_t khz = vm->tsc_hz / 1000, crystal_khz = vm->bus_hz / 1000, nmax;

	if (!khz || khz > ALL || !crystal_khz || vm->bus_hz % 1000 || vm->bus_hz > ALL)
		return false;
	nmax = ALL / crystal_khz;
	for (uint64_t tol = 0; tol < 1000; tol++) {
		uint64_t lo = khz > tol ? khz - tol : 1;

		if (simplest(2 * lo, 2 * crystal_khz, 2 * (khz + tol) + 1, 2 * crystal_khz, nmax,
			     num, den))
			return true;
	}
	return false;
}

/* The TSC's kHz as a guest computes it from leaf 0x15 (in 32 bits). */
static uint32_t ratio_khz(const struct vh_cpuid_vm *vm, uint32_t num, uint32_t den)
{
	return (uint32_t)(vm->bus_hz / 1000) * num / den;
}

/* Leaf 0x15: TSC = crystal * EBX / EAX, the crystal being the clock of
 * the local APIC model's timer (VH_LAPIC_BUS_HZ), so a guest takes both
 * rates from CPUID instead of calibrating them against a timer vh
 * emulates: Linux sets its APIC timer period from ECX. */
static void leaf15(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	uint32_t num, den;

	(void)sub;
	r[0] = r[1] = r[2] = r[3] = 0;
	if (!tsc_ratio(vm, &num, &den))
		return;
	r[0] = den;
	r[1] = num;
	r[2] = (uint32_t)vm->bus_hz;
}

/* Leaf 0x16: base and maximum frequency in MHz, the TSC's as leaf 0x15
 * gives it (so the two leaves agree), and the bus's (the crystal). */
static void leaf16(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	uint32_t num, den;
	uint64_t mhz = vm->tsc_hz / 1000000;

	(void)sub;
	if (tsc_ratio(vm, &num, &den))
		mhz = ratio_khz(vm, num, den) / 1000;
	r[0] = r[1] = (uint32_t)mhz & 0xffffu;
	r[2] = (uint32_t)(vm->bus_hz / 1000000) & 0xffffu;
	r[3] = 0;
}

/* Leaf 0x80000008: the guest-physical width is what the back end maps;
 * the linear width is the host's; ECX (AMD's core count) reads 0, the
 * topology being in leaves 1, 4 and 0xB; EBX's RDPRU is hidden (it reads
 * APERF and MPERF, which leaf 6 hides: a guest that runs it gets #UD,
 * vh/unemulated.h). */
static void leaf80000008(const struct vh_cpuid_vm *vm, uint32_t sub, uint32_t r[4])
{
	(void)sub;
	if (vm->phys_bits)
		r[0] = (r[0] & 0xff00u) | vm->phys_bits;
	else
		r[0] &= 0xffffu;
	r[1] &= ~VH_CPUIDE8_EBX_RDPRU;
	r[2] = 0;
}

static const struct rule basic[] = {
	[1] = { .clear = { 0, 0, VH_CPUID1_ECX_HIDE, VH_CPUID1_EDX_HIDE },
		.set = { 0, 0, VH_CPUID1_ECX_HYPERVISOR, 0 },
		.compute = leaf1 },
	[4] = { .compute = leaf4 },
	[5] = ZERO, /* MONITOR/MWAIT */
	/* Thermal and power management hidden but ARAT: the APIC timer
	 * runs on the platform clock whatever the vCPU does, so Linux
	 * needs no PIT broadcast (with leaf 0x15's crystal, no PIT). */
	[6] = { .clear = { ALL, ALL, ALL, ALL }, .set = { VH_CPUID6_EAX_ARAT, 0, 0, 0 } },
	[7] = { .clear = { 0, VH_CPUID7_EBX_HIDE, VH_CPUID7_ECX_HIDE, VH_CPUID7_EDX_HIDE },
		.set = { 0, VH_CPUID7_EBX_TSC_ADJUST, 0, 0 },
		.compute = leaf7 },
	[0xa] = ZERO, /* performance monitoring */
	[0xb] = { .compute = leafb },
	[0xd] = { .compute = leafd },
	[0x15] = { .compute = leaf15 },
	[0x16] = { .compute = leaf16 },
	[0x1f] = ZERO, /* V2 topology: leaf 0xB says it all */
};

static const struct rule ext[] = {
	[8] = { .compute = leaf80000008 },
};

void vh_cpuid_host_init(struct vh_cpuid_host *h)
{
	uint32_t r[4] = { 0 };

	h->max_basic = h->raw(h, 0, 0, r) ? r[0] : 0;
	r[0] = 0;
	h->max_ext = h->raw(h, 0x80000000u, 0, r) ? r[0] : 0;
}

/* Leaves 0x15 and 0x16 exist wherever the back end knows the TSC rate,
 * whatever the host's leaf 0 says. */
uint32_t vh_cpuid_max_basic(const struct vh_cpuid_host *h, const struct vh_cpuid_vm *vm)
{
	if (vm->tsc_hz && h->max_basic < VH_CPUID_FREQ_LEAF)
		return VH_CPUID_FREQ_LEAF;
	return h->max_basic;
}

/* 0x80000008 always exists: it carries the address widths. */
uint32_t vh_cpuid_max_ext(const struct vh_cpuid_host *h)
{
	return h->max_ext < VH_CPUID_ADDR_LEAF ? VH_CPUID_ADDR_LEAF : h->max_ext;
}

static bool host_leaf(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	bool in_range = leaf < 0x80000000u ? leaf <= h->max_basic : leaf <= h->max_ext;

	if (in_range && h->raw(h, leaf, sub, r))
		return true;
	r[0] = r[1] = r[2] = r[3] = 0; /* past the host's leaves: no data */
	return false;
}

bool vh_cpuid_model(const struct vh_cpuid_host *h, const struct vh_cpuid_vm *vm, uint32_t leaf,
		    uint32_t sub, uint32_t out[4])
{
	const struct rule *rule = 0;

	out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf < 0x80000000u) {
		if (leaf > vh_cpuid_max_basic(h, vm))
			return false;
		if (leaf < VH_ARRAY_SIZE(basic))
			rule = &basic[leaf];
	} else {
		if (leaf > vh_cpuid_max_ext(h))
			return false;
		if (leaf - 0x80000000u < VH_ARRAY_SIZE(ext))
			rule = &ext[leaf - 0x80000000u];
	}
	host_leaf(h, leaf, sub, out);
	if (leaf == 0)
		out[0] = vh_cpuid_max_basic(h, vm);
	else if (leaf == 0x80000000u)
		out[0] = vh_cpuid_max_ext(h);
	if (rule) {
		for (int i = 0; i < 4; i++)
			out[i] = (out[i] & ~rule->clear[i]) | rule->set[i];
		if (rule->compute)
			rule->compute(vm, sub, out);
	}
	return true;
}
