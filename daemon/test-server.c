/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test-server.c: unit tests for server.c and connection.c, with real sockets and a real
 * event loop. Run as root, clients of other UIDs are real too: a child drops to the UID,
 * connects, and hands the connected socket back. */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json-util.h"
#include "protocol.h"
#include "server.h"
#include "test.h"
#include "time-util.h"

/* Clients of these UIDs, when the test runs as root; gid PRIVILEGED_GID makes one
 * privileged. */
#define UID_A 2700000001u
#define UID_B 2700000002u
#define PRIVILEGED_GID 2700000099u

static char socket_path[64];
static size_t n_calls, n_revoked;
static bool as_root;
static bool group_privileged = true;

/* A stream or a reply in parts: messages of size bytes, count of them (0: a stream that
 * writes whatever notify_all() hands it). */
typedef struct Producer {
        Connection *c;
        size_t size, count, written;
        size_t queued; /* a stream's messages waiting */
        size_t charged;
} Producer;

static size_t n_produced; /* parts written by Huge */

static void producer_free(void *p) {
        Producer *x = p;

        connection_uncharge(x->c, x->charged);
        free(x);
}

static int write_message(Connection *c, size_t size, bool continues) {
        Text t = {};
        char *p;

        text_add(&t, "{\"parameters\":{\"data\":\"");
        p = text_reserve(&t, size);
        if (p) {
                memset(p, 'd', size);
                t.len += size;
        }
        text_add(&t, continues ? "\"},\"continues\":true}" : "\"}}");
        text_add_char(&t, '\0');
        return connection_write_text(c, &t);
}

/* Huge: one reply of count parts of size bytes, written a part per turn. */
static int huge_produce(Connection *c, void *state) {
        Producer *x = state;
        Text t = {};
        char *p;

        if (x->written == 0)
                text_add(&t, "{\"parameters\":{\"data\":\"");
        p = text_reserve(&t, x->size);
        if (p) {
                memset(p, 'h', x->size);
                t.len += x->size;
        }
        if (++x->written == x->count)
                text_add_len(&t, "\"}}", 4);
        n_produced++;
        return connection_write_text(c, &t) < 0 ? -ENOBUFS : x->written < x->count ? PRODUCE_MORE : PRODUCE_DONE;
}

static int stream_produce(Connection *c, void *state) {
        Producer *x = state;

        while (x->queued > 0) {
                int r = write_message(c, x->size, true);

                if (r < 0)
                        return r;
                x->queued--;
                connection_uncharge(c, x->size);
                x->charged -= x->size;
        }
        return PRODUCE_WAIT;
}

/* Hands every stream one more message of its size: charged until written. */
static void push_one(Connection *c, void *state, void *userdata) {
        Producer *x = state;

        if (connection_charge(c, x->size) < 0) {
                connection_end(c, EXECCOUNT_ERROR_LIMIT, NULL);
                return;
        }
        x->charged += x->size;
        x->queued++;
        connection_wake(c);
}

/* test.server.Echo(x) -> (x); Big(size) -> (data: "aaa..."), one reply; Huge(size, count)
 * one reply written in count parts; Stream(size) streams what push_one() hands it;
 * Silent answers nothing. */
static void handler(Server *s, Connection *c, const VarlinkCall *call, void *userdata) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();
        int64_t size = 0, count = 0;

        n_calls++;
        (void) json_get_int64(call->parameters, "size", 0, 1 << 24, &size);
        (void) json_get_int64(call->parameters, "count", 0, 1 << 20, &count);
        if (streq(call->method, "test.server.Echo")) {
                json_object *x;

                if (json_object_object_get_ex(call->parameters, "x", &x))
                        json_add(p, "x", json_object_get(x));
                connection_reply(c, p);
        } else if (streq(call->method, "test.server.Big")) {
                char *data = malloc((size_t) size + 1);

                memset(data, 'a', (size_t) size);
                data[size] = '\0';
                json_add(p, "data", json_object_new_string(data));
                free(data);
                connection_reply(c, p);
        } else if (streq(call->method, "test.server.Huge") || streq(call->method, "test.server.Stream")) {
                bool stream = streq(call->method, "test.server.Stream");
                Producer *x = calloc(1, sizeof(*x));

                *x = (Producer) { .c = c, .size = (size_t) size, .count = (size_t) count };
                connection_produce(c, stream ? stream_produce : huge_produce, x, producer_free, stream);
        } else if (!streq(call->method, "test.server.Silent"))
                connection_error(c, VARLINK_ERROR_METHOD_NOT_FOUND, NULL);
}

