/* SPDX-License-Identifier: Apache-2.0 */
/* Periodic work that belongs to no pCPU: the memory manager's tick (active
 * sampling, the page-sharing scanner at its rate, balloon targets) every
 * few milliseconds, as vh/mem.h asks, the workers' steal time (worker.c)
 * at the same tick, the published counters (vh/stats_pub.h: memory,
 * console, the heartbeat), and flushing partial console lines.
 * A thread of its own, so the workers' quanta are not taxed unevenly. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "hosted.h"
#include "vh/stats_pub.h"

#define TICK_NS (5 * 1000000ull)
#define CONSOLE_FLUSH_NS (200 * 1000000ull)

static void *housekeeping_main(void *arg)
{
	struct vh_hosted *d = arg;
	uint64_t next_flush = vh_hosted_now() + CONSOLE_FLUSH_NS;

	pthread_mutex_lock(&d->hk_lock);
	while (!atomic_load(&d->stopping)) {
		uint64_t now = vh_hosted_now(), at = now + TICK_NS;
		struct timespec ts = { (time_t)(at / 1000000000ull), (long)(at % 1000000000ull) };

		pthread_mutex_unlock(&d->hk_lock);
		vh_hosted_lock(d);
		vh_hosted_workers_settle_steal(d);
		vh_mem_tick(&d->host, now);
		/* Memory and console counters; the steal just settled. */
		vh_pub_tick(&d->host, now);
		if (now >= next_flush) {
			vh_hosted_vm_flush_consoles(d);
			next_flush = now + CONSOLE_FLUSH_NS;
		}
		vh_hosted_unlock(d);
		pthread_mutex_lock(&d->hk_lock);
		while (!atomic_load(&d->stopping) &&
		       pthread_cond_timedwait(&d->hk_cond, &d->hk_lock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&d->hk_lock);
	return NULL;
}

int vh_hosted_housekeeping_start(struct vh_hosted *d)
{
	pthread_condattr_t ca;
	int rc;

	pthread_mutex_init(&d->hk_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->hk_cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&d->housekeeper, NULL, housekeeping_main, d);
	if (rc)
		return -rc;
	pthread_setname_np(d->housekeeper, "vh-housekeep");
	d->housekeeper_started = true;
	return 0;
}

void vh_hosted_housekeeping_stop(struct vh_hosted *d)
{
	if (!d->housekeeper_started)
		return;
	pthread_mutex_lock(&d->hk_lock);
	atomic_store(&d->stopping, true);
	pthread_cond_broadcast(&d->hk_cond);
	pthread_mutex_unlock(&d->hk_lock);
	pthread_join(d->housekeeper, NULL);
	d->housekeeper_started = false;
	pthread_cond_destroy(&d->hk_cond);
	pthread_mutex_destroy(&d->hk_lock);
}
