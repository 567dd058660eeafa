/* SPDX-License-Identifier: Apache-2.0 */
/* Worker threads: each stands for one pCPU given to vh and runs the
 * scheduler's loop (docs/scheduler.md): ask vh_sched_next() what to run,
 * run that vCPU with KVM_RUN until the returned deadline, a halt, a yield
 * or a kick, and report why it stopped.  The host lock is held only around
 * calls into the core; KVM_RUN itself runs unlocked.
 *
 * Preemption: KVM_CAP_IMMEDIATE_EXIT plus a signal.  The quantum's
 * deadline is a POSIX timer that signals this thread (SIGEV_THREAD_ID);
 * plat->kick signals it too.  The handler sets immediate_exit in the
 * thread's current kvm_run, so a signal that lands just before KVM_RUN
 * enters the guest still makes it return at once (no lost wake-up); one
 * that lands during the run makes KVM_RUN return -EINTR.
 *
 * A halted vCPU blocks in vh's scheduler (VH_SCHED_HALTED with its local
 * APIC timer as wake time), never in the host kernel: KVM has no
 * in-kernel interrupt controller here, so HLT always exits to us.
 *
 * Steal time: a worker is a pCPU to the scheduler, but Linux may run other
 * threads on its CPU, also while it is inside KVM_RUN.  Before each
 * vh_sched_next the worker reads its thread's CPU clock
 * (CLOCK_THREAD_CPUTIME_ID, which counts guest time in KVM_RUN) beside the
 * wall clock: of the wall time since the last settlement, what the thread
 * did not run was stolen from its vCPU, and vh_sched_steal charges it as
 * ready time rather than run time.  The housekeeping thread and the
 * control thread (before each request that reads counters) settle every
 * worker the same way in between, through the worker's clock id, so that
 * counters and co-scheduling see steal within a 5 ms tick.  One clock
 * read per decision, per tick and per stats request (0.2 to 0.4 us here),
 * never one per exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hosted.h"
#include "vh/vcpu_events.h"
#include "vh/vm.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* The kvm_run this thread is about to enter or is in (for the handler). */
static __thread struct kvm_run *volatile tls_run;

static void on_kick_signal(int sig)
{
	struct kvm_run *r = tls_run;

	(void)sig;
	if (r)
		r->immediate_exit = 1;
}

/* Sets the deadline timer.  An exit handled inside a quantum usually
 * leaves the deadline as it was: a timer still armed for the same time,
 * not yet due, is left alone (timer_settime is a system call per exit,
 * a tenth of an I/O exit's round trip).  One that is due may have fired
 * already and is set again, which fires it at once, as before. */
static void arm(struct vh_hosted_worker *w, uint64_t at)
{
	struct itimerspec its = { 0 };

	if (!w->timer_ok)
		return;
	if (at == w->armed_at && (at == UINT64_MAX || vh_hosted_now() < at))
		return;
	w->armed_at = at;
	if (at != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(at / 1000000000ull);
		its.it_value.tv_nsec = (long)(at % 1000000000ull);
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1; /* 0 would disarm */
	}
	timer_settime(w->timer, TIMER_ABSTIME, &its, NULL);
}

void vh_hosted_worker_kick(struct vh_hosted *d, unsigned pcpu)
{
	struct vh_hosted_worker *w;

	if (pcpu >= d->nworkers)
		return;
	w = &d->workers[pcpu];
	pthread_mutex_lock(&w->idle_lock);
	atomic_store(&w->kicked, true);
	pthread_cond_signal(&w->idle_cond);
	pthread_mutex_unlock(&w->idle_lock);
	/* The worker sets in_guest before it checks kicked, so either it sees
	 * the kick or we see it in the guest and interrupt it. */
	if (atomic_load(&w->in_guest))
		pthread_kill(w->thread, VH_HOSTED_SIG_KICK);
}

static void idle(struct vh_hosted_worker *w, uint64_t until)
{
	pthread_mutex_lock(&w->idle_lock);
	while (!atomic_load(&w->kicked) && !atomic_load(&w->d->stopping)) {
		if (until == UINT64_MAX) {
			pthread_cond_wait(&w->idle_cond, &w->idle_lock);
		} else {
			struct timespec ts = { (time_t)(until / 1000000000ull),
					       (long)(until % 1000000000ull) };
			if (vh_hosted_now() >= until ||
			    pthread_cond_timedwait(&w->idle_cond, &w->idle_lock, &ts) == ETIMEDOUT)
				break;
		}
	}
	pthread_mutex_unlock(&w->idle_lock);
}

