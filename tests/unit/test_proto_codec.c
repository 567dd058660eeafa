/* SPDX-License-Identifier: Apache-2.0 */
/* The control protocol's codec on its own: bytes at the offsets
 * docs/protocol.md gives, round trips of every request and reply, the
 * canonical encoding, and the client-side reply checks. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto_fixture.h"
#include "vh/proto.h"
#include "vh_test.h"

static uint8_t buf[VH_PROTO_MAX_MSG];

static size_t encode(struct vh_proto_request *rq)
{
	struct vh_error err;
	size_t len = 0;

	if (vh_proto_encode_request(rq, buf, sizeof(buf), &len, &err) != VH_OK)
		VH_FAIL("encode: %s", err.reason);
	return len;
}

static void decode_ok(const void *b, size_t len, struct vh_proto_request *out)
{
	struct vh_error err;

	if (vh_proto_decode_request(b, len, out, &err) != VH_OK)
		VH_FAIL("decode: %s", err.reason);
}

/* Encodes, decodes, re-encodes: the second encoding must be the same
 * bytes (one encoding per message). */
static void round_trip(struct vh_proto_request *rq, struct vh_proto_request *out)
{
	static uint8_t again[VH_PROTO_MAX_MSG];
	size_t len = encode(rq), len2 = 0;
	struct vh_error err;

	decode_ok(buf, len, out);
	VH_EXPECT_EQ(out->type, rq->type);
	VH_EXPECT_EQ(out->request_id, rq->request_id);
	VH_ASSERT_EQ(vh_proto_encode_request(out, again, sizeof(again), &len2, &err), VH_OK);
	VH_ASSERT_EQ(len2, len);
	VH_EXPECT_MEMEQ(again, buf, len);
}

VH_TEST(proto_codec, header_is_little_endian_at_documented_offsets)
{
	struct vh_proto_request rq = pf_req(VH_PROTO_HOST_INFO);
	static const uint8_t want[32] = {
		'V', 'H', 'C', 'P', 3, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		8,   7,   6,   5,   4, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0,
	};

	rq.request_id = 0x0102030405060708ull;
	VH_ASSERT_EQ(encode(&rq), (size_t)32);
	VH_EXPECT_MEMEQ(buf, want, 32);

	rq = pf_req(VH_PROTO_VM_SET_BALLOON);
	rq.vm.kind = VH_PROTO_REF_ID;
	rq.vm.id = 7;
	VH_ASSERT_EQ(encode(&rq), (size_t)(32 + 96));
	VH_EXPECT_EQ(buf[6], 14);
	VH_EXPECT_EQ(pf_get32(buf + 24), 96u);
}

VH_TEST(proto_codec, config_fields_sit_at_documented_offsets)
{
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);
	struct vh_vm_config *c = &rq.u.define;
	const uint8_t *p = buf + VH_PROTO_HEADER_SIZE;

	pf_config(c, "web-1");
	for (int i = 0; i < 16; i++)
		c->uuid[i] = (uint8_t)(0xa0 + i);
	c->vcpus = 0x11223344;
	c->memory_mib = 0x0102030405060708ull;
	c->cpu.reservation_mhz = 0x77;
	c->cpu.limit_mhz = VH_UNLIMITED;
	c->mem.shares.level = VH_SHARES_CUSTOM;
	c->mem.shares.custom = 999;
	c->mem.reservation_mib = 5;
	c->mem.limit_mib = 9;
	c->devices[2].flags = 0x5a;
	c->ndisks = 2;
	strcpy(c->disks[0].name, "web-root");
	strcpy(c->disks[1].name, "shared-iso");
	c->disks[1].flags = VH_DISK_F_READONLY;
	VH_ASSERT_EQ(encode(&rq), (size_t)(32 + 3688));
	VH_EXPECT_STREQ((const char *)p, "web-1");
	VH_EXPECT_EQ(p[64], 0xa0);
	VH_EXPECT_EQ(p[79], 0xaf);
	VH_EXPECT_EQ(pf_get32(p + 80), 0x11223344u);
	VH_EXPECT_EQ(pf_get32(p + 84), (uint32_t)VH_COSCHED_STRICT);
	VH_EXPECT_EQ(pf_get64(p + 88), 0x0102030405060708ull);
	VH_EXPECT_EQ(p[88], 0x08);
	VH_EXPECT_EQ(pf_get32(p + 96), (uint32_t)VH_SHARES_CUSTOM);
	VH_EXPECT_EQ(pf_get32(p + 100), 3000u);
	VH_EXPECT_EQ(pf_get64(p + 104), 0x77ull);
	VH_EXPECT_EQ(pf_get64(p + 112), UINT64_MAX);
	VH_EXPECT_EQ(pf_get32(p + 120), (uint32_t)VH_SHARES_CUSTOM);
	VH_EXPECT_EQ(pf_get32(p + 124), 999u);
	VH_EXPECT_EQ(pf_get64(p + 128), 5ull);
	VH_EXPECT_EQ(pf_get64(p + 136), 9ull);
	VH_EXPECT_STREQ((const char *)p + 144, "linux-6.1");
	VH_EXPECT_STREQ((const char *)p + 272, "console=ttyS0 quiet");
	VH_EXPECT_EQ(pf_get32(p + 784), 2u);
	VH_EXPECT_EQ(pf_get32(p + 788), 3u);
	VH_EXPECT_STREQ((const char *)p + 792, "initrd.img");
	VH_EXPECT_STREQ((const char *)p + 792 + 256, "extra.cpio");
	VH_EXPECT_STREQ((const char *)p + 792 + 256 + 128, "extra=1");
	VH_EXPECT_EQ(pf_get32(p + 2840), (uint32_t)VH_DEV_UART16550);
	VH_EXPECT_EQ(pf_get32(p + 2840 + 16), (uint32_t)VH_DEV_BALLOON);
	VH_EXPECT_EQ(pf_get32(p + 2840 + 20), 0x5au);
	/* Version 3's disks: the count, then 72-byte entries in boot order. */
	VH_EXPECT_EQ(pf_get32(p + 3104), 2u);
	VH_EXPECT_EQ(pf_get32(p + 3108), 0u);
	VH_EXPECT_STREQ((const char *)p + 3112, "web-root");
	VH_EXPECT_EQ(pf_get32(p + 3112 + 64), 0u);
	VH_EXPECT_STREQ((const char *)p + 3112 + 72, "shared-iso");
	VH_EXPECT_EQ(pf_get32(p + 3112 + 72 + 64), VH_DISK_F_READONLY);
	for (size_t i = 3112 + 2 * 72; i < 3688; i++)
		VH_EXPECT_EQ(p[i], 0);
}

