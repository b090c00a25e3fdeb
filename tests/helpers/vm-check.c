/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vm-check.c: inside the test VM, makes known execs as dedicated UIDs and checks what
 * execcountctl reports for them, exactly.
 *
 *   vm-check EXECCOUNTCTL SOCKET EXPECTED-MODE COMPAT-HELPER UID-BASE
 *
 * Prints one line per check and "vm-check: PASS" or "vm-check: FAIL" last; exits 0 on PASS. */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json-util.h"
#include "macro.h"

#define MISSING "/nonexistent-execcount-vm"
/* The storm: more processes in exec at once than a kretprobe's default 10 instances. */
#define STORM_WORKERS 16
#define STORM_OK 20
#define STORM_FAILED 200
/* The flood: far more, so that kretprobes miss returns and the ring buffer overflows. */
#define FLOOD_WORKERS 96
#define FLOOD_OK 5
#define FLOOD_FAILED 500

extern char **environ;

static const char *ctl, *sock, *compat_helper;
static int failures;

#define CHECK(cond, ...)                                                \
        do {                                                            \
                if (!(cond)) {                                          \
                        printf("vm-check: FAILED: ");                   \
                        printf(__VA_ARGS__);                            \
                        printf("\n");                                   \
                        failures++;                                     \
                }                                                       \
        } while (0)

/* ---- Execs as a UID */

typedef int (*Scenario)(void *arg);

/* With login, the child logs in as uid first (its login UID), which starts an audit
 * session; with cgroup (a directory of the cgroup file system), it joins that cgroup. */
static int run_child(const char *cgroup, uint32_t uid, bool login, Scenario fn, void *arg) {
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return -1;
        if (pid == 0) {
                FILE *f = login ? fopen("/proc/self/loginuid", "we") : NULL;
                char procs[256];

                if (login && (!f || fprintf(f, "%u", uid) < 0 || fclose(f) != 0))
                        _exit(98);
                snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup ?: "");
                f = cgroup ? fopen(procs, "we") : NULL;
                if (cgroup && (!f || fprintf(f, "0\n") < 0 || fclose(f) != 0))
                        _exit(97);
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(99);
                _exit(fn(arg));
        }
        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_as_login(uint32_t uid, bool login, Scenario fn, void *arg) {
        return run_child(NULL, uid, login, fn, arg);
}

static int run_as(uint32_t uid, Scenario fn, void *arg) {
        return run_child(NULL, uid, false, fn, arg);
}

static int wait_ok(pid_t pid) {
        int status;

        return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int exec_ok(int n) {
        for (int i = 0; i < n; i++) {
                pid_t pid = fork();

                if (pid == 0) {
                        execl("/bin/true", "true", (char *) NULL);
                        _exit(127);
                }
                if (pid < 0 || !wait_ok(pid))
                        return 1;
        }
        return 0;
}

static int exec_missing(int n) {
        char *argv[] = { (char *) "x", NULL };

        for (int i = 0; i < n; i++)
                if (execve(MISSING, argv, environ) >= 0 || errno != ENOENT)
                        return 2;
        return 0;
}

static int scenario_plain(void *arg) {
        return exec_ok(10) ?: exec_missing(5);
}

static int scenario_execveat(void *arg) {
        char *argv[] = { (char *) "true", NULL };
        int fd = open("/bin/busybox", O_RDONLY), dir = open("/bin", O_RDONLY | O_DIRECTORY);

        if (fd < 0 || dir < 0)
                return 1;
        for (int i = 0; i < 3; i++) {
                pid_t pid = fork();

                if (pid == 0) {
                        fexecve(fd, argv, environ);
                        _exit(127);
                }
                if (pid < 0 || !wait_ok(pid))
                        return 2;
        }
        for (int i = 0; i < 2; i++)
                if (syscall(SYS_execveat, dir, "nonexistent-execcount", argv, environ, 0) >= 0 || errno != ENOENT)
                        return 3;
        if (syscall(SYS_execveat, AT_FDCWD, MISSING, argv, environ, 0) >= 0 || errno != ENOENT)
                return 4;
        return 0;
}

static int scenario_compat(void *arg) {
        execl(compat_helper, "compat-exec", "4", "3", (char *) NULL);
        return errno == ENOEXEC ? 98 : 97;
}

/* A setuid-root program, 3 times, and a plain one twice: 3 privileged execs of 5. */
#define SUID_TRUE "/tmp/vm-check-suid-true"
static int scenario_privileged(void *arg) {
        for (int i = 0; i < 3; i++) {
                pid_t pid = fork();

                if (pid == 0) {
                        execl(SUID_TRUE, "true", (char *) NULL);
                        _exit(127);
                }
                if (pid < 0 || !wait_ok(pid))
                        return 1;
        }
        return exec_ok(2);
}

/* busybox, setuid root: run as "true", it exits 0 whoever runs it. */
static int make_suid_true(void) {
        char buf[65536];
        int in = open("/bin/busybox", O_RDONLY | O_CLOEXEC), out;
        ssize_t n;

        (void) unlink(SUID_TRUE);
        out = open(SUID_TRUE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
        if (in < 0 || out < 0)
                return -1;
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t) n) != n)
                        return -1;
        if (n < 0 || fchown(out, 0, 0) < 0 || fchmod(out, 04755) < 0)
                return -1;
        close(in);
        return close(out);
}

