/* SPDX-License-Identifier: GPL-2.0-or-later */
/* methods-internal.h: what the parts of the methods share. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "access.h"
#include "manager.h"
#include "server.h"
#include "varlink.h"

/* Checks the call's parameters against its declaration; replies with the error if bad. */
bool parameters_ok(Connection *c, const VarlinkCall *call, const VarlinkField *fields, size_t n);
AccessScope caller_scope(Manager *m, Connection *c);
/* Reads the optional UID parameter name; replies with the error if it is not one. */
bool get_uid_parameter(Connection *c, const VarlinkCall *call, const char *name, bool *ret_has, uint32_t *ret_uid);
bool get_uid(Connection *c, const VarlinkCall *call, bool *ret_has, uint32_t *ret_uid);
/* Reads the optional "uid" parameter of a query, narrowed to what the caller may see;
 * replies with the error if it asks for more. */
bool get_visible_uid(Manager *m, Connection *c, const VarlinkCall *call, AccessScope scope, bool *ret_has,
                     uint32_t *ret_uid);

/* methods-rows.c */
int method_get_stats(Manager *m, Connection *c, const VarlinkCall *call);
int method_get_logins(Manager *m, Connection *c, const VarlinkCall *call);
int method_get_units(Manager *m, Connection *c, const VarlinkCall *call);