/* The disks' wire rules: a count within 8, names NUL-terminated and not
 * empty, zero reserved words, zero entries past the count; each refusal
 * names the field. */
VH_TEST(proto_codec, disk_entries_are_checked_on_the_wire)
{
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE), out;
	uint8_t *p = buf + VH_PROTO_HEADER_SIZE;
	struct vh_error err;
	size_t len;

	pf_config(&rq.u.define, "d");
	rq.u.define.ndisks = 1;
	strcpy(rq.u.define.disks[0].name, "root");
	len = encode(&rq);
	decode_ok(buf, len, &out);
	VH_EXPECT_EQ(out.u.define.ndisks, 1u);
	VH_EXPECT_STREQ(out.u.define.disks[0].name, "root");

	pf_put32(p + 3104, 9);
	VH_EXPECT_EQ(vh_proto_decode_request(buf, len, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "ndisks: ", 8), 0);
	pf_put32(p + 3104, 1);
	p[3112 + 72] = 'x'; /* past the count */
	VH_EXPECT_EQ(vh_proto_decode_request(buf, len, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "disks[1]: ", 10), 0);
	p[3112 + 72] = 0;
	pf_put32(p + 3112 + 68, 1);
	VH_EXPECT_EQ(vh_proto_decode_request(buf, len, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "disks[0].reserved: ", 19), 0);
	pf_put32(p + 3112 + 68, 0);
	pf_put32(p + 3108, 1);
	VH_EXPECT_EQ(vh_proto_decode_request(buf, len, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "reserved2: ", 11), 0);
	pf_put32(p + 3108, 0);
	memset(p + 3112, 'n', 64); /* no NUL */
	VH_EXPECT_EQ(vh_proto_decode_request(buf, len, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "disks[0].name: ", 15), 0);
	memset(p + 3112, 0, 64); /* empty */
	VH_EXPECT_EQ(vh_proto_decode_request(buf, len, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "disks[0].name: ", 15), 0);
}

