/* SPDX-License-Identifier: GPL-2.0-or-later */
/* users.h: user names for UIDs and back, looked up once each. */
#pragma once

#include <stdint.h>

#include "macro.h"

typedef struct UserCache UserCache;

int user_cache_new(UserCache **ret);
UserCache *user_cache_free(UserCache *c);
DEFINE_POINTER_CLEANUP(UserCache, user_cache_free);

/* The user name of uid, or NULL if it has none. Valid as long as the cache. */
const char *user_cache_name(UserCache *c, uint32_t uid);
/* How many UIDs the cache knows (names and their absence). */
size_t user_cache_size(const UserCache *c);

/* Names for this many UIDs are about to be asked for. Beyond USER_CACHE_BULK of them, one
 * pass over the user database (getpwent) answers them all, rather than a lookup each,
 * which costs about 100 us with nss-systemd; a UID the database does not list then has
 * no name. */
#define USER_CACHE_BULK 64
int user_cache_expect(UserCache *c, size_t n_uids);

/* A user name, or a number, to a UID. -ESRCH if no such user. */
int user_to_uid(const char *name, uint32_t *ret);
