/* SPDX-License-Identifier: GPL-2.0-or-later */
/* summary.c: each UID's execs since the last summary, from two snapshots of the counts. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

void summary_done(Summary *s) {
        free(s->last);
        *s = (Summary) {};
}

static int compare_entries(const void *a, const void *b) {
        const SummaryEntry *x = a, *y = b;

        if (x->execs != y->execs)
                return x->execs > y->execs ? -1 : 1;
        if (x->failed != y->failed)
                return x->failed > y->failed ? -1 : 1;
        return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int summary_take(Summary *s, const TallyEntry *cur, size_t n_cur, SummaryEntry **ret, size_t *ret_n) {
        SummaryEntry *out;
        TallyEntry *copy;
        size_t n = 0, j = 0;

        out = calloc(n_cur ? n_cur : 1, sizeof(*out));
        copy = malloc((n_cur ? n_cur : 1) * sizeof(*copy));
        if (!out || !copy) {
                free(out);
                free(copy);
                return -ENOMEM;
        }

        for (size_t i = 0; i < n_cur; i++) {
                const TallyEntry *before = NULL;
                uint64_t execs = cur[i].execs, failed = cur[i].failed;

                /* Both lists are sorted by UID: walk them together. */
                while (j < s->n_last && s->last[j].uid < cur[i].uid)
                        j++;
                if (j < s->n_last && s->last[j].uid == cur[i].uid)
                        before = &s->last[j];
                if (before && execs >= before->execs && failed >= before->failed) {
                        execs -= before->execs;
                        failed -= before->failed;
                }
                if (execs > 0 || failed > 0)
                        out[n++] = (SummaryEntry) { .uid = cur[i].uid, .execs = execs, .failed = failed };
        }
        if (n > 1)
                qsort(out, n, sizeof(*out), compare_entries);

        if (n_cur > 0)
                memcpy(copy, cur, n_cur * sizeof(*copy));
        free(s->last);
        s->last = copy;
        s->n_last = n_cur;

        *ret = out;
        *ret_n = n;
        return 0;
}

void summary_forget(Summary *s, bool has_uid, uint32_t uid) {
        size_t k = 0;

        if (!has_uid) {
                s->n_last = 0;
                return;
        }
        for (size_t i = 0; i < s->n_last; i++)
                if (s->last[i].uid != uid)
                        s->last[k++] = s->last[i];
        s->n_last = k;
}
