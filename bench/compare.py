#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""compare.py: execcountd side by side with no tracing and with its peers, in one run.

    bench/compare.py [--build DIR] [--baseline DIR] [--no-peers] [--config TEXT] [--pairs N]
                     [--seconds S] [--auditd] [--json FILE] [--only pairs|extras|stats|bpf|floors|watched]
                     [--smoke]

Run as root from a checkout with a build (meson compile -C build). For each tracer
(execcountd with its default settings; its peers: bpftrace's per-UID count of execve
calls, execsnoop from libbpf-tools printing every exec with its UID (-U -x) to a file;
with --auditd an audit rule on execve and execveat), N times: start the tracer, run each
workload for S seconds (success: two workers forking and exec'ing a static no-op;
success1: one such worker; failure: one worker exec'ing a path that does not exist),
stop it, run them again untraced. Each traced run's throughput is divided by its adjacent
untraced run's. The order alternates from pair to pair, so that drift cancels out.
--baseline adds the execcountd of another build as one more tracer in the same pairs
(before and after a change, in one run); --no-peers leaves bpftrace and execsnoop out.
Two floor programs (bench/floor.bpf.c) run as tracers too: fl_sysexit_void, every system
call on the tracing path and nothing else, which no tracer in tracepoint mode goes below,
and fl_sysexit_nr, that and an exact per-UID count of failed execs in a hash map, the
simplest exact counter there.

Then, for execcountd alone: the BPF programs' cost per exec (kernel.bpf_stats_enabled),
the daemon's RSS when idle, the time from an exec to its event in "execcountctl events
--follow", the daemon's CPU while such a follower takes every event, and the time of
"execcountctl stats --json" with 1,000, 10,000 and 100,000 more UIDs in the map (read by
this script, and written to a file, with the floors beside: "stats --uid 0" and
bench/readmaps' reading of the maps alone). And the
floors its BPF cost is held against: the same measure of the cheapest programs that do a
part of its job (bench/floor.bpf.c), each alone.

Prints a table per measurement and, with --json, writes every figure to FILE. --only runs
one part: the pairs, the extras (BPF cost, latency, stats), the stats times, the BPF cost
alone (to compare two builds, run it alternately with --build of each), the floors, or
the follower's latency and the daemon's CPU with it (watched).
--smoke runs every part as small as it goes, in seconds: that it still runs (the bench
test suite).
"""

import argparse
import json
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
UID_BASE = 2800000000 + (os.getpid() & 0xFFFF) * 4096
_next_uid = 0


def new_uid():
    global _next_uid
    _next_uid += 1
    return UID_BASE + _next_uid


def log(msg):
    print(msg, flush=True)


def proc_cpu_ns(pid):
    """CPU time of a process (all its threads), in ns, from the scheduler's own account
    (schedstat), not from clock ticks, which miss the short bursts of a quiet daemon."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # a thread that just ended
    return total


def proc_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Tools:
    def __init__(self, build):
        self.execcountd = os.path.join(build, "daemon/execcountd")
        self.execcountctl = os.path.join(build, "ctl/execcountctl")
        self.execload = os.path.join(build, "bench/execload")
        self.noop = os.path.join(build, "bench/noop")
        self.bpfstats = os.path.join(build, "bench/bpfstats")
        for path in vars(self).values():
            if not os.access(path, os.X_OK):
                sys.exit(f"compare.py: {path} is missing; build first: meson compile -C {build}")
        # Only the floors need them: a build before them still measures all else.
        self.floor = os.path.join(build, "bench/floor")
        self.readmaps = os.path.join(build, "bench/readmaps")

    def load(self, mode, uid, seconds):
        out = subprocess.run(self.load_args(mode, uid, seconds), capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    def load_args(self, mode, uid, seconds):
        """The workloads: "success", two workers forking and exec'ing the static no-op;
        "success1", one such worker; "failure", one worker exec'ing a missing path."""
        args = [self.execload, f"--duration={seconds}", f"--uid={uid}", "--json"]
        if mode == "failure":
            return args + ["--mode=failure", "--workers=1"]
        return args + ["--mode=success", f"--workers={1 if mode == 'success1' else 2}", f"--program={self.noop}"]


# ---- The tracers

class NoTracer:
    name = "none"

    def start(self):
        pass

    def stop(self):
        pass


class Execcountd:
    def __init__(self, tools, tmp, config="", name="execcountd"):
        self.name = name
        self.tools = tools
        self.dir = tempfile.mkdtemp(prefix="execcountd-", dir=tmp)
        self.socket = os.path.join(self.dir, "io.execcount")
        self.bpffs = os.path.join(self.dir, "bpf")
        os.mkdir(self.bpffs)
        subprocess.run(["mount", "-t", "bpf", "bpf", self.bpffs], check=True)
        self.config = os.path.join(self.dir, "execcountd.conf")
        with open(self.config, "w") as f:
            # The defaults but for where it keeps its state: out of the way of a real one.
            f.write(f"[State]\nDirectory={self.dir}/state\nPinDirectory={self.bpffs}/execcountd\n\n{config}")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "execcountd.log"), "a")
        self.proc = subprocess.Popen([self.tools.execcountd, "--config", self.config, "--socket", self.socket],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 30
        while self.ctl("status", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"execcountd did not start: {open(self.log.name).read()}")
            time.sleep(0.05)

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.log.close()
            self.proc = None

    def close(self):
        self.stop()
        subprocess.run(["umount", "-l", self.bpffs], check=False)

    def ctl(self, *args, check=True):
        return subprocess.run([self.tools.execcountctl, "--socket", self.socket, "--no-pager", *args],
                              capture_output=True, text=True, check=check)

    def status(self):
        return json.loads(self.ctl("status", "--json=short").stdout)

    def counts(self, uid):
        users = json.loads(self.ctl("stats", "--uid", str(uid), "--json=short").stdout)["users"]
        return (users[0]["execs"], users[0]["failed"]) if users else (0, 0)

    def pids(self):
        return [self.proc.pid]

    def before(self):
        self.status_before = self.status()

    def after(self, uid, made):
        s = self.status()
        lost = s["events_lost"] - self.status_before["events_lost"]
        held = s["events_throttled"] - self.status_before["events_throttled"]
        return {"exact": self.counts(uid) == (made["execs"], made["failed"]), "events_lost": lost,
                "events_held_back": held}


class Bpftrace:
    name = "bpftrace"
    PROGRAM = "tracepoint:syscalls:sys_enter_execve,tracepoint:syscalls:sys_enter_execveat { @[uid] = count(); }"

    def __init__(self, tmp):
        self.out = os.path.join(tmp, "bpftrace.out")
        self.proc = None

    def start(self):
        self.outf = open(self.out, "w")
        self.proc = subprocess.Popen(["bpftrace", "-e", self.PROGRAM], stdout=self.outf, stderr=subprocess.STDOUT)
        end = time.monotonic() + 60
        while "Attaching" not in open(self.out).read():
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"bpftrace did not start: {open(self.out).read()}")
            time.sleep(0.05)
        time.sleep(0.5)  # "Attaching" comes before the probes are

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)  # prints the map and exits
            self.proc.wait(timeout=60)
            self.outf.close()
            self.proc = None
            text = open(self.out).read()
            self.map = {int(u): int(n) for u, n in re.findall(r"^@\[(\d+)\]: (\d+)$", text, re.M)}

    def close(self):
        self.stop()

    def pids(self):
        return [self.proc.pid]

    def before(self):
        pass

    def after(self, uid, made):
        return {}  # checked once bpftrace prints its map, at stop

    def exact_after_stop(self, uid, made):
        return self.map.get(uid, 0) == made["execs"] + made["failed"]


