#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-e2e.py: execcountd as a systemd service, under a real systemd as PID 1.

    test-e2e.py BUILD-DIR CACHE-DIR EXECLOAD NOOP

Boots a Debian 12 root file system (made with debootstrap on first use and kept in
CACHE-DIR) with systemd-nspawn, with this build installed in it, and checks the service
end to end with exact numbers. The container shares this machine's kernel, so the
daemon sees the host's execs too: every check counts the execs of a UID of its own.
Leaves nothing behind: processes, cgroups, mounts, temporary files.
"""

import json
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402
from nspawnlib import (MISSING, TOOLS, Container, as_uid, clean_up_on_sigterm, exec_as, expect,  # noqa: E402
                       history_churned, last_seq, log, mount_bpffs, no_leak_checks, remove_stale_cgroups,
                       require_root_and, run_steps, show, stage_build, stats_of, umount, wait_for)

BUILD, CACHE, EXECLOAD, NOOP = sys.argv[1:5]
ROOTFS = os.path.join(CACHE, rootfs.NAME)
UID_BASE = 2600000000 + (os.getpid() & 0xFFFF) * 64

ID_STARTED = "a7310ee901524ace9b9b6a2d9c24f27f"
ID_RELOADED = "a9fe13e9634b43f99878a7caeab604a6"
ID_RELOAD_FAILED = "9d87cbdcd8b543fbb4bcb849691bc935"
ID_STOPPING = "291fe7a3278f4c69bf887fb7d4baa8df"
ID_EXEC = "8783b7ad605e4d1d9c03096ae0974cf8"
ID_EXECS_SUPPRESSED = "4a44bf7e7e0f4c90b92a85e7bd733328"
ID_SUMMARY = "e1fa38b425fa46d391f4b2a6a3666a82"
PINS = "/sys/fs/bpf/execcountd"


# ---- Checks

def reload(c, ok=True):
    """systemctl reload: synchronous, it fails when the configuration is refused. Returns
    the daemon's journal entry about it."""
    message_id = ID_RELOADED if ok else ID_RELOAD_FAILED
    before = len(c.journal(f"MESSAGE_ID={message_id}"))
    p = c.run("systemctl", "reload", "execcountd", check=False)
    expect((p.returncode == 0) == ok, f"systemctl reload exited {p.returncode}: {p.stderr}")
    expect(show(c, "ActiveState") == "active", f"after the reload the unit is {show(c, 'ActiveState')}")
    entries = c.journal(f"MESSAGE_ID={message_id}")[before:]
    expect(len(entries) == 1, f"expected one reload message, got {entries}")
    return entries[0]


def write_dropin(etc, text):
    os.makedirs(os.path.join(etc, "execcountd.conf.d"), exist_ok=True)
    with open(os.path.join(etc, "execcountd.conf.d", "50-e2e.conf"), "w") as f:
        f.write(text)


def check_start(c):
    c.run("systemctl", "start", "execcountd")
    expect(show(c, "ActiveState") == "active" and show(c, "SubState") == "running", "execcountd is not running")
    # The service wants its socket unit: the socket always comes from systemd.
    expect(show(c, "ActiveState", "execcountd.socket") == "active", "execcountd.socket came along")
    started = wait_for(lambda: c.journal(f"MESSAGE_ID={ID_STARTED}"), "the start message")
    expect(len(started) == 1, f"expected one start message, got {len(started)}")
    mode = started[0].get("PROBE_MODE")
    expect(mode in ("fentry", "kprobe", "tracepoint"), f"start message without probe mode: {started[0]}")
    expect(started[0].get("SOCKET_ACTIVATED") == "yes" and started[0].get("SOCKET") == "/run/execcountd/io.execcount",
           f"socket from systemd: {started[0]}")
    expect(f"with the {mode} probes" in started[0]["MESSAGE"], started[0]["MESSAGE"])
    status = show(c, "StatusText")
    expect(re.match(rf"Counting execs with the {mode} probes: \d+ execs, \d+ failed, \d+ UIDs$", status),
           f"STATUS=: {status!r}")
    log(f"  started with the {mode} probes; rejected: {started[0].get('PROBE_REJECTED', 'none')}")
    return mode


def check_counts(c, uid):
    exec_as(c, uid, ok=7, missing=3)
    expect(stats_of(c, uid) == (7, 3), f"stats --uid {uid}: {stats_of(c, uid)}, expected (7, 3)")
    users = {u["uid"]: u for u in json.loads(c.run("execcountctl", "stats", "--json").stdout)["users"]}
    expect(users[uid]["execs"] == 7 and users[uid]["failed"] == 3, f"stats --json: {users.get(uid)}")
    table = c.run("execcountctl", "stats", "--no-pager").stdout
    expect(any(line.split()[:4] == [str(uid), "-", "7", "3"] for line in table.splitlines() if line.strip()),
           f"no row for {uid} in:\n{table}")