/* Command lines, to success and to failure: one as given, one cut at 1024 bytes. */
#define LONG_ARG_LEN 2000
#define SESSION_FILE "/tmp/vm-check-session"
static int scenario_argv(void *arg) {
        static char long_arg[LONG_ARG_LEN + 1];
        char *plain[] = { (char *) "true", (char *) "a b", (char *) "", (char *) "c", NULL };
        char *longv[] = { (char *) "true", long_arg, NULL };
        char *const *argvs[] = { plain, longv };
        char session[16] = "";
        int fd = open("/proc/self/sessionid", O_RDONLY | O_CLOEXEC), out;

        if (fd < 0 || read(fd, session, sizeof(session) - 1) <= 0)
                return 5;
        out = open(SESSION_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0 || write(out, session, strlen(session)) < 0 || close(out) < 0)
                return 6;
        memset(long_arg, 'z', LONG_ARG_LEN);
        for (size_t i = 0; i < ELEMENTSOF(argvs); i++) {
                pid_t pid = fork();

                if (pid == 0) {
                        execve("/bin/true", argvs[i], environ);
                        _exit(127);
                }
                if (pid < 0 || !wait_ok(pid))
                        return 1;
                if (execve(MISSING, argvs[i], environ) >= 0 || errno != ENOENT)
                        return 2;
        }
        return 0;
}

static int scenario_path_walk(void *arg) {
        char *argv[] = { (char *) "true", NULL };

        setenv("PATH", "/nonexistent-a:/nonexistent-b:/bin", 1);
        execvp("true", argv);
        return 2;
}

static void *thread_exec(void *arg) {
        execl("/bin/true", "true", (char *) NULL);
        _exit(127);
}

static int scenario_thread(void *arg) {
        pthread_t t;

        if (pthread_create(&t, NULL, thread_exec, NULL) != 0)
                return 1;
        pthread_join(t, NULL);
        return 2;
}

typedef struct Storm {
        int workers, ok, failed;
} Storm;

static int storm_worker(const Storm *s, int cpu) {
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        (void) sched_setaffinity(0, sizeof(set), &set);
        for (int i = 0; i < s->ok; i++)
                if (exec_ok(1) || exec_missing(s->failed / s->ok))
                        return 1;
        return 0;
}

/* Workers spread over the CPUs, all exec'ing at once. */
static int scenario_storm(void *arg) {
        const Storm *s = arg;
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        pid_t pids[FLOOD_WORKERS];
        int bad = 0;

        for (int i = 0; i < s->workers; i++) {
                pids[i] = fork();
                if (pids[i] == 0)
                        _exit(storm_worker(s, (int) (i % cpus)));
        }
        for (int i = 0; i < s->workers; i++)
                bad += pids[i] < 0 || !wait_ok(pids[i]);
        return bad ? 1 : 0;
}

/* ---- What execcountctl says */

static json_object *ctl_json(const char *args) {
        char cmd[512], *buf = NULL;
        size_t size = 0;
        FILE *p, *out;
        json_object *o;
        int c;

        snprintf(cmd, sizeof(cmd), "%s --socket=%s %s --json=short", ctl, sock, args);
        p = popen(cmd, "r");
        out = open_memstream(&buf, &size);
        if (!p || !out)
                return NULL;
        while ((c = fgetc(p)) != EOF)
                fputc(c, out);
        fclose(out);
        if (pclose(p) != 0) {
                printf("vm-check: '%s' failed: %s\n", cmd, buf);
                free(buf);
                return NULL;
        }
        /* events print one object per line: make them an array. */
        if (strstr(args, "events")) {
                char *arr = malloc(size + 3), *q = arr;

                *q++ = '[';
                for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                        q += sprintf(q, "%s%s", q > arr + 1 ? "," : "", line);
                strcpy(q, "]");
                free(buf);
                buf = arr;
        }
        o = json_tokener_parse(buf);
        free(buf);
        return o;
}

