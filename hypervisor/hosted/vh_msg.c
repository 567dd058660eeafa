/* SPDX-License-Identifier: Apache-2.0 */
/* vh-msg: sends control-protocol messages by hand, for debugging and
 * scripts.  Requests are built with the core's own encoder
 * (vh_proto_encode_request) and replies read with its decoder, so what it
 * sends is exactly what a conforming client sends; `raw` sends arbitrary
 * bytes to test the daemon's handling of malformed input.
 *
 * Output is one "key: value" line per field (easy to grep); errors go to
 * stderr as "error: <code name>: <reason>".  Exit status: 0 success, 1 the
 * hypervisor answered an error, 2 usage or transport failure. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
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
#include "vh_msg_pub.h"

#define DEFAULT_SOCKET "/run/vh/vh.sock"

static const char *sock_path = DEFAULT_SOCKET;
static int timeout_ms = 10000;
static uint64_t next_request_id = 1;
/* A descriptor that came with the last reply (STATS_MAP's area), or -1. */
static int passed_fd = -1;

/* Every message whose request is a VM reference alone is the command of
 * its name without "vm_" ("vm_start": `vh-msg start VM`), so a new one
 * needs nothing here. */
static const char *vm_command_name(const struct vh_proto_msg *m)
{
	if (!m || m->request != VH_PROTO_REQ_VM_REF || strncmp(m->name, "vm_", 3))
		return NULL;
	return m->name + 3;
}

/* The type of the VM command cmd; 0 for none. */
static uint16_t vm_command(const char *cmd)
{
	for (uint32_t t = 0; t < VH_PROTO_TYPE_COUNT; t++) {
		const char *name = vm_command_name(vh_proto_msg(t));
		if (name && !strcmp(name, cmd))
			return (uint16_t)t;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vh-msg [--socket PATH] [--timeout SECONDS] COMMAND [ARGS]\n"
	    "Sends vh control-protocol messages (docs/protocol.md) and prints the replies.\n"
	    "\n"
	    "  host | host-stats | list | stats-all\n"
	    "  define NAME [vcpus=N] [memory=MiB] [kernel=IMAGE] [cmdline=TEXT]\n"
	    "              [initrd=IMAGE] [boot-kind=0|1|2 (auto, raw16, raw32)]\n"
	    "              [module=IMAGE[:ARGS]]... [devices=uart,debug-exit,fw-cfg,balloon|none]\n"
	    "              [disk=NAME[:ro]]...\n"
	    "              [cosched=relaxed|strict|none] [uuid=UUID]\n"
	    "              [cpu-shares=low|normal|high|N] [cpu-res=MHz] [cpu-limit=MHz|unlimited]\n"
	    "              [mem-shares=low|normal|high|N] [mem-res=MiB] [mem-limit=MiB|unlimited]\n"
	    "  ");
	for (uint32_t t = 0, n = 0; t < VH_PROTO_TYPE_COUNT; t++) {
		const char *name = vm_command_name(vh_proto_msg(t));
		if (name)
			fprintf(f, "%s%s", n++ ? "|" : "", name);
	}
	fprintf(
	    f,
	    " VM\n"
	    "  set-cpu VM [shares=..] [res=MHz] [limit=MHz|unlimited]   (others kept)\n"
	    "  set-mem VM [shares=..] [res=MiB] [limit=MiB|unlimited]   (others kept)\n"
	    "  balloon VM MiB\n"
	    "  console VM [FROM [MAX]]     the console bytes still held, from stream position\n"
	    "                              FROM (default 0: the oldest held) on, raw to stdout;\n"
	    "                              \"console: first F len L total T\" to stderr\n"
	    "  wait VM STATE [SECONDS]     poll until the VM is in STATE\n"
	    "  stats-map [check]           the published counters' area (STATS_MAP): header,\n"
	    "                              messages answered per type, every VM's CPU times;\n"
	    "                              check: fails unless it is sealed and every way of\n"
	    "                              writing to it is refused\n"
	    "  stats-map compare VM QUANTUM_US [ROUNDS]  VM_STATS ROUNDS times (default 20),\n"
	    "                              each against the area read at the reply's now_ns;\n"
	    "                              fails when a CPU time differs by more than QUANTUM_US\n"
	    "  latency SECONDS [GAP_MS]    HOST_STATS every GAP_MS (default 10) for SECONDS,\n"
	    "                              each on its own connection; prints how long the\n"
	    "                              replies took (requests, p50_us, p99_us, max_us)\n"
	    "  raw FILE|- [--no-wait] [--hold S]  send bytes as they are; print every reply\n"
	    "                              (--no-wait: hang up at once, as a dying client;\n"
	    "                              --hold: keep the connection S seconds first)\n"
	    "VM is an id (digits), a UUID, or a name.\n");
}

/* ---- transport ------------------------------------------------------------ */

