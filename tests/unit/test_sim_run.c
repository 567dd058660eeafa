/* SPDX-License-Identifier: Apache-2.0 */
/* The vh-sim engine end to end: a scenario in, JSON out, driven through
 * the real core.  Figures are read back out of the JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "sim_run.h"
#include "vh_test.h"

/* Runs text and returns the JSON (malloc'd), or NULL with a failure. */
static char *run_text(const char *text, bool samples)
{
	struct vh_sim_scenario sc;
	struct vh_sim_run_options opt = { .samples = samples };
	char err[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	bool ok;

	if (!vh_sim_scenario_parse(text, &sc, err, sizeof(err))) {
		vh_test_fail(__FILE__, __LINE__, false, "parse: %s", err);
		return NULL;
	}
	f = open_memstream(&buf, &len);
	ok = f && vh_sim_run(&sc, &opt, f, err, sizeof(err));
	if (f)
		fclose(f);
	vh_sim_scenario_free(&sc);
	if (!ok) {
		vh_test_fail(__FILE__, __LINE__, false, "run: %s", err);
		free(buf);
		return NULL;
	}
	return buf;
}

/* The number after "key": inside the object of the VM called name. */
static double vm_field(const char *json, const char *name, const char *key)
{
	char needle[96];
	const char *vms = strstr(json, "\n  \"vms\": [");
	const char *p;

	snprintf(needle, sizeof(needle), "\"name\": \"%s\"", name);
	p = vms ? strstr(vms, needle) : NULL;
	if (!p)
		return -1;
	snprintf(needle, sizeof(needle), "\"%s\": ", key);
	p = strstr(p, needle);
	return p ? strtod(p + strlen(needle), NULL) : -1;
}

static const char *const reservation =
	"host pcpus=1 mhz=2000 memory=64M\n"
	"sched quantum=1ms\n"
	"duration 10s\n"
	"sample 1s\n"
	"vm web cpu.shares=low cpu.reservation=500 workload=cpu\n"
	"vm batch1 cpu.shares=high workload=cpu\n"
	"vm batch2 cpu.shares=high workload=cpu\n"
	"at 5s web set cpu.reservation=1000\n"
	"at 6s batch1 set cpu.reservation=1500\n";

VH_TEST(sim_run, reservations_and_refused_changes_show_in_the_report)
{
	char *out = run_text(reservation, false);

	VH_ASSERT(out != NULL);
	/* web: 25% (500 of 2000 MHz) for 5 s, then 50% for 5 s. */
	VH_EXPECT_NEAR(vm_field(out, "web", "used_ms"), 3750.0, 37.5);
	VH_EXPECT_NEAR(vm_field(out, "web", "used_pct_of_host"), 37.5, 0.4);
	/* The batch VMs split the rest evenly. */
	VH_EXPECT_NEAR(vm_field(out, "batch1", "used_ms"), vm_field(out, "batch2", "used_ms"),
		       20.0);
	/* The over-commit at 6 s is refused with the shortfall, and counted. */
	VH_EXPECT(strstr(out, "\"result\": \"admission\"") != NULL);
	VH_EXPECT(strstr(out, "short by 500 MHz") != NULL);
	VH_EXPECT(strstr(out, "\"events_refused\": 1") != NULL);
	VH_EXPECT(strstr(out, "\"reserved_mhz\": 1000") != NULL);
	free(out);
}

VH_TEST(sim_run, same_scenario_same_output)
{
	char *a = run_text(reservation, true);
	char *b = run_text(reservation, true);

	VH_ASSERT(a && b);
	VH_EXPECT_STREQ(a, b);
	/* Ten samples, one a second. */
	int n = 0;
	for (const char *p = a; (p = strstr(p, "\"at_s\": ")) != NULL; p++)
		n++;
	VH_EXPECT_EQ(n, 2 + 10 + 3); /* 2 events, 10 samples, 3 power-ons */
	free(a);
	free(b);
}

VH_TEST(sim_run, identical_guests_share_and_idle_guests_balloon)
{
	char *out = run_text(
	    "host pcpus=2 mhz=2000 memory=256M\n"
	    "mem scan_rate=20000 scan_per_ghz=0 sample_period=1s reclaim_period=200ms\n"
	    "duration 20s\n"
	    "vm a memory=96M workload=cpu touch_rate=5000 touch=100 content=7\n"
	    "vm b memory=96M workload=cpu touch_rate=5000 touch=100 content=7\n"
	    "vm c memory=96M workload=idle touch_rate=2000 touch=50 content=9\n"
	    "vm d memory=96M mem.shares=high workload=cpu touch_rate=4000 touch=100 content=11\n"
	    "at 15s d balloon target=32M\n",
	    false);

	VH_ASSERT(out != NULL);
	VH_EXPECT_GT(vm_field(out, "a", "shared_mib"), 32.0);
	VH_EXPECT_NEAR(vm_field(out, "a", "shared_mib"), vm_field(out, "b", "shared_mib"), 0.001);
	/* Distinct content does not share. */
	VH_EXPECT_EQ(vm_field(out, "d", "shared_mib"), 0.0);
	/* The idle VM is taxed: the balloon takes from it. */
	VH_EXPECT_GT(vm_field(out, "c", "balloon_mib"), 1.0);
	/* The operator's target is reached by the guest's driver. */
	VH_EXPECT_NEAR(vm_field(out, "d", "balloon_mib"), 32.0, 0.001);
	/* The host never runs dry. */
	const char *free_mib = strstr(out, "\"free_mib\": ");
	VH_ASSERT(free_mib != NULL);
	VH_EXPECT_GT(strtod(free_mib + 12, NULL), 0.0);
	free(out);
}

VH_TEST(sim_run, a_refused_host_is_an_error_not_a_report)
{
	struct vh_sim_scenario sc;
	char err[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	VH_ASSERT(vh_sim_scenario_parse("host memory=8M overhead=8M\nduration 1s\nvm a memory=4M\n",
					&sc, err, sizeof(err)));
	f = open_memstream(&buf, &len);
	VH_ASSERT(f != NULL);
	VH_EXPECT(!vh_sim_run(&sc, NULL, f, err, sizeof(err)));
	fclose(f);
	VH_EXPECT(strstr(err, "host.overhead_bytes") != NULL);
	VH_EXPECT_EQ(len, (size_t)0);
	free(buf);
	vh_sim_scenario_free(&sc);
}
