/* SPDX-License-Identifier: Apache-2.0 */
/* Halted vCPUs, wake-ups, VM lifecycle under the scheduler, run-time
 * mode and parameter changes, and counters that add up. */
#include "sched_env.h"

VH_TEST(sched_halt, halted_vcpus_use_no_cpu_and_wake_on_time)
{
	/* A vCPU that runs 2 ms and sleeps 8 ms, against a CPU-bound one on
	 * the same pCPU: it gets its 20% (less than its 50% share), every
	 * timer wake-up dispatches it at once, and it waits the rest. */
	struct sched_env e;
	struct vh_vm *bursty, *hog, *idle;
	struct vh_sim_vcpu_stats st;
	struct vh_cpu_stats cs;

	sched_env_init(&e, 1, 1000);
	bursty = sched_env_vm(
	    &e, "bursty",
	    &(struct vm_spec){ .kind = VH_SIM_WL_BURSTY, .run_ns = 2 * MS, .sleep_ns = 8 * MS });
	hog = sched_env_vm(&e, "hog", &(struct vm_spec){ 0 });
	idle = sched_env_vm(&e, "idle", &(struct vm_spec){ .kind = VH_SIM_WL_IDLE });
	sched_env_run(&e, 10 * SEC);
	vh_sim_cpu_vm_stats(e.sc, bursty, &st);
	cs = sched_env_stats(&e, bursty);
	printf(
	    "# bursty: %llu bursts, used %.4f s, wait %.4f s, ready %.4f s, latest wake-up %.3f us "
	    "after its timer; hog used %.4f s\n",
	    (unsigned long long)st.bursts, (double)cs.used_ns / SEC, (double)cs.wait_ns / SEC,
	    (double)cs.ready_ns / SEC, (double)st.wake_late_max_ns / VH_NSEC_PER_USEC,
	    (double)sched_env_used(&e, hog) / SEC);
	VH_EXPECT_GE(st.wakes, (uint64_t)990);
	VH_EXPECT_EQ(st.wake_late_max_ns, (uint64_t)0);
	VH_EXPECT_NEAR((double)cs.used_ns / (10.0 * SEC), 0.2, 0.002);
	VH_EXPECT_NEAR((double)cs.wait_ns / (10.0 * SEC), 0.8, 0.002);
	VH_EXPECT_EQ(cs.used_ns + cs.wait_ns + cs.ready_ns, 10 * SEC);
	/* The idle VM ran once (at power-on, to halt) and waited ever since. */
	cs = sched_env_stats(&e, idle);
	VH_EXPECT_EQ(cs.used_ns, (uint64_t)0);
	VH_EXPECT_EQ(cs.runs, (uint64_t)1);
	VH_EXPECT_GE(cs.wait_ns, 10 * SEC - 2 * MS);
	/* The hog had everything else. */
	VH_EXPECT_EQ(sched_env_used(&e, hog) + sched_env_used(&e, bursty), 10 * SEC);
	sched_env_fini(&e);
}

VH_TEST(sched_halt, timer_wakes_on_time_on_a_busy_host)
{
	/* Two pCPUs busy with four CPU-bound VMs: nobody is idle to notice the
	 * bursty vCPU's timer, so one busy pCPU must come back for it. */
	struct sched_env e;
	struct vh_vm *bursty;
	struct vh_sim_vcpu_stats st;

	sched_env_init(&e, 2, 1000);
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "hog%d", i);
		sched_env_vm(&e, name, &(struct vm_spec){ 0 });
	}
	bursty = sched_env_vm(&e, "bursty",
			      &(struct vm_spec){ .kind = VH_SIM_WL_BURSTY,
						 .run_ns = 300 * VH_NSEC_PER_USEC,
						 .sleep_ns = 4700 * VH_NSEC_PER_USEC });
	sched_env_run(&e, 5 * SEC);
	vh_sim_cpu_vm_stats(e.sc, bursty, &st);
	printf("# busy host: %llu wake-ups, latest %.3f us, mean %.3f us after the timer\n",
	       (unsigned long long)st.wakes, (double)st.wake_late_max_ns / VH_NSEC_PER_USEC,
	       (double)st.wake_late_sum_ns / (st.wakes ? st.wakes : 1) / VH_NSEC_PER_USEC);
	VH_EXPECT_GE(st.wakes, (uint64_t)990);
	VH_EXPECT_EQ(st.wake_late_max_ns, (uint64_t)0);
	sched_env_fini(&e);
}

