/* SPDX-License-Identifier: GPL-2.0-or-later */
/* counts-read.c: reading a whole map of counts with the kernel's batch interface. */

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counts.h"
#include "macro.h"

/* Makes room for at least one more entry than n in *keys and *values (of *alloc), up to
 * most; zeroed, so that what the kernel did not write is defined (valgrind does not know
 * what a batch lookup wrote). */
static int grow_room(uint8_t **keys, uint8_t **values, size_t *alloc, size_t most, size_t key_size,
                     size_t value_size) {
        size_t want = MIN(MAX(*alloc * 2, (size_t) 1024), most);
        uint8_t *k, *v;

        if (want <= *alloc)
                return -ENOBUFS;
        k = realloc(*keys, want * key_size);
        if (!k)
                return -ENOMEM;
        *keys = k;
        v = realloc(*values, want * value_size);
        if (!v)
                return -ENOMEM;
        *values = v;
        memset(k + *alloc * key_size, 0, (want - *alloc) * key_size);
        memset(v + *alloc * value_size, 0, (want - *alloc) * value_size);
        *alloc = want;
        return 0;
}

/* Reads all keys and values (of key_size and value_size bytes each) with the batch
 * interface: a handful of syscalls instead of two per entry. */
int counts_read_map(int map_fd, uint32_t capacity, size_t key_size, size_t value_size, void **ret_keys,
                    void **ret_values, size_t *ret_n) {
        _cleanup_(freep) uint8_t *keys = NULL;
        _cleanup_(freep) uint8_t *values = NULL;
        /* One spare slot: new UIDs may appear while reading, and the map is bounded anyway.
         * The room grows with what is read: zeroing room for the whole capacity (3.4 MiB
         * at the default MaxUIDs=) cost as much as reading 2,000 UIDs. */
        size_t n = 0, alloc = 0, most = (size_t) capacity + 1;
        uint32_t token = 0;
        bool first = true;
        int r;

        r = grow_room(&keys, &values, &alloc, most, key_size, value_size);
        if (r < 0)
                return r;
        for (;;) {
                __u32 count = (__u32) (alloc - n);

                if (count == 0) {
                        r = grow_room(&keys, &values, &alloc, most, key_size, value_size);
                        if (r == -ENOBUFS)
                                break; /* the capacity and its spare read */
                        if (r < 0)
                                return r;
                        continue;
                }
                r = bpf_map_lookup_batch(map_fd, first ? NULL : &token, &token, keys + n * key_size,
                                         values + n * value_size, &count, NULL);
                if (r == -ENOSPC && count == 0 && alloc < most) {
                        /* A bucket with more entries than the room left: more room, and the
                         * same bucket again. */
                        r = grow_room(&keys, &values, &alloc, most, key_size, value_size);
                        if (r < 0)
                                return r;
                        continue;
                }
                n += count;
                first = false;
                if (r == -ENOENT)
                        break; /* no more entries */
                if (r < 0)
                        return r;
                if (count == 0)
                        return -EIO; /* neither entries nor the end: it would go on forever */
        }

        *ret_keys = TAKE_PTR(keys);
        *ret_values = TAKE_PTR(values);
        *ret_n = n;
        return 0;
}
