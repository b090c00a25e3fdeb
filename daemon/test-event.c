/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-event.c: unit tests for event.c. */

#include <errno.h>
#include <fcntl.h>

#include "event.h"
#include "json-util.h"
#include "test.h"

/* The file name of a record of an earlier build's programs, which end with it. */
static char *legacy_name(struct exec_event *rec) {
        return (char *) rec + EXEC_EVENT_LEGACY_HEADER_SIZE;
}

/* A record as the programs of an earlier build send it: no session, parent, arguments. */
static size_t make_record(struct exec_event *rec, const char *name, size_t name_size) {
        memset(rec, 0, sizeof(*rec));
        rec->boot_ns = 5000000000ULL;
        rec->pid = 100;
        rec->ppid = 1;
        rec->uid = 1000;
        rec->auid = 1000;
        rec->dirfd = AT_FDCWD;
        strcpy(rec->comm, "bash");
        memcpy(legacy_name(rec), name, name_size);
        rec->filename_len = (uint16_t) name_size;
        return EXEC_EVENT_LEGACY_HEADER_SIZE + name_size;
}

/* A record as this build's programs send it, with argv_len bytes of arguments. */
static size_t make_extended(struct exec_event *rec, const char *name, const char *argv, size_t argv_len) {
        size_t name_size = strlen(name) + 1;

        make_record(rec, "", 1);
        rec->flags = EXEC_EVENT_EUID | EXEC_EVENT_EXTENDED | EXEC_EVENT_CGROUP | (argv ? EXEC_EVENT_ARGV : 0);
        rec->session = 7;
        rec->cgroup_id = 4242;
        strcpy(rec->parent_comm, "sshd");
        memcpy(rec->data, name, name_size);
        rec->filename_len = (uint16_t) name_size;
        if (argv)
                memcpy(rec->data + name_size, argv, argv_len);
        rec->argv_len = (uint16_t) argv_len;
        return EXEC_EVENT_HEADER_SIZE + name_size + argv_len;
}

static void test_decode(void) {
        static struct exec_event rec;
        ExecEvent *e;
        size_t size;

        size = make_record(&rec, "/usr/bin/true", 14);
        ASSERT_EQ(exec_event_decode(&rec, size, 1000000, true, NULL, &e), 0);
        ASSERT_EQ_U(e->time_usec, 5000000 + 1000000);
        ASSERT_EQ_U(e->pid, 100);
        ASSERT_EQ_U(e->ppid, 1);
        ASSERT_EQ_U(e->uid, 1000);
        ASSERT_EQ_U(e->auid, 1000);
        ASSERT_EQ(e->result, 0);
        ASSERT_STREQ(e->comm, "bash");
        ASSERT_STREQ(e->filename, "/usr/bin/true");
        ASSERT_EQ_U(e->filename_len, 13);
        ASSERT(e->has_filename);
        ASSERT(!e->has_euid); /* the record of an earlier build's program */
        exec_event_unref(e);

        /* The effective UID, when the program set it. */
        rec.flags = EXEC_EVENT_EUID;
        rec.euid = 0;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(e->has_euid);
        ASSERT_EQ_U(e->euid, 0);
        exec_event_unref(e);
        rec.flags = 0;

        /* Truncated records and inconsistent lengths are refused. */
        ASSERT_EQ(exec_event_decode(&rec, size - 1, 0, true, NULL, &e), -EBADMSG);
        ASSERT_EQ(exec_event_decode(&rec, EXEC_EVENT_LEGACY_HEADER_SIZE, 0, true, NULL, &e), -EBADMSG);
        rec.filename_len = 0;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), -EBADMSG);
        rec.filename_len = EXECCOUNT_PATH_MAX + 1;
        ASSERT_EQ(exec_event_decode(&rec, sizeof(rec), 0, true, NULL, &e), -EBADMSG);

        /* The comm is cut at 15 bytes even if the record has no NUL. */
        size = make_record(&rec, "/x", 3);
        memset(rec.comm, 'c', sizeof(rec.comm));
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT_EQ_U(strlen(e->comm), 15);
        exec_event_unref(e);

        /* A name longer than PATH_MAX bytes arrives cut, still NUL-terminated. */
        memset(&rec, 0, sizeof(rec));
        rec.filename_len = EXECCOUNT_PATH_MAX;
        memset(legacy_name(&rec), 'a', EXECCOUNT_PATH_MAX - 1);
        ASSERT_EQ(exec_event_decode(&rec, sizeof(rec), 0, true, NULL, &e), 0);
        ASSERT_EQ_U(e->filename_len, EXECCOUNT_PATH_MAX - 1);
        exec_event_unref(e);
}

