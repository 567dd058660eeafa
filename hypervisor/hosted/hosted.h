/* SPDX-License-Identifier: Apache-2.0 */
/* vh-hosted: the core on Linux /dev/kvm.  Internal interfaces between the
 * daemon's files (one concern each):
 *
 *   main.c         start-up, signal handling, orderly shutdown
 *   options.c      the command line
 *   frames.c       the host frame pool: one memfd, mapped once
 *   guest_mem.c    a VM's guest-physical space: a reserved range of the
 *                  daemon's address space registered as a KVM memory slot,
 *                  each guest page an mmap of its memfd frame
 *   platform.c     struct vh_platform over the pieces above
 *   kvm.c          /dev/kvm: capabilities, VM and vCPU fds, CPUID, registers
 *   vmctx.c        the backend's per-VM state and its lifetime
 *   images.c       guest images by name from the image directory
 *   image_load.c   a VM's image into its memory, without stalling the host
 *   console.c      guest console output to a log file per VM
 *   worker.c       one thread per pCPU: the scheduler loop, timers, kicks
 *   exits.c        KVM exit reasons, table-driven
 *   guest_fault.c  guest memory faults that KVM reports as MMIO or as an
 *                  instruction it could not fetch
 *   emulate.c      instructions this host's KVM cannot emulate (IRET)
 *   decode.c       the memory operands of an instruction KVM gave up on
 *   housekeeping.c vh_mem_tick and console flushing, in a thread
 *   server.c       the control protocol on a unix socket (epoll thread)
 *   peer.c         who may connect: root and the `vh` group
 *
 * Locking: d->lock is the core's host lock (plat->lock).  Everything in
 * struct vh_hosted_vm below marked "host lock" is read and written with it
 * held.  A worker owns a vCPU (its KVM fd and kvm_run page) while it holds
 * that vCPU's run_lock; the order is run_lock, then the host lock. */
#ifndef VH_HOSTED_H
#define VH_HOSTED_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "vh/host.h"
#include "vh/layout.h"
#include "vh/loader.h"
#include "vh/platform.h"
#include "vh/unemulated.h"
#include "vh/vcpu_boot.h"
#include "vh/xsave.h"

struct kvm_run;

/* ---- options.c ----------------------------------------------------------- */

/* How much disk a VM's console log may hold (--console-log-max, -keep). */
struct vh_hosted_log_limits {
	uint64_t max_bytes; /* per file, at least 1 */
	uint32_t keep;      /* rotated files kept: <vm>.log.1 .. <vm>.log.<keep> */
};

struct vh_hosted_options {
	unsigned pcpus;            /* worker threads; default: host CPUs */
	uint64_t memory_bytes;     /* the frame pool; default: half of RAM */
	uint32_t mhz_per_pcpu;     /* default: from /proc/cpuinfo */
	uint32_t max_vms;          /* 0: the core's default */
	uint64_t quantum_ns;       /* 0: the core's default (10 ms) */
	uint64_t scan_pages_per_sec; /* page sharing rate; UINT64_MAX: default */
	uint64_t scan_pages_per_ghz; /* its bound per GHz; UINT64_MAX: default */
	uint64_t sample_period_ns; /* active-memory sampling; 0: default */
	const char *socket_path;   /* default /run/vh/vh.sock */
	const char *images_dir;    /* default /var/lib/vh/images */
	/* The datastore the VMs' disks (vm_config.disks) are opened from by
	 * name, as vhagent's disks_dir keeps them; default /var/lib/vh/disks. */
	const char *disks_dir;
	const char *log_dir;       /* per-VM console logs; default /var/log/vh */
	/* Console logs per VM (default 16 MiB x (1 + 4)) and the console
	 * budget (bytes/s, bytes; 0: the core's defaults). */
	struct vh_hosted_log_limits log_limits;
	uint64_t console_rate, console_burst;
	const char *pid_file;      /* optional */
	bool verbose;
};

/* Parses argv; prints usage or the first error to stderr.  Returns 0,
 * 1 for an error, 2 after --help/--version (exit 0). */
int vh_hosted_parse_options(int argc, char **argv, struct vh_hosted_options *o);
/* "64M", "2G", "4096" (bytes) -> bytes; false when malformed. */
bool vh_hosted_parse_size(const char *s, uint64_t *out);

/* ---- frames.c ------------------------------------------------------------- */

