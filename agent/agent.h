/* SPDX-License-Identifier: Apache-2.0 */
/* vhagent's process-wide state: the modules it opened at start and the
 * settings that SIGHUP may change while requests run.  One agent per
 * process; main.c fills it before any listener starts, so request
 * handlers read the pointers without locks. */
#ifndef VH_AGENT_AGENT_H
#define VH_AGENT_AGENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "agent/auth.h"
#include "agent/config.h"
#include "agent/disks.h"
#include "agent/images.h"
#include "agent/store.h"
#include "vh/version.h"

/* The agent is released with the hypervisor: one version. */
#define VH_AGENT_VERSION vh_version()
/* Mutations of one VM are serialized through one of these locks (chosen
 * by a hash of the VM's uuid), so concurrent PATCHes with the same ETag
 * see each other's result: one wins, the rest get 412. */
#define VH_AGENT_VM_LOCKS 64

struct vh_idem;

struct vh_agent {
	struct vh_agent_config cfg; /* as started (SIGHUP changes only the live atomics) */
	struct vh_store *store;
	struct vh_images *images;
	struct vh_disks *disks; /* the datastore (disks_dir) */
	struct vh_auth *auth;
	struct vh_idem *idem;

	/* Live settings (SIGHUP). */
	_Atomic uint64_t max_body_bytes;
	_Atomic uint64_t max_image_bytes;

	/* Who the unix socket admits as admin without a token: root, the
	 * agent's own user and members of the socket group. */
	bool have_sock_gid;
	gid_t sock_gid;
	uid_t self_uid;

	/* Set once the persisted definitions match the hypervisor's
	 * (reconcile.c), with the hypervisor instance the pass reconciled
	 * (HOST_INFO's): another instance known since (vh_hv_instance: the
	 * hypervisor restarted and may have lost definitions) or none makes
	 * the agent not ready until a pass over the one there now. */
	atomic_bool reconciled;
	_Atomic uint64_t reconciled_instance;

	/* Image deletion takes this for writing, VM definitions that name
	 * images for reading: an image cannot vanish under a define. */
	pthread_rwlock_t image_lock;
	/* Held from the check of a VM's disks (they exist, no other VM
	 * holds them read-write) to its definition, and by a disk's
	 * deletion from its "attached to nobody" check to the unlink. */
	pthread_mutex_t disk_lock;
	pthread_mutex_t vm_locks[VH_AGENT_VM_LOCKS];
	/* VM mutations hold this for reading, a reconcile pass for writing:
	 * a pass that compares the store with the hypervisor must not see a
	 * create or delete half done (it would re-define a VM being
	 * deleted, or persist one being created twice). */
	pthread_rwlock_t reconcile_lock;

	time_t started;
};

extern struct vh_agent *vh_agent;

/* Reconciled with the hypervisor as it is now: /readyz, and the gate
 * of every VM mutation. */
bool vh_agent_ready(void);

/* The lock serializing mutations of the VM with this uuid. */
pthread_mutex_t *vh_agent_vm_lock(const uint8_t uuid[16]);

#endif
