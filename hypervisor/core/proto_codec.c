/* SPDX-License-Identifier: Apache-2.0 */
/* The control protocol's codec: requests and replies to and from bytes
 * (see vh/proto.h and docs/protocol.md).  Stateless and freestanding, so
 * the agent and vhctl link it as it is.
 *
 * Every field is read and written with explicit little-endian byte shifts
 * at the offset its `struct vh_wire_*` layout gives; the W* macros below
 * also check at compile time that the C field has the width the accessor
 * assumes, so a layout edit cannot silently truncate a value. */
#include <stdarg.h>

#include "vh/format.h"
#include "vh/proto.h"
#include "vh/string.h"

/* ---- little-endian primitives -------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Offset of a (possibly nested) field of a wire layout, and a compile-time
 * check that the field is n bytes wide (adds 0). */
#define WOFF(type, field) offsetof(struct type, field)
#define WSIZE(type, field) sizeof(((struct type *)0)->field)
#define WWIDTH(type, field, n) (0 * sizeof(char[WSIZE(type, field) == (n) ? 1 : -1]))
#define WAT(p, type, field) ((uint8_t *)(p) + WOFF(type, field))
#define WATC(p, type, field) ((const uint8_t *)(p) + WOFF(type, field))
#define W16(p, type, field, v) put16(WAT(p, type, field) + WWIDTH(type, field, 2), (v))
#define W32(p, type, field, v) put32(WAT(p, type, field) + WWIDTH(type, field, 4), (v))
#define W64(p, type, field, v) put64(WAT(p, type, field) + WWIDTH(type, field, 8), (v))
#define R16(p, type, field) get16(WATC(p, type, field) + WWIDTH(type, field, 2))
#define R32(p, type, field) get32(WATC(p, type, field) + WWIDTH(type, field, 4))
#define R64(p, type, field) get64(WATC(p, type, field) + WWIDTH(type, field, 8))

