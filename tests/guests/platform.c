/* SPDX-License-Identifier: Apache-2.0 */
/* vh's PC platform as a guest OS finds it: the IOAPIC and the PCI host.
 *   1. the 8259s masked, the local APIC enabled; the IOAPIC at 0xfec00000
 *      reads version 0x11 with 24 entries;
 *   2. COM1's IRQ 4, routed by pin 4 to this CPU's APIC at a vector: the
 *      UART's THR-empty interrupt (IER, with OUT2) arrives once IF is on;
 *      with the pin masked it does not;
 *   3. PCI configuration mechanism #1: 0x80000000 written to 0xcf8 reads
 *      back; bus 0 scanned through it and through the ECAM window at
 *      0xe0000000 finds the same functions with the same IDs, among them
 *      the host bridge (class 0x0600) at 00:00.0.
 * vh-specific (QEMU's PC has another host bridge and no ECAM there): not
 * run by qemu_guests.sh.  Output: "platform: ..." lines, "platform: done,
 * N failed"; exits GUEST_PASS when none failed. */
#include "lib/runtime.h"

const char guest_name[] = "platform";

#define LAPIC    0xfee00000u
#define IOAPIC   0xfec00000u
#define ECAM     0xe0000000u
#define COM1     0x3f8
#define VEC_COM1 0x50
#define WAIT     200000u /* CPUIDs (exits) to wait for an interrupt at most */

volatile uint32_t com1_count;

/* Acknowledges the UART (reading IIR) and the APIC, counts. */
void irq_com1(void);
__asm__(".text\n"
	".globl irq_com1\n"
	"irq_com1:\n\t"
	"pushl %eax\n\tpushl %edx\n\t"
	"movw $0x3fa, %dx\n\tinb %dx, %al\n\t"
	"lock incl com1_count\n\t"
	"movl $0, 0xfee000b0\n\t"
	"popl %edx\n\tpopl %eax\n\t"
	"iret\n");

static uint64_t idt[256] __attribute__((aligned(8)));
static uint32_t failed;

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint32_t base;
};

static void check(bool ok, const char *what)
{
	if (!ok)
		failed++;
	printf("platform: %s: %s\n", what, ok ? "ok" : "FAILED");
}

static uint32_t mmio_rd(uint32_t a)
{
	return *(volatile uint32_t *)a;
}

static void mmio_wr(uint32_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static uint32_t ioapic_rd(uint32_t reg)
{
	mmio_wr(IOAPIC, reg);
	return mmio_rd(IOAPIC + 0x10);
}

static void ioapic_wr(uint32_t reg, uint32_t v)
{
	mmio_wr(IOAPIC, reg);
	mmio_wr(IOAPIC + 0x10, v);
}

static void idt_setup(void)
{
	struct dtr cur, mine = { sizeof(idt) - 1, (uint32_t)idt };
	uint32_t a = (uint32_t)irq_com1;

	__asm__ volatile("sidt %0" : "=m"(cur));
	memcpy(idt, (const void *)cur.base, (uint32_t)cur.limit + 1);
	idt[VEC_COM1] =
	    (a & 0xffff) | (0x08u << 16) | ((uint64_t)0x8e00 << 32) | ((uint64_t)(a >> 16) << 48);
	__asm__ volatile("lidt %0" : : "m"(mine));
}

/* THR-empty interrupts on (IOAPIC pin routed as `entry`), IF on for up to
 * WAIT exits, then all off again: the interrupts that arrived. */
static uint32_t thre_interrupts(uint32_t entry)
{
	uint32_t before = com1_count, r[4];

	ioapic_wr(0x10 + 2 * 4, entry);
	outb(COM1 + 4, 0x0b); /* DTR, RTS, OUT2: the line reaches the bus */
	outb(COM1 + 1, 0x02); /* THR empty: the line rises now */
	__asm__ volatile("sti");
	for (uint32_t i = 0; i < WAIT && com1_count == before; i++)
		cpuid(0, 0, r);
	__asm__ volatile("cli");
	outb(COM1 + 1, 0x00);
	outb(COM1 + 4, 0x03);
	inb(COM1 + 2);
	ioapic_wr(0x10 + 2 * 4, 0x10000 | VEC_COM1);
	return com1_count - before;
}

static uint32_t cf8_read(unsigned dev, unsigned reg)
{
	outl(0xcf8, 0x80000000u | dev << 11 | reg);
	return inl(0xcfc);
}

unsigned guest_main(void)
{
	uint32_t ver, apic_id, n1 = 0, n2 = 0, same = 0, got;

	/* The legacy PICs off, as an OS that uses the IOAPIC leaves them. */
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	idt_setup();
	mmio_wr(LAPIC + 0xf0, 0x1ff);
	apic_id = mmio_rd(LAPIC + 0x20) >> 24;

	ver = ioapic_rd(1);
	printf("platform: ioapic version 0x%x, %u pins\n", ver & 0xff, ((ver >> 16) & 0xff) + 1);
	check((ver & 0xff) == 0x11 && ((ver >> 16) & 0xff) == 23, "ioapic version 0x11, 24 pins");

	ioapic_wr(0x11 + 2 * 4, apic_id << 24);
	got = thre_interrupts(VEC_COM1); /* fixed, physical, edge, active high */
	printf("platform: com1 irq 4 -> ioapic pin 4 -> apic %u vector 0x%x: %u arrived\n", apic_id,
	       VEC_COM1, got);
	check(got >= 1, "the UART's interrupt arrives through the IOAPIC");
	got = thre_interrupts(0x10000 | VEC_COM1);
	printf("platform: with pin 4 masked: %u arrived\n", got);
	check(got == 0, "a masked pin delivers nothing");

	outl(0xcf8, 0x80000000u);
	check(inl(0xcf8) == 0x80000000u, "0xcf8 reads back 0x80000000");
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id1 = cf8_read(dev, 0), id2 = mmio_rd(ECAM + (dev << 15));
		uint32_t class1 = cf8_read(dev, 8) >> 8,
			 class2 = mmio_rd(ECAM + (dev << 15) + 8) >> 8;

		n1 += (id1 & 0xffff) != 0xffff;
		n2 += (id2 & 0xffff) != 0xffff;
		same += id1 == id2 && class1 == class2;
		if ((id1 & 0xffff) != 0xffff)
			printf("platform: pci 00:%02x.0 %04x:%04x class %06x (mechanism #1)\n", dev,
			       id1 & 0xffff, id1 >> 16, class1);
		if ((id2 & 0xffff) != 0xffff)
			printf("platform: pci 00:%02x.0 %04x:%04x class %06x (ecam)\n", dev,
			       id2 & 0xffff, id2 >> 16, class2);
	}
	check(n1 >= 1 && n1 == n2 && same == 32, "mechanism #1 and ECAM find the same functions");
	check((cf8_read(0, 8) >> 16) == 0x0600, "00:00.0 is a host bridge");
	printf("platform: done, %u failed\n", failed);
	return failed ? GUEST_FAIL : GUEST_PASS;
}
