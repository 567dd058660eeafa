/* SPDX-License-Identifier: Apache-2.0 */
/* vh-msg's stats-map command (vh_msg_pub.c). */
#ifndef VH_HOSTED_VH_MSG_PUB_H
#define VH_HOSTED_VH_MSG_PUB_H

#include <stdbool.h>

#include "vh/proto.h"

/* Maps the area fd (the STATS_MAP reply m describes) read-only and prints
 * it; check: every way of writing must be refused.  0, 1 (a check
 * failed) or 2 (unreadable). */
int vh_msg_pub_show(int fd, const struct vh_proto_stats_map *m, bool check);

/* Asks for a VM's counters with VM_STATS `rounds` times (ask: fills the
 * reply, 0 on success), each between two reads of the area: 0 when every
 * CPU time the protocol gives (the VM's and each vCPU's) lies between
 * those two reads give or take quantum_ns, 1 otherwise, 2 unreadable. */
int vh_msg_pub_compare(int fd, const struct vh_proto_stats_map *m,
		       int (*ask)(struct vh_proto_reply *r), uint64_t quantum_ns, unsigned rounds);

#endif
