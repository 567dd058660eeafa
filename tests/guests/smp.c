/* SMP guest: reads the CPU count from fw_cfg and starts the other CPUs
 * with INIT-SIPI-SIPI through the local APIC (xAPIC MMIO at 0xfee00000),
 * as a PC kernel does; each AP reports itself.  Runs under QEMU TCG with
 * -smp N and under vh with its APIC model.  Command line:
 *   wait=N     spins to wait for the APs (default 50000000)
 * Output: "smp: N cpus (fw_cfg)", "smp: cpu K apic id A up" per AP,
 * "smp: N of N cpus up"; exits GUEST_PASS when every CPU came up and each
 * AP's CPUID (leaves 1 and 0xB) gives the APIC id its APIC reports. */
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

extern const char tramp_start[], tramp_end[];
uint32_t ap_next;
uint8_t ap_stacks[MAX_CPUS * 4096] __attribute__((aligned(4096)));
static volatile uint32_t ap_up, id_mismatch;

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
		printf("smp: cpu %u: cpuid leaf 1 apic id %u, the apic says %u\n", cpu, r[1] >> 24, id);
		__atomic_add_fetch(&id_mismatch, 1, __ATOMIC_SEQ_CST);
	}
	if (max >= 0xb) {
		cpuid(0xb, 0, r);
		if (r[3] != id) {
			printf("smp: cpu %u: cpuid leaf 0xb apic id %u, the apic says %u\n", cpu, r[3], id);
			__atomic_add_fetch(&id_mismatch, 1, __ATOMIC_SEQ_CST);
		}
	}
	console_unlock();
	__atomic_add_fetch(&ap_up, 1, __ATOMIC_SEQ_CST);
}

unsigned guest_main(void)
{
	uint32_t wait = arg_u32("wait", 50000000);
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
	return ap_up + 1 == ncpus && !id_mismatch ? GUEST_PASS : GUEST_FAIL;
}
