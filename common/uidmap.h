/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uidmap.h: a hash table from UIDs to small fixed-size values, for per-UID bookkeeping.
 *
 * Open addressing with linear probing; values live in the table, so a pointer to one is
 * valid only until the next insertion or removal. At most max_entries UIDs are kept, a
 * bound the caller chooses: per-UID state must never grow with what a user can make up
 * (one person may own 65,536 subordinate UIDs). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef struct UidMap UidMap;

int uidmap_new(size_t value_size, size_t max_entries, UidMap **ret);
UidMap *uidmap_free(UidMap *m);
DEFINE_POINTER_CLEANUP(UidMap, uidmap_free);

/* The value of uid, or NULL. */
void *uidmap_get(const UidMap *m, uint32_t uid);
/* The value of uid, added (zeroed) if missing: NULL when the map holds max_entries UIDs
 * already, or out of memory. */
void *uidmap_put(UidMap *m, uint32_t uid);
void uidmap_remove(UidMap *m, uint32_t uid);
void uidmap_clear(UidMap *m);
size_t uidmap_size(const UidMap *m);

/* Iterates: start with *i = 0; returns false at the end. No insertions or removals in
 * between. */
bool uidmap_next(const UidMap *m, size_t *i, uint32_t *ret_uid, void **ret_value);