/* Root (and test runs as root): any peer whose gid is PRIVILEGED_GID, while
 * group_privileged says so. */
static bool privileged(const struct ucred *peer, const gid_t *groups, size_t n_groups, void *userdata) {
        return peer->uid == 0 || (group_privileged && peer->gid == PRIVILEGED_GID);
}

static void revoked(Connection *c, void *userdata) {
        n_revoked++;
        connection_end(c, VARLINK_ERROR_PERMISSION_DENIED, NULL);
}

static int connect_to(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        ASSERT(fd >= 0);
        strcpy(sa.sun_path, socket_path);
        ASSERT_EQ(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

static int client(void) {
        return connect_to();
}

/* A client connected as uid (and gid): a child connects and passes the socket back. */
static int client_as(uid_t uid, gid_t gid) {
        int pair[2], fd = -1;
        char buf[CMSG_SPACE(sizeof(int))] = {}, x = 0;
        struct iovec iov = { &x, 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf) };
        pid_t pid;

        if (!as_root)
                return client();
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        pid = fork();
        ASSERT(pid >= 0);
        if (pid == 0) {
                struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

                if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
                        _exit(1);
                fd = connect_to();
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &fd, sizeof(int));
                _exit(sendmsg(pair[1], &mh, 0) == 1 ? 0 : 1);
        }
        close(pair[1]);
        ASSERT_EQ(recvmsg(pair[0], &mh, 0), 1);
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
        close(pair[0]);
        int status;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
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

static void reader_done(Reader *r) {
        if (r->fd >= 0)
                close(r->fd);
        free(r->buf);
        *r = (Reader) { .fd = -1 };
}

/* Reads what is there, without waiting. */
static void read_some(Reader *r) {
        for (;;) {
                ssize_t k;

                if (r->alloc - r->size < 65536) {
                        r->alloc = r->alloc * 2 + 65536;
                        r->buf = realloc(r->buf, r->alloc);
                        ASSERT(r->buf);
                }
                k = recv(r->fd, r->buf + r->size, r->alloc - r->size, MSG_DONTWAIT);
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) {
                        r->eof = true;
                        return;
                }
                r->size += (size_t) k;
        }
}

static size_t count_messages(const Reader *r) {
        size_t have = 0;

        for (size_t i = 0; i < r->size; i++)
                have += r->buf[i] == '\0';
        return have;
}

/* Runs the loop and reads until n messages are in, or EOF, or 5 s pass. Returns how many. */
static size_t read_messages(sd_event *e, Reader *r, size_t n) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;

        for (;;) {
                size_t have = count_messages(r);

                if (have >= n || r->eof || now_usec(CLOCK_MONOTONIC) > end)
                        return have;
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
                read_some(r);
        }
}

static void spin(sd_event *e, int n) {
        for (int i = 0; i < n; i++)
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
}

/* Runs the loop until pred() or 5 s. */
static bool spin_until(sd_event *e, bool (*pred)(Server *), Server *s) {
        uint64_t end = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;

        while (!pred(s) && now_usec(CLOCK_MONOTONIC) < end)
                spin(e, 1);
        return pred(s);
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
        reader_done(&r);
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
                reader_done(&r);
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
                reader_done(&r);
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
        reader_done(&r);
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
        reader_done(&r);
}

/* A reply written in parts takes turns with the others: a small call of another client
 * is answered long before it is done. */
static void test_turns(sd_event *e) {
        Reader big = { .fd = client_as(UID_A, UID_A) }, small = { .fd = client_as(UID_B, UID_B) };
        size_t produced_when_answered;

        n_produced = 0;
        SEND(big.fd, "{\"method\":\"test.server.Huge\",\"parameters\":{\"size\":65536,\"count\":160}}");
        spin(e, 3);
        SEND(small.fd, "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":\"quick\"}}");
        for (int i = 0; i < 100000 && count_messages(&small) == 0; i++) {
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
                read_some(&big);
                read_some(&small);
        }
        produced_when_answered = n_produced;
        ASSERT_STREQ(message(&small, 0), "{\"parameters\":{\"x\":\"quick\"}}");
        ASSERT(produced_when_answered < 40); /* of 160 parts of 64 KiB */
        while (count_messages(&big) == 0 && !big.eof) {
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
                read_some(&big);
        }
        ASSERT_EQ_U(strlen(message(&big, 0)), strlen("{\"parameters\":{\"data\":\"\"}}") + 160 * 65536);
        reader_done(&big);
        reader_done(&small);
}

