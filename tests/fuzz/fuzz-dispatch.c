/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz-dispatch.c: the whole request path of a running daemon (server.c, connection.c,
 * methods.c): each input is what one client sends on the socket, as root or, if the
 * first byte is odd, as an unprivileged user. The daemon runs with real BPF maps but no
 * program attached (needs root). Every reply must be a well-formed Varlink message, and
 * the connection must end once the client stops sending and the replies are out. */

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "event.h"
#include "fuzz.h"
#include "log.h"
#include "manager.h"
#include "varlink.h"

#define UNPRIVILEGED_UID 1000
#define ROUNDS_MAX 20000

static Manager *manager;
static char dir[] = "/tmp/fuzz-dispatch-XXXXXX", config[128], socket_path[108];

static size_t n_replies, n_errors;

static void cleanup(void) {
        fprintf(stderr, "fuzz-dispatch: %zu replies checked, %zu of them errors\n", n_replies, n_errors);
        manager = manager_free(manager); /* removes the socket */
        (void) unlink(config);
        (void) rmdir(dir);
}

static void fill_counts(void) {
        static const uint32_t uids[] = { 0, UNPRIVILEGED_UID, 65534, 4294967294u };

        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                struct exec_count v = { .execs = 10 * i + 1, .failed = i, .last_exec_ns = 1000 * i };

                FUZZ_CHECK(bpf_map_update_elem(probe_get_counts_fd(manager->probe), &uids[i], &v, BPF_ANY) == 0);
        }
}

static void fill_history(void) {
        for (uint32_t i = 0; i < 8; i++) {
                static const char name_and_argv[] = "/bin/true\0true\0--x\0";
                struct exec_event rec = {
                        .boot_ns = 1000000 * (i + 1),
                        .pid = 100 + i,
                        .ppid = 1,
                        .uid = i % 2 ? UNPRIVILEGED_UID : 0,
                        .auid = (uint32_t) -1,
                        .result = i % 3 ? 0 : -2,
                        .flags = EXEC_EVENT_EUID | EXEC_EVENT_EXTENDED | EXEC_EVENT_CGROUP | EXEC_EVENT_ARGV,
                        .cgroup_id = 1000 + i,
                        .filename_len = 10,
                        .argv_len = sizeof(name_and_argv) - 1 - 10,
                        .session = i,
                };
                ExecEvent *e;

                memcpy(rec.comm, "fuzz", 5);
                memcpy(rec.parent_comm, "sh", 3);
                memcpy(rec.data, name_and_argv, sizeof(name_and_argv) - 1);
                FUZZ_CHECK(exec_event_decode(&rec, EXEC_EVENT_HEADER_SIZE + sizeof(name_and_argv) - 1, 0, true, NULL, &e) == 0);
                e->seq = i + 1;
                history_push(manager->history, e);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        ConfigOverrides o = { .probe_mode = -1, .log_level = LOG_CRIT };
        ProbeOptions opts;
        Probe *probe;
        FILE *f;

        if (geteuid() != 0) {
                fprintf(stderr, "%s: needs root, for its BPF maps\n", getenv("CI") ? "FAIL" : "SKIP");
                exit(getenv("CI") ? EXIT_FAILURE : 77);
        }
        FUZZ_CHECK(mkdtemp(dir) && chmod(dir, 0755) == 0);
        atexit(cleanup);
        snprintf(config, sizeof(config), "%s/execcountd.conf", dir);
        snprintf(socket_path, sizeof(socket_path), "%s/io.execcount", dir);
        f = fopen(config, "we");
        FUZZ_CHECK(f);
        /* Nothing pinned, nothing saved: the fuzzer leaves no trace but this directory. */
        fputs("[State]\nDirectory=\nPinDirectory=\n[Counts]\nMaxUIDs=64\n[Events]\nHistory=16\n"
              "RingBufferSize=4096\n[Access]\nGroup=\n[Journal]\nSummaryIntervalSec=0\n",
              f);
        FUZZ_CHECK(fclose(f) == 0);
        o.socket_path = socket_path;

        log_set_max_level(LOG_CRIT); /* protocol errors by the thousand */
        FUZZ_CHECK(manager_new(config, &o, &manager) == 0);
        opts = manager_probe_options(manager);
        opts.restore = NULL;
        FUZZ_CHECK(probe_new_unattached(&opts, &probe) == 0);
        FUZZ_CHECK(manager_start_with_probe(manager, -1, probe) == 0);
        fill_history();
        fprintf(stderr, "fuzz-dispatch: serving %s with maps of mode %s\n", socket_path,
                probe_mode_to_string(probe_get_mode(manager->probe)));
        return 0;
}

static int connect_as(bool unprivileged) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        FUZZ_CHECK(fd >= 0);
        strcpy(sa.sun_path, socket_path);
        /* The server reads the credentials of connect(): the effective UID. */
        if (unprivileged)
                FUZZ_CHECK(setresuid(-1, UNPRIVILEGED_UID, -1) == 0);
        FUZZ_CHECK(connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        if (unprivileged)
                FUZZ_CHECK(setresuid(-1, 0, -1) == 0);
        return fd;
}

static void check_replies(const char *buf, size_t size) {
        for (size_t start = 0; start < size;) {
                const char *end = memchr(buf + start, '\0', size - start);
                VarlinkReply reply;
                const char *reason = NULL;

                FUZZ_CHECK(end); /* every message is whole */
                FUZZ_CHECK(varlink_reply_parse(buf + start, (size_t) (end - buf - start), &reply, &reason) == 0);
                n_replies++;
                n_errors += reply.error != NULL;
                varlink_reply_done(&reply);
                start = (size_t) (end - buf) + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        sd_event *e = manager->event;
        char *out = NULL;
        size_t sent = 0, got = 0, alloc = 0;
        bool shut = false, eof = false;
        int fd;

        if (size == 0)
                return 0;
        fill_counts();
        fd = connect_as(data[0] & 1);
        data++, size--;

        for (int round = 0; !eof || server_n_connections(manager->server) > 0; round++) {
                FUZZ_CHECK(round < ROUNDS_MAX); /* the daemon must finish with every client */
                if (sent < size) {
                        ssize_t k = send(fd, data + sent, size - sent, MSG_NOSIGNAL);

                        if (k > 0)
                                sent += (size_t) k;
                        else if (k < 0 && errno != EAGAIN)
                                sent = size; /* closed by the daemon */
                }
                if (sent == size && !shut) {
                        (void) shutdown(fd, SHUT_WR);
                        shut = true;
                }
                FUZZ_CHECK(sd_event_run(e, 1000) >= 0);
                while (!eof) {
                        ssize_t k;

                        if (alloc - got < 65536) {
                                alloc = alloc * 2 + 65536;
                                out = realloc(out, alloc);
                                FUZZ_CHECK(out);
                        }
                        k = recv(fd, out + got, alloc - got, 0);
                        if (k < 0 && errno == EAGAIN)
                                break;
                        if (k <= 0)
                                eof = true;
                        else
                                got += (size_t) k;
                }
        }
        check_replies(out, got);
        free(out);
        close(fd);
        return 0;
}