/* Host lock held.  Is the vCPU still this worker's to run? */
static bool still_mine(const struct vh_hosted_worker *w, const struct vh_hosted_vm *hvm,
		       const struct vh_hosted_vcpu *hv)
{
	const struct vh_vcpu *v;

	if (hvm->gone || hvm->vm->state != VH_VM_RUNNING)
		return false;
	v = &hvm->vm->vcpus[hv->index];
	return v->sched.state == VH_SCHED_RUNNING && v->sched.pcpu == (int)w->index;
}

/* Host lock held.  Is the exit KVM just reported still the guest's
 * business?  Not once the VM is gone, stopped or reset; still when it was
 * paused meanwhile (the exit's side effects complete, then it parks). */
static bool exit_valid(const struct vh_hosted_vm *hvm, const struct vh_hosted_vcpu *hv)
{
	return !hvm->gone && (hvm->vm->state == VH_VM_RUNNING || hvm->vm->state == VH_VM_PAUSED) &&
	       hv->boot.generation == hvm->vm->boot_generation;
}

/* Host lock held.  Interrupt delivery before entering the guest
 * (vh/vcpu_events.h), and the deadline of this entry: the quantum's end or
 * the local APIC timer.  KVM re-injects what an exit interrupted itself;
 * until it has, it is not ready for an injection. */
static uint64_t prepare_entry(struct vh_hosted *d, struct vh_hosted_vm *hvm,
			      struct vh_hosted_vcpu *hv, uint64_t until)
{
	struct vh_vm *vm = hvm->vm;
	struct vh_vcpu *v = &vm->vcpus[hv->index];
	struct kvm_run *run = hv->run;
	struct vh_vcpu_gate g = { .if_flag = run->if_flag,
				  .blocked = !run->ready_for_interrupt_injection };
	struct vh_vcpu_event ev = vh_vcpu_next_event(&d->host, vm, v, vh_hosted_now(), &g);

	/* KVM exits as soon as the guest can take the interrupt. */
	run->request_interrupt_window = ev.what == VH_VCPU_WINDOW;
	if (ev.what == VH_VCPU_IRQ) {
		struct kvm_interrupt irq = { .irq = ev.vector };
		if (ioctl(hv->fd, KVM_INTERRUPT, &irq) == 0)
			vh_vcpu_injected(&d->host, vm, v, ev.vector);
	}
	return ev.timer_deadline < until ? ev.timer_deadline : until;
}

/* Runs the vCPU until its quantum ends or it leaves for the scheduler.
 * The caller holds hv->run_lock. */
static enum vh_hosted_next run_vcpu(struct vh_hosted_worker *w, struct vh_hosted_vm *hvm,
				    struct vh_hosted_vcpu *hv, uint64_t until, uint64_t *wake_at)
{
	struct vh_hosted *d = w->d;
	struct kvm_run *run = hv->run;
	struct vh_hosted_exit x = { .w = w, .hv = hv, .until = until };
	enum vh_hosted_next next = VH_HOSTED_PREEMPT;
	uint64_t deadline;

	*wake_at = 0;
	vh_hosted_lock(d);
	if (!still_mine(w, hvm, hv)) {
		vh_hosted_unlock(d);
		return VH_HOSTED_PREEMPT;
	}
	switch (vh_hosted_vm_prepare(hvm, hv)) {
	case VH_HOSTED_PREPARE_FAILED:
		vh_hosted_unlock(d);
		return VH_HOSTED_PREEMPT;
	case VH_HOSTED_PREPARE_PARKED:
		vh_hosted_unlock(d);
		return VH_HOSTED_HALT;
	case VH_HOSTED_PREPARE_LOAD: {
		/* The load is this vCPU's work, mostly without the lock. */
		struct vh_hosted_load *l = hvm->load;
		vh_hosted_unlock(d);
		return vh_hosted_load_run(w, hvm, l, until);
	}
	case VH_HOSTED_PREPARE_WAIT:
		/* Another worker loads the image: look again in a
		 * millisecond, halted meanwhile. */
		*wake_at = vh_hosted_now() + 1000000;
		vh_hosted_unlock(d);
		return VH_HOSTED_HALT;
	case VH_HOSTED_PREPARE_RUN:
		break;
	}
	if (hv->mmio_pending) {
		/* A guest access that waited for a frame: try it again. */
		x.vm = hvm->vm;
		x.vcpu = &x.vm->vcpus[hv->index];
		x.now = vh_hosted_now();
		next = vh_hosted_mmio_exit(&x);
		if (next != VH_HOSTED_CONTINUE) {
			*wake_at = x.wake_at;
			vh_hosted_unlock(d);
			return next;
		}
	}
	deadline = prepare_entry(d, hvm, hv, until);
	vh_hosted_unlock(d);

