/* SPDX-License-Identifier: Apache-2.0 */
/* The backend's state of a VM: its KVM VM and vCPU fds, the address range
 * of its guest memory, its console log.  Created when the core first needs
 * it (the first mapping of a guest page, or a worker picking one of its
 * vCPUs) and kept until the core undefines the VM (plat->vm_gone), so a
 * stop and start reuse it.  A worker holds a reference while it runs one
 * of the VM's vCPUs: the VM may be undefined meanwhile, and the last
 * reference frees the state.
 *
 * Booting follows the core's boot generation: when it moves (start,
 * reset) the image is loaded again, once (image_load.c, mostly without the
 * host lock), and every vCPU takes the steps vh/vcpu_boot.h gives it (its
 * power-on registers, a SIPI) before it next runs. */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/error.h"
#include "vh/vcpu_boot.h"
#include "vh/vm.h"

static void free_hvm(struct vh_hosted_vm *hvm)
{
	struct vh_hosted *d = hvm->d;

	for (uint32_t i = 0; i < hvm->nvcpus; i++) {
		struct vh_hosted_vcpu *hv = &hvm->vcpus[i];
		if (hv->run)
			munmap(hv->run, (size_t)d->kvm.run_size);
		if (hv->fd >= 0)
			close(hv->fd);
		pthread_mutex_destroy(&hv->run_lock);
	}
	free(hvm->vcpus);
	if (hvm->vm_fd >= 0)
		close(hvm->vm_fd);
	vh_hosted_load_free(hvm->load); /* not busy: no worker holds hvm */
	vh_hosted_guest_mem_fini(&hvm->mem);
	vh_hosted_console_close(&hvm->console);
	free(hvm);
}

struct vh_hosted_vm *vh_hosted_vm_get(struct vh_hosted *d, struct vh_vm *vm)
{
	struct vh_hosted_vm *hvm = vm->backend;
	char why[256];

	if (hvm)
		return hvm;
	hvm = calloc(1, sizeof(*hvm));
	if (!hvm) {
		vh_hosted_log(d, "VM \"%s\": out of memory for its KVM state", vm->cfg.name);
		return NULL;
	}
	hvm->d = d;
	hvm->id = vm->id;
	hvm->vm = vm;
	hvm->refs = 1; /* the core's link, dropped by vm_gone */
	hvm->vm_fd = -1;
	hvm->console.fd = -1;
	hvm->nvcpus = vm->cfg.vcpus;
	hvm->vcpus = calloc(hvm->nvcpus, sizeof(*hvm->vcpus));
	if (!hvm->vcpus) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < hvm->nvcpus; i++) {
		hvm->vcpus[i].hvm = hvm;
		hvm->vcpus[i].index = i;
		hvm->vcpus[i].fd = -1;
		pthread_mutex_init(&hvm->vcpus[i].run_lock, NULL);
	}
	if ((hvm->vm_fd = vh_hosted_kvm_create_vm(&d->kvm, why, sizeof(why))) < 0)
		goto fail;
	if (vh_hosted_guest_mem_init(&hvm->mem, hvm->vm_fd, vm->cfg.memory_mib * VH_MIB, why,
				     sizeof(why)))
		goto fail;
	for (uint32_t i = 0; i < hvm->nvcpus; i++) {
		struct vh_hosted_vcpu *hv = &hvm->vcpus[i];
		hv->fd = vh_hosted_kvm_create_vcpu(&d->kvm, hvm->vm_fd, i, hvm->nvcpus, &hv->run,
						   why, sizeof(why));
		if (hv->fd < 0)
			goto fail;
	}
	vh_hosted_console_open(&hvm->console, d->opt.log_dir, vm->cfg.name, &d->opt.log_limits);
	hvm->next = d->vms;
	d->vms = hvm;
	vm->backend = hvm;
	return hvm;
fail:
	vh_hosted_log(d, "VM \"%s\": cannot create its KVM VM: %s", vm->cfg.name, why);
	free_hvm(hvm);
	return NULL;
}

void vh_hosted_vm_ref(struct vh_hosted_vm *hvm)
{
	hvm->refs++;
}

void vh_hosted_vm_put(struct vh_hosted_vm *hvm)
{
	if (--hvm->refs == 0)
		free_hvm(hvm);
}

