/* SPDX-License-Identifier: Apache-2.0 */
/* The agent's event ring and the watcher that fills it (events.h).
 *
 * Each event is kept as the SSE record a client gets, so serving one is
 * a copy.  The ring holds the last VH_EVENTS_RING; sequence numbers never
 * repeat while the agent runs.  Publishing kicks the followers' thread
 * (follow.c) so event streams get it at once.
 *
 * The watcher diffs VM_LIST snapshots by VM id (ids are never reused
 * while the hypervisor runs): a new id is "vm_defined", a gone one
 * "vm_deleted"; a state that changed (or a state_changes counter that
 * moved: a stop and a start between two looks) gives the event of the
 * state the VM is in now; a boot generation that moved without a state
 * change is "vm_reset"; a balloon target that moved is "balloon_target".
 * Another hypervisor instance (vh_hv_instance) or an unreachable
 * hypervisor is "hypervisor_stopped"; the next good look "hypervisor_started",
 * with a fresh baseline (its VMs come back as the reconciler defines
 * them again). */
#define _GNU_SOURCE
#include "agent/events.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/http.h"
#include "agent/hvconn.h"
#include "api/vh_api.h"

struct record {
	uint64_t seq;
	char *text;
	size_t len;
};

static struct {
	pthread_mutex_t lock;
	struct record ring[VH_EVENTS_RING];
	uint64_t next; /* the next sequence number */
} ev = { .lock = PTHREAD_MUTEX_INITIALIZER, .next = 1 };

static void utc_now(char out[48])
{
	struct timespec ts;
	struct tm tm;

	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	/* strftime, then the milliseconds as a value known to be 0..999:
	 * one snprintf of every field lets a fortified -O2 build see a year
	 * of 2^31 and refuse the buffer. */
	n = strftime(out, 48, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 48 - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

/* The SSE record of event seq.  JSON text holds no newline (json-c
 * escapes them in strings), so the data is one line. */
static char *record_text(uint64_t seq, const char *type, struct json_object *o, size_t *len)
{
	const char *data = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	char *s = NULL;
	int n = asprintf(&s, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)seq, type,
			 data ? data : "{}");

	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return s;
}

uint64_t vh_events_publish(const char *type, const char *vm_name, const uint8_t *vm_uuid,
			   struct json_object *extra)
{
	struct json_object *o = json_object_new_object();
	struct record *slot;
	char when[48], uuid[37];
	uint64_t seq;
	size_t len = 0;
	char *text;

	if (!o) {
		json_object_put(extra);
		return 0;
	}
	utc_now(when);
	pthread_mutex_lock(&ev.lock);
	seq = ev.next++;
	json_object_object_add(o, "id", json_object_new_int64((int64_t)seq));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "time", json_object_new_string(when));
	if (vm_name || vm_uuid) {
		struct json_object *vm = json_object_new_object();

		if (vm_name)
			json_object_object_add(vm, "name", json_object_new_string(vm_name));
		if (vm_uuid) {
			vh_api_uuid_format(vm_uuid, uuid);
			json_object_object_add(vm, "uuid", json_object_new_string(uuid));
		}
		json_object_object_add(o, "vm", vm);
	}
	if (extra) {
		json_object_object_foreach(extra, k, v)
		{
			json_object_object_add(o, k, json_object_get(v));
		}
		json_object_put(extra);
	}
	text = record_text(seq, type, o, &len);
	slot = &ev.ring[seq % VH_EVENTS_RING];
	free(slot->text);
	slot->seq = seq;
	slot->text = text; /* NULL when out of memory: read as lost */
	slot->len = text ? len : 0;
	pthread_mutex_unlock(&ev.lock);
	json_object_put(o);
	vh_follow_kick();
	return seq;
}

uint64_t vh_events_next(void)
{
	uint64_t n;

	pthread_mutex_lock(&ev.lock);
	n = ev.next;
	pthread_mutex_unlock(&ev.lock);
	return n;
}

