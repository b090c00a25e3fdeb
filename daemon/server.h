/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.h: serving Varlink on a Unix stream socket: connections, framing, buffering,
 * limits. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "varlink.h"

typedef struct Server Server;
typedef struct Connection Connection;

/* Handles one call. It answers with connection_reply() or connection_error() before
 * returning, or, for a call with "more", may instead subscribe the connection with
 * connection_subscribe() and keep sending with connection_notify(). */
typedef void (*ServerCallHandler)(Server *s, Connection *c, const VarlinkCall *call, void *userdata);

typedef struct ServerLimits {
        size_t max_connections;
        size_t max_connections_per_uid; /* for UIDs other than 0 */
        size_t max_message_size; /* one request, its terminating NUL not counted */
        size_t max_output; /* unsent bytes queued behind a reply before the client is dropped */
        uint64_t stall_timeout_usec; /* a client whose socket takes nothing this long is dropped */
} ServerLimits;

#define SERVER_LIMITS_DEFAULT                                   \
        ((const ServerLimits) {                                 \
                .max_connections = 1024,                        \
                .max_connections_per_uid = 64,                  \
                .max_message_size = 64 * 1024,                  \
                .max_output = 16 * 1024 * 1024,                 \
                .stall_timeout_usec = 10 * 1000 * 1000,         \
        })

/* Serves on listen_fd if >= 0 (an inherited, listening socket), else binds path itself,
 * replacing a stale socket but refusing to take over one that still answers. */
int server_new(sd_event *e, const char *path, int listen_fd, const ServerLimits *limits,
               ServerCallHandler handler, void *userdata, Server **ret);
Server *server_free(Server *s);
DEFINE_POINTER_CLEANUP(Server, server_free);

/* Writes what the sockets take of the queued output, without waiting. */
void server_flush(Server *s);
/* New limits, for connections from now on. */
void server_set_limits(Server *s, const ServerLimits *limits);
size_t server_n_connections(const Server *s);
const char *server_path(const Server *s);

/* Calls fn for every connection with a subscription, passing the subscription's data. */
typedef void (*ServerSubscriberFn)(Connection *c, void *subscription, void *userdata);
void server_foreach_subscriber(Server *s, ServerSubscriberFn fn, void *userdata);

/* The final reply to the current call; parameters may be NULL. Nothing is sent for a
 * oneway call. */
int connection_reply(Connection *c, json_object *parameters);
int connection_error(Connection *c, const char *error, json_object *parameters);
/* The final reply, already serialized: message is the whole Varlink message, its NUL
 * included in len, in a malloc()ed buffer of alloc bytes, which the connection takes.
 * For big replies, which are cheaper written than built as a tree. */
int connection_reply_message(Connection *c, char *message, size_t len, size_t alloc);
/* Whether the current call was made with "more". */
bool connection_wants_more(const Connection *c);
/* A reply with "continues": true, for calls made with "more". */
int connection_notify(Connection *c, json_object *parameters);
/* Closes the connection once the current call is handled; nothing more is sent. */
void connection_close(Connection *c);
/* Queues the next reply of a call answered in parts (made with "more"): returns 1 after
 * queueing one with connection_reply_message() and "continues": true, 0 after queueing
 * the final one, < 0 on failure (the connection is then closed). */
typedef int (*ConnectionProduceFn)(Connection *c, void *state);
/* Answers the current call in parts: fn is called each time the output has drained,
 * until it has sent the final reply; state is freed with free_fn then, or when the
 * connection goes. Further calls wait. Memory stays bounded by one part whatever the
 * whole, and a client that stops reading is dropped as any other. */
void connection_produce(Connection *c, ConnectionProduceFn fn, void *state, void (*free_fn)(void *));

/* Keeps data (freed with free_fn when the connection goes) as the connection's stream. */
void connection_subscribe(Connection *c, void *data, void (*free_fn)(void *));

uid_t connection_peer_uid(const Connection *c);
pid_t connection_peer_pid(const Connection *c);
/* Whether gid was the peer's primary or a supplementary group when it connected. */
bool connection_peer_in_group(const Connection *c, gid_t gid);
