#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-persist.py: what happens to the counts when execcountd stops, crashes, restarts,
or the machine reboots, with exact counts.

    test-persist.py EXECCOUNTD EXECCOUNTCTL EXECLOAD NOOP

Each test runs a daemon of its own, pinning into a BPF file system instance of its own;
execs are made by dedicated UIDs (with execload, which knows exactly how many it made).
A reboot is simulated by removing the pins (the kernel forgets them at a reboot) while
the state file stays.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib  # noqa: E402
from daemonlib import (Cgroup, Daemon, exec_as_login, exec_missing, exec_ok, expect, new_uid, pinned_has,  # noqa: E402
                       suid_root_true, unit_key, wait_for)

EXECLOAD, NOOP = sys.argv[3:5]
STATE_FILE = "counts.state"
SUID_TRUE = None  # a setuid-root /bin/true, made by main()


def counts(d, uid):
    users = d.ctl_json("stats", "--uid", str(uid))["users"]
    return (users[0]["execs"], users[0]["failed"]) if users else (0, 0)


def privileged(d, uid):
    users = d.ctl_json("stats", "--uid", str(uid))["users"]
    return users[0]["privileged"] if users else 0


def logins(d, uid):
    """uid's successful execs per login UID."""
    return {p["login_uid"]: p["execs"] for p in d.ctl_json("stats", "--by=login", "--uid", str(uid))["logins"]}


def status(d):
    return d.ctl_json("status")


def links(d):
    return [p for p in d.pinned() if p.startswith("link-")]


def pinned_program_ids(d):
    """The IDs of the programs the pinned links hold."""
    ids = []
    for name in links(d):
        out = subprocess.run(["bpftool", "--json", "link", "show", "pinned", os.path.join(d.pins, name)],
                             capture_output=True, text=True, check=True).stdout
        ids.append(json.loads(out)["prog_id"])
    return ids


def program_loaded(prog_id):
    return subprocess.run(["bpftool", "prog", "show", "id", str(prog_id)], capture_output=True).returncode == 0


def wipe_pins(d):
    """What a reboot does to the BPF file system."""
    for name in os.listdir(d.pins):
        os.unlink(os.path.join(d.pins, name))


def execload(uid, mode, workers, count):
    """Starts execload as uid; returns the process (its stdout is one JSON line)."""
    args = [EXECLOAD, f"--workers={workers}", f"--mode={mode}", f"--count={count}", f"--uid={uid}", "--json"]
    if mode == "success":
        args.append(f"--program={NOOP}")
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True)


def slots_failed(d, uid):
    """The failures the CPUs' slots hold for uid (struct exec_unit_slot)."""
    out = subprocess.run(["bpftool", "--json", "map", "dump", "pinned", os.path.join(d.pins, "unit_slots")],
                         capture_output=True, text=True, check=True).stdout
    # With --json, the values as the map's BTF describes them are under "formatted".
    return sum(v["value"]["failed"] & ((1 << 48) - 1) for e in json.loads(out) for v in e["formatted"]["values"]
               if v["value"]["uid"] == uid and v["value"]["cgroup_id"] != 0)


def finish(p):
    out, _ = p.communicate(timeout=300)
    expect(p.returncode == 0, f"execload failed: {out}")
    return json.loads(out)


def new_daemon(tmp, name, config=""):
    path = os.path.join(tmp, name)
    os.mkdir(path)
    return Daemon(path, config)


# ---- Tests

def test_kill_during_storm(tmp):
    """kill -9 in the middle of an exec storm, then a new daemon: not one exec missing."""
    d = new_daemon(tmp, "kill")
    a = new_uid()
    try:
        since = status(d)["since_usec"]
        ok = execload(a, "success", 2, 1500)
        bad = execload(a, "failure", 1, 300000)
        time.sleep(0.3)
        d.kill()
        expect(len(links(d)) > 0, f"the probes stay pinned after kill -9: {d.pinned()}")
        time.sleep(0.3)  # the storm goes on without a daemon
        d.start()
        ok, bad = finish(ok), finish(bad)
        s = status(d)
        expect(s["counts_origin"] == "running", f"took over the running probes: {s['counts_origin']}")
        expect(s["since_usec"] == since, "since_usec kept over the crash")
        got = counts(d, a)
        expect(got == (ok["execs"], bad["failed"]), f"UID {a}: counted {got}, made {ok['execs']} execs and "
                                                   f"{bad['failed']} failures")
        print(f"  storm across kill -9: {ok['execs']} execs at {ok['rate']:.0f}/s and {bad['failed']} failures "
              f"at {bad['rate']:.0f}/s, all counted")
        expect("took over the probes of the earlier daemon" in d.run_log(), "the start message says so")
    finally:
        d.stop()


