#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-package.py: the Debian package, built, checked by lintian, and installed, upgraded,
removed and purged with apt under a real systemd.

    test-package.py SOURCE-DIR CACHE-DIR EXECLOAD NOOP

Builds the package with tools/package (the README's command), and again, in the background,
with a higher version; lintian must report neither errors nor warnings. Then, in a systemd-nspawn
container of a clean Debian 12 root file system (cached in CACHE-DIR), with a BPF file
system of its own:
- apt install leaves execcountd active, answering root and a member of group execcount;
  the Prometheus exporter, once enabled, answers on port 9737;
- the upgrade, made while execs happen, loses none of them, and restarts the daemon and
  the exporter, not their sockets;
- apt remove stops every unit and leaves no program of the package's attached;
- apt purge leaves no file of the package's behind, only its system users and groups.
The container has a network namespace of its own, and shares this machine's kernel:
every count is of a UID of the test's own.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402
from nspawnlib import (TOOLS, Container, NetNamespace, cgroup_pids, clean_up_on_sigterm, exec_as,  # noqa: E402
                       expect, log, mount_bpffs, remove_netns_dir, remove_stale_cgroups, remove_stale_netns,
                       require_root_and, run_steps, show, stats_of, umount)

SOURCE, CACHE, EXECLOAD, NOOP = sys.argv[1:5]
ROOTFS = os.path.join(CACHE, rootfs.NAME)
UID_BASE = 3000000000 + (os.getpid() & 0xFFFF) * 64
DEBS = "/srv/execcount-debs"  # the packages, in the container
UNITS = ["execcountd.service", "execcountd.socket", "execcountd-metrics.socket", "execcountd-metrics.service",
         "execcountd-textfile.timer", "execcountd-textfile.service"]
ID_STARTED = "a7310ee901524ace9b9b6a2d9c24f27f"
# What apt purge leaves, and why: Debian leaves system users and groups in place, for files
# outside the package may still belong to them (their IDs must not go to anyone else).
LEFT_BY_POLICY = {"user execcountd", "group execcountd", "group execcount"}


def version_of(deb):
    return subprocess.run(["dpkg-deb", "-f", deb, "Version"], capture_output=True, text=True,
                          check=True).stdout.strip()


def build(work):
    """The package as tools/package builds it, put in work/debs."""
    first = os.path.join(work, "first")
    start = time.monotonic()
    p = subprocess.run([os.path.join(SOURCE, "tools/package"), first], capture_output=True, text=True)
    expect(p.returncode == 0, f"tools/package failed:\n{p.stdout}{p.stderr}")
    deb = p.stdout.strip().splitlines()[-1]
    expect(os.path.isfile(deb) and os.path.basename(deb).startswith("execcount_"), f"no package: {p.stdout}")
    log(f"# built {os.path.basename(deb)} in {time.monotonic() - start:.0f} s")
    os.mkdir(os.path.join(work, "debs"))
    shutil.copy(deb, os.path.join(work, "debs"))
    return first, os.path.basename(deb)


class Rebuild:
    """This tree with a changelog entry of a higher version on top, built by tools/package
    in the background (while the first package is checked and installed)."""

    def __init__(self, work, version):
        self.work = work
        tree = os.path.join(work, "tree")
        os.mkdir(tree)
        subprocess.run(f"tar -C {SOURCE} --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . | "
                       f"tar -C {tree} -xf -", shell=True, check=True)
        self.version, self.newer = version, f"{version}+upgrade1"
        changelog = os.path.join(tree, "debian/changelog")
        with open(changelog) as f:
            old = f.read()
        with open(changelog, "w") as f:
            f.write(f"execcount ({self.newer}) bookworm; urgency=medium\n\n"
                    "  * Rebuilt by test-package.py, to upgrade to.\n\n -- execcount tests <tests@execcount.invalid>  "
                    f"{time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}\n\n{old}")
        self.proc = subprocess.Popen([os.path.join(tree, "tools/package"), os.path.join(work, "second")],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "DEB_BUILD_OPTIONS": "nocheck"})

    def wait(self):
        """The rebuilt package's file name, in work/debs."""
        out, _ = self.proc.communicate(timeout=600)
        expect(self.proc.returncode == 0, f"tools/package of the rebuild failed:\n{out}")
        rebuilt = out.strip().splitlines()[-1]
        expect(version_of(rebuilt) == self.newer, f"the rebuild is version {version_of(rebuilt)}, expected {self.newer}")
        expect(subprocess.run(["dpkg", "--compare-versions", self.newer, "gt", self.version]).returncode == 0,
               "not higher")
        shutil.copy(rebuilt, os.path.join(self.work, "debs"))
        return os.path.basename(rebuilt)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def check_control(first, deb):
    """The runtime dependencies, found by dh_shlibdeps (and sysusers' by debhelper)."""
    depends = subprocess.run(["dpkg-deb", "-f", os.path.join(first, deb), "Depends"], capture_output=True,
                             text=True, check=True).stdout
    names = {d.split()[0] for d in re.split(r"[,|]", depends)}
    for lib in ("libbpf1", "libc6", "libinih1", "libjson-c5", "libsystemd0", "zlib1g", "systemd"):
        expect(lib in names, f"Depends: lacks {lib}: {depends}")


