/* SPDX-License-Identifier: Apache-2.0 */
/* Every validation rule of the control protocol, through the real
 * dispatcher: a malformed or out-of-range message gets an error reply
 * naming the field and changes nothing.  Messages are built with the
 * encoder and then broken at the offsets docs/protocol.md documents. */
#include <stdio.h>
#include <string.h>

#include "proto_fixture.h"
#include "vh/proto.h"
#include "vh_test.h"

/* A host with three VMs, one of them running. */
static struct pf *setup(void)
{
	struct pf *f = pf_new();

	pf_define_named(f, "one");
	pf_define_named(f, "two");
	pf_define_named(f, "three");
	pf_ok(f, VH_PROTO_VM_START, 2);
	return f;
}

/* Sends f->req (f->req_len bytes) and expects a refusal with this code,
 * this field and a reason that starts with it, and no change. */
static void expect_refused_raw(struct pf *f, int code, const char *field, uint16_t echo_type,
			       uint64_t echo_id)
{
	struct pf_snap *before = malloc(sizeof(*before));

	VH_ASSERT(before != NULL);
	pf_snap_take(f, before);
	VH_EXPECT_EQ(pf_send_raw(f), code);
	VH_EXPECT_STREQ(f->r.u.error.field, field);
	if (field[0]) {
		VH_EXPECT_EQ(strncmp(f->r.u.error.reason, field, strlen(field)), 0);
		VH_EXPECT_EQ(f->r.u.error.reason[strlen(field)], ':');
	}
	VH_EXPECT_EQ(f->r.hdr.type, echo_type);
	VH_EXPECT_EQ(f->r.hdr.request_id, echo_id);
	PF_EXPECT_UNCHANGED(f, before);
	free(before);
}

/* Encodes rq, lets `poke` break it, expects the refusal. */
#define REFUSED_AFTER(f, rq, code, field, poke)                                       \
	do {                                                                          \
		pf_encode((f), &(rq));                                                \
		poke;                                                                 \
		expect_refused_raw((f), (code), (field), (rq).type, (rq).request_id); \
	} while (0)

/* ---- header ------------------------------------------------------------------- */

VH_TEST(proto_validate, truncated_header)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);
	static const size_t lens[] = { 0, 1, 8, 24, 31 };

	pf_encode(f, &rq);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		f->req_len = lens[i];
		/* Less than a header: nothing to echo. */
		expect_refused_raw(f, VH_E_PROTO, "header", 0, 0);
	}
	pf_free(f);
}

VH_TEST(proto_validate, wrong_magic)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);

	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.magic", f->req[0] = 'v');
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.magic", pf_put32(f->req, 0x56484350u));
	pf_free(f);
}

VH_TEST(proto_validate, unsupported_version)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_STOP, 2);

	REFUSED_AFTER(f, rq, VH_E_VERSION, "header.version", pf_put16(f->req + 4, 0));
	REFUSED_AFTER(f, rq, VH_E_VERSION, "header.version", pf_put16(f->req + 4, 4));
	VH_EXPECT(strstr(f->r.u.error.reason, "1..3") != NULL);
	REFUSED_AFTER(f, rq, VH_E_VERSION, "header.version", pf_put16(f->req + 4, 0xffff));
	pf_free(f);
}

VH_TEST(proto_validate, payload_length_must_match_the_message)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_STOP, 2);

	/* Message shorter or longer than the header says. */
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len", f->req_len -= 1);
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len", f->req_len += 1);
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len", f->req_len = VH_PROTO_HEADER_SIZE);
	/* Header says more than any message may carry. */
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len",
		      pf_put32(f->req + 24, VH_PROTO_MAX_PAYLOAD + 1));
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len", pf_put32(f->req + 24, UINT32_MAX));
	/* Consistent with the message, wrong for the type. */
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len",
		      (pf_put32(f->req + 24, 89), f->req[f->req_len] = 0, f->req_len += 1));
	VH_EXPECT(strstr(f->r.u.error.reason, "vm_stop request has 88") != NULL);
	rq = pf_req(VH_PROTO_HOST_INFO);
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len",
		      (pf_put32(f->req + 24, 8), memset(f->req + 32, 0, 8), f->req_len += 8));
	rq = pf_req(VH_PROTO_VM_DEFINE);
	pf_config(&rq.u.define, "four");
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.payload_len",
		      (pf_put32(f->req + 24, 2967), f->req_len -= 1));
	pf_free(f);
}

VH_TEST(proto_validate, flags_status_and_reserved_must_be_zero)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_STOP, 2);

	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.flags", pf_put32(f->req + 8, VH_PROTO_F_REPLY));
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.flags", pf_put32(f->req + 8, 0x80000000u));
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.status", pf_put32(f->req + 12, VH_E_INVAL));
	REFUSED_AFTER(f, rq, VH_E_PROTO, "header.reserved", f->req[31] = 1);
	pf_free(f);
}

