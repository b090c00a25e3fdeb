/* SPDX-License-Identifier: GPL-2.0-or-later */
/* history.c: a ring of the most recent exec events. */

#include <errno.h>
#include <stdlib.h>

#include "history.h"

struct History {
        ExecEvent **ring;
        size_t capacity;
        size_t head; /* index of the oldest event */
        size_t size;
};

int history_new(size_t capacity, History **ret) {
        History *h = calloc(1, sizeof(*h));

        if (!h)
                return -ENOMEM;
        h->ring = calloc(capacity ? capacity : 1, sizeof(*h->ring));
        if (!h->ring) {
                free(h);
                return -ENOMEM;
        }
        h->capacity = capacity;
        *ret = h;
        return 0;
}

static ExecEvent **slot(const History *h, size_t i) {
        return &h->ring[(h->head + i) % h->capacity];
}

History *history_free(History *h) {
        if (!h)
                return NULL;
        for (size_t i = 0; i < h->size; i++)
                exec_event_unref(*slot(h, i));
        free(h->ring);
        free(h);
        return NULL;
}

void history_push(History *h, ExecEvent *e) {
        if (h->capacity == 0) {
                exec_event_unref(e);
                return;
        }
        if (h->size == h->capacity) {
                exec_event_unref(h->ring[h->head]);
                h->ring[h->head] = e;
                h->head = (h->head + 1) % h->capacity;
                return;
        }
        *slot(h, h->size) = e;
        h->size++;
}

size_t history_size(const History *h) {
        return h->size;
}

size_t history_capacity(const History *h) {
        return h->capacity;
}

int history_set_capacity(History *h, size_t capacity) {
        ExecEvent **ring;
        size_t keep, drop;

        if (capacity == h->capacity)
                return 0;
        ring = calloc(capacity ? capacity : 1, sizeof(*ring));
        if (!ring)
                return -ENOMEM;

        keep = h->size < capacity ? h->size : capacity;
        drop = h->size - keep;
        for (size_t i = 0; i < drop; i++)
                exec_event_unref(*slot(h, i));
        for (size_t i = 0; i < keep; i++)
                ring[i] = *slot(h, drop + i);

        free(h->ring);
        h->ring = ring;
        h->capacity = capacity;
        h->head = 0;
        h->size = keep;
        return 0;
}

size_t history_query(const History *h, bool has_uid, uint32_t uid, size_t limit, const ExecEvent **out) {
        size_t n = 0, first;

        if (limit == 0)
                return 0;

        /* Walk back from the newest until limit matches, then hand them out in order. */
        first = h->size;
        while (first > 0 && n < limit) {
                first--;
                if (!has_uid || (*slot(h, first))->uid == uid)
                        n++;
        }
        n = 0;
        for (size_t i = first; i < h->size && n < limit; i++) {
                const ExecEvent *e = *slot(h, i);

                if (!has_uid || e->uid == uid)
                        out[n++] = e;
        }
        return n;
}
