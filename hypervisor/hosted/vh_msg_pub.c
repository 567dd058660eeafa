/* SPDX-License-Identifier: Apache-2.0 */
/* vh-msg stats-map: what STATS_MAP hands over, looked at from a client's
 * side.  Prints the area's header, the protocol messages answered per
 * type and every VM's CPU times, read the way the agent reads them
 * (vh/stats_pub.h); with `check`, also tries every way of writing to it
 * (write, a writable mapping, mprotect to writable, a store through the
 * read-only mapping, truncation) and fails unless each is refused. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vh/stats_pub.h"
#include "vh_msg_pub.h"

#define WANT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One "check.WHAT: refused|ALLOWED (errno)" line; false when allowed. */
static bool refused(const char *what, int rc, int want_errno)
{
	bool ok = rc < 0 && (!want_errno || errno == want_errno);

	printf("check.%s: %s (%s)\n", what, ok ? "refused" : "ALLOWED",
	       rc < 0 ? strerror(errno) : "succeeded");
	return ok;
}

/* A store through the read-only mapping, in a child: it must die of
 * SIGSEGV. */
static bool store_faults(volatile uint8_t *p)
{
	int st = 0;
	pid_t pid = fork();

	if (pid == 0) {
		/* The default action, not a sanitizer's report. */
		signal(SIGSEGV, SIG_DFL);
		p[64] = 1;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return false;
	printf("check.store: %s\n",
	       WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV ? "faults (SIGSEGV)" : "ALLOWED");
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

static bool check_writes(int fd, size_t size, uint8_t *ro)
{
	bool ok = true;
	void *w;

	ok &= refused("write", (int)pwrite(fd, "x", 1, 0), EPERM);
	w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok &= refused("mmap_shared_writable", w == MAP_FAILED ? -1 : 0, EPERM);
	if (w != MAP_FAILED)
		munmap(w, size);
	ok &= refused("mprotect_writable", mprotect(ro, size, PROT_READ | PROT_WRITE), EACCES);
	ok &= refused("ftruncate", ftruncate(fd, 0), EPERM);
	ok &= refused("add_seals", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	ok &= store_faults(ro);
	return ok;
}

int vh_msg_pub_show(int fd, const struct vh_proto_stats_map *m, bool check)
{
	struct vh_pub_view v;
	struct vh_error err;
	struct stat st;
	uint8_t *ro;
	int seals = fcntl(fd, F_GET_SEALS);
	bool ok = true;
	uint64_t now;

	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size < m->size) {
		fprintf(stderr, "vh-msg: the area is smaller than the reply says\n");
		return 2;
	}
	printf("layout_version: %" PRIu32 "\nsize: %" PRIu64 "\ninstance: %" PRIu64 "\n",
	       m->layout_version, m->size, m->instance);
	printf("seals: 0x%x%s\n", seals < 0 ? 0 : seals,
	       seals >= 0 && (seals & WANT_SEALS) == WANT_SEALS ? " (sealed)" : " (NOT SEALED)");
	ok &= seals >= 0 && (seals & WANT_SEALS) == WANT_SEALS;
	ro = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
	if (ro == MAP_FAILED) {
		fprintf(stderr, "vh-msg: mmap: %s\n", strerror(errno));
		return 2;
	}
	if (vh_pub_open(&v, ro, m->size, &err) != VH_OK) {
		fprintf(stderr, "vh-msg: the area: %s\n", err.reason);
		munmap(ro, m->size);
		return 2;
	}
	now = now_ns();
	printf("generation: %" PRIu64 "\nlive: %s\nheartbeat_age_ms: %" PRIu64 "\n",
	       vh_pub_generation(&v), vh_pub_live(&v) ? "yes" : "no",
	       (now - v.hdr->heartbeat_ns) / 1000000u);
	for (uint32_t t = 1; t < VH_PROTO_TYPE_COUNT; t++)
		printf("msgs.%s: %" PRIu64 "\n", vh_proto_type_name(t), vh_pub_msgs(&v, t));
	for (uint32_t slot = 0; slot < v.hdr->max_vms; slot++) {
		struct vh_proto_vm_summary s;
		struct vh_proto_vm_stats vs;
		if (!vh_pub_slot_id(&v, slot) ||
		    vh_pub_read_vm(&v, slot, now, &s, &vs, NULL, NULL) != VH_OK)
			continue;
		printf("vm.%s: id %" PRIu32 " state %s used_ns %" PRIu64 " ready_ns %" PRIu64 "\n",
		       s.name, s.id, vh_vm_state_name((enum vh_vm_state)s.state), vs.cpu.used_ns,
		       vs.cpu.ready_ns);
	}
	if (check)
		ok &= check_writes(fd, m->size, ro);
	munmap(ro, m->size);
	return ok ? 0 : 1;
}
