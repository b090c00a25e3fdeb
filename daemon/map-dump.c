/* SPDX-License-Identifier: GPL-2.0-or-later */
/* map-dump.c: reading a whole hash map of counts through a BPF iterator (bpf/dump.bpf.c). */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump.skel.h"
#include "execcount.h"
#include "macro.h"
#include "map-dump.h"

struct MapDump {
        struct dump_bpf *skel;
        int prog_fds[_DUMP_MAX];
};

static const struct {
        size_t key, value;
} sizes[_DUMP_MAX] = {
        [DUMP_COUNTS] = { sizeof(uint32_t), sizeof(struct exec_count) },
        [DUMP_PRIVILEGED] = { sizeof(uint32_t), sizeof(uint64_t) },
        [DUMP_LOGINS] = { sizeof(struct exec_login_key), sizeof(uint64_t) },
};

/* A read() of at least the kernel's buffer for an iterator (8 pages) returns what one
 * walk from where the last stopped wrote: whole entries, and a new walk per read(). */
#define DUMP_READ_SIZE (64 * 1024)

int map_dump_new(MapDump **ret) {
        _cleanup_(freep) MapDump *d = calloc(1, sizeof(*d));
        int r;

        if (!d)
                return -ENOMEM;
        d->skel = dump_bpf__open();
        if (!d->skel)
                return -errno;
        r = dump_bpf__load(d->skel);
        if (r < 0) {
                dump_bpf__destroy(d->skel);
                return r;
        }
        d->prog_fds[DUMP_COUNTS] = bpf_program__fd(d->skel->progs.dump_counts);
        d->prog_fds[DUMP_PRIVILEGED] = bpf_program__fd(d->skel->progs.dump_privileged);
        d->prog_fds[DUMP_LOGINS] = bpf_program__fd(d->skel->progs.dump_logins);
        *ret = TAKE_PTR(d);
        return 0;
}

MapDump *map_dump_free(MapDump *d) {
        if (!d)
                return NULL;
        dump_bpf__destroy(d->skel);
        free(d);
        return NULL;
}

/* Each walk resumes at the entry of its bucket it stopped at, by position: an entry
 * added to the bucket meanwhile (at its head) makes it write the entries before that
 * position again, in the same order. Keys are unique: one seen twice is such an entry. */
size_t map_dump_already_read(const void *old_keys, size_t old_n, const void *new_keys, size_t new_n,
                             size_t key_size) {
        const uint8_t *old = old_keys, *new = new_keys;
        size_t i = old_n, k = 0;

        if (new_n == 0)
                return 0;
        while (i > 0 && memcmp(old + (i - 1) * key_size, new, key_size) != 0)
                i--;
        if (i == 0)
                return 0;
        for (i--; i < old_n && k < new_n && memcmp(old + i * key_size, new + k * key_size, key_size) == 0; i++)
                k++;
        return k;
}

int map_dump_read(const MapDump *d, DumpedMap which, int map_fd, size_t max, void *keys, void *values,
                  size_t *ret_n) {
        size_t key_size = sizes[which].key, value_size = sizes[which].value, entry = key_size + value_size;
        union bpf_iter_link_info info = { .map.map_fd = (uint32_t) map_fd };
        LIBBPF_OPTS(bpf_link_create_opts, opts, .iter_info = &info, .iter_info_len = sizeof(info));
        _cleanup_(freep) uint8_t *buf = NULL;
        uint8_t *k = keys, *v = values;
        size_t n = 0, walk = 0; /* where the last walk's entries begin */
        int link_fd, iter_fd, r = 0;

        buf = malloc(DUMP_READ_SIZE);
        if (!buf)
                return -ENOMEM;
        link_fd = bpf_link_create(d->prog_fds[which], 0, BPF_TRACE_ITER, &opts);
        if (link_fd < 0)
                return -errno;
        iter_fd = bpf_iter_create(link_fd);
        if (iter_fd < 0) {
                r = -errno;
                close(link_fd);
                return r;
        }

        while (n < max) {
                ssize_t got = read(iter_fd, buf, DUMP_READ_SIZE);
                size_t m, skip, start = n;

                if (got < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (got == 0)
                        break;
                if ((size_t) got % entry != 0) {
                        r = -EBADMSG; /* not whole entries: a kernel that reads otherwise */
                        break;
                }
                m = (size_t) got / entry;
                for (size_t i = 0; i < m && n < max; i++, n++) {
                        memcpy(k + n * key_size, buf + i * entry, key_size);
                        memcpy(v + n * value_size, buf + i * entry + key_size, value_size);
                }
                skip = map_dump_already_read(k + walk * key_size, start - walk, k + start * key_size, n - start, key_size);
                if (skip > 0) {
                        memmove(k + start * key_size, k + (start + skip) * key_size, (n - start - skip) * key_size);
                        memmove(v + start * value_size, v + (start + skip) * value_size,
                                (n - start - skip) * value_size);
                        n -= skip;
                }
                walk = start;
        }
        close(iter_fd);
        close(link_fd);
        if (r < 0)
                return r;
        *ret_n = n;
        return 0;
}
