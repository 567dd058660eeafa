/* SPDX-License-Identifier: Apache-2.0 */
/* A PCI function's type-0 configuration space (vh/pci.h) and the PCI MMIO
 * window's allocator.  Every register's behaviour is in three masks per
 * byte, as the spec describes registers: writable bits, write-1-to-clear
 * bits, the rest read-only.  A BAR is writable only above its size, so a
 * write of all ones reads back the size mask (sizing) with no special
 * case; the power-on copy puts BARs back where vh assigned them. */
#include "vh/pci.h"
#include "dev_internal.h"
#include "vh/error.h"
#include "vh/layout.h"
#include "vh/string.h"

#define STATUS_W1C 0xf900u /* parity, SERR, aborts, data parity: cleared by 1 */
#define COMMAND_RW 0x0547u /* I/O, memory, master, parity, SERR, INTx disable */

void vh_pci_alloc_init(struct vh_pci_alloc *al)
{
	al->next = VH_LAYOUT_PCI_MMIO_BASE;
	al->end = VH_LAYOUT_PCI_MMIO_BASE + VH_LAYOUT_PCI_MMIO_SIZE;
}

static bool pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int vh_pci_alloc_mmio(struct vh_pci_alloc *al, uint64_t size, uint64_t *addr, struct vh_error *err)
{
	uint64_t align = size < VH_PAGE_SIZE ? VH_PAGE_SIZE : size, at;

	if (!pow2(size) || size < 16)
		return vh_error_set(err, VH_E_INVAL,
				    "PCI BAR size %#llx is not a power of two >= 16",
				    (unsigned long long)size);
	at = (al->next + align - 1) & ~(align - 1);
	if (at < al->next || at > al->end || al->end - at < align)
		return vh_error_set(err, VH_E_NOMEM,
				    "PCI MMIO window full: no room for a BAR of %#llx bytes",
				    (unsigned long long)size);
	*addr = at;
	al->next = at + align;
	return VH_OK;
}

static void put(uint8_t *b, unsigned off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *b, unsigned off, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[off + i] << (8 * i);
	return v;
}

void vh_pci_cfg_init(struct vh_pci_cfg *c, uint16_t vendor, uint16_t device, uint32_t class_code,
		     uint8_t revision)
{
	vh_memset(c, 0, sizeof(*c));
	put(c->data, VH_PCI_VENDOR_ID, vendor, 2);
	put(c->data, VH_PCI_DEVICE_ID, device, 2);
	c->data[VH_PCI_REVISION] = revision;
	put(c->data, VH_PCI_CLASS_PROG, class_code, 3);
	put(c->wmask, VH_PCI_COMMAND, COMMAND_RW, 2);
	put(c->w1cmask, VH_PCI_STATUS, STATUS_W1C, 2);
	c->wmask[VH_PCI_INT_LINE] = 0xff;
	c->cap_next = VH_PCI_CAP_START;
	vh_memcpy(c->reset, c->data, sizeof(c->data));
}

int vh_pci_cfg_add_bar(struct vh_pci_cfg *c, struct vh_pci_alloc *al, unsigned bar, uint64_t size,
		       unsigned kind, struct vh_error *err)
{
	bool wide = kind & VH_PCI_BAR_MEM64;
	unsigned off = VH_PCI_BAR0 + 4 * bar;
	uint64_t addr, mask;
	int rc;

	if (kind & ~(VH_PCI_BAR_MEM64 | VH_PCI_BAR_PREFETCH) || bar + wide >= VH_PCI_BARS ||
	    get(c->wmask, off, wide ? 8 : 4) || (!wide && size > 0x80000000ull))
		return vh_error_set(err, VH_E_INVAL, "PCI BAR %u (%s, %#llx bytes): %s", bar,
				    wide ? "64-bit" : "32-bit", (unsigned long long)size,
				    bar + wide >= VH_PCI_BARS ? "no such BAR" : "taken or too big");
	rc = vh_pci_alloc_mmio(al, size, &addr, err);
	if (rc)
		return rc;
	mask = ~(size - 1) & ~0xfull;
	put(c->data, off, addr | kind, wide ? 8 : 4);
	put(c->wmask, off, mask, wide ? 8 : 4);
	put(c->reset, off, addr | kind, wide ? 8 : 4);
	return VH_OK;
}

int vh_pci_cfg_add_cap(struct vh_pci_cfg *c, uint8_t id, unsigned len, struct vh_error *err)
{
	unsigned at = c->cap_next, next;

	/* cap_next 0: full. */
	if (at < VH_PCI_CAP_START || len < 2 || len > VH_PCI_CFG_BYTES - at) {
		vh_error_set(err, VH_E_NOMEM, "PCI capability %#x of %u bytes: no room", id, len);
		return -1;
	}
	c->data[at] = id;
	c->data[at + 1] = c->data[VH_PCI_CAP_PTR];
	c->data[VH_PCI_CAP_PTR] = (uint8_t)at;
	put(c->data, VH_PCI_STATUS, get(c->data, VH_PCI_STATUS, 2) | VH_PCI_STATUS_CAP_LIST, 2);
	/* Dword-aligned, as the spec asks of a capability's offset. */
	next = (at + len + 3) & ~3u;
	c->cap_next = next < VH_PCI_CFG_BYTES ? (uint8_t)next : 0;
	vh_memcpy(c->reset, c->data, sizeof(c->data));
	return (int)at;
}

void vh_pci_cfg_set_pin(struct vh_pci_cfg *c, uint8_t pin)
{
	c->data[VH_PCI_INT_PIN] = pin <= 4 ? pin : 0;
	c->reset[VH_PCI_INT_PIN] = c->data[VH_PCI_INT_PIN];
}

void vh_pci_cfg_reset(struct vh_pci_cfg *c)
{
	vh_memcpy(c->data, c->reset, sizeof(c->data));
}

enum vh_io_result vh_pci_cfg_access(struct vh_pci_cfg *c, const struct vh_dev_access *a)
{
	uint64_t v = a->is_write ? *a->value : 0;

	if (a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8)
		return VH_IO_UNHANDLED;
	/* Byte by byte: any width at any offset touches exactly the bytes
	 * it covers; past the header (PCIe's extended space) reads 0. */
	for (unsigned i = 0; i < a->size; i++) {
		uint64_t off = a->offset + i;
		uint8_t b = (uint8_t)(v >> (8 * i));

		if (off >= VH_PCI_CFG_BYTES)
			continue;
		if (a->is_write) {
			c->data[off] =
			    (uint8_t)((c->data[off] & ~c->wmask[off]) | (b & c->wmask[off]));
			c->data[off] &= (uint8_t) ~(b & c->w1cmask[off]);
		} else {
			v |= (uint64_t)c->data[off] << (8 * i);
		}
	}
	if (!a->is_write)
		*a->value = v;
	return VH_IO_HANDLED;
}

uint64_t vh_pci_cfg_bar(const struct vh_pci_cfg *c, unsigned bar)
{
	unsigned off = VH_PCI_BAR0 + 4 * bar;
	uint64_t v;

	if (bar >= VH_PCI_BARS || !(get(c->data, VH_PCI_COMMAND, 2) & VH_PCI_CMD_MEMORY) ||
	    (c->data[off] & 1))
		return 0;
	v = get(c->data, off, 4);
	if ((v & 6) == VH_PCI_BAR_MEM64 && bar + 1 < VH_PCI_BARS)
		v |= get(c->data, off + 4, 4) << 32;
	return v & ~0xfull;
}
