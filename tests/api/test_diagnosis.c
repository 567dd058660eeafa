/* SPDX-License-Identifier: Apache-2.0 */
/* Diagnosis as a unit: counters a window apart in, ranked causes out,
 * one test per cause. */
#include "api/api_internal.h"
#include "api_test.h"

#define MS     VH_NSEC_PER_MSEC
#define WINDOW (1000 * MS)

struct fixture {
	struct vh_proto_host_info hi;
	struct vh_proto_host_stats hs;
	struct vh_api_diag_vm vms[4];
	size_t nvms;
};

static void host(struct fixture *f, uint32_t pcpus)
{
	memset(f, 0, sizeof(*f));
	f->hi.pcpus = pcpus;
	f->hi.mhz_per_pcpu = 1000;
	f->hi.cpu_capacity_mhz = 1000ull * pcpus;
	f->hi.mem_capacity_mib = 1024;
}

/* A running VM of `vcpus` and 64 MiB whose counters grew by these ms
 * over the window (stolen and limited: parts of ready); shares per vCPU
 * as a preset level. */
static struct vh_api_diag_vm *vm_stolen(struct fixture *f, const char *name, uint32_t vcpus,
					enum vh_shares_level level, uint64_t used, uint64_t ready,
					uint64_t limited, uint64_t stolen, uint64_t costop,
					uint64_t wait)
{
	struct vh_api_diag_vm *v = &f->vms[f->nvms++];

	snprintf(v->s.name, sizeof(v->s.name), "%s", name);
	v->s.vcpus = vcpus;
	v->s.memory_mib = 64;
	v->s.cpu.shares.level = level;
	v->s.cpu.limit_mhz = VH_UNLIMITED;
	v->s.mem.limit_mib = VH_UNLIMITED;
	v->a.state = v->b.state = VH_VM_RUNNING;
	/* Earlier history, so that the deltas are what counts. */
	v->a.cpu = (struct vh_cpu_stats){ .used_ns = 5000 * MS,
					  .ready_ns = 700 * MS,
					  .limited_ns = 300 * MS,
					  .costop_ns = 11 * MS,
					  .wait_ns = 9000 * MS,
					  .stolen_ns = 40 * MS };
	v->b.cpu = v->a.cpu;
	v->b.cpu.used_ns += used * MS;
	v->b.cpu.ready_ns += ready * MS;
	v->b.cpu.limited_ns += limited * MS;
	v->b.cpu.stolen_ns += stolen * MS;
	v->b.cpu.costop_ns += costop * MS;
	v->b.cpu.wait_ns += wait * MS;
	return v;
}

static struct vh_api_diag_vm *vm(struct fixture *f, const char *name, uint32_t vcpus,
				 enum vh_shares_level level, uint64_t used, uint64_t ready,
				 uint64_t limited, uint64_t costop, uint64_t wait)
{
	return vm_stolen(f, name, vcpus, level, used, ready, limited, 0, costop, wait);
}

static struct json_object *diagnose(struct fixture *f, size_t self)
{
	struct vh_api_diag_input in = { .hi = &f->hi,
					.hs = &f->hs,
					.window_ns = WINDOW,
					.vms = f->vms,
					.nvms = f->nvms,
					.self = self };
	struct json_object *j = vh_api_diagnose_vm(&in);

	VH_ASSERT(j != NULL);
	printf("# %s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	return j;
}

static struct json_object *cause(struct json_object *j, size_t i)
{
	struct json_object *causes;

	VH_ASSERT(json_object_object_get_ex(j, "causes", &causes));
	VH_ASSERT((size_t)json_object_array_length(causes) > i);
	return json_object_array_get_idx(causes, i);
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *x;

