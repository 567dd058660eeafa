/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the guest loaders (hypervisor/loader/): ELF32,
 * ELF64 and a.out-kludge Multiboot images, Linux bzImages and PVH ELFs
 * (with an initrd) and raw binaries, through
 * vh_loader_load, the entry both backends call after powering a VM on,
 * into a VM of a given size on the simulated platform.
 *
 * The input is:
 *
 *     byte 0      VM size: 1 + (byte & 7) MiB; bits 3-4 and 6: the image
 *                 kind (auto, Multiboot, raw real mode, raw 32-bit,
 *                 bzImage, PVH, auto, auto); bit 7: the image's second
 *                 half is also an initrd (and an RSDP address is given)
 *     byte 1      modules: byte & 3 of them (bytes 2-7 below split the
 *                 image into them); bits 2-7: raw load address in 64 KiB
 *     bytes 2..7  module lengths and string lengths (one byte each)
 *     bytes 8..   the image; the command line is its first 64 bytes as
 *                 a C string
 *
 * Beyond the sanitizers it checks: a refusal has a reason, a zeroed boot
 * state and touched no guest memory (every check precedes the first
 * write); an accepted load describes a boot vCPU inside the VM: the image
 * range and the information block in guest memory, the entry inside the
 * image (Multiboot) and below 4 GiB, the Multiboot registers, Linux's
 * zero page or hvm_start_info in RSI or EBX; and at the end nothing
 * leaks. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_platform.h"
#include "vh/host.h"
#include "vh/loader.h"
#include "vh/mem.h"
#include "vh/vm.h"

#define FUZZ_NAME "fuzz_loader"
#include "fuzz.h"

#define MIB        (1024ull * 1024ull)
#define SIM_MEMORY (12 * MIB)

/* One platform for every input (allocating and poisoning the arena per
 * input would cost more than the load); its bookkeeping is reset and the
 * frames the load wrote are zeroed again afterwards. */
static struct vh_sim_platform sim;
static int sim_ready;

static void sim_reuse(void)
{
	if (!sim_ready) {
		if (!vh_sim_platform_init(&sim, SIM_MEMORY, 1, 7))
			die("out of memory");
		sim_ready = 1;
		return;
	}
	for (size_t i = 0; i < sim.nmaps; i++)
		free(sim.maps[i].entries);
	sim.nmaps = 0;
	sim.now_ns = 0;
	sim.rng_state = 7;
	sim.alloc_bytes = sim.alloc_peak = sim.alloc_fail_after = 0;
	sim.map_calls = 0;
	sim.lock_depth = 0;
	sim.log_lines = 0;
	memset(sim.arena, 0, sim.nframes * VH_PAGE_SIZE);
}

static bool inside(uint64_t start, uint64_t end, uint64_t bytes)
{
	return start <= end && end <= bytes;
}

static void check_loaded(const struct vh_loader_args *a, const struct vh_boot_state *bs,
			 uint64_t bytes)
{
	enum vh_image_kind kind =
	    a->kind == VH_IMAGE_AUTO ? vh_loader_detect(a->image, a->len) : a->kind;

	if (bs->mode != VH_BOOT_PROT32 && bs->mode != VH_BOOT_REAL &&
	    !(bs->mode == VH_BOOT_LONG64 && kind == VH_IMAGE_BZIMAGE))
		die("accepted with boot mode %d", (int)bs->mode);
	if (a->initrd && kind != VH_IMAGE_BZIMAGE && kind != VH_IMAGE_PVH)
		die("an initrd accepted for image kind %d", (int)kind);
	if (!inside(bs->image_start, bs->image_end, bytes) || bs->image_start == bs->image_end)
		die("image [%#llx, %#llx) outside the VM's %#llx bytes",
		    (unsigned long long)bs->image_start, (unsigned long long)bs->image_end,
		    (unsigned long long)bytes);
	if (bs->rip > UINT32_MAX)
		die("entry %#llx above 4 GiB", (unsigned long long)bs->rip);
	if (a->kind == VH_IMAGE_RAW_REAL || a->kind == VH_IMAGE_RAW_PROT32) {
		if (bs->info_addr || bs->image_start != a->load_addr ||
		    bs->image_end != a->load_addr + a->len)
			die("raw image placed at %#llx, not %#llx",
			    (unsigned long long)bs->image_start, (unsigned long long)a->load_addr);
		if (bs->mode == VH_BOOT_REAL && bs->cs.base + bs->rip != a->load_addr)
			die("real-mode entry %#llx:%#llx is not the load address",
			    (unsigned long long)bs->cs.base, (unsigned long long)bs->rip);
		return;
	}
	if (kind == VH_IMAGE_BZIMAGE || kind == VH_IMAGE_PVH) {
		uint64_t info = kind == VH_IMAGE_BZIMAGE ? bs->rsi : bs->rbx;
		if (info != bs->info_addr || !inside(info, info + 4096, bytes) ||
		    !inside(bs->gdt_base, bs->gdt_base + bs->gdt_limit + 1u, bytes))
			die("Linux boot data %#llx or GDT %#llx outside guest memory",
			    (unsigned long long)info, (unsigned long long)bs->gdt_base);
		if (kind == VH_IMAGE_BZIMAGE && (bs->rip != bs->image_start + 0x200 ||
						 !inside(bs->cr3, bs->cr3 + 2 * 4096, bytes)))
			die("bzImage entry %#llx or page tables %#llx wrong",
			    (unsigned long long)bs->rip, (unsigned long long)bs->cr3);
		if (kind == VH_IMAGE_PVH && (bs->rip < bs->image_start || bs->rip >= bs->image_end))
			die("PVH entry %#llx outside the image", (unsigned long long)bs->rip);
		return;
	}
	if (bs->mode != VH_BOOT_PROT32 || bs->rax != VH_MULTIBOOT_BOOT_MAGIC ||
	    bs->rbx != bs->info_addr)
		die("Multiboot entry state wrong (mode %d, eax %#llx, ebx %#llx)", (int)bs->mode,
		    (unsigned long long)bs->rax, (unsigned long long)bs->rbx);
	if (bs->rip < bs->image_start || bs->rip >= bs->image_end)
		die("entry %#llx outside the image [%#llx, %#llx)", (unsigned long long)bs->rip,
		    (unsigned long long)bs->image_start, (unsigned long long)bs->image_end);
	if (!inside(bs->info_addr, bs->info_addr + 88, bytes) ||
	    !inside(bs->gdt_base, bs->gdt_base + bs->gdt_limit + 1u, bytes))
		die("information block %#llx or GDT %#llx outside guest memory",
		    (unsigned long long)bs->info_addr, (unsigned long long)bs->gdt_base);
}

