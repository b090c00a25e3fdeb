/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods.h: the io.execcount and org.varlink.service methods. */
#pragma once

#include "manager.h"
#include "server.h"
#include "varlink.h"

/* The server's callbacks; userdata is the Manager. */
void methods_dispatch(Server *s, Connection *c, const VarlinkCall *call, void *userdata);
/* Root and the members of the access group see every UID. */
bool methods_privileged(const struct ucred *peer, const gid_t *groups, size_t n_groups, void *userdata);
/* A client left the access group: what it is being sent of others' ends. */
void methods_revoked(Connection *c, void *userdata);
