/* SPDX-License-Identifier: Apache-2.0 */
/* The command line of vh-hosted.  Defaults suit a developer machine: every
 * host CPU is a pCPU, half of RAM is the frame pool. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/console.h"
#include "vh/version.h"

#define DEFAULT_SOCKET "/run/vh/vh.sock"
#define DEFAULT_IMAGES "/var/lib/vh/images"
#define DEFAULT_DISKS "/var/lib/vh/disks"
#define DEFAULT_LOGS "/var/log/vh"
#define DEFAULT_LOG_MAX  (16ull << 20)
#define DEFAULT_LOG_KEEP 4u
#define MAX_LOG_KEEP     100u

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: vh-hosted [options]\n"
	    "Runs the vh core as a Linux daemon on /dev/kvm; speaks the control\n"
	    "protocol (docs/protocol.md) on a unix socket.\n"
	    "\n"
	    "  --pcpus N           worker threads standing for pCPUs (default: host CPUs)\n"
	    "  --memory SIZE       host memory given to vh, e.g. 512M, 4G (default: half of RAM)\n"
	    "  --mhz N             nominal MHz per pCPU (default: from /proc/cpuinfo)\n"
	    "  --max-vms N         VMs the host may hold (default 1024)\n"
	    "  --quantum-us N      scheduler quantum (default 10000)\n"
	    "  --scan-rate N       page-sharing scan, pages per second (0: off; default 12800)\n"
	    "  --scan-per-ghz N    and at most N pages per second per GHz of the pCPUs'\n"
	    "                      capacity (0: no such bound; default 1024)\n"
	    "  --sample-period-ms N  active-memory sampling period (default 30000)\n"
	    "  --socket PATH       control socket (default " DEFAULT_SOCKET ")\n"
	    "  --images DIR        guest images by name (default " DEFAULT_IMAGES ")\n"
	    "  --disks DIR         the datastore: VM disks by name (default " DEFAULT_DISKS ")\n"
	    "  --log-dir DIR       per-VM console logs (default " DEFAULT_LOGS ")\n"
	    "  --console-log-max SIZE  a console log's size before it rotates (default 16M)\n"
	    "  --console-log-keep N    rotated logs kept per VM, <vm>.log.1..N (default 4)\n"
	    "  --console-rate SIZE     console bytes per second a VM may write, sustained\n"
	    "                          (default 64K; more is dropped and counted)\n"
	    "  --console-burst SIZE    console bytes a VM may write at once (default 256K)\n"
	    "  --pid-file PATH     write the daemon's pid there\n"
	    "  -v, --verbose       log more\n"
	    "  -h, --help          this text\n"
	    "  --version           print the version\n");
}

bool vh_hosted_parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t mult = 1, v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ull << 10; end++; break;
	case 'm': case 'M': mult = 1ull << 20; end++; break;
	case 'g': case 'G': mult = 1ull << 30; end++; break;
	case 't': case 'T': mult = 1ull << 40; end++; break;
	default: return false;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (v && mult > UINT64_MAX / v))
		return false;
	*out = v * mult;
	return true;
}

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* The nominal clock of the first CPU ("cpu MHz" in /proc/cpuinfo). */
static uint32_t host_mhz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char line[256];
	double mhz = 0;

	if (!f)
		return 2000;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "cpu MHz", 7)) {
			const char *c = strchr(line, ':');
			if (c)
				mhz = strtod(c + 1, NULL);
			break;
		}
	}
	fclose(f);
	return mhz >= 1 && mhz < 100000 ? (uint32_t)mhz : 2000;
}

