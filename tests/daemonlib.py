# SPDX-License-Identifier: GPL-2.0-or-later
"""daemonlib.py: what the integration tests share: execs as dedicated UIDs, a raw Varlink
client, and execcountd run on a temporary socket with pins and state of its own.

Every daemon pins into a BPF file system instance of its own, mounted for it (a new
mount of bpffs is a new, empty instance): tests never touch /sys/fs/bpf/execcountd, nor
each other's pins. cleanup() unmounts them all.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

EXECCOUNTD = EXECCOUNTCTL = None  # set by setup()

MISSING = "/nonexistent-execcount-test/prog"
UID_BASE = None  # set by setup()
_next_uid = 0


def new_uid():
    global _next_uid
    _next_uid += 1
    return UID_BASE + _next_uid


def fail(msg):
    raise AssertionError(msg)


def expect(cond, msg):
    if not cond:
        fail(msg)


def wait_for(pred, what, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    fail(f"timed out waiting for {what}")


# ---- Execs as a dedicated UID

def exec_ok(uid, n=1, path="/bin/true", args=()):
    for _ in range(n):
        subprocess.run([path, *args], user=uid, group=uid, extra_groups=[], check=True, stdout=subprocess.DEVNULL)


def exec_as_login(login_uid, uid, n=1, path="/bin/true"):
    """n execs of path as uid (0: stay root) in a process whose login UID is login_uid, as
    after a login of login_uid followed by su or sudo: each in a child of its own, which
    sets its login UID (root may, once per process) before it changes UID."""
    for _ in range(n):
        pid = os.fork()
        if pid == 0:
            try:
                with open("/proc/self/loginuid", "w") as f:
                    f.write(str(login_uid))
                if uid != 0:
                    os.setgroups([])
                    os.setresgid(uid, uid, uid)
                    os.setresuid(uid, uid, uid)
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1)
                os.execv(path, [path])
            finally:
                os._exit(127)
        _, status = os.waitpid(pid, 0)
        expect(os.waitstatus_to_exitcode(status) == 0, f"exec of {path} as {uid} under login {login_uid}")


SYS_BPF = 321  # x86-64


def pinned_map(pin):
    """libc, and an fd of the pinned map pin (BPF_OBJ_GET)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    path = ctypes.create_string_buffer(pin.encode())
    attr = ctypes.create_string_buffer(128)
    ctypes.c_uint64.from_buffer(attr, 0).value = ctypes.addressof(path)
    fd = libc.syscall(SYS_BPF, 7, attr, 128)  # BPF_OBJ_GET
    expect(fd >= 0, f"BPF_OBJ_GET {pin}: errno {ctypes.get_errno()}")
    return libc, fd


def batch_update(pin, keys, values, n):
    """Writes n entries (keys and values: their bytes, one after the other) into the pinned
    map pin, in one bpf(BPF_MAP_UPDATE_BATCH) call. Returns how many fit: fewer when the
    map fills up."""
    import ctypes
    libc, fd = pinned_map(pin)
    k = ctypes.create_string_buffer(keys, len(keys))
    v = ctypes.create_string_buffer(values, len(values))
    attr = ctypes.create_string_buffer(128)
    ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(k)
    ctypes.c_uint64.from_buffer(attr, 24).value = ctypes.addressof(v)
    ctypes.c_uint32.from_buffer(attr, 32).value = n
    ctypes.c_uint32.from_buffer(attr, 36).value = fd
    r = libc.syscall(SYS_BPF, 26, attr, 128)  # BPF_MAP_UPDATE_BATCH
    errno = ctypes.get_errno()
    os.close(fd)
    expect(r == 0 or errno == 7, f"BPF_MAP_UPDATE_BATCH: {r}, errno {errno}")  # E2BIG: full
    return ctypes.c_uint32.from_buffer(attr, 32).value


def fill_logins(pin, n, first_uid):
    """Writes n pairs (first_uid + i, first_uid + i) of 1 exec each into the pinned logins
    map pin: a map of many pairs without as many logins. Returns how many fit."""
    import struct
    keys = b"".join(struct.pack("=II", first_uid + i, first_uid + i) for i in range(n))
    return batch_update(pin, keys, struct.pack("=Q", 1) * n, n)


