/* SPDX-License-Identifier: GPL-2.0-or-later */
/* links.h: where the links that keep the programs attached are kept from one daemon to the
 * next: pinned in the BPF file system, or in systemd's file descriptor store.
 *
 * Pinned links live until they are unpinned: a crash followed by no start at all leaves
 * the programs counting. Links in the fd store live as long as systemd keeps the service
 * (a restart, a crash and its automatic restart), and go when it is stopped or fails for
 * good. Either way, while they live, execs are counted without a daemon. */
#pragma once

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum LinkKeeper {
        LINKS_NOWHERE, /* the links go with the daemon */
        LINKS_PINNED,
        LINKS_FDSTORE,
} LinkKeeper;

/* A link systemd passed back from the fd store, named "link-PROGRAM". */
typedef struct StoredLink {
        char *program;
        int fd;
} StoredLink;

typedef struct Links {
        LinkKeeper keeper;
        const char *pin_dir; /* LINKS_PINNED; for LINKS_FDSTORE, where stale pins are */
        StoredLink *stored; /* LINKS_FDSTORE: owned, the daemon's copies */
        size_t n_stored;
} Links;

/* Whether an fd systemd passed back, named fdname, is a stored link. */
bool links_is_fdname(const char *fdname);
/* Asks systemd to close its copy of the fd it keeps as fdname. */
void links_fdstore_remove(const char *fdname);
/* Takes "link-PROGRAM" fds passed by systemd into l (LINKS_FDSTORE). */
int links_add_stored(Links *l, const char *fdname, int fd);
void links_done(Links *l);

/* Whether a link of program is kept where l keeps links: one the daemon can take over. */
bool links_have(const Links *l, const char *program);
/* Whether any link is kept, of any program, in either place: pinned in pin_dir, or
 * stored. A daemon of the other kind (with or without --fdstore), or of another build
 * with other programs, may have left them. */
bool links_any(const Links *l);
/* Lets go of every kept link, so that their programs detach (once nothing else holds
 * them: the daemon's own handles go at exit). Returns how many there were. */
int links_drop_all(Links *l);
/* Lets go of the links kept where l does not keep them, which are never taken over: a
 * program attached twice would count every exec twice. Returns how many there were. */
int links_drop_foreign(Links *l);
/* Keeps link, of program, where l keeps links. */
int links_keep(Links *l, const char *program, struct bpf_link *link);
/* For a stop: lets go of pinned links. The fd store's are systemd's to close. */
int links_release_for_stop(Links *l);
