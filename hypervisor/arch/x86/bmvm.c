/* SPDX-License-Identifier: Apache-2.0 */
#include "bmvm.h"
#include "heap.h"
#include "vh/vm.h"
#include "vmx_vcpu.h"

void vh_bmvm_loader_args(const struct vh_bmvm *b, struct vh_loader_args *a)
{
	*a = (struct vh_loader_args){
		.kind = VH_IMAGE_AUTO,
		.image = b->image,
		.len = b->image_len,
		.cmdline = b->image_cmdline,
		.initrd = b->initrd,
		.initrd_len = (size_t)b->initrd_len,
	};
}

struct vh_bmvm *vh_bmvm_get(struct vh_vm *vm)
{
	struct vh_bmvm *b = vm->backend;

	if (b)
		return b;
	b = vh_heap_alloc(sizeof(*b), 64);
	if (!b)
		return 0;
	if (!vh_ept_init(&b->ept)) {
		vh_heap_free(b, sizeof(*b));
		return 0;
	}
	vm->backend = b;
	return b;
}

void vh_bmvm_destroy(struct vh_vm *vm)
{
	struct vh_bmvm *b = vm->backend;

	for (uint32_t i = 0; vm->vcpus && i < vm->cfg.vcpus; i++)
		vh_vmx_vcpu_destroy(&vm->vcpus[i]);
	if (!b)
		return;
	vh_ept_destroy(&b->ept);
	vh_heap_free(b, sizeof(*b));
	vm->backend = 0;
}
