# SPDX-License-Identifier: GPL-2.0-or-later
"""nspawnlib.py: this build under a real systemd as PID 1, in a systemd-nspawn container of
the cached Debian 12 root file system: what the e2e suite's tests share. Containers, their
cgroups and network namespaces are removed however a test ends."""

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import traceback

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MISSING = "/nonexistent-execcount-e2e"
TOOLS = "/usr/local/lib/execcount-e2e"  # execload and noop, in the container


def fail(msg):
    raise AssertionError(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def wait_for(pred, what, timeout=15.0):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def log(msg):
    print(msg, flush=True)


# ---- Before and after a test

def require_root_and(*tools):
    """Exits with meson's SKIP (77), or with a failure under CI, when this cannot run here."""
    ci = bool(os.environ.get("CI"))
    if os.geteuid() != 0:
        print("SKIP: booting a container needs root" if not ci else "FAIL: CI must run as root")
        sys.exit(1 if ci else 77)
    for tool in ("systemd-nspawn", "debootstrap", "nsenter", *tools):
        if not shutil.which(tool):
            print(f"{'FAIL' if ci else 'SKIP'}: {tool} is missing (tools/install-deps --test)")
            sys.exit(1 if ci else 77)


def clean_up_on_sigterm():
    """meson's timeout and Ctrl-C end a test with SIGTERM or SIGINT: its finally clauses
    clean up all the same."""
    def on_signal(signo, frame):
        raise KeyboardInterrupt(f"signal {signo}")
    signal.signal(signal.SIGTERM, on_signal)


def remove_stale_cgroups(prefix):
    """Leftovers of runs that were killed outright."""
    stale = [f"/sys/fs/cgroup/{h}/{d}" for h in ("systemd", "unified", "") if os.path.isdir(f"/sys/fs/cgroup/{h}")
             for d in os.listdir(f"/sys/fs/cgroup/{h}") if d.startswith(prefix)]
    for left in remove_cgroups(stale):
        log(f"# could not remove a stale cgroup: {left}")


def stage_build(build, stage, tools=()):
    """This build installed under stage (meson install --destdir), with the test tools in
    stage + TOOLS."""
    subprocess.run(["meson", "install", "-C", build, "--destdir", stage, "--no-rebuild", "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    os.makedirs(stage + TOOLS)
    for tool in tools:
        shutil.copy(tool, stage + TOOLS)


def mount_bpffs(path):
    """A BPF file system of its own at path: a container's daemon pins there, never where
    this host's execcountd does."""
    os.mkdir(path)
    subprocess.run(["mount", "-t", "bpf", "bpf", path], check=True)


def umount(path):
    if os.path.ismount(path):
        subprocess.run(["umount", "-l", path], check=False)


# ---- A network namespace for a container

class NetNamespace:
    """A named network namespace (/run/netns/NAME) with lo up and a veth pair to this host:
    HOST_ADDRESS on this side, ADDRESS inside, in a /30 of their own."""

    def __init__(self, name, veth, subnet):
        net = ipaddress.ip_network(subnet)
        expect(net.prefixlen == 30, f"{subnet}: a /30 holds the two ends")
        self.name, self.veth = name, veth  # veth: this host's end, at most 15 characters
        self.path = f"/run/netns/{name}"
        self.host_address, self.address = (str(a) for a in net.hosts())
        ip = ["ip", "-n", name]
        taken = subprocess.run(["ip", "-o", "addr", "show", "to", subnet], capture_output=True, text=True).stdout
        expect(not taken.strip(), f"{subnet} is in use here already:\n{taken}")
        try:
            for cmd in (["ip", "netns", "add", name],
                        ["ip", "link", "add", veth, "type", "veth", "peer", "name", "host0", "netns", name],
                        ["ip", "addr", "add", f"{self.host_address}/30", "dev", veth],
                        ["ip", "link", "set", veth, "up"],
                        [*ip, "link", "set", "lo", "up"],
                        [*ip, "addr", "add", f"{self.address}/30", "dev", "host0"],
                        [*ip, "link", "set", "host0", "up"]):
                p = subprocess.run(cmd, capture_output=True, text=True)
                expect(p.returncode == 0, f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
        except BaseException:
            self.remove()
            raise

    def remove(self):
        """Deletes the veth pair and the namespace; returns what is left of them."""
        return remove_netns(self.name, self.veth)


def remove_netns(name, veth):
    subprocess.run(["ip", "link", "del", veth], capture_output=True)
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    left = []
    if os.path.exists(f"/sys/class/net/{veth}"):
        left.append(f"veth {veth}")
    if os.path.exists(f"/run/netns/{name}"):
        left.append(f"network namespace {name}")
    return left


def remove_netns_dir():
    """/run/netns, which the first "ip netns add" makes (a mount point), if it is empty:
    for a test on a machine that had none."""
    if not os.path.isdir("/run/netns") or os.listdir("/run/netns"):
        return []
    for _ in range(4):  # mounted again by each "ip netns add" that found it unmounted
        if subprocess.run(["mountpoint", "-q", "/run/netns"]).returncode != 0:
            break
        subprocess.run(["umount", "/run/netns"], capture_output=True)
    try:
        os.rmdir("/run/netns")
    except OSError as e:
        return [f"/run/netns: {e}"]
    return []


def remove_stale_netns(prefix, veth_prefix):
    """The namespaces and veth pairs of runs that were killed outright."""
    names = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    for name in [n for n in names if n.startswith(prefix)]:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    for veth in [v for v in os.listdir("/sys/class/net") if v.startswith(veth_prefix)]:
        subprocess.run(["ip", "link", "del", veth], capture_output=True)


# ---- The container

class Container:
    def __init__(self, rootfs, stage, etc, bpffs, name=None, netns=None, binds=(), log_path=None):
        """Boots rootfs with the build in stage, etc as /etc/execcountd and bpffs as
        /sys/fs/bpf; in netns (a NetNamespace) if given, else in this host's network.
        stage and etc may be None (a package installs execcount there instead); binds are
        more nspawn --bind options, and log_path nspawn's log (default: beside etc)."""
        self.name = name or f"execcount-e2e-{os.getpid()}"
        # nspawn runs in a cgroup of its own (its --keep-unit subgroups are removed with it).
        self.cgroups = make_cgroups(self.name)
        self.log_path = log_path or os.path.join(etc, "..", "nspawn.log")
        self.logf = open(self.log_path, "w")
        binds = ["--bind=/sys/kernel/tracing", f"--bind={bpffs}:/sys/fs/bpf", *binds]
        if stage:
            binds.append(f"--bind-ro={stage}/usr/local:/usr/local")
        if etc:
            binds.append(f"--bind={etc}:/etc/execcountd")
        # CAP_AUDIT_CONTROL: pam_loginuid sets the login UID of a login in there.
        caps = "CAP_BPF,CAP_PERFMON,CAP_SYS_ADMIN,CAP_AUDIT_CONTROL"
        network = []
        if netns:
            # A namespace made beforehand: it needs no systemd-networkd on either side. nspawn
            # gives CAP_NET_ADMIN with --private-network only; with it, the container's
            # systemd brings up the loopback of the units with PrivateNetwork=.
            network = [f"--network-namespace-path={netns.path}"]
            caps += ",CAP_NET_ADMIN"
        cmd = ["systemd-nspawn", "--boot", f"--directory={rootfs}", "--volatile=overlay", "--register=no",
               "--keep-unit", f"--machine={self.name}", "--console=pipe",
               "--system-call-filter=bpf perf_event_open", f"--capability={caps}",
               *network, *binds]
        self.proc = popen_in_cgroups(self.cgroups, cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        try:
            self.pid1 = wait_for(self.find_pid1, "the container's systemd to start")
            wait_for(lambda: self.run("test", "-S", "/run/systemd/private", check=False).returncode == 0,
                     "systemd's private socket in the container")
            state = self.run("systemctl", "is-system-running", "--wait", check=False).stdout.strip()
            if state != "running":
                failed = self.run("systemctl", "--failed", "--no-legend", check=False).stdout
                log(f"# container state {state}; failed units:\n{failed}")
        except BaseException:
            self.stop()
            raise

    def find_pid1(self):
        if self.proc.poll() is not None:
            fail(f"systemd-nspawn exited with {self.proc.returncode}:\n{open(self.log_path).read()}")
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and comm == "systemd":
                return int(pid)
        return None

    def command(self, *cmd):
        return ["nsenter", f"--target={self.pid1}", "--mount", "--uts", "--ipc", "--net", "--pid", "--cgroup",
                "--root", "--wd", "--", "env", "-i", f"PATH={PATH}", *cmd]

    def popen(self, *cmd):
        return subprocess.Popen(self.command(*cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, *cmd, check=True, timeout=60):
        p = subprocess.run(self.command(*cmd), capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            fail(f"in the container, {' '.join(cmd)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def journal(self, *matches):
        self.run("journalctl", "--sync")  # what was logged is in the files, not in flight
        out = self.run("journalctl", "-u", "execcountd", "-o", "json", "--no-pager", *matches).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def stop(self):
        """Halts the container and removes every trace; returns what could not be removed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn asks the container's systemd to halt
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        shutil.rmtree(f"/run/systemd/nspawn/propagate/{self.name}", ignore_errors=True)
        return remove_cgroups(self.cgroups)


def make_cgroups(name):
    """A cgroup called name at the top of each hierarchy that holds processes by name."""
    cgroups = [f"/sys/fs/cgroup/{h}/{name}" for h in ("systemd", "unified") if os.path.isdir(f"/sys/fs/cgroup/{h}")]
    if not cgroups:
        cgroups = [f"/sys/fs/cgroup/{name}"]  # a pure cgroup v2 host
    for cg in cgroups:
        os.makedirs(cg, exist_ok=True)
    return cgroups


def popen_in_cgroups(cgroups, cmd, **kwargs):
    """Starts cmd in cgroups: remove_cgroups() finds whatever it leaves, and so does
    remove_stale_cgroups() after a run that was killed outright."""
    enter = "; ".join(f"echo $$ > {cg}/cgroup.procs" for cg in cgroups)
    return subprocess.Popen(["sh", "-c", f'{enter}; exec "$@"', "sh", *cmd], **kwargs)


def cgroup_pids(cg):
    pids = []
    for root, _, files in os.walk(cg):
        if "cgroup.procs" in files:
            with open(os.path.join(root, "cgroup.procs")) as f:
                pids += [int(p) for p in f.read().split()]
    return pids


def remove_cgroups(cgroups):
    """Kills what is left in the cgroups, then removes them deepest first."""
    left = []
    for cg in cgroups:
        if not os.path.isdir(cg):
            continue
        for _ in range(50):
            pids = cgroup_pids(cg)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        for root, _, _ in os.walk(cg, topdown=False):
            try:
                os.rmdir(root)
            except OSError as e:
                left.append(f"{root}: {e}")
    return left


# ---- In the container

def as_uid(c, uid, path):
    return c.run("setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", path, check=False)


def exec_as(c, uid, ok=0, missing=0):
    for _ in range(ok):
        expect(as_uid(c, uid, "/bin/true").returncode == 0, "exec of /bin/true failed")
    for _ in range(missing):
        expect(as_uid(c, uid, MISSING).returncode != 0, f"exec of {MISSING} worked")


def stats_of(c, uid):
    users = json.loads(c.run("execcountctl", "stats", "--uid", str(uid), "--json=short").stdout)["users"]
    return (users[0]["execs"], users[0]["failed"]) if users else (0, 0)


def last_seq(c):
    """The seq of the newest event the container's daemon received."""
    return json.loads(c.run("execcountctl", "status", "--json=short").stdout)["events_received"]


def history_churned(c, seq):
    """Whether events after seq have left the daemon's history (History= events, shared by
    everyone): this machine's other programs' execs count there too, and on a busy one
    push the test's own out."""
    lines = c.run("execcountctl", "events", "-n", "all", "--json=short").stdout.splitlines()
    return bool(lines) and json.loads(lines[0])["seq"] > seq + 1


def run_steps(steps):
    """Runs (name, fn) pairs in TAP style, up to the first that fails; returns whether one
    did."""
    for name, fn in steps:
        try:
            fn()
            log(f"ok - {name}")
        except Exception:
            log(f"not ok - {name}")
            traceback.print_exc()
            return True
    return False


def no_leak_checks(c, *units):
    """In a sanitizer build, turns LeakSanitizer off for units: it needs ptrace, which
    their system call filters forbid, and would fail them at exit. The integration suite
    and valgrind check for leaks."""
    if os.environ.get("EXECCOUNT_SANITIZERS", "none") == "none":
        return
    for unit in units:
        c.run("mkdir", "-p", f"/etc/systemd/system/{unit}.d")
        c.run("sh", "-c", "printf '[Service]\\nEnvironment=ASAN_OPTIONS=detect_leaks=0\\n' > \"$1\"", "sh",
              f"/etc/systemd/system/{unit}.d/50-sanitizers.conf")
    c.run("systemctl", "daemon-reload")


def show(c, prop, unit="execcountd.service"):
    return c.run("systemctl", "show", "-p", prop, "--value", unit).stdout.strip()
