#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-daemon.py: execcountd and execcountctl together, on a temporary socket.

    test-daemon.py EXECCOUNTD EXECCOUNTCTL INTERFACE-FILE

Starts the real daemon (it loads the BPF programs: needs root), makes execs as
dedicated UIDs and checks what execcountctl and raw Varlink clients get back, exactly.
"""

import contextlib
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib  # noqa: E402
from daemonlib import (MISSING, Cgroup, Daemon, exec_as_login, exec_missing, exec_ok, expect, fail,  # noqa: E402
                       new_uid, suid_root_true, wait_for)

EXECCOUNTD, EXECCOUNTCTL, INTERFACE_FILE = sys.argv[1:4]
# ---- Tests

def test_stats(d):
    a, b = new_uid(), new_uid()
    exec_ok(a, 7)
    exec_missing(a, 3)
    exec_ok(b, 2)

    users = {u["uid"]: u for u in d.ctl_json("stats")["users"]}
    expect(users[a]["execs"] == 7 and users[a]["failed"] == 3, f"UID {a}: {users[a]}")
    expect(users[b]["execs"] == 2 and users[b]["failed"] == 0, f"UID {b}: {users[b]}")
    expect(users[a]["user"] is None, "test UIDs have no user name")

    one = d.ctl_json("stats", "--uid", str(a))
    expect(len(one["users"]) == 1 and one["users"][0]["execs"] == 7 and one["users"][0]["privileged"] == 0,
           f"stats --uid: {one}")
    none = d.ctl_json("stats", "--uid", str(new_uid()))
    expect(none["users"] == [], f"stats of an idle UID: {none}")

    # The table: sorted by execs, with a footer; --no-legend leaves only rows.
    out = d.ctl("stats").stdout
    lines = out.splitlines()
    expect(lines[0].split() == ["UID", "USER", "EXECS", "FAILED", "PRIVILEGED", "LAST", "EXEC"], f"header: {lines[0]}")
    rows = [line.split() for line in lines[1:lines.index("")]]
    execs = [int(r[2]) for r in rows if len(r) >= 4 and r[0].isdigit()]
    expect(execs == sorted(execs, reverse=True), f"not sorted by execs: {execs}")
    expect(any(r[:5] == [str(a), "-", "7", "3", "0"] for r in rows), f"no row for {a}:\n{out}")
    expect("users," in lines[-1] and "since" in lines[-1], f"footer: {lines[-1]}")
    bare = d.ctl("stats", "--no-legend", "--uid", str(b)).stdout.split()
    expect(bare[:4] == [str(b), "-", "2", "0"], f"--no-legend: {bare}")

    pretty = d.ctl("stats", "--uid", str(a), "--json=pretty").stdout
    expect(pretty.count("\n") > 5 and json.loads(pretty)["users"][0]["failed"] == 3, "pretty JSON")

    root = d.ctl_json("stats", "--user", "root")
    expect(all(u["uid"] == 0 for u in root["users"]), f"--user root: {root}")


UNSET = 4294967295


def test_logins(d, suid):
    """Execs per (login UID, UID), exactly; who sees which pairs."""
    alice, bob, carol, dave = new_uid(), new_uid(), new_uid(), new_uid()
    exec_as_login(alice, alice, 3)
    exec_as_login(alice, 0, 2)  # as after sudo
    exec_as_login(alice, bob, 4)  # as after su bob
    exec_as_login(alice, alice, 1, suid)  # a setuid-root program keeps the real UID
    exec_as_login(carol, carol, 5)
    exec_as_login(UNSET, dave, 2)  # a daemon's, say: no login
    exec_missing(alice, 2)  # failures are not counted per login

    def pairs(reply):
        return {(p["login_uid"], p["uid"]): p["execs"] for p in reply["logins"]}

    everything = d.ctl_json("stats", "--by=login")
    got = pairs(everything)
    expect(got.get((alice, alice)) == 4 and got.get((alice, 0)) == 2 and got.get((alice, bob)) == 4 and
           got.get((carol, carol)) == 5 and got.get((None, dave)) == 2, f"pairs: {got}")
    expect(everything["access"] == "all" and everything["logins_map_full_execs"] == 0, f"reply: {everything}")
    root_rows = [p for p in everything["logins"] if p["uid"] == 0 and p["login_uid"] == alice]
    expect(root_rows[0]["user"] == "root" and root_rows[0]["login_user"] is None, f"names: {root_rows}")

    by_uid = pairs(d.ctl_json("stats", "--by=login", "--uid", str(bob)))
    expect(by_uid == {(alice, bob): 4}, f"--by=login --uid: {by_uid}")

    # Each sees their own execs and those made in their logins as someone else. (Running
    # execcountctl as them is one exec of theirs more, under this test's login UID.)
    mine = int(open("/proc/self/loginuid").read())
    mine = None if mine == UNSET else mine

    def as_user(uid, runs):
        p = subprocess.run([EXECCOUNTCTL, "--socket", d.socket, "stats", "--by=login", "--json=short"], user=uid,
                           group=uid, extra_groups=[], capture_output=True, text=True, check=True)
        reply = json.loads(p.stdout)
        got = pairs(reply)
        expect(got.pop((mine, uid), None) == runs, f"execcountctl's own exec as {uid}: {reply}")
        return got, reply

    seen, reply = as_user(alice, 1)
    expect(seen == {(alice, alice): 4, (alice, 0): 2, (alice, bob): 4}, f"alice sees: {reply}")
    expect(reply["access"] == "own" and "logins_map_full_execs" not in reply, f"alice's reply: {reply}")
    expect(as_user(bob, 1)[0] == {(alice, bob): 4}, "bob sees the execs as him")
    expect(as_user(carol, 1)[0] == {(carol, carol): 5}, "carol sees hers only")

    # The table: most execs first, unset login UIDs named as such.
    out = d.ctl("stats", "--by=login").stdout
    lines = out.splitlines()
    expect(lines[0].split() == ["LOGIN", "UID", "LOGIN", "UID", "USER", "EXECS"], f"header: {lines[0]}")
    rows = [line.split() for line in lines[1:lines.index("")]]
    expect([str(alice), "-", "0", "root", "2"] in rows, f"no row for alice as root:\n{out}")
    execs = [int(r[-1]) for r in rows]
    expect(execs == sorted(execs, reverse=True), f"not sorted by execs: {execs}")
    expect(["-", "unset", str(dave), "-", "2"] in rows, f"no row for dave without a login:\n{out}")
    expect("Failed execs are not counted per login" in out, f"footer: {lines[-1]}")

    # Raw calls: filters, and a bad one.
    raw = d.call("io.execcount.GetLogins", {"login_uid": carol})
    expect(raw["logins"] == [{"login_uid": carol, "uid": carol, "execs": 5}], f"GetLogins login_uid: {raw}")
    v = d.varlink()
    try:
        r = v.call("io.execcount.GetLogins", {"login_uid": -1})
    finally:
        v.close()
    expect(r.get("error") == "org.varlink.service.InvalidParameter", f"bad login_uid: {r}")

    # A reset of a UID takes its pairs, whatever the login.
    d.ctl("reset", "--uid", str(bob))
    after = pairs(d.ctl_json("stats", "--by=login"))
    expect((alice, bob) not in after and after.get((alice, alice)) == 4, f"after a reset of bob: {after}")


def test_units(d):
    """Execs per systemd unit, named from their cgroups' paths, exactly; who sees which."""
    alice, bob = new_uid(), new_uid()
    tag = f"execcount-daemon-{os.getpid()}.slice"
    top = Cgroup(tag)
    cgroups = {
        "job.service": Cgroup(f"{tag}/job.service"),
        "session-77.scope": Cgroup(f"{tag}/session-77.scope"),
        "user@4000.service/editor.service": Cgroup(f"{tag}/user@4000.service/app.slice/editor.service"),
        "machine-web\\x2dfront.scope": Cgroup(f"{tag}/machine-web\\x2dfront.scope"),
        f"/{tag}/plain/sub": Cgroup(f"{tag}/plain/sub"),
    }
    try:
        before = daemonlib.last_seq(d)
        cgroups["job.service"].run(alice, ok=3, failed=2)
        cgroups["job.service"].run(bob, ok=1)
        cgroups["session-77.scope"].run(alice, ok=2)
        cgroups["user@4000.service/editor.service"].run(bob, ok=1, failed=1)
        cgroups["machine-web\\x2dfront.scope"].run(alice, ok=1)
        cgroups[f"/{tag}/plain/sub"].run(bob, failed=4)

        rows = d.call("io.execcount.GetUnits")["units"]
        got = {(r["unit"], r["uid"]): (r["execs"], r["failed"]) for r in rows if r["uid"] in (alice, bob)}
        want = {("job.service", alice): (3, 2), ("job.service", bob): (1, 0), ("session-77.scope", alice): (2, 0),
                ("user@4000.service/editor.service", bob): (1, 1), ("machine-web\\x2dfront.scope", alice): (1, 0),
                (f"/{tag}/plain/sub", bob): (0, 4)}
        expect(got == want, f"GetUnits: {got}")
        machine = [r for r in rows if r["unit"] == "machine-web\\x2dfront.scope"]
        expect(machine[0]["machine"] == "web-front" and machine[0]["last_exec_usec"] > 0, f"machine: {machine}")
        expect(all("machine" not in r for r in rows if r["unit"] == "job.service"), f"no machine: {rows}")

        # execcountctl: one row per unit, its UIDs summed; --unit: per user in it.
        by_unit = d.ctl_json("stats", "--by=unit")
        job = [u for u in by_unit["units"] if u["unit"] == "job.service"]
        expect(len(job) == 1 and job[0]["execs"] >= 4 and job[0]["failed"] >= 2 and "uid" not in job[0],
               f"--by=unit: {by_unit}")
        expect(by_unit["access"] == "all" and by_unit["units_map_full_execs"] == 0, f"--by=unit: {by_unit}")
        users = d.ctl_json("stats", "--unit=job")
        expect(users["unit"] == "job.service" and
               {u["uid"]: (u["execs"], u["failed"]) for u in users["users"]} == {alice: (3, 2), bob: (1, 0)},
               f"--unit=job: {users}")
        one = d.ctl_json("stats", "--by=unit", "--unit=editor.service", "--uid", str(bob))
        expect([(u["unit"], u["execs"], u["failed"]) for u in one["units"]] ==
               [("user@4000.service/editor.service", 1, 1)], f"a user unit by its own name: {one}")
        text = d.ctl("stats", "--by=unit", "--uid", str(alice)).stdout
        expect(re.search(r"^UNIT +EXECS +FAILED +LAST EXEC$", text, re.M) and
               re.search(r"^job\.service +3 +2 ", text, re.M) and "3 units, 6 execs, 2 failed" in text, text)
        text = d.ctl("stats", "--unit=nothing-ran-here.service").stdout
        expect("No execs in nothing-ran-here.service since" in text, text)

        # A user sees their own rows only, and may not ask for another's.
        p = subprocess.run([EXECCOUNTCTL, "--socket", d.socket, "stats", "--by=unit", "--json=short"], user=alice,
                           group=alice, extra_groups=[], capture_output=True, text=True, check=True)
        seen = json.loads(p.stdout)
        expect(seen["access"] == "own" and "units_map_full_execs" not in seen, f"alice's reply: {seen}")
        # (Her execcountctl's own exec is hers too, in whatever cgroup this test runs.)
        expect({(u["unit"], u["execs"], u["failed"]) for u in seen["units"] if u["unit"] in cgroups} ==
               {("job.service", 3, 2), ("session-77.scope", 2, 0), ("machine-web\\x2dfront.scope", 1, 0)},
               f"alice sees: {seen}")
        p = subprocess.run([EXECCOUNTCTL, "--socket", d.socket, "stats", "--by=unit", "--uid", str(bob)],
                           user=alice, group=alice, extra_groups=[], capture_output=True, text=True)
        expect(p.returncode == 1 and "may see other users' counts" in p.stderr, f"alice asks for bob's: {p}")

        # Events carry their unit; --unit picks them, the last --lines of them. Other
        # programs' execs may push the oldest out of the history meanwhile: then what is
        # left must be the newest of them, in order.
        def job_events(lines):
            return [json.loads(line) for line in d.ctl("events", "--unit=job", "-n", lines, "--json=short")
                    .stdout.splitlines()]
        events = job_events("all")
        last = job_events("2")
        table = d.ctl("events", "--unit=job", "-n", "1", "--no-legend").stdout.split()
        # Following one unit: the last kept event of it, then its new ones only.
        follower = subprocess.Popen([EXECCOUNTCTL, "--socket", d.socket, "events", "--follow", "--unit=job", "-n", "1",
                                     "--json=short"], stdout=subprocess.PIPE)
        out = LineReader(follower)
        try:
            try:
                first = json.loads(out.line(5))
            except AssertionError:
                first = None  # no backlog: none of the unit's events left (checked below)
            churned = daemonlib.history_churned(d, before)
            time.sleep(0.2)
            cgroups["session-77.scope"].run(alice, ok=1)
            cgroups["job.service"].run(bob, ok=1)
            live = json.loads(out.line(5))
            expect(live["unit"] == "job.service" and live["uid"] == bob and
                   live["seq"] > (events[-1]["seq"] if events else before), f"the live one: {live}")
        finally:
            follower.terminate()
            follower.wait()
        kinds = sorted([(alice, 0)] * 3 + [(alice, -2)] * 2 + [(bob, 0)])
        expect(all(e["unit"] == "job.service" for e in events + last), f"events --unit: {events} {last}")
        expect([e["seq"] for e in events] == sorted(e["seq"] for e in events), f"in order: {events}")
        if not churned:
            expect(sorted((e["uid"], e["result"]) for e in events) == kinds, f"events --unit: {events}")
            expect([e["seq"] for e in last] == [e["seq"] for e in events[-2:]], f"-n 2: {last}")
            expect("job.service" in table and "/bin/true" in table, f"the UNIT column: {table}")
            expect(first and first["seq"] == events[-1]["seq"], f"the backlog: {first}")
        else:
            # The newest of them, as many as the history still held at each query.
            expect(len(events) <= 6 and len(last) <= 2 and [e["seq"] for e in last] ==
                   [e["seq"] for e in events[len(events) - len(last):]], f"-n 2 after others' execs: {events} {last}")
            expect(first is None or first["seq"] == events[-1]["seq"], f"the backlog: {first}")
            print("  (other programs' execs pushed some of the test's out of the history: checked what was left)")
    finally:
        for c in cgroups.values():
            c.remove()
        top.remove()