def test_stop_start(tmp):
    """A stop detaches every probe and keeps the counts; the next start goes on from them."""
    d = new_daemon(tmp, "stop")
    a = new_uid()
    try:
        exec_as_login(a, a, 3)
        exec_ok(a, 2, SUID_TRUE)
        exec_missing(a, 2)
        since = status(d)["since_usec"]
        programs = pinned_program_ids(d)
        expect(programs and all(program_loaded(p) for p in programs), f"programs while running: {programs}")
        expect(d.stop() == 0, "clean stop")
        # The kernel frees programs after an RCU grace period: soon, not at once.
        wait_for(lambda: not any(program_loaded(p) for p in programs), f"the programs {programs} to be unloaded")
        expect("the probes are detached; the counts are kept for the next start" in d.run_log(), d.run_log())
        expect(links(d) == [], f"no probe left pinned after a stop: {d.pinned()}")
        expect(sorted(d.pinned()) == ["attribution", "cgroup_names", "counts", "events", "logins", "meta", "privileged",
                                      "stats", "tunables", "unit_slots", "units"],
               f"maps: {d.pinned()}")
        expect(os.path.exists(os.path.join(d.state, STATE_FILE)), "a snapshot written at the stop")
        # Nothing counts while stopped: the kernel runs none of our programs.
        exec_ok(a, 3)
        d.start()
        s = status(d)
        expect(s["counts_origin"] == "pinned-maps" and s["pinned"], f"origin: {s['counts_origin']}")
        expect("disagree" not in d.run_log(), f"the state file of the stop is not newer than the pins:\n{d.run_log()}")
        expect(s["since_usec"] == since, "since_usec kept over stop and start")
        expect(counts(d, a) == (5, 2), f"counts kept, execs while stopped not counted: {counts(d, a)}")
        expect(privileged(d, a) == 2, f"privileged execs kept: {privileged(d, a)}")
        expect(logins(d, a).get(a) == 3, f"login pairs kept: {logins(d, a)}")
        exec_ok(a, 1, SUID_TRUE)
        exec_as_login(a, a, 1)
        expect(counts(d, a) == (7, 2) and privileged(d, a) == 3 and logins(d, a).get(a) == 4, "counting goes on")
    finally:
        d.stop()


def test_reboot(tmp):
    """Pins gone, state file kept: the counts come back from the snapshot taken at stop."""
    d = new_daemon(tmp, "reboot")
    a = new_uid()
    try:
        exec_as_login(a, a, 1)
        exec_ok(a, 3, SUID_TRUE)
        exec_missing(a, 3)
        before = d.ctl_json("stats", "--uid", str(a))
        expect(before["users"][0]["privileged"] == 3, f"privileged: {before}")
        logins_before = d.ctl_json("stats", "--by=login", "--uid", str(a))
        expect(logins(d, a).get(a) == 1, f"logins: {logins_before}")
        expect(d.stop() == 0, "clean stop")
        wipe_pins(d)
        d.start()
        s = status(d)
        expect(s["counts_origin"] == "state-file", f"origin: {s['counts_origin']}")
        after = d.ctl_json("stats", "--uid", str(a))
        expect(after["users"] == before["users"], f"restored {after['users']}, had {before['users']}")
        expect(after["since_usec"] == before["since_usec"], "since_usec restored")
        logins_after = d.ctl_json("stats", "--by=login", "--uid", str(a))
        expect(logins_after == logins_before, f"login pairs restored: {logins_after}, had {logins_before}")
        expect(len(s["boot_id"]) == 32 and s["boot_id"] == open("/proc/sys/kernel/random/boot_id").read()
               .strip().replace("-", ""), f"boot_id: {s['boot_id']}")
        expect("Restored the counts of" in d.run_log(), "restoring is logged")
        # The next start takes the pinned maps, whose stamps were lost with the reboot: the
        # last-exec time still comes from the state file.
        expect(d.stop() == 0, "clean stop")
        d.start()
        expect(status(d)["counts_origin"] == "pinned-maps", "from the pins the first start made")
        after = d.ctl_json("stats", "--uid", str(a))
        expect(after["users"] == before["users"], f"after a restart: {after['users']}, had {before['users']}")
        d.ctl("reset", "--uid", str(a))
        d.kill()  # the reset was written to the state file at once
        wipe_pins(d)
        d.start()
        expect(counts(d, a) == (0, 0) and logins(d, a) == {},
               f"a reset survives a crash and reboot: {counts(d, a)}, {logins(d, a)}")
        exec_ok(a, 1, SUID_TRUE)
        expect(counts(d, a) == (1, 0) and privileged(d, a) == 1, "counting goes on from the restored counts")
    finally:
        d.stop()


