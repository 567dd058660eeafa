/* SPDX-License-Identifier: Apache-2.0 */
/* vh-hosted: the vh core as a Linux daemon on /dev/kvm.
 *
 * Start-up: options, the frame pool, /dev/kvm, the core's host, worker
 * threads (one per pCPU), housekeeping, then the control socket.  The
 * main thread then only waits for SIGTERM/SIGINT (blocked in every
 * thread, taken with sigwait), and shuts down in order: no new requests,
 * every running or paused VM stopped through the core (as VM_STOP does:
 * counters final, frames back), workers joined, the host torn down,
 * exit 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/version.h"
#include "vh/vm.h"

/* Every VM needs a KVM VM fd plus one per vCPU: make room for many. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f);
}

/* Names this start of the daemon (HOST_INFO, the published counters):
 * random, so a restart, even within the same nanosecond and pid, is told
 * apart by its clients; never 0 (what an older hypervisor reports). */
static uint64_t new_instance(void)
{
	uint64_t instance = 0;

	if (getrandom(&instance, sizeof(instance), 0) != (ssize_t)sizeof(instance))
		instance = vh_hosted_now() ^ (uint64_t)getpid() << 32;
	return instance ? instance : 1;
}

static int host_init(struct vh_hosted *d, char *why, size_t whylen)
{
	struct vh_host_config cfg = {
		.pcpus = d->opt.pcpus,
		.mhz_per_pcpu = d->opt.mhz_per_pcpu,
		.memory_bytes = d->opt.memory_bytes,
		/* The frame pool is guest memory only; the core's metadata
		 * comes from the C heap and is reported as overhead. */
		.overhead_bytes = 0,
		.max_vms = d->opt.max_vms,
		.console_rate = d->opt.console_rate,
		.console_burst = d->opt.console_burst,
		.instance = new_instance(),
	};
	struct vh_error err = { 0 };

	if (vh_host_init(&d->host, &cfg, &d->plat, &err)) {
		snprintf(why, whylen, "core: %s", err.reason);
		return -1;
	}
	if (d->opt.quantum_ns) {
		struct vh_sched_params p = d->host.sched.params;
		p.quantum_ns = d->opt.quantum_ns;
		if (vh_sched_set_params(&d->host, &p, &err)) {
			snprintf(why, whylen, "--quantum-us: %s", err.reason);
			vh_host_fini(&d->host);
			return -1;
		}
	}
	if (d->opt.scan_pages_per_sec != UINT64_MAX)
		d->host.mem.params.scan_pages_per_sec = d->opt.scan_pages_per_sec;
	if (d->opt.scan_pages_per_ghz != UINT64_MAX)
		d->host.mem.params.scan_pages_per_ghz = d->opt.scan_pages_per_ghz;
	if (d->opt.sample_period_ns)
		d->host.mem.params.sample_period_ns = d->opt.sample_period_ns;
	return 0;
}

/* Stops every VM that runs or is paused, through the core. */
static unsigned stop_all_vms(struct vh_hosted *d)
{
	unsigned n = 0;

	vh_hosted_lock(d);
	for (uint32_t i = 0; i < d->host.cfg.max_vms; i++) {
		struct vh_vm *vm = d->host.vms[i];
		if (vm && (vm->state == VH_VM_RUNNING || vm->state == VH_VM_PAUSED) &&
		    vh_vm_stop(&d->host, vm, NULL) == VH_OK)
			n++;
	}
	vh_hosted_unlock(d);
	return n;
}

int main(int argc, char **argv)
{
	static struct vh_hosted daemon; /* large; one per process */
	struct vh_hosted *d = &daemon;
	char why[512];
	sigset_t stop;
	int sig = 0, rc;
	bool host_up = false;

	if ((rc = vh_hosted_parse_options(argc, argv, &d->opt)))
		return rc == 2 ? 0 : 2;
	/* Before any thread exists, so that every thread inherits it. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	umask(027);

	pthread_mutex_init(&d->lock, NULL);
	vh_hosted_platform_init(d);
	d->kvm.fd = d->frames.memfd = d->pub_fd = -1;
	if (vh_hosted_kvm_open(&d->kvm, why, sizeof(why)) ||
	    vh_hosted_frames_init(&d->frames, d->opt.memory_bytes, why, sizeof(why)) ||
	    host_init(d, why, sizeof(why)))
		goto fail;
	host_up = true;
	if (vh_hosted_pub_start(d, why, sizeof(why)))
		goto fail;
	if (mkdir(d->opt.log_dir, 0750) < 0 && errno != EEXIST)
		vh_hosted_log(d, "log directory %s: %s (console output is lost)", d->opt.log_dir,
			      strerror(errno));
	if (vh_hosted_workers_start(d, why, sizeof(why)))
		goto fail;
	if ((rc = vh_hosted_housekeeping_start(d))) {
		snprintf(why, sizeof(why), "housekeeping thread: %s", strerror(-rc));
		goto fail;
	}
	if (vh_hosted_server_start(d, why, sizeof(why)))
		goto fail;
	if (d->opt.pid_file && write_pid_file(d->opt.pid_file))
		vh_hosted_log(d, "pid file %s: %s", d->opt.pid_file, strerror(errno));
	vh_hosted_log(d, "%s ready: %u pCPUs at %u MHz, %llu MiB, socket %s, images %s, disks %s",
		      vh_version(), d->opt.pcpus, d->opt.mhz_per_pcpu,
		      (unsigned long long)(d->opt.memory_bytes >> 20), d->opt.socket_path,
		      d->opt.images_dir, d->opt.disks_dir);

	while (sigwait(&stop, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		; /* SIGHUP: nothing to reload yet */
	vh_hosted_log(d, "%s: shutting down", strsignal(sig));
	vh_hosted_server_stop(d);
	vh_hosted_log(d, "stopped %u VMs", stop_all_vms(d));
	vh_hosted_workers_stop(d);
	vh_hosted_housekeeping_stop(d);
	vh_hosted_pub_stop(d);
	vh_hosted_lock(d);
	vh_host_fini(&d->host);
	vh_hosted_unlock(d);
	vh_hosted_frames_fini(&d->frames);
	vh_hosted_kvm_close(&d->kvm);
	if (d->opt.pid_file)
		unlink(d->opt.pid_file);
	vh_hosted_log(d, "clean shutdown");
	return 0;

fail:
	vh_hosted_log(d, "cannot start: %s", why);
	vh_hosted_server_stop(d);
	if (d->nworkers)
		vh_hosted_workers_stop(d);
	vh_hosted_housekeeping_stop(d);
	vh_hosted_pub_stop(d);
	if (host_up) {
		vh_hosted_lock(d);
		vh_host_fini(&d->host);
		vh_hosted_unlock(d);
	}
	vh_hosted_frames_fini(&d->frames);
	vh_hosted_kvm_close(&d->kvm);
	return 1;
}
