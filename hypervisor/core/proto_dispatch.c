/* SPDX-License-Identifier: Apache-2.0 */
/* The control protocol's hypervisor side: one request in, one reply out.
 *
 * The request is decoded and every wire field checked before the host
 * lock is taken; the handler then resolves the VM and calls the VM API,
 * which validates values and admission before it changes anything.  A
 * handler writes its reply only after it has acted, so a refusal at any
 * stage replaces the reply with an error and leaves the host as it was. */
#include "vh/format.h"
#include "vh/host.h"
#include "vh/proto.h"
#include "vh/stats_pub.h"
#include "vh/string.h"
#include "vh/version.h"
#include "vh/vm.h"

struct dctx {
	struct vh_host *h;
	const struct vh_proto_request *req;
	const struct vh_proto_msg *msg; /* the request's row */
	uint8_t *payload; /* the reply's payload, after its header */
	size_t room;      /* bytes available for the payload */
	size_t len;       /* bytes written */
	uint64_t now;
};

/* Every fixed reply fits VH_PROTO_REPLY_MIN (static asserts in proto.h),
 * and the paged ones size themselves to `room`, so handlers only take
 * space through here. */
static uint8_t *take(struct dctx *c, size_t n)
{
	uint8_t *p = c->payload + c->len;

	c->len += n;
	return p;
}

/* ---- VM records ---------------------------------------------------------- */

static void summarize(const struct vh_vm *vm, struct vh_proto_vm_summary *s)
{
	vh_memset(s, 0, sizeof(*s));
	s->id = vm->id;
	s->state = (uint32_t)vm->state;
	vh_memcpy(s->uuid, vm->cfg.uuid, 16);
	vh_strlcpy(s->name, vm->cfg.name, sizeof(s->name));
	s->vcpus = vm->cfg.vcpus;
	s->cosched = (uint32_t)vm->cfg.cosched;
	s->memory_mib = vm->cfg.memory_mib;
	s->cpu = vm->cfg.cpu;
	s->mem = vm->cfg.mem;
	s->balloon_request_pages = vm->mem.balloon_request_pages;
	s->balloon_target_pages = vm->mem.balloon_target_pages;
	s->state_changes = vm->state_changes;
	s->boot_generation = vm->boot_generation;
}

static void put_summary(struct dctx *c, struct vh_vm *vm)
{
	struct vh_proto_vm_summary s;

	summarize(vm, &s);
	vh_proto_put_vm_summary(take(c, sizeof(struct vh_wire_vm_summary)), &s);
}

static void put_info(struct dctx *c, const struct vh_vm *vm)
{
	uint8_t *p = take(c, sizeof(struct vh_wire_vm_info));
	struct vh_proto_vm_summary s;

	summarize(vm, &s);
	vh_proto_put_vm_summary(p + offsetof(struct vh_wire_vm_info, summary), &s);
	vh_proto_put_vm_config(p + offsetof(struct vh_wire_vm_info, config), &vm->cfg);
	vh_memset(p + offsetof(struct vh_wire_vm_info, crash_reason), 0, VH_VM_CRASH_REASON_MAX);
	vh_strlcpy((char *)p + offsetof(struct vh_wire_vm_info, crash_reason), vm->crash_reason,
		   VH_VM_CRASH_REASON_MAX);
}

static void vm_stats(struct dctx *c, struct vh_vm *vm, struct vh_proto_vm_stats *s)
{
	vh_memset(s, 0, sizeof(*s));
	s->id = vm->id;
	s->state = (uint32_t)vm->state;
	vh_sched_vm_stats(c->h, vm, c->now, &s->cpu);
	vh_mem_vm_stats(c->h, vm, &s->mem);
	s->console_bytes = vm->guest.console_bytes;
	s->console_dropped = vm->guest.console_dropped;
	s->admission_refusals = vm->admission_refusals;
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		for (uint32_t k = 0; k < VH_EXIT_KIND_COUNT; k++)
			s->exits[k] += vm->vcpus[i].exits[k];
	}
}