static void test_execveat_names(void) {
        static const struct {
                int dirfd;
                unsigned at_flags;
                const char *name;
                const char *expected;
        } cases[] = {
                { 3, 0, "bin/true", "/dev/fd/3/bin/true" },
                { 7, AT_EMPTY_PATH, "", "/dev/fd/7" },
                { 3, 0, "", "" }, /* no AT_EMPTY_PATH: the kernel refused the empty name */
                { 3, 0, "/usr/bin/true", "/usr/bin/true" },
                { AT_FDCWD, 0, "rel/prog", "rel/prog" },
        };
        static struct exec_event rec;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                size_t size = make_record(&rec, cases[i].name, strlen(cases[i].name) + 1);
                ExecEvent *e;

                rec.flags = EXEC_EVENT_EXECVEAT;
                rec.dirfd = cases[i].dirfd;
                rec.at_flags = cases[i].at_flags;
                rec.result = -ENOENT;
                ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
                ASSERT_STREQ(e->filename, cases[i].expected);
                ASSERT_EQ_U(e->filename_len, strlen(cases[i].expected));
                ASSERT_EQ(e->result, -ENOENT);
                exec_event_unref(e);
        }

        /* Without the execveat flag the dirfd means nothing. */
        size_t size = make_record(&rec, "rel", 4);
        ExecEvent *e;

        rec.dirfd = 3;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT_STREQ(e->filename, "rel");
        exec_event_unref(e);
}

/* The JSON written for e, parsed back as strictly as the Varlink parser does. */
static json_object *to_json(const ExecEvent *e) {
        Text t = {};
        json_object *o;
        struct json_tokener *tok = json_tokener_new();

        exec_event_write_json(&t, e, true);
        ASSERT(!t.oom && t.len <= EXEC_EVENT_JSON_MAX);
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, t.p, (int) t.len);
        ASSERT(o && json_tokener_get_error(tok) == json_tokener_success);
        json_tokener_free(tok);
        text_done(&t);
        return o;
}

/* The largest event there is: a failed execveat() relative to the lowest dirfd, with a
 * name of PATH_MAX bytes that all need escaping and one that is not UTF-8 (so the bytes
 * come in hex too), arguments alike, and every number at its longest. */
static void test_json_max(void) {
        static struct exec_event rec;
        char name[EXECCOUNT_PATH_MAX], argv[EXECCOUNT_ARGV_MAX];
        ExecEvent *e;
        json_object *o;

        memset(name, '\x01', sizeof(name) - 1);
        name[sizeof(name) - 2] = '\xff';
        name[sizeof(name) - 1] = '\0';
        memset(argv, '\x01', sizeof(argv) - 1);
        argv[0] = '\xff';
        argv[sizeof(argv) - 1] = '\0';
        make_extended(&rec, name, argv, sizeof(argv));
        memset(rec.comm, '\x01', sizeof(rec.comm));
        memset(rec.parent_comm, '\x01', sizeof(rec.parent_comm));
        rec.boot_ns = UINT64_MAX;
        rec.pid = rec.ppid = rec.uid = rec.euid = UINT32_MAX;
        rec.auid = rec.session = UINT32_MAX - 1;
        rec.result = INT32_MIN;
        rec.flags |= EXEC_EVENT_EXECVEAT | EXEC_EVENT_ARGV_TRUNCATED;
        rec.dirfd = INT32_MIN;
        {
                /* The longest unit, of bytes JSON escapes six times over, and one more
                 * byte that is cut. */
                char unit[UNIT_NAME_MAX + 2];

                memset(unit, '\x01', sizeof(unit) - 1);
                unit[sizeof(unit) - 1] = '\0';
                ASSERT_EQ(exec_event_decode(&rec, EXEC_EVENT_HEADER_SIZE + sizeof(name) + sizeof(argv), INT64_MAX / 2,
                                            true, unit, &e),
                          0);
                ASSERT_EQ_U(strlen(e->unit), UNIT_NAME_MAX);
        }
        e->seq = UINT64_MAX;
        o = to_json(e);
        ASSERT(strncmp(json_get_string(o, "filename"), "/dev/fd/-2147483648/\x01", 21) == 0);
        ASSERT(json_get_string(o, "filename_hex"));
        ASSERT(json_object_array_length(json_object_object_get(o, "argv_hex")) == 1);
        json_object_put(o);
        exec_event_unref(e);
}