/* The UID's counts, and its execs that sent no event by design (its rate limit, failures
 * filling half of the ring buffer, its share of a ring three quarters full); its
 * privileged execs if asked. */
static void counts_of(uint32_t uid, int64_t *execs, int64_t *failed, int64_t *throttled, int64_t *privileged) {
        char args[64];
        json_object *o, *users;
        int64_t unused;

        if (!privileged)
                privileged = &unused;
        *execs = *failed = *throttled = *privileged = -1;
        snprintf(args, sizeof(args), "stats --uid %" PRIu32, uid);
        o = ctl_json(args);
        if (o && json_object_object_get_ex(o, "users", &users) && json_object_array_length(users) == 1) {
                json_object *u = json_object_array_get_idx(users, 0);

                json_get_int64(u, "execs", 0, INT64_MAX, execs);
                json_get_int64(u, "failed", 0, INT64_MAX, failed);
                json_get_int64(u, "events_throttled", 0, INT64_MAX, throttled);
                json_get_int64(u, "privileged", 0, INT64_MAX, privileged);
        } else if (o)
                *execs = *failed = *throttled = *privileged = 0;
        json_object_put(o);
}

/* The UID's counts in the listing of every UID, which the daemon reads from the maps
 * whole, where counts_of() looks one UID up. */
static void listed_counts_of(uint32_t uid, int64_t *execs, int64_t *failed, int64_t *privileged) {
        json_object *o = ctl_json("stats"), *users;

        *execs = *failed = *privileged = 0;
        if (!o || !json_object_object_get_ex(o, "users", &users)) {
                *execs = *failed = *privileged = -1;
                json_object_put(o);
                return;
        }
        for (size_t i = 0; i < json_object_array_length(users); i++) {
                json_object *u = json_object_array_get_idx(users, i);
                int64_t id = -1;

                if (json_get_int64(u, "uid", 0, UINT32_MAX, &id) && id == uid) {
                        json_get_int64(u, "execs", 0, INT64_MAX, execs);
                        json_get_int64(u, "failed", 0, INT64_MAX, failed);
                        json_get_int64(u, "privileged", 0, INT64_MAX, privileged);
                }
        }
        json_object_put(o);
}

static int64_t status_int(const char *key) {
        json_object *status = ctl_json("status");
        int64_t n = -1;

        if (status)
                json_get_int64(status, key, 0, INT64_MAX, &n);
        json_object_put(status);
        return n;
}

/* Checks the UID's counts, and that its events are what was done: how many succeeded,
 * how many failed with ENOENT, and that each success ran want_ok_name (a prefix). Events
 * may be missing only as far as the daemon reports them lost (events_lost, which counts
 * the failures whose return a kretprobe missed, too); lost_before is that number before
 * this UID's execs. */
