/* SPDX-License-Identifier: Apache-2.0 */
/* libvhapi: what vhagent and vhctl share about the REST API (api/openapi.yaml
 * is the contract): strict JSON input, the VM object and its validation
 * (naming the field at fault), the JSON forms of host, VM, stats and
 * image resources, RFC 9457 problem details with stable codes, and the
 * size and rate units people type ("512M", "1.5GHz").
 *
 * The VM object (as the API speaks it):
 *   {"name":"web1","uuid":"…","vcpus":2,"memory_mib":256,
 *    "cpu":{"shares":"high"|"low"|"normal"|N,"reservation_mhz":500,"limit_mhz":null},
 *    "memory":{"shares":"normal","reservation_mib":128,"limit_mib":null},
 *    "cosched":"relaxed"|"strict"|"none",
 *    "boot":{"kernel":"spinner.elf","cmdline":"","modules":[{"image":"x","cmdline":""}]},
 *    "devices":["uart16550","debug_exit","fw_cfg","balloon"] (default: the first two),
 *    "balloon":{"target_mib":N|null},
 *    "state":"defined"|"running"|…, "state_changes":N, "boot_generation":N (read only)}
 * A null limit means unlimited; shares are a level or 1..1,000,000.
 *
 * User-space C (json-c); links libvhcore.a for the core's own rules
 * (vh_vm_config_default, vh_vm_config_validate, vh_shares_validate) and
 * names (states, exit kinds, error codes), never for a running host. */
#ifndef VH_API_H
#define VH_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "vh/proto.h"
#include "vh/vm.h"

/* ---- problems (RFC 9457) ------------------------------------------------ */

/* Stable machine-readable codes: clients switch on these, never on text. */
enum vh_api_code {
	VH_API_OK = 0,
	VH_API_BAD_JSON,              /* 400 malformed JSON, trailing data, duplicate key */
	VH_API_INVALID_FIELD,         /* 422 wrong type, out of range, unknown field */
	VH_API_MISSING_FIELD,         /* 422 required field absent */
	VH_API_NOT_FOUND,             /* 404 no such VM, image, token or route */
	VH_API_METHOD_NOT_ALLOWED,    /* 405 */
	VH_API_CONFLICT,              /* 409 name taken, image in use, wrong state */
	VH_API_ADMISSION,             /* 409 reservations would exceed capacity */
	VH_API_PRECONDITION,          /* 412 If-Match did not match the ETag */
	VH_API_PRECONDITION_REQUIRED, /* 428 (not used unless configured) */
	VH_API_TOO_LARGE,             /* 413 body over the limit */
	VH_API_UNSUPPORTED_MEDIA,     /* 415 not application/json */
	VH_API_UNAUTHORIZED,          /* 401 no or unknown credentials */
	VH_API_FORBIDDEN,             /* 403 role too weak */
	VH_API_LIMIT,                 /* 409 a hard limit (VM count, vCPUs) */
	VH_API_BUSY,                  /* 503 try again */
	VH_API_UNAVAILABLE,           /* 503 the hypervisor is unreachable */
	VH_API_CHECKSUM,              /* 422 image SHA-256 mismatch */
	VH_API_INTERNAL,              /* 500 */
	VH_API_IDEMPOTENCY_MISMATCH,  /* 422 Idempotency-Key reused with another request */
	VH_API_TOO_MANY_REQUESTS,     /* 429 connection or request limit reached */
	VH_API_BAD_REQUEST,           /* 400 a header or parameter this route does not take */
	VH_API_INSUFFICIENT_STORAGE,  /* 507 the state folder's file system is full */
	VH_API_TIMEOUT,               /* 504 the hypervisor did not answer in time */
	VH_API_SIMULATION_TIMEOUT,    /* 504 a what-if ran past simulate_timeout_ms */
	VH_API_CODE_COUNT
};

#define VH_API_FIELD_MAX 64
#define VH_API_DETAIL_MAX 256

struct vh_api_problem {
	enum vh_api_code code;
	char field[VH_API_FIELD_MAX];   /* "cpu.shares", or "" */
	char detail[VH_API_DETAIL_MAX]; /* one sentence for a human */
};