void vh_hosted_vm_gone(struct vh_hosted *d, struct vh_vm *vm)
{
	struct vh_hosted_vm *hvm = vm->backend, **pp;

	/* A deleted VM takes its console logs along; a daemon shutting down
	 * (which undefines every VM) keeps them. */
	if (!atomic_load(&d->stopping)) {
		if (hvm)
			vh_hosted_console_discard(&hvm->console);
		vh_hosted_console_remove(d->opt.log_dir, vm->cfg.name, &d->opt.log_limits);
	}
	if (!hvm)
		return;
	for (pp = &d->vms; *pp; pp = &(*pp)->next) {
		if (*pp == hvm) {
			*pp = hvm->next;
			break;
		}
	}
	vh_hosted_console_flush(&hvm->console);
	hvm->gone = true;
	hvm->vm = NULL;
	vm->backend = NULL;
	vh_hosted_vm_put(hvm);
}

void vh_hosted_vm_flush_consoles(struct vh_hosted *d)
{
	for (struct vh_hosted_vm *hvm = d->vms; hvm; hvm = hvm->next)
		vh_hosted_console_flush(&hvm->console);
}

/* Host lock held.  Sets the vCPU's registers for a step of
 * vh_vcpu_boot_next(); false when KVM refused (the VM is crashed). */
static bool start_vcpu(struct vh_hosted_vm *hvm, struct vh_hosted_vcpu *hv,
		       enum vh_vcpu_boot_step step, const struct vh_vcpu_sipi *sipi)
{
	char why[128];
	int rc;

	if (step == VH_VCPU_BOOT_LOAD) {
		rc = vh_hosted_kvm_set_boot_state(hv->fd, &hvm->boot);
		if (rc < 0)
			snprintf(why, sizeof(why), "setting vCPU 0's boot registers: %s",
				 strerror(-rc));
	} else {
		vh_hosted_kvm_flush(hv->fd, hv->run);
		rc = vh_hosted_kvm_set_sipi_state(hv->fd, sipi);
		if (rc < 0)
			snprintf(why, sizeof(why), "starting vCPU %u at its SIPI: %s", hv->index,
				 strerror(-rc));
		hv->run->request_interrupt_window = 0;
	}
	if (rc < 0) {
		vh_vm_crash(&hvm->d->host, hvm->vm, why);
		return false;
	}
	return true;
}

enum vh_hosted_prepare vh_hosted_vm_prepare(struct vh_hosted_vm *hvm, struct vh_hosted_vcpu *hv)
{
	struct vh_hosted *d = hvm->d;
	struct vh_vm *vm = hvm->vm;
	struct vh_vcpu *vcpu = &vm->vcpus[hv->index];
	enum vh_vcpu_boot_step step;
	struct vh_vcpu_sipi sipi;

	if (hvm->loaded_generation != vm->boot_generation) {
		/* Nothing of the previous generation's boot state survives,
		 * and no vCPU runs until this generation's image is in. */
		memset(&hvm->boot, 0, sizeof(hvm->boot));
		if (vm->cfg.boot.kernel[0])
			return vh_hosted_load_begin(hvm);
		hvm->loaded_generation = vm->boot_generation;
	}
	while ((step = vh_vcpu_boot_next(&d->host, vm, vcpu, &hv->boot, &sipi)) !=
	       VH_VCPU_BOOT_RUN) {
		if (step == VH_VCPU_BOOT_RESET) {
			/* Whatever the previous run left pending in KVM is
			 * finished first, so that it cannot land on the new
			 * registers. */
			vh_hosted_kvm_flush(hv->fd, hv->run);
			hv->run->request_interrupt_window = 0;
			hv->fetch_faults = 0;
			hv->mmio_pending = false;
			continue;
		}
		/* A VM without a kernel is a machine with nothing to boot: its
		 * vCPUs stay halted (it still counts, stops and reports like
		 * any VM). */
		if (step == VH_VCPU_BOOT_WAIT || !hvm->boot.mode)
			return VH_HOSTED_PREPARE_PARKED;
		if (!start_vcpu(hvm, hv, step, &sipi))
			return VH_HOSTED_PREPARE_FAILED;
		vh_vcpu_boot_started(&d->host, vm, vcpu, &hv->boot);
	}
	return hvm->boot.mode ? VH_HOSTED_PREPARE_RUN : VH_HOSTED_PREPARE_PARKED;
}
