#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-metrics.py: the metrics of a real execcountd, as execcountctl metrics prints them
and as execcountd-metrics serves them over HTTP.

    test-metrics.py EXECCOUNTD EXECCOUNTCTL EXECCOUNTD-METRICS PROMTOOL

Exact counts of dedicated UIDs in both formats, passed by promtool; the series limit
keeping each family's sum exact; a file replaced at once for node_exporter; every bad
option refused. Then the exporter, socket-activated as systemd does it
(systemd-socket-activate): content negotiation, gzip, the answers to bad requests, and
its bounds: slow clients time out without holding up anybody else, one address cannot
take every connection, and a daemon that is down is a 503, not a hang.
"""

import gzip
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemonlib  # noqa: E402
from daemonlib import Cgroup, Daemon, exec_missing, exec_ok, expect, fail, new_uid, wait_for  # noqa: E402

EXPORTER, PROMTOOL = sys.argv[3:5]
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def samples(text):
    """{(name, labels): value} of a metrics text; labels as written."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        expect(m, f"not a sample line: {line!r}")
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def uid_value(s, name, uid):
    values = [v for (n, labels), v in s.items() if n == name and f'uid="{uid}"' in labels]
    expect(len(values) <= 1, f"{name} of UID {uid} twice")
    return values[0] if values else None


def family_sum(s, name):
    return sum(v for (n, _), v in s.items() if n == name)


def promtool_check(text, what):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    expect(p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
           f"promtool check metrics of {what}: exit {p.returncode}\n{p.stdout}{p.stderr}")


# ---- execcountctl metrics

def check_exact(d):
    uid = new_uid()
    exec_ok(uid, 7)
    exec_missing(uid, 3)
    text = d.ctl("metrics", "--max-uids=0").stdout
    s = samples(text)
    expect(uid_value(s, "execcount_execs_total", uid) == 7, f"execs of {uid}: {uid_value(s, 'execcount_execs_total', uid)}")
    expect(uid_value(s, "execcount_failed_execs_total", uid) == 3, "failed execs")
    expect(uid_value(s, "execcount_privileged_execs_total", uid) == 0, "privileged execs")
    expect(f'execcount_execs_total{{uid="{uid}",user=""}} 7' in text.splitlines(), "a UID without a name: user=\"\"")
    expect(s[("execcount_events_lost_total", "")] >= 0, "events lost")
    expect(s[("execcount_host_execs_total", "")] >= 7 and s[("execcount_host_failed_execs_total", "")] >= 3,
           "the host's totals")
    expect(s[("execcount_tracked_uids", "")] >= 2, "tracked UIDs")
    expect(any(n == "execcount_build_info" and 'probe_mode="tracepoint"' in labels for n, labels in s),
           f"build info: {[k for k in s if k[0] == 'execcount_build_info']}")
    promtool_check(text, "execcountctl metrics")

    om = d.ctl("metrics", "--format=openmetrics", "--max-uids=0").stdout
    expect(om.endswith("# EOF\n") and om.count("# EOF") == 1, "OpenMetrics ends with # EOF, once")
    so = samples(om.replace("# EOF\n", ""))
    expect(uid_value(so, "execcount_execs_total", uid) == 7, "OpenMetrics: execs")
    since = d.ctl_json("stats")["since_usec"] / 1e6
    created = uid_value(so, "execcount_execs_created", uid)
    expect(created is not None and abs(created - since) < 1e-6, f"_created {created}, counts since {since}")
    expect("# TYPE execcount_execs counter" in om and "# TYPE execcount_build info" in om, "OpenMetrics types")


def check_sums_chain(d, args):
    """The series limit loses nothing and counts nothing twice, whatever else execs.

    Each execcountctl metrics reads the daemon's totals (GetStatus), then the UIDs'
    counts, then the units': the counts only grow, so in three runs A (with the limit), B
    (without) and C (with it) each total is at most the sum of the series read after it in
    the same run, and each sum at most the total the next run reads. A limit that dropped
    a UID's counts would put a sum below its own run's total; one that counted a UID twice,
    above the next run's. The units' sums, which have no total, at least grow from A to B to
    C. On a quiet machine the chain is tight: it moves by the execcountctl runs alone."""
    runs = [samples(d.ctl("metrics", *a).stdout) for a in (args, ("--max-uids=0", "--max-units=0"), args)]
    for family, total in (("execcount_execs_total", "execcount_host_execs_total"),
                          ("execcount_failed_execs_total", "execcount_host_failed_execs_total")):
        chain = []
        for run in runs:
            chain += [run[(total, "")], family_sum(run, family)]
        expect(chain == sorted(chain), f"{family}: totals and sums of A, B, C out of order: {chain}")
    for family in ("execcount_unit_execs_total", "execcount_unit_failed_execs_total"):
        sums = [family_sum(run, family) for run in runs]
        expect(sums == sorted(sums), f"{family}: sums of A, B, C out of order: {sums}")