/* An event lives as long as anyone holds it. */
static void test_refs(void) {
        static struct exec_event rec;
        ExecEvent *e;

        ASSERT_EQ(exec_event_decode(&rec, make_record(&rec, "/bin/true", 10), 0, true, NULL, &e), 0);
        ASSERT_EQ_U(e->n_ref, 1);
        ASSERT(exec_event_ref(e) == e);
        ASSERT(exec_event_unref(e) == NULL);
        ASSERT_EQ_U(e->n_ref, 1);
        ASSERT_EQ_U(exec_event_size(e), sizeof(*e) + 11);
        exec_event_unref(e); /* freed: valgrind and ASan would see a leak otherwise */
}

static void test_json(void) {
        static struct exec_event rec;
        json_object *o, *v;
        ExecEvent *e;
        int64_t i;
        size_t size;

        size = make_record(&rec, "/tmp/\xff\xfe", 8);
        rec.auid = UINT32_MAX;
        rec.result = -EACCES;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        e->seq = 42;
        o = to_json(e);
        ASSERT(o);
        ASSERT(json_get_int64(o, "seq", 0, INT64_MAX, &i) && i == 42);
        ASSERT(json_get_int64(o, "time_usec", 0, INT64_MAX, &i) && i == 5000000);
        ASSERT(json_get_int64(o, "uid", 0, INT64_MAX, &i) && i == 1000);
        ASSERT(json_get_int64(o, "result", INT64_MIN, INT64_MAX, &i) && i == -EACCES);
        ASSERT(json_object_object_get_ex(o, "login_uid", &v) && v == NULL);
        ASSERT(!json_object_object_get_ex(o, "euid", &v)); /* not known: left out */
        ASSERT_STREQ(json_get_string(o, "filename"), "/tmp/\xef\xbf\xbd\xef\xbf\xbd");
        ASSERT_STREQ(json_get_string(o, "filename_hex"), "2f746d702ffffe");
        ASSERT_STREQ(json_get_string(o, "comm"), "bash");
        json_object_put(o);
        exec_event_unref(e);

        /* Valid UTF-8 needs no hex; an unreadable name is null. */
        size = make_record(&rec, "/bin/\xc3\xbc", 8);
        rec.flags = EXEC_EVENT_NO_NAME | EXEC_EVENT_EUID;
        rec.euid = 0;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        o = to_json(e);
        ASSERT(o);
        ASSERT(json_object_object_get_ex(o, "filename", &v) && v == NULL);
        ASSERT(!json_object_object_get_ex(o, "filename_hex", &v));
        ASSERT(json_get_int64(o, "login_uid", 0, INT64_MAX, &i) && i == 1000);
        ASSERT(json_get_int64(o, "euid", 0, INT64_MAX, &i) && i == 0);
        json_object_put(o);
        exec_event_unref(e);
}

/* The arguments of argv, joined by '|', as JSON gives them. */
static void assert_argv_json(json_object *o, const char *joined, bool truncated) {
        json_object *argv, *t;
        char buf[4096] = "";

        ASSERT(json_object_object_get_ex(o, "argv", &argv) && json_object_is_type(argv, json_type_array));
        for (size_t i = 0; i < json_object_array_length(argv); i++) {
                if (i > 0)
                        strcat(buf, "|");
                strcat(buf, json_object_get_string(json_object_array_get_idx(argv, i)));
        }
        ASSERT_STREQ(buf, joined);
        ASSERT(json_object_object_get_ex(o, "argv_truncated", &t) && json_object_get_boolean(t) == truncated);
}

