/* SPDX-License-Identifier: GPL-2.0-or-later */
/* replies.h: the replies written in parts, each a producer for connection_produce():
 * GetStats (the counts read at the call), GetEvents and Watch (events held by reference,
 * written as the client takes them). What each holds is charged to the client's UID. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "counts.h"
#include "event.h"
#include "persist.h"
#include "server.h"
#include "uidmap.h"

/* Every reply state starts with this: whether it holds other UIDs' counts or events, which
 * a client that loses its privilege may no longer be sent. */
typedef struct ReplyHeader {
        bool others;
} ReplyHeader;

/* GetStats: with "more", in complete replies of STATS_PART users each; else one reply,
 * written a chunk at a time. */
#define STATS_PART 2048

typedef struct StatsReplyInfo {
        AccessScope scope;
        uint64_t since_usec;
        uint64_t map_full_execs, map_full_failed;
        int64_t realtime_offset_usec;
        const Persist *persist; /* last-exec times kept in the state file */
        bool parts;
} StatsReplyInfo;

/* Takes users (sorted by UID), also on failure; -ENOBUFS when they do not fit the client's
 * buffer share. */
int stats_reply_start(Connection *c, UserCount *users, size_t n, const StatsReplyInfo *info);

/* GetEvents and Watch. */
typedef struct EventsReply EventsReply;

typedef struct EventsFilter {
        bool has_uid;
        uint32_t uid;
} EventsFilter;

/* GetEvents: the reply holding events[0..n) (oldest first). -ENOBUFS when they do not fit
 * the client's buffer share. */
int events_reply_start(Connection *c, const ExecEvent *const *events, size_t n, const EventsFilter *filter);

/* Where the events a GetEvents reply holds come from, once the ring buffer has been
 * read up to its call. */
typedef struct EventsSource {
        /* The newest limit kept events that filter takes, oldest first: a calloc()ed
         * array the caller frees. */
        int (*query)(void *userdata, const EventsFilter *filter, size_t limit, const ExecEvent ***ret,
                     size_t *ret_n);
        /* Whether the ring buffer has been read up to mark; if not, asks for the next
         * batch soon. */
        bool (*reached)(void *userdata, uint64_t mark);
        void *userdata;
} EventsSource;
/* The Watch streams, indexed by the UID they filter on, so that an event costs only
 * the streams that take it, however many others there are. */
typedef struct Watchers Watchers;

int watchers_new(Watchers **ret);
/* The streams must be gone first (with their connections). */
Watchers *watchers_free(Watchers *w);
DEFINE_POINTER_CLEANUP(Watchers, watchers_free);
size_t watchers_count(const Watchers *w);

/* GetEvents, for a call made while events before it still wait in the ring buffer: the
 * reply is written once they have been read (watchers_read() says when to look), with
 * the events source gives then. */
int events_reply_wait(Watchers *w, Connection *c, const EventsFilter *filter, size_t limit, uint64_t mark,
                      const EventsSource *source);
/* Records were read from the ring buffer: the GetEvents replies that wait for them look
 * again. */
void watchers_read(Watchers *w);

/* Watch: a stream that sends events[0..n) (the backlog), then every event given to
 * watchers_push() that filter takes; gone(userdata) is called when it ends (with the
 * connection). */
int watch_start(Watchers *w, Connection *c, const ExecEvent *const *events, size_t n, const EventsFilter *filter,
                void (*gone)(void *userdata), void *userdata);
/* Hands e to every stream whose filter takes it; a stream that goes over its buffer
 * share ends with LimitExceeded. */
void watchers_push(Watchers *w, ExecEvent *e);
