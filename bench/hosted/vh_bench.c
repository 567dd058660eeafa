/* SPDX-License-Identifier: Apache-2.0 */
/* vh-bench: drives vh-hosted through its control socket with the core's
 * codec and times what the issue asks for (bench/hosted/run.sh runs it):
 *   boot N IMAGE           define+start -> the VM stopped by the guest's
 *                          isa-debug-exit; N runs, one line per run (us)
 *   guest N IMAGE          N runs of a guest that measures itself: its
 *                          console as it is, then the VM's I/O exit count
 *                          (exits_io) from VM_STATS
 *   many N IMAGE           N VMs started at once (requests back to back),
 *                          until all stopped: VMs per second
 *   idle N IMAGE PID       RSS of PID per idle VM (KiB): what N more
 *                          add to N running; and the kernel's memory
 *                          per idle VM (host-wide counters)
 *   tsc                    the host's TSC frequency (MHz), measured
 *                          against CLOCK_MONOTONIC (no daemon needed)
 * Output lines are "key value" for the script. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vh/error.h"
#include "vh/proto.h"
#include "vh/stats.h"
#include "vh/vm.h"

static int fd = -1;
static uint8_t buf[VH_PROTO_MAX_MSG];

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static void die(const char *what)
{
	fprintf(stderr, "vh-bench: %s\n", what);
	exit(2);
}

static void send_req(struct vh_proto_request *rq)
{
	static uint64_t id;
	size_t len;

	rq->request_id = ++id;
	if (vh_proto_encode_request(rq, buf, sizeof(buf), &len, NULL) ||
	    send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		die("send");
}

static void recv_reply(struct vh_proto_reply *r)
{
	size_t have = 0, want = VH_PROTO_HEADER_SIZE;

	while (have < want) {
		ssize_t n = recv(fd, buf + have, want - have, 0);
		if (n <= 0)
			die("recv");
		have += (size_t)n;
		if (have == VH_PROTO_HEADER_SIZE && vh_proto_frame_len(buf, have, &want, NULL))
			die("framing");
	}
	if (vh_proto_decode_reply(buf, have, r, NULL))
		die("decode");
}

static uint32_t call(struct vh_proto_request *rq, struct vh_proto_reply *r)
{
	send_req(rq);
	recv_reply(r);
	if (r->hdr.status)
		fprintf(stderr, "vh-bench: %s: %s\n", vh_proto_type_name(rq->type),
			r->u.error.reason);
	return r->hdr.status;
}

static void ref(struct vh_proto_request *rq, const char *name)
{
	rq->vm.kind = VH_PROTO_REF_NAME;
	snprintf(rq->vm.name, sizeof(rq->vm.name), "%s", name);
}

static void define(const char *name, const char *image)
{
	struct vh_proto_request rq = { .type = VH_PROTO_VM_DEFINE };
	struct vh_proto_reply r;

	vh_vm_config_default(&rq.u.define);
	snprintf(rq.u.define.name, sizeof(rq.u.define.name), "%s", name);
	snprintf(rq.u.define.boot.kernel, sizeof(rq.u.define.boot.kernel), "%s", image);
	rq.u.define.memory_mib = 8;
	if (call(&rq, &r))
		exit(1);
}

static uint32_t state_of(const char *name)
{
	struct vh_proto_request rq = { .type = VH_PROTO_VM_GET };
	struct vh_proto_reply r;

	ref(&rq, name);
	if (call(&rq, &r))
		exit(1);
	return r.u.vm_info.summary.state;
}

static void simple(uint16_t type, const char *name)
{
	struct vh_proto_request rq = { .type = type };
	struct vh_proto_reply r;

	ref(&rq, name);
	if (call(&rq, &r))
		exit(1);
}

/* A VM that has just stopped may still be leaving a pCPU, and the core
 * answers BUSY until it has: a moment later it goes. */
static void undefine(const char *name)
{
	struct vh_proto_request rq = { .type = VH_PROTO_VM_UNDEFINE };
	struct vh_proto_reply r;
	struct timespec ms = { .tv_nsec = 1000000 };

	ref(&rq, name);
	for (int tries = 0;; tries++) {
		send_req(&rq);
		recv_reply(&r);
		if (r.hdr.status != VH_E_BUSY || tries == 1000)
			break;
		nanosleep(&ms, NULL);
	}
	if (r.hdr.status) {
		fprintf(stderr, "vh-bench: vm_undefine: %s\n", r.u.error.reason);
		exit(1);
	}
}

/* Waits until `name` stops itself, asking ten times a second: a guest
 * that times itself must not share the host's CPUs and the host lock with
 * a client asking as fast as it can (the boot measurement does, for the
 * start latency): on 2 CPUs that made each I/O exit a fifth slower
 * (medians of 7: 11.4 us against 9.5). */
static void wait_stopped_quietly(const char *name)
{
	struct timespec tenth = { .tv_nsec = 100000000 };

	while (state_of(name) == VH_VM_RUNNING)
		nanosleep(&tenth, NULL);
}

/* Prints what `name`, stopped, wrote on its console (the core keeps the
 * last VH_CONSOLE_TAIL_BYTES; a bench guest writes far less), then its
 * I/O exits: the proof that each OUT it timed reached vh's device models
 * in user space. */
static void print_console(const char *name)
{
	struct vh_proto_request rq = { .type = VH_PROTO_VM_CONSOLE };
	struct vh_proto_reply r;

	ref(&rq, name);
	if (call(&rq, &r))
		exit(1);
	fwrite(r.entries, 1, r.nentries, stdout);
	rq = (struct vh_proto_request){ .type = VH_PROTO_VM_STATS };
	ref(&rq, name);
	if (call(&rq, &r))
		exit(1);
	printf("exits_io %" PRIu64 "\n", r.u.vm_stats.vm.exits[VH_EXIT_IO]);
}

