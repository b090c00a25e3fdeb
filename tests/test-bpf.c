/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-bpf.c: the BPF programs on the running kernel: exact per-UID counts and events.
 *
 * Every scenario runs as its own UID, one nobody else uses, and compares the counts that
 * UID got with the execs the scenario made. Other activity on the host cannot disturb
 * that. Needs root. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counts.h"
#include "event.h"
#include "log.h"
#include "probe.h"
#include "test.h"
#include "time-util.h"
#include "units.h"

#define MISSING "/nonexistent-execcount-test/prog"

extern char **environ;

static uint32_t uid_base;
static unsigned next_uid;

static uint32_t new_test_uid(void) {
        return uid_base + next_uid++;
}

/* ---- Running code as a dedicated UID */

typedef int (*ChildFn)(void *arg);

/* Unless login_uid is KEEP_LOGIN, the child logs in as login_uid first (its login UID;
 * UINT32_MAX: none), which starts an audit session, then becomes uid: as after a login
 * and su. */
#define KEEP_LOGIN INT64_C(-1)
static pid_t spawn_with_login(int64_t login_uid, uint32_t uid, ChildFn fn, void *arg) {
        pid_t pid = fork();

        ASSERT(pid >= 0);
        if (pid == 0) {
                if (login_uid != KEEP_LOGIN) {
                        FILE *f = fopen("/proc/self/loginuid", "we");

                        if (!f || fprintf(f, "%" PRIi64, login_uid) < 0 || fclose(f) != 0)
                                _exit(98);
                }
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || setgroups(0, NULL) < 0 ||
                    setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(99);
                _exit(fn(arg));
        }
        return pid;
}

/* With login, the child logs in as uid first. */
static pid_t spawn_as_login(uint32_t uid, bool login, ChildFn fn, void *arg) {
        return spawn_with_login(login ? (int64_t) uid : KEEP_LOGIN, uid, fn, arg);
}

static pid_t spawn_as(uint32_t uid, ChildFn fn, void *arg) {
        return spawn_as_login(uid, false, fn, arg);
}

static int wait_exit(pid_t pid) {
        int status;

        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status))
                TEST_FAIL("child %d died of signal %d", (int) pid, WTERMSIG(status));
        return WEXITSTATUS(status);
}

/* Runs fn as uid and returns the child's pid; fails the test if fn does not return 0. */
static pid_t run_as(uint32_t uid, ChildFn fn, void *arg) {
        pid_t pid = spawn_as(uid, fn, arg);
        int r = wait_exit(pid);

        if (r != 0)
                TEST_FAIL("scenario as UID %u exited with %d", uid, r);
        return pid;
}

/* posix_spawn(path, argv), waited for: 0 when it ran and exited 0, 1 when it could not be
 * started, 2 otherwise. Not fork + execve: a fork of a sanitizer build copies the page
 * tables of its shadow memory, and made test_success_budget() ten times slower. */
static int exec_wait(const char *path, char *const argv[]) {
        pid_t pid;
        int status;

        if (posix_spawn(&pid, path, NULL, NULL, argv, environ) != 0)
                return 1;
        return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 2;
}

/* fork + execve(path) n times; each exec must succeed. */
static int exec_n(const char *path, int n) {
        char *const argv[] = { (char *) path, NULL };

        for (int i = 0; i < n; i++) {
                int r = exec_wait(path, argv);

                if (r != 0)
                        return r;
        }
        return 0;
}

/* execve() of a missing file n times, without forking: each returns ENOENT. */
static int fail_n(int n) {
        for (int i = 0; i < n; i++) {
                char *argv[] = { (char *) MISSING, NULL };

                if (execve(MISSING, argv, environ) >= 0 || errno != ENOENT)
                        return 3;
        }
        return 0;
}

/* ---- Reading what the kernel side recorded */

typedef struct Recorder {
        struct ring_buffer *ring;
        ExecEvent **events;
        size_t *sizes; /* of each event's record */
        size_t n, alloc;
        uint32_t uid_min, uid_max; /* only these are kept */
} Recorder;

static int on_record(void *ctx, void *data, size_t size) {
        Recorder *rec = ctx;
        const struct exec_event *raw = data;
        ExecEvent *e;

        if (raw->uid < rec->uid_min || raw->uid > rec->uid_max)
                return 0;
        ASSERT_EQ(exec_event_decode(data, size, realtime_offset_usec(), true, NULL, &e), 0);
        if (rec->n == rec->alloc) {
                rec->alloc = rec->alloc ? rec->alloc * 2 : 1024;
                rec->events = reallocarray(rec->events, rec->alloc, sizeof(*rec->events));
                rec->sizes = reallocarray(rec->sizes, rec->alloc, sizeof(*rec->sizes));
                ASSERT(rec->events && rec->sizes);
        }
        rec->sizes[rec->n] = size;
        rec->events[rec->n++] = e;
        return 0;
}

static void recorder_init(Recorder *rec, Probe *p) {
        *rec = (Recorder) { .uid_min = uid_base, .uid_max = uid_base + 1000 };
        rec->ring = ring_buffer__new(probe_get_events_fd(p), on_record, rec, NULL);
        ASSERT(rec->ring);
}

static void recorder_drain(Recorder *rec) {
        ASSERT(ring_buffer__consume(rec->ring) >= 0);
}

static void recorder_done(Recorder *rec) {
        for (size_t i = 0; i < rec->n; i++)
                exec_event_unref(rec->events[i]);
        free(rec->events);
        free(rec->sizes);
        ring_buffer__free(rec->ring);
}

/* The events of uid, in order, into out (at most max), the sizes of their records into
 * sizes if not NULL; returns how many. */
static size_t events_sized_of(Recorder *rec, uint32_t uid, const ExecEvent **out, size_t *sizes, size_t max) {
        size_t n = 0;

        recorder_drain(rec);
        for (size_t i = 0; i < rec->n; i++)
                if (rec->events[i]->uid == uid) {
                        ASSERT(n < max);
                        if (sizes)
                                sizes[n] = rec->sizes[i];
                        out[n++] = rec->events[i];
                }
        return n;
}

static size_t events_of(Recorder *rec, uint32_t uid, const ExecEvent **out, size_t max) {
        return events_sized_of(rec, uid, out, NULL, max);
}

static void expect_counts(Probe *p, uint32_t uid, uint64_t execs, uint64_t failed) {
        UserCount c = {};
        int r = counts_read_one_live(probe_get_counts_maps(p), probe_get_unit_slots_fd(p), uid, &c);

        if (execs == 0 && failed == 0) {
                ASSERT_EQ(r, -ENOENT);
                return;
        }
        ASSERT_EQ(r, 0);
        if (c.execs != execs || c.failed != failed)
                TEST_FAIL("UID %u: expected %ju execs and %ju failed, counted %ju and %ju", uid, (uintmax_t) execs,
                          (uintmax_t) failed, (uintmax_t) c.execs, (uintmax_t) c.failed);
        ASSERT(c.last_exec_ns > 0 && c.last_exec_ns <= now_usec(CLOCK_BOOTTIME) * 1000);
}

static void expect_event(const ExecEvent *e, uint32_t uid, pid_t pid, pid_t ppid, const char *comm, int result,
                         const char *filename) {
        uint64_t now = now_usec(CLOCK_REALTIME);

        ASSERT_EQ_U(e->uid, uid);
        if (pid > 0)
                ASSERT_EQ(e->pid, pid);
        if (ppid > 0)
                ASSERT_EQ(e->ppid, ppid);
        ASSERT_STREQ(e->comm, comm);
        ASSERT_EQ(e->result, result);
        ASSERT(e->has_euid); /* these programs always tell it */
        ASSERT(e->has_extended);
        ASSERT(strlen(e->parent_comm) > 0);
        ASSERT(e->has_filename);
        ASSERT_STREQ(e->filename, filename);
        /* Recent, and not from the future. */
        ASSERT(e->time_usec <= now + 1000 && e->time_usec + 60 * USEC_PER_SEC > now);
}

/* This process's audit session, which its children inherit; EXEC_SESSION_UNSET if none. */
static uint32_t own_session(void) {
        FILE *f = fopen("/proc/self/sessionid", "re");
        unsigned session = EXEC_SESSION_UNSET;

        ASSERT(f && fscanf(f, "%u", &session) == 1);
        fclose(f);
        return session;
}

/* The event's arguments are want (NULL-terminated), and cut or not. */
static void expect_argv(const ExecEvent *e, const char *const *want, bool truncated) {
        const char *a = e->argv;
        size_t n = 0;

        if (!e->has_argv)
                TEST_FAIL("event of %s (result %d): no arguments", e->filename, e->result);
        for (; want[n]; n++, a += strlen(a) + 1) {
                if (n >= e->argc)
                        TEST_FAIL("event of %s: %zu arguments, expected more", e->filename, e->argc);
                if (strcmp(a, want[n]) != 0)
                        TEST_FAIL("event of %s: argument %zu is \"%.40s\" (%zu bytes), expected \"%.40s\" (%zu bytes)",
                                  e->filename, n, a, strlen(a), want[n], strlen(want[n]));
        }
        ASSERT_EQ_U(e->argc, n);
        ASSERT(e->argv_truncated == truncated);
}

/* ---- Scenarios */

static int scenario_success(void *arg) {
        return exec_n("/bin/true", 20);
}

static void test_success(Probe *p, Recorder *rec) {
        const ExecEvent *ev[64];
        uint32_t uid = new_test_uid();
        pid_t child = run_as(uid, scenario_success, NULL);
        size_t n;

        expect_counts(p, uid, 20, 0);
        n = events_of(rec, uid, ev, ELEMENTSOF(ev));
        ASSERT_EQ_U(n, 20);
        for (size_t i = 0; i < n; i++)
                expect_event(ev[i], uid, 0, child, "true", 0, "/bin/true");
        for (size_t i = 1; i < n; i++)
                ASSERT(ev[i]->time_usec >= ev[i - 1]->time_usec);
}

static int scenario_failures(void *arg) {
        return fail_n(30);
}

static void test_failures(Probe *p, Recorder *rec) {
        const ExecEvent *ev[64];
        uint32_t uid = new_test_uid();
        pid_t child = run_as(uid, scenario_failures, NULL);
        size_t n;

        expect_counts(p, uid, 0, 30);
        n = events_of(rec, uid, ev, ELEMENTSOF(ev));
        ASSERT_EQ_U(n, 30);
        for (size_t i = 0; i < n; i++) {
                expect_event(ev[i], uid, child, getpid(), "test-bpf", -ENOENT, MISSING);
                ASSERT_EQ_U(ev[i]->euid, uid); /* a failed exec: the caller's */
        }
}

