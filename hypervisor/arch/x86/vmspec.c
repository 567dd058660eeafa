/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>

#include "vh/format.h"
#include "vh/string.h"
#include "vmspec.h"

struct field {
	const char *s;
	size_t n;
};

static bool eq(struct field f, const char *word)
{
	return f.n == vh_strlen(word) && vh_strncmp(f.s, word, f.n) == 0;
}

/* Decimal without sign, overflow refused. */
static bool number(struct field f, uint64_t *out, size_t *used)
{
	uint64_t v = 0;
	size_t i = 0;

	for (; i < f.n && f.s[i] >= '0' && f.s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(f.s[i] - '0');
	}
	if (i == 0)
		return false;
	*out = v;
	*used = i;
	return true;
}

static bool plain_number(struct field f, uint64_t *out)
{
	size_t used;

	return number(f, out, &used) && used == f.n;
}

static bool size_mib(struct field f, uint64_t *mib)
{
	uint64_t v;
	size_t used;

	if (!number(f, &v, &used))
		return false;
	struct field unit = { f.s + used, f.n - used };
	if (unit.n == 0 || eq(unit, "M") || eq(unit, "m") || eq(unit, "MiB"))
		*mib = v;
	else if (eq(unit, "G") || eq(unit, "g") || eq(unit, "GiB")) {
		if (v > UINT64_MAX / 1024)
			return false;
		*mib = v * 1024;
	} else if (eq(unit, "K") || eq(unit, "k") || eq(unit, "KiB")) {
		if (v % 1024)
			return false; /* guest memory comes in whole MiB */
		*mib = v / 1024;
	} else
		return false;
	return true;
}

static bool shares(struct field f, struct vh_shares *s)
{
	uint64_t v;

	if (eq(f, "low"))
		s->level = VH_SHARES_LOW;
	else if (eq(f, "normal"))
		s->level = VH_SHARES_NORMAL;
	else if (eq(f, "high"))
		s->level = VH_SHARES_HIGH;
	else if (plain_number(f, &v) && v >= VH_SHARES_CUSTOM_MIN && v <= VH_SHARES_CUSTOM_MAX) {
		s->level = VH_SHARES_CUSTOM;
		s->custom = (uint32_t)v;
	} else
		return false;
	return true;
}

bool vh_parse_count(const char *s, size_t n, uint64_t *v)
{
	return plain_number((struct field){ s, n }, v);
}

bool vh_parse_duration(const char *s, size_t n, uint64_t *ns)
{
	struct field f = { s, n };
	uint64_t v, mult;
	size_t used;

	if (!number(f, &v, &used))
		return false;
	struct field unit = { s + used, n - used };
	if (unit.n == 0 || eq(unit, "s"))
		mult = 1000000000ull;
	else if (eq(unit, "ms"))
		mult = 1000000ull;
	else if (eq(unit, "us"))
		mult = 1000ull;
	else if (eq(unit, "ns"))
		mult = 1;
	else
		return false;
	if (v > UINT64_MAX / mult)
		return false;
	*ns = v * mult;
	return true;
}