static size_t n_connections_of(Server *s) {
        return server_n_connections(s);
}

static bool no_connections(Server *s) {
        return server_n_connections(s) == 0;
}

static void count_one(Connection *c, void *state, void *userdata) {
        (*(size_t *) userdata)++;
}

static size_t n_streams(Server *s) {
        size_t n = 0;

        server_foreach_stream(s, count_one, &n);
        return n;
}

static bool two_streams(Server *s) {
        return n_streams(s) == 2;
}

static bool one_stream(Server *s) {
        return n_streams(s) == 1;
}

/* Clients that keep their sockets full of pipelined calls do not keep anyone else
 * waiting: a new client is accepted and answered while most of their calls wait. (A sweep
 * on a defer source would run ahead of the listening socket until they were all done.) */
static void test_pipeline_flood(sd_event *e, Server *s) {
        Reader flood[16], late = { .fd = -1 };
        const char call[] = "{\"method\":\"test.server.Echo\",\"oneway\":true}";
        size_t calls = n_calls, sent = 0, answered;
        char *batch = malloc(60000), *p = batch;

        while (p + sizeof(call) < batch + 60000) {
                memcpy(p, call, sizeof(call));
                p += sizeof(call);
        }
        for (size_t i = 0; i < ELEMENTSOF(flood); i++) {
                ssize_t k;

                flood[i] = (Reader) { .fd = client_as(UID_A, UID_A) };
                k = send(flood[i].fd, batch, (size_t) (p - batch), MSG_NOSIGNAL | MSG_DONTWAIT);
                ASSERT(k > 0);
                sent += (size_t) k / sizeof(call);
        }
        spin(e, 3); /* they are taken, and their calls begin */
        late = (Reader) { .fd = client() };
        SEND(late.fd, "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":\"late\"}}");
        ASSERT_EQ_U(read_messages(e, &late, 1), 1);
        answered = n_calls - calls;
        ASSERT_STREQ(message(&late, 0), "{\"parameters\":{\"x\":\"late\"}}");
        /* Answered long before the flood's calls were all handled. */
        ASSERT(answered < sent / 10);
        free(batch);
        for (size_t i = 0; i < ELEMENTSOF(flood); i++)
                reader_done(&flood[i]);
        reader_done(&late);
        ASSERT(spin_until(e, no_connections, s));
}

/* Calls cost their UID's output allowance too: pipelined calls wait their turn. */
static void test_call_rate(sd_event *e, Server *s, const ServerLimits *limits) {
        ServerLimits slow = *limits;
        Reader r = { .fd = client_as(UID_B, UID_B) };
        uint64_t start;

        slow.output_rate_per_uid = 64 * 1024; /* 16 calls a second, at 4 KiB each */
        server_set_limits(s, &slow);
        start = now_usec(CLOCK_MONOTONIC);
        for (int i = 0; i < 20; i++)
                SEND(r.fd, "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":1}}");
        while (count_messages(&r) < 20 && !r.eof && now_usec(CLOCK_MONOTONIC) < start + 20 * USEC_PER_SEC) {
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
                read_some(&r);
        }
        ASSERT_EQ_U(count_messages(&r), 20);
        ASSERT(now_usec(CLOCK_MONOTONIC) - start >= 1000 * USEC_PER_MSEC);
        reader_done(&r);
        server_set_limits(s, limits);
        ASSERT(spin_until(e, no_connections, s));
}

/* A client that shuts down its sending side right after its call still gets the whole
 * reply, also one written in parts at its UID's output rate. */