VH_TEST(proto_validate, unknown_message_type)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);
	static const uint16_t types[] = { 0, VH_PROTO_TYPE_COUNT, 100, 0xffff };

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		pf_encode(f, &rq);
		pf_put16(f->req + 6, types[i]);
		/* The reply echoes the type as sent. */
		expect_refused_raw(f, VH_E_PROTO, "header.type", types[i], rq.request_id);
	}
	pf_free(f);
}

/* ---- VM references ------------------------------------------------------------------ */

VH_TEST(proto_validate, vm_reference_rules)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_STOP, 2);
	uint8_t *ref = PF_PAY(f, 0);

	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.kind", pf_put32(ref, 0));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.kind", pf_put32(ref, 4));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.id", pf_put32(ref + 4, 0));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.uuid", ref[8 + 15] = 1);
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.name", ref[24 + 63] = 'x');

	rq = pf_req_name(VH_PROTO_VM_STOP, "two");
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.name", memset(ref + 24, 0, 64)); /* empty */
	VH_EXPECT(strstr(f->r.u.error.reason, "must not be empty") != NULL);
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.name", memset(ref + 24, 'a', 64)); /* no NUL */
	VH_EXPECT(strstr(f->r.u.error.reason, "not NUL-terminated") != NULL);
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.name", ref[24 + 10] = 'z'); /* after the NUL */
	VH_EXPECT(strstr(f->r.u.error.reason, "after the terminating NUL") != NULL);
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.id", pf_put32(ref + 4, 2));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.uuid", ref[8] = 1);

	rq = pf_req(VH_PROTO_VM_STOP);
	rq.vm.kind = VH_PROTO_REF_UUID;
	memcpy(rq.vm.uuid, vh_vm_find_id(&f->h, 2)->cfg.uuid, 16);
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.uuid", memset(ref + 8, 0, 16)); /* nil */
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.id", pf_put32(ref + 4, 2));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.name", ref[24] = 't');
	/* Unbroken, it stops the VM. */
	pf_encode(f, &rq);
	VH_EXPECT_EQ(pf_send_raw(f), VH_OK);
	pf_free(f);
}

VH_TEST(proto_validate, every_vm_addressing_type_checks_its_reference)
{
	struct pf *f = setup();
	static const uint16_t types[] = {
		VH_PROTO_VM_UNDEFINE, VH_PROTO_VM_GET, VH_PROTO_VM_START, VH_PROTO_VM_STOP,
		VH_PROTO_VM_PAUSE, VH_PROTO_VM_RESUME, VH_PROTO_VM_RESET, VH_PROTO_VM_SET_CPU,
		VH_PROTO_VM_SET_MEM, VH_PROTO_VM_SET_BALLOON, VH_PROTO_VM_STATS,
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct vh_proto_request rq = pf_req_name(types[i], "one");
		rq.u.cpu.limit_mhz = VH_UNLIMITED; /* u.mem.limit_mib too */
		REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.kind", pf_put32(PF_PAY(f, 0), 7));
		REFUSED_AFTER(f, rq, VH_E_INVAL, "vm.name", PF_PAY(f, 24)[40] = '!');
	}
	pf_free(f);
}

/* ---- controls ---------------------------------------------------------------------- */

VH_TEST(proto_validate, shares_rules)
{
	struct pf *f = setup();
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_SET_CPU, 1);
	uint8_t *sh = PF_PAY(f, 88); /* cpu.shares / memory.shares */

	rq.u.cpu.limit_mhz = VH_UNLIMITED;
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.shares.level", pf_put32(sh, 4));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.shares.level", pf_put32(sh, UINT32_MAX));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.shares.custom", pf_put32(sh + 4, 1000));
	VH_EXPECT(strstr(f->r.u.error.reason, "must be 0 unless") != NULL);
	rq.u.cpu.shares.level = VH_SHARES_CUSTOM;
	rq.u.cpu.shares.custom = 1;
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.shares.custom", pf_put32(sh + 4, 0));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.shares.custom", pf_put32(sh + 4, 1000001));
	VH_EXPECT(strstr(f->r.u.error.reason, "1000001 outside 1..1000000") != NULL);

	rq = pf_req_id(VH_PROTO_VM_SET_MEM, 1);
	rq.u.mem.limit_mib = VH_UNLIMITED;
	REFUSED_AFTER(f, rq, VH_E_INVAL, "memory.shares.level", pf_put32(sh, 5));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "memory.shares.custom", pf_put32(sh + 4, 1));
	/* The boundaries are accepted. */
	rq.u.mem.shares.level = VH_SHARES_CUSTOM;
	rq.u.mem.shares.custom = 1000000;
	VH_EXPECT_EQ(pf_call(f, &rq), VH_OK);
	rq.u.mem.shares.custom = 1;
	VH_EXPECT_EQ(pf_call(f, &rq), VH_OK);
	pf_free(f);
}