class Execsnoop:
    """execsnoop from Debian's libbpf-tools (the CO-RE build of the tool most users reach
    for first), printing every exec, failed ones too, with its UID, to a file: one line
    per exec, so its count for a UID is exact when it lost nothing."""
    name = "execsnoop"

    def __init__(self, tmp):
        self.out = os.path.join(tmp, "execsnoop.out")
        self.err = os.path.join(tmp, "execsnoop.err")
        self.proc = None

    def start(self):
        self.outf = open(self.out, "w")
        self.errf = open(self.err, "w")
        self.proc = subprocess.Popen(["execsnoop", "-U", "-x"], stdout=self.outf, stderr=self.errf)
        # Its header waits in its stdio buffer: ready is when it polls its perf buffer,
        # which it opens after attaching its programs.
        end = time.monotonic() + 60
        while not self._polling():
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"execsnoop did not start: {open(self.err).read()}")
            time.sleep(0.05)
        self.lines = self.lost_count = 0

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGINT)
            self.proc.wait(timeout=60)
            self.outf.close()
            self.errf.close()
            self.proc = None

    def close(self):
        self.stop()

    def pids(self):
        return [self.proc.pid]

    def _polling(self):
        try:
            fds = os.listdir(f"/proc/{self.proc.pid}/fd")
            return any(os.readlink(f"/proc/{self.proc.pid}/fd/{fd}") == "anon_inode:[eventpoll]" for fd in fds)
        except FileNotFoundError:
            return False

    def _lost(self):
        with open(self.err) as f:
            return sum(int(n) for n in re.findall(r"^Lost (\d+) events", f.read(), re.M))

    def before(self):
        self.lost_before = self._lost()

    def settle(self, uid, made):
        # Wait for the events still in its buffers (its CPU for them counts): its output
        # stops growing. The last few lines stay in its stdio buffer until it exits.
        size, end = -1, time.monotonic() + 10
        while time.monotonic() < end and os.path.getsize(self.out) != size:
            size = os.path.getsize(self.out)
            time.sleep(0.3)

    def after(self, uid, made):
        return {"events_lost": self._lost() - self.lost_before}

    def exact_after_stop(self, uid, made):
        # It prints UIDs as signed ints: ours, above 2^31, come out negative.
        signed = uid - (1 << 32) if uid >= 1 << 31 else uid
        with open(self.out) as f:
            seen = len(re.findall(rf"^{signed}\s*(?:execload|noop)\b", f.read(), re.M))
        return seen == made["execs"] + made["failed"]