static void test_half_close_in_parts(sd_event *e, Server *s, const ServerLimits *limits) {
        ServerLimits slow = *limits;
        Reader r = { .fd = client_as(UID_A, UID_A) };
        uint64_t end = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC;

        slow.output_rate_per_uid = 256 * 1024;
        server_set_limits(s, &slow);
        SEND(r.fd, "{\"method\":\"test.server.Huge\",\"parameters\":{\"size\":65536,\"count\":8}}");
        ASSERT_EQ(shutdown(r.fd, SHUT_WR), 0);
        while (!r.eof && now_usec(CLOCK_MONOTONIC) < end) {
                ASSERT(sd_event_run(e, 10 * USEC_PER_MSEC) >= 0);
                read_some(&r);
        }
        ASSERT(r.eof);
        ASSERT_EQ_U(count_messages(&r), 1);
        ASSERT_EQ_U(strlen(message(&r, 0)), strlen("{\"parameters\":{\"data\":\"\"}}") + 8 * 65536);
        reader_done(&r);
        server_set_limits(s, limits);
        ASSERT(spin_until(e, no_connections, s));
}

/* A stream that does not read loses it, with an error, once its UID holds its share;
 * another stream is not touched. */
static void test_stream_over_share(sd_event *e, Server *s) {
        Reader slow = { .fd = client_as(UID_A, UID_A) }, other = { .fd = client_as(UID_B, UID_B) };

        SEND(slow.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":100000}}");
        SEND(other.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":100000}}");
        ASSERT(spin_until(e, two_streams, s));
        /* 50 messages of 100 kB: 5 MB for each, against a 2 MB share. */
        for (int i = 0; i < 50; i++) {
                server_foreach_stream(s, push_one, NULL);
                ASSERT_EQ_U(read_messages(e, &other, (size_t) i + 1), (size_t) i + 1);
        }
        ASSERT(!other.eof);
        /* The slow one gets what was queued before, the error, then EOF. */
        read_messages(e, &slow, 1000);
        ASSERT(slow.eof);
        ASSERT(strstr(message(&slow, count_messages(&slow) - 1), "\"error\":\"io.execcount.LimitExceeded\""));
        ASSERT_EQ_U(n_connections_of(s), 1);
        reader_done(&slow);
        reader_done(&other);
        ASSERT(spin_until(e, no_connections, s));
}

/* A stream that never reads, with its output well under its share: once its socket has
 * taken nothing for stall_timeout, it is dropped; a reader next to it is not. */
static void test_stalled_reader(sd_event *e, Server *s, const ServerLimits *limits) {
        ServerLimits quick = *limits;
        Reader stalled = { .fd = client() }, other = { .fd = client() };
        uint64_t start, end;

        quick.stall_timeout_usec = 200 * USEC_PER_MSEC;
        server_set_limits(s, &quick);
        SEND(stalled.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":20000}}");
        SEND(other.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":20000}}");
        ASSERT(spin_until(e, two_streams, s));

        /* 1 MB each: more than a socket buffer, half the limit. */
        start = now_usec(CLOCK_MONOTONIC);
        for (int i = 0; i < 50; i++) {
                server_foreach_stream(s, push_one, NULL);
                ASSERT_EQ_U(read_messages(e, &other, (size_t) i + 1), (size_t) i + 1);
        }
        /* Not dropped before its stall timeout: which only a quick enough machine shows
         * (under the sanitizers, on a busy one, the pushes alone can take longer). */
        if (now_usec(CLOCK_MONOTONIC) - start < quick.stall_timeout_usec)
                ASSERT_EQ_U(server_n_connections(s), 2);

        end = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (server_n_connections(s) > 1 && now_usec(CLOCK_MONOTONIC) < end)
                spin(e, 1);
        ASSERT_EQ_U(server_n_connections(s), 1);
        read_messages(e, &stalled, 1000);
        ASSERT(stalled.eof);
        ASSERT(!other.eof);
        server_set_limits(s, limits);
        reader_done(&stalled);
        reader_done(&other);
        ASSERT(spin_until(e, no_connections, s));
}

static void test_hangups(sd_event *e, Server *s) {
        Reader r = { .fd = client() };
        size_t calls;

        /* A whole call, then a half close: the answer still comes. */
        SEND(r.fd, "{\"method\":\"test.server.Echo\",\"parameters\":{\"x\":\"bye\"}}");
        ASSERT_EQ(shutdown(r.fd, SHUT_WR), 0);
        ASSERT_EQ_U(read_messages(e, &r, 2), 1);
        ASSERT(r.eof);
        ASSERT_STREQ(message(&r, 0), "{\"parameters\":{\"x\":\"bye\"}}");
        reader_done(&r);

        /* Clients that vanish before their answer cost nothing: their calls are never
         * handled. */
        calls = n_calls;
        for (int i = 0; i < 20; i++) {
                int fd = client();

                SEND(fd, "{\"method\":\"test.server.Big\",\"parameters\":{\"size\":500000}}");
                close(fd);
        }
        ASSERT(spin_until(e, no_connections, s));
        ASSERT_EQ_U(n_calls, calls);
}

