/* SPDX-License-Identifier: GPL-2.0-or-later */
/* map-dump.h: reading a whole hash map of counts through a BPF iterator (bpf/dump.bpf.c). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef enum DumpedMap {
        DUMP_COUNTS,     /* UID, struct exec_count */
        DUMP_PRIVILEGED, /* UID, uint64_t */
        DUMP_LOGINS,     /* struct exec_login_key, uint64_t */
        _DUMP_MAX,
} DumpedMap;

typedef struct MapDump MapDump;

/* Loads the iterator programs; an error when the kernel cannot (no BTF, before 5.9), in
 * which case the maps are read with the batch interface. */
int map_dump_new(MapDump **ret);
MapDump *map_dump_free(MapDump *d);
DEFINE_POINTER_CLEANUP(MapDump, map_dump_free);

/* Reads every entry of map_fd, a map of the kind which, into keys and values (arrays of
 * max entries each, of the kind's key and value sizes); *ret_n says how many. Each
 * entry once. Only this process may delete from the map meanwhile (none does while this
 * runs): the walk resumes by position in a bucket, and an entry deleted before it would
 * make it skip one. An entry added meanwhile may or may not be read. */
int map_dump_read(const MapDump *d, DumpedMap which, int map_fd, size_t max, void *keys, void *values,
                  size_t *ret_n);

/* How many of the first entries of a walk's output (new_keys) the walk before it
 * (old_keys, old_n of them) wrote already; for map_dump_read() and its tests. */
size_t map_dump_already_read(const void *old_keys, size_t old_n, const void *new_keys, size_t new_n,
                             size_t key_size);
