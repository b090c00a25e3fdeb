/* SPDX-License-Identifier: GPL-2.0-or-later */
/* execload.c: an exec load generator that knows exactly how many execs it made.
 *
 *   execload [--workers=N] [--mode=success|failure] [--count=N | --duration=SEC]
 *            [--uid=UID] [--program=PATH] [--name-length=N] [--hostile-args] [--json]
 *   execload --each-uid=N --uid=FIRST [--json]
 *
 * Each worker is a forked process (so it makes no exec of its own) that, as --uid if
 * given, either vforks and execs PROGRAM (success mode; a static no-op by default) or
 * calls execve() on a path that does not exist (failure mode, no fork: the cheapest exec
 * attempt there is). --count is per worker. Prints what was done: successful execs,
 * failed ones, seconds, rate. --name-length makes the missing path that long (up to
 * 4095 bytes), of components of 0x01 bytes: the costliest name to escape in JSON, for
 * what a hostile user can make an exec event cost. --hostile-args passes the costliest
 * command line alike: past the 64 arguments and 1024 bytes an event keeps, of 0x01 bytes
 * and one that is not UTF-8.
 *
 * --each-uid=N makes one failed exec as each of the N UIDs from FIRST on, in forked
 * children: to fill a UID map. */

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MISSING "/nonexistent-execload/prog"
#define WORKERS_MAX 1024

typedef struct WorkerResult {
        uint64_t execs; /* successful */
        uint64_t failed;
        uint64_t unexpected; /* a success that should have failed, or the reverse */
} WorkerResult;

static struct {
        unsigned workers;
        bool failure;
        uint64_t count; /* per worker; 0: run for duration */
        double duration;
        long uid; /* -1: as is */
        const char *program;
        bool json;
        uint64_t each_uid; /* 0: the normal modes */
        char *missing; /* the path failure mode execs */
        char **argv; /* NULL: the program's path alone */
} arg = { .workers = 1, .duration = 5.0, .uid = -1, .missing = (char *) MISSING };

#define HOSTILE_ARGS 80
#define HOSTILE_ARG_LENGTH 20

/* argv[0] not UTF-8, then HOSTILE_ARGS arguments of 0x01 bytes: more than an event keeps
 * of either, each byte 6 in JSON and 2 more in hex. */
static char **hostile_argv(void) {
        static char args[HOSTILE_ARGS][HOSTILE_ARG_LENGTH + 1];
        static char *argv[HOSTILE_ARGS + 2] = { (char *) "\xff" };

        for (size_t i = 0; i < HOSTILE_ARGS; i++) {
                memset(args[i], '\x01', HOSTILE_ARG_LENGTH);
                argv[i + 1] = args[i];
        }
        return argv;
}

static volatile bool *stop_flag;

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void usage(FILE *f) {
        fprintf(f,
                "Usage: execload [--workers=N] [--mode=success|failure] [--count=N | --duration=SEC]\n"
                "                [--uid=UID] [--program=PATH] [--name-length=N] [--hostile-args] [--json]\n"
                "       execload --each-uid=N --uid=FIRST [--json]\n"
                "Makes execs as fast as it can and prints exactly how many it made.\n");
}