/* ---- VM config -------------------------------------------------------------------- */

static struct vh_proto_request define_req(const char *name)
{
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);

	pf_config(&rq.u.define, name);
	return rq;
}

VH_TEST(proto_validate, config_strings)
{
	struct pf *f = setup();
	struct vh_proto_request rq = define_req("four");

	REFUSED_AFTER(f, rq, VH_E_INVAL, "name", memset(PF_PAY(f, 0), 'n', 64));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "name", PF_PAY(f, 0)[63] = 'n');
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.kernel", memset(PF_PAY(f, 144), 'k', 128));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.kernel", PF_PAY(f, 144)[100] = 'k');
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.cmdline", memset(PF_PAY(f, 272), 'c', 512));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.cmdline", PF_PAY(f, 272)[511] = 'c');
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.modules[1].image",
		      memset(PF_PAY(f, 792 + 256), 'i', 128));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.modules[0].image", memset(PF_PAY(f, 792), 0, 128));
	VH_EXPECT(strstr(f->r.u.error.reason, "must not be empty") != NULL);
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.modules[1].args",
		      PF_PAY(f, 792 + 256 + 128)[127] = 'a');
	/* Strings that fill their field but for the NUL are fine. */
	memset(rq.u.define.boot.cmdline, 'c', VH_BOOT_CMDLINE_MAX - 1);
	rq.u.define.boot.cmdline[VH_BOOT_CMDLINE_MAX - 1] = '\0';
	memset(rq.u.define.name, 'n', VH_VM_NAME_MAX - 1);
	rq.u.define.name[VH_VM_NAME_MAX - 1] = '\0';
	VH_EXPECT_EQ(pf_call(f, &rq), VH_OK);
	pf_free(f);
}

VH_TEST(proto_validate, config_enums)
{
	struct pf *f = setup();
	struct vh_proto_request rq = define_req("four");

	REFUSED_AFTER(f, rq, VH_E_INVAL, "cosched", pf_put32(PF_PAY(f, 84), 3));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cosched", pf_put32(PF_PAY(f, 84), 0x80000000u));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.shares.level", pf_put32(PF_PAY(f, 96), 9));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.shares.custom", pf_put32(PF_PAY(f, 100), 0));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "memory.shares.level", pf_put32(PF_PAY(f, 120), 4));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "memory.shares.custom", pf_put32(PF_PAY(f, 124), 3));
	pf_free(f);
}

VH_TEST(proto_validate, config_counts_and_unused_entries)
{
	struct pf *f = setup();
	struct vh_proto_request rq = define_req("four");

	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.nmodules", pf_put32(PF_PAY(f, 784), 9));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.nmodules", pf_put32(PF_PAY(f, 784), UINT32_MAX));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "ndevices", pf_put32(PF_PAY(f, 788), 17));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "ndevices", pf_put32(PF_PAY(f, 788), 0x10000000u));
	/* Entries past the counts must be zero... */
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.modules[2]", PF_PAY(f, 792 + 2 * 256)[0] = 'm');
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.modules[7]", PF_PAY(f, 792 + 8 * 256 - 1)[0] = 1);
	REFUSED_AFTER(f, rq, VH_E_INVAL, "devices[3]", pf_put32(PF_PAY(f, 2840 + 3 * 8), 1));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "devices[15]", PF_PAY(f, 2968 - 1)[0] = 1);
	/* boot.initrd, boot.kind and the reserved word after them. */
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.initrd", memset(PF_PAY(f, 2968), 'i', 128));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.kind", pf_put32(PF_PAY(f, 3096), 3));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "reserved", pf_put32(PF_PAY(f, 3100), 1));
	/* ...so lowering a count exposes the entry it dropped. */
	REFUSED_AFTER(f, rq, VH_E_INVAL, "boot.modules[1]", pf_put32(PF_PAY(f, 784), 1));
	REFUSED_AFTER(f, rq, VH_E_INVAL, "devices[2]", pf_put32(PF_PAY(f, 788), 2));
	/* Full arrays are fine. */
	rq.u.define.boot.nmodules = VH_BOOT_MAX_MODULES;
	for (int i = 0; i < VH_BOOT_MAX_MODULES; i++)
		snprintf(rq.u.define.boot.modules[i].image, VH_BOOT_PATH_MAX, "mod%d", i);
	VH_EXPECT_EQ(pf_call(f, &rq), VH_OK);
	pf_free(f);
}

/* ---- refusals by the VM API keep the wire's promise too ---------------------------- */

