/* SPDX-License-Identifier: GPL-2.0-or-later */
/* watch.h: who is waiting for exec events, and the replies that carry them. Watch
 * streams subscribe with a filter and get every event that passes it; GetEvents replies
 * take kept events, once the ring buffer has been read up to their call. Events are held
 * by reference and written as the client takes them; what each reply holds is charged to
 * the client's UID.
 *
 * The manager feeds every event read from the ring buffer to watchers_push(), beside the
 * journal and the history. This module calls up only through what it is handed: the
 * watching callback of watchers_new() and a GetEvents reply's EventsSource. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "reply.h"
#include "server.h"

typedef struct EventsReply EventsReply;

typedef struct EventsFilter {
        bool has_uid;
        uint32_t uid;
        /* The client sees every UID: also arguments exec_event_argv_restricted() keeps
         * from the event's own UID. */
        bool see_restricted;
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

/* watching(true, userdata) is called once the first stream has started, watching(false,
 * userdata) once the last has ended; nothing in between, so that streams coming and going
 * beside another cost no more than their own work. */
int watchers_new(void (*watching)(bool any, void *userdata), void *userdata, Watchers **ret);
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
 * watchers_push() that filter takes, until it ends with its connection. */
int watch_start(Watchers *w, Connection *c, const ExecEvent *const *events, size_t n, const EventsFilter *filter);
/* Hands e to every stream whose filter takes it; a stream that goes over its buffer
 * share ends with LimitExceeded. Returns how many streams it was handed to. */
size_t watchers_push(Watchers *w, ExecEvent *e);