def daemon_of_own(tmp, name, config=""):
    """A daemon of the test's own, in tmp/name (which others may enter)."""
    sub = os.path.join(tmp, name)
    os.makedirs(sub)
    os.chmod(sub, 0o755)
    return Daemon(sub, config)


def test_logins_cost(tmp):
    """A user who loops GetLogins over a map of many pairs, of which it sees none, pays
    for reading them all (OutputRatePerUID=, 32 MiB/s; 256 bytes a pair): a few calls a
    second, not as many as the daemon could serve, and root is answered meanwhile."""
    d = daemon_of_own(tmp, "logins-cost", "[Counts]\nMaxUIDs=65536\n")
    try:
        pairs, seconds = 60000, 3.0
        expect(daemonlib.fill_logins(os.path.join(d.pins, "logins"), pairs, 3900000000) == pairs, "filled")
        expect(len(d.call("io.execcount.GetLogins", {"uid": 3900000000})["logins"]) == 1, "the map is filled")
        # Each call costs 4 KiB, its reply and 256 bytes a pair read: 15 MB, about two a
        # second, and one more per call started on credit. Unbounded, it made hundreds.
        expect_reading_charged(d, "io.execcount.GetLogins", "logins", pairs, seconds)
    finally:
        d.stop()


def hostile_loop(d, method, rows, seconds):
    """A new UID calls method in a loop for seconds, seeing no rows each time, while root
    calls GetStatus; returns the calls it made and root's slowest answer."""
    attacker = new_uid()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        calls = -1
        try:
            os.setgroups([])
            os.setresgid(attacker, attacker, attacker)
            os.setresuid(attacker, attacker, attacker)
            v, calls, end = daemonlib.Varlink(d.socket), 0, time.monotonic() + seconds
            while time.monotonic() < end:
                reply = v.call(method, {})
                if "error" in reply or reply["parameters"][rows] != []:
                    calls = -1000000
                calls += 1
        finally:
            os.write(w, str(calls).encode())
            os._exit(0)
    os.close(w)
    slowest = 0.0
    while True:
        t = time.monotonic()
        d.call("io.execcount.GetStatus")
        slowest = max(slowest, time.monotonic() - t)
        if os.waitpid(pid, os.WNOHANG)[0]:
            break
        time.sleep(0.05)
    calls = int(os.read(r, 64) or b"-1")
    os.close(r)
    return calls, slowest