struct vh_hosted_frames {
	int memfd;
	uint8_t *base;     /* the whole pool, mapped once: frame pfn at base + pfn * 4K */
	uint64_t bytes;
	atomic_uint_fast64_t punched; /* frames handed back to Linux */
};

int vh_hosted_frames_init(struct vh_hosted_frames *f, uint64_t bytes, char *why, size_t whylen);
void vh_hosted_frames_fini(struct vh_hosted_frames *f);
/* Hands the frames' memory back to Linux (their contents become zero). */
void vh_hosted_frames_release(struct vh_hosted_frames *f, uint64_t pfn, uint64_t n);

/* ---- guest_mem.c ------------------------------------------------------------ */

struct vh_hosted_guest_mem {
	uint8_t *base;           /* reserved: guest-physical 0 at base */
	uint64_t bytes;          /* of address space reserved: up to the highest RAM byte */
	struct vh_layout layout; /* the VM's RAM and its 32-bit hole */
	uint32_t nslots;         /* KVM memory slots: RAM below the hole, RAM above 4 GiB */
};

/* The VM's guest-physical space for bytes of memory, laid out by
 * vh/layout.h: KVM slots for RAM only, so an access to the hole (the
 * local APIC, the IOAPIC, PCI) always exits to the device models. */
int vh_hosted_guest_mem_init(struct vh_hosted_guest_mem *g, int vm_fd, uint64_t bytes,
			     char *why, size_t whylen);
void vh_hosted_guest_mem_fini(struct vh_hosted_guest_mem *g);
/* plat->map: frame pfn of the pool at gfn with prot (VH_PROT_*), or a
 * hole (prot 0).  The kernel's MMU notifiers drop KVM's translation of the
 * old mapping before mmap returns, which is what the core requires. */
int vh_hosted_guest_mem_map(struct vh_hosted_guest_mem *g, const struct vh_hosted_frames *f,
			    uint64_t gfn, uint64_t pfn, unsigned prot);

/* ---- kvm.c ----------------------------------------------------------------- */

struct vh_hosted_kvm {
	int fd;                /* /dev/kvm */
	int run_size;          /* bytes of a vCPU's kvm_run mapping */
	void *cpuid;           /* struct kvm_cpuid2: KVM_GET_SUPPORTED_CPUID's */
};

int vh_hosted_kvm_open(struct vh_hosted_kvm *k, char *why, size_t whylen);
void vh_hosted_kvm_close(struct vh_hosted_kvm *k);
int vh_hosted_kvm_create_vm(struct vh_hosted_kvm *k, char *why, size_t whylen);
/* A vCPU fd (vCPU `index` of `vcpus`) with its kvm_run page and vh's CPUID;
 * -1 with why on failure. */
int vh_hosted_kvm_create_vcpu(struct vh_hosted_kvm *k, int vm_fd, uint32_t index, uint32_t vcpus,
			      struct kvm_run **run, char *why, size_t whylen);
/* Finishes a pending I/O or MMIO completion without entering the guest
 * (KVM_RUN with immediate_exit), so that registers set afterwards stick. */
void vh_hosted_kvm_flush(int vcpu_fd, struct kvm_run *run);
/* The boot vCPU's power-on state from the loader. */
int vh_hosted_kvm_set_boot_state(int vcpu_fd, const struct vh_boot_state *bs);
/* An application processor's state at its SIPI (vh/vcpu_boot.h). */
int vh_hosted_kvm_set_sipi_state(int vcpu_fd, const struct vh_vcpu_sipi *sipi);

/* ---- console.c ---------------------------------------------------------------- */

struct vh_hosted_console {
	int fd;            /* the VM's log file; -1 if it could not be opened */
	uint64_t size;     /* bytes in it */
	struct vh_hosted_log_limits lim;
	char base[4096];   /* its path, <dir>/<vm>.log; "" when too long */
	char buf[4096];    /* bytes not yet written (flushed at newline or full) */
	size_t len;
};

void vh_hosted_console_open(struct vh_hosted_console *c, const char *dir, const char *vm_name,
			    const struct vh_hosted_log_limits *lim);
