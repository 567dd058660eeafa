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

/* Maps the area read-only and opens it; NULL (said why) on failure. */
static uint8_t *map_view(int fd, const struct vh_proto_stats_map *m, struct vh_pub_view *v)
{
	struct vh_error err;
	uint8_t *ro = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);

	if (ro == MAP_FAILED) {
		fprintf(stderr, "vh-msg: mmap: %s\n", strerror(errno));
		return NULL;
	}
	if (vh_pub_open(v, ro, m->size, &err) != VH_OK) {
		fprintf(stderr, "vh-msg: the area: %s\n", err.reason);
		munmap(ro, m->size);
		return NULL;
	}
	return ro;
}

/* How far x lies outside [lo, hi] (0 inside). */
static uint64_t outside(uint64_t x, uint64_t lo, uint64_t hi)
{
	return x < lo ? lo - x : x > hi ? x - hi : 0;
}

/* The largest distance of a protocol CPU time from the area's read just
 * before and just after the request. */
static uint64_t cpu_outside(const struct vh_cpu_stats *p, const struct vh_cpu_stats *a,
			    const struct vh_cpu_stats *b)
{
	uint64_t d[] = {
		outside(p->used_ns, a->used_ns, b->used_ns),
		outside(p->ready_ns, a->ready_ns, b->ready_ns),
		outside(p->wait_ns, a->wait_ns, b->wait_ns),
		outside(p->costop_ns, a->costop_ns, b->costop_ns),
		outside(p->stolen_ns, a->stolen_ns, b->stolen_ns),
	}, m = 0;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
		m = d[i] > m ? d[i] : m;
	return m;
}

struct side {
	struct vh_proto_vm_stats st;
	struct vh_proto_vcpu_stats vc[VH_VM_MAX_VCPUS];
	uint32_t n;
};

int vh_msg_pub_compare(int fd, const struct vh_proto_stats_map *m,
		       int (*ask)(struct vh_proto_reply *r), uint64_t quantum_ns, unsigned rounds)
{
	static struct side before, after;
	struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_ID };
	struct vh_proto_reply r;
	struct vh_pub_view v;
	uint64_t worst = 0, used = 0;
	uint8_t *ro = map_view(fd, m, &v);
	int rc = 0, slot = -1;

	if (!ro)
		return 2;
	/* Which VM, then each round: the area, VM_STATS, the area again; the
	 * protocol's answer at its instant must lie between the two reads
	 * (give or take time moved by a steal settlement), within a quantum. */
	if (ask(&r) || r.hdr.status != VH_OK || (ref.id = r.u.vm_stats.vm.id, false) ||
	    (slot = vh_pub_find(&v, &ref)) < 0) {
		fprintf(stderr, "vh-msg: the VM is not in the area\n");
		munmap(ro, m->size);
		return 2;
	}
	for (unsigned i = 0; i < rounds && rc == 0; i++) {
		if (vh_pub_read_vm(&v, (uint32_t)slot, now_ns(), NULL, &before.st, before.vc,
				   &before.n) != VH_OK ||
		    ask(&r) || r.hdr.status != VH_OK ||
		    vh_pub_read_vm(&v, (uint32_t)slot, now_ns(), NULL, &after.st, after.vc,
				   &after.n) != VH_OK) {
			rc = 2;
			break;
		}
		if (cpu_outside(&r.u.vm_stats.vm.cpu, &before.st.cpu, &after.st.cpu) > worst)
			worst = cpu_outside(&r.u.vm_stats.vm.cpu, &before.st.cpu, &after.st.cpu);
		for (uint32_t k = 0; k < r.nentries && k < before.n && k < after.n; k++) {
			struct vh_proto_vcpu_stats vs;
			if (vh_proto_reply_vcpu(&r, k, &vs) == VH_OK &&
			    cpu_outside(&vs.cpu, &before.vc[k].cpu, &after.vc[k].cpu) > worst)
				worst = cpu_outside(&vs.cpu, &before.vc[k].cpu, &after.vc[k].cpu);
		}
		used = r.u.vm_stats.vm.cpu.used_ns;
		if (worst > quantum_ns)
			rc = 1;
	}
	printf("compare.rounds: %u\ncompare.max_diff_ns: %" PRIu64 "\ncompare.quantum_ns: %" PRIu64
	       "\ncompare.used_ns: %" PRIu64 "\n",
	       rounds, worst, quantum_ns, used);
	munmap(ro, m->size);
	return rc;
}

int vh_msg_pub_show(int fd, const struct vh_proto_stats_map *m, bool check)
{
	struct vh_pub_view v;
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
	if (!(ro = map_view(fd, m, &v)))
		return 2;
	now = now_ns();
	printf("header.instance: %" PRIu64 "\n", v.hdr->instance);
	printf("generation: %" PRIu64 "\nlive: %s\nheartbeat_age_ms: %" PRIu64 "\n",
	       vh_pub_generation(&v), vh_pub_live(&v) ? "yes" : "no",
	       (now - v.hdr->heartbeat_ns) / 1000000u);
	for (uint32_t t = 1; t < VH_PROTO_TYPE_COUNT; t++)
		printf("msgs.%s: %" PRIu64 "\n", vh_proto_type_name(t), vh_pub_msgs(&v, t));
	for (uint32_t slot = 0; slot < v.lay.max_vms; slot++) {
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
