/* SPDX-License-Identifier: Apache-2.0 */
/* The console budget (core/console_budget.c and where core/console.c
 * applies it, on the simulated platform) and the hosted console log's
 * rotation (hypervisor/hosted/console.c, in a temporary directory). */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../hypervisor/hosted/hosted.h"
#include "mem_env.h"
#include "vh/console.h"
#include "vh/hypercall.h"

#define SEC VH_NSEC_PER_SEC

VH_TEST(console_budget, a_full_burst_at_first_then_the_rate)
{
	struct vh_console_budget b = { 0 };

	VH_EXPECT_EQ(vh_console_budget_take(&b, 1000, 300, 5 * SEC, 200), (size_t)200);
	VH_EXPECT_EQ(vh_console_budget_take(&b, 1000, 300, 5 * SEC, 200), (size_t)100);
	VH_EXPECT_EQ(vh_console_budget_take(&b, 1000, 300, 5 * SEC, 1), (size_t)0);
	/* 50 ms at 1000 bytes/s: 50 bytes. */
	VH_EXPECT_EQ(vh_console_budget_take(&b, 1000, 300, 5 * SEC + SEC / 20, 4096), (size_t)50);
	/* Idle for long: no more than the burst, however long. */
	VH_EXPECT_EQ(vh_console_budget_take(&b, 1000, 300, 3600 * SEC, 4096), (size_t)300);
	VH_EXPECT_EQ(vh_console_budget_take(&b, 1000, 300, UINT64_MAX, 4096), (size_t)300);
	/* Time never runs backwards for the bucket. */
	VH_EXPECT_EQ(vh_console_budget_take(&b, 1000, 300, 0, 4096), (size_t)0);
}

VH_TEST(console_budget, tiny_refills_add_up_exactly)
{
	struct vh_console_budget b = { 0 };
	uint64_t t = SEC, got = 0;

	VH_EXPECT_EQ(vh_console_budget_take(&b, 3, 2, t, 2), (size_t)2);
	/* 3 bytes/s offered a byte every microsecond for 10 s: 30 bytes, no
	 * credit lost to rounding each call (the bucket never fills). */
	for (int i = 0; i < 10 * 1000 * 1000; i++) {
		t += 1000;
		got += vh_console_budget_take(&b, 3, 2, t, 1);
	}
	VH_EXPECT_EQ(got, (uint64_t)30);
}

VH_TEST(console_budget, the_limits_do_not_overflow)
{
	struct vh_console_budget b = { 0 };

	VH_EXPECT_EQ(
	    vh_console_budget_take(&b, VH_CONSOLE_RATE_MAX, VH_CONSOLE_BURST_MAX, 0, SIZE_MAX),
	    (size_t)VH_CONSOLE_BURST_MAX);
	VH_EXPECT_EQ(vh_console_budget_take(&b, VH_CONSOLE_RATE_MAX, VH_CONSOLE_BURST_MAX,
					    UINT64_MAX, SIZE_MAX),
		     (size_t)VH_CONSOLE_BURST_MAX);
}

static struct vh_vm *console_env(struct mem_env *e, uint64_t rate, uint64_t burst)
{
	struct vh_host_config cfg = {
		.pcpus = 1,
		.mhz_per_pcpu = 2000,
		.memory_bytes = 32 * VH_MIB,
		.console_rate = rate,
		.console_burst = burst,
	};
	struct vh_vm_config vc;
	struct vh_error err = { 0 };
	struct vh_vm *vm;

	VH_ASSERT(vh_sim_platform_init(&e->sp, cfg.memory_bytes, cfg.pcpus, 42));
	if (vh_host_init(&e->h, &cfg, &e->sp.plat, &err))
		VH_FAIL("vh_host_init: %s", err.reason);
	vh_vm_config_default(&vc);
	snprintf(vc.name, sizeof(vc.name), "c");
	vc.memory_mib = 4;
	vm = vh_vm_define(&e->h, &vc, &err);
	if (!vm || vh_vm_start(&e->h, vm, &err))
		VH_FAIL("vm: %s", err.reason);
	return vm;
}

VH_TEST(console_budget, a_flooding_guest_is_cut_and_counted_on_every_path)
{
	struct mem_env e;
	struct vh_vm *vm = console_env(&e, 1000, 1000);
	struct vh_hypercall r = { &e.h, vm, &vm->vcpus[0], VH_HC_CONSOLE_WRITE, 0x1000, 4096, 0, 0,
				  0, 0 };
	char buf[VH_CONSOLE_TAIL_BYTES];
	uint64_t first;

	/* The hypercall: the guest is told every byte went (a lossy line,
	 * not an error it could retry in a loop); the burst, 1000, passes. */
	vh_hypercall(&r);
	VH_EXPECT_EQ(r.rax, (uint64_t)4096);
	VH_EXPECT_EQ(vm->guest.console_bytes, (uint64_t)4096);
	VH_EXPECT_EQ(vm->guest.console_dropped, (uint64_t)3096);
	VH_EXPECT_EQ(vm->console.total, (uint64_t)1000);
	VH_EXPECT_EQ(e.sp.console_len, strlen("c: ") + 1000);
	/* The UART's way in, half a second later: 500 more pass. */
	vh_sim_advance(&e.sp, SEC / 2);
	memset(buf, 'u', sizeof(buf));
	vh_vm_console_write(&e.h, vm, buf, 1000);
	VH_EXPECT_EQ(vm->guest.console_bytes, (uint64_t)5096);
	VH_EXPECT_EQ(vm->guest.console_dropped, (uint64_t)3596);
	VH_EXPECT_EQ(vm->console.total, (uint64_t)1500);
	/* VM_CONSOLE's stream holds what passed, nothing else. */
	VH_EXPECT_EQ(vh_vm_console_read(vm, 0, buf, sizeof(buf), &first), (size_t)1500);
	VH_EXPECT_EQ(first, (uint64_t)0);
	VH_EXPECT_EQ(buf[999], '\0');
	VH_EXPECT_EQ(buf[1000], 'u');
	VH_EXPECT_EQ(buf[1499], 'u');
	mem_env_fini(&e);
}

