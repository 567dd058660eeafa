/* SPDX-License-Identifier: Apache-2.0 */
/* The guest CPU model (vh/cpuid.h) over a fake host whose every bit is
 * set: what vh hides reads 0, what it passes reads 1, and the leaves vh
 * computes (hypervisor, topology, frequencies, address widths) read what
 * the VM and the back end say. */
#include "vh/cpuid.h"
#include "vh/hypercall.h"
#include "vh_test.h"

/* A host with leaves up to 0xd and 0x80000008, every register all ones
 * (leaf 0 and 0x80000000 give the maxima; leaf 4 lists an L1 and an L3). */
static bool fake_raw(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	const uint32_t *max_ext = h->ctx;

	out[0] = out[1] = out[2] = out[3] = 0xffffffffu;
	if (leaf == 0)
		out[0] = 0xd;
	else if (leaf == 0x80000000u)
		out[0] = *max_ext;
	else if (leaf == 4)
		out[0] = sub == 0 ? 0xffffc021u : sub == 1 ? 0xffffc063u : 0; /* L1, L3, end */
	else if (leaf == 0x80000008u)
		out[0] = 0x3030u; /* 48 linear, 48 physical */
	return true;
}

static uint32_t host_max_ext = 0x80000008u;

static struct vh_cpuid_host fake_host(void)
{
	struct vh_cpuid_host h = { .raw = fake_raw, .ctx = &host_max_ext };

	vh_cpuid_host_init(&h);
	return h;
}

static struct vh_cpuid_vm vm_of(uint32_t vcpus, uint32_t index)
{
	return (struct vh_cpuid_vm){
		.vcpus = vcpus,
		.vcpu_index = index,
		.hc_features = VH_HC_FEAT_PORT,
		.tsc_hz = 2400000000ull,
		.bus_hz = 25000000ull,
		.phys_bits = 39,
	};
}

static void ask(uint32_t vcpus, uint32_t index, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct vh_cpuid_host h = fake_host();
	struct vh_cpuid_vm vm = vm_of(vcpus, index);

	VH_EXPECT(vh_cpuid_guest(&h, &vm, leaf, sub, r));
}

VH_TEST(cpuid, hidden_bits_read_zero)
{
	static const struct {
		uint32_t leaf, sub, reg, hide;
	} cases[] = {
		{ 1, 0, 2, VH_CPUID1_ECX_HIDE },    { 1, 0, 3, VH_CPUID1_EDX_HIDE },
		{ 7, 0, 1, VH_CPUID7_EBX_HIDE },    { 7, 0, 2, VH_CPUID7_ECX_HIDE },
		{ 7, 0, 3, VH_CPUID7_EDX_HIDE },    { 0xd, 1, 0, VH_CPUIDD1_EAX_HIDE },
		{ 1, 0, 2, VH_CPUID1_ECX_OSXSAVE }, /* the guest's CR4 has no OSXSAVE */
	};
	uint32_t r[4];

	/* Today's bare-metal list, bit by bit: VMX SMX x2APIC TSC-deadline ... */
	VH_EXPECT_EQ(VH_CPUID1_ECX_HIDE & 0x01260000u, 0x01260000u);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ask(1, 0, cases[i].leaf, cases[i].sub, r);
		VH_EXPECT_EQ(r[cases[i].reg] & cases[i].hide, 0u);
	}
	static const uint32_t zeroed[] = { 5, 0xa }; /* MONITOR, perfmon */
	for (size_t i = 0; i < sizeof(zeroed) / sizeof(zeroed[0]); i++) {
		ask(1, 0, zeroed[i], 0, r);
		VH_EXPECT_EQ(r[0] | r[1] | r[2] | r[3], 0u);
	}
	/* Thermal and power management: only ARAT, the APIC timer that
	 * always runs (Linux then wants no PIT to stand in for it). */
	ask(1, 0, 6, 0, r);
	VH_EXPECT_EQ(r[0], VH_CPUID6_EAX_ARAT);
	VH_EXPECT_EQ(r[1] | r[2] | r[3], 0u);
	ask(1, 0, 7, 1, r); /* later subleaves of 7 */
	VH_EXPECT_EQ(r[0] | r[1] | r[2] | r[3], 0u);
}

VH_TEST(cpuid, passes_and_sets)
{
	uint32_t r[4];

	ask(1, 0, 1, 0, r);
	VH_EXPECT_EQ(r[2] & (1u << 0), 1u); /* SSE3 passes */
	VH_EXPECT_EQ(r[2] & VH_CPUID1_ECX_HYPERVISOR, VH_CPUID1_ECX_HYPERVISOR);
	VH_EXPECT_EQ(r[3] & (1u << 25), 1u << 25); /* SSE passes */
	ask(1, 0, 7, 0, r);
	VH_EXPECT_EQ(r[1] & (1u << 5), 1u << 5); /* AVX2 passes */
	ask(1, 0, 0xd, 0, r);
	VH_EXPECT_EQ(r[0] & (1u << 3), 1u << 3); /* XCR0 bit 3 in subleaf 0 is not XSAVES */
	ask(1, 0, 2, 0, r);
	VH_EXPECT_EQ(r[0], 0xffffffffu); /* a leaf with no rule passes */
}