/* The whole buffer budget is used up: a UID that holds little gets memory back from the
 * one that holds the most, whose biggest client goes. */
static void test_budget_fairness(sd_event *e, Server *s, const ServerLimits *limits) {
        ServerLimits tight = *limits;
        Reader hog = { .fd = client_as(UID_A, UID_A) }, fair = { .fd = client_as(UID_B, UID_B) };

        if (!as_root) /* both would be of the same UID */
                return;
        tight.max_buffer = 1024 * 1024;
        tight.max_buffer_per_uid = 1024 * 1024;
        server_set_limits(s, &tight);
        SEND(hog.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":200000}}");
        SEND(fair.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":200000}}");
        ASSERT(spin_until(e, two_streams, s));
        /* The hog reads nothing: after its socket, about 1 MB is held for it. */
        for (int i = 0; i < 6; i++) {
                server_foreach_stream(s, push_one, NULL);
                ASSERT_EQ_U(read_messages(e, &fair, (size_t) i + 1), (size_t) i + 1);
        }
        ASSERT(!fair.eof);
        read_messages(e, &hog, 1000);
        ASSERT(hog.eof);
        server_set_limits(s, limits);
        reader_done(&hog);
        reader_done(&fair);
        ASSERT(spin_until(e, no_connections, s));
}

/* Root always gets a place; the others within MaxClients=, MaxClientsPerUID=, and the
 * reserved places for privileged clients; a client idle for a second makes room. */
static void test_places(sd_event *e, Server *s, const ServerLimits *limits) {
        ServerLimits few = *limits;
        Reader a1, a2, b, p, root, late;
        ServerStats st;

        if (!as_root)
                return;
        few.max_connections = 3;
        few.reserved_connections = 1;
        few.max_connections_per_uid = 2;
        server_set_limits(s, &few);

        a1 = (Reader) { .fd = client_as(UID_A, UID_A) };
        a2 = (Reader) { .fd = client_as(UID_A, UID_A) };
        SEND(a1.fd, "{\"method\":\"test.server.Echo\"}");
        SEND(a2.fd, "{\"method\":\"test.server.Echo\"}");
        ASSERT_EQ_U(read_messages(e, &a1, 1), 1);
        ASSERT_EQ_U(read_messages(e, &a2, 1), 1);
        /* A third of UID A: over MaxClientsPerUID=. */
        late = (Reader) { .fd = client_as(UID_A, UID_A) };
        ASSERT_EQ_U(read_messages(e, &late, 1), 0);
        ASSERT(late.eof);
        reader_done(&late);
        /* UID B, unprivileged: the last place is reserved. But a1 and a2 have been idle
         * for a second: one makes room. */
        b = (Reader) { .fd = client_as(UID_B, UID_B) };
        spin(e, 5);
        ASSERT_EQ_U(server_n_connections(s), 2);
        reader_done(&b);
        usleep(1100 * 1000);
        b = (Reader) { .fd = client_as(UID_B, UID_B) };
        SEND(b.fd, "{\"method\":\"test.server.Echo\"}");
        ASSERT_EQ_U(read_messages(e, &b, 1), 1);
        ASSERT(!b.eof);
        read_some(&a1);
        read_some(&a2);
        ASSERT(a1.eof != a2.eof); /* one of them went */
        /* A privileged client takes the reserved place; root comes on top of all. */
        p = (Reader) { .fd = client_as(UID_B + 1, PRIVILEGED_GID) };
        SEND(p.fd, "{\"method\":\"test.server.Echo\"}");
        ASSERT_EQ_U(read_messages(e, &p, 1), 1);
        root = (Reader) { .fd = client() };
        SEND(root.fd, "{\"method\":\"test.server.Echo\"}");
        ASSERT_EQ_U(read_messages(e, &root, 1), 1);
        ASSERT_EQ_U(server_n_connections(s), 4);
        server_get_stats(s, &st);
        ASSERT(st.refused >= 2 && st.dropped >= 1);

        /* Revoked privilege: the client's stream ends with PermissionDenied. */
        SEND(p.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":10}}");
        ASSERT(spin_until(e, one_stream, s));
        group_privileged = false;
        server_reclassify(s);
        group_privileged = true;
        ASSERT_EQ_U(n_revoked, 1);
        ASSERT_EQ_U(read_messages(e, &p, 3), 2);
        ASSERT(p.eof);
        ASSERT(strstr(message(&p, 1), "PermissionDenied"));

        reader_done(&a1);
        reader_done(&a2);
        reader_done(&b);
        reader_done(&p);
        reader_done(&root);
        server_set_limits(s, limits);
        ASSERT(spin_until(e, no_connections, s));
}