VH_TEST(proto_codec, every_request_round_trips)
{
	struct vh_proto_request rq, out;

	for (uint16_t t = 1; t < VH_PROTO_TYPE_COUNT; t++) {
		rq = pf_req(t);
		rq.request_id = 0xfeedface00000000ull + t;
		switch (t) {
		case VH_PROTO_VM_DEFINE:
			pf_config(&rq.u.define, "db.primary_2");
			rq.u.define.uuid[3] = 0x42;
			break;
		case VH_PROTO_VM_LIST:
		case VH_PROTO_VM_STATS_ALL:
			rq.u.page.start_id = 17;
			rq.u.page.max_entries = 3;
			break;
		case VH_PROTO_HOST_INFO:
		case VH_PROTO_HOST_STATS:
		case VH_PROTO_STATS_MAP:
			break;
		default: /* addresses a VM: use each kind of reference in turn */
			rq.vm.kind = 1 + t % 3;
			if (rq.vm.kind == VH_PROTO_REF_ID)
				rq.vm.id = 1000u + t;
			else if (rq.vm.kind == VH_PROTO_REF_NAME)
				strcpy(rq.vm.name, "vm-by-name");
			else
				memset(rq.vm.uuid, 0x5c, 16);
			break;
		}
		if (t == VH_PROTO_VM_SET_CPU) {
			rq.u.cpu.shares.level = VH_SHARES_LOW;
			rq.u.cpu.reservation_mhz = 250;
			rq.u.cpu.limit_mhz = 4000;
		} else if (t == VH_PROTO_VM_SET_MEM) {
			rq.u.mem.shares.level = VH_SHARES_CUSTOM;
			rq.u.mem.shares.custom = 1000000;
			rq.u.mem.reservation_mib = 1;
			rq.u.mem.limit_mib = VH_UNLIMITED;
		} else if (t == VH_PROTO_VM_SET_BALLOON) {
			rq.u.balloon_target_mib = 12;
		} else if (t == VH_PROTO_VM_CONSOLE) {
			rq.u.console.from = 0x123456789aull;
			rq.u.console.max_bytes = 77;
		}
		round_trip(&rq, &out);
		VH_EXPECT_EQ(out.vm.kind, rq.vm.kind);
		VH_EXPECT_EQ(out.vm.id, rq.vm.id);
		VH_EXPECT_MEMEQ(out.vm.uuid, rq.vm.uuid, 16);
		VH_EXPECT_STREQ(out.vm.name, rq.vm.name);
		switch (t) {
		case VH_PROTO_VM_DEFINE: {
			const struct vh_vm_config *a = &rq.u.define, *b = &out.u.define;
			VH_EXPECT_STREQ(b->name, a->name);
			VH_EXPECT_MEMEQ(b->uuid, a->uuid, 16);
			VH_EXPECT_EQ(b->vcpus, a->vcpus);
			VH_EXPECT_EQ(b->memory_mib, a->memory_mib);
			VH_EXPECT_EQ((int)b->cpu.shares.level, (int)a->cpu.shares.level);
			VH_EXPECT_EQ(b->cpu.shares.custom, a->cpu.shares.custom);
			VH_EXPECT_EQ(b->cpu.reservation_mhz, a->cpu.reservation_mhz);
			VH_EXPECT_EQ(b->cpu.limit_mhz, a->cpu.limit_mhz);
			VH_EXPECT_EQ((int)b->mem.shares.level, (int)a->mem.shares.level);
			VH_EXPECT_EQ(b->mem.reservation_mib, a->mem.reservation_mib);
			VH_EXPECT_EQ(b->mem.limit_mib, a->mem.limit_mib);
			VH_EXPECT_EQ(b->cosched, a->cosched);
			VH_EXPECT_STREQ(b->boot.kernel, a->boot.kernel);
			VH_EXPECT_STREQ(b->boot.cmdline, a->boot.cmdline);
			VH_EXPECT_EQ(b->boot.nmodules, a->boot.nmodules);
			for (uint32_t i = 0; i < VH_BOOT_MAX_MODULES; i++) {
				VH_EXPECT_STREQ(b->boot.modules[i].image, a->boot.modules[i].image);
				VH_EXPECT_STREQ(b->boot.modules[i].args, a->boot.modules[i].args);
			}
			VH_EXPECT_EQ(b->ndevices, a->ndevices);
			for (uint32_t i = 0; i < VH_VM_MAX_DEVICES; i++) {
				VH_EXPECT_EQ(b->devices[i].type, a->devices[i].type);
				VH_EXPECT_EQ(b->devices[i].flags, a->devices[i].flags);
			}
			break;
		}
		case VH_PROTO_VM_LIST:
		case VH_PROTO_VM_STATS_ALL:
			VH_EXPECT_EQ(out.u.page.start_id, 17u);
			VH_EXPECT_EQ(out.u.page.max_entries, 3u);
			break;
		case VH_PROTO_VM_SET_CPU:
			VH_EXPECT_EQ((int)out.u.cpu.shares.level, VH_SHARES_LOW);
			VH_EXPECT_EQ(out.u.cpu.reservation_mhz, 250ull);
			VH_EXPECT_EQ(out.u.cpu.limit_mhz, 4000ull);
			break;
		case VH_PROTO_VM_SET_MEM:
			VH_EXPECT_EQ((int)out.u.mem.shares.level, VH_SHARES_CUSTOM);
			VH_EXPECT_EQ(out.u.mem.shares.custom, 1000000u);
			VH_EXPECT_EQ(out.u.mem.reservation_mib, 1ull);
			VH_EXPECT_EQ(out.u.mem.limit_mib, VH_UNLIMITED);
			break;
		case VH_PROTO_VM_SET_BALLOON:
			VH_EXPECT_EQ(out.u.balloon_target_mib, 12ull);
			break;
		case VH_PROTO_VM_CONSOLE:
			VH_EXPECT_EQ(out.u.console.from, 0x123456789aull);
			VH_EXPECT_EQ(out.u.console.max_bytes, 77u);
			break;
		default:
			break;
		}
	}
}

VH_TEST(proto_codec, encoder_writes_unused_fields_as_zero)
{
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_SET_CPU, 9), out;
	const uint8_t *p = buf + VH_PROTO_HEADER_SIZE;
	size_t len;

	/* Leftovers a client might carry in fields this request does not use. */
	strcpy(rq.vm.name, "stale");
	memset(rq.vm.uuid, 0xee, 16);
	rq.u.cpu.shares.level = VH_SHARES_HIGH;
	rq.u.cpu.shares.custom = 777;
	len = encode(&rq);
	for (size_t i = 8; i < 88; i++)
		VH_EXPECT_EQ(p[i], 0);
	VH_EXPECT_EQ(pf_get32(p + 88 + 4), 0u);
	decode_ok(buf, len, &out);
	VH_EXPECT_EQ(out.u.cpu.shares.custom, 0u);

	rq = pf_req(VH_PROTO_VM_DEFINE);
	pf_config(&rq.u.define, "a");
	rq.u.define.boot.nmodules = 1;
	rq.u.define.ndevices = 1;
	len = encode(&rq);
	for (size_t i = 792 + 256; i < 2840; i++)
		VH_EXPECT_EQ(p[i], 0);
	for (size_t i = 2840 + 8; i < 2968; i++)
		VH_EXPECT_EQ(p[i], 0);
	for (size_t i = 3104; i < 3688; i++) /* no disks: count and entries zero */
		VH_EXPECT_EQ(p[i], 0);
	decode_ok(buf, len, &out);
	VH_EXPECT_EQ(out.u.define.boot.modules[1].image[0], '\0');
	VH_EXPECT_EQ(out.u.define.devices[1].type, 0u);
}

VH_TEST(proto_codec, encoder_passes_values_through_for_the_peer_to_judge)
{
	struct vh_proto_request rq = pf_req(VH_PROTO_VM_DEFINE);
	const uint8_t *p = buf + VH_PROTO_HEADER_SIZE;
	struct vh_error err;

	pf_config(&rq.u.define, "x");
	rq.u.define.boot.nmodules = 40;
	rq.u.define.cosched = (enum vh_cosched_mode)9;
	memset(rq.u.define.name, 'n', sizeof(rq.u.define.name)); /* no NUL */
	encode(&rq);
	VH_EXPECT_EQ(pf_get32(p + 784), 40u);
	VH_EXPECT_EQ(pf_get32(p + 84), 9u);
	VH_EXPECT_EQ(p[63], 'n');
	/* ...and the decoder refuses them, naming the first at fault. */
	struct vh_proto_request out;
	VH_EXPECT_EQ(vh_proto_decode_request(buf, 32 + 3688, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "name: ", 6), 0);
}