def expect_reading_charged(d, method, rows, entries, seconds):
    """A user looping method over a map of entries, none of them theirs, makes no more calls
    than 256 bytes a read entry allow (OutputRatePerUID=, 32 MiB/s; each call 4 KiB more,
    and one more started on credit), and root is answered meanwhile."""
    calls, slowest = hostile_loop(d, method, rows, seconds)
    bound = int(seconds * 32 * 1024 * 1024 / (4096 + entries * 256)) + 2
    expect(0 < calls <= bound, f"{calls} {method} calls in {seconds} s over {entries} entries; at most {bound}")
    expect(slowest < 1.0, f"root waited {slowest:.3f} s for GetStatus")


def test_units_cost(tmp):
    """A user who loops GetUnits over a full map of cgroups, of which none are theirs, pays
    for reading them all, as for GetLogins."""
    d = daemon_of_own(tmp, "units-cost")
    try:
        entries, seconds = 16000, 3.0
        expect(daemonlib.fill_units(os.path.join(d.pins, "units"), entries, 3900000000) == entries, "filled")
        rows = d.call("io.execcount.GetUnits", {"uid": 3900000000})["units"]
        expect(len(rows) == 1 and rows[0]["unit"] == "(unknown)" and rows[0]["execs"] == entries,
               f"the map is filled: {rows}")
        expect_reading_charged(d, "io.execcount.GetUnits", "units", entries, seconds)
    finally:
        d.stop()


def test_logins_full(tmp):
    """A full map of login pairs: further pairs' execs are counted as such, the footer and
    the log say so."""
    d = daemon_of_own(tmp, "logins-full", "[Counts]\nMaxUIDs=64\n")
    try:
        a = new_uid()
        before = d.ctl_json("stats", "--by=login")["logins_map_full_execs"]
        daemonlib.fill_logins(os.path.join(d.pins, "logins"), 128, 3900000000)  # as many as fit
        exec_as_login(a, a, 3)
        reply = d.ctl_json("stats", "--by=login")
        expect(not any(p["login_uid"] == a for p in reply["logins"]), f"no room for {a}'s pair: {reply}")
        expect(reply["logins_map_full_execs"] - before >= 3, f"counted as map full: {before}, then {reply}")
        out = d.ctl("stats", "--by=login").stdout
        expect("The map of pairs is full" in out, f"footer: {out}")
        wait_for(lambda: "The map of login pairs is full (128 entries)" in d.run_log(), "the warning in the log", 15)
    finally:
        d.stop()


def test_units_full(tmp):
    """A full map of per-unit counts: execs and failures in further cgroups are counted as
    such, per UID all the same; the reply, the footer and the log say so."""
    d = daemon_of_own(tmp, "units-full")
    job = Cgroup(f"execcount-full-{os.getpid()}.service")
    try:
        a = new_uid()
        daemonlib.fill_units(os.path.join(d.pins, "units"), 16384, 3900000000)  # as many as fit
        before = d.ctl_json("stats", "--by=unit")
        job.run(a, ok=3, failed=2)
        reply = d.ctl_json("stats", "--by=unit")
        expect(not any(u["unit"] == job.path for u in reply["units"]), f"no room for {job.path}: {reply}")
        expect(reply["units_map_full_execs"] - before["units_map_full_execs"] >= 3 and
               reply["units_map_full_failed"] - before["units_map_full_failed"] >= 2,
               f"counted as map full: {before}, then {reply}")
        users = d.ctl_json("stats", "--uid", str(a))["users"]
        expect([(u["execs"], u["failed"]) for u in users] == [(3, 2)], f"counted per UID: {users}")
        out = d.ctl("stats", "--by=unit").stdout
        expect("The map of units is full" in out, f"footer: {out}")
        wait_for(lambda: "The map of per-unit counts is full (16384 entries)" in d.run_log(), "the warning", 15)
    finally:
        d.stop()
        job.remove()


def test_events(d):
    a = new_uid()
    exec_ok(a, 2)
    exec_missing(a, 1)

    lines = d.ctl("events", "--uid", str(a), "-n", "all", "--json=short").stdout.splitlines()
    events = [json.loads(line) for line in lines]
    expect(len(events) == 3, f"expected 3 events of {a}, got {events}")
    ok, missing = events[:2], events[2]
    for e in ok:
        expect(e["uid"] == a and e["result"] == 0 and e["filename"] == "/bin/true" and e["comm"] == "true"
               and e["euid"] == a, f"success event: {e}")
    expect(missing["result"] == -2 and missing["filename"] == MISSING and missing["pid"] > 0 and missing["euid"] == a,
           f"failure event: {missing}")
    expect(missing["ppid"] == os.getpid(), f"the failing exec's parent is this test: {missing}")
    expect(events[0]["seq"] < events[1]["seq"] < events[2]["seq"], "events in order")
    expect(all(abs(e["time_usec"] / 1e6 - time.time()) < 60 for e in events), "event times are now")

    last = d.ctl("events", "--uid", str(a), "-n", "1", "--json=short").stdout.splitlines()
    expect(len(last) == 1 and json.loads(last[0])["seq"] == missing["seq"], f"-n 1: {last}")

    table = d.ctl("events", "--uid", str(a)).stdout.splitlines()
    expect(table[0].split() == ["TIME", "UID", "USER", "PID", "PPID", "COMM", "UNIT", "RESULT", "FILENAME",
                                 "ARGS"],
           f"header: {table[0]}")
    expect(len(table) == 4 and table[3].split()[-3:] == ["ENOENT", MISSING, MISSING], f"table:\n{table}")
    expect(d.ctl("events", "--uid", str(new_uid())).stdout.startswith("No execs recorded"), "empty events")


def own_session():
    with open("/proc/self/sessionid") as f:
        session = int(f.read())
    return None if session == 4294967295 else session