def check_privileged(c, uid):
    """A setuid-root program run by an unprivileged UID is a privileged exec; a plain one,
    and root's own, are not."""
    suid = "/opt/e2e-suid-true"  # /usr/local is the build, read-only
    c.run("install", "-D", "-o", "root", "-g", "root", "-m", "4755", "/bin/true", suid)
    exec_as(c, uid, ok=2)
    for _ in range(4):
        expect(as_uid(c, uid, suid).returncode == 0, f"exec of {suid} failed")
    users = json.loads(c.run("execcountctl", "stats", "--uid", str(uid), "--json=short").stdout)["users"]
    expect(len(users) == 1 and (users[0]["execs"], users[0]["failed"], users[0]["privileged"]) == (6, 0, 4),
           f"UID {uid}: {users}, expected 6 execs, 4 of them privileged")
    table = c.run("execcountctl", "stats", "--uid", str(uid), "--no-pager", "--no-legend").stdout
    expect(table.split()[:5] == [str(uid), "-", "6", "0", "4"], f"the PRIVILEGED column: {table}")
    c.run("rm", "-f", suid)


def check_logins(c, uid):
    """A real login (PAM's login stack, through systemd, whose pam_loginuid sets the login
    UID) makes execs that count under that login UID, exactly; the user sees them."""
    name = "e2e-login"
    c.run("useradd", "--no-create-home", f"--uid={uid}", "--shell=/bin/sh", name)
    try:
        p = c.run("systemd-run", "--wait", "--pipe", "--quiet", "-p", "PAMName=login", f"--uid={uid}", "/bin/sh",
                  "-c", "/bin/true; /bin/true; /bin/true; cat /proc/self/loginuid", check=False)
        expect(p.returncode == 0 and p.stdout.strip() == str(uid), f"a login of {name}: {p}")
        # sh, three true and cat. (The login's session modules may run programs as root
        # under the same login UID, and systemd a user manager as the user outside it.)
        reply = json.loads(c.run("execcountctl", "stats", "--by=login", "--uid", str(uid), "--json=short").stdout)
        got = {p["login_uid"]: p["execs"] for p in reply["logins"]}
        expect(got.get(uid) == 5, f"the login's execs as {name}: {reply}")
        own = c.run("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "execcountctl", "stats",
                    "--by=login", "--no-pager", "--no-legend").stdout
        expect([str(uid), name, str(uid), name, "5"] in [line.split() for line in own.splitlines()],
               f"the user's own view: {own}")
    finally:
        c.run("userdel", name, check=False)


def units_of(c, *args, uid=None):
    """{unit: (execs, failed)} from execcountctl stats --by=unit, as uid if given."""
    cmd = ["execcountctl", "stats", "--by=unit", "--json=short", *args]
    if uid is not None:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *cmd]
    reply = json.loads(c.run(*cmd).stdout)
    return {u["unit"]: (u["execs"], u["failed"]) for u in reply["units"]}, reply


def check_units(c, uid):
    """Execs of a transient service with User=, of a timer's service and of a scope with
    --uid count under those units, exactly, and keep their totals once the units end; a
    user sees only their own rows."""
    other = uid + 1
    # User= wants users the user database knows.
    c.run("useradd", "--no-create-home", f"--uid={uid}", "e2e-units")
    c.run("useradd", "--no-create-home", f"--uid={other}", "e2e-units-2")
    try:
        check_units_as(c, uid, other)
    finally:
        c.run("userdel", "e2e-units", check=False)
        c.run("userdel", "e2e-units-2", check=False)


def check_units_as(c, uid, other):
    script = f"/bin/true; /bin/true; {MISSING} 2>/dev/null; exit 0"
    # A transient service as uid: sh, two true and a failure.
    c.run("systemd-run", "--wait", "--quiet", "--unit=e2e-job", "-p", f"User={uid}", "/bin/sh", "-c", script)
    # A timer's service, once: sh and a true as the other UID.
    c.run("systemd-run", "--quiet", "--unit=e2e-tick", "--on-active=1",
          "--timer-property=AccuracySec=1us", "-p", f"User={other}", "/bin/sh", "-c",
          "/bin/true")
    # (Its service is unloaded once it ran: its execs say when.)
    wait_for(lambda: units_of(c)[0].get("e2e-tick.service") == (2, 0) and
             show(c, "ActiveState", "e2e-tick.service") != "active", "the timer's service to run, once")
    # A scope, as systemd-run --scope makes for a session-like process: systemd-run itself
    # execs sh in it, as uid.
    c.run("systemd-run", "--scope", "--quiet", "--unit=e2e-scope", f"--uid={uid}", "/bin/sh", "-c", script)

    want = {"e2e-job.service": (3, 1), "e2e-tick.service": (2, 0), "e2e-scope.scope": (3, 1)}
    got, reply = units_of(c)
    expect({u: got.get(u) for u in want} == want and reply["access"] == "all", f"stats --by=unit: {reply}")
    users = json.loads(c.run("execcountctl", "stats", "--unit=e2e-job", "--json=short").stdout)
    expect([(u["uid"], u["execs"], u["failed"]) for u in users["users"]] == [(uid, 3, 1)], f"--unit: {users}")
    table = c.run("execcountctl", "stats", "--by=unit", "--no-pager").stdout
    expect(any(line.split()[:3] == ["e2e-job.service", "3", "1"] for line in table.splitlines()),
           f"no row for e2e-job.service in:\n{table}")

    # Each user sees their own rows only (and their execcountctl's exec, in this test's
    # cgroup).
    mine, reply = units_of(c, uid=uid)
    expect(reply["access"] == "own" and mine.get("e2e-job.service") == (3, 1) and
           mine.get("e2e-scope.scope") == (3, 1) and "e2e-tick.service" not in mine and
           "execcountd.service" not in mine, f"{uid} sees: {reply}")
    theirs, reply = units_of(c, uid=other)
    expect(theirs.get("e2e-tick.service") == (2, 0) and "e2e-job.service" not in theirs, f"{other} sees: {reply}")

    # The units have ended and their cgroups are gone: a restart (whose stop snapshots
    # and folds them) keeps their totals.
    c.run("systemctl", "stop", "e2e-tick.timer", check=False)  # (unloaded once it elapsed)
    c.run("systemctl", "restart", "execcountd")
    got, reply = units_of(c)
    expect({u: got.get(u) for u in want} == want, f"after the units ended and a restart: {reply}")


