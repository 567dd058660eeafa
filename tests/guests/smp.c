/* SPDX-License-Identifier: Apache-2.0 */
/* SMP guest: reads the CPU count from fw_cfg and starts the other CPUs
 * with INIT-SIPI-SIPI through the local APIC (xAPIC MMIO at 0xfee00000),
 * as a PC kernel does; each AP reports itself.  Runs under QEMU TCG with
 * -smp N and under vh with its APIC model.  Command line:
 *   wait=N     spins to wait for the APs (default 50000000)
 *   spin=MS    then every CPU spins for MS milliseconds of wall time
 *              (default 0: none), passing a barrier after each few loads
 *              and stores to shared counters
 * Before starting the APs it finds the firmware's ACPI tables as an OS
 * without a boot loader's help does: "RSD PTR " on a 16-byte boundary in
 * 0xe0000-0xfffff, its checksums, the XSDT (or the RSDT of a revision-0
 * RSDP), each table's checksum, the MADT's local APIC entries; it prints
 * "smp: acpi: rsdp at A revision R, madt lists N local apics" and fails
 * unless N is the fw_cfg count.
 * Output: "smp: N cpus (fw_cfg)", "smp: cpu K apic id A up" per AP,
 * "smp: N of N cpus up"; exits GUEST_PASS when every CPU came up and each
 * AP's CPUID (leaves 1 and 0xB) gives the APIC id its APIC reports.
 * With spin: "smp: spinning MS ms on N cpus", then "smp: spun T ms, B
 * barriers passed by N cpus" and PASS only if B > 0 and the shared
 * counters add up.  A barrier passes only when every CPU reached it, so B
 * falls when the hypervisor runs the CPUs far apart in time: it measures
 * co-scheduling from inside the guest. */
#include "lib/runtime.h"

const char guest_name[] = "smp";

#define MAX_CPUS 16u
#define TRAMP_ADDR 0x8000u
#define LAPIC 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_VER 0x30
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_PENDING 0x1000u
#define ICR_ALL_BUT_SELF 0x000c0000u
#define ICR_INIT 0x00004500u /* INIT, level assert */
#define ICR_SIPI 0x00004600u
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0
#define LVT_MASKED 0x10000u
#define SPIN_WORK 16u /* shared-counter increments per CPU between barriers */

extern const char tramp_start[], tramp_end[];
uint32_t ap_next;
uint8_t ap_stacks[MAX_CPUS * 4096] __attribute__((aligned(4096)));
static volatile uint32_t ap_up, id_mismatch;

/* Spin mode.  spin_go releases the APs once the BSP has the clock running;
 * stop_round is the last barrier round: set by the BSP before it reaches
 * that barrier, so every CPU, however late it reads it, stops after the
 * same round (a plain stop flag could let a late AP leave one round early
 * and leave the others waiting forever). */
static volatile uint32_t spin_go, spin_cpus, stop_round = UINT32_MAX;
static volatile uint32_t bar_count, bar_sense, shared_work;
static volatile uint32_t spun_rounds[MAX_CPUS];

static uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC + reg);
}

static void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC + reg) = v;
}

static void spin(uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		cpu_relax();
}

static bool send_ipi(uint32_t icr)
{
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, icr);
	for (uint32_t i = 0; i < 1000000; i++) {
		if (!(lapic_read(LAPIC_ICR_LO) & ICR_PENDING))
			return true;
		cpu_relax();
	}
	return false;
}

/* Sense-reversing barrier over spin_cpus CPUs. */
static void barrier(uint32_t *sense)
{
	uint32_t s = !*sense;

	*sense = s;
	if (__atomic_add_fetch(&bar_count, 1, __ATOMIC_SEQ_CST) == spin_cpus) {
		__atomic_store_n(&bar_count, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&bar_sense, s, __ATOMIC_SEQ_CST);
	} else {
		while (__atomic_load_n(&bar_sense, __ATOMIC_SEQ_CST) != s)
			cpu_relax();
	}
}

/* Elapsed milliseconds on the BSP's APIC timer: one-shot, masked, divide
 * by 16 from the bus clock CPUID leaf 0x15 gives (vh's crystal), or
 * QEMU's 1 GHz where the leaf is absent, so wall time needs no
 * calibration.  At most 68 s at 1 GHz. */
static uint32_t counts_per_ms = 62500u;

static void clock_start(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	if (r[0] >= 0x15) {
		cpuid(0x15, 0, r);
		if (r[2] >= 16000u)
			counts_per_ms = r[2] / 16000u;
	}
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_TIMER_DCR, 0x3); /* divide by 16 */
	lapic_write(LAPIC_TIMER_ICR, 0xffffffffu);
}

