/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server-internal.h: what server.c and connection.c share, and nobody else sees. */
#pragma once

#include <sys/socket.h>

#include "ratelimit.h"
#include "server.h"
#include "socket.h"

struct Connection {
        Server *server;
        Connection *prev, *next;
        int fd;
        sd_event_source *io;
        struct ucred peer;
        gid_t *groups; /* the peer's supplementary groups when it connected */
        size_t n_groups;

        char *in;
        size_t in_size, in_alloc;
        char *out;
        size_t out_start, out_end, out_alloc;
        /* CLOCK_MONOTONIC since when queued output makes no progress; 0 while it does. */
        uint64_t stalled_since_usec;

        /* The call being handled. */
        bool oneway, more, replied;

        bool eof; /* the peer sends no more */
        bool close_after_flush;
        bool dead; /* closed, freed by the next sweep */

        void *subscription;
        void (*subscription_free)(void *);

        /* A reply in parts: called for the next one whenever the output has drained. */
        ConnectionProduceFn producer;
        void *producer_state;
        void (*producer_free)(void *);
};

struct Server {
        sd_event *event;
        char *path;
        int listen_fd;
        bool own_socket; /* bound here, so removed here */
        SocketFileId socket_id;
        sd_event_source *listen_io;
        sd_event_source *accept_pause; /* out of fds: accepting again after a pause */
        sd_event_source *sweep; /* flushes output and frees dead connections */
        sd_event_source *stall_timer; /* drops clients that stopped reading */
        Connection *connections;
        size_t n_connections;
        uint64_t n_refused;
        RateLimit protocol_errors; /* how many of them are logged */
        RateLimit refusals;
        ServerLimits limits;
        ServerCallHandler handler;
        void *userdata;
};

#define ERROR_PROTOCOL "io.execcount.ProtocolError"

void server_schedule_sweep(Server *s);
void server_arm_stall_timer(Server *s);

/* connection.c */
/* Takes ownership of fd and groups, also on failure. */
int connection_new(Server *s, int fd, const struct ucred *peer, gid_t *groups, size_t n_groups, Connection **ret);
Connection *connection_free(Connection *c);
/* Closes the connection now; the next sweep frees it. */
void connection_kill(Connection *c);
size_t connection_output_pending(const Connection *c);
/* Writes what the socket takes; notes when output stalls. */
void connection_flush(Connection *c);
/* Handles the complete calls buffered, as far as output allows. */
void connection_process(Connection *c);
/* Decides what to wait for next, or whether the connection is done. */
void connection_update(Connection *c);
