/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods.h: the io.execcount and org.varlink.service methods. */
#pragma once

#include "event.h"
#include "manager.h"
#include "server.h"
#include "varlink.h"

/* The server's call handler; userdata is the Manager. */
void methods_dispatch(Server *s, Connection *c, const VarlinkCall *call, void *userdata);

/* Sends e to every Watch subscriber whose filter it passes. */
void methods_broadcast_event(Manager *m, const ExecEvent *e);
