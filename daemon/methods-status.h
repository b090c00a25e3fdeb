/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods-status.h: the GetStatus reply, part of the methods (it reads the manager's
 * state). */
#pragma once

#include "access.h"
#include "manager.h"
#include "server.h"

/* Replies to c with the status as a caller of scope may see it. */
int methods_status_reply(Manager *m, Connection *c, AccessScope scope);
