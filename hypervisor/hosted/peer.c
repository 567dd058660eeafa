/* SPDX-License-Identifier: Apache-2.0 */
/* Who may use the control socket: root, the daemon's own user, and
 * members of group `vh`.  The socket file's mode (0660, group vh) is the
 * first gate; SO_PEERCRED is checked as well because file permissions do
 * not apply to a descriptor passed on by another process, and because a
 * group may be missing from a host (then only root gets in). */
#define _GNU_SOURCE
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hosted.h"

long vh_hosted_vh_gid(void)
{
	struct group g, *res = NULL;
	char buf[4096];

	if (getgrnam_r("vh", &g, buf, sizeof(buf), &res) || !res)
		return -1;
	return (long)res->gr_gid;
}

/* Is uid/gid a member of group vh (primary or supplementary)? */
static bool in_group(uid_t uid, gid_t gid, gid_t vh)
{
	struct passwd pw, *pres = NULL;
	char buf[4096];
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(groups[0]));

	if (gid == vh)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pres) || !pres)
		return false;
	if (getgrouplist(pres->pw_name, pres->pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++) {
		if (groups[i] == vh)
			return true;
	}
	return false;
}

bool vh_hosted_peer_allowed(int fd, long vh_gid, char *who, size_t wholen)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof(cr)) {
		snprintf(who, wholen, "unknown peer");
		return false;
	}
	snprintf(who, wholen, "pid %ld uid %ld gid %ld", (long)cr.pid, (long)cr.uid, (long)cr.gid);
	if (cr.uid == 0 || cr.uid == geteuid())
		return true;
	return vh_gid >= 0 && in_group(cr.uid, cr.gid, (gid_t)vh_gid);
}
