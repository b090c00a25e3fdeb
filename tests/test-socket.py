#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-socket.py: who sees what on execcountd's socket, and clients that misbehave.

    test-socket.py EXECCOUNTD EXECCOUNTCTL EXECLOAD NOOP

Clients of other users are real: forked children that drop to a UID (and groups) of
their own before they connect, without an exec of their own, so that the counts they
query stay exact. execcountctl runs as those users too, for its one-line errors.
"""

import grp
import json
import os
import re
import resource
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib  # noqa: E402
from daemonlib import Daemon, Varlink, exec_missing, exec_ok, expect, fail, new_uid, wait_for  # noqa: E402

EXECLOAD, NOOP = sys.argv[3:5]
DENIED = "org.varlink.service.PermissionDenied"


def access_group():
    """An existing group other than root's, to be the access group."""
    for g in sorted(grp.getgrall(), key=lambda g: g.gr_gid):
        if g.gr_gid != 0 and g.gr_name.isidentifier():
            return g
    raise AssertionError("no group to test with")


def as_user(uid, fn, groups=(), gid=None):
    """Runs fn() in a forked child as uid (gid uid unless given, the given supplementary
    groups) and returns what it returns (JSON-serialisable)."""
    return as_user_async(uid, fn, groups, gid)()


def as_user_async(uid, fn, groups=(), gid=None):
    """Like as_user(), in the background: returns the function that waits for the result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups(list(groups))
            os.setgid(uid if gid is None else gid)
            os.setuid(uid)
            out = json.dumps({"ok": fn()})
        except BaseException as e:  # noqa: B902 - everything goes back to the parent
            out = json.dumps({"error": repr(e)})
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)

    def result():
        data = b""
        while chunk := os.read(r, 1 << 16):
            data += chunk
        os.close(r)
        os.waitpid(pid, 0)
        res = json.loads(data)
        expect("ok" in res, f"client as UID {uid} failed: {res.get('error')}")
        return res["ok"]
    return result


def calls(d, *requests):
    """A function that makes the calls on one connection and returns the replies."""
    def fn():
        v = Varlink(d.socket)
        try:
            return [v.call(method, params) for method, params in requests]
        finally:
            v.close()
    return fn


def ctl_as(d, uid, *args):
    return subprocess.run([daemonlib.EXECCOUNTCTL, "--socket", d.socket, "--no-pager", *args], user=uid, group=uid,
                          extra_groups=[], capture_output=True, text=True, timeout=30)


# ---- Who sees what

def test_own_uid_only(d, g):
    a, b = new_uid(), new_uid()
    exec_ok(a, 3)
    exec_missing(a, 1)
    exec_ok(b, 2)

    stats, one, other, events, status = as_user(a, calls(
        d, ("io.execcount.GetStats", None), ("io.execcount.GetStats", {"uid": a}),
        ("io.execcount.GetStats", {"uid": b}), ("io.execcount.GetEvents", None), ("io.execcount.GetStatus", None)))
    p = stats["parameters"]
    expect(p["access"] == "own" and [(u["uid"], u["execs"], u["failed"]) for u in p["users"]] == [(a, 3, 1)],
           f"UID {a} sees only its own counts: {p}")
    expect("map_full_execs" not in p, f"nor what the full map counted of others: {p}")
    expect(one["parameters"]["users"] == p["users"], f"its own UID by name: {one}")
    expect(other.get("error") == DENIED, f"another UID's counts: {other}")
    evs = events["parameters"]["events"]
    expect(len(evs) == 4 and all(e["uid"] == a for e in evs), f"only its own events: {evs}")
    s = status["parameters"]
    expect(s["access"] == "own" and s["access_group"] == g.gr_name, f"status access: {s}")
    for k in ("total_execs", "total_failed", "map_entries", "events_received", "history_events"):
        expect(k not in s, f"no totals over other users in GetStatus: {k} in {s}")
    expect(s["boot_id"] and s["probe_mode"], "the daemon's own state is for everyone")

    # Root sees both, and the totals.
    root = d.call("io.execcount.GetStats")
    uids = {u["uid"] for u in root["users"]}
    expect(root["access"] == "all" and {a, b} <= uids and "map_full_execs" in root, f"root: {root['access']}")
    expect("total_execs" in d.call("io.execcount.GetStatus"), "root gets the totals")


def test_group_member(d, g):
    a, m = new_uid(), new_uid()
    exec_ok(a, 2)
    stats, status, reset = as_user(m, calls(d, ("io.execcount.GetStats", {"uid": a}), ("io.execcount.GetStatus", None),
                                            ("io.execcount.Reset", {"uid": a})), groups=[g.gr_gid])
    expect(stats["parameters"]["access"] == "all" and stats["parameters"]["users"][0]["execs"] == 2,
           f"a member of {g.gr_name} sees UID {a}: {stats}")
    expect(status["parameters"]["access"] == "all" and "total_execs" in status["parameters"], "and the totals")
    expect(reset.get("error") == DENIED, f"but may not reset: {reset}")
    expect(d.ctl_json("stats", "--uid", str(a))["users"][0]["execs"] == 2, "nothing was reset")
    # The group as primary group counts as much as a supplementary one.
    (stats,) = as_user(new_uid(), calls(d, ("io.execcount.GetStats", None)), gid=g.gr_gid)
    expect(stats["parameters"]["access"] == "all", f"member by primary group: {stats}")


def test_watch_own_only(d):
    a, b = new_uid(), new_uid()

    def watch():
        v = Varlink(d.socket)
        v.call_raw("io.execcount.Watch", {}, more=True)
        os.write(ready_w, b"x")
        first = v.reply()
        v.close()
        return first

    ready_r, ready_w = os.pipe()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.setgroups([])
        os.setgid(a)
        os.setuid(a)
        try:
            out = json.dumps(watch())
        except BaseException as e:  # noqa: B902
            out = json.dumps({"error": repr(e)})
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    os.close(ready_w)
    expect(os.read(ready_r, 1) == b"x", "the watcher started")
    os.close(ready_r)
    time.sleep(0.2)
    exec_ok(b, 2)  # not for a's eyes
    exec_missing(b, 1)
    exec_ok(a, 1)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.waitpid(pid, 0)
    first = json.loads(data)
    expect(first.get("parameters", {}).get("event", {}).get("uid") == a,
           f"the first event UID {a} watches is its own, not UID {b}'s: {first}")
    denied = as_user(a, calls(d, ("io.execcount.Watch", {"uid": b})))[0]
    expect(denied.get("error") == DENIED, f"watching another UID: {denied}")


def churn_watch(d, uid):
    """A Watch stream of uid's opened and closed over and over, in the background, until
    the returned function is called; that returns how many came and went. Returns once
    20 have, however slow the machine: the churn is under way."""
    stop_r, stop_w = os.pipe()
    ready_r, ready_w = os.pipe()

    def churn():
        os.close(stop_w)
        os.close(ready_r)
        os.set_blocking(stop_r, False)
        n = 0
        while True:
            if n == 20:
                os.write(ready_w, b"x")
            try:
                os.read(stop_r, 1)
                return n  # told to stop, or the parent is gone
            except BlockingIOError:
                pass
            v = Varlink(d.socket)
            v.call_raw("io.execcount.Watch", {}, more=True)
            time.sleep(0.01)
            v.close()
            n += 1

    result = as_user_async(uid, churn)
    os.close(stop_r)
    os.close(ready_w)
    ready = select.select([ready_r], [], [], 60)[0]
    os.close(ready_r)
    if not ready:
        os.write(stop_w, b"x")
        os.close(stop_w)
        fail(f"UID {uid}'s streams did not come and go 20 times within 60 s: {result()}")

    def stop():
        os.write(stop_w, b"x")
        os.close(stop_w)
        n = result()
        expect(n >= 20, f"UID {uid}'s streams came and went ({n} times)")
        return n
    return stop


def test_watch_churn(d):
    """A Watch stream opened and closed over and over, by another user, beside a lasting
    one: the lasting stream's events still come at FlushIntervalSec=, not only once the
    churn stops (each stream that came and went used to restart the drain timer)."""
    a = new_uid()
    v = Varlink(d.socket)
    v.call_raw("io.execcount.Watch", {"uid": a}, more=True)
    stop = churn_watch(d, new_uid())
    got = []
    try:
        exec_ok(a, 3)
        v.sock.settimeout(5)
        while len(got) < 3:
            got.append(v.reply())
    except TimeoutError:
        pass
    finally:
        stop()  # only now: what came, came while the churn went on
        v.close()
    expect([e.get("parameters", {}).get("event", {}).get("uid") for e in got] == [a] * 3,
           f"the lasting stream got UID {a}'s 3 execs within 5 s, during the churn: {got}")


def test_journal_churn(tmp):
    """LogExecs=yes and nobody watching: one user's Watch streams coming and going (the
    first and the last, over and over) do not hold back another user's journal entries."""
    path = os.path.join(tmp, "journal-churn")
    os.mkdir(path)
    d = Daemon(path, "[Journal]\nLogExecs=yes\n")
    a = new_uid()
    try:
        stop = churn_watch(d, new_uid())
        try:
            exec_ok(a, 3)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and d.read_log().count(f"UID {a} ran /bin/true") < 3:
                time.sleep(0.05)
            logged = d.read_log().count(f"UID {a} ran /bin/true")
        finally:
            stop()  # only now: what was logged, was logged while the churn went on
        expect(logged == 3, f"UID {a}'s 3 execs in the journal within 5 s, during the churn: {logged}")
    finally:
        d.stop()