VH_TEST(cpuid, osxsave_mirrors_the_guest)
{
	struct vh_cpuid_host h = fake_host();
	struct vh_cpuid_vm vm = vm_of(1, 0);
	uint32_t r[4];

	vm.osxsave = true;
	VH_EXPECT(vh_cpuid_guest(&h, &vm, 1, 0, r));
	VH_EXPECT_EQ(r[2] & VH_CPUID1_ECX_OSXSAVE, VH_CPUID1_ECX_OSXSAVE);
}

VH_TEST(cpuid, hypervisor_leaves)
{
	uint32_t r[4];

	ask(1, 0, VH_CPUID_BASE, 0, r);
	VH_EXPECT_EQ(r[0], VH_CPUID_MAX_LEAF);
	VH_EXPECT_EQ(r[1], VH_CPUID_SIG_EBX);
	VH_EXPECT_EQ(r[2], VH_CPUID_SIG_ECX);
	VH_EXPECT_EQ(r[3], VH_CPUID_SIG_EDX);
	ask(1, 0, VH_CPUID_FEATURES, 0, r);
	VH_EXPECT_EQ(r[0], VH_HC_ABI_VERSION);
	VH_EXPECT_EQ(r[1], VH_HC_FEAT_PORT);
	VH_EXPECT_EQ(r[2], VH_HC_PORT);
	VH_EXPECT_EQ(r[3], 0u);

	/* KVM's range and others above vh's: absent, zeros. */
	struct vh_cpuid_host h = fake_host();
	struct vh_cpuid_vm vm = vm_of(1, 0);
	VH_EXPECT(!vh_cpuid_guest(&h, &vm, 0x40000100u, 0, r));
	VH_EXPECT_EQ(r[0] | r[1] | r[2] | r[3], 0u);
	VH_EXPECT(!vh_cpuid_guest(&h, &vm, 0x40000002u, 0, r));
}

/* Leaves 1, 4 and 0xB for 1, 2 and 4 vCPUs, asked by the last one. */
VH_TEST(cpuid, topology_follows_vcpu_count)
{
	static const struct {
		uint32_t vcpus, bits, htt;
	} cases[] = { { 1, 0, 0 }, { 2, 1, 1 }, { 4, 2, 1 } };
	uint32_t r[4];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t n = cases[i].vcpus, last = n - 1, ids = (1u << cases[i].bits) - 1;

		ask(n, last, 1, 0, r);
		VH_EXPECT_EQ(r[1] >> 24, last);
		VH_EXPECT_EQ((r[1] >> 16) & 0xff, n);
		VH_EXPECT_EQ((r[3] >> 28) & 1, cases[i].htt);
		ask(n, last, 4, 0, r); /* L1: one core's */
		VH_EXPECT_EQ(r[0] >> 26, ids);
		VH_EXPECT_EQ((r[0] >> 14) & 0xfff, 0u);
		VH_EXPECT_EQ(r[0] & 0x3ff, 0x21u);
		ask(n, last, 4, 1, r); /* L3: the package's */
		VH_EXPECT_EQ(r[0] >> 26, ids);
		VH_EXPECT_EQ((r[0] >> 14) & 0xfff, ids);
		ask(n, last, 4, 2, r); /* the end of the list stays 0 */
		VH_EXPECT_EQ(r[0], 0u);
		ask(n, last, 0xb, 0, r);
		VH_EXPECT_EQ(r[0], 0u);
		VH_EXPECT_EQ(r[1], 1u);
		VH_EXPECT_EQ(r[2], 0x100u);
		VH_EXPECT_EQ(r[3], last);
		ask(n, last, 0xb, 1, r);
		VH_EXPECT_EQ(r[0], cases[i].bits);
		VH_EXPECT_EQ(r[1], n);
		VH_EXPECT_EQ(r[2], 0x201u);
		VH_EXPECT_EQ(r[3], last);
		ask(n, last, 0xb, 2, r);
		VH_EXPECT_EQ(r[0] | r[1], 0u);
		VH_EXPECT_EQ(r[2], 2u);
	}
}

/* The TSC's kHz as Linux's native_calibrate_tsc computes it from leaf
 * 0x15: crystal_khz * EBX / EAX, every value an unsigned int. */
static uint32_t linux_tsc_khz(const uint32_t r[4])
{
	uint32_t crystal_khz = r[2] / 1000;

	return r[0] && r[1] ? crystal_khz * r[1] / r[0] : 0;
}