def machines_of(c):
    """{unit: machine or None} from execcountctl stats --by=unit."""
    return {u["unit"]: u.get("machine") for u in units_of(c)[1]["units"]}


def check_machine(c, uid):
    """A machine that systemd-machined says runs in a service (as systemd-nspawn
    --keep-unit registers one; here RegisterMachine with the service's process as its
    leader): the service's row names the machine, also after a restart of the daemon (which
    asks machined again), and once the machine has ended."""
    c.run("useradd", "--no-create-home", f"--uid={uid}", "e2e-machine")
    try:
        # sh, two true, and the sleep it becomes: 4 execs.
        c.run("systemd-run", "--quiet", "--unit=e2e-guest-host", "-p", f"User={uid}", "/bin/sh", "-c",
              "/bin/true; /bin/true; exec /bin/sleep 600")
        wait_for(lambda: units_of(c)[0].get("e2e-guest-host.service") == (4, 0), "the service's 4 execs")
        expect(machines_of(c).get("e2e-guest-host.service") is None, "no machine before one is registered")
        leader = show(c, "MainPID", "e2e-guest-host.service")
        c.run("busctl", "call", "org.freedesktop.machine1", "/org/freedesktop/machine1",
              "org.freedesktop.machine1.Manager", "RegisterMachine", "sayssus", "e2e-guest", "0", "", "container",
              leader, "/")
        wait_for(lambda: machines_of(c).get("e2e-guest-host.service") == "e2e-guest", "the service's row to name "
                 "the machine")
        got = machines_of(c)
        expect(all(m is None for u, m in got.items() if u != "e2e-guest-host.service" and
                   not u.startswith("machine-")), f"only the machine's unit names it: {got}")
        c.run("systemctl", "restart", "execcountd")
        wait_for(lambda: machines_of(c).get("e2e-guest-host.service") == "e2e-guest", "the machine's name after a "
                 "restart")
        c.run("systemctl", "stop", "e2e-guest-host.service")
        wait_for(lambda: c.run("busctl", "call", "org.freedesktop.machine1", "/org/freedesktop/machine1",
                               "org.freedesktop.machine1.Manager", "GetMachine", "s", "e2e-guest",
                               check=False).returncode != 0, "the machine to end")
        expect(machines_of(c).get("e2e-guest-host.service") == "e2e-guest" and
               units_of(c)[0].get("e2e-guest-host.service") == (4, 0), f"once it ended: {units_of(c)[1]}")
    finally:
        c.run("systemctl", "stop", "e2e-guest-host.service", check=False)
        c.run("userdel", "e2e-machine", check=False)


def storm(c, uid):
    """Starts execload as uid in the container: successes and failures at once."""
    ok = c.popen(f"{TOOLS}/execload", "--workers=2", "--count=1500", f"--uid={uid}", f"--program={TOOLS}/noop",
                 "--json")
    bad = c.popen(f"{TOOLS}/execload", "--workers=1", "--mode=failure", "--count=300000", f"--uid={uid}", "--json")
    return ok, bad


def storm_done(procs):
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        expect(p.returncode == 0, f"execload failed: {out} {err}")
        results.append(json.loads(out))
    return results


def journal_after(c, before, message_id):
    return c.journal(f"MESSAGE_ID={message_id}")[before:]


def check_restart_storm(c, uid):
    stopping, started = len(c.journal(f"MESSAGE_ID={ID_STOPPING}")), len(c.journal(f"MESSAGE_ID={ID_STARTED}"))
    pid = show(c, "MainPID")
    procs = storm(c, uid)
    time.sleep(0.3)
    c.run("systemctl", "restart", "execcountd")
    ok, bad = storm_done(procs)
    expect(show(c, "MainPID") != pid, "a new daemon")
    got = stats_of(c, uid)
    expect(got == (ok["execs"], bad["failed"]) and ok["execs"] == 3000,
           f"after systemctl restart: counted {got}, made {ok['execs']} execs and {bad['failed']} failures")
    stop = journal_after(c, stopping, ID_STOPPING)
    expect(len(stop) == 1 and "stay attached if systemd restarts" in stop[0]["MESSAGE"],
           f"the links were in the fd store: {stop}")
    start = journal_after(c, started, ID_STARTED)
    expect(len(start) == 1 and start[0].get("COUNTS_ORIGIN") == "running", f"took over the probes: {start}")
    log(f"  systemctl restart during a storm: {ok['execs']} execs ({ok['rate']:.0f}/s) and {bad['failed']} "
        f"failures ({bad['rate']:.0f}/s) made, as many counted")