def test_changes_root_only(d):
    a = new_uid()
    exec_ok(a, 1)
    for method, params in (("io.execcount.Reset", None), ("io.execcount.Reset", {"uid": a}),
                           ("io.execcount.Reload", None)):
        (r,) = as_user(a, calls(d, (method, params)))
        expect(r.get("error") == DENIED, f"{method}({params}) by UID {a}: {r}")
    expect(d.ctl_json("stats", "--uid", str(a))["users"][0]["execs"] == 1, "nothing was reset")
    expect("Refused a reset to client" in d.read_log(), "refusals are logged")


def test_ctl_messages(d):
    a, b = new_uid(), new_uid()
    exec_ok(b, 1)
    p = ctl_as(d, a, "stats", "--uid", str(b))
    expect(p.returncode == 1 and p.stderr.count("\n") == 1 and "Only root and the members" in p.stderr,
           f"stats --uid of another user: {p.returncode} {p.stderr!r}")
    p = ctl_as(d, a, "reset")
    expect(p.returncode == 1 and p.stderr == "execcountctl: Only root may reset counts; run: sudo execcountctl reset\n",
           f"reset: {p.returncode} {p.stderr!r}")
    p = ctl_as(d, a, "reload")
    expect(p.returncode == 1 and p.stderr.count("\n") == 1 and "Only root may reload" in p.stderr, f"reload: {p}")
    p = ctl_as(d, a, "stats")
    # The execcountctl runs so far are this UID's own execs.
    expect(p.returncode == 0 and "Only your own UID is shown" in p.stdout and str(b) not in p.stdout,
           f"stats as a user:\n{p.stdout}")
    p = ctl_as(d, a, "status")
    expect(p.returncode == 0 and "Totals: only for root and the members of group" in p.stdout, p.stdout)


