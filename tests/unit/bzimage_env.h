/* SPDX-License-Identifier: Apache-2.0 */
/* A synthetic Linux bzImage as boot.rst describes protocol 2.15's, for
 * the Linux loader's tests (test_linux_loader.c) and the guest platform's
 * documented boot data (platform_facts.c): relocatable, 64-bit, 2 MiB
 * alignment, LOAD_PHYSICAL_ADDR 16 MiB, init_size 2 MiB, a 4 KiB payload. */
#ifndef VH_TEST_BZIMAGE_ENV_H
#define VH_TEST_BZIMAGE_ENV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SETUP_SECTS 1
#define PROT_OFF    ((SETUP_SECTS + 1) * 512)
#define PAYLOAD     4096

struct bz {
	uint8_t b[PROT_OFF + PAYLOAD];
	size_t len;
};

static inline void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static inline void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline void bz_image(struct bz *im)
{
	uint8_t *b = im->b;

	memset(im, 0, sizeof(*im));
	b[0x1f1] = SETUP_SECTS;
	put32(b + 0x1f4, PAYLOAD / 16);
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x66; /* the header ends at 0x268 */
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, 0x20f);
	b[0x211] = 0x01;              /* LOADED_HIGH */
	put32(b + 0x22c, 0x37ffffff); /* initrd_addr_max */
	put32(b + 0x230, 0x200000);   /* kernel_alignment */
	b[0x234] = 1;                 /* relocatable */
	put16(b + 0x236, 0x1);        /* XLF_KERNEL_64 */
	put32(b + 0x238, 255);        /* cmdline_size */
	put64(b + 0x258, 0x1000000);  /* pref_address */
	put32(b + 0x260, 0x200000);   /* init_size */
	for (size_t i = 0; i < PAYLOAD; i++)
		b[PROT_OFF + i] = (uint8_t)(i * 7 + 1);
	im->len = sizeof(im->b);
}

#endif