def test_argv(d, tmp):
    """Events carry the command line as passed, cut at 1024 bytes and marked so; execcountctl
    shows it escaped and quoted; CaptureArgv=no leaves it out, from the next exec on."""
    c, off = new_uid(), new_uid()
    args = ["hello world", "", "-n", "x\x1b[31m", "[...]"]
    exec_ok(c, 1, "/bin/echo", args)
    exec_ok(c, 1, "/bin/true", ["y" * 2000])
    events = [json.loads(line) for line in d.ctl("events", "--uid", str(c), "--json=short").stdout.splitlines()]
    expect(len(events) == 2, f"expected 2 events of {c}: {events}")
    expect(events[0]["argv"] == ["/bin/echo", *args] and events[0]["argv_truncated"] is False,
           f"arguments as passed: {events[0]}")
    # "/bin/true" and its NUL take 10 of the 1024 bytes; the long one gets the rest.
    expect(events[1]["argv"] == ["/bin/true", "y" * 1014] and events[1]["argv_truncated"] is True,
           f"arguments cut at 1024 bytes: {events[1]}")
    with open("/proc/self/comm") as f:
        me = f.read().strip()
    for e in events:
        expect(e["parent_comm"] == me and e["session"] == own_session(), f"parent and session: {e}")
        expect("argv_hex" not in e, f"UTF-8 arguments need no hex: {e}")

    table = d.ctl("events", "--uid", str(c)).stdout.splitlines()
    expect(table[1].endswith(' /bin/echo /bin/echo "hello world" "" -n "x\\x1b[31m" "[...]"'),
           f"arguments escaped and quoted: {table[1]!r}")
    expect(table[2].endswith(" /bin/true /bin/true " + "y" * 1014 + " [...]"), f"cut arguments: {table[2]!r}")

    # Bytes that are not UTF-8: U+FFFD in the JSON string, the exact bytes in argv_hex, and
    # escaped from those in the column.
    exec_ok(c, 1, "/bin/echo", [b"\xffz"])
    (e,) = [json.loads(line) for line in d.ctl("events", "--uid", str(c), "-n", "1", "--json=short").stdout.splitlines()]
    expect(e["argv"] == ["/bin/echo", "\ufffdz"] and e["argv_hex"] == ["2f62696e2f6563686f", "ff7a"],
           f"arguments not UTF-8: {e}")
    row = d.ctl("events", "--uid", str(c), "-n", "1", "--no-legend").stdout.strip()
    expect(row.endswith(' /bin/echo /bin/echo "\\xffz"'), f"escaped from the exact bytes: {row!r}")

    # A setuid program's failed exec: its arguments are for root and the access group only,
    # not for its real UID, which may have made it fail and never saw them anywhere.
    r = new_uid()
    suid_env = os.path.join(tmp, "suid-env")
    shutil.copy("/usr/bin/env", suid_env)
    os.chown(suid_env, 0, 0)
    os.chmod(suid_env, 0o4755)
    subprocess.run([suid_env, MISSING, "secret"], user=r, group=r, extra_groups=[], stderr=subprocess.DEVNULL)
    as_root = [json.loads(line) for line in d.ctl("events", "--uid", str(r), "--json=short").stdout.splitlines()]
    own = [json.loads(line) for line in subprocess.run(
        [EXECCOUNTCTL, "--socket", d.socket, "events", "--json=short"], user=r, group=r, extra_groups=[],
        capture_output=True, text=True, check=True).stdout.splitlines()]
    own = [e for e in own if e["seq"] <= as_root[-1]["seq"]]  # not execcountctl's own exec
    expect(len(as_root) == 2 and len(own) == 2, f"the setuid program's events: {as_root} and {own}")
    expect(as_root[1]["result"] == -2 and as_root[1]["euid"] == 0 and as_root[1]["argv"] == [MISSING, "secret"],
           f"root sees the failed exec's arguments: {as_root[1]}")
    expect("argv" not in own[1] and own[1]["result"] == -2, f"its real UID does not: {own[1]}")
    expect(own[0]["argv"] == as_root[0]["argv"] == [suid_env, MISSING, "secret"],
           f"the arguments it ran the setuid program with are its own: {own[0]}")
    os.unlink(suid_env)

    try:
        with open(d.config, "a") as f:
            f.write("\n[Events]\nCaptureArgv=no\n")
        d.ctl("reload")
        expect(tunables(d)["flags"] == 0, f"CaptureArgv=no reaches the programs: {tunables(d)}")
        exec_ok(off, 1, "/bin/echo", ["secret"])
        exec_missing(off, 1)
        events = [json.loads(line) for line in
                  d.ctl("events", "--uid", str(off), "--json=short").stdout.splitlines()]
        expect(len(events) == 2 and not any("argv" in e or "argv_truncated" in e for e in events),
               f"CaptureArgv=no: no arguments: {events}")
        table = d.ctl("events", "--uid", str(off)).stdout.splitlines()
        expect(len(table) == 3 and all(row.endswith(" -") for row in table[1:]), f"no arguments shown: {table}")
    finally:
        with open(d.config, "a") as f:
            f.write("\n[Events]\nCaptureArgv=yes\n")
        d.ctl("reload")
    expect(tunables(d)["flags"] == 1, f"CaptureArgv=yes again: {tunables(d)}")


def test_status(d, max_uids, history):
    s = d.ctl_json("status")
    for k in ("version", "probe_mode", "rejected_probes", "started_usec", "uptime_usec", "since_usec",
              "total_execs", "total_failed", "events_received", "events_lost", "map_entries",
              "map_capacity", "map_full_execs", "map_full_failed", "history_events",
              "history_capacity", "ring_buffer_size", "clients", "compat_execs"):
        expect(k in s, f"status lacks {k}: {s}")
    expect(s["probe_mode"] in ("fentry", "kprobe", "tracepoint"), f"probe mode {s['probe_mode']}")
    expect(s["map_capacity"] == max_uids and s["history_capacity"] == history, f"status: {s}")
    expect(s["events_received"] >= 10 and s["total_execs"] >= 10, f"status totals: {s}")
    expect(s["clients"] >= 1, "the asking client is connected")
    stats = d.call("io.execcount.GetStats")
    # Totals are the sum over UIDs plus what a full map could not attribute.
    execs = sum(u["execs"] for u in stats["users"])
    expect(execs <= s["total_execs"] + 1000, "totals add up")
    text = d.ctl("status").stdout
    expect(f"with the {s['probe_mode']} probes" in text and "Events:" in text, f"status text:\n{text}")


