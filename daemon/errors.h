/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errors.h: the errors the methods answer with. Each replies on c and returns what
 * connection_error() did; out of memory even for the error, the connection is closed. */
#pragma once

#include "ratelimit.h"
#include "server.h"

/* KernelError with ENOMEM (logged). */
int reply_oom(Connection *c);
/* InvalidParameter naming the parameter. */
int reply_invalid_parameter(Connection *c, const char *name);
/* KernelError: what failed, and why (logged as a warning). */
int reply_kernel_error(Connection *c, int error, const char *what);
/* LimitExceeded: the reply would not fit the caller's share of the buffers. */
int reply_limit_exceeded(Connection *c);
/* PermissionDenied; what was refused is logged within the denials rate limit. */
int reply_permission_denied(RateLimit *denials, Connection *c, const char *what);
/* StateError: a reset whose snapshot could not be written to dir, so nothing was reset. */
int reply_state_error(Connection *c, const char *dir, int error);