def check_crash_storm(c, uid):
    restarts, pid = int(show(c, "NRestarts")), show(c, "MainPID")
    procs = storm(c, uid)
    time.sleep(0.3)
    c.run("systemctl", "kill", "--signal=SIGKILL", "execcountd")
    wait_for(lambda: int(show(c, "NRestarts")) == restarts + 1 and show(c, "SubState") == "running",
             "systemd to restart the killed daemon")
    ok, bad = storm_done(procs)
    expect(show(c, "MainPID") != pid, "a new daemon")
    got = stats_of(c, uid)
    expect(got == (ok["execs"], bad["failed"]), f"after kill -9: counted {got}, made {ok['execs']}/{bad['failed']}")
    status = json.loads(c.run("execcountctl", "status", "--json=short").stdout)
    expect(status["counts_origin"] == "running" and status["pinned"], f"took over the probes: {status}")
    # The boot ID as the machine knows it (nspawn gives the container one of its own), which
    # the service's sandbox hides from the daemon: systemd passes it.
    boot_id = c.run("cat", "/proc/sys/kernel/random/boot_id").stdout.strip().replace("-", "")
    expect(status["boot_id"] == boot_id, f"boot ID: {status['boot_id']}, the machine's {boot_id}")


def check_fails_for_good(c, uid):
    """A daemon that crashes and cannot start again: once systemd gives up, it closes the
    fd store, and the probes leave the kernel; the counts stay pinned."""
    exec_as(c, uid, ok=1)
    before = stats_of(c, uid)
    c.run("mkdir", "-p", "/run/systemd/system/execcountd.service.d")
    c.run("sh", "-c", "printf '[Unit]\\nStartLimitIntervalSec=60\\nStartLimitBurst=2\\n"
          "[Service]\\nExecStartPre=/bin/false\\n' >/run/systemd/system/execcountd.service.d/broken.conf")
    c.run("systemctl", "daemon-reload")
    c.run("systemctl", "kill", "--signal=SIGKILL", "execcountd")
    wait_for(lambda: show(c, "ActiveState") == "failed", "systemd to give up on the daemon", timeout=30)
    exec_as(c, uid, ok=2)  # not counted: the probes went with the fd store
    c.run("rm", "-r", "/run/systemd/system/execcountd.service.d")
    c.run("systemctl", "daemon-reload")
    c.run("systemctl", "reset-failed", "execcountd.service", "execcountd.socket")
    c.run("systemctl", "start", "execcountd.socket", "execcountd.service")
    got = stats_of(c, uid)
    expect(got == before, f"after systemd gave up, the probes were detached and the counts kept: {got} vs {before}")
    status = json.loads(c.run("execcountctl", "status", "--json=short").stdout)
    expect(status["counts_origin"] == "pinned-maps", f"origin after a failure: {status['counts_origin']}")


def pinned_links(c):
    return [n for n in c.run("ls", PINS).stdout.split() if n.startswith("link-")]


def check_links_handover(c, uid):
    """The links move between the two places a daemon keeps them: pinned (a daemon run
    without --fdstore, as earlier builds of the unit ran it) and systemd's fd store. Either
    way the old links are let go of before the new probes attach: no exec counts twice."""
    unit = c.run("systemctl", "cat", "execcountd.service").stdout
    fdstore_start = next(line for line in unit.splitlines() if line.startswith("ExecStart=") and "--fdstore" in line)
    dropins = "/run/systemd/system/execcountd.service.d"
    c.run("mkdir", "-p", dropins)
    c.run("sh", "-c", 'printf "%s" "$1" >"$2"', "sh",
          f"[Service]\nExecStart=\n{fdstore_start.replace(' --fdstore', '')}\nRestart=no\n",
          f"{dropins}/pinned.conf")
    c.run("systemctl", "daemon-reload")
    base = stats_of(c, uid)

    # From the fd store to pins: systemd hands the stored links to a daemon that pins.
    c.run("systemctl", "restart", "execcountd")
    exec_as(c, uid, ok=3)
    got = stats_of(c, uid)
    expect(got == (base[0] + 3, base[1]), f"stored links let go of by a pinning daemon: {got}, had {base}, made 3")
    expect(pinned_links(c), "the new daemon pinned its links")

    # Killed outright, it leaves its links pinned, and they count on without it.
    c.run("systemctl", "kill", "--signal=SIGKILL", "execcountd")
    wait_for(lambda: show(c, "ActiveState") in ("failed", "inactive"), "the pinning daemon to be dead")
    exec_as(c, uid, ok=2)
    expect(pinned_links(c), "its links stay pinned")

    # From pins to the fd store: the service as shipped unpins them before attaching.
    c.run("rm", "-r", dropins)
    c.run("systemctl", "daemon-reload")
    c.run("systemctl", "reset-failed", "execcountd.service")
    c.run("systemctl", "start", "execcountd.service")
    exec_as(c, uid, ok=3)
    got = stats_of(c, uid)
    expect(got == (base[0] + 8, base[1]),
           f"pinned links let go of by a storing daemon: {got}, had {base}, made 3 + 2 (while down) + 3")
    expect(not pinned_links(c), f"no link left pinned: {pinned_links(c)}")