/* A string into a fixed field: up to the field's size, the rest zeroed. */
static void put_str(uint8_t *p, size_t cap, const char *s)
{
	size_t n = vh_strnlen(s, cap);

	vh_memcpy(p, s, n);
	vh_memset(p + n, 0, cap - n);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

/* ---- errors ---------------------------------------------------------------- */

/* Every reason starts with the field at fault and ": ", which the
 * dispatcher lifts into the error reply's field. */
VH_PRINTF(4, 5)
static int field_err(struct vh_error *err, enum vh_errcode code, const char *field,
		     const char *fmt, ...)
{
	char msg[VH_ERROR_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vh_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vh_error_set(err, code, "%s: %s", field, msg);
}

/* A wire string: NUL within the field, zeros after it (so every accepted
 * message has one encoding), and non-empty when required.  Copies it to
 * dst (cap bytes) when valid. */
static int get_str(const uint8_t *p, size_t cap, char *dst, bool required, const char *field,
		   struct vh_error *err)
{
	size_t n = vh_strnlen((const char *)p, cap);

	if (n == cap)
		return field_err(err, VH_E_INVAL, field, "not NUL-terminated within its %zu bytes",
				 cap);
	if (!all_zero(p + n + 1, cap - n - 1))
		return field_err(err, VH_E_INVAL, field,
				 "bytes after the terminating NUL must be 0");
	if (required && n == 0)
		return field_err(err, VH_E_INVAL, field, "must not be empty");
	vh_memcpy(dst, p, cap);
	return VH_OK;
}

/* ---- header ------------------------------------------------------------------ */

void vh_proto_put_header(void *p, const struct vh_proto_header *h)
{
	W32(p, vh_wire_header, magic, h->magic);
	W16(p, vh_wire_header, version, h->version);
	W16(p, vh_wire_header, type, h->type);
	W32(p, vh_wire_header, flags, h->flags);
	W32(p, vh_wire_header, status, h->status);
	W64(p, vh_wire_header, request_id, h->request_id);
	W32(p, vh_wire_header, payload_len, h->payload_len);
	W32(p, vh_wire_header, reserved, 0);
}

void vh_proto_get_header(const void *p, struct vh_proto_header *h)
{
	h->magic = R32(p, vh_wire_header, magic);
	h->version = R16(p, vh_wire_header, version);
	h->type = R16(p, vh_wire_header, type);
	h->flags = R32(p, vh_wire_header, flags);
	h->status = R32(p, vh_wire_header, status);
	h->request_id = R64(p, vh_wire_header, request_id);
	h->payload_len = R32(p, vh_wire_header, payload_len);
	h->reserved = R32(p, vh_wire_header, reserved);
}

int vh_proto_frame_len(const void *buf, size_t len, size_t *total, struct vh_error *err)
{
	struct vh_proto_header h;

	if (len < VH_PROTO_HEADER_SIZE) {
		*total = VH_PROTO_HEADER_SIZE;
		return VH_OK;
	}
	vh_proto_get_header(buf, &h);
	if (h.magic != VH_PROTO_MAGIC)
		return field_err(err, VH_E_PROTO, "header.magic", "0x%08x is not 0x%08x (\"VHCP\")",
				 h.magic, VH_PROTO_MAGIC);
	if (h.payload_len > VH_PROTO_MAX_PAYLOAD)
		return field_err(err, VH_E_PROTO, "header.payload_len", "%u above the maximum %u",
				 h.payload_len, VH_PROTO_MAX_PAYLOAD);
	*total = VH_PROTO_HEADER_SIZE + (size_t)h.payload_len;
	return VH_OK;
}

/* The checks every message shares; `flags` is what its direction must
 * carry. */
static int check_header(const void *buf, size_t len, uint32_t flags, struct vh_proto_header *h,
			struct vh_error *err)
{
	if (len < VH_PROTO_HEADER_SIZE)
		return field_err(err, VH_E_PROTO, "header", "%zu bytes, a header has %u", len,
				 VH_PROTO_HEADER_SIZE);
	vh_proto_get_header(buf, h);
	if (h->magic != VH_PROTO_MAGIC)
		return field_err(err, VH_E_PROTO, "header.magic", "0x%08x is not 0x%08x (\"VHCP\")",
				 h->magic, VH_PROTO_MAGIC);
	if (h->version < VH_PROTO_VERSION_MIN || h->version > VH_PROTO_VERSION_MAX)
		return field_err(err, VH_E_VERSION, "header.version",
				 "%u not supported (supported: %u..%u)", h->version,
				 VH_PROTO_VERSION_MIN, VH_PROTO_VERSION_MAX);
	if (h->payload_len > VH_PROTO_MAX_PAYLOAD)
		return field_err(err, VH_E_PROTO, "header.payload_len", "%u above the maximum %u",
				 h->payload_len, VH_PROTO_MAX_PAYLOAD);
	if (len - VH_PROTO_HEADER_SIZE != h->payload_len)
		return field_err(err, VH_E_PROTO, "header.payload_len",
				 "%u but the message carries %zu payload bytes", h->payload_len,
				 len - VH_PROTO_HEADER_SIZE);
	if (h->flags != flags)
		return field_err(err, VH_E_PROTO, "header.flags", "0x%x, must be 0x%x", h->flags,
				 flags);
	if (h->reserved)
		return field_err(err, VH_E_PROTO, "header.reserved", "must be 0");
	return VH_OK;
}

/* ---- shared records ------------------------------------------------------- */

void vh_proto_put_vm_ref(void *p, const struct vh_proto_vm_ref *r)
{
	vh_memset(p, 0, sizeof(struct vh_wire_vm_ref));
	W32(p, vh_wire_vm_ref, kind, r->kind);
	switch (r->kind) {
	case VH_PROTO_REF_ID: W32(p, vh_wire_vm_ref, id, r->id); break;
	case VH_PROTO_REF_UUID: vh_memcpy(WAT(p, vh_wire_vm_ref, uuid), r->uuid, 16); break;
	case VH_PROTO_REF_NAME:
		put_str(WAT(p, vh_wire_vm_ref, name), VH_VM_NAME_MAX, r->name);
		break;
	default: break; /* an unknown kind goes out alone: the peer refuses it */
	}
}

static const char *const ref_kind_names[] = {
	[VH_PROTO_REF_ID] = "id", [VH_PROTO_REF_NAME] = "name", [VH_PROTO_REF_UUID] = "uuid"
};

static int get_vm_ref(const uint8_t *p, struct vh_proto_vm_ref *r, struct vh_error *err)
{
	const uint8_t *uuid = WATC(p, vh_wire_vm_ref, uuid), *name = WATC(p, vh_wire_vm_ref, name);

	vh_memset(r, 0, sizeof(*r));
	r->kind = R32(p, vh_wire_vm_ref, kind);
	r->id = R32(p, vh_wire_vm_ref, id);
	if (r->kind < VH_PROTO_REF_ID || r->kind > VH_PROTO_REF_UUID)
		return field_err(err, VH_E_INVAL, "vm.kind",
				 "unknown kind %u (1: id, 2: name, 3: uuid)", r->kind);
	if (r->kind == VH_PROTO_REF_ID && r->id == 0)
		return field_err(err, VH_E_INVAL, "vm.id", "must not be 0 (VM ids start at 1)");
	if (r->kind != VH_PROTO_REF_ID && r->id != 0)
		return field_err(err, VH_E_INVAL, "vm.id", "must be 0 when vm.kind is %s",
				 ref_kind_names[r->kind]);
	if (r->kind == VH_PROTO_REF_UUID && all_zero(uuid, 16))
		return field_err(err, VH_E_INVAL, "vm.uuid", "must not be all zero");
	if (r->kind != VH_PROTO_REF_UUID && !all_zero(uuid, 16))
		return field_err(err, VH_E_INVAL, "vm.uuid", "must be zero when vm.kind is %s",
				 ref_kind_names[r->kind]);
	vh_memcpy(r->uuid, uuid, 16);
	if (r->kind == VH_PROTO_REF_NAME)
		return get_str(name, VH_VM_NAME_MAX, r->name, true, "vm.name", err);
	if (!all_zero(name, VH_VM_NAME_MAX))
		return field_err(err, VH_E_INVAL, "vm.name", "must be zero when vm.kind is %s",
				 ref_kind_names[r->kind]);
	return VH_OK;
}

static void put_shares(uint8_t *p, const struct vh_shares *s)
{
	W32(p, vh_wire_shares, level, (uint32_t)s->level);
	W32(p, vh_wire_shares, custom, s->level == VH_SHARES_CUSTOM ? s->custom : 0);
}

/* Levels and custom values are the wire's to check: the enum must be in
 * range before it is stored in a C enum. */
static int get_shares(const uint8_t *p, struct vh_shares *s, const char *prefix,
		      struct vh_error *err)
{
	uint32_t level = R32(p, vh_wire_shares, level), custom = R32(p, vh_wire_shares, custom);
	char field[40];

	if (level > VH_SHARES_CUSTOM) {
		vh_snprintf(field, sizeof(field), "%s.shares.level", prefix);
		return field_err(err, VH_E_INVAL, field,
				 "unknown level %u (0: normal, 1: low, 2: high, 3: custom)", level);
	}
	if (level == VH_SHARES_CUSTOM &&
	    (custom < VH_SHARES_CUSTOM_MIN || custom > VH_SHARES_CUSTOM_MAX)) {
		vh_snprintf(field, sizeof(field), "%s.shares.custom", prefix);
		return field_err(err, VH_E_INVAL, field, "%u outside %u..%u", custom,
				 VH_SHARES_CUSTOM_MIN, VH_SHARES_CUSTOM_MAX);
	}
	if (level != VH_SHARES_CUSTOM && custom) {
		vh_snprintf(field, sizeof(field), "%s.shares.custom", prefix);
		return field_err(err, VH_E_INVAL, field,
				 "must be 0 unless %s.shares.level is custom (3)", prefix);
	}
	s->level = (enum vh_shares_level)level;
	s->custom = custom;
	return VH_OK;
}

static void put_cpu(uint8_t *p, const struct vh_cpu_controls *c)
{
	put_shares(WAT(p, vh_wire_cpu_controls, shares), &c->shares);
	W64(p, vh_wire_cpu_controls, reservation_mhz, c->reservation_mhz);
	W64(p, vh_wire_cpu_controls, limit_mhz, c->limit_mhz);
}

static int get_cpu(const uint8_t *p, struct vh_cpu_controls *c, struct vh_error *err)
{
	int rc = get_shares(WATC(p, vh_wire_cpu_controls, shares), &c->shares, "cpu", err);

	c->reservation_mhz = R64(p, vh_wire_cpu_controls, reservation_mhz);
	c->limit_mhz = R64(p, vh_wire_cpu_controls, limit_mhz);
	return rc;
}

static void put_mem(uint8_t *p, const struct vh_mem_controls *c)
{
	put_shares(WAT(p, vh_wire_mem_controls, shares), &c->shares);
	W64(p, vh_wire_mem_controls, reservation_mib, c->reservation_mib);
	W64(p, vh_wire_mem_controls, limit_mib, c->limit_mib);
}

static int get_mem(const uint8_t *p, struct vh_mem_controls *c, struct vh_error *err)
{
	int rc = get_shares(WATC(p, vh_wire_mem_controls, shares), &c->shares, "memory", err);

	c->reservation_mib = R64(p, vh_wire_mem_controls, reservation_mib);
	c->limit_mib = R64(p, vh_wire_mem_controls, limit_mib);
	return rc;
}

/* ---- VM config ------------------------------------------------------------- */

#define CFG_MODULE(p, i) \
	(WAT(p, vh_wire_vm_config, modules) + (size_t)(i) * sizeof(struct vh_wire_module))
#define CFG_MODULEC(p, i) \
	(WATC(p, vh_wire_vm_config, modules) + (size_t)(i) * sizeof(struct vh_wire_module))
#define CFG_DEVICE(p, i) \
	(WAT(p, vh_wire_vm_config, devices) + (size_t)(i) * sizeof(struct vh_wire_device))
#define CFG_DEVICEC(p, i) \
	(WATC(p, vh_wire_vm_config, devices) + (size_t)(i) * sizeof(struct vh_wire_device))
#define CFG_DISK(p, i) \
	(WAT(p, vh_wire_vm_config, disks) + (size_t)(i) * sizeof(struct vh_wire_disk))
#define CFG_DISKC(p, i) \
	(WATC(p, vh_wire_vm_config, disks) + (size_t)(i) * sizeof(struct vh_wire_disk))

void vh_proto_put_vm_config(void *p, const struct vh_vm_config *c)
{
	uint32_t nmod =
	    c->boot.nmodules < VH_BOOT_MAX_MODULES ? c->boot.nmodules : VH_BOOT_MAX_MODULES;
	uint32_t ndev = c->ndevices < VH_VM_MAX_DEVICES ? c->ndevices : VH_VM_MAX_DEVICES;
	uint32_t ndisk = c->ndisks < VH_VM_MAX_DISKS ? c->ndisks : VH_VM_MAX_DISKS;

	vh_memset(p, 0, sizeof(struct vh_wire_vm_config));
	put_str(WAT(p, vh_wire_vm_config, name), VH_VM_NAME_MAX, c->name);
	vh_memcpy(WAT(p, vh_wire_vm_config, uuid), c->uuid, 16);
	W32(p, vh_wire_vm_config, vcpus, c->vcpus);
	W32(p, vh_wire_vm_config, cosched, (uint32_t)c->cosched);
	W64(p, vh_wire_vm_config, memory_mib, c->memory_mib);
	put_cpu(WAT(p, vh_wire_vm_config, cpu), &c->cpu);
	put_mem(WAT(p, vh_wire_vm_config, memory), &c->mem);
	put_str(WAT(p, vh_wire_vm_config, kernel), VH_BOOT_PATH_MAX, c->boot.kernel);
	put_str(WAT(p, vh_wire_vm_config, cmdline), VH_BOOT_CMDLINE_MAX, c->boot.cmdline);
	put_str(WAT(p, vh_wire_vm_config, initrd), VH_BOOT_PATH_MAX, c->boot.initrd);
	W32(p, vh_wire_vm_config, boot_kind, c->boot.kind);
	/* The counts go out verbatim (an oversized one is refused by the
	 * peer); only the slots that exist are filled. */
	W32(p, vh_wire_vm_config, nmodules, c->boot.nmodules);
	W32(p, vh_wire_vm_config, ndevices, c->ndevices);
	for (uint32_t i = 0; i < nmod; i++) {
		uint8_t *m = CFG_MODULE(p, i);
		put_str(WAT(m, vh_wire_module, image), VH_BOOT_PATH_MAX, c->boot.modules[i].image);
		put_str(WAT(m, vh_wire_module, args), VH_BOOT_PATH_MAX, c->boot.modules[i].args);
	}
	for (uint32_t i = 0; i < ndev; i++) {
		uint8_t *d = CFG_DEVICE(p, i);
		W32(d, vh_wire_device, type, c->devices[i].type);
		W32(d, vh_wire_device, flags, c->devices[i].flags);
	}
	W32(p, vh_wire_vm_config, ndisks, c->ndisks);
	for (uint32_t i = 0; i < ndisk; i++) {
		uint8_t *d = CFG_DISK(p, i);
		put_str(WAT(d, vh_wire_disk, name), VH_DISK_NAME_MAX, c->disks[i].name);
		W32(d, vh_wire_disk, flags, c->disks[i].flags);
	}
}

/* The wire's rules for a config; vh_vm_config_validate() judges the
 * values (vCPUs, memory, reservations against limits, device types). */
static int get_vm_config(const uint8_t *p, struct vh_vm_config *c, struct vh_error *err)
{
	uint32_t cosched = R32(p, vh_wire_vm_config, cosched);
	char field[48];
	int rc;

	vh_memset(c, 0, sizeof(*c));
	if ((rc = get_str(WATC(p, vh_wire_vm_config, name), VH_VM_NAME_MAX, c->name, false, "name",
			  err)))
		return rc;
	vh_memcpy(c->uuid, WATC(p, vh_wire_vm_config, uuid), 16);
	c->vcpus = R32(p, vh_wire_vm_config, vcpus);
	c->memory_mib = R64(p, vh_wire_vm_config, memory_mib);
	if (cosched > VH_COSCHED_NONE)
		return field_err(err, VH_E_INVAL, "cosched",
				 "unknown mode %u (0: relaxed, 1: strict, 2: none)", cosched);
	c->cosched = (enum vh_cosched_mode)cosched;
	if ((rc = get_cpu(WATC(p, vh_wire_vm_config, cpu), &c->cpu, err)) ||
	    (rc = get_mem(WATC(p, vh_wire_vm_config, memory), &c->mem, err)))
		return rc;
	if ((rc = get_str(WATC(p, vh_wire_vm_config, kernel), VH_BOOT_PATH_MAX, c->boot.kernel,
			  false, "boot.kernel", err)) ||
	    (rc = get_str(WATC(p, vh_wire_vm_config, cmdline), VH_BOOT_CMDLINE_MAX, c->boot.cmdline,
			  false, "boot.cmdline", err)) ||
	    (rc = get_str(WATC(p, vh_wire_vm_config, initrd), VH_BOOT_PATH_MAX, c->boot.initrd,
			  false, "boot.initrd", err)))
		return rc;
	c->boot.kind = R32(p, vh_wire_vm_config, boot_kind);
	if (c->boot.kind > VH_BOOT_KIND_MAX)
		return field_err(err, VH_E_INVAL, "boot.kind",
				 "unknown kind %u (0: auto, 1: raw16, 2: raw32)", c->boot.kind);
	if (R32(p, vh_wire_vm_config, reserved))
		return field_err(err, VH_E_INVAL, "reserved", "must be 0");
	c->boot.nmodules = R32(p, vh_wire_vm_config, nmodules);
	if (c->boot.nmodules > VH_BOOT_MAX_MODULES)
		return field_err(err, VH_E_INVAL, "boot.nmodules", "%u modules, at most %u",
				 c->boot.nmodules, VH_BOOT_MAX_MODULES);
	c->ndevices = R32(p, vh_wire_vm_config, ndevices);
	if (c->ndevices > VH_VM_MAX_DEVICES)
		return field_err(err, VH_E_INVAL, "ndevices", "%u devices, at most %u", c->ndevices,
				 VH_VM_MAX_DEVICES);
	for (uint32_t i = 0; i < VH_BOOT_MAX_MODULES; i++) {
		const uint8_t *m = CFG_MODULEC(p, i);
		struct vh_boot_module *bm = &c->boot.modules[i];
		if (i >= c->boot.nmodules) {
			if (all_zero(m, sizeof(struct vh_wire_module)))
				continue;
			vh_snprintf(field, sizeof(field), "boot.modules[%u]", i);
			return field_err(err, VH_E_INVAL, field,
					 "unused entry (boot.nmodules is %u) must be zero",
					 c->boot.nmodules);
		}
		vh_snprintf(field, sizeof(field), "boot.modules[%u].image", i);
		if ((rc = get_str(WATC(m, vh_wire_module, image), VH_BOOT_PATH_MAX, bm->image, true,
				  field, err)))
			return rc;
		vh_snprintf(field, sizeof(field), "boot.modules[%u].args", i);
		if ((rc = get_str(WATC(m, vh_wire_module, args), VH_BOOT_PATH_MAX, bm->args, false,
				  field, err)))
			return rc;
	}
	for (uint32_t i = 0; i < VH_VM_MAX_DEVICES; i++) {
		const uint8_t *d = CFG_DEVICEC(p, i);
		if (i >= c->ndevices) {
			if (all_zero(d, sizeof(struct vh_wire_device)))
				continue;
			vh_snprintf(field, sizeof(field), "devices[%u]", i);
			return field_err(err, VH_E_INVAL, field,
					 "unused entry (ndevices is %u) must be zero", c->ndevices);
		}
		c->devices[i].type = R32(d, vh_wire_device, type);
		c->devices[i].flags = R32(d, vh_wire_device, flags);
	}
	if (R32(p, vh_wire_vm_config, reserved2))
		return field_err(err, VH_E_INVAL, "reserved2", "must be 0");
	c->ndisks = R32(p, vh_wire_vm_config, ndisks);
	if (c->ndisks > VH_VM_MAX_DISKS)
		return field_err(err, VH_E_INVAL, "ndisks", "%u disks, at most %u", c->ndisks,
				 VH_VM_MAX_DISKS);
	for (uint32_t i = 0; i < VH_VM_MAX_DISKS; i++) {
		const uint8_t *d = CFG_DISKC(p, i);
		if (i >= c->ndisks) {
			if (all_zero(d, sizeof(struct vh_wire_disk)))
				continue;
			vh_snprintf(field, sizeof(field), "disks[%u]", i);
			return field_err(err, VH_E_INVAL, field,
					 "unused entry (ndisks is %u) must be zero", c->ndisks);
		}
		vh_snprintf(field, sizeof(field), "disks[%u].name", i);
		if ((rc = get_str(WATC(d, vh_wire_disk, name), VH_DISK_NAME_MAX, c->disks[i].name,
				  true, field, err)))
			return rc;
		c->disks[i].flags = R32(d, vh_wire_disk, flags);
		if (R32(d, vh_wire_disk, reserved)) {
			vh_snprintf(field, sizeof(field), "disks[%u].reserved", i);
			return field_err(err, VH_E_INVAL, field, "must be 0");
		}
	}
	return VH_OK;
}

/* ---- requests ---------------------------------------------------------------- */

static void enc_none(uint8_t *p, const struct vh_proto_request *r)
{
	(void)p;
	(void)r;
}

static int dec_none(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	(void)p;
	(void)r;
	(void)err;
	return VH_OK;
}

static void enc_define(uint8_t *p, const struct vh_proto_request *r)
{
	vh_proto_put_vm_config(p, &r->u.define);
}

static int dec_define(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	return get_vm_config(p, &r->u.define, err);
}

static void enc_ref(uint8_t *p, const struct vh_proto_request *r)
{
	vh_proto_put_vm_ref(p, &r->vm);
}

static int dec_ref(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	return get_vm_ref(p, &r->vm, err);
}

static void enc_set_cpu(uint8_t *p, const struct vh_proto_request *r)
{
	vh_proto_put_vm_ref(WAT(p, vh_wire_set_cpu, vm), &r->vm);
	put_cpu(WAT(p, vh_wire_set_cpu, cpu), &r->u.cpu);
}

static int dec_set_cpu(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	int rc = get_vm_ref(WATC(p, vh_wire_set_cpu, vm), &r->vm, err);

	return rc ? rc : get_cpu(WATC(p, vh_wire_set_cpu, cpu), &r->u.cpu, err);
}

static void enc_set_mem(uint8_t *p, const struct vh_proto_request *r)
{
	vh_proto_put_vm_ref(WAT(p, vh_wire_set_mem, vm), &r->vm);
	put_mem(WAT(p, vh_wire_set_mem, memory), &r->u.mem);
}

static int dec_set_mem(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	int rc = get_vm_ref(WATC(p, vh_wire_set_mem, vm), &r->vm, err);

	return rc ? rc : get_mem(WATC(p, vh_wire_set_mem, memory), &r->u.mem, err);
}

static void enc_set_balloon(uint8_t *p, const struct vh_proto_request *r)
{
	vh_proto_put_vm_ref(WAT(p, vh_wire_set_balloon, vm), &r->vm);
	W64(p, vh_wire_set_balloon, target_mib, r->u.balloon_target_mib);
}

static int dec_set_balloon(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	int rc = get_vm_ref(WATC(p, vh_wire_set_balloon, vm), &r->vm, err);

	r->u.balloon_target_mib = R64(p, vh_wire_set_balloon, target_mib);
	return rc;
}

static void enc_console(uint8_t *p, const struct vh_proto_request *r)
{
	vh_proto_put_vm_ref(WAT(p, vh_wire_console_req, vm), &r->vm);
	W64(p, vh_wire_console_req, from, r->u.console.from);
	W32(p, vh_wire_console_req, max_bytes, r->u.console.max_bytes);
	W32(p, vh_wire_console_req, reserved, 0);
}

static int dec_console(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	int rc = get_vm_ref(WATC(p, vh_wire_console_req, vm), &r->vm, err);

	if (rc)
		return rc;
	r->u.console.from = R64(p, vh_wire_console_req, from);
	r->u.console.max_bytes = R32(p, vh_wire_console_req, max_bytes);
	/* Zero now, so a later version can give it a meaning. */
	if (R32(p, vh_wire_console_req, reserved))
		return field_err(err, VH_E_INVAL, "reserved", "must be 0");
	return VH_OK;
}

static void enc_page(uint8_t *p, const struct vh_proto_request *r)
{
	W32(p, vh_wire_page_req, start_id, r->u.page.start_id);
	W32(p, vh_wire_page_req, max_entries, r->u.page.max_entries);
}

static int dec_page(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err)
{
	(void)err;
	r->u.page.start_id = R32(p, vh_wire_page_req, start_id);
	r->u.page.max_entries = R32(p, vh_wire_page_req, max_entries);
	return VH_OK;
}

/* Per request layout (vh/proto_messages.h), its payload codec; the
 * message table gives each type its layout and size. */
struct req_codec {
	void (*enc)(uint8_t *p, const struct vh_proto_request *r);
	int (*dec)(const uint8_t *p, struct vh_proto_request *r, struct vh_error *err);
};

static const struct req_codec req_codecs[VH_PROTO_REQ_LAYOUT_COUNT] = {
	[VH_PROTO_REQ_NONE] = { enc_none, dec_none },
	[VH_PROTO_REQ_PAGE] = { enc_page, dec_page },
	[VH_PROTO_REQ_VM_CONFIG] = { enc_define, dec_define },
	[VH_PROTO_REQ_VM_REF] = { enc_ref, dec_ref },
	[VH_PROTO_REQ_SET_CPU] = { enc_set_cpu, dec_set_cpu },
	[VH_PROTO_REQ_SET_MEM] = { enc_set_mem, dec_set_mem },
	[VH_PROTO_REQ_SET_BALLOON] = { enc_set_balloon, dec_set_balloon },
	[VH_PROTO_REQ_CONSOLE] = { enc_console, dec_console },
};

int vh_proto_encode_request(const struct vh_proto_request *req, void *buf, size_t cap,
			    size_t *len, struct vh_error *err)
{
	const struct vh_proto_msg *m = vh_proto_msg(req->type);
	struct vh_proto_header h = {
		.magic = VH_PROTO_MAGIC,
		.version = VH_PROTO_VERSION,
		.type = req->type,
		.request_id = req->request_id,
	};

	*len = 0;
	if (!m)
		return field_err(err, VH_E_INVAL, "type", "unknown message type %u", req->type);
	if (cap < VH_PROTO_HEADER_SIZE + m->request_size)
		return vh_error_set(err, VH_E_LIMIT, "buffer: %zu bytes, a %s request needs %u",
				    cap, m->name, VH_PROTO_HEADER_SIZE + m->request_size);
	h.payload_len = m->request_size;
	vh_proto_put_header(buf, &h);
	req_codecs[m->request].enc((uint8_t *)buf + VH_PROTO_HEADER_SIZE, req);
	*len = VH_PROTO_HEADER_SIZE + m->request_size;
	return VH_OK;
}

int vh_proto_decode_request(const void *buf, size_t len, struct vh_proto_request *req,
			    struct vh_error *err)
{
	const struct vh_proto_msg *m;
	struct vh_proto_header h;
	int rc;

	vh_memset(req, 0, sizeof(*req));
	rc = check_header(buf, len, 0, &h, err);
	if (len >= VH_PROTO_HEADER_SIZE) {
		req->type = h.type;
		req->version = h.version;
		req->request_id = h.request_id;
	}
	if (rc)
		return rc;
	if (h.status)
		return field_err(err, VH_E_PROTO, "header.status", "%u, must be 0 in a request",
				 h.status);
	if (!(m = vh_proto_msg(h.type)))
		return field_err(err, VH_E_PROTO, "header.type", "unknown message type %u", h.type);
	/* vm_config and vm_info grew in version 2 (boot.initrd, boot.kind,
	 * crash_reason) and again in version 3 (disks), and this build keeps
	 * no older copy of them: an older peer of a message that carries
	 * either is refused, never answered in a layout it would misread. */
	if (h.version < 3 &&
	    (m->request == VH_PROTO_REQ_VM_CONFIG || m->reply == VH_PROTO_REPLY_VM_INFO))
		return field_err(
		    err, VH_E_VERSION, "header.version",
		    "%u: %s carries vm_config or vm_info, whose layouts are version 3's "
		    "(versions 1 and 2 are spoken for the other messages)",
		    h.version, m->name);
	/* Every request layout is fixed today; a later version may grow one at
	 * its end and accept a range here. */
	if (h.payload_len != m->request_size)
		return field_err(err, VH_E_PROTO, "header.payload_len", "%u, a %s request has %u",
				 h.payload_len, m->name, m->request_size);
	return req_codecs[m->request].dec((const uint8_t *)buf + VH_PROTO_HEADER_SIZE, req, err);
}

/* ---- reply records ------------------------------------------------------------ */

void vh_proto_put_error(void *p, const struct vh_proto_error *e)
{
	W32(p, vh_wire_error, code, e->code);
	W32(p, vh_wire_error, reserved, 0);
	put_str(WAT(p, vh_wire_error, field), VH_PROTO_FIELD_MAX, e->field);
	put_str(WAT(p, vh_wire_error, reason), VH_ERROR_REASON_MAX, e->reason);
}

/* version: the reply's; before 3 the layout ends before instance. */
void vh_proto_put_host_info(void *p, const struct vh_proto_host_info *hi, uint16_t version)
{
	W16(p, vh_wire_host_info, version_min, hi->version_min);
	W16(p, vh_wire_host_info, version_max, hi->version_max);
	W32(p, vh_wire_host_info, page_size, hi->page_size);
	put_str(WAT(p, vh_wire_host_info, vh_version), VH_PROTO_VERSION_STR, hi->vh_version);
	W32(p, vh_wire_host_info, pcpus, hi->pcpus);
	W32(p, vh_wire_host_info, mhz_per_pcpu, hi->mhz_per_pcpu);
	W64(p, vh_wire_host_info, memory_bytes, hi->memory_bytes);
	W64(p, vh_wire_host_info, overhead_bytes, hi->overhead_bytes);
	W64(p, vh_wire_host_info, cpu_capacity_mhz, hi->cpu_capacity_mhz);
	W64(p, vh_wire_host_info, mem_capacity_mib, hi->mem_capacity_mib);
	W32(p, vh_wire_host_info, max_vms, hi->max_vms);
	W32(p, vh_wire_host_info, nvms, hi->nvms);
	W32(p, vh_wire_host_info, max_vcpus, hi->max_vcpus);
	W32(p, vh_wire_host_info, max_modules, hi->max_modules);
	W32(p, vh_wire_host_info, max_devices, hi->max_devices);
	W32(p, vh_wire_host_info, max_msg, hi->max_msg);
	W64(p, vh_wire_host_info, max_memory_mib, hi->max_memory_mib);
	if (version >= 3)
		W64(p, vh_wire_host_info, instance, hi->instance);
}

static int get_host_info(const uint8_t *p, struct vh_proto_host_info *hi, uint16_t version,
			 struct vh_error *err)
{
	hi->version_min = R16(p, vh_wire_host_info, version_min);
	hi->version_max = R16(p, vh_wire_host_info, version_max);
	hi->page_size = R32(p, vh_wire_host_info, page_size);
	hi->pcpus = R32(p, vh_wire_host_info, pcpus);
	hi->mhz_per_pcpu = R32(p, vh_wire_host_info, mhz_per_pcpu);
	hi->memory_bytes = R64(p, vh_wire_host_info, memory_bytes);
	hi->overhead_bytes = R64(p, vh_wire_host_info, overhead_bytes);
	hi->cpu_capacity_mhz = R64(p, vh_wire_host_info, cpu_capacity_mhz);
	hi->mem_capacity_mib = R64(p, vh_wire_host_info, mem_capacity_mib);
	hi->max_vms = R32(p, vh_wire_host_info, max_vms);
	hi->nvms = R32(p, vh_wire_host_info, nvms);
	hi->max_vcpus = R32(p, vh_wire_host_info, max_vcpus);
	hi->max_modules = R32(p, vh_wire_host_info, max_modules);
	hi->max_devices = R32(p, vh_wire_host_info, max_devices);
	hi->max_msg = R32(p, vh_wire_host_info, max_msg);
	hi->max_memory_mib = R64(p, vh_wire_host_info, max_memory_mib);
	hi->instance = version >= 3 ? R64(p, vh_wire_host_info, instance) : 0;
	return get_str(WATC(p, vh_wire_host_info, vh_version), VH_PROTO_VERSION_STR, hi->vh_version,
		       false, "vh_version", err);
}

void vh_proto_put_host_stats(void *p, const struct vh_proto_host_stats *hs)
{
	W64(p, vh_wire_host_stats, now_ns, hs->now_ns);
	W32(p, vh_wire_host_stats, pcpus, hs->pcpus);
	W32(p, vh_wire_host_stats, nvms, hs->nvms);
	W32(p, vh_wire_host_stats, npowered_on, hs->npowered_on);
	W32(p, vh_wire_host_stats, reserved, 0);
	W64(p, vh_wire_host_stats, reserved_mhz, hs->reserved_mhz);
	W64(p, vh_wire_host_stats, reserved_mib, hs->reserved_mib);
	W64(p, vh_wire_host_stats, cpu_capacity_mhz, hs->cpu_capacity_mhz);
	W64(p, vh_wire_host_stats, mem_capacity_mib, hs->mem_capacity_mib);
	W64(p, vh_wire_host_stats, busy_ns, hs->busy_ns);
	W64(p, vh_wire_host_stats, idle_ns, hs->idle_ns);
	W64(p, vh_wire_host_stats, total_pages, hs->mem.total);
	W64(p, vh_wire_host_stats, free_pages, hs->mem.free);
	W64(p, vh_wire_host_stats, reserved_pages, hs->mem.reserved);
	W64(p, vh_wire_host_stats, shared_saved_pages, hs->mem.shared_saved);
}

static void get_host_stats(const uint8_t *p, struct vh_proto_host_stats *hs)
{
	hs->now_ns = R64(p, vh_wire_host_stats, now_ns);
	hs->pcpus = R32(p, vh_wire_host_stats, pcpus);
	hs->nvms = R32(p, vh_wire_host_stats, nvms);
	hs->npowered_on = R32(p, vh_wire_host_stats, npowered_on);
	hs->reserved_mhz = R64(p, vh_wire_host_stats, reserved_mhz);
	hs->reserved_mib = R64(p, vh_wire_host_stats, reserved_mib);
	hs->cpu_capacity_mhz = R64(p, vh_wire_host_stats, cpu_capacity_mhz);
	hs->mem_capacity_mib = R64(p, vh_wire_host_stats, mem_capacity_mib);
	hs->busy_ns = R64(p, vh_wire_host_stats, busy_ns);
	hs->idle_ns = R64(p, vh_wire_host_stats, idle_ns);
	hs->mem.total = R64(p, vh_wire_host_stats, total_pages);
	hs->mem.free = R64(p, vh_wire_host_stats, free_pages);
	hs->mem.reserved = R64(p, vh_wire_host_stats, reserved_pages);
	hs->mem.shared_saved = R64(p, vh_wire_host_stats, shared_saved_pages);
}

void vh_proto_put_pcpu_stats(void *p, const struct vh_pcpu_stats *s)
{
	W64(p, vh_wire_pcpu_stats, busy_ns, s->busy_ns);
	W64(p, vh_wire_pcpu_stats, idle_ns, s->idle_ns);
}

void vh_proto_put_vm_summary(void *p, const struct vh_proto_vm_summary *s)
{
	W32(p, vh_wire_vm_summary, id, s->id);
	W32(p, vh_wire_vm_summary, state, s->state);
	vh_memcpy(WAT(p, vh_wire_vm_summary, uuid), s->uuid, 16);
	put_str(WAT(p, vh_wire_vm_summary, name), VH_VM_NAME_MAX, s->name);
	W32(p, vh_wire_vm_summary, vcpus, s->vcpus);
	W32(p, vh_wire_vm_summary, cosched, s->cosched);
	W64(p, vh_wire_vm_summary, memory_mib, s->memory_mib);
	put_cpu(WAT(p, vh_wire_vm_summary, cpu), &s->cpu);
	put_mem(WAT(p, vh_wire_vm_summary, memory), &s->mem);
	W64(p, vh_wire_vm_summary, balloon_request_pages, s->balloon_request_pages);
	W64(p, vh_wire_vm_summary, balloon_target_pages, s->balloon_target_pages);
	W64(p, vh_wire_vm_summary, state_changes, s->state_changes);
	W32(p, vh_wire_vm_summary, boot_generation, s->boot_generation);
	W32(p, vh_wire_vm_summary, reserved, 0);
}

static int get_vm_summary(const uint8_t *p, struct vh_proto_vm_summary *s, struct vh_error *err)
{
	int rc;

	vh_memset(s, 0, sizeof(*s));
	s->id = R32(p, vh_wire_vm_summary, id);
	s->state = R32(p, vh_wire_vm_summary, state);
	vh_memcpy(s->uuid, WATC(p, vh_wire_vm_summary, uuid), 16);
	s->vcpus = R32(p, vh_wire_vm_summary, vcpus);
	s->cosched = R32(p, vh_wire_vm_summary, cosched);
	s->memory_mib = R64(p, vh_wire_vm_summary, memory_mib);
	s->balloon_request_pages = R64(p, vh_wire_vm_summary, balloon_request_pages);
	s->balloon_target_pages = R64(p, vh_wire_vm_summary, balloon_target_pages);
	s->state_changes = R64(p, vh_wire_vm_summary, state_changes);
	s->boot_generation = R32(p, vh_wire_vm_summary, boot_generation);
	if ((rc = get_str(WATC(p, vh_wire_vm_summary, name), VH_VM_NAME_MAX, s->name, false,
			  "summary.name", err)) ||
	    (rc = get_cpu(WATC(p, vh_wire_vm_summary, cpu), &s->cpu, err)))
		return rc;
	return get_mem(WATC(p, vh_wire_vm_summary, memory), &s->mem, err);
}

static void put_cpu_stats(uint8_t *p, const struct vh_cpu_stats *s)
{
	W64(p, vh_wire_cpu_stats, used_ns, s->used_ns);
	W64(p, vh_wire_cpu_stats, ready_ns, s->ready_ns);
	W64(p, vh_wire_cpu_stats, costop_ns, s->costop_ns);
	W64(p, vh_wire_cpu_stats, wait_ns, s->wait_ns);
	W64(p, vh_wire_cpu_stats, runs, s->runs);
}

static void get_cpu_stats(const uint8_t *p, struct vh_cpu_stats *s)
{
	s->used_ns = R64(p, vh_wire_cpu_stats, used_ns);
	s->ready_ns = R64(p, vh_wire_cpu_stats, ready_ns);
	s->costop_ns = R64(p, vh_wire_cpu_stats, costop_ns);
	s->wait_ns = R64(p, vh_wire_cpu_stats, wait_ns);
	s->runs = R64(p, vh_wire_cpu_stats, runs);
}

void vh_proto_put_vm_stats(void *p, const struct vh_proto_vm_stats *s, uint16_t version)
{
	uint8_t *m = WAT(p, vh_wire_vm_stats, mem);

	W32(p, vh_wire_vm_stats, id, s->id);
	W32(p, vh_wire_vm_stats, state, s->state);
	put_cpu_stats(WAT(p, vh_wire_vm_stats, cpu), &s->cpu);
	W64(m, vh_wire_mem_stats, granted_pages, s->mem.granted);
	W64(m, vh_wire_mem_stats, consumed_pages, s->mem.consumed);
	W64(m, vh_wire_mem_stats, active_pages, s->mem.active);
	W64(m, vh_wire_mem_stats, shared_pages, s->mem.shared);
	W64(m, vh_wire_mem_stats, balloon_pages, s->mem.balloon);
	W64(m, vh_wire_mem_stats, swapped_pages, s->mem.swapped);
	W64(m, vh_wire_mem_stats, overhead_pages, s->mem.overhead);
	for (uint32_t i = 0; i < VH_PROTO_EXIT_SLOTS; i++)
		put64(WAT(p, vh_wire_vm_stats, exits) + 8 * i, s->exits[i]);
	W64(p, vh_wire_vm_stats, console_bytes, s->console_bytes);
	W64(p, vh_wire_vm_stats, console_dropped, s->console_dropped);
	if (version < 2)
		return;
	W64(p, vh_wire_vm_stats, limited_ns, s->cpu.limited_ns);
	W64(p, vh_wire_vm_stats, entitled_pages, s->mem.entitled);
	W64(p, vh_wire_vm_stats, reclaim_target_pages, s->mem.reclaim_target);
	W64(p, vh_wire_vm_stats, idle_tax_pages, s->mem.idle_tax);
	W32(p, vh_wire_vm_stats, balloon_reason, s->mem.balloon_reason);
	W32(p, vh_wire_vm_stats, admission_refusals, s->admission_refusals);
	W64(p, vh_wire_vm_stats, stolen_ns, s->cpu.stolen_ns);
}

static void get_vm_stats(const uint8_t *p, struct vh_proto_vm_stats *s, uint16_t version)
{
	const uint8_t *m = WATC(p, vh_wire_vm_stats, mem);

	s->id = R32(p, vh_wire_vm_stats, id);
	s->state = R32(p, vh_wire_vm_stats, state);
	get_cpu_stats(WATC(p, vh_wire_vm_stats, cpu), &s->cpu);
	s->mem.granted = R64(m, vh_wire_mem_stats, granted_pages);
	s->mem.consumed = R64(m, vh_wire_mem_stats, consumed_pages);
	s->mem.active = R64(m, vh_wire_mem_stats, active_pages);
	s->mem.shared = R64(m, vh_wire_mem_stats, shared_pages);
	s->mem.balloon = R64(m, vh_wire_mem_stats, balloon_pages);
	s->mem.swapped = R64(m, vh_wire_mem_stats, swapped_pages);
	s->mem.overhead = R64(m, vh_wire_mem_stats, overhead_pages);
	for (uint32_t i = 0; i < VH_PROTO_EXIT_SLOTS; i++)
		s->exits[i] = get64(WATC(p, vh_wire_vm_stats, exits) + 8 * i);
	s->console_bytes = R64(p, vh_wire_vm_stats, console_bytes);
	s->console_dropped = R64(p, vh_wire_vm_stats, console_dropped);
	if (version < 2)
		return;
	s->cpu.limited_ns = R64(p, vh_wire_vm_stats, limited_ns);
	s->mem.entitled = R64(p, vh_wire_vm_stats, entitled_pages);
	s->mem.reclaim_target = R64(p, vh_wire_vm_stats, reclaim_target_pages);
	s->mem.idle_tax = R64(p, vh_wire_vm_stats, idle_tax_pages);
	s->mem.balloon_reason = R32(p, vh_wire_vm_stats, balloon_reason);
	s->admission_refusals = R32(p, vh_wire_vm_stats, admission_refusals);
	s->cpu.stolen_ns = R64(p, vh_wire_vm_stats, stolen_ns);
}

void vh_proto_put_vm_stats_reply(void *p, uint64_t now_ns, uint32_t nvcpus,
				 const struct vh_proto_vm_stats *s, uint16_t version)
{
	W64(p, vh_wire_vm_stats_reply, now_ns, now_ns);
	W32(p, vh_wire_vm_stats_reply, nvcpus, nvcpus);
	W32(p, vh_wire_vm_stats_reply, reserved, 0);
	vh_proto_put_vm_stats(WAT(p, vh_wire_vm_stats_reply, vm), s, version);
}

void vh_proto_put_vcpu_stats(void *p, const struct vh_proto_vcpu_stats *s, uint16_t version)
{
	W32(p, vh_wire_vcpu_stats, index, s->index);
	W32(p, vh_wire_vcpu_stats, reserved, 0);
	put_cpu_stats(WAT(p, vh_wire_vcpu_stats, cpu), &s->cpu);
	if (version < 2)
		return;
	W64(p, vh_wire_vcpu_stats, limited_ns, s->cpu.limited_ns);
	W64(p, vh_wire_vcpu_stats, stolen_ns, s->cpu.stolen_ns);
}

void vh_proto_put_page_reply(void *p, const struct vh_proto_page_reply *pg)
{
	W32(p, vh_wire_page_reply, total, pg->total);
	W32(p, vh_wire_page_reply, count, pg->count);
	W32(p, vh_wire_page_reply, next_id, pg->next_id);
	W32(p, vh_wire_page_reply, reserved, 0);
	W64(p, vh_wire_page_reply, now_ns, pg->now_ns);
}

void vh_proto_put_console_reply(void *p, const struct vh_proto_console_reply *c)
{
	W64(p, vh_wire_console_reply, total, c->total);
	W64(p, vh_wire_console_reply, first, c->first);
	W32(p, vh_wire_console_reply, len, c->len);
	W32(p, vh_wire_console_reply, reserved, 0);
}

void vh_proto_put_stats_map(void *p, const struct vh_proto_stats_map *m)
{
	W32(p, vh_wire_stats_map, layout_version, m->layout_version);
	W32(p, vh_wire_stats_map, clock, m->clock);
	W64(p, vh_wire_stats_map, size, m->size);
	W64(p, vh_wire_stats_map, instance, m->instance);
}

/* ---- replies (client side) ---------------------------------------------------- */

/* A reply payload: a fixed part, then `count` entries of entry_size, the
 * count read from the fixed part and bounded. */
static int check_array(uint32_t len, uint32_t fixed, uint32_t count, uint32_t max_count,
		       uint32_t entry_size, const char *what, struct vh_error *err)
{
	if (count > max_count)
		return field_err(err, VH_E_PROTO, what, "%u entries, at most %u", count, max_count);
	if (len != fixed + count * entry_size)
		return field_err(err, VH_E_PROTO, "header.payload_len",
				 "%u, %u %s entries need %u", len, count, what,
				 fixed + count * entry_size);
	return VH_OK;
}

static int fixed_len(uint32_t len, uint32_t want, uint32_t type, struct vh_error *err)
{
	if (len == want)
		return VH_OK;
	return field_err(err, VH_E_PROTO, "header.payload_len", "%u, a %s reply has %u", len,
			 vh_proto_type_name(type), want);
}

/* The array after a reply's fixed part: count entries, bounded, exactly
 * filling the payload; left in the buffer for vh_proto_reply_*(). */
static int reply_array(struct vh_proto_reply *r, const uint8_t *p, uint32_t plen,
		       const struct vh_proto_msg *m, uint32_t count, uint32_t max_count,
		       const char *what, struct vh_error *err)
{
	uint32_t fixed = vh_proto_reply_size(m, r->hdr.version);
	int rc = check_array(plen, fixed, count, max_count,
			     vh_proto_reply_entry_size(m, r->hdr.version), what, err);

	if (rc)
		return rc;
	r->entries = p + fixed;
	r->nentries = count;
	return VH_OK;
}

int vh_proto_decode_reply(const void *buf, size_t len, struct vh_proto_reply *r,
			  struct vh_error *err)
{
	const uint8_t *p = (const uint8_t *)buf + VH_PROTO_HEADER_SIZE;
	const struct vh_proto_msg *m;
	uint32_t plen, count, max, fixed;
	int rc;

	vh_memset(r, 0, sizeof(*r));
	if ((rc = check_header(buf, len, VH_PROTO_F_REPLY, &r->hdr, err)))
		return rc;
	plen = r->hdr.payload_len;
	if (r->hdr.status != VH_OK) {
		struct vh_proto_error *e = &r->u.error;
		if ((rc = fixed_len(plen, sizeof(struct vh_wire_error), r->hdr.type, err)))
			return rc;
		e->code = R32(p, vh_wire_error, code);
		if (e->code != r->hdr.status)
			return field_err(err, VH_E_PROTO, "error.code",
					 "%u differs from header.status %u", e->code,
					 r->hdr.status);
		if ((rc = get_str(WATC(p, vh_wire_error, field), VH_PROTO_FIELD_MAX, e->field,
				  false, "error.field", err)))
			return rc;
		return get_str(WATC(p, vh_wire_error, reason), VH_ERROR_REASON_MAX, e->reason,
			       false, "error.reason", err);
	}
	if (!(m = vh_proto_msg(r->hdr.type)))
		return field_err(err, VH_E_PROTO, "header.type", "unknown message type %u",
				 r->hdr.type);
	/* The fixed part first; a reply with an array is checked against its
	 * count below. */
	fixed = vh_proto_reply_size(m, r->hdr.version);
	if (m->reply_entry_size ? plen < fixed : plen != fixed)
		return fixed_len(plen, fixed, r->hdr.type, err);
	switch (m->reply) {
	case VH_PROTO_REPLY_NONE:
		return VH_OK;
	case VH_PROTO_REPLY_HOST_INFO:
		return get_host_info(p, &r->u.host_info, r->hdr.version, err);
	case VH_PROTO_REPLY_STATS_MAP:
		r->u.stats_map.layout_version = R32(p, vh_wire_stats_map, layout_version);
		r->u.stats_map.clock = R32(p, vh_wire_stats_map, clock);
		r->u.stats_map.size = R64(p, vh_wire_stats_map, size);
		r->u.stats_map.instance = R64(p, vh_wire_stats_map, instance);
		return VH_OK;
	case VH_PROTO_REPLY_VM_INFO:
		if ((rc = get_vm_summary(WATC(p, vh_wire_vm_info, summary), &r->u.vm_info.summary,
					 err)))
			return rc;
		if ((rc = get_vm_config(WATC(p, vh_wire_vm_info, config), &r->u.vm_info.config,
					err)))
			return rc;
		return get_str(WATC(p, vh_wire_vm_info, crash_reason), VH_VM_CRASH_REASON_MAX,
			       r->u.vm_info.crash_reason, false, "crash_reason", err);
	case VH_PROTO_REPLY_VM_SUMMARY:
		return get_vm_summary(p, &r->u.vm, err);
	case VH_PROTO_REPLY_HOST_STATS:
		get_host_stats(p, &r->u.host_stats);
		count = r->u.host_stats.pcpus;
		return reply_array(r, p, plen, m, count, VH_HOST_MAX_PCPUS, "pcpus", err);
	case VH_PROTO_REPLY_VM_STATS:
		r->u.vm_stats.now_ns = R64(p, vh_wire_vm_stats_reply, now_ns);
		get_vm_stats(WATC(p, vh_wire_vm_stats_reply, vm), &r->u.vm_stats.vm,
			     r->hdr.version);
		count = R32(p, vh_wire_vm_stats_reply, nvcpus);
		return reply_array(r, p, plen, m, count, VH_VM_MAX_VCPUS, "vcpus", err);
	case VH_PROTO_REPLY_VM_LIST:
	case VH_PROTO_REPLY_VM_STATS_ALL:
		r->u.page.total = R32(p, vh_wire_page_reply, total);
		r->u.page.count = count = R32(p, vh_wire_page_reply, count);
		r->u.page.next_id = R32(p, vh_wire_page_reply, next_id);
		r->u.page.now_ns = R64(p, vh_wire_page_reply, now_ns);
		max = (VH_PROTO_MAX_PAYLOAD - fixed) / vh_proto_reply_entry_size(m, r->hdr.version);
		return reply_array(r, p, plen, m, count, max, "page", err);
	case VH_PROTO_REPLY_CONSOLE: {
		struct vh_proto_console_reply *c = &r->u.console;
		c->total = R64(p, vh_wire_console_reply, total);
		c->first = R64(p, vh_wire_console_reply, first);
		c->len = R32(p, vh_wire_console_reply, len);
		if ((rc = reply_array(r, p, plen, m, c->len, VH_PROTO_MAX_PAYLOAD - fixed,
				      "console.len", err)))
			return rc;
		if (c->first > c->total || c->total - c->first < c->len)
			return field_err(err, VH_E_PROTO, "console.first",
					 "%llu + %u bytes run past the total %llu",
					 (unsigned long long)c->first, c->len,
					 (unsigned long long)c->total);
		return VH_OK;
	}
	case VH_PROTO_REPLY_LAYOUT_COUNT:
		break;
	}
	return field_err(err, VH_E_INTERNAL, "header.type", "%s has no reply codec", m->name);
}

static int entry_check(const struct vh_proto_reply *r, uint16_t type, uint32_t i)
{
	if (r->hdr.status != VH_OK || r->hdr.type != type || !r->entries || i >= r->nentries)
		return VH_E_INVAL;
	return VH_OK;
}

/* Entry i of a decoded reply's array, whose entries have the size of the
 * reply's version. */
static const uint8_t *entry_at(const struct vh_proto_reply *r, uint32_t i)
{
	return r->entries +
	       (size_t)i * vh_proto_reply_entry_size(vh_proto_msg(r->hdr.type), r->hdr.version);
}

int vh_proto_reply_vcpu(const struct vh_proto_reply *r, uint32_t i, struct vh_proto_vcpu_stats *out)
{
	const uint8_t *p;

	if (entry_check(r, VH_PROTO_VM_STATS, i))
		return VH_E_INVAL;
	p = entry_at(r, i);
	out->index = R32(p, vh_wire_vcpu_stats, index);
	get_cpu_stats(WATC(p, vh_wire_vcpu_stats, cpu), &out->cpu);
	out->cpu.limited_ns = r->hdr.version >= 2 ? R64(p, vh_wire_vcpu_stats, limited_ns) : 0;
	out->cpu.stolen_ns = r->hdr.version >= 2 ? R64(p, vh_wire_vcpu_stats, stolen_ns) : 0;
	return VH_OK;
}

int vh_proto_reply_pcpu(const struct vh_proto_reply *r, uint32_t i, struct vh_pcpu_stats *out)
{
	const uint8_t *p;

	if (entry_check(r, VH_PROTO_HOST_STATS, i))
		return VH_E_INVAL;
	p = r->entries + (size_t)i * sizeof(struct vh_wire_pcpu_stats);
	out->busy_ns = R64(p, vh_wire_pcpu_stats, busy_ns);
	out->idle_ns = R64(p, vh_wire_pcpu_stats, idle_ns);
	return VH_OK;
}

int vh_proto_reply_vm_summary(const struct vh_proto_reply *r, uint32_t i,
			      struct vh_proto_vm_summary *out)
{
	if (entry_check(r, VH_PROTO_VM_LIST, i))
		return VH_E_INVAL;
	/* A hypervisor's summary always passes; one that does not is a
	 * malformed reply. */
	if (get_vm_summary(r->entries + (size_t)i * sizeof(struct vh_wire_vm_summary), out, NULL))
		return VH_E_PROTO;
	return VH_OK;
}

int vh_proto_reply_vm_stats(const struct vh_proto_reply *r, uint32_t i,
			    struct vh_proto_vm_stats *out)
{
	if (entry_check(r, VH_PROTO_VM_STATS_ALL, i))
		return VH_E_INVAL;
	vh_memset(out, 0, sizeof(*out));
	get_vm_stats(entry_at(r, i), out, r->hdr.version);
	return VH_OK;
}