class LineReader:
    """Lines from a child's stdout, with a timeout (select() cannot see Python's buffers)."""

    def __init__(self, proc):
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def line(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                fail("no output from execcountctl events --follow")
            data = os.read(self.fd, 65536)
            if not data:
                fail("execcountctl events --follow exited")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def test_follow(d):
    b = new_uid()
    follower = subprocess.Popen(
        [EXECCOUNTCTL, "--socket", d.socket, "events", "--follow", "--uid", str(b), "-n", "100",
         "--json=short"], stdout=subprocess.PIPE)
    out = LineReader(follower)
    try:
        # Events from before the watch starts come as backlog, later ones live.
        exec_ok(b, 2)
        exec_missing(b, 1)
        got = [json.loads(out.line(5)) for _ in range(3)]
        expect([e["result"] for e in got] == [0, 0, -2], f"followed events: {got}")
        expect(all(e["uid"] == b for e in got), "only the UID asked for")
        # And a live one, well after the watch began.
        time.sleep(0.3)
        start = time.monotonic()
        exec_ok(b, 1, "/bin/echo")
        e = json.loads(out.line(5))
        expect(e["filename"] == "/bin/echo", f"live event: {e}")
        print(f"  live event reached execcountctl after {1000 * (time.monotonic() - start):.0f} ms")
    finally:
        follower.terminate()
        follower.wait()

    table = subprocess.Popen([EXECCOUNTCTL, "--socket", d.socket, "events", "-f", "--uid", str(b), "-n", "0"],
                             stdout=subprocess.PIPE)
    out = LineReader(table)
    try:
        header = out.line(5)
        expect(header.split()[:3] == ["TIME", "UID", "USER"], f"follow header: {header}")
        time.sleep(0.3)
        exec_missing(b, 1)
        row = out.line(5).split()
        expect(row[2] == str(b) and row[-3:] == ["ENOENT", MISSING, MISSING], f"follow row: {row}")
    finally:
        table.terminate()
        table.wait()


def test_watch_raw(d):
    c = new_uid()
    v = d.varlink()
    r = v.call("io.execcount.Watch", {"uid": c})
    expect(r.get("error") == "org.varlink.service.ExpectedMore", f"Watch without more: {r}")
    v.call_raw("io.execcount.Watch", {"uid": c}, more=True)
    time.sleep(0.3)
    exec_ok(c, 1)
    r = v.reply()
    expect(r.get("continues") is True and r["parameters"]["event"]["uid"] == c, f"Watch reply: {r}")
    # A call while streaming breaks the protocol.
    v.call_raw("io.execcount.GetStats")
    r = v.reply()
    expect(r.get("error") == "io.execcount.ProtocolError", f"call while streaming: {r}")
    expect(v.closed(), "connection closed after a protocol error")


def test_reset(d, suid):
    a, b = new_uid(), new_uid()
    exec_ok(a, 1, suid)
    exec_ok(b, 1, suid)

    def user(uid):
        users = d.ctl_json("stats", "--uid", str(uid))["users"]
        return (users[0]["execs"], users[0]["privileged"]) if users else None

    expect(user(a) == (1, 1), f"a privileged exec: {user(a)}")
    out = d.ctl("reset", "--uid", str(a)).stdout
    expect(f"UID {a}" in out, f"reset output: {out}")
    expect(user(a) is None, "UID reset")
    expect(user(b) == (1, 1), "other UID kept")
    exec_ok(a, 2)
    expect(user(a) == (2, 0), f"counting goes on after reset, privileged from zero: {user(a)}")

    before = d.ctl_json("stats")["since_usec"]
    time.sleep(0.01)
    d.ctl("reset")
    after = d.ctl_json("stats")
    uids = {u["uid"] for u in after["users"]}
    expect(a not in uids and b not in uids, "all UIDs reset")
    expect(after["since_usec"] > before, "since moves with a full reset")
    exec_ok(b, 1)
    expect(user(b) == (1, 0), f"privileged from zero after a full reset: {user(b)}")


def test_bad_clients(d):
    def error_of(raw):
        v = d.varlink()
        v.send(raw)
        r = v.reply()
        return r, v

    r, v = error_of(b"this is not json\0")
    expect(r["error"] == "io.execcount.ProtocolError" and "JSON" in r["parameters"]["reason"], f"garbage: {r}")
    expect(v.closed(), "closed after garbage")
    r, v = error_of(b"[1,2,3]\0")
    expect(r["error"] == "io.execcount.ProtocolError", f"array: {r}")
    r, v = error_of(b'{"method": "nodots"}\0')
    expect(r["error"] == "io.execcount.ProtocolError", f"bad method name: {r}")

    v = d.varlink()
    for method, params, error, param in [
            ("io.execcount.Nope", None, "org.varlink.service.MethodNotFound", None),
            ("com.example.Thing", None, "org.varlink.service.InterfaceNotFound", None),
            ("io.execcount.GetStats", {"uid": "0"}, "org.varlink.service.InvalidParameter", "uid"),
            ("io.execcount.GetStats", {"uid": -1}, "org.varlink.service.InvalidParameter", "uid"),
            ("io.execcount.GetStats", {"uid": 4294967295}, "org.varlink.service.InvalidParameter", "uid"),
            ("io.execcount.GetStats", {"user": "root"}, "org.varlink.service.InvalidParameter", "user"),
            ("io.execcount.GetEvents", {"limit": -5}, "org.varlink.service.InvalidParameter", "limit"),
            ("io.execcount.GetStatus", {"x": 1}, "org.varlink.service.InvalidParameter", "x"),
            ("org.varlink.service.GetInterfaceDescription", {}, "org.varlink.service.InvalidParameter",
             "interface")]:
        r = v.call(method, params)
        expect(r.get("error") == error, f"{method}({params}): {r}")
        if param:
            expect(r["parameters"]["parameter"] == param, f"{method}({params}): {r}")
    r = v.call("io.execcount.GetStats", None, upgrade=True)
    expect(r.get("error") == "org.varlink.service.InvalidParameter" and r["parameters"]["parameter"] == "upgrade",
           f"upgrade: {r}")
    # Errors in calls leave the connection usable; calls may be pipelined; oneway gets nothing.
    v.send(b'{"method":"io.execcount.GetStats","parameters":{"uid":0}}\0'
           b'{"method":"io.execcount.Reset","parameters":{"uid":1},"oneway":true}\0'
           b'{"method":"org.varlink.service.GetInfo"}\0')
    r1, r2 = v.reply(), v.reply()
    expect("users" in r1["parameters"] and r2["parameters"]["product"] == "execcountd", f"pipelined: {r1} {r2}")
    v.close()

    # Too big: answered with an error, then closed.
    v = d.varlink()
    try:
        v.send(b"{" + b" " * (200 * 1024))
    except OSError:
        pass
    r = v.reply()
    expect(r["error"] == "io.execcount.ProtocolError" and "too large" in r["parameters"]["reason"], f"big: {r}")
    expect(v.closed(), "closed after an oversized message")

    # A message cut by a hangup; clients that vanish before their answer.
    v = d.varlink()
    v.send(b'{"method":"io.execcount.GetSt')
    v.sock.shutdown(socket.SHUT_WR)
    r = v.reply()
    expect(r["error"] == "io.execcount.ProtocolError", f"cut message: {r}")
    for _ in range(50):
        v = d.varlink()
        v.call_raw("io.execcount.GetEvents")
        v.close()
    # Half-closed after a whole call: still answered.
    v = d.varlink()
    v.call_raw("io.execcount.GetStats", {"uid": 0})
    v.sock.shutdown(socket.SHUT_WR)
    expect("users" in v.reply()["parameters"], "answer after SHUT_WR")

    expect(d.proc.poll() is None, "daemon survived the bad clients")
    stats = d.ctl_json("stats")
    expect("users" in stats, "a normal client is still served")


def test_interface(d):
    info = d.call("org.varlink.service.GetInfo")
    expect(info["interfaces"] == ["org.varlink.service", "io.execcount"], f"GetInfo: {info}")
    expect(info["version"] == d.ctl("--version").stdout.split()[-1], "same version")
    desc = d.call("org.varlink.service.GetInterfaceDescription", {"interface": "io.execcount"})["description"]
    with open(INTERFACE_FILE) as f:
        expect(desc == f.read(), "GetInterfaceDescription returns io.execcount.varlink")
    desc = d.call("org.varlink.service.GetInterfaceDescription", {"interface": "org.varlink.service"})
    expect("method GetInfo()" in desc["description"], "org.varlink.service description")
    v = d.varlink()
    r = v.call("org.varlink.service.GetInterfaceDescription", {"interface": "com.example"})
    expect(r["error"] == "org.varlink.service.InterfaceNotFound", f"unknown interface: {r}")
    v.close()
    # Names that are not what they seem: cut at a NUL, or not UTF-8 (overlong "/", a
    # surrogate, past U+10FFFF). Refused, and never echoed.
    for raw in (b'"io.execcount\\u0000junk"', b'"\xc0\xaf"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"'):
        v = d.varlink()
        v.send(b'{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":' + raw + b"}}\0")
        while b"\0" not in v.buf:
            v.buf += v.sock.recv(1 << 20)
        reply = v.buf.split(b"\0")[0]
        r = json.loads(reply)
        expect(r.get("error") == "io.execcount.ProtocolError" and "description" not in r.get("parameters", {}),
               f"interface {raw}: {r}")
        expect(raw.strip(b'"') not in reply, f"interface {raw} echoed: {reply}")
        v.close()


def tunables(d):
    """What the programs read as they run, from the pinned map."""
    out = subprocess.run(["bpftool", "--json", "map", "dump", "pinned", os.path.join(d.pins, "tunables")],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]["formatted"]["value"]


def set_flush_interval(d, value):
    with open(d.config, "a") as f:
        f.write(f"\n[Events]\nFlushIntervalSec={value}\n")
    d.ctl("reload")


def test_wakeup_interval(d):
    """With nobody waiting for single events, the programs wake the daemon at most once a
    second, or at FlushIntervalSec= when it is longer; a Watch client brings
    FlushIntervalSec= back, and takes it away when it goes. FlushIntervalSec=0 with a
    watcher: no polling, every event wakes the daemon."""
    def interval():
        return tunables(d)["wakeup_interval_ns"]

    expect(interval() == 1000000000, f"unwatched, with FlushIntervalSec=50ms: {interval()} ns")
    v = d.varlink()
    v.call_raw("io.execcount.Watch", {"backlog": 0}, more=True)
    wait_for(lambda: interval() == 50000000, "FlushIntervalSec=50ms with a watcher")
    v.close()
    wait_for(lambda: interval() == 1000000000, "once a second after the watcher left")

    try:
        set_flush_interval(d, "2s")
        expect(interval() == 2000000000, f"unwatched, with FlushIntervalSec=2s: {interval()} ns")
        set_flush_interval(d, "0")
        expect(interval() == 1000000000, f"unwatched, with FlushIntervalSec=0: {interval()} ns")
        exec_ok(new_uid(), 3)  # the drain timer runs, and tells the programs it polls
        v = d.varlink()
        v.call_raw("io.execcount.Watch", {"backlog": 0}, more=True)
        wait_for(lambda: interval() == 0, "FlushIntervalSec=0 with a watcher")
        expect(tunables(d)["reader_polls_until_ns"] == 0, f"no polling with FlushIntervalSec=0: {tunables(d)}")
        v.close()
    finally:
        set_flush_interval(d, "50ms")


def test_reload(d):
    a = new_uid()
    exec_ok(a, 4)
    with open(d.config, "a") as f:
        f.write("\n[Events]\nHistory=7\n[Counts]\nMaxUIDs=99\n")
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: d.ctl_json("status")["history_capacity"] == 7, "History=7 to apply")
    expect(d.ctl_json("stats", "--uid", str(a))["users"][0]["execs"] == 4, "counts kept over reload")
    wait_for(lambda: "MaxUIDs= changed" in d.read_log(), "restart-only setting to be reported")

    # Reload through Varlink: synchronous, and it says why a bad file is refused.
    with open(d.config, "a") as f:
        f.write("[Events]\nHistory=8\n")
    d.ctl("reload")
    expect(d.ctl_json("status")["history_capacity"] == 8, "execcountctl reload applied History=8")

    with open(d.config, "a") as f:
        f.write("[Events]\nHistory=lots\n")
    line = sum(1 for _ in open(d.config))
    p = d.ctl("reload", rc=1)
    expect(f"execcountd.conf:{line}: invalid History=lots" in p.stderr and "ConfigError" in p.stderr,
           f"execcountctl reload of a bad file: {p.stderr!r}")
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: d.read_log().count(f"execcountd.conf:{line}: invalid History=lots") == 2,
             "bad config to be reported")
    expect("keeping the configuration in effect" in d.read_log(), "old config kept")
    expect(d.proc.poll() is None and d.ctl_json("status")["history_capacity"] == 8, "daemon runs on, unchanged")
    expect(d.ctl_json("stats", "--uid", str(a))["users"][0]["execs"] == 4, "counts kept over a failed reload")


