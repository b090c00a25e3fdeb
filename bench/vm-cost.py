#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""vm-cost.py: what each probe mode costs, on Debian's stock kernel under QEMU, where
fentry and kprobe work (this machine's kernel has tracepoints only).

    bench/vm-cost.py [--build DIR] [--baseline DIR] [--rounds N] [--cache DIR] [--json FILE]

Boots the vm test suite's kernel (downloaded and cached as it does) with an initramfs of
this build's execcountd, execcountctl, execload, noop and bpfstats. In each round the VM
runs a success load (2 workers) and a failure storm (1 worker) with no tracing, then with
execcountd in each of fentry, kprobe and tracepoint modes; bpfstats reads the BPF
programs' run counts and times (kernel.bpf_stats_enabled) around every run. With
--baseline, each mode runs that build's execcountd right before or after this one's, in
turn first, and a second table gives the two builds' paired differences round by round.

QEMU runs without KVM here (TCG): every figure is slowed down by emulation. The ns per
exec are comparable between modes, and the ratios to the untraced runs of the same VM are
meaningful; neither is this machine's cost.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import rootfs  # noqa: E402
import vmlib  # noqa: E402

MODES = ("fentry", "kprobe", "tracepoint")


def log(msg):
    print(msg, flush=True)


def build_initramfs(build, baseline, root, out):
    binaries = {"/usr/local/sbin/execcountd": os.path.join(build, "daemon/execcountd"),
                "/usr/local/bin/execcountctl": os.path.join(build, "ctl/execcountctl"),
                "/usr/local/bin/execload": os.path.join(build, "bench/execload"),
                "/usr/local/bin/bpfstats": os.path.join(build, "bench/bpfstats")}
    if baseline:
        binaries["/usr/local/sbin/execcountd-base"] = os.path.join(baseline, "daemon/execcountd")
        binaries["/usr/local/bin/execcountctl-base"] = os.path.join(baseline, "ctl/execcountctl")
    for path in binaries.values():
        if not os.access(path, os.X_OK):
            build_dir = os.path.dirname(os.path.dirname(path))
            sys.exit(f"vm-cost.py: {path} is missing: build it first (ninja -C {build_dir})")
    vmlib.make_root(root, binaries,
                    {"/vm/noop": os.path.join(build, "bench/noop"), "/init": os.path.join(HERE, "vm-cost-init.sh")})
    os.makedirs(os.path.join(root, "var/lib"))  # the daemon's state directory goes there
    rootfs.pack(root, out)


def programs_delta(before, after):
    b = {p["id"]: p for p in before["programs"]}
    out = {}
    for p in after["programs"]:
        cnt = p["run_cnt"] - b.get(p["id"], {}).get("run_cnt", 0)
        ns = p["run_time_ns"] - b.get(p["id"], {}).get("run_time_ns", 0)
        if cnt:
            out[p["name"]] = {"runs": cnt, "ns": ns}
    return out


def bpf_ns_per_attempt(run):
    """All programs' time in run, per exec attempted (successful or not)."""
    delta = programs_delta(run["before"], run["after"])
    return sum(p["ns"] for p in delta.values()) / (run["made"]["execs"] + run["made"]["failed"])


def summarize(runs, build):
    rows = []
    for mode in MODES:
        for workload in ("success", "failure"):
            mine = [r for r in runs if r["config"] == mode and r["workload"] == workload
                    and r.get("build", "new") == build]
            plain = [r for r in runs if r["config"] == "none" and r["workload"] == workload]
            if not mine or not plain:
                continue
            ratios = [m["made"]["rate"] / p["made"]["rate"] for m, p in zip(mine, plain)]
            per_exec = [bpf_ns_per_attempt(r) for r in mine]
            progs = {}
            for r in mine:
                for name, p in programs_delta(r["before"], r["after"]).items():
                    acc = progs.setdefault(name, {"runs": 0, "ns": 0})
                    acc["runs"] += p["runs"]
                    acc["ns"] += p["ns"]
            exact = all(r["made"]["unexpected"] == 0 for r in mine)
            rows.append({"build": build, "mode": mode, "workload": workload, "rounds": len(mine),
                         "rate_median": statistics.median(r["made"]["rate"] for r in mine),
                         "untraced_median": statistics.median(r["made"]["rate"] for r in plain),
                         "ratio_median": statistics.median(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
                         "ns_per_exec_median": statistics.median(per_exec),
                         "programs": {n: {"runs": p["runs"], "ns_per_run": p["ns"] / p["runs"]}
                                      for n, p in sorted(progs.items())},
                         "execload_clean": exact})
    return rows


def paired(runs):
    """Per mode and workload, this build's BPF ns per exec attempt against the baseline's
    of the same round: both medians, and the median and range of the relative differences."""
    rows = []
    for mode in MODES:
        for workload in ("success", "failure"):
            by_round = {}
            for r in runs:
                if r["config"] == mode and r["workload"] == workload:
                    by_round.setdefault(r["round"], {})[r["build"]] = bpf_ns_per_attempt(r)
            pairs = [(b["new"], b["base"]) for b in by_round.values() if "new" in b and "base" in b]
            if not pairs:
                continue
            rel = [new / base - 1 for new, base in pairs]
            rows.append({"mode": mode, "workload": workload, "pairs": len(pairs),
                         "new_median": statistics.median(n for n, _ in pairs),
                         "base_median": statistics.median(b for _, b in pairs),
                         "relative_median": statistics.median(rel), "relative_min": min(rel),
                         "relative_max": max(rel), "new_lower": sum(1 for x in rel if x < 0)})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--baseline", help="another build directory, run beside --build in each round and mode")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--success", type=int, default=400, help="execs per success run")
    ap.add_argument("--failure", type=int, default=20000, help="failed execs per storm")
    ap.add_argument("--cache", default="/var/cache/execcount-tests")
    ap.add_argument("--timeout", type=int, default=1800)
    ap.add_argument("--json", help="write every figure to this file")
    args = ap.parse_args()
    args.build = os.path.realpath(args.build)
    args.baseline = args.baseline and os.path.realpath(args.baseline)
    for tool in ("qemu-system-x86_64", "busybox"):
        if not shutil.which(tool):
            sys.exit(f"vm-cost.py: {tool} is missing (tools/install-deps --test installs it)")

    pkg, vmlinuz, _ = vmlib.ensure_kernel(args.cache, log)
    tmp = tempfile.mkdtemp(prefix="execcount-vm-cost-")
    try:
        initramfs = os.path.join(tmp, "initramfs.gz")
        build_initramfs(args.build, args.baseline, os.path.join(tmp, "root"), initramfs)
        console = os.path.join(tmp, "console")
        start = time.monotonic()
        finished = vmlib.boot(vmlinuz, initramfs, console, args.timeout, memory="1G",
                              append=f"execcount.rounds={args.rounds} execcount.success={args.success} "
                                     f"execcount.failure={args.failure}")
        with open(console, errors="replace") as f:
            text = f.read().replace("\r", "")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    # Console lines may start with the escapes the firmware wrote: the markers are searched.
    errors = re.findall(r"EXECCOUNT-BENCH-ERROR: (.*)$", text, re.M)
    if not finished or "EXECCOUNT-BENCH-DONE" not in text or errors:
        log("\n".join(errors) or "\n".join(text.splitlines()[-40:]))
        sys.exit(f"vm-cost.py: the VM did not finish its runs ({time.monotonic() - start:.0f} s)")
    info = json.loads(re.search(r"EXECCOUNT-BENCH-INFO: (.*)$", text, re.M).group(1))
    runs = [json.loads(m) for m in re.findall(r"EXECCOUNT-BENCH-RUN: (.*)$", text, re.M)]
    builds = ["new", "base"] if args.baseline else ["new"]
    rows = [row for build in builds for row in summarize(runs, build)]

    log(f"# {pkg} ({info['kernel']}), {info['cpus']} vCPUs under QEMU TCG, {info['rounds']} rounds, "
        f"{time.monotonic() - start:.0f} s; each mode's runs paired with the untraced runs of its round")
    names = {"new": args.build, "base": args.baseline}
    log("| build | mode | workload | execs/s median | untraced | ratio median (min-max) | BPF ns per exec attempt | "
        "programs: ns per run |")
    log("|---|---|---|---|---|---|---|---|")
    for r in rows:
        progs = ", ".join(f"{n} {p['ns_per_run']:.0f}" for n, p in r["programs"].items())
        log(f"| {names[r['build']]} | {r['mode']} | {r['workload']} | {r['rate_median']:,.0f} "
            f"| {r['untraced_median']:,.0f} | {r['ratio_median']:.3f} ({r['ratio_min']:.3f}-{r['ratio_max']:.3f}) "
            f"| {r['ns_per_exec_median']:.0f} | {progs} |")
    pairs = paired(runs) if args.baseline else []
    if pairs:
        log(f"\n# BPF ns per exec attempt, {args.build} against {args.baseline} in the same round")
        log("| mode | workload | pairs | build | baseline | relative difference median (min to max) | build lower in |")
        log("|---|---|---|---|---|---|---|")
        for p in pairs:
            log(f"| {p['mode']} | {p['workload']} | {p['pairs']} | {p['new_median']:.0f} | {p['base_median']:.0f} "
                f"| {p['relative_median']:+.1%} ({p['relative_min']:+.1%} to {p['relative_max']:+.1%}) "
                f"| {p['new_lower']} of {p['pairs']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"kernel_package": pkg, "info": info, "builds": names, "rows": rows, "paired": pairs,
                       "runs": runs}, f, indent=2)


if __name__ == "__main__":
    main()
