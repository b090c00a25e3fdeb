#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ab-bpf.py: the BPF programs' cost of two builds, measured in turn, for a change's effect.

    bench/ab-bpf.py N BUILD_A BUILD_B

Runs "compare.py --build DIR --only bpf --seconds 3" N times for each build, alternating
which goes first, and prints for each: the successful exec's program (exec_done_btf, in
tracepoint mode) in ns per run, all programs in ns per successful and per failed exec;
then the medians, and the median and range of the paired differences (B minus A). Pairs
taken minutes apart on a noisy machine drift together; their differences say more than
two medians do. Run as root, with nothing else loading the machine.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile

COMPARE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compare.py")
FIGURES = ("exec_done_btf", "per successful exec", "per failed exec")


def measure(build):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run([sys.executable, COMPARE, "--build", build, "--only", "bpf", "--seconds", "3", "--json",
                        f.name], capture_output=True, check=True)
        cost = json.load(open(f.name))["bpf_cost"]
    success, failure = cost["success"], cost["failure"]
    return (success["programs"].get("exec_done_btf", {}).get("ns_per_run", 0), success["ns_per_exec"],
            failure["ns_per_exec"])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip())
    n, builds = int(sys.argv[1]), sys.argv[2:]
    results = {b: [] for b in builds}
    for i in range(n):
        for b in builds if i % 2 == 0 else builds[::-1]:
            r = measure(b)
            results[b].append(r)
            print(f"{i + 1}/{n} {b}: " + ", ".join(f"{name} {x:.0f} ns" for name, x in zip(FIGURES, r)), flush=True)
    for b in builds:
        print(f"{b}: medians " + ", ".join(f"{name} {statistics.median(r[k] for r in results[b]):.0f} ns"
                                           for k, name in enumerate(FIGURES)))
    a, b = builds
    for k, name in enumerate(FIGURES):
        d = [y[k] - x[k] for x, y in zip(results[a], results[b])]
        print(f"paired difference, {name}: median {statistics.median(d):+.0f} ns ({min(d):+.0f} to {max(d):+.0f})")


if __name__ == "__main__":
    main()