def test_cli_errors(tmp):
    def ctl(*args):
        return subprocess.run([EXECCOUNTCTL, *args], capture_output=True, text=True, timeout=10)

    p = ctl("--socket", os.path.join(tmp, "nothing-here"), "stats")
    expect(p.returncode == 3 and p.stdout == "", f"not running: {p}")
    expect(p.stderr.count("\n") == 1 and "not running" in p.stderr and "systemctl start execcountd" in p.stderr,
           f"one line naming the fix: {p.stderr!r}")
    for args, words in [((), "Missing command"), (("bogus",), "Unknown command"),
                        (("stats", "--json=yaml"), "--json"), (("stats", "--uid", "x"), "--uid"),
                        (("stats", "--user", "no-such-user-execcount"), "Unknown user"),
                        (("status", "--uid", "0"), "do not apply"), (("stats", "-f"), "--follow"),
                        (("stats", "extra"), "Unexpected argument")]:
        p = ctl(*args)
        expect(p.returncode == 2 and words in p.stderr, f"execcountctl {args}: {p.returncode} {p.stderr!r}")
    expect(ctl("--help").returncode == 0 and "stats" in ctl("--help").stdout, "--help")
    expect(ctl("--version").stdout.startswith("execcountctl "), "--version")


# What execcountd 0.1.0 before privileged counts (f6cfcdf) answered GetStats, recorded.
OLD_STATS_REPLY = (b'{"parameters":{"users":[{"uid":1000,"execs":1,"failed":0,"events_throttled":0,'
                   b'"last_exec_usec":1796179968038830}],"since_usec":1796179967106395,"access":"all",'
                   b'"map_full_execs":0,"map_full_failed":0}}\0')


