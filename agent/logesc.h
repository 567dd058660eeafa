/* SPDX-License-Identifier: Apache-2.0 */
/* Escaping of what goes into the agent's log.  Request paths, methods,
 * header values, names and certificate subjects are the client's bytes;
 * written as they are, a "%0A" in a path forges a log line and an escape
 * sequence rewrites a terminal.  vh_log passes every message through
 * vh_log_escape, so no caller can forget. */
#ifndef VH_AGENT_LOGESC_H
#define VH_AGENT_LOGESC_H

#include <stddef.h>

/* Worst case: every byte becomes "\xNN". */
#define VH_LOG_ESCAPE_MAX(n) ((n)*4 + 1)

/* Copies in to out (cap bytes, always NUL-terminated when cap > 0) with
 * control bytes (C0, DEL and the C1 range U+0080..U+009F), bytes that are
 * not well-formed UTF-8, and '\' written as \xNN (a backslash as "\\").
 * Well-formed printable UTF-8 passes as it is.  An escape is never cut
 * in half at the end of out.  Returns the length written. */
size_t vh_log_escape(const char *in, char *out, size_t cap);

#endif
