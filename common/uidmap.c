/* SPDX-License-Identifier: GPL-2.0-or-later */
/* uidmap.c: a hash table from UIDs to small fixed-size values. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "uidmap.h"

/* A slot: used flag, UID, then the value, aligned for any scalar. */
typedef struct Slot {
        uint32_t uid;
        uint32_t used;
        max_align_t value[];
} Slot;

struct UidMap {
        size_t value_size, slot_size;
        size_t max_entries;
        size_t n, n_slots; /* n_slots: a power of two, or 0 */
        uint8_t *slots;
};

static Slot *slot(const UidMap *m, size_t i) {
        return (Slot *) (m->slots + i * m->slot_size);
}

static size_t hash(uint32_t uid, size_t n_slots) {
        /* Fibonacci hashing: consecutive UIDs, the common case, spread out. */
        return (size_t) (((uint64_t) uid * UINT64_C(0x9e3779b97f4a7c15)) >> 32) & (n_slots - 1);
}

int uidmap_new(size_t value_size, size_t max_entries, UidMap **ret) {
        UidMap *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->value_size = value_size;
        m->slot_size = (sizeof(Slot) + value_size + sizeof(max_align_t) - 1) / sizeof(max_align_t) *
                       sizeof(max_align_t);
        m->max_entries = max_entries;
        *ret = m;
        return 0;
}

UidMap *uidmap_free(UidMap *m) {
        if (!m)
                return NULL;
        free(m->slots);
        free(m);
        return NULL;
}

/* The slot of uid, or the free slot where it would go. */
static size_t find(const UidMap *m, uint32_t uid) {
        size_t i = hash(uid, m->n_slots);

        while (slot(m, i)->used && slot(m, i)->uid != uid)
                i = (i + 1) & (m->n_slots - 1);
        return i;
}

void *uidmap_get(const UidMap *m, uint32_t uid) {
        size_t i;

        if (m->n == 0)
                return NULL;
        i = find(m, uid);
        return slot(m, i)->used ? slot(m, i)->value : NULL;
}

/* Keeps the table at most half full. */
static int grow(UidMap *m) {
        size_t n_slots = m->n_slots ? m->n_slots * 2 : 16;
        uint8_t *old = m->slots;
        size_t old_n = m->n_slots;

        m->slots = calloc(n_slots, m->slot_size);
        if (!m->slots) {
                m->slots = old;
                return -ENOMEM;
        }
        m->n_slots = n_slots;
        for (size_t i = 0; i < old_n; i++) {
                Slot *s = (Slot *) (old + i * m->slot_size);

                if (s->used)
                        memcpy(slot(m, find(m, s->uid)), s, m->slot_size);
        }
        free(old);
        return 0;
}

void *uidmap_put(UidMap *m, uint32_t uid) {
        void *v = uidmap_get(m, uid);
        Slot *s;

        if (v)
                return v;
        if (m->n >= m->max_entries)
                return NULL;
        if ((m->n + 1) * 2 > m->n_slots && grow(m) < 0)
                return NULL;
        s = slot(m, find(m, uid));
        memset(s, 0, m->slot_size);
        s->uid = uid;
        s->used = 1;
        m->n++;
        return s->value;
}

void uidmap_remove(UidMap *m, uint32_t uid) {
        size_t i, j;

        if (m->n == 0)
                return;
        i = find(m, uid);
        if (!slot(m, i)->used)
                return;
        slot(m, i)->used = 0;
        m->n--;
        /* Backward shift: entries after the gap that could live in it move up, so that no
         * probe sequence is cut short. */
        for (j = (i + 1) & (m->n_slots - 1); slot(m, j)->used; j = (j + 1) & (m->n_slots - 1)) {
                size_t home = hash(slot(m, j)->uid, m->n_slots);

                /* Stays when its home lies cyclically in (i, j]. */
                if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
                        continue;
                memcpy(slot(m, i), slot(m, j), m->slot_size);
                slot(m, j)->used = 0;
                i = j;
        }
}

void uidmap_clear(UidMap *m) {
        /* The memory goes too: a burst of UIDs does not keep it for ever. */
        free(m->slots);
        m->slots = NULL;
        m->n_slots = 0;
        m->n = 0;
}

size_t uidmap_size(const UidMap *m) {
        return m->n;
}

bool uidmap_next(const UidMap *m, size_t *i, uint32_t *ret_uid, void **ret_value) {
        for (; *i < m->n_slots; (*i)++) {
                Slot *s = slot(m, *i);

                if (s->used) {
                        (*i)++;
                        if (ret_uid)
                                *ret_uid = s->uid;
                        if (ret_value)
                                *ret_value = s->value;
                        return true;
                }
        }
        return false;
}
