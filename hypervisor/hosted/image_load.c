/* SPDX-License-Identifier: Apache-2.0 */
/* Loading a VM's kernel and modules without stalling the host.  A large
 * image (hundreds of MiB) takes a long time to read and to copy into
 * guest memory; done under the host lock it would stop every VM's exits,
 * the scheduler and every control request for as long.  So:
 *
 *   - the files are read and the load is planned (vh_loader_prepare)
 *     without the host lock: that needs only names copied from the VM's
 *     config and the size of its memory;
 *   - the copy into guest memory goes through the core (the memory
 *     manager owns every frame) and takes the host lock, but in batches
 *     of at most VH_HOSTED_LOAD_HOLD_NS, with the lock dropped between
 *     them (and handed to any thread waiting for it);
 *   - the load runs on the worker that picked one of the VM's vCPUs, as
 *     that vCPU's time: it stops at the end of the quantum or at a kick
 *     and goes on at the vCPU's next pick (the job stays in hvm->load).
 *
 * Every batch first checks, under the lock, that the load is still
 * wanted: the VM not undefined (hvm->gone), still running, and still in
 * the boot generation the load began for.  Otherwise the job is dropped
 * (buffers freed, nothing written for a stale generation) and nothing
 * runs: the VM's vCPUs wait (VH_HOSTED_PREPARE_WAIT) until the load of
 * the current generation finished, so a half-loaded VM never runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/acpi.h"
#include "vh/error.h"
#include "vh/vm.h"

struct vh_hosted_load {
	uint32_t generation;
	bool busy;     /* a worker works on it, mostly unlocked (host lock) */
	bool prepared; /* files read, job planned (only the busy worker) */
	uint64_t mem_bytes;
	struct vh_boot_config boot; /* the names, copied under the lock */
	char cmdline[VH_BOOT_PATH_MAX + VH_BOOT_CMDLINE_MAX + 2];
	void *bufs[VH_BOOT_MAX_MODULES + 1];
	void *initrd;
	struct vh_loader_module mods[VH_BOOT_MAX_MODULES];
	struct vh_loader_job job;
	uint8_t acpi[VH_ACPI_MAX_BYTES]; /* the VM's ACPI tables, built under the lock */
	size_t acpi_len;
};

/* A batch writes this much at a time, then checks the clock. */
#define LOAD_STEP_BYTES (64u * 1024u)

static struct vh_hosted_load *load_new(struct vh_hosted_vm *hvm)
{
	struct vh_hosted_load *l = calloc(1, sizeof(*l));
	const struct vh_vm *vm = hvm->vm;
	struct vh_error err = { 0 };

	if (!l)
		return NULL;
	l->generation = vm->boot_generation;
	l->mem_bytes = vm->mem.pages * VH_PAGE_SIZE;
	l->boot = vm->cfg.boot;
	if (l->boot.nmodules > VH_BOOT_MAX_MODULES)
		l->boot.nmodules = VH_BOOT_MAX_MODULES;
	/* From the VM's config, which the unlocked prepare() may not read. */
	if (vh_loader_acpi(vm, l->acpi, sizeof(l->acpi), &l->acpi_len, &err)) {
		vh_host_log(&hvm->d->host, "VM \"%s\": no ACPI tables: %s", vm->cfg.name,
			    err.reason);
		free(l);
		return NULL;
	}
	return l;
}

void vh_hosted_load_free(struct vh_hosted_load *l)
{
	if (!l)
		return;
	for (size_t i = 0; i <= VH_BOOT_MAX_MODULES; i++)
		free(l->bufs[i]);
	free(l->initrd);
	free(l);
}

/* Host lock held.  Is the load still the one the VM waits for?  Paused
 * counts: the load goes on when the VM runs again. */