def test_group_reload(d, g):
    m = new_uid()
    # A member of the group watching every UID: when the group is taken away, the stream
    # ends with PermissionDenied, and no other UID's event reaches it any more.
    ready_r, ready_w = os.pipe()
    gone_r, gone_w = os.pipe()

    def watch_all():
        v = Varlink(d.socket)
        v.call_raw("io.execcount.Watch", {}, more=True)
        os.write(ready_w, b"x")
        os.read(gone_r, 1)  # the group is gone now
        replies = []
        while True:
            r = v.reply()
            replies.append(r)
            if not r.get("continues"):
                break
        return {"last": replies[-1], "closed": v.closed(), "n": len(replies)}
    watcher = as_user_async(m, watch_all, groups=[g.gr_gid])
    expect(os.read(ready_r, 1) == b"x", "the watcher is streaming")
    time.sleep(0.2)
    with open(d.config, "a") as f:
        f.write("\n[Access]\nGroup=\n")
    d.ctl("reload")
    exec_ok(new_uid(), 1)  # another UID's exec, after the reload
    os.write(gone_w, b"x")
    got = watcher()
    expect(got["last"].get("error") == DENIED and got["closed"],
           f"the stream of every UID's events ends at the reload: {got}")
    expect("is no longer in the access group" in d.read_log(), "logged")
    for fd in (ready_r, ready_w, gone_r, gone_w):
        os.close(fd)
    (r,) = as_user(m, calls(d, ("io.execcount.GetStatus", None)), groups=[g.gr_gid])
    expect(r["parameters"]["access"] == "own" and "access_group" not in r["parameters"],
           f"Group= empty: root only: {r}")
    with open(d.config, "a") as f:
        f.write(f"\n[Access]\nGroup={g.gr_name}\n")
    d.ctl("reload")
    (r,) = as_user(m, calls(d, ("io.execcount.GetStatus", None)), groups=[g.gr_gid])
    expect(r["parameters"]["access"] == "all", f"Group={g.gr_name} again: {r}")


