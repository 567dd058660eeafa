/* SPDX-License-Identifier: Apache-2.0 */
/* Error codes and reasons. */
#include <stdarg.h>

#include "vh/error.h"
#include "vh/format.h"

static const char *const errcode_names[VH_E_COUNT_] = {
	[VH_OK] = "ok",
	[VH_E_INVAL] = "invalid",
	[VH_E_NOENT] = "not_found",
	[VH_E_EXIST] = "exists",
	[VH_E_STATE] = "bad_state",
	[VH_E_NOMEM] = "no_memory",
	[VH_E_ADMISSION] = "admission",
	[VH_E_LIMIT] = "limit",
	[VH_E_PROTO] = "protocol",
	[VH_E_VERSION] = "version",
	[VH_E_BUSY] = "busy",
	[VH_E_INTERNAL] = "internal",
};

const char *vh_errcode_name(enum vh_errcode code)
{
	if ((unsigned)code < VH_E_COUNT_ && errcode_names[code])
		return errcode_names[code];
	return "unknown";
}

enum vh_errcode vh_error_set(struct vh_error *err, enum vh_errcode code, const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vh_vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	return code;
}

void vh_error_clear(struct vh_error *err)
{
	if (err) {
		err->code = VH_OK;
		err->reason[0] = '\0';
	}
}