@contextlib.contextmanager
def fake_daemon(path, answer):
    """A daemon's side played at path, in a thread of its own, while in the with block:
    each call, as JSON, goes to answer, whose bytes are sent back. The thread is gone when
    the block is left, so that it cannot take a later socket's connections (which a
    thread in accept() on a closed socket's reused descriptor would)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)

    def serve():
        while True:
            try:
                c, _ = server.accept()
            except OSError:
                return
            data = b""
            with c:
                while True:
                    while b"\0" not in data:
                        chunk = c.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    if b"\0" not in data:
                        break
                    msg, data = data.split(b"\0", 1)
                    c.sendall(answer(json.loads(msg)))

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield
    finally:
        server.shutdown(socket.SHUT_RDWR)  # accept() fails at once
        t.join(10)
        server.close()


def test_older_daemon(tmp):
    """execcountctl and a daemon of a version before privileged counts: the column shows
    "-" and the JSON null, nothing fails. The daemon's side is its recorded reply. Asked for
    the login pairs, which it does not know, execcountctl says why it fails."""
    path = os.path.join(tmp, "old-daemon.sock")
    calls = []
    # The recorded reply twice; then with privileged null, which the interface allows.
    replies = iter((OLD_STATS_REPLY, OLD_STATS_REPLY, OLD_STATS_REPLY.replace(b"}],", b',"privileged":null}],'),
                    b'{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"io.execcount.GetLogins"}}\0'))

    def answer(call):
        calls.append(call)
        return next(replies)

    with fake_daemon(path, answer):
        out = subprocess.run([EXECCOUNTCTL, "--socket", path, "stats", "--json=short"], capture_output=True,
                             text=True, timeout=10)
        expect(out.returncode == 0, f"stats --json: {out}")
        users = json.loads(out.stdout)["users"]
        expect(users[0]["execs"] == 1 and users[0]["privileged"] is None, f"privileged: null: {users}")
        out = subprocess.run([EXECCOUNTCTL, "--socket", path, "stats", "--no-legend"], capture_output=True,
                             text=True, timeout=10)
        row = out.stdout.split()  # UID USER EXECS FAILED PRIVILEGED LAST EXEC
        expect(out.returncode == 0 and row[0] == "1000" and row[2:5] == ["1", "0", "-"], f"the table: {out}")
        out = subprocess.run([EXECCOUNTCTL, "--socket", path, "stats", "--json=short"], capture_output=True,
                             text=True, timeout=10)
        expect(out.returncode == 0 and json.loads(out.stdout)["users"][0]["privileged"] is None,
               f"privileged: null from the daemon: {out}")
        out = subprocess.run([EXECCOUNTCTL, "--socket", path, "stats", "--by=login"], capture_output=True,
                             text=True, timeout=10)
        expect(out.returncode == 1 and "of an earlier version than execcountctl" in out.stderr,
               f"stats --by=login against a daemon without GetLogins: {out}")
        expect([c["method"] for c in calls] == ["io.execcount.GetStats"] * 3 + ["io.execcount.GetLogins"],
               f"calls: {calls}")


def test_columns(tmp):
    """execcountctl asks GetStats for columns; a daemon before them refuses the parameter,
    and execcountctl calls again without it, on the same connection. Whichever the daemon
    sends, objects or columns, in one part or several, what execcountctl prints is the
    same, byte for byte, and so it is with "continues" before "parameters". The daemon's
    side is played here."""
    fields = ("uid", "execs", "failed", "events_throttled", "last_exec_usec", "privileged")
    users = [dict(zip(fields, u)) for u in ((0, 7, 2, 0, 1796179968038830, 0), (65534, 7, 2, 1, 1796179968000000, 3),
                                            (4000000000, 9223372036854775807, 0, 0, 0, 0),
                                            (4000000001, 0, 5, 5, 1796179968038831, 0))]
    tail = {"since_usec": 1796179967106395, "access": "all", "map_full_execs": 3, "map_full_failed": 4}

    def replies(columns, split):
        parts = [users[:split], users[split:]] if split else [users]
        out = b""
        for i, part in enumerate(parts):
            params = ({"users": [], "columns": {f: [u[f] for u in part] for f in fields}} if columns
                      else {"users": part})
            msg = {"continues": True} if i + 1 < len(parts) and mode["continues_first"] else {}
            msg["parameters"] = {**params, **tail}
            if i + 1 < len(parts):
                msg["continues"] = True
            out += json.dumps(msg).encode() + b"\0"
        return out

    calls = []
    mode = {}

    def answer(call):
        calls.append(call)
        asked = call.get("parameters", {}).get("columns", False)
        if asked and mode["old"]:
            return b'{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"columns"}}\0'
        return replies(asked, mode["split"])

    path = os.path.join(tmp, "columns.sock")
    with fake_daemon(path, answer):
        outputs = {}
        for old in (True, False):
            for split, continues_first in ((0, False), (2, False), (2, True)):
                mode.update(old=old, split=split, continues_first=continues_first)
                calls.clear()
                for args in (("--json=short",), ("--json=pretty",), ("--no-legend",)):
                    out = subprocess.run([EXECCOUNTCTL, "--socket", path, "--no-pager", "stats", *args],
                                         capture_output=True, text=True, timeout=10)
                    expect(out.returncode == 0, f"stats {args} (old daemon: {old}): {out}")
                    outputs.setdefault(args, set()).add(out.stdout)
                asked = [c.get("parameters", {}).get("columns") for c in calls]
                expect(asked == ([True, None] * 3 if old else [True] * 3),
                       f"columns asked, and without them from a daemon before: {asked}")
        for args, seen in outputs.items():
            expect(len(seen) == 1, f"stats {args}: the same whatever the reply's form: {seen}")
        short = json.loads(outputs[("--json=short",)].pop())
        expect([{f: u[f] for f in fields} for u in short["users"]] ==
               sorted(users, key=lambda u: (-u["execs"], -u["failed"], u["uid"])), f"the users: {short}")
        expect(short["users"][0]["user"] is None and short["users"][1]["user"] == "root", f"names: {short}")


def test_reply_members(tmp):
    """What execcountctl makes of GetStats replies whose members come in other orders: the
    parameters are read where they start; an error before or after them is the answer;
    of two parameters the first counts. The daemon's side is played here."""
    user = {"uid": 1000, "execs": 1, "failed": 0, "events_throttled": 0, "last_exec_usec": 1796179968038830}
    params = {"since_usec": 1796179967106395, "access": "all", "map_full_execs": 0, "map_full_failed": 0}
    first = json.dumps({"users": [user], **params})
    second = json.dumps({"users": [{**user, "uid": 1001, "execs": 2}], **params})
    cases = (
        ('{"parameters":%s,"error":"io.execcount.NoSuchUser"}' % first, 1,
         "execcountd refused io.execcount.GetStats: io.execcount.NoSuchUser"),
        ('{"error":"io.execcount.NoSuchUser","parameters":{"message":"none such"}}', 1,
         "execcountd refused io.execcount.GetStats: io.execcount.NoSuchUser: none such"),
        ('{"parameters":%s,"parameters":%s}' % (first, second), 0, "1000"),
        ('{"parameters":%s,"continues":false,"continues":true}' % first, 0, "1000"),
        ('{"parameters":%s,"continues":true' % first, 1, "malformed message"),
        ('[1]', 1, "malformed message"),
        ('{"continues":false}', 1, "malformed message"),
        ('{"parameters":{"since_usec":1}}', 1, "answered io.execcount.GetStats without users"),
    )
    path = os.path.join(tmp, "members.sock")
    reply = {}
    with fake_daemon(path, lambda call: reply["text"].encode() + b"\0"):
        for text, rc, want in cases:
            reply["text"] = text
            out = subprocess.run([EXECCOUNTCTL, "--socket", path, "--no-pager", "stats", "--no-legend"],
                                 capture_output=True, text=True, timeout=10)
            rows = [line.split()[0] for line in out.stdout.splitlines()]
            expect(out.returncode == rc and (want in out.stderr if rc else rows == [want]),
                   f"stats, answered {text[:80]}: {out}")