# ---- Clients that misbehave

def raise_fd_limit(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


def test_huge_message(d):
    v = d.varlink()
    try:
        v.send(b'{"method":"io.execcount.GetStats","parameters":{"x":"' + b"a" * (1 << 20) + b'"}}\0')
    except OSError:
        pass  # the daemon may close before it has taken it all
    r = v.reply()
    expect(r["error"] == "io.execcount.ProtocolError" and "too large" in r["parameters"]["reason"], f"1 MiB: {r}")
    expect(v.closed(), "closed after a 1 MiB message")
    expect("users" in d.call("io.execcount.GetStats"), "a normal client is served")


def test_idle_connections(d):
    raise_fd_limit(2048)
    idle = []
    try:
        for _ in range(500):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.socket)
            idle.append(s)
        a = new_uid()
        exec_ok(a, 3)
        wait_for(lambda: d.call("io.execcount.GetStatus")["clients"] >= 501, "500 idle clients to be taken")
        got = d.ctl_json("stats", "--uid", str(a))["users"]
        expect(got and got[0]["execs"] == 3, f"correct answers next to 500 idle clients: {got}")
        # One user cannot take every place: MaxClientsPerUID= (64) is the limit per UID.
        u = new_uid()

        def per_uid():
            held, refused = [], 0
            for _ in range(70):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(5)
                s.connect(d.socket)  # the kernel accepts; the daemon closes what is too many
                held.append(s)
            for s in held:
                try:
                    s.sendall(b'{"method":"org.varlink.service.GetInfo"}\0')
                    refused += s.recv(65536) == b""
                except (BrokenPipeError, ConnectionResetError):
                    refused += 1
            return refused
        expect(as_user(u, per_uid) == 6, "UID over MaxClientsPerUID=64: 6 of 70 refused")
        (r,) = as_user(new_uid(), calls(d, ("io.execcount.GetStats", None)))
        expect(r["parameters"]["access"] == "own", f"another user is still served: {r}")
        # Every refusal is reported: the first at once, the others in the next aggregate.
        def refused_of_u():
            return sum(int(n) for n in re.findall(rf"Refused \d+ clients \([^)]*\) of [^\n]*\bUID {u}: (\d+)",
                                                  d.read_log()))
        wait_for(lambda: refused_of_u() == 6, f"6 refusals of UID {u} in the log", timeout=15)
        expect("MaxClientsPerUID=: " in d.read_log(), "with the reason")
    finally:
        for s in idle:
            s.close()
    wait_for(lambda: d.call("io.execcount.GetStatus")["clients"] == 1, "the idle clients to be gone")


def reply_parts(v, what):
    """The replies to a call with "more", up to the one that does not continue."""
    parts = []
    while True:
        r = v.reply()
        expect("error" not in r, f"{what}: {r}")
        parts.append(r)
        if not r.get("continues"):
            return parts


