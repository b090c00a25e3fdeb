/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-drain.c: how much of a real BPF ring buffer one turn of the loop reads (needs
 * root, hence the bpf suite). A program of a few instructions, run by BPF_PROG_TEST_RUN,
 * writes records of a chosen size; the drain reads them turn by turn, and each turn must
 * stop where its budget says: 2,048 small records, 187 of the largest (a 4 KiB name and
 * 1 KiB of arguments), 94 when each goes to a stream or the journal as well, 63 when to
 * both: the figures drain.c's budget gives, which test-hostile's flood of long names
 * relies on for root's calls. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <unistd.h>

#include "drain.h"
#include "execcount.h"
#include "test.h"

/* The largest record the programs write: the header and 4,096 + 1,024 bytes of name and
 * arguments, 5,216 bytes, which drain.c's figures are for. */
#define LARGEST (EXEC_EVENT_HEADER_SIZE + EXECCOUNT_PATH_MAX + EXECCOUNT_ARGV_MAX)
_Static_assert(LARGEST == 5216, "drain.c's budget gives its turns for records of 5,216 bytes");
#define RING_SIZE (8u << 20)
#define VALUE_SIZE 8192

static int ring_fd = -1, value_fd = -1;

/* What the handler says each record made (streams and journal entries), and what the
 * turns read. */
static size_t made_per_record;
static size_t in_turn, n_turns, turns[64];
static size_t last_size;

static size_t on_record(const void *data, size_t size, void *userdata) {
        last_size = size;
        in_turn++;
        return made_per_record;
}

static void on_read(void *userdata) {
        ASSERT(n_turns < ELEMENTSOF(turns));
        turns[n_turns++] = in_turn;
        in_turn = 0;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn) { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

/* A socket filter that writes one record of size bytes (zeros, from an array map's value)
 * each time it runs, and returns what bpf_ringbuf_output() did: a way to fill the ring
 * from user space, which only programs write. */
static int writer_load(uint32_t size) {
        struct bpf_insn prog[] = {
                insn(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0), /* key 0 on the stack */
                insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0),
                insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4),
                insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, value_fd),
                insn(0, 0, 0, 0, 0),
                insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
                insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 7, 0), /* no value: to the end */
                insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_0, 0, 0),
                insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, ring_fd),
                insn(0, 0, 0, 0, 0),
                insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, (int32_t) size),
                insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, 0),
                insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ringbuf_output),
                insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
                insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, -ENOENT), /* no value */
                insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
        };
        int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "test_drain", "GPL", prog, ELEMENTSOF(prog), NULL);

        if (fd < 0)
                TEST_FAIL("loading the ring's writer failed: %s", strerror(errno));
        return fd;
}

/* n records of size bytes in the ring. The last run's result says whether there was room
 * for the last: the ring is not read meanwhile, so then for all. */
static void write_records(uint32_t size, unsigned n) {
        char packet[64] = { 0 };
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet), .repeat = n);
        int fd = writer_load(size);

        ASSERT_EQ(bpf_prog_test_run_opts(fd, &opts), 0);
        if (opts.retval != 0)
                TEST_FAIL("writing %u records of %u bytes: bpf_ringbuf_output() returned %d", n, size,
                          (int) opts.retval);
        close(fd);
}

/* Runs the loop until n records are read, in turns of per_turn records, the last one
 * reading what is left. */
static void read_in_turns(sd_event *e, Drain *d, size_t n, size_t per_turn, uint32_t size) {
        size_t total = 0;

        n_turns = 0;
        in_turn = 0;
        drain_soon(d); /* the first turn, whether or not the writer woke the loop */
        while (total < n) {
                ASSERT(sd_event_run(e, 1000000) > 0); /* each turn within a second */
                for (size_t i = 0; i < n_turns; i++) {
                        total += turns[i];
                        ASSERT_EQ_U(turns[i], total < n || n % per_turn == 0 ? per_turn : n % per_turn);
                }
                n_turns = 0;
        }
        ASSERT_EQ_U(total, n);
        ASSERT_EQ_U(last_size, size);
        ASSERT_EQ(drain_now(d), 0); /* nothing left over */
}

static void test_turns(void) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(drain_freep) Drain *d = NULL;

        ASSERT_EQ(sd_event_new(&e), 0);
        /* Interval 0: every wakeup reads at once, no timer between turns. */
        ASSERT_EQ(drain_new(e, ring_fd, 0, on_record, NULL, on_read, NULL, &d), 0);

        /* Small records that went nowhere else: 2,048 a turn. */
        made_per_record = 0;
        write_records(120, 5000);
        read_in_turns(e, d, 5000, 2048, 120);

        /* The largest: 11 units each; twice, three times that with a stream and a journal
         * entry. */
        made_per_record = 0;
        write_records(LARGEST, 1000);
        read_in_turns(e, d, 1000, 187, LARGEST);
        made_per_record = 1;
        write_records(LARGEST, 500);
        read_in_turns(e, d, 500, 94, LARGEST);
        made_per_record = 2;
        write_records(LARGEST, 500);
        read_in_turns(e, d, 500, 63, LARGEST);

        /* drain_now() reads everything, whatever the budget. */
        made_per_record = 2;
        n_turns = 0;
        write_records(LARGEST, 700);
        ASSERT_EQ(drain_now(d), 700);
        ASSERT_EQ_U(n_turns, 1);
        ASSERT_EQ_U(turns[0], 700);
}

int main(void) {
        if (geteuid() != 0)
                TEST_SKIP_OR_FAIL("BPF maps and programs need root");

        ring_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "test_drain_ring", 0, 0, RING_SIZE, NULL);
        value_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "test_drain_val", sizeof(uint32_t), VALUE_SIZE, 1, NULL);
        if (ring_fd < 0 || value_fd < 0)
                TEST_FAIL("creating the maps failed: %s", strerror(errno));
        test_turns();
        close(ring_fd);
        close(value_fd);
        return 0;
}