def check_limit(d):
    uids = [new_uid() for _ in range(3)]
    tag = f"execcount-test-metrics-{os.getpid()}.slice"
    units = {name: Cgroup(f"{tag}/{name}") for name in ("a.service", "b.service")}
    try:
        for uid, n, unit in zip(uids, (30, 20, 10), ("a.service", "b.service", "b.service")):
            units[unit].run(uid, ok=n)
    finally:
        for unit in reversed(list(units.values())):  # the slice, made with a.service, last
            unit.remove()
    s = samples(d.ctl("metrics", "--max-units=0").stdout)
    for unit, n in (("a.service", 30), ("b.service", 30)):
        got = s.get(("execcount_unit_execs_total", f'{{unit="{unit}"}}'))
        expect(got == n, f"execs in {unit}: {got}, made {n}")
    text = d.ctl("metrics", "--max-uids=1", "--max-units=1").stdout
    promtool_check(text, "metrics with the series limit")
    s = samples(text)
    for family in ("execcount_execs_total", "execcount_failed_execs_total", "execcount_privileged_execs_total"):
        own = [labels for n, labels in s if n == family and 'uid="other"' not in labels]
        expect(len(own) == 1, f"{family}: {len(own)} series of their own with --max-uids=1")
        expect((family, '{uid="other"}') in s, f"{family}: no uid=\"other\"")
    for family in ("execcount_unit_execs_total", "execcount_unit_failed_execs_total"):
        own = [labels for n, labels in s if n == family and labels != '{unit="other"}']
        expect(len(own) == 1 and (family, '{unit="other"}') in s, f"{family} with --max-units=1: {own}")
    expect(s[("execcount_other_uids", "")] >= 3, f"other UIDs: {s[('execcount_other_uids', '')]}")
    # At most one of the test's UIDs (the most active one) can have a series of its own.
    shown = [uid for uid in uids if uid_value(s, "execcount_execs_total", uid) is not None]
    expect(shown in ([], [uids[0]]), f"series of their own: {shown}")

    # The sums stay exact: with the limit, the same as without.
    check_sums_chain(d, ("--max-uids=1", "--max-units=1"))


def check_textfile(d, tmp):
    uid = new_uid()
    exec_ok(uid, 4)
    directory = os.path.join(tmp, "node-exporter")
    os.mkdir(directory)
    path = os.path.join(directory, "execcount.prom")
    with open(path, "w") as f:
        f.write("old\n")
    d.ctl("metrics", f"--output={path}")
    st = os.stat(path)
    expect(stat.S_IMODE(st.st_mode) == 0o644, f"mode {oct(st.st_mode)}")
    with open(path) as f:
        text = f.read()
    expect(uid_value(samples(text), "execcount_execs_total", uid) == 4, "the file's count")
    promtool_check(text, "the textfile")
    expect(os.listdir(directory) == ["execcount.prom"], f"left behind: {os.listdir(directory)}")

    # A directory that is not there: said, and nothing written.
    p = d.ctl("metrics", f"--output={tmp}/missing/execcount.prom", rc=1)
    expect(f"{tmp}/missing/execcount.prom" in p.stderr, f"the error names the file: {p.stderr}")


def check_bad_options(d):
    for args, what in ((("metrics", "--format=json"), "--format=json"),
                       (("metrics", "--max-uids=-1"), "--max-uids=-1"),
                       (("metrics", "--max-units=many"), "--max-units=many"),
                       (("metrics", "--output="), "--output="),
                       (("metrics", "--output=/tmp/"), "--output=/tmp/"),
                       (("stats", "--format=openmetrics"), "only apply to 'metrics'"),
                       (("status", "--output=/tmp/x"), "only apply to 'metrics'")):
        p = d.ctl(*args, rc=2)
        expect(what in p.stderr, f"execcountctl {' '.join(args)}: {p.stderr}")
    p = d.ctl("metrics", "--socket=/nonexistent/io.execcount", rc=3)
    expect("not running" in p.stderr, p.stderr)


# ---- execcountd-metrics over HTTP