bool vh_vmspec_parse(const char *s, size_t n, unsigned nmodules, struct vh_vmspec *out,
		     char *err, size_t errlen)
{
	bool have_kernel = false;
	size_t i = 0;
	struct vh_error verr = { 0 };

	vh_memset(out, 0, sizeof(*out));
	vh_vm_config_default(&out->cfg);
	/* The QEMU-compatible machine a `qemu -kernel` guest expects: fw_cfg
	 * (CPU count, RAM size) and the balloon besides the defaults' UART
	 * and isa-debug-exit. */
	out->cfg.devices[out->cfg.ndevices++].type = VH_DEV_FW_CFG;
	out->cfg.devices[out->cfg.ndevices++].type = VH_DEV_BALLOON;
	/* The name comes first, before any key. */
	while (i < n && s[i] != ',')
		i++;
	if (i == 0 || i >= sizeof(out->cfg.name)) {
		vh_snprintf(err, errlen, "vm=: a name of 1 to %zu characters comes first",
			    sizeof(out->cfg.name) - 1);
		return false;
	}
	vh_memcpy(out->cfg.name, s, i);
	out->cfg.name[i] = '\0';

	while (i < n) {
		i++; /* the comma */
		size_t start = i;
		while (i < n && s[i] != ',')
			i++;
		struct field kv = { s + start, i - start };
		size_t eqpos = 0;
		while (eqpos < kv.n && kv.s[eqpos] != '=')
			eqpos++;
		struct field key = { kv.s, eqpos };
		struct field val = { kv.s + eqpos + 1, eqpos < kv.n ? kv.n - eqpos - 1 : 0 };
		uint64_t v;
		bool ok;

		if (eqpos == kv.n || val.n == 0) {
			vh_snprintf(err, errlen, "vm %s: \"%.*s\" is not key=value", out->cfg.name,
				    (int)kv.n, kv.s);
			return false;
		}
		if (eq(key, "kernel")) {
			ok = plain_number(val, &v) && v < nmodules;
			out->module = (unsigned)v;
			have_kernel = ok;
		} else if (eq(key, "initrd")) {
			ok = plain_number(val, &v) && v < nmodules;
			out->initrd_module = (unsigned)v;
			out->has_initrd = ok;
		} else if (eq(key, "vcpus")) {
			ok = plain_number(val, &v) && v >= 1 && v <= VH_VM_MAX_VCPUS;
			out->cfg.vcpus = (uint32_t)v;
		} else if (eq(key, "mem")) {
			ok = size_mib(val, &out->cfg.memory_mib);
		} else if (eq(key, "cpu.shares")) {
			ok = shares(val, &out->cfg.cpu.shares);
		} else if (eq(key, "cpu.reservation")) {
			ok = plain_number(val, &out->cfg.cpu.reservation_mhz);
		} else if (eq(key, "cpu.limit")) {
			ok = plain_number(val, &out->cfg.cpu.limit_mhz);
		} else if (eq(key, "mem.shares")) {
			ok = shares(val, &out->cfg.mem.shares);
		} else if (eq(key, "mem.reservation")) {
			ok = plain_number(val, &out->cfg.mem.reservation_mib);
		} else if (eq(key, "mem.limit")) {
			ok = plain_number(val, &out->cfg.mem.limit_mib);
		} else if (eq(key, "cosched")) {
			ok = true;
			if (eq(val, "relaxed"))
				out->cfg.cosched = VH_COSCHED_RELAXED;
			else if (eq(val, "strict"))
				out->cfg.cosched = VH_COSCHED_STRICT;
			else if (eq(val, "none"))
				out->cfg.cosched = VH_COSCHED_NONE;
			else
				ok = false;
		} else if (eq(key, "cmdline")) {
			ok = val.n < sizeof(out->cmdline);
			if (ok) {
				for (size_t k = 0; k < val.n; k++)
					out->cmdline[k] = val.s[k] == '+' ? ' ' : val.s[k];
				out->cmdline[val.n] = '\0';
				out->has_cmdline = true;
			}
		} else {
			vh_snprintf(err, errlen, "vm %s: unknown key \"%.*s\"", out->cfg.name,
				    (int)key.n, key.s);
			return false;
		}
		if (!ok) {
			vh_snprintf(err, errlen, "vm %s: bad value for %.*s: \"%.*s\"%s",
				    out->cfg.name, (int)key.n, key.s, (int)val.n, val.s,
				    eq(key, "kernel") || eq(key, "initrd") ? " (no such module)"
									   : "");
			return false;
		}
	}
	if (!have_kernel) {
		vh_snprintf(err, errlen, "vm %s: kernel=MODULE is required", out->cfg.name);
		return false;
	}
	vh_strlcpy(out->cfg.boot.kernel, "module", sizeof(out->cfg.boot.kernel));
	if (out->has_initrd)
		vh_strlcpy(out->cfg.boot.initrd, "module", sizeof(out->cfg.boot.initrd));
	if (vh_vm_config_validate(&out->cfg, &verr) != VH_OK) {
		vh_snprintf(err, errlen, "vm %s: %s", out->cfg.name, verr.reason);
		return false;
	}
	return true;
}
