/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-server.c: unit tests for server.c, with real sockets and a real event loop. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "json-util.h"
#include "server.h"
#include "test.h"
#include "time-util.h"

static char socket_path[64];
static size_t n_calls;

/* test.server.Echo(x) -> (x); test.server.Big(size) -> (data: "aaa..."); test.server.Stream
 * subscribes; test.server.Silent answers nothing. */
static void handler(Server *s, Connection *c, const VarlinkCall *call, void *userdata) {
        json_object *p = json_object_new_object();
        int64_t size;

        n_calls++;
        if (streq(call->method, "test.server.Echo")) {
                json_object *x;

                if (json_object_object_get_ex(call->parameters, "x", &x))
                        json_add(p, "x", json_object_get(x));
                connection_reply(c, p);
        } else if (streq(call->method, "test.server.Big") &&
                   json_get_int64(call->parameters, "size", 0, 1 << 24, &size)) {
                char *data = malloc(size + 1);

                memset(data, 'a', size);
                data[size] = '\0';
                json_add(p, "data", json_object_new_string(data));
                free(data);
                connection_reply(c, p);
        } else if (streq(call->method, "test.server.Stream"))
                connection_subscribe(c, strdup("stream"), free);
        else if (!streq(call->method, "test.server.Silent"))
                connection_error(c, VARLINK_ERROR_METHOD_NOT_FOUND, NULL);
        json_object_put(p);
}

static void notify_one(Connection *c, void *subscription, void *userdata) {
        connection_notify(c, userdata);
}

static int client(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        ASSERT(fd >= 0);
        strcpy(sa.sun_path, socket_path);
        ASSERT_EQ(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

static void send_text(int fd, const char *text, size_t len) {
        ASSERT_EQ(send(fd, text, len, MSG_NOSIGNAL), (ssize_t) len);
}

#define SEND(fd, literal) send_text((fd), (literal), sizeof(literal))

typedef struct Reader {
        int fd;
        char *buf;
        size_t size, alloc;
        bool eof;
} Reader;

/* Runs the loop and reads until n messages are in, or EOF, or 5 s pass. Returns how many. */
static size_t read_messages(sd_event *e, Reader *r, size_t n) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;
        size_t have = 0;

        for (;;) {
                have = 0;
                for (size_t i = 0; i < r->size; i++)
                        have += r->buf[i] == '\0';
                if (have >= n || r->eof || now_usec(CLOCK_MONOTONIC) > end)
                        return have;
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
                for (;;) {
                        ssize_t k;

                        if (r->alloc - r->size < 65536) {
                                r->alloc = r->alloc * 2 + 65536;
                                r->buf = realloc(r->buf, r->alloc);
                                ASSERT(r->buf);
                        }
                        k = recv(r->fd, r->buf + r->size, r->alloc - r->size, 0);
                        if (k < 0 && errno == EAGAIN)
                                break;
                        if (k <= 0) {
                                r->eof = true;
                                break;
                        }
                        r->size += (size_t) k;
                }
        }
}

static void spin(sd_event *e, int n) {
        for (int i = 0; i < n; i++)
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
}

/* The i-th message read so far. */
static const char *message(Reader *r, size_t i) {
        const char *p = r->buf;

        while (i-- > 0)
                p += strlen(p) + 1;
        return p;
}

static void test_pipelining(sd_event *e) {
        Reader r = { .fd = client() };

        SEND(r.fd, "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":1}}\0"
                   "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":2},\"oneway\":true}\0"
                   "{\"method\":\"test.server.Nope\"}\0"
                   "{\"method\":\"test.server.Silent\"}\0"
                   "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":3}}");
        ASSERT_EQ_U(read_messages(e, &r, 4), 4);
        ASSERT_STREQ(message(&r, 0), "{\"parameters\":{\"x\":1}}");
        ASSERT_STREQ(message(&r, 1), "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{}}");
        ASSERT_STREQ(message(&r, 2), "{\"error\":\"org.varlink.service.MethodNotImplemented\",\"parameters\":"
                                     "{\"method\":\"test.server.Silent\"}}");
        ASSERT_STREQ(message(&r, 3), "{\"parameters\":{\"x\":3}}");
        ASSERT(!r.eof);
        close(r.fd);
        free(r.buf);
}

