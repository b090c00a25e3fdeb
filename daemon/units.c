/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units.c: the per-(cgroup, UID) counts of the kernel's units map, the cgroups' systemd
 * unit names, and which cgroups still exist. */

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "counts.h"
#include "macro.h"
#include "units.h"

/* Names deleted per batch. */
#define NAMES_CHUNK 64

/* The most components of a path named. */
#define PATH_COMPONENTS_MAX 64

static int compare_uint32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return x < y ? -1 : x > y;
}

/* Adds k to the places uid was given back. Only the daemon writes this entry. */
static int give_back(int units_fd, uint32_t uid, uint64_t k) {
        struct exec_unit_key key = { .cgroup_id = EXEC_UNIT_RETURNED, .uid = uid };
        struct exec_unit_count v = {};

        if (bpf_map_lookup_elem(units_fd, &key, &v) < 0 && errno != ENOENT)
                return negative_errno();
        v.execs += k;
        return bpf_map_update_elem(units_fd, &key, &v, BPF_ANY) < 0 ? negative_errno() : 0;
}

int units_forget(int units_fd, int names_fd, const UnitLive *gone, size_t n, bool *ret_deleted) {
        _cleanup_(freep) uint32_t *uids = calloc(n ? n : 1, sizeof(*uids));
        size_t k = 0;
        int r = 0;

        if (!uids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                struct exec_unit_key key = { .cgroup_id = gone[i].cgroup_id, .uid = gone[i].uid };
                struct exec_unit_count now;

                if (ret_deleted)
                        ret_deleted[i] = false;
                /* Only as read: execs after the read (made before the cgroup ended) are
                 * not in the totals yet, and the entry waits for the next snapshot. */
                if (bpf_map_lookup_elem(units_fd, &key, &now) < 0 || now.execs != gone[i].execs ||
                    now.failed != gone[i].failed)
                        continue;
                if (bpf_map_delete_elem(units_fd, &key) < 0) {
                        if (errno != ENOENT)
                                r = negative_errno();
                        continue;
                }
                if (ret_deleted)
                        ret_deleted[i] = true;
                (void) bpf_map_delete_elem(names_fd, &key.cgroup_id);
                if (key.cgroup_id != EXEC_UNIT_OTHER)
                        uids[k++] = key.uid;
        }
        qsort(uids, k, sizeof(*uids), compare_uint32);
        for (size_t i = 0, j; i < k; i = j) {
                int q;

                for (j = i; j < k && uids[j] == uids[i]; j++)
                        ;
                q = give_back(units_fd, uids[i], j - i);
                if (q < 0)
                        r = q;
        }
        return r;
}

