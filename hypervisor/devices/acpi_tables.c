/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI tables of a VM (vh/acpi.h): RSDP, XSDT, FADT, MADT, MCFG and
 * the DSDT (AML from acpi_aml.c), in that order, one byte buffer that goes
 * to guest-physical VH_ACPI_GPA.  Layouts from ACPI 6.5: 5.2.5 (RSDP),
 * 5.2.6 (header), 5.2.8 (XSDT), 5.2.9 (FADT), 5.2.12 (MADT), and the PCI
 * Firmware Specification 3.3, 4.1.2 (MCFG).
 *
 * What a guest sees (the platform Firecracker and Cloud Hypervisor give):
 *   - a hardware-reduced FADT: no PM1 blocks, no GPEs, no SCI, no 8259
 *     or PIT for Linux (acpi_generic_reduced_hw_init); reset and S5 through
 *     the registers at VH_ACPI_PM_BASE; no 8042 in IAPC_BOOT_ARCH (no i8042
 *     probing), MSI allowed, no VGA.  The PM timer is not named: Linux
 *     would check the TSC against it (clocksource watchdog, calibration
 *     refinement), and on Bochs the TSC counts emulated instructions, not
 *     host time, so the two could only disagree;
 *   - a MADT with a local APIC per vCPU (ids 0..n-1, as lapic.c numbers
 *     them), the IOAPIC at VH_LAYOUT_IOAPIC_BASE, IRQ 0 -> GSI 2 as on
 *     every PC, IRQ 4 -> GSI 4 (COM1), LINT1 as NMI;
 *   - an MCFG with the layout's ECAM for bus 0;
 *   - a DSDT: \_S5_, \_SB.COM1, \_SB.MBRD (the ECAM as a motherboard
 *     resource, which Linux requires before it uses MMCONFIG) and
 *     \_SB.PCI0 with its windows and the INTx routing of vh/acpi.h. */
#include "acpi_aml.h"
#include "dev_internal.h"
#include "vh/acpi.h"
#include "vh/error.h"
#include "vh/string.h"

#define HDR_LEN     36u
#define RSDP_LEN    36u
#define FADT_LEN    276u
#define MCFG_LEN    60u
#define ECAM_BUS    0x100000ull /* configuration space of one bus */
#define PCI_SLOTS   32u
#define TABLE_ALIGN 16u
#define OEM_ID      "VH    "
#define CREATOR_ID  "VHVH"
#define NTABLES     5u /* XSDT, FADT, MADT, MCFG, DSDT */

/* FADT (ACPI 6.5 table 5.9): the offsets vh fills. */
#define FADT_MINOR                3u /* ACPI 6.3: what Debian 12's iasl knows */
#define FADT_OFF_BOOT             109u
#define FADT_OFF_FLAGS            112u
#define FADT_OFF_RESET            116u
#define FADT_OFF_RESETV           128u
#define FADT_OFF_MINOR            131u
#define FADT_OFF_XDSDT            140u
#define FADT_OFF_SLPCTL           244u
#define FADT_OFF_SLPSTS           256u
#define FADT_BOOT_VGA_NOT_PRESENT (1u << 2)
#define FADT_PWR_BUTTON           (1u << 4) /* no fixed power button */
#define FADT_SLP_BUTTON           (1u << 5) /* no fixed sleep button */
#define FADT_RESET_REG_SUP        (1u << 10)
#define FADT_HW_REDUCED_ACPI      (1u << 20)
#define GAS_SYSTEM_IO             1u
#define GAS_ACCESS_BYTE           1u

/* MADT entries (ACPI 6.5 5.2.12). */
#define MADT_LAPIC     0u
#define MADT_IOAPIC    1u
#define MADT_ISO       2u
#define MADT_LAPIC_NMI 4u
#define MADT_ENABLED   1u
#define MADT_NMI_FLAGS 0x5u /* active high, edge */

