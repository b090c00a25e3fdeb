/* SPDX-License-Identifier: GPL-2.0-or-later */
/* watch.c: Watch streams and GetEvents replies: subscriptions, filters, broadcast.
 *
 * Written, not built as JSON trees, about EVENTS_PART bytes a turn, as GetStats. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "protocol.h"
#include "uidmap.h"
#include "watch.h"

/* What a turn writes: less than CONNECTION_CHUNK, so that the text of a part, most events
 * being short, stays below the daemon's mmap threshold (main.c) with room for a last
 * event: heap memory that the next part reuses, rather than pages mapped, faulted in and
 * unmapped for each part of a stream that takes every event. */
#define EVENTS_PART (48 * 1024)

struct Watchers {
        UidMap *by_uid; /* uid -> EventsReply *: the first of the streams filtering on it */
        EventsReply *all; /* the streams of every UID */
        size_t n;
        EventsReply *waiting; /* GetEvents replies waiting for the ring buffer */
        void (*watching)(bool any, void *userdata);
        void *userdata;
};

struct EventsReply {
        ReplyHeader header;
        Connection *connection;
        EventsFilter filter;
        Watchers *watchers; /* a Watch stream's registry, or NULL */
        EventsReply *prev, *next; /* in it */
        /* A GetEvents reply waiting for the ring buffer to be read up to mark, in the
         * registry's waiting list, before it takes limit events from source. */
        bool waiting;
        uint64_t mark;
        size_t limit;
        EventsSource source;
        bool stream; /* Watch: notifications; else the one GetEvents reply */
        bool started, written;
        /* Events to write, oldest first: queue[head..tail). */
        ExecEvent **queue;
        size_t head, tail, alloc;
        size_t charged;
};

static size_t event_charge(const ExecEvent *e) {
        return exec_event_size(e) + sizeof(ExecEvent *);
}

static void watchers_remove(Watchers *w, EventsReply *r);

static void events_reply_free(void *p) {
        EventsReply *r = p;

        if (r->watchers)
                watchers_remove(r->watchers, r);
        for (size_t i = r->head; i < r->tail; i++)
                exec_event_unref(r->queue[i]);
        connection_uncharge(r->connection, r->charged);
        free(r->queue);
        free(r);
}

/* Room for one more event in the queue; the queue itself is charged too. */
static int events_reply_room(EventsReply *r) {
        size_t alloc;
        ExecEvent **q;
        int k;

        if (r->tail < r->alloc)
                return 0;
        /* Moved to the front first: a stream that keeps up never grows. */
        if (r->head > 0) {
                memmove(r->queue, r->queue + r->head, (r->tail - r->head) * sizeof(*r->queue));
                r->tail -= r->head;
                r->head = 0;
                return 0;
        }
        alloc = MAX(r->alloc * 2, (size_t) 64);
        k = connection_charge(r->connection, (alloc - r->alloc) * sizeof(*q));
        if (k < 0)
                return k;
        q = reallocarray(r->queue, alloc, sizeof(*q));
        if (!q) {
                connection_uncharge(r->connection, (alloc - r->alloc) * sizeof(*q));
                return -ENOMEM;
        }
        r->charged += (alloc - r->alloc) * sizeof(*q);
        r->queue = q;
        r->alloc = alloc;
        return 0;
}

/* Queue entries kept when the queue is empty: a flush interval's events at thousands of
 * execs a second, which a follower taking every event gets each time, rather than the
 * queue growing from nothing in four reallocations every interval. */
#define QUEUE_KEEP 1024

/* A queue that grew while its client did not read goes once it is empty again. */
static void events_reply_shrink(EventsReply *r) {
        if (r->head < r->tail)
                return;
        /* Empty: filled from the front again, with nothing to move. */
        r->head = r->tail = 0;
        if (r->alloc <= QUEUE_KEEP)
                return;
        connection_uncharge(r->connection, r->alloc * sizeof(*r->queue));
        r->charged -= r->alloc * sizeof(*r->queue);
        free(r->queue);
        r->queue = NULL;
        r->head = r->tail = r->alloc = 0;
}

/* Holds e to be written, charging it unless charged already; -ENOBUFS when it does not
 * fit the client's share. */
static int events_reply_add(EventsReply *r, ExecEvent *e, bool charged) {
        size_t n = event_charge(e);
        int k;

        if (!charged) {
                k = connection_charge(r->connection, n);
                if (k < 0)
                        return k;
                r->charged += n;
        }
        k = events_reply_room(r);
        if (k < 0) {
                if (!charged) {
                        connection_uncharge(r->connection, n);
                        r->charged -= n;
                }
                return k;
        }
        r->queue[r->tail++] = exec_event_ref(e);
        return 0;
}

