/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c: leveled, structured logging to stderr or a sink. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *prefix = "";
static bool show_level = true;
static LogSink sink = NULL;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg",   [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",       [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",     [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_prefix(const char *p) {
        prefix = p ? p : "";
}

void log_set_show_level(bool b) {
        show_level = b;
}

void log_set_sink(LogSink s) {
        sink = s;
}

int log_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(s, level_names[i]))
                        return (int) i;
        if (streq(s, "error"))
                return LOG_ERR;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

const char *log_level_to_string(int level) {
        if (level < 0 || (size_t) level >= ELEMENTSOF(level_names))
                return NULL;
        return level_names[level];
}

static int log_emitv(bool force, int level, int error, const char *message_id, const LogField *fields,
                     size_t n_fields, const char *fmt, va_list ap) {
        int saved = errno;
        error = error < 0 ? -error : error;

        if (force || level <= max_level) {
                char buf[2048];

                errno = error;
                (void) vsnprintf(buf, sizeof(buf), fmt, ap);

                if (sink)
                        sink(level, error, message_id, fields, n_fields, buf);
                else {
                        /* Warnings and errors say so; routine messages stay plain. */
                        const char *tag = !show_level            ? ""
                                          : level <= LOG_ERR     ? "error: "
                                          : level == LOG_WARNING ? "warning: "
                                          : level == LOG_DEBUG   ? "debug: "
                                                                 : "";
                        fprintf(stderr, "%s%s%s%s\n", prefix, isempty(prefix) ? "" : ": ", tag, buf);
                }
        }

        errno = saved;
        return -error;
}

int log_internal(int level, int error, const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_emitv(false, level, error, NULL, NULL, 0, fmt, ap);
        va_end(ap);
        return r;
}

int log_struct_internal(int level, int error, const char *message_id, const LogField *fields, size_t n_fields,
                        const char *fmt, ...) {
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_emitv(false, level, error, message_id, fields, n_fields, fmt, ap);
        va_end(ap);
        return r;
}

void log_record(int level, const char *message_id, const LogField *fields, size_t n_fields, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) log_emitv(true, level, 0, message_id, fields, n_fields, fmt, ap);
        va_end(ap);
}
