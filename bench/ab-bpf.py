#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""ab-bpf.py: the BPF programs' cost of two builds, measured in turn, for a change's effect.

    bench/ab-bpf.py N BUILD_A BUILD_B

Runs "compare.py --build DIR --only bpf --seconds 3" N times for each build, alternating
which goes first, and prints for each: the successful exec's program (exec_done_btf, in
tracepoint mode) in ns per run, all programs in ns per successful and per failed exec;
then the medians, and the median and range of the paired differences (B minus A). Pairs
taken minutes apart on a noisy machine drift together; their differences say more than
two medians do. Each build's own bench/execload and bench/bpfstats run its measure, so
keep those alike between the two. Run as root, with nothing else loading the machine.
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
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "bpf.json")
        p = subprocess.run([sys.executable, COMPARE, "--build", build, "--only", "bpf", "--seconds", "3", "--json",
                            out], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"compare.py --build {build} failed:\n{p.stdout}{p.stderr}")
        with open(out) as f:
            cost = json.load(f)["bpf_cost"]
    success, failure = cost["success"], cost["failure"]
    if "exec_done_btf" not in success["programs"]:
        sys.exit(f"{build}: no exec_done_btf among the programs measured (mode {cost.get('mode')}): "
                 "this compares tracepoint or fentry mode")
    return cost.get("mode"), (success["programs"]["exec_done_btf"]["ns_per_run"], success["ns_per_exec"],
                              failure["ns_per_exec"])


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip())
    n, builds = int(sys.argv[1]), sys.argv[2:]
    if n < 1:
        sys.exit("N: at least one pair")
    if os.path.realpath(builds[0]) == os.path.realpath(builds[1]):
        sys.exit("two different builds, please")
    results = {b: [] for b in builds}
    modes = set()
    for i in range(n):
        for b in builds if i % 2 == 0 else builds[::-1]:
            mode, r = measure(b)
            modes.add(mode)
            if len(modes) > 1:
                sys.exit(f"the builds ran in different probe modes: {sorted(map(str, modes))}")
            results[b].append(r)
            figures = ", ".join(f"{name} {x:.0f} ns" for name, x in zip(FIGURES, r))
            print(f"{i + 1}/{n} {b} ({mode} mode): {figures}", flush=True)
    for b in builds:
        print(f"{b}: medians " + ", ".join(f"{name} {statistics.median(r[k] for r in results[b]):.0f} ns"
                                           for k, name in enumerate(FIGURES)))
    a, b = builds
    for k, name in enumerate(FIGURES):
        d = [y[k] - x[k] for x, y in zip(results[a], results[b])]
        print(f"paired difference, {name}: median {statistics.median(d):+.0f} ns ({min(d):+.0f} to {max(d):+.0f})")


if __name__ == "__main__":
    main()