def test_periodic_snapshot(tmp):
    """A crash and a reboot right after: the last periodic snapshot is what survives."""
    d = new_daemon(tmp, "snapshot", "[State]\nSnapshotIntervalSec=1s\n")
    a = new_uid()
    try:
        exec_ok(a, 3)
        exec_missing(a, 1)
        done = time.time() * 1e6
        wait_for(lambda: status(d)["state_saved_usec"] > done, "a snapshot after the execs", timeout=10)
        d.kill()  # no snapshot at the stop: there is none
        wipe_pins(d)
        d.start()
        expect(status(d)["counts_origin"] == "state-file", "restored from the periodic snapshot")
        expect(counts(d, a) == (3, 1), f"counts of the snapshot: {counts(d, a)}")
    finally:
        d.stop()


def damage(path, how):
    data = open(path, "rb").read()
    if how == "flipped byte":
        # In the first UID's execs (the header is 72 bytes): a count, not a length.
        at = 72 + 8
        data = data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:]
    elif how == "truncated":
        data = data[:len(data) - 7]
    elif how == "empty":
        data = b""
    elif how == "garbage":
        data = os.urandom(100000)
    with open(path, "wb") as f:
        f.write(data)


def test_damaged_state(tmp):
    """A damaged state file is set aside with a journal message; the daemon starts from
    zero and serves."""
    d = new_daemon(tmp, "damaged")
    a = new_uid()
    try:
        for how, reason in [("flipped byte", "damaged (checksum mismatch)"),
                            ("truncated", "truncated, or of the wrong length"),
                            ("empty", "shorter than its header"),
                            ("garbage", "not an execcountd state file")]:
            exec_ok(a, 2)
            expect(d.stop() == 0, "clean stop")
            wipe_pins(d)
            damage(os.path.join(d.state, STATE_FILE), how)
            d.start()
            log = d.run_log()
            expect(f"is {reason}; kept as " in log, f"{how}: the log does not say '{reason}':\n{log}")
            aside = glob.glob(os.path.join(d.state, STATE_FILE + ".damaged-*"))
            expect(len(aside) >= 1 and not os.path.exists(os.path.join(d.state, STATE_FILE)),
                   f"{how}: set aside: {os.listdir(d.state)}")
            s = status(d)
            expect(s["counts_origin"] == "fresh" and counts(d, a) == (0, 0), f"{how}: starts from zero")
            for f in aside:
                os.unlink(f)
        exec_ok(a, 1)
        expect(counts(d, a) == (1, 0), "counts after the damaged files")
    finally:
        d.stop()


def test_incompatible_pins(tmp):
    """Pinned counts of another shape (another build) are not used: the daemon says so,
    and falls back to the snapshot taken at stop."""
    d = new_daemon(tmp, "incompatible")
    a = new_uid()
    try:
        exec_ok(a, 3)
        expect(d.stop() == 0, "clean stop")
        os.unlink(os.path.join(d.pins, "counts"))
        subprocess.run(["bpftool", "map", "create", os.path.join(d.pins, "counts"), "type", "hash", "key", "4",
                        "value", "4", "entries", "16", "name", "counts"], check=True)
        d.start()
        log = d.run_log()
        expect("The pinned counts cannot be used (the pinned counts map has another shape)" in log, log)
        s = status(d)
        expect(s["counts_origin"] == "state-file" and counts(d, a) == (3, 0),
               f"restored from the snapshot: {s['counts_origin']} {counts(d, a)}")
    finally:
        d.stop()


