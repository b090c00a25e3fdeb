/* SPDX-License-Identifier: GPL-2.0-or-later */
/* call.h: calling execcountd, and saying in one line what went wrong. */
#pragma once

#include <json-c/json.h>

#include "args.h"
#include "client.h"
#include "json-scan.h"
#include "varlink.h"

/* Each returns 0, or the exit code after logging why. */

/* Connects to the daemon; "not running" explains how to start it. */
int call_connect(const Args *a, Client **ret);
/* Calls method and hands out the reply's parameters. */
int call_method(const Args *a, const char *method, json_object *parameters, json_object **ret);
/* Calls method with "more" and hands each reply's parameters, as text, to fn, which
 * returns 0 to go on or an exit status to stop. For replies too big to be worth a tree,
 * which the daemon sends in parts. Errors are reported as by call_method(). optional
 * (NULL: none) names a member of parameters that daemons before it refuse with
 * InvalidParameter: the call is then made again without it (which removes it).
 * rest starts with the parameters' object and may go on after it: fn puts its end in
 * *ret_end (see client_call_more_parts()). */
typedef int (*CallPartFn)(JsonSpan rest, const char **ret_end, void *userdata);
int call_method_parts(const Args *a, const char *method, json_object *parameters, const char *optional,
                      CallPartFn fn, void *userdata);
/* Explains a failed call: r < 0 for a transport error, else the error reply. */
int call_failed(const char *method, int r, const VarlinkReply *reply);

/* {"uid": N} when --uid or --user was given, else {}; NULL on allocation failure. */
json_object *call_uid_parameters(const Args *a);
/* Prints o as --json asks. */
void call_print_json(const Args *a, json_object *o);
/* For replies that lack what they should hold. */
int call_bad_reply(const char *method, const char *what);
