/* Hostile guest: does what a broken or malicious kernel would, one step
 * at a time, announcing each step (and flushing the UART) before trying
 * it, so a log shows how far it got:
 *   1. bad hypercalls (vh only): unknown numbers, wild addresses, huge
 *      counts; each must come back as an error
 *   2. wild I/O ports: writes and reads where no device is
 *   3. forbidden MSRs: VMX capability and control MSRs, reserved EFER
 *      bits; under vh, control registers and XCR0: CR4.VMXE (vh keeps
 *      VMX to itself), then, where CPUID offers XSAVE, a valid XCR0
 *      (x87|SSE, read back with XGETBV) and an invalid one (SSE without
 *      x87); each #GP is caught and reported
 *   4. writes outside its memory
 *   5. a triple fault (IDT limit 0, then an exception)
 * The machine should end at step 5: QEMU with -no-reboot exits 0; vh
 * marks the VM crashed.  Reaching the end is a failure (GUEST_FAIL). */
#include "lib/runtime.h"

const char guest_name[] = "hostile";

static volatile uint32_t gp_faults;

/* #GP from the instructions step 3 tries: rdmsr (0f 32), wrmsr (0f 30),
 * mov to a control register (0f 22 modrm) or xsetbv (0f 01 d1).  Counts
 * it and steps over the instruction. */
static bool gp_fault(struct guest_frame *f)
{
	const uint8_t *ip = (const uint8_t *)f->eip;
	uint32_t len = 0;

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

#define CR4_VMXE (1u << 13)
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
	printf("hostile: step 3: cr4.vmxe: %s\n",
	       gp_faults != before ? "#GP" : (cr4 & CR4_VMXE) ? "set" : "ignored");
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 26))) {
		printf("hostile: step 3: no xsave\n");
		return;
	}
	__asm__ volatile("mov %0, %%cr4" : : "r"((cr4 & ~CR4_VMXE) | CR4_OSXSAVE));
	try_xsetbv(3); /* x87 | SSE */
	try_xsetbv(2); /* SSE without x87: invalid */
}

static void bad_hypercalls(void)
{
	static const struct { uint32_t nr, a1, a2; } calls[] = {
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
		printf("hostile: step 1: hypercall %u (0x%x, 0x%x)", calls[i].nr, calls[i].a1, calls[i].a2);
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
		printf("hostile: step 3: wrmsr 0xc0000080: %s\n", gp_faults != before ? "#GP" : "accepted");
	}
	control_registers();

	{
		/* Past the end of RAM, and high in the 32-bit address space. */
		uint32_t targets[2] = { (uint32_t)mem_end + (16u << 20), 0xe0000000u };
		for (int i = 0; i < 2; i++) {
			volatile uint32_t *p = (volatile uint32_t *)targets[i];
			announce("hostile: step 4: write outside memory at 0x%x\n", targets[i]);
			*p = 0xbadc0de;
			printf("hostile: step 4: 0x%x reads 0x%x\n", targets[i], *p);
		}
	}

	announce("hostile: step 5: triple fault\n");
	idt_clear();
	__asm__ volatile("int3");
	printf("hostile: still running after the triple fault\n");
	return GUEST_FAIL;
}