static int connect_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "vh-msg: socket path too long\n");
		return -1;
	}
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vh-msg: %s: %s\n", sock_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "vh-msg: send: %s\n", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* recv, keeping a descriptor passed with the bytes (SCM_RIGHTS) in
 * passed_fd; any other is closed. */
static ssize_t recv_part(int fd, uint8_t *buf, size_t len)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

	for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		int got;
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len != CMSG_LEN(sizeof(int)))
			continue;
		memcpy(&got, CMSG_DATA(c), sizeof(got));
		if (passed_fd >= 0)
			close(passed_fd);
		passed_fd = got;
	}
	return n;
}

/* Reads one whole message.  Returns its length, 0 on a clean EOF before
 * any byte, -1 on error or timeout. */
static ssize_t recv_msg(int fd, uint8_t *buf, size_t cap)
{
	size_t have = 0, want = VH_PROTO_HEADER_SIZE;

	while (have < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, timeout_ms);
		ssize_t n;

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			fprintf(stderr, "vh-msg: no reply within %d ms\n", timeout_ms);
			return -1;
		}
		n = recv_part(fd, buf + have, want - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && have == 0)
			return 0;
		if (n <= 0) {
			fprintf(stderr, "vh-msg: connection closed mid-reply\n");
			return -1;
		}
		have += (size_t)n;
		if (have == VH_PROTO_HEADER_SIZE) {
			size_t total;
			if (vh_proto_frame_len(buf, have, &total, NULL) != VH_OK || total > cap) {
				fprintf(stderr, "vh-msg: malformed reply header\n");
				return -1;
			}
			want = total;
		}
	}
	return (ssize_t)have;
}

static uint8_t reply_buf[VH_PROTO_MAX_MSG];

/* Sends req and decodes the reply into *r.  Returns 0 (r->hdr.status says
 * how it went) or -1 on a transport or decoding failure. */
static int transact(struct vh_proto_request *req, struct vh_proto_reply *r)
{
	static uint8_t msg[VH_PROTO_MAX_MSG];
	struct vh_error err = { 0 };
	size_t len = 0;
	ssize_t got = -1;
	int fd, rc = -1;

	req->request_id = next_request_id++;
	if (vh_proto_encode_request(req, msg, sizeof(msg), &len, &err)) {
		fprintf(stderr, "vh-msg: cannot encode: %s\n", err.reason);
		return -1;
	}
	if ((fd = connect_socket()) < 0)
		return -1;
	if (send_all(fd, msg, len) == 0 && (got = recv_msg(fd, reply_buf, sizeof(reply_buf))) > 0) {
		if (vh_proto_decode_reply(reply_buf, (size_t)got, r, &err))
			fprintf(stderr, "vh-msg: undecodable reply: %s\n", err.reason);
		else if (r->hdr.request_id != req->request_id || r->hdr.type != req->type)
			fprintf(stderr, "vh-msg: reply does not match the request\n");
		else
			rc = 0;
	} else if (got == 0) {
		fprintf(stderr, "vh-msg: the daemon closed the connection\n");
	}
	close(fd);
	return rc;
}

/* ---- printing ---------------------------------------------------------------- */

static void print_uuid(const char *key, const uint8_t u[16])
{
	printf("%s: ", key);
	for (int i = 0; i < 16; i++)
		printf("%02x%s", u[i], (i == 3 || i == 5 || i == 7 || i == 9) ? "-" : "");
	printf("\n");
}

static const char *shares_level(const struct vh_shares *s, char *buf, size_t len)
{
	static const char *const names[] = { "normal", "low", "high" };

	if (s->level == VH_SHARES_CUSTOM) {
		snprintf(buf, len, "%" PRIu32, s->custom);
		return buf;
	}
	return (unsigned)s->level < 3 ? names[s->level] : "?";
}

static void print_limit(const char *key, uint64_t v)
{
	if (v == VH_UNLIMITED)
		printf("%s: unlimited\n", key);
	else
		printf("%s: %" PRIu64 "\n", key, v);
}

static const char *cosched_name(uint32_t m)
{
	static const char *const names[] = { "relaxed", "strict", "none" };
	return m < 3 ? names[m] : "?";
}

static void print_summary(const struct vh_proto_vm_summary *s)
{
	char b[16];

	printf("id: %" PRIu32 "\n", s->id);
	printf("name: %s\n", s->name);
	printf("state: %s\n", vh_vm_state_name(s->state));
	print_uuid("uuid", s->uuid);
	printf("vcpus: %" PRIu32 "\n", s->vcpus);
	printf("cosched: %s\n", cosched_name(s->cosched));
	printf("memory_mib: %" PRIu64 "\n", s->memory_mib);
	printf("cpu.shares: %s\n", shares_level(&s->cpu.shares, b, sizeof(b)));
	printf("cpu.reservation_mhz: %" PRIu64 "\n", s->cpu.reservation_mhz);
	print_limit("cpu.limit_mhz", s->cpu.limit_mhz);
	printf("memory.shares: %s\n", shares_level(&s->mem.shares, b, sizeof(b)));
	printf("memory.reservation_mib: %" PRIu64 "\n", s->mem.reservation_mib);
	print_limit("memory.limit_mib", s->mem.limit_mib);
	printf("balloon_request_pages: %" PRIu64 "\n", s->balloon_request_pages);
	printf("balloon_target_pages: %" PRIu64 "\n", s->balloon_target_pages);
	printf("state_changes: %" PRIu64 "\n", s->state_changes);
	printf("boot_generation: %" PRIu32 "\n", s->boot_generation);
}