size_t vh_events_read(uint64_t *next, char *buf, size_t max)
{
	size_t used = 0;
	uint64_t oldest;

	pthread_mutex_lock(&ev.lock);
	oldest = ev.next > VH_EVENTS_RING ? ev.next - VH_EVENTS_RING : 1;
	if (*next == 0)
		*next = 1;
	if (*next > ev.next)
		*next = ev.next; /* an id from before a restart of the agent */
	if (*next < oldest) {
		struct json_object *o = json_object_new_object();
		size_t len = 0;
		char *t;

		json_object_object_add(o, "type", json_object_new_string("events_lost"));
		json_object_object_add(o, "from", json_object_new_int64((int64_t)*next));
		json_object_object_add(o, "to", json_object_new_int64((int64_t)oldest - 1));
		t = record_text(oldest - 1, "events_lost", o, &len);
		json_object_put(o);
		if (t && len <= max) {
			memcpy(buf, t, len);
			used = len;
			*next = oldest;
		}
		free(t);
		if (!used) {
			pthread_mutex_unlock(&ev.lock);
			return 0;
		}
	}
	while (*next < ev.next) {
		struct record *r = &ev.ring[*next % VH_EVENTS_RING];

		if (r->seq != *next || !r->text) {
			(*next)++; /* never written (out of memory) */
			continue;
		}
		if (used + r->len > max)
			break;
		memcpy(buf + used, r->text, r->len);
		used += r->len;
		(*next)++;
	}
	pthread_mutex_unlock(&ev.lock);
	return used;
}

void vh_events_free(void)
{
	pthread_mutex_lock(&ev.lock);
	for (unsigned i = 0; i < VH_EVENTS_RING; i++) {
		free(ev.ring[i].text);
		ev.ring[i].text = NULL;
	}
	pthread_mutex_unlock(&ev.lock);
}

/* ---- the watcher ------------------------------------------------------------- */

struct seen {
	uint32_t id, state, boot_generation;
	uint64_t state_changes, balloon_target_pages;
	uint8_t uuid[16];
	char name[VH_VM_NAME_MAX];
};

struct snap {
	struct seen *v;
	size_t n, cap;
};

/* Only the main thread watches: no lock. */
static struct {
	struct snap last;
	bool have_last; /* a baseline from this hypervisor run */
	bool hv_up;     /* the last look reached it */
	bool hv_known;  /* there was a last look */
	uint64_t gen;   /* the hypervisor instance of the baseline (vh_hv_instance) */
} w;

static int collect(void *ctx, const struct vh_hv_entry *e)
{
	struct snap *s = ctx;
	struct vh_proto_vm_summary sum;
	struct seen *x;

	if (vh_hv_entry_decode(e, &sum))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct seen *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	x = &s->v[s->n++];
	x->id = sum.id;
	x->state = sum.state;
	x->boot_generation = sum.boot_generation;
	x->state_changes = sum.state_changes;
	x->balloon_target_pages = sum.balloon_target_pages;
	memcpy(x->uuid, sum.uuid, 16);
	snprintf(x->name, sizeof(x->name), "%s", sum.name);
	return 0;
}

static void vm_event(const char *type, const struct seen *s, struct json_object *extra)
{
	vh_events_publish(type, s->name, s->uuid, extra);
}

/* The event of entering state (from prev_state). */
static const char *state_event(uint32_t state, uint32_t prev_state)
{
	switch (state) {
	case VH_VM_RUNNING: return prev_state == VH_VM_PAUSED ? "vm_resumed" : "vm_started";
	case VH_VM_PAUSED: return "vm_paused";
	case VH_VM_STOPPED: return "vm_stopped";
	case VH_VM_CRASHED: return "vm_crashed";
	default: return NULL;
	}
}

/* The state, and for a crashed VM why (VM_GET's crash_reason). */
static struct json_object *state_extra(const struct seen *s)
{
	struct json_object *o = json_object_new_object();
	struct vh_proto_vm_ref ref = { .kind = VH_PROTO_REF_UUID };
	struct vh_proto_vm_info info;
	struct vh_api_problem p;

	json_object_object_add(o, "state", json_object_new_string(vh_api_state_name(s->state)));
	if (s->state != VH_VM_CRASHED)
		return o;
	memcpy(ref.uuid, s->uuid, 16);
	if (vh_hv_vm_get(&ref, &info, &p) == 0 && info.summary.state == VH_VM_CRASHED)
		json_object_object_add(o, "reason", json_object_new_string(info.crash_reason));
	return o;
}