def check_unprivileged(c, uid):
    exec_as(c, uid + 1, ok=1)
    p = c.run("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "execcountctl", "stats",
              "--json=short")
    got = json.loads(p.stdout)
    # The execcountctl that asked is the user's first exec.
    expect(got["access"] == "own" and [(u["uid"], u["execs"]) for u in got["users"]] == [(uid, 1)],
           f"an unprivileged user sees its own UID only: {got}")
    p = c.run("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "execcountctl", "stats", "--uid",
              str(uid + 1), check=False)
    expect(p.returncode == 1 and "Only root and the members" in p.stderr, f"another user's: {p.stderr!r}")
    c.run("useradd", "--uid", str(uid + 2), "--groups", "execcount", "e2e-auditor")
    p = c.run("setpriv", f"--reuid={uid + 2}", f"--regid={uid + 2}", "--init-groups", "execcountctl", "stats",
              "--uid", str(uid + 1), "--json=short")
    got = json.loads(p.stdout)
    expect(got["access"] == "all" and got["users"][0]["execs"] == 1, f"a member of group execcount: {got}")


def check_log_execs(c, etc, uid):
    write_dropin(etc, "[Journal]\nLogExecs=yes\nSummaryIntervalSec=2s\n")
    reload(c)
    status = show(c, "StatusText")
    expect(status.startswith("Counting execs with the "), f"STATUS= after the reload: {status!r}")
    exec_as(c, uid, ok=2, missing=1)
    start = time.time()
    entries = wait_for(lambda: (lambda e: e if len(e) >= 3 else None)(c.journal(f"EXEC_UID={uid}")),
                       f"3 exec entries of UID {uid}")
    expect(len(entries) == 3, f"expected 3 entries, got {len(entries)}")
    for e in entries:
        expect(e["MESSAGE_ID"] == ID_EXEC and int(e["EXEC_PID"]) > 0 and int(e["EXEC_PPID"]) > 0, f"entry: {e}")
        expect(e.get("EXEC_EUID") == str(uid), f"EXEC_EUID: {e}")
        expect(e.get("EXEC_PARENT_COMM") and "EXEC_ARGV" not in e, f"a parent; no arguments without LogArgv=: {e}")
        expect("EXEC_USER" not in e, f"UID {uid} has no name: {e}")
        expect(abs(int(e["EXEC_TIME_USEC"]) / 1e6 - start) < 30, f"EXEC_TIME_USEC: {e}")
    ok = [e for e in entries if e["EXEC_RESULT"] == "0"]
    failed = [e for e in entries if e["EXEC_RESULT"] == "-2"]
    # A success is named after the new program, a failure after the caller (setpriv).
    expect(len(ok) == 2 and all(e["EXEC_FILENAME"] == "/bin/true" and e["EXEC_COMM"] == "true" for e in ok),
           f"successes: {ok}")
    expect(len(failed) == 1 and failed[0]["EXEC_FILENAME"] == MISSING and failed[0]["EXEC_ERROR"] == "ENOENT"
           and failed[0]["EXEC_COMM"] == "setpriv", f"failure: {failed}")

    # A user with a name has EXEC_USER.
    c.run("useradd", "--uid", str(uid + 50), "e2e-user")
    exec_as(c, uid + 50, ok=1)
    named = wait_for(lambda: c.journal(f"EXEC_UID={uid + 50}"), "the named user's entry")
    expect(named[0].get("EXEC_USER") == "e2e-user", f"EXEC_USER: {named[0]}")

    # Summaries every 2 s: together they account for this UID's execs exactly.
    def summed():
        execs = failed_n = 0
        for s in c.journal(f"MESSAGE_ID={ID_SUMMARY}"):
            entries = s["SUMMARY_ENTRY"] if isinstance(s["SUMMARY_ENTRY"], list) else [s["SUMMARY_ENTRY"]]
            for entry in entries:
                u, e, f = (int(x) for x in entry.split())
                if u == uid:
                    execs, failed_n = execs + e, failed_n + f
        return (execs, failed_n) if (execs, failed_n) == (2, 1) else None
    wait_for(summed, f"summaries of UID {uid}'s execs")

    # Execs in a unit name it in EXEC_UNIT; the summaries name the busiest units, with
    # this one's execs among them.
    # (As e2e-user: root's entries are spent on this test's own commands.)
    c.run("systemd-run", "--wait", "--quiet", "--unit=e2e-logged", "-p", f"User={uid + 50}", "/bin/sh", "-c",
          "/bin/true; /bin/true")
    logged = wait_for(lambda: (lambda e: e if len(e) >= 3 else None)(c.journal("EXEC_UNIT=e2e-logged.service")),
                      "3 exec entries of e2e-logged.service")
    expect(len(logged) == 3 and sorted(e["EXEC_FILENAME"] for e in logged) == ["/bin/sh", "/bin/true", "/bin/true"],
           f"EXEC_UNIT: {logged}")

    def unit_summed():
        execs = 0
        for s in c.journal(f"MESSAGE_ID={ID_SUMMARY}"):
            units = s.get("SUMMARY_UNIT", [])
            for entry in units if isinstance(units, list) else [units]:
                name, e, _ = entry.rsplit(" ", 2)
                execs += int(e) if name == "e2e-logged.service" else 0
        return execs if execs == 3 else None
    wait_for(unit_summed, "summaries of e2e-logged.service's execs")
    # (Its execs may fall into two summaries; either names it.)
    busiest = [s["MESSAGE"] for s in c.journal(f"MESSAGE_ID={ID_SUMMARY}") if "e2e-logged.service: " in s["MESSAGE"]]
    expect(busiest and "busiest units: " in busiest[0], f"the summary's message names the unit: {busiest}")