def test_stats_in_parts(d):
    """GetStats with "more": the users come in replies of at most 2048, each complete but
    for the others' users; together exactly what one reply holds. Calls sent behind it
    wait for its last part."""
    first = new_uid() + 10000
    subprocess.run([EXECLOAD, "--each-uid=2500", f"--uid={first}"], check=True, stdout=subprocess.DEVNULL)
    whole = d.call("io.execcount.GetStats")
    expect(len(whole["users"]) >= 2501, f"one reply holds every UID: {len(whole['users'])}")
    v = d.varlink()
    v.send(json.dumps({"method": "io.execcount.GetStats", "more": True}).encode() + b"\0" +
           json.dumps({"method": "io.execcount.GetStatus"}).encode() + b"\0")
    parts = reply_parts(v, "a part")
    expect(len(parts) >= 2 and all(len(p["parameters"]["users"]) <= 2048 for p in parts),
           f"in parts of at most 2048: {[len(p['parameters']['users']) for p in parts]}")
    expect(all(p["parameters"]["since_usec"] == whole["since_usec"] and p["parameters"]["access"] == "all"
               for p in parts), "every part is a complete reply")
    uids = [u["uid"] for p in parts for u in p["parameters"]["users"]]
    expect(uids == sorted(uids), "ordered by UID, across the parts too")
    expect(len(uids) == len(set(uids)) and set(uids) >= {u["uid"] for u in whole["users"]},
           f"every UID once: {len(uids)} in parts, {len(set(uids))} distinct, {len(whole['users'])} in one reply")
    mine = {u["uid"]: (u["execs"], u["failed"]) for p in parts for u in p["parameters"]["users"] if u["uid"] >= first}
    expect(len(mine) == 2500 and set(mine.values()) == {(0, 1)},
           f"each of the 2500 UIDs made one failed exec: {len(mine)}, {set(mine.values())}")
    status = v.reply()
    expect("uptime_usec" in status["parameters"], f"the call behind it is answered after: {status}")
    expect(all("columns" not in p["parameters"] for p in parts), "a client that does not ask gets no columns")

    # With columns, in parts and whole (written a chunk at a time): the same users as the
    # objects, member for member, and users empty.
    fields = ("uid", "execs", "failed", "events_throttled", "last_exec_usec", "privileged")

    def rows(params):
        c = params["columns"]
        expect(params["users"] == [] and set(c) == set(fields) and len({len(c[f]) for f in fields}) == 1,
               f"columns, one per member, of one length: {sorted(c)}")
        return [dict(zip(fields, values)) for values in zip(*(c[f] for f in fields))]

    def quiet(users):  # this test's UIDs: no other exec changes their counts
        return {u["uid"]: u for u in users if first <= u["uid"] < first + 2500}

    v.call_raw("io.execcount.GetStats", {"columns": True}, more=True)
    col_parts = reply_parts(v, "a part in columns")
    expect(len(col_parts) >= 2 and all(len(rows(p["parameters"])) <= 2048 for p in col_parts),
           f"columns in parts of at most 2048: {len(col_parts)}")
    expect(all({k: x for k, x in p["parameters"].items() if k not in ("users", "columns")} ==
               {k: x for k, x in parts[0]["parameters"].items() if k != "users"} for p in col_parts),
           "the same tail in every part")
    col_users = [u for p in col_parts for u in rows(p["parameters"])]
    expect([u["uid"] for u in col_users] == sorted(u["uid"] for u in col_users), "columns ordered by UID")
    objects = [u for p in parts for u in p["parameters"]["users"]]
    expect(quiet(col_users) == quiet(objects) and len(quiet(col_users)) == 2500,
           "columns hold what the objects held")
    whole_cols = rows(v.call("io.execcount.GetStats", {"columns": True})["parameters"])
    expect(quiet(whole_cols) == quiet(objects), "columns in one reply, written in chunks, hold the same")
    expect(rows(v.call("io.execcount.GetStats", {"columns": True, "uid": first})["parameters"]) ==
           [quiet(objects)[first]], "columns of one UID")
    off = v.call("io.execcount.GetStats", {"columns": False})["parameters"]
    expect("columns" not in off and len(quiet(off["users"])) == 2500, "columns false: the objects")
    got = d.ctl_json("stats")["users"]
    expect(len(got) >= 2501 and sum(1 for u in got if u["uid"] >= first) == 2500,
           f"execcountctl stats reads the parts: {len(got)}")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_out_of_fds(d):
    """No file descriptor left for a new client: the daemon pauses accepting rather than
    spinning on a socket that stays readable, and serves again once fds are free."""
    pid = d.proc.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    waiting = []
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (len(os.listdir(f"/proc/{pid}/fd")), hard))
        for _ in range(40):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.socket)  # into the listen backlog: the daemon cannot take it
            waiting.append(s)
        wait_for(lambda: "out of file descriptors" in d.read_log(), "the daemon to hit its fd limit")
        before, ticks = cpu_ticks(pid), os.sysconf("SC_CLK_TCK")
        time.sleep(3)
        used = (cpu_ticks(pid) - before) / ticks
        expect(used < 0.75, f"the daemon spun on the listening socket: {used:.2f} s of CPU in 3 s")
    finally:
        for s in waiting:
            s.close()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
    expect("users" in d.call("io.execcount.GetStats"), "a client is served again")


