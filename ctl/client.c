/* SPDX-License-Identifier: GPL-2.0-or-later */
/* client.c: a blocking Varlink client for execcountctl. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "client.h"
#include "json-scan.h"

struct Client {
        int fd;
        char *buf;
        size_t size, alloc;
};

/* Each send and receive on fd, and a connect, fails with EAGAIN after usec without
 * progress; 0: never. */
static int set_timeout(int fd, uint64_t usec) {
        struct timeval tv = { .tv_sec = (time_t) (usec / USEC_PER_SEC), .tv_usec = (suseconds_t) (usec % USEC_PER_SEC) };

        if (usec == 0)
                return 0;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return negative_errno();
        return 0;
}

int client_connect(const char *path, uint64_t timeout_usec, Client **ret) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_(closep) int fd = -EBADF;
        Client *c;
        int r;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        /* Before connecting: a connect to a daemon whose queue is full waits, as long as
         * SO_SNDTIMEO lets it. */
        r = set_timeout(fd, timeout_usec);
        if (r < 0)
                return r;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return negative_errno();

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = TAKE_FD(fd);
        *ret = c;
        return 0;
}

Client *client_free(Client *c) {
        if (!c)
                return NULL;
        safe_close(c->fd);
        free(c->buf);
        free(c);
        return NULL;
}

static int send_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static int send_call(Client *c, const char *method, json_object *parameters, bool more);

/* Reads until a whole message is buffered; returns its length (up to its NUL, which
 * is at c->buf + length). consume_message() removes it. */
static ssize_t read_message(Client *c) {
        char *end;

        while (!(end = c->size > 0 ? memchr(c->buf, '\0', c->size) : NULL)) {
                ssize_t n;

                if (c->size == c->alloc) {
                        size_t want = c->alloc ? c->alloc * 2 : 64 * 1024;
                        char *p;

                        if (want > CLIENT_REPLY_MAX)
                                return -EMSGSIZE;
                        p = realloc(c->buf, want);
                        if (!p)
                                return -ENOMEM;
                        c->buf = p;
                        c->alloc = want;
                }
                n = recv(c->fd, c->buf + c->size, c->alloc - c->size, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -ECONNRESET;
                c->size += (size_t) n;
        }

        return end - c->buf;
}

static void consume_message(Client *c, size_t len) {
        memmove(c->buf, c->buf + len + 1, c->size - len - 1);
        c->size -= len + 1;
}

/* Reads until a whole message is buffered, then parses and removes it. */
static int read_reply(Client *c, VarlinkReply *ret) {
        const char *reason;
        ssize_t len;
        int r;

        len = read_message(c);
        if (len < 0)
                return (int) len;
        r = varlink_reply_parse(c->buf, (size_t) len, ret, &reason);
        consume_message(c, (size_t) len);
        return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
}

/* One reply of client_call_more_parts(), len bytes at text: part's or other's nonzero
 * return, or -EBADMSG, or 0 with *ret_continues. The first of a member given twice
 * counts, as json_scan_members() has it. */
static int reply_walk(const char *text, size_t len, ClientPartFn part, ClientOtherFn other, void *userdata,
                      bool *ret_continues) {
        JsonSpan key, rest, continues = {};
        bool error = false, read = false;
        const char *end;
        JsonIter iter;
        int r;

        if (json_scan_object_begin((JsonSpan) { text, len }, &iter) < 0)
                return -EBADMSG;
        while ((r = json_scan_object_next_key(&iter, &key, &rest)) > 0) {
                if (!read && !error && json_scan_key_is(key, "parameters")) {
                        end = NULL;
                        r = part(rest, &end, userdata);
                        if (r != 0)
                                return r;
                        if (!end || end <= rest.p || end > rest.p + rest.len)
                                return -EBADMSG; /* never so: the part's parser found the end */
                        read = true;
                } else {
                        end = json_scan_skip(rest.p, rest.p + rest.len);
                        if (!end)
                                return -EBADMSG;
                        if (json_scan_key_is(key, "error"))
                                error = true;
                        else if (!continues.p && json_scan_key_is(key, "continues"))
                                continues = (JsonSpan) { rest.p, (size_t) (end - rest.p) };
                }
                json_scan_object_resume(&iter, end);
        }
        if (r < 0)
                return -EBADMSG;
        /* An error after the parameters read: the reply is the error, whatever they held. */
        if (!read || error) {
                r = other(text, len, userdata);
                if (r != 0)
                        return r;
        }
        *ret_continues = continues.len == 4 && memcmp(continues.p, "true", 4) == 0;
        return 0;
}

int client_call_more_parts(Client *c, const char *method, json_object *parameters, ClientPartFn part,
                           ClientOtherFn other, void *userdata) {
        int r;

        r = send_call(c, method, parameters, true);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t len = read_message(c);
                bool continues = false;

                if (len < 0)
                        return (int) len;
                r = reply_walk(c->buf, (size_t) len, part, other, userdata, &continues);
                consume_message(c, (size_t) len);
                if (r != 0 || !continues)
                        return r;
        }
}

static int send_call(Client *c, const char *method, json_object *parameters, bool more) {
        _cleanup_(freep) char *m = NULL;
        size_t len;
        int r;

        r = varlink_call_format(method, parameters, more, false, &m, &len);
        if (r < 0)
                return r;
        return send_all(c->fd, m, len);
}

int client_call(Client *c, const char *method, json_object *parameters, VarlinkReply *ret) {
        int r;

        r = send_call(c, method, parameters, false);
        if (r < 0)
                return r;
        return read_reply(c, ret);
}

int client_call_more(Client *c, const char *method, json_object *parameters, ClientReplyFn fn, void *userdata) {
        int r;

        r = send_call(c, method, parameters, true);
        if (r < 0)
                return r;

        for (;;) {
                VarlinkReply reply = {};
                bool last;

                r = read_reply(c, &reply);
                if (r < 0)
                        return r;
                last = !reply.continues || reply.error;
                r = fn(&reply, userdata);
                varlink_reply_done(&reply);
                if (r != 0)
                        return r;
                if (last)
                        return 0;
        }
}
