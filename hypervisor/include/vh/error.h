/* SPDX-License-Identifier: Apache-2.0 */
/* Errors: a stable code (carried by the control protocol and mapped to
 * REST problem codes by the agent) plus a human-readable reason that names
 * what was wrong (the field, the shortfall). */
#ifndef VH_ERROR_H
#define VH_ERROR_H

#include "vh/compiler.h"

enum vh_errcode {
	VH_OK = 0,
	VH_E_INVAL = 1,     /* a field is malformed or out of range */
	VH_E_NOENT = 2,     /* no such VM (or other object) */
	VH_E_EXIST = 3,     /* name or uuid already in use */
	VH_E_STATE = 4,     /* not allowed in the object's current state */
	VH_E_NOMEM = 5,     /* the hypervisor ran out of memory for metadata */
	VH_E_ADMISSION = 6, /* reservations would exceed capacity */
	VH_E_LIMIT = 7,     /* a hard limit (VM count, vCPUs) is reached */
	VH_E_PROTO = 8,     /* malformed control message */
	VH_E_VERSION = 9,   /* unsupported control protocol version */
	VH_E_BUSY = 10,     /* try again: the object is changing */
	VH_E_INTERNAL = 11, /* a bug: an invariant did not hold */
	VH_E_COUNT_
};

#define VH_ERROR_REASON_MAX 160

/* Out-parameter for operations that can fail; may be NULL when the caller
 * only wants the code. */
struct vh_error {
	enum vh_errcode code;
	char reason[VH_ERROR_REASON_MAX];
};

/* Stable lower-case identifier ("admission", "inval", ...). */
const char *vh_errcode_name(enum vh_errcode code);

/* Records code and formatted reason in err (when non-NULL); returns code,
 * so a failing path reads: return vh_error_set(err, VH_E_INVAL, "...");. */
enum vh_errcode vh_error_set(struct vh_error *err, enum vh_errcode code, const char *fmt, ...)
	VH_PRINTF(3, 4);
void vh_error_clear(struct vh_error *err);

#endif
