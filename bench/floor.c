/* SPDX-License-Identifier: GPL-2.0-or-later */
/* floor.c: keeps the floor programs named (bench/floor.bpf.c) attached until SIGTERM.
 *
 *   floor PROGRAM...
 *
 * Prints "ready" once they are attached, so that a measurement can start; with a ring
 * buffer program, drains the ring every 100 ms and prints at the end how many records it
 * took and how many found the ring full. Exit status: 0 after SIGTERM or SIGINT, 1 when
 * loading or attaching fails, 2 for a usage error or an unknown program. */

#include <bpf/libbpf.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>

#include "floor.skel.h"
#include "macro.h"

/* The programs never wake the reader (a wakeup per exec would be part of the cost), so
 * it reads on a timer; 100 ms of the exec storm fills a small part of the ring. */
#define DRAIN_INTERVAL_MS 100

DEFINE_POINTER_CLEANUP(struct floor_bpf, floor_bpf__destroy);
DEFINE_POINTER_CLEANUP(struct ring_buffer, ring_buffer__free);

static int record_take(void *ctx, void *data, size_t size) {
        (*(unsigned long long *) ctx)++;
        return 0;
}

static void programs_list(struct floor_bpf *skel, FILE *f) {
        struct bpf_program *prog;

        bpf_object__for_each_program(prog, skel->obj)
                fprintf(f, " %s", bpf_program__name(prog));
        fputc('\n', f);
}

/* Autoloads the programs named and no other; -ENOENT with *ret_unknown set for a name
 * the object does not have. */
static int programs_select(struct floor_bpf *skel, char **names, int n, const char **ret_unknown) {
        struct bpf_program *prog;

        bpf_object__for_each_program(prog, skel->obj)
                bpf_program__set_autoload(prog, false);
        for (int i = 0; i < n; i++) {
                prog = bpf_object__find_program_by_name(skel->obj, names[i]);
                if (!prog) {
                        *ret_unknown = names[i];
                        return -ENOENT;
                }
                bpf_program__set_autoload(prog, true);
        }
        return 0;
}

/* Until a signal comes on sfd; drains rb, if any, on the way. */
static int wait_draining(int sfd, struct ring_buffer *rb) {
        struct pollfd p = { .fd = sfd, .events = POLLIN };

        for (;;) {
                int r = poll(&p, 1, rb ? DRAIN_INTERVAL_MS : -1);

                if (r < 0 && errno != EINTR)
                        return -errno;
                if (rb) {
                        r = ring_buffer__consume(rb);
                        if (r < 0)
                                return r;
                }
                if (p.revents & POLLIN)
                        return 0;
        }
}

int main(int argc, char *argv[]) {
        _cleanup_(floor_bpf__destroyp) struct floor_bpf *skel = NULL;
        _cleanup_(ring_buffer__freep) struct ring_buffer *rb = NULL;
        _cleanup_(closep) int sfd = -EBADF;
        unsigned long long records = 0;
        const char *unknown = NULL;
        sigset_t mask;
        int r;

        if (argc < 2 || argv[1][0] == '-') {
                fprintf(stderr, "Usage: floor PROGRAM...\n");
                return 2;
        }

        /* Blocked from the start: a SIGTERM during the load is taken once attached. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
                fprintf(stderr, "floor: cannot take signals: %m\n");
                return 1;
        }

        /* libbpf's own messages stay on stderr, its default: they name the program that
         * failed, and why. */
        skel = floor_bpf__open();
        if (!skel) {
                fprintf(stderr, "floor: cannot open the BPF object: %m\n");
                return 1;
        }
        if (programs_select(skel, argv + 1, argc - 1, &unknown) < 0) {
                fprintf(stderr, "floor: no program '%s'; the programs are:", unknown);
                programs_list(skel, stderr);
                return 2;
        }
        r = floor_bpf__load(skel);
        if (r < 0) {
                fprintf(stderr, "floor: cannot load the programs: %s%s\n", strerror(-r),
                        r == -EPERM ? " (needs root, or CAP_BPF and CAP_PERFMON)" : "");
                return 1;
        }
        r = floor_bpf__attach(skel);
        if (r < 0) {
                fprintf(stderr, "floor: cannot attach the programs: %s\n", strerror(-r));
                return 1;
        }
        if (bpf_program__autoload(skel->progs.fl_exec_ring) || bpf_program__autoload(skel->progs.fl_exec_both)) {
                rb = ring_buffer__new(bpf_map__fd(skel->maps.ring), record_take, &records, NULL);
                if (!rb) {
                        fprintf(stderr, "floor: cannot read the ring buffer: %m\n");
                        return 1;
                }
        }

        printf("ready\n");
        fflush(stdout);

        r = wait_draining(sfd, rb);
        if (r < 0) {
                fprintf(stderr, "floor: cannot drain the ring buffer: %s\n", strerror(-r));
                return 1;
        }
        if (rb)
                printf("records %llu ring_full %llu\n", records, (unsigned long long) skel->bss->ring_full);
        return 0;
}
