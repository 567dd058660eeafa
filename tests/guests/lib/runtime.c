/* SPDX-License-Identifier: Apache-2.0 */
/* The test guests' runtime (see runtime.h).  Globals are fine here: a
 * guest is a whole little program, not hypervisor code. */
#include "runtime.h"

#define COM1 0x3f8
#define DEBUG_EXIT 0xf4
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511

uint64_t mem_end;
uint32_t free_start;
bool vh_present;
uint32_t vh_features;
char hv_signature[13];
bool (*trap_hook)(struct guest_frame *f);

extern char _end[];
extern const uint32_t trap_stubs[20];

static char cmdline[1024];
static volatile uint32_t console_lock_word;

/* ---- libc pieces the compiler may call ----------------------------------- */

void *memset(void *d, int c, size_t n)
{
	uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;
	for (; n; n--, p++, q++) {
		if (*p != *q)
			return *p - *q;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (uint8_t)*a - (uint8_t)*b;
	}
	return 0;
}

/* ---- console ---------------------------------------------------------------- */

void console_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void putchar_com1(char c)
{
	if (c == '\n')
		putchar_com1('\r');
	while (!(inb(COM1 + 5) & 0x20))
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

void console_flush(void)
{
	while (!(inb(COM1 + 5) & 0x40))
		cpu_relax();
}

void console_lock(void)
{
	while (__atomic_exchange_n(&console_lock_word, 1, __ATOMIC_ACQUIRE))
		cpu_relax();
}

void console_unlock(void)
{
	__atomic_store_n(&console_lock_word, 0, __ATOMIC_RELEASE);
}

/* 64-bit division by a small number without libgcc. */
static uint64_t divmod64(uint64_t n, uint32_t d, uint32_t *rem)
{
	uint64_t q = 0, r = 0;
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	*rem = (uint32_t)r;
	return q;
}

static void put_num(uint64_t v, uint32_t base, int width, char pad, bool neg)
{
	char buf[24];
	int n = 0;
	uint32_t r;

	do {
		v = divmod64(v, base, &r);
		buf[n++] = "0123456789abcdef"[r];
	} while (v);
	if (neg)
		buf[n++] = '-';
	while (n < width)
		buf[n++] = pad;
	while (n)
		putchar_com1(buf[--n]);
}

void guest_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int width = 0, longs = 0;
		char pad = ' ';
		uint64_t v;

		if (*fmt != '%') {
			putchar_com1(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				putchar_com1(*s);
			break;
		}
		case 'c':
			putchar_com1((char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t x = longs >= 2 ? va_arg(ap, int64_t) : va_arg(ap, int32_t);
			put_num(x < 0 ? (uint64_t)-x : (uint64_t)x, 10, width, pad, x < 0);
			break;
		}
		case 'u':
		case 'x':
			v = longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t);
			put_num(v, *fmt == 'u' ? 10 : 16, width, pad, false);
			break;
		case '%':
			putchar_com1('%');
			break;
		default:
			putchar_com1('?');
			break;
		}
	}
}

void guest_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_vprintf(fmt, ap);
	va_end(ap);
}

/* ---- command line --------------------------------------------------------- */

const char *arg(const char *key)
{
	size_t k = strlen(key);
	const char *p = cmdline;

	/* Skip the image name: loaders put it first. */
	while (*p && *p != ' ')
		p++;
	while (*p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, k) && p[k] == '=')
			return p + k + 1;
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

static uint64_t parse_num(const char *s, const char **end)
{
	uint64_t v = 0;
	uint32_t base = 10;

	if (s[0] == '0' && s[1] == 'x')
		base = 16, s += 2;
	for (;; s++) {
		uint32_t d;
		if (*s >= '0' && *s <= '9')
			d = (uint32_t)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (uint32_t)(*s - 'a' + 10);
		else
			break;
		v = v * base + d;
	}
	*end = s;
	return v;
}

