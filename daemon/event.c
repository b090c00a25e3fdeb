/* SPDX-License-Identifier: GPL-2.0-or-later */
/* event.c: decoding ring buffer records into ExecEvents, and ExecEvents into JSON. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "macro.h"
#include "time-util.h"

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

/* Copies the record's arguments (len bytes, each followed by a NUL but a last one cut
 * short) into out, which has room for len + 1 bytes: at most EXECCOUNT_ARGS_MAX of them,
 * each followed by a NUL. Returns the bytes written. */
static size_t split_argv(const char *in, size_t len, char *out, size_t *ret_argc, bool *truncated) {
        size_t used = 0, argc = 0;

        for (size_t i = 0; i < len; argc++) {
                size_t n = strnlen(in + i, len - i);

                if (argc == EXECCOUNT_ARGS_MAX) {
                        *truncated = true;
                        break;
                }
                memcpy(out + used, in + i, n);
                out[used + n] = '\0';
                used += n + 1;
                i += n + 1;
        }
        *ret_argc = argc;
        return used;
}

bool exec_event_record_cgroup(const void *data, size_t size, uint64_t *ret) {
        const struct exec_event *rec = data;

        if (size < EXEC_EVENT_HEADER_SIZE || !(rec->flags & EXEC_EVENT_EXTENDED) || !(rec->flags & EXEC_EVENT_CGROUP))
                return false;
        *ret = rec->cgroup_id;
        return true;
}

int exec_event_decode(const void *data, size_t size, int64_t realtime_offset_usec, bool argv, const char *unit,
                      ExecEvent **ret) {
        const struct exec_event *rec = data;
        _cleanup_(freep) char *name = NULL;
        const char *rec_name;
        size_t header, name_len, argv_len, unit_len = unit ? strnlen(unit, UNIT_NAME_MAX) : 0, alloc;
        bool extended;
        ExecEvent *e;
        int r;

        if (size < EXEC_EVENT_LEGACY_HEADER_SIZE + 1)
                return -EBADMSG;
        extended = rec->flags & EXEC_EVENT_EXTENDED;
        header = !extended                             ? EXEC_EVENT_LEGACY_HEADER_SIZE
                 : (rec->flags & EXEC_EVENT_CGROUP) ? EXEC_EVENT_HEADER_SIZE
                                                    : EXEC_EVENT_EXTENDED_HEADER_SIZE;
        argv_len = extended && (rec->flags & EXEC_EVENT_ARGV) ? rec->argv_len : 0;
        if (rec->filename_len == 0 || rec->filename_len > EXECCOUNT_PATH_MAX || argv_len > EXECCOUNT_ARGV_MAX ||
            size < header + rec->filename_len + argv_len)
                return -EBADMSG;
        if (!argv)
                argv_len = 0;
        rec_name = (const char *) data + header;

        /* The kernel's string read stops at the first NUL and includes it. */
        name_len = strnlen(rec_name, rec->filename_len);
        if (needs_dirfd(rec, rec_name)) {
                r = format_name(rec, rec_name, name_len, &name, &name_len);
                if (r < 0)
                        return r;
        }

        alloc = sizeof(*e) + name_len + 1 + argv_len + 1 + (unit ? unit_len + 1 : 0);
        e = malloc(alloc);
        if (!e)
                return -ENOMEM;
        *e = (ExecEvent) {
                .n_ref = 1,
                .size = alloc,
                .time_usec = boot_ns_to_realtime_usec(rec->boot_ns, realtime_offset_usec),
                .pid = rec->pid,
                .ppid = rec->ppid,
                .uid = rec->uid,
                .auid = rec->auid,
                .euid = rec->euid,
                .has_euid = rec->flags & EXEC_EVENT_EUID,
                .has_extended = extended,
                .session = extended ? rec->session : EXEC_SESSION_UNSET,
                .result = rec->result,
                .has_filename = !(rec->flags & EXEC_EVENT_NO_NAME),
                .has_argv = argv && extended && (rec->flags & EXEC_EVENT_ARGV),
                .argv_truncated = extended && (rec->flags & EXEC_EVENT_ARGV_TRUNCATED),
                .has_cgroup = extended && (rec->flags & EXEC_EVENT_CGROUP),
                .cgroup_id = extended && (rec->flags & EXEC_EVENT_CGROUP) ? rec->cgroup_id : 0,
                .filename_len = name_len,
        };
        memcpy(e->comm, rec->comm, sizeof(e->comm));
        e->comm[sizeof(e->comm) - 1] = '\0';
        if (extended) {
                memcpy(e->parent_comm, rec->parent_comm, sizeof(e->parent_comm));
                e->parent_comm[sizeof(e->parent_comm) - 1] = '\0';
        }
        /* Most names are copied once, straight from the record. */
        memcpy(e->filename, name ?: rec_name, name_len);
        e->filename[name_len] = '\0';
        e->argv = e->filename + name_len + 1;
        if (e->has_argv)
                e->argv_size = split_argv(rec_name + rec->filename_len, argv_len, e->filename + name_len + 1, &e->argc,
                                          &e->argv_truncated);
        else
                e->argv_truncated = false;
        if (unit) {
                char *u = e->filename + name_len + 1 + argv_len + 1;

                memcpy(u, unit, unit_len);
                u[unit_len] = '\0';
                e->unit = u;
        }

        *ret = e;
        return 0;
}

