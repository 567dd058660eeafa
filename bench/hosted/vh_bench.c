/* vh-bench: drives vh-hosted through its control socket with the core's
 * codec and times what the issue asks for (bench/hosted/run.sh runs it):
 *   boot N IMAGE           define+start -> the VM stopped by the guest's
 *                          isa-debug-exit; N runs, one line per run (us)
 *   many N IMAGE           N VMs started at once (requests back to back),
 *                          until all stopped: VMs per second
 *   idle N IMAGE PID       N idle VMs running: RSS of PID per VM (KiB)
 * Output lines are "key value" for the script. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vh/error.h"
#include "vh/proto.h"
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
		fprintf(stderr, "vh-bench: %s: %s\n", vh_proto_type_name(rq->type), r->u.error.reason);
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

static long rss_kib(const char *pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			v = strtol(line + 6, NULL, 10);
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *sock = getenv("VH_SOCKET");
	int n;
	char name[32];

	if (argc < 4 || !sock)
		die("usage: VH_SOCKET=path vh-bench boot|many|idle N IMAGE [PID]");
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
			simple(VH_PROTO_VM_UNDEFINE, name);
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
			simple(VH_PROTO_VM_UNDEFINE, name);
		}
	} else if (!strcmp(argv[1], "idle") && argc > 4) {
		long before = rss_kib(argv[4]), after;
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "idle%d", i);
			define(name, argv[3]);
			simple(VH_PROTO_VM_START, name);
		}
		usleep(500000);
		after = rss_kib(argv[4]);
		printf("idle_rss_kib_per_vm %.1f\n", (double)(after - before) / n);
		for (int i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "idle%d", i);
			simple(VH_PROTO_VM_STOP, name);
			simple(VH_PROTO_VM_UNDEFINE, name);
		}
	} else {
		die("unknown mode");
	}
	return 0;
}