static void test_protocol_errors(sd_event *e) {
        static const struct {
                const char *text;
                size_t len;
                const char *reason;
        } cases[] = {
                { "{nope}", 7, "invalid JSON" },
                { "{\"method\":\"a.b.C\",\"parameters\":{\"x\":NaN}}", 42, "number is NaN, infinite or out of range" },
                { "\"just a string\"", 16, "message is not a JSON object" },
                { "{\"method\":\"x\"}", 15, "\\\"method\\\" is not a valid interface.Method name" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Reader r = { .fd = client() };
                char want[256];

                send_text(r.fd, cases[i].text, cases[i].len);
                ASSERT_EQ_U(read_messages(e, &r, 2), 1);
                ASSERT(r.eof);
                snprintf(want, sizeof(want), "{\"error\":\"io.execcount.ProtocolError\",\"parameters\":{\"reason\":\"%s\"}}",
                         cases[i].reason);
                ASSERT_STREQ(message(&r, 0), want);
                close(r.fd);
                free(r.buf);
        }

        /* The limit is on the message, its NUL not counted: 64 KiB pass, a byte more does
         * not. */
        for (size_t size = 65535; size <= 65537; size++) {
                Reader r = { .fd = client() };
                char *m = malloc(size + 1);
                const char *head = "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":1}";

                memset(m, ' ', size);
                memcpy(m, head, strlen(head));
                m[size - 1] = '}';
                m[size] = '\0';
                send_text(r.fd, m, size + 1);
                free(m);
                ASSERT_EQ_U(read_messages(e, &r, 1), 1);
                if (size <= 65536)
                        ASSERT_STREQ(message(&r, 0), "{\"parameters\":{\"x\":1}}");
                else
                        ASSERT(strstr(message(&r, 0), "message too large"));
                close(r.fd);
                free(r.buf);
        }

        /* More than the message limit without a NUL. */
        Reader r = { .fd = client() };
        char *junk = malloc(70000);

        memset(junk, ' ', 70000);
        junk[0] = '{';
        (void) send(r.fd, junk, 70000, MSG_NOSIGNAL);
        free(junk);
        ASSERT_EQ_U(read_messages(e, &r, 2), 1);
        ASSERT(r.eof);
        ASSERT(strstr(message(&r, 0), "message too large"));
        close(r.fd);
        free(r.buf);
}

/* A client that sends many calls before reading any reply gets every reply, in order,
 * while the server never holds much more than one reply for it. */
static void test_held_back_calls(sd_event *e) {
        Reader r = { .fd = client() };

        for (int i = 0; i < 100; i++)
                SEND(r.fd, "{\"method\":\"test.server.Big\",\"parameters\":{\"size\":100000}}");
        ASSERT_EQ_U(read_messages(e, &r, 100), 100);
        for (size_t i = 0; i < 100; i++)
                ASSERT_EQ_U(strlen(message(&r, i)), strlen("{\"parameters\":{\"data\":\"\"}}") + 100000);
        close(r.fd);
        free(r.buf);
}

/* A single reply may exceed the output limit; replies and notifications piling up behind
 * unread ones may not: the connection goes, the others stay. */
static void test_slow_reader(sd_event *e, Server *s) {
        Reader big = { .fd = client() }, slow = { .fd = client() }, other = { .fd = client() };
        json_object *p = json_object_new_object();
        char *data = malloc(100001);

        SEND(big.fd, "{\"method\":\"test.server.Big\",\"parameters\":{\"size\":3000000}}");
        ASSERT_EQ_U(read_messages(e, &big, 1), 1);
        ASSERT_EQ_U(strlen(message(&big, 0)), strlen("{\"parameters\":{\"data\":\"\"}}") + 3000000);

        SEND(slow.fd, "{\"method\":\"test.server.Stream\",\"more\":true}");
        SEND(other.fd, "{\"method\":\"test.server.Stream\",\"more\":true}");
        spin(e, 5);
        memset(data, 'b', 100000);
        data[100000] = '\0';
        json_add(p, "data", json_object_new_string(data));
        free(data);

        /* 50 notifications of 100 kB: 5 MB for each subscriber, against a 2 MB limit. */
        for (int i = 0; i < 50; i++) {
                server_foreach_subscriber(s, notify_one, p);
                ASSERT_EQ_U(read_messages(e, &other, (size_t) i + 1), (size_t) i + 1);
        }
        json_object_put(p);
        ASSERT(!other.eof);
        /* The slow one was cut off: it gets what was sent before, then EOF. */
        read_messages(e, &slow, 1000);
        ASSERT(slow.eof);
        ASSERT_EQ_U(server_n_connections(s), 2);
        close(big.fd);
        close(slow.fd);
        close(other.fd);
        free(big.buf);
        free(slow.buf);
        free(other.buf);
}

/* A subscriber that never reads, with its output well under max_output: once its socket
 * has taken nothing for stall_timeout, it is dropped; a reader next to it is not. */
