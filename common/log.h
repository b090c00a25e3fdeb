/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.h: leveled, structured logging; the one place messages leave the program.
 *
 * Messages go to stderr, readable, unless a sink is set (the daemon sets one that writes
 * to the journal with all the fields). */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);
/* Parses "emerg".."debug" (also "error") or 0..7; returns the level or -EINVAL. */
int log_level_from_string(const char *s);
/* What log_level_from_string() takes, for error messages. */
#define LOG_LEVEL_EXPECTED "expected emerg, alert, crit, err, warning, notice, info or debug, or 0 to 7"
const char *log_level_to_string(int level);
/* Name printed before messages, e.g. "execcountctl" ("" prints no prefix). */
void log_set_prefix(const char *prefix);
/* Whether warnings and errors say "warning: " and "error: " (the default). */
void log_set_show_level(bool b);

/* One structured field of a message: NAME=value. */
typedef struct LogField {
        const char *name;
        const char *value;
} LogField;

/* Takes each message that passes the level filter instead of stderr. message_id may be
 * NULL; message is the formatted text. */
typedef void (*LogSink)(int level, int error, const char *message_id, const LogField *fields, size_t n_fields,
                        const char *message);
void log_set_sink(LogSink sink);

/* Formats and emits one message if level passes the filter. errno is set from error so
 * that "%m" works. Returns -abs(error), or 0 when error is 0, so that
 * "return log_error_errno(r, ...)" propagates the failure. */
int log_internal(int level, int error, const char *fmt, ...) _printf_(3, 4);
/* The same, with a message ID and fields for the journal. */
int log_struct_internal(int level, int error, const char *message_id, const LogField *fields, size_t n_fields,
                        const char *fmt, ...) _printf_(6, 7);

/* A record the user asked for (such as one entry per exec): emitted whatever the level. */
void log_record(int level, const char *message_id, const LogField *fields, size_t n_fields, const char *fmt, ...)
        _printf_(5, 6);

#define log_struct(level, message_id, fields, n_fields, ...) \
        log_struct_internal((level), 0, (message_id), (fields), (n_fields), __VA_ARGS__)
#define log_struct_errno(level, error, message_id, fields, n_fields, ...) \
        log_struct_internal((level), (error), (message_id), (fields), (n_fields), __VA_ARGS__)

#define log_full_errno(level, error, ...) log_internal((level), (error), __VA_ARGS__)
#define log_full(level, ...) log_internal((level), 0, __VA_ARGS__)

#define log_debug(...) log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, error, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

/* For allocation failures: logs once and returns -ENOMEM. */
#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
