/* SPDX-License-Identifier: Apache-2.0 */
/* Segment descriptors and their checks (vh/segment.h). */
#include "vh/segment.h"

void vh_seg_decode(uint32_t lo, uint32_t hi, uint16_t selector, struct vh_seg *out)
{
	uint32_t limit = (lo & 0xffffu) | (hi & 0x000f0000u);

	*out = (struct vh_seg){
		.base = (lo >> 16) | ((hi & 0xffu) << 16) | (hi & 0xff000000u),
		.selector = selector,
		.type = (hi >> 8) & 0xfu,
		.s = (hi >> 12) & 1u,
		.dpl = (hi >> 13) & 3u,
		.present = (hi >> 15) & 1u,
		.avl = (hi >> 20) & 1u,
		.l = (hi >> 21) & 1u,
		.db = (hi >> 22) & 1u,
		.g = (hi >> 23) & 1u,
	};
	out->limit = out->g ? (limit << 12) | 0xfffu : limit;
}

void vh_seg_from_vmx(uint16_t selector, uint64_t base, uint32_t limit, uint32_t ar,
		     struct vh_seg *out)
{
	*out = (struct vh_seg){
		.base = base,
		.limit = limit,
		.selector = selector,
		.type = ar & 0xfu,
		.s = (ar >> 4) & 1u,
		.dpl = (ar >> 5) & 3u,
		.present = (ar >> 7) & 1u,
		.avl = (ar >> 12) & 1u,
		.l = (ar >> 13) & 1u,
		.db = (ar >> 14) & 1u,
		.g = (ar >> 15) & 1u,
		.unusable = (ar >> 16) & 1u,
	};
}

bool vh_seg_access_ok(const struct vh_seg *s, uint64_t offset, unsigned size, bool write)
{
	uint64_t last = offset + size - 1;

	if (s->unusable || !s->present || !s->s || size == 0 || last < offset)
		return false;
	if (s->type & VH_SEG_CODE) {
		/* Code is never written through a data access; it is read
		 * only when readable. */
		if (write || !(s->type & VH_SEG_READABLE))
			return false;
		return last <= s->limit;
	}
	if (write && !(s->type & VH_SEG_WRITABLE))
		return false;
	if (s->type & VH_SEG_EXPAND_DN) {
		/* Valid offsets are limit+1 up to 0xffff or 0xffffffff. */
		uint64_t top = s->db ? 0xffffffffull : 0xffffull;
		return offset > s->limit && last <= top;
	}
	return last <= s->limit;
}

int vh_seg_load(const struct vh_seg_tables *t, uint16_t selector, struct vh_seg *out,
		struct vh_exc *exc)
{
	bool ldt = selector & 4u;
	uint32_t limit = ldt ? t->ldt_limit : t->gdt_limit, d[2];
	uint64_t at = (ldt ? t->ldt_base : t->gdt_base) + (selector & ~7u);
	int rc;

	if ((ldt && !t->ldt_usable) || (uint32_t)(selector | 7u) > limit) {
		*exc = (struct vh_exc){ .vector = VH_EXC_GP, .error = selector & 0xfffcu };
		return 1;
	}
	rc = t->read(t->ctx, at, d, sizeof(d), exc);
	if (rc)
		return rc;
	vh_seg_decode(d[0], d[1], selector, out);
	return 0;
}

static bool fail(struct vh_exc *exc, uint8_t vector, uint16_t selector)
{
	*exc = (struct vh_exc){ .vector = vector, .error = selector & 0xfffcu };
	return false;
}

bool vh_iret_check_cs(const struct vh_seg *cs, unsigned cpl, struct vh_exc *exc)
{
	unsigned rpl = cs->selector & 3u;

	if (!cs->s || !(cs->type & VH_SEG_CODE) || rpl < cpl)
		return fail(exc, VH_EXC_GP, cs->selector);
	if ((cs->type & VH_SEG_CONFORMING) ? cs->dpl > rpl : cs->dpl != rpl)
		return fail(exc, VH_EXC_GP, cs->selector);
	if (!cs->present)
		return fail(exc, VH_EXC_NP, cs->selector);
	return true;
}

bool vh_iret_check_ss(const struct vh_seg *ss, unsigned cs_rpl, struct vh_exc *exc)
{
	if ((ss->selector & 3u) != cs_rpl || !ss->s || (ss->type & VH_SEG_CODE) ||
	    !(ss->type & VH_SEG_WRITABLE) || ss->dpl != cs_rpl)
		return fail(exc, VH_EXC_GP, ss->selector);
	if (!ss->present)
		return fail(exc, VH_EXC_SS, ss->selector);
	return true;
}

bool vh_iret_keeps_data_seg(const struct vh_seg *seg, unsigned new_cpl)
{
	bool data_or_nc_code = !(seg->type & VH_SEG_CODE) || !(seg->type & VH_SEG_CONFORMING);

	if ((seg->selector & ~3u) == 0 || seg->unusable)
		return false;
	return !(seg->dpl < new_cpl && data_or_nc_code);
}
