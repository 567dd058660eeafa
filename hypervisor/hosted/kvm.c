/* SPDX-License-Identifier: Apache-2.0 */
/* /dev/kvm: what vh-hosted needs from it and nothing more.  KVM performs
 * the world switch only: no in-kernel interrupt controller (vh's own local
 * APIC model injects with KVM_INTERRUPT), HLT and every port exit come to
 * user space, and the CPUID the guest sees is vh's CPU model (vh/cpuid.h)
 * over what KVM supports, vh's hypervisor leaves in place of KVM's (a guest
 * finds vh, not KVM). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/cpuid.h"
#include "vh/hypercall.h"
#include "vh/devices.h"
#include "vh/lapic.h"

#define CPUID_MAX_ENTRIES 256

/* Capabilities the daemon cannot work without. */
static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT (preemption of a running vCPU)" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
};

/* KVM's supported CPUID: the host's raw values for the shared model. */
static int supported_cpuid(struct vh_hosted_kvm *k, char *why, size_t whylen)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));

	if (!c) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(k->fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		snprintf(why, whylen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return -1;
	}
	k->cpuid = c;
	return 0;
}

static const struct kvm_cpuid_entry2 *supported_entry(const struct kvm_cpuid2 *c, uint32_t leaf,
						      uint32_t sub)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == leaf &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == sub))
			return e;
	}
	return NULL;
}

static bool kvm_raw(const struct vh_cpuid_host *h, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	const struct kvm_cpuid_entry2 *e = supported_entry(h->ctx, leaf, sub);

	if (!e)
		return false;
	out[0] = e->eax;
	out[1] = e->ebx;
	out[2] = e->ecx;
	out[3] = e->edx;
	return true;
}

/* Leaves the model answers whether KVM lists them or not. */
static const struct {
	uint32_t leaf, subs; /* subs > 1: indexed by subleaf */
} model_leaves[] = {
	{ VH_CPUID_BASE, 1 },     { VH_CPUID_FEATURES, 1 },  { VH_CPUID_TOPO_LEAF, 3 },
	{ VH_CPUID_TSC_LEAF, 1 }, { VH_CPUID_FREQ_LEAF, 1 }, { VH_CPUID_ADDR_LEAF, 1 },
};

static void add_entry(struct kvm_cpuid2 *c, const struct vh_cpuid_host *h,
		      const struct vh_cpuid_vm *vm, uint32_t leaf, uint32_t sub, uint32_t flags)
{
	uint32_t r[4];

	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == leaf && c->entries[i].index == sub)
			return; /* already there */
	if (c->nent >= CPUID_MAX_ENTRIES || !vh_cpuid_guest(h, vm, leaf, sub, r))
		return;
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = leaf,
		.index = sub,
		.flags = flags,
		.eax = r[0],
		.ebx = r[1],
		.ecx = r[2],
		.edx = r[3],
	};
}

/* vCPU `index`'s CPUID: the shared model asked for every leaf KVM lists
 * and for the leaves the model adds; leaves the model says do not exist
 * (KVM's own paravirtual range among them) are left out. */
static struct kvm_cpuid2 *guest_cpuid(struct vh_hosted_kvm *k, int fd, uint32_t index,
				      uint32_t vcpus)
{
	const struct kvm_cpuid2 *src = k->cpuid;
	struct vh_cpuid_host h = { .raw = kvm_raw, .ctx = k->cpuid };
	struct vh_cpuid_vm vm = {
		.vcpus = vcpus,
		.vcpu_index = index,
		.hc_features = VH_HC_FEAT_PORT,
		.bus_hz = VH_LAPIC_BUS_HZ,
	};
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	int khz;

	if (!c)
		return NULL;
	vh_cpuid_host_init(&h);
	/* The guest's TSC runs at the rate KVM gives this vCPU. */
	khz = ioctl(fd, KVM_GET_TSC_KHZ, 0);
	vm.tsc_hz = khz > 0 ? (uint64_t)khz * 1000 : 0;
	for (uint32_t i = 0; i < src->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &src->entries[i];
		add_entry(c, &h, &vm, e->function, e->index, e->flags);
	}
	for (size_t i = 0; i < sizeof(model_leaves) / sizeof(model_leaves[0]); i++)
		for (uint32_t sub = 0; sub < model_leaves[i].subs; sub++)
			add_entry(c, &h, &vm, model_leaves[i].leaf, sub,
				  model_leaves[i].subs > 1 ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0);
	return c;
}

