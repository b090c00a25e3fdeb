/* SPDX-License-Identifier: GPL-2.0-or-later */
/* connection.c: one Varlink client: its buffers, the framing of its calls, its replies.
 *
 * Nothing here blocks: the socket is non-blocking, output is queued and written when the
 * socket takes it. Every byte held for the client is charged to its UID (server_charge());
 * one that goes over its share loses what it was sent with an error. A client that sends
 * garbage or too much is answered with an error and dropped; one that does not read is
 * dropped too. Work is done in steps (connection_step()), one call or one part of a reply
 * at a time, so that the server can take turns between connections.
 *
 * This file: a connection's life, its steps, and its socket's events. What it receives
 * is in connection-input.c, what it sends in connection-output.c. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"
#include "server-internal.h"
#include "time-util.h"

size_t connection_output_pending(const Connection *c) {
        return c->out_end - c->out_start;
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

static void connection_uncount(Connection *c) {
        Server *s = c->server;

        s->n_connections--;
        s->n_dead++;
        if (c->user) {
                c->user->n_live--;
                if (c->user_prev)
                        c->user_prev->user_next = c->user_next;
                else
                        c->user->connections = c->user_next;
                if (c->user_next)
                        c->user_next->user_prev = c->user_prev;
                c->user_prev = c->user_next = NULL;
        }
        if (c->peer.uid != 0) {
                s->n_unrooted--;
                if (!c->privileged)
                        s->n_unprivileged--;
        }
}

int connection_new(Server *s, int fd, const struct ucred *peer, bool privileged, Connection **ret) {
        Connection *c = calloc(1, sizeof(*c));
        int r;

        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->fd = fd;
        c->peer = *peer;
        c->privileged = privileged;
        c->idle_since_usec = now_usec(CLOCK_MONOTONIC);
        c->user = budget_user_get(&s->budget, peer->uid);
        if (c->user) {
                c->user->n_live++;
                c->user_next = c->user->connections;
                if (c->user_next)
                        c->user_next->user_prev = c;
                c->user->connections = c;
        }

        c->next = s->connections;
        if (c->next)
                c->next->prev = c;
        s->connections = c;
        s->n_connections++;
        if (peer->uid != 0) {
                s->n_unrooted++;
                if (!privileged)
                        s->n_unprivileged++;
        }

        r = c->user ? server_charge(s, c, CONNECTION_OVERHEAD) : -ENOMEM;
        if (r >= 0)
                r = sd_event_add_io(s->event, &c->io, fd, EPOLLIN, on_connection_io, c);
        /* Root's calls are read first, whatever else is waiting. */
        if (r >= 0 && peer->uid == 0)
                r = sd_event_source_set_priority(c->io, SD_EVENT_PRIORITY_IMPORTANT);
        if (r >= 0)
                (void) sd_event_source_set_description(c->io, "client");
        if (r < 0) {
                connection_kill(c);
                connection_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

void connection_producer_done(Connection *c) {
        void (*free_fn)(void *) = c->producer_free;
        void *state = c->producer_state;

        c->producer = NULL;
        c->producer_state = NULL;
        c->producer_free = NULL;
        c->streaming = false;
        c->producer_waiting = false;
        /* Ended from within the producer itself (its output went over the budget): its
         * state is freed once it has returned. */
        if (c->in_producer)
                c->producer_ended = true;
        else if (free_fn)
                free_fn(state);
}

void connection_free_input(Connection *c) {
        if (c->in_alloc > 0)
                connection_uncharge(c, c->in_alloc);
        free(c->in);
        c->in = NULL;
        c->in_size = c->in_alloc = 0;
}

void connection_free_output(Connection *c) {
        if (c->out_alloc > 0)
                connection_uncharge(c, c->out_alloc);
        free(c->out);
        c->out = NULL;
        c->out_start = c->out_end = c->out_alloc = 0;
}

void connection_kill(Connection *c) {
        if (c->dead)
                return;
        /* The producer's state is freed with the connection, at the next sweep: it may be
         * in a list being walked right now (another stream's charge can kill this one).
         * What it holds is given back now, with the rest. */
        connection_free_input(c);
        connection_free_output(c);
        if (c->user) {
                budget_uncharge(&c->server->budget, c->user, c->charged);
                c->charged = 0;
        }
        c->dead = true;
        connection_uncount(c);
        c->io = sd_event_source_disable_unref(c->io);
        c->fd = safe_close(c->fd);
        server_schedule_sweep(c->server);
}

Connection *connection_free(Connection *c) {
        if (!c)
                return NULL;
        connection_kill(c);
        connection_producer_done(c);
        if (c->throttled_until_usec > 0)
                server_unthrottle(c->server, c);
        if (c->prev)
                c->prev->next = c->next;
        else
                c->server->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        if (c->user)
                budget_user_put(&c->server->budget, c->user);
        c->server->n_dead--;
        free(c);
        return NULL;
}

bool connection_has_work(const Connection *c) {
        if (c->dead || connection_output_pending(c) > 0)
                return false;
        /* A call while streaming: the protocol error is the work. */
        if (c->streaming && !c->close_after_flush && connection_complete_message(c) >= 0)
                return true;
        if (c->throttled_until_usec > 0)
                return false;
        if (c->producer)
                return !c->producer_waiting;
        return !c->close_after_flush && connection_complete_message(c) >= 0;
}

void connection_step(Connection *c) {
        int r;

        if (c->dead)
                return;
        connection_flush(c);
        if (c->dead || connection_output_pending(c) > 0)
                return;
        if (c->streaming && !c->close_after_flush && connection_complete_message(c) >= 0)
                connection_process_one(c); /* refused: a call while streaming */
        else if (!c->producer && !c->close_after_flush && c->throttled_until_usec == 0 && connection_complete_message(c) >= 0) {
                uint64_t wait;
                size_t before = c->out_end;

                /* A call costs its UID's output allowance too, replies or not: pipelined
                 * calls take the daemon's time as much as long replies do. */
                if (!budget_may_write(&c->server->budget, c->user, now_usec(CLOCK_MONOTONIC), &wait)) {
                        c->throttled_until_usec = now_usec(CLOCK_MONOTONIC) + wait;
                        server_throttle(c->server, c);
                        return;
                }
                connection_process_one(c);
                if (!c->dead)
                        budget_wrote(&c->server->budget, c->user,
                                     CONNECTION_CALL_COST + (c->out_end > before ? c->out_end - before : 0));
        } else if (c->producer) {
                void (*free_fn)(void *) = c->producer_free;
                void *state = c->producer_state;
                uint64_t wait;
                size_t before;

                if (c->producer_waiting || c->throttled_until_usec > 0)
                        return;
                /* What one UID's replies cost the daemon is bounded in time too. */
                if (!budget_may_write(&c->server->budget, c->user, now_usec(CLOCK_MONOTONIC), &wait)) {
                        c->throttled_until_usec = now_usec(CLOCK_MONOTONIC) + wait;
                        server_throttle(c->server, c);
                        return;
                }
                before = c->out_end;
                c->in_producer = true;
                r = c->producer(c, state);
                c->in_producer = false;
                if (!c->dead && c->out_end > before)
                        budget_wrote(&c->server->budget, c->user, c->out_end - before);
                if (c->producer_ended) {
                        /* It went over the budget, and the connection ends. */
                        c->producer_ended = false;
                        if (free_fn)
                                free_fn(state);
                        connection_flush(c);
                        return;
                }
                if (c->dead)
                        return;
                if (r < 0) {
                        log_warning_errno(r, "Failed to answer client (pid %d), closing it: %m", (int) c->peer.pid);
                        connection_kill(c);
                        return;
                } else if (r == PRODUCE_DONE)
                        connection_producer_done(c);
                else if (r == PRODUCE_WAIT)
                        c->producer_waiting = true;
        }
        connection_flush(c);
}

bool connection_idle_for(const Connection *c, uint64_t now, uint64_t usec) {
        return !c->dead && c->idle_since_usec != 0 && now >= c->idle_since_usec + usec;
}

void connection_update(Connection *c) {
        size_t pending = connection_output_pending(c);
        uint32_t events = 0;
        bool busy;

        if (c->dead)
                return;

        /* Input that can never become a call, once the ones before it are answered. */
        if (!c->close_after_flush && connection_complete_message(c) < 0) {
                if (c->in_size > c->server->limits.max_message_size)
                        connection_protocol_error(c, "message too large");
                else if (c->eof && c->in_size > 0)
                        connection_protocol_error(c, "connection closed in the middle of a message");
                if (c->dead)
                        return;
                pending = connection_output_pending(c);
        }

        /* A streaming client that hangs up is gone; anyone else gets their answers first,
         * the reply being written (maybe waiting for its turn) and the calls sent before. */
        if (c->eof && c->streaming)
                log_debug("Client (pid %d) that streams shut down its side: gone.", (int) c->peer.pid);
        if ((c->eof && c->streaming) || (c->close_after_flush && pending == 0) ||
            (c->eof && pending == 0 && !c->producer && connection_complete_message(c) < 0)) {
                connection_kill(c);
                return;
        }

        busy = c->producer || pending > 0 || connection_complete_message(c) >= 0;
        if (busy)
                c->idle_since_usec = 0;
        else if (c->idle_since_usec == 0)
                c->idle_since_usec = now_usec(CLOCK_MONOTONIC);

        if (!c->eof && !c->close_after_flush && pending < c->server->limits.max_message_size &&
            c->in_size < c->server->limits.max_message_size + READ_CHUNK)
                events |= EPOLLIN;
        if (pending > 0)
                events |= EPOLLOUT;
        if (sd_event_source_set_io_events(c->io, events) < 0)
                connection_kill(c);
}

void *connection_producer_state(const Connection *c) {
        return c->producer ? c->producer_state : NULL;
}

uid_t connection_peer_uid(const Connection *c) {
        return c->peer.uid;
}

pid_t connection_peer_pid(const Connection *c) {
        return c->peer.pid;
}

bool connection_privileged(const Connection *c) {
        return c->privileged;
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Connection *c = userdata;

        /* The peer closed its end entirely: it reads nothing more. Calls it sent are
         * not answered (a half close, SHUT_WR, is no hangup: those are). */
        if (revents & (EPOLLHUP | EPOLLERR)) {
                log_debug("Client (pid %d) hung up (%s), calls it sent are not answered.", (int) c->peer.pid,
                          revents & EPOLLERR ? "error" : "hangup");
                connection_kill(c);
                return 0;
        }
        if (revents & EPOLLIN)
                connection_read(c);
        if (!c->dead && (revents & EPOLLOUT))
                connection_flush(c);
        if (c->dead)
                return 0;

        /* Root's call is answered now, at this source's priority, ahead of everyone's
         * work: a loaded daemon keeps root waiting no longer than what it does right now. */
        if (c->peer.uid == 0 && !c->producer && connection_has_work(c))
                connection_step(c);
        if (!c->dead && connection_has_work(c))
                server_ready(c->server, c);
        connection_update(c);
        return 0;
}