void vh_hosted_console_write(struct vh_hosted_console *c, const char *bytes, size_t n);
void vh_hosted_console_flush(struct vh_hosted_console *c);
void vh_hosted_console_close(struct vh_hosted_console *c);
/* Closes the file, dropping what is still buffered. */
void vh_hosted_console_discard(struct vh_hosted_console *c);
/* Deletes <dir>/<vm>.log and its rotated files (the VM was undefined). */
void vh_hosted_console_remove(const char *dir, const char *vm_name,
			      const struct vh_hosted_log_limits *lim);

/* ---- images.c ---------------------------------------------------------------- */

/* Reads image `name` (a plain file name in dir: no '/', not "." or "..")
 * into a malloc'd buffer of at most max bytes. */
int vh_hosted_image_read(const char *dir, const char *name, uint64_t max, void **bytes,
			 size_t *len, char *why, size_t whylen);

/* ---- vmctx.c: the backend's per-VM state --------------------------------------- */

struct vh_hosted;

struct vh_hosted_vcpu {
	struct vh_hosted_vm *hvm;
	uint32_t index;
	int fd;
	struct kvm_run *run;
	/* Held by the worker running this vCPU, from its pick until it gives
	 * the vCPU back: one KVM_RUN at a time per vCPU, and a vCPU moved to
	 * another worker waits for the first to finish its exit. */
	pthread_mutex_t run_lock;
	struct vh_vcpu_boot boot; /* its boot generation and start-up (host lock) */
	/* The CPU model's words the completions test (complete.c), read
	 * back from KVM once. */
	struct {
		bool known;
		bool xgetbv1; /* CPUID 0xd.1 EAX[2]: XGETBV with ECX 1 */
		bool xsavec;  /* CPUID 0xd.1 EAX[1]: XRSTOR's compacted form */
		/* CPUID 0xd.i (i >= 2): each state component's size, its
		 * offset in the standard XSAVE layout and its compacted
		 * alignment, as the guest reads them (complete_xsave.c). */
		struct vh_xsave_leafd xsave;
		struct vh_unem_cpu unem;
	} cpu;
	uint64_t completed[VH_UNEM_KINDS]; /* instructions complete.c handled, by kind */
	uint32_t fetch_faults;  /* consecutive instruction-fetch faults at one rip */
	uint64_t fetch_rip;
	bool mmio_pending;      /* a guest-memory MMIO exit waits for a frame */
	uint64_t nomem_since;   /* ... since then */
};

struct vh_hosted_vm {
	struct vh_hosted *d;
	uint32_t id;               /* the core VM's id */
	struct vh_vm *vm;          /* valid while !gone (host lock) */
	bool gone;                 /* the core undefined it (host lock) */
	uint32_t refs;             /* core link + workers using it (host lock) */
	uint32_t loaded_generation;  /* boot generation the image was loaded for (host lock) */
	struct vh_hosted_load *load; /* the image load under way, or NULL (host lock) */
	struct vh_boot_state boot; /* what the loader said (mode 0: no kernel) */
	int vm_fd;
	struct vh_hosted_guest_mem mem;
	uint32_t nvcpus;
	struct vh_hosted_vcpu *vcpus;
	struct vh_hosted_console console;
	struct vh_hosted_vm *next; /* d->vms (host lock) */
};

/* The backend state of vm, created on first use (KVM VM, guest memory
 * range, vCPU fds, log file).  Host lock held.  NULL with a log line when
 * the kernel refused; the caller crashes the VM. */
struct vh_hosted_vm *vh_hosted_vm_get(struct vh_hosted *d, struct vh_vm *vm);
void vh_hosted_vm_ref(struct vh_hosted_vm *hvm);
/* Drops a reference; the last one frees (host lock held). */
void vh_hosted_vm_put(struct vh_hosted_vm *hvm);
/* plat->vm_gone: the core is about to free vm.  Host lock held. */
void vh_hosted_vm_gone(struct vh_hosted *d, struct vh_vm *vm);

enum vh_hosted_prepare {
	VH_HOSTED_PREPARE_RUN,    /* enter the guest */
	VH_HOSTED_PREPARE_PARKED, /* not startable (AP awaiting its SIPI, no
				     kernel): block it in the scheduler */
	VH_HOSTED_PREPARE_FAILED, /* the VM was crashed (the reason is logged) */
	VH_HOSTED_PREPARE_LOAD,   /* this worker loads the image: vh_hosted_load_run() */
	VH_HOSTED_PREPARE_WAIT,   /* another worker loads it: try again shortly */
};
/* Brings the VM's guest up to its boot generation before one of its vCPUs
 * runs: loads the image (once per generation), resets this vCPU's
 * registers, starts an AP at its SIPI.  Host lock held. */
