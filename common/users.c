/* SPDX-License-Identifier: GPL-2.0-or-later */
/* users.c: user names for UIDs and back, looked up once each. */

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "users.h"

typedef struct Entry {
        uint32_t uid;
        char *name; /* NULL: no such user */
} Entry;

struct UserCache {
        Entry *entries;
        size_t n, alloc;
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

const char *user_cache_name(UserCache *c, uint32_t uid) {
        struct passwd *pw;

        for (size_t i = 0; i < c->n; i++)
                if (c->entries[i].uid == uid)
                        return c->entries[i].name;

        if (c->n == c->alloc) {
                size_t n = c->alloc ? c->alloc * 2 : 32;
                Entry *e = reallocarray(c->entries, n, sizeof(*e));

                if (!e)
                        return NULL;
                c->entries = e;
                c->alloc = n;
        }
        errno = 0;
        pw = getpwuid((uid_t) uid);
        c->entries[c->n] = (Entry) { .uid = uid, .name = pw ? strdup(pw->pw_name) : NULL };
        return c->entries[c->n++].name;
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
