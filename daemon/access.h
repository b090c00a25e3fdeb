/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access.h: who may see and change what over the socket. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum AccessScope {
        ACCESS_ALL, /* root, or a member of [Access] Group= */
        ACCESS_OWN, /* anyone else: only what their own UID did */
} AccessScope;

/* The scope of a peer with this UID that is (or is not) in the access group. */
AccessScope access_scope(uid_t peer_uid, bool in_group);
const char *access_scope_to_string(AccessScope scope);

/* Narrows a query's optional UID filter to what the caller may see: for ACCESS_OWN, no
 * filter becomes the peer's own UID. Returns -EPERM, leaving the filter alone, when the
 * caller asks for another UID. */
int access_filter_uid(AccessScope scope, uid_t peer_uid, bool *has_uid, uint32_t *uid);

/* Whether the peer sees the execs of uid under login_uid: for ACCESS_OWN, when either is
 * its own (its execs, or those made in its login sessions after a change of UID, as with
 * sudo or su). */
bool access_sees_login(AccessScope scope, uid_t peer_uid, uint32_t login_uid, uint32_t uid);

/* Whether the peer may reset counts or reload the configuration: root only, since these
 * change what everyone sees. */
bool access_may_change(uid_t peer_uid);