	return json_object_object_get_ex(o, key, &x) ? json_object_get_string(x) : "";
}

static double figure(struct json_object *c, const char *key)
{
	struct json_object *f, *x;

	VH_ASSERT(json_object_object_get_ex(c, "figures", &f));
	if (!json_object_object_get_ex(f, key, &x))
		VH_FAIL("no figure %s", key);
	return json_object_get_double(x);
}

static size_t ncauses(struct json_object *j)
{
	struct json_object *causes;

	VH_ASSERT(json_object_object_get_ex(j, "causes", &causes));
	return (size_t)json_object_array_length(causes);
}

VH_TEST(diagnosis, capped_vm_is_held_back_by_its_own_limit)
{
	struct fixture f;
	struct vh_api_diag_vm *v;
	struct json_object *j, *c;

	host(&f, 2);
	v = vm(&f, "capped", 1, VH_SHARES_NORMAL, 250, 750, 748, 0, 0);
	v->s.cpu.limit_mhz = 250;
	j = diagnose(&f, 0);
	c = cause(j, 0);
	VH_EXPECT_STREQ(str(c, "code"), "cpu_limit");
	VH_EXPECT_STREQ(str(c, "kind"), "problem");
	VH_EXPECT_NEAR(figure(c, "limited_pct"), 74.8, 0.05);
	VH_EXPECT_EQ((uint64_t)figure(c, "limit_mhz"), 250ull);
	VH_EXPECT(strstr(str(c, "message"), "its own CPU limit") != NULL);
	VH_EXPECT(strstr(str(c, "remedy"), "--limit unlimited") != NULL);
	/* The 2 ms it waited for a pCPU are below the 1% worth naming. */
	VH_EXPECT_EQ(ncauses(j), 1u);
	VH_EXPECT_STREQ(str(j, "summary"), str(c, "message"));
	json_object_put(j);
}

VH_TEST(diagnosis, starved_vm_is_told_its_share_of_the_contention)
{
	struct fixture f;
	struct json_object *j, *c;

	/* One pCPU, two spinners: low's 500 shares against high's 2000. */
	host(&f, 1);
	vm(&f, "low", 1, VH_SHARES_LOW, 200, 800, 0, 0, 0);
	vm(&f, "high", 1, VH_SHARES_HIGH, 800, 200, 0, 0, 0);
	j = diagnose(&f, 0);
	c = cause(j, 0);
	VH_EXPECT_STREQ(str(c, "code"), "cpu_contention");
	VH_EXPECT_NEAR(figure(c, "ready_pct"), 80.0, 0.05);
	VH_EXPECT_EQ((uint64_t)figure(c, "competing_vcpus"), 2ull);
	VH_EXPECT_EQ((uint64_t)figure(c, "pcpus"), 1ull);
	VH_EXPECT_EQ((uint64_t)figure(c, "shares"), 500ull);
	VH_EXPECT_EQ((uint64_t)figure(c, "shares_total"), 2500ull);
	VH_EXPECT_NEAR(figure(c, "share_pct"), 20.0, 0.05);
	VH_EXPECT_NEAR(figure(c, "entitled_pcpus"), 0.2, 0.05);
	VH_EXPECT(strstr(str(c, "message"), "500 shares are 20.0% of the 2500") != NULL);
	VH_EXPECT(strstr(str(c, "remedy"), "--shares high") != NULL);
	/* Not its own limit. */
	for (size_t i = 0; i < ncauses(j); i++)
		VH_EXPECT(strcmp(str(cause(j, i), "code"), "cpu_limit") != 0);
	json_object_put(j);
}

/* Time the host took is its own cause, not contention between VMs. */
VH_TEST(diagnosis, host_steal_is_told_apart_from_contention)
{
	struct fixture f;
	struct json_object *j, *c;

	host(&f, 1);
	vm_stolen(&f, "low", 1, VH_SHARES_LOW, 200, 800, 0, 300, 0, 0);
	vm(&f, "high", 1, VH_SHARES_HIGH, 800, 200, 0, 0, 0);
	j = diagnose(&f, 0);
	c = cause(j, 0);
	VH_EXPECT_STREQ(str(c, "code"), "cpu_contention");
	VH_EXPECT_NEAR(figure(c, "ready_pct"), 50.0, 0.05);
	c = cause(j, 1);
	VH_EXPECT_STREQ(str(c, "code"), "host_steal");
	VH_EXPECT_NEAR(figure(c, "stolen_pct"), 30.0, 0.05);
	VH_EXPECT(strstr(str(c, "message"), "The host took 30.0%") != NULL);
	json_object_put(j);
}

VH_TEST(diagnosis, idle_guest_is_halted_not_slow)
{
	struct fixture f;
	struct json_object *j, *c;

	host(&f, 2);
	vm(&f, "idle", 1, VH_SHARES_NORMAL, 3, 0, 0, 0, 997);
	j = diagnose(&f, 0);
	c = cause(j, 0);
	VH_EXPECT_STREQ(str(c, "code"), "halted");
	VH_EXPECT_STREQ(str(c, "kind"), "info");
	VH_EXPECT_NEAR(figure(c, "halted_pct"), 99.7, 0.05);
	VH_EXPECT(strstr(str(c, "message"), "not a slow one") != NULL);
	VH_EXPECT_EQ(ncauses(j), 1u);
	json_object_put(j);
}

VH_TEST(diagnosis, costop_names_the_lagging_vcpu)
{
	struct fixture f;
	struct vh_cpu_stats a[2] = { { .used_ns = 0 }, { .used_ns = 0 } };
	struct vh_cpu_stats b[2] = { { .used_ns = 900 * MS }, { .used_ns = 600 * MS } };
	struct json_object *j, *c;

	host(&f, 2);
	vm(&f, "smp", 2, VH_SHARES_NORMAL, 1500, 100, 0, 400, 0);
	struct vh_api_diag_input in = { .hi = &f.hi,
					.hs = &f.hs,
					.window_ns = WINDOW,
					.vms = f.vms,
					.nvms = f.nvms,
					.vcpu_a = a,
					.vcpu_b = b,
					.nvcpus = 2 };
	j = vh_api_diagnose_vm(&in);
	VH_ASSERT(j != NULL);
	c = cause(j, 0);
	VH_EXPECT_STREQ(str(c, "code"), "costop");
	VH_EXPECT_NEAR(figure(c, "costop_pct"), 20.0, 0.05);
	VH_EXPECT_EQ((uint64_t)figure(c, "lagging_vcpu"), 1ull);
	VH_EXPECT_EQ((uint64_t)figure(c, "skew_ms"), 300ull);
	VH_EXPECT(strstr(str(c, "message"), "vCPU 1 ran 300 ms less than vCPU 0") != NULL);
	json_object_put(j);
}

VH_TEST(diagnosis, balloon_says_why_and_the_tax_what_it_took)
{
	struct fixture f;
	struct vh_api_diag_vm *v;
	struct json_object *j, *c;

	host(&f, 2);
	v = vm(&f, "squeezed", 1, VH_SHARES_NORMAL, 10, 0, 0, 0, 990);
	v->b.mem.granted = 64 * VH_PAGES_PER_MIB;
	v->b.mem.active = 4 * VH_PAGES_PER_MIB;
	v->b.mem.balloon = 32 * VH_PAGES_PER_MIB;
	v->b.mem.entitled = 30 * VH_PAGES_PER_MIB;
	v->b.mem.reclaim_target = 34 * VH_PAGES_PER_MIB;
	v->b.mem.idle_tax = 34 * VH_PAGES_PER_MIB;
	v->b.mem.balloon_reason = VH_BALLOON_RECLAIM;
	v->s.balloon_target_pages = 34 * VH_PAGES_PER_MIB;
	j = diagnose(&f, 0);
	/* halted 99%, then the idle tax (53%), then the balloon (50%). */
	VH_EXPECT_STREQ(str(cause(j, 0), "code"), "halted");
	c = cause(j, 1);
	VH_EXPECT_STREQ(str(c, "code"), "idle_memory_tax");
	VH_EXPECT_NEAR(figure(c, "idle_tax_mib"), 34.0, 0.05);
	VH_EXPECT(strstr(str(c, "message"), "only 4.0 of its 64.0 MiB were active") != NULL);
	c = cause(j, 2);
	VH_EXPECT_STREQ(str(c, "code"), "balloon");
	VH_EXPECT_NEAR(figure(c, "balloon_mib"), 32.0, 0.05);
	VH_EXPECT_STREQ(str(json_object_object_get(c, "figures"), "reason"), "reclaim");
	VH_EXPECT(strstr(str(c, "message"), "short of memory") != NULL);
	json_object_put(j);

	/* An operator's balloon is named as such, with its remedy. */
	v->b.mem.idle_tax = v->b.mem.reclaim_target = 0;
	v->b.mem.balloon_reason = VH_BALLOON_REQUEST;
	v->s.balloon_request_pages = 32 * VH_PAGES_PER_MIB;
	j = diagnose(&f, 0);
	c = cause(j, 1);
	VH_EXPECT_STREQ(str(c, "code"), "balloon");
	VH_EXPECT(strstr(str(c, "message"), "an operator asked") != NULL);
	VH_EXPECT(strstr(str(c, "remedy"), "vhctl vm balloon squeezed 0") != NULL);
	json_object_put(j);
}

VH_TEST(diagnosis, page_sharing_is_a_saving_ranked_last)
{
	struct fixture f;
	struct vh_api_diag_vm *v;
	struct json_object *j, *c;

	host(&f, 2);
	v = vm(&f, "twin", 1, VH_SHARES_NORMAL, 1000, 0, 0, 0, 0);
	v->b.mem.shared = 48 * VH_PAGES_PER_MIB;
	j = diagnose(&f, 0);
	VH_ASSERT_EQ(ncauses(j), 1u);
	c = cause(j, 0);
	VH_EXPECT_STREQ(str(c, "code"), "page_sharing");
	VH_EXPECT_STREQ(str(c, "kind"), "info");
	VH_EXPECT_NEAR(figure(c, "shared_mib"), 48.0, 0.05);
	json_object_put(j);
}

VH_TEST(diagnosis, admission_refusals_of_a_stopped_vm_cost_it_everything)
{
	struct fixture f;
	struct vh_api_diag_vm *v;
	struct json_object *j, *c;

	host(&f, 2);
	f.hs.reserved_mhz = 1800;
	v = vm(&f, "big", 1, VH_SHARES_NORMAL, 0, 0, 0, 0, 0);
	v->a.state = v->b.state = VH_VM_STOPPED;
	v->s.cpu.reservation_mhz = 500;
	v->a.admission_refusals = 1;
	v->b.admission_refusals = 3;
	j = diagnose(&f, 0);
	c = cause(j, 0);
	VH_EXPECT_STREQ(str(c, "code"), "admission");
	VH_EXPECT_EQ((uint64_t)figure(c, "refusals"), 3ull);
	VH_EXPECT_EQ((uint64_t)figure(c, "refusals_in_window"), 2ull);
	VH_EXPECT_EQ((uint64_t)figure(c, "unreserved_mhz"), 200ull);
	VH_EXPECT(strstr(str(c, "message"), "reserves 500 MHz") != NULL);
	VH_EXPECT_STREQ(str(cause(j, 1), "code"), "not_running");
	json_object_put(j);
}

VH_TEST(diagnosis, nothing_held_back_says_so)
{
	struct fixture f;
	struct json_object *j;

	host(&f, 2);
	vm(&f, "free", 1, VH_SHARES_NORMAL, 1000, 0, 0, 0, 0);
	j = diagnose(&f, 0);
	VH_EXPECT_EQ(ncauses(j), 0u);
	VH_EXPECT(strstr(str(j, "summary"), "Nothing held it back") != NULL);
	json_object_put(j);
	/* Out of range: no diagnosis rather than a wrong one. */
	struct vh_api_diag_input in = { .hi = &f.hi,
					.hs = &f.hs,
					.window_ns = WINDOW,
					.vms = f.vms,
					.nvms = f.nvms,
					.self = 1 };
	VH_EXPECT(vh_api_diagnose_vm(&in) == NULL);
	in.self = 0;
	in.window_ns = 0;
	VH_EXPECT(vh_api_diagnose_vm(&in) == NULL);
}

VH_TEST(diagnosis, host_ranks_the_takers_and_the_admission_headroom)
{
	struct fixture f;
	struct json_object *j, *vms, *x;

	host(&f, 2);
	f.hs.reserved_mhz = 1500;
	f.hs.reserved_mib = 256;
	vm(&f, "small", 1, VH_SHARES_NORMAL, 100, 0, 0, 0, 900);
	vm(&f, "big", 2, VH_SHARES_NORMAL, 1800, 200, 0, 0, 0);
	struct vh_api_diag_input in = {
		.hi = &f.hi, .hs = &f.hs, .window_ns = WINDOW, .vms = f.vms, .nvms = f.nvms
	};
	j = vh_api_diagnose_host(&in);
	VH_ASSERT(j != NULL);
	printf("# %s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	VH_ASSERT(json_object_object_get_ex(j, "vms", &vms));
	VH_ASSERT_EQ(json_object_array_length(vms), 2u);
	VH_EXPECT_STREQ(str(json_object_array_get_idx(vms, 0), "vm"), "big");
	VH_ASSERT(json_object_object_get_ex(j, "admission", &x));
	VH_EXPECT_EQ((uint64_t)json_object_get_int64(json_object_object_get(x, "unreserved_mhz")),
		     500ull);
	VH_EXPECT_NEAR(json_object_get_double(json_object_object_get(x, "closest_pct")), 75.0,
		       0.05);
	VH_EXPECT_EQ((uint64_t)json_object_get_int64(json_object_object_get(j, "competing_vcpus")),
		     3ull);
	VH_EXPECT(strstr(str(j, "summary"), "more than 500 MHz or 768 MiB") != NULL);
	json_object_put(j);
}