static void put_vm_stats(struct dctx *c, struct vh_vm *vm)
{
	struct vh_proto_vm_stats s;

	vm_stats(c, vm, &s);
	vh_proto_put_vm_stats(take(c, vh_proto_reply_entry_size(c->msg, c->req->version)), &s,
			      c->req->version);
}

/* ---- handlers ------------------------------------------------------------- */

/* One handler per message, named do_<name> after its row in
 * vh/proto_messages.h; vm is the VM the request addresses (resolved before
 * the handler runs), NULL for requests that address none. */
typedef int (*handler_fn)(struct dctx *c, struct vh_vm *vm, struct vh_error *err);

void vh_proto_host_info_of(const struct vh_host *h, struct vh_proto_host_info *hi)
{
	*hi = (struct vh_proto_host_info){
		.version_min = VH_PROTO_VERSION_MIN,
		.version_max = VH_PROTO_VERSION_MAX,
		.page_size = VH_PAGE_SIZE,
		.pcpus = h->cfg.pcpus,
		.mhz_per_pcpu = h->cfg.mhz_per_pcpu,
		.memory_bytes = h->cfg.memory_bytes,
		.overhead_bytes = h->cfg.overhead_bytes,
		.cpu_capacity_mhz = vh_host_cpu_capacity_mhz(h),
		.mem_capacity_mib = vh_host_mem_capacity_mib(h),
		.max_vms = h->cfg.max_vms,
		.nvms = h->nvms,
		.max_vcpus = VH_VM_MAX_VCPUS,
		.max_modules = VH_BOOT_MAX_MODULES,
		.max_devices = VH_VM_MAX_DEVICES,
		.max_msg = VH_PROTO_MAX_MSG,
		.max_memory_mib = VH_VM_MAX_MEMORY_MIB,
		.instance = h->cfg.instance,
	};
	vh_strlcpy(hi->vh_version, vh_version(), sizeof(hi->vh_version));
}

static int do_host_info(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	struct vh_proto_host_info hi;

	(void)vm;
	(void)err;
	vh_proto_host_info_of(c->h, &hi);
	vh_proto_put_host_info(take(c, vh_proto_reply_size(c->msg, c->req->version)), &hi,
			       c->req->version);
	return VH_OK;
}

void vh_proto_host_stats_of(struct vh_host *h, uint64_t now, struct vh_proto_host_stats *hs)
{
	*hs = (struct vh_proto_host_stats){
		.now_ns = now,
		.pcpus = h->cfg.pcpus,
		.nvms = h->nvms,
		.reserved_mhz = h->reserved_mhz,
		.reserved_mib = h->reserved_mib,
		.cpu_capacity_mhz = vh_host_cpu_capacity_mhz(h),
		.mem_capacity_mib = vh_host_mem_capacity_mib(h),
	};
	for (const struct vh_vm *v = h->vm_first; v; v = v->id_next)
		if (v->state == VH_VM_RUNNING || v->state == VH_VM_PAUSED)
			hs->npowered_on++;
	vh_mem_host_stats(h, &hs->mem);
}

static int do_host_stats(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	struct vh_host *h = c->h;
	struct vh_proto_host_stats hs;
	uint8_t *fixed = take(c, sizeof(struct vh_wire_host_stats));

	(void)vm;
	(void)err;
	vh_proto_host_stats_of(h, c->now, &hs);
	for (uint32_t i = 0; i < h->cfg.pcpus; i++) {
		struct vh_pcpu_stats ps;
		vh_sched_pcpu_stats(h, i, c->now, &ps);
		hs.busy_ns += ps.busy_ns;
		hs.idle_ns += ps.idle_ns;
		vh_proto_put_pcpu_stats(take(c, sizeof(struct vh_wire_pcpu_stats)), &ps);
	}
	vh_proto_put_host_stats(fixed, &hs);
	return VH_OK;
}

/* The VM with the smallest id >= from, or NULL. */
static struct vh_vm *first_from(struct vh_host *h, uint32_t from)
{
	struct vh_vm *v = h->vm_first;