int units_reset(int units_fd, int names_fd, bool has_uid, uint32_t uid) {
        _cleanup_(freep) struct exec_unit_key *keys = NULL;
        _cleanup_(freep) struct exec_unit_count *values = NULL;
        size_t n;
        int r;

        r = counts_read_map(units_fd, EXECCOUNT_UNITS_CAPACITY, sizeof(*keys), sizeof(*values), (void **) &keys,
                            (void **) &values, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if ((!has_uid || keys[i].uid == uid) && bpf_map_delete_elem(units_fd, &keys[i]) < 0 &&
                    errno != ENOENT)
                        r = negative_errno();
        if (has_uid)
                return r;
        /* Names of cgroups that still exist are written again at their next exec. A few
         * at a time, from the start again each time: the values are large. */
        for (;;) {
                _cleanup_(freep) struct exec_cgroup_name *names = calloc(NAMES_CHUNK, sizeof(*names));
                uint64_t ids[NAMES_CHUNK], token;
                __u32 count = NAMES_CHUNK;
                int q;

                if (!names)
                        return -ENOMEM;
                q = bpf_map_lookup_batch(names_fd, NULL, &token, ids, names, &count, NULL);
                if (q < 0 && q != -ENOENT)
                        return q;
                if (count == 0)
                        break;
                q = bpf_map_delete_batch(names_fd, ids, &count, NULL);
                if (q < 0 && q != -ENOENT)
                        return q;
        }
        return r;
}

/* ---- Names */

static bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static bool is_slice(const char *s) {
        return endswith(s, ".slice") && strlen(s) > strlen(".slice");
}

/* Whether s looks like a unit name: a name, a dot, a unit type systemd puts in a cgroup. */
static bool is_unit(const char *s) {
        static const char *const types[] = { ".service", ".scope", ".slice", ".socket", ".mount", ".swap" };
        const char *dot = strrchr(s, '.');

        if (!dot || dot == s)
                return false;
        for (size_t i = 0; i < ELEMENTSOF(types); i++)
                if (streq(dot, types[i]))
                        return true;
        return false;
}

/* Cuts *s to UNIT_NAME_MAX bytes, "..." marking the cut. */
static void cap(char *s) {
        if (strlen(s) > UNIT_NAME_MAX)
                strcpy(s + UNIT_NAME_MAX - 3, "...");
}

static int join(const char *const *c, size_t n, const char *prefix, char **ret) {
        size_t len = strlen(prefix) + 1;
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                len += strlen(c[i]) + 1;
        s = malloc(len);
        if (!s)
                return -ENOMEM;
        p = stpcpy(s, prefix);
        for (size_t i = 0; i < n; i++) {
                if (i > 0)
                        *p++ = '/';
                p = stpcpy(p, c[i]);
        }
        cap(s);
        *ret = s;
        return 0;
}

/* complete: c holds the cgroup's whole path, not only its first levels. */
static int name_of(const char *const *c, size_t n, bool complete, char **ret) {
        size_t i = 0, j;
        char *s;

        while (i < n && is_slice(c[i]))
                i++;
        if (i == n) {
                if (!complete)
                        goto unknown;
                s = strdup(n ? c[n - 1] : "-.slice");
                goto done;
        }
        /* Not made by systemd: the path says most. */
        if (!is_unit(c[i]))
                return join(c, n, "/", ret);
        if (strncmp(c[i], "user@", 5) == 0 && endswith(c[i], ".service") && i + 1 < n) {
                for (j = i + 1; j < n && is_slice(c[j]); j++)
                        ;
                if (j == n && !complete)
                        goto unknown;
                if (asprintf(&s, "%s/%s", c[i], c[j < n ? j : n - 1]) < 0)
                        return -ENOMEM;
                cap(s);
                *ret = s;
                return 0;
        }
        s = strdup(c[i]);
done:
        if (!s)
                return -ENOMEM;
        cap(s);
        *ret = s;
        return 0;
unknown:
        s = strdup(UNIT_UNKNOWN);
        goto done;
}

int unit_name_of_record(const struct exec_cgroup_name *rec, uint64_t root_id, char **ret) {
        char copy[EXECCOUNT_CGROUP_DEPTH][EXECCOUNT_CGROUP_NAME_LEN + 1];
        const char *c[EXECCOUNT_CGROUP_DEPTH];
        size_t kept = MIN((size_t) rec->level, (size_t) EXECCOUNT_CGROUP_DEPTH), from = 0;
        char *s;

        if (root_id != 1) {
                size_t i;

                for (i = 0; i < kept && rec->ancestor_id[i] != root_id; i++)
                        ;
                if (i == kept) {
                        s = strdup(UNIT_OUTSIDE);
                        if (!s)
                                return -ENOMEM;
                        *ret = s;
                        return 0;
                }
                from = i + 1;
        }
        /* The programs end each name with a NUL; the map is not trusted to. */
        for (size_t i = from; i < kept; i++) {
                size_t len = strnlen(rec->name[i], EXECCOUNT_CGROUP_NAME_LEN);

                memcpy(copy[i], rec->name[i], len);
                copy[i][len] = '\0';
                c[i - from] = copy[i];
        }
        return name_of(c, kept - from, rec->level <= EXECCOUNT_CGROUP_DEPTH, ret);
}

int unit_name_of_path(const char *path, char **ret) {
        _cleanup_(freep) char *copy = strdup(path);
        const char *c[PATH_COMPONENTS_MAX];
        size_t n = 0;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, "/", &save); t && n < ELEMENTSOF(c); t = strtok_r(NULL, "/", &save))
                c[n++] = t;
        return name_of(c, n, true, ret);
}

char *unit_machine(const char *unit) {
        size_t len = strlen(unit);
        char *m, *p;

        if (strncmp(unit, "machine-", 8) != 0 || !endswith(unit, ".scope") || len <= 8 + 6)
                return NULL;
        m = strndup(unit + 8, len - 8 - 6);
        if (!m)
                return NULL;
        /* systemd escapes a '-' in the name as \x2d, and other bytes alike. */
        p = m;
        for (const char *s = m; *s;) {
                unsigned v;

                if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1 && v != 0 && s[2] && s[3]) {
                        *p++ = (char) v;
                        s += 4;
                } else
                        *p++ = *s++;
        }
        *p = '\0';
        return m;
}
