/* SPDX-License-Identifier: Apache-2.0 */
/* QEMU's fw_cfg, traditional I/O interface: a 16-bit write to 0x510
 * selects an item and rewinds it, each byte read from 0x511 returns the
 * next byte of it.  Guests written for QEMU read the CPU count and RAM
 * size here (SeaBIOS does, and so does our SMP test guest).  Items are
 * little-endian as QEMU's are; reading past an item's end or an unknown
 * item returns zeros, as QEMU does.  Writes to the data port are ignored
 * (QEMU stopped honouring them in 2.4); the DMA interface is not offered
 * (FW_CFG_ID bit 1 clear), so guests use the port interface. */
#include "dev_internal.h"
#include "vh/string.h"

void vh_fw_cfg_reset(void *fw_cfg, const struct vh_bus *bus)
{
	struct vh_fw_cfg *f = fw_cfg;
	const struct vh_vm_config *cfg = vh_dev_config(bus);
	uint64_t ram = cfg->memory_mib * VH_MIB;

	vh_memset(f, 0, sizeof(*f));
	for (int i = 0; i < 8; i++)
		f->ram_size[i] = (uint8_t)(ram >> (8 * i));
	f->nb_cpus[0] = (uint8_t)cfg->vcpus;
	f->nb_cpus[1] = (uint8_t)(cfg->vcpus >> 8);
	vh_memcpy(f->uuid, cfg->uuid, sizeof(f->uuid));
}

/* The bytes of an item, or NULL for a key vh does not serve. */
static const uint8_t *item(const struct vh_fw_cfg *f, uint16_t key, uint32_t *len)
{
	static const uint8_t signature[4] = { 'Q', 'E', 'M', 'U' };
	static const uint8_t id[4] = { 1, 0, 0, 0 };       /* traditional interface */
	static const uint8_t nographic[2] = { 1, 0 };

	switch (key) {
	case VH_FW_CFG_SIGNATURE: *len = 4; return signature;
	case VH_FW_CFG_ID: *len = 4; return id;
	case VH_FW_CFG_UUID: *len = 16; return f->uuid;
	case VH_FW_CFG_RAM_SIZE: *len = 8; return f->ram_size;
	case VH_FW_CFG_NOGRAPHIC: *len = 2; return nographic;
	case VH_FW_CFG_NB_CPUS:
	case VH_FW_CFG_MAX_CPUS: *len = 2; return f->nb_cpus;
	default: *len = 0; return NULL;
	}
}

static uint8_t next_byte(struct vh_fw_cfg *f)
{
	uint32_t len;
	const uint8_t *p = item(f, f->selector, &len);
	uint8_t b = 0;

	if (p && f->offset < len)
		b = p[f->offset];
	/* The offset stops at the end: no wrap into the item again. */
	if (f->offset < len)
		f->offset++;
	return b;
}

enum vh_io_result vh_fw_cfg_io(void *fw_cfg, const struct vh_dev_access *a)
{
	struct vh_fw_cfg *f = fw_cfg;

	if (a->offset == 0) {
		/* Selector: writes select (1 or 2 bytes wide), reads see 0. */
		if (a->is_write) {
			f->selector =
			    (uint16_t)(a->size == 1 ? (*a->value & 0xff) : (*a->value & 0xffff));
			f->offset = 0;
		} else {
			*a->value = 0;
		}
		return VH_IO_HANDLED;
	}
	if (a->is_write)
		return VH_IO_HANDLED;
	/* A wider read of the data port returns successive bytes, the first
	 * in the lowest byte. */
	*a->value = 0;
	for (unsigned i = 0; i < a->size; i++)
		*a->value |= (uint64_t)next_byte(f) << (8 * i);
	return VH_IO_HANDLED;
}