static void print_cpu(const char *p, const struct vh_cpu_stats *c)
{
	printf("%scpu.used_ns: %" PRIu64 "\n", p, c->used_ns);
	printf("%scpu.ready_ns: %" PRIu64 "\n", p, c->ready_ns);
	printf("%scpu.limited_ns: %" PRIu64 "\n", p, c->limited_ns);
	printf("%scpu.costop_ns: %" PRIu64 "\n", p, c->costop_ns);
	printf("%scpu.wait_ns: %" PRIu64 "\n", p, c->wait_ns);
	printf("%scpu.runs: %" PRIu64 "\n", p, c->runs);
}

static void print_stats(const char *p, const struct vh_proto_vm_stats *s)
{
	printf("%sid: %" PRIu32 "\n", p, s->id);
	printf("%sstate: %s\n", p, vh_vm_state_name(s->state));
	print_cpu(p, &s->cpu);
	printf("%smem.granted_pages: %" PRIu64 "\n", p, s->mem.granted);
	printf("%smem.consumed_pages: %" PRIu64 "\n", p, s->mem.consumed);
	printf("%smem.active_pages: %" PRIu64 "\n", p, s->mem.active);
	printf("%smem.shared_pages: %" PRIu64 "\n", p, s->mem.shared);
	printf("%smem.balloon_pages: %" PRIu64 "\n", p, s->mem.balloon);
	printf("%smem.swapped_pages: %" PRIu64 "\n", p, s->mem.swapped);
	printf("%smem.overhead_pages: %" PRIu64 "\n", p, s->mem.overhead);
	for (unsigned k = 0; k < VH_EXIT_KIND_COUNT && k < VH_PROTO_EXIT_SLOTS; k++)
		printf("%sexits.%s: %" PRIu64 "\n", p, vh_exit_kind_name(k), s->exits[k]);
	printf("%sconsole.bytes: %" PRIu64 "\n", p, s->console_bytes);
	printf("%sconsole.dropped: %" PRIu64 "\n", p, s->console_dropped);
}

