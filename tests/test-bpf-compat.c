/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-bpf-compat.c: execs made through the 32-bit compat syscalls are counted exactly.
 *
 *   test-bpf-compat PATH-TO-32-BIT-HELPER
 *
 * Skips (exit 77) where the kernel cannot run 32-bit programs at all: there are no compat
 * execs to count there. The vm suite runs this on a kernel that can. */

#include <bpf/libbpf.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counts.h"
#include "event.h"
#include "log.h"
#include "probe.h"
#include "test.h"
#include "time-util.h"

#define SUCCESSES 10
#define FAILURES 10
#define MISSING "/nonexistent-execcount-test/compat"

typedef struct Seen {
        uint32_t uid;
        unsigned ok, enoent;
} Seen;

static int on_record(void *ctx, void *data, size_t size) {
        Seen *seen = ctx;
        ExecEvent *e;

        ASSERT_EQ(exec_event_decode(data, size, realtime_offset_usec(), true, NULL, &e), 0);
        if (e->uid == seen->uid) {
                if (e->result == 0) {
                        ASSERT(streq(e->filename, "/bin/true") || strstr(e->filename, "compat-exec"));
                        seen->ok++;
                } else {
                        ASSERT_EQ(e->result, -ENOENT);
                        ASSERT_STREQ(e->filename, MISSING);
                        ASSERT_STREQ(e->comm, "compat-exec");
                        seen->enoent++;
                }
        }
        exec_event_unref(e);
        return 0;
}

int main(int argc, char *argv[]) {
        ProbeOptions opts = { .mode = PROBE_AUTO, .max_uids = 1024, .ring_buffer_size = 1 << 20 };
        uint32_t uid = 2100000000u + (uint32_t) (getpid() & 0xffff);
        struct ring_buffer *ring;
        ProbeReport report;
        Seen seen = { .uid = uid };
        UserCount c;
        Probe *p;
        pid_t pid;
        int status;

        ASSERT_EQ(argc, 2);
        if (geteuid() != 0)
                TEST_SKIP_OR_FAIL("loading BPF programs and switching UIDs needs root");
        log_set_max_level(LOG_WARNING);
        probe_setup_libbpf_logging();

        ASSERT_EQ(probe_new(&opts, &report, &p), 0);
        fprintf(stderr, "probe mode: %s\n", probe_mode_to_string(probe_get_mode(p)));
        ring = ring_buffer__new(probe_get_events_fd(p), on_record, &seen, NULL);
        ASSERT(ring);

        pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
                char n_ok[16], n_fail[16];

                snprintf(n_ok, sizeof(n_ok), "%d", SUCCESSES);
                snprintf(n_fail, sizeof(n_fail), "%d", FAILURES);
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || setgroups(0, NULL) < 0 ||
                    setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(99);
                execl(argv[1], "compat-exec", n_ok, n_fail, (char *) NULL);
                _exit(errno == ENOEXEC ? 98 : 97);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);

        if ((WIFEXITED(status) && WEXITSTATUS(status) == 98) || (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)) {
                /* The one failed exec of the helper itself is counted like any other. */
                ASSERT_EQ(counts_read_one(probe_get_counts_maps(p), uid, &c), 0);
                ASSERT_EQ_U(c.failed, 1);
                fprintf(stderr, "SKIP: this kernel cannot run 32-bit programs (%s): no compat execs can happen "
                                "here; the vm suite tests them on a kernel that can\n",
                        WIFEXITED(status) ? "exec fails with ENOEXEC" : "they die with SIGSEGV");
                ring_buffer__free(ring);
                probe_free(p);
                probe_report_done(&report);
                return EXIT_TEST_SKIP;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                TEST_FAIL("the 32-bit helper failed: status 0x%x", status);

        /* Its own exec (a native one), the successes and failures it made as a 32-bit
         * process, and its failing compat execveat. */
        ASSERT_EQ(counts_read_one(probe_get_counts_maps(p), uid, &c), 0);
        ASSERT_EQ_U(c.execs, 1 + SUCCESSES);
        ASSERT_EQ_U(c.failed, FAILURES + 1);
        ASSERT(ring_buffer__consume(ring) >= 0);
        ASSERT_EQ(seen.ok, 1 + SUCCESSES);
        ASSERT_EQ(seen.enoent, FAILURES + 1);
        fprintf(stderr, "compat: %d execs and %d failures through 32-bit syscalls counted exactly\n", SUCCESSES,
                FAILURES + 1);

        ring_buffer__free(ring);
        probe_report_done(&report);
        probe_free(p);
        return 0;
}