static int events_reply_fill(EventsReply *r, const ExecEvent *const *events, size_t n);

/* The ring buffer has been read up to the call: the events are taken now. */
static int events_reply_unwait(EventsReply *r) {
        _cleanup_(freep) const ExecEvent **list = NULL;
        size_t n;
        int k;

        if (!r->source.reached(r->source.userdata, r->mark))
                return PRODUCE_WAIT;
        watchers_remove(r->watchers, r);
        k = r->source.query(r->source.userdata, &r->filter, r->limit, &list, &n);
        if (k >= 0)
                k = events_reply_fill(r, list, n);
        if (k == -ENOBUFS) {
                _cleanup_(freep) char *m = NULL;
                _cleanup_(json_object_putp) json_object *p = json_object_new_object();
                size_t len;

                /* Nothing of the reply is written yet: the call just fails. */
                if (!p || json_object_object_add(p, "reason", json_object_new_string(REPLY_LIMIT_REASON)) != 0 ||
                    varlink_error_format(EXECCOUNT_ERROR_LIMIT, p, &m, &len) < 0)
                        return -ENOMEM;
                k = connection_write(r->connection, m, len);
                return k < 0 ? k : PRODUCE_DONE;
        }
        return k < 0 ? k : PRODUCE_MORE;
}

static int events_reply_produce(Connection *c, void *state) {
        EventsReply *r = state;
        size_t uncharge = 0;
        Text t = {};
        int k;

        if (r->waiting) {
                k = events_reply_unwait(r);
                if (k != PRODUCE_MORE)
                        return k;
        }

        if (r->head < r->tail)
                (void) text_reserve(&t, EVENTS_PART + 4096);
        if (!r->stream && !r->started) {
                text_add(&t, "{\"parameters\":{\"events\":[");
                r->started = true;
        }
        while (r->head < r->tail && t.len < EVENTS_PART) {
                ExecEvent *e = r->queue[r->head++];
                size_t n = event_charge(e);

                if (r->stream)
                        text_add(&t, "{\"parameters\":{\"event\":");
                else if (r->written)
                        text_add_char(&t, ',');
                exec_event_write_json(&t, e, r->filter.see_restricted);
                if (r->stream)
                        text_add_len(&t, "},\"continues\":true}", strlen("},\"continues\":true}") + 1);
                r->written = true; /* the next needs a comma */
                uncharge += n;
                exec_event_unref(e);
        }
        /* Once for the part, not for each event. */
        connection_uncharge(c, uncharge);
        r->charged -= uncharge;
        if (!r->stream && r->head == r->tail)
                text_add_len(&t, "]}}", 4);
        events_reply_shrink(r);
        if (t.len > 0) {
                k = connection_write_text(c, &t);
                if (k < 0)
                        return k;
        } else
                text_done(&t);
        if (r->head < r->tail)
                return PRODUCE_MORE;
        return r->stream ? PRODUCE_WAIT : PRODUCE_DONE;
}

static int events_start(Connection *c, const ExecEvent *const *events, size_t n, const EventsFilter *filter,
                        EventsReply **ret) {
        EventsReply *r = calloc(1, sizeof(*r));
        int k = 0;

        if (!r)
                return -ENOMEM;
        *r = (EventsReply) {
                .connection = c,
                .filter = *filter,
        };
        /* A filter on the client's own UID shows nothing of others'. */
        r->header.others = !filter->has_uid || filter->uid != (uint32_t) connection_peer_uid(c) ||
                           filter->see_restricted;
        k = connection_charge(c, sizeof(*r));
        if (k < 0) {
                free(r);
                return k;
        }
        r->charged = sizeof(*r);
        k = events_reply_fill(r, events, n);
        if (k < 0) {
                events_reply_free(r);
                return k;
        }
        *ret = r;
        return 0;
}

/* Holds events[0..n) to be written. */
static int events_reply_fill(EventsReply *r, const ExecEvent *const *events, size_t n) {
        size_t charge = 0;
        int k = 0;

        /* All at once: a thousand charges that fail cost a thousand times as much. */
        for (size_t i = 0; i < n; i++)
                charge += event_charge(events[i]);
        k = connection_charge(r->connection, charge);
        if (k < 0)
                return k;
        r->charged += charge;
        for (size_t i = 0; i < n && k >= 0; i++)
                k = events_reply_add(r, (ExecEvent *) events[i], true);
        return k;
}

int events_reply_start(Connection *c, const ExecEvent *const *events, size_t n, const EventsFilter *filter) {
        EventsReply *r;
        int k;

        k = events_start(c, events, n, filter, &r);
        if (k < 0)
                return k;
        connection_produce(c, events_reply_produce, r, events_reply_free, false);
        return 0;
}

