/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status.h: the GetStatus reply. */
#pragma once

#include "access.h"
#include "manager.h"
#include "server.h"

/* Replies to c with the status as a caller of scope may see it. */
int status_reply(Manager *m, Connection *c, AccessScope scope);
