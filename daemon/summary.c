/* SPDX-License-Identifier: GPL-2.0-or-later */
/* summary.c: each UID's execs since the last summary, from two snapshots of the counts. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "summary.h"

void summary_done(Summary *s) {
        free(s->last);
        unit_rows_free(s->last_units, s->n_last_units);
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

static int compare_unit_rows(const UnitRow *x, const UnitRow *y) {
        int c = strcmp(x->unit, y->unit);

        return c ? c : x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int compare_units(const void *a, const void *b) {
        const SummaryUnit *x = a, *y = b;

        if (x->execs != y->execs)
                return x->execs > y->execs ? -1 : 1;
        if (x->failed != y->failed)
                return x->failed > y->failed ? -1 : 1;
        return strcmp(x->unit, y->unit);
}

void summary_units_free(SummaryUnit *u, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(u[i].unit);
        free(u);
}

int summary_take_units(Summary *s, const UnitRow *cur, size_t n_cur, SummaryUnit **ret, size_t *ret_n) {
        SummaryUnit *out = calloc(n_cur + 1, sizeof(*out));
        UnitRow *copy = calloc(n_cur + 1, sizeof(*copy));
        size_t n = 0, j = 0;

        if (!out || !copy)
                goto oom;
        for (size_t i = 0; i < n_cur; i++) {
                uint64_t execs = cur[i].execs, failed = cur[i].failed;

                copy[i] = cur[i];
                copy[i].machine = NULL; /* not summed up; owned by cur */
                copy[i].unit = strdup(cur[i].unit);
                if (!copy[i].unit)
                        goto oom;
                /* Both lists are sorted by unit and UID: walk them together. */
                while (j < s->n_last_units && compare_unit_rows(&s->last_units[j], &cur[i]) < 0)
                        j++;
                if (j < s->n_last_units && compare_unit_rows(&s->last_units[j], &cur[i]) == 0 &&
                    execs >= s->last_units[j].execs && failed >= s->last_units[j].failed) {
                        execs -= s->last_units[j].execs;
                        failed -= s->last_units[j].failed;
                }
                if (execs == 0 && failed == 0)
                        continue;
                /* Rows of one unit are next to each other. */
                if (n > 0 && streq(out[n - 1].unit, cur[i].unit)) {
                        out[n - 1].execs += execs;
                        out[n - 1].failed += failed;
                        continue;
                }
                out[n].unit = strdup(cur[i].unit);
                if (!out[n].unit)
                        goto oom;
                out[n].execs = execs;
                out[n++].failed = failed;
        }
        if (n > 1)
                qsort(out, n, sizeof(*out), compare_units);
        unit_rows_free(s->last_units, s->n_last_units);
        s->last_units = copy;
        s->n_last_units = n_cur;
        *ret = out;
        *ret_n = n;
        return 0;
oom:
        summary_units_free(out, n);
        if (copy)
                for (size_t i = 0; i < n_cur; i++)
                        free(copy[i].unit);
        free(copy);
        return -ENOMEM;
}

void summary_forget(Summary *s, bool has_uid, uint32_t uid) {
        size_t k = 0;

        if (!has_uid) {
                s->n_last = 0;
                unit_rows_free(s->last_units, s->n_last_units);
                s->last_units = NULL;
                s->n_last_units = 0;
                return;
        }
        for (size_t i = 0; i < s->n_last; i++)
                if (s->last[i].uid != uid)
                        s->last[k++] = s->last[i];
        s->n_last = k;
        k = 0;
        for (size_t i = 0; i < s->n_last_units; i++)
                if (s->last_units[i].uid != uid)
                        s->last_units[k++] = s->last_units[i];
                else
                        free(s->last_units[i].unit);
        s->n_last_units = k;
}