uint32_t arg_u32(const char *key, uint32_t dflt)
{
	const char *s = arg(key), *e;
	return s ? (uint32_t)parse_num(s, &e) : dflt;
}

uint64_t arg_size(const char *key, uint64_t dflt)
{
	const char *s = arg(key), *e;
	uint64_t v;

	if (!s)
		return dflt;
	v = parse_num(s, &e);
	switch (*e) {
	case 'K': case 'k': return v << 10;
	case 'M': case 'm': return v << 20;
	case 'G': case 'g': return v << 30;
	default: return v;
	}
}

/* ---- CPU ---------------------------------------------------------------------- */

void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static void detect_vh(void)
{
	uint32_t r[4];

	cpuid(VH_CPUID_BASE, 0, r);
	memcpy(hv_signature, &r[1], 4);
	memcpy(hv_signature + 4, &r[2], 4);
	memcpy(hv_signature + 8, &r[3], 4);
	for (int i = 0; i < 12; i++) {
		if (hv_signature[i] < 0x20 || hv_signature[i] > 0x7e)
			hv_signature[i] = '.';
	}
	if (r[1] != VH_CPUID_SIG_EBX || r[2] != VH_CPUID_SIG_ECX || r[3] != VH_CPUID_SIG_EDX ||
	    r[0] < VH_CPUID_FEATURES)
		return;
	cpuid(VH_CPUID_FEATURES, 0, r);
	vh_present = true;
	vh_features = r[1];
}

long hypercall_port(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4)
{
	uint32_t ret = nr;
	__asm__ volatile("outl %%eax, %1"
			 : "+a"(ret)
			 : "i"(VH_HC_PORT), "b"(a1), "c"(a2), "d"(a3), "S"(a4)
			 : "memory");
	return (int32_t)ret;
}

long hypercall_vmcall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4)
{
	uint32_t ret = nr;
	__asm__ volatile("vmcall" : "+a"(ret) : "b"(a1), "c"(a2), "d"(a3), "S"(a4) : "memory");
	return (int32_t)ret;
}

long hypercall(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4)
{
	if (vh_features & VH_HC_FEAT_PORT)
		return hypercall_port(nr, a1, a2, a3, a4);
	return hypercall_vmcall(nr, a1, a2, a3, a4);
}

/* ---- QEMU devices ---------------------------------------------------------------- */

GUEST_NORETURN void guest_exit(unsigned value)
{
	console_flush();
	outl(DEBUG_EXIT, value);
	/* No isa-debug-exit: stop here. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

void fw_cfg_read(uint16_t key, void *buf, uint32_t n)
{
	uint8_t *p = buf;

	outw(FW_CFG_SEL, key);
	while (n--)
		*p++ = inb(FW_CFG_DATA);
}

bool fw_cfg_present(void)
{
	char sig[4];

	fw_cfg_read(0, sig, 4);
	return !memcmp(sig, "QEMU", 4);
}

/* ---- descriptor tables and exceptions ------------------------------------------- */

static uint64_t gdt[3] = { 0, 0x00cf9b000000ffffull, 0x00cf93000000ffffull };
static uint64_t idt[20];

struct __attribute__((packed)) dtr {
	uint16_t limit;
	uint32_t base;
};

static void tables_init(void)
{
	struct dtr g = { sizeof(gdt) - 1, (uint32_t)gdt }, i = { sizeof(idt) - 1, (uint32_t)idt };

	/* Our own GDT: Multiboot says not to rely on the loader's. */
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp $0x08, $1f\n"
			 "1:\tmovw $0x10, %%ax\n\t"
			 "movw %%ax, %%ds\n\tmovw %%ax, %%es\n\tmovw %%ax, %%ss\n\t"
			 "movw %%ax, %%fs\n\tmovw %%ax, %%gs"
			 : : "m"(g) : "eax", "memory");
	for (int v = 0; v < 20; v++) {
		uint32_t h = trap_stubs[v];
		/* 32-bit interrupt gate, DPL 0, present. */
		idt[v] = (h & 0xffff) | (0x08u << 16) | ((uint64_t)0x8e00 << 32) |
			 ((uint64_t)(h >> 16) << 48);
	}
	__asm__ volatile("lidt %0" : : "m"(i));
}