static bool wanted(const struct vh_hosted_vm *hvm, const struct vh_hosted_load *l)
{
	return !hvm->gone && (hvm->vm->state == VH_VM_RUNNING || hvm->vm->state == VH_VM_PAUSED) &&
	       hvm->vm->boot_generation == l->generation;
}

/* Host lock held.  The job is finished, failed or stale: gone with its
 * buffers. */
static void drop(struct vh_hosted_vm *hvm, struct vh_hosted_load *l)
{
	if (hvm->load == l)
		hvm->load = NULL;
	vh_hosted_load_free(l);
}

enum vh_hosted_prepare vh_hosted_load_begin(struct vh_hosted_vm *hvm)
{
	struct vh_vm *vm = hvm->vm;
	struct vh_hosted_load *l = hvm->load;

	/* A load for an earlier generation that no worker holds: stale. */
	if (l && l->generation != vm->boot_generation && !l->busy) {
		drop(hvm, l);
		l = NULL;
	}
	/* Another worker loads (or will notice its load is stale): wait. */
	if (l && (l->busy || l->generation != vm->boot_generation))
		return VH_HOSTED_PREPARE_WAIT;
	if (!l) {
		if (!(l = load_new(hvm))) {
			vh_vm_crash(&hvm->d->host, vm, "out of memory for its image load");
			return VH_HOSTED_PREPARE_FAILED;
		}
		hvm->load = l;
	}
	l->busy = true;
	return VH_HOSTED_PREPARE_LOAD;
}

/* The loader's arguments for a VM's boot config, the images' bytes
 * already in a (kernel), initrd and mods.  The kind comes from the
 * kernel's contents unless the config says raw (a raw binary has no
 * header to read).  A Multiboot kernel gets its command line as GRUB and
 * QEMU pass it, the image name first; Linux only the arguments. */
static void loader_args(const struct vh_boot_config *b, struct vh_loader_args *a, char *cmdline,
			size_t cap)
{
	if (b->kind == VH_BOOT_KIND_RAW16) {
		a->kind = VH_IMAGE_RAW_REAL;
		a->load_addr = 0x7c00;
	} else if (b->kind == VH_BOOT_KIND_RAW32) {
		a->kind = VH_IMAGE_RAW_PROT32;
		a->load_addr = 0x100000;
	} else {
		a->kind = VH_IMAGE_AUTO;
	}
	if (a->kind == VH_IMAGE_AUTO && vh_loader_detect(a->image, a->len) != VH_IMAGE_MULTIBOOT)
		snprintf(cmdline, cap, "%s", b->cmdline);
	else
		snprintf(cmdline, cap, "%s%s%s", b->kernel, b->cmdline[0] ? " " : "", b->cmdline);
	a->cmdline = cmdline;
}

/* No host lock: reads the files and plans the load.  0, or -1 with why. */
static int prepare(const struct vh_hosted *d, struct vh_hosted_load *l, char *why, size_t whylen)
{
	const struct vh_boot_config *b = &l->boot;
	struct vh_loader_args a = { 0 };
	struct vh_error err = { 0 };

	if (vh_hosted_image_read(d->opt.images_dir, b->kernel, l->mem_bytes, &l->bufs[0], &a.len,
				 why, whylen))
		return -1;
	a.image = l->bufs[0];
	if (b->initrd[0] && vh_hosted_image_read(d->opt.images_dir, b->initrd, l->mem_bytes,
						 &l->initrd, &a.initrd_len, why, whylen))
		return -1;
	a.initrd = l->initrd;
	for (uint32_t i = 0; i < b->nmodules; i++) {
		if (vh_hosted_image_read(d->opt.images_dir, b->modules[i].image, l->mem_bytes,
					 &l->bufs[i + 1], &l->mods[i].len, why, whylen))
			return -1;
		l->mods[i].bytes = l->bufs[i + 1];
		l->mods[i].args = b->modules[i].args;
	}
	a.modules = l->mods;
	a.nmodules = b->nmodules;
	loader_args(b, &a, l->cmdline, sizeof(l->cmdline));
	a.acpi = l->acpi;
	a.acpi_len = l->acpi_len;
	a.rsdp = l->acpi_len ? VH_ACPI_RSDP_GPA : 0;
	if (vh_loader_prepare(l->mem_bytes, &a, &l->job, &err)) {
		snprintf(why, whylen, "loading \"%s\": %s", b->kernel, err.reason);
		return -1;
	}
	return 0;
}

