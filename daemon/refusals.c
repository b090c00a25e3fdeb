/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refusals.c: clients turned away, counted and reported in aggregate. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "message-ids.h"
#include "refusals.h"

/* UIDs named in the message text, and in fields. */
#define REFUSALS_SHOWN 10
#define REFUSALS_FIELDS 50

static const char *const reason_names[_REFUSED_MAX] = {
        [REFUSED_MAX_CLIENTS] = "MaxClients=",
        [REFUSED_PER_UID] = "MaxClientsPerUID=",
        [REFUSED_NO_FDS] = "out of file descriptors",
        [REFUSED_BUFFER] = "MaxBuffer= used up",
};

int refusals_init(Refusals *r) {
        *r = (Refusals) {};
        return uidmap_new(sizeof(uint64_t), REFUSALS_UIDS_MAX, &r->uids);
}

void refusals_done(Refusals *r) {
        uidmap_free(r->uids);
        *r = (Refusals) {};
}

bool refusals_add(Refusals *r, bool has_uid, uint32_t uid, RefusalReason why, uint64_t now) {
        uint64_t *n = has_uid ? uidmap_put(r->uids, uid) : NULL;

        r->total++;
        r->count++;
        r->by_reason[why]++;
        if (n)
                (*n)++;
        else
                r->others++;
        /* The first after a quiet interval is told at once. */
        return r->reported_usec == 0 || now >= r->reported_usec + REFUSALS_INTERVAL_USEC;
}

bool refusals_pending(const Refusals *r, uint64_t *ret_when) {
        *ret_when = r->reported_usec + REFUSALS_INTERVAL_USEC;
        return r->count > 0;
}

typedef struct Entry {
        uint32_t uid;
        uint64_t n;
} Entry;

static int compare_entries(const void *a, const void *b) {
        const Entry *x = a, *y = b;

        if (x->n != y->n)
                return x->n > y->n ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

void refusals_report(Refusals *r, uint64_t now) {
        _cleanup_(freep) Entry *list = NULL;
        char count[24], total[24], reasons[256] = "", text[REFUSALS_SHOWN * 32] = "";
        char entries[REFUSALS_FIELDS][40];
        LogField f[2 + REFUSALS_FIELDS + 1];
        size_t n = 0, nf = 0, used = 0, i = 0;
        uint32_t uid;
        void *v;

        r->reported_usec = now;
        if (r->count == 0)
                return;
        list = calloc(uidmap_size(r->uids) + 1, sizeof(*list));
        while (list && uidmap_next(r->uids, &i, &uid, &v))
                list[n++] = (Entry) { uid, *(uint64_t *) v };
        if (list)
                qsort(list, n, sizeof(*list), compare_entries);

        snprintf(count, sizeof(count), "%" PRIu64, r->count);
        snprintf(total, sizeof(total), "%" PRIu64, r->total);
        f[nf++] = (LogField) { "CLIENTS_REFUSED", count };
        f[nf++] = (LogField) { "CLIENTS_REFUSED_TOTAL", total };
        for (size_t k = 0; k < n; k++) {
                if (k < REFUSALS_SHOWN)
                        used += (size_t) snprintf(text + used, sizeof(text) - used, "%sUID %" PRIu32 ": %" PRIu64,
                                                  k ? ", " : "", list[k].uid, list[k].n);
                if (k < REFUSALS_FIELDS) {
                        /* One CLIENTS_REFUSED_UID=UID COUNT per UID, the most first. */
                        snprintf(entries[k], sizeof(entries[k]), "%" PRIu32 " %" PRIu64, list[k].uid, list[k].n);
                        f[nf++] = (LogField) { "CLIENTS_REFUSED_UID", entries[k] };
                }
        }
        if (n > REFUSALS_SHOWN || r->others > 0) {
                uint64_t rest = r->others;

                for (size_t k = REFUSALS_SHOWN; k < n; k++)
                        rest += list[k].n;
                used += (size_t) snprintf(text + used, sizeof(text) - used, "%sothers: %" PRIu64, n ? ", " : "", rest);
        }
        for (int k = 0, u = 0; k < _REFUSED_MAX; k++)
                if (r->by_reason[k] > 0)
                        u += snprintf(reasons + u, sizeof(reasons) - (size_t) u, "%s%s: %" PRIu64, u ? ", " : "",
                                      reason_names[k], r->by_reason[k]);
        log_struct(LOG_WARNING, MESSAGE_ID_CLIENTS_REFUSED, f, nf,
                   "Refused %s clients (%s) of %s (%s so far).", count, reasons, text[0] ? text : "unknown UIDs",
                   total);

        r->count = 0;
        r->others = 0;
        for (int k = 0; k < _REFUSED_MAX; k++)
                r->by_reason[k] = 0;
        uidmap_clear(r->uids);
}
