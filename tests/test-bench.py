#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-bench.py: bench/compare.py still runs, every part of it, as small as it goes.

    test-bench.py COMPARE.PY BUILD-DIR

A smoke run (compare.py --smoke: one pair of 0.3 s runs per workload and tracer, the
extras with 100 and 1,000 UIDs), so that the benchmark cannot rot between the runs that
give bench/RESULTS.md its figures. It asserts what holds however busy the machine is:
every part gave its figures (the floors' too), execcountd counted every exec of every run
and lost no event, the peers ran. No figure is held against a target: that is the
benchmark's job, on a quiet machine, not a test's.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

COMPARE, BUILD = sys.argv[1:3]
WORKLOADS = ("success", "success1", "failure")
failures = 0


def expect(cond, msg):
    global failures
    print(f"{'ok' if cond else 'FAIL'}: {msg}")
    if not cond:
        failures += 1


def missing(tool, package):
    """Fails under CI, where tools/install-deps --test installs every peer; else skips."""
    ci = bool(os.environ.get("CI"))
    print(f"{'FAIL' if ci else 'SKIP'}: {tool} is missing (apt-get install {package}; tools/install-deps --test)")
    sys.exit(1 if ci else 77)


def main():
    if os.geteuid() != 0:
        print("SKIP: compare.py needs root" if not os.environ.get("CI") else "FAIL: CI must run this as root")
        sys.exit(1 if os.environ.get("CI") else 77)
    for tool, package in (("bpftrace", "bpftrace"), ("execsnoop", "libbpf-tools")):
        if not shutil.which(tool):
            missing(tool, package)

    with tempfile.TemporaryDirectory(prefix="test-bench-") as tmp:
        out_json = os.path.join(tmp, "smoke.json")
        p = subprocess.run([sys.executable, COMPARE, "--build", BUILD, "--smoke", "--json", out_json],
                           capture_output=True, text=True, timeout=240)
        print(p.stdout)
        if p.returncode != 0:
            print(p.stderr)
            print(f"FAIL: compare.py --smoke exited with {p.returncode}")
            sys.exit(1)
        with open(out_json) as f:
            out = json.load(f)

    rows = {(r["tracer"], r["workload"]): r for r in out["pairs_results"]}
    for tracer in ("execcountd", "bpftrace", "execsnoop", "floor: fl_sysexit_void", "floor: fl_sysexit_nr"):
        for mode in WORKLOADS:
            r = rows.get((tracer, mode))
            expect(r is not None and r["pairs"] == 1 and r["rate_median"] > 0 and r["untraced_median"] > 0,
                   f"{tracer}, {mode}: a pair with both rates")
    for mode in WORKLOADS:
        r = rows.get(("execcountd", mode), {})
        expect(r.get("exact") is True, f"execcountd, {mode}: every exec counted")
        expect(r.get("events_lost") == 0, f"execcountd, {mode}: no event lost (lost: {r.get('events_lost')})")
        # The peers' exactness is a figure of the table (they may lose events), not a
        # promise of ours: that they were checked is enough here.
        for peer in ("bpftrace", "execsnoop"):
            expect("exact" in rows.get((peer, mode), {}), f"{peer}, {mode}: its count was checked")

    cost = out.get("bpf_cost", {})
    for mode in ("success", "failure"):
        c = cost.get(mode, {})
        expect(c.get("attempts", 0) > 0 and c.get("ns_per_exec", 0) > 0 and c.get("programs"),
               f"BPF cost of the {mode} workload measured ({c.get('ns_per_exec', 0):.0f} ns per attempt)")
    floors = out.get("bpf_floors", {})
    for prog in ("fl_exec_empty", "fl_exec_count", "fl_exec_ring", "fl_exec_both"):
        f = floors.get("success", {}).get("programs", {}).get(prog, {})
        expect(f.get("runs", 0) > 0 and f.get("ns_per_run", 0) > 0, f"floor {prog} measured on successful execs")
    for prog in ("fl_sysexit_void", "fl_sysexit_nr"):
        f = floors.get("failure", {}).get("programs", {}).get(prog, {})
        expect(f.get("runs", 0) > 0 and f.get("ns_per_run", 0) > 0, f"floor {prog} measured on failed execs")
    expect(out.get("idle_rss_kib", 0) > 0, "the idle daemon's RSS read")
    expect(out.get("follow_latency", {}).get("n") == 3, "the follower's latency measured over 3 execs")
    w = out.get("watched_cpu", {})
    expect(w.get("execs", 0) > 0 and w.get("events_lost") == 0, "daemon CPU with a follower measured, nothing lost")
    stats = {s["uids"]: s for s in out.get("stats", [])}
    for n in (100, 1000):
        s = stats.get(n, {})
        # At least the n new UIDs, and root's; other UIDs may exec meanwhile.
        expect(s.get("users_in_reply", 0) >= n + 1 and s.get("median_ms", 0) > 0,
               f"stats --json timed with {n} more UIDs ({s.get('users_in_reply')} in the reply)")
        expect(all(s.get(k, 0) > 0 for k in ("file_median_ms", "daemon_cpu_ms", "client_cpu_ms", "one_uid_median_ms",
                                             "read_maps_ms")),
               f"stats --json with {n} more UIDs also timed to a file, with each side's CPU and both floors: {s}")

    print(f"{failures} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