static int print_reply(const struct vh_proto_reply *r)
{
	if (r->hdr.status != VH_OK) {
		fprintf(stderr, "error: %s: %s\n", vh_errcode_name(r->u.error.code),
			r->u.error.reason);
		if (r->u.error.field[0])
			printf("error.field: %s\n", r->u.error.field);
		printf("error.code: %s\n", vh_errcode_name(r->u.error.code));
		return 1;
	}
	/* By the reply's layout (vh/proto_messages.h), so a new message with
	 * a known layout prints without a change here. */
	switch (vh_proto_msg(r->hdr.type)->reply) {
	case VH_PROTO_REPLY_HOST_INFO: {
		const struct vh_proto_host_info *h = &r->u.host_info;
		printf("vh_version: %s\n", h->vh_version);
		printf("protocol: %u..%u\n", h->version_min, h->version_max);
		printf("page_size: %" PRIu32 "\n", h->page_size);
		printf("pcpus: %" PRIu32 "\n", h->pcpus);
		printf("mhz_per_pcpu: %" PRIu32 "\n", h->mhz_per_pcpu);
		printf("memory_bytes: %" PRIu64 "\n", h->memory_bytes);
		printf("overhead_bytes: %" PRIu64 "\n", h->overhead_bytes);
		printf("cpu_capacity_mhz: %" PRIu64 "\n", h->cpu_capacity_mhz);
		printf("mem_capacity_mib: %" PRIu64 "\n", h->mem_capacity_mib);
		printf("max_vms: %" PRIu32 "\n", h->max_vms);
		printf("nvms: %" PRIu32 "\n", h->nvms);
		printf("max_vcpus: %" PRIu32 "\n", h->max_vcpus);
		printf("max_memory_mib: %" PRIu64 "\n", h->max_memory_mib);
		/* As stats-map prints it: the two compare as text. */
		printf("instance: %" PRIu64 "\n", h->instance);
		break;
	}
	case VH_PROTO_REPLY_HOST_STATS: {
		const struct vh_proto_host_stats *h = &r->u.host_stats;
		printf("now_ns: %" PRIu64 "\n", h->now_ns);
		printf("pcpus: %" PRIu32 "\n", h->pcpus);
		printf("nvms: %" PRIu32 "\n", h->nvms);
		printf("npowered_on: %" PRIu32 "\n", h->npowered_on);
		printf("reserved_mhz: %" PRIu64 "\n", h->reserved_mhz);
		printf("reserved_mib: %" PRIu64 "\n", h->reserved_mib);
		printf("busy_ns: %" PRIu64 "\n", h->busy_ns);
		printf("idle_ns: %" PRIu64 "\n", h->idle_ns);
		printf("total_pages: %" PRIu64 "\n", h->mem.total);
		printf("free_pages: %" PRIu64 "\n", h->mem.free);
		printf("reserved_pages: %" PRIu64 "\n", h->mem.reserved);
		printf("shared_saved_pages: %" PRIu64 "\n", h->mem.shared_saved);
		for (uint32_t i = 0; i < r->nentries; i++) {
			struct vh_pcpu_stats p;
			if (vh_proto_reply_pcpu(r, i, &p) == VH_OK)
				printf("pcpu%" PRIu32 ": busy_ns %" PRIu64 " idle_ns %" PRIu64 "\n",
				       i, p.busy_ns, p.idle_ns);
		}
		break;
	}
	case VH_PROTO_REPLY_VM_INFO: {
		const struct vh_vm_config *c = &r->u.vm_info.config;
		print_summary(&r->u.vm_info.summary);
		printf("boot.kernel: %s\n", c->boot.kernel);
		printf("boot.cmdline: %s\n", c->boot.cmdline);
		printf("boot.initrd: %s\n", c->boot.initrd);
		printf("boot.kind: %u\n", c->boot.kind);
		for (uint32_t i = 0; i < c->boot.nmodules && i < VH_BOOT_MAX_MODULES; i++)
			printf("boot.modules[%" PRIu32 "]: %s %s\n", i, c->boot.modules[i].image,
			       c->boot.modules[i].args);
		for (uint32_t i = 0; i < c->ndevices && i < VH_VM_MAX_DEVICES; i++)
			printf("devices[%" PRIu32 "]: %" PRIu32 "\n", i, c->devices[i].type);
		for (uint32_t i = 0; i < c->ndisks && i < VH_VM_MAX_DISKS; i++)
			printf("disks[%" PRIu32 "]: %s%s\n", i, c->disks[i].name,
			       (c->disks[i].flags & VH_DISK_F_READONLY) ? " readonly" : "");
		break;
	}
	case VH_PROTO_REPLY_NONE:
		printf("%s: yes\n", r->hdr.type == VH_PROTO_VM_UNDEFINE ? "undefined" : "done");
		break;
	case VH_PROTO_REPLY_VM_STATS:
		printf("now_ns: %" PRIu64 "\n", r->u.vm_stats.now_ns);
		print_stats("", &r->u.vm_stats.vm);
		for (uint32_t i = 0; i < r->nentries; i++) {
			struct vh_proto_vcpu_stats v;
			char p[32];
			if (vh_proto_reply_vcpu(r, i, &v) != VH_OK)
				continue;
			snprintf(p, sizeof(p), "vcpu%" PRIu32 ".", v.index);
			print_cpu(p, &v.cpu);
		}
		break;
	case VH_PROTO_REPLY_VM_LIST:
	case VH_PROTO_REPLY_VM_STATS_ALL:
		/* Printed page by page by the caller. */
		break;
	case VH_PROTO_REPLY_CONSOLE:
		/* The bytes as they are, so scripts see exactly the guest's output;
		 * where they sit in the stream goes to stderr. */
		fwrite(r->entries, 1, r->nentries, stdout);
		fflush(stdout);
		fprintf(stderr, "console: first %" PRIu64 " len %" PRIu32 " total %" PRIu64 "\n",
			r->u.console.first, r->u.console.len, r->u.console.total);
		break;
	case VH_PROTO_REPLY_VM_SUMMARY:
		print_summary(&r->u.vm);
		break;
	case VH_PROTO_REPLY_STATS_MAP:
		printf("layout_version: %" PRIu32 "\nclock: %" PRIu32 "\nsize: %" PRIu64
		       "\ninstance: %" PRIu64 "\n",
		       r->u.stats_map.layout_version, r->u.stats_map.clock, r->u.stats_map.size,
		       r->u.stats_map.instance);
		break;
	case VH_PROTO_REPLY_LAYOUT_COUNT:
		break;
	}
	return 0;
}

/* ---- parsing ------------------------------------------------------------------ */

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool parse_uuid(const char *s, uint8_t u[16])
{
	int n = 0;

	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (v < 0)
			return false;
		if (n % 2 == 0)
			u[n / 2] = (uint8_t)(v << 4);
		else
			u[n / 2] |= (uint8_t)v;
		n++;
	}
	return n == 32;
}