def test_new_capacity(tmp):
    """MaxUIDs= changed between runs: the counts move into the new map, and probes left
    attached by a crash are replaced, which the log says."""
    # A budget of 10 failure events: the storm's is spent long before its events could
    # fill the ring's half for failures, which holds back failures in the maps instead.
    d = new_daemon(tmp, "capacity", "[Counts]\nMaxUIDs=100\n\n[Events]\nFailedRateLimitBurst=10\n")
    a, b, c = new_uid(), new_uid(), new_uid()
    try:
        exec_ok(a, 2, SUID_TRUE)
        exec_as_login(b, a, 4)
        exec_missing(b, 3)
        # Past its budget of failure events, most of a storm is counted in a CPU's slot,
        # not in the counts map that is copied: the new programs take the slots over.
        bad = finish(execload(c, "failure", 1, 50000))
        held = slots_failed(d, c)
        expect(held > 0, f"none of UID {c}'s storm in a slot")
        programs = pinned_program_ids(d)
        d.kill()
        with open(d.config, "a") as f:
            f.write("[Counts]\nMaxUIDs=300\n")
        d.start()
        s = status(d)
        expect(s["counts_origin"] == "migrated" and s["map_capacity"] == 300, f"migrated: {s}")
        expect(counts(d, a) == (6, 0) and counts(d, b) == (0, 3) and privileged(d, a) == 2, "counts carried over")
        expect(counts(d, c) == (0, bad["failed"]) and bad["failed"] == 50000,
               f"a storm's failures carried over: {counts(d, c)} of {bad['failed']}, {held} of them in slots")
        print(f"  {held} of a storm's {bad['failed']} failures in the CPUs' slots, carried over")
        expect(logins(d, a).get(b) == 4, f"login pairs carried over: {logins(d, a)}")
        expect("Replaced the probes an earlier daemon left attached (the pinned counts map has 100 entries, the "
               "configuration asks for 300)" in d.run_log(), d.run_log())
        wait_for(lambda: not any(program_loaded(p) for p in programs), f"the old programs {programs} to go")
    finally:
        d.stop()


def test_pins_before_privileged(tmp):
    """Pins of a build before privileged counts and login pairs (no privileged, logins or
    attribution map): the counts are taken over, the others start from nothing and count
    from then on."""
    d = new_daemon(tmp, "before-privileged")
    a = new_uid()
    try:
        exec_ok(a, 2, SUID_TRUE)
        exec_as_login(a, a, 1)
        expect(d.stop() == 0, "clean stop")
        for name in ("privileged", "logins", "attribution"):
            os.unlink(os.path.join(d.pins, name))
        d.start()
        s = status(d)
        expect(s["counts_origin"] == "pinned-maps", f"the pinned counts are used: {s['counts_origin']}")
        expect(counts(d, a) == (3, 0) and privileged(d, a) == 0, f"{counts(d, a)}, {privileged(d, a)} privileged")
        expect(logins(d, a) == {}, f"no login pairs: {logins(d, a)}")
        exec_ok(a, 1, SUID_TRUE)
        exec_as_login(a, a, 1)
        expect(counts(d, a) == (5, 0) and privileged(d, a) == 1, "privileged execs count from the upgrade on")
        expect(logins(d, a).get(a) == 1, f"login pairs count from the upgrade on: {logins(d, a)}")
        expect({"privileged", "logins", "attribution"} <= set(d.pinned()), "the new maps are pinned")
    finally:
        d.stop()


def unpair(d, offset):
    """Makes the pinned meta record name, at offset, a counts map that no map is: as if an
    earlier version had replaced the counts beside the maps that go with them."""
    meta = os.path.join(d.pins, "meta")
    out = subprocess.run(["bpftool", "--json", "map", "lookup", "pinned", meta, "key", "0", "0", "0", "0"],
                         capture_output=True, text=True, check=True).stdout
    value = [int(b, 16) for b in json.loads(out)["value"]]
    value[offset:offset + 4] = [0xff] * 4
    subprocess.run(["bpftool", "map", "update", "pinned", meta, "key", "0", "0", "0", "0", "value",
                    *[str(b) for b in value]], check=True)


def test_privileged_of_other_counts(tmp):
    """Privileged counts pinned beside counts they were not made for (an earlier version,
    run in between, replaced the counts): not used, and the log says so."""
    d = new_daemon(tmp, "other-counts")
    a = new_uid()
    try:
        exec_ok(a, 2, SUID_TRUE)
        expect(d.stop() == 0, "clean stop")
        unpair(d, 48)  # privileged_counts_map_id
        d.start()
        expect("The pinned privileged counts are not used" in d.run_log(), d.run_log())
        expect(status(d)["counts_origin"] == "pinned-maps", "the counts are taken over")
        expect(counts(d, a) == (2, 0) and privileged(d, a) == 0, f"{counts(d, a)}, {privileged(d, a)} privileged")
        exec_ok(a, 1, SUID_TRUE)
        expect(privileged(d, a) == 1, "privileged execs count again, from nothing")
        d.stop()
        d.start()
        expect(privileged(d, a) == 1 and "privileged counts are not used" not in d.run_log(), "paired again after that")
    finally:
        d.stop()