	for (;;) {
		int rc, err;

		run->immediate_exit = 0;
		tls_run = run;
		arm(w, deadline);
		atomic_store(&w->in_guest, true);
		if (atomic_load(&w->kicked) || atomic_load(&d->stopping) ||
		    vh_hosted_now() >= until) {
			atomic_store(&w->in_guest, false);
			next = VH_HOSTED_PREEMPT;
			break;
		}
		rc = ioctl(hv->fd, KVM_RUN, 0);
		err = errno;
		atomic_store(&w->in_guest, false);
		tls_run = NULL;
		w->runs++;

		vh_hosted_lock(d);
		if (!exit_valid(hvm, hv)) {
			vh_hosted_unlock(d);
			next = VH_HOSTED_PREEMPT;
			break;
		}
		x.vm = hvm->vm;
		x.vcpu = &x.vm->vcpus[hv->index];
		x.now = vh_hosted_now();
		x.wake_at = 0;
		if (rc < 0 && err != EINTR && err != EAGAIN) {
			char why[96];
			snprintf(why, sizeof(why), "KVM_RUN of vCPU %u failed: %s", hv->index,
				 strerror(err));
			vh_vm_crash(&d->host, x.vm, why);
			vh_hosted_unlock(d);
			next = VH_HOSTED_PREEMPT;
			break;
		}
		if (rc < 0)
			run->exit_reason = KVM_EXIT_INTR;
		w->exits++;
		next = vh_hosted_handle_exit(&x);
		if (next == VH_HOSTED_CONTINUE && !still_mine(w, hvm, hv))
			next = VH_HOSTED_PREEMPT;
		if (next == VH_HOSTED_CONTINUE)
			deadline = prepare_entry(d, hvm, hv, until);
		vh_hosted_unlock(d);
		if (next != VH_HOSTED_CONTINUE) {
			*wake_at = x.wake_at;
			break;
		}
	}
	arm(w, UINT64_MAX);
	return next;
}

/* A CPU clock in ns; 0 when it cannot be read (settle() then skips). */
static uint64_t cpu_clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Host lock held.  Of the wall time since w's steal was last settled,
 * what its thread did not run (Linux ran something else on its CPU, or it
 * slept on a lock) is reported as stolen from the vCPU it holds.  now and
 * cpu: the wall clock and the thread's CPU clock, read together. */
static void settle(struct vh_hosted_worker *w, uint64_t now, uint64_t cpu)
{
	if (!cpu)
		return;
	if (w->has_vcpu && w->acct_cpu && now > w->acct_wall) {
		uint64_t wall = now - w->acct_wall;
		uint64_t run = cpu > w->acct_cpu ? cpu - w->acct_cpu : 0;
		w->with_vcpu_ns += wall;
		if (wall > run) {
			vh_sched_steal(&w->d->host, w->index, now, wall - run);
			w->stolen_ns += wall - run;
		}
	}
	w->acct_wall = now;
	w->acct_cpu = cpu;
}

void vh_hosted_workers_settle_steal(struct vh_hosted *d)
{
	for (unsigned i = 0; i < d->nworkers; i++) {
		struct vh_hosted_worker *w = &d->workers[i];
		if (w->live && w->has_vcpu)
			settle(w, vh_hosted_now(), cpu_clock_ns(w->cpu_clock));
	}
}

static const enum vh_sched_event sched_event[] = {
	[VH_HOSTED_CONTINUE] = VH_SCHED_PREEMPTED,
	[VH_HOSTED_PREEMPT] = VH_SCHED_PREEMPTED,
	[VH_HOSTED_HALT] = VH_SCHED_HALTED,
	[VH_HOSTED_YIELD] = VH_SCHED_YIELDED,
};