VH_TEST(sched_halt, interrupt_wakes_a_halted_vcpu)
{
	struct sched_env e;
	struct vh_vm *idle;
	struct vh_cpu_stats cs;

	sched_env_init(&e, 1, 1000);
	idle = sched_env_vm(&e, "idle", &(struct vm_spec){ .kind = VH_SIM_WL_IDLE });
	sched_env_run(&e, 100 * MS);
	VH_EXPECT_EQ(idle->vcpus[0].sched.state, (int)VH_SCHED_WAIT);
	VH_EXPECT_EQ(sched_env_stats(&e, idle).runs, (uint64_t)1);
	vh_sim_cpu_interrupt(e.sc, &idle->vcpus[0]);
	sched_env_run(&e, 100 * MS);
	cs = sched_env_stats(&e, idle);
	VH_EXPECT_EQ(cs.runs, (uint64_t)2);
	VH_EXPECT_EQ(cs.wait_ns, 200 * MS);
	VH_EXPECT_EQ(idle->vcpus[0].sched.state, (int)VH_SCHED_WAIT);
	sched_env_fini(&e);
}

/* The scheduler driven by hand, as a backend would: no simulator. */
struct manual {
	struct vh_sim_platform sp;
	struct vh_host h;
	struct vh_vm *vm;
};

static void manual_init(struct manual *m, unsigned pcpus)
{
	struct vh_host_config cfg = { .pcpus = pcpus, .mhz_per_pcpu = 1000,
				      .memory_bytes = 16 * VH_MIB };
	struct vh_vm_config vc;
	struct vh_error err;

	VH_ASSERT(vh_sim_platform_init(&m->sp, cfg.memory_bytes, pcpus, 3));
	VH_ASSERT_EQ(vh_host_init(&m->h, &cfg, &m->sp.plat, &err), VH_OK);
	vh_vm_config_default(&vc);
	snprintf(vc.name, sizeof(vc.name), "guest");
	vc.memory_mib = 1;
	m->vm = vh_vm_define(&m->h, &vc, &err);
	VH_ASSERT(m->vm != NULL);
	VH_ASSERT_EQ(vh_vm_start(&m->h, m->vm, &err), VH_OK);
}

static void manual_fini(struct manual *m)
{
	vh_host_fini(&m->h);
	VH_EXPECT_EQ(m->sp.alloc_bytes, (uint64_t)0);
	vh_sim_platform_fini(&m->sp);
}

VH_TEST(sched_halt, wake_while_running_is_not_lost)
{
	/* The interrupt arrives between the guest's HLT exit and the
	 * backend's report of it: the vCPU must not block. */
	struct manual m;
	struct vh_vcpu *v;
	struct vh_sched_pick pk;

	manual_init(&m, 1);
	v = &m.vm->vcpus[0];
	pk = vh_sched_next(&m.h, 0, 0, NULL, VH_SCHED_PREEMPTED, 0);
	VH_ASSERT(pk.vcpu == v);
	VH_EXPECT_EQ(pk.until_ns, 10 * MS);
	vh_sched_wake(&m.h, v, 1 * MS);
	pk = vh_sched_next(&m.h, 0, 2 * MS, v, VH_SCHED_HALTED, 0);
	VH_EXPECT(pk.vcpu == v);
	/* Without a wake-up it blocks, and the pCPU idles until kicked. */
	pk = vh_sched_next(&m.h, 0, 3 * MS, v, VH_SCHED_HALTED, 0);
	VH_EXPECT(pk.vcpu == NULL);
	VH_EXPECT_EQ(pk.until_ns, UINT64_MAX);
	VH_EXPECT_EQ(v->sched.state, (int)VH_SCHED_WAIT);
	/* A halt with a timer: the idle pCPU comes back exactly then. */
	vh_sched_wake(&m.h, v, 4 * MS);
	VH_EXPECT(m.sp.kick_pending[0]);
	pk = vh_sched_next(&m.h, 0, 4 * MS, NULL, VH_SCHED_PREEMPTED, 0);
	VH_ASSERT(pk.vcpu == v);
	pk = vh_sched_next(&m.h, 0, 5 * MS, v, VH_SCHED_HALTED, 7 * MS);
	VH_EXPECT(pk.vcpu == NULL);
	VH_EXPECT_EQ(pk.until_ns, 7 * MS);
	pk = vh_sched_next(&m.h, 0, 7 * MS, NULL, VH_SCHED_PREEMPTED, 0);
	VH_EXPECT(pk.vcpu == v);
	/* A timer already due does not block at all. */
	pk = vh_sched_next(&m.h, 0, 8 * MS, v, VH_SCHED_HALTED, 8 * MS);
	VH_EXPECT(pk.vcpu == v);
	manual_fini(&m);
}