def test_logins_of_other_counts(tmp):
    """Login pairs pinned beside counts they were not made for: not used, and the log says
    so; the privileged counts, paired, are kept."""
    d = new_daemon(tmp, "other-counts-logins")
    a = new_uid()
    try:
        exec_ok(a, 2, SUID_TRUE)
        exec_as_login(a, a, 3)
        expect(d.stop() == 0, "clean stop")
        unpair(d, 52)  # logins_counts_map_id
        d.start()
        log = d.run_log()
        expect("The pinned login counts are not used" in log and "privileged counts are not used" not in log, log)
        expect(counts(d, a) == (5, 0) and privileged(d, a) == 2, f"{counts(d, a)}, {privileged(d, a)} privileged")
        expect(logins(d, a) == {}, f"login pairs from nothing: {logins(d, a)}")
        exec_as_login(a, a, 1)
        d.stop()
        d.start()
        expect(logins(d, a) == {a: 1} and "login counts are not used" not in d.run_log(), "paired again after that")
    finally:
        d.stop()


def test_forget(tmp):
    """--forget refuses while the daemon runs; once stopped, it removes pins and state."""
    d = new_daemon(tmp, "forget")
    a = new_uid()
    try:
        exec_ok(a, 2)

        def forget():
            return subprocess.run([daemonlib.EXECCOUNTD, "--config", d.config, "--forget"], capture_output=True,
                                  text=True, timeout=30)
        p = forget()
        expect(p.returncode == 1 and "execcountd is running" in p.stderr, f"--forget while running: {p}")
        expect(counts(d, a) == (2, 0), "nothing forgotten while running")
        expect(d.stop() == 0, "clean stop")
        p = forget()
        expect(p.returncode == 0 and "Removed 11 pinned objects" in p.stdout, f"--forget: {p}")
        expect(d.pinned() == [] and not os.path.exists(os.path.join(d.state, STATE_FILE)), "all gone")
        d.start()
        expect(status(d)["counts_origin"] == "fresh" and counts(d, a) == (0, 0), "from zero after --forget")
    finally:
        d.stop()


def test_unpinned(tmp):
    """Without a BPF file system to pin into, the daemon counts and says that nothing
    survives it."""
    path = os.path.join(tmp, "unpinned")
    os.mkdir(path)
    d = Daemon(path, f"[State]\nPinDirectory={path}\n")
    a = new_uid()
    try:
        exec_ok(a, 1)
        expect(counts(d, a) == (1, 0) and not status(d)["pinned"], "counts, unpinned")
        expect(f"Counts will not survive this daemon: {path} is not in a BPF file system" in d.run_log(),
               d.run_log())
    finally:
        d.stop()


def test_open_pin_dir(tmp):
    """A pin directory others may write to could hold pins they made: not used."""
    d = new_daemon(tmp, "open")
    d.stop()
    mode = os.stat(d.pins).st_mode & 0o7777
    expect(mode == 0o700, f"the daemon makes its pin directory 0700: {mode:o}")
    for mode in (0o720, 0o702, 0o777):
        os.chmod(d.pins, mode)
        d.start()
        try:
            expect(not status(d)["pinned"], f"not pinned into a directory of mode {mode:o}")
            expect("may be written by other users than its owner" in d.run_log(), d.run_log())
        finally:
            d.stop()


