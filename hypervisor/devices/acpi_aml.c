/* SPDX-License-Identifier: Apache-2.0 */
/* The AML encoder (acpi_aml.h).  Opcodes and descriptor layouts from
 * ACPI 6.5 sections 20.2 (AML grammar) and 6.4 (resource data types). */
#include "acpi_aml.h"
#include "vh/string.h"

enum {
	AML_ZERO = 0x00,
	AML_ONE = 0x01,
	AML_NAME = 0x08,
	AML_BYTE = 0x0a,
	AML_WORD = 0x0b,
	AML_DWORD = 0x0c,
	AML_STRING = 0x0d,
	AML_QWORD = 0x0e,
	AML_SCOPE = 0x10,
	AML_BUFFER = 0x11,
	AML_PACKAGE = 0x12,
	AML_DUAL_NAME = 0x2e,
	AML_MULTI_NAME = 0x2f,
	AML_EXT = 0x5b,
	AML_EXT_DEVICE = 0x82,
	AML_ROOT = 0x5c,
	AML_ONES = 0xff,
};

/* Resource descriptor tags. */
enum {
	RES_IRQ_NOFLAGS = 0x22, /* small, 2 bytes: mask */
	RES_IO = 0x47,          /* small, 7 bytes */
	RES_END = 0x79,         /* small, 1 byte: checksum */
	RES_MEM32_FIXED = 0x86, /* large, 9 bytes */
	RES_DWORD = 0x87,       /* large, 23 bytes */
	RES_WORD = 0x88,        /* large, 13 bytes */
	RES_QWORD = 0x8a,       /* large, 43 bytes */
};
/* Address space descriptors' general flags: producer (bit 0 clear),
 * positive decode, minimum and maximum fixed. */
#define RES_GEN_FIXED 0x0cu
#define RES_MEM_RW    0x01u /* memory: read-write, non-cacheable */
#define RES_IO_ENTIRE 0x03u /* I/O: ISA and non-ISA ranges */

void vh_aml_init(struct vh_aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->cap = cap;
	a->len = 0;
	a->overflow = false;
}

static bool room(struct vh_aml *a, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return false;
	}
	return true;
}

void vh_aml_bytes(struct vh_aml *a, const void *p, size_t n)
{
	if (!room(a, n))
		return;
	vh_memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void vh_aml_byte(struct vh_aml *a, uint8_t b)
{
	vh_aml_bytes(a, &b, 1);
}

void vh_aml_le(struct vh_aml *a, uint64_t v, unsigned bytes)
{
	uint8_t b[8];

	for (unsigned i = 0; i < bytes && i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	vh_aml_bytes(a, b, bytes < 8 ? bytes : 8);
}

/* ---- names and data ---------------------------------------------------------- */

void vh_aml_namestring(struct vh_aml *a, const char *path)
{
	uint8_t seg[4 * VH_AML_MAX_SEGS];
	size_t nseg = 0, i = 0;

	if (*path == '\\') {
		vh_aml_byte(a, AML_ROOT);
		path++;
	}
	while (*path && nseg < VH_AML_MAX_SEGS) {
		for (i = 0; i < 4; i++)
			seg[nseg * 4 + i] = (*path && *path != '.') ? (uint8_t)*path++ : '_';
		while (*path && *path != '.')
			path++; /* a segment longer than four characters: cut */
		if (*path == '.')
			path++;
		nseg++;
	}
	if (nseg == 0) {
		vh_aml_byte(a, 0); /* NullName */
		return;
	}
	if (nseg == 2) {
		vh_aml_byte(a, AML_DUAL_NAME);
	} else if (nseg > 2) {
		vh_aml_byte(a, AML_MULTI_NAME);
		vh_aml_byte(a, (uint8_t)nseg);
	}
	vh_aml_bytes(a, seg, nseg * 4);
}

void vh_aml_integer(struct vh_aml *a, uint64_t v)
{
	if (v == 0) {
		vh_aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		vh_aml_byte(a, AML_ONE);
	} else if (v == UINT64_MAX) {
		vh_aml_byte(a, AML_ONES);
	} else if (v <= 0xff) {
		vh_aml_byte(a, AML_BYTE);
		vh_aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		vh_aml_byte(a, AML_WORD);
		vh_aml_le(a, v, 2);
	} else if (v <= 0xffffffffu) {
		vh_aml_byte(a, AML_DWORD);
		vh_aml_le(a, v, 4);
	} else {
		vh_aml_byte(a, AML_QWORD);
		vh_aml_le(a, v, 8);
	}
}

void vh_aml_string(struct vh_aml *a, const char *s)
{
	vh_aml_byte(a, AML_STRING);
	vh_aml_bytes(a, s, vh_strlen(s) + 1);
}

static uint32_t hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (uint32_t)(c - '0');
	if (c >= 'A' && c <= 'F')
		return (uint32_t)(c - 'A' + 10);
	return 0;
}

/* Three letters of five bits each, then four hex digits, stored big-endian
 * (as iasl's EISAID() does). */
void vh_aml_eisaid(struct vh_aml *a, const char *id)
{
	uint32_t v = 0;

	for (int i = 0; i < 3; i++)
		v |= (uint32_t)((id[i] - 0x40) & 0x1f) << (26 - 5 * i);
	for (int i = 3; i < 7; i++)
		v |= hex_digit(id[i]) << (4 * (6 - i));
	vh_aml_integer(a,
		       ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24));
}