int vh_hosted_parse_options(int argc, char **argv, struct vh_hosted_options *o)
{
	enum {
		O_PCPUS = 256,
		O_MEMORY,
		O_MHZ,
		O_MAXVMS,
		O_QUANTUM,
		O_SCAN, O_SCAN_GHZ,
		O_SAMPLE,
		O_SOCKET,
		O_IMAGES,
		O_DISKS,
		O_LOGDIR,
		O_LOGMAX,
		O_LOGKEEP,
		O_CRATE,
		O_CBURST,
		O_PIDFILE,
		O_VERSION
	};
	static const struct option opts[] = {
		{ "pcpus", required_argument, NULL, O_PCPUS },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "mhz", required_argument, NULL, O_MHZ },
		{ "max-vms", required_argument, NULL, O_MAXVMS },
		{ "quantum-us", required_argument, NULL, O_QUANTUM },
		{ "scan-rate", required_argument, NULL, O_SCAN },
		{ "scan-per-ghz", required_argument, NULL, O_SCAN_GHZ },
		{ "sample-period-ms", required_argument, NULL, O_SAMPLE },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "images", required_argument, NULL, O_IMAGES },
		{ "disks", required_argument, NULL, O_DISKS },
		{ "log-dir", required_argument, NULL, O_LOGDIR },
		{ "console-log-max", required_argument, NULL, O_LOGMAX },
		{ "console-log-keep", required_argument, NULL, O_LOGKEEP },
		{ "console-rate", required_argument, NULL, O_CRATE },
		{ "console-burst", required_argument, NULL, O_CBURST },
		{ "pid-file", required_argument, NULL, O_PIDFILE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->pcpus = ncpu > 0 ? (unsigned)ncpu : 1;
	/* Half of RAM in whole pages: an odd page count must not leave half
	 * a page (the core takes only multiples of 4 KiB). */
	o->memory_bytes =
	    pages > 0 && psz > 0 ? (uint64_t)(pages / 2) * (uint64_t)psz : 256ull << 20;
	o->mhz_per_pcpu = 0;
	o->scan_pages_per_sec = UINT64_MAX;
	o->scan_pages_per_ghz = UINT64_MAX;
	o->socket_path = DEFAULT_SOCKET;
	o->images_dir = DEFAULT_IMAGES;
	o->disks_dir = DEFAULT_DISKS;
	o->log_dir = DEFAULT_LOGS;
	o->log_limits.max_bytes = DEFAULT_LOG_MAX;
	o->log_limits.keep = DEFAULT_LOG_KEEP;
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		const char *bad = NULL;
		switch (c) {
		case O_PCPUS:
			if (!parse_u64(optarg, 1, VH_HOST_MAX_PCPUS, &v))
				bad = "--pcpus: a number from 1 to 256";
			o->pcpus = (unsigned)v;
			break;
		case O_MEMORY:
			if (!vh_hosted_parse_size(optarg, &v) || v < (4ull << 20))
				bad = "--memory: a size of at least 4M (e.g. 512M, 4G)";
			o->memory_bytes = v & ~(VH_PAGE_SIZE - 1);
			break;
		case O_MHZ:
			if (!parse_u64(optarg, 1, 1000000, &v))
				bad = "--mhz: a number from 1 to 1000000";
			o->mhz_per_pcpu = (uint32_t)v;
			break;
		case O_MAXVMS:
			if (!parse_u64(optarg, 1, VH_HOST_MAX_VMS, &v))
				bad = "--max-vms: a number from 1 to 1024";
			o->max_vms = (uint32_t)v;
			break;
		case O_QUANTUM:
			if (!parse_u64(optarg, 10, 1000000, &v))
				bad = "--quantum-us: a number from 10 to 1000000";
			o->quantum_ns = v * 1000;
			break;
		case O_SCAN:
			if (!parse_u64(optarg, 0, 100000000, &v))
				bad = "--scan-rate: pages per second, 0 to 100000000";
			o->scan_pages_per_sec = v;
			break;
		case O_SCAN_GHZ:
			if (!parse_u64(optarg, 0, 100000000, &v))
				bad = "--scan-per-ghz: pages per second per GHz, 0 to 100000000";
			o->scan_pages_per_ghz = v;
			break;
		case O_SAMPLE:
			if (!parse_u64(optarg, 1, 3600000, &v))
				bad = "--sample-period-ms: 1 to 3600000";
			o->sample_period_ns = v * 1000000;
			break;
		case O_SOCKET: o->socket_path = optarg; break;
		case O_IMAGES: o->images_dir = optarg; break;
		case O_DISKS: o->disks_dir = optarg; break;
		case O_LOGDIR: o->log_dir = optarg; break;
		case O_LOGMAX:
			if (!vh_hosted_parse_size(optarg, &v) || v < 4096 || v > (1ull << 40))
				bad = "--console-log-max: a size from 4K to 1T";
			o->log_limits.max_bytes = v;
			break;
		case O_LOGKEEP:
			if (!parse_u64(optarg, 0, MAX_LOG_KEEP, &v))
				bad = "--console-log-keep: a number from 0 to 100";
			o->log_limits.keep = (uint32_t)v;
			break;
		case O_CRATE:
			if (!vh_hosted_parse_size(optarg, &v) || !v || v > VH_CONSOLE_RATE_MAX)
				bad = "--console-rate: bytes per second from 1 to 1G";
			o->console_rate = v;
			break;
		case O_CBURST:
			if (!vh_hosted_parse_size(optarg, &v) || !v || v > VH_CONSOLE_BURST_MAX)
				bad = "--console-burst: a size from 1 to 4G";
			o->console_burst = v;
			break;
		case O_PIDFILE: o->pid_file = optarg; break;
		case 'v': o->verbose = true; break;
		case 'h': usage(stdout); return 2;
		case O_VERSION: printf("vh-hosted (%s)\n", vh_version()); return 2;
		default: usage(stderr); return 1;
		}
		if (bad) {
			fprintf(stderr, "vh-hosted: %s (got \"%s\")\n", bad, optarg);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vh-hosted: unexpected argument \"%s\"\n", argv[optind]);
		return 1;
	}
	if (!o->mhz_per_pcpu)
		o->mhz_per_pcpu = host_mhz();
	return 0;
}