VH_TEST(proto_codec, encoder_refuses_unknown_types_and_short_buffers)
{
	struct vh_proto_request rq = pf_req(0);
	struct vh_error err;
	size_t len = 99;

	VH_EXPECT_EQ(vh_proto_encode_request(&rq, buf, sizeof(buf), &len, &err), VH_E_INVAL);
	VH_EXPECT_EQ(len, (size_t)0);
	rq.type = VH_PROTO_TYPE_COUNT;
	VH_EXPECT_EQ(vh_proto_encode_request(&rq, buf, sizeof(buf), &len, &err), VH_E_INVAL);
	rq = pf_req_id(VH_PROTO_VM_GET, 1);
	VH_EXPECT_EQ(vh_proto_encode_request(&rq, buf, 32 + 87, &len, &err), VH_E_LIMIT);
	VH_EXPECT_EQ(vh_proto_encode_request(&rq, buf, 32 + 88, &len, &err), VH_OK);
	VH_EXPECT_EQ(len, (size_t)(32 + 88));
}

VH_TEST(proto_codec, decoder_keeps_type_and_id_of_a_refused_request)
{
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_START, 3), out;
	struct vh_error err;
	size_t len;

	rq.request_id = 0xabcdef;
	len = encode(&rq);
	buf[VH_PROTO_HEADER_SIZE] = 9; /* vm.kind */
	VH_EXPECT_EQ(vh_proto_decode_request(buf, len, &out, &err), VH_E_INVAL);
	VH_EXPECT_EQ(out.type, VH_PROTO_VM_START);
	VH_EXPECT_EQ(out.request_id, 0xabcdefull);
	VH_EXPECT_EQ(vh_proto_decode_request(buf, 31, &out, &err), VH_E_PROTO);
	VH_EXPECT_EQ(out.type, 0);
	VH_EXPECT_EQ(out.request_id, 0ull);
}

VH_TEST(proto_codec, frame_len_tells_a_stream_transport_what_to_read)
{
	struct vh_proto_request rq = pf_req_id(VH_PROTO_VM_STATS, 1);
	struct vh_error err;
	size_t len = encode(&rq), total = 0;

	VH_EXPECT_EQ(vh_proto_frame_len(buf, 0, &total, &err), VH_OK);
	VH_EXPECT_EQ(total, (size_t)32);
	VH_EXPECT_EQ(vh_proto_frame_len(buf, 31, &total, &err), VH_OK);
	VH_EXPECT_EQ(total, (size_t)32);
	VH_EXPECT_EQ(vh_proto_frame_len(buf, 32, &total, &err), VH_OK);
	VH_EXPECT_EQ(total, len);
	pf_put32(buf + 24, VH_PROTO_MAX_PAYLOAD + 1);
	VH_EXPECT_EQ(vh_proto_frame_len(buf, 32, &total, &err), VH_E_PROTO);
	VH_EXPECT_EQ(strncmp(err.reason, "header.payload_len: ", 20), 0);
	buf[0] = 'X';
	VH_EXPECT_EQ(vh_proto_frame_len(buf, 32, &total, &err), VH_E_PROTO);
	VH_EXPECT_EQ(strncmp(err.reason, "header.magic: ", 14), 0);
}

VH_TEST(proto_codec, type_names)
{
	VH_EXPECT_STREQ(vh_proto_type_name(VH_PROTO_HOST_INFO), "host_info");
	VH_EXPECT_STREQ(vh_proto_type_name(VH_PROTO_VM_SET_BALLOON), "vm_set_balloon");
	VH_EXPECT_STREQ(vh_proto_type_name(VH_PROTO_VM_STATS_ALL), "vm_stats_all");
	VH_EXPECT_STREQ(vh_proto_type_name(VH_PROTO_VM_CONSOLE), "vm_console");
	VH_EXPECT_STREQ(vh_proto_type_name(0), "unknown");
	VH_EXPECT_STREQ(vh_proto_type_name(VH_PROTO_TYPE_COUNT), "unknown");
	for (uint32_t t = 1; t < VH_PROTO_TYPE_COUNT; t++)
		VH_EXPECT(strcmp(vh_proto_type_name(t), "unknown") != 0);
}

/* ---- replies ----------------------------------------------------------------- */

/* A reply header for a payload of n bytes at buf + 32. */
static size_t reply_frame(uint16_t type, uint32_t status, size_t n)
{
	struct vh_proto_header h = {
		.magic = VH_PROTO_MAGIC,
		.version = VH_PROTO_VERSION,
		.type = type,
		.flags = VH_PROTO_F_REPLY,
		.status = status,
		.request_id = 77,
		.payload_len = (uint32_t)n,
	};

	vh_proto_put_header(buf, &h);
	return VH_PROTO_HEADER_SIZE + n;
}

static void decode_reply_ok(size_t len, struct vh_proto_reply *r)
{
	struct vh_error err;

	if (vh_proto_decode_reply(buf, len, r, &err) != VH_OK)
		VH_FAIL("decode_reply: %s", err.reason);
	VH_EXPECT_EQ(r->hdr.request_id, 77ull);
}

