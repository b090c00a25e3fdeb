/* SPDX-License-Identifier: GPL-2.0-or-later */
/* dump.bpf.c: BPF iterators that write out every entry of a hash map, key then value,
 * for the daemon to read the counts with a few read()s.
 *
 * The batch interface (BPF_MAP_LOOKUP_BATCH) takes and releases each bucket's lock with
 * interrupts off, used or not: 65,536 of them for the counts map at the default MaxUIDs,
 * whatever few UIDs it holds, which made most of a GetStats of 10,000 UIDs. An iterator
 * walks the buckets under RCU. The verifier checks each program's reads against the key
 * and value sizes of the map it is attached to: one program per map. */

#include "kernel.h"

#include <bpf/bpf_helpers.h>

#include "execcount.h"

char LICENSE[] SEC("license") = "GPL";

struct bpf_iter_meta {
        struct seq_file *seq;
} __attribute__((preserve_access_index));

struct bpf_iter__bpf_map_elem {
        struct bpf_iter_meta *meta;
        void *key;
        void *value;
} __attribute__((preserve_access_index));

/* Both writes of an entry or neither: the kernel takes back an entry's output that did
 * not fit, and writes it again at the next read(). */
#define DUMP_PROGRAM(name, key_size, value_size)                                                                \
        SEC("iter/bpf_map_elem")                                                                                \
        int name(struct bpf_iter__bpf_map_elem *ctx) {                                                          \
                struct seq_file *seq = ctx->meta->seq;                                                           \
                void *key = ctx->key, *value = ctx->value;                                                       \
                                                                                                                 \
                if (!key || !value)                                                                              \
                        return 0; /* the end of the walk */                                                      \
                bpf_seq_write(seq, key, key_size);                                                               \
                bpf_seq_write(seq, value, value_size);                                                           \
                return 0;                                                                                        \
        }

DUMP_PROGRAM(dump_counts, sizeof(__u32), sizeof(struct exec_count))
DUMP_PROGRAM(dump_privileged, sizeof(__u32), sizeof(__u64))
DUMP_PROGRAM(dump_logins, sizeof(struct exec_login_key), sizeof(__u64))