static void check(const char *what, uint32_t uid, int64_t want_execs, int64_t want_failed, const char *want_ok_name,
                  const char *want_failed_name, int64_t lost_before) {
        char args[64];
        int64_t execs, failed, throttled, n_ok = 0, n_failed = 0, lost;
        int64_t listed_execs, listed_failed, listed_privileged;
        json_object *events;

        counts_of(uid, &execs, &failed, &throttled, NULL);
        CHECK(execs == want_execs && failed == want_failed, "%s: UID %" PRIu32 " counted %" PRIi64 " execs, %" PRIi64
              " failed; expected %" PRIi64 " and %" PRIi64, what, uid, execs, failed, want_execs, want_failed);
        listed_counts_of(uid, &listed_execs, &listed_failed, &listed_privileged);
        CHECK(listed_execs == execs && listed_failed == failed,
              "%s: UID %" PRIu32 " listed with %" PRIi64 " execs, %" PRIi64 " failed among every UID; %" PRIi64
              " and %" PRIi64 " alone",
              what, uid, listed_execs, listed_failed, execs, failed);

        snprintf(args, sizeof(args), "events -n all --uid %" PRIu32, uid);
        events = ctl_json(args);
        CHECK(events, "%s: no events", what);
        for (size_t i = 0; events && i < json_object_array_length(events); i++) {
                json_object *e = json_object_array_get_idx(events, i);
                const char *name = json_get_string(e, "filename"), *comm = json_get_string(e, "comm");
                int64_t result = 1, u = -1, pid = 0, ppid = 0;

                json_get_int64(e, "result", INT32_MIN, INT32_MAX, &result);
                json_get_int64(e, "uid", 0, UINT32_MAX, &u);
                json_get_int64(e, "pid", 0, INT32_MAX, &pid);
                json_get_int64(e, "ppid", 0, INT32_MAX, &ppid);
                CHECK(u == uid && pid > 0 && ppid > 0 && comm && *comm, "%s: bad event %s", what,
                      json_object_to_json_string(e));
                if (result == 0) {
                        n_ok++;
                        CHECK(name && strncmp(name, want_ok_name, strlen(want_ok_name)) == 0,
                              "%s: success event names %s, expected %s", what, name ?: "null", want_ok_name);
                } else {
                        n_failed++;
                        CHECK(result == -ENOENT, "%s: failure event with result %" PRIi64, what, result);
                        CHECK(name && strncmp(name, want_failed_name, strlen(want_failed_name)) == 0,
                              "%s: failure event names %s, expected %s", what, name ?: "null", want_failed_name);
                }
        }
        lost = status_int("events_lost") - lost_before;
        /* Every exec has its event, or is counted as lost, or as held back. */
        CHECK(n_ok <= want_execs && n_failed <= want_failed &&
                      n_ok + n_failed + throttled <= want_execs + want_failed &&
                      n_ok + n_failed + throttled + lost >= want_execs + want_failed,
              "%s: %" PRIi64 " success and %" PRIi64 " failure events, expected %" PRIi64 " and %" PRIi64
              " (%" PRIi64 " reported lost, %" PRIi64 " held back)",
              what, n_ok, n_failed, want_execs, want_failed, lost, throttled);
        printf("vm-check: %s: UID %" PRIu32 ": %" PRIi64 " execs, %" PRIi64 " failed, events %" PRIi64 "/%" PRIi64
               ", %" PRIi64 " held back\n",
               what, uid, execs, failed, n_ok, n_failed, throttled);
        json_object_put(events);
}

/* The event's argv is want, joined by '|'. */
static bool argv_is(json_object *event, const char *want, bool truncated) {
        json_object *argv, *t;
        char got[4096] = "";

        if (!json_object_object_get_ex(event, "argv", &argv) || !json_object_is_type(argv, json_type_array) ||
            !json_object_object_get_ex(event, "argv_truncated", &t) || json_object_get_boolean(t) != truncated)
                return false;
        for (size_t i = 0; i < json_object_array_length(argv); i++)
                snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? "|" : "",
                         json_object_get_string(json_object_array_get_idx(argv, i)));
        return streq(got, want);
}

static void check_argv(uint32_t uid) {
        char args[64], session_text[16] = "", cut[1024 - 5 + 1], want_long[sizeof(cut) + 8];
        int64_t session = -1, want_session, auid;
        json_object *events;
        size_t n = 0;
        FILE *f = fopen(SESSION_FILE, "re");

        CHECK(f && fgets(session_text, sizeof(session_text), f), "argv: the scenario's session is unknown");
        if (f)
                fclose(f);
        want_session = strtoll(session_text, NULL, 10);
        /* "true" and its NUL take 5 of the 1024 bytes; the long argument gets the rest. */
        memset(cut, 'z', sizeof(cut) - 1);
        cut[sizeof(cut) - 1] = '\0';
        snprintf(want_long, sizeof(want_long), "true|%s", cut);
        snprintf(args, sizeof(args), "events -n all --uid %" PRIu32, uid);
        events = ctl_json(args);
        n = events ? json_object_array_length(events) : 0;
        CHECK(n == 4, "argv: %zu events, expected 4", n);
        for (size_t i = 0; i < n && n == 4; i++) {
                json_object *e = json_object_array_get_idx(events, i);
                const char *parent = json_get_string(e, "parent_comm");

                CHECK(argv_is(e, i < 2 ? "true|a b||c" : want_long, i >= 2), "argv: event %zu has other arguments: %s",
                      i, json_object_to_json_string(json_object_object_get(e, "argv")));
                CHECK(json_get_int64(e, "session", 0, UINT32_MAX - 1, &session) && session == want_session,
                      "argv: event %zu: session %" PRIi64 ", expected %" PRIi64, i, session, want_session);
                CHECK(json_get_int64(e, "login_uid", 0, UINT32_MAX, &auid) && auid == uid,
                      "argv: event %zu: login UID %" PRIi64 ", expected %" PRIu32, i, auid, uid);
                CHECK(parent && streq(parent, "vm-check"), "argv: event %zu: parent %s, expected vm-check", i,
                      parent ?: "?");
        }
        printf("vm-check: argv: UID %" PRIu32 ": %zu events with the arguments as passed, session %" PRIi64 "\n", uid,
               n, want_session);
        json_object_put(events);
}