def check_argv(c, etc, uid):
    """Events carry the command line as passed, cut at 1024 bytes and marked so, and the
    audit session of a login; the journal carries the arguments only with LogArgv=yes."""
    def login_exec(*argv):
        # As a login would: the login UID first, which starts an audit session.
        c.run("sh", "-c", f'echo {uid} >/proc/self/loginuid && exec setpriv --reuid={uid} --regid={uid} '
              '--clear-groups "$@"', "sh", *argv)

    def events():
        out = c.run("execcountctl", "events", "--uid", str(uid), "--json=short").stdout
        return [json.loads(line) for line in out.splitlines()]

    # This host's other execs are in the history too: a long one, so that on a busy machine
    # they do not push the test's own out before it reads them.
    history = "[Events]\nHistory=65536\n"
    write_dropin(etc, history + "[Journal]\nLogExecs=yes\nLogArgv=yes\n")
    reload(c)
    before = last_seq(c)
    login_exec("/bin/echo", "a b", "", "it's")
    login_exec("/bin/echo", "z" * 2000)
    ev = events()
    expect(len(ev) == 2 or history_churned(c, before), f"expected 2 events of UID {uid}: {ev}")
    expect(len(ev) == 2, f"this machine's other execs pushed UID {uid}'s out of a history of 65536 events")
    expect(ev[0]["argv"] == ["/bin/echo", "a b", "", "it's"] and ev[0]["argv_truncated"] is False,
           f"arguments as passed: {ev[0]}")
    # "/bin/echo" and its NUL take 10 of the 1024 bytes; the long one gets the rest.
    expect(ev[1]["argv"] == ["/bin/echo", "z" * 1014] and ev[1]["argv_truncated"] is True,
           f"arguments cut at 1024 bytes: {ev[1]}")
    expect(all(e["login_uid"] == uid and e["session"] is not None and e["parent_comm"] for e in ev),
           f"login UID, session and parent: {ev}")
    expect(ev[0]["session"] != ev[1]["session"], f"each login is a session of its own: {ev}")

    entries = wait_for(lambda: (lambda e: e if len(e) >= 2 else None)(c.journal(f"EXEC_UID={uid}")),
                       f"2 exec entries of UID {uid}")
    expect(entries[0].get("EXEC_ARGV") == '/bin/echo "a b" "" "it\'s"' and "EXEC_ARGV_TRUNCATED" not in entries[0],
           f"EXEC_ARGV: {entries[0]}")
    expect(entries[1].get("EXEC_ARGV") == "/bin/echo " + "z" * 1014 and entries[1].get("EXEC_ARGV_TRUNCATED") == "1",
           f"EXEC_ARGV cut: {entries[1]}")
    for e, event in zip(entries, ev):
        expect(e.get("EXEC_SESSION") == str(event["session"]) and e.get("EXEC_LOGINUID") == str(uid)
               and e.get("EXEC_PARENT_COMM") == event["parent_comm"], f"entry {e} of event {event}")

    # Without LogArgv=, the journal has none; the event still has them.
    write_dropin(etc, history + "[Journal]\nLogExecs=yes\n")
    reload(c)
    login_exec("/bin/echo", "secret")
    ev = events()
    expect(ev and ev[-1]["argv"] == ["/bin/echo", "secret"], f"the event keeps the arguments: {ev}")
    entries = wait_for(lambda: (lambda e: e if len(e) >= 3 else None)(c.journal(f"EXEC_UID={uid}")),
                       f"3 exec entries of UID {uid}")
    expect("EXEC_ARGV" not in entries[2] and "EXEC_SESSION" in entries[2], f"LogArgv=no: {entries[2]}")
    write_dropin(etc, "")
    reload(c)