ExecEvent *exec_event_ref(ExecEvent *e) {
        e->n_ref++;
        return e;
}

ExecEvent *exec_event_unref(ExecEvent *e) {
        if (e && --e->n_ref == 0)
                free(e);
        return NULL;
}

size_t exec_event_size(const ExecEvent *e) {
        return e->size;
}

/* "argv", "argv_truncated", and "argv_hex" when an argument is not UTF-8 (as for the name). */
static void write_argv(Text *t, const ExecEvent *e) {
        const char *a = e->argv;
        bool valid = true;

        text_add(t, ",\"argv\":[");
        for (size_t i = 0, n; i < e->argc; a += n + 1, i++) {
                n = strlen(a);
                if (i > 0)
                        text_add_char(t, ',');
                valid &= text_add_json_string(t, a, n);
        }
        text_add(t, "],\"argv_truncated\":");
        text_add(t, e->argv_truncated ? "true" : "false");
        if (valid)
                return;
        a = e->argv;
        text_add(t, ",\"argv_hex\":[");
        for (size_t i = 0; i < e->argc; a += strlen(a) + 1, i++) {
                text_add(t, i > 0 ? ",\"" : "\"");
                text_add_hex(t, a, strlen(a));
                text_add_char(t, '"');
        }
        text_add_char(t, ']');
}

bool exec_event_argv_restricted(const ExecEvent *e) {
        return e->result < 0 && e->has_euid && e->euid != e->uid;
}

void exec_event_write_json(Text *t, const ExecEvent *e, bool see_restricted) {
        /* JSON strings must be UTF-8; the bytes of a file name need not be. The string is
         * for reading (bytes that are not UTF-8 read as U+FFFD), the hex form keeps the
         * exact bytes. */
        bool lossy = false;

        text_add(t, "{\"seq\":");
        text_add_u64(t, MIN(e->seq, (uint64_t) INT64_MAX));
        text_add(t, ",\"time_usec\":");
        text_add_u64(t, MIN(e->time_usec, (uint64_t) INT64_MAX));
        text_add(t, ",\"pid\":");
        text_add_u64(t, e->pid);
        text_add(t, ",\"ppid\":");
        text_add_u64(t, e->ppid);
        text_add(t, ",\"uid\":");
        text_add_u64(t, e->uid);
        text_add(t, ",\"login_uid\":");
        if (e->auid == EXEC_AUID_UNSET)
                text_add(t, "null");
        else
                text_add_u64(t, e->auid);
        if (e->has_euid) {
                text_add(t, ",\"euid\":");
                text_add_u64(t, e->euid);
        }
        if (e->has_extended) {
                text_add(t, ",\"session\":");
                if (e->session == EXEC_SESSION_UNSET)
                        text_add(t, "null");
                else
                        text_add_u64(t, e->session);
        }
        if (e->unit) {
                text_add(t, ",\"unit\":");
                text_add_json_string(t, e->unit, strlen(e->unit));
        }
        text_add(t, ",\"comm\":");
        text_add_json_string(t, e->comm, strlen(e->comm));
        if (e->has_extended) {
                text_add(t, ",\"parent_comm\":");
                text_add_json_string(t, e->parent_comm, strlen(e->parent_comm));
        }
        text_add(t, ",\"filename\":");
        if (e->has_filename)
                lossy = !text_add_json_string(t, e->filename, e->filename_len);
        else
                text_add(t, "null");
        if (lossy) {
                text_add(t, ",\"filename_hex\":\"");
                text_add_hex(t, e->filename, e->filename_len);
                text_add_char(t, '"');
        }
        if (e->has_argv && (see_restricted || !exec_event_argv_restricted(e)))
                write_argv(t, e);
        text_add(t, ",\"result\":");
        text_add_i64(t, e->result);
        text_add_char(t, '}');
}
