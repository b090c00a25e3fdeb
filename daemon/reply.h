/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reply.h: what the state of every reply written in parts starts with (stats-reply.c,
 * watch.c). */
#pragma once

#include <stdbool.h>

/* Why a reply is refused, or a stream ends, with LimitExceeded before it starts. */
#define REPLY_LIMIT_REASON \
        "the reply would take more than the caller's UID may hold of the daemon's buffers (MaxBufferPerUID=)"

/* Whether the reply holds other UIDs' counts or events, which a client that loses its
 * privilege may no longer be sent. */
typedef struct ReplyHeader {
        bool others;
} ReplyHeader;
