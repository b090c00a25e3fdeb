/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reply.h: what the state of every reply written in parts starts with (stats-reply.c,
 * watch.c). */
#pragma once

#include <stdbool.h>

/* Whether the reply holds other UIDs' counts or events, which a client that loses its
 * privilege may no longer be sent. */
typedef struct ReplyHeader {
        bool others;
} ReplyHeader;
