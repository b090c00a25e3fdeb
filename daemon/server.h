/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.h: serving Varlink on a Unix stream socket: connections, framing, buffering,
 * limits, and fairness between clients.
 *
 * What one client may cost the others is bounded: places (MaxClients=, per UID, some kept
 * for privileged clients, idle ones timed out or let go of for newcomers), memory (every
 * byte buffered for a client is charged to its UID: budget.h), and time (work is done in
 * small steps, one connection after the other, root's first). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "text.h"
#include "varlink.h"

typedef struct Server Server;
typedef struct Connection Connection;

/* Handles one call. It answers with connection_reply() or connection_error() before
 * returning, or has the reply (or stream) written in parts with connection_produce(). */
typedef void (*ServerCallHandler)(Server *s, Connection *c, const VarlinkCall *call, void *userdata);
/* Whether a peer is privileged (sees every UID: root, or a member of the access group),
 * from its credentials and supplementary groups. */
typedef bool (*ServerPrivilegedFn)(const struct ucred *peer, const gid_t *groups, size_t n_groups, void *userdata);
/* A connection lost its privilege (server_reclassify()): what it is sending may no
 * longer be for it. */
typedef void (*ServerRevokedFn)(Connection *c, void *userdata);

typedef struct ServerCallbacks {
        ServerCallHandler handler;
        ServerPrivilegedFn privileged; /* NULL: only root */
        ServerRevokedFn revoked; /* may be NULL */
        void *userdata;
} ServerCallbacks;

typedef struct ServerLimits {
        /* Clients other than root, which is never refused a place (only file descriptors
         * bound it). */
        size_t max_connections;
        /* Of those, the places only privileged clients may take. */
        size_t reserved_connections;
        size_t max_connections_per_uid;
        size_t max_message_size; /* one request, its terminating NUL not counted */
        /* Bytes buffered for clients other than root: all together, and of one UID. */
        size_t max_buffer;
        size_t max_buffer_per_uid;
        /* Bytes per second the replies in parts and streams of one UID other than root
         * may write; 0: no limit. */
        uint64_t output_rate_per_uid;
        uint64_t stall_timeout_usec; /* a client whose socket takes nothing this long is dropped */
        uint64_t idle_timeout_usec; /* one that calls nothing this long is closed; 0: never */
} ServerLimits;

#define SERVER_LIMITS_DEFAULT                                   \
        ((const ServerLimits) {                                 \
                .max_connections = 1024,                        \
                .reserved_connections = 64,                     \
                .max_connections_per_uid = 64,                  \
                .max_message_size = 64 * 1024,                  \
                .max_buffer = 32 * 1024 * 1024,                 \
                .max_buffer_per_uid = 8 * 1024 * 1024,          \
                .output_rate_per_uid = 32 * 1024 * 1024,        \
                .stall_timeout_usec = 10 * 1000 * 1000,         \
                .idle_timeout_usec = 60 * 1000 * 1000,          \
        })

/* What one client of root's may hold at most (root is held to no budget otherwise). */
#define CONNECTION_ROOT_MAX (64 * 1024 * 1024)
/* Memory a connection costs besides its buffers, charged to its UID while it lives. */
#define CONNECTION_OVERHEAD 1024
/* What a producer writes at most per turn (plus one item that crosses it). */
#define CONNECTION_CHUNK (64 * 1024)
/* What a call costs its UID's output allowance (OutputRatePerUID=) besides its reply. */
#define CONNECTION_CALL_COST 4096
/* Only a connection idle this long is let go of to make room for a newcomer. */
#define CONNECTION_EVICT_IDLE_USEC (1000 * 1000ull)

typedef struct ServerStats {
        size_t connections;
        uint64_t refused; /* clients turned away since the start */
        uint64_t dropped; /* dropped: over their buffer share, stalled, idle, or let go of */
        size_t buffered; /* bytes held for clients other than root */
        size_t buffered_root;
} ServerStats;

/* Serves on listen_fd if >= 0 (an inherited, listening socket), else binds path itself,
 * replacing a stale socket but refusing to take over one that still answers. */
int server_new(sd_event *e, const char *path, int listen_fd, const ServerLimits *limits,
               const ServerCallbacks *callbacks, Server **ret);
Server *server_free(Server *s);
DEFINE_POINTER_CLEANUP(Server, server_free);

/* Writes what the sockets take of the queued output, without waiting. */
void server_flush(Server *s);
/* New limits, for connections from now on (budgets at once). */
void server_set_limits(Server *s, const ServerLimits *limits);
/* Asks privileged() again about every connection (their groups are read anew); calls
 * revoked() for those that lost their privilege. */
void server_reclassify(Server *s);
size_t server_n_connections(const Server *s);
void server_get_stats(const Server *s, ServerStats *ret);
const char *server_path(const Server *s);

/* Calls fn for every connection that streams (connection_produce() with streaming),
 * with the producer's state. */
typedef void (*ServerStreamFn)(Connection *c, void *state, void *userdata);
void server_foreach_stream(Server *s, ServerStreamFn fn, void *userdata);

/* The final reply to the current call; parameters may be NULL. Nothing is sent for a
 * oneway call. */
int connection_reply(Connection *c, json_object *parameters);
int connection_error(Connection *c, const char *error, json_object *parameters);
/* Whether the current call was made with "more". */
bool connection_wants_more(const Connection *c);
/* Whether the current call was made with "oneway". */
bool connection_oneway(const Connection *c);

/* What a producer returns: the final reply is written; more is ready to be written; or
 * nothing is ready until connection_wake(). */
enum { PRODUCE_DONE = 0, PRODUCE_MORE = 1, PRODUCE_WAIT = 2 };
/* Writes the next part of the current reply with connection_write(), about
 * CONNECTION_CHUNK bytes at most; returns PRODUCE_*, or < 0 on failure (-ENOBUFS: the
 * client went over its buffer share; the connection then ends). */
typedef int (*ConnectionProduceFn)(Connection *c, void *state);
/* Answers the current call with fn, called each time the output has drained, in turn
 * with the other connections, until it returns PRODUCE_DONE; state is freed with free_fn
 * then, or when the connection goes. Further calls wait. A streaming producer (Watch)
 * never returns PRODUCE_DONE: it lasts as long as the connection, which may make no
 * other call meanwhile. */
void connection_produce(Connection *c, ConnectionProduceFn fn, void *state, void (*free_fn)(void *), bool streaming);
/* A producer that returned PRODUCE_WAIT has something to write. */
void connection_wake(Connection *c);
/* The state of the reply or stream being produced, or NULL. */
void *connection_producer_state(const Connection *c);
/* Appends output: a message, or a part of one. -ENOBUFS when the client's UID is over
 * its buffer share (the connection then ends: connection_end() with LimitExceeded). */
int connection_write(Connection *c, const char *data, size_t len);
/* The same with t's buffer, taken over without a copy where it can be; t is emptied. */
int connection_write_text(Connection *c, Text *t);
/* Memory a producer holds for the client (events still to send, counts read for it),
 * charged to its UID like the buffers: -ENOBUFS when it does not fit (nothing charged). */
int connection_charge(Connection *c, size_t n);
void connection_uncharge(Connection *c, size_t n);
/* Ends what the connection is sending with an error reply, when no message is half
 * written (else it just closes), and closes the connection after it. */
void connection_end(Connection *c, const char *error, json_object *parameters);
/* Ends what the connection is sending, as connection_end() does, with LimitExceeded and
 * a reason that starts with why (may be NULL): its UID went over its buffer share. Logged
 * once per UID while it stays connected. */
void connection_over_budget(Connection *c, const char *why);
/* Closes the connection now: nothing more is sent. */
void connection_close(Connection *c);

uid_t connection_peer_uid(const Connection *c);
pid_t connection_peer_pid(const Connection *c);
/* Charges n bytes to the UID's output allowance (OutputRatePerUID=) for work done for a
 * call besides its reply: reading many entries to hand out a few. */
void connection_spend(Connection *c, size_t n);
/* Whether privileged() said so, at connect or at the last server_reclassify(). */
bool connection_privileged(const Connection *c);