class Exporter:
    def __init__(self, d, tmp, args=()):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log_path = os.path.join(tmp, "exporter.log")
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(["systemd-socket-activate", "-l", f"127.0.0.1:{self.port}", EXPORTER,
                                      f"--socket={d.socket}", *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.listening, "the exporter's socket")

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def connect(self, source="127.0.0.1"):
        s = socket.socket()
        s.settimeout(20)
        s.bind((source, 0))
        s.connect(("127.0.0.1", self.port))
        return s

    def request(self, raw, source="127.0.0.1"):
        """The answer to raw: (status, {header: value}, body)."""
        with self.connect(source) as s:
            s.sendall(raw)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if "content-length" in headers and not raw.startswith(b"HEAD"):
            expect(int(headers["content-length"]) == len(body), f"Content-Length {headers['content-length']}, "
                                                                 f"{len(body)} bytes")
        return status, headers, body

    def get(self, path="/metrics", headers=""):
        return self.request(f"GET {path} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("the exporter did not stop on SIGTERM")
        self.log.close()
        return rc


def check_http(d, e):
    uid = new_uid()
    exec_ok(uid, 5)
    status, headers, body = e.get()
    expect(status == 200, f"GET /metrics: {status}")
    expect(headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", headers["content-type"])
    expect(uid_value(samples(body.decode()), "execcount_execs_total", uid) == 5, "execs over HTTP")
    promtool_check(body.decode(), "GET /metrics")

    # What Prometheus 2.42 asks for: OpenMetrics, gzipped.
    status, headers, body = e.get(headers="Accept: application/openmetrics-text;version=1.0.0,"
                                          "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n")
    expect(status == 200 and headers.get("content-encoding") == "gzip", f"{status} {headers}")
    expect(headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8",
           headers["content-type"])
    text = gzip.decompress(body).decode()
    expect(text.endswith("# EOF\n"), "OpenMetrics over HTTP ends with # EOF")
    expect(uid_value(samples(text.replace("# EOF\n", "")), "execcount_execs_total", uid) == 5, "gzipped execs")
    expect(headers["vary"] == "Accept, Accept-Encoding", headers["vary"])

    status, headers, body = e.request(b"HEAD /metrics HTTP/1.1\r\n\r\n")
    expect(status == 200 and body == b"" and int(headers["content-length"]) > 0, f"HEAD: {status} {len(body)}")
    for raw, want in ((b"GET / HTTP/1.1\r\n\r\n", 404), (b"GET /metrics/x HTTP/1.1\r\n\r\n", 404),
                      (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
                      (b"GET /metrics HTTP/2.0\r\n\r\n", 505), (b"\x16\x03\x01\x00\xa5\x01\n\n", 400),
                      (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431)):
        status, headers, _ = e.request(raw)
        expect(status == want, f"{raw[:30]!r}: {status}, expected {want}")
        if want == 405:
            expect(headers.get("allow") == "GET, HEAD", f"Allow: {headers.get('allow')}")


def check_http_bounds(d, e):
    # Four idle connections from one address: a fifth from there is closed at once;
    # another address is served all the same, and quickly.
    idle = [e.connect() for _ in range(4)]
    slow = e.connect("127.0.0.2")
    slow.sendall(b"GET /metrics HTTP/1.1\r\n")  # and never the rest
    start = time.monotonic()
    try:
        fifth = e.connect()
        fifth.settimeout(5)
        expect(fifth.recv(100) == b"", "a fifth connection from one address is closed")
        fifth.close()
        status, _, _ = e.request(b"GET /metrics HTTP/1.1\r\n\r\n", source="127.0.0.3")
        served = time.monotonic() - start
        expect(status == 200 and served < 5, f"another address: {status} after {served:.1f} s")

        # The slow client gets a 408 after 10 s; the idle ones are closed.
        data = b""
        while chunk := slow.recv(4096):
            data += chunk
        waited = time.monotonic() - start
        expect(data.startswith(b"HTTP/1.1 408 "), f"a slow client: {data[:40]!r}")
        expect(9 < waited < 15, f"the slow client was answered after {waited:.1f} s")
        for s in idle:
            expect(s.recv(100) == b"", "an idle connection is closed")
        status, _, _ = e.get()
        expect(status == 200, "the address is served again once its connections went")
    finally:
        for s in idle + [slow]:
            s.close()


def check_http_full(d, e):
    # Every place taken, by four addresses that never ask: a newcomer is served at once,
    # and the oldest connection gave way to it.
    held = [e.connect(f"127.0.0.{1 + i // 4}") for i in range(16)]
    try:
        start = time.monotonic()
        status, _, _ = e.request(b"GET /metrics HTTP/1.1\r\n\r\n", source="127.0.0.9")
        served = time.monotonic() - start
        expect(status == 200 and served < 5, f"with every place held: {status} after {served:.1f} s")
        held[0].settimeout(5)
        expect(held[0].recv(100) == b"", "the oldest connection gave way")
        held[-1].setblocking(False)
        try:
            expect(held[-1].recv(100) == b"", "the newest held connection was closed")
        except BlockingIOError:
            pass  # still open, as it should be
    finally:
        for s in held:
            s.close()


def check_http_snapshot(d, e):
    """Requests within a second of a reading of the counts are answered from it: the
    daemon is asked once a second at most, however often clients ask."""
    for _ in range(10):
        uid = new_uid()
        time.sleep(1.1)  # past the last reading
        start = time.monotonic()
        _, _, first = e.get()
        exec_ok(uid, 1)
        _, _, second = e.get()
        if time.monotonic() - start >= 1:
            continue  # too slow to tell: the second may be a new reading
        expect(uid_value(samples(first.decode()), "execcount_execs_total", uid) is None and
               uid_value(samples(second.decode()), "execcount_execs_total", uid) is None,
               "a request within a second of the last reading is answered from it")
        wait_for(lambda: uid_value(samples(e.get()[2].decode()), "execcount_execs_total", uid) == 1,
                 "a new reading after a second", timeout=5)
        return
    fail("never two requests within a second: the machine is too slow to tell")


def check_daemon_down(d, e):
    with open(e.log_path) as f:
        logged = len(f.read())
    d.stop()
    time.sleep(1.1)  # past the last reading of the counts
    for _ in range(3):
        start = time.monotonic()
        status, _, body = e.get()
        expect(status == 503 and b"execcountd did not answer" in body, f"daemon down: {status} {body!r}")
        expect(time.monotonic() - start < 3, "the 503 came at once")
    d.start()
    uid = new_uid()
    exec_ok(uid, 2)
    # Within a second of the failed reading, still 503; then the counts.
    wait_for(lambda: e.get()[0] == 200, "a 200 once the daemon is back", timeout=5)
    status, _, body = e.get()
    expect(status == 200 and uid_value(samples(body.decode()), "execcount_execs_total", uid) == 2,
           "served again once the daemon is back")
    # Said once, not at every scrape: why, that it answers 503, and that it is back.
    with open(e.log_path) as f:
        said = f.read()[logged:].splitlines()
    expect(len(said) == 3 and "execcountd is not running" in said[0] and "Answering 503" in said[1]
           and said[2] == "execcountd answers again.", f"the exporter said: {said}")


def check_no_socket():
    p = subprocess.run([EXPORTER], capture_output=True, text=True, timeout=10, env={"PATH": os.environ["PATH"]})
    expect(p.returncode == 1 and "No socket to listen on" in p.stderr, f"without a socket: {p.returncode} {p.stderr}")
    p = subprocess.run([EXPORTER, "--max-uids=x"], capture_output=True, text=True, timeout=10)
    expect(p.returncode == 2 and "--max-uids=x" in p.stderr, f"a bad option: {p.returncode} {p.stderr}")


def main():
    daemonlib.setup(sys.argv, 2700000000)
    for tool in ("systemd-socket-activate",):
        if not shutil.which(tool):
            print(f"{'FAIL' if os.environ.get('CI') else 'SKIP'}: {tool} is missing")
            sys.exit(1 if os.environ.get("CI") else 77)
    tmp = tempfile.mkdtemp(prefix="test-metrics-")
    d = e = None
    failed = 0
    try:
        d = Daemon(tmp)
        failed += daemonlib.run_tests([
            ("execcountctl metrics: exact counts in both formats; promtool passes it", lambda: check_exact(d)),
            ("the series limit: the most active keep their series, the sums stay exact", lambda: check_limit(d)),
            ("--output: a file replaced at once, for node_exporter", lambda: check_textfile(d, tmp)),
            ("bad options are refused, saying which", lambda: check_bad_options(d)),
            ("execcountd-metrics refuses to start without a socket or with a bad option", check_no_socket),
        ])
        e = Exporter(d, tmp)
        failed += daemonlib.run_tests([
            ("HTTP: GET /metrics, content negotiation, gzip, HEAD, and the errors", lambda: check_http(d, e)),
            ("HTTP: slow and idle clients time out, one address cannot take every place",
             lambda: check_http_bounds(d, e)),
            ("HTTP: with every place held, a newcomer is served: the oldest gives way", lambda: check_http_full(d, e)),
            ("HTTP: requests within a second share one reading of the counts", lambda: check_http_snapshot(d, e)),
            ("HTTP: a daemon that is down is a 503 at once, said once in the log", lambda: check_daemon_down(d, e)),
        ])
        rc = e.stop()
        e = None
        if rc != 0:
            failed += 1
            print(f"not ok - the exporter exited with {rc} on SIGTERM")
    finally:
        if e:
            e.stop()
        if d:
            d.stop()
            if failed:
                print("---- execcountd log (end) ----\n" + d.read_log()[-5000:])
        if failed and os.path.exists(os.path.join(tmp, "exporter.log")):
            with open(os.path.join(tmp, "exporter.log")) as f:
                print("---- exporter log ----\n" + f.read()[-5000:])
        daemonlib.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