VH_TEST(cpuid, tsc_and_bus_frequencies)
{
	struct vh_cpuid_host h = fake_host();
	struct vh_cpuid_vm vm = vm_of(1, 0);
	uint32_t r[4];

	/* The host's leaf 0 says 0xd: vh's 0x15/0x16 exist all the same. */
	ask(1, 0, 0, 0, r);
	VH_EXPECT_EQ(r[0], VH_CPUID_FREQ_LEAF);
	ask(1, 0, 0x15, 0, r); /* 2.4 GHz TSC over a 25 MHz crystal: 96/1 */
	VH_EXPECT_EQ(r[0], 1u);
	VH_EXPECT_EQ(r[1], 96u);
	VH_EXPECT_EQ(r[2], 25000000u);
	ask(1, 0, 0x16, 0, r);
	VH_EXPECT_EQ(r[0], 2400u);
	VH_EXPECT_EQ(r[1], 2400u);
	VH_EXPECT_EQ(r[2], 25u);
	ask(1, 0, 0xe, 0, r); /* past the host's leaves: no data */
	VH_EXPECT_EQ(r[0] | r[1] | r[2] | r[3], 0u);

	/* An unknown TSC rate: no such leaves. */
	vm.tsc_hz = 0;
	VH_EXPECT(vh_cpuid_guest(&h, &vm, 0, 0, r));
	VH_EXPECT_EQ(r[0], 0xdu);
	VH_EXPECT(!vh_cpuid_guest(&h, &vm, 0x15, 0, r));
	/* Bochs at ips=1000000: a 1 MHz TSC, 1/25 of the crystal. */
	vm.tsc_hz = 1000000ull;
	VH_EXPECT(vh_cpuid_guest(&h, &vm, 0x15, 0, r));
	VH_EXPECT_EQ(r[0], 25u);
	VH_EXPECT_EQ(r[1], 1u);
}

/* A rate that does not divide evenly (this host's KVM_GET_TSC_KHZ says
 * 2893337) reaches Linux to the kHz: the exact ratio 2893337/25000 would
 * overflow its 32-bit crystal_khz * EBX and give it a TSC of 1.3 GHz. */
VH_TEST(cpuid, tsc_rate_survives_linux_32_bit_arithmetic)
{
	struct vh_cpuid_host h = fake_host();
	struct vh_cpuid_vm vm = vm_of(1, 0);
	uint32_t r[4], b[4], exact = 0, worst = 0, x = 12345;

	vm.tsc_hz = 2893337000ull;
	VH_ASSERT(vh_cpuid_guest(&h, &vm, 0x15, 0, r));
	VH_EXPECT_EQ(linux_tsc_khz(r), 2893337u);
	VH_EXPECT(vh_cpuid_guest(&h, &vm, 0x16, 0, b));
	VH_EXPECT_EQ(b[0], 2893u);
	/* Every rate from 1 MHz to 4.29 GHz (a pseudo-random 2000 of them
	 * and the round ones): the product fits, the result is the rate to
	 * within 12 kHz (exact for nearly all), leaf 0x16 agrees with it,
	 * with today's crystal and with QEMU's 1 GHz one. */
	for (int bus = 0; bus < 2; bus++) {
		vm.bus_hz = bus ? 1000000000ull : 25000000ull;
		for (uint32_t i = 0; i < 2000; i++) {
			uint32_t khz = i < 1000 ? (i + 1) * 4000 : 1000 + (x % 4293000u), got;

			x = x * 1103515245u + 12345u;
			vm.tsc_hz = (uint64_t)khz * 1000;
			VH_ASSERT(vh_cpuid_guest(&h, &vm, 0x15, 0, r));
			VH_ASSERT(vh_cpuid_guest(&h, &vm, 0x16, 0, b));
			VH_EXPECT_EQ(r[2], (uint32_t)vm.bus_hz);
			VH_EXPECT_LE((uint64_t)(r[2] / 1000) * r[1], 0xffffffffull);
			got = linux_tsc_khz(r);
			VH_EXPECT_EQ(b[0], got / 1000);
			if (got == khz)
				exact++;
			if ((got > khz ? got - khz : khz - got) > worst)
				worst = got > khz ? got - khz : khz - got;
			if (!bus)
				VH_EXPECT_LE(got > khz ? got - khz : khz - got, 12u);
		}
		if (!bus)
			VH_EXPECT_GE(exact, 1950u);
		exact = 0;
	}
	VH_EXPECT_LE(worst, 2000u); /* even the 1 GHz crystal: within 2 MHz */
}

VH_TEST(cpuid, address_widths)
{
	uint32_t r[4];

	ask(1, 0, 0x80000008u, 0, r);
	VH_EXPECT_EQ(r[0] & 0xff, 39u);          /* what the back end maps */
	VH_EXPECT_EQ((r[0] >> 8) & 0xff, 0x30u); /* the host's linear width */
	VH_EXPECT_EQ(r[0] >> 16, 0u);
	VH_EXPECT_EQ(r[1], ~VH_CPUIDE8_EBX_RDPRU); /* RDPRU hidden, the rest the host's */
	VH_EXPECT_EQ(r[2], 0u);

	/* A host without the leaf: it exists for the guest all the same. */
	host_max_ext = 0x80000004u;
	ask(1, 0, 0x80000000u, 0, r);
	VH_EXPECT_EQ(r[0], 0x80000008u);
	ask(1, 0, 0x80000008u, 0, r);
	VH_EXPECT_EQ(r[0], 39u);
	host_max_ext = 0x80000008u;
}