def test_watcher_never_reads(d):
    """A Watch client that reads nothing: its output piles up to the socket's limit, the
    daemon serves everyone else exactly, then drops it: once it has taken nothing for the
    stall timeout (10 s), or, on a machine whose other programs exec a lot, once what it
    left unread reaches its buffer limit, whichever comes first."""
    a = new_uid()
    log_start = len(d.read_log())
    w = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    w.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    w.connect(d.socket)
    w.sendall(b'{"method":"io.execcount.Watch","more":true}\0')
    time.sleep(0.2)
    load = subprocess.run([EXECLOAD, "--workers=2", "--count=1500", f"--uid={a}", f"--program={NOOP}", "--json"],
                          capture_output=True, text=True, timeout=300)
    made = json.loads(load.stdout)
    got = d.ctl_json("stats", "--uid", str(a))["users"][0]
    expect(got["execs"] == made["execs"] == 3000, f"exact while a watcher stalls: {got} of {made}")
    rss_kib = int(next(line.split()[1] for line in open(f"/proc/{d.proc.pid}/status")
                       if line.startswith("VmRSS:")))
    reasons = {"it has not read its replies for": "the stall timeout",
               "loses what it was being sent": "its buffer limit"}
    wait_for(lambda: any(r in d.read_log()[log_start:] for r in reasons), "the stalled watcher to be dropped",
             timeout=20)
    why = [name for r, name in reasons.items() if r in d.read_log()[log_start:]]
    wait_for(lambda: d.call("io.execcount.GetStatus")["clients"] == 1, "the watcher to be gone, only this call left",
             timeout=20)
    w.settimeout(5)
    n = 0
    while True:
        data = w.recv(1 << 20)
        if not data:
            break
        n += data.count(b"\0")
    w.close()
    expect(0 < n < 3000, f"it got what the socket held ({n} events), then EOF")
    if os.environ.get("EXECCOUNT_SANITIZERS", "none") == "none":  # shadow memory counts otherwise
        expect(rss_kib < 32 * 1024, f"the daemon's memory stays bounded: {rss_kib} KiB")
    print(f"  stalled watcher dropped for {' and '.join(why)} after {n} events; daemon RSS {rss_kib} KiB")


def test_garbage_flood(d):
    for i in range(50):
        v = d.varlink()
        try:
            v.send(os.urandom(4096) + b"\0")
            v.closed()
        except OSError:
            pass
        v.close()
    expect(d.proc.poll() is None and "users" in d.call("io.execcount.GetStats"), "served after 50 garbage clients")


