/* SPDX-License-Identifier: Apache-2.0 */
/* The guest-physical to host-frame map of a VM: a radix tree shaped like
 * page tables (512 entries of 64 bits per 4 KiB node, 9 bits of gfn per
 * level), so a 1 TiB guest needs four levels and a small one a single
 * node.  Nodes come from the platform's metadata allocator on first use
 * and count as the VM's overhead.  Leaf entries hold the page state and
 * host frame (mem_internal.h); interior entries hold child pointers. */
#include "mem_internal.h"

#define NODE_BYTES (VH_P2M_LEAF_ENTRIES * sizeof(uint64_t))
#define LEVEL_BITS 9u

static uint64_t *node_new(struct vh_host *h, struct vh_vm *vm)
{
	uint64_t *n = vh_mem_zalloc(h, NODE_BYTES);

	if (n)
		vm->mem.p2m_nodes++;
	return n;
}

int vh_p2m_init(struct vh_host *h, struct vh_vm *vm)
{
	uint32_t levels = 1;

	/* Deep enough for the highest RAM frame: above 4 GiB in a VM larger
	 * than the hole's start.  The hole costs no node (none is ever
	 * created there). */
	while (levels < 5 && (vh_mem_gfn_end(vm) - 1) >> (LEVEL_BITS * levels))
		levels++;
	vm->mem.p2m_levels = levels;
	vm->mem.p2m_nodes = 0;
	vm->mem.p2m = node_new(h, vm);
	return vm->mem.p2m ? VH_OK : VH_E_NOMEM;
}

static uint64_t *walk(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, bool create)
{
	uint64_t *node = vm->mem.p2m;

	if (!node)
		return NULL;
	for (uint32_t level = vm->mem.p2m_levels - 1; level > 0; level--) {
		uint64_t *slot = &node[(gfn >> (LEVEL_BITS * level)) & (VH_P2M_LEAF_ENTRIES - 1)];
		if (!*slot) {
			uint64_t *child;
			if (!create || !(child = node_new(h, vm)))
				return NULL;
			*slot = (uint64_t)(uintptr_t)child;
		}
		node = (uint64_t *)(uintptr_t)*slot;
	}
	return node;
}

uint64_t *vh_p2m_entry(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, bool create)
{
	uint64_t *leaf;

	if (!vh_mem_is_ram(vm, gfn))
		return NULL;
	leaf = walk(h, vm, gfn, create);
	return leaf ? &leaf[gfn & (VH_P2M_LEAF_ENTRIES - 1)] : NULL;
}

uint64_t *vh_p2m_leaf(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn)
{
	if (!vh_mem_is_ram(vm, gfn))
		return NULL;
	return walk(h, vm, gfn, false);
}

static void destroy_node(struct vh_host *h, struct vh_vm *vm, uint64_t *node, uint32_t level,
			 vh_gfn_t base,
			 void (*fn)(struct vh_host *, struct vh_vm *, vh_gfn_t, uint64_t))
{
	for (uint32_t i = 0; i < VH_P2M_LEAF_ENTRIES; i++) {
		if (!node[i])
			continue;
		if (level == 0) {
			if (fn)
				fn(h, vm, base + i, node[i]);
		} else {
			destroy_node(h, vm, (uint64_t *)(uintptr_t)node[i], level - 1,
				     base + ((vh_gfn_t)i << (LEVEL_BITS * level)), fn);
		}
	}
	vh_mem_mfree(h, node, NODE_BYTES);
	vm->mem.p2m_nodes--;
}

void vh_p2m_destroy(struct vh_host *h, struct vh_vm *vm,
		    void (*fn)(struct vh_host *h, struct vh_vm *vm, vh_gfn_t gfn, uint64_t e))
{
	if (!vm->mem.p2m)
		return;
	destroy_node(h, vm, vm->mem.p2m, vm->mem.p2m_levels - 1, 0, fn);
	vm->mem.p2m = NULL;
}
