/* SPDX-License-Identifier: Apache-2.0 */
/* The test guests' runtime: Multiboot entry, COM1 output, the command
 * line, CPUID detection of vh, hypercalls in both forms, fw_cfg,
 * isa-debug-exit, exception reporting.  Freestanding 32-bit code that
 * runs the same under `qemu-system-x86_64 -kernel` and under vh. */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VH_HC_GUEST_ONLY
#include "vh/hypercall.h"

#define GUEST_NORETURN __attribute__((noreturn))
#define PAGE_SIZE 4096u

/* Exit values every guest uses (QEMU exits 2v+1; vh keeps the same code). */
#define GUEST_PASS 0u /* QEMU exit status 1 */
#define GUEST_FAIL 1u /* QEMU exit status 3 */

/* Each guest provides this; it returns the value for isa-debug-exit. */
unsigned guest_main(void);
extern const char guest_name[];

/* ---- port I/O and CPU ---------------------------------------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);

/* ---- console (COM1) -------------------------------------------------------- */

void console_init(void);
void putchar_com1(char c);
void guest_printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
void guest_vprintf(const char *fmt, va_list ap);
/* Waits until the UART has sent everything (LSR.TEMT): before a step that
 * may end the machine, so its announcement is not lost. */
void console_flush(void);
#define printf guest_printf

/* ---- command line: "image key=value key=value ..." ------------------------ */

/* The value of key (NULL when absent); copied at start, so the guest may
 * overwrite the loader's copy. */
const char *arg(const char *key);
uint32_t arg_u32(const char *key, uint32_t dflt);
/* A size with an optional K, M or G suffix. */
uint64_t arg_size(const char *key, uint64_t dflt);

/* ---- memory ------------------------------------------------------------------ */

/* Guest RAM from the Multiboot info: bytes above 1 MiB end at mem_end. */
extern uint64_t mem_end;
/* The first page-aligned address above the image, the Multiboot info,
 * the command line and the modules: free for the guest to use. */
extern uint32_t free_start;
/* Entry i of the Multiboot memory map (e820 types: 1 RAM, 2 reserved);
 * false past the last one or when the loader gave no map. */
bool multiboot_mmap(uint32_t i, uint64_t *addr, uint64_t *len, uint32_t *type);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* ---- vh ---------------------------------------------------------------------- */

/* Set at start from CPUID: vh's signature found, its features. */
extern bool vh_present;
extern uint32_t vh_features;
extern char hv_signature[13]; /* whatever leaf 0x40000000 said */

/* A hypercall by the port form when vh offers it, else VMCALL. */
long hypercall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4);
long hypercall_port(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4);
long hypercall_vmcall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4);

/* ---- QEMU devices ------------------------------------------------------------- */

GUEST_NORETURN void guest_exit(unsigned value);
bool fw_cfg_present(void);
void fw_cfg_read(uint16_t key, void *buf, uint32_t n);

/* ---- exceptions -------------------------------------------------------------- */

struct guest_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
	uint32_t vector, error;
	uint32_t eip, cs, eflags;
};

/* A guest's handler for exceptions it provokes on purpose: returns true
 * when it handled the exception (it may advance frame->eip); otherwise the
 * runtime reports it and fails the guest. */
extern bool (*trap_hook)(struct guest_frame *f);
/* Loads an IDT with limit 0 so the next exception triple-faults. */
void idt_clear(void);

/* ---- SMP --------------------------------------------------------------------- */

/* The console lock, for guests whose APs print. */
void console_lock(void);
void console_unlock(void);

#endif