static int parse_number(const char *s, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* A path that does not exist, length bytes long: under a directory that does not exist,
 * components of at most 254 bytes of 0x01. */
static char *long_name(size_t length) {
        char *p = malloc(length + 1);

        if (!p)
                return NULL;
        memcpy(p, "/nonexistent-execload/", strlen("/nonexistent-execload/"));
        for (size_t i = strlen("/nonexistent-execload/"), k = 0; i < length; i++, k++)
                p[i] = k % 255 == 254 && i + 1 < length ? '/' : '\x01';
        p[length] = '\0';
        return p;
}

static int parse_args(int argc, char *argv[]) {
        static const struct option options[] = {
                { "workers", required_argument, NULL, 'w' },  { "mode", required_argument, NULL, 'm' },
                { "count", required_argument, NULL, 'c' },    { "duration", required_argument, NULL, 'd' },
                { "uid", required_argument, NULL, 'u' },      { "program", required_argument, NULL, 'p' },
                { "json", no_argument, NULL, 'j' },           { "help", no_argument, NULL, 'h' },
                { "each-uid", required_argument, NULL, 'e' }, { "name-length", required_argument, NULL, 'n' },
                { "hostile-args", no_argument, NULL, 'a' },
                {},
        };
        uint64_t v;
        char *end;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'w':
                        if (parse_number(optarg, WORKERS_MAX, &v) < 0 || v == 0)
                                return fprintf(stderr, "execload: --workers takes 1 to %d.\n", WORKERS_MAX), -1;
                        arg.workers = (unsigned) v;
                        break;
                case 'm':
                        if (strcmp(optarg, "success") && strcmp(optarg, "failure"))
                                return fprintf(stderr, "execload: --mode is success or failure.\n"), -1;
                        arg.failure = !strcmp(optarg, "failure");
                        break;
                case 'c':
                        if (parse_number(optarg, UINT64_MAX / WORKERS_MAX, &arg.count) < 0 || arg.count == 0)
                                return fprintf(stderr, "execload: --count takes a positive number.\n"), -1;
                        break;
                case 'd':
                        arg.duration = strtod(optarg, &end);
                        if (*end || !(arg.duration > 0 && arg.duration < 86400))
                                return fprintf(stderr, "execload: --duration takes seconds, up to a day.\n"), -1;
                        break;
                case 'u':
                        if (parse_number(optarg, UINT32_MAX - 1, &v) < 0)
                                return fprintf(stderr, "execload: --uid takes a numeric UID.\n"), -1;
                        arg.uid = (long) v;
                        break;
                case 'p':
                        arg.program = optarg;
                        break;
                case 'j':
                        arg.json = true;
                        break;
                case 'e':
                        if (parse_number(optarg, 10000000, &arg.each_uid) < 0 || arg.each_uid == 0)
                                return fprintf(stderr, "execload: --each-uid takes a positive number.\n"), -1;
                        break;
                case 'n':
                        if (parse_number(optarg, 4095, &v) < 0 || v < strlen(MISSING))
                                return fprintf(stderr, "execload: --name-length takes %zu to 4095.\n",
                                               strlen(MISSING)), -1;
                        arg.missing = long_name((size_t) v);
                        if (!arg.missing)
                                return perror("execload"), -1;
                        break;
                case 'a':
                        arg.argv = hostile_argv();
                        break;
                case 'h':
                        usage(stdout);
                        exit(EXIT_SUCCESS);
                default:
                        usage(stderr);
                        return -1;
                }
        if (optind < argc)
                return fprintf(stderr, "execload: unexpected argument %s.\n", argv[optind]), -1;
        if (arg.each_uid && arg.uid < 0)
                return fprintf(stderr, "execload: --each-uid needs --uid, the first UID.\n"), -1;
        if (arg.each_uid && arg.uid + arg.each_uid > UINT32_MAX - 1)
                return fprintf(stderr, "execload: the UIDs would run past 4294967294.\n"), -1;
        if (!arg.failure && !arg.program && !arg.each_uid)
                return fprintf(stderr, "execload: success mode needs --program (bench/noop from the build).\n"), -1;
        return 0;
}

static bool done(uint64_t i) {
        return arg.count ? i >= arg.count : *stop_flag;
}

/* One vfork and exec of the program; its wait status, or -1. Its own function: nothing
 * of the caller's lives across vfork(). */
