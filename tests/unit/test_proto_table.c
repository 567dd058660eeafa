/* SPDX-License-Identifier: Apache-2.0 */
/* The message table (vh/proto_messages.h, vh_proto_msg()) against what the
 * codec and the dispatcher do with every message: the sizes the codec
 * writes and reads, the VM reference the flag announces, and that a
 * read-only message changes nothing.  A row that disagrees with the code
 * that reads it fails here. */
#include "proto_fixture.h"

static const uint32_t vm_ref_kind_off = offsetof(struct vh_wire_vm_ref, kind);
static const uint32_t vm_ref_id_off = offsetof(struct vh_wire_vm_ref, id);

VH_TEST(proto_table, one_row_per_type)
{
	uint32_t n = 0;

	VH_EXPECT(vh_proto_msg(0) == NULL);
	VH_EXPECT(vh_proto_msg(VH_PROTO_TYPE_COUNT) == NULL);
	VH_EXPECT(vh_proto_msg(0xffff) == NULL);
	VH_EXPECT(!vh_proto_msg_has(0, 0));
	for (uint32_t t = 1; t < VH_PROTO_TYPE_COUNT; t++) {
		const struct vh_proto_msg *m = vh_proto_msg(t);
		VH_ASSERT(m != NULL);
		VH_EXPECT_EQ(m->type, t);
		VH_EXPECT_STREQ(vh_proto_type_name(t), m->name);
		VH_EXPECT(m->request < VH_PROTO_REQ_LAYOUT_COUNT);
		VH_EXPECT(m->reply < VH_PROTO_REPLY_LAYOUT_COUNT);
		VH_EXPECT(vh_proto_msg_has(t, m->flags));
		/* A reply's fixed part always fits the smallest reply buffer. */
		VH_EXPECT_LE(m->reply_size + VH_PROTO_HEADER_SIZE, VH_PROTO_REPLY_MIN);
		n++;
	}
	VH_EXPECT_EQ(n, 18u);
	VH_EXPECT(vh_proto_msg_has(VH_PROTO_VM_STATS, VH_PROTO_RO_CPU));
	VH_EXPECT(!vh_proto_msg_has(VH_PROTO_VM_START, VH_PROTO_MSG_READ_ONLY));
}

/* The encoder writes the request size the table gives, and a VM
 * reference at the start of the payload exactly when the row says the
 * message names a VM. */
VH_TEST(proto_table, request_sizes_and_vm_references)
{
	struct pf *f = pf_new();

	for (uint32_t t = 1; t < VH_PROTO_TYPE_COUNT; t++) {
		const struct vh_proto_msg *m = vh_proto_msg(t);
		struct vh_proto_request rq = pf_req_id((uint16_t)t, 77);
		bool names_vm;
		pf_encode(f, &rq);
		VH_EXPECT_EQ(f->req_len, VH_PROTO_HEADER_SIZE + m->request_size);
		names_vm = m->request_size >= sizeof(struct vh_wire_vm_ref) &&
			   pf_get32(PF_PAY(f, vm_ref_kind_off)) == VH_PROTO_REF_ID &&
			   pf_get32(PF_PAY(f, vm_ref_id_off)) == 77;
		if (names_vm != vh_proto_msg_has(t, VH_PROTO_MSG_VM))
			VH_FAIL("%s: the table says %s a VM, the encoder disagrees", m->name,
				names_vm ? "it does not name" : "it names");
	}
	pf_free(f);
}

/* A valid request of type t for the VM id. */
static struct vh_proto_request request_for(struct pf *f, uint16_t t, uint32_t id)
{
	struct vh_proto_request rq = pf_req_id(t, id);
	struct vh_vm *vm = vh_vm_find_id(&f->h, id);

	switch (vh_proto_msg(t)->request) {
	case VH_PROTO_REQ_VM_CONFIG: pf_config(&rq.u.define, "table-new"); break;
	case VH_PROTO_REQ_SET_CPU: rq.u.cpu = vm->cfg.cpu; break;
	case VH_PROTO_REQ_SET_MEM: rq.u.mem = vm->cfg.mem; break;
	default: break; /* page from the start, balloon 0, console from 0 */
	}
	return rq;
}

/* Every read-only message is answered and changes nothing; every reply
 * has the size its layout row gives; a message that names a VM that does
 * not exist is refused with the reference at fault, and changes nothing. */
VH_TEST(proto_table, flags_hold_in_the_dispatcher)
{
	struct pf *f = pf_new();
	uint32_t id = pf_define_named(f, "table-a");
	struct pf_snap *before = malloc(sizeof(*before));

	VH_ASSERT(before != NULL);
	pf_ok(f, VH_PROTO_VM_START, id);
	for (uint32_t t = 1; t < VH_PROTO_TYPE_COUNT; t++) {
		const struct vh_proto_msg *m = vh_proto_msg(t);
		struct vh_proto_request rq;
		if (vh_proto_msg_has(t, VH_PROTO_MSG_VM)) {
			rq = request_for(f, (uint16_t)t, id);
			rq.vm.id = 999;
			pf_snap_take(f, before);
			VH_EXPECT_EQ(pf_call(f, &rq), VH_E_NOENT);
			VH_EXPECT_STREQ(f->r.u.error.field, "vm.id");
			PF_EXPECT_UNCHANGED(f, before);
		}
		if (!vh_proto_msg_has(t, VH_PROTO_MSG_READ_ONLY))
			continue;
		rq = request_for(f, (uint16_t)t, id);
		pf_snap_take(f, before);
		if (pf_call(f, &rq) != VH_OK)
			VH_FAIL("%s: %s", m->name, f->r.u.error.reason);
		PF_EXPECT_UNCHANGED(f, before);
		VH_EXPECT_EQ(f->r.hdr.payload_len,
			     m->reply_size + f->r.nentries * m->reply_entry_size);
	}
	/* The writes' replies too (every one of them), in an order in which
	 * each succeeds. */
	static const uint16_t writes[] = { VH_PROTO_VM_SET_CPU,     VH_PROTO_VM_SET_MEM,
					   VH_PROTO_VM_SET_BALLOON, VH_PROTO_VM_PAUSE,
					   VH_PROTO_VM_RESUME,      VH_PROTO_VM_RESET,
					   VH_PROTO_VM_STOP,        VH_PROTO_VM_START,
					   VH_PROTO_VM_STOP,        VH_PROTO_VM_UNDEFINE,
					   VH_PROTO_VM_DEFINE };
	for (size_t k = 0; k < sizeof(writes) / sizeof(writes[0]); k++) {
		const struct vh_proto_msg *m = vh_proto_msg(writes[k]);
		struct vh_proto_request rq = request_for(f, writes[k], id);
		if (pf_call(f, &rq) != VH_OK)
			VH_FAIL("%s: %s", m->name, f->r.u.error.reason);
		VH_EXPECT_EQ(f->r.hdr.payload_len,
			     m->reply_size + f->r.nentries * m->reply_entry_size);
	}
	for (uint32_t t = 1; t < VH_PROTO_TYPE_COUNT; t++) {
		bool listed = vh_proto_msg_has(t, VH_PROTO_MSG_READ_ONLY);
		for (size_t k = 0; k < sizeof(writes) / sizeof(writes[0]); k++)
			listed |= writes[k] == t;
		if (!listed)
			VH_FAIL("%s: a write this test does not send", vh_proto_type_name(t));
	}
	free(before);
	pf_free(f);
}
