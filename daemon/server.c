/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.c: serving Varlink on a Unix stream socket: admitting clients within limits,
 * taking turns between them, dropping the ones that stop reading or call nothing.
 *
 * This file: the server's life, its turns and timers. Accepting and admitting clients is
 * in server-accept.c. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "log.h"
#include "server-internal.h"
#include "time-util.h"
#include "turn.h"

/* Steps per turn of the sweep: the loop reads new calls (root's first) between turns, so
 * this bounds how long one waits for the others' work. */
#define SWEEP_STEPS 8

/* Root's calls go first; replies in parts take turns with everyone's. */
enum { QUEUE_ROOT, QUEUE_OTHERS };

void server_schedule_sweep(Server *s) {
        turn_schedule(s->sweep);
}

void server_arm_stall_timer(Server *s) {
        int enabled = SD_EVENT_OFF;

        if (sd_event_source_get_enabled(s->stall_timer, &enabled) >= 0 && enabled)
                return;
        (void) sd_event_source_set_time_relative(s->stall_timer, USEC_PER_SEC);
        (void) sd_event_source_set_enabled(s->stall_timer, SD_EVENT_ONESHOT);
}

void server_ready(Server *s, Connection *c) {
        int q;

        if (c->ready || c->dead)
                return;
        q = c->peer.uid == 0 && !c->producer ? QUEUE_ROOT : QUEUE_OTHERS;
        c->ready = true;
        c->ready_next = NULL;
        if (s->ready_tail[q])
                s->ready_tail[q]->ready_next = c;
        else
                s->ready_head[q] = c;
        s->ready_tail[q] = c;
        server_schedule_sweep(s);
}

static Connection *ready_pop(Server *s) {
        for (int q = QUEUE_ROOT; q <= QUEUE_OTHERS; q++) {
                Connection *c = s->ready_head[q];

                if (!c)
                        continue;
                s->ready_head[q] = c->ready_next;
                if (!s->ready_head[q])
                        s->ready_tail[q] = NULL;
                c->ready = false;
                c->ready_next = NULL;
                return c;
        }
        return NULL;
}

static int on_sweep(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;
        Connection *c, *next;

        /* A few steps, in turn, then the loop goes round: new calls are read (root's first),
         * events drained, before the next few. */
        for (int steps = 0; steps < SWEEP_STEPS && (c = ready_pop(s));) {
                if (c->dead)
                        continue;
                connection_step(c);
                connection_update(c);
                if (connection_has_work(c))
                        server_ready(s, c);
                steps++;
        }
        for (c = s->n_dead > 0 ? s->connections : NULL; c; c = next) {
                next = c->next;
                if (c->dead && !c->ready)
                        connection_free(c);
        }
        /* What was readied during these steps (each part written readies its connection)
         * was done in them, unless it waits in the queue; dead connections are gone. */
        if (s->ready_head[QUEUE_ROOT] || s->ready_head[QUEUE_OTHERS])
                server_schedule_sweep(s);
        else
                turn_cancel(s->sweep);
        return 0;
}

void server_log_drop(Server *s, Connection *c, const char *why) {
        uint64_t suppressed;

        s->n_dropped++;
        if (ratelimit_pass(&s->drops, now_usec(CLOCK_MONOTONIC), &suppressed))
                log_warning("Dropping client (pid %d, uid %u): %s%s.", (int) c->peer.pid, c->peer.uid, why,
                            suppressed > 0 ? " (and more drops held back)" : "");
}

/* A client whose socket has taken none of its output for stall_timeout is not reading:
 * it would hold its buffer for ever. */
static int on_stall_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        bool waiting = false;

        for (Connection *c = s->connections; c; c = c->next) {
                char why[128];

                if (c->dead || c->stalled_since_usec == 0)
                        continue;
                if (now - c->stalled_since_usec >= s->limits.stall_timeout_usec) {
                        snprintf(why, sizeof(why), "it has not read its replies for %" PRIu64 " s, %zu bytes queued",
                                 (now - c->stalled_since_usec) / USEC_PER_SEC, connection_output_pending(c));
                        server_log_drop(s, c, why);
                        connection_kill(c);
                } else
                        waiting = true;
        }
        if (waiting)
                server_arm_stall_timer(s);
        return 0;
}