/* Sets *p and returns -1 (so `return vh_api_fail(p, ...)` reads well). */
int vh_api_fail(struct vh_api_problem *p, enum vh_api_code code, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int vh_api_http_status(enum vh_api_code code);
const char *vh_api_code_name(enum vh_api_code code); /* "invalid_field" */
enum vh_api_code vh_api_code_from_name(const char *name); /* VH_API_CODE_COUNT if unknown */
/* The hypervisor's error (enum vh_errcode, field, reason) as a problem. */
void vh_api_from_proto_error(const struct vh_proto_error *e, struct vh_api_problem *p);
/* application/problem+json: {"type":"https://vh.dev/problems/<code>",
 * "title":…,"status":N,"detail":…,"code":"…","field":"…"(if any)}.
 * Returns a malloc'd NUL-terminated string (NULL only on ENOMEM). */
char *vh_api_problem_json(const struct vh_api_problem *p, const char *instance);

/* ---- strict JSON input -------------------------------------------------- */

/* Parses exactly one JSON value filling buf[0..len): JSON_TOKENER_STRICT,
 * nothing but whitespace after it, no duplicate keys in any object, no
 * NaN/Infinity, depth at most 16.  On failure *out is NULL and p says why
 * (VH_API_BAD_JSON, with the byte offset in the detail). */
int vh_api_parse(const char *buf, size_t len, struct json_object **out, struct vh_api_problem *p);

/* Field readers for objects: each checks the JSON type and range itself
 * (json-c clamps silently) and names `field` on failure.  "Optional"
 * readers leave *out untouched when the key is absent and return 0. */
int vh_api_get_u64(struct json_object *obj, const char *key, const char *field, uint64_t min,
		   uint64_t max, bool required, uint64_t *out, struct vh_api_problem *p);
int vh_api_get_string(struct json_object *obj, const char *key, const char *field, size_t max_len,
		      bool required, const char **out, struct vh_api_problem *p);
int vh_api_get_bool(struct json_object *obj, const char *key, const char *field, bool required,
		    bool *out, struct vh_api_problem *p);
/* Rejects any key of obj not in the NULL-terminated list (names the
 * prefix + key: "cpu.sharez"); rejects obj that is not an object. */
int vh_api_only_keys(struct json_object *obj, const char *prefix, const char *const *keys,
		     struct vh_api_problem *p);

/* ---- the VM object ------------------------------------------------------ */

/* Shares, limits: JSON "low"/"normal"/"high" or an integer 1..1,000,000;
 * limit null = VH_UNLIMITED.  `field` names it in errors. */
int vh_api_shares_from_json(struct json_object *v, const char *field, struct vh_shares *out,
			    struct vh_api_problem *p);
struct json_object *vh_api_shares_to_json(const struct vh_shares *s);

/* POST /v1/vms: a whole VM from JSON.  Starts from vh_vm_config_default(),
 * requires name, accepts every key of the VM object except read-only ones
 * (uuid is accepted when given, to re-create a known VM), rejects unknown
 * keys.  Checks types and ranges the API defines (vcpus 1..VH_VM_MAX_VCPUS,
 * memory_mib 1..VH_VM_MAX_MEMORY_MIB, name charset [A-Za-z0-9._-] 1..63,
 * image names as vh_api_image_name_valid, reservation <= limit); then
 * vh_vm_config_validate().  *balloon_target_mib gets the balloon target
 * (UINT64_MAX when absent or null). */
int vh_api_vm_from_json(struct json_object *obj, struct vh_vm_config *cfg,
			uint64_t *balloon_target_mib, struct vh_api_problem *p);
/* PATCH /v1/vms/{vm}: RFC 7396 merge patch onto cfg (a copy is changed
 * only when the whole patch is valid).  name, vcpus, memory_mib, cosched,
 * boot change only while the VM is not running or paused (the caller
 * passes running=true then, and such keys give VH_API_CONFLICT); cpu and
 * memory apply at run time.  *what gets VH_API_PATCH_* bits of what changed. */
#define VH_API_PATCH_CPU 0x1u
#define VH_API_PATCH_MEM 0x2u
#define VH_API_PATCH_BALLOON 0x4u
#define VH_API_PATCH_OFFLINE 0x8u /* name, vcpus, memory, cosched, boot */
int vh_api_vm_patch(struct json_object *patch, bool running, struct vh_vm_config *cfg,
		    uint64_t *balloon_target_mib, unsigned *what, struct vh_api_problem *p);
/* PUT /v1/vms/{vm}/cpu and /memory: the whole object ({"shares":…,
 * "reservation_mhz":…,"limit_mhz":…}); absent keys take the defaults
 * (normal, 0, unlimited), as PUT replaces. */
int vh_api_cpu_from_json(struct json_object *obj, struct vh_cpu_controls *out,
			 struct vh_api_problem *p);
int vh_api_mem_from_json(struct json_object *obj, struct vh_mem_controls *out,
			 struct vh_api_problem *p);
struct json_object *vh_api_cpu_to_json(const struct vh_cpu_controls *c);
struct json_object *vh_api_mem_to_json(const struct vh_mem_controls *m);

/* The VM resource: config from the hypervisor's vm_info plus state etc. */
struct json_object *vh_api_vm_to_json(const struct vh_proto_vm_info *info);
/* A list entry (GET /v1/vms) from a summary (no boot section). */
struct json_object *vh_api_vm_summary_to_json(const struct vh_proto_vm_summary *s);
/* Also the persisted definition: config + balloon target, round-trips
 * exactly through vh_api_vm_from_json. */
struct json_object *vh_api_vm_config_to_json(const struct vh_vm_config *cfg,
					     uint64_t balloon_target_mib);

const char *vh_api_state_name(uint32_t state);       /* "running" */
int vh_api_state_from_name(const char *name);        /* -1 if unknown */
void vh_api_uuid_format(const uint8_t uuid[16], char out[37]);
int vh_api_uuid_parse(const char *s, uint8_t uuid[16]); /* -1 if malformed */
/* A VM reference from a path segment: a canonical uuid is a uuid,
 * anything else a name. */
void vh_api_vm_ref(const char *segment, struct vh_proto_vm_ref *ref);
/* [A-Za-z0-9._-], 1..63, starting with a letter or digit (so never . or
 * .., as the core's vh_vm_config_validate wants), and not shaped like a
 * uuid (a path segment that is one is taken as a uuid). */
bool vh_api_name_valid(const char *name);
bool vh_api_image_name_valid(const char *name); /* same charset, 1..63, uuids allowed */

/* ---- other request bodies ----------------------------------------------- */

/* PUT /v1/vms/{vm}/power: {"state":"running"|"stopped"|"paused",
 * "force":bool (optional, false)}. */
enum vh_api_power_state {
	VH_API_POWER_RUNNING,
	VH_API_POWER_STOPPED,
	VH_API_POWER_PAUSED,
	VH_API_POWER_COUNT
};
struct vh_api_power {
	enum vh_api_power_state state;
	bool force;
};
int vh_api_power_from_json(struct json_object *obj, struct vh_api_power *out,
			   struct vh_api_problem *p);
/* POST /v1/tokens: {"name": a name as vh_api_name_valid, "role":
 * "viewer"|"operator"|"admin"}; out gets both, NUL-terminated. */
struct vh_api_token_request {
	char name[64];
	char role[16];
};
int vh_api_token_request_from_json(struct json_object *obj, struct vh_api_token_request *out,
				   struct vh_api_problem *p);
/* POST /v1/disks: {"name": a disk name (vh_vm_name_valid: no slash, no
 * "..", 1..63 bytes), "size": bytes, a positive multiple of 512}.
 * PATCH /v1/disks/{disk}: {"size": ...} only (with_name false); whether
 * it grows is the datastore's to say. */
struct vh_api_disk_request {
	char name[VH_DISK_NAME_MAX];
	uint64_t size;
};
/* The largest disk the API takes: 2^63 - 512 bytes (an off_t). */
#define VH_API_DISK_MAX_BYTES (UINT64_C(0x7fffffffffffffff) & ~UINT64_C(511))
int vh_api_disk_request_from_json(struct json_object *obj, bool with_name,
				  struct vh_api_disk_request *out, struct vh_api_problem *p);

/* ---- stats and host ------------------------------------------------------ */

/* GET /v1/vms/{vm}/stats: {"vm":name,"uuid":…,"id":N,"state":…,
 *  "cpu":{"used_ms","ready_ms","limited_ms","stolen_ms","costop_ms","wait_ms","runs"},
 *  "memory":{"granted_mib","consumed_mib","active_mib","shared_mib",
 *            "balloon_mib","swapped_mib","overhead_mib","entitled_mib",
 *            "reclaim_target_mib","idle_tax_mib","balloon_reason"},
 *  "exits":{"<kind>":N,…},"console":{…},"admission_refusals":N,
 *  "vcpus":[{"index","cpu":{…}}]}.
 * MiB figures are pages * 4 KiB / 1 MiB with 3 decimals (doubles).  s may
 * be NULL (VM_STATS_ALL entries carry no name: "vm" and "uuid" are left
 * out); vcpus may be NULL with nvcpus 0 ("vcpus" is left out). */
struct json_object *vh_api_vm_stats_to_json(const struct vh_proto_vm_summary *s,
					    const struct vh_proto_vm_stats *st,
					    const struct vh_proto_vcpu_stats *vcpus,
					    uint32_t nvcpus);
/* The same object as text, exactly the bytes json-c's
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE gives for it,
 * written without json-c objects (GET /v1/stats writes a hundred per
 * request), appended to t: 0, or -1 out of memory (t->oom).  t starts
 * zeroed; its buf is malloc'd and NUL-terminated; free it. */
struct vh_api_text {
	char *buf;
	size_t len, cap;
	bool oom;
};
int vh_api_vm_stats_text(struct vh_api_text *t, const struct vh_proto_vm_summary *s,
			 const struct vh_proto_vm_stats *st,
			 const struct vh_proto_vcpu_stats *vcpus, uint32_t nvcpus);
/* Appends a NUL-terminated string, or n bytes, as they are. */
void vh_api_text_raw(struct vh_api_text *t, const char *s);
void vh_api_text_add(struct vh_api_text *t, const char *s, size_t n);
/* GET /v1/host; hs may be NULL (the reserved, free and busy figures are
 * left out). */
struct json_object *vh_api_host_to_json(const struct vh_proto_host_info *hi,
					const struct vh_proto_host_stats *hs);
const char *vh_api_exit_kind_name(unsigned kind); /* "cpuid", "io", …; NULL past the end */

/* ---- diagnosis (diagnosis.c) ---------------------------------------------- */

/* One VM as a diagnosis sees it: its summary (name, vCPUs, controls) and
 * its counters at the window's start (a) and end (b). */
struct vh_api_diag_vm {
	struct vh_proto_vm_summary s;
	struct vh_proto_vm_stats a, b;
};

/* Two samples of the counters window_ns apart.  vms: every VM on the
 * host (a VM diagnosis weighs its shares against the others').  For
 * GET /v1/vms/{vm}/diagnosis, self indexes vms and vcpu_a, vcpu_b hold
 * its nvcpus vCPUs' counters at both ends (all zero at the start: the
 * lag over the VM's life; NULL: co-stop names no vCPU). */
struct vh_api_diag_input {
	const struct vh_proto_host_info *hi;
	const struct vh_proto_host_stats *hs; /* at the window's end */
	uint64_t window_ns;
	const struct vh_api_diag_vm *vms;
	size_t nvms;
	size_t self;
	const struct vh_cpu_stats *vcpu_a, *vcpu_b;
	uint32_t nvcpus;
};

/* GET /v1/vms/{vm}/diagnosis: {"vm","uuid","state","window_ms","vcpus",
 *  "cpu":{"used_pct","ready_pct","limited_pct","costop_pct","wait_pct"},
 *  "causes":[{"code","kind":"problem"|"info","cost_pct","figures":{…},
 *             "message","remedy"}…] (most costly first),"summary"}.
 * Codes: cpu_contention, cpu_limit, costop, halted, balloon,
 * idle_memory_tax, page_sharing, admission, not_running.  NULL when
 * self or the window is out of range (or out of memory). */
struct json_object *vh_api_diagnose_vm(const struct vh_api_diag_input *in);
/* GET /v1/host/diagnosis: the VMs that take most CPU, reservations
 * against capacity, how close admission control is to refusing. */
struct json_object *vh_api_diagnose_host(const struct vh_api_diag_input *in);

/* ---- what-if (whatif.c) ---------------------------------------------------- */

/* POST /v1/simulate: {"duration_s":1..300 (default 10),"changes":[…]} with
 * at most VH_API_WHATIF_MAX_CHANGES changes, each one of
 *   {"vm":NAME,"cpu":{…}}     the VM's CPU controls, merged as PATCH merges
 *   {"vm":NAME,"memory":{…}}  its memory controls, likewise
 *   {"vm":NAME,"power":"stopped"|"running"}
 *   {"add":VM object as POST /v1/vms takes it,
 *    "workload":{"busy_pct":0..100,"active_pct":0..100} (optional: 100, 100)}
 * The live host (hi, every VM with its counters at both ends of the
 * demand window) becomes a vh-sim scenario (docs/vh-sim.md) with the
 * changes at time 0, applied by the core as the API would apply them; the
 * simulator's report becomes the reply. */
#define VH_API_WHATIF_MAX_CHANGES 64
#define VH_API_WHATIF_MAX_ADDS    16
#define VH_API_WHATIF_DURATION_MIN 1
#define VH_API_WHATIF_DURATION_MAX 300
#define VH_API_WHATIF_DURATION_DEFAULT 10

enum vh_api_whatif_kind {
	VH_API_WHATIF_CPU,
	VH_API_WHATIF_MEM,
	VH_API_WHATIF_STOP,
	VH_API_WHATIF_START,
	VH_API_WHATIF_ADD,
};

struct vh_api_whatif_change {
	enum vh_api_whatif_kind kind;
	char vm[VH_VM_NAME_MAX];
	struct vh_cpu_controls cpu; /* CPU: the controls after the merge */
	struct vh_mem_controls mem; /* MEM: likewise */
	struct vh_vm_config *add;   /* ADD: the definition (owned) */
	uint32_t busy_pct, active_pct; /* ADD: the workload assumed */
	unsigned line;              /* its line in the scenario */
};

struct vh_api_whatif {
	uint64_t duration_s;
	size_t nchanges;
	struct vh_api_whatif_change changes[VH_API_WHATIF_MAX_CHANGES];
};

/* The live host: its capacity and every VM with its counters at the
 * demand window's start (a: zero for a VM defined since) and end (b). */
struct vh_api_whatif_input {
	const struct vh_proto_host_info *hi;
	uint64_t window_ns;
	const struct vh_api_diag_vm *vms;
	size_t nvms;
};

/* Reads and checks a request against the live host: an unknown VM is
 * VH_API_NOT_FOUND, an added VM whose name is taken VH_API_CONFLICT,
 * like the real requests; *w is filled (free with vh_api_whatif_free).
 * 0 or -1 with p set; nothing is left allocated on failure. */
int vh_api_whatif_from_json(struct json_object *obj, const struct vh_api_whatif_input *in,
			    struct vh_api_whatif *w, struct vh_api_problem *p);
void vh_api_whatif_free(struct vh_api_whatif *w);
/* A VM's demand as the scenario models it: busy_pct of its vCPUs' time
 * runnable (used + ready of used + ready + halted), the rest halted;
 * active_mib its active memory. */
struct vh_api_whatif_demand {
	double busy_pct, active_mib, granted_mib;
	bool measured; /* false: never ran in the window (assumed busy 100%) */
};
void vh_api_whatif_demand(const struct vh_api_diag_vm *v, struct vh_api_whatif_demand *d);
/* Of the time the VMs' vCPUs held a pCPU over the window, the percent
 * the pCPUs' host took (vh-hosted on a loaded Linux): the scenario's
 * host steal=, so the prediction shares the pCPUs as the host does. */
double vh_api_whatif_steal_pct(const struct vh_api_whatif_input *in);
/* The vh-sim scenario (malloc'd text; NULL when out of memory); sets
 * each change's line. */
char *vh_api_whatif_scenario(const struct vh_api_whatif_input *in, struct vh_api_whatif *w);
/* The reply from vh-sim's JSON report (sim, as it printed it):
 * {"duration_s","window_ms","host":{…},"vms":[{"vm","vcpus","added","changed",
 *  "demand":{…},"before":{…measured},"after":{…predicted}}],
 *  "refused":[{"change","vm","action","status","code","field","detail"}],"summary"}.
 * NULL with p set when the report cannot be read. */
struct json_object *vh_api_whatif_reply(const struct vh_api_whatif_input *in,
					const struct vh_api_whatif *w, const char *sim,
					struct vh_api_problem *p);

/* ---- units (vhctl flags) -------------------------------------------------- */

/* A plain decimal number (digits only: no sign, space or unit) within
 * min..max; 0, or -1 when it is not one (vhctl's counts, query
 * parameters). */
int vh_api_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "512M", "2G", "512MiB", "1.5G", "4096K", plain "256" (= MiB) -> MiB,
 * rounding must be exact: "1.5M" is refused (not whole MiB). */
int vh_api_parse_mib(const char *s, uint64_t *mib, struct vh_api_problem *p, const char *field);
/* "500MHz", "1.5GHz", "2GHz", "800" (= MHz) -> MHz. */
int vh_api_parse_mhz(const char *s, uint64_t *mhz, struct vh_api_problem *p, const char *field);
/* 256 -> "256M", 2048 -> "2G", 1536 -> "1536M", VH_UNLIMITED -> "unlimited":
 * the largest binary unit that divides exactly. */
void vh_api_format_mib(uint64_t mib, char *out, size_t cap);

#endif