static uint32_t clock_ms(void)
{
	/* 32-bit: no libgcc here. */
	return (0xffffffffu - lapic_read(LAPIC_TIMER_CCR)) / counts_per_ms;
}

/* Every CPU runs this: some shared work, a barrier, until stop_round. */
static void spin_loop(uint32_t cpu, uint32_t ms)
{
	uint32_t sense = 0, round;

	for (round = 0;; round++) {
		for (uint32_t i = 0; i < SPIN_WORK; i++)
			__atomic_add_fetch(&shared_work, 1, __ATOMIC_SEQ_CST);
		if (cpu == 0 && stop_round == UINT32_MAX && clock_ms() >= ms)
			stop_round = round;
		barrier(&sense);
		if (round >= stop_round)
			break;
	}
	spun_rounds[cpu] = round + 1;
}

void ap_main(uint32_t cpu);
void ap_main(uint32_t cpu)
{
	uint32_t id = lapic_read(LAPIC_ID) >> 24, r[4], max;

	cpuid(0, 0, r);
	max = r[0];
	console_lock();
	printf("smp: cpu %u apic id %u up\n", cpu, id);
	/* CPUID's initial APIC id (leaf 1) and x2APIC id (leaf 0xB) must
	 * name the same CPU as the APIC's ID register: kernels number CPUs
	 * by either. */
	cpuid(1, 0, r);
	if (r[1] >> 24 != id) {
		printf("smp: cpu %u: cpuid leaf 1 apic id %u, the apic says %u\n", cpu, r[1] >> 24,
		       id);
		__atomic_add_fetch(&id_mismatch, 1, __ATOMIC_SEQ_CST);
	}
	if (max >= 0xb) {
		cpuid(0xb, 0, r);
		if (r[3] != id) {
			printf("smp: cpu %u: cpuid leaf 0xb apic id %u, the apic says %u\n", cpu,
			       r[3], id);
			__atomic_add_fetch(&id_mismatch, 1, __ATOMIC_SEQ_CST);
		}
	}
	console_unlock();
	__atomic_add_fetch(&ap_up, 1, __ATOMIC_SEQ_CST);
	if (cpu < MAX_CPUS) {
		while (!spin_go)
			cpu_relax();
		if (spin_go == 1)
			spin_loop(cpu, 0);
	}
}

/* Spin mode on the BSP: the APs wait in ap_main for spin_go (1: spin,
 * 2: no spin, return). */
static bool spin_all(uint32_t ncpus, uint32_t ms)
{
	uint32_t t, n = ncpus, bad = 0;

	spin_cpus = ncpus;
	clock_start();
	console_lock();
	printf("smp: spinning %u ms on %u cpus\n", ms, ncpus);
	console_unlock();
	__atomic_store_n(&spin_go, 1, __ATOMIC_SEQ_CST);
	spin_loop(0, ms);
	t = clock_ms();
	/* The APs write spun_rounds after the last barrier: wait for them. */
	for (uint32_t c = 1; c < ncpus; c++)
		while (!spun_rounds[c])
			cpu_relax();
	for (uint32_t c = 1; c < ncpus; c++)
		bad += spun_rounds[c] != spun_rounds[0];
	console_lock();
	printf("smp: spun %u ms, %u barriers passed by %u cpus\n", t, spun_rounds[0], n);
	if (bad || shared_work != spun_rounds[0] * SPIN_WORK * ncpus)
		printf("smp: spin counters disagree: work %u, want %u\n", shared_work,
		       spun_rounds[0] * SPIN_WORK * ncpus);
	console_unlock();
	return !bad && spun_rounds[0] > 0 && shared_work == spun_rounds[0] * SPIN_WORK * ncpus;
}

/* ---- the ACPI tables ------------------------------------------------------ */

static uint32_t ld32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static bool sums_to_zero(uintptr_t a, uint32_t n)
{
	uint8_t s = 0;

	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + *(volatile uint8_t *)(a + i));
	return s == 0;
}

/* A table the RSDT or XSDT points to (below 4 GiB: paging is off), with
 * its checksum checked; 0 if it is not valid. */
static uintptr_t acpi_table(uint64_t addr)
{
	uint32_t len;

	if (!addr || addr >> 32)
		return 0;
	len = ld32((uintptr_t)addr + 4);
	if (len < 36 || len > 0x100000 || !sums_to_zero((uintptr_t)addr, len)) {
		printf("smp: acpi: bad table at 0x%x (length %u)\n", (uint32_t)addr, len);
		return 0;
	}
	return (uintptr_t)addr;
}