/* Clients that call nothing for idle_timeout give their place back. */
static int on_idle_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);

        for (Connection *c = s->connections; c; c = c->next)
                if (connection_idle_for(c, now, s->limits.idle_timeout_usec)) {
                        log_debug("Closing client (pid %d, uid %u): it called nothing for %" PRIu64 " s.",
                                  (int) c->peer.pid, c->peer.uid, (now - c->idle_since_usec) / USEC_PER_SEC);
                        s->n_dropped++;
                        connection_kill(c);
                }
        (void) sd_event_source_set_time_relative(source, USEC_PER_SEC);
        return 0;
}

int server_charge(Server *s, Connection *c, size_t n) {
        BudgetUser *victim;
        int r;

        if (n == 0)
                return 0;
        /* Root is held to no budget, but a stuck client of root's (a Watch stream that does
         * not keep up) is held to a bound: enough for the counts of a million UIDs. */
        if (c->user->exempt && c->charged + n > MAX(s->limits.max_buffer_per_uid, CONNECTION_ROOT_MAX))
                return -ENOBUFS;
        for (;;) {
                Connection *biggest = NULL;

                r = budget_charge(&s->budget, c->user, n, &victim);
                if (r != -EAGAIN)
                        break;
                /* The budget is used up and another UID holds more: its biggest client
                 * gives back. */
                for (Connection *x = victim->connections; x; x = x->user_next)
                        if (!biggest || x->charged > biggest->charged)
                                biggest = x;
                if (!biggest || biggest->charged == 0)
                        return -ENOBUFS;
                server_log_drop(s, biggest, "the clients' buffer budget is used up (MaxBuffer=), and its UID holds "
                                            "more of it than the UID asking");
                connection_kill(biggest);
        }
        if (r < 0)
                return r;
        c->charged += n;
        return 0;
}

void server_throttle(Server *s, Connection *c) {
        uint64_t when = UINT64_MAX;

        c->throttled_next = s->throttled;
        s->throttled = c;
        for (Connection *x = s->throttled; x; x = x->throttled_next)
                when = MIN(when, x->throttled_until_usec);
        (void) sd_event_source_set_time(s->throttle_timer, when);
        (void) sd_event_source_set_enabled(s->throttle_timer, SD_EVENT_ONESHOT);
}

void server_unthrottle(Server *s, Connection *c) {
        for (Connection **p = &s->throttled; *p; p = &(*p)->throttled_next)
                if (*p == c) {
                        *p = c->throttled_next;
                        break;
                }
        c->throttled_next = NULL;
        c->throttled_until_usec = 0;
}

/* Throttled producers whose time has come get their turn again. */
static int on_throttle_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Server *s = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC), when = UINT64_MAX;
        Connection **p = &s->throttled;

        while (*p) {
                Connection *c = *p;

                if (!c->dead && c->throttled_until_usec > now) {
                        when = MIN(when, c->throttled_until_usec);
                        p = &c->throttled_next;
                        continue;
                }
                *p = c->throttled_next;
                c->throttled_next = NULL;
                c->throttled_until_usec = 0;
                if (!c->dead && connection_has_work(c))
                        server_ready(s, c);
        }
        if (s->throttled) {
                (void) sd_event_source_set_time(source, when);
                (void) sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        }
        return 0;
}

/* Every client is a file descriptor: as many as the hard limit allows, and some for root. */
static void raise_fd_limit(size_t want) {
        struct rlimit rl;

        want += 128;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
                return;
        rl.rlim_cur = MIN(rl.rlim_max, (rlim_t) want);
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
                log_warning("Only %llu file descriptors: fewer than MaxClients=%zu clients can connect.",
                            (unsigned long long) rl.rlim_cur, want - 128);
}

void server_set_limits(Server *s, const ServerLimits *limits) {
        s->limits = *limits;
        budget_set_limits(&s->budget, limits->max_buffer, limits->max_buffer_per_uid, limits->output_rate_per_uid);
        raise_fd_limit(limits->max_connections);
        if (s->idle_timer)
                (void) sd_event_source_set_enabled(s->idle_timer,
                                                   limits->idle_timeout_usec > 0 ? SD_EVENT_ON : SD_EVENT_OFF);
}