/* A reset is the one change that enters the state the VM was in (or
 * leaves paused for running) with a new boot generation, in one step. */
static bool was_reset(const struct seen *a, const struct seen *b)
{
	return b->state_changes == a->state_changes + 1 &&
	       b->boot_generation != a->boot_generation && b->state == VH_VM_RUNNING &&
	       (a->state == VH_VM_RUNNING || a->state == VH_VM_PAUSED);
}

static void compare(const struct seen *a, const struct seen *b)
{
	if (was_reset(a, b)) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "boot_generation",
				       json_object_new_int64(b->boot_generation));
		vm_event("vm_reset", b, o);
	} else if (a->state != b->state || a->state_changes != b->state_changes) {
		/* Back in the same state after changes between two looks: it
		 * left it, so entering it again is from elsewhere. */
		const char *t =
		    state_event(b->state, a->state == b->state ? VH_VM_STOPPED : a->state);

		if (t)
			vm_event(t, b, state_extra(b));
	}
	if (b->balloon_target_pages != a->balloon_target_pages) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(
		    o, "target_mib",
		    json_object_new_int64((int64_t)(b->balloon_target_pages * 4096u >> 20)));
		json_object_object_add(
		    o, "previous_mib",
		    json_object_new_int64((int64_t)(a->balloon_target_pages * 4096u >> 20)));
		vm_event("balloon_target", b, o);
	}
}

static void defined(const struct seen *b)
{
	vm_event("vm_defined", b, state_extra(b));
	if (state_event(b->state, VH_VM_DEFINED))
		vm_event(state_event(b->state, VH_VM_DEFINED), b, state_extra(b));
}

static void diff(const struct snap *prev, const struct snap *now)
{
	size_t i = 0, j = 0;

	while (i < prev->n || j < now->n) {
		if (j == now->n || (i < prev->n && prev->v[i].id < now->v[j].id)) {
			vm_event("vm_deleted", &prev->v[i], NULL);
			i++;
		} else if (i == prev->n || now->v[j].id < prev->v[i].id) {
			defined(&now->v[j]);
			j++;
		} else {
			compare(&prev->v[i], &now->v[j]);
			i++;
			j++;
		}
	}
}

static void hv_event(const char *type, const char *why)
{
	struct json_object *o = NULL;

	if (why) {
		o = json_object_new_object();
		json_object_object_add(o, "detail", json_object_new_string(why));
	}
	vh_events_publish(type, NULL, NULL, o);
}

void vh_events_watch(void)
{
	struct snap now = { 0 };
	struct vh_api_problem p;
	uint64_t gen = vh_hv_instance();
	int rc = vh_hv_each_summary(0, 0, collect, &now, NULL, &p);

	if (rc == 0 && (gen == 0 || gen != vh_hv_instance())) {
		/* Which instance answered is not settled (it restarted during
		 * the walk, or the new one is not named yet): look again next
		 * time, nothing said. */
		free(now.v);
		return;
	}
	if (rc != 0) {
		/* Gone (or it broke during the walk: look again next time). */
		if (rc != 0 && p.code == VH_API_UNAVAILABLE && (w.hv_up || !w.hv_known)) {
			hv_event("hypervisor_stopped", p.detail);
			w.hv_up = false;
			w.have_last = false;
		}
		w.hv_known = true;
		free(now.v);
		return;
	}
	if (w.have_last && gen != w.gen) {
		/* It restarted between two looks. */
		hv_event("hypervisor_stopped", "it restarted (another instance answers)");
		w.have_last = false;
		w.hv_up = false;
	}
	if (!w.hv_up) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "vms", json_object_new_int64((int64_t)now.n));
		/* At the agent's start it may have run for long: said so. */
		if (!w.hv_known)
			json_object_object_add(
			    o, "detail", json_object_new_string("running when the agent started"));
		vh_events_publish("hypervisor_started", NULL, NULL, o);
	}
	if (w.have_last)
		diff(&w.last, &now);
	free(w.last.v);
	w.last = now;
	w.have_last = true;
	w.hv_up = true;
	w.hv_known = true;
	w.gen = gen;
}