def test_daemon_refuses(tmp):
    def run(*args, config=None):
        path = os.path.join(tmp, "refuse.conf")
        with open(path, "w") as f:
            f.write(config or "")
        return subprocess.run([EXECCOUNTD, "--config", path, "--socket", os.path.join(tmp, "refuse.sock"), *args],
                              capture_output=True, text=True, timeout=30)

    p = run(config="[Probe]\nMode=auto\n\n[Counts]\nMaxUIDs=lots\n")
    expect(p.returncode == 1 and "refuse.conf:5: invalid MaxUIDs=lots" in p.stderr, f"bad config: {p}")
    p = run("--probe=magic")
    expect(p.returncode == 2 and "--probe=magic" in p.stderr, f"bad flag: {p}")
    p = run("--check-config", config="[Events]\nHistory=5\n")
    expect(p.returncode == 0 and "History=5" in p.stdout and "Mode=auto" in p.stdout, f"--check-config: {p}")
    p = run("--check-config", "--probe=tracepoint")
    expect("Mode=tracepoint" in p.stdout, "flags win over the file")
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    p = subprocess.run([EXECCOUNTD, "--config", os.path.join(tmp, "refuse.conf"), "--socket",
                        os.path.join(tmp, "refuse.sock"), "--fdstore"], capture_output=True, text=True, timeout=30,
                       env=env)
    expect(p.returncode == 1 and "--fdstore" in p.stderr and "NOTIFY_SOCKET" in p.stderr,
           f"--fdstore without systemd: {p}")
    # A directory is no configuration file, nor is "Key:Value" a setting.
    p = subprocess.run([EXECCOUNTD, "--check-config", "--config", tmp], capture_output=True, text=True, timeout=30)
    expect(p.returncode == 1 and f"{tmp}: is a directory, not a configuration file" in p.stderr, f"-c DIR: {p}")
    p = run("--check-config", config="[Counts]\nMaxUIDs:5\n")
    expect(p.returncode == 1 and "refuse.conf:2: expected Key=Value" in p.stderr, f"MaxUIDs:5: {p}")


def test_second_daemon(d):
    # Same pins: refused before it touches them.
    p = subprocess.run([EXECCOUNTD, "--config", d.config, "--socket", d.socket], capture_output=True, text=True,
                       timeout=30)
    expect(p.returncode == 1 and f"Another execcountd uses the pins in {d.pins}" in p.stderr, f"second daemon: {p}")
    # Other pins, same socket: refused too, and the first daemon's socket stays.
    p = subprocess.run([EXECCOUNTD, "--config", d.config, "--socket", d.socket, "--pin-directory", ""],
                       capture_output=True, text=True, timeout=30)
    expect(p.returncode == 1 and "Another execcountd is serving" in p.stderr, f"second daemon: {p}")
    expect(d.ctl_json("status")["pinned"], "the first daemon still serves, pinned")


def test_least_privilege(tmp):
    """A daemon that is not root, with only CAP_BPF and CAP_PERFMON, counts exactly."""
    run = os.path.join(tmp, "unprivileged")
    os.mkdir(run)
    os.chmod(run, 0o777)
    a = new_uid()
    d = None
    try:
        d = Daemon(run, owner=65534, wrapper=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                                       "--inh-caps=-all,+bpf,+perfmon", "--ambient-caps=-all,+bpf,+perfmon"])
        status = open(f"/proc/{d.proc.pid}/status").read()
        caps = int(next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:")), 16)
        expect(caps == (1 << 38) | (1 << 39), f"daemon capabilities: {caps:#x}")
        expect(os.stat(f"/proc/{d.proc.pid}").st_uid == 65534, "daemon runs as nobody")
        exec_ok(a, 3)
        exec_missing(a, 2)
        u = d.ctl_json("stats", "--uid", str(a))["users"]
        expect(u and u[0]["execs"] == 3 and u[0]["failed"] == 2, f"counts with least privilege: {u}")
    finally:
        if d:
            d.stop()


def test_mounts(tmp):
    """Where tracefs and bpffs are not mounted, the daemon mounts them, as systemd would."""
    run = os.path.join(tmp, "mounts")
    os.mkdir(run)
    d = None
    try:
        d = Daemon(run, wrapper=["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                 "umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/fs/bpf 2>/dev/null; "
                                 "exec \"$0\" \"$@\""])
        log = d.read_log()
        mounts = open(f"/proc/{d.proc.pid}/mountinfo").read()
        for path, fstype in (("/sys/kernel/tracing", "tracefs"), ("/sys/fs/bpf", "bpf")):
            expect(f"Mounted {fstype} on {path}, which was missing." in log, f"{fstype} mount not logged:\n{log}")
            expect(any(line.split()[4] == path and f" - {fstype} " in line for line in mounts.splitlines()),
                   f"{fstype} not mounted on {path} in the daemon's namespace")
    finally:
        if d:
            d.stop()


def test_records_on_stderr(tmp):
    """Without journald, exec records and summaries are readable lines on stderr."""
    run = os.path.join(tmp, "records")
    os.mkdir(run)
    a = new_uid()
    d = None
    try:
        d = Daemon(run, "[Journal]\nLogExecs=yes\nSummaryIntervalSec=1s\n")
        exec_ok(a, 2)
        exec_missing(a, 1)
        wait_for(lambda: d.read_log().count(f"UID {a} ran /bin/true (pid ") == 2, "two exec records")
        wait_for(lambda: f"UID {a} failed to run {MISSING}: ENOENT (pid " in d.read_log(), "the failure record")
        # Summaries come each second; together they hold this UID's 2 execs and 1 failure.
        def summed():
            execs = failed = 0
            for line in d.read_log().splitlines():
                if "Since the last summary" in line:
                    for uid, e, f in re.findall(r"(\d+): (\d+)/(\d+)", line):
                        if int(uid) == a:
                            execs, failed = execs + int(e), failed + int(f)
            return (execs, failed) == (2, 1)
        wait_for(summed, "summaries of the execs")
    finally:
        if d:
            d.stop()


def main():
    daemonlib.setup(sys.argv, 2200000000)
    tmp = tempfile.mkdtemp(prefix="test-daemon-")
    os.chmod(tmp, 0o755)
    d = None
    failed = 0
    try:
        d = Daemon(tmp, "[Counts]\nMaxUIDs=4096\n[Events]\nHistory=2048\n")
        failed = daemonlib.run_tests([
            ("stats", lambda: test_stats(d)),
            ("stats by login", lambda: test_logins(d, suid_root_true(tmp))),
            ("stats by unit", lambda: test_units(d)),
            ("GetLogins over many pairs: the caller pays for reading them", lambda: test_logins_cost(tmp)),
            ("GetUnits over a full map: the caller pays for reading it", lambda: test_units_cost(tmp)),
            ("a full map of per-unit counts is counted and reported", lambda: test_units_full(tmp)),
            ("a full map of login pairs is counted and reported", lambda: test_logins_full(tmp)),
            ("events", lambda: test_events(d)),
            ("events: command lines", lambda: test_argv(d, tmp)),
            ("status", lambda: test_status(d, 4096, 2048)),
            ("follow", lambda: test_follow(d)),
            ("watch", lambda: test_watch_raw(d)),
            ("wakeup interval: watched or not", lambda: test_wakeup_interval(d)),
            ("interface", lambda: test_interface(d)),
            ("bad clients", lambda: test_bad_clients(d)),
            ("second daemon", lambda: test_second_daemon(d)),
            ("reset", lambda: test_reset(d, suid_root_true(tmp))),
            ("reload", lambda: test_reload(d)),
            ("cli errors", lambda: test_cli_errors(tmp)),
            ("a daemon before privileged counts", lambda: test_older_daemon(tmp)),
            ("GetStats in columns, and from a daemon before them", lambda: test_columns(tmp)),
            ("GetStats replies with their members in other orders", lambda: test_reply_members(tmp)),
            ("daemon refuses bad settings", lambda: test_daemon_refuses(tmp)),
            ("least privilege", lambda: test_least_privilege(tmp)),
            ("mounts", lambda: test_mounts(tmp)),
            ("records on stderr", lambda: test_records_on_stderr(tmp)),
        ])
        rc = d.stop()
        log = d.read_log()
        if rc != 0 or "Stopped." not in log:
            failed += 1
            print(f"not ok - clean stop (exit {rc})")
        elif os.path.exists(d.socket):
            failed += 1
            print("not ok - socket removed at stop")
        else:
            print("ok - clean stop")
        if failed:
            print("---- execcountd log ----\n" + log)
    finally:
        if d and d.proc.poll() is None:
            d.kill()
        daemonlib.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