int vh_hosted_kvm_open(struct vh_hosted_kvm *k, char *why, size_t whylen)
{
	int v;

	memset(k, 0, sizeof(*k));
	k->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		snprintf(why, whylen, "/dev/kvm: %s", strerror(errno));
		return -1;
	}
	if ((v = ioctl(k->fd, KVM_GET_API_VERSION, 0)) != KVM_API_VERSION) {
		snprintf(why, whylen, "/dev/kvm: API version %d, vh needs %d", v, KVM_API_VERSION);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(why, whylen, "/dev/kvm lacks %s", required_caps[i].name);
			goto fail;
		}
	}
	k->run_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size < (int)sizeof(struct kvm_run)) {
		snprintf(why, whylen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto fail;
	}
	if (supported_cpuid(k, why, whylen))
		goto fail;
	return 0;
fail:
	close(k->fd);
	k->fd = -1;
	return -1;
}

void vh_hosted_kvm_close(struct vh_hosted_kvm *k)
{
	free(k->cpuid);
	k->cpuid = NULL;
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

int vh_hosted_kvm_create_vm(struct vh_hosted_kvm *k, char *why, size_t whylen)
{
	int fd;

	do
		fd = ioctl(k->fd, KVM_CREATE_VM, 0);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		snprintf(why, whylen, "KVM_CREATE_VM: %s", strerror(errno));
		return fd;
	}
	/* The guest's MSR writes checked as on bare metal (msr.c). */
	if (vh_hosted_msr_filter(fd, why, whylen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int set_cpuid(struct vh_hosted_kvm *k, int fd, uint32_t index, uint32_t vcpus)
{
	struct kvm_cpuid2 *c = guest_cpuid(k, fd, index, vcpus);
	int rc;

	if (!c)
		return -ENOMEM;
	rc = ioctl(fd, KVM_SET_CPUID2, c) < 0 ? -errno : 0;
	free(c);
	return rc;
}

int vh_hosted_kvm_create_vcpu(struct vh_hosted_kvm *k, int vm_fd, uint32_t index, uint32_t vcpus,
			      struct kvm_run **run, char *why, size_t whylen)
{
	int fd = ioctl(vm_fd, KVM_CREATE_VCPU, (unsigned long)index), rc;
	void *r;

	if (fd < 0) {
		snprintf(why, whylen, "KVM_CREATE_VCPU %u: %s", index, strerror(errno));
		return -1;
	}
	r = mmap(NULL, (size_t)k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r == MAP_FAILED) {
		snprintf(why, whylen, "mmap of vCPU %u's kvm_run: %s", index, strerror(errno));
		close(fd);
		return -1;
	}
	if ((rc = set_cpuid(k, fd, index, vcpus)) < 0) {
		snprintf(why, whylen, "KVM_SET_CPUID2 on vCPU %u: %s", index, strerror(-rc));
		munmap(r, (size_t)k->run_size);
		close(fd);
		return -1;
	}
	*run = r;
	return fd;
}

void vh_hosted_kvm_flush(int vcpu_fd, struct kvm_run *run)
{
	/* KVM completes a pending I/O or MMIO exit at the start of the next
	 * KVM_RUN, before it looks at immediate_exit. */
	run->immediate_exit = 1;
	(void)ioctl(vcpu_fd, KVM_RUN, 0);
	run->immediate_exit = 0;
}

static struct kvm_segment segment(const struct vh_boot_segment *s)
{
	uint32_t a = s->access;

	return (struct kvm_segment){
		.base = s->base,
		.limit = s->limit,
		.selector = s->selector,
		.type = a & 0xf,
		.s = (a >> 4) & 1,
		.dpl = (a >> 5) & 3,
		.present = (a >> 7) & 1,
		.avl = (a >> 12) & 1,
		.l = (a >> 13) & 1,
		.db = (a >> 14) & 1,
		.g = (a >> 15) & 1,
		.unusable = (a >> 16) & 1,
	};
}

/* Registers every vCPU gets at power-on or INIT besides what the loader or
 * the SIPI sets: the architectural reset values of the rest, so a reset
 * guest finds no trace of its previous run. */
static int reset_common(int fd, struct kvm_sregs *sr, bool bsp)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	struct kvm_debugregs dr = { .dr6 = 0xffff0ff0, .dr7 = 0x400 };
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[9];
	} msrs = { .hdr = { .nmsrs = 9 },
		   .e = {
			   { .index = 0x174 }, /* SYSENTER_CS */
			   { .index = 0x175 }, /* SYSENTER_ESP */
			   { .index = 0x176 }, /* SYSENTER_EIP */
			   { .index = 0xc0000081 }, /* STAR */
			   { .index = 0xc0000082 }, /* LSTAR */
			   { .index = 0xc0000083 }, /* CSTAR */
			   { .index = 0xc0000084 }, /* SFMASK */
			   { .index = 0xc0000102 }, /* KERNEL_GS_BASE */
			   { .index = 0x277, .data = 0x0007040600070406ull }, /* PAT */
		   } };

	memset(sr, 0, sizeof(*sr));
	sr->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	/* VMX wants a busy TSS in TR even in real mode. */
	sr->tr = (struct kvm_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	sr->idt.limit = 0xffff;
	sr->apic_base = VH_LAPIC_BASE | VH_APIC_BASE_ENABLE | (bsp ? VH_APIC_BASE_BSP : 0);
	if (ioctl(fd, KVM_SET_FPU, &fpu) < 0 || ioctl(fd, KVM_SET_DEBUGREGS, &dr) < 0)
		return -errno;
	/* Best effort: a kernel that refuses one of these MSRs still runs. */
	(void)ioctl(fd, KVM_SET_MSRS, &msrs);
	vh_hosted_msr_reset(fd);
	return 0;
}

int vh_hosted_kvm_set_boot_state(int fd, const struct vh_boot_state *bs)
{
	struct kvm_sregs sr;
	struct kvm_regs r = {
		.rip = bs->rip, .rsp = bs->rsp, .rax = bs->rax, .rbx = bs->rbx, .rsi = bs->rsi,
		.rflags = bs->rflags | 2,
	};
	int rc = reset_common(fd, &sr, true);

	if (rc)
		return rc;
	sr.cs = segment(&bs->cs);
	sr.ds = segment(&bs->ds);
	sr.es = segment(&bs->es);
	sr.fs = segment(&bs->fs);
	sr.gs = segment(&bs->gs);
	sr.ss = segment(&bs->ss);
	sr.gdt.base = bs->gdt_base;
	sr.gdt.limit = bs->gdt_limit;
	sr.cr0 = bs->cr0 | 0x10; /* ET is hard-wired */
	/* Long mode (a Linux 64-bit entry): CR3, CR4.PAE, EFER.LME|LMA; 0
	 * otherwise. */
	sr.cr3 = bs->cr3;
	sr.cr4 = bs->cr4;
	sr.efer = bs->efer;
	if (ioctl(fd, KVM_SET_SREGS, &sr) < 0 || ioctl(fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

int vh_hosted_kvm_set_sipi_state(int fd, const struct vh_vcpu_sipi *sipi)
{
	struct kvm_sregs sr;
	struct kvm_regs r = { .rflags = 2, .rdx = 0x600 };
	struct kvm_segment data = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
	int rc = reset_common(fd, &sr, false);

	if (rc)
		return rc;
	/* Real mode at vector:0000, as a SIPI starts an AP. */
	sr.cs = (struct kvm_segment){ .selector = sipi->cs_selector,
				      .base = sipi->cs_base,
				      .limit = 0xffff,
				      .type = 0xb,
				      .present = 1,
				      .s = 1 };
	sr.ds = sr.es = sr.fs = sr.gs = sr.ss = data;
	sr.gdt.limit = 0xffff;
	sr.cr0 = 0x10;
	if (ioctl(fd, KVM_SET_SREGS, &sr) < 0 || ioctl(fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}
