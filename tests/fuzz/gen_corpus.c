/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the seed corpus of fuzz_proto: valid messages of every type,
 * addressed every way, and sequences that walk a VM through its life,
 * each prefixed with the reply-buffer byte fuzz_proto.c expects.  Built
 * from the real encoder so the seeds follow the wire format as it is.
 *
 * usage: gen_corpus DIR */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh/proto.h"

static const char *dir;
static unsigned nfiles;
static uint8_t seq[1 + 32 * (VH_PROTO_HEADER_SIZE + sizeof(struct vh_wire_vm_config))];
static size_t seq_len;
static uint64_t next_id = 1;

static void begin(uint8_t reply_byte)
{
	seq[0] = reply_byte;
	seq_len = 1;
}

static void add(struct vh_proto_request *rq)
{
	struct vh_error err;
	size_t len;

	rq->request_id = next_id++;
	if (vh_proto_encode_request(rq, seq + seq_len, sizeof(seq) - seq_len, &len, &err)) {
		fprintf(stderr, "gen_corpus: %s\n", err.reason);
		exit(1);
	}
	seq_len += len;
}

static void emit(const char *what)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%03u-%s", dir, nfiles++, what);
	f = fopen(path, "wb");
	if (!f || fwrite(seq, 1, seq_len, f) != seq_len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static struct vh_proto_request req(uint16_t type)
{
	struct vh_proto_request rq;

	memset(&rq, 0, sizeof(rq));
	rq.type = type;
	return rq;
}

/* VMs of fuzz_proto's host: alpha (1, defined), beta (2, running), gamma
 * (3, paused). */
static struct vh_proto_request by_id(uint16_t type, uint32_t id)
{
	struct vh_proto_request rq = req(type);

	rq.vm.kind = VH_PROTO_REF_ID;
	rq.vm.id = id;
	return rq;
}

static struct vh_proto_request by_name(uint16_t type, const char *name)
{
	struct vh_proto_request rq = req(type);

	rq.vm.kind = VH_PROTO_REF_NAME;
	snprintf(rq.vm.name, sizeof(rq.vm.name), "%s", name);
	return rq;
}

static struct vh_proto_request by_uuid(uint16_t type, uint8_t fill)
{
	struct vh_proto_request rq = req(type);

	rq.vm.kind = VH_PROTO_REF_UUID;
	memset(rq.vm.uuid, fill, 16);
	return rq;
}

static void config(struct vh_vm_config *c, const char *name)
{
	vh_vm_config_default(c);
	snprintf(c->name, sizeof(c->name), "%s", name);
	memset(c->uuid, 0x11, 16);
	c->vcpus = 2;
	c->memory_mib = 3;
	c->cpu.shares.level = VH_SHARES_CUSTOM;
	c->cpu.shares.custom = 4000;
	c->cpu.reservation_mhz = 50;
	c->cpu.limit_mhz = 900;
	c->mem.shares.level = VH_SHARES_HIGH;
	c->mem.reservation_mib = 1;
	c->mem.limit_mib = 3;
	c->cosched = VH_COSCHED_RELAXED;
	snprintf(c->boot.kernel, sizeof(c->boot.kernel), "bzImage");
	snprintf(c->boot.cmdline, sizeof(c->boot.cmdline), "console=ttyS0");
	c->boot.nmodules = 1;
	snprintf(c->boot.modules[0].image, sizeof(c->boot.modules[0].image), "initrd");
	snprintf(c->boot.modules[0].args, sizeof(c->boot.modules[0].args), "rdinit=/init");
	c->ndevices = 3;
	c->devices[2].type = VH_DEV_BALLOON;
}

static void single(struct vh_proto_request rq, const char *what)
{
	for (unsigned b = 0; b < 2; b++) {
		begin(b ? 255 : 0);
		add(&rq);
		emit(what);
	}
}

int main(int argc, char **argv)
{
	struct vh_proto_request rq;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];

	/* Every type alone. */
	single(req(VH_PROTO_HOST_INFO), "host_info");
	single(req(VH_PROTO_HOST_STATS), "host_stats");
	rq = req(VH_PROTO_VM_LIST);
	single(rq, "vm_list");
	rq.u.page.start_id = 2;
	rq.u.page.max_entries = 1;
	single(rq, "vm_list_paged");
	rq.type = VH_PROTO_VM_STATS_ALL;
	single(rq, "vm_stats_all_paged");
	single(req(VH_PROTO_VM_STATS_ALL), "vm_stats_all");
	single(by_id(VH_PROTO_VM_CONSOLE, 1), "vm_console");
	rq = req(VH_PROTO_VM_DEFINE);
	config(&rq.u.define, "delta");
	single(rq, "vm_define");
	single(by_id(VH_PROTO_VM_UNDEFINE, 1), "vm_undefine");
	single(by_name(VH_PROTO_VM_GET, "beta"), "vm_get");
	single(by_uuid(VH_PROTO_VM_GET, 0x42), "vm_get_uuid");
	single(by_id(VH_PROTO_VM_START, 1), "vm_start");
	single(by_id(VH_PROTO_VM_STOP, 2), "vm_stop");
	single(by_name(VH_PROTO_VM_PAUSE, "beta"), "vm_pause");
	single(by_id(VH_PROTO_VM_RESUME, 3), "vm_resume");
	single(by_id(VH_PROTO_VM_RESET, 2), "vm_reset");
	rq = by_id(VH_PROTO_VM_SET_CPU, 2);
	rq.u.cpu.shares.level = VH_SHARES_HIGH;
	rq.u.cpu.reservation_mhz = 300;
	rq.u.cpu.limit_mhz = VH_UNLIMITED;
	single(rq, "vm_set_cpu");
	rq = by_name(VH_PROTO_VM_SET_MEM, "beta");
	rq.u.mem.shares.level = VH_SHARES_CUSTOM;
	rq.u.mem.shares.custom = 77;
	rq.u.mem.reservation_mib = 2;
	rq.u.mem.limit_mib = 4;
	single(rq, "vm_set_mem");
	rq = by_id(VH_PROTO_VM_SET_BALLOON, 2);
	rq.u.balloon_target_mib = 1;
	single(rq, "vm_set_balloon");
	single(by_id(VH_PROTO_VM_STATS, 2), "vm_stats");

	/* A VM's whole life. */
	begin(0);
	rq = req(VH_PROTO_VM_DEFINE);
	config(&rq.u.define, "delta");
	add(&rq);
	rq = by_name(VH_PROTO_VM_START, "delta"), add(&rq);
	rq = by_name(VH_PROTO_VM_SET_CPU, "delta");
	rq.u.cpu.reservation_mhz = 10;
	rq.u.cpu.limit_mhz = 20;
	add(&rq);
	rq = by_uuid(VH_PROTO_VM_SET_MEM, 0x11);
	rq.u.mem.reservation_mib = 2;
	rq.u.mem.limit_mib = VH_UNLIMITED;
	add(&rq);
	rq = by_id(VH_PROTO_VM_SET_BALLOON, 4);
	rq.u.balloon_target_mib = 2;
	add(&rq);
	rq = by_id(VH_PROTO_VM_STATS, 4), add(&rq);
	rq = by_id(VH_PROTO_VM_PAUSE, 4), add(&rq);
	rq = by_id(VH_PROTO_VM_RESET, 4), add(&rq);
	rq = req(VH_PROTO_VM_STATS_ALL), add(&rq);
	rq = by_id(VH_PROTO_VM_STOP, 4), add(&rq);
	rq = by_id(VH_PROTO_VM_UNDEFINE, 4), add(&rq);
	rq = req(VH_PROTO_VM_LIST), add(&rq);
	rq = req(VH_PROTO_HOST_STATS), add(&rq);
	emit("life");

	/* Fill the host, then page through it with small pages. */
	begin(0);
	for (int i = 0; i < 6; i++) {
		rq = req(VH_PROTO_VM_DEFINE);
		config(&rq.u.define, "x");
		snprintf(rq.u.define.name, sizeof(rq.u.define.name), "fill%d", i);
		memset(rq.u.define.uuid, 0, 16);
		rq.u.define.cpu.reservation_mhz = 0;
		rq.u.define.mem.reservation_mib = 0;
		add(&rq);
	}
	rq = req(VH_PROTO_VM_LIST);
	rq.u.page.max_entries = 3;
	add(&rq);
	rq.u.page.start_id = 4;
	add(&rq);
	rq = req(VH_PROTO_VM_STATS_ALL);
	rq.u.page.max_entries = 2;
	add(&rq);
	emit("fill_and_page");

	/* Reservations up to the host's capacity (2000 MHz, 14 MiB). */
	begin(0);
	rq = by_id(VH_PROTO_VM_SET_CPU, 2);
	rq.u.cpu.reservation_mhz = 1700;
	rq.u.cpu.limit_mhz = VH_UNLIMITED;
	add(&rq);
	rq = by_id(VH_PROTO_VM_START, 1), add(&rq);
	rq = by_id(VH_PROTO_VM_SET_MEM, 1);
	rq.u.mem.reservation_mib = 4;
	rq.u.mem.limit_mib = VH_UNLIMITED;
	add(&rq);
	emit("admission");
	printf("gen_corpus: %u seeds in %s\n", nfiles, dir);
	return 0;
}