static bool parse_ref(const char *s, struct vh_proto_vm_ref *ref)
{
	uint64_t id;

	memset(ref, 0, sizeof(*ref));
	if (parse_u64(s, &id) && id <= UINT32_MAX) {
		ref->kind = VH_PROTO_REF_ID;
		ref->id = (uint32_t)id;
	} else if (parse_uuid(s, ref->uuid)) {
		ref->kind = VH_PROTO_REF_UUID;
	} else {
		ref->kind = VH_PROTO_REF_NAME;
		/* Too long a name is sent cut to the field without its NUL
		 * (and refused by the hypervisor). */
		memcpy(ref->name, s, strnlen(s, sizeof(ref->name)));
	}
	return true;
}

static bool parse_shares(const char *s, struct vh_shares *sh)
{
	uint64_t v;

	sh->custom = 0;
	if (!strcmp(s, "low"))
		sh->level = VH_SHARES_LOW;
	else if (!strcmp(s, "normal"))
		sh->level = VH_SHARES_NORMAL;
	else if (!strcmp(s, "high"))
		sh->level = VH_SHARES_HIGH;
	else if (parse_u64(s, &v) && v <= UINT32_MAX) {
		sh->level = VH_SHARES_CUSTOM;
		sh->custom = (uint32_t)v;
	} else
		return false;
	return true;
}

static bool parse_limit(const char *s, uint64_t *out)
{
	if (!strcmp(s, "unlimited")) {
		*out = VH_UNLIMITED;
		return true;
	}
	return parse_u64(s, out);
}

static bool parse_devices(const char *s, struct vh_vm_config *c)
{
	static const struct { const char *name; uint32_t type; } names[] = {
		{ "uart", VH_DEV_UART16550 }, { "debug-exit", VH_DEV_DEBUG_EXIT },
		{ "fw-cfg", VH_DEV_FW_CFG }, { "balloon", VH_DEV_BALLOON },
	};
	char buf[256], *save = NULL, *tok;

	memset(c->devices, 0, sizeof(c->devices));
	c->ndevices = 0;
	if (!strcmp(s, "none"))
		return true;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			if (!strcmp(tok, names[i].name))
				break;
		}
		if (i == sizeof(names) / sizeof(names[0]) || c->ndevices == VH_VM_MAX_DEVICES)
			return false;
		c->devices[c->ndevices++].type = names[i].type;
	}
	return true;
}

/* key=value settings of define / set-cpu / set-mem. */
static int apply_setting(const char *arg, struct vh_vm_config *c, const char *prefix)
{
	char key[64];
	const char *eq = strchr(arg, '='), *v;
	uint64_t n;
	bool ok = false;

	if (!eq || (size_t)(eq - arg) >= sizeof(key) - 8)
		goto bad;
	snprintf(key, sizeof(key), "%s%.*s", prefix, (int)(eq - arg), arg);
	v = eq + 1;
	if (!strcmp(key, "vcpus"))
		ok = parse_u64(v, &n) && n <= UINT32_MAX && ((c->vcpus = (uint32_t)n), true);
	else if (!strcmp(key, "memory"))
		ok = parse_u64(v, &c->memory_mib);
	else if (!strcmp(key, "kernel"))
		ok = snprintf(c->boot.kernel, sizeof(c->boot.kernel), "%s", v) <
		     (int)sizeof(c->boot.kernel);
	else if (!strcmp(key, "initrd"))
		ok = snprintf(c->boot.initrd, sizeof(c->boot.initrd), "%s", v) <
		     (int)sizeof(c->boot.initrd);
	else if (!strcmp(key, "boot-kind"))
		ok = parse_u64(v, &n) && n <= VH_BOOT_KIND_MAX &&
		     ((c->boot.kind = (uint32_t)n), true);
	else if (!strcmp(key, "cmdline"))
		ok = snprintf(c->boot.cmdline, sizeof(c->boot.cmdline), "%s", v) <
		     (int)sizeof(c->boot.cmdline);
	else if (!strcmp(key, "module")) {
		const char *colon = strchr(v, ':');
		struct vh_boot_module *m;
		if (c->boot.nmodules < VH_BOOT_MAX_MODULES) {
			m = &c->boot.modules[c->boot.nmodules++];
			snprintf(m->image, sizeof(m->image), "%.*s",
				 (int)(colon ? (size_t)(colon - v) : strlen(v)), v);
			snprintf(m->args, sizeof(m->args), "%s", colon ? colon + 1 : "");
			ok = true;
		}
	} else if (!strcmp(key, "disk")) {
		/* disk=NAME[:ro], in boot order */
		size_t len = strlen(v);
		bool ro = len > 3 && !strcmp(v + len - 3, ":ro");
		struct vh_disk_config *d;
		if (c->ndisks < VH_VM_MAX_DISKS && (ro ? len - 3 : len) < sizeof(d->name)) {
			d = &c->disks[c->ndisks++];
			snprintf(d->name, sizeof(d->name), "%.*s", (int)(ro ? len - 3 : len), v);
			d->flags = ro ? VH_DISK_F_READONLY : 0;
			ok = true;
		}
	} else if (!strcmp(key, "devices"))
		ok = parse_devices(v, c);
	else if (!strcmp(key, "cosched")) {
		ok = true;
		if (!strcmp(v, "relaxed"))
			c->cosched = VH_COSCHED_RELAXED;
		else if (!strcmp(v, "strict"))
			c->cosched = VH_COSCHED_STRICT;
		else if (!strcmp(v, "none"))
			c->cosched = VH_COSCHED_NONE;
		else
			ok = false;
	} else if (!strcmp(key, "uuid"))
		ok = parse_uuid(v, c->uuid);
	else if (!strcmp(key, "cpu-shares"))
		ok = parse_shares(v, &c->cpu.shares);
	else if (!strcmp(key, "cpu-res"))
		ok = parse_u64(v, &c->cpu.reservation_mhz);
	else if (!strcmp(key, "cpu-limit"))
		ok = parse_limit(v, &c->cpu.limit_mhz);
	else if (!strcmp(key, "mem-shares"))
		ok = parse_shares(v, &c->mem.shares);
	else if (!strcmp(key, "mem-res"))
		ok = parse_u64(v, &c->mem.reservation_mib);
	else if (!strcmp(key, "mem-limit"))
		ok = parse_limit(v, &c->mem.limit_mib);
	if (ok)
		return 0;
bad:
	fprintf(stderr, "vh-msg: bad setting \"%s\"\n", arg);
	return 2;
}