/* A client that calls nothing for idle_timeout is closed; one that streams is not. */
static void test_idle_timeout(sd_event *e, Server *s, const ServerLimits *limits) {
        ServerLimits quick = *limits;
        Reader idle = { .fd = client() }, streaming = { .fd = client() };

        quick.idle_timeout_usec = 300 * USEC_PER_MSEC;
        server_set_limits(s, &quick);
        SEND(streaming.fd, "{\"method\":\"test.server.Stream\",\"more\":true,\"parameters\":{\"size\":10}}");
        SEND(idle.fd, "{\"method\":\"test.server.Echo\"}");
        ASSERT_EQ_U(read_messages(e, &idle, 2), 1);
        ASSERT(idle.eof); /* within the 5 s read_messages() waits at most */
        read_some(&streaming);
        ASSERT(!streaming.eof);
        ASSERT_EQ_U(server_n_connections(s), 1);
        reader_done(&idle);
        reader_done(&streaming);
        server_set_limits(s, limits);
        ASSERT(spin_until(e, no_connections, s));
}

int main(void) {
        ServerLimits limits = {
                .max_connections = 64,
                .reserved_connections = 0,
                .max_connections_per_uid = 64,
                .max_message_size = 64 * 1024,
                .max_buffer = 64 * 1024 * 1024,
                .max_buffer_per_uid = 2 * 1024 * 1024,
                .stall_timeout_usec = 10 * 1000 * 1000,
        };
        ServerCallbacks callbacks = { .handler = handler, .privileged = privileged, .revoked = revoked };
        char dir[] = "/tmp/test-server-XXXXXX", sub[64];
        struct stat st;
        sd_event *e;
        Server *s;

        as_root = geteuid() == 0;
        ASSERT(mkdtemp(dir));
        ASSERT_EQ(chmod(dir, 0755), 0);
        snprintf(socket_path, sizeof(socket_path), "%s/sub/io.test", dir);
        ASSERT(sd_event_new(&e) >= 0);
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, &callbacks, &s), 0);
        ASSERT_EQ(stat(socket_path, &st), 0);
        /* World-connectable: peer credentials decide what each client may do. */
        ASSERT(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0666);
        /* Clients of other UIDs must reach it. */
        snprintf(sub, sizeof(sub), "%s/sub", dir);
        ASSERT_EQ(chmod(sub, 0755), 0);

        /* A second server on a socket that answers is refused. */
        Server *s2;
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, &callbacks, &s2), -EADDRINUSE);

        test_pipelining(e);
        test_protocol_errors(e);
        test_held_back_calls(e);
        test_turns(e);
        test_half_close_in_parts(e, s, &limits);
        test_pipeline_flood(e, s);
        test_call_rate(e, s, &limits);
        test_stream_over_share(e, s);
        test_stalled_reader(e, s, &limits);
        test_hangups(e, s);
        test_budget_fairness(e, s, &limits);
        test_places(e, s, &limits);
        test_idle_timeout(e, s, &limits);
        server_free(s);
        ASSERT_EQ(access(socket_path, F_OK), -1); /* removed with the server */

        /* A stale socket (no one listening) is replaced; a file that is not a socket is not. */
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, &callbacks, &s), 0);
        server_free(s);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, socket_path);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd);
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, &callbacks, &s), 0);
        server_free(s);
        fd = open(socket_path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        ASSERT(fd >= 0);
        close(fd);
        ASSERT_EQ(server_new(e, socket_path, -1, &limits, &callbacks, &s), -EEXIST);

        ASSERT_EQ(unlink(socket_path), 0);
        *strrchr(socket_path, '/') = '\0';
        ASSERT_EQ(rmdir(socket_path), 0);
        ASSERT_EQ(rmdir(dir), 0);
        sd_event_unref(e);
        fprintf(stderr, "%zu calls handled\n", n_calls);
        return 0;
}
