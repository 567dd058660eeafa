/* SPDX-License-Identifier: Apache-2.0 */
/* The published counters' area (vh/stats_pub.h) as a sealed memfd: the
 * daemon maps it read-write once, then seals it against growing,
 * shrinking and any new write (F_SEAL_FUTURE_WRITE: no write(), no
 * writable mapping, no mprotect to writable, for every holder of the
 * descriptor, while the daemon's own mapping stays writable).  The server
 * passes the descriptor with the STATS_MAP reply (server.c), so a client
 * that may use the control socket maps the counters read-only and reads
 * them without a message or the host lock. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/stats_pub.h"

#define PUB_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)

int vh_hosted_pub_start(struct vh_hosted *d, char *why, size_t whylen)
{
	size_t size = vh_pub_area_size(&d->host);
	void *area;
	int fd = memfd_create("vh-stats", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		snprintf(why, whylen, "counters memfd: %s", strerror(errno));
		goto fail;
	}
	area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (area == MAP_FAILED) {
		snprintf(why, whylen, "counters mmap: %s", strerror(errno));
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, PUB_SEALS) < 0) {
		snprintf(why, whylen, "sealing the counters memfd: %s", strerror(errno));
		munmap(area, size);
		goto fail;
	}
	vh_hosted_lock(d);
	vh_pub_attach(&d->host, area, size, VH_PUB_CLOCK_MONOTONIC);
	vh_hosted_unlock(d);
	d->pub_fd = fd;
	d->pub_area = area;
	d->pub_size = size;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

void vh_hosted_pub_stop(struct vh_hosted *d)
{
	if (!d->pub_area)
		return;
	vh_hosted_lock(d);
	vh_pub_detach(&d->host);
	vh_hosted_unlock(d);
	munmap(d->pub_area, d->pub_size);
	close(d->pub_fd);
	d->pub_area = NULL;
	d->pub_fd = -1;
}
