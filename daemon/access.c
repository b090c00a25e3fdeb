/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access.c: who may see and change what over the socket. */

#include <errno.h>

#include "access.h"

AccessScope access_scope(uid_t peer_uid, bool in_group) {
        return peer_uid == 0 || in_group ? ACCESS_ALL : ACCESS_OWN;
}

const char *access_scope_to_string(AccessScope scope) {
        return scope == ACCESS_ALL ? "all" : "own";
}

int access_filter_uid(AccessScope scope, uid_t peer_uid, bool *has_uid, uint32_t *uid) {
        if (scope == ACCESS_ALL)
                return 0;
        if (*has_uid && *uid != (uint32_t) peer_uid)
                return -EPERM;
        *has_uid = true;
        *uid = (uint32_t) peer_uid;
        return 0;
}

bool access_sees_login(AccessScope scope, uid_t peer_uid, uint32_t login_uid, uint32_t uid) {
        return scope == ACCESS_ALL || uid == (uint32_t) peer_uid || login_uid == (uint32_t) peer_uid;
}

bool access_may_change(uid_t peer_uid) {
        return peer_uid == 0;
}
