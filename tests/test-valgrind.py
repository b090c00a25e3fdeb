#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-valgrind.py: execcountd under valgrind's memcheck through a whole run: start,
queries of every method (good and bad, privileged and not), a Watch with events, a reset,
reloads by Varlink and SIGHUP, stop. Memory errors or leaks fail the test.

    test-valgrind.py EXECCOUNTD EXECCOUNTCTL SUPPRESSIONS
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib  # noqa: E402
from daemonlib import Daemon, exec_missing, exec_ok, expect, new_uid, wait_for  # noqa: E402

SUPPRESSIONS = sys.argv[3]


def exercise(d):
    a, b = new_uid(), new_uid()
    exec_ok(a, 3)
    exec_missing(a, 2)
    exec_ok(b, 1)
    w = d.varlink()
    w.call_raw("io.execcount.Watch", {"backlog": 2}, more=True)
    for args in (("stats",), ("stats", "--uid", str(a)), ("status",), ("events", "-n", "all"),
                 ("stats", "--json=pretty"), ("events", "--json=short")):
        d.ctl(*args)
    for method, params in (("org.varlink.service.GetInfo", None),
                           ("org.varlink.service.GetInterfaceDescription", {"interface": "io.execcount"}),
                           ("io.execcount.GetEvents", {"limit": 2, "uid": a}), ("io.execcount.Nope", None),
                           ("io.execcount.GetStats", {"uid": "x"})):
        v = d.varlink()
        v.call(method, params)
        v.close()
    v = d.varlink()
    v.send(b"\x01garbage\0")
    v.reply()
    v.close()
    exec_ok(b, 2)
    w.reply()  # backlog and live events
    w.close()
    # An unprivileged client, refused a reset.
    p = subprocess.run([daemonlib.EXECCOUNTCTL, "--socket", d.socket, "reset"], user=a, group=a, extra_groups=[],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 1, f"reset as UID {a}: {p}")
    d.ctl("reset", "--uid", str(b))
    d.ctl("reset")
    with open(d.config, "a") as f:
        f.write("\n[Events]\nHistory=5\n")
    d.ctl("reload")
    with open(d.config, "a") as f:
        f.write("\n[Events]\nHistory=oops\n")
    d.ctl("reload", rc=1)
    d.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: d.read_log().count("invalid History=oops") >= 2, "the SIGHUP reload", timeout=60)
    exec_ok(a, 1)
    expect(d.ctl_json("stats", "--uid", str(a))["users"][0]["execs"] == 1, "counting under valgrind")


def main():
    daemonlib.setup(sys.argv, 2500000000)
    if not shutil.which("valgrind"):
        print(f"{'FAIL' if os.environ.get('CI') else 'SKIP'}: valgrind is missing (tools/install-deps --test)")
        sys.exit(1 if os.environ.get("CI") else 77)
    tmp = tempfile.mkdtemp(prefix="test-valgrind-")
    os.chmod(tmp, 0o755)
    vg_log = os.path.join(tmp, "valgrind.log")
    failed = 0
    d = None
    try:
        d = Daemon(tmp, "[Journal]\nLogExecs=yes\nSummaryIntervalSec=1s\n[State]\nSnapshotIntervalSec=1s\n",
                   wrapper=["valgrind", "--quiet", "--leak-check=full", "--show-leak-kinds=definite,indirect",
                            "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99",
                            f"--suppressions={SUPPRESSIONS}", f"--log-file={vg_log}"],
                   start_timeout=120)
        start = time.monotonic()
        failed = daemonlib.run_tests([("start, queries, reset, reload", lambda: exercise(d))])
        time.sleep(1.5)  # a summary and a snapshot from the timers
        rc = d.stop(timeout=120)
        report = open(vg_log).read()
        print(f"  under valgrind for {time.monotonic() - start:.0f} s; exit {rc}")
        errors = re.findall(r"ERROR SUMMARY: (\d+) errors", report)
        if rc != 0 or (errors and errors[-1] != "0") or "definitely lost" in report or "indirectly lost" in report:
            failed += 1
            print("not ok - valgrind: no memory errors, no leaks\n---- valgrind ----\n" + report)
            print("---- execcountd ----\n" + d.read_log())
        else:
            print("ok - valgrind: no memory errors, no leaks")
    finally:
        if d and d.proc.poll() is None:
            d.kill()
        daemonlib.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
