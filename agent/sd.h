/* SPDX-License-Identifier: Apache-2.0 */
/* systemd integration through libsystemd: readiness and status
 * (Type=notify: READY=1, STATUS=…, STOPPING=1, RELOADING=1), the
 * watchdog, socket activation, and logging to the journal with a stderr
 * fallback.  Every call is harmless when not run by systemd. */
#ifndef VH_AGENT_SD_H
#define VH_AGENT_SD_H

#include <stdint.h>

void vh_sd_ready(const char *status);
void vh_sd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vh_sd_stopping(void);
void vh_sd_reloading(void);
/* The watchdog interval in microseconds (0: no watchdog); ping at half. */
uint64_t vh_sd_watchdog_usec(void);
void vh_sd_watchdog_ping(void);
/* A socket passed by systemd whose FileDescriptorName= is name ("unix",
 * "https"), or -1.  Call once per name, before anything else opens fds. */
int vh_sd_listen_fd(const char *name);

enum vh_log_level { VH_LOG_ERR = 3, VH_LOG_WARNING = 4, VH_LOG_INFO = 6, VH_LOG_DEBUG = 7 };
/* To the journal when stderr is connected to it (JOURNAL_STREAM) or
 * systemd started us, with PRIORITY; otherwise "vhagent: <level>: …" on
 * stderr.  Thread-safe. */
void vh_log(enum vh_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vh_log_set_level(enum vh_log_level max);

#endif