def check_lintian(first):
    changes = [f for f in os.listdir(first) if f.endswith(".changes")]
    expect(len(changes) == 1, f"one .changes file: {changes}")
    p = subprocess.run(["lintian", "--fail-on", "error,warning",
                        os.path.join(first, changes[0])], capture_output=True, text=True)
    out = "\n".join(line for line in (p.stdout + p.stderr).splitlines()
                    if line != "running with root privileges is not recommended!")
    expect(p.returncode == 0 and not out.strip(), f"lintian: exit {p.returncode}:\n{out}")


# ---- In the container

def apt(c, *args):
    return c.run("env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-q", "--no-install-recommends", *args,
                 timeout=180)


def check_install(c, deb, uid, admin):
    apt(c, "install", f"{DEBS}/{deb}")
    expect(c.run("dpkg-query", "-W", "-f=${Status}", "execcount").stdout == "install ok installed", "not installed")
    for unit in ("execcountd.service", "execcountd.socket"):
        expect(show(c, "ActiveState", unit) == "active", f"{unit} is {show(c, 'ActiveState', unit)}")
        expect(show(c, "UnitFileState", unit) == "enabled", f"{unit} is {show(c, 'UnitFileState', unit)}")
    for unit in UNITS[2:]:
        expect(show(c, "ActiveState", unit) == "inactive", f"{unit} (not enabled) is {show(c, 'ActiveState', unit)}")
    # The conffile, the users the units run as, the pins' directory, the completions, the
    # journal catalog.
    conffiles = c.run("dpkg-query", "-W", "-f=${Conffiles}", "execcount").stdout.split()
    expect("/etc/execcountd/execcountd.conf" in conffiles, f"conffiles: {conffiles}")
    for db, name in (("passwd", "execcountd"), ("group", "execcountd"), ("group", "execcount")):
        expect(c.run("getent", db, name, check=False).returncode == 0, f"no {db} entry {name}")
    expect(c.run("stat", "-c", "%U %a", "/sys/fs/bpf/execcountd").stdout.strip() == "execcountd 700",
           "the pins' directory")
    for path in ("/usr/share/bash-completion/completions/execcountctl", "/usr/share/zsh/vendor-completions/_execcountctl",
                 "/usr/share/fish/vendor_completions.d/execcountctl.fish"):
        expect(c.run("test", "-s", path, check=False).returncode == 0, f"the package did not install {path}")
    catalog = c.run("journalctl", "--list-catalog", ID_STARTED).stdout
    expect(ID_STARTED in catalog, f"the catalog entry of the start message is not installed: {catalog!r}")

    # Counts, for root and at once for a new member of group execcount.
    exec_as(c, uid, ok=3, missing=2)
    expect(stats_of(c, uid) == (3, 2), f"as root: {stats_of(c, uid)}, expected (3, 2)")
    c.run("useradd", "--no-create-home", "--groups", "execcount", admin)
    out = c.run("setpriv", f"--reuid={admin}", f"--regid={admin}", "--init-groups", "execcountctl", "stats",
                "--uid", str(uid), "--json=short").stdout
    users = json.loads(out)["users"]
    expect([(u["uid"], u["execs"], u["failed"]) for u in users] == [(uid, 3, 2)],
           f"a member of group execcount sees {users}")


