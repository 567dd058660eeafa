/* SPDX-License-Identifier: Apache-2.0 */
/* vh-sim scenario parsing: quantities, directives, and errors that name
 * the line and the field. */
#include <string.h>

#include "scenario.h"
#include "vh_test.h"

VH_TEST(scenario, quantities_the_way_people_write_them)
{
	uint64_t v;

	VH_EXPECT(vh_sim_parse_duration("10s", &v) && v == 10000000000ull);
	VH_EXPECT(vh_sim_parse_duration("1.5ms", &v) && v == 1500000ull);
	VH_EXPECT(vh_sim_parse_duration("250us", &v) && v == 250000ull);
	VH_EXPECT(vh_sim_parse_duration("2m", &v) && v == 120000000000ull);
	VH_EXPECT(!vh_sim_parse_duration("1.5ns", &v)); /* not a whole ns */
	VH_EXPECT(!vh_sim_parse_duration("10", &v));    /* unit required */
	VH_EXPECT(!vh_sim_parse_duration("-1s", &v));
	VH_EXPECT(!vh_sim_parse_duration("1e3s", &v));
	VH_EXPECT(vh_sim_parse_size("512M", &v) && v == 512ull << 20);
	VH_EXPECT(vh_sim_parse_size("2G", &v) && v == 2ull << 30);
	VH_EXPECT(vh_sim_parse_size("1.5G", &v) && v == 1536ull << 20);
	VH_EXPECT(vh_sim_parse_size("4096", &v) && v == 4096);
	VH_EXPECT(vh_sim_parse_size("64KiB", &v) && v == 64ull << 10);
	VH_EXPECT(!vh_sim_parse_size("12Q", &v));
	VH_EXPECT(!vh_sim_parse_size("99999999999999999999", &v)); /* overflow */
	VH_EXPECT(!vh_sim_parse_size("20000000T", &v));            /* overflow after scaling */
	VH_EXPECT(vh_sim_parse_mhz("1.5GHz", &v) && v == 1500);
	VH_EXPECT(vh_sim_parse_mhz("500", &v) && v == 500);
	VH_EXPECT(vh_sim_parse_mhz("500mhz", &v) && v == 500);
}

static const char *const full =
	"# two VMs contending on one pCPU\n"
	"host pcpus=2 mhz=2.4GHz memory=512M overhead=16M\n"
	"sched quantum=1ms skew=2ms window=1s\n"
	"mem idle_tax=50 sample_pages=20 sample_period=500ms scan_rate=5000 scan_per_ghz=300\n"
	"duration 10s\n"
	"sample 1s\n"
	"seed 7\n"
	"vm web vcpus=2 memory=128M cpu.shares=high cpu.reservation=500MHz cpu.limit=unlimited"
	" mem.shares=low mem.reservation=32M cosched=strict workload=cpu\n"
	"vm batch workload=bursty run=5ms sleep=15ms touch_rate=1000 touch=25 content=3 start=no\n"
	"at 5s web set cpu.shares=4000\n"
	"at 2s batch start\n"
	"at 8s batch balloon target=16M\n"
	"at 9s web workload kind=idle\n";