/* ---- commands -------------------------------------------------------------------- */

static int simple(uint16_t type, const char *vm)
{
	struct vh_proto_request req = { .type = type };
	struct vh_proto_reply r;

	if (vm)
		parse_ref(vm, &req.vm);
	if (transact(&req, &r))
		return 2;
	return print_reply(&r);
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* What a client waits for an answer while the daemon is busy (a large
 * image loading, many VMs): the round trip of HOST_STATS, connect to
 * reply, measured here so that no process start-up is counted. */
static int cmd_latency(int argc, char **argv)
{
	uint64_t secs, gap_ms = 10, end, n = 0, cap, *lat;
	int rc = 0;

	if (argc < 1 || argc > 2 || !parse_u64(argv[0], &secs) || secs == 0 || secs > 3600 ||
	    (argc == 2 && (!parse_u64(argv[1], &gap_ms) || gap_ms > 60000))) {
		usage(stderr);
		return 2;
	}
	cap = secs * 1000 / (gap_ms ? gap_ms : 1) + 1;
	if (!(lat = calloc(cap, sizeof(*lat)))) {
		fprintf(stderr, "vh-msg: out of memory\n");
		return 2;
	}
	end = mono_us() + secs * 1000000u;
	while (n < cap && mono_us() < end) {
		struct vh_proto_request req = { .type = VH_PROTO_HOST_STATS };
		struct vh_proto_reply r;
		uint64_t t0 = mono_us();
		if (transact(&req, &r) || r.hdr.status != VH_OK) {
			rc = 2;
			break;
		}
		lat[n++] = mono_us() - t0;
		if (gap_ms) {
			struct timespec ts = { (time_t)(gap_ms / 1000),
					       (long)(gap_ms % 1000) * 1000000 };
			nanosleep(&ts, NULL);
		}
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("requests: %" PRIu64 "\n", n);
	if (n) {
		printf("p50_us: %" PRIu64 "\n", lat[n / 2]);
		printf("p99_us: %" PRIu64 "\n", lat[n * 99 / 100]);
		printf("max_us: %" PRIu64 "\n", lat[n - 1]);
	}
	free(lat);
	return rc;
}

static int paged(uint16_t type)
{
	uint32_t start = 0;
	unsigned total = 0;

	do {
		struct vh_proto_request req = { .type = type, .u.page = { .start_id = start } };
		struct vh_proto_reply r;
		if (transact(&req, &r))
			return 2;
		if (r.hdr.status != VH_OK)
			return print_reply(&r);
		for (uint32_t i = 0; i < r.nentries; i++) {
			char p[32];
			snprintf(p, sizeof(p), "vm%u.", total++);
			if (type == VH_PROTO_VM_LIST) {
				struct vh_proto_vm_summary s;
				if (vh_proto_reply_vm_summary(&r, i, &s) == VH_OK)
					printf("%sid: %" PRIu32
					       " name: %s state: %s vcpus: %" PRIu32
					       " memory_mib: %" PRIu64 "\n",
					       p, s.id, s.name, vh_vm_state_name(s.state), s.vcpus,
					       s.memory_mib);
			} else {
				struct vh_proto_vm_stats s;
				if (vh_proto_reply_vm_stats(&r, i, &s) == VH_OK)
					print_stats(p, &s);
			}
		}
		start = r.u.page.next_id;
	} while (start);
	printf("count: %u\n", total);
	return 0;
}

static int cmd_define(int argc, char **argv)
{
	struct vh_proto_request req = { .type = VH_PROTO_VM_DEFINE };
	struct vh_proto_reply r;
	struct vh_vm_config *c = &req.u.define;
	int rc;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	vh_vm_config_default(c);
	snprintf(c->name, sizeof(c->name), "%s", argv[0]);
	for (int i = 1; i < argc; i++) {
		if ((rc = apply_setting(argv[i], c, "")))
			return rc;
	}
	if (transact(&req, &r))
		return 2;
	return print_reply(&r);
}

/* set-cpu / set-mem change only what is given: the rest is read first. */
static int cmd_set(uint16_t type, int argc, char **argv)
{
	struct vh_proto_request get = { .type = VH_PROTO_VM_GET }, req = { .type = type };
	struct vh_proto_reply r;
	struct vh_vm_config c;
	int rc;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	parse_ref(argv[0], &get.vm);
	if (transact(&get, &r))
		return 2;
	if (r.hdr.status != VH_OK)
		return print_reply(&r);
	c = r.u.vm_info.config;
	for (int i = 1; i < argc; i++) {
		if ((rc =
			 apply_setting(argv[i], &c, type == VH_PROTO_VM_SET_CPU ? "cpu-" : "mem-")))
			return rc;
	}
	req.vm = get.vm;
	if (type == VH_PROTO_VM_SET_CPU)
		req.u.cpu = c.cpu;
	else
		req.u.mem = c.mem;
	if (transact(&req, &r))
		return 2;
	return print_reply(&r);
}

static int cmd_balloon(int argc, char **argv)
{
	struct vh_proto_request req = { .type = VH_PROTO_VM_SET_BALLOON };
	struct vh_proto_reply r;

	if (argc != 2 || !parse_u64(argv[1], &req.u.balloon_target_mib)) {
		usage(stderr);
		return 2;
	}
	parse_ref(argv[0], &req.vm);
	if (transact(&req, &r))
		return 2;
	return print_reply(&r);
}

static struct vh_proto_vm_ref compare_vm;

static int ask_vm_stats(struct vh_proto_reply *r)
{
	struct vh_proto_request req = { .type = VH_PROTO_VM_STATS, .vm = compare_vm };

	return transact(&req, r);
}

/* STATS_MAP, then the area that came with the reply. */
static int cmd_stats_map(int argc, char **argv)
{
	struct vh_proto_request req = { .type = VH_PROTO_STATS_MAP };
	struct vh_proto_reply r;
	uint64_t quantum_us = 0, rounds = 20;
	bool compare = argc >= 3 && !strcmp(argv[0], "compare");
	int rc;

	if (compare && (!parse_ref(argv[1], &compare_vm) || !parse_u64(argv[2], &quantum_us) ||
			(argc == 4 && (!parse_u64(argv[3], &rounds) || !rounds)) || argc > 4)) {
		usage(stderr);
		return 2;
	}
	if (!compare && (argc > 1 || (argc == 1 && strcmp(argv[0], "check")))) {
		usage(stderr);
		return 2;
	}
	if (transact(&req, &r))
		return 2;
	if (r.hdr.status != VH_OK)
		return print_reply(&r);
	if (passed_fd < 0) {
		fprintf(stderr, "vh-msg: no descriptor came with the STATS_MAP reply\n");
		return 2;
	}
	if (compare)
		rc = vh_msg_pub_compare(passed_fd, &r.u.stats_map, ask_vm_stats, quantum_us * 1000,
					(unsigned)rounds);
	else
		rc = vh_msg_pub_show(passed_fd, &r.u.stats_map, argc == 1);
	close(passed_fd);
	passed_fd = -1;
	return rc;
}

static int cmd_console(int argc, char **argv)
{
	struct vh_proto_request req = { .type = VH_PROTO_VM_CONSOLE };
	struct vh_proto_reply r;
	uint64_t max = 0;

	if (argc < 1 || argc > 3 || (argc > 1 && !parse_u64(argv[1], &req.u.console.from)) ||
	    (argc > 2 && (!parse_u64(argv[2], &max) || max > UINT32_MAX))) {
		usage(stderr);
		return 2;
	}
	req.u.console.max_bytes = (uint32_t)max;
	parse_ref(argv[0], &req.vm);
	if (transact(&req, &r))
		return 2;
	return print_reply(&r);
}

static int cmd_wait(int argc, char **argv)
{
	struct vh_proto_request req = { .type = VH_PROTO_VM_GET };
	struct vh_proto_reply r;
	uint64_t secs = 10;
	struct timespec t0, t;

	if (argc < 2 || (argc > 2 && !parse_u64(argv[2], &secs))) {
		usage(stderr);
		return 2;
	}
	parse_ref(argv[0], &req.vm);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (transact(&req, &r))
			return 2;
		if (r.hdr.status != VH_OK)
			return print_reply(&r);
		if (!strcmp(vh_vm_state_name(r.u.vm_info.summary.state), argv[1])) {
			printf("state: %s\n", argv[1]);
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((uint64_t)(t.tv_sec - t0.tv_sec) >= secs) {
			fprintf(
			    stderr, "error: timeout: VM %s is %s, not %s, after %" PRIu64 " s\n",
			    argv[0], vh_vm_state_name(r.u.vm_info.summary.state), argv[1], secs);
			return 1;
		}
		usleep(20000);
	}
}

static int cmd_raw(int argc, char **argv)
{
	static uint8_t buf[4 * VH_PROTO_MAX_MSG];
	size_t len = 0;
	bool no_wait = false;
	unsigned hold = 0;
	int in, fd, worst = 0;
	ssize_t n;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--no-wait"))
			no_wait = true;
		else if (!strcmp(argv[k], "--hold") && k + 1 < argc)
			hold = (unsigned)atoi(argv[++k]);
		else {
			usage(stderr);
			return 2;
		}
	}
	in = strcmp(argv[0], "-") ? open(argv[0], O_RDONLY | O_CLOEXEC) : 0;
	if (in < 0) {
		fprintf(stderr, "vh-msg: %s: %s\n", argv[0], strerror(errno));
		return 2;
	}
	while (len < sizeof(buf) && (n = read(in, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	if (in)
		close(in);
	if ((fd = connect_socket()) < 0)
		return 2;
	if (send_all(fd, buf, len)) {
		close(fd);
		return 2;
	}
	if (hold)
		sleep(hold);
	if (no_wait) {
		close(fd);
		return 0;
	}
	/* The daemon answers each whole message; a broken header gets one
	 * error reply and a hang-up; a trailing partial message none. */
	unsigned expect = 0;
	bool broken = false;
	for (size_t off = 0; off < len;) {
		size_t total = 0;
		if (vh_proto_frame_len(buf + off, len - off, &total, NULL) != VH_OK) {
			broken = true;
			expect++;
			break;
		}
		if (total > len - off)
			break;
		expect++;
		off += total;
	}
	unsigned i;
	for (i = 0; i < expect; i++) {
		struct vh_proto_reply r;
		struct vh_error err = { 0 };
		ssize_t got = recv_msg(fd, reply_buf, sizeof(reply_buf));
		if (got <= 0) {
			worst = 2;
			break;
		}
		if (vh_proto_decode_reply(reply_buf, (size_t)got, &r, &err)) {
			printf("reply%u.undecodable: %s\n", i, err.reason);
			worst = 2;
			continue;
		}
		printf("reply%u.type: %u\n", i, r.hdr.type);
		printf("reply%u.status: %s\n", i,
		       r.hdr.status ? vh_errcode_name(r.hdr.status) : "ok");
		if (r.hdr.status) {
			printf("reply%u.field: %s\n", i, r.u.error.field);
			printf("reply%u.reason: %s\n", i, r.u.error.reason);
			if (!worst)
				worst = 1;
		}
	}
	printf("replies: %u\n", i);
	if (broken) {
		/* The daemon must hang up after a framing error. */
		ssize_t got = recv_msg(fd, reply_buf, sizeof(reply_buf));
		printf("hangup: %s\n", got == 0 ? "yes" : "no");
	}
	close(fd);
	return worst;
}

int main(int argc, char **argv)
{
	int i = 1;
	const char *cmd;

	if (getenv("VH_SOCKET"))
		sock_path = getenv("VH_SOCKET");
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock_path = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout_ms = atoi(argv[++i]) * 1000;
		else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i++];
	argc -= i;
	argv += i;
	uint16_t vm_type = vm_command(cmd);
	if (vm_type) {
		if (argc != 1) {
			usage(stderr);
			return 2;
		}
		return simple(vm_type, argv[0]);
	}
	if (!strcmp(cmd, "host"))
		return simple(VH_PROTO_HOST_INFO, NULL);
	if (!strcmp(cmd, "host-stats"))
		return simple(VH_PROTO_HOST_STATS, NULL);
	if (!strcmp(cmd, "list"))
		return paged(VH_PROTO_VM_LIST);
	if (!strcmp(cmd, "stats-all"))
		return paged(VH_PROTO_VM_STATS_ALL);
	if (!strcmp(cmd, "define"))
		return cmd_define(argc, argv);
	if (!strcmp(cmd, "set-cpu"))
		return cmd_set(VH_PROTO_VM_SET_CPU, argc, argv);
	if (!strcmp(cmd, "set-mem"))
		return cmd_set(VH_PROTO_VM_SET_MEM, argc, argv);
	if (!strcmp(cmd, "balloon"))
		return cmd_balloon(argc, argv);
	if (!strcmp(cmd, "wait"))
		return cmd_wait(argc, argv);
	if (!strcmp(cmd, "latency"))
		return cmd_latency(argc, argv);
	if (!strcmp(cmd, "console"))
		return cmd_console(argc, argv);
	if (!strcmp(cmd, "stats-map"))
		return cmd_stats_map(argc, argv);
	if (!strcmp(cmd, "raw"))
		return cmd_raw(argc, argv);
	fprintf(stderr, "vh-msg: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return 2;
}
