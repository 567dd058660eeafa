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

#endif