def check_rate_limit(c, etc, uid):
    write_dropin(etc, "[Journal]\nLogExecs=yes\nLogExecsRateLimitIntervalSec=30s\nLogExecsRateLimitBurst=20\n")
    reload(c)
    before = sum(int(e["EXECS_SUPPRESSED"]) for e in c.journal(f"MESSAGE_ID={ID_EXECS_SUPPRESSED}"))
    script = f"for i in $(seq 60); do setpriv --reuid={uid} --regid={uid} --clear-groups /bin/true; done"
    c.run("sh", "-c", script)
    expect(stats_of(c, uid) == (60, 0), "the counts include every exec")
    # New limits start a new interval: what the old one held back is reported then.
    write_dropin(etc, "[Journal]\nLogExecs=yes\nLogExecsRateLimitIntervalSec=1s\nLogExecsRateLimitBurst=20\n")
    reload(c)
    suppressed = wait_for(lambda: sum(int(e["EXECS_SUPPRESSED"])
                                      for e in c.journal(f"MESSAGE_ID={ID_EXECS_SUPPRESSED}")) - before,
                          "the report of held-back entries")
    logged = len(c.journal(f"EXEC_UID={uid}"))
    expect(logged <= 20 and logged + suppressed >= 60, f"{logged} logged, {suppressed} held back, of 60 execs")
    log(f"  rate limit: {logged} of 60 execs logged, {suppressed} entries reported as left out")


def check_reload(c, etc, uid):
    before = stats_of(c, uid)
    write_dropin(etc, "[Events]\nHistory=77\n")
    reload(c)
    status = json.loads(c.run("execcountctl", "status", "--json=short").stdout)
    expect(status["history_capacity"] == 77, f"History=77 not applied: {status['history_capacity']}")
    expect(stats_of(c, uid) == before, "counts kept over the reload")

    write_dropin(etc, "[Events]\nHistory=77\n\nHistory=lots\n")
    bad = reload(c, ok=False)
    expect("50-e2e.conf:4: invalid History=lots" in bad.get("CONFIG_ERROR", ""), f"reload failure: {bad}")
    expect(show(c, "ActiveState") == "active", "still active after a bad config")
    status = json.loads(c.run("execcountctl", "status", "--json=short").stdout)
    expect(status["history_capacity"] == 77 and stats_of(c, uid) == before, "old config and counts kept")
    write_dropin(etc, "")
    reload(c)


def check_socket_activation(c, uid):
    c.run("systemctl", "stop", "execcountd.service")
    c.run("systemctl", "start", "execcountd.socket")
    expect(show(c, "ActiveState") == "inactive", "service stopped")
    started_before = len(c.journal(f"MESSAGE_ID={ID_STARTED}"))
    out = c.run("execcountctl", "stats", "--uid", str(uid), "--json=short").stdout
    # The daemon started for this call: it counts from now on, and this UID ran nothing yet.
    expect(json.loads(out)["users"] == [], f"stats through the socket: {out}")
    expect(show(c, "ActiveState") == "active", "the socket started the service")
    started = wait_for(lambda: c.journal(f"MESSAGE_ID={ID_STARTED}")[started_before:], "the start message")
    expect(len(started) == 1 and started[0]["SOCKET_ACTIVATED"] == "yes", f"activated start: {started}")
    # The activated daemon counts like the other.
    exec_as(c, uid + 1, ok=2, missing=2)
    expect(stats_of(c, uid + 1) == (2, 2), "counts after socket activation")


def check_watchdog(c):
    c.run("mkdir", "-p", "/run/systemd/system/execcountd.service.d")
    c.run("sh", "-c", "printf '[Service]\\nWatchdogSec=2s\\nTimeoutAbortSec=2s\\nRestartSec=0\\n' "
                      "> /run/systemd/system/execcountd.service.d/50-watchdog.conf")
    c.run("systemctl", "daemon-reload")
    c.run("systemctl", "restart", "execcountd.service")
    pid, restarts = show(c, "MainPID"), int(show(c, "NRestarts"))
    time.sleep(3)  # a healthy loop keeps pinging
    expect(show(c, "MainPID") == pid and int(show(c, "NRestarts")) == restarts, "restarted while healthy")
    c.run("sh", "-c", f"kill -STOP {pid}")  # the shell's kill: minbase has no procps
    wait_for(lambda: int(show(c, "NRestarts")) == restarts + 1 and show(c, "SubState") == "running",
             "systemd to restart the hung daemon", timeout=30)
    expect(show(c, "MainPID") != pid, "a new process")
    out = c.run("journalctl", "-u", "execcountd", "--no-pager", "-g", "Watchdog timeout").stdout
    expect("Watchdog timeout" in out, "systemd logged the watchdog timeout")
    c.run("rm", "-r", "/run/systemd/system/execcountd.service.d")
    c.run("systemctl", "daemon-reload")