/* The 32-bit helper's execs carry its arguments, read through 4-byte pointers when they
 * fail: its own exec first, then "true" and "compat arg" every time. */
static void check_compat_argv(uint32_t uid) {
        char args[64];
        json_object *events;
        size_t n;

        snprintf(args, sizeof(args), "events -n all --uid %" PRIu32, uid);
        events = ctl_json(args);
        n = events ? json_object_array_length(events) : 0;
        CHECK(n == 9, "compat: %zu events, expected 9", n);
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(events, i);

                CHECK(argv_is(e, i == 0 ? "compat-exec|4|3" : "true|compat arg", false),
                      "compat: event %zu has other arguments: %s", i, json_object_to_json_string(e));
        }
        json_object_put(events);
}

/* uid logged in as itself and made want successful execs: one pair, exactly. */
static void check_logins(uint32_t uid, int64_t want) {
        char args[64];
        json_object *reply, *logins = NULL;
        int64_t execs = -1, login_uid = -1;
        size_t n = 0;

        snprintf(args, sizeof(args), "stats --by=login --uid %" PRIu32, uid);
        reply = ctl_json(args);
        if (reply && json_object_object_get_ex(reply, "logins", &logins))
                n = json_object_array_length(logins);
        if (n == 1) {
                json_object *l = json_object_array_get_idx(logins, 0);

                json_get_int64(l, "login_uid", 0, UINT32_MAX, &login_uid);
                json_get_int64(l, "execs", 0, INT64_MAX, &execs);
        }
        CHECK(n == 1 && login_uid == uid && execs == want,
              "logins: UID %" PRIu32 ": %zu pairs, login UID %" PRIi64 " with %" PRIi64 " execs; expected one, "
              "its own with %" PRIi64,
              uid, n, login_uid, execs, want);
        printf("vm-check: logins: UID %" PRIu32 " under login UID %" PRIi64 ": %" PRIi64 " execs\n", uid, login_uid,
               execs);
        json_object_put(reply);
}

static int scenario_missing(void *arg) {
        return exec_missing(*(const int *) arg);
}

/* Runs fn(arg) as uid in the cgroup dir, on CPU 0 only. */
static int run_child_on_cpu0(const char *dir, uint32_t uid, Scenario fn, void *arg) {
        cpu_set_t one, all;
        int r;

        CPU_ZERO(&one);
        CPU_SET(0, &one);
        if (sched_getaffinity(0, sizeof(all), &all) < 0 || sched_setaffinity(0, sizeof(one), &one) < 0)
                return -1;
        r = run_child(dir, uid, false, fn, arg);
        return sched_setaffinity(0, sizeof(all), &all) < 0 ? -1 : r;
}

/* The execs and failures of uid in unit: one row, exactly want_execs and want_failed. */
static void check_unit_row(const char *unit, uint32_t uid, int64_t want_execs, int64_t want_failed) {
        char args[128];
        json_object *reply, *units = NULL;
        int64_t execs = -1, failed = -1;
        size_t n = 0;

        snprintf(args, sizeof(args), "stats --by=unit --unit=%s --uid %" PRIu32, unit, uid);
        reply = ctl_json(args);
        if (reply && json_object_object_get_ex(reply, "units", &units))
                n = json_object_array_length(units);
        if (n == 1) {
                json_get_int64(json_object_array_get_idx(units, 0), "execs", 0, INT64_MAX, &execs);
                json_get_int64(json_object_array_get_idx(units, 0), "failed", 0, INT64_MAX, &failed);
        }
        CHECK(n == 1 && execs == want_execs && failed == want_failed,
              "units: %s of UID %" PRIu32 ": %zu rows, %" PRIi64 " execs and %" PRIi64 " failed; expected %" PRIi64
              " and %" PRIi64,
              unit, uid, n, execs, failed, want_execs, want_failed);
        printf("vm-check: units: %s of UID %" PRIu32 ": %" PRIi64 " execs, %" PRIi64 " failed\n", unit, uid, execs,
               failed);
        json_object_put(reply);
}