/* Records of this build: session, parent, arguments. */
static void test_extended(void) {
        static struct exec_event rec;
        static const char args[] = "ls\0-l\0\0/tmp/a b\0";
        char many[3 * (EXECCOUNT_ARGS_MAX + 2)];
        json_object *o, *v;
        uint64_t cgroup_id;
        ExecEvent *e;
        int64_t i;
        size_t size;

        size = make_extended(&rec, "/usr/bin/ls", args, sizeof(args) - 1);
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(e->has_extended && e->has_argv && !e->argv_truncated);
        ASSERT_EQ_U(e->session, 7);
        ASSERT_STREQ(e->parent_comm, "sshd");
        ASSERT_STREQ(e->filename, "/usr/bin/ls");
        ASSERT_EQ_U(e->argc, 4);
        ASSERT_EQ_U(e->argv_size, sizeof(args) - 1);
        ASSERT(memcmp(e->argv, args, sizeof(args) - 1) == 0);
        ASSERT_EQ_U(exec_event_size(e), sizeof(*e) + 12 + sizeof(args)); /* what it was given */
        ASSERT(e->has_cgroup);
        ASSERT_EQ_U(e->cgroup_id, 4242);
        ASSERT(!e->unit);
        o = to_json(e);
        ASSERT(!json_object_object_get_ex(o, "unit", &v)); /* not named (yet) */
        json_object_put(o);
        exec_event_unref(e);
        /* Named: in the JSON, and in what the event takes, beside the arguments. */
        ASSERT(exec_event_record_cgroup(&rec, size, &cgroup_id) && cgroup_id == 4242);
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, "cron.service", &e), 0);
        ASSERT_EQ_U(exec_event_size(e), sizeof(*e) + 12 + sizeof(args) + 13);
        ASSERT(memcmp(e->argv, args, sizeof(args) - 1) == 0);
        o = to_json(e);
        ASSERT_STREQ(json_get_string(o, "unit"), "cron.service");
        ASSERT(json_get_int64(o, "session", 0, INT64_MAX, &i) && i == 7);
        ASSERT_STREQ(json_get_string(o, "parent_comm"), "sshd");
        assert_argv_json(o, "ls|-l||/tmp/a b", false);
        ASSERT(!json_object_object_get_ex(o, "argv_hex", &v));
        json_object_put(o);
        exec_event_unref(e);
        /* Without the arguments, the unit is kept all the same. */
        ASSERT_EQ(exec_event_decode(&rec, size, 0, false, "cron.service", &e), 0);
        ASSERT(!e->has_argv && e->argc == 0);
        ASSERT_STREQ(e->unit, "cron.service");
        exec_event_unref(e);

        /* A record of the build before cgroups: its name right after parent_comm. */
        size = make_extended(&rec, "/usr/bin/ls", NULL, 0);
        rec.flags &= ~EXEC_EVENT_CGROUP;
        memmove((char *) &rec + EXEC_EVENT_EXTENDED_HEADER_SIZE, rec.data, 12);
        ASSERT(!exec_event_record_cgroup(&rec, EXEC_EVENT_EXTENDED_HEADER_SIZE + 12, &cgroup_id));
        ASSERT_EQ(exec_event_decode(&rec, EXEC_EVENT_EXTENDED_HEADER_SIZE + 12, 0, true, NULL, &e), 0);
        ASSERT(e->has_extended && !e->has_cgroup && e->cgroup_id == 0);
        ASSERT_STREQ(e->filename, "/usr/bin/ls");
        ASSERT_STREQ(e->parent_comm, "sshd");
        exec_event_unref(e);
        /* One of this build cut right after the old header is too short. */
        size = make_extended(&rec, "/usr/bin/ls", NULL, 0);
        ASSERT_EQ(exec_event_decode(&rec, EXEC_EVENT_EXTENDED_HEADER_SIZE + 12, 0, true, NULL, &e), -EBADMSG);

        /* Cut by the programs: the last argument has no NUL; it is kept, marked. */
        size = make_extended(&rec, "/usr/bin/ls", "ls\0-lon", 7);
        rec.flags |= EXEC_EVENT_ARGV_TRUNCATED;
        rec.session = UINT32_MAX;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(e->argv_truncated);
        ASSERT_EQ_U(e->argc, 2);
        o = to_json(e);
        assert_argv_json(o, "ls|-lon", true);
        ASSERT(json_object_object_get_ex(o, "session", &v) && v == NULL);
        json_object_put(o);
        exec_event_unref(e);

        /* CaptureArgv=no: records from before still in the ring keep none either. */
        size = make_extended(&rec, "/usr/bin/ls", args, sizeof(args) - 1);
        ASSERT_EQ(exec_event_decode(&rec, size, 0, false, NULL, &e), 0);
        ASSERT(!e->has_argv && e->argc == 0);
        ASSERT_EQ_U(exec_event_size(e), sizeof(*e) + 12 + 1);
        exec_event_unref(e);

        /* A failed exec by a setuid program (effective UID not the real one): its
         * arguments only for viewers of every UID. Its successful ones are the caller's. */
        size = make_extended(&rec, "/usr/bin/ls", args, sizeof(args) - 1);
        rec.euid = 0;
        rec.result = -ENOENT;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(exec_event_argv_restricted(e));
        Text t = {};
        exec_event_write_json(&t, e, false);
        text_add_char(&t, '\0');
        ASSERT(!t.oom && !strstr(t.p, "argv") && strstr(t.p, "\"euid\":0"));
        text_done(&t);
        o = to_json(e); /* as root sees it */
        assert_argv_json(o, "ls|-l||/tmp/a b", false);
        json_object_put(o);
        exec_event_unref(e);
        rec.result = 0;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(!exec_event_argv_restricted(e));
        exec_event_unref(e);
        rec.result = -ENOENT;
        rec.euid = rec.uid;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(!exec_event_argv_restricted(e));
        exec_event_unref(e);

        /* More than EXECCOUNT_ARGS_MAX arguments: the first ones, marked. */
        for (size_t k = 0; k < EXECCOUNT_ARGS_MAX + 2; k++)
                memcpy(many + 3 * k, k < 10 ? "a\0\0" : "bc\0", 3);
        size = make_extended(&rec, "/bin/echo", many, sizeof(many));
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT_EQ_U(e->argc, EXECCOUNT_ARGS_MAX);
        ASSERT(e->argv_truncated);
        exec_event_unref(e);

        /* Arguments that are not UTF-8 come in hex too, as names do. */
        size = make_extended(&rec, "/bin/echo", "\xff\0ok\0", 5);
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        o = to_json(e);
        assert_argv_json(o, "\xef\xbf\xbd|ok", false);
        v = json_object_object_get(o, "argv_hex");
        ASSERT(v && json_object_array_length(v) == 2);
        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(v, 0)), "ff");
        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(v, 1)), "6f6b");
        json_object_put(o);
        exec_event_unref(e);

        /* Not captured (CaptureArgv=no, or unreadable): no argv at all; an empty list is one. */
        size = make_extended(&rec, "/bin/true", NULL, 0);
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(!e->has_argv);
        o = to_json(e);
        ASSERT(!json_object_object_get_ex(o, "argv", &v) && !json_object_object_get_ex(o, "argv_truncated", &v));
        json_object_put(o);
        exec_event_unref(e);
        size = make_extended(&rec, "/bin/true", "", 0);
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        o = to_json(e);
        assert_argv_json(o, "", false);
        json_object_put(o);
        exec_event_unref(e);

        /* Records of an earlier build's programs have none of these fields. */
        size = make_record(&rec, "/bin/true", 10);
        rec.flags = EXEC_EVENT_ARGV; /* means nothing without EXEC_EVENT_EXTENDED */
        rec.argv_len = 100;
        ASSERT_EQ(exec_event_decode(&rec, size, 0, true, NULL, &e), 0);
        ASSERT(!e->has_extended && !e->has_argv);
        o = to_json(e);
        ASSERT(!json_object_object_get_ex(o, "session", &v) && !json_object_object_get_ex(o, "parent_comm", &v) &&
               !json_object_object_get_ex(o, "argv", &v));
        json_object_put(o);
        exec_event_unref(e);

        /* Lengths that do not add up are refused. */
        size = make_extended(&rec, "/bin/true", "x\0", 2);
        ASSERT_EQ(exec_event_decode(&rec, size - 1, 0, true, NULL, &e), -EBADMSG);
        rec.argv_len = EXECCOUNT_ARGV_MAX + 1;
        ASSERT_EQ(exec_event_decode(&rec, sizeof(rec), 0, true, NULL, &e), -EBADMSG);
        /* A record too short for the extended header. */
        size = make_extended(&rec, "/bin/true", NULL, 0);
        ASSERT_EQ(exec_event_decode(&rec, EXEC_EVENT_HEADER_SIZE, 0, true, NULL, &e), -EBADMSG);
}

int main(void) {
        test_decode();
        test_execveat_names();
        test_json();
        test_json_max();
        test_extended();
        test_refs();
        return 0;
}
