/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server-accept.c: taking new clients: their credentials and privilege, the places they
 * may have (per UID, reserved for root's peers, made by letting an idle client go), and
 * the refusals, counted and reported in aggregate. */

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "log.h"
#include "server-internal.h"
#include "time-util.h"

/* The peer's supplementary groups, from when it connected. */
static int peer_groups(int fd, gid_t **ret, size_t *ret_n) {
        socklen_t len = 64 * sizeof(gid_t);
        gid_t *groups = NULL;

        for (;;) {
                gid_t *g = realloc(groups, len ? len : sizeof(gid_t));

                if (!g) {
                        free(groups);
                        return -ENOMEM;
                }
                groups = g;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) >= 0)
                        break;
                if (errno != ERANGE) {
                        free(groups);
                        return negative_errno();
                }
        }
        *ret = groups;
        *ret_n = len / sizeof(gid_t);
        return 0;
}

/* Whether the peer of fd is privileged; its groups are read for this, and not kept: a
 * client may have 65,536 of them. */
static int peer_privileged(Server *s, int fd, const struct ucred *peer, bool *ret) {
        _cleanup_(freep) gid_t *groups = NULL;
        size_t n = 0;
        int r;

        if (peer->uid == 0 || !s->callbacks.privileged) {
                *ret = peer->uid == 0;
                return 0;
        }
        r = peer_groups(fd, &groups, &n);
        if (r < 0)
                return r;
        *ret = s->callbacks.privileged(peer, groups, n, s->callbacks.userdata);
        return 0;
}

static size_t connections_of(Server *s, uid_t uid) {
        BudgetUser *u = budget_user_find(&s->budget, uid);

        return u ? u->n_live : 0;
}

/* The client idle the longest, at least CONNECTION_EVICT_IDLE_USEC, that may give its
 * place to a newcomer: never root's, and only an unprivileged one's to an unprivileged
 * newcomer. */
static Connection *eviction_candidate(Server *s, bool privileged) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        Connection *best = NULL;

        for (Connection *c = s->connections; c; c = c->next)
                if (c->peer.uid != 0 && (privileged || !c->privileged) &&
                    connection_idle_for(c, now, CONNECTION_EVICT_IDLE_USEC) &&
                    (!best || c->idle_since_usec < best->idle_since_usec))
                        best = c;
        return best;
}

/* Why a new client is turned away, or _REFUSED_MAX. Root always gets a place. */
static RefusalReason admission(Server *s, const struct ucred *peer, bool privileged) {
        size_t limit = s->limits.max_connections;
        Connection *idle;

        if (peer->uid == 0)
                return _REFUSED_MAX;
        /* One user cannot take every place. */
        if (connections_of(s, peer->uid) >= s->limits.max_connections_per_uid)
                return REFUSED_PER_UID;
        /* The last places are for root's peers: the access group. */
        if (!privileged)
                limit -= MIN(limit, s->limits.reserved_connections);
        if (s->n_unrooted < s->limits.max_connections && (privileged || s->n_unprivileged < limit))
                return _REFUSED_MAX;
        /* Full: a client that has called nothing for a while makes room. */
        idle = eviction_candidate(s, privileged);
        if (!idle)
                return REFUSED_MAX_CLIENTS;
        server_log_drop(s, idle, "it has called nothing for a while, and a new client needs its place");
        connection_kill(idle);
        return _REFUSED_MAX;
}

int server_on_refusal_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;

        refusals_report(&s->refusals, now_usec(CLOCK_MONOTONIC));
        return 0;
}

static void note_refusal(Server *s, const struct ucred *peer, RefusalReason why) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), when;

        if (refusals_add(&s->refusals, peer->uid != (uid_t) -1, peer->uid, why, now))
                refusals_report(&s->refusals, now);
        else if (refusals_pending(&s->refusals, &when)) {
                (void) sd_event_source_set_time(s->refusal_timer, when);
                (void) sd_event_source_set_enabled(s->refusal_timer, SD_EVENT_ONESHOT);
        }
}

static int on_accept_resume(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;

        s->accept_pause = sd_event_source_disable_unref(s->accept_pause);
        return sd_event_source_set_enabled(s->listen_io, SD_EVENT_ON);
}

/* Out of file descriptors, the pending connection stays pending and the socket readable:
 * accepting is paused for a second rather than spinning on it. */
static void pause_accepting(Server *s) {
        if (s->accept_pause)
                return;
        if (sd_event_add_time_relative(sd_event_source_get_event(s->listen_io), &s->accept_pause, CLOCK_MONOTONIC,
                                       1000000, 100000, on_accept_resume, s) < 0)
                return; /* keeps trying at every wakeup, which still works */
        (void) sd_event_source_set_description(s->accept_pause, "accept-pause");
        (void) sd_event_source_set_enabled(s->listen_io, SD_EVENT_OFF);
}

int server_on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Server *s = userdata;

        /* A few per wakeup, so that a flood of connections cannot starve everything else. */
        for (int i = 0; i < 16; i++) {
                struct ucred peer = { .uid = (uid_t) -1, .gid = (gid_t) -1 };
                socklen_t l = sizeof(peer);
                RefusalReason why;
                bool privileged;
                Connection *c;
                int cfd, r;

                cfd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd < 0) {
                        if (errno == EMFILE || errno == ENFILE) {
                                note_refusal(s, &peer, REFUSED_NO_FDS);
                                pause_accepting(s);
                        } else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Failed to accept a connection: %m");
                        return 0;
                }
                /* Credentials decide what a client may see: without them, it may see nothing. */
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &peer, &l) < 0 ||
                    peer_privileged(s, cfd, &peer, &privileged) < 0) {
                        log_warning_errno(errno, "Failed to read a client's credentials, refusing it: %m");
                        safe_close(cfd);
                        continue;
                }
                why = admission(s, &peer, privileged);
                if (why != _REFUSED_MAX) {
                        note_refusal(s, &peer, why);
                        safe_close(cfd);
                        continue;
                }
                r = connection_new(s, cfd, &peer, privileged, &c);
                if (r == -ENOBUFS)
                        note_refusal(s, &peer, REFUSED_BUFFER);
                else if (r < 0)
                        log_warning_errno(r, "Failed to take a new connection: %m");
        }
        return 0;
}

void server_reclassify(Server *s) {
        for (Connection *c = s->connections; c; c = c->next) {
                bool privileged;

                if (c->dead || c->peer.uid == 0)
                        continue;
                /* The groups are the peer's at connect time, read again from the socket;
                 * what changed is what privileged() says of them. */
                if (peer_privileged(s, c->fd, &c->peer, &privileged) < 0)
                        privileged = false;
                if (privileged == c->privileged)
                        continue;
                c->privileged = privileged;
                if (privileged)
                        s->n_unprivileged--;
                else {
                        s->n_unprivileged++;
                        if (s->callbacks.revoked)
                                s->callbacks.revoked(c, s->callbacks.userdata);
                }
        }
}
