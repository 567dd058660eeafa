/* SPDX-License-Identifier: Apache-2.0 */
/* A VM on the simulated platform to load guest images into, and reads of
 * its memory (test_loader.c, test_linux_loader.c). */
#ifndef VH_TEST_LOADER_ENV_H
#define VH_TEST_LOADER_ENV_H

#include "mem_env.h"
#include "vh/loader.h"

struct loader_env {
	struct mem_env m;
	struct vh_vm *vm;
	struct vh_boot_state bs;
	struct vh_error err;
};

static inline void loader_env_init(struct loader_env *e, uint64_t mib)
{
	mem_env_init(&e->m, 64);
	e->vm = mem_env_vm(&e->m, "l", mib, 0, VH_UNLIMITED, true);
	memset(&e->err, 0, sizeof(e->err));
}

static inline uint32_t rd32(struct loader_env *e, uint64_t gpa)
{
	uint32_t v = 0;
	VH_EXPECT_EQ(vh_mem_guest_read(&e->m.h, e->vm, gpa, &v, 4, NULL), VH_OK);
	return v;
}

static inline void expect_bytes(struct loader_env *e, uint64_t gpa, const uint8_t *want, size_t n)
{
	uint8_t *got = malloc(n);

	VH_ASSERT(got != NULL);
	VH_ASSERT_EQ(vh_mem_guest_read(&e->m.h, e->vm, gpa, got, n, NULL), VH_OK);
	VH_EXPECT_MEMEQ(got, want, n);
	free(got);
}

static inline uint64_t rd64(struct loader_env *e, uint64_t gpa)
{
	uint64_t v = 0;
	VH_EXPECT_EQ(vh_mem_guest_read(&e->m.h, e->vm, gpa, &v, 8, NULL), VH_OK);
	return v;
}

static inline void rdstr(struct loader_env *e, uint64_t gpa, char *buf, size_t n)
{
	VH_ASSERT_EQ(vh_mem_guest_read(&e->m.h, e->vm, gpa, buf, n, NULL), VH_OK);
	buf[n - 1] = 0;
}

#endif