/* A table in the buffer: where it starts, so its length and checksum can
 * be filled once every address in it is known. */
struct tables {
	struct vh_aml w;
	size_t off[NTABLES];
	unsigned n;
};

static void put(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void align(struct vh_aml *w)
{
	while (!w->overflow && w->len % TABLE_ALIGN)
		vh_aml_byte(w, 0);
}

/* The common header; length and checksum are filled by finish(). */
static size_t begin(struct tables *t, const char sig[4], uint8_t rev)
{
	struct vh_aml *w = &t->w;
	size_t off;

	align(w);
	off = w->len;
	vh_aml_bytes(w, sig, 4);
	vh_aml_le(w, 0, 4); /* length */
	vh_aml_byte(w, rev);
	vh_aml_byte(w, 0); /* checksum */
	vh_aml_bytes(w, OEM_ID, 6);
	vh_aml_bytes(w, "VH", 2);
	vh_aml_bytes(w, sig, 4);
	vh_aml_bytes(w, "  ", 2); /* OEM table id "VHxxxx  " */
	vh_aml_le(w, 1, 4);       /* OEM revision */
	vh_aml_bytes(w, CREATOR_ID, 4);
	vh_aml_le(w, 1, 4); /* creator revision */
	if (t->n < NTABLES)
		t->off[t->n++] = off;
	return off;
}

/* Each table's length: up to the next one (or the end), less the padding
 * that aligns the next one; then every checksum, as the last step. */
static void finish(struct tables *t, const size_t end[NTABLES])
{
	for (unsigned i = 0; i < t->n; i++) {
		uint8_t *p = t->w.buf + t->off[i];
		size_t len = end[i] - t->off[i];

		put(p + 4, len, 4);
		p[9] = (uint8_t)(0x100 - sum(p, len));
	}
}

static void gas_io(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = 8; /* bit width */
	p[2] = 0; /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	put(p + 4, port, 8);
}

/* ---- the tables ---------------------------------------------------------------- */

static size_t rsdp(struct vh_aml *w)
{
	size_t off = w->len;

	vh_aml_bytes(w, "RSD PTR ", 8);
	vh_aml_byte(w, 0); /* checksum of the first 20 bytes */
	vh_aml_bytes(w, OEM_ID, 6);
	vh_aml_byte(w, 2);  /* revision: ACPI 2.0+, with an XSDT */
	vh_aml_le(w, 0, 4); /* no RSDT */
	vh_aml_le(w, RSDP_LEN, 4);
	vh_aml_le(w, 0, 8); /* XSDT address, filled later */
	vh_aml_le(w, 0, 4); /* extended checksum, 3 reserved bytes */
	return off;
}

static void fadt(struct tables *t)
{
	uint8_t b[FADT_LEN] = { 0 }; /* offsets as the specification's; the header is begin()'s */

	begin(t, "FACP", 6);
	put(b + FADT_OFF_BOOT, FADT_BOOT_VGA_NOT_PRESENT, 2);
	put(b + FADT_OFF_FLAGS,
	    FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP | FADT_PWR_BUTTON | FADT_SLP_BUTTON, 4);
	gas_io(b + FADT_OFF_RESET, VH_ACPI_PM_BASE + VH_ACPI_RESET_OFF);
	b[FADT_OFF_RESETV] = VH_ACPI_RESET_VALUE;
	b[FADT_OFF_MINOR] = FADT_MINOR;
	gas_io(b + FADT_OFF_SLPCTL, VH_ACPI_PM_BASE + VH_ACPI_SLEEP_CONTROL_OFF);
	gas_io(b + FADT_OFF_SLPSTS, VH_ACPI_PM_BASE + VH_ACPI_SLEEP_STATUS_OFF);
	vh_aml_bytes(&t->w, b + HDR_LEN, FADT_LEN - HDR_LEN); /* X_DSDT is filled later */
}

static void madt_iso(struct vh_aml *w, uint8_t irq, uint32_t gsi)
{
	vh_aml_byte(w, MADT_ISO);
	vh_aml_byte(w, 10);
	vh_aml_byte(w, 0); /* bus: ISA */
	vh_aml_byte(w, irq);
	vh_aml_le(w, gsi, 4);
	vh_aml_le(w, 0, 2); /* conforms to the bus: edge, active high */
}

static void madt(struct tables *t, uint32_t vcpus)
{
	struct vh_aml *w = &t->w;

	begin(t, "APIC", 5);
	vh_aml_le(w, VH_LAYOUT_LAPIC_BASE, 4);
	vh_aml_le(w, 0, 4); /* flags: no 8259s to disable (hardware-reduced) */
	for (uint32_t i = 0; i < vcpus; i++) {
		vh_aml_byte(w, MADT_LAPIC);
		vh_aml_byte(w, 8);
		vh_aml_byte(w, (uint8_t)i); /* ACPI processor uid */
		vh_aml_byte(w, (uint8_t)i); /* APIC id */
		vh_aml_le(w, MADT_ENABLED, 4);
	}
	vh_aml_byte(w, MADT_IOAPIC);
	vh_aml_byte(w, 12);
	vh_aml_byte(w, VH_ACPI_IOAPIC_ID);
	vh_aml_byte(w, 0);
	vh_aml_le(w, VH_LAYOUT_IOAPIC_BASE, 4);
	vh_aml_le(w, VH_ACPI_IOAPIC_GSI_BASE, 4);
	madt_iso(w, 0, 2);
	madt_iso(w, 4, 4);
	vh_aml_byte(w, MADT_LAPIC_NMI);
	vh_aml_byte(w, 6);
	vh_aml_byte(w, 0xff); /* every processor */
	vh_aml_le(w, MADT_NMI_FLAGS, 2);
	vh_aml_byte(w, 1); /* LINT1 */
}

static void mcfg(struct tables *t)
{
	struct vh_aml *w = &t->w;

	begin(t, "MCFG", 1);
	vh_aml_le(w, 0, 8); /* reserved */
	vh_aml_le(w, VH_LAYOUT_ECAM_BASE, 8);
	vh_aml_le(w, 0, 2); /* segment */
	vh_aml_byte(w, 0);  /* first bus */
	vh_aml_byte(w, 0);  /* last bus */
	vh_aml_le(w, 0, 4);
}

/* ---- the DSDT -------------------------------------------------------------------- */

/* Name(_CRS, ResourceTemplate() { ... }) is opened here, closed by crs_end. */
static vh_aml_mark crs_begin(struct vh_aml *w)
{
	vh_aml_name(w, "_CRS");
	return vh_aml_buffer(w);
}

static void crs_end(struct vh_aml *w, vh_aml_mark m)
{
	vh_aml_res_end(w);
	vh_aml_close_buffer(w, m);
}

static void name_eisaid(struct vh_aml *w, const char *name, const char *id)
{
	vh_aml_name(w, name);
	vh_aml_eisaid(w, id);
}

static void name_int(struct vh_aml *w, const char *name, uint64_t v)
{
	vh_aml_name(w, name);
	vh_aml_integer(w, v);
}

/* Device(name) { _HID, _UID, _CRS: what resources() writes }: opened, and
 * closed after the caller's resources. */
static vh_aml_mark simple_device(struct vh_aml *w, const char *name, const char *hid, uint64_t uid,
				 vh_aml_mark *crs)
{
	vh_aml_mark dev = vh_aml_device(w, name);

	name_eisaid(w, "_HID", hid);
	name_int(w, "_UID", uid);
	*crs = crs_begin(w);
	return dev;
}

static void simple_device_end(struct vh_aml *w, vh_aml_mark dev, vh_aml_mark crs)
{
	crs_end(w, crs);
	vh_aml_close(w, dev);
}

static void com1(struct vh_aml *w)
{
	vh_aml_mark crs, dev = simple_device(w, "COM1", "PNP0501", 1, &crs);

	vh_aml_res_io(w, VH_COM1_PORT, 8);
	vh_aml_res_irq(w, 4);
	simple_device_end(w, dev, crs);
}

/* The CMOS clock, so that Linux's rtc_cmos binds through PNP.  Without a
 * PNP0B00 device the kernel registers a platform device with IRQ 8, which
 * a hardware-reduced machine (no legacy PIC, so no IRQ 8 until ACPI names
 * it) cannot request: "probe of rtc_cmos failed with error -22", and no
 * /dev/rtc0.  No IRQ resource: the clock raises none (rtc.c), and the
 * driver then offers reads and writes of the clock without alarms. */
static void cmos_rtc(struct vh_aml *w)
{
	vh_aml_mark crs, dev = simple_device(w, "RTC0", "PNP0B00", 0, &crs);

	vh_aml_res_io(w, VH_RTC_PORT, 2);
	simple_device_end(w, dev, crs);
}

static void motherboard(struct vh_aml *w)
{
	vh_aml_mark crs, dev = simple_device(w, "MBRD", "PNP0C02", 0, &crs);

	vh_aml_res_mem32_fixed(w, (uint32_t)VH_LAYOUT_ECAM_BASE, (uint32_t)ECAM_BUS);
	simple_device_end(w, dev, crs);
}

/* _PRT: Package { Package { slot << 16 | 0xffff, pin, 0, GSI } ... }. */
static void pci_routing(struct vh_aml *w)
{
	vh_aml_mark prt;

	vh_aml_name(w, "_PRT");
	prt = vh_aml_package(w, PCI_SLOTS * 4);
	for (uint32_t dev = 0; dev < PCI_SLOTS; dev++) {
		for (uint32_t pin = 0; pin < 4; pin++) {
			vh_aml_mark e = vh_aml_package(w, 4);
			vh_aml_integer(w, (dev << 16) | 0xffff);
			vh_aml_integer(w, pin);
			vh_aml_integer(w, 0); /* source: a GSI, not a link device */
			vh_aml_integer(w, vh_acpi_pci_gsi(dev, pin));
			vh_aml_close(w, e);
		}
	}
	vh_aml_close(w, prt);
}

static void pci_root(struct vh_aml *w, const struct vh_acpi_config *c)
{
	vh_aml_mark dev = vh_aml_device(w, "PCI0"), crs;

	name_eisaid(w, "_HID", "PNP0A08");
	name_eisaid(w, "_CID", "PNP0A03");
	name_int(w, "_SEG", 0);
	name_int(w, "_UID", 0);
	name_int(w, "_BBN", 0);
	crs = crs_begin(w);
	vh_aml_res_word(w, VH_AML_SPACE_BUS, 0, 1);
	vh_aml_res_io(w, 0xcf8, 8);
	vh_aml_res_word(w, VH_AML_SPACE_IO, 0, 0xcf8);
	vh_aml_res_word(w, VH_AML_SPACE_IO, 0xd00, 0x10000 - 0xd00);
	vh_aml_res_dword_mem(w, (uint32_t)VH_LAYOUT_PCI_MMIO_BASE, VH_LAYOUT_PCI_MMIO_SIZE);
	if (c->mmio64_size)
		vh_aml_res_qword_mem(w, c->mmio64_base, c->mmio64_size);
	crs_end(w, crs);
	pci_routing(w);
	vh_aml_close(w, dev);
}

static void dsdt(struct tables *t, const struct vh_acpi_config *c)
{
	struct vh_aml *w = &t->w;
	vh_aml_mark s5, sb;

	begin(t, "DSDT", 2); /* revision 2: 64-bit integers */
	vh_aml_name(w, "_S5_");
	s5 = vh_aml_package(w, 2);
	vh_aml_integer(w, VH_ACPI_S5_TYPE);
	vh_aml_integer(w, 0);
	vh_aml_close(w, s5);
	sb = vh_aml_scope(w, "\\_SB");
	if (c->com1)
		com1(w);
	cmos_rtc(w);
	motherboard(w);
	pci_root(w, c);
	vh_aml_close(w, sb);
}

/* ---- the whole ---------------------------------------------------------------------- */

static int check(const struct vh_acpi_config *c, uint64_t gpa, struct vh_error *err)
{
	struct vh_layout l;

	if (c->vcpus < 1 || c->vcpus > 255)
		return vh_error_set(err, VH_E_INVAL, "acpi: %u vCPUs (1 to 255 have an APIC id)",
				    c->vcpus);
	if (gpa > UINT64_MAX - VH_ACPI_MAX_BYTES || gpa % TABLE_ALIGN)
		return vh_error_set(err, VH_E_INVAL, "acpi: tables at %#llx",
				    (unsigned long long)gpa);
	vh_layout_init(&l, c->ram_bytes);
	if (c->mmio64_size && (c->mmio64_base < vh_layout_top(&l) ||
			       c->mmio64_base + c->mmio64_size < c->mmio64_base))
		return vh_error_set(err, VH_E_INVAL,
				    "acpi: 64-bit PCI window %#llx + %#llx is not above the "
				    "VM's memory",
				    (unsigned long long)c->mmio64_base,
				    (unsigned long long)c->mmio64_size);
	return VH_OK;
}

int vh_acpi_build(const struct vh_acpi_config *c, uint8_t *buf, size_t len, uint64_t gpa,
		  struct vh_acpi_info *info, struct vh_error *err)
{
	struct tables t = { 0 };
	size_t end[NTABLES], xsdt_ptrs, root;
	uint8_t *b = buf;
	int rc;

	vh_memset(info, 0, sizeof(*info));
	if ((rc = check(c, gpa, err)))
		return rc;
	vh_aml_init(&t.w, buf, len);
	root = rsdp(&t.w);
	begin(&t, "XSDT", 1);
	xsdt_ptrs = t.w.len;
	for (unsigned i = 0; i < NTABLES - 2; i++)
		vh_aml_le(&t.w, 0, 8); /* FADT, MADT, MCFG */
	end[0] = t.w.len;
	fadt(&t);
	end[1] = t.w.len;
	madt(&t, c->vcpus);
	end[2] = t.w.len;
	mcfg(&t);
	end[3] = t.w.len;
	dsdt(&t, c);
	end[4] = t.w.len;
	if (t.w.overflow || t.n != NTABLES)
		return vh_error_set(err, VH_E_INVAL,
				    "acpi: the tables for %u vCPUs do not fit in %zu bytes",
				    c->vcpus, len);

	info->rsdp = gpa + root;
	info->xsdt = gpa + t.off[0];
	info->fadt = gpa + t.off[1];
	info->madt = gpa + t.off[2];
	info->mcfg = gpa + t.off[3];
	info->dsdt = gpa + t.off[4];
	info->len = t.w.len;
	put(b + xsdt_ptrs, info->fadt, 8);
	put(b + xsdt_ptrs + 8, info->madt, 8);
	put(b + xsdt_ptrs + 16, info->mcfg, 8);
	put(b + t.off[1] + FADT_OFF_XDSDT, info->dsdt, 8);
	finish(&t, end);
	put(b + root + 24, info->xsdt, 8);
	b[root + 8] = (uint8_t)(0x100 - sum(b + root, 20));
	b[root + 32] = (uint8_t)(0x100 - sum(b + root, RSDP_LEN));
	return VH_OK;
}

void vh_acpi_config_vm(const struct vh_vm *vm, struct vh_acpi_config *c)
{
	vh_memset(c, 0, sizeof(*c));
	c->vcpus = vm->cfg.vcpus;
	c->ram_bytes = vm->cfg.memory_mib * VH_MIB;
	c->com1 = vh_devices_configured(vm, VH_DEV_UART16550);
}