/* ---- the check before power-on ------------------------------------------------- */

struct mapping {
	void *p;
	size_t len;
};

/* Maps image name read-only: the check reads only the headers it needs,
 * so even a large image costs no copy under the host lock. */
static int map_image(const char *dir, const char *name, uint64_t max, const char *field,
		     struct mapping *m, struct vh_error *err)
{
	char path[4096];
	struct stat st;
	int fd;

	m->p = NULL;
	m->len = 0;
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return vh_error_set(err, VH_E_INVAL, "%s: \"%s\" is not a plain file name", field,
				    name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return vh_error_set(err, VH_E_INVAL, "%s: no image \"%s\": %s", field, name,
				    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return vh_error_set(err, VH_E_INVAL, "%s: image \"%s\" is not a non-empty file",
				    field, name);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return vh_error_set(err, VH_E_INVAL,
				    "%s: image \"%s\" (%lld bytes) is larger than the VM's memory",
				    field, name, (long long)st.st_size);
	}
	m->p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->p == MAP_FAILED) {
		m->p = NULL;
		return vh_error_set(err, VH_E_INTERNAL, "%s: image \"%s\": mmap: %s", field, name,
				    strerror(errno));
	}
	m->len = (size_t)st.st_size;
	return VH_OK;
}

/* The loader's reason, under the boot field it is about. */
static int refuse(const struct vh_boot_config *b, const char *reason, struct vh_error *err)
{
	static const struct {
		const char *prefix, *field;
	} map[] = { { "initrd: ", "boot.initrd" },
		    { "cmdline: ", "boot.cmdline" },
		    { "modules", "boot.modules" } };
	const char *image = "image: ";

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		size_t n = strlen(map[i].prefix);
		if (!strncmp(reason, map[i].prefix, n))
			return vh_error_set(err, VH_E_INVAL, "%s: %s", map[i].field,
					    map[i].prefix[n - 1] == ' ' ? reason + n : reason);
	}
	if (!strncmp(reason, image, strlen(image)))
		reason += strlen(image);
	return vh_error_set(err, VH_E_INVAL, "boot.kernel: \"%s\": %s", b->kernel, reason);
}

int vh_hosted_boot_check(const char *dir, const struct vh_vm *vm, struct vh_error *err)
{
	const struct vh_boot_config *b = &vm->cfg.boot;
	uint64_t mem = vm->cfg.memory_mib * VH_MIB;
	struct mapping m[VH_BOOT_MAX_MODULES + 2] = { 0 };
	struct vh_loader_module mods[VH_BOOT_MAX_MODULES];
	struct vh_loader_args a = { 0 };
	char cmdline[VH_BOOT_PATH_MAX + VH_BOOT_CMDLINE_MAX + 2];
	struct vh_loader_job *job = NULL;
	struct vh_error lerr = { 0 };
	uint32_t nmod = b->nmodules < VH_BOOT_MAX_MODULES ? b->nmodules : VH_BOOT_MAX_MODULES;
	int rc;

	/* A VM without a kernel crashes at its first run, as before. */
	if (!b->kernel[0])
		return VH_OK;
	if ((rc = map_image(dir, b->kernel, mem, "boot.kernel", &m[0], err)) ||
	    (b->initrd[0] && (rc = map_image(dir, b->initrd, mem, "boot.initrd", &m[1], err))))
		goto out;
	for (uint32_t i = 0; i < nmod; i++) {
		if ((rc = map_image(dir, b->modules[i].image, mem, "boot.modules[].image",
				    &m[i + 2], err)))
			goto out;
		mods[i] = (struct vh_loader_module){ m[i + 2].p, m[i + 2].len, b->modules[i].args };
	}
	a.image = m[0].p;
	a.len = m[0].len;
	a.initrd = m[1].p;
	a.initrd_len = m[1].len;
	a.modules = mods;
	a.nmodules = nmod;
	loader_args(b, &a, cmdline, sizeof(cmdline));
	if (!(job = malloc(sizeof(*job)))) {
		rc = vh_error_set(err, VH_E_NOMEM, "boot.kernel: out of memory for the check");
		goto out;
	}
	if (vh_loader_prepare(mem, &a, job, &lerr))
		rc = refuse(b, lerr.reason, err);
out:
	free(job);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i].p)
			munmap(m[i].p, m[i].len);
	return rc;
}

