/* SPDX-License-Identifier: GPL-2.0-or-later */
/* journal.c: sending log messages to journald, with their fields, when it reads our stderr. */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* CODE_FILE= and friends would name this file for every message: leave them out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include "journal.h"
#include "log.h"

#define FIELDS_MAX 64

bool journal_is_stderr(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

typedef struct Entry {
        struct iovec iov[FIELDS_MAX + 5];
        char *owned[FIELDS_MAX + 5];
        size_t n;
} Entry;

_printf_(2, 3) static void entry_add(Entry *e, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        if (e->n >= ELEMENTSOF(e->iov))
                return;
        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return;
        e->owned[e->n] = s;
        e->iov[e->n++] = (struct iovec) { .iov_base = s, .iov_len = (size_t) r };
}

/* Each field as "NAME=value"; the value may hold any bytes but NUL. */
static void journal_sink(int level, int error, const char *message_id, const LogField *fields, size_t n_fields,
                         const char *message) {
        Entry e = {};

        entry_add(&e, "PRIORITY=%d", level);
        entry_add(&e, "SYSLOG_IDENTIFIER=execcountd");
        if (error > 0)
                entry_add(&e, "ERRNO=%d", error);
        if (message_id)
                entry_add(&e, "MESSAGE_ID=%s", message_id);
        entry_add(&e, "MESSAGE=%s", message);
        for (size_t i = 0; i < n_fields && i < FIELDS_MAX; i++)
                entry_add(&e, "%s=%s", fields[i].name, fields[i].value);

        if (sd_journal_sendv(e.iov, (int) e.n) < 0)
                /* The journal is gone: stderr, which it read, is the best left. */
                fprintf(stderr, "<%d>%s\n", level, message);

        for (size_t i = 0; i < e.n; i++)
                free(e.owned[i]);
}

void journal_log_open(void) {
        log_set_sink(journal_sink);
}
