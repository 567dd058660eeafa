/* SPDX-License-Identifier: Apache-2.0 */
/* What the bare-metal backend keeps per VM (vm->backend): its EPT tree,
 * the line buffer for its console output, and its boot state.  Created on
 * first use, freed when the core undefines the VM (platform vm_gone). */
#ifndef VH_X86_BMVM_H
#define VH_X86_BMVM_H

#include <stdbool.h>
#include <stdint.h>

#include "ept.h"
#include "vh/acpi.h"
#include "vh/loader.h"

struct vh_vm;

#define VH_BMVM_LINE_MAX 160

struct vh_bmvm {
	struct vh_ept ept;
	/* Guest console bytes up to the next newline: each line reaches
	 * the console whole, prefixed with the VM's name. */
	char line[VH_BMVM_LINE_MAX];
	unsigned line_len;
	/* The guest image (module) and its loaded boot state, reloaded when
	 * vm->boot_generation moves on (start, reset). */
	const void *image;
	uint64_t image_len;
	char image_cmdline[512];
	const void *initrd; /* a Linux initrd module (NULL: none) */
	uint64_t initrd_len;
	uint32_t loaded_generation;
	struct vh_boot_state boot;
	uint8_t acpi[VH_ACPI_MAX_BYTES]; /* the VM's ACPI tables, rebuilt at each load */
};

/* The loader's arguments for b's image, initrd and command line (the
 * kind read from the image's contents). */
void vh_bmvm_loader_args(const struct vh_bmvm *b, struct vh_loader_args *a);

/* vm's backend state, created on first use; NULL when the heap is out. */
struct vh_bmvm *vh_bmvm_get(struct vh_vm *vm);
void vh_bmvm_destroy(struct vh_vm *vm);

#endif