def fill(path):
    """Fills the file system of path: a file grows until the disk is full."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (65536, 512, 1):  # the last blocks too
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_reset_disk_full(tmp):
    """A reset that cannot reach the disk fails and changes nothing (a reboot would bring
    the counts back); status and the log say that snapshots fail, once, not at every
    attempt; once there is room again, the reset works and survives a reboot."""
    path = os.path.join(tmp, "full")
    state = os.path.join(path, "state")
    os.makedirs(state)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", state], check=True)
    d = None
    try:
        d = Daemon(path, "[State]\nSnapshotIntervalSec=1s\n")
        a = new_uid()
        exec_ok(a, 3)
        exec_missing(a, 1)
        filler = fill(state)
        wait_for(lambda: status(d)["state_failures"] >= 2, "two failed snapshots", timeout=10)
        p = d.ctl("reset", "--uid", str(a), rc=1)
        expect("nothing was reset" in p.stderr and "No space left on device" in p.stderr, f"reset: {p.stderr!r}")
        p = d.ctl("reset", rc=1)
        expect("nothing was reset" in p.stderr, f"reset of all: {p.stderr!r}")
        expect(counts(d, a) == (3, 1), f"nothing reset: {counts(d, a)}")
        s = status(d)
        expect(s["state_file"] == os.path.join(state, STATE_FILE) and "No space left on device" in s["state_error"]
               and s["state_error_usec"] > 0, f"status: {s}")
        text = d.ctl("status").stdout
        expect("state file NOT WRITTEN: writing" in text and "No space left on device" in text, text)
        log = d.run_log()
        expect(log.count("Failed to write the state file") == 1, f"one warning for a run of failures:\n{log}")

        os.unlink(filler)
        wait_for(lambda: status(d)["state_failures"] == 0, "a snapshot to work again", timeout=10)
        expect(status(d)["state_error"] is None, "no error once it works")
        expect("Wrote the state file in" in d.run_log() and "again, after" in d.run_log(), d.run_log())
        d.ctl("reset", "--uid", str(a))
        expect(counts(d, a) == (0, 0), "reset")
        d.kill()
        wipe_pins(d)
        d.start()
        expect(counts(d, a) == (0, 0), f"the reset survives a crash and reboot: {counts(d, a)}")
    finally:
        if d:
            d.stop()
        subprocess.run(["umount", state], check=False)


def units_of(d, unit):
    """{uid: (execs, failed)} of one unit, from GetUnits."""
    rows = d.call("io.execcount.GetUnits")["units"]
    return {r["uid"]: (r["execs"], r["failed"]) for r in rows if r["unit"] == unit}


def test_units(tmp):
    """Per-unit counts: a cgroup that ends is folded into its unit's totals and leaves the
    kernel's map; the totals survive kill -9, a stop and a reboot, never counted twice."""
    d = new_daemon(tmp, "units", "[State]\nSnapshotIntervalSec=1s\n")
    a, b = new_uid(), new_uid()
    units_pin = os.path.join(d.pins, "units")
    slice_ = Cgroup(f"execcount-persist-{os.getpid()}.slice")
    job = Cgroup(f"{slice_.path}/job.service")
    live = Cgroup(f"{slice_.path}/live.service")
    try:
        job.run(a, ok=3, failed=2)
        job.run(b, ok=1)
        live.run(a, ok=4)
        expect(units_of(d, "job.service") == {a: (3, 2), b: (1, 0)}, f"job: {units_of(d, 'job.service')}")
        expect(pinned_has(units_pin, unit_key(job.id, a)), "the cgroup is in the kernel's map")

        # It ends: at the next snapshot its counts become the unit's totals, its entries go.
        job.remove()
        wait_for(lambda: not pinned_has(units_pin, unit_key(job.id, a)) and
                 not pinned_has(units_pin, unit_key(job.id, b)), "the ended cgroup to be folded")
        expect(units_of(d, "job.service") == {a: (3, 2), b: (1, 0)}, f"folded: {units_of(d, 'job.service')}")
        # A cgroup deeper than the walk goes is not taken for ended while it lives.
        deep = Cgroup(slice_.path + "/deep.service" + "/d" * 70)
        deep.run(b, ok=1)
        saved = d.call("io.execcount.GetStatus")["state_saved_usec"]
        wait_for(lambda: d.call("io.execcount.GetStatus")["state_saved_usec"] > saved + 1000000, "two snapshots")
        expect(pinned_has(units_pin, unit_key(deep.id, b)), "a live cgroup below the walk's depth stays")
        expect(units_of(d, "deep.service") == {b: (1, 0)}, f"deep: {units_of(d, 'deep.service')}")
        deep.remove()
        wait_for(lambda: not pinned_has(units_pin, unit_key(deep.id, b)), "the deep cgroup, ended, to be folded")
        expect(units_of(d, "deep.service") == {b: (1, 0)}, f"deep, folded: {units_of(d, 'deep.service')}")
        # The unit runs again, in a new cgroup: its counts add to the totals.
        job = Cgroup(f"{slice_.path}/job.service")
        job.run(a, ok=1)
        want_job, want_live = {a: (4, 2), b: (1, 0)}, {a: (4, 0)}
        expect(units_of(d, "deep.service") == {b: (1, 0)}, "deep, still")
        expect(units_of(d, "job.service") == want_job, f"again: {units_of(d, 'job.service')}")

        # kill -9: the totals come from the state file, the live cgroups from the pins.
        wait_for(lambda: d.call("io.execcount.GetStatus")["state_saved_usec"] > 0, "a snapshot")
        d.kill()
        d.start()
        expect(units_of(d, "job.service") == want_job and units_of(d, "live.service") == want_live,
               f"after kill -9: {units_of(d, 'job.service')} {units_of(d, 'live.service')}")
        # A stop, then a reboot: all from the state file.
        d.stop()
        wipe_pins(d)
        d.start()
        expect(units_of(d, "job.service") == want_job and units_of(d, "live.service") == want_live,
               f"after a reboot: {units_of(d, 'job.service')} {units_of(d, 'live.service')}")
        # After the reboot, cgroups of the boot before are only totals: more execs in the
        # same cgroup add to them.
        live.run(a, ok=1)
        expect(units_of(d, "live.service") == {a: (5, 0)}, f"after: {units_of(d, 'live.service')}")

        # A reset of one UID takes its rows, in the totals and the kernel's map, for good.
        d.ctl("reset", "--uid", str(a))
        expect(units_of(d, "job.service") == {b: (1, 0)} and units_of(d, "live.service") == {},
               f"reset: {units_of(d, 'job.service')} {units_of(d, 'live.service')}")
        d.kill()
        d.start()
        expect(units_of(d, "job.service") == {b: (1, 0)} and units_of(d, "live.service") == {},
               f"reset, then kill -9: {units_of(d, 'job.service')} {units_of(d, 'live.service')}")
    finally:
        d.stop()
        for c in (job, live, slice_):
            c.remove()