int events_reply_wait(Watchers *w, Connection *c, const EventsFilter *filter, size_t limit, uint64_t mark,
                      const EventsSource *source) {
        EventsReply *r;
        int k;

        k = events_start(c, NULL, 0, filter, &r);
        if (k < 0)
                return k;
        r->waiting = true;
        r->mark = mark;
        r->limit = limit;
        r->source = *source;
        r->watchers = w;
        r->next = w->waiting;
        if (r->next)
                r->next->prev = r;
        w->waiting = r;
        connection_produce(c, events_reply_produce, r, events_reply_free, false);
        return 0;
}

void watchers_read(Watchers *w) {
        for (EventsReply *r = w->waiting; r; r = r->next)
                connection_wake(r->connection);
}

/* ---- Watch */

int watchers_new(void (*watching)(bool any, void *userdata), void *userdata, Watchers **ret) {
        Watchers *w = calloc(1, sizeof(*w));

        /* As many UIDs as there can be streams. */
        if (!w || uidmap_new(sizeof(EventsReply *), SIZE_MAX, &w->by_uid) < 0) {
                free(w);
                return -ENOMEM;
        }
        w->watching = watching;
        w->userdata = userdata;
        *ret = w;
        return 0;
}

Watchers *watchers_free(Watchers *w) {
        if (!w)
                return NULL;
        uidmap_free(w->by_uid);
        free(w);
        return NULL;
}

size_t watchers_count(const Watchers *w) {
        return w->n;
}

static int watchers_add(Watchers *w, EventsReply *r) {
        EventsReply **head = &w->all;

        if (r->filter.has_uid) {
                head = uidmap_put(w->by_uid, r->filter.uid);
                if (!head)
                        return -ENOMEM;
        }
        r->next = *head;
        if (r->next)
                r->next->prev = r;
        *head = r;
        r->watchers = w;
        w->n++;
        return 0;
}

static void watchers_remove(Watchers *w, EventsReply *r) {
        if (r->waiting) {
                if (r->prev)
                        r->prev->next = r->next;
                else
                        w->waiting = r->next;
                if (r->next)
                        r->next->prev = r->prev;
                r->prev = r->next = NULL;
                r->watchers = NULL;
                r->waiting = false;
                return;
        }
        if (r->prev)
                r->prev->next = r->next;
        else if (!r->filter.has_uid)
                w->all = r->next;
        else if (r->next)
                *(EventsReply **) uidmap_get(w->by_uid, r->filter.uid) = r->next;
        else
                uidmap_remove(w->by_uid, r->filter.uid);
        if (r->next)
                r->next->prev = r->prev;
        r->prev = r->next = NULL;
        r->watchers = NULL;
        w->n--;
        if (w->n == 0 && w->watching)
                w->watching(false, w->userdata);
}

int watch_start(Watchers *w, Connection *c, const ExecEvent *const *events, size_t n, const EventsFilter *filter) {
        EventsReply *r;
        int k;

        k = events_start(c, events, n, filter, &r);
        if (k < 0)
                return k;
        r->stream = true;
        k = watchers_add(w, r);
        if (k < 0) {
                events_reply_free(r);
                return k;
        }
        connection_produce(c, events_reply_produce, r, events_reply_free, true);
        /* Told once the stream is in place: what this sets off may already write to it. */
        if (w->n == 1 && w->watching)
                w->watching(true, w->userdata);
        return 0;
}

static void watch_push(EventsReply *r, ExecEvent *e) {
        Connection *c = r->connection;
        int k;

        k = events_reply_add(r, e, false);
        if (k == -ENOBUFS) {
                /* It does not read as fast as its events come: the stream ends. r is freed
                 * with it. */
                connection_over_budget(c, "the client does not read its events as fast as they come");
                return;
        }
        if (k == -ENOTCONN)
                return; /* closed, and freed at the next sweep */
        if (k < 0) {
                log_oom();
                connection_close(c);
                return;
        }
        connection_wake(c);
}

static size_t push_list(EventsReply *r, ExecEvent *e) {
        size_t n = 0;

        /* The next one first: a stream that ends here leaves the list. */
        for (EventsReply *next; r; r = next, n++) {
                next = r->next;
                watch_push(r, e);
        }
        return n;
}

size_t watchers_push(Watchers *w, ExecEvent *e) {
        EventsReply **head = uidmap_get(w->by_uid, e->uid);
        size_t n;

        n = push_list(w->all, e);
        if (head)
                n += push_list(*head, e);
        return n;
}