	while (v && v->id < from)
		v = v->id_next;
	return v;
}

/* VM_LIST and VM_STATS_ALL: entries in ascending id order from start_id,
 * as many as the reply holds (and max_entries allows).  Ids are never
 * reused, so a client that asks again from next_id sees every VM that
 * existed throughout exactly once, whatever was defined or undefined
 * between its requests. */
static int do_page(struct dctx *c, size_t esize, void (*put)(struct dctx *, struct vh_vm *))
{
	const struct vh_proto_page_req *rq = &c->req->u.page;
	struct vh_proto_page_reply pg = { .total = c->h->nvms, .now_ns = c->now };
	uint8_t *fixed = take(c, sizeof(struct vh_wire_page_reply));
	size_t fit = (c->room - c->len) / esize;
	uint32_t from = rq->start_id ? rq->start_id : 1;
	struct vh_vm *vm;

	if (rq->max_entries && rq->max_entries < fit)
		fit = rq->max_entries;
	for (vm = first_from(c->h, from); vm; vm = vm->id_next) {
		if (pg.count == fit) {
			pg.next_id = vm->id;
			break;
		}
		put(c, vm);
		pg.count++;
	}
	vh_proto_put_page_reply(fixed, &pg);
	return VH_OK;
}

static int do_vm_list(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	(void)vm;
	(void)err;
	return do_page(c, sizeof(struct vh_wire_vm_summary), put_summary);
}

static int do_vm_stats_all(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	(void)vm;
	(void)err;
	return do_page(c, vh_proto_reply_entry_size(c->msg, c->req->version), put_vm_stats);
}

static int do_vm_define(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	(void)vm;
	if (vh_vm_config_validate(&c->req->u.define, err))
		return err->code;
	vm = vh_vm_define(c->h, &c->req->u.define, err);
	if (!vm)
		return err->code;
	put_info(c, vm);
	return VH_OK;
}

static int do_vm_undefine(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	return vh_vm_undefine(c->h, vm, err);
}

static int do_vm_get(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	(void)err;
	put_info(c, vm);
	return VH_OK;
}

/* Lifecycle requests: the VM API call, then the VM's summary. */
static int lifecycle(struct dctx *c, struct vh_vm *vm, struct vh_error *err,
		     int (*op)(struct vh_host *h, struct vh_vm *vm, struct vh_error *err))
{
	int rc = op(c->h, vm, err);

	if (rc)
		return rc;
	put_summary(c, vm);
	return VH_OK;
}

