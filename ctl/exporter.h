/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exporter.h: execcountd-metrics' answers: one reading of the counts, shared by the
 * requests of a second, and the bodies rendered from it, shared by the connections that
 * send them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "http.h"
#include "macro.h"
#include "metrics.h"

/* Requests within this long of a reading of the counts are answered from it: one client
 * asking a thousand times a second costs the daemon one call a second. */
#define SNAPSHOT_USEC (1 * USEC_PER_SEC)

/* An answer's body, shared by every connection sending it. */
typedef struct Body {
        unsigned refs;
        size_t len;
        char data[];
} Body;

Body *body_ref(Body *b);
Body *body_unref(Body *b);

typedef struct Snapshot {
        uint64_t taken_usec; /* CLOCK_MONOTONIC; 0: none yet */
        bool failed;         /* the daemon did not answer: 503 until the next reading */
        MetricsSource source;
        Body *bodies[2][2]; /* [openmetrics][gzip], made when first asked for */
} Snapshot;

void snapshot_done(Snapshot *s);

/* What a connection sends: the head, then the body (NULL for HEAD). */
typedef struct Answer {
        char *head;
        size_t head_len;
        Body *body;
} Answer;

void answer_done(Answer *a);

/* The answer to req: for 200, from *snap if it is recent, else from a new reading of the
 * counts (asking the daemon at args->socket), which replaces it. -ENOMEM. *daemon_down
 * says whether the daemon's failure was said already (said once until it answers). */
int answer_make(const HttpRequest *req, const Args *args, Snapshot *snap, bool *daemon_down, Answer *ret);