static void *worker_main(void *arg)
{
	struct vh_hosted_worker *w = arg;
	struct vh_hosted *d = w->d;
	struct vh_hosted_vm *held = NULL;
	struct vh_vcpu *prev = NULL;
	enum vh_sched_event why = VH_SCHED_PREEMPTED;
	uint64_t wake_at = 0;
	struct sigevent sev = { 0 };

	w->tid = gettid();
	vh_hosted_lock(d);
	w->live = pthread_getcpuclockid(pthread_self(), &w->cpu_clock) == 0;
	vh_hosted_unlock(d);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = VH_HOSTED_SIG_KICK;
	sev.sigev_notify_thread_id = w->tid;
	w->timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &w->timer) == 0;
	w->armed_at = UINT64_MAX; /* a new timer is disarmed */
	if (!w->timer_ok)
		vh_hosted_log(d, "worker %u: timer_create: %s (quanta end only at exits)", w->index,
			      strerror(errno));

	while (!atomic_load(&d->stopping)) {
		struct vh_sched_pick pk;
		struct vh_hosted_vm *hvm;
		struct vh_hosted_vcpu *hv;
		enum vh_hosted_next next;
		uint64_t now;

		vh_hosted_lock(d);
		if (held) {
			vh_hosted_vm_put(held);
			held = NULL;
		}
		atomic_store(&w->kicked, false);
		now = vh_hosted_now();
		settle(w, now, cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID));
		pk = vh_sched_next(&d->host, w->index, now, prev, why, wake_at);
		w->has_vcpu = pk.vcpu != NULL;
		prev = NULL;
		why = VH_SCHED_PREEMPTED;
		wake_at = 0;
		if (!pk.vcpu) {
			vh_hosted_unlock(d);
			idle(w, pk.until_ns);
			continue;
		}
		hvm = vh_hosted_vm_get(d, pk.vcpu->vm);
		if (!hvm) {
			vh_vm_crash(&d->host, pk.vcpu->vm, "the kernel refused its KVM VM");
			vh_hosted_unlock(d);
			continue;
		}
		vh_hosted_vm_ref(hvm);
		held = hvm;
		hv = &hvm->vcpus[pk.vcpu->index];
		vh_hosted_unlock(d);

		/* Waits while another worker finishes this vCPU's last exit. */
		pthread_mutex_lock(&hv->run_lock);
		next = run_vcpu(w, hvm, hv, pk.until_ns, &wake_at);
		pthread_mutex_unlock(&hv->run_lock);
		prev = pk.vcpu; /* never read by the scheduler, even if freed */
		why = sched_event[next];
	}
	vh_hosted_lock(d);
	if (held)
		vh_hosted_vm_put(held);
	w->live = false;
	vh_hosted_unlock(d);
	if (w->timer_ok)
		timer_delete(w->timer);
	return NULL;
}

int vh_hosted_workers_start(struct vh_hosted *d, char *why, size_t whylen)
{
	struct sigaction sa = { 0 };
	pthread_condattr_t ca;

	sa.sa_handler = on_kick_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(VH_HOSTED_SIG_KICK, &sa, NULL) < 0) {
		snprintf(why, whylen, "sigaction: %s", strerror(errno));
		return -1;
	}
	d->workers = calloc(d->opt.pcpus, sizeof(*d->workers));
	if (!d->workers) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (unsigned i = 0; i < d->opt.pcpus; i++) {
		struct vh_hosted_worker *w = &d->workers[i];
		w->d = d;
		w->index = i;
		pthread_mutex_init(&w->idle_lock, NULL);
		pthread_cond_init(&w->idle_cond, &ca);
	}
	pthread_condattr_destroy(&ca);
	/* Kicks may target any worker as soon as the first one runs. */
	d->nworkers = d->opt.pcpus;
	for (unsigned i = 0; i < d->opt.pcpus; i++) {
		int rc = pthread_create(&d->workers[i].thread, NULL, worker_main, &d->workers[i]);
		if (rc) {
			snprintf(why, whylen, "worker thread %u: %s", i, strerror(rc));
			d->nworkers = i;
			vh_hosted_workers_stop(d);
			return -1;
		}
		char name[16];
		snprintf(name, sizeof(name), "vh-pcpu%u", i % 1000u);
		pthread_setname_np(d->workers[i].thread, name);
	}
	return 0;
}

void vh_hosted_workers_stop(struct vh_hosted *d)
{
	struct vh_hosted_worker *workers;
	unsigned n = d->nworkers;

	atomic_store(&d->stopping, true);
	for (unsigned i = 0; i < n; i++)
		vh_hosted_worker_kick(d, i);
	for (unsigned i = 0; i < n; i++) {
		struct vh_hosted_worker *w = &d->workers[i];
		pthread_join(w->thread, NULL);
		if (w->with_vcpu_ns)
			vh_hosted_log(
			    d,
			    "pCPU %u: Linux took %.1f ms of its %.3f s with a vCPU (%.2f%%, "
			    "charged as ready time)",
			    i, w->stolen_ns / 1e6, w->with_vcpu_ns / 1e9,
			    100.0 * w->stolen_ns / w->with_vcpu_ns);
	}
	for (unsigned i = 0; i < d->opt.pcpus && d->workers; i++) {
		pthread_mutex_destroy(&d->workers[i].idle_lock);
		pthread_cond_destroy(&d->workers[i].idle_cond);
	}
	/* The housekeeping and control threads read the workers under the
	 * host lock (steal settlement, kicks). */
	vh_hosted_lock(d);
	workers = d->workers;
	d->nworkers = 0;
	d->workers = NULL;
	vh_hosted_unlock(d);
	free(workers);
}