#define LIFECYCLE(name)                                                               \
	static int do_vm_##name(struct dctx *c, struct vh_vm *vm, struct vh_error *err) \
	{                                                                             \
		return lifecycle(c, vm, err, vh_vm_##name);                           \
	}
LIFECYCLE(start)
LIFECYCLE(stop)
LIFECYCLE(pause)
LIFECYCLE(resume)
LIFECYCLE(reset)
#undef LIFECYCLE

static int do_vm_set_cpu(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	int rc = vh_vm_set_cpu(c->h, vm, &c->req->u.cpu, err);

	if (rc)
		return rc;
	put_summary(c, vm);
	return VH_OK;
}

static int do_vm_set_mem(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	int rc = vh_vm_set_mem(c->h, vm, &c->req->u.mem, err);

	if (rc)
		return rc;
	put_summary(c, vm);
	return VH_OK;
}

static int do_vm_set_balloon(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	int rc = vh_vm_set_balloon(c->h, vm, c->req->u.balloon_target_mib, err);

	if (rc)
		return rc;
	put_summary(c, vm);
	return VH_OK;
}

static int do_vm_stats(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	uint16_t ver = c->req->version;
	uint8_t *p = take(c, vh_proto_reply_size(c->msg, ver));
	struct vh_proto_vm_stats s;

	(void)err;
	vm_stats(c, vm, &s);
	vh_proto_put_vm_stats_reply(p, c->now, vm->cfg.vcpus, &s, ver);
	for (uint32_t i = 0; i < vm->cfg.vcpus; i++) {
		struct vh_proto_vcpu_stats vs = { .index = i };
		vh_sched_vcpu_stats(c->h, &vm->vcpus[i], c->now, &vs.cpu);
		vh_proto_put_vcpu_stats(take(c, vh_proto_reply_entry_size(c->msg, ver)), &vs, ver);
	}
	return VH_OK;
}

/* STATS_MAP: what the area is; the transport passes the area itself with
 * the reply (a backend that publishes none: VH_E_STATE). */
static int do_stats_map(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	const struct vh_pub_header *pub = c->h->pub;
	struct vh_proto_stats_map m;

	(void)vm;
	if (!pub)
		return vh_error_set(err, VH_E_STATE, "this hypervisor publishes no counters");
	m = (struct vh_proto_stats_map){
		.layout_version = pub->version,
		.clock = pub->clock,
		.size = pub->size,
		.instance = pub->instance,
	};
	vh_proto_put_stats_map(take(c, sizeof(struct vh_wire_stats_map)), &m);
	return VH_OK;
}

/* VM_CONSOLE: the held bytes from `from` on, as many as max_bytes allow
 * (all of them fit VH_PROTO_REPLY_MIN: proto.h checks). */
static int do_vm_console(struct dctx *c, struct vh_vm *vm, struct vh_error *err)
{
	const struct vh_proto_console_req *rq = &c->req->u.console;
	struct vh_proto_console_reply cr = { .total = vm->console.total };
	uint8_t *fixed;
	size_t cap = VH_CONSOLE_TAIL_BYTES;

	if (rq->from > cr.total)
		return vh_error_set(err, VH_E_INVAL,
				    "from: %llu is past the %llu bytes the console has written",
				    (unsigned long long)rq->from, (unsigned long long)cr.total);
	if (rq->max_bytes && rq->max_bytes < cap)
		cap = rq->max_bytes;
	fixed = take(c, sizeof(struct vh_wire_console_reply));
	cr.len = (uint32_t)vh_vm_console_read(vm, rq->from, c->payload + c->len, cap, &cr.first);
	take(c, cr.len);
	vh_proto_put_console_reply(fixed, &cr);
	return VH_OK;
}

/* The dispatch table: each row of vh/proto_messages.h bound to its
 * handler do_<name>.  Whether the VM is resolved first is the row's
 * VH_PROTO_MSG_VM; payload sizes and layouts are the codec's. */
static const handler_fn handlers[VH_PROTO_TYPE_COUNT] = {
#define HANDLER(type, value, name, request, reply, flags) [VH_PROTO_##type] = do_##name,
	VH_PROTO_MESSAGES(HANDLER)
#undef HANDLER
};

static struct vh_vm *resolve(struct vh_host *h, const struct vh_proto_vm_ref *r,
			     struct vh_error *err)
{
	struct vh_vm *vm = NULL;
	const uint8_t *u = r->uuid;

	switch (r->kind) {
	case VH_PROTO_REF_ID:
		if (!(vm = vh_vm_find_id(h, r->id)))
			vh_error_set(err, VH_E_NOENT, "vm.id: no VM with id %u", r->id);
		break;
	case VH_PROTO_REF_NAME:
		if (!(vm = vh_vm_find_name(h, r->name)))
			vh_error_set(err, VH_E_NOENT, "vm.name: no VM named \"%s\"", r->name);
		break;
	case VH_PROTO_REF_UUID:
		if (!(vm = vh_vm_find_uuid(h, r->uuid)))
			vh_error_set(err, VH_E_NOENT,
				     "vm.uuid: no VM with uuid %02x%02x%02x%02x-%02x%02x-%02x%02x-"
				     "%02x%02x-%02x%02x%02x%02x%02x%02x",
				     u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
				     u[10], u[11], u[12], u[13], u[14], u[15]);
		break;
	default: /* refused by the decoder */
		vh_error_set(err, VH_E_INTERNAL, "vm.kind: %u slipped past the decoder", r->kind);
		break;
	}
	return vm;
}

/* The field at fault is the reason's prefix up to ": " when it looks like
 * a field path (letters, digits, '_', '.', '[', ']'); reasons about no
 * single field ("cannot start VM ...") leave it empty. */
static void field_of(const char *reason, char *field, size_t cap)
{
	size_t n = 0;

	for (;; n++) {
		char ch = reason[n];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '[' ||
			  ch == ']';
		if (!ok)
			break;
	}
	if (n == 0 || n >= cap || reason[n] != ':' || reason[n + 1] != ' ')
		n = 0;
	vh_memcpy(field, reason, n);
	field[n] = '\0';
}

int vh_proto_dispatch(struct vh_host *h, const void *req, size_t req_len, void *reply,
		      size_t reply_cap, size_t *reply_len)
{
	struct vh_proto_request rq;
	struct vh_proto_header hdr = {
		.magic = VH_PROTO_MAGIC,
		.version = VH_PROTO_VERSION,
		.flags = VH_PROTO_F_REPLY,
	};
	struct vh_error err = { VH_OK, "" };
	struct dctx c = { .h = h, .req = &rq, .payload = (uint8_t *)reply + VH_PROTO_HEADER_SIZE };
	int rc;

	*reply_len = 0;
	if (reply_cap < VH_PROTO_REPLY_MIN)
		return VH_E_INVAL;
	c.room =
	    (reply_cap < VH_PROTO_MAX_MSG ? reply_cap : VH_PROTO_MAX_MSG) - VH_PROTO_HEADER_SIZE;
	rc = vh_proto_decode_request(req, req_len, &rq, &err);
	hdr.type = rq.type;
	hdr.request_id = rq.request_id;
	/* The reply speaks the request's version, so an older client reads
	 * the layouts it knows; a version this build does not speak gets
	 * VH_E_VERSION in the newest. */
	if (rq.version >= VH_PROTO_VERSION_MIN && rq.version <= VH_PROTO_VERSION_MAX)
		hdr.version = rq.version;
	if (rc == VH_OK) {
		struct vh_vm *vm = NULL;
		c.msg = vh_proto_msg(rq.type);
		h->plat->lock(h->plat->ctx);
		c.now = h->plat->now_ns(h->plat->ctx);
		if (vh_proto_msg_has(rq.type, VH_PROTO_MSG_VM) && !(vm = resolve(h, &rq.vm, &err)))
			rc = err.code;
		else
			rc = handlers[rq.type](&c, vm, &err);
		/* Counted here, once for every path that admits (power-on,
		 * CPU and memory reservations, the frames behind them). */
		if (rc == VH_E_ADMISSION && vm && vm->admission_refusals < UINT32_MAX)
			vm->admission_refusals++;
		/* What a change did shows in the published counters at once
		 * (an undefined VM has left them already). */
		if (!vh_proto_msg_has(rq.type, VH_PROTO_MSG_READ_ONLY) &&
		    rq.type != VH_PROTO_VM_UNDEFINE) {
			if (vm)
				vh_pub_vm(h, vm);
			vh_pub_host(h);
		}
		h->plat->unlock(h->plat->ctx);
		vh_pub_msg(h, rq.type);
	}
	if (rc != VH_OK) {
		struct vh_proto_error e = { .code = (uint32_t)rc };
		/* A VM API call that failed without a reason would be a bug
		 * there; the client still gets a code it can act on. */
		if ((int)err.code != rc || !err.reason[0])
			vh_snprintf(err.reason, sizeof(err.reason), "%s failed (%s)",
				    vh_proto_type_name(rq.type), vh_errcode_name(rc));
		vh_strlcpy(e.reason, err.reason, sizeof(e.reason));
		field_of(e.reason, e.field, sizeof(e.field));
		c.len = 0;
		vh_proto_put_error(take(&c, sizeof(struct vh_wire_error)), &e);
	}
	hdr.status = (uint32_t)rc;
	hdr.payload_len = (uint32_t)c.len;
	vh_proto_put_header(reply, &hdr);
	*reply_len = VH_PROTO_HEADER_SIZE + c.len;
	return rc;
}
