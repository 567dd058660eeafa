/* SPDX-License-Identifier: Apache-2.0 */
/* Share values with ESX's presets: CPU shares are per vCPU, memory shares
 * per MiB of configured memory; a custom value is the VM's total. */
#include "vh/error.h"
#include "vh/resource.h"

uint64_t vh_cpu_shares_value(const struct vh_shares *s, unsigned vcpus)
{
	switch (s->level) {
	case VH_SHARES_LOW: return (uint64_t)VH_CPU_SHARES_LOW * vcpus;
	case VH_SHARES_HIGH: return (uint64_t)VH_CPU_SHARES_HIGH * vcpus;
	case VH_SHARES_CUSTOM: return s->custom;
	case VH_SHARES_NORMAL: break;
	}
	return (uint64_t)VH_CPU_SHARES_NORMAL * vcpus;
}

uint64_t vh_mem_shares_value(const struct vh_shares *s, uint64_t memory_mib)
{
	switch (s->level) {
	case VH_SHARES_LOW: return VH_MEM_SHARES_LOW * memory_mib;
	case VH_SHARES_HIGH: return VH_MEM_SHARES_HIGH * memory_mib;
	case VH_SHARES_CUSTOM: return s->custom;
	case VH_SHARES_NORMAL: break;
	}
	return VH_MEM_SHARES_NORMAL * memory_mib;
}

int vh_shares_validate(const struct vh_shares *s, const char *field, struct vh_error *err)
{
	switch (s->level) {
	case VH_SHARES_LOW:
	case VH_SHARES_NORMAL:
	case VH_SHARES_HIGH:
		return VH_OK;
	case VH_SHARES_CUSTOM:
		if (s->custom < VH_SHARES_CUSTOM_MIN || s->custom > VH_SHARES_CUSTOM_MAX)
			return vh_error_set(err, VH_E_INVAL, "%s: custom shares %u outside %u..%u",
					    field, s->custom, VH_SHARES_CUSTOM_MIN,
					    VH_SHARES_CUSTOM_MAX);
		return VH_OK;
	}
	return vh_error_set(err, VH_E_INVAL, "%s: unknown shares level %d", field, (int)s->level);
}