def test_fair_journal(tmp):
    """LogExecs=yes: one user's storm of 1,200 failed execs cannot push another user's
    execs out of the journal; the "left out" message says whose entries it held back,
    and how many, exactly."""
    path = os.path.join(tmp, "journal")
    os.mkdir(path)
    d = Daemon(path, "[Journal]\nLogExecs=yes\n")
    a, b = new_uid(), new_uid()
    try:
        storm = subprocess.run([EXECLOAD, "--mode=failure", "--count=1200", f"--uid={a}", "--json"],
                               capture_output=True, text=True, timeout=60, check=True)
        expect(json.loads(storm.stdout)["failed"] == 1200, storm.stdout)
        exec_ok(b, 5)
        wait_for(lambda: d.read_log().count(f"UID {b} ran /bin/true") == 5, f"UID {b}'s 5 execs in the journal")
        # New limits end the interval, which says what it left out.
        with open(d.config, "a") as f:
            f.write("\n[Journal]\nLogExecsRateLimitBurst=1001\n")
        d.ctl("reload")
        log = d.read_log()
        logged = log.count(f"UID {a} failed to run ")
        left_out = sum(int(n) for n in re.findall(rf"Left out \d+ exec entries of \d+ UIDs \([^)]*\bUID {a}: (\d+)", log))
        expect(logged == 100 and left_out == 1100,
               f"UID {a}: {logged} entries and {left_out} left out, of 1200 (100 per UID)")
    finally:
        d.stop()


def hold_connections(path, n, watch=False, rcvbuf=None):
    """n connections: idle ones, or Watch streams (that the caller never reads)."""
    conns = []
    for _ in range(n):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        c.connect(path)
        if watch:
            c.sendall(b'{"method":"io.execcount.Watch","more":true}\0')
        conns.append(c)
    return conns


def in_children(uids, fn, ready_timeout=30):
    """Runs fn() (which holds something) as each UID in a child that waits for a byte on
    a pipe before it exits; returns the function that lets them go."""
    pids = []
    release_r, release_w = os.pipe()
    ready_r, ready_w = os.pipe()
    for uid in uids:
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                held = fn()  # noqa: F841 - kept open until released
                os.write(ready_w, b"x")
                os.read(release_r, 1)
            finally:
                os._exit(0)
        pids.append(pid)
    for _ in uids:
        expect(os.read(ready_r, 1) == b"x", "a child is ready")

    def release():
        os.write(release_w, b"x" * len(uids))
        for pid in pids:
            os.waitpid(pid, 0)
    return release


def test_lockout(tmp, g):
    """Unprivileged UIDs fill every place: root still gets in (status, reload), so does the
    access group (the reserved places) and a new user (an idle client makes room); every
    refusal is reported, with the UIDs; idle clients time out."""
    path = os.path.join(tmp, "lockout")
    os.mkdir(path)
    d = Daemon(path, f"[Access]\nGroup={g.gr_name}\n[Socket]\nMaxClients=128\nMaxClientsPerUID=16\n"
                     "ReservedClients=16\nIdleTimeoutSec=4s\n")
    uids = [new_uid() for _ in range(8)]
    release = in_children(uids, lambda: hold_connections(d.socket, 16))
    try:
        # 8 x 16 = 128 tried, 112 places for the unprivileged.
        wait_for(lambda: d.call("io.execcount.GetStatus")["clients"] >= 113, "112 idle clients and this call")
        expect(d.call("io.execcount.GetStatus")["clients"] == 113, "no more than 112 of them")
        for args in (("status",), ("reload",)):
            d.ctl(*args)
        (r,) = as_user(new_uid(), calls(d, ("io.execcount.GetStatus", None)), groups=[g.gr_gid])
        expect(r["parameters"]["access"] == "all", f"the access group gets a reserved place: {r}")
        time.sleep(1.2)  # every held client is idle for a second now
        (r,) = as_user(new_uid(), calls(d, ("io.execcount.GetStats", None)))
        expect(r["parameters"]["access"] == "own", f"a new user gets the place of an idle client: {r}")

        def refused():
            return sum(int(n) for uid in uids
                       for n in re.findall(rf"Refused \d+ clients \([^)]*\) of [^\n]*\bUID {uid}: (\d+)",
                                           d.read_log()))
        wait_for(lambda: refused() == 16, "16 refusals reported, with their UIDs", timeout=15)
        expect(d.call("io.execcount.GetStatus")["clients_refused"] == 16, "and counted")
        # Idle for IdleTimeoutSec=: closed.
        wait_for(lambda: d.call("io.execcount.GetStatus")["clients"] == 1, "the idle clients to time out",
                 timeout=10)
    finally:
        release()
        d.stop()


