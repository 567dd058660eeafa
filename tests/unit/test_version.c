/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "vh/version.h"
#include "vh_test.h"

VH_TEST(version, matches_the_configured_release)
{
	VH_EXPECT_STREQ(vh_version(), PACKAGE_VERSION);
}