/* The local APIC entries of the MADT, or -1 with the reason printed. */
static int acpi_local_apics(void)
{
	uintptr_t rsdp = 0, root, madt = 0;
	uint32_t entry, n;
	int lapics = 0;

	for (uintptr_t a = 0xe0000; a < 0x100000 && !rsdp; a += 16) {
		if (!memcmp((const void *)a, "RSD PTR ", 8) && sums_to_zero(a, 20))
			rsdp = a;
	}
	if (!rsdp) {
		printf("smp: acpi: no RSDP in 0xe0000-0xfffff\n");
		return -1;
	}
	bool x = *(volatile uint8_t *)(rsdp + 15) >= 2;
	if (x && !sums_to_zero(rsdp, ld32(rsdp + 20))) {
		printf("smp: acpi: the RSDP's extended checksum is wrong\n");
		return -1;
	}
	root = acpi_table(x ? ld32(rsdp + 24) | (uint64_t)ld32(rsdp + 28) << 32 : ld32(rsdp + 16));
	if (!root)
		return -1;
	entry = x ? 8 : 4;
	n = (ld32(root + 4) - 36) / entry;
	for (uint32_t i = 0; i < n && !madt; i++) {
		uintptr_t p = root + 36 + i * entry;
		uintptr_t t = acpi_table(x ? ld32(p) | (uint64_t)ld32(p + 4) << 32 : ld32(p));
		if (!t)
			return -1;
		if (!memcmp((const void *)t, "APIC", 4))
			madt = t;
	}
	if (!madt) {
		printf("smp: acpi: no MADT\n");
		return -1;
	}
	for (uintptr_t p = madt + 44, end = madt + ld32(madt + 4); p + 2 <= end;) {
		uint8_t type = *(volatile uint8_t *)p, len = *(volatile uint8_t *)(p + 1);
		if (len < 2 || p + len > end) {
			printf("smp: acpi: a MADT entry of length %u at 0x%x\n", len, (uint32_t)p);
			return -1;
		}
		if (type == 0 && (ld32(p + 4) & 1)) /* an enabled Processor Local APIC */
			lapics++;
		p += len;
	}
	printf("smp: acpi: rsdp at 0x%x revision %u, madt lists %d local apics\n", (uint32_t)rsdp,
	       *(volatile uint8_t *)(rsdp + 15), lapics);
	return lapics;
}

unsigned guest_main(void)
{
	uint32_t wait = arg_u32("wait", 50000000), spin_ms = arg_u32("spin", 0);
	bool spin_ok = true;
	uint16_t ncpus = 1;

	if (fw_cfg_present())
		fw_cfg_read(0x05, &ncpus, 2); /* FW_CFG_NB_CPUS */
	else
		printf("smp: no fw_cfg: assuming one cpu\n");
	printf("smp: %u cpus (fw_cfg)\n", ncpus);
	if (ncpus > MAX_CPUS) {
		printf("smp: at most %u cpus supported\n", MAX_CPUS);
		return GUEST_FAIL;
	}
	if (acpi_local_apics() != ncpus) {
		printf("smp: acpi: the MADT does not list the %u cpus\n", ncpus);
		return GUEST_FAIL;
	}
	printf("smp: bsp apic id %u version 0x%x\n", lapic_read(LAPIC_ID) >> 24,
	       lapic_read(LAPIC_VER) & 0xff);
	if (ncpus > 1) {
		memcpy((void *)TRAMP_ADDR, tramp_start, (size_t)(tramp_end - tramp_start));
		lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x100); /* software enable */
		if (!send_ipi(ICR_ALL_BUT_SELF | ICR_INIT)) {
			printf("smp: INIT stays pending\n");
			return GUEST_FAIL;
		}
		spin(100000);
		for (int i = 0; i < 2; i++) {
			if (!send_ipi(ICR_ALL_BUT_SELF | ICR_SIPI | (TRAMP_ADDR >> 12))) {
				printf("smp: SIPI stays pending\n");
				return GUEST_FAIL;
			}
			spin(20000);
		}
		for (uint32_t i = 0; i < wait && ap_up < ncpus - 1u; i++)
			cpu_relax();
	}
	console_lock();
	printf("smp: %u of %u cpus up\n", ap_up + 1, ncpus);
	console_unlock();
	if (ap_up + 1 != ncpus || id_mismatch) {
		spin_go = 2;
		return GUEST_FAIL;
	}
	if (spin_ms) {
		if (spin_ms > 60000) {
			printf("smp: spin=%u: at most 60000 ms\n", spin_ms);
			spin_go = 2;
			return GUEST_FAIL;
		}
		spin_ok = spin_all(ncpus, spin_ms);
	} else {
		spin_go = 2;
	}
	return spin_ok ? GUEST_PASS : GUEST_FAIL;
}