class Floor:
    """A floor program of bench/floor.bpf.c as a tracer of its own: with fl_sysexit_void,
    the cost of putting every system call on the tracing path and nothing else, which
    no program in tracepoint mode can go below; with fl_sysexit_nr, that and an exact
    per-UID count of failed execs in a hash map (one lookup and one atomic add each), the
    simplest exact counter in that mode."""

    def __init__(self, tools, program):
        self.tools = tools
        self.program = program
        self.name = f"floor: {program}"
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.tools.floor, self.program], stdout=subprocess.PIPE, text=True)
        if not select.select([self.proc.stdout], [], [], 30)[0] or self.proc.stdout.readline() != "ready\n":
            raise RuntimeError(f"bench/floor {self.program} did not start (exit status {self.proc.poll()})")

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.communicate(timeout=30)
            self.proc = None

    def close(self):
        self.stop()

    def pids(self):
        return [self.proc.pid]

    def before(self):
        pass

    def after(self, uid, made):
        return {}


class Auditd:
    name = "auditd"

    def __init__(self, tmp):
        self.dir = tmp
        self.proc = None

    def start(self):
        subprocess.run(["auditctl", "-D"], capture_output=True, check=True)
        self.proc = subprocess.Popen(["auditd", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        for arch in ("b64", "b32"):
            subprocess.run(["auditctl", "-a", "always,exit", "-F", f"arch={arch}", "-S", "execve,execveat",
                            "-k", "execcount-bench"], capture_output=True, check=True)
        self.kauditd = int(subprocess.run(["pgrep", "-x", "kauditd"], capture_output=True, text=True).stdout.split()[0])

    def stop(self):
        if self.proc:
            subprocess.run(["auditctl", "-D"], capture_output=True, check=True)
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.proc = None

    def close(self):
        self.stop()

    def pids(self):
        return [self.proc.pid, self.kauditd]

    def lost(self):
        out = subprocess.run(["auditctl", "-s"], capture_output=True, text=True).stdout
        m = re.search(r"^lost (\d+)", out, re.M)
        return int(m.group(1)) if m else 0

    def before(self):
        self.lost_before = self.lost()

    def after(self, uid, made):
        return {"events_lost": self.lost() - self.lost_before}


# ---- Throughput pairs

def run_traced(tools, tracer, mode, seconds):
    uid = new_uid()
    tracer.before()
    pids = tracer.pids()
    cpu0 = sum(proc_cpu_ns(p) for p in pids)
    made = tools.load(mode, uid, seconds)
    if hasattr(tracer, "settle"):
        tracer.settle(uid, made)
    cpu = sum(proc_cpu_ns(p) for p in pids) - cpu0
    rss = proc_rss_kib(pids[0])
    result = {"rate": made["rate"], "execs": made["execs"] + made["failed"], "cpu_ns": cpu, "rss_kib": rss,
              "uid": uid, "made": made}
    result.update(tracer.after(uid, made))
    return result


WORKLOADS = ("success", "success1", "failure")


def pairs(tools, tracers, n, seconds, workloads=WORKLOADS):
    results = {t.name: {mode: [] for mode in workloads} for t in tracers}
    for i in range(n):
        for tracer in tracers:
            traced = {}
            untraced = {}

            def run_untraced():
                for mode in workloads:
                    untraced[mode] = tools.load(mode, new_uid(), seconds)["rate"]

            def run_with_tracer():
                tracer.start()
                for mode in workloads:
                    traced[mode] = run_traced(tools, tracer, mode, seconds)
                tracer.stop()
                if hasattr(tracer, "exact_after_stop"):
                    for mode in workloads:
                        traced[mode]["exact"] = tracer.exact_after_stop(traced[mode]["uid"], traced[mode]["made"])
            if i % 2 == 0:
                run_with_tracer()
                run_untraced()
            else:
                run_untraced()
                run_with_tracer()
            for mode in workloads:
                traced[mode]["untraced_rate"] = untraced[mode]
                traced[mode]["ratio"] = traced[mode]["rate"] / untraced[mode]
                results[tracer.name][mode].append(traced[mode])
            log(f"  pair {i + 1}/{n} {tracer.name}: " +
                ", ".join(f"{mode} {traced[mode]['ratio']:.3f}" for mode in workloads))
    return results


def summarize(results):
    rows = []
    for name, modes in results.items():
        for mode, runs in modes.items():
            rates = [r["rate"] for r in runs]
            untraced = [r["untraced_rate"] for r in runs]
            cpu_per_100k = [r["cpu_ns"] / r["execs"] * 100000 / 1e6 for r in runs if r["execs"]]
            row = {
                "tracer": name, "workload": mode, "pairs": len(runs),
                "rate_median": statistics.median(rates), "rate_min": min(rates), "rate_max": max(rates),
                "untraced_median": statistics.median(untraced),
                "ratio_median": statistics.median(r["ratio"] for r in runs),
                "ratio_min": min(r["ratio"] for r in runs), "ratio_max": max(r["ratio"] for r in runs),
                "cpu_ms_per_100k": statistics.median(cpu_per_100k),
                "rss_kib_max": max(r["rss_kib"] for r in runs),
            }
            if any("events_lost" in r for r in runs):
                row["events_lost"] = sum(r.get("events_lost", 0) for r in runs)
            if any("events_held_back" in r for r in runs):
                row["events_held_back"] = sum(r.get("events_held_back", 0) for r in runs)
            if any("exact" in r for r in runs):
                row["exact"] = all(r["exact"] for r in runs if "exact" in r)
            rows.append(row)
    return rows


def print_pairs(rows):
    log("\n| tracer | workload | execs/s median (min-max) | untraced | ratio median (min-max) | "
        "tracer CPU / 100k execs | tracer RSS | events lost | held back | counts exact |")
    log("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        log(f"| {r['tracer']} | {r['workload']} | {r['rate_median']:,.0f} ({r['rate_min']:,.0f}-{r['rate_max']:,.0f}) "
            f"| {r['untraced_median']:,.0f} | {r['ratio_median']:.3f} ({r['ratio_min']:.3f}-{r['ratio_max']:.3f}) "
            f"| {r['cpu_ms_per_100k']:.1f} ms | {r['rss_kib_max'] / 1024:.1f} MiB "
            f"| {r.get('events_lost', '-')} | {r.get('events_held_back', '-')} "
            f"| {({True: 'yes', False: 'NO'}).get(r.get('exact'), '-')} |")


# ---- BPF programs' own cost

def bpf_program_ids(tools):
    p = subprocess.run([tools.bpfstats], capture_output=True, text=True, check=True)
    return {x["id"] for x in json.loads(p.stdout)["programs"]}


def bpf_cost(tools, daemon, seconds):
    """Per program and in all, ns per run and per exec attempt, with bpf_stats on."""
    out = {}
    # Only the daemon's programs: those loaded by its start. bpfstats lists every program
    # on the machine, and others may run programs of the same names (tests, another
    # execcountd).
    known = bpf_program_ids(tools)
    daemon.start()
    mine = bpf_program_ids(tools) - known
    for mode in ("success", "failure"):
        uid = new_uid()
        p = subprocess.run([tools.bpfstats, "--", *tools.load_args(mode, uid, seconds)], capture_output=True,
                           text=True, check=True)
        before, after = (json.loads(line) for line in p.stdout.splitlines())
        made = json.loads(p.stderr.strip().splitlines()[-1])
        progs = {}
        b = {x["id"]: x for x in before["programs"] if x["id"] in mine}
        for x in after["programs"]:
            if x["id"] in b:
                cnt = x["run_cnt"] - b[x["id"]]["run_cnt"]
                ns = x["run_time_ns"] - b[x["id"]]["run_time_ns"]
                if cnt:
                    progs[x["name"]] = {"runs": cnt, "ns_per_run": ns / cnt, "ns": ns}
        attempts = made["execs"] + made["failed"]
        out[mode] = {"programs": progs, "attempts": attempts,
                     "ns_per_exec": sum(p["ns"] for p in progs.values()) / attempts}
    out["mode"] = daemon.status()["probe_mode"]
    daemon.stop()
    return out


def print_bpf_cost(cost):
    log(f"\nBPF programs ({cost['mode']} mode), with kernel.bpf_stats_enabled (which adds its own ~50 ns a run):")
    log("| workload | program | runs | ns per run | all programs, ns per exec attempt |")
    log("|---|---|---|---|---|")
    for mode in ("success", "failure"):
        c = cost[mode]
        for i, (name, p) in enumerate(sorted(c["programs"].items())):
            log(f"| {mode if i == 0 else ''} | {name} | {p['runs']:,} | {p['ns_per_run']:.0f} "
                f"| {c['ns_per_exec']:.0f} |" if i == 0 else f"| | {name} | {p['runs']:,} | {p['ns_per_run']:.0f} | |")


# The programs of bench/floor.bpf.c, one per run: the cheapest way to do each part of the job.
FLOOR_PROGRAMS = ("fl_exec_empty", "fl_exec_count", "fl_exec_ring", "fl_exec_both", "fl_sysexit_void",
                  "fl_sysexit_nr")


def bpf_floors(tools, seconds):
    """What bpf_cost measures, for each floor program alone (bench/floor), under the same
    workloads: ns per run, and ns per exec attempt."""
    if not os.access(tools.floor, os.X_OK):
        raise RuntimeError(f"{tools.floor} is missing: a build before bench/floor was written")
    out = {"success": {"programs": {}}, "failure": {"programs": {}}}
    for prog in FLOOR_PROGRAMS:
        # bpfstats lists every program on the machine: the floor's is the one of its name
        # (as the kernel keeps it, cut to 15 characters) that was not there before it.
        known = bpf_program_ids(tools)
        floor = subprocess.Popen([tools.floor, prog], stdout=subprocess.PIPE, text=True)
        try:
            if not select.select([floor.stdout], [], [], 30)[0] or floor.stdout.readline() != "ready\n":
                raise RuntimeError(f"bench/floor {prog} did not start (exit status {floor.poll()})")
            for mode in ("success", "failure"):
                p = subprocess.run([tools.bpfstats, "--", *tools.load_args(mode, new_uid(), seconds)],
                                   capture_output=True, text=True, check=True)
                before, after = (json.loads(line) for line in p.stdout.splitlines())
                made = json.loads(p.stderr.strip().splitlines()[-1])
                b = {x["id"]: x for x in before["programs"] if x["name"] == prog[:15] and x["id"] not in known}
                a = [x for x in after["programs"] if x["id"] in b]
                if len(a) != 1:
                    raise RuntimeError(f"{prog}: {len(a)} new programs of that name in bpfstats, not 1")
                cnt = a[0]["run_cnt"] - b[a[0]["id"]]["run_cnt"]
                ns = a[0]["run_time_ns"] - b[a[0]["id"]]["run_time_ns"]
                attempts = made["execs"] + made["failed"]
                out[mode]["programs"][prog] = {"runs": cnt, "ns_per_run": ns / cnt if cnt else None, "ns": ns,
                                               "attempts": attempts, "ns_per_exec": ns / attempts}
        finally:
            floor.send_signal(signal.SIGTERM)
            rest = floor.communicate(timeout=30)[0]
        # A record that found the ring full was not written: a cheaper run than the floor's.
        m = re.search(r"ring_full (\d+)", rest)
        if m and int(m.group(1)):
            log(f"# {prog}: {m.group(1)} records found the ring full; its figures are too low")
        if floor.returncode != 0:
            raise RuntimeError(f"bench/floor {prog} failed (exit status {floor.returncode})")
    return out


def print_bpf_floors(floors):
    log("\nFloors: the cheapest program for each part of the job (bench/floor.bpf.c), alone, the same way:")
    log("| workload | program | runs | ns per run | ns per exec attempt |")
    log("|---|---|---|---|---|")
    for mode in ("success", "failure"):
        for i, (name, p) in enumerate(floors[mode]["programs"].items()):
            per_run = f"{p['ns_per_run']:.0f}" if p["runs"] else "-"
            log(f"| {mode if i == 0 else ''} | {name} | {p['runs']:,} | {per_run} | {p['ns_per_exec']:.0f} |")


# ---- Event latency and large maps

def idle_rss(daemon, seconds=2):
    """The daemon's RSS once started and left alone, with no more UIDs than the machine's."""
    daemon.start()
    time.sleep(seconds)
    rss = proc_rss_kib(daemon.proc.pid)
    daemon.stop()
    return rss


def follow_latency(tools, daemon, n=20):
    uid = new_uid()
    daemon.start()
    follower = subprocess.Popen([tools.execcountctl, "--socket", daemon.socket, "events", "--follow", "--uid",
                                 str(uid), "-n", "0", "--json=short"], stdout=subprocess.PIPE)
    time.sleep(0.5)
    delays = []
    buf = b""
    try:
        for _ in range(n):
            time.sleep(0.2)  # a quiet spell, as between execs on a normal machine
            start = time.monotonic()
            subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "/bin/true"],
                           check=True)
            while b"\n" not in buf:
                if not select.select([follower.stdout], [], [], 5)[0]:
                    raise RuntimeError("no event within 5 s")
                buf += os.read(follower.stdout.fileno(), 65536)
            line, buf = buf.split(b"\n", 1)
            delays.append((time.monotonic() - start) * 1000)
    finally:
        follower.terminate()
        follower.wait()
        daemon.stop()
    return {"median_ms": statistics.median(delays), "max_ms": max(delays), "n": n}