static void sample_summary(struct vh_proto_vm_summary *s, uint32_t id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->state = VH_VM_PAUSED;
	memset(s->uuid, (int)id, 16);
	snprintf(s->name, sizeof(s->name), "vm-%u", id);
	s->vcpus = 4;
	s->cosched = VH_COSCHED_NONE;
	s->memory_mib = 1024;
	s->cpu.shares.level = VH_SHARES_CUSTOM;
	s->cpu.shares.custom = 12345;
	s->cpu.reservation_mhz = 10;
	s->cpu.limit_mhz = VH_UNLIMITED;
	s->mem.shares.level = VH_SHARES_LOW;
	s->mem.reservation_mib = 20;
	s->mem.limit_mib = 900;
	s->balloon_request_pages = 256;
	s->balloon_target_pages = 300;
	s->state_changes = 5;
	s->boot_generation = 3;
}

static void expect_summary_eq(const struct vh_proto_vm_summary *a,
			      const struct vh_proto_vm_summary *b)
{
	VH_EXPECT_EQ(a->id, b->id);
	VH_EXPECT_EQ(a->state, b->state);
	VH_EXPECT_MEMEQ(a->uuid, b->uuid, 16);
	VH_EXPECT_STREQ(a->name, b->name);
	VH_EXPECT_EQ(a->vcpus, b->vcpus);
	VH_EXPECT_EQ(a->cosched, b->cosched);
	VH_EXPECT_EQ(a->memory_mib, b->memory_mib);
	VH_EXPECT_EQ((int)a->cpu.shares.level, (int)b->cpu.shares.level);
	VH_EXPECT_EQ(a->cpu.shares.custom, b->cpu.shares.custom);
	VH_EXPECT_EQ(a->cpu.reservation_mhz, b->cpu.reservation_mhz);
	VH_EXPECT_EQ(a->cpu.limit_mhz, b->cpu.limit_mhz);
	VH_EXPECT_EQ((int)a->mem.shares.level, (int)b->mem.shares.level);
	VH_EXPECT_EQ(a->mem.reservation_mib, b->mem.reservation_mib);
	VH_EXPECT_EQ(a->mem.limit_mib, b->mem.limit_mib);
	VH_EXPECT_EQ(a->balloon_request_pages, b->balloon_request_pages);
	VH_EXPECT_EQ(a->balloon_target_pages, b->balloon_target_pages);
	VH_EXPECT_EQ(a->state_changes, b->state_changes);
	VH_EXPECT_EQ(a->boot_generation, b->boot_generation);
}

static void sample_vm_stats(struct vh_proto_vm_stats *s, uint32_t id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->state = VH_VM_RUNNING;
	s->cpu = (struct vh_cpu_stats){ 1ull << 40, 2, 3, 4, 5, 13, 18 };
	s->mem = (struct vh_mem_stats){ 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, VH_BALLOON_RECLAIM };
	for (uint32_t i = 0; i < VH_PROTO_EXIT_SLOTS; i++)
		s->exits[i] = 100 + i + id;
	s->console_bytes = (1ull << 33) + id;
	s->console_dropped = (1ull << 32) + id;
	s->admission_refusals = 17 + id;
}

static void expect_vm_stats_eq(const struct vh_proto_vm_stats *a, const struct vh_proto_vm_stats *b)
{
	VH_EXPECT_EQ(a->id, b->id);
	VH_EXPECT_EQ(a->state, b->state);
	VH_EXPECT_MEMEQ(&a->cpu, &b->cpu, sizeof(a->cpu));
	VH_EXPECT_MEMEQ(&a->mem, &b->mem, sizeof(a->mem));
	VH_EXPECT_MEMEQ(a->exits, b->exits, sizeof(a->exits));
	VH_EXPECT_EQ(a->console_bytes, b->console_bytes);
	VH_EXPECT_EQ(a->console_dropped, b->console_dropped);
	VH_EXPECT_EQ(a->admission_refusals, b->admission_refusals);
}

VH_TEST(proto_codec, error_reply_round_trips)
{
	struct vh_proto_error e = { .code = VH_E_ADMISSION };
	struct vh_proto_reply r;

	strcpy(e.field, "cpu.reservation_mhz");
	strcpy(e.reason, "cpu.reservation_mhz: short by 5 MHz");
	vh_proto_put_error(buf + 32, &e);
	decode_reply_ok(reply_frame(VH_PROTO_VM_START, VH_E_ADMISSION, 232), &r);
	VH_EXPECT_EQ(r.hdr.status, (uint32_t)VH_E_ADMISSION);
	VH_EXPECT_EQ(r.u.error.code, (uint32_t)VH_E_ADMISSION);
	VH_EXPECT_STREQ(r.u.error.field, e.field);
	VH_EXPECT_STREQ(r.u.error.reason, e.reason);
	/* The error payload's layout. */
	VH_EXPECT_EQ(pf_get32(buf + 32), (uint32_t)VH_E_ADMISSION);
	VH_EXPECT_STREQ((const char *)buf + 32 + 8, e.field);
	VH_EXPECT_STREQ((const char *)buf + 32 + 72, e.reason);
}