VH_TEST(proto_validate, refused_controls_on_every_state_change_nothing)
{
	struct pf *f = setup();
	struct vh_proto_request rq;

	for (uint32_t id = 1; id <= 3; id++) {
		rq = pf_req_id(VH_PROTO_VM_SET_CPU, id);
		rq.u.cpu.reservation_mhz = 10;
		rq.u.cpu.limit_mhz = 5;
		REFUSED_AFTER(f, rq, VH_E_INVAL, "cpu.reservation_mhz", (void)0);
		rq = pf_req_id(VH_PROTO_VM_SET_MEM, id);
		rq.u.mem.reservation_mib = 17;
		rq.u.mem.limit_mib = VH_UNLIMITED;
		REFUSED_AFTER(f, rq, VH_E_INVAL, "memory.reservation_mib", (void)0);
		rq = pf_req_id(VH_PROTO_VM_SET_BALLOON, id);
		rq.u.balloon_target_mib = UINT64_MAX;
		REFUSED_AFTER(f, rq, VH_E_INVAL, "balloon.target_mib", (void)0);
	}
	pf_free(f);
}

/* ---- random damage ----------------------------------------------------------------- */

#define FUZZ_VMS 3

/* xorshift64: the same damage every run. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A valid request of each type, addressing one of the host's VMs. */
static struct vh_proto_request valid_request(struct pf *f, uint16_t type, uint64_t *seed)
{
	uint32_t ids[FUZZ_VMS], n = 0;
	struct vh_proto_request rq;

	for (uint32_t i = 0; i < f->h.cfg.max_vms && n < FUZZ_VMS; i++) {
		if (f->h.vms[i])
			ids[n++] = f->h.vms[i]->id;
	}
	rq = pf_req_id(type, n ? ids[rnd(seed) % n] : 1);
	switch (type) {
	case VH_PROTO_VM_DEFINE: pf_config(&rq.u.define, "fresh"); break;
	case VH_PROTO_VM_SET_CPU: rq.u.cpu.limit_mhz = VH_UNLIMITED; break;
	case VH_PROTO_VM_SET_MEM: rq.u.mem.limit_mib = VH_UNLIMITED; break;
	case VH_PROTO_VM_SET_BALLOON: rq.u.balloon_target_mib = 2; break;
	case VH_PROTO_VM_LIST:
	case VH_PROTO_VM_STATS_ALL: rq.u.page.max_entries = 2; break;
	default: break;
	}
	return rq;
}

/* Valid messages, most with a few bytes flipped or the length changed:
 * every reply decodes, the lock is released, and every refused request
 * leaves the host exactly as it was. */
VH_TEST(proto_validate, random_damage_never_half_applies)
{
	struct pf *f = setup();
	struct pf_snap *before = malloc(sizeof(*before)), *after = malloc(sizeof(*after));
	uint64_t seed = 0x1234567887654321ull;
	unsigned refused = 0, accepted = 0;

	VH_ASSERT(before && after);
	for (int iter = 0; iter < 4000; iter++) {
		uint16_t type = 1 + (uint16_t)(rnd(&seed) % (VH_PROTO_TYPE_COUNT - 1));
		struct vh_proto_request rq = valid_request(f, type, &seed);
		unsigned flips = (unsigned)(rnd(&seed) % 4); /* 0: as valid as the state allows */

		pf_encode(f, &rq);
		for (unsigned k = 0; k < flips && f->req_len; k++) {
			size_t at = (size_t)(rnd(&seed) % f->req_len);
			switch (rnd(&seed) % 4) {
			case 0: f->req[at] ^= (uint8_t)(1u << (rnd(&seed) % 8)); break;
			case 1: f->req[at] = (uint8_t)rnd(&seed); break;
			case 2: f->req[at] = 0xff; break;
			default: f->req_len = (size_t)(rnd(&seed) % (f->req_len + 16)); break;
			}
		}
		pf_snap_take(f, before);
		if (pf_send_raw(f) == VH_OK) {
			accepted++;
			/* Keep three VMs, and the name "fresh" free. */
			if (f->r.hdr.type == VH_PROTO_VM_DEFINE)
				pf_ok(f, VH_PROTO_VM_UNDEFINE, f->r.u.vm_info.summary.id);
			if (f->h.nvms < FUZZ_VMS) {
				char name[16];
				snprintf(name, sizeof(name), "again%d", iter);
				pf_define_named(f, name);
			}
			continue;
		}
		refused++;
		pf_snap_take(f, after);
		VH_ASSERT_EQ(after->len, before->len);
		if (memcmp(after->bytes, before->bytes, before->len) != 0)
			VH_FAIL("iteration %d: a refused %s (%s) changed the host", iter,
				vh_proto_type_name(type), f->r.u.error.reason);
	}
	/* The damage must actually exercise both outcomes. */
	VH_EXPECT_GT(refused, 2000u);
	VH_EXPECT_GT(accepted, 600u);
	free(before);
	free(after);
	pf_free(f);
}