int server_new(sd_event *e, const char *path, int listen_fd, const ServerLimits *limits,
               const ServerCallbacks *callbacks, Server **ret) {
        _cleanup_(server_freep) Server *s = NULL;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->listen_fd = -EBADF;
        /* A hostile client must not flood the journal. */
        s->protocol_errors = (RateLimit) { .interval_usec = 10 * USEC_PER_SEC, .burst = 10 };
        s->drops = (RateLimit) { .interval_usec = 10 * USEC_PER_SEC, .burst = 10 };
        s->callbacks = *callbacks;
        if (budget_init(&s->budget, 0, 0) < 0 || refusals_init(&s->refusals) < 0)
                return -ENOMEM;
        server_set_limits(s, limits ? limits : &SERVER_LIMITS_DEFAULT);

        if (listen_fd >= 0) {
                int flags = fcntl(listen_fd, F_GETFL);

                /* Accepting loops until EAGAIN: the socket must not block. */
                if (flags < 0 || fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK) < 0)
                        return negative_errno();
                s->listen_fd = listen_fd;
                /* Where it really is: systemd's ListenStream=, whatever Path= says. */
                if (socket_get_path(listen_fd, &s->path) < 0)
                        s->path = strdup(path);
                if (!s->path)
                        return -ENOMEM;
        } else {
                s->path = strdup(path);
                if (!s->path)
                        return -ENOMEM;
                /* Anyone may connect: the credentials decide what each client sees. */
                r = socket_listen_unix(path, 0666, &s->listen_fd, &s->socket_id);
                if (r < 0)
                        return r;
                s->own_socket = true;
        }

        r = sd_event_add_io(e, &s->listen_io, s->listen_fd, EPOLLIN, server_on_accept, s);
        if (r >= 0)
                r = turn_add(e, &s->sweep, on_sweep, s);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &s->stall_timer, CLOCK_MONOTONIC, USEC_PER_SEC, USEC_PER_SEC / 10,
                                               on_stall_timer, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->stall_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &s->idle_timer, CLOCK_MONOTONIC, USEC_PER_SEC, USEC_PER_SEC / 4,
                                               on_idle_timer, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->idle_timer,
                                                s->limits.idle_timeout_usec > 0 ? SD_EVENT_ON : SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(e, &s->refusal_timer, CLOCK_MONOTONIC, 0, USEC_PER_SEC / 10, server_on_refusal_timer,
                                      s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->refusal_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(e, &s->throttle_timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC, on_throttle_timer, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->throttle_timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->throttle_timer, "throttle");
        (void) sd_event_source_set_description(s->listen_io, "listen");
        (void) sd_event_source_set_description(s->sweep, "sweep");
        (void) sd_event_source_set_description(s->stall_timer, "stall-timer");
        (void) sd_event_source_set_description(s->idle_timer, "idle-timer");
        (void) sd_event_source_set_description(s->refusal_timer, "refusal-report");

        *ret = TAKE_PTR(s);
        return 0;
}

Server *server_free(Server *s) {
        if (!s)
                return NULL;
        while (s->connections)
                connection_free(s->connections);
        /* What waits to be reported is reported. */
        if (s->refusals.uids)
                refusals_report(&s->refusals, now_usec(CLOCK_MONOTONIC));
        sd_event_source_disable_unref(s->listen_io);
        sd_event_source_disable_unref(s->accept_pause);
        sd_event_source_disable_unref(s->sweep);
        sd_event_source_disable_unref(s->stall_timer);
        sd_event_source_disable_unref(s->idle_timer);
        sd_event_source_disable_unref(s->refusal_timer);
        sd_event_source_disable_unref(s->throttle_timer);
        safe_close(s->listen_fd);
        if (s->own_socket)
                socket_unlink_if_same(s->path, &s->socket_id);
        refusals_done(&s->refusals);
        budget_done(&s->budget);
        free(s->path);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

void server_flush(Server *s) {
        /* What is queued, and what is ready to be written without a wait: a few rounds. */
        for (int round = 0; round < 64 && (s->ready_head[QUEUE_ROOT] || s->ready_head[QUEUE_OTHERS]); round++)
                on_sweep(s->sweep, 0, s);
}

size_t server_n_connections(const Server *s) {
        return s->n_connections;
}

void server_get_stats(const Server *s, ServerStats *ret) {
        *ret = (ServerStats) {
                .connections = s->n_connections,
                .refused = s->refusals.total,
                .dropped = s->n_dropped,
                .buffered = s->budget.used,
                .buffered_root = s->budget.used_exempt,
        };
}

const char *server_path(const Server *s) {
        return s->path;
}

void server_foreach_stream(Server *s, ServerStreamFn fn, void *userdata) {
        for (Connection *c = s->connections; c; c = c->next)
                if (!c->dead && c->streaming)
                        fn(c, c->producer_state, userdata);
}