VH_TEST(proto_codec, host_replies_round_trip)
{
	struct vh_proto_host_info hi = {
		.version_min = 1, .version_max = 1, .page_size = 4096, .pcpus = 3,
		.mhz_per_pcpu = 2400, .memory_bytes = 1ull << 34, .overhead_bytes = 1ull << 28,
		.cpu_capacity_mhz = 7200, .mem_capacity_mib = 16128, .max_vms = 1024, .nvms = 2,
		.max_vcpus = 64, .max_modules = 8, .max_devices = 16, .max_msg = 65536,
		.max_memory_mib = 1ull << 20, .instance = 0x0123456789abcdefull,
	};
	struct vh_proto_host_stats hs = {
		.now_ns = 123456789, .pcpus = 3, .nvms = 2, .npowered_on = 1,
		.reserved_mhz = 500, .reserved_mib = 64, .cpu_capacity_mhz = 7200,
		.mem_capacity_mib = 16128, .busy_ns = 10, .idle_ns = 20,
		.mem = { .total = 1000, .free = 900, .reserved = 50, .shared_saved = 7 },
	};
	struct vh_proto_reply r;
	struct vh_pcpu_stats ps;

	strcpy(hi.vh_version, "vh 9.8.7");
	vh_proto_put_host_info(buf + 32, &hi, VH_PROTO_VERSION);
	decode_reply_ok(reply_frame(VH_PROTO_HOST_INFO, 0, 120), &r);
	VH_EXPECT_EQ(r.u.host_info.instance, 0x0123456789abcdefull);
	VH_EXPECT_EQ(buf[32 + 112], 0xef); /* little-endian at offset 112 */
	VH_EXPECT_EQ(buf[32 + 119], 0x01);
	VH_EXPECT_STREQ(r.u.host_info.vh_version, "vh 9.8.7");
	VH_EXPECT_EQ(r.u.host_info.pcpus, 3u);
	VH_EXPECT_EQ(r.u.host_info.mhz_per_pcpu, 2400u);
	VH_EXPECT_EQ(r.u.host_info.memory_bytes, 1ull << 34);
	VH_EXPECT_EQ(r.u.host_info.overhead_bytes, 1ull << 28);
	VH_EXPECT_EQ(r.u.host_info.cpu_capacity_mhz, 7200ull);
	VH_EXPECT_EQ(r.u.host_info.mem_capacity_mib, 16128ull);
	VH_EXPECT_EQ(r.u.host_info.max_vms, 1024u);
	VH_EXPECT_EQ(r.u.host_info.nvms, 2u);
	VH_EXPECT_EQ(r.u.host_info.max_vcpus, 64u);
	VH_EXPECT_EQ(r.u.host_info.max_modules, 8u);
	VH_EXPECT_EQ(r.u.host_info.max_devices, 16u);
	VH_EXPECT_EQ(r.u.host_info.max_msg, 65536u);
	VH_EXPECT_EQ(r.u.host_info.max_memory_mib, 1ull << 20);
	VH_EXPECT_EQ(r.u.host_info.page_size, 4096u);
	VH_EXPECT_EQ(r.u.host_info.version_min, 1);
	VH_EXPECT_EQ(r.u.host_info.version_max, 1);
	{
		/* Versions 1 and 2 end before instance: 112 bytes decode with
		 * instance 0; 112 bytes of a version-3 reply are short. */
		struct vh_error err;
		size_t len = reply_frame(VH_PROTO_HOST_INFO, 0, 112);

		VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
		buf[4] = 2;
		decode_reply_ok(len, &r);
		VH_EXPECT_EQ(r.u.host_info.instance, 0ull);
		VH_EXPECT_EQ(r.u.host_info.pcpus, 3u);
		len = reply_frame(VH_PROTO_HOST_INFO, 0, 120);
		buf[4] = 2;
		VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	}

	vh_proto_put_host_stats(buf + 32, &hs);
	for (uint32_t i = 0; i < 3; i++) {
		ps.busy_ns = 1000 + i;
		ps.idle_ns = 2000 + i;
		vh_proto_put_pcpu_stats(buf + 32 + 104 + 16 * i, &ps);
	}
	decode_reply_ok(reply_frame(VH_PROTO_HOST_STATS, 0, 104 + 3 * 16), &r);
	VH_EXPECT_MEMEQ(&r.u.host_stats.mem, &hs.mem, sizeof(hs.mem));
	VH_EXPECT_EQ(r.u.host_stats.now_ns, 123456789ull);
	VH_EXPECT_EQ(r.u.host_stats.npowered_on, 1u);
	VH_EXPECT_EQ(r.u.host_stats.reserved_mhz, 500ull);
	VH_EXPECT_EQ(r.u.host_stats.reserved_mib, 64ull);
	VH_EXPECT_EQ(r.u.host_stats.busy_ns, 10ull);
	VH_EXPECT_EQ(r.u.host_stats.idle_ns, 20ull);
	VH_ASSERT_EQ(r.nentries, 3u);
	for (uint32_t i = 0; i < 3; i++) {
		VH_ASSERT_EQ(vh_proto_reply_pcpu(&r, i, &ps), VH_OK);
		VH_EXPECT_EQ(ps.busy_ns, 1000ull + i);
		VH_EXPECT_EQ(ps.idle_ns, 2000ull + i);
	}
	VH_EXPECT_EQ(vh_proto_reply_pcpu(&r, 3, &ps), VH_E_INVAL);
	/* A pCPU count that disagrees with the length is a malformed reply. */
	struct vh_error err;
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, reply_frame(VH_PROTO_HOST_STATS, 0, 104 + 2 * 16),
					   &r, &err), VH_E_PROTO);
}