def scrape(netns, uid):
    """execcount_execs_total and execcount_failed_execs_total of uid, from the exporter."""
    with urllib.request.urlopen(f"http://{netns.address}:9737/metrics", timeout=10) as r:
        expect(r.status == 200, f"GET /metrics: {r.status}")
        text = r.read().decode()
    got = []
    for family in ("execcount_execs_total", "execcount_failed_execs_total"):
        m = re.search(rf'^{family}{{uid="{uid}"[^}}]*}} (\d+)$', text, re.M)
        expect(m, f"no {family} for {uid} in:\n{text}")
        got.append(int(m.group(1)))
    return tuple(got)


def check_exporter(c, netns, uid):
    c.run("systemctl", "enable", "--now", "execcountd-metrics.socket")
    expect(scrape(netns, uid) == (3, 2), f"the exporter says {scrape(netns, uid)} for {uid}, expected (3, 2)")
    expect(show(c, "ActiveState", "execcountd-metrics.service") == "active", "the exporter does not run")


def check_upgrade_storm(c, netns, rebuild, uid):
    """The upgrade to the rebuilt package, during a storm of successes and failures as uid."""
    deb = rebuild.wait()
    pid = show(c, "MainPID")
    exporter_pid = show(c, "MainPID", "execcountd-metrics.service")
    sockets = {u: show(c, "ActiveEnterTimestampMonotonic", u) for u in ("execcountd.socket", "execcountd-metrics.socket")}
    started = len(c.journal(f"MESSAGE_ID={ID_STARTED}"))
    # The storm: rounds of 3 s of execload, one after the other, until the upgrade is over.
    done, rounds, errors = threading.Event(), [], []

    def storm():
        while not errors:
            procs = [c.popen(f"{TOOLS}/execload", "--workers=2", "--duration=3", f"--uid={uid}",
                             f"--program={TOOLS}/noop", "--json"),
                     c.popen(f"{TOOLS}/execload", "--workers=1", "--mode=failure", "--duration=3", f"--uid={uid}",
                             "--json")]
            for p in procs:
                out, err = p.communicate(timeout=120)
                if p.returncode == 0:
                    rounds.append(json.loads(out))
                else:
                    errors.append(f"execload failed: {out} {err}")
            if done.is_set():
                return

    t0 = time.monotonic()
    thread = threading.Thread(target=storm)
    thread.start()
    try:
        time.sleep(1)
        apt(c, "install", f"{DEBS}/{deb}")
        upgraded = time.monotonic()
    finally:
        done.set()
        thread.join()
    t1 = time.monotonic()
    expect(not errors, "; ".join(errors))
    version = c.run("dpkg-query", "-W", "-f=${Version}", "execcount").stdout
    expect(version == deb.split("_")[1], f"installed version {version}, expected {deb}")
    new_pid = show(c, "MainPID")
    expect(new_pid != pid and show(c, "ActiveState") == "active", f"the daemon was not restarted ({pid} {new_pid})")
    # The new daemon started within the storm, and took the running probes over.
    start_us = int(show(c, "ExecMainStartTimestampMonotonic"))
    expect(t0 * 1e6 < start_us < t1 * 1e6, "the new daemon did not start during the storm")
    start = c.journal(f"MESSAGE_ID={ID_STARTED}")[started:]
    expect(len(start) == 1 and start[0].get("COUNTS_ORIGIN") == "running", f"took over the probes: {start}")
    made = (sum(r["execs"] for r in rounds), sum(r["failed"] for r in rounds))
    got = stats_of(c, uid)
    expect(got == made and made[0] > 0 and made[1] > 0,
           f"after the upgrade: counted {got}, made {made[0]} execs and {made[1]} failures")
    # The new exporter, on the sockets that stayed as they were.
    expect(scrape(netns, uid) == got, f"after the upgrade the exporter says {scrape(netns, uid)}, counted {got}")
    expect(show(c, "MainPID", "execcountd-metrics.service") != exporter_pid, "the exporter was not restarted")
    for unit, since in sockets.items():
        expect(show(c, "ActiveState", unit) == "active" and show(c, "ActiveEnterTimestampMonotonic", unit) == since,
               f"{unit} was restarted or stopped by the upgrade")
    log(f"  upgraded during a storm: {made[0]} execs and {made[1]} failures made, as many counted; the upgrade "
        f"took {upgraded - t0 - 1:.1f} s of the storm's {t1 - t0:.1f} s")


