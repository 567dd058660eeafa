/* SPDX-License-Identifier: Apache-2.0 */
/* The request-header deadline (agent/hdr_deadline.h). */
#define _GNU_SOURCE
#include "agent/hdr_deadline.h"

#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "agent/fsutil.h"
#include "agent/sd.h"

#define SWEEP_NS (250u * 1000u * 1000u)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct vh_hdr_watch *head;

static pthread_t sweeper;
static bool sweeper_running;
static bool stopping;
static pthread_cond_t wake;
static uint64_t limit;

void vh_hdr_deadline_add(struct vh_hdr_watch *w, int fd)
{
	pthread_mutex_lock(&lock);
	w->fd = fd;
	atomic_store_explicit(&w->since_ns, vh_mono_ns(), memory_order_relaxed);
	atomic_store_explicit(&w->waiting, true, memory_order_relaxed);
	w->cut = false;
	w->prev = NULL;
	w->next = head;
	if (head)
		head->prev = w;
	head = w;
	pthread_mutex_unlock(&lock);
}

void vh_hdr_deadline_remove(struct vh_hdr_watch *w)
{
	pthread_mutex_lock(&lock);
	if (w->prev)
		w->prev->next = w->next;
	else if (head == w)
		head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->fd = -1;
	pthread_mutex_unlock(&lock);
}

void vh_hdr_deadline_done(struct vh_hdr_watch *w)
{
	atomic_store_explicit(&w->waiting, false, memory_order_release);
}

void vh_hdr_deadline_rearm(struct vh_hdr_watch *w)
{
	/* The time first: a sweep that sees waiting sees its new start. */
	atomic_store_explicit(&w->since_ns, vh_mono_ns(), memory_order_relaxed);
	atomic_store_explicit(&w->waiting, true, memory_order_release);
}

unsigned vh_hdr_deadline_sweep(uint64_t now_ns, uint64_t limit_ns)
{
	unsigned n = 0;

	pthread_mutex_lock(&lock);
	for (struct vh_hdr_watch *w = head; w; w = w->next) {
		uint64_t since;

		if (!atomic_load_explicit(&w->waiting, memory_order_acquire) || w->cut || w->fd < 0)
			continue;
		/* A watch added or re-armed after the caller read now_ns is
		 * younger than now_ns: not due (unsigned, now_ns - since
		 * would wrap to an age of centuries and cut a connection a
		 * moment old; seen as the agent hanging up on busy clients). */
		since = atomic_load_explicit(&w->since_ns, memory_order_relaxed);
		if (since >= now_ns || now_ns - since <= limit_ns)
			continue;
		/* Not close(): the fd stays libmicrohttpd's; it reads EOF
		 * and closes the connection itself. */
		shutdown(w->fd, SHUT_RDWR);
		w->cut = true;
		n++;
	}
	pthread_mutex_unlock(&lock);
	return n;
}

static void *sweep_main(void *arg)
{
	struct timespec ts;
	unsigned n;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += SWEEP_NS;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&wake, &lock, &ts);
		if (stopping)
			break;
		pthread_mutex_unlock(&lock);
		n = vh_hdr_deadline_sweep(vh_mono_ns(), limit);
		if (n)
			vh_log(VH_LOG_DEBUG,
			       "closed %u connection(s) whose request headers took over %llu s", n,
			       (unsigned long long)(limit / 1000000000u));
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

int vh_hdr_deadline_start(unsigned timeout_s)
{
	pthread_condattr_t ca;

	if (sweeper_running || timeout_s == 0)
		return 0;
	limit = (uint64_t)timeout_s * 1000000000u;
	stopping = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&sweeper, NULL, sweep_main, NULL) != 0) {
		pthread_cond_destroy(&wake);
		return -1;
	}
	sweeper_running = true;
	return 0;
}

void vh_hdr_deadline_stop(void)
{
	if (!sweeper_running)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(sweeper, NULL);
	pthread_cond_destroy(&wake);
	sweeper_running = false;
}