def test_watchers_over_share(tmp):
    """One UID's 64 Watch streams that never read, SO_RCVBUF=1024, and a storm of failed
    execs with 4,000-byte names: the daemon holds at most MaxBufferPerUID= for it, ends its
    streams with LimitExceeded (logged once), and its memory stays bounded."""
    path = os.path.join(tmp, "watchers")
    os.mkdir(path)
    d = Daemon(path, "")
    a = new_uid()
    results = []

    def watch_and_wait():
        conns = hold_connections(d.socket, 64, watch=True, rcvbuf=1024)
        return conns
    release = in_children([a], watch_and_wait)

    def rss_kib():
        with open(f"/proc/{d.proc.pid}/status") as f:
            return int(next(line.split()[1] for line in f if line.startswith("VmRSS:")))
    try:
        before = after = rss_kib()
        storm = subprocess.Popen([EXECLOAD, "--mode=failure", "--name-length=4000", "--duration=4", f"--uid={a}",
                                  "--json"], stdout=subprocess.PIPE, text=True)
        buffered = 0
        while storm.poll() is None:
            buffered = max(buffered, d.call("io.execcount.GetStatus")["clients_buffered"])
            after = max(after, rss_kib())
            time.sleep(0.05)
        made = json.loads(storm.communicate()[0])
        results.append((buffered, after - before))
        expect(buffered <= 8 * 1024 * 1024 + 64 * 1024, f"held for the UID: {buffered} bytes")
        log = d.read_log()
        expect(log.count(f"uid {a}) loses what it was being sent") == 1, "logged once for the UID")
        got = d.ctl_json("stats", "--uid", str(a))["users"][0]
        expect(got["failed"] == made["failed"], f"counts exact: {got['failed']} of {made['failed']}")
        if os.environ.get("EXECCOUNT_SANITIZERS", "none") == "none":
            expect(after - before < 16 * 1024, f"RSS grew by {after - before} KiB")
        print(f"  at most {buffered} bytes held for the UID; RSS grew by {after - before} KiB at most; "
              f"{made['failed']} failures at {made['rate']:.0f}/s")
    finally:
        release()
        d.stop()


def main():
    daemonlib.setup(sys.argv, 2400000000)
    g = access_group()
    tmp = tempfile.mkdtemp(prefix="test-socket-")
    os.chmod(tmp, 0o755)
    d = None
    try:
        d = Daemon(tmp, f"[Access]\nGroup={g.gr_name}\n")
        expect(os.stat(d.socket).st_mode & 0o777 == 0o666, "anyone may connect")
        failed = daemonlib.run_tests([
            ("another user sees its own UID only", lambda: test_own_uid_only(d, g)),
            (f"a member of the access group ({g.gr_name}) sees all, resets nothing",
             lambda: test_group_member(d, g)),
            ("Watch: another user's events stay private", lambda: test_watch_own_only(d)),
            ("Watch: streams coming and going beside one hold back none of its events",
             lambda: test_watch_churn(d)),
            ("Reset and Reload: root only", lambda: test_changes_root_only(d)),
            ("execcountctl: one line per denial", lambda: test_ctl_messages(d)),
            ("[Access] Group= on reload", lambda: test_group_reload(d, g)),
            ("a 1 MiB message", lambda: test_huge_message(d)),
            ("500 idle connections; MaxClientsPerUID=", lambda: test_idle_connections(d)),
            ("a Watch client that never reads", lambda: test_watcher_never_reads(d)),
            ("out of file descriptors: no spinning, served again after", lambda: test_out_of_fds(d)),
            ("GetStats with \"more\": in parts, every UID once", lambda: test_stats_in_parts(d)),
            ("garbage", lambda: test_garbage_flood(d)),
            ("a fair journal: one user's storm hides no one else's execs", lambda: test_fair_journal(tmp)),
            ("a fair journal: Watch streams coming and going hold back no one's entries",
             lambda: test_journal_churn(tmp)),
            ("every place taken: root, the access group and newcomers still get in", lambda: test_lockout(tmp, g)),
            ("64 Watch streams that never read: one UID's share, no more", lambda: test_watchers_over_share(tmp)),
        ])
        if failed:
            print("---- execcountd log ----\n" + d.read_log())
    finally:
        if d:
            d.stop()
        daemonlib.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