enum vh_hosted_prepare vh_hosted_vm_prepare(struct vh_hosted_vm *hvm, struct vh_hosted_vcpu *hv);
/* ---- image_load.c ---------------------------------------------------------------- */

/* Hold the host lock at most about this long per batch of a load. */
#define VH_HOSTED_LOAD_HOLD_NS 1000000ull

struct vh_hosted_load;
struct vh_hosted_worker;
/* Host lock held, the VM's image not loaded for its boot generation:
 * LOAD when the caller is now the one to load it (hvm->load, marked
 * busy), WAIT while another worker does, FAILED (VM crashed) without
 * memory. */
enum vh_hosted_prepare vh_hosted_load_begin(struct vh_hosted_vm *hvm);
/* Without the host lock, after LOAD, holding a reference on hvm: reads,
 * plans and copies until done, failed (VM crashed), stale (dropped), the
 * VM paused, or the quantum (until) over or w kicked (kept for the
 * vCPU's next pick).  Returns what the worker tells the scheduler. */
enum vh_hosted_next vh_hosted_load_run(struct vh_hosted_worker *w, struct vh_hosted_vm *hvm,
				       struct vh_hosted_load *l, uint64_t until);
/* Before a VM powers on (the platform's boot_check, host lock held): its
 * images mapped, not copied, and the load planned against its memory; a
 * refusal names the boot field at fault ("boot.kernel: ..."). */
int vh_hosted_boot_check(const char *images_dir, const struct vh_vm *vm, struct vh_error *err);
/* Frees a load that no worker works on (NULL: nothing). */
void vh_hosted_load_free(struct vh_hosted_load *l);

/* Flushes every VM's console (host lock held). */
void vh_hosted_vm_flush_consoles(struct vh_hosted *d);

/* ---- worker.c ------------------------------------------------------------------ */

struct vh_hosted_worker {
	struct vh_hosted *d;
	unsigned index;          /* the pCPU it stands for */
	pthread_t thread;
	pid_t tid;
	timer_t timer;           /* the quantum's deadline: a signal to this thread */
	bool timer_ok;
	uint64_t armed_at;       /* the timer's absolute deadline, UINT64_MAX: disarmed */
	atomic_bool kicked;      /* plat->kick since the last vh_sched_next */
	atomic_bool in_guest;    /* between its kick check and KVM_RUN's return */
	pthread_mutex_t idle_lock; /* idle waits sleep on idle_cond */
	pthread_cond_t idle_cond;
	uint64_t runs, exits;    /* KVM_RUN calls and exits handled (diagnostics) */
	/* Steal time (worker.c), all under the host lock: the thread's CPU
	 * clock, whether the thread runs (live) and holds a vCPU, the wall
	 * and CPU clocks when its steal was last settled, and totals. */
	clockid_t cpu_clock;
	bool live, has_vcpu;
	uint64_t acct_wall, acct_cpu;
	uint64_t with_vcpu_ns, stolen_ns;
};

/* The signal that interrupts KVM_RUN (kicks and quantum timers). */
#define VH_HOSTED_SIG_KICK SIGUSR1

int vh_hosted_workers_start(struct vh_hosted *d, char *why, size_t whylen);
void vh_hosted_workers_stop(struct vh_hosted *d);
/* plat->kick. */
void vh_hosted_worker_kick(struct vh_hosted *d, unsigned pcpu);
/* Host lock held.  Tells the scheduler what Linux took so far from every
 * worker that runs a vCPU (vh_sched_steal), so that its counters and
 * co-scheduling see steal within a tick, not only at quantum ends. */
void vh_hosted_workers_settle_steal(struct vh_hosted *d);

/* ---- exits.c / guest_fault.c ------------------------------------------------------ */

/* What the run loop does after an exit was handled. */
enum vh_hosted_next {
	VH_HOSTED_CONTINUE,  /* re-enter the guest */
	VH_HOSTED_PREEMPT,   /* back to the scheduler: quantum over, kicked, VM stopped */
	VH_HOSTED_HALT,      /* back to the scheduler: HLT (wake_at set) */
	VH_HOSTED_YIELD,     /* back to the scheduler: yield */
};