VH_TEST(sched_halt, yield_lets_another_vcpu_run)
{
	struct manual m;
	struct vh_vm_config vc;
	struct vh_error err;
	struct vh_vm *other;
	struct vh_vcpu *v, *first;
	struct vh_sched_pick pk;

	manual_init(&m, 1);
	v = &m.vm->vcpus[0];
	vh_vm_config_default(&vc);
	snprintf(vc.name, sizeof(vc.name), "other");
	vc.memory_mib = 1;
	other = vh_vm_define(&m.h, &vc, &err);
	VH_ASSERT(other != NULL);
	VH_ASSERT_EQ(vh_vm_start(&m.h, other, &err), VH_OK);
	first = vh_sched_next(&m.h, 0, 0, NULL, VH_SCHED_PREEMPTED, 0).vcpu;
	VH_ASSERT(first == v || first == &other->vcpus[0]);
	/* It ran 100 us and yields: the other vCPU runs, though the yielder
	 * has the smaller virtual time. */
	pk = vh_sched_next(&m.h, 0, 100 * VH_NSEC_PER_USEC, first, VH_SCHED_YIELDED, 0);
	VH_EXPECT(pk.vcpu != NULL && pk.vcpu != first);
	/* Alone, a yielder runs again at once. */
	VH_ASSERT_EQ(vh_vm_pause(&m.h, pk.vcpu->vm, &err), VH_OK);
	pk = vh_sched_next(&m.h, 0, 200 * VH_NSEC_PER_USEC, pk.vcpu, VH_SCHED_PREEMPTED, 0);
	VH_ASSERT(pk.vcpu == first);
	pk = vh_sched_next(&m.h, 0, 300 * VH_NSEC_PER_USEC, first, VH_SCHED_YIELDED, 0);
	VH_EXPECT(pk.vcpu == first);
	manual_fini(&m);
}

VH_TEST(sched_halt, paused_vm_leaves_its_pcpu_and_stale_prev_is_ignored)
{
	struct manual m;
	struct vh_vcpu *v;
	struct vh_sched_pick pk;
	struct vh_error err;
	struct vh_cpu_stats cs;

	manual_init(&m, 1);
	v = &m.vm->vcpus[0];
	pk = vh_sched_next(&m.h, 0, 0, NULL, VH_SCHED_PREEMPTED, 0);
	VH_ASSERT(pk.vcpu == v);
	m.sp.now_ns = 3 * MS;
	m.sp.kick_pending[0] = false;
	VH_ASSERT_EQ(vh_vm_pause(&m.h, m.vm, &err), VH_OK);
	VH_EXPECT(m.sp.kick_pending[0]); /* the pCPU is told to let go */
	VH_EXPECT_EQ(v->sched.state, (int)VH_SCHED_OFF);
	/* The backend comes back later saying v ran: v is not touched, not
	 * charged, not queued. */
	pk = vh_sched_next(&m.h, 0, 5 * MS, v, VH_SCHED_PREEMPTED, 0);
	VH_EXPECT(pk.vcpu == NULL);
	vh_sched_vcpu_stats(&m.h, v, 5 * MS, &cs);
	VH_EXPECT_EQ(cs.used_ns, 3 * MS);
	VH_EXPECT_EQ(v->sched.state, (int)VH_SCHED_OFF);
	m.sp.now_ns = 6 * MS;
	VH_ASSERT_EQ(vh_vm_resume(&m.h, m.vm, &err), VH_OK);
	pk = vh_sched_next(&m.h, 0, 6 * MS, NULL, VH_SCHED_PREEMPTED, 0);
	VH_EXPECT(pk.vcpu == v);
	m.sp.now_ns = 7 * MS;
	VH_ASSERT_EQ(vh_vm_stop(&m.h, m.vm, &err), VH_OK);
	/* pCPU 0's backend still holds v: the VM cannot be freed yet. */
	VH_EXPECT(vh_sched_vm_in_use(&m.h, m.vm, NULL));
	VH_EXPECT_EQ(vh_vm_undefine(&m.h, m.vm, &err), (int)VH_E_BUSY);
	VH_EXPECT(strstr(err.reason, "still leaving pCPU 0") != NULL);
	/* Its pCPU comes back after the VM stopped: prev is not used. */
	pk = vh_sched_next(&m.h, 0, 8 * MS, v, VH_SCHED_PREEMPTED, 0);
	VH_EXPECT(pk.vcpu == NULL);
	VH_EXPECT(!vh_sched_vm_in_use(&m.h, m.vm, NULL));
	VH_ASSERT_EQ(vh_vm_undefine(&m.h, m.vm, &err), VH_OK);
	manual_fini(&m);
}

