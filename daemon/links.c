/* SPDX-License-Identifier: GPL-2.0-or-later */
/* links.c: where the links that keep the programs attached are kept between daemons. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "links.h"
#include "macro.h"
#include "pins.h"

#define LINK_PREFIX "link-"

bool links_is_fdname(const char *fdname) {
        return strncmp(fdname, LINK_PREFIX, strlen(LINK_PREFIX)) == 0;
}

void links_fdstore_remove(const char *fdname) {
        char msg[300];

        snprintf(msg, sizeof(msg), "FDSTOREREMOVE=1\nFDNAME=%s", fdname);
        (void) sd_notify(false, msg);
}

int links_add_stored(Links *l, const char *fdname, int fd) {
        StoredLink *s;
        char *program;

        if (!links_is_fdname(fdname))
                return -EINVAL;
        program = strdup(fdname + strlen(LINK_PREFIX));
        s = reallocarray(l->stored, l->n_stored + 1, sizeof(*s));
        if (!program || !s) {
                free(program);
                if (s)
                        l->stored = s;
                return -ENOMEM;
        }
        l->stored = s;
        l->stored[l->n_stored++] = (StoredLink) { .program = program, .fd = fd };
        return 0;
}

void links_done(Links *l) {
        for (size_t i = 0; i < l->n_stored; i++) {
                free(l->stored[i].program);
                safe_close(l->stored[i].fd);
        }
        free(l->stored);
        l->stored = NULL;
        l->n_stored = 0;
}

bool links_have(const Links *l, const char *program) {
        switch (l->keeper) {
        case LINKS_PINNED:
                return pins_link_exists(l->pin_dir, program);
        case LINKS_FDSTORE:
                for (size_t i = 0; i < l->n_stored; i++)
                        if (streq(l->stored[i].program, program))
                                return true;
                return false;
        default:
                return false;
        }
}

bool links_any(const Links *l) {
        return l->n_stored > 0 || (l->pin_dir && pins_have_links(l->pin_dir));
}

static const char *fdname_of(const char *program, char *buf, size_t size) {
        snprintf(buf, size, LINK_PREFIX "%s", program);
        return buf;
}

/* Unpins the links pinned in pin_dir. */
static int drop_pinned(Links *l) {
        return l->pin_dir ? pins_unpin_links(l->pin_dir) : 0;
}

/* Lets go of the stored links: the daemon's copies, and systemd's. */
static int drop_stored(Links *l) {
        int n = (int) l->n_stored;

        for (size_t i = 0; i < l->n_stored; i++) {
                char fdname[256];

                links_fdstore_remove(fdname_of(l->stored[i].program, fdname, sizeof(fdname)));
        }
        links_done(l);
        return n;
}

int links_drop_all(Links *l) {
        int n = drop_pinned(l);

        return n < 0 ? n : n + drop_stored(l);
}

int links_drop_foreign(Links *l) {
        switch (l->keeper) {
        case LINKS_PINNED:
                return drop_stored(l);
        case LINKS_FDSTORE:
                return drop_pinned(l);
        default:
                return links_drop_all(l);
        }
}

int links_keep(Links *l, const char *program, struct bpf_link *link) {
        char path[4096], msg[256];
        int fd, r;

        switch (l->keeper) {
        case LINKS_PINNED:
                r = pins_link_path(l->pin_dir, program, path, sizeof(path));
                return r < 0 ? r : bpf_link__pin(link, path);
        case LINKS_FDSTORE:
                fd = bpf_link__fd(link);
                if (fd < 0)
                        return fd;
                /* FDPOLL=0: a link fd never hangs up; systemd need not watch it. */
                snprintf(msg, sizeof(msg), "FDSTORE=1\nFDNAME=" LINK_PREFIX "%s\nFDPOLL=0", program);
                r = sd_pid_notify_with_fds(0, false, msg, &fd, 1);
                if (r == 0)
                        return -ENOTCONN; /* no $NOTIFY_SOCKET: not run by systemd */
                if (r < 0)
                        return r;
                /* Remembered without an fd of its own, so that links_drop_all() asks
                 * systemd to let go of it too. */
                return links_add_stored(l, fdname_of(program, msg, sizeof(msg)), -EBADF);
        default:
                return 0;
        }
}

int links_release_for_stop(Links *l) {
        return l->keeper == LINKS_PINNED ? pins_unpin_links(l->pin_dir) : 0;
}