static __attribute__((noinline)) int spawn_program(void) {
        char *const argv_program[] = { (char *) arg.program, NULL };
        char *const envp[] = { NULL };
        int status;
        pid_t pid = vfork();

        if (pid == 0) {
                execve(arg.program, arg.argv ?: argv_program, envp);
                _exit(127);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

static void work(WorkerResult *res) {
        char *const argv_missing[] = { arg.missing, NULL };
        char *const envp[] = { NULL };

        for (uint64_t i = 0; !done(i); i++) {
                if (arg.failure) {
                        execve(arg.missing, arg.argv ?: argv_missing, envp);
                        if (errno == ENOENT)
                                res->failed++;
                        else
                                res->unexpected++;
                        continue;
                }

                int status = spawn_program();

                if (status < 0)
                        res->unexpected++;
                else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        res->execs++;
                else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                        res->failed++, res->unexpected++;
                else
                        res->unexpected++;
        }
}

static int become_uid(void) {
        if (arg.uid < 0)
                return 0;
        if (setgroups(0, NULL) < 0 || setgid((gid_t) arg.uid) < 0 || setuid((uid_t) arg.uid) < 0) {
                fprintf(stderr, "execload: cannot become UID %ld: %s\n", arg.uid, strerror(errno));
                return -1;
        }
        return 0;
}

/* One failed exec as each UID: a child per UID, a few at a time. */
static int each_uid(void) {
        char *const argv_missing[] = { (char *) MISSING, NULL };
        char *const envp[] = { NULL };
        uint64_t done = 0, failed = 0;
        double start = now();
        unsigned running = 0;
        int status;

        for (uint64_t i = 0; i < arg.each_uid || running > 0;) {
                if (i < arg.each_uid && running < 8) {
                        pid_t pid = fork();

                        if (pid < 0)
                                return perror("execload: fork"), EXIT_FAILURE;
                        if (pid == 0) {
                                uid_t uid = (uid_t) (arg.uid + (long) i);

                                if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
                                        _exit(2);
                                execve(MISSING, argv_missing, envp);
                                _exit(errno == ENOENT ? 0 : 3);
                        }
                        i++;
                        running++;
                        continue;
                }
                if (wait(&status) < 0)
                        return perror("execload: wait"), EXIT_FAILURE;
                running--;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        done++;
                else
                        failed++;
        }
        if (arg.json)
                printf("{\"uids\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"unexpected\":%" PRIu64 ",\"seconds\":%.3f}\n",
                       arg.each_uid, done, failed, now() - start);
        else
                printf("%" PRIu64 " UIDs made one failed exec each (%" PRIu64 " unexpected) in %.3f s\n", done,
                       failed, now() - start);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        WorkerResult *results, total = {};
        pid_t pids[WORKERS_MAX];
        double start, seconds;
        int status, rc = EXIT_SUCCESS;

        if (parse_args(argc, argv) < 0)
                return 2;
        if (arg.each_uid)
                return each_uid();
        if (!arg.failure && access(arg.program, X_OK) < 0) {
                fprintf(stderr, "execload: cannot run %s: %s\n", arg.program, strerror(errno));
                return EXIT_FAILURE;
        }

        /* Shared with the workers: their results, and the stop flag. */
        results = mmap(NULL, sizeof(WorkerResult) * WORKERS_MAX + 64, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (results == MAP_FAILED)
                return perror("execload: mmap"), EXIT_FAILURE;
        stop_flag = (volatile bool *) (results + WORKERS_MAX);

        start = now();
        for (unsigned i = 0; i < arg.workers; i++) {
                pids[i] = fork();
                if (pids[i] < 0)
                        return perror("execload: fork"), EXIT_FAILURE;
                if (pids[i] == 0) {
                        if (become_uid() < 0)
                                _exit(EXIT_FAILURE);
                        work(&results[i]);
                        _exit(EXIT_SUCCESS);
                }
        }
        if (!arg.count) {
                struct timespec ts = { .tv_sec = (time_t) arg.duration,
                                       .tv_nsec = (long) ((arg.duration - (double) (time_t) arg.duration) * 1e9) };

                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                *stop_flag = true;
        }
        for (unsigned i = 0; i < arg.workers; i++)
                if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        rc = EXIT_FAILURE;
        seconds = now() - start;

        for (unsigned i = 0; i < arg.workers; i++) {
                total.execs += results[i].execs;
                total.failed += results[i].failed;
                total.unexpected += results[i].unexpected;
        }
        if (total.unexpected > 0)
                rc = EXIT_FAILURE;
        if (arg.json)
                printf("{\"workers\":%u,\"mode\":\"%s\",\"execs\":%" PRIu64 ",\"failed\":%" PRIu64
                       ",\"unexpected\":%" PRIu64 ",\"seconds\":%.6f,\"rate\":%.1f}\n",
                       arg.workers, arg.failure ? "failure" : "success", total.execs, total.failed,
                       total.unexpected, seconds, (double) (total.execs + total.failed) / seconds);
        else
                printf("%u workers, %s mode: %" PRIu64 " execs, %" PRIu64 " failed, %" PRIu64
                       " unexpected, in %.3f s: %.0f/s\n",
                       arg.workers, arg.failure ? "failure" : "success", total.execs, total.failed, total.unexpected,
                       seconds, (double) (total.execs + total.failed) / seconds);
        return rc;
}