VH_TEST(sched_halt, params_are_validated)
{
	struct manual m;
	struct vh_sched_params p;
	struct vh_error err;

	manual_init(&m, 1);
	vh_sched_params_default(&p);
	VH_EXPECT_EQ(p.quantum_ns, 10 * MS);
	VH_EXPECT_EQ(p.limit_window_ns, SEC);
	VH_EXPECT_EQ(p.cosched_skew_ns, 3 * MS);
	p.quantum_ns = 0;
	VH_EXPECT_EQ(vh_sched_set_params(&m.h, &p, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "sched.quantum_ns") != NULL);
	vh_sched_params_default(&p);
	p.limit_window_ns = 10;
	VH_EXPECT_EQ(vh_sched_set_params(&m.h, &p, &err), VH_E_INVAL);
	VH_EXPECT(strstr(err.reason, "sched.limit_window_ns") != NULL);
	VH_EXPECT_EQ(m.h.sched.params.limit_window_ns, SEC); /* nothing changed */
	manual_fini(&m);
}

/* Every vCPU's time is used + ready + costop + wait since power-on, and
 * every pCPU's is busy + idle, whatever happened. */
struct books {
	struct sched_env *e;
	uint64_t start;
	uint64_t bad, skewed, split;
};

static void check_books(void *arg, uint64_t now)
{
	struct books *b = arg;
	struct vh_host *h = &b->e->h;

	for (uint32_t i = 0; i < h->cfg.max_vms; i++) {
		struct vh_vm *vm = h->vms[i];
		struct vh_cpu_stats s;
		if (!vm || vm->state != VH_VM_RUNNING)
			continue;
		vh_sched_vm_stats(h, vm, now, &s);
		if (s.used_ns + s.ready_ns + s.costop_ns + s.wait_ns !=
		    (now - b->start) * vm->cfg.vcpus)
			b->bad++;
		/* And the co-scheduling guarantees hold throughout. */
		if (vm->sched.cosched == VH_COSCHED_RELAXED &&
		    vh_sched_vm_skew(h, vm, now) > h->sched.params.cosched_skew_ns)
			b->skewed++;
		if (vm->sched.cosched == VH_COSCHED_STRICT) {
			unsigned running = 0, runnable = 0;
			for (uint32_t j = 0; j < vm->cfg.vcpus; j++) {
				int st = vm->vcpus[j].sched.state;
				running += st == VH_SCHED_RUNNING;
				runnable += st != VH_SCHED_WAIT && st != VH_SCHED_OFF;
			}
			if (running && running != runnable)
				b->split++;
		}
	}
	for (unsigned p = 0; p < h->cfg.pcpus; p++) {
		struct vh_pcpu_stats ps;
		vh_sched_pcpu_stats(h, p, now, &ps);
		if (ps.busy_ns + ps.idle_ns != now)
			b->bad++;
	}
}