def bpf_links(pids):
    """{link ID: program ID} of the BPF links these processes hold (systemd's fd store
    included, in PID 1's)."""
    links = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf_link":
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            except OSError:
                continue
            links[int(info["link_id"])] = int(info["prog_id"])
    return links


def ids(kind):
    out = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True, check=True).stdout
    return {entry["id"] for entry in json.loads(out or "[]")}


def check_remove(c, bpffs):
    held = bpf_links(cgroup_pids(c.cgroups[-1]))
    expect(held, "before the removal, nothing in the container holds a BPF link")
    # The exporter and the textfile collector, once enabled, are stopped by the removal too.
    c.run("systemctl", "enable", "--now", "execcountd-textfile.timer")
    for unit in ("execcountd-metrics.socket", "execcountd-metrics.service", "execcountd-textfile.timer"):
        expect(show(c, "ActiveState", unit) == "active", f"{unit} is {show(c, 'ActiveState', unit)}")
    apt(c, "remove", "execcount")
    expect(c.run("dpkg-query", "-W", "-f=${Status}", "execcount").stdout == "deinstall ok config-files",
           "not removed")
    for unit in UNITS:
        state = show(c, "ActiveState", unit)
        expect(state == "inactive", f"after apt remove, {unit} is {state}")
    expect(not bpf_links(cgroup_pids(c.cgroups[-1])), "after apt remove, the container still holds BPF links")
    # Closed everywhere: the kernel has neither the links nor their programs any more.
    links, progs = ids("link"), ids("prog")
    left = {link: prog for link, prog in held.items() if link in links or prog in progs}
    expect(not left, f"after apt remove, links or programs of execcount are still in the kernel: {left}")
    # The conffile and the counts stay until purge.
    c.run("test", "-f", "/etc/execcountd/execcountd.conf")
    c.run("test", "-s", "/var/lib/execcountd/counts.state")
    expect(os.path.exists(os.path.join(bpffs, "execcountd", "counts")), "the pinned counts went with apt remove")
    # What purge is to remove, as the search for leftovers finds it.
    left = leftovers(c)
    for path in ("/etc/execcountd/execcountd.conf", "/var/lib/execcountd", "/sys/fs/bpf/execcountd", "/run/execcountd"):
        expect(path in left, f"after apt remove, the search for leftovers does not find {path}: {left}")
    log(f"  apt remove: {len(held)} links closed, their programs gone")