def cgroup2_root():
    """Where the cgroup2 file system is mounted (/sys/fs/cgroup/unified on hybrid hosts)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split(" - ")
            if len(fields) == 2 and fields[1].split()[0] == "cgroup2":
                return fields[0].split()[4]
    fail("no cgroup2 file system is mounted")


class Cgroup:
    """A cgroup of the test's own, made under the cgroup2 root at path ("a.slice/b.service"),
    with its parents; remove() takes them away again, bottom up."""

    def __init__(self, path):
        self.root = cgroup2_root()
        self.path = path
        self.made = []
        parts = path.split("/")
        for i in range(len(parts)):
            d = os.path.join(self.root, *parts[:i + 1])
            if not os.path.isdir(d):
                os.mkdir(d)
                self.made.append(d)
        self.dir = os.path.join(self.root, path)
        self.id = os.stat(self.dir).st_ino

    def run(self, uid, ok=0, failed=0, path="/bin/true"):
        """ok execs of path and failed ones of a missing file, as uid, in this cgroup."""
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with open(os.path.join(self.dir, "cgroup.procs"), "w") as f:
                    f.write("0")
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                fd = os.open(os.devnull, os.O_WRONLY)
                os.dup2(fd, 1)
                for _ in range(ok):
                    child = os.fork()
                    if child == 0:
                        try:
                            os.execv(path, [path])
                        finally:
                            os._exit(127)
                    _, status = os.waitpid(child, 0)
                    if os.waitstatus_to_exitcode(status) != 0:
                        os._exit(2)
                for _ in range(failed):
                    try:
                        os.execv(MISSING, [MISSING])
                    except FileNotFoundError:
                        pass
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        expect(os.waitstatus_to_exitcode(status) == 0, f"execs as {uid} in {self.path}")

    def remove(self):
        for d in reversed(self.made):
            os.rmdir(d)
        self.made = []


def pinned_has(pin, key):
    """Whether the pinned map pin holds key (bytes)."""
    import ctypes
    libc, fd = pinned_map(pin)
    k = ctypes.create_string_buffer(key, len(key))
    v = ctypes.create_string_buffer(4096)
    attr = ctypes.create_string_buffer(128)
    ctypes.c_uint32.from_buffer(attr, 0).value = fd
    ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(k)
    ctypes.c_uint64.from_buffer(attr, 16).value = ctypes.addressof(v)
    r = libc.syscall(SYS_BPF, 1, attr, 128)  # BPF_MAP_LOOKUP_ELEM
    errno = ctypes.get_errno()
    os.close(fd)
    expect(r == 0 or errno == 2, f"BPF_MAP_LOOKUP_ELEM: errno {errno}")
    return r == 0


def unit_key(cgroup_id, uid):
    """The units map's key (struct exec_unit_key)."""
    import struct
    return struct.pack("=QII", cgroup_id, uid, 0)


def fill_units(pin, n, uid):
    """Writes n entries of 1 exec each, of cgroups that do not exist (IDs from 2**62 on) and
    uid, into the pinned units map pin. Returns how many fit."""
    import struct
    keys = b"".join(unit_key(2**62 + i, uid) for i in range(n))
    return batch_update(pin, keys, struct.pack("=QQQ", 1, 0, 0) * n, n)


def suid_root_true(directory):
    """A setuid-root copy of /bin/true in directory (which others must be able to enter):
    a privileged exec for any UID that runs it."""
    path = os.path.join(directory, "suid-true")
    shutil.copy("/bin/true", path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o4755)
    return path


def exec_missing(uid, n=1):
    for _ in range(n):
        try:
            subprocess.run([MISSING], user=uid, group=uid, extra_groups=[])
        except FileNotFoundError:
            continue
        fail(f"exec of {MISSING} did not fail")


# ---- A raw Varlink client

class Varlink:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def call_raw(self, method, parameters=None, **flags):
        msg = {"method": method}
        if parameters is not None:
            msg["parameters"] = parameters
        msg.update(flags)
        self.send(json.dumps(msg).encode() + b"\0")

    def reply(self):
        while b"\0" not in self.buf:
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionResetError("daemon closed the connection")
            self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, parameters=None, **flags):
        self.call_raw(method, parameters, **flags)
        return self.reply()

    def closed(self):
        """True if the daemon closed its end (after anything still buffered)."""
        try:
            return self.sock.recv(1 << 20) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


# ---- The daemon