VH_TEST(sched_halt, mixed_host_counters_add_up_and_modes_change_live)
{
	struct sched_env e;
	struct books b = { 0 };
	struct vh_vm *vms[24];
	struct vh_cpu_controls c;
	struct vh_error err;
	uint64_t busy = 0, used = 0, gone;

	sched_env_init(&e, 6, 2000);
	for (int i = 0; i < 24; i++) {
		static const enum vh_sim_workload_kind kinds[] = { VH_SIM_WL_CPU, VH_SIM_WL_BURSTY,
								   VH_SIM_WL_SMP, VH_SIM_WL_IDLE };
		static const enum vh_cosched_mode modes[] = { VH_COSCHED_RELAXED, VH_COSCHED_STRICT,
							      VH_COSCHED_NONE };
		char name[16];
		snprintf(name, sizeof(name), "vm%d", i);
		vms[i] = sched_env_vm(&e, name, &(struct vm_spec){
			.vcpus = 1 + (unsigned)(i % 4), .shares = 500u + 700u * (unsigned)(i % 5),
			.reservation_mhz = i == 3 ? 1500 : 0, .limit_mhz = i % 7 == 2 ? 900 : 0,
			.cosched = modes[i % 3], .kind = kinds[i % 4],
			.run_ns = (uint64_t)(300 + 100 * i) * VH_NSEC_PER_USEC,
			.sleep_ns = (uint64_t)(1000 + 300 * i) * VH_NSEC_PER_USEC });
	}
	b.e = &e;
	vh_sim_cpu_set_observer(e.sc, check_books, &b);
	sched_env_run(&e, 1 * SEC);
	/* Change modes, shares and limits while everything runs. */
	for (int i = 0; i < 24; i += 2) {
		enum vh_cosched_mode mode = (enum vh_cosched_mode)((vms[i]->cfg.cosched + 1) % 3);
		vms[i]->cfg.cosched = mode;
		c = vms[i]->cfg.cpu;
		c.limit_mhz = i % 4 ? VH_UNLIMITED : 1200;
		c.shares.level = VH_SHARES_HIGH;
		VH_ASSERT_EQ(vh_vm_set_cpu(&e.h, vms[i], &c, &err), VH_OK);
	}
	sched_env_run(&e, 1 * SEC);
	/* Pause a few, stop one, and run on. */
	VH_ASSERT_EQ(vh_vm_pause(&e.h, vms[5], &err), VH_OK);
	VH_ASSERT_EQ(vh_vm_stop(&e.h, vms[6], &err), VH_OK);
	gone = sched_env_used(&e, vms[6]);
	/* Let the kicked pCPUs hand its vCPUs back before freeing it. */
	sched_env_run(&e, 1 * MS);
	vh_sim_cpu_forget_vm(e.sc, vms[6]);
	VH_ASSERT_EQ(vh_vm_undefine(&e.h, vms[6], &err), VH_OK);
	vms[6] = NULL;
	sched_env_run(&e, 500 * MS);
	VH_EXPECT_EQ(b.bad, (uint64_t)0);
	VH_EXPECT_EQ(b.skewed, (uint64_t)0);
	VH_EXPECT_EQ(b.split, (uint64_t)0);
	/* (A resumed VM's books have a hole where it was paused.) */
	vh_sim_cpu_set_observer(e.sc, NULL, NULL);
	VH_ASSERT_EQ(vh_vm_resume(&e.h, vms[5], &err), VH_OK);
	sched_env_run(&e, 500 * MS);
	for (unsigned p = 0; p < 6; p++) {
		struct vh_pcpu_stats ps;
		vh_sched_pcpu_stats(&e.h, p, sched_env_now(&e), &ps);
		busy += ps.busy_ns;
	}
	for (int i = 0; i < 24; i++)
		if (vms[i])
			used += sched_env_used(&e, vms[i]);
	printf("# 24 mixed VMs on 6 pCPUs for 3 s: %.1f%% busy, %llu decisions\n",
	       100.0 * busy / (6.0 * 3 * SEC), (unsigned long long)vh_sim_cpu_decisions(e.sc));
	/* Every busy nanosecond of every pCPU was some vCPU's. */
	VH_EXPECT_EQ(busy, used + gone);
	VH_EXPECT_GT(busy, 6 * 3 * SEC * 9 / 10);
	sched_env_fini(&e);
}
