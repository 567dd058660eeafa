/* VM-exit handling: one handler per basic exit reason, found in a table
 * (exit_table.c); each returns what the vCPU loop does next. */
#ifndef VH_X86_EXIT_H
#define VH_X86_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vh/stats.h"

struct vh_host;
struct vh_vm;
struct vh_vcpu;
struct vh_vmx_vcpu;

enum vh_exit_action {
	VH_EXIT_RESUME,  /* enter the guest again */
	VH_EXIT_PREEMPT, /* back to the scheduler: the vCPU is still runnable */
	VH_EXIT_YIELD,   /* back to the scheduler: give the rest away */
	VH_EXIT_HALT,    /* back to the scheduler: blocked until wake_at or a wake */
	VH_EXIT_GONE,    /* the VM stopped or crashed: never enter it again */
};

struct vh_exit {
	struct vh_host *h;
	struct vh_vm *vm;
	struct vh_vcpu *vcpu;
	struct vh_vmx_vcpu *vv;
	uint32_t reason;       /* basic exit reason */
	uint64_t qual;         /* exit qualification */
	uint64_t now;
	uint64_t wake_at;      /* with VH_EXIT_HALT: the guest's next timer, 0: none */
	enum vh_exit_kind kind; /* how it is counted; a handler may refine it */
};

typedef enum vh_exit_action (*vh_exit_handler)(struct vh_exit *x);

struct vh_exit_entry {
	vh_exit_handler handler;
	enum vh_exit_kind kind;
	const char *name;
};

/* Indexed by basic exit reason; a NULL handler is an exit vh never asked
 * for: the VM is stopped with the reason named. */
extern const struct vh_exit_entry vh_exit_table[];
extern const unsigned vh_exit_table_len;

extern unsigned long vh_exit_trace_left;

/* Counts, re-queues an event the exit interrupted, and dispatches. */
enum vh_exit_action vh_exit_dispatch(struct vh_exit *x);

/* ---- helpers the handlers share (exit.c) ---- */
uint64_t vh_exit_gpr(struct vh_vmx_vcpu *vv, unsigned index); /* 4 = RSP from the VMCS */
void vh_exit_set_gpr(struct vh_vmx_vcpu *vv, unsigned index, uint64_t v);
/* Moves RIP past the exiting instruction and ends STI/MOV-SS blocking. */
void vh_exit_skip(struct vh_vmx_vcpu *vv);
void vh_exit_inject_exception(struct vh_vmx_vcpu *vv, uint8_t vector, bool has_error,
			      uint32_t error);
#define VH_EXC_UD 6
#define VH_EXC_GP 13
unsigned vh_exit_guest_cpl(void);
bool vh_exit_guest_long_mode(void);
/* CR0 and CR4 as the guest reads them (mask bits from the shadows). */
uint64_t vh_exit_guest_cr0(void);
uint64_t vh_exit_guest_cr4(void);
/* Stops the VM with a reason on the console (host lock taken here). */
enum vh_exit_action vh_exit_crash(struct vh_exit *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Handlers, one file per concern. */
enum vh_exit_action vh_exit_cpuid(struct vh_exit *x);
enum vh_exit_action vh_exit_io(struct vh_exit *x);
enum vh_exit_action vh_exit_rdmsr(struct vh_exit *x);
enum vh_exit_action vh_exit_wrmsr(struct vh_exit *x);
enum vh_exit_action vh_exit_cr(struct vh_exit *x);
enum vh_exit_action vh_exit_dr(struct vh_exit *x);
enum vh_exit_action vh_exit_xsetbv(struct vh_exit *x);
enum vh_exit_action vh_exit_ept_violation(struct vh_exit *x);
enum vh_exit_action vh_exit_ept_misconfig(struct vh_exit *x);
enum vh_exit_action vh_exit_vmcall(struct vh_exit *x);
/* The hypercall itself, shared by VMCALL and the port form (RIP is the
 * caller's to advance). */
enum vh_exit_action vh_exit_hypercall_regs(struct vh_exit *x);
enum vh_exit_action vh_exit_hlt(struct vh_exit *x);
enum vh_exit_action vh_exit_extint(struct vh_exit *x);
enum vh_exit_action vh_exit_preempt_timer(struct vh_exit *x);
enum vh_exit_action vh_exit_triple_fault(struct vh_exit *x);
enum vh_exit_action vh_exit_exception(struct vh_exit *x);
enum vh_exit_action vh_exit_intr_window(struct vh_exit *x);
enum vh_exit_action vh_exit_undefined(struct vh_exit *x);
enum vh_exit_action vh_exit_gp(struct vh_exit *x);
enum vh_exit_action vh_exit_nop(struct vh_exit *x);
enum vh_exit_action vh_exit_ignore(struct vh_exit *x);

#endif