void vh_aml_name(struct vh_aml *a, const char *path)
{
	vh_aml_byte(a, AML_NAME);
	vh_aml_namestring(a, path);
}

/* ---- objects with a PkgLength ------------------------------------------------- */

/* Inserts n bytes at m, moving what follows. */
static void insert(struct vh_aml *a, vh_aml_mark m, const uint8_t *p, size_t n)
{
	if (!room(a, n) || m > a->len)
		return;
	vh_memmove(a->buf + m + n, a->buf + m, a->len - m);
	vh_memcpy(a->buf + m, p, n);
	a->len += n;
}

/* Puts the PkgLength of everything from m on (plus itself) in front of it;
 * prefix (n bytes) goes between the PkgLength and the body.  The PkgLength
 * counts its own bytes: one byte holds up to 63, longer ones keep four
 * bits in the lead byte and eight in each following one. */
static void close_with(struct vh_aml *a, vh_aml_mark m, const uint8_t *prefix, size_t n)
{
	uint8_t b[4 + 9];
	size_t body, total;
	unsigned k;

	if (a->overflow || m > a->len)
		return;
	body = a->len - m + n;
	for (k = 1; k <= 4; k++) {
		total = body + k;
		if (k == 1 ? total <= 0x3f : total < (1ull << (4 + 8 * (k - 1))))
			break;
	}
	if (k > 4) {
		a->overflow = true; /* no AML object is 256 MiB */
		return;
	}
	if (k == 1) {
		b[0] = (uint8_t)total;
	} else {
		b[0] = (uint8_t)(((k - 1) << 6) | (total & 0xf));
		for (unsigned i = 1; i < k; i++)
			b[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	vh_memcpy(b + k, prefix, n);
	insert(a, m, b, k + n);
}

void vh_aml_close(struct vh_aml *a, vh_aml_mark m)
{
	close_with(a, m, NULL, 0);
}

/* The PkgLength goes after the opcode and before the name: the mark is
 * taken before the name is written. */
static vh_aml_mark open_named(struct vh_aml *a, const uint8_t *op, size_t n, const char *path)
{
	vh_aml_mark m;

	vh_aml_bytes(a, op, n);
	m = a->len;
	vh_aml_namestring(a, path);
	return m;
}

vh_aml_mark vh_aml_scope(struct vh_aml *a, const char *path)
{
	static const uint8_t op[] = { AML_SCOPE };

	return open_named(a, op, sizeof(op), path);
}

vh_aml_mark vh_aml_device(struct vh_aml *a, const char *path)
{
	static const uint8_t op[] = { AML_EXT, AML_EXT_DEVICE };

	return open_named(a, op, sizeof(op), path);
}

vh_aml_mark vh_aml_package(struct vh_aml *a, uint8_t elements)
{
	vh_aml_mark m;

	vh_aml_byte(a, AML_PACKAGE);
	m = a->len;
	vh_aml_byte(a, elements);
	return m;
}

vh_aml_mark vh_aml_buffer(struct vh_aml *a)
{
	vh_aml_byte(a, AML_BUFFER);
	return a->len;
}

/* A Buffer's size is an integer between its PkgLength and its bytes. */
void vh_aml_close_buffer(struct vh_aml *a, vh_aml_mark m)
{
	uint8_t size[9];
	struct vh_aml s;

	if (a->overflow || m > a->len)
		return;
	vh_aml_init(&s, size, sizeof(size));
	vh_aml_integer(&s, a->len - m);
	close_with(a, m, size, s.len);
}

/* ---- resource descriptors ----------------------------------------------------- */

void vh_aml_res_io(struct vh_aml *a, uint16_t base, uint8_t len)
{
	vh_aml_byte(a, RES_IO);
	vh_aml_byte(a, 1); /* 16-bit decode */
	vh_aml_le(a, base, 2);
	vh_aml_le(a, base, 2);
	vh_aml_byte(a, 1); /* alignment */
	vh_aml_byte(a, len);
}

void vh_aml_res_irq(struct vh_aml *a, uint8_t irq)
{
	vh_aml_byte(a, RES_IRQ_NOFLAGS);
	vh_aml_le(a, irq < 16 ? 1u << irq : 0, 2);
}

/* Tag, length, space type, general flags, type-specific flags. */
static void addr_head(struct vh_aml *a, uint8_t tag, uint16_t len, enum vh_aml_space s)
{
	vh_aml_byte(a, tag);
	vh_aml_le(a, len, 2);
	vh_aml_byte(a, (uint8_t)s);
	vh_aml_byte(a, RES_GEN_FIXED);
	vh_aml_byte(a, s == VH_AML_SPACE_MEM  ? RES_MEM_RW
		       : s == VH_AML_SPACE_IO ? RES_IO_ENTIRE
					      : 0);
}

/* Granularity (0, as minimum and maximum are fixed), minimum, maximum,
 * translation offset, length: each of `bytes` bytes.  len is at least 1. */
static void addr_body(struct vh_aml *a, unsigned bytes, uint64_t min, uint64_t len)
{
	vh_aml_le(a, 0, bytes);
	vh_aml_le(a, min, bytes);
	vh_aml_le(a, min + len - 1, bytes);
	vh_aml_le(a, 0, bytes);
	vh_aml_le(a, len, bytes);
}

void vh_aml_res_word(struct vh_aml *a, enum vh_aml_space s, uint16_t min, uint32_t len)
{
	addr_head(a, RES_WORD, 13, s);
	addr_body(a, 2, min, len);
}

void vh_aml_res_dword_mem(struct vh_aml *a, uint32_t min, uint64_t len)
{
	addr_head(a, RES_DWORD, 23, VH_AML_SPACE_MEM);
	addr_body(a, 4, min, len);
}

void vh_aml_res_qword_mem(struct vh_aml *a, uint64_t min, uint64_t len)
{
	addr_head(a, RES_QWORD, 43, VH_AML_SPACE_MEM);
	addr_body(a, 8, min, len);
}

void vh_aml_res_mem32_fixed(struct vh_aml *a, uint32_t base, uint32_t len)
{
	vh_aml_byte(a, RES_MEM32_FIXED);
	vh_aml_le(a, 9, 2);
	vh_aml_byte(a, 1); /* read-write */
	vh_aml_le(a, base, 4);
	vh_aml_le(a, len, 4);
}

void vh_aml_res_end(struct vh_aml *a)
{
	vh_aml_byte(a, RES_END);
	vh_aml_byte(a, 0); /* checksum 0: the OS treats the template as valid */
}