void idt_clear(void)
{
	struct dtr i = { 0, 0 };
	__asm__ volatile("lidt %0" : : "m"(i));
}

void guest_trap(struct guest_frame *f);
void guest_trap(struct guest_frame *f)
{
	if (trap_hook && trap_hook(f))
		return;
	printf("%s: unexpected exception %u error 0x%x at eip 0x%x\n", guest_name, f->vector,
	       f->error, f->eip);
	guest_exit(GUEST_FAIL);
}

/* ---- Multiboot ------------------------------------------------------------------- */

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4], mmap_length, mmap_addr;
};

static const struct mb_info *boot_info;

bool multiboot_mmap(uint32_t i, uint64_t *addr, uint64_t *len, uint32_t *type)
{
	uint32_t off = 0;

	if (!boot_info || !(boot_info->flags & 0x40))
		return false;
	/* Entries are size-prefixed: the size field excludes itself. */
	for (;;) {
		const uint8_t *e = (const uint8_t *)boot_info->mmap_addr + off;
		if (off + 24 > boot_info->mmap_length)
			return false;
		if (i-- == 0) {
			memcpy(addr, e + 4, 8);
			memcpy(len, e + 12, 8);
			memcpy(type, e + 20, 4);
			return true;
		}
		off += *(const uint32_t *)e + 4;
	}
}

static void read_multiboot(const struct mb_info *mbi)
{
	uint32_t top = (uint32_t)_end;

	mem_end = 0x100000;
	boot_info = mbi;
	if (!mbi)
		return;
	top = max_u32(top, (uint32_t)mbi + sizeof(*mbi));
	if (mbi->flags & 0x1)
		mem_end = 0x100000 + (uint64_t)mbi->mem_upper * 1024;
	if (mbi->flags & 0x4) {
		const char *s = (const char *)mbi->cmdline;
		size_t n = strlen(s);
		if (n >= sizeof(cmdline))
			n = sizeof(cmdline) - 1;
		memcpy(cmdline, s, n);
		top = max_u32(top, mbi->cmdline + (uint32_t)strlen(s) + 1);
	}
	if (mbi->flags & 0x8) {
		const uint32_t *mods = (const uint32_t *)mbi->mods_addr;
		top = max_u32(top, mbi->mods_addr + 16 * mbi->mods_count);
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			top = max_u32(top, mods[4 * i + 1]);
			top = max_u32(top, mods[4 * i + 2] +
					       (uint32_t)strlen((const char *)mods[4 * i + 2]) + 1);
		}
	}
	if (mbi->flags & 0x40)
		top = max_u32(top, mbi->mmap_addr + mbi->mmap_length);
	if (mbi->flags & 0x200) {
		uint32_t name = ((const uint32_t *)mbi)[16];
		top = max_u32(top, name + (uint32_t)strlen((const char *)name) + 1);
	}
	free_start = (top + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

void guest_start(const struct mb_info *mbi);
void guest_start(const struct mb_info *mbi)
{
	tables_init();
	console_init();
	read_multiboot(mbi);
	if (!free_start)
		free_start = ((uint32_t)_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	detect_vh();
	printf("%s: start: cmdline \"%s\" memory %u KiB hypervisor \"%s\"%s\n", guest_name, cmdline,
	       (uint32_t)(mem_end >> 10), hv_signature, vh_present ? " (vh)" : "");
	if (!mbi) {
		printf("%s: not booted by a Multiboot loader\n", guest_name);
		guest_exit(GUEST_FAIL);
	}
	guest_exit(guest_main());
}