/* The host's TSC ticks per microsecond over half a second of
 * CLOCK_MONOTONIC.  KVM runs guests at the host's TSC rate (checked on
 * this host under vh-hosted and QEMU: a guest spinning 3 s of ticks at
 * this rate took 3.00 s of wall time), so this converts the bench guest's
 * ticks to time.  Measured rather than read from the kernel's boot log,
 * which is not always there and is a calibration, not the rate now. */
static double tsc_mhz(void)
{
	struct timespec half = { .tv_nsec = 500000000 };
	double t0, t1;
	uint64_t c0, c1;

	t0 = now_us();
	c0 = __builtin_ia32_rdtsc();
	nanosleep(&half, NULL);
	t1 = now_us();
	c1 = __builtin_ia32_rdtsc();
	return (double)(c1 - c0) / (t1 - t0);
}

/* The daemon's own resident memory: RssAnon + RssFile (its heap and
 * stacks, each vCPU's kvm_run page).  RssShmem, the guest memory memfd,
 * is the guests' memory, not the daemon's, and moved by up to 3 MiB
 * between two samples of the same idle VMs. */
static long rss_kib(const char *pid)
{
	char path[64], line[256];
	long v = 0;
	int seen = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (!(f = fopen(path, "re")))
		die("no such daemon process");
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "RssAnon:", 8) || !strncmp(line, "RssFile:", 8)) {
			v += strtol(line + 8, NULL, 10);
			seen++;
		}
	}
	fclose(f);
	if (seen != 2)
		die("no RssAnon/RssFile in /proc/PID/status");
	return v;
}

/* The kernel's side of the VMs, host-wide: what KVM allocates per VM and
 * vCPU (slab objects, the VM's vmalloc'd structure, per-CPU data, the
 * shadow or EPT tables, the thread's stack) shows in these /proc/meminfo
 * counters.  Host-wide, so other activity on the host adds noise; 100
 * VMs make it small beside their sum. */
static long kernel_kib(void)
{
	static const char *const keys[] = { "SUnreclaim:",	"KernelStack:", "PageTables:",
					    "SecPageTables:", "VmallocUsed:", "Percpu:" };
	char line[256];
	long v = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		die("no /proc/meminfo");
	while (fgets(line, sizeof(line), f))
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strncmp(line, keys[k], strlen(keys[k])))
				v += strtol(line + strlen(keys[k]), NULL, 10);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *sock = getenv("VH_SOCKET");
	int n;
	char name[32];

	if (argc == 2 && !strcmp(argv[1], "tsc")) {
		printf("tsc_mhz %.3f\n", tsc_mhz());
		return 0;
	}
	if (argc < 4 || !sock)
		die("usage: VH_SOCKET=path vh-bench boot|guest|many|idle N IMAGE [PID] | vh-bench "
		    "tsc");
	n = atoi(argv[2]);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die(strerror(errno));
	if (!strcmp(argv[1], "boot")) {
		for (int i = 0; i < n; i++) {
			double t0, t1;
			snprintf(name, sizeof(name), "boot%d", i);
			t0 = now_us();
			define(name, argv[3]);
			simple(VH_PROTO_VM_START, name);
			while (state_of(name) == VH_VM_RUNNING)
				;
			t1 = now_us();
			printf("boot_us %.0f\n", t1 - t0);
			undefine(name);
		}
	} else if (!strcmp(argv[1], "guest")) {
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "guest%d", i);
			define(name, argv[3]);
			simple(VH_PROTO_VM_START, name);
			wait_stopped_quietly(name);
			print_console(name);
			undefine(name);
		}
	} else if (!strcmp(argv[1], "many")) {
		struct vh_proto_reply r;
		double t0;
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "many%d", i);
			define(name, argv[3]);
		}
		t0 = now_us();
		for (int i = 0; i < n; i++) {
			struct vh_proto_request rq = { .type = VH_PROTO_VM_START };
			snprintf(name, sizeof(name), "many%d", i);
			ref(&rq, name);
			send_req(&rq);
		}
		for (int i = 0; i < n; i++)
			recv_reply(&r);
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "many%d", i);
			while (state_of(name) == VH_VM_RUNNING)
				;
		}
		printf("many_vms_per_s %.1f\n", n / ((now_us() - t0) / 1e6));
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "many%d", i);
			undefine(name);
		}
	} else if (!strcmp(argv[1], "idle") && argc > 4) {
		/* 2N VMs, RSS sampled after the first N and after all: memory
		 * malloc kept from earlier runs (run.sh's had up to N VMs at
		 * once) serves the first N, so only the second N show what a
		 * VM adds; a before/after of N alone depended on what the runs
		 * before had left. */
		long before = 0, after, kbefore = 0, kafter;
		for (int i = 0; i < 2 * n; i++) {
			if (i == n) {
				usleep(500000);
				before = rss_kib(argv[4]);
				kbefore = kernel_kib();
			}
			snprintf(name, sizeof(name), "idle%d", i);
			define(name, argv[3]);
			simple(VH_PROTO_VM_START, name);
		}
		usleep(500000);
		after = rss_kib(argv[4]);
		kafter = kernel_kib();
		printf("idle_rss_kib_per_vm %.1f\n", (double)(after - before) / n);
		printf("idle_kernel_kib_per_vm %.1f\n", (double)(kafter - kbefore) / n);
		for (int i = 0; i < 2 * n; i++) {
			snprintf(name, sizeof(name), "idle%d", i);
			simple(VH_PROTO_VM_STOP, name);
			undefine(name);
		}
	} else {
		die("unknown mode");
	}
	return 0;
}