def watched_cpu(tools, daemon, seconds):
    """The daemon's CPU per 100k successful execs while execcountctl events --follow
    takes every event (the pairs run with nobody watching)."""
    daemon.start()
    follower = subprocess.Popen([tools.execcountctl, "--socket", daemon.socket, "events", "--follow", "-n", "0",
                                 "--json=short"], stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        uid = new_uid()
        daemon.before()
        cpu0 = proc_cpu_ns(daemon.proc.pid)
        made = tools.load("success", uid, seconds)
        cpu = proc_cpu_ns(daemon.proc.pid) - cpu0
        lost = daemon.after(uid, made)["events_lost"]
    finally:
        follower.terminate()
        follower.wait()
        daemon.stop()
    return {"execs": made["execs"], "rate": made["rate"], "cpu_ms_per_100k": cpu / made["execs"] * 100000 / 1e6,
            "events_lost": lost}


def max_uids_for(n_uids):
    """The daemon's default map (65,536 UIDs) for the sizes that fit it, twice that else."""
    return 131072 if n_uids > 60000 else 65536


def stats_time(tools, daemon, n_uids, runs=21):
    """execcountctl stats --json end to end, with n_uids UIDs in the map, two ways in turn:
    its output read by this script (Python's reading and decoding included, as RESULTS.md
    measured it first), and written to a file, as a shell's redirection has it (what
    execcountctl and the daemon cost); the CPU time of each side for the latter. Beside
    them the floors: execcountctl stats --uid 0 (a start, a connection, one small call)
    and bench/readmaps (the daemon's reading of maps of that size alone)."""
    daemon.start()
    first = new_uid() + 100000
    subprocess.run([tools.execload, f"--each-uid={n_uids}", f"--uid={first}"], check=True,
                   stdout=subprocess.DEVNULL)
    ctl = [tools.execcountctl, "--socket", daemon.socket, "--no-pager", "stats", "--json=short"]
    times, file_times, one_times = [], [], []
    daemon_ns = client_s = 0.0
    size = 0
    with tempfile.TemporaryFile() as out:
        for _ in range(runs):
            start = time.monotonic()
            p = daemon.ctl("stats", "--json=short")
            times.append((time.monotonic() - start) * 1000)
            size = len(p.stdout)
            out.seek(0)
            out.truncate()
            d0, r0 = proc_cpu_ns(daemon.proc.pid), resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.monotonic()
            subprocess.run(ctl, stdout=out, check=True)
            file_times.append((time.monotonic() - start) * 1000)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            daemon_ns += proc_cpu_ns(daemon.proc.pid) - d0
            client_s += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            start = time.monotonic()
            daemon.ctl("stats", "--uid", "0", "--json=short", check=False)
            one_times.append((time.monotonic() - start) * 1000)
        out.seek(0)
        written = out.read()
    # Both ways gave every user (the counts of the machine's own UIDs may differ).
    users = min(len(json.loads(p.stdout)["users"]), len(json.loads(written)["users"]))
    rss = proc_rss_kib(daemon.proc.pid)
    daemon.stop()
    result = {"uids": n_uids, "users_in_reply": users, "median_ms": statistics.median(times), "max_ms": max(times),
              "file_median_ms": statistics.median(file_times), "file_max_ms": max(file_times),
              "daemon_cpu_ms": daemon_ns / runs / 1e6, "client_cpu_ms": client_s / runs * 1000,
              "one_uid_median_ms": statistics.median(one_times), "reply_bytes": size, "daemon_rss_kib": rss}
    if os.access(tools.readmaps, os.X_OK):
        q = subprocess.run([tools.readmaps, f"--uids={n_uids}", f"--max-uids={max_uids_for(n_uids)}",
                            f"--runs={max(runs, 5)}"], capture_output=True, text=True, check=True)
        result["read_maps_ms"] = json.loads(q.stdout)["median_ms"]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--baseline", help="also the execcountd of this build, as a tracer of its own")
    ap.add_argument("--no-peers", action="store_true", help="leave bpftrace and execsnoop out")
    ap.add_argument("--config", default="", help="settings for the execcountd measured, e.g. '[Events]\\nCaptureArgv=no'")
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--auditd", action="store_true", help="also auditd (its logs grow by gigabytes in a storm)")
    ap.add_argument("--only", choices=["pairs", "extras", "stats", "bpf", "floors", "watched"],
                    help="run one part only")
    ap.add_argument("--smoke", action="store_true",
                    help="every part, as small as it goes (1 pair of 0.3 s runs, 100 and 1,000 UIDs): that it runs")
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    if args.smoke:
        args.pairs, args.seconds = 1, 0.3
    stats_sizes = (100, 1000) if args.smoke else (1000, 10000, 100000)
    if os.geteuid() != 0:
        sys.exit("compare.py: run as root: it loads BPF programs and switches UIDs")
    tools = Tools(args.build)
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))

    tmp = tempfile.mkdtemp(prefix="execcount-bench-")
    os.chmod(tmp, 0o755)
    daemons = []
    tracers = []
    out = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "kernel": os.uname().release,
           "cpus": os.cpu_count(), "pairs": args.pairs, "seconds": args.seconds}
    try:
        daemon = Execcountd(tools, tmp, args.config.replace("\\n", "\n"))
        daemons.append(daemon)
        if args.only not in ("extras", "stats", "bpf", "floors", "watched"):
            tracers = [daemon]
            if args.baseline:
                base = Execcountd(Tools(args.baseline), tmp, name="execcountd (baseline)")
                daemons.append(base)
                tracers.append(base)
            for peer, package in ((Bpftrace, "bpftrace"), (Execsnoop, "libbpf-tools")):
                if args.no_peers:
                    pass
                elif shutil.which(peer.name):
                    tracers.append(peer(tmp))
                else:
                    log(f"# {peer.name} is not installed (apt-get install {package}): left out")
            if args.auditd:
                tracers.append(Auditd(tmp))
            if os.access(tools.floor, os.X_OK):
                tracers += [Floor(tools, "fl_sysexit_void"), Floor(tools, "fl_sysexit_nr")]
            log(f"# {args.pairs} pairs of {args.seconds} s runs per workload, tracers: "
                f"{', '.join(t.name for t in tracers)}")
            rows = summarize(pairs(tools, tracers, args.pairs, args.seconds))
            out["pairs_results"] = rows
            print_pairs(rows)
        if args.only not in ("pairs", "stats", "floors", "watched"):
            out["bpf_cost"] = bpf_cost(tools, daemon, args.seconds)
            print_bpf_cost(out["bpf_cost"])
        if args.only in (None, "floors"):
            out["bpf_floors"] = bpf_floors(tools, args.seconds)
            print_bpf_floors(out["bpf_floors"])
        if args.only not in ("pairs", "stats", "bpf", "floors"):
            out["idle_rss_kib"] = idle_rss(daemon)
            log(f"\nDaemon RSS when idle: {out['idle_rss_kib'] / 1024:.1f} MiB")
            out["follow_latency"] = follow_latency(tools, daemon, n=3 if args.smoke else 20)
            log(f"Event to execcountctl events --follow: median {out['follow_latency']['median_ms']:.1f} ms, "
                f"max {out['follow_latency']['max_ms']:.1f} ms over {out['follow_latency']['n']} execs")
            w = out["watched_cpu"] = watched_cpu(tools, daemon, args.seconds)
            log(f"Daemon CPU with execcountctl events --follow taking every event: {w['cpu_ms_per_100k']:.1f} ms per "
                f"100k execs ({w['execs']:,} execs at {w['rate']:,.0f}/s, {w['events_lost']} events lost)")
        if args.only not in ("pairs", "bpf", "floors", "watched"):
            out["stats"] = []
            for n in stats_sizes:
                # Each size in a daemon of its own.
                d = Execcountd(tools, tmp, f"[Counts]\nMaxUIDs={max_uids_for(n)}\n")
                daemons.append(d)
                out["stats"].append(stats_time(tools, d, n, runs=3 if args.smoke else 5 if n > 60000 else 21))
            for s in out["stats"]:
                floor = f", the maps' reading alone {s['read_maps_ms']:.1f} ms" if "read_maps_ms" in s else ""
                log(f"execcountctl stats --json with {s['uids']:,} more UIDs in the map ({s['users_in_reply']:,} "
                    f"in the reply, {s['reply_bytes'] / 1e6:.1f} MB): read by Python median {s['median_ms']:.1f} ms "
                    f"(max {s['max_ms']:.1f}), to a file median {s['file_median_ms']:.1f} ms (max "
                    f"{s['file_max_ms']:.1f}; CPU: daemon {s['daemon_cpu_ms']:.1f} ms, execcountctl "
                    f"{s['client_cpu_ms']:.1f} ms); floors: stats --uid 0 {s['one_uid_median_ms']:.1f} ms{floor}; "
                    f"daemon RSS {s['daemon_rss_kib'] / 1024:.1f} MiB")
    finally:
        for t in tracers:
            if not isinstance(t, Execcountd):
                t.close()
        for d in daemons:
            d.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
