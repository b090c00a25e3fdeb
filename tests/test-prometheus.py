#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-prometheus.py: a real Prometheus server scrapes execcountd-metrics on two hosts.

    test-prometheus.py BUILD-DIR CACHE-DIR

Boots two containers of the Debian 12 root file system ("hosts" a and b), each with this
build, execcountd and execcountd-metrics.socket, each in a network namespace of its own
that this host reaches over a veth pair; runs Prometheus here with both as targets, and
checks with exact numbers, through PromQL, that each host's counts arrive as its own
series, that a restart of the daemon does not reset them, and that node_exporter's
textfile gets them too. Leaves nothing behind: processes, cgroups, network namespaces,
veth pairs, mounts, temporary files.
"""

import gzip
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402
from nspawnlib import (Container, NetNamespace, clean_up_on_sigterm, exec_as, expect, fail, log,  # noqa: E402
                       make_cgroups, mount_bpffs, no_leak_checks, popen_in_cgroups, remove_cgroups, remove_netns_dir,
                       remove_stale_cgroups, remove_stale_netns, require_root_and, run_steps, show, stage_build,
                       stats_of, umount, wait_for)

BUILD, CACHE = sys.argv[1:3]
ROOTFS = os.path.join(CACHE, rootfs.NAME)
PREFIX = "execcount-prom-"  # of cgroups and network namespaces; veth pairs start with "ecp"
NAME = f"{PREFIX}{os.getpid()}"
# Far from the other tests' UIDs (test-e2e: 2600000000 + 64 per run) and any real one.
UID = 3000000000 + (os.getpid() & 0xFFFF) * 16
PORT = 9737
TEXTFILE = "/var/lib/prometheus/node-exporter/execcount.prom"
# The exposure systemd-analyze security gives execcountd-metrics.service (systemd 252), 0.6
# when this test was written, rounded up to the next 0.5: more means the sandbox loosened.
EXPOSURE_MAX = 1.0
# What the exporter may say (at warning or worse) when a scrape finds its daemon stopped,
# or restarting, or still starting (it then answers 503): once per time it is away.
DAEMON_AWAY = ("error: execcountd is not running (nothing listens on /run/execcountd/io.execcount); start it "
               "with: systemctl start execcountd",
               "error: execcountd closed the connection while answering ",
               "error: execcountd did not answer ")

# The execs of the test UID: on a, on b, and on a after its daemon restarted.
N_A, F_A = 7, 2
N_B, F_B = 4, 3
M_A = 5


class Host:
    """A container in a network namespace of its own, at 10.231.N.2."""

    def __init__(self, tmp, label, n):
        self.label, self.n = label, n
        self.dir = os.path.join(tmp, label)
        self.etc, self.bpffs = os.path.join(self.dir, "etc"), os.path.join(self.dir, "bpffs")
        self.netns = self.c = self.exporter_pid = None

    def boot(self, stage):
        os.mkdir(self.dir)
        shutil.copytree(os.path.join(stage, "etc/execcountd"), self.etc)
        mount_bpffs(self.bpffs)
        self.netns = NetNamespace(f"{NAME}-{self.label}", f"ecp{os.getpid()}{self.label}", f"10.231.{self.n}.0/30")
        self.address = self.netns.address
        self.c = Container(ROOTFS, stage, self.etc, self.bpffs, name=f"{NAME}-{self.label}", netns=self.netns)
        no_leak_checks(self.c, "execcountd.service", "execcountd-metrics.service", "execcountd-textfile.service")

    def start_daemon(self):
        self.c.run("systemctl", "start", "execcountd")
        expect(show(self.c, "ActiveState") == "active", f"execcountd on {self.label} is active")

    def stop_daemon(self):
        self.c.run("systemctl", "stop", "execcountd.socket", "execcountd.service")
        expect(show(self.c, "ActiveState") == "inactive", f"execcountd on {self.label} is stopped")

    def remove(self):
        """Stops and removes it all; returns what is left."""
        left = self.c.stop() if self.c else []
        left += self.netns.remove() if self.netns else []
        umount(self.bpffs)
        if os.path.ismount(self.bpffs):
            left.append(f"mount {self.bpffs}")
        return left


# ---- Prometheus

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """prometheus on 127.0.0.1, scraping /metrics on the hosts every second, with a label
    host="a" or "b" on each target's series."""

    def __init__(self, tmp, hosts):
        self.dir = os.path.join(tmp, "prometheus")
        os.mkdir(self.dir)
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: execcount\n    static_configs:\n")
            for h in hosts:
                f.write(f"      - targets: ['{h.address}:{PORT}']\n        labels: {{host: {h.label}}}\n")
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.logf = open(self.log_path, "w")
        self.cgroups = make_cgroups(f"{NAME}-prometheus")
        self.proc = popen_in_cgroups(self.cgroups, [
            "prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.dir}/data",
            f"--web.listen-address={self.url[len('http://'):]}"],
            stdout=self.logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_for(self.ready, "Prometheus to be ready", timeout=30)
        except BaseException:
            self.stop()
            raise

    def ready(self):
        if self.proc.poll() is not None:
            fail(f"prometheus exited with {self.proc.returncode}:\n{open(self.log_path).read()}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError):
            return False

    def api(self, path, **params):
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}", timeout=5) as r:
            reply = json.load(r)
        expect(reply["status"] == "success", f"{path} {params}: {reply}")
        return reply["data"]

    def query(self, promql):
        """{host label: value} of an instant vector; {None: value} of a sum."""
        data = self.api("query", query=promql)
        return {s["metric"].get("host"): float(s["value"][1]) for s in data["result"]}

    def targets(self):
        return {t["labels"]["host"]: t for t in self.api("targets", state="active")["activeTargets"]}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return remove_cgroups(self.cgroups)


def wait_for_values(prom, promql, want, timeout=20):
    """Waits until promql gives want, {host: value}: until Prometheus scraped the values."""
    got = {}

    def check():
        nonlocal got
        got = prom.query(promql)
        return got == want
    try:
        wait_for(check, f"{promql} to be {want}", timeout=timeout)
    except AssertionError:
        fail(f"{promql}: {got}, expected {want}")


# ---- Checks

def http_get(host, path="/metrics", headers=None):
    req = urllib.request.Request(f"http://{host.address}:{PORT}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_exporters(hosts):
    """Each host's port 9737 answers this host, in either format, gzipped if asked."""
    for h in hosts:
        h.start_daemon()
        expect(h.c.run("getent", "group", "execcount").returncode == 0, "sysusers.d made the group execcount")
        h.c.run("systemctl", "enable", "--now", "execcountd-metrics.socket")
        code, headers, body = http_get(h)
        text = body.decode()
        expect(code == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"),
               f"GET /metrics on {h.address}: {code} {headers['Content-Type']}\n{text}")
        expect(re.search(r'^execcount_build_info\{version="[^"]+",probe_mode="\w+"\} 1$', text, re.M),
               f"execcount_build_info from {h.address}:\n{text}")
        code, headers, body = http_get(h, headers={"Accept": "application/openmetrics-text; version=1.0.0",
                                                   "Accept-Encoding": "gzip"})
        expect(code == 200 and headers["Content-Type"].startswith("application/openmetrics-text")
               and headers["Content-Encoding"] == "gzip", f"OpenMetrics, gzipped: {code} {dict(headers)}")
        expect(gzip.decompress(body).decode().endswith("# EOF\n"), "the OpenMetrics answer ends with # EOF")
        # The exporter's user is dynamic, and in group execcount.
        h.exporter_pid = show(h.c, "MainPID", "execcountd-metrics.service")
        status = h.c.run("cat", f"/proc/{h.exporter_pid}/status").stdout
        gid = h.c.run("getent", "group", "execcount").stdout.split(":")[2]
        uid = re.search(r"^Uid:\s+(\d+)", status, re.M).group(1)
        groups = re.search(r"^Groups:\s*(.*)$", status, re.M).group(1).split()
        expect(uid != "0" and gid in groups, f"execcountd-metrics runs as UID {uid}, groups {groups}, not in "
               f"execcount ({gid})")
    log(f"  port {PORT} answers at {', '.join(h.address for h in hosts)}")


def check_targets(prom):
    def all_up():
        t = prom.targets()
        return set(t) == {"a", "b"} and all(x["health"] == "up" for x in t.values()) and t
    try:
        targets = wait_for(all_up, "both targets to be up", timeout=20)
    except AssertionError:
        fail(f"targets: {json.dumps(prom.targets(), indent=1)}")
    for host, t in targets.items():
        expect(t["lastError"] == "", f"target {host}: lastError {t['lastError']!r}")
    log(f"  targets up: {', '.join(t['scrapeUrl'] for t in targets.values())}")


def check_per_host_counts(prom, a, b):
    # The containers share this machine's kernel, so a running daemon counts every exec
    # of the machine, whichever container made it. To give each host execs of its own,
    # only one daemon runs while the test UID execs (a stopped daemon keeps its counts,
    # pinned and in its state file, and has them back when it starts): b's daemon is
    # stopped while a's counts N_A, then a's is stopped while b's counts N_B.
    b.stop_daemon()
    exec_as(a.c, UID, ok=N_A, missing=F_A)
    expect(stats_of(a.c, UID) == (N_A, F_A), f"execcountctl stats on a: {stats_of(a.c, UID)}")
    a.stop_daemon()
    b.start_daemon()
    exec_as(b.c, UID, ok=N_B, missing=F_B)
    expect(stats_of(b.c, UID) == (N_B, F_B), f"execcountctl stats on b: {stats_of(b.c, UID)}")
    a.start_daemon()
    expect(stats_of(a.c, UID) == (N_A, F_A), f"a's counts kept while stopped: {stats_of(a.c, UID)}")

    wait_for_values(prom, f'execcount_execs_total{{uid="{UID}"}}', {"a": N_A, "b": N_B})
    wait_for_values(prom, f'execcount_failed_execs_total{{uid="{UID}"}}', {"a": F_A, "b": F_B})
    expect(prom.query(f'sum(execcount_execs_total{{uid="{UID}"}})') == {None: N_A + N_B}, "the sum of both hosts")
    expect(prom.query(f'sum(execcount_failed_execs_total{{uid="{UID}"}})') == {None: F_A + F_B},
           "the sum of the failures")
    log(f"  UID {UID}: execs a={N_A} b={N_B} sum={N_A + N_B}; failed a={F_A} b={F_B}")


def check_restart(prom, a, b):
    """A restart of a's daemon: Prometheus scrapes the same counts from the new daemon,
    then the new execs, and sees no counter reset."""
    series = f'execcount_execs_total{{uid="{UID}",host="a"}}'
    b.stop_daemon()  # it would count the execs below too
    pid = show(a.c, "MainPID")
    a.c.run("systemctl", "restart", "execcountd")
    restarted = time.time()
    expect(show(a.c, "MainPID") != pid, "a new daemon on a")
    # A scrape of the new daemon, with nothing made since the restart.
    wait_for(lambda: prom.query(f"timestamp({series})").get("a", 0) > restarted,
             "a scrape of a after the restart", timeout=20)
    expect(prom.query(series) == {"a": N_A}, f"after the restart, before new execs: {prom.query(series)}")
    exec_as(a.c, UID, ok=M_A)
    b.start_daemon()
    wait_for_values(prom, series, {"a": N_A + M_A})
    for host in ("a", "b"):
        resets = prom.query(f'resets(execcount_execs_total{{uid="{UID}",host="{host}"}}[5m])')
        expect(resets == {host: 0}, f"counter resets on {host}: {resets}")
    # At least the old daemon's last, the new one's first, and the last.
    samples = prom.query(f"count_over_time({series}[5m])")["a"]
    expect(samples >= 3, f"{samples} samples of {series}")
    log(f"  restart of a: {N_A} -> {N_A + M_A}, no reset, over {samples:.0f} samples")


def check_textfile(a):
    a.c.run("mkdir", "-p", os.path.dirname(TEXTFILE))
    a.c.run("systemctl", "start", "execcountd-textfile.service")
    expect(show(a.c, "Result", "execcountd-textfile.service") == "success", "execcountd-textfile.service ran")
    mode = a.c.run("stat", "-c", "%a %U", TEXTFILE).stdout.split()
    expect(mode == ["644", "root"], f"{TEXTFILE}: mode and owner {mode}")
    text = a.c.run("cat", TEXTFILE).stdout
    want = f'execcount_execs_total{{uid="{UID}",user=""}} {N_A + M_A}'
    expect(want in text.splitlines(), f"no line {want} in {TEXTFILE}:\n{text}")
    expect(f'execcount_failed_execs_total{{uid="{UID}",user=""}} {F_A}' in text.splitlines(),
           f"the failures in {TEXTFILE}:\n{text}")
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
    expect(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
           f"promtool check metrics: exit {p.returncode}\n{p.stdout}{p.stderr}")
    log(f"  {TEXTFILE}: 0644, {len(text.splitlines())} lines, promtool check metrics says nothing")


def check_security(a):
    out = a.c.run("systemd-analyze", "security", "--no-pager", "execcountd-metrics.service").stdout
    m = re.search(r"Overall exposure level for execcountd-metrics.service: ([\d.]+) (\w+)", out)
    expect(m, f"no exposure figure in:\n{out}")
    log(f"  systemd-analyze security execcountd-metrics.service: exposure {m.group(1)} {m.group(2)}")
    expect(float(m.group(1)) <= EXPOSURE_MAX, f"exposure {m.group(1)}, over {EXPOSURE_MAX}: what loosened it?\n"
           f"{out}")


def check_exporter_healthy(hosts):
    """Each exporter served every scrape from the one process the first started (Accept=no),
    and said nothing but that its daemon was away, while it was."""
    for h in hosts:
        pid = show(h.c, "MainPID", "execcountd-metrics.service")
        restarts = show(h.c, "NRestarts", "execcountd-metrics.service")
        expect(pid == h.exporter_pid and restarts == "0", f"execcountd-metrics on {h.label}: PID {pid}, first "
               f"{h.exporter_pid}; {restarts} restarts")
        h.c.run("journalctl", "--sync")
        out = h.c.run("journalctl", "-u", "execcountd-metrics", "-p", "warning", "-o", "json", "--no-pager",
                      "SYSLOG_IDENTIFIER=execcountd-metrics").stdout
        said = {json.loads(line)["MESSAGE"] for line in out.splitlines()}
        expect(all(m.startswith(DAEMON_AWAY) for m in said), f"execcountd-metrics on {h.label} said: {said}")


def dump(hosts, prom):
    for h in hosts:
        if h.c:
            log(f"---- journal of host {h.label} ----")
            log(h.c.run("journalctl", "-u", "execcountd", "-u", "execcountd-metrics", "-u", "execcountd-textfile",
                        "--no-pager", "-n", "60", check=False).stdout)
    if prom:
        log("---- prometheus ----")
        with open(prom.log_path) as f:
            log("".join(f.readlines()[-30:]))


def main():
    require_root_and("ip", "prometheus", "promtool")
    clean_up_on_sigterm()
    remove_stale_cgroups(PREFIX)
    remove_stale_netns(PREFIX, "ecp")
    had_netns_dir = os.path.isdir("/run/netns")

    rootfs.ensure(CACHE, log)
    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="test-prometheus-")
    hosts, prom, left = [], None, []
    failed = False
    # Two /30s of 10.231.0.0/16 of this run's own.
    n = 1 + 2 * (os.getpid() % 127)
    try:
        stage = os.path.join(tmp, "stage")
        stage_build(BUILD, stage)
        for label, subnet in (("a", n), ("b", n + 1)):
            hosts.append(Host(tmp, label, subnet))
            hosts[-1].boot(stage)
        a, b = hosts
        log(f"# installed, two containers booted in {time.monotonic() - start:.1f} s")

        def start_prometheus():
            nonlocal prom
            prom = Prometheus(tmp, hosts)
            check_targets(prom)

        steps = [
            ("1. two hosts, each with execcountd-metrics.socket, answer on port 9737",
             lambda: check_exporters(hosts)),
            ("2. Prometheus scrapes both: targets up, no error", start_prometheus),
            ("3. each host's execs as its own series, exactly; their sum",
             lambda: check_per_host_counts(prom, a, b)),
            ("4. systemctl restart execcountd: the series go on without a reset",
             lambda: check_restart(prom, a, b)),
            ("5. the textfile for node_exporter: exact counts, 0644, promtool check metrics",
             lambda: check_textfile(a)),
            ("6. systemd-analyze security execcountd-metrics.service", lambda: check_security(a)),
            ("   each exporter served it all from one process", lambda: check_exporter_healthy(hosts)),
        ]
        failed = run_steps(steps)
        if failed:
            dump(hosts, prom)
    except BaseException:
        failed = True
        traceback.print_exc()
    finally:
        if prom:
            left += prom.stop()
        for h in hosts:
            left += h.remove()
        if not had_netns_dir:
            left += remove_netns_dir()
        shutil.rmtree(tmp, ignore_errors=True)
        if os.path.exists(tmp):
            left.append(tmp)
    for what in left:
        failed = True
        log(f"not ok - cleanup: {what} is left")
    log(f"# {time.monotonic() - start:.1f} s")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