struct vh_hosted_exit {
	struct vh_hosted_worker *w;
	struct vh_hosted_vcpu *hv;
	struct vh_vcpu *vcpu;
	struct vh_vm *vm;
	uint64_t now;
	uint64_t until;          /* end of the quantum */
	uint64_t wake_at;        /* out: with VH_HOSTED_HALT (0: none) */
};

/* Handles the exit in hv->run; host lock held, the VM running or paused. */
enum vh_hosted_next vh_hosted_handle_exit(struct vh_hosted_exit *x);
/* A KVM_EXIT_MMIO: guest memory that is not mapped yet (or mapped
 * read-only), else a device. */
enum vh_hosted_next vh_hosted_mmio_exit(struct vh_hosted_exit *x);
/* KVM could not emulate an instruction: its page is not mapped (a
 * fetch fault), or it is one this kernel's emulator lacks (emulate.c). */
enum vh_hosted_next vh_hosted_fetch_fault(struct vh_hosted_exit *x);
/* msr.c: routes the guest's RDMSR/WRMSR of every MSR but the TSC and EFER
 * to vh_hosted_msr_exit() (KVM's MSR filter); 0, or -1 with why filled. */
int vh_hosted_msr_filter(int vm_fd, char *why, size_t whylen);
/* KVM_EXIT_X86_RDMSR / WRMSR: checked by vh/msr.h's table; #GP when refused. */
enum vh_hosted_next vh_hosted_msr_exit(struct vh_hosted_exit *x);
/* At power-on or INIT: the MSRs vh keeps per vCPU (VH_MSR_VCPU, stored in
 * KVM) back at their table values. */
void vh_hosted_msr_reset(int vcpu_fd);
/* complete.c: an instruction this host's KVM reported it could not
 * emulate, classified by vh/unemulated.h: completed, or #UD for the
 * guest.  VH_HOSTED_CONTINUE when done, VH_HOSTED_PREEMPT when it stopped
 * the VM (the reason given); *mine false when the table does not know
 * the instruction (the caller faults its memory in and retries). */
struct kvm_regs;
struct kvm_sregs;
enum vh_hosted_next vh_hosted_complete(struct vh_hosted_exit *x, const uint8_t *insn,
				       size_t ninsn, struct kvm_regs *r, struct kvm_sregs *sr,
				       bool *mine);
/* RIP past an instruction of len bytes, wrapping at the code segment's
 * width. */
void vh_hosted_advance_rip(struct kvm_regs *r, const struct kvm_sregs *sr, unsigned len);
/* complete_mem.c: CMPXCHG8B/16B (atomic on the guest's frame), CLFLUSH,
 * CLFLUSHOPT, CLWB; false when vh-hosted cannot go on (the caller stops
 * the VM). */
bool vh_hosted_complete_cmpxchg(struct vh_hosted_exit *x, const struct vh_unem *u,
				struct kvm_regs *r, struct kvm_sregs *sr);
bool vh_hosted_complete_flush(struct vh_hosted_exit *x, const struct vh_unem *u,
			      struct kvm_regs *r, struct kvm_sregs *sr);
struct vh_exc;
/* The linear address of u's memory operand of size bytes after the
 * segment-limit (outside 64-bit mode) or canonical checks; false with
 * *exc (#GP(0), #SS(0) through SS) when they refuse it. */
bool vh_hosted_operand_linear(const struct vh_unem *u, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, unsigned size, bool write, uint64_t *lin,
			      struct vh_exc *exc);
/* complete_xsave.c: XRSTOR of the standard or the compacted format into
 * KVM's XSAVE state. */
bool vh_hosted_complete_xrstor(struct vh_hosted_exit *x, const struct vh_unem *u,
			       struct kvm_regs *r, struct kvm_sregs *sr);
/* emulate.c: completes a protected- or real-mode IRET KVM failed on;
 * false when it is not one vh can complete. */
bool vh_hosted_emulate_iret(struct vh_hosted_exit *x, struct kvm_regs *r, struct kvm_sregs *sr);
/* XGETBV (len bytes) from KVM_GET_XCRS, #UD or #GP as the CPU gives
 * them; false: not completed. */
bool vh_hosted_emulate_xgetbv(struct vh_hosted_exit *x, unsigned len, struct kvm_regs *r,
			      struct kvm_sregs *sr);