VH_TEST(scenario, parses_every_directive)
{
	struct vh_sim_scenario sc;
	char err[256] = "";

	VH_ASSERT(vh_sim_scenario_parse(full, &sc, err, sizeof(err)));
	VH_EXPECT_EQ(sc.host.pcpus, 2u);
	VH_EXPECT_EQ(sc.host.mhz_per_pcpu, 2400u);
	VH_EXPECT_EQ(sc.host.memory_bytes, 512ull << 20);
	VH_EXPECT_EQ(sc.host.overhead_bytes, 16ull << 20);
	VH_EXPECT_EQ(sc.sched.quantum_ns, 1000000ull);
	VH_EXPECT_EQ(sc.sched.cosched_skew_ns, 2000000ull);
	VH_EXPECT_EQ(sc.mem.idle_tax_percent, 50u);
	VH_EXPECT_EQ(sc.mem.sample_pages, 20u);
	VH_EXPECT_EQ(sc.mem.scan_pages_per_sec, 5000u);
	VH_EXPECT_EQ(sc.mem.scan_pages_per_ghz, 300u);
	VH_EXPECT_EQ(sc.duration_ns, 10000000000ull);
	VH_EXPECT_EQ(sc.sample_interval_ns, 1000000000ull);
	VH_EXPECT_EQ(sc.seed, 7ull);
	VH_ASSERT_EQ(sc.nvms, (size_t)2);
	VH_EXPECT_STREQ(sc.vms[0].cfg.name, "web");
	VH_EXPECT_EQ(sc.vms[0].cfg.vcpus, 2u);
	VH_EXPECT_EQ(sc.vms[0].cfg.memory_mib, 128ull);
	VH_EXPECT_EQ((int)sc.vms[0].cfg.cpu.shares.level, (int)VH_SHARES_HIGH);
	VH_EXPECT_EQ(sc.vms[0].cfg.cpu.reservation_mhz, 500ull);
	VH_EXPECT_EQ(sc.vms[0].cfg.cpu.limit_mhz, VH_UNLIMITED);
	VH_EXPECT_EQ((int)sc.vms[0].cfg.mem.shares.level, (int)VH_SHARES_LOW);
	VH_EXPECT_EQ(sc.vms[0].cfg.mem.reservation_mib, 32ull);
	VH_EXPECT_EQ((int)sc.vms[0].cfg.cosched, (int)VH_COSCHED_STRICT);
	VH_EXPECT(sc.vms[0].start);
	VH_EXPECT_EQ((int)sc.vms[1].workload.kind, (int)VH_SIM_WL_BURSTY);
	VH_EXPECT_EQ(sc.vms[1].workload.run_ns, 5000000ull);
	VH_EXPECT_EQ(sc.vms[1].workload.sleep_ns, 15000000ull);
	VH_EXPECT_EQ(sc.vms[1].workload.touch_pages_per_sec, 1000ull);
	VH_EXPECT_EQ(sc.vms[1].workload.touch_percent, 25u);
	VH_EXPECT_EQ(sc.vms[1].workload.content_seed, 3u);
	VH_EXPECT(!sc.vms[1].start);
	/* Events come out in time order whatever the file order. */
	VH_ASSERT_EQ(sc.nevents, (size_t)4);
	VH_EXPECT_EQ((int)sc.events[0].kind, (int)VH_SIM_EV_START);
	VH_EXPECT_EQ(sc.events[0].at_ns, 2000000000ull);
	VH_EXPECT_EQ((int)sc.events[1].kind, (int)VH_SIM_EV_SET_CPU);
	VH_EXPECT_EQ(sc.events[1].cpu.shares.custom, 4000u);
	/* Fields the line did not name keep the VM's values. */
	VH_EXPECT_EQ(sc.events[1].cpu.reservation_mhz, 500ull);
	VH_EXPECT(sc.events[1].cpu_fields[0] && !sc.events[1].cpu_fields[1]);
	VH_EXPECT_EQ((int)sc.events[2].kind, (int)VH_SIM_EV_BALLOON);
	VH_EXPECT_EQ(sc.events[2].balloon_mib, 16ull);
	VH_EXPECT_EQ((int)sc.events[3].kind, (int)VH_SIM_EV_WORKLOAD);
	VH_EXPECT_EQ((int)sc.events[3].workload.kind, (int)VH_SIM_WL_IDLE);
	vh_sim_scenario_free(&sc);
}

/* Each bad scenario must be refused with a message containing `want`. */
static void expect_error(const char *text, const char *want)
{
	struct vh_sim_scenario sc;
	char err[256] = "";

	if (vh_sim_scenario_parse(text, &sc, err, sizeof(err))) {
		vh_sim_scenario_free(&sc);
		VH_FAIL("accepted a bad scenario, expected an error containing \"%s\":\n%s", want,
			text);
	}
	if (!strstr(err, want))
		VH_FAIL("error \"%s\" does not contain \"%s\"", err, want);
}

VH_TEST(scenario, errors_name_the_line_and_field)
{
	expect_error("vm a\n", "no duration");
	expect_error("duration 1s\n", "no vm");
	expect_error("duration 1s\nvm a vcpus=0\n", "line 2: vcpus");
	expect_error("duration 1s\nvm a vcpus=65\n", "line 2: vcpus");
	expect_error("duration 1s\nvm a cpu.shares=medium\n", "cpu.shares");
	expect_error("duration 1s\nvm a cpu.shares=0\n", "cpu.shares");
	expect_error("duration 1s\nvm a memory=1.5M\n", "memory");
	expect_error("duration 1s\nvm a mem.reservation=128M memory=64M\n",
		     "memory.reservation_mib");
	expect_error("duration 1s\nvm a cpu.reservation=900 cpu.limit=500\n",
		     "cpu.reservation_mhz");
	expect_error("duration 1s\nvm a colour=blue\n", "unknown key \"colour\"");
	expect_error("duration 1s\nvm a vcpus=1 vcpus=2\n", "given twice");
	expect_error("duration 1s\nvm a\nvm a\n", "line 3: vm \"a\" defined twice");
	expect_error("duration 1s\nhypervisor x=1\n", "line 2: unknown directive");
	expect_error("duration 1s\nvm a workload=bursty run=1ms\n", "needs run= and sleep=");
	expect_error("duration 1s\nvm a\nat 2s a stop\n", "after the end");
	expect_error("duration 1s\nvm a\nat 0.5s b stop\n", "no vm \"b\"");
	expect_error("duration 1s\nvm a\nat 0.5s a explode\n", "unknown action");
	expect_error("duration 1s\nvm a\nat 0.5s a set\n", "nothing to set");
	expect_error("duration 1s\nvm a\nat 0.5s a set cpu.shares=high mem.shares=low\n",
		     "separate lines");
	expect_error("duration 1s\nhost pcpus=1\nhost pcpus=2\nvm a\n", "host given twice");
	expect_error("duration 1s\nhost memory=65G\nvm a\n", "at most 64G");
	expect_error("duration 1s\nvm a novalue\n", "expected key=value");
}