VH_TEST(console_budget, a_host_refuses_a_budget_beyond_its_limits)
{
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_host_config cfg = { .pcpus = 1,
				      .mhz_per_pcpu = 2000,
				      .memory_bytes = 8 * VH_MIB };
	struct vh_error err = { 0 };

	VH_ASSERT(vh_sim_platform_init(&sp, cfg.memory_bytes, cfg.pcpus, 42));
	cfg.console_rate = VH_CONSOLE_RATE_MAX + 1;
	VH_EXPECT_EQ(vh_host_init(&h, &cfg, &sp.plat, &err), (int)VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "host.console_rate") != NULL);
	cfg.console_rate = 0;
	cfg.console_burst = VH_CONSOLE_BURST_MAX + 1;
	VH_EXPECT_EQ(vh_host_init(&h, &cfg, &sp.plat, &err), (int)VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "host.console_burst") != NULL);
	/* Zero: the defaults. */
	cfg.console_burst = 0;
	VH_ASSERT_EQ(vh_host_init(&h, &cfg, &sp.plat, &err), (int)VH_OK);
	VH_EXPECT_EQ(h.cfg.console_rate, (uint64_t)VH_CONSOLE_RATE_DEFAULT);
	VH_EXPECT_EQ(h.cfg.console_burst, (uint64_t)VH_CONSOLE_BURST_DEFAULT);
	vh_host_fini(&h);
	vh_sim_platform_fini(&sp);
}

/* ---- the hosted log's rotation -------------------------------------------- */

static off_t file_size(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? -1 : st.st_size;
}

static int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

VH_TEST(console_log, rotates_at_the_size_and_keeps_the_newest_files)
{
	char dir[] = "/tmp/vh-console-test-XXXXXX";
	struct vh_hosted_log_limits lim = { .max_bytes = 100, .keep = 2 };
	struct vh_hosted_console c;
	char line[40];

	VH_ASSERT(mkdtemp(dir) != NULL);
	vh_hosted_console_open(&c, dir, "vm", &lim);
	VH_ASSERT(c.fd >= 0);
	/* 10 lines of 30 bytes: 300 bytes through files of 100. */
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "line %02d .....................\n", i);
		vh_hosted_console_write(&c, line, strlen(line));
	}
	vh_hosted_console_flush(&c);
	/* No file passes the size. */
	VH_EXPECT_EQ(file_size(dir, "vm.log"), (off_t)100);
	VH_EXPECT_EQ(file_size(dir, "vm.log.1"), (off_t)100);
	VH_EXPECT_EQ(file_size(dir, "vm.log.2"), (off_t)100);
	/* One byte more: a third rotation, the oldest 100 bytes go, nothing
	 * beyond .keep. */
	vh_hosted_console_write(&c, "x\n", 2);
	vh_hosted_console_close(&c);
	VH_EXPECT_EQ(file_size(dir, "vm.log"), (off_t)2);
	VH_EXPECT_EQ(file_size(dir, "vm.log.3"), (off_t)-1);
	VH_EXPECT_EQ(files_in(dir), 3);
	/* Reopened (a new daemon run): the size already there counts. */
	vh_hosted_console_open(&c, dir, "vm", &lim);
	for (int i = 0; i < 99; i++)
		vh_hosted_console_write(&c, "y", 1);
	vh_hosted_console_close(&c);
	VH_EXPECT_EQ(file_size(dir, "vm.log"), (off_t)1);
	VH_EXPECT_EQ(file_size(dir, "vm.log.1"), (off_t)100);
	/* Deleting the VM removes every file of it. */
	vh_hosted_console_remove(dir, "vm", &lim);
	VH_EXPECT_EQ(files_in(dir), 0);
	rmdir(dir);
}

VH_TEST(console_log, keep_zero_starts_the_one_file_over)
{
	char dir[] = "/tmp/vh-console-test-XXXXXX";
	struct vh_hosted_log_limits lim = { .max_bytes = 64, .keep = 0 };
	struct vh_hosted_console c;
	char big[200];

	VH_ASSERT(mkdtemp(dir) != NULL);
	memset(big, 'z', sizeof(big));
	vh_hosted_console_open(&c, dir, "vm", &lim);
	vh_hosted_console_write(&c, big, sizeof(big));
	vh_hosted_console_close(&c);
	VH_EXPECT_EQ(file_size(dir, "vm.log"), (off_t)(200 - 3 * 64));
	VH_EXPECT_EQ(files_in(dir), 1);
	vh_hosted_console_remove(dir, "vm", &lim);
	VH_EXPECT_EQ(files_in(dir), 0);
	rmdir(dir);
}
