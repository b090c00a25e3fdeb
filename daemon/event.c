/* SPDX-License-Identifier: GPL-2.0-or-later */
/* event.c: decoding ring buffer records into ExecEvents, and ExecEvents into JSON. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json-util.h"
#include "macro.h"
#include "time-util.h"
#include "utf8.h"

/* Whether the name is relative to an execveat() directory fd, which the kernel's name
 * for the exec spells out (fs/exec.c, alloc_bprm()). */
static bool needs_dirfd(const struct exec_event *rec, const char *name) {
        bool relative = name[0] != '/' && name[0] != '\0';
        bool empty_path = name[0] == '\0' && (rec->at_flags & AT_EMPTY_PATH);

        return (rec->flags & EXEC_EVENT_EXECVEAT) && rec->dirfd != AT_FDCWD && (relative || empty_path);
}

/* The kernel's name of an exec that needs_dirfd(): the directory alone for an empty path
 * (AT_EMPTY_PATH), else the name under it. */
static int format_name(const struct exec_event *rec, const char *name, size_t len, char **ret, size_t *ret_len) {
        int n;

        n = len == 0 ? asprintf(ret, "/dev/fd/%d", rec->dirfd)
                       : asprintf(ret, "/dev/fd/%d/%.*s", rec->dirfd, (int) len, name);
        if (n < 0)
                return -ENOMEM;
        *ret_len = (size_t) n;
        return 0;
}

int exec_event_decode(const void *data, size_t size, int64_t realtime_offset_usec, ExecEvent **ret) {
        const struct exec_event *rec = data;
        _cleanup_(freep) char *name = NULL;
        size_t name_len;
        ExecEvent *e;
        int r;

        if (size < EXEC_EVENT_HEADER_SIZE + 1)
                return -EBADMSG;
        if (rec->filename_len == 0 || rec->filename_len > EXECCOUNT_PATH_MAX ||
            size < EXEC_EVENT_HEADER_SIZE + rec->filename_len)
                return -EBADMSG;

        /* The kernel's string read stops at the first NUL and includes it. */
        name_len = strnlen(rec->filename, rec->filename_len);
        if (needs_dirfd(rec, rec->filename)) {
                r = format_name(rec, rec->filename, name_len, &name, &name_len);
                if (r < 0)
                        return r;
        }

        e = malloc(sizeof(*e) + name_len + 1);
        if (!e)
                return -ENOMEM;
        *e = (ExecEvent) {
                .time_usec = boot_ns_to_realtime_usec(rec->boot_ns, realtime_offset_usec),
                .pid = rec->pid,
                .ppid = rec->ppid,
                .uid = rec->uid,
                .auid = rec->auid,
                .result = rec->result,
                .has_filename = !(rec->flags & EXEC_EVENT_NO_NAME),
                .filename_len = name_len,
        };
        memcpy(e->comm, rec->comm, sizeof(e->comm));
        e->comm[sizeof(e->comm) - 1] = '\0';
        /* Most names are copied once, straight from the record. */
        memcpy(e->filename, name ?: rec->filename, name_len);
        e->filename[name_len] = '\0';

        *ret = e;
        return 0;
}

ExecEvent *exec_event_free(ExecEvent *e) {
        free(e);
        return NULL;
}

static char *hex_encode(const char *s, size_t n) {
        char *out = malloc(n * 2 + 1);

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++)
                sprintf(out + 2 * i, "%02x", (unsigned char) s[i]);
        out[2 * n] = '\0';
        return out;
}

json_object *exec_event_to_json(const ExecEvent *e) {
        _cleanup_(freep) char *comm = NULL, *filename = NULL, *filename_hex = NULL;
        bool lossy;
        json_object *o;

        /* JSON strings must be UTF-8; the bytes of a file name need not be. The lossy
         * string is for reading, the hex form keeps the exact bytes. */
        comm = utf8_sanitize(e->comm, strlen(e->comm));
        if (!comm)
                return NULL;
        lossy = e->has_filename && !utf8_is_valid(e->filename, e->filename_len);
        if (e->has_filename) {
                filename = utf8_sanitize(e->filename, e->filename_len);
                if (!filename)
                        return NULL;
        }
        if (lossy) {
                filename_hex = hex_encode(e->filename, e->filename_len);
                if (!filename_hex)
                        return NULL;
        }

        o = json_object_new_object();
        if (!o)
                return NULL;
        if (!json_add(o, "seq", json_object_new_int64((int64_t) e->seq)) ||
            !json_add(o, "time_usec", json_object_new_int64((int64_t) e->time_usec)) ||
            !json_add(o, "pid", json_object_new_int64(e->pid)) ||
            !json_add(o, "ppid", json_object_new_int64(e->ppid)) ||
            !json_add(o, "uid", json_object_new_int64(e->uid)) ||
            !(e->auid == EXEC_AUID_UNSET ? json_add_null(o, "login_uid")
                                         : json_add(o, "login_uid", json_object_new_int64(e->auid))) ||
            !json_add(o, "comm", json_object_new_string(comm)) ||
            !(filename ? json_add(o, "filename", json_object_new_string(filename))
                       : json_add_null(o, "filename")) ||
            (lossy && !json_add(o, "filename_hex", json_object_new_string(filename_hex))) ||
            !json_add(o, "result", json_object_new_int(e->result))) {
                json_object_put(o);
                return NULL;
        }
        return o;
}