/* Lets a thread that waits for the host lock have it before the next
 * batch: an unlocked mutex is otherwise taken again at once by the thread
 * that just released it, while the woken waiter is still being scheduled.
 * Bounded, so that constant lock traffic only slows the load. */
static void let_waiters_in(struct vh_hosted *d)
{
	const struct timespec pause = { 0, 20000 };

	for (int i = 0; i < 50 && atomic_load(&d->lock_waiters); i++)
		nanosleep(&pause, NULL);
}

enum vh_hosted_next vh_hosted_load_run(struct vh_hosted_worker *w, struct vh_hosted_vm *hvm,
				       struct vh_hosted_load *l, uint64_t until)
{
	struct vh_hosted *d = hvm->d;
	char why[320];

	if (!l->prepared) {
		int rc = prepare(d, l, why, sizeof(why));
		vh_hosted_lock(d);
		if (rc || !wanted(hvm, l)) {
			if (rc && wanted(hvm, l))
				vh_vm_crash(&d->host, hvm->vm, why);
			drop(hvm, l);
			vh_hosted_unlock(d);
			return VH_HOSTED_PREEMPT;
		}
		l->prepared = true;
		vh_hosted_unlock(d);
	}
	for (;;) {
		struct vh_error err = { 0 };
		uint64_t t0;
		int rc = VH_OK;

		vh_hosted_lock(d);
		if (!wanted(hvm, l)) {
			drop(hvm, l);
			vh_hosted_unlock(d);
			return VH_HOSTED_PREEMPT;
		}
		if (hvm->vm->state != VH_VM_RUNNING)
			goto pause;
		t0 = vh_hosted_now();
		do {
			rc = vh_loader_write(&d->host, hvm->vm, &l->job, LOAD_STEP_BYTES, &err);
		} while (!rc && !vh_loader_done(&l->job) &&
			 vh_hosted_now() - t0 < VH_HOSTED_LOAD_HOLD_NS);
		if (rc) {
			snprintf(why, sizeof(why), "loading \"%s\": %s", l->boot.kernel,
				 err.reason);
			vh_vm_crash(&d->host, hvm->vm, why);
			drop(hvm, l);
			vh_hosted_unlock(d);
			return VH_HOSTED_PREEMPT;
		}
		if (vh_loader_done(&l->job)) {
			hvm->boot = l->job.boot;
			hvm->loaded_generation = l->generation;
			drop(hvm, l);
			vh_hosted_unlock(d);
			return VH_HOSTED_PREEMPT;
		}
		if (atomic_load(&w->kicked) || atomic_load(&d->stopping) ||
		    vh_hosted_now() >= until)
			goto pause;
		vh_hosted_unlock(d);
		let_waiters_in(d);
	}
pause:
	/* Host lock held: the quantum is over, or the VM paused; the job
	 * waits for the vCPU's next pick. */
	l->busy = false;
	vh_hosted_unlock(d);
	return VH_HOSTED_PREEMPT;
}