/* Mixed outcomes as one UID, with several ways of exec'ing. */
static int scenario_execveat(void *arg) {
        char *argv[] = { (char *) "true", NULL };
        int *fds = arg, status;
        pid_t pid;

        /* fexecve(): glibc calls execveat(fd, "", AT_EMPTY_PATH). */
        pid = fork();
        if (pid == 0) {
                fexecve(fds[0], argv, environ);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 1;

        /* execveat() relative to a directory fd, successful... */
        pid = fork();
        if (pid == 0) {
                syscall(SYS_execveat, fds[1], "true", argv, environ, 0);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 2;

        /* ...and failing, twice. */
        if (syscall(SYS_execveat, fds[1], "nonexistent-execcount", argv, environ, 0) >= 0 || errno != ENOENT)
                return 3;
        if (syscall(SYS_execveat, AT_FDCWD, MISSING, argv, environ, 0) >= 0 || errno != ENOENT)
                return 4;
        return 0;
}

static void test_execveat(Probe *p, Recorder *rec) {
        const ExecEvent *ev[8];
        char fd_name[64], rel_name[64], missing_name[64];
        uint32_t uid = new_test_uid();
        int fds[2];
        pid_t child;

        fds[0] = open("/bin/true", O_RDONLY);
        fds[1] = open("/bin", O_RDONLY | O_DIRECTORY);
        ASSERT(fds[0] >= 0 && fds[1] >= 0);
        child = run_as(uid, scenario_execveat, fds);

        expect_counts(p, uid, 2, 2);
        ASSERT_EQ_U(events_of(rec, uid, ev, ELEMENTSOF(ev)), 4);
        snprintf(fd_name, sizeof(fd_name), "/dev/fd/%d", fds[0]);
        snprintf(rel_name, sizeof(rel_name), "/dev/fd/%d/true", fds[1]);
        snprintf(missing_name, sizeof(missing_name), "/dev/fd/%d/nonexistent-execcount", fds[1]);
        expect_event(ev[0], uid, 0, child, "true", 0, fd_name);
        expect_event(ev[1], uid, 0, child, "true", 0, rel_name);
        expect_event(ev[2], uid, child, getpid(), "test-bpf", -ENOENT, missing_name);
        expect_event(ev[3], uid, child, getpid(), "test-bpf", -ENOENT, MISSING);
        close(fds[0]);
        close(fds[1]);
}

/* execvp() walking $PATH: two misses, then the hit. */
static int scenario_path_walk(void *arg) {
        char *argv[] = { (char *) "true", NULL };

        if (setenv("PATH", "/nonexistent-execcount-a:/nonexistent-execcount-b:/bin", 1) < 0)
                return 1;
        execvp("true", argv);
        return 2;
}

static void test_path_walk(Probe *p, Recorder *rec) {
        const ExecEvent *ev[8];
        uint32_t uid = new_test_uid();
        pid_t child = run_as(uid, scenario_path_walk, NULL);

        expect_counts(p, uid, 1, 2);
        ASSERT_EQ_U(events_of(rec, uid, ev, ELEMENTSOF(ev)), 3);
        expect_event(ev[0], uid, child, getpid(), "test-bpf", -ENOENT, "/nonexistent-execcount-a/true");
        expect_event(ev[1], uid, child, getpid(), "test-bpf", -ENOENT, "/nonexistent-execcount-b/true");
        expect_event(ev[2], uid, child, getpid(), "true", 0, "/bin/true");
}

/* A script is one exec, named as the script; execs after a fork count too (the others
 * here are made by posix_spawn, see exec_wait()). */
static int scenario_script_and_spawn(void *arg) {
        char *const *paths = arg, *script = paths[0], *noexec = paths[1];
        /* On the stack, which this process has written: a failed exec's arguments are read
         * without faulting pages in, and a constant's page is only touched by the fork's
         * child, in its own copy of the memory. */
        char x[] = "x", *argv[] = { x, NULL };
        pid_t pid;
        int status;

        if (exec_n(script, 1) != 0)
                return 1;
        pid = fork();
        if (pid < 0)
                return 2;
        if (pid == 0) {
                execve("/bin/true", argv, environ);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return 3;
        /* Not executable: EACCES. */
        if (execve(noexec, argv, environ) >= 0 || errno != EACCES)
                return 4;
        return 0;
}

static void test_script_and_spawn(Probe *p, Recorder *rec) {
        char dir[] = "/tmp/test-bpf-XXXXXX", script[64], noexec[64];
        char *paths[] = { script, noexec };
        const ExecEvent *ev[8];
        uint32_t uid = new_test_uid();
        pid_t child;
        FILE *f;

        ASSERT(mkdtemp(dir));
        ASSERT_EQ(chmod(dir, 0755), 0);
        snprintf(script, sizeof(script), "%s/script", dir);
        snprintf(noexec, sizeof(noexec), "%s/noexec", dir);
        f = fopen(script, "we");
        ASSERT(f);
        fputs("#!/bin/true\n", f);
        fclose(f);
        ASSERT_EQ(chmod(script, 0755), 0);
        f = fopen(noexec, "we");
        ASSERT(f);
        fclose(f);
        ASSERT_EQ(chmod(noexec, 0644), 0);

        child = run_as(uid, scenario_script_and_spawn, paths);

        expect_counts(p, uid, 2, 1);
        ASSERT_EQ_U(events_of(rec, uid, ev, ELEMENTSOF(ev)), 3);
        /* The kernel names the process after the script, and runs the interpreter. */
        expect_event(ev[0], uid, 0, child, "script", 0, script);
        expect_event(ev[1], uid, 0, child, "true", 0, "/bin/true");
        expect_event(ev[2], uid, child, getpid(), "test-bpf", -EACCES, noexec);
        /* The interpreter's command line, as the script's program gets it. */
        expect_argv(ev[0], (const char *[]) { "/bin/true", script, NULL }, false);
        expect_argv(ev[1], (const char *[]) { "x", NULL }, false);
        expect_argv(ev[2], (const char *[]) { "x", NULL }, false);
        ASSERT_EQ(unlink(noexec), 0);
        ASSERT_EQ(unlink(script), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

/* Privileged execs: those after which the program runs with effective UID 0, the caller's
 * real UID not being 0. */
typedef struct PrivilegedRun {
        const char *path;
        int n;
        bool no_new_privs;
} PrivilegedRun;

static int scenario_privileged(void *arg) {
        const PrivilegedRun *runs = arg;

        for (; runs->path; runs++) {
                if (runs->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        return 4;
                if (exec_n(runs->path, runs->n) != 0)
                        return 5;
        }
        return 0;
}

static void expect_privileged(Probe *p, uint32_t uid, uint64_t execs, uint64_t privileged) {
        UserCount c = {};

        ASSERT_EQ(counts_read_one(probe_get_counts_maps(p), uid, &c), 0);
        if (c.execs != execs || c.privileged != privileged)
                TEST_FAIL("UID %u: expected %ju execs, %ju of them privileged; counted %ju and %ju", uid,
                          (uintmax_t) execs, (uintmax_t) privileged, (uintmax_t) c.execs, (uintmax_t) c.privileged);
}

static void copy_file(const char *from, const char *to, uid_t owner, mode_t mode) {
        char buf[65536];
        int in = open(from, O_RDONLY | O_CLOEXEC), out;
        ssize_t n;

        ASSERT(in >= 0);
        out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
        ASSERT(out >= 0);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                ASSERT_EQ(write(out, buf, (size_t) n), n);
        ASSERT_EQ(n, 0);
        ASSERT_EQ(fchown(out, owner, owner), 0);
        ASSERT_EQ(fchmod(out, mode), 0); /* after chown, which clears the setuid bit */
        close(out);
        close(in);
}

/* How many of the UID's events have each effective UID: root, the UID itself, or other. */
static void expect_euids(Recorder *rec, uint32_t uid, uint32_t other, size_t want_root, size_t want_own,
                         size_t want_other) {
        const ExecEvent *ev[64];
        size_t n = events_of(rec, uid, ev, ELEMENTSOF(ev)), root = 0, own = 0, others = 0;

        for (size_t i = 0; i < n; i++) {
                ASSERT(ev[i]->has_euid && ev[i]->result == 0);
                if (ev[i]->euid == 0)
                        root++;
                else if (ev[i]->euid == uid)
                        own++;
                else if (ev[i]->euid == other)
                        others++;
        }
        if (root != want_root || own != want_own || others != want_other)
                TEST_FAIL("UID %u: events with euid root/own/%u: %zu/%zu/%zu, expected %zu/%zu/%zu", uid, other, root,
                          own, others, want_root, want_own, want_other);
}

static void test_privileged(Probe *p, Recorder *rec) {
        char dir[] = "/tmp/test-bpf-XXXXXX", suid_root[64], suid_other[64];
        uint32_t user = new_test_uid(), other = new_test_uid(), nnp = new_test_uid(), owner = new_test_uid();

        ASSERT(mkdtemp(dir));
        ASSERT_EQ(chmod(dir, 0755), 0);
        snprintf(suid_root, sizeof(suid_root), "%s/suid-root", dir);
        snprintf(suid_other, sizeof(suid_other), "%s/suid-other", dir);
        copy_file("/bin/true", suid_root, 0, 04755);
        copy_file("/bin/true", suid_other, owner, 04755);

        /* setuid root: privileged; a plain program: not. */
        run_as(user, scenario_privileged,
               (PrivilegedRun[]) { { suid_root, 7, false }, { "/bin/true", 3, false }, {} });
        expect_privileged(p, user, 10, 7);
        expect_euids(rec, user, owner, 7, 3, 0);
        /* setuid to another user than root: not. */
        run_as(other, scenario_privileged, (PrivilegedRun[]) { { suid_other, 4, false }, {} });
        expect_privileged(p, other, 4, 0);
        expect_euids(rec, other, owner, 0, 0, 4);
        /* With no_new_privs the setuid bit does nothing: the program runs as its caller. */
        run_as(nnp, scenario_privileged, (PrivilegedRun[]) { { suid_root, 2, true }, {} });
        expect_privileged(p, nnp, 2, 0);
        expect_euids(rec, nnp, owner, 0, 2, 0);

        ASSERT_EQ(unlink(suid_root), 0);
        ASSERT_EQ(unlink(suid_other), 0);
        ASSERT_EQ(rmdir(dir), 0);
}

/* Command lines: as passed, for successful and failed execs alike; cut at
 * EXECCOUNT_ARGV_MAX bytes or EXECCOUNT_ARGS_MAX arguments, and marked; the audit session
 * of a login, the parent's name. */
typedef struct ArgvRun {
        char **argvs[4]; /* each run once to success (/bin/true) and once to failure */
        uint32_t *session; /* shared: the child's audit session */
} ArgvRun;

/* What scenario_argv() read of its arguments: kept, so that the reads are made. */
static volatile size_t argv_touched;

static int scenario_argv(void *arg) {
        const ArgvRun *run = arg;
        FILE *f = fopen("/proc/self/sessionid", "re");

        if (!f || fscanf(f, "%u", run->session) != 1)
                return 6;
        fclose(f);
        for (size_t i = 0; run->argvs[i]; i++) {
                int r = exec_wait("/bin/true", run->argvs[i]);

                if (r != 0)
                        return r;
                /* A failed exec's arguments are read where the caller keeps them, without
                 * faulting pages in: a forked child has no page table entries yet for the
                 * string literals in this binary's read-only data (fork copies none for file
                 * mappings), and an exec that fails before copying them leaves them so.
                 * A caller that built its command line has touched it: so does this one. */
                for (char **a = run->argvs[i]; *a; a++)
                        argv_touched += strlen(*a);
                if (execve(MISSING, run->argvs[i], environ) >= 0 || errno != ENOENT)
                        return 3;
        }
        return 0;
}

static void test_argv(Probe *p, Recorder *rec) {
        static char long_arg[2000], cut[EXECCOUNT_ARGV_MAX - 5 + 1];
        char *plain[] = { (char *) "true", (char *) "a", (char *) "b c", (char *) "", (char *) "d\x01\xff", NULL };
        char *longv[] = { (char *) "true", long_arg, NULL };
        char *many[EXECCOUNT_ARGS_MAX + 7], *none[] = { NULL };
        const char *many_want[EXECCOUNT_ARGS_MAX + 1];
        uint32_t *session = mmap(NULL, sizeof(*session), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ArgvRun run = { { plain, longv, many, NULL }, session };
        uint32_t uid = new_test_uid(), off = new_test_uid();
        const ExecEvent *ev[16];
        ProbeOptions tunables = {};
        pid_t child;

        ASSERT(session != MAP_FAILED);
        memset(long_arg, 'y', sizeof(long_arg) - 1);
        /* "true" and its NUL take 5 bytes; the long one gets the rest, without a NUL. */
        memset(cut, 'y', sizeof(cut) - 1);
        many[0] = (char *) "true";
        many_want[0] = "true";
        for (size_t i = 1; i < ELEMENTSOF(many) - 1; i++)
                many[i] = (char *) (i < EXECCOUNT_ARGS_MAX ? "m" : "beyond");
        for (size_t i = 1; i < EXECCOUNT_ARGS_MAX; i++)
                many_want[i] = "m";
        many[ELEMENTSOF(many) - 1] = NULL;
        many_want[EXECCOUNT_ARGS_MAX] = NULL;

        child = spawn_as_login(uid, true, scenario_argv, &run);
        ASSERT_EQ(wait_exit(child), 0);
        expect_counts(p, uid, 3, 3);
        ASSERT_EQ_U(events_of(rec, uid, ev, ELEMENTSOF(ev)), 6);
        for (size_t i = 0; i < 6; i++) {
                bool ok = i % 2 == 0;

                expect_event(ev[i], uid, ok ? 0 : child, ok ? child : getpid(), ok ? "true" : "test-bpf",
                             ok ? 0 : -ENOENT, ok ? "/bin/true" : MISSING);
                ASSERT_STREQ(ev[i]->parent_comm, "test-bpf");
                ASSERT_EQ_U(ev[i]->auid, uid);
                ASSERT(*session != EXEC_SESSION_UNSET);
                ASSERT_EQ_U(ev[i]->session, *session);
        }
        expect_argv(ev[0], (const char *const *) plain, false);
        expect_argv(ev[1], (const char *const *) plain, false);
        expect_argv(ev[2], (const char *[]) { "true", cut, NULL }, true);
        expect_argv(ev[3], (const char *[]) { "true", cut, NULL }, true);
        expect_argv(ev[4], many_want, true);
        expect_argv(ev[5], many_want, true);

        /* CaptureArgv=no: the programs read no arguments; an empty list is still one. */
        tunables.argv = false;
        ASSERT_EQ(probe_set_tunables(p, &tunables), 0);
        run.argvs[0] = plain;
        run.argvs[1] = NULL;
        run_as(off, scenario_argv, &run);
        tunables.argv = true;
        ASSERT_EQ(probe_set_tunables(p, &tunables), 0);
        ASSERT_EQ_U(events_of(rec, off, ev, ELEMENTSOF(ev)), 2);
        ASSERT(!ev[0]->has_argv && !ev[1]->has_argv);
        ASSERT_EQ_U(ev[0]->session, own_session()); /* no login of its own: this test's */
        run.argvs[0] = none;
        run_as(off, scenario_argv, &run);
        ASSERT_EQ_U(events_of(rec, off, ev, ELEMENTSOF(ev)), 4);
        /* The kernel gives a program started with no arguments an empty one (since 5.18). */
        ASSERT(ev[2]->has_argv && ev[3]->has_argv);
        ASSERT_EQ_U(ev[3]->argc, 0);
        ASSERT(!ev[2]->argv_truncated && !ev[3]->argv_truncated);
        munmap(session, sizeof(*session));
}

/* An exec from a thread that is not the group leader: the process keeps the leader's pid. */
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

/* A successful exec's event is written in the ring in place, in a record of 64 bytes for
 * the name (its NUL included, and one more: a name that fills the room may have been cut)
 * and as many for the arguments, or of 128 and 128 (bpf/execcount.bpf.c, INPLACE_*), and
 * through a scratch record, cut to its length, when they fit neither: names and arguments
 * on both sides of each bound arrive whole, in the record meant. */
typedef struct InplaceRun {
        const char *paths[8];
        char **argvs[8];
} InplaceRun;

static int scenario_inplace(void *arg) {
        const InplaceRun *run = arg;

        for (size_t i = 0; run->paths[i]; i++) {
                int r = exec_wait(run->paths[i], run->argvs[i]);

                if (r != 0)
                        return r;
        }
        return 0;
}

static void test_inplace_bounds(Probe *p, Recorder *rec) {
        enum { SMALL = EXEC_EVENT_HEADER_SIZE + 2 * 64, LARGE = EXEC_EVENT_HEADER_SIZE + 2 * 128, CUT = 0 };
        static const struct {
                size_t name_len; /* without the NUL */
                size_t argv_len; /* "true" and one argument, with their NULs; 5: "true" alone */
                size_t record;   /* SMALL, LARGE or CUT: the header and what the two take */
        } cases[] = {
                { 62, 64, SMALL },  /* as long as the small record takes them */
                { 63, 5, LARGE },   /* the name one byte too long for it */
                { 62, 65, LARGE },  /* the arguments one byte too long */
                { 126, 128, LARGE }, /* as long as the large record takes them */
                { 127, 5, CUT },
                { 62, 129, CUT },
                { 250, 5, CUT },
        };
        char dir[] = "/tmp/test-bpf-inplace-XXXXXX", paths[ELEMENTSOF(cases)][400], args[ELEMENTSOF(cases)][200];
        char *argvs[ELEMENTSOF(cases)][3];
        InplaceRun run = {};
        _Static_assert(ELEMENTSOF(cases) < ELEMENTSOF(run.paths), "the runs' lists end with NULL");
        const ExecEvent *ev[16];
        size_t sizes[16];
        uint32_t uid = new_test_uid();
        pid_t child;

        ASSERT(mkdtemp(dir));
        ASSERT(chmod(dir, 0755) == 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t n = strlen(dir) + 1;

                /* dir/aaa...a: a symbolic link to /bin/true with a name of the length wanted. */
                ASSERT(cases[i].name_len > n && cases[i].name_len - n < 256);
                snprintf(paths[i], sizeof(paths[i]), "%s/", dir);
                memset(paths[i] + n, 'a' + (int) i, cases[i].name_len - n);
                paths[i][cases[i].name_len] = '\0';
                ASSERT(symlink("/bin/true", paths[i]) == 0);
                argvs[i][0] = (char *) "true";
                argvs[i][1] = argvs[i][2] = NULL;
                if (cases[i].argv_len > 5) {
                        size_t len = cases[i].argv_len - 5 - 1;

                        ASSERT(len < sizeof(args[i]));
                        memset(args[i], 'A' + (int) i, len);
                        args[i][len] = '\0';
                        argvs[i][1] = args[i];
                }
                run.paths[i] = paths[i];
                run.argvs[i] = argvs[i];
        }
        child = run_as(uid, scenario_inplace, &run);
        expect_counts(p, uid, ELEMENTSOF(cases), 0);
        ASSERT_EQ_U(events_sized_of(rec, uid, ev, sizes, ELEMENTSOF(ev)), ELEMENTSOF(cases));
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t want = cases[i].record != CUT ? cases[i].record :
                                                       EXEC_EVENT_HEADER_SIZE + cases[i].name_len + 1 + cases[i].argv_len;
                char comm[16] = {};

                /* The new program is named after the link's name, cut to 15 bytes. */
                memset(comm, 'a' + (int) i, sizeof(comm) - 1);
                expect_event(ev[i], uid, 0, child, comm, 0, paths[i]);
                ASSERT_EQ_U(strlen(ev[i]->filename), cases[i].name_len);
                expect_argv(ev[i], (const char *const *) argvs[i], false);
                if (sizes[i] != want)
                        TEST_FAIL("a name of %zu bytes and arguments of %zu: a record of %zu bytes, expected %zu",
                                  cases[i].name_len, cases[i].argv_len, sizes[i], want);
                ASSERT(unlink(paths[i]) == 0);
        }
        ASSERT(rmdir(dir) == 0);
}

static void test_thread(Probe *p, Recorder *rec) {
        const ExecEvent *ev[4];
        uint32_t uid = new_test_uid();
        pid_t child = spawn_as(uid, scenario_thread, NULL);

        ASSERT_EQ(wait_exit(child), 0); /* /bin/true's exit status */
        expect_counts(p, uid, 1, 0);
        ASSERT_EQ_U(events_of(rec, uid, ev, ELEMENTSOF(ev)), 1);
        expect_event(ev[0], uid, child, getpid(), "true", 0, "/bin/true");
}

/* Many processes on every CPU, each doing successful and failing execs at once. */
#define STORM_SUCCESS 100
#define STORM_FAILED 5000

static int scenario_storm(void *arg) {
        long cpu = (long) arg;
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        (void) sched_setaffinity(0, sizeof(set), &set);
        for (int i = 0; i < STORM_SUCCESS; i++)
                if (exec_n("/bin/true", 1) != 0 || fail_n(STORM_FAILED / STORM_SUCCESS) != 0)
                        return 1;
        return 0;
}

static void test_storm(Probe *p, Recorder *rec) {
        long n_cpus = sysconf(_SC_NPROCESSORS_ONLN), workers = MAX(4, 2 * n_cpus);
        uint32_t uid = new_test_uid();
        struct exec_stats before, after;
        pid_t pids[64];
        size_t n_events = 0;

        ASSERT(workers <= (long) ELEMENTSOF(pids));
        ASSERT_EQ(counts_read_stats(probe_get_stats_fd(p), &before), 0);
        for (long i = 0; i < workers; i++)
                pids[i] = spawn_as(uid, scenario_storm, (void *) (i % n_cpus));

        /* Drain while they run, as the daemon does, so the ring buffer need not hold all. */
        for (long done = 0; done < workers;) {
                int status;
                pid_t pid;

                ASSERT(ring_buffer__poll(rec->ring, 10) >= 0);
                while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                        ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                        done++;
                }
        }
        ASSERT_EQ(counts_read_stats(probe_get_stats_fd(p), &after), 0);

        expect_counts(p, uid, workers * STORM_SUCCESS, workers * STORM_FAILED);

        recorder_drain(rec);
        for (size_t i = 0; i < rec->n; i++)
                if (rec->events[i]->uid == uid)
                        n_events++;
        /* Every event arrived, or the kernel says how many it held back (failures past half
         * the ring, successful execs past their share: when the reader is slow, as in a
         * sanitizer build) or could not queue. */
        uint64_t lost = (after.events_lost - before.events_lost) + (after.scratch_busy - before.scratch_busy);
        UserCount c;
        ASSERT_EQ(counts_read_one_live(probe_get_counts_maps(p), probe_get_unit_slots_fd(p), uid, &c), 0);
        if (lost == 0)
                ASSERT_EQ_U(n_events + c.events_throttled, workers * (STORM_SUCCESS + STORM_FAILED));
        else
                ASSERT(n_events + c.events_throttled + lost >= (uint64_t) workers * (STORM_SUCCESS + STORM_FAILED));
        fprintf(stderr, "storm: %ld workers on %ld CPUs, %ld execs and %ld failures counted exactly; %zu events, "
                "%ju held back, %ju lost\n", workers, n_cpus, workers * STORM_SUCCESS, workers * STORM_FAILED, n_events,
                (uintmax_t) c.events_throttled, (uintmax_t) lost);
}

/* A storm of failed execs from one UID: every failure is counted, its events stop at the
 * UID's budget and the rest are counted as held back; another UID's events all arrive;
 * successful execs are not held back (the ring is far from three quarters full). */
#define LIMIT_BURST 100
#define LIMIT_STORM 20000

static int scenario_fail_storm(void *arg) {
        return fail_n(LIMIT_STORM);
}

static int scenario_after_storm(void *arg) {
        return exec_n("/bin/true", 5);
}

static int scenario_quiet(void *arg) {
        return fail_n(50) || exec_n("/bin/true", 5);
}

static void count_results(Recorder *rec, uint32_t uid, size_t *ret_ok, size_t *ret_failed) {
        recorder_drain(rec);
        *ret_ok = *ret_failed = 0;
        for (size_t i = 0; i < rec->n; i++)
                if (rec->events[i]->uid == uid) {
                        if (rec->events[i]->result == 0)
                                (*ret_ok)++;
                        else
                                (*ret_failed)++;
                }
}

static void test_rate_limit(Probe *p, Recorder *rec) {
        /* 100 events per 10 s: the storm's fraction of a second gets its burst and a few more. */
        ProbeOptions limit = { .failed_rate_interval_usec = 10 * USEC_PER_SEC, .failed_rate_burst = LIMIT_BURST };
        ProbeOptions none = { .argv = true }; /* as the probe was made */
        uint32_t storm = new_test_uid(), quiet = new_test_uid();
        uint64_t start = now_usec(CLOCK_MONOTONIC), seconds;
        size_t ok, failed;
        UserCount c;

        ASSERT_EQ(probe_set_tunables(p, &limit), 0);
        run_as(storm, scenario_fail_storm, NULL);
        run_as(quiet, scenario_quiet, NULL);
        run_as(storm, scenario_after_storm, NULL);
        seconds = (now_usec(CLOCK_MONOTONIC) - start) / USEC_PER_SEC + 1;
        ASSERT_EQ(probe_set_tunables(p, &none), 0);

        expect_counts(p, storm, 5, LIMIT_STORM);
        expect_counts(p, quiet, 5, 50);
        ASSERT_EQ(counts_read_one_live(probe_get_counts_maps(p), probe_get_unit_slots_fd(p), storm, &c), 0);
        count_results(rec, storm, &ok, &failed);
        ASSERT_EQ_U(ok, 5);
        ASSERT(failed >= LIMIT_BURST && failed <= LIMIT_BURST + seconds * LIMIT_BURST / 10 + 2);
        ASSERT_EQ_U(failed + c.events_throttled, LIMIT_STORM); /* each failure: an event or held back */
        fprintf(stderr, "rate limit: %d failures of one UID counted; %zu sent events, %ju held back; ",
                LIMIT_STORM, failed, (uintmax_t) c.events_throttled);
        ASSERT_EQ(counts_read_one_live(probe_get_counts_maps(p), probe_get_unit_slots_fd(p), quiet, &c), 0);
        ASSERT_EQ_U(c.events_throttled, 0);
        count_results(rec, quiet, &ok, &failed);
        ASSERT_EQ_U(ok, 5);
        ASSERT_EQ_U(failed, 50);
        fprintf(stderr, "the other UID's 55 events all arrived\n");
}

/* A UID's successful execs of a program whose name is 4,000 bytes long, and so is its
 * first argument (events of 5 KiB, the arguments cut at 1 KiB), while nobody reads the
 * ring: once it is three quarters full, their events stop at the UID's budget (a
 * thirty-second of the ring at once, as much again per second) and the rest are counted
 * as held back. Another UID's execs after them send every event; and once the ring is
 * read, the first UID's events come again. */
#define BUDGET_FLOOD 400
#define BUDGET_LINK_LEN 4000

typedef struct ExecRun {
        const char *path;
        int n;
} ExecRun;

static int scenario_exec_path(void *arg) {
        const ExecRun *run = arg;

        return exec_n(run->path, run->n);
}

static void test_success_budget(Probe *p, Recorder *rec) {
        uint32_t flood = new_test_uid(), other = new_test_uid();
        uint64_t ring = probe_get_ring_buffer_size(p), start, lost, bound, sent_bytes = 0;
        char path[BUDGET_LINK_LEN + 1], *cut;
        struct exec_stats before, after;
        size_t ok, sent, failed, n = 0, dir_len;
        UserCount c;
        double seconds;

        /* dir/ddd...d/ddd...d/.../program, a link to /bin/true, in directories of 250 bytes. */
        snprintf(path, sizeof(path), "/tmp/test-bpf-budget-XXXXXX");
        ASSERT(mkdtemp(path));
        ASSERT(chmod(path, 0755) == 0);
        dir_len = strlen(path);
        while (BUDGET_LINK_LEN - (n = strlen(path)) - 1 > 255) { /* NAME_MAX */
                path[n] = '/';
                memset(path + n + 1, 'd', 250);
                path[n + 1 + 250] = '\0';
                ASSERT(mkdir(path, 0755) == 0 && chmod(path, 0755) == 0); /* whatever the umask */
        }
        n = strlen(path);
        path[n] = '/';
        memset(path + n + 1, 'p', BUDGET_LINK_LEN - n - 1);
        path[BUDGET_LINK_LEN] = '\0';
        ASSERT(symlink("/bin/true", path) == 0);

        recorder_drain(rec);
        ASSERT_EQ(counts_read_stats(probe_get_stats_fd(p), &before), 0);
        start = now_usec(CLOCK_MONOTONIC);
        run_as(flood, scenario_exec_path, &(ExecRun) { path, BUDGET_FLOOD });
        seconds = (double) (now_usec(CLOCK_MONOTONIC) - start) / USEC_PER_SEC;
        run_as(other, scenario_exec_path, &(ExecRun) { "/bin/true", 20 });
        ASSERT_EQ(counts_read_stats(probe_get_stats_fd(p), &after), 0);
        lost = (after.events_lost - before.events_lost) + (after.scratch_busy - before.scratch_busy);

        expect_counts(p, flood, BUDGET_FLOOD, 0);
        expect_counts(p, other, 20, 0);
        ASSERT_EQ(counts_read_one_live(probe_get_counts_maps(p), probe_get_unit_slots_fd(p), flood, &c), 0);
        recorder_drain(rec);
        for (size_t i = 0; i < rec->n; i++)
                if (rec->events[i]->uid == flood)
                        sent_bytes += (rec->sizes[i] + 7) / 8 * 8 + 8;
        count_results(rec, flood, &ok, &failed);
        ASSERT_EQ_U(failed, 0);
        /* 2 MiB of records for a ring of 1 MiB: held back, not lost. */
        ASSERT(c.events_throttled > 0);
        ASSERT(ok + c.events_throttled <= BUDGET_FLOOD && ok + c.events_throttled + lost >= BUDGET_FLOOD);
        /* Three quarters of the ring, the budget and what came back of it while the UID
         * ran, and a few events more: one look at the ring's fill per CPU may be late. */
        bound = ring / 4 * 3 + (uint64_t) ((1.0 + seconds) * (double) (ring / 32)) + 4 * 5300;
        if (sent_bytes > bound)
                TEST_FAIL("%zu events of %ju ring bytes in all in %.1f s, past the bound of %ju", ok,
                          (uintmax_t) sent_bytes, seconds, (uintmax_t) bound);
        /* The other UID's, to the last, in the room the first left (a sixth of the ring in 2
         * s): unless the first's budget came back for so long (ring / 32 per second) that
         * it and what else runs here could fill the ring. */
        count_results(rec, other, &ok, &failed);
        if (seconds < 2.0)
                ASSERT_EQ_U(ok, 20);
        fprintf(stderr, "success budget: %d execs with names and arguments of 4 KiB in %.1f s; %ju bytes of their "
                "events in the ring, %ju held back, %ju lost; the other UID's %zu of 20 events arrived\n", BUDGET_FLOOD,
                seconds, (uintmax_t) sent_bytes, (uintmax_t) c.events_throttled, (uintmax_t) lost, ok);

        /* The ring read, no limit. */
        count_results(rec, flood, &sent, &failed);
        run_as(flood, scenario_exec_path, &(ExecRun) { path, 5 });
        expect_counts(p, flood, BUDGET_FLOOD + 5, 0);
        count_results(rec, flood, &ok, &failed);
        ASSERT_EQ_U(ok, sent + 5);

        ASSERT(unlink(path) == 0);
        while ((cut = strrchr(path, '/')) && (size_t) (cut - path) >= dir_len) {
                *cut = '\0';
                ASSERT(rmdir(path) == 0);
        }
}

/* A full UID map counts the overflow instead of dropping it. */
/* ---- Execs per login UID and UID */

static uint64_t login_execs(Probe *p, uint32_t login_uid, uint32_t uid) {
        _cleanup_(freep) LoginCount *l = NULL;
        size_t n;

        ASSERT_EQ(counts_read_logins(probe_get_counts_maps(p), &l, &n, NULL), 0);
        for (size_t i = 0; i < n; i++)
                if (l[i].login_uid == login_uid && l[i].uid == uid)
                        return l[i].execs;
        return 0;
}

static int scenario_mixed(void *arg) {
        return exec_n("/bin/true", 5) ?: fail_n(3);
}

/* An unprivileged process without a login UID gives each child one of its own choosing,
 * which the kernel allows once per process: as many pairs as it likes, were they not
 * bounded per UID. */
static int scenario_forged_logins(void *arg) {
        uint32_t first = *(const uint32_t *) arg;

        /* As any process of the user's is once it has exec'd: its /proc files are its own. */
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                return 3;

        for (uint32_t i = 0; i < EXECCOUNT_LOGINS_PER_UID + 6; i++) {
                pid_t pid = fork();
                int status;

                if (pid < 0)
                        return 1;
                if (pid == 0) {
                        FILE *f = fopen("/proc/self/loginuid", "we");

                        if (!f || fprintf(f, "%u", first + i) < 0 || fclose(f) != 0)
                                _exit(98);
                        execl("/bin/true", "true", (char *) NULL);
                        _exit(127);
                }
                if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return 2;
        }
        return 0;
}

static void test_logins_bounded(Probe *p) {
        uint32_t forger = new_test_uid(), first = 1000000;
        _cleanup_(freep) LoginCount *l = NULL;
        size_t n, pairs = 0, others = 0;
        uint64_t execs = 0;

        ASSERT_EQ(wait_exit(spawn_with_login(UINT32_MAX, forger, scenario_forged_logins, &first)), 0);
        ASSERT_EQ(counts_read_logins(probe_get_counts_maps(p), &l, &n, NULL), 0);
        for (size_t i = 0; i < n; i++) {
                if (l[i].uid != forger)
                        continue;
                execs += l[i].execs;
                if (l[i].login_uid == EXEC_LOGIN_OTHER)
                        others += l[i].execs;
                else {
                        ASSERT(l[i].login_uid >= first && l[i].login_uid < first + EXECCOUNT_LOGINS_PER_UID + 6);
                        ASSERT_EQ_U(l[i].execs, 1);
                        pairs++;
                }
        }
        /* Its first 1024 login UIDs have a pair each, the rest count together; none lost. */
        ASSERT_EQ_U(pairs, EXECCOUNT_LOGINS_PER_UID);
        ASSERT_EQ_U(others, 6);
        ASSERT_EQ_U(execs, EXECCOUNT_LOGINS_PER_UID + 6);
        expect_counts(p, forger, EXECCOUNT_LOGINS_PER_UID + 6, 0);
        /* A reset of the UID gives it its places back. */
        ASSERT_EQ(counts_reset_one(probe_get_counts_maps(p), forger), 1);
        ASSERT_EQ(wait_exit(spawn_with_login(UINT32_MAX, forger, scenario_forged_logins, &first)), 0);
        free(l);
        l = NULL;
        ASSERT_EQ(counts_read_logins(probe_get_counts_maps(p), &l, &n, NULL), 0);
        pairs = others = 0;
        for (size_t i = 0; i < n; i++)
                if (l[i].uid == forger && l[i].login_uid != EXEC_LOGIN_OTHER)
                        pairs++;
                else if (l[i].uid == forger)
                        others += l[i].execs;
        ASSERT_EQ_U(pairs, EXECCOUNT_LOGINS_PER_UID);
        ASSERT_EQ_U(others, 6);
}

static void test_logins(Probe *p) {
        uint32_t alice = new_test_uid(), bob = new_test_uid(), daemon = new_test_uid();
        pid_t pid;

        /* alice logs in: her own execs, then as root (sudo) and as bob (su); failures are
         * not counted per login. */
        pid = spawn_with_login(alice, alice, scenario_mixed, NULL);
        ASSERT_EQ(wait_exit(pid), 0);
        pid = spawn_with_login(alice, 0, scenario_success, NULL);
        ASSERT_EQ(wait_exit(pid), 0);
        pid = spawn_with_login(alice, bob, scenario_mixed, NULL);
        ASSERT_EQ(wait_exit(pid), 0);
        /* A process without a login (a daemon's): the pair says unset. */
        pid = spawn_with_login(UINT32_MAX, daemon, scenario_mixed, NULL);
        ASSERT_EQ(wait_exit(pid), 0);

        ASSERT_EQ_U(login_execs(p, alice, alice), 5);
        ASSERT_EQ_U(login_execs(p, alice, 0), 20);
        ASSERT_EQ_U(login_execs(p, alice, bob), 5);
        ASSERT_EQ_U(login_execs(p, UINT32_MAX, daemon), 5);
        expect_counts(p, bob, 5, 3);
}

/* ---- Execs per cgroup and UID */

static char *cgroup_root; /* the cgroup2 mount */

/* Makes the cgroup path (relative to the mount) and returns its ID (inode number). */
static uint64_t cgroup_make(const char *path) {
        char full[512];
        struct stat st;

        snprintf(full, sizeof(full), "%s/%s", cgroup_root, path);
        ASSERT(mkdir(full, 0755) == 0 || errno == EEXIST);
        ASSERT_EQ(stat(full, &st), 0);
        return st.st_ino;
}

static int remove_dir(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return flag == FTW_DP ? rmdir(path) : 0;
}

/* Cgroups a run that died left (a failed assertion ends it at once): removed, bottom up. */
static void cgroup_remove_stale(void) {
        DIR *d = opendir(cgroup_root);
        struct dirent *de;
        char path[512];
        int pid;

        ASSERT(d);
        while ((de = readdir(d)))
                if ((sscanf(de->d_name, "execcount-test-%d.slice", &pid) == 1 ||
                     sscanf(de->d_name, "execcount-bound-%d", &pid) == 1) &&
                    kill(pid, 0) < 0 && errno == ESRCH) {
                        snprintf(path, sizeof(path), "%s/%s", cgroup_root, de->d_name);
                        (void) nftw(path, remove_dir, 16, FTW_DEPTH | FTW_PHYS);
                }
        closedir(d);
}

static void cgroup_remove(const char *path) {
        char full[512];

        snprintf(full, sizeof(full), "%s/%s", cgroup_root, path);
        ASSERT_EQ(rmdir(full), 0);
}

/* Runs fn as uid in the cgroup path. */
static void run_in_cgroup(const char *path, uint32_t uid, ChildFn fn, void *arg) {
        pid_t pid = fork();

        ASSERT(pid >= 0);
        if (pid == 0) {
                char procs[512];
                FILE *f;

                snprintf(procs, sizeof(procs), "%s/%s/cgroup.procs", cgroup_root, path);
                f = fopen(procs, "we");
                if (!f || fprintf(f, "0\n") < 0 || fclose(f) != 0)
                        _exit(97);
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || setgroups(0, NULL) < 0 ||
                    setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(99);
                _exit(fn(arg));
        }
        ASSERT_EQ(wait_exit(pid), 0);
}

static bool unit_count(Probe *p, uint64_t cgroup_id, uint32_t uid, struct exec_unit_count *ret) {
        struct exec_unit_key key = { .cgroup_id = cgroup_id, .uid = uid };

        return bpf_map_lookup_elem(probe_get_units_fd(p), &key, ret) == 0;
}

/* The counts of (cgroup, UID) as the daemon reads them: its entry's, with the failures
 * the CPUs' slots hold for it. */
static UnitLive read_unit(Probe *p, uint64_t cgroup_id, uint32_t uid) {
        _cleanup_(freep) UnitLive *live = NULL;
        size_t n;

        ASSERT_EQ(units_read_live(probe_get_units_fd(p), probe_get_unit_slots_fd(p), &live, &n), 0);
        for (size_t i = 0; i < n; i++)
                if (live[i].cgroup_id == cgroup_id && live[i].uid == uid)
                        return live[i];
        TEST_FAIL("no units entry for cgroup %" PRIu64 " and UID %u", cgroup_id, uid);
}

static void expect_unit(Probe *p, uint64_t cgroup_id, uint32_t uid, uint64_t execs, uint64_t failed) {
        UnitLive v = read_unit(p, cgroup_id, uid);

        ASSERT_EQ_U(v.execs, execs);
        ASSERT_EQ_U(v.failed, failed);
        ASSERT(v.last_exec_ns > 0);
}

/* What a fold checks before it forgets ended cgroups: that no CPU's slot holds them. */
static bool slot_holds(Probe *p, const UnitLive *gone) {
        bool held;

        ASSERT_EQ(units_slots_held(probe_get_unit_slots_fd(p), gone, 1, &held), 0);
        return held;
}

static void test_units(Probe *p) {
        uint32_t alice = new_test_uid(), bob = new_test_uid();
        char top[64], svc[128], scope[128];
        uint64_t top_id, svc_id, scope_id;
        struct exec_cgroup_name name;
        _cleanup_(freep) char *unit = NULL;
        CgroupTree tree;
        unsigned level;

        snprintf(top, sizeof(top), "execcount-test-%d.slice", (int) getpid());
        snprintf(svc, sizeof(svc), "%s/work.service", top);
        snprintf(scope, sizeof(scope), "%s/session-9.scope", top);
        top_id = cgroup_make(top);
        svc_id = cgroup_make(svc);
        scope_id = cgroup_make(scope);
        ASSERT(top_id != svc_id && svc_id != scope_id);

        /* Successes and failures, in two cgroups, by two UIDs: each pair has its own. */
        run_in_cgroup(svc, alice, scenario_mixed, NULL);
        run_in_cgroup(svc, bob, scenario_success, NULL);
        run_in_cgroup(scope, alice, scenario_failures, NULL);
        expect_unit(p, svc_id, alice, 5, 3);
        expect_unit(p, svc_id, bob, 20, 0);
        expect_unit(p, scope_id, alice, 0, 30);
        expect_counts(p, alice, 5, 33);

        /* The programs kept each cgroup's path as they found it. */
        ASSERT_EQ(cgroup_tree_scan(&tree), 0);
        level = 0;
        for (const char *s = cgroup_tree_path(&tree, svc_id); s && *s; s++)
                level += *s == '/';
        level++;
        ASSERT_STREQ(cgroup_tree_path(&tree, svc_id), svc + 0);
        ASSERT_EQ(bpf_map_lookup_elem(probe_get_cgroup_names_fd(p), &svc_id, &name), 0);
        ASSERT_EQ_U(name.level, level);
        ASSERT_STREQ(name.name[level - 1], "work.service");
        ASSERT_STREQ(name.name[level - 2], top);
        ASSERT_EQ_U(name.ancestor_id[level - 1], svc_id);
        ASSERT_EQ_U(name.ancestor_id[level - 2], top_id);
        ASSERT_EQ_U(name.truncated, 0);
        /* And the daemon names its unit from it: the service, below the slices. */
        ASSERT_EQ(unit_name_of_record(&name, tree.root_id, &unit), 0);
        ASSERT_STREQ(unit, "work.service");
        cgroup_tree_done(&tree);

        /* An ended cgroup is forgotten, with its name, if it holds what was read; the UID
         * gets its place back. */
        {
                UnitLive gone = { .cgroup_id = scope_id, .uid = alice, .execs = 0, .failed = 29 };
                struct exec_unit_key key = { .cgroup_id = EXEC_UNIT_RETURNED, .uid = alice };
                struct exec_unit_count returned;

                bool deleted;

                cgroup_remove(scope);
                /* No rate limit: every failure sends an event, none is a slot's. */
                ASSERT(!slot_holds(p, &gone));
                /* Read before its last failure: left for later. */
                ASSERT_EQ(units_forget(probe_get_units_fd(p), probe_get_cgroup_names_fd(p), &gone, 1, &deleted), 0);
                ASSERT(!deleted);
                ASSERT(unit_count(p, scope_id, alice, &returned));
                gone.failed = 30;
                ASSERT_EQ(units_forget(probe_get_units_fd(p), probe_get_cgroup_names_fd(p), &gone, 1, &deleted), 0);
                ASSERT(deleted);
                ASSERT(!unit_count(p, scope_id, alice, &returned));
                ASSERT(bpf_map_lookup_elem(probe_get_cgroup_names_fd(p), &scope_id, &name) < 0);
                ASSERT_EQ(bpf_map_lookup_elem(probe_get_units_fd(p), &key, &returned), 0);
                ASSERT_EQ_U(returned.execs, 1);
        }
        cgroup_remove(svc);
        cgroup_remove(top);
}

static int scenario_true_once(void *arg) {
        return exec_n("/bin/true", 1);
}

/* One user's cgroups take at most EXECCOUNT_UNITS_PER_UID entries: its execs in further
 * ones are counted, under EXEC_UNIT_OTHER. Places given back are taken again. */
static void test_units_bounded(Probe *p) {
        uint32_t uid = new_test_uid();
        unsigned n = EXECCOUNT_UNITS_PER_UID + 6, own = 0;
        _cleanup_(freep) uint64_t *ids = calloc(n + 10, sizeof(*ids));
        _cleanup_(freep) UnitLive *live = NULL;
        char top[64], path[128];
        uint64_t others = 0, total = 0;
        size_t n_live;

        ASSERT(ids);
        snprintf(top, sizeof(top), "execcount-bound-%d", (int) getpid());
        cgroup_make(top);
        for (unsigned i = 0; i < n + 10; i++) {
                snprintf(path, sizeof(path), "%s/c%u", top, i);
                ids[i] = cgroup_make(path);
        }
        for (unsigned i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/c%u", top, i);
                run_in_cgroup(path, uid, scenario_true_once, NULL);
        }
        ASSERT_EQ(units_read_live(probe_get_units_fd(p), probe_get_unit_slots_fd(p), &live, &n_live), 0);
        for (size_t i = 0; i < n_live; i++) {
                if (live[i].uid != uid)
                        continue;
                total += live[i].execs;
                if (live[i].cgroup_id == EXEC_UNIT_OTHER)
                        others += live[i].execs;
                else {
                        ASSERT_EQ_U(live[i].execs, 1);
                        own++;
                }
        }
        ASSERT_EQ_U(own, EXECCOUNT_UNITS_PER_UID);
        ASSERT_EQ_U(others, 6);
        ASSERT_EQ_U(total, n);

        /* Ten of its cgroups end: ten new ones get entries of their own again. */
        {
                UnitLive gone[10];

                for (unsigned i = 0; i < 10; i++)
                        gone[i] = (UnitLive) { .cgroup_id = ids[i], .uid = uid, .execs = 1 };
                ASSERT_EQ(units_forget(probe_get_units_fd(p), probe_get_cgroup_names_fd(p), gone, 10, NULL), 0);
        }
        for (unsigned i = n; i < n + 10; i++) {
                struct exec_unit_count v;

                snprintf(path, sizeof(path), "%s/c%u", top, i);
                run_in_cgroup(path, uid, scenario_true_once, NULL);
                ASSERT(unit_count(p, ids[i], uid, &v));
                ASSERT_EQ_U(v.execs, 1);
        }
        for (unsigned i = 0; i < n + 10; i++) {
                snprintf(path, sizeof(path), "%s/c%u", top, i);
                cgroup_remove(path);
        }
        cgroup_remove(top);
        /* A reset of the UID takes its entries and places; the names stay (another UID may
         * share a cgroup) until a full reset, which takes them all. */
        ASSERT_EQ(units_reset(probe_get_units_fd(p), probe_get_cgroup_names_fd(p), true, uid), 0);
        {
                struct exec_unit_key key = { .cgroup_id = EXEC_UNIT_PLACES, .uid = uid };
                struct exec_unit_count v;
                struct exec_cgroup_name name;

                ASSERT(!unit_count(p, ids[20], uid, &v));
                ASSERT(bpf_map_lookup_elem(probe_get_units_fd(p), &key, &v) < 0);
                ASSERT_EQ(bpf_map_lookup_elem(probe_get_cgroup_names_fd(p), &ids[20], &name), 0);
                ASSERT_EQ(units_reset(probe_get_units_fd(p), probe_get_cgroup_names_fd(p), false, 0), 0);
                for (unsigned i = 0; i < n + 10; i++)
                        ASSERT(bpf_map_lookup_elem(probe_get_cgroup_names_fd(p), &ids[i], &name) < 0);
        }
}

/* ---- The CPUs' unit slots */

static void read_slots(Probe *p, struct exec_unit_slot *s, size_t n) {
        uint32_t zero = 0;

        ASSERT_EQ_U(n, (unsigned) libbpf_num_possible_cpus());
        ASSERT_EQ(bpf_map_lookup_elem(probe_get_unit_slots_fd(p), &zero, s), 0);
}

static int scenario_fail_once(void *arg) {
        return fail_n(1);
}

static int scenario_fail_4(void *arg) {
        return fail_n(4);
}

static int scenario_fail_29(void *arg) {
        return fail_n(29);
}

/* Runs fn as uid in cgroup path on CPU cpu only. */
static void run_on_cpu(int cpu, const char *path, uint32_t uid, ChildFn fn) {
        cpu_set_t one, all;

        ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
        run_in_cgroup(path, uid, fn, NULL);
        ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
}

/* The entry's own failures, without the slots'. */
static uint64_t entry_failed(Probe *p, uint64_t cgroup_id, uint32_t uid) {
        struct exec_unit_count v;

        ASSERT(unit_count(p, cgroup_id, uid, &v));
        return v.failed;
}

static void empty_slots(Probe *p) {
        ASSERT_EQ(probe_freeze_unit_slots(p), 0);
        ASSERT_EQ(units_slots_clear(probe_get_unit_slots_fd(p), false, 0), 0);
        ASSERT_EQ(probe_thaw_unit_slots(p), 0);
}

/* The UID's counts as the map holds them, without the slots'. */
static UserCount entry_counts(Probe *p, uint32_t uid) {
        UserCount c;

        ASSERT_EQ(counts_read_one(probe_get_counts_maps(p), uid, &c), 0);
        return c;
}

static UserCount live_counts(Probe *p, uint32_t uid) {
        UserCount c;

        ASSERT_EQ(counts_read_one_live(probe_get_counts_maps(p), probe_get_unit_slots_fd(p), uid, &c), 0);
        return c;
}

/* Each failure of a UID sent an event or was held back, whether counted in its entry or
 * in a slot: total, its failures since the recorder had sent_before of its failure
 * events. */
static void expect_held_back(Probe *p, Recorder *rec, uint32_t uid, uint64_t total, size_t sent_before) {
        UserCount live = live_counts(p, uid);
        size_t ok, sent;

        count_results(rec, uid, &ok, &sent);
        ASSERT(sent >= sent_before);
        ASSERT_EQ_U(live.failed, total);
        if (live.events_throttled + (sent - sent_before) != total)
                TEST_FAIL("UID %u: %ju failures, %zu of them sent events, %ju held back", uid, (uintmax_t) total,
                          sent - sent_before, (uintmax_t) live.events_throttled);
}

/* The failure events of uid the recorder has. */
static size_t failure_events(Recorder *rec, uint32_t uid) {
        size_t ok, failed;

        count_results(rec, uid, &ok, &failed);
        return failed;
}

/* A slot's share of a key's failures: the live count less the entry's. */
static uint64_t in_slots(Probe *p, uint64_t cgroup_id, uint32_t uid) {
        return read_unit(p, cgroup_id, uid).failed - entry_failed(p, cgroup_id, uid);
}

/* The first two CPUs this test may run on (-1: none), whose slots it uses. */
static int cpu_a = -1, cpu_b = -1;

static void pick_cpus(void) {
        cpu_set_t set;

        ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
        for (int i = 0; i < CPU_SETSIZE && cpu_b < 0; i++)
                if (CPU_ISSET(i, &set)) {
                        if (cpu_a < 0)
                                cpu_a = i;
                        else
                                cpu_b = i;
                }
        ASSERT(cpu_a >= 0);
}

/* With a rate limit on failure events: once a UID's budget is spent, its failures in one
 * (cgroup, UID) on one CPU are counted in that CPU's slot, not in the maps, until the
 * budget allows an event again; the slot passes to another key only when its key has been
 * idle for a second, and then its failures move into their entries. Every read counts
 * each failure once, as a failure of the UID and of its unit, and as an event held back;
 * a fold leaves a key a slot holds for later, a reset empties the UID's slots. Other
 * programs on the machine may fail execs too and take a slot first: then a round is tried
 * again, a few times. */
static void test_unit_slots(Probe *p, Recorder *rec) {
        /* Two events per 100 s: a budget spent at once, and not back during the test. */
        ProbeOptions limit = { .failed_rate_interval_usec = 100 * USEC_PER_SEC, .failed_rate_burst = 2 };
        ProbeOptions none = { .argv = true }; /* as the probe was made */
        int n_cpus = libbpf_num_possible_cpus();
        struct exec_unit_slot s[n_cpus];
        uint32_t alice = 0, bob = new_test_uid();
        char top[64], x[128], y[128];
        uint64_t x_id, y_id;
        bool held = false;
        unsigned rounds = 0;
        size_t sent;

        pick_cpus();
        snprintf(top, sizeof(top), "execcount-test-%d.slice", (int) getpid());
        snprintf(x, sizeof(x), "%s/x.service", top);
        snprintf(y, sizeof(y), "%s/y.service", top);
        cgroup_make(top);
        x_id = cgroup_make(x);
        y_id = cgroup_make(y);
        ASSERT_EQ(probe_set_tunables(p, &limit), 0);

        /* 30 failures on one CPU: the first few send events, the next one sends none and
         * takes the (empty) slot, the rest are counted there. A new UID for each round. */
        for (; !held && rounds < 20; rounds++) {
                alice = new_test_uid();
                empty_slots(p);
                run_on_cpu(cpu_a, x, alice, scenario_fail_once);
                run_on_cpu(cpu_a, x, alice, scenario_fail_29);
                ASSERT_EQ_U(read_unit(p, x_id, alice).failed, 30);
                expect_counts(p, alice, 0, 30);
                expect_held_back(p, rec, alice, 30, 0);
                read_slots(p, s, n_cpus);
                held = s[cpu_a].cgroup_id == x_id && s[cpu_a].uid == alice;
                if (held)
                        break;
                /* Only a failure storm of another UID on that CPU (this test's rate limit
                 * is every UID's) may have taken the slot first: then the other CPU's
                 * turn. An empty slot, or Alice's held otherwise, is wrong. */
                if (s[cpu_a].cgroup_id == 0 || s[cpu_a].uid == alice)
                        TEST_FAIL("round %u: CPU %d's slot holds cgroup %ju of UID %u, not Alice's storm", rounds,
                                  cpu_a, (uintmax_t) s[cpu_a].cgroup_id, s[cpu_a].uid);
                if (cpu_b >= 0) {
                        int c = cpu_a;

                        cpu_a = cpu_b;
                        cpu_b = c;
                }
        }
        if (!held) {
                /* Storms of other UIDs held both CPUs' slots every time: the counts were
                 * exact, each round; what slots do with a key of their own is left
                 * unchecked on this busy machine. */
                fprintf(stderr, "unit slots: other storms held the slots in all %u rounds; only exact counts "
                        "checked\n", rounds);
                ASSERT_EQ(probe_set_tunables(p, &none), 0);
                cgroup_remove(x);
                cgroup_remove(y);
                cgroup_remove(top);
                return;
        }
        /* At most five in the maps: three events (the budget, and one at its edge, where
         * the clock is read once per tick), the one that took the slot, and one that
         * brought the slot's tat up to date after that edge. */
        ASSERT(unit_slot_failed(&s[cpu_a]) >= 25);
        ASSERT_EQ_U(entry_failed(p, x_id, alice) + unit_slot_failed(&s[cpu_a]), 30);
        ASSERT_EQ_U(entry_counts(p, alice).failed + unit_slot_failed(&s[cpu_a]), 30);
        expect_held_back(p, rec, alice, 30, 0);
        expect_counts(p, alice, 0, 30);
        ASSERT(s[cpu_a].last_exec_ns > 0 && (s[cpu_a].seq & 1) == 0 && s[cpu_a].tat_ns > s[cpu_a].last_exec_ns);

        /* Another key on that CPU within the second: in the maps, the slot stays. */
        run_on_cpu(cpu_a, y, alice, scenario_fail_4);
        read_slots(p, s, n_cpus);
        if (s[cpu_a].cgroup_id == x_id) {
                ASSERT_EQ_U(entry_failed(p, y_id, alice), 4);
                ASSERT_EQ_U(entry_failed(p, x_id, alice) + unit_slot_failed(&s[cpu_a]), 30);
        }
        expect_unit(p, y_id, alice, 0, 4);
        expect_unit(p, x_id, alice, 0, 30);
        expect_held_back(p, rec, alice, 34, 0);

        /* A second later, x is idle: y's next failure takes the slot, and x's go to its
         * entries, none lost, none twice. */
        usleep(1100 * 1000);
        run_on_cpu(cpu_a, y, alice, scenario_fail_once);
        run_on_cpu(cpu_a, y, alice, scenario_fail_4);
        read_slots(p, s, n_cpus);
        /* The budget, spent a second ago, has one event for it again (the limit lets
         * them back one by one): one or two of the five go to the maps. */
        if (s[cpu_a].cgroup_id == y_id && s[cpu_a].uid == alice) {
                ASSERT(unit_slot_failed(&s[cpu_a]) >= 3);
                ASSERT_EQ_U(entry_failed(p, x_id, alice), 30);
                ASSERT_EQ_U(entry_failed(p, y_id, alice) + unit_slot_failed(&s[cpu_a]), 9);
        }
        ASSERT_EQ_U(in_slots(p, x_id, alice), 0);
        expect_unit(p, x_id, alice, 0, 30);
        expect_unit(p, y_id, alice, 0, 9);
        expect_counts(p, alice, 0, 39);
        expect_held_back(p, rec, alice, 39, 0);

        /* Bob's failures in y on another CPU, in its slot once his budget is spent. A
         * reset of Alice empties her slots only: Bob's stay, and count. */
        if (cpu_b >= 0) {
                uint32_t zero = 0;

                /* That CPU's slot emptied (as the daemon does, frozen), for Bob to take. */
                ASSERT_EQ(probe_freeze_unit_slots(p), 0);
                read_slots(p, s, n_cpus);
                s[cpu_b] = unit_slot_emptied(&s[cpu_b]);
                ASSERT_EQ(bpf_map_update_elem(probe_get_unit_slots_fd(p), &zero, s, BPF_ANY), 0);
                ASSERT_EQ(probe_thaw_unit_slots(p), 0);
                run_on_cpu(cpu_b, y, bob, scenario_fail_once);
                run_on_cpu(cpu_b, y, bob, scenario_fail_29);
                read_slots(p, s, n_cpus);
                if (s[cpu_b].cgroup_id == y_id && s[cpu_b].uid == bob)
                        ASSERT(unit_slot_failed(&s[cpu_b]) >= 25);
                expect_unit(p, y_id, bob, 0, 30);
                expect_counts(p, bob, 0, 30);
                expect_held_back(p, rec, bob, 30, 0);
        }
        ASSERT_EQ(probe_freeze_unit_slots(p), 0);
        ASSERT_EQ(units_slots_clear(probe_get_unit_slots_fd(p), true, alice), 0);
        ASSERT_EQ(counts_reset_one(probe_get_counts_maps(p), alice), 1);
        ASSERT_EQ(units_reset(probe_get_units_fd(p), probe_get_cgroup_names_fd(p), true, alice), 0);
        ASSERT_EQ(probe_thaw_unit_slots(p), 0);
        read_slots(p, s, n_cpus);
        for (int i = 0; i < n_cpus; i++)
                ASSERT(s[i].uid != alice || s[i].cgroup_id == 0);
        ASSERT(!unit_count(p, x_id, alice, &(struct exec_unit_count) {}));
        ASSERT(!unit_count(p, y_id, alice, &(struct exec_unit_count) {}));
        expect_counts(p, alice, 0, 0);
        if (cpu_b >= 0) {
                expect_unit(p, y_id, bob, 0, 30);
                expect_counts(p, bob, 0, 30);
        }
        /* Counting goes on after the reset, from zero, with a budget of events anew. */
        sent = failure_events(rec, alice);
        run_on_cpu(cpu_a, x, alice, scenario_fail_once);
        run_on_cpu(cpu_a, x, alice, scenario_fail_29);
        expect_unit(p, x_id, alice, 0, 30);
        expect_counts(p, alice, 0, 30);
        expect_held_back(p, rec, alice, 30, sent);

        /* x ends while a slot may hold it: a fold leaves it while one does. A second
         * later, Alice's next failures on that CPU take the slot, x's failures go to its
         * entry, which then holds all 30, and is forgotten. */
        {
                UnitLive gone = read_unit(p, x_id, alice);
                bool deleted;

                cgroup_remove(x);
                if (slot_holds(p, &gone))
                        fprintf(stderr, "unit slots: an ended cgroup's key held by a slot, left for later\n");
                usleep(1100 * 1000);
                /* The first may have an event (the budget lets one back after a while),
                 * the next has none. */
                run_on_cpu(cpu_a, y, alice, scenario_fail_4);
                /* A slot changing hands at the moment of the look holds every key. */
                for (int i = 0; i < 5 && slot_holds(p, &gone); i++)
                        usleep(1000);
                ASSERT(!slot_holds(p, &gone));
                ASSERT_EQ_U(entry_failed(p, x_id, alice), 30);
                ASSERT_EQ(units_forget(probe_get_units_fd(p), probe_get_cgroup_names_fd(p), &gone, 1, &deleted), 0);
                ASSERT(deleted);
                expect_counts(p, alice, 0, 34);
                expect_held_back(p, rec, alice, 34, sent);
        }
        ASSERT_EQ(probe_set_tunables(p, &none), 0);
        fprintf(stderr, "unit slots: the slot held its key after %u round(s)\n", rounds + 1);
        cgroup_remove(y);
        cgroup_remove(top);
}

/* Readers and slots changing hands: a reader that loops while a UID's storms take CPU
 * 0's slot in turn (each after a second's idleness, from another cgroup) sees, at every
 * read, neither a failure twice nor one missing, per unit and per UID: at least the
 * failures done when the read began, at most those done when it ended (and the one in
 * flight). */
typedef struct SlotReader {
        Probe *probe;
        uint32_t uid;
        volatile uint64_t *done; /* failures returned, counted by the failing process */
        volatile bool stop;
        unsigned reads;
        unsigned overlapped; /* reads during which the slot changed hands */
} SlotReader;

static void expect_between(const char *what, uint64_t seen, uint64_t first, uint64_t last) {
        if (seen < first || seen > last + 1)
                TEST_FAIL("a read of the %s saw %ju failures, while %ju to %ju were done", what, (uintmax_t) seen,
                          (uintmax_t) first, (uintmax_t) last);
}

static void *slot_reader(void *arg) {
        SlotReader *r = arg;

        int n_cpus = libbpf_num_possible_cpus();
        struct exec_unit_slot a[n_cpus], b[n_cpus];

        while (!r->stop) {
                _cleanup_(freep) UnitLive *live = NULL;
                uint64_t first = *r->done, last, seen = 0;
                UserCount c = {};
                size_t n;
                int q;

                read_slots(r->probe, a, n_cpus);
                ASSERT_EQ(units_read_live(probe_get_units_fd(r->probe), probe_get_unit_slots_fd(r->probe), &live, &n),
                          0);
                q = counts_read_one_live(probe_get_counts_maps(r->probe), probe_get_unit_slots_fd(r->probe), r->uid,
                                         &c);
                read_slots(r->probe, b, n_cpus);
                r->overlapped += a[cpu_a].seq != b[cpu_a].seq;
                last = *r->done;
                for (size_t i = 0; i < n; i++)
                        if (live[i].uid == r->uid)
                                seen += live[i].failed;
                expect_between("units", seen, first, last);
                if (q == -ENOENT)
                        c.failed = 0; /* before the first failure */
                else
                        ASSERT_EQ(q, 0);
                expect_between("UID's counts", c.failed, first, last);
                r->reads++;
        }
        return NULL;
}

static volatile uint64_t *storm_done;

static int scenario_counted_storm(void *arg) {
        for (int i = 0; i < 3000; i++) {
                char *argv[] = { (char *) MISSING, NULL };

                if (execve(MISSING, argv, environ) >= 0 || errno != ENOENT)
                        return 3;
                __atomic_add_fetch(storm_done, 1, __ATOMIC_SEQ_CST);
        }
        return 0;
}

static void test_unit_slots_reader(Probe *p, Recorder *rec) {
        /* One event per millisecond: the slot's key sends one, then its next failure
         * brings the slot's tat up to date, every millisecond of the storm. */
        ProbeOptions limit = { .failed_rate_interval_usec = 1000, .failed_rate_burst = 1 };
        ProbeOptions none = { .argv = true }; /* as the probe was made */
        SlotReader r = { .probe = p, .uid = new_test_uid() };
        char top[64], cg[2][128];
        uint64_t ids[2];
        pthread_t thread;

        pick_cpus();
        storm_done = mmap(NULL, sizeof(*storm_done), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ASSERT(storm_done != MAP_FAILED);
        r.done = storm_done;
        snprintf(top, sizeof(top), "execcount-test-%d.slice", (int) getpid());
        cgroup_make(top);
        for (int i = 0; i < 2; i++) {
                snprintf(cg[i], sizeof(cg[i]), "%s/storm-%d.service", top, i);
                ids[i] = cgroup_make(cg[i]);
        }
        ASSERT_EQ(probe_set_tunables(p, &limit), 0);
        ASSERT_EQ(pthread_create(&thread, NULL, slot_reader, &r), 0);
        for (int round = 0; round < 4; round++) {
                run_on_cpu(cpu_a, cg[round % 2], r.uid, scenario_counted_storm);
                usleep(1050 * 1000);
        }
        r.stop = true;
        ASSERT_EQ(pthread_join(thread, NULL), 0);
        ASSERT_EQ(probe_set_tunables(p, &none), 0);
        ASSERT_EQ_U(*storm_done, 4 * 3000);
        expect_counts(p, r.uid, 0, 4 * 3000);
        expect_held_back(p, rec, r.uid, 4 * 3000, 0);
        {
                uint64_t both = read_unit(p, ids[0], r.uid).failed + read_unit(p, ids[1], r.uid).failed;

                ASSERT_EQ_U(both, 4 * 3000);
        }
        fprintf(stderr, "unit slots: %u reads while storms took the slot in turn, each exact; %u of them while "
                "it changed hands; %ju of the failures sent events\n", r.reads, r.overlapped,
                (uintmax_t) (entry_counts(p, r.uid).failed - entry_counts(p, r.uid).events_throttled));
        ASSERT(r.reads > 0);
        for (int i = 0; i < 2; i++)
                cgroup_remove(cg[i]);
        cgroup_remove(top);
        munmap((void *) storm_done, sizeof(*storm_done));
}

static void test_map_full(void) {
        ProbeOptions opts = {
                .mode = PROBE_AUTO,
                .max_uids = 3,
                .ring_buffer_size = 1 << 16,
        };
        ProbeReport report;
        struct exec_stats before, after;
        struct exec_attribution_stats a_before, a_after;
        Probe *p;
        uint32_t uids[4];
        unsigned missing = 0, pairs_missing = 0;
        UserCount c;

        ASSERT_EQ(probe_new(&opts, &report, &p), 0);
        probe_report_done(&report);
        ASSERT_EQ(counts_read_stats(probe_get_stats_fd(p), &before), 0);
        ASSERT_EQ(counts_read_attribution(probe_get_attribution_fd(p), &a_before), 0);

        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                uids[i] = new_test_uid();
                ASSERT_EQ(wait_exit(spawn_with_login(uids[i], uids[i], scenario_success, NULL)), 0);
        }
        ASSERT_EQ(counts_read_stats(probe_get_stats_fd(p), &after), 0);
        ASSERT_EQ(counts_read_attribution(probe_get_attribution_fd(p), &a_after), 0);

        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                int r = counts_read_one(probe_get_counts_maps(p), uids[i], &c);

                if (r == -ENOENT)
                        missing++;
                else {
                        ASSERT_EQ(r, 0);
                        ASSERT_EQ_U(c.execs, 20);
                }
        }
        /* Four new UIDs, three slots (at least one of them taken by root's execs). */
        ASSERT(missing >= 1);
        ASSERT(after.map_full_execs - before.map_full_execs >= 20 * missing);
        /* The same for their login pairs, in a map of their own. */
        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                uint64_t n = login_execs(p, uids[i], uids[i]);

                ASSERT(n == 0 || n == 20);
                pairs_missing += n == 0;
        }
        ASSERT(pairs_missing >= 1);
        ASSERT(a_after.logins_full - a_before.logins_full >= 20 * pairs_missing);
        fprintf(stderr, "map full: %u of 4 UIDs had no slot; %ju execs counted as overflow\n", missing,
                (uintmax_t) (after.map_full_execs - before.map_full_execs));
        probe_free(p);
}

static void run_scenarios(Probe *p) {
        Recorder rec;

        recorder_init(&rec, p);
        test_success(p, &rec);
        test_failures(p, &rec);
        test_execveat(p, &rec);
        test_path_walk(p, &rec);
        test_script_and_spawn(p, &rec);
        test_privileged(p, &rec);
        test_logins(p);
        test_logins_bounded(p);
        /* Their thousand execs' events, read: failures' events may fill half the ring at
         * most, and the later scenarios count theirs (so does what else runs here). */
        recorder_drain(&rec);
        test_units(p);
        test_units_bounded(p);
        test_unit_slots(p, &rec);
        test_unit_slots_reader(p, &rec);
        recorder_drain(&rec);
        test_argv(p, &rec);
        test_inplace_bounds(p, &rec);
        test_thread(p, &rec);
        test_storm(p, &rec);
        test_rate_limit(p, &rec);
        test_success_budget(p, &rec);
        recorder_done(&rec);
}

/* Each explicit mode either works exactly or says why not; auto takes the first that works. */
static void test_modes(void) {
        static const ProbeMode order[] = { PROBE_FENTRY, PROBE_KPROBE, PROBE_TRACEPOINT };
        ProbeMode first_working = _PROBE_MODE_MAX;
        ProbeOptions opts = { .max_uids = 1024, .ring_buffer_size = 1 << 20, .argv = true };
        ProbeReport report;
        Probe *p;

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                int r;

                opts.mode = order[i];
                r = probe_new(&opts, &report, &p);
                if (r < 0) {
                        ASSERT(report.rejected[order[i]] && strlen(report.rejected[order[i]]) > 10);
                        fprintf(stderr, "mode %s: not available here: %s\n", probe_mode_to_string(order[i]),
                                report.rejected[order[i]]);
                        probe_report_done(&report);
                        continue;
                }
                probe_report_done(&report);
                ASSERT_EQ(probe_get_mode(p), order[i]);
                fprintf(stderr, "mode %s: works, checking exact counts\n", probe_mode_to_string(order[i]));
                run_scenarios(p);
                probe_free(p);
                if (first_working == _PROBE_MODE_MAX)
                        first_working = order[i];
        }
        if (first_working == _PROBE_MODE_MAX)
                TEST_FAIL("no probe mode works on this kernel");

        opts.mode = PROBE_AUTO;
        ASSERT_EQ(probe_new(&opts, &report, &p), 0);
        ASSERT_EQ(probe_get_mode(p), first_working);
        for (size_t i = 0; i < ELEMENTSOF(order) && order[i] != first_working; i++)
                ASSERT(report.rejected[order[i]]);
        ASSERT(!report.rejected[first_working]);
        fprintf(stderr, "mode auto: chose %s\n", probe_mode_to_string(first_working));
        probe_report_done(&report);
        probe_free(p);
}

int main(void) {
        if (geteuid() != 0)
                TEST_SKIP_OR_FAIL("loading BPF programs and switching UIDs needs root");

        log_set_max_level(LOG_WARNING);
        probe_setup_libbpf_logging();
        /* Dedicated UIDs no account uses, distinct per run so parallel runs do not meet. */
        uid_base = 2000000000u + (uint32_t) (getpid() & 0xffff) * 1024;
        if (cgroup2_mount(&cgroup_root) < 0)
                TEST_FAIL("no cgroup2 file system is mounted: per-unit counts cannot be checked");
        cgroup_remove_stale();

        test_modes();
        test_map_full();
        return 0;
}