def test_odd_state_files(tmp):
    """A FIFO, a directory or a link where the state file should be is set aside at start,
    at once (a FIFO used to hang the daemon in open()), and snapshots work again."""
    d = new_daemon(tmp, "odd")
    a = new_uid()
    path = os.path.join(d.state, STATE_FILE)
    try:
        exec_ok(a, 2)
        for what, make in (("a FIFO", lambda: os.mkfifo(path, 0o600)), ("a directory", lambda: os.mkdir(path)),
                           ("a symbolic link", lambda: os.symlink("/etc/passwd", path))):
            expect(d.stop() == 0, "clean stop")
            wipe_pins(d)
            os.unlink(path)
            make()
            d.start(start_timeout=5)
            expect(f"is {what}, not a state file; kept as" in d.run_log(), f"{what}:\n{d.run_log()}")
            expect(status(d)["counts_origin"] == "fresh", f"{what}: starts from zero")
            expect(d.stop() == 0, "clean stop")
            expect(os.path.isfile(path) and not os.path.islink(path), f"{what}: the snapshot is written again")
            d.start()
            for name in glob.glob(path + ".damaged-*"):
                (os.rmdir if os.path.isdir(name) and not os.path.islink(name) else os.unlink)(name)
            exec_ok(a, 2)
    finally:
        d.stop()


def test_open_state_dir(tmp):
    """A state directory others may write to is not used: anyone could plant a state file
    there, and only a CRC protects it. The daemon says so, and status too."""
    d = new_daemon(tmp, "openstate")
    a = new_uid()
    try:
        exec_ok(a, 4)
        expect(d.stop() == 0, "clean stop")
        wipe_pins(d)
        os.chmod(d.state, 0o777)  # the snapshot of 4 execs could be anyone's now
        d.start()
        s = status(d)
        expect(s["counts_origin"] == "fresh" and counts(d, a) == (0, 0), f"not restored: {s['counts_origin']}")
        expect(s["state_file"] is None and "writable by other users" in s["state_error"], f"status: {s}")
        expect("No state file is kept: the state directory" in d.run_log(), d.run_log())
        expect("no state file: " in d.ctl("status").stdout, d.ctl("status").stdout)
        exec_ok(a, 1)
        expect(d.stop() == 0, "clean stop")
        expect("nothing is pinned" not in d.run_log(), "the pins are kept")
        os.chmod(d.state, 0o700)
        d.start()
        expect(counts(d, a) == (1, 0), f"pinned counts go on: {counts(d, a)}")
    finally:
        d.stop()