VH_TEST(proto_codec, vm_replies_round_trip)
{
	struct vh_proto_vm_summary s, got;
	struct vh_proto_vm_stats st, gst;
	struct vh_proto_vcpu_stats vs;
	struct vh_vm_config cfg;
	struct vh_proto_reply r;

	/* vm_info: summary then config. */
	sample_summary(&s, 4);
	pf_config(&cfg, "vm-4");
	vh_proto_put_vm_summary(buf + 32, &s);
	vh_proto_put_vm_config(buf + 32 + 184, &cfg);
	decode_reply_ok(reply_frame(VH_PROTO_VM_GET, 0, 4000), &r);
	expect_summary_eq(&r.u.vm_info.summary, &s);
	VH_EXPECT_STREQ(r.u.vm_info.config.boot.modules[1].args, "extra=1");
	VH_EXPECT_EQ(r.u.vm_info.config.ndevices, 3u);

	/* The summary alone (lifecycle and set-* replies). */
	vh_proto_put_vm_summary(buf + 32, &s);
	decode_reply_ok(reply_frame(VH_PROTO_VM_SET_MEM, 0, 184), &r);
	expect_summary_eq(&r.u.vm, &s);

	/* VM_STATS: fixed part, then the vCPUs. */
	sample_vm_stats(&st, 4);
	vh_proto_put_vm_stats_reply(buf + 32, 555, 2, &st, VH_PROTO_VERSION);
	for (uint32_t i = 0; i < 2; i++) {
		vs.index = i;
		vs.cpu = (struct vh_cpu_stats){ 10 * i,     20 * i, 30 * i, 40 * i,
						50 * i + 1, 60 * i, 70 * i };
		vh_proto_put_vcpu_stats(buf + 32 + 312 + 64 * i, &vs, VH_PROTO_VERSION);
	}
	decode_reply_ok(reply_frame(VH_PROTO_VM_STATS, 0, 312 + 2 * 64), &r);
	VH_EXPECT_EQ(r.u.vm_stats.now_ns, 555ull);
	expect_vm_stats_eq(&r.u.vm_stats.vm, &st);
	VH_ASSERT_EQ(r.nentries, 2u);
	VH_ASSERT_EQ(vh_proto_reply_vcpu(&r, 1, &vs), VH_OK);
	VH_EXPECT_EQ(vs.index, 1u);
	VH_EXPECT_EQ(vs.cpu.costop_ns, 30ull);
	VH_EXPECT_EQ(vs.cpu.runs, 51ull);
	VH_EXPECT_EQ(vs.cpu.limited_ns, 60ull);
	VH_EXPECT_EQ(vs.cpu.stolen_ns, 70ull);
	VH_EXPECT_EQ(vh_proto_reply_vcpu(&r, 2, &vs), VH_E_INVAL);
	VH_EXPECT_EQ(vh_proto_reply_vm_summary(&r, 0, &got), VH_E_INVAL);

	/* Pages of summaries and of stats. */
	struct vh_proto_page_reply pg = { .total = 9, .count = 2, .next_id = 6, .now_ns = 1 };
	vh_proto_put_page_reply(buf + 32, &pg);
	for (uint32_t i = 0; i < 2; i++) {
		sample_summary(&s, 4 + i);
		vh_proto_put_vm_summary(buf + 32 + 24 + 184 * i, &s);
	}
	decode_reply_ok(reply_frame(VH_PROTO_VM_LIST, 0, 24 + 2 * 184), &r);
	VH_EXPECT_EQ(r.u.page.total, 9u);
	VH_EXPECT_EQ(r.u.page.count, 2u);
	VH_EXPECT_EQ(r.u.page.next_id, 6u);
	VH_ASSERT_EQ(vh_proto_reply_vm_summary(&r, 1, &got), VH_OK);
	expect_summary_eq(&got, &s);
	VH_EXPECT_EQ(vh_proto_reply_vm_stats(&r, 0, &gst), VH_E_INVAL);

	vh_proto_put_page_reply(buf + 32, &pg);
	for (uint32_t i = 0; i < 2; i++) {
		sample_vm_stats(&st, 4 + i);
		vh_proto_put_vm_stats(buf + 32 + 24 + 296 * i, &st, VH_PROTO_VERSION);
	}
	decode_reply_ok(reply_frame(VH_PROTO_VM_STATS_ALL, 0, 24 + 2 * 296), &r);
	VH_ASSERT_EQ(vh_proto_reply_vm_stats(&r, 1, &gst), VH_OK);
	expect_vm_stats_eq(&gst, &st);
	VH_EXPECT_EQ(vh_proto_reply_vm_stats(&r, 2, &gst), VH_E_INVAL);

	/* VM_UNDEFINE replies carry nothing. */
	decode_reply_ok(reply_frame(VH_PROTO_VM_UNDEFINE, 0, 0), &r);
	VH_EXPECT_EQ(r.nentries, 0u);
}

/* Version 1 stats replies keep version 1's sizes: no limited time and no
 * balloon terms, which read as zero. */
VH_TEST(proto_codec, version1_stats_replies_keep_their_layout)
{
	struct vh_proto_vm_stats st, gst, want;
	struct vh_proto_vcpu_stats vs = {
		.index = 0, .cpu = { .used_ns = 9, .limited_ns = 8, .stolen_ns = 7 }
	};
	struct vh_proto_page_reply pg = { .total = 1, .count = 1 };
	struct vh_proto_reply r;
	struct vh_error err;
	size_t len;

	sample_vm_stats(&st, 3);
	want = st;
	want.cpu.limited_ns = want.cpu.stolen_ns = 0;
	want.mem.entitled = want.mem.reclaim_target = want.mem.idle_tax = 0;
	want.mem.balloon_reason = 0;
	want.admission_refusals = 0;
	memset(buf, 0xee, sizeof(buf));
	vh_proto_put_vm_stats_reply(buf + 32, 1, 1, &st, 1);
	vh_proto_put_vcpu_stats(buf + 32 + 264, &vs, 1);
	len = reply_frame(VH_PROTO_VM_STATS, 0, 264 + 48);
	pf_put16(buf + 4, 1);
	decode_reply_ok(len, &r);
	expect_vm_stats_eq(&r.u.vm_stats.vm, &want);
	VH_ASSERT_EQ(vh_proto_reply_vcpu(&r, 0, &vs), VH_OK);
	VH_EXPECT_EQ(vs.cpu.used_ns, 9ull);
	VH_EXPECT_EQ(vs.cpu.limited_ns, 0ull);
	VH_EXPECT_EQ(vs.cpu.stolen_ns, 0ull);
	/* Nothing written past version 1's end. */
	VH_EXPECT_EQ(buf[32 + 264 + 48], (uint8_t)0xee);

	vh_proto_put_page_reply(buf + 32, &pg);
	vh_proto_put_vm_stats(buf + 32 + 24, &st, 1);
	len = reply_frame(VH_PROTO_VM_STATS_ALL, 0, 24 + 248);
	pf_put16(buf + 4, 1);
	decode_reply_ok(len, &r);
	VH_ASSERT_EQ(vh_proto_reply_vm_stats(&r, 0, &gst), VH_OK);
	expect_vm_stats_eq(&gst, &want);
	/* A version-2 length is wrong for a version-1 reply. */
	len = reply_frame(VH_PROTO_VM_STATS_ALL, 0, 24 + 296);
	pf_put16(buf + 4, 1);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
}

