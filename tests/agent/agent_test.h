/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers for the libvhagent unit tests: private folders under the build
 * tree (the same file system the state folder would use, so fsync costs
 * are real), removed when a test passes. */
#ifndef VH_AGENT_TEST_H
#define VH_AGENT_TEST_H

#include <stddef.h>

/* A new empty folder tests/agent/runs/<tag>-XXXXXX (malloc'd path). */
char *at_tempdir(const char *tag);
/* rm -rf */
void at_rm_rf(const char *path);
/* Writes a file (whole), returns 0 or -1. */
int at_write_file(const char *path, const char *data, size_t len);
/* Reads a whole file (malloc'd, NUL-terminated) or NULL. */
char *at_read_file(const char *path, size_t *len);
/* Number of entries in a folder whose name starts with prefix (all
 * entries but . and .. when prefix is ""), or -1. */
int at_count(const char *dir, const char *prefix);
/* Monotonic seconds. */
double at_now(void);

#endif