def test_newer_state_file(tmp):
    """Pins refused for a run (mode 0777): the daemon counts unpinned from the state file,
    lets go of the probes a killed daemon left pinned there (else both count), and says
    that the counts go to the state file at its stop. With the pins usable again, the
    state file of that run is newer than the pins: it wins, and the log says why."""
    d = new_daemon(tmp, "newer", "[State]\nSnapshotIntervalSec=1s\n")
    a = new_uid()
    try:
        exec_ok(a, 5)
        done = time.time() * 1e6
        wait_for(lambda: status(d)["state_saved_usec"] > done, "a snapshot after the execs", timeout=10)
        old_programs = pinned_program_ids(d)
        d.kill()
        expect(old_programs and all(program_loaded(p) for p in old_programs), "the killed daemon's probes count on")
        os.chmod(d.pins, 0o777)
        d.start()
        s = status(d)
        expect(not s["pinned"] and s["counts_origin"] == "state-file", f"unpinned, from the state file: {s}")
        wait_for(lambda: not any(program_loaded(p) for p in old_programs), "the old probes to be let go of")
        expect(links(d) == [], f"no probe left pinned: {d.pinned()}")
        expect("Let go of 2 probes an earlier daemon left attached" in d.run_log(), d.run_log())
        expect("not pinned: in the state file from one start to the next" in d.ctl("status").stdout,
               d.ctl("status").stdout)
        ok = finish(execload(a, "success", 1, 100))
        expect(counts(d, a) == (5 + ok["execs"], 0), f"counting unpinned: {counts(d, a)}")
        expect(d.stop() == 0, "clean stop")
        expect("nothing is pinned: the counts go to the state file" in d.run_log(), d.run_log())
        os.chmod(d.pins, 0o700)
        d.start()
        s = status(d)
        expect(s["pinned"] and s["counts_origin"] == "state-file", f"the newer state file wins: {s}")
        expect(counts(d, a) == (105, 0), f"none of the unpinned run's execs lost: {counts(d, a)}")
        expect("The pinned counts and the state file disagree: the state file, written at" in d.run_log(),
               d.run_log())
        # And from now on the pins are this daemon's again: a restart takes them.
        expect(d.stop() == 0, "clean stop")
        d.start()
        s = status(d)
        expect(s["counts_origin"] == "pinned-maps" and counts(d, a) == (105, 0), f"pins again: {s}")
        expect("disagree" not in d.run_log(), "pins and state file agree after a stop")
    finally:
        d.stop()


def test_forget_not_bpffs(tmp):
    """--forget never removes files from a PinDirectory= that is not a BPF file system,
    whatever their names."""
    path = os.path.join(tmp, "forget-plain")
    pins = os.path.join(path, "plain")
    os.makedirs(pins)
    names = ["counts", "stats", "events", "tunables", "meta", "link-exec_done_btf", "new-counts"]
    for name in names:
        with open(os.path.join(pins, name), "w") as f:
            f.write("not a pin\n")
    config = os.path.join(path, "execcountd.conf")
    with open(config, "w") as f:
        f.write(f"[State]\nPinDirectory={pins}\nDirectory={os.path.join(path, 'state')}\n")
    p = subprocess.run([daemonlib.EXECCOUNTD, "--config", config, "--forget"], capture_output=True, text=True,
                       timeout=30)
    expect(p.returncode == 0 and "not in a BPF file system, so it holds no pins: nothing removed" in p.stdout,
           f"--forget: {p}")
    expect(sorted(os.listdir(pins)) == sorted(names), f"every file is still there: {os.listdir(pins)}")


def main():
    daemonlib.setup(sys.argv, 2300000000)
    global SUID_TRUE
    tmp = tempfile.mkdtemp(prefix="test-persist-")
    os.chmod(tmp, 0o755)
    SUID_TRUE = suid_root_true(tmp)
    try:
        failed = daemonlib.run_tests([
            ("kill -9 during an exec storm, then start: every exec counted", lambda: test_kill_during_storm(tmp)),
            ("stop detaches the probes, keeps the counts", lambda: test_stop_start(tmp)),
            ("reboot: counts restored from the state file", lambda: test_reboot(tmp)),
            ("periodic snapshots bound what a crash and reboot lose", lambda: test_periodic_snapshot(tmp)),
            ("damaged state files are set aside", lambda: test_damaged_state(tmp)),
            ("incompatible pinned counts are replaced, and that is logged", lambda: test_incompatible_pins(tmp)),
            ("a new MaxUIDs= keeps the counts", lambda: test_new_capacity(tmp)),
            ("pins of a build before privileged counts", lambda: test_pins_before_privileged(tmp)),
            ("privileged counts pinned beside other counts", lambda: test_privileged_of_other_counts(tmp)),
            ("login pairs pinned beside other counts", lambda: test_logins_of_other_counts(tmp)),
            ("per-unit counts: ended cgroups folded; kill -9, stop, reboot", lambda: test_units(tmp)),
            ("--forget", lambda: test_forget(tmp)),
            ("no BPF file system: counts, unpinned", lambda: test_unpinned(tmp)),
            ("a pin directory others may write to: unpinned", lambda: test_open_pin_dir(tmp)),
            ("a reset on a full disk fails, nothing is reset; status says", lambda: test_reset_disk_full(tmp)),
            ("a FIFO, directory or link as the state file", lambda: test_odd_state_files(tmp)),
            ("a state directory others may write to: not used", lambda: test_open_state_dir(tmp)),
            ("a newer state file wins over older pins", lambda: test_newer_state_file(tmp)),
            ("--forget leaves a PinDirectory= outside bpffs alone", lambda: test_forget_not_bpffs(tmp)),
        ])
    finally:
        daemonlib.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
