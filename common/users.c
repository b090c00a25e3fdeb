/* SPDX-License-Identifier: GPL-2.0-or-later */
/* users.c: user names for UIDs and back, looked up once each. */

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "users.h"

typedef struct Entry {
        uint32_t uid;
        char *name; /* NULL: no such user */
        size_t seq; /* order of arrival, so that the first of a UID's entries wins */
} Entry;

struct UserCache {
        Entry *entries; /* sorted by UID */
        size_t n, alloc;
        bool complete; /* every user the database lists is in: no lookups */
};

int user_cache_new(UserCache **ret) {
        UserCache *c = calloc(1, sizeof(UserCache));

        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

UserCache *user_cache_free(UserCache *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++)
                free(c->entries[i].name);
        free(c->entries);
        free(c);
        return NULL;
}

/* Where uid is, or would go. */
static size_t find(const UserCache *c, uint32_t uid) {
        size_t lo = 0, hi = c->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (c->entries[mid].uid < uid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Room for one more entry. */
static int grow(UserCache *c) {
        size_t n;
        Entry *e;

        if (c->n < c->alloc)
                return 0;
        n = c->alloc ? c->alloc * 2 : 32;
        e = reallocarray(c->entries, n, sizeof(*e));
        if (!e)
                return -ENOMEM;
        c->entries = e;
        c->alloc = n;
        return 0;
}

static int insert(UserCache *c, size_t at, uint32_t uid, const char *name) {
        char *copy = NULL;

        if (grow(c) < 0)
                return -ENOMEM;
        if (name && !(copy = strdup(name)))
                return -ENOMEM;
        memmove(c->entries + at + 1, c->entries + at, (c->n - at) * sizeof(*c->entries));
        c->entries[at] = (Entry) { .uid = uid, .name = copy };
        c->n++;
        return 0;
}

static int compare_entries(const void *a, const void *b) {
        const Entry *x = a, *y = b;

        if (x->uid != y->uid)
                return x->uid < y->uid ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

size_t user_cache_size(const UserCache *c) {
        return c->n;
}

int user_cache_expect(UserCache *c, size_t n_uids) {
        struct passwd *pw;
        size_t sorted = c->n;
        int r = 0;

        if (n_uids <= USER_CACHE_BULK || c->complete)
                return 0;
        /* Appended, sorted once at the end; the first name of a UID listed twice wins. */
        setpwent();
        while (r >= 0 && (pw = getpwent())) {
                r = grow(c);
                if (r < 0)
                        break;
                c->entries[c->n] = (Entry) { .uid = (uint32_t) pw->pw_uid, .name = strdup(pw->pw_name), .seq = c->n };
                if (!c->entries[c->n].name)
                        r = -ENOMEM;
                else
                        c->n++;
        }
        endpwent();
        if (r < 0) {
                for (size_t i = sorted; i < c->n; i++)
                        free(c->entries[i].name);
                c->n = sorted;
                return r;
        }
        qsort(c->entries, c->n, sizeof(*c->entries), compare_entries);
        /* Duplicates out: the earlier lookups and the database's first entry stay. */
        size_t w = 0;
        for (size_t i = 0; i < c->n; i++) {
                if (w > 0 && c->entries[w - 1].uid == c->entries[i].uid) {
                        free(c->entries[i].name);
                        continue;
                }
                c->entries[w++] = c->entries[i];
        }
        c->n = w;
        c->complete = true;
        return 0;
}

const char *user_cache_name(UserCache *c, uint32_t uid) {
        struct passwd *pw;
        size_t at = find(c, uid);

        if (at < c->n && c->entries[at].uid == uid)
                return c->entries[at].name;
        if (c->complete)
                return NULL;
        errno = 0;
        pw = getpwuid((uid_t) uid);
        if (insert(c, at, uid, pw ? pw->pw_name : NULL) < 0)
                return NULL;
        return c->entries[at].name;
}

int user_to_uid(const char *name, uint32_t *ret) {
        struct passwd *pw;
        uint32_t uid;

        if (parse_uint32(name, &uid) >= 0 && uid != UINT32_MAX) {
                *ret = uid;
                return 0;
        }
        pw = getpwnam(name);
        if (!pw)
                return -ESRCH;
        *ret = (uint32_t) pw->pw_uid;
        return 0;
}