class Daemon:
    """execcountd on tmp/io.execcount, pinning into tmp/bpf/execcountd (tmp/bpf: a bpffs
    of its own; the daemon makes the directory) and keeping its state in tmp/state, unless
    the config says otherwise."""

    def __init__(self, tmp, config="", args=(), wrapper=(), owner=None, wait=True, start_timeout=10.0):
        self.tmp = tmp
        self.socket = os.path.join(tmp, "io.execcount")
        self.config = os.path.join(tmp, "execcountd.conf")
        self.log = os.path.join(tmp, "execcountd.log")
        self.pins = os.path.join(tmp, "bpf", "execcountd")
        self.state = os.path.join(tmp, "state")
        mount_bpffs(os.path.dirname(self.pins), owner)
        with open(self.config, "w") as f:
            f.write(f"[State]\nDirectory={self.state}\nPinDirectory={self.pins}\n\n{config}")
        self.start(args, wrapper, wait, start_timeout)

    def start(self, args=(), wrapper=(), wait=True, start_timeout=10.0):
        """Starts execcountd (again), appending to its log."""
        self.logf = open(self.log, "a")
        self.log_offset = self.logf.tell()
        self.proc = subprocess.Popen(
            [*wrapper, EXECCOUNTD, "--config", self.config, "--socket", self.socket, *args],
            stdout=self.logf, stderr=subprocess.STDOUT)
        if wait:
            self.wait_up(start_timeout)

    def wait_up(self, timeout=10.0):
        def up():
            if self.proc.poll() is not None:
                fail(f"execcountd exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                Varlink(self.socket).close()
                return True
            except OSError:
                return False
        wait_for(up, "execcountd to serve its socket", timeout)

    def run_log(self):
        """The log of the current run only."""
        return self.read_log()[self.log_offset:]

    def kill(self):
        """kill -9: nothing of the daemon's shutdown runs."""
        self.proc.kill()
        self.proc.wait()
        self.logf.close()

    def pinned(self):
        return sorted(os.listdir(self.pins)) if os.path.isdir(self.pins) else []

    def read_log(self):
        with open(self.log) as f:
            return f.read()

    def varlink(self):
        return Varlink(self.socket)

    def call(self, method, parameters=None):
        v = self.varlink()
        try:
            r = v.call(method, parameters)
        finally:
            v.close()
        expect("error" not in r, f"{method} failed: {r}")
        return r["parameters"]

    def ctl(self, *args, rc=0):
        p = subprocess.run([EXECCOUNTCTL, "--socket", self.socket, "--no-pager", *args],
                           capture_output=True, text=True, timeout=30)
        if rc is not None and p.returncode != rc:
            fail(f"execcountctl {' '.join(args)}: exit {p.returncode}, expected {rc}\n"
                 f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def ctl_json(self, *args):
        return json.loads(self.ctl(*args, "--json=short").stdout)

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                fail("execcountd did not stop on SIGTERM")
        self.logf.close()
        return self.proc.returncode


# ---- Set-up and clean-up

_mounts = []


def last_seq(d):
    """The seq of the newest event the daemon received."""
    return d.ctl_json("status")["events_received"]


def history_churned(d, seq):
    """Whether events after seq have left the daemon's history (a ring of History= events
    shared by everyone): on a machine whose other programs exec a lot, they push the test's
    own out, and checks of those can only see what is left."""
    lines = d.ctl("events", "-n", "all", "--json=short").stdout.splitlines()
    return bool(lines) and json.loads(lines[0])["seq"] > seq + 1


def mount_bpffs(path, owner=None):
    """A fresh, empty BPF file system instance at path (once per path)."""
    if path in _mounts:
        return
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "bpf", "bpf", path], check=True)
    _mounts.append(path)
    if owner is not None:
        os.chown(path, owner, owner)


def cleanup():
    """Unmounts the BPF file systems: whatever is still pinned there goes with them."""
    for path in reversed(_mounts):
        subprocess.run(["umount", "-l", path], check=False)
    _mounts.clear()


def setup(argv, uid_base):
    """Reads EXECCOUNTD and EXECCOUNTCTL from argv; exits with SKIP (77) when not root,
    except in CI, where that fails."""
    global EXECCOUNTD, EXECCOUNTCTL, UID_BASE
    EXECCOUNTD, EXECCOUNTCTL = argv[1:3]
    UID_BASE = uid_base + (os.getpid() & 0xFFFF) * 256
    if os.geteuid() != 0:
        print("SKIP: execcountd needs root" if not os.environ.get("CI") else "FAIL: CI must run this as root")
        sys.exit(1 if os.environ.get("CI") else 77)


def run_tests(tests):
    """Runs (name, fn) pairs in TAP style; returns how many failed."""
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print(f"ok - {name}", flush=True)
        except Exception:
            failed += 1
            print(f"not ok - {name}", flush=True)
            import traceback
            traceback.print_exc()
    return failed