VH_TEST(proto_codec, client_refuses_malformed_replies)
{
	struct vh_proto_error e = { .code = VH_E_NOENT };
	struct vh_proto_vm_summary s;
	struct vh_proto_reply r;
	struct vh_error err;
	size_t len;

	strcpy(e.reason, "vm.id: no VM with id 3");
	vh_proto_put_error(buf + 32, &e);
	len = reply_frame(VH_PROTO_VM_GET, VH_E_NOENT, 232);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_OK);
	/* A request (no reply flag) is not a reply. */
	pf_put32(buf + 8, 0);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	VH_EXPECT_EQ(strncmp(err.reason, "header.flags: ", 14), 0);
	/* The code must repeat the header's status. */
	len = reply_frame(VH_PROTO_VM_GET, VH_E_STATE, 232);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	VH_EXPECT_EQ(strncmp(err.reason, "error.code: ", 12), 0);
	/* An unterminated reason. */
	len = reply_frame(VH_PROTO_VM_GET, VH_E_NOENT, 232);
	memset(buf + 32 + 72, 'x', VH_ERROR_REASON_MAX);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_INVAL);
	VH_EXPECT_EQ(strncmp(err.reason, "error.reason: ", 14), 0);
	/* Wrong lengths for the type. */
	sample_summary(&s, 1);
	vh_proto_put_vm_summary(buf + 32, &s);
	len = reply_frame(VH_PROTO_VM_START, 0, 183);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	len = reply_frame(VH_PROTO_VM_UNDEFINE, 0, 8);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	/* A success for an unknown type. */
	len = reply_frame(99, 0, 0);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	/* A page whose count disagrees with its length, or is absurd. */
	struct vh_proto_page_reply pg = { .count = 3 };
	vh_proto_put_page_reply(buf + 32, &pg);
	len = reply_frame(VH_PROTO_VM_LIST, 0, 24 + 2 * 184);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	pg.count = UINT32_MAX;
	vh_proto_put_page_reply(buf + 32, &pg);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	/* Too many vCPUs for a VM. */
	struct vh_proto_vm_stats st;
	sample_vm_stats(&st, 1);
	vh_proto_put_vm_stats_reply(buf + 32, 0, 65, &st, VH_PROTO_VERSION);
	len = reply_frame(VH_PROTO_VM_STATS, 0, 312 + 65 * 64);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_PROTO);
	/* Truncated header, wrong version. */
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, 20, &r, &err), VH_E_PROTO);
	len = reply_frame(VH_PROTO_VM_UNDEFINE, 0, 0);
	pf_put16(buf + 4, 4);
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, len, &r, &err), VH_E_VERSION);
}

/* VM_CONSOLE replies: the fixed part at its offsets, the bytes after it,
 * and a client refuses a length that disagrees with len or bytes that
 * would run past the total. */
VH_TEST(proto_codec, console_reply_round_trips_and_is_checked)
{
	struct vh_proto_console_reply c = { .total = 5000, .first = 4990, .len = 10 };
	struct vh_proto_reply r;
	struct vh_error err;

	vh_proto_put_console_reply(buf + 32, &c);
	VH_EXPECT_EQ(pf_get64(buf + 32), 5000ull);
	VH_EXPECT_EQ(pf_get64(buf + 32 + 8), 4990ull);
	VH_EXPECT_EQ(pf_get32(buf + 32 + 16), 10u);
	VH_EXPECT_EQ(pf_get32(buf + 32 + 20), 0u);
	memcpy(buf + 32 + 24, "0123456789", 10);
	decode_reply_ok(reply_frame(VH_PROTO_VM_CONSOLE, 0, 24 + 10), &r);
	VH_EXPECT_EQ(r.u.console.total, 5000ull);
	VH_EXPECT_EQ(r.u.console.first, 4990ull);
	VH_EXPECT_EQ(r.nentries, 10u);
	VH_EXPECT_MEMEQ(r.entries, "0123456789", 10);

	/* Payload one byte short of len. */
	VH_EXPECT_EQ(
	    vh_proto_decode_reply(buf, reply_frame(VH_PROTO_VM_CONSOLE, 0, 24 + 9), &r, &err),
	    VH_E_PROTO);
	/* Bytes past the total. */
	c.first = 4995;
	vh_proto_put_console_reply(buf + 32, &c);
	VH_EXPECT_EQ(
	    vh_proto_decode_reply(buf, reply_frame(VH_PROTO_VM_CONSOLE, 0, 24 + 10), &r, &err),
	    VH_E_PROTO);
	VH_EXPECT(strstr(err.reason, "console.first") != NULL);
	/* Shorter than the fixed part. */
	VH_EXPECT_EQ(vh_proto_decode_reply(buf, reply_frame(VH_PROTO_VM_CONSOLE, 0, 20), &r, &err),
		     VH_E_PROTO);
}
