/* SPDX-License-Identifier: Apache-2.0 */
/* The release string, taken from configure so the kernel banner, the hosted
 * daemon and the agent all report the same version. */
#include "config.h"

#include "vh/version.h"

const char *vh_version(void)
{
	return PACKAGE_VERSION;
}
