#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""scrape.py: what one Prometheus scrape of execcountd-metrics costs, by UIDs in the map.

    bench/scrape.py [--build DIR] [--uids N,N,...] [--scrapes N] [--json FILE]

Run as root from a checkout with a build (meson compile -C build). For each number of
UIDs (100, 10,000 and 100,000 by default): starts an execcountd of its own, makes one
exec as each of that many new UIDs, and starts execcountd-metrics twice, as systemd
would (systemd-socket-activate): with the series limit on (the defaults, 500 UIDs and 500
units) and off (--max-uids=0 --max-units=0). Each is scraped the way Prometheus 2.42
asks (OpenMetrics, gzip), and the way curl or node_exporter's textfile would (the text
format, uncompressed), a few times each, a second apart (requests within a second share
one reading of the counts). Per scrape: the time from request to last byte, the daemon's
and the exporter's CPU time (their schedstat), the bytes sent, and for gzip the ratio to
the uncompressed size; medians; and the exporter's peak RSS (VmHWM), which grows with
each exporter's largest answer.
"""

import argparse
import gzip
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare  # noqa: E402

PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
                     "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


class Exporter:
    def __init__(self, path, daemon, args):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(["systemd-socket-activate", "-l", f"127.0.0.1:{self.port}", path,
                                      f"--socket={daemon.socket}", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("execcountd-metrics did not listen")
                time.sleep(0.05)

    def scrape(self, headers):
        with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
            s.sendall(f"GET /metrics HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode())
            data = bytearray()
            while chunk := s.recv(1 << 20):
                data += chunk
        head, _, body = bytes(data).partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"scrape failed: {head[:80]!r}")
        return head, body

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def measure(exporter, daemon, headers, n):
    times, daemon_ms, exporter_ms = [], [], []
    body = b""
    for _ in range(n):
        time.sleep(1.1)  # past the exporter's last reading of the counts: each scrape a new one
        d0, e0 = compare.proc_cpu_ns(daemon.proc.pid), compare.proc_cpu_ns(exporter.proc.pid)
        start = time.monotonic()
        head, body = exporter.scrape(headers)
        times.append((time.monotonic() - start) * 1000)
        daemon_ms.append((compare.proc_cpu_ns(daemon.proc.pid) - d0) / 1e6)
        exporter_ms.append((compare.proc_cpu_ns(exporter.proc.pid) - e0) / 1e6)
    gzipped = b"content-encoding: gzip" in head.lower()
    plain = gzip.decompress(body) if gzipped else body
    return {"ms": statistics.median(times), "daemon_cpu_ms": statistics.median(daemon_ms),
            "exporter_cpu_ms": statistics.median(exporter_ms), "bytes": len(body), "plain_bytes": len(plain),
            "series": sum(1 for line in plain.split(b"\n") if line and not line.startswith(b"#")),
            "hwm_kib": peak_rss_kib(exporter.proc.pid)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--uids", default="100,10000,100000")
    ap.add_argument("--scrapes", type=int, default=9)
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("scrape.py: run as root: it loads BPF programs and switches UIDs")
    tools = compare.Tools(args.build)
    exporter_path = os.path.join(args.build, "ctl/execcountd-metrics")
    if not os.access(exporter_path, os.X_OK) or not shutil.which("systemd-socket-activate"):
        sys.exit("scrape.py: needs the build's ctl/execcountd-metrics and systemd-socket-activate")

    tmp = tempfile.mkdtemp(prefix="execcount-scrape-")
    os.chmod(tmp, 0o755)
    out = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "kernel": os.uname().release, "results": []}
    print(f"{'UIDs':>7} {'limit':>5} {'format':<17} {'ms':>7} {'daemon ms':>9} {'export ms':>9} {'bytes':>10} "
          f"{'plain':>10} {'ratio':>5} {'series':>7} {'peak MiB':>8}", flush=True)
    try:
        for n in (int(x) for x in args.uids.split(",")):
            daemon = compare.Execcountd(tools, tmp, "[Counts]\nMaxUIDs=131072\n" if n > 60000 else "")
            try:
                daemon.start()
                first = compare.new_uid() + 200000
                subprocess.run([tools.execload, f"--each-uid={n}", f"--uid={first}"], check=True,
                               stdout=subprocess.DEVNULL)
                for limit, extra in (("on", ()), ("off", ("--max-uids=0", "--max-units=0"))):
                    exporter = Exporter(exporter_path, daemon, extra)
                    try:
                        exporter.scrape("")  # its first: the user database read once, pages touched
                        for name, headers in (("openmetrics+gzip", f"Accept: {PROMETHEUS_ACCEPT}\r\n"
                                                                   "Accept-Encoding: gzip\r\n"),
                                              ("text", "")):
                            r = measure(exporter, daemon, headers, args.scrapes if n < 100000 else 5)
                            r.update(uids=n, limit=limit, format=name)
                            out["results"].append(r)
                            ratio = r["plain_bytes"] / r["bytes"]
                            print(f"{n:>7,} {limit:>5} {name:<17} {r['ms']:>7.1f} {r['daemon_cpu_ms']:>9.1f} "
                                  f"{r['exporter_cpu_ms']:>9.1f} {r['bytes']:>10,} {r['plain_bytes']:>10,} "
                                  f"{ratio:>5.1f} {r['series']:>7,} {r['hwm_kib'] / 1024:>8.1f}", flush=True)
                    finally:
                        exporter.stop()
            finally:
                daemon.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
