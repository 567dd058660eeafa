/* SPDX-License-Identifier: Apache-2.0 */
/* The host frame pool: the memory given to vh (--memory) is one memfd,
 * mapped once into the daemon.  The core addresses frames by number
 * (frame_ptr = base + pfn * 4 KiB) and guest pages are further mappings of
 * the same file (guest_mem.c), so the core's frame is exactly the guest's
 * page: sharing, copying and hashing work on the memory the guest sees.
 * The file is sparse: a frame costs Linux memory only once touched, and
 * frames the core frees (balloon, power-off, unsharing) are handed back
 * with a hole punch, so vh's own accounting and the kernel's agree. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hosted.h"

int vh_hosted_frames_init(struct vh_hosted_frames *f, uint64_t bytes, char *why, size_t whylen)
{
	memset(f, 0, sizeof(*f));
	f->memfd = -1;
	f->memfd = memfd_create("vh-frames", MFD_CLOEXEC);
	if (f->memfd < 0) {
		snprintf(why, whylen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(f->memfd, (off_t)bytes) < 0) {
		snprintf(why, whylen, "ftruncate of the frame pool to %llu bytes: %s",
			 (unsigned long long)bytes, strerror(errno));
		goto fail;
	}
	/* MAP_NORESERVE: the pool is overcommitted on purpose; the core
	 * never hands out more frames than exist in it. */
	f->base =
	    mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, f->memfd, 0);
	if (f->base == MAP_FAILED) {
		f->base = NULL;
		snprintf(why, whylen, "mmap of the frame pool (%llu bytes): %s",
			 (unsigned long long)bytes, strerror(errno));
		goto fail;
	}
	f->bytes = bytes;
	return 0;
fail:
	close(f->memfd);
	f->memfd = -1;
	return -1;
}

void vh_hosted_frames_fini(struct vh_hosted_frames *f)
{
	if (f->base)
		munmap(f->base, f->bytes);
	if (f->memfd >= 0)
		close(f->memfd);
	f->base = NULL;
	f->memfd = -1;
}

void vh_hosted_frames_release(struct vh_hosted_frames *f, uint64_t pfn, uint64_t n)
{
	/* Called with the host lock held from the core's frame free; one
	 * fallocate per freed buddy block (up to 2 MiB at once). */
	if (fallocate(f->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(pfn * VH_PAGE_SIZE), (off_t)(n * VH_PAGE_SIZE)) == 0)
		atomic_fetch_add(&f->punched, n);
}