/* Execs of uid in a service's cgroup count under that unit, exactly; and failures, which
 * a CPU counts in its slot for one (cgroup, UID) at a time, all on CPU 0, in the order
 * that (on a quiet VM) makes the first cgroup take its slot, a second cgroup's within the
 * second go to the map, and after a second's idleness the second cgroup take the slot, the
 * first's failures moving to the map: the totals are checked (the slots are not visible
 * from here; test-bpf checks them). */
static void check_units(uint32_t uid) {
        char slice[64], dir[128], dir2[128], unit[64], unit2[64];
        int four = 4, thirty = 30;
        int r;

        snprintf(slice, sizeof(slice), "/sys/fs/cgroup/vmcheck-%" PRIu32 ".slice", uid);
        snprintf(unit, sizeof(unit), "work-%" PRIu32 ".service", uid);
        snprintf(unit2, sizeof(unit2), "other-%" PRIu32 ".service", uid);
        snprintf(dir, sizeof(dir), "%s/%s", slice, unit);
        snprintf(dir2, sizeof(dir2), "%s/%s", slice, unit2);
        CHECK(mkdir(slice, 0755) == 0 && mkdir(dir, 0755) == 0 && mkdir(dir2, 0755) == 0,
              "units: making %s failed: %m", dir);
        r = run_child_on_cpu0(dir, uid, scenario_plain, NULL);
        if (r == 0)
                r = run_child_on_cpu0(dir, uid, scenario_missing, &thirty);
        if (r == 0)
                r = run_child_on_cpu0(dir2, uid, scenario_missing, &four);
        CHECK(r == 0, "units: the scenarios in %s did not run (%d)", slice, r);
        check_unit_row(unit, uid, 10, 35);
        check_unit_row(unit2, uid, 0, 4);
        (void) usleep(1100 * 1000);
        r = run_child_on_cpu0(dir2, uid, scenario_missing, &thirty);
        CHECK(r == 0, "units: the scenario in %s did not run (%d)", dir2, r);
        check_unit_row(unit, uid, 10, 35);
        check_unit_row(unit2, uid, 0, 34);
        (void) rmdir(dir);
        (void) rmdir(dir2);
        (void) rmdir(slice);
}

