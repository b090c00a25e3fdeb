/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.h: serving Varlink on a Unix stream socket: connections, framing, buffering. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
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
        size_t max_message_size; /* one request, NUL included */
        size_t max_output; /* unsent bytes per connection before it is dropped */
} ServerLimits;

#define SERVER_MAX_CONNECTIONS_DEFAULT 1024
#define SERVER_MAX_MESSAGE_SIZE_DEFAULT (64 * 1024)
#define SERVER_MAX_OUTPUT_DEFAULT (64 * 1024 * 1024)

/* Serves on listen_fd if >= 0 (an inherited, listening socket), else binds path itself,
 * replacing a stale socket but refusing to take over one that still answers. */
int server_new(sd_event *e, const char *path, int listen_fd, const ServerLimits *limits,
               ServerCallHandler handler, void *userdata, Server **ret);
Server *server_free(Server *s);
DEFINE_POINTER_CLEANUP(Server, server_free);

/* Writes what the sockets take of the queued output, without waiting. */
void server_flush(Server *s);
size_t server_n_connections(const Server *s);
const char *server_path(const Server *s);

/* Calls fn for every connection with a subscription, passing the subscription's data. */
typedef void (*ServerSubscriberFn)(Connection *c, void *subscription, void *userdata);
void server_foreach_subscriber(Server *s, ServerSubscriberFn fn, void *userdata);

/* The final reply to the current call; parameters may be NULL. Nothing is sent for a
 * oneway call. */
int connection_reply(Connection *c, json_object *parameters);
int connection_error(Connection *c, const char *error, json_object *parameters);
/* A reply with "continues": true, for calls made with "more". */
int connection_notify(Connection *c, json_object *parameters);
/* Closes the connection once the current call is handled; nothing more is sent. */
void connection_close(Connection *c);
/* Keeps data (freed with free_fn when the connection goes) as the connection's stream. */
void connection_subscribe(Connection *c, void *data, void (*free_fn)(void *));

uid_t connection_peer_uid(const Connection *c);
pid_t connection_peer_pid(const Connection *c);
