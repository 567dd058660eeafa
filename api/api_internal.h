/* SPDX-License-Identifier: Apache-2.0 */
/* What the files of libvhapi share and do not export through vh_api.h. */
#ifndef VH_API_INTERNAL_H
#define VH_API_INTERNAL_H

#include "api/vh_api.h"
#include "vh/error.h"

/* The largest integer the API accepts for MHz and MiB figures: 2^53 - 1,
 * so that every client's JSON numbers (JavaScript's included) hold it
 * exactly. */
#define VH_API_MAX_INT 9007199254740991ull

/* Marks an integer node whose literal json-c clamped (above UINT64_MAX):
 * vh_api_parse sets it as the node's userdata, the readers refuse it. */
extern const char vh_api_clamped_marker;

/* A core error (vh_vm_config_validate, vh_shares_validate) as a problem:
 * the field is lifted from the reason's "field: " prefix and translated
 * to the API's name, as for the hypervisor's errors. */
void vh_api_from_vh_error(const struct vh_error *e, struct vh_api_problem *p);

/* "cpu" + "limit_mhz" -> "cpu.limit_mhz"; "" + "name" -> "name". */
void vh_api_join_field(char *out, size_t cap, const char *prefix, const char *key);

/* Copies a string checked to fit (len < cap) and zero-fills the rest, so
 * a config built from JSON has one byte image. */
void vh_api_copy_str(char *dst, size_t cap, const char *src);

/* A JSON integer v in min..max (a clamped literal, a negative number, a
 * fraction or another type fails naming `field`). */
int vh_api_read_u64(struct json_object *v, const char *field, uint64_t min, uint64_t max,
		    uint64_t *out, struct vh_api_problem *p);

/* Merges a "cpu" or "memory" object onto c (RFC 7396: present members
 * change, null restores the default: normal shares, no reservation, no
 * limit), checking reservation <= limit.  Fields are named "cpu.*" and
 * "memory.*" (the VM object's paths, as the hypervisor names them too). */
int vh_api_merge_cpu(struct json_object *obj, struct vh_cpu_controls *c, struct vh_api_problem *p);
int vh_api_merge_mem(struct json_object *obj, struct vh_mem_controls *m, struct vh_api_problem *p);

/* "relaxed", "strict", "none"; device names ("uart16550", "debug_exit",
 * "fw_cfg", "balloon"); NULL when out of range. */
const char *vh_api_cosched_name(uint32_t mode);
const char *vh_api_boot_kind_name(uint32_t kind);
const char *vh_api_device_name(uint32_t type);

/* Integer-or-null readers for the controls: null gives `if_null`. */
int vh_api_get_u64_or_null(struct json_object *obj, const char *key, const char *field,
			   uint64_t min, uint64_t max, uint64_t if_null, uint64_t *out,
			   struct vh_api_problem *p);

/* The MiB of a page count with 3 decimals, as a JSON double printed as
 * such ("0.004", "256.0"). */
struct json_object *vh_api_mib_of_pages(uint64_t pages, uint64_t page_size);

/* The length of the valid UTF-8 sequence at s[0..len) (1..4), or 0 when
 * it is malformed, overlong, a surrogate or above U+10FFFF. */
size_t vh_api_utf8_seq(const unsigned char *s, size_t len);
/* Replaces every byte of s that is not part of valid UTF-8 with '?' (in
 * place: a detail cut by snprintf inside a sequence stays valid JSON text);
 * returns s. */
char *vh_api_utf8_clean(char *s);

/* Adds key -> val to obj; returns false on ENOMEM (val is released). */
bool vh_api_add(struct json_object *obj, const char *key, struct json_object *val);

#endif