static void test_stalled_reader(sd_event *e, Server *s, const ServerLimits *limits) {
        ServerLimits quick = *limits;
        Reader stalled = { .fd = client() }, other = { .fd = client() };
        json_object *p = json_object_new_object();
        char *data = malloc(20001);
        uint64_t end;

        quick.stall_timeout_usec = 200 * USEC_PER_MSEC;
        server_set_limits(s, &quick);
        SEND(stalled.fd, "{\"method\":\"test.server.Stream\",\"more\":true}");
        SEND(other.fd, "{\"method\":\"test.server.Stream\",\"more\":true}");
        spin(e, 50);
        memset(data, 'c', 20000);
        data[20000] = '\0';
        json_add(p, "data", json_object_new_string(data));
        free(data);

        /* 1 MB each: more than a socket buffer, half the output limit. */
        for (int i = 0; i < 50; i++) {
                server_foreach_subscriber(s, notify_one, p);
                ASSERT_EQ_U(read_messages(e, &other, (size_t) i + 1), (size_t) i + 1);
        }
        json_object_put(p);
        ASSERT_EQ_U(server_n_connections(s), 2);

        end = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (server_n_connections(s) > 1 && now_usec(CLOCK_MONOTONIC) < end)
                spin(e, 1);
        ASSERT_EQ_U(server_n_connections(s), 1);
        read_messages(e, &stalled, 1000);
        ASSERT(stalled.eof);
        ASSERT(!other.eof);
        server_set_limits(s, limits);
        close(stalled.fd);
        close(other.fd);
        free(stalled.buf);
        free(other.buf);
        spin(e, 5);
}

static void test_hangups(sd_event *e, Server *s) {
        Reader r = { .fd = client() };

        /* A whole call, then a half close: the answer still comes. */
        SEND(r.fd, "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":\"bye\"}}");
        ASSERT_EQ(shutdown(r.fd, SHUT_WR), 0);
        ASSERT_EQ_U(read_messages(e, &r, 2), 1);
        ASSERT(r.eof);
        ASSERT_STREQ(message(&r, 0), "{\"parameters\":{\"x\":\"bye\"}}");
        close(r.fd);
        free(r.buf);

        /* Clients that vanish before their answer cost nothing. */
        for (int i = 0; i < 20; i++) {
                int fd = client();

                SEND(fd, "{\"method\":\"test.server.Big\",\"parameters\":{\"size\":500000}}");
                close(fd);
        }
        spin(e, 20);
        ASSERT_EQ_U(server_n_connections(s), 0);
}

static void test_connection_limit(sd_event *e, Server *s) {
        Reader a = { .fd = client() }, b = { .fd = client() }, c = { .fd = client() };

        ASSERT_EQ_U(read_messages(e, &c, 1), 0);
        ASSERT(c.eof); /* the third is refused */
        ASSERT_EQ_U(server_n_connections(s), 2);
        SEND(b.fd, "{\"method\":\"test.server.Echo\"}");
        ASSERT_EQ_U(read_messages(e, &b, 1), 1);
        close(a.fd);
        close(b.fd);
        close(c.fd);
        free(b.buf);
        free(c.buf);
}

int main(void) {
        ServerLimits limits = {
                .max_connections = 4,
                .max_connections_per_uid = 4,
                .max_message_size = 64 * 1024,
                .max_output = 2 * 1024 * 1024,
                .stall_timeout_usec = 10 * 1000 * 1000,
        };
        char dir[] = "/tmp/test-server-XXXXXX";
        struct stat st;
        sd_event *e;
        Server *s;

        ASSERT(mkdtemp(dir));
        snprintf(socket_path, sizeof(socket_path), "%s/sub/io.test", dir);
        ASSERT(sd_event_new(&e) >= 0);
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, handler, NULL, &s), 0);
        ASSERT_EQ(stat(socket_path, &st), 0);
        /* World-connectable: peer credentials decide what each client may do. */
        ASSERT(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0666);

        /* A second server on a socket that answers is refused. */
        Server *s2;
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, handler, NULL, &s2), -EADDRINUSE);

        test_pipelining(e);
        test_protocol_errors(e);
        test_held_back_calls(e);
        test_slow_reader(e, s);
        test_stalled_reader(e, s, &limits);
        test_hangups(e, s);
        server_free(s);
        ASSERT_EQ(access(socket_path, F_OK), -1); /* removed with the server */

        /* A stale socket (no one listening) is replaced; a file that is not a socket is not. */
        limits.max_connections = 2;
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, handler, NULL, &s), 0);
        test_connection_limit(e, s);
        server_free(s);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, socket_path);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd);
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, handler, NULL, &s), 0);
        server_free(s);
        fd = open(socket_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ASSERT(fd >= 0);
        close(fd);
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, handler, NULL, &s), -EEXIST);

        ASSERT_EQ(unlink(socket_path), 0);
        *strrchr(socket_path, '/') = '\0';
        ASSERT_EQ(rmdir(socket_path), 0);
        ASSERT_EQ(rmdir(dir), 0);
        sd_event_unref(e);
        fprintf(stderr, "%zu calls handled\n", n_calls);
        return 0;
}