int main(int argc, char *argv[]) {
        const char *expected_mode;
        uint32_t base;
        json_object *status;
        int64_t misses = -1, returns_missed = -1;
        const char *mode;
        int r;

        if (argc != 6)
                return 64;
        ctl = argv[1];
        sock = argv[2];
        expected_mode = argv[3];
        compat_helper = argv[4];
        base = (uint32_t) strtoul(argv[5], NULL, 10);

        Storm storm = { STORM_WORKERS, STORM_OK, STORM_FAILED }, flood = { FLOOD_WORKERS, FLOOD_OK, FLOOD_FAILED };
        int64_t lost;

        CHECK(run_as(base + 0, scenario_plain, NULL) == 0, "plain scenario did not run");
        check("execve", base + 0, 10, 5, "/bin/true", MISSING, 0);
        check_units(base + 9);

        CHECK(run_as(base + 1, scenario_execveat, NULL) == 0, "execveat scenario did not run");
        check("execveat", base + 1, 3, 3, "/dev/fd/", "/", 0);

        r = run_as(base + 2, scenario_compat, NULL);
        CHECK(r == 0, "the 32-bit helper failed (%d%s)", r, r == 98 ? ": ENOEXEC, no IA32 emulation" : "");
        /* Its own exec, 4 compat successes; 3 compat execve and 1 compat execveat failures. */
        check("compat", base + 2, 5, 4, "/", "/nonexistent-execcount-test/compat", 0);
        check_compat_argv(base + 2);

        CHECK(run_as(base + 3, scenario_path_walk, NULL) == 0, "PATH walk did not run");
        check("PATH walk", base + 3, 1, 2, "/bin/true", "/nonexistent-", 0);

        CHECK(run_as(base + 4, scenario_thread, NULL) == 0, "thread exec did not run");
        check("thread", base + 4, 1, 0, "/bin/true", "-", 0);

        CHECK(make_suid_true() == 0, "making %s failed: %m", SUID_TRUE);
        CHECK(run_as(base + 7, scenario_privileged, NULL) == 0, "privileged scenario did not run");
        check("privileged", base + 7, 5, 0, "/", "-", 0);
        int64_t execs, failed, throttled, privileged;
        counts_of(base + 7, &execs, &failed, &throttled, &privileged);
        CHECK(privileged == 3, "privileged: UID %" PRIu32 " counted %" PRIi64 " privileged execs, expected 3",
              base + 7, privileged);
        int64_t listed_execs, listed_failed, listed_privileged;
        listed_counts_of(base + 7, &listed_execs, &listed_failed, &listed_privileged);
        CHECK(listed_privileged == 3, "privileged: UID %" PRIu32 " listed with %" PRIi64 " privileged execs among "
              "every UID, expected 3", base + 7, listed_privileged);
        printf("vm-check: privileged: UID %" PRIu32 ": %" PRIi64 " of %" PRIi64 " execs privileged\n", base + 7,
               privileged, execs);
        /* Their events tell the effective UID: root for the setuid-root program. */
        char args[64];
        int64_t euid_root = 0, euid_own = 0;
        snprintf(args, sizeof(args), "events -n all --uid %" PRIu32, base + 7);
        json_object *events = ctl_json(args);
        for (size_t i = 0; events && i < json_object_array_length(events); i++) {
                int64_t euid = -1;

                json_get_int64(json_object_array_get_idx(events, i), "euid", 0, UINT32_MAX, &euid);
                euid_root += euid == 0;
                euid_own += euid == base + 7;
        }
        CHECK(euid_root == 3 && euid_own == 2, "privileged: events with euid 0 and own: %" PRIi64 " and %" PRIi64
              ", expected 3 and 2", euid_root, euid_own);
        json_object_put(events);

        (void) unlink(SESSION_FILE); /* another mode's UID wrote it */
        r = run_as_login(base + 8, true, scenario_argv, NULL);
        CHECK(r == 0, "argv scenario did not run (%d)", r);
        check("argv", base + 8, 2, 2, "/bin/true", MISSING, 0);
        check_argv(base + 8);
        check_logins(base + 8, 2);

        CHECK(run_as(base + 5, scenario_storm, &storm) == 0, "storm did not run");
        check("storm", base + 5, STORM_WORKERS * STORM_OK, STORM_WORKERS * STORM_FAILED, "/bin/true", MISSING, 0);
        /* So far every event must have arrived, except for missed returns. */
        lost = status_int("events_lost");
        CHECK(lost == status_int("returns_missed"), "%" PRIi64 " events lost before the flood", lost);

        /* Counts stay exact when kretprobes miss returns and the ring buffer overflows. */
        CHECK(run_as(base + 6, scenario_storm, &flood) == 0, "flood did not run");
        check("flood", base + 6, FLOOD_WORKERS * FLOOD_OK, FLOOD_WORKERS * FLOOD_FAILED, "/bin/true", MISSING, lost);

        status = ctl_json("status");
        mode = status ? json_get_string(status, "probe_mode") : NULL;
        if (status) {
                json_get_int64(status, "probe_misses", 0, INT64_MAX, &misses);
                json_get_int64(status, "events_lost", 0, INT64_MAX, &lost);
                json_get_int64(status, "returns_missed", 0, INT64_MAX, &returns_missed);
        }
        CHECK(mode && streq(mode, expected_mode), "probe mode %s, expected %s", mode ?: "?", expected_mode);
        /* This mode's maps and links, pinned: a restart or a crash would lose nothing. */
        json_object *pinned;
        CHECK(status && json_object_object_get_ex(status, "pinned", &pinned) && json_object_get_boolean(pinned),
              "the %s probes are not pinned", mode ?: "?");
        printf("vm-check: probe mode %s, %" PRIi64 " probe misses, %" PRIi64 " returns missed, %" PRIi64
               " events lost\n",
               mode ?: "?", misses, returns_missed, lost);
        json_object_put(status);

        printf("vm-check: %s\n", failures ? "FAIL" : "PASS");
        return failures ? 1 : 0;
}
