/* SPDX-License-Identifier: Apache-2.0 */
/* A small AML encoder (ACPI 6.5, section 20: the AML grammar; 6.4: the
 * resource descriptors) for the DSDT vh generates (acpi_tables.c): name
 * strings, integers, strings, EISA ids, Name, Scope, Device, Package,
 * Buffer and the resource templates a PC's devices need.
 *
 * Objects that hold a PkgLength (Scope, Device, Package, Buffer) are
 * written open-then-close: the body first, then vh_aml_close() measures
 * it and inserts the PkgLength (one to four bytes) in front of it, so a
 * caller never sizes anything by hand.  The encoder writes into a
 * caller's buffer and never past it: a write that does not fit sets
 * `overflow` and is dropped, and the caller checks that once at the end. */
#ifndef VH_ACPI_AML_H
#define VH_ACPI_AML_H

#include "vh/types.h"

struct vh_aml {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
};

/* Where an open object's body starts: vh_aml_close() needs it. */
typedef size_t vh_aml_mark;

void vh_aml_init(struct vh_aml *a, uint8_t *buf, size_t cap);
void vh_aml_bytes(struct vh_aml *a, const void *p, size_t n);
void vh_aml_byte(struct vh_aml *a, uint8_t b);
void vh_aml_le(struct vh_aml *a, uint64_t v, unsigned bytes);

/* A name: an optional root prefix '\', then segments of up to four
 * characters separated by '.' (padded with '_'): "\_SB.PCI0", "_HID";
 * at most VH_AML_MAX_SEGS segments. */
#define VH_AML_MAX_SEGS 8
void vh_aml_namestring(struct vh_aml *a, const char *path);
/* An integer in its shortest encoding (Zero, One, Ones, byte .. qword). */
void vh_aml_integer(struct vh_aml *a, uint64_t v);
void vh_aml_string(struct vh_aml *a, const char *s);
/* A compressed EISA id ("PNP0A08") as an integer. */
void vh_aml_eisaid(struct vh_aml *a, const char *id);
/* Name(path, ...): the value follows. */
void vh_aml_name(struct vh_aml *a, const char *path);

/* Open objects; each is ended by vh_aml_close() (Buffer: vh_aml_close_buffer()). */
vh_aml_mark vh_aml_scope(struct vh_aml *a, const char *path);
vh_aml_mark vh_aml_device(struct vh_aml *a, const char *path);
vh_aml_mark vh_aml_package(struct vh_aml *a, uint8_t elements);
vh_aml_mark vh_aml_buffer(struct vh_aml *a);
void vh_aml_close(struct vh_aml *a, vh_aml_mark m);
void vh_aml_close_buffer(struct vh_aml *a, vh_aml_mark m);

/* Resource descriptors, inside a Buffer: a ResourceTemplate is
 * vh_aml_buffer(), the descriptors, vh_aml_res_end(), vh_aml_close_buffer(). */
void vh_aml_res_io(struct vh_aml *a, uint16_t base, uint8_t len); /* IO(Decode16) fixed */
void vh_aml_res_irq(struct vh_aml *a, uint8_t irq);               /* IRQNoFlags(): edge, high */
/* Word address space (WordBusNumber, WordIO), producer, fixed min and max. */
enum vh_aml_space { VH_AML_SPACE_MEM = 0, VH_AML_SPACE_IO = 1, VH_AML_SPACE_BUS = 2 };
void vh_aml_res_word(struct vh_aml *a, enum vh_aml_space s, uint16_t min, uint32_t len);
/* DWordMemory / QWordMemory, producer, fixed, non-cacheable, read-write. */
void vh_aml_res_dword_mem(struct vh_aml *a, uint32_t min, uint64_t len);
void vh_aml_res_qword_mem(struct vh_aml *a, uint64_t min, uint64_t len);
void vh_aml_res_mem32_fixed(struct vh_aml *a, uint32_t base, uint32_t len); /* read-write */
void vh_aml_res_end(struct vh_aml *a);

#endif
