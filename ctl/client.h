/* SPDX-License-Identifier: GPL-2.0-or-later */
/* client.h: a blocking Varlink client for execcountctl. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "json-scan.h"
#include "macro.h"
#include "varlink.h"

/* Replies larger than this are refused: a daemon never sends them. */
#define CLIENT_REPLY_MAX (256 * 1024 * 1024)

typedef struct Client Client;

/* Connects to the socket at path. -ENOENT or -ECONNREFUSED: nothing serves there. With
 * timeout_usec (0: none), the connect and each send and receive fail with -EAGAIN after
 * that long without progress. */
int client_connect(const char *path, uint64_t timeout_usec, Client **ret);
Client *client_free(Client *c);
DEFINE_POINTER_CLEANUP(Client, client_free);

/* Calls method and waits for its one reply (an error reply is a reply, not a failure).
 * Fails with -EBADMSG if the daemon's answer is malformed, -ECONNRESET if it hangs up. */
int client_call(Client *c, const char *method, json_object *parameters, VarlinkReply *ret);
/* Calls with "more" and reads each reply in one walk, until one does not continue or a
 * function returns nonzero, which is returned:
 *  - a reply's parameters go to part where they start, before the walk has seen what
 *    follows them: rest runs from their value to the end of the reply, and part, once it
 *    has read the value, puts its end in *ret_end. So a reply of many numbers is read
 *    once, not skipped over first. Unless an error member comes before them: then they
 *    are not read. (execcountd writes "error" first; a server that writes it after the
 *    parameters has them read as a part's first, and the part's parser may refuse them.)
 *  - a reply without parameters read, or with an error member, goes whole (len bytes,
 *    NUL-terminated) to other.
 * -EBADMSG for a reply that is not a well-formed object. */
typedef int (*ClientPartFn)(JsonSpan rest, const char **ret_end, void *userdata);
typedef int (*ClientOtherFn)(const char *text, size_t len, void *userdata);
int client_call_more_parts(Client *c, const char *method, json_object *parameters, ClientPartFn part,
                           ClientOtherFn other, void *userdata);

/* Calls method with "more" and hands each reply to fn until one comes without
 * "continues", or an error reply, or fn returns non-zero (which is then returned). */
typedef int (*ClientReplyFn)(const VarlinkReply *reply, void *userdata);
int client_call_more(Client *c, const char *method, json_object *parameters, ClientReplyFn fn, void *userdata);
