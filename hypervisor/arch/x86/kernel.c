/* vh_kernel_main: the bare-metal kernel's C entry, reached from boot.S in
 * long mode.  For now it brings up the console and the exception handlers,
 * reports what it booted on, and stops; later work starts VMX here. */
#include <stdbool.h>
#include <stdint.h>

#include "console.h"
#include "cpu.h"
#include "machine.h"
#include "multiboot.h"
#include "serial.h"
#include "trap.h"
#include "vh/string.h"
#include "vh/version.h"

void vh_kernel_main(uint32_t magic, uint32_t info_addr);

#define CPUID1_ECX_VMX (1u << 5)

static const char *multiboot_cmdline(const struct multiboot_info *mbi)
{
	if (mbi && (mbi->flags & MULTIBOOT_INFO_CMDLINE) && mbi->cmdline)
		return (const char *)(uintptr_t)mbi->cmdline;
	return "";
}

/* True when the space-separated command line holds exactly this word. */
static bool cmdline_has(const char *cmdline, const char *word)
{
	size_t n = vh_strlen(word);

	for (const char *p = cmdline; *p;) {
		while (*p == ' ')
			p++;
		const char *start = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - start) == n && vh_strncmp(start, word, n) == 0)
			return true;
	}
	return false;
}

static void report_cpu(void)
{
	uint32_t a, b, c, d;
	char vendor[13];

	cpuid(0, 0, &a, &b, &c, &d);
	vh_memcpy(vendor, &b, 4);
	vh_memcpy(vendor + 4, &d, 4);
	vh_memcpy(vendor + 8, &c, 4);
	vendor[12] = '\0';
	cpuid(1, 0, &a, &b, &c, &d);
	vh_console_printf("vh: cpu %s family %u model %u, vmx %s\n", vendor,
			  ((a >> 8) & 0xf) + ((a >> 20) & 0xff), ((a >> 4) & 0xf) | ((a >> 12) & 0xf0),
			  (c & CPUID1_ECX_VMX) ? "yes" : "no");
}

static void report_memory(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MULTIBOOT_INFO_MEMORY)) {
		vh_console_printf("vh: boot loader gave no memory size\n");
		return;
	}
	vh_console_printf("vh: memory %u KiB low, %u KiB high\n", mbi->mem_lower, mbi->mem_upper);
}

void vh_kernel_main(uint32_t magic, uint32_t info_addr)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)info_addr;

	vh_serial_init();
	vh_trap_init();
	vh_console_printf("\nvh %s (x86_64): long mode, 4 GiB identity-mapped\n", vh_version());

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		vh_console_printf("vh: not started by a Multiboot 1 loader (eax=%#x)\n", magic);
		vh_machine_stop(1);
	}
	if (mbi->flags & MULTIBOOT_INFO_BOOT_LOADER_NAME)
		vh_console_printf("vh: loaded by %s\n", (const char *)(uintptr_t)mbi->boot_loader_name);
	const char *cmdline = multiboot_cmdline(mbi);
	vh_console_printf("vh: command line \"%s\"\n", cmdline);
	report_memory(mbi);
	report_cpu();

	/* Self-tests of the failure path, used by make check to prove that
	 * a fault is reported and fails the run. */
	if (cmdline_has(cmdline, "selftest=ud2"))
		__asm__ volatile("ud2");
	if (cmdline_has(cmdline, "selftest=fail"))
		vh_machine_stop(3);

	vh_console_printf("vh: boot complete\n");
	vh_machine_stop(0);
}
