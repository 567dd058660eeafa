/* SPDX-License-Identifier: Apache-2.0 */
/* GET /v1/vms/{vm}/console: the tail the hypervisor keeps of the VM's
 * console (VM_CONSOLE), and with ?follow=true the tail and then what the
 * guest writes next, streamed (follow.c) until the VM is deleted.
 *
 * The bytes are the guest's, raw: nothing is escaped or validated, so
 * the body is what the guest wrote, byte for byte.  It goes out as
 * text/plain; charset=utf-8 (what guest consoles write) with
 * X-Content-Type-Options: nosniff, so a browser shows it as text and
 * never as HTML; a terminal client must not print it as it is (vhctl
 * console replaces control characters unless --raw).
 *
 * A follower is the VM's uuid and a stream position: positions count
 * every console byte since the VM was defined, so a follower that fell
 * behind the hypervisor's tail skips to what is still held, and one
 * whose position is past the console's end (the hypervisor restarted
 * and the VM was defined again) starts over at the new console. */
#include <stdlib.h>
#include <string.h>

#include "agent/hvconn.h"
#include "agent/resources.h"

#define CONSOLE_TYPE "text/plain; charset=utf-8"

struct console_follow {
	struct vh_proto_vm_ref ref; /* by uuid: a new VM of the same name is another console */
	uint64_t pos;
};

/* VM_CONSOLE from pos; 0, or -1 with p set. */
static int console_read(const struct vh_proto_vm_ref *ref, uint64_t from, uint32_t max,
			struct vh_proto_reply *rep, struct vh_api_problem *p)
{
	struct vh_proto_request req;

	vh_hv_request(&req, VH_PROTO_VM_CONSOLE, ref);
	req.u.console.from = from;
	req.u.console.max_bytes = max;
	return vh_hv_call(&req, rep, p);
}

static ssize_t follow_fill(void *ctx, char *buf, size_t max)
{
	struct console_follow *cf = ctx;
	struct vh_proto_reply rep;
	struct vh_api_problem p;

	if (console_read(&cf->ref, cf->pos, max < VH_CONSOLE_TAIL_BYTES ? (uint32_t)max : 0, &rep,
			 &p)) {
		if (p.code == VH_API_NOT_FOUND)
			return -1; /* deleted: the console is gone with it */
		if (p.code == VH_API_INVALID_FIELD)
			cf->pos = 0; /* a console that started over */
		return 0;            /* the hypervisor away: wait for it */
	}
	if (rep.u.console.len > max)
		return 0; /* cannot happen: max_bytes bounds it */
	memcpy(buf, rep.entries, rep.u.console.len);
	cf->pos = rep.u.console.first + rep.u.console.len;
	return (ssize_t)rep.u.console.len;
}

static bool follow_ready(void *ctx)
{
	struct console_follow *cf = ctx;
	struct vh_proto_reply rep;
	struct vh_api_problem p;

	if (console_read(&cf->ref, cf->pos, 1, &rep, &p))
		return p.code == VH_API_NOT_FOUND || p.code == VH_API_INVALID_FIELD;
	return rep.u.console.total > cf->pos;
}

static const struct vh_follow_ops console_ops = {
	.fill = follow_fill,
	.ready = follow_ready,
	.free = free,
	.heartbeat = NULL, /* any byte would be console text */
};

void vh_res_vm_console(struct vh_req *r)
{
	struct vh_proto_vm_ref ref;
	struct vh_proto_vm_info info;
	struct vh_proto_reply rep;
	struct vh_api_problem p;
	struct console_follow *cf;
	bool follow;
	char *buf;

	if (vh_req_query_bool(r, "follow", false, &follow))
		return;
	vh_vmu_ref_of(r, &ref);
	if (vh_hv_vm_get(&ref, &info, &p)) {
		vh_vmu_read_problem(r, &p);
		return;
	}
	memset(&ref, 0, sizeof(ref));
	ref.kind = VH_PROTO_REF_UUID;
	memcpy(ref.uuid, info.config.uuid, 16);
	if (follow) {
		if (!(cf = calloc(1, sizeof(*cf)))) {
			vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
			return;
		}
		cf->ref = ref;
		if (vh_reply_follow(r, 200, CONSOLE_TYPE, &console_ops, cf) == 0) {
			vh_reply_header(r, "X-Content-Type-Options", "nosniff");
			vh_reply_header(r, "Cache-Control", "no-store");
		}
		return;
	}
	if (console_read(&ref, 0, 0, &rep, &p)) {
		vh_vmu_read_problem(r, &p);
		return;
	}
	buf = malloc(rep.u.console.len + 1);
	if (!buf) {
		vh_reply_fail(r, VH_API_INTERNAL, "", "out of memory");
		return;
	}
	memcpy(buf, rep.entries, rep.u.console.len);
	vh_reply_raw(r, 200, CONSOLE_TYPE, buf, rep.u.console.len);
	vh_reply_header(r, "X-Content-Type-Options", "nosniff");
	vh_reply_header(r, "Cache-Control", "no-store");
}