static void check_refused(const struct vh_boot_state *bs, const struct vh_error *err,
			  const struct vh_mem_stats *before, const struct vh_mem_stats *after)
{
	static const struct vh_boot_state zero;

	if (!err->reason[0])
		die("refused without a reason");
	if (memcmp(bs, &zero, sizeof(zero)))
		die("refused (%s) but the boot state is not zeroed", err->reason);
	if (after->granted != before->granted)
		die("refused (%s) after writing guest memory (%llu pages before, %llu after)",
		    err->reason, (unsigned long long)before->granted,
		    (unsigned long long)after->granted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum vh_image_kind kinds[8] = {
		VH_IMAGE_AUTO,	  VH_IMAGE_MULTIBOOT, VH_IMAGE_RAW_REAL, VH_IMAGE_RAW_PROT32,
		VH_IMAGE_BZIMAGE, VH_IMAGE_PVH,	      VH_IMAGE_AUTO,	 VH_IMAGE_AUTO,
	};
	struct vh_host_config hc = {
		.pcpus = 1, .mhz_per_pcpu = 1000, .memory_bytes = SIM_MEMORY, .max_vms = 2
	};
	struct vh_loader_module mods[3];
	char margs[3][64];
	char cmdline[65];
	struct vh_vm_config c;
	struct vh_boot_state bs;
	struct vh_mem_stats before, after;
	struct vh_error err;
	struct vh_host h;
	struct vh_vm *vm;
	const uint8_t *image;
	size_t len, off = 0;
	uint32_t nmods;
	int rc;

	if (size < 8)
		return 0;
	image = data + 8;
	len = size - 8;
	nmods = data[1] & 3;
	for (uint32_t i = 0; i < nmods; i++) {
		size_t n = (size_t)data[2 + 2 * i] * 64;
		size_t sl = data[3 + 2 * i] % sizeof(margs[i]);
		if (n > len - off)
			n = len - off;
		mods[i].bytes = image + off;
		mods[i].len = n;
		memset(margs[i], 'm', sl);
		margs[i][sl] = '\0';
		mods[i].args = (i & 1) ? margs[i] : NULL;
		off += n;
	}
	memset(cmdline, 0, sizeof(cmdline));
	memcpy(cmdline, image, len < sizeof(cmdline) - 1 ? len : sizeof(cmdline) - 1);

	sim_reuse();
	memset(&err, 0, sizeof(err));
	if (vh_host_init(&h, &hc, &sim.plat, &err))
		die("vh_host_init: %s", err.reason);
	vh_vm_config_default(&c);
	snprintf(c.name, sizeof(c.name), "guest");
	c.memory_mib = 1 + (data[0] & 7);
	sim.plat.lock(&sim);
	vm = vh_vm_define(&h, &c, &err);
	if (!vm || vh_vm_start(&h, vm, &err))
		die("power on: %s", err.reason);
	sim.plat.unlock(&sim);

	struct vh_loader_args a = {
		.kind = kinds[((data[0] >> 3) & 3) | ((data[0] >> 4) & 4)],
		.image = image,
		.len = len,
		.cmdline = (data[0] & 0x20) ? NULL : cmdline,
		.modules = nmods ? mods : NULL,
		.nmodules = nmods,
		.load_addr = (uint64_t)(data[1] >> 2) << 16,
		.initrd = (data[0] & 0x80) ? image + len / 2 : NULL,
		.initrd_len = (data[0] & 0x80) ? len - len / 2 : 0,
		.rsdp = (data[0] & 0x80) ? 0xf0000000u : 0,
	};
	vh_mem_vm_stats(&h, vm, &before);
	memset(&bs, 0xa5, sizeof(bs));
	rc = vh_loader_load(&h, vm, &a, &bs, &err);
	vh_mem_vm_stats(&h, vm, &after);
	if (rc == VH_OK)
		check_loaded(&a, &bs, c.memory_mib * MIB);
	else
		check_refused(&bs, &err, &before, &after);
	if (sim.lock_depth)
		die("the host lock is held after the load");
	vh_host_fini(&h);
	if (sim.alloc_bytes)
		die("%llu bytes of metadata leaked", (unsigned long long)sim.alloc_bytes);
	return 0;
}