def check_stop(c, uid):
    exec_as(c, uid, ok=3, missing=1)
    before = len(c.journal(f"MESSAGE_ID={ID_STOPPING}"))
    c.run("systemctl", "stop", "execcountd.socket", "execcountd.service")
    expect(show(c, "ActiveState") == "inactive" and show(c, "Result") == "success", "clean stop")
    expect(c.run("systemctl", "is-failed", "--quiet", "execcountd", check=False).returncode != 0, "not failed")
    stopping = wait_for(lambda: c.journal(f"MESSAGE_ID={ID_STOPPING}")[before:], "the stop message")
    expect(len(stopping) == 1 and stopping[0]["SIGNAL"] == "SIGTERM", f"STOPPING message: {stopping}")
    pinned = c.run("ls", PINS).stdout.split()
    expect(sorted(pinned) == ["attribution", "cgroup_names", "counts", "events", "logins", "meta", "privileged",
                              "stats", "tunables", "unit_slots", "units"],
           f"after a stop, no probe is left in the kernel, the counts are: {pinned}")
    expect(c.run("test", "-s", "/var/lib/execcountd/counts.state", check=False).returncode == 0,
           "the state file is written at the stop")
    exec_as(c, uid, ok=2)  # not counted: nothing runs
    c.run("systemctl", "start", "execcountd")
    expect(stats_of(c, uid) == (3, 1), f"the counts are kept over stop and start: {stats_of(c, uid)}")
    status = json.loads(c.run("execcountctl", "status", "--json=short").stdout)
    expect(status["counts_origin"] == "pinned-maps", f"origin after a stop: {status['counts_origin']}")
    c.run("systemctl", "stop", "execcountd.socket", "execcountd.service")


def check_security(c):
    out = c.run("systemd-analyze", "security", "--no-pager", "execcountd.service").stdout
    m = re.search(r"Overall exposure level for execcountd.service: ([\d.]+) (\w+)", out)
    expect(m, f"no exposure figure in:\n{out}")
    log(f"  systemd-analyze security: exposure {m.group(1)} {m.group(2)}")
    expect(float(m.group(1)) <= 0.8, f"exposure {m.group(1)}: the unit reached 0.8, what loosened it?")


def main():
    require_root_and()
    clean_up_on_sigterm()
    remove_stale_cgroups("execcount-e2e-")

    rootfs.ensure(CACHE, log)
    tmp = tempfile.mkdtemp(prefix="test-e2e-")
    c = None
    failed = False
    try:
        stage, etc = os.path.join(tmp, "stage"), os.path.join(tmp, "etc")
        stage_build(BUILD, stage, (EXECLOAD, NOOP))
        shutil.copytree(os.path.join(stage, "etc/execcountd"), etc)
        bpffs = os.path.join(tmp, "bpffs")
        mount_bpffs(bpffs)
        start = time.monotonic()
        c = Container(ROOTFS, stage, etc, bpffs)
        log(f"# container booted in {time.monotonic() - start:.1f} s")
        expect(c.run("getent", "passwd", "execcountd").returncode == 0, "sysusers.d made the execcountd user")
        no_leak_checks(c, "execcountd.service")

        steps = [
            ("1. systemctl start: active, start message with the probe mode", lambda: check_start(c)),
            ("2. exact counts in execcountctl stats and stats --json", lambda: check_counts(c, UID_BASE + 1)),
            ("   a setuid-root program: privileged execs, exactly", lambda: check_privileged(c, UID_BASE + 30)),
            ("   a login through PAM: execs per login UID, exactly", lambda: check_logins(c, UID_BASE + 32)),
            ("   a service, a timer's service, a scope: execs per unit, exactly, kept once they end",
             lambda: check_units(c, UID_BASE + 33)),
            ("   a machine systemd-machined runs in a service: its row names the machine",
             lambda: check_machine(c, UID_BASE + 35)),
            ("   systemctl restart during an exec storm: zero counts lost",
             lambda: check_restart_storm(c, UID_BASE + 10)),
            ("   kill -9 during an exec storm: systemd restarts it, zero counts lost",
             lambda: check_crash_storm(c, UID_BASE + 11)),
            ("   systemd gives up on a crashing daemon: the probes detach, the counts stay",
             lambda: check_fails_for_good(c, UID_BASE + 20)),
            ("   links kept pinned or in the fd store: handed over both ways, no exec counted twice",
             lambda: check_links_handover(c, UID_BASE + 21)),
            ("   an unprivileged user sees its own UID; group execcount sees all",
             lambda: check_unprivileged(c, UID_BASE + 12)),
            ("3. LogExecs=yes: journalctl EXEC_UID= lists the execs; summaries add up",
             lambda: check_log_execs(c, etc, UID_BASE + 2)),
            ("   command lines and sessions in events; in the journal with LogArgv=yes only",
             lambda: check_argv(c, etc, UID_BASE + 31)),
            ("3b. exec entries within their rate limit", lambda: check_rate_limit(c, etc, UID_BASE + 3)),
            ("4. reload keeps counts, applies config, refuses a bad one", lambda: check_reload(c, etc, UID_BASE + 1)),
            ("5. socket activation starts the stopped service", lambda: check_socket_activation(c, UID_BASE + 4)),
            ("   watchdog: a hung loop gets the service restarted", lambda: check_watchdog(c)),
            ("6. systemctl stop is clean and logged, detaches the probes, keeps the counts",
             lambda: check_stop(c, UID_BASE + 15)),
            ("7. systemd-analyze security", lambda: check_security(c)),
        ]
        failed = run_steps(steps)
        if failed:
            log("---- journal of execcountd ----")
            log(c.run("journalctl", "-u", "execcountd", "--no-pager", "-n", "60", check=False).stdout)
    finally:
        left = c.stop() if c else []
        umount(os.path.join(tmp, "bpffs"))
        shutil.rmtree(tmp, ignore_errors=True)
    for what in left:
        failed = True
        log(f"not ok - cleanup: {what} is left")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