def leftovers(c):
    """Files and directories named after execcount anywhere in the container (its root, its
    /run, /tmp, /var/tmp and /sys/fs/bpf), and its users and groups."""
    found = c.run("sh", "-c", "find / /run /tmp /var/tmp /sys/fs/bpf -xdev \\( -path /proc -o -path " + TOOLS + " -o -path " + DEBS +
                  " \\) -prune -o -name '*execcount*' -print", check=False).stdout.split()
    found += [f"catalog entry {ID_STARTED}"] if ID_STARTED in c.run("journalctl", "--list-catalog").stdout else []
    for db, names in (("passwd", ["execcountd"]), ("group", ["execcountd", "execcount"])):
        for name in names:
            if c.run("getent", db, name, check=False).returncode == 0:
                found.append(f"{'user' if db == 'passwd' else 'group'} {name}")
    return sorted(set(found))


def check_purge(c):
    apt(c, "purge", "execcount")
    expect(c.run("dpkg-query", "-W", "-f=${Status}", "execcount", check=False).stdout in ("", "unknown ok not-installed"),
           "not purged")
    left = leftovers(c)
    log(f"  apt purge leaves: {', '.join(left) or 'nothing'}")
    expect(set(left) == LEFT_BY_POLICY, f"apt purge left {sorted(set(left) - LEFT_BY_POLICY)} "
           f"(expected only {sorted(LEFT_BY_POLICY)})")


def main():
    require_root_and("dpkg-buildpackage", "lintian", "bpftool")
    clean_up_on_sigterm()
    prefix = "execcount-package-"
    remove_stale_cgroups(prefix)
    remove_stale_netns(prefix, "ecpk")
    had_netns_dir = os.path.isdir("/run/netns")
    rootfs.ensure(CACHE, log)
    work = tempfile.mkdtemp(prefix=prefix)
    os.chmod(work, 0o755)
    bpffs = os.path.join(work, "bpf")
    c = netns = rebuild = None
    failed = True
    try:
        first, deb = build(work)
        rebuild = Rebuild(work, version_of(os.path.join(first, deb)))
        tools = os.path.join(work, "tools")
        os.mkdir(tools)
        for tool in (EXECLOAD, NOOP):
            shutil.copy(tool, tools)
        mount_bpffs(bpffs)
        uid = UID_BASE
        steps = [("Depends: the shared libraries and systemd-sysusers", lambda: check_control(first, deb)),
                 ("lintian: no error, no warning", lambda: check_lintian(first))]
        failed = run_steps(steps)
        if not failed:
            # A /30 of 10.232.0.0/16 of this run's own (test-prometheus takes 10.231.0.0/16).
            netns = NetNamespace(f"{prefix}{os.getpid()}", f"ecpk{os.getpid()}", f"10.232.{1 + os.getpid() % 250}.0/30")
            c = Container(ROOTFS, None, None, bpffs, name=f"{prefix}{os.getpid()}", netns=netns,
                          binds=[f"--bind-ro={work}/debs:{DEBS}", f"--bind-ro={tools}:{TOOLS}"],
                          log_path=os.path.join(work, "nspawn.log"))
            steps = [
                ("apt install: active, answering root and group execcount at once",
                 lambda: check_install(c, deb, uid, f"e2e-admin{os.getpid() % 10000}")),
                ("the exporter, once enabled, answers on port 9737", lambda: check_exporter(c, netns, uid)),
                ("upgrade to a rebuilt package during an exec storm: every exec counted, the sockets kept",
                 lambda: check_upgrade_storm(c, netns, rebuild, uid + 1)),
                ("apt remove: no unit running, no program attached", lambda: check_remove(c, bpffs)),
                ("apt purge: nothing of the package's left but its users", lambda: check_purge(c)),
            ]
            failed = run_steps(steps)
            if failed:
                log("# the container's journal, last 60 lines:")
                log(c.run("journalctl", "--no-pager", "-n", "60", check=False).stdout)
    finally:
        if rebuild:
            rebuild.stop()
        left = c.stop() if c else []
        if netns:
            left += netns.remove()
        if not had_netns_dir:
            left += remove_netns_dir()
        umount(bpffs)
        shutil.rmtree(work, ignore_errors=True)
        for path in left:
            log(f"# left behind: {path}")
    sys.exit(1 if failed or left else 0)


if __name__ == "__main__":
    main()