/* A KVM segment register as vh/segment.h describes it. */
struct vh_seg;
struct kvm_segment;
void vh_hosted_seg_from_kvm(const struct kvm_segment *k, struct vh_seg *s);
/* Gives the guest exception e (RIP stays where it is; #PF sets CR2);
 * false when KVM refused. */
bool vh_hosted_inject(struct vh_hosted_exit *x, struct kvm_sregs *sr, const struct vh_exc *e);
/* Guest-linear lin to guest-physical through the shared page walk with
 * the rights of cpl and rflags' AC (access: VH_WALK_* bits): 0, 1 with
 * *exc (the guest's #PF), -1 when the tables are not guest memory. */
int vh_hosted_translate(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t rflags,
			unsigned cpl, uint64_t lin, unsigned access, uint64_t *gpa,
			struct vh_exc *exc);
/* Reads len bytes at lin with those rights: 0, 1 with *exc, -1. */
int vh_hosted_read_as(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t rflags,
		      unsigned cpl, uint64_t lin, void *buf, size_t len, struct vh_exc *exc);
/* Reads guest-linear memory through the core, translating with the
 * guest's paging; 0 or -1. */
int vh_hosted_read_linear(struct vh_hosted_exit *x, const struct kvm_sregs *sr, uint64_t lin,
			  void *buf, size_t len);
/* decode.c: the linear addresses of the memory operands of the
 * instruction in b (0, 1 or 2 of them; none when vh_decode refuses it). */
int vh_hosted_decode_operands(const uint8_t *b, size_t len, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, uint64_t lin[2]);
/* The linear address of a decoded memory operand, its offset in its
 * segment and that segment (for the limit check outside 64-bit mode). */
struct kvm_segment;
uint64_t vh_hosted_mem_linear(const struct vh_insn *in, const struct kvm_regs *r,
			      const struct kvm_sregs *sr, uint64_t *offset,
			      const struct kvm_segment **seg);

/* ---- housekeeping.c ----------------------------------------------------------------- */

int vh_hosted_housekeeping_start(struct vh_hosted *d);
void vh_hosted_housekeeping_stop(struct vh_hosted *d);

/* ---- server.c / peer.c --------------------------------------------------------------- */

struct vh_hosted_server;
int vh_hosted_server_start(struct vh_hosted *d, char *why, size_t whylen);
void vh_hosted_server_stop(struct vh_hosted *d);
/* May the peer on this connected unix socket use vh?  root, the daemon's
 * own uid, or a member of group `vh` (gid given; -1: no such group). */
bool vh_hosted_peer_allowed(int fd, long vh_gid, char *who, size_t wholen);
/* The `vh` group's id, or -1. */
long vh_hosted_vh_gid(void);

/* ---- the daemon --------------------------------------------------------------------- */

struct vh_hosted {
	struct vh_hosted_options opt;
	struct vh_platform plat;
	struct vh_host host;
	pthread_mutex_t lock;        /* the host lock */
	atomic_uint lock_waiters;    /* threads blocked in vh_hosted_lock */
	struct vh_hosted_frames frames;
	struct vh_hosted_kvm kvm;
	struct vh_hosted_vm *vms;    /* backend VM states (host lock) */
	struct vh_hosted_worker *workers;
	unsigned nworkers;
	atomic_bool stopping;        /* shutdown: workers and threads leave */
	struct vh_hosted_server *server;
	pthread_t housekeeper;
	bool housekeeper_started;
	pthread_mutex_t hk_lock;
	pthread_cond_t hk_cond;
	atomic_uint_fast64_t overhead_bytes; /* core metadata allocated (plat->alloc) */
	int pub_fd;                  /* the published counters' sealed memfd, or -1 */
	void *pub_area;              /* its read-write mapping, or NULL */
	size_t pub_size;
};

/* pubmem.c: the published counters (vh/stats_pub.h) in a sealed memfd. */
int vh_hosted_pub_start(struct vh_hosted *d, char *why, size_t whylen);
void vh_hosted_pub_stop(struct vh_hosted *d);

/* platform.c */
void vh_hosted_platform_init(struct vh_hosted *d);
uint64_t vh_hosted_now(void);
void vh_hosted_log(struct vh_hosted *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vh_hosted_lock(struct vh_hosted *d);
void vh_hosted_unlock(struct vh_hosted *d);

#endif
