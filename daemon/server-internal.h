/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server-internal.h: what the server's files (server*.c, connection*.c) share, and nobody
 * else sees. */
#pragma once

#include <sys/socket.h>

#include "budget.h"
#include "ratelimit.h"
#include "refusals.h"
#include "server.h"
#include "socket.h"

struct Connection {
        Server *server;
        Connection *prev, *next; /* every connection */
        Connection *ready_next; /* the ready queue */
        bool ready; /* in it */
        int fd;
        sd_event_source *io;
        struct ucred peer;
        bool privileged;
        BudgetUser *user;
        Connection *user_prev, *user_next; /* user's live connections */
        size_t charged; /* to user: overhead, buffers, producer's */

        char *in;
        size_t in_size, in_alloc;
        char *out;
        size_t out_start, out_end, out_alloc;
        bool in_message; /* the output ends inside a message */
        /* CLOCK_MONOTONIC since when queued output makes no progress; 0 while it does. */
        uint64_t stalled_since_usec;
        /* CLOCK_MONOTONIC since when no call is in flight and nothing is sent; 0 while
         * one is, or something is. */
        uint64_t idle_since_usec;

        /* The call being handled. */
        bool oneway, more, replied;

        bool eof; /* the peer sends no more */
        bool close_after_flush;
        bool dead; /* closed, freed by the next sweep */

        /* A reply in parts, or a stream: called whenever the output has drained. */
        ConnectionProduceFn producer;
        void *producer_state;
        void (*producer_free)(void *);
        bool streaming;
        bool producer_waiting; /* said PRODUCE_WAIT; connection_wake() ends it */
        bool in_producer; /* the producer is running */
        /* Its UID wrote as much as OutputRatePerUID= allows: the producer waits until
         * then (CLOCK_MONOTONIC), in the server's throttled list. */
        uint64_t throttled_until_usec;
        Connection *throttled_next;
        bool producer_ended; /* ended while it ran: its state is freed when it returns */
};

struct Server {
        sd_event *event;
        char *path;
        int listen_fd;
        bool own_socket; /* bound here, so removed here */
        SocketFileId socket_id;
        sd_event_source *listen_io;
        sd_event_source *accept_pause; /* out of fds: accepting again after a pause */
        sd_event_source *sweep; /* steps the ready connections, frees dead ones */
        sd_event_source *stall_timer; /* drops clients that stopped reading */
        sd_event_source *idle_timer; /* closes clients that call nothing */
        sd_event_source *refusal_timer; /* reports refusals in aggregate */
        sd_event_source *throttle_timer; /* gives throttled producers their turn again */
        Connection *throttled; /* connections whose producers wait for their UID's rate */
        Connection *connections;
        size_t n_connections;
        size_t n_dead; /* closed, waiting to be freed by the sweep */
        size_t n_unrooted; /* connections of UIDs other than 0 */
        size_t n_unprivileged; /* of those, the ones that are not privileged */
        /* Connections that can go on without waiting for their socket: root's first. */
        Connection *ready_head[2], *ready_tail[2];
        Budget budget;
        Refusals refusals;
        uint64_t n_dropped;
        RateLimit protocol_errors; /* how many of them are logged */
        RateLimit drops; /* how many drops of stalled or idle clients are logged */
        ServerLimits limits;
        ServerCallbacks callbacks;
};


void server_schedule_sweep(Server *s);
void server_arm_stall_timer(Server *s);
/* Puts c in the ready queue, if it is not there. */
void server_ready(Server *s, Connection *c);
/* c's producer waits for its UID's output rate until c->throttled_until_usec. */
void server_throttle(Server *s, Connection *c);
/* c leaves the throttled list (it is freed). */
void server_unthrottle(Server *s, Connection *c);
/* Takes n bytes for c from the budget, letting go of a bigger user's biggest client when
 * the budget is used up; -ENOBUFS when it cannot. */
int server_charge(Server *s, Connection *c, size_t n);
/* Notes a dropped client; logs it within the rate limit. */
void server_log_drop(Server *s, Connection *c, const char *why);

/* connection.c */
/* Takes ownership of fd, also on failure. */
int connection_new(Server *s, int fd, const struct ucred *peer, bool privileged, Connection **ret);
Connection *connection_free(Connection *c);
/* Closes the connection now and gives back what it held; the next sweep frees it. */
void connection_kill(Connection *c);
size_t connection_output_pending(const Connection *c);
/* Whether the connection can do something without waiting for its socket. */
bool connection_has_work(const Connection *c);
/* One step: writes what the socket takes; then, with the output drained, one part of
 * the reply being produced, or one call. */
void connection_step(Connection *c);
/* Decides what to wait for next, or whether the connection is done. */
void connection_update(Connection *c);
/* Whether the connection has sent nothing and has no call in flight since before
 * now - usec. */
bool connection_idle_for(const Connection *c, uint64_t now, uint64_t usec);

/* How much a connection reads at a time. */
#define READ_CHUNK (16 * 1024)

/* connection.c */
void connection_producer_done(Connection *c);
void connection_free_input(Connection *c);
void connection_free_output(Connection *c);
/* connection-input.c: the length of the first complete message of the input, or -1. */
ssize_t connection_complete_message(const Connection *c);
void connection_read(Connection *c);
/* Handles the first complete call of the input. */
void connection_process_one(Connection *c);
/* Answers with ProtocolError and closes the connection once it is sent. */
void connection_protocol_error(Connection *c, const char *reason);
/* connection-output.c: writes queued output as far as the socket takes it. */
void connection_flush(Connection *c);

/* server-accept.c: the listening socket's and the refusal report's handlers. */
int server_on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata);
int server_on_refusal_timer(sd_event_source *source, uint64_t usec, void *userdata);
