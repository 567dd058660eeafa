/* SPDX-License-Identifier: Apache-2.0 */
#ifndef VH_VERSION_H
#define VH_VERSION_H

/* "vh 0.1.0": the release the build came from (PACKAGE_VERSION). */
const char *vh_version(void);

#endif
