#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-vm.py: every probe mode, exactly, on Debian's stock kernel under QEMU.

    test-vm.py EXECCOUNTD EXECCOUNTCTL VM-CHECK COMPAT-EXEC VM-INIT VM-SYSTEMD-CHECK BUILD-DIR CACHE-DIR

Downloads Debian's stock amd64 kernel (the cloud flavour, cached in CACHE-DIR) and boots
it twice with QEMU on 2 vCPUs, reading the verdict from the serial console each time:

1. An initramfs holding this build's execcountd and execcountctl with their libraries:
   vm-init runs the daemon once per probe mode (fentry, kprobe, tracepoint, auto) and
   vm-check compares what execcountctl reports with the execs it made.
2. The e2e suite's Debian 12 root file system, with systemd as PID 1 and this build
   installed: vm-systemd-check starts execcountd.service, which must take the fentry
   probes, and checks its counts.

QEMU exits 0 whatever happened, so only the console counts; a guest that hangs is killed
and reported with the tail of its console.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402
import vmlib  # noqa: E402

EXECCOUNTD, EXECCOUNTCTL, VM_CHECK, COMPAT_EXEC, VM_INIT, VM_SYSTEMD_CHECK, BUILD, CACHE = sys.argv[1:9]
TIMEOUT = int(os.environ.get("EXECCOUNT_VM_TIMEOUT", "900"))
# The systemd boot takes 15-50 s; a guest that shows nothing for this long hangs.
SYSTEMD_TIMEOUT = min(TIMEOUT, 300)


def log(msg):
    print(msg, flush=True)


def skip_or_fail(msg):
    ci = bool(os.environ.get("CI"))
    log(f"{'FAIL' if ci else 'SKIP'}: {msg}")
    sys.exit(1 if ci else 77)


# ---- The initramfs

def build_initramfs(root, out):
    vmlib.make_root(root, {"/usr/local/sbin/execcountd": EXECCOUNTD, "/usr/local/bin/execcountctl": EXECCOUNTCTL,
                           "/vm/vm-check": VM_CHECK},
                    {"/vm/compat-exec": COMPAT_EXEC, "/init": VM_INIT})
    os.makedirs(os.path.join(root, "etc/execcountd"))
    with open(os.path.join(root, "etc/execcountd/vm.conf"), "w") as f:
        # Keep every event of the checks, and make the daemon mount tracefs and bpffs.
        f.write("[Events]\nHistory=100000\n")

    rootfs.pack(root, out)


TEST_UNIT = """[Unit]
Description=execcount VM test
After=basic.target

[Service]
Type=oneshot
ExecStart=/vm/systemd-check.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console
"""


def build_systemd_initrd(tmp, out):
    """The cached root file system archive, followed by one with this build and the test
    unit: the kernel unpacks both into the same initramfs."""
    base = rootfs.ensure_cpio(CACHE, log)
    overlay = os.path.join(tmp, "overlay")
    subprocess.run(["meson", "install", "-C", BUILD, "--destdir", overlay, "--no-rebuild", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    os.makedirs(os.path.join(overlay, "vm"))
    shutil.copy(VM_SYSTEMD_CHECK, os.path.join(overlay, "vm/systemd-check.sh"))
    os.chmod(os.path.join(overlay, "vm/systemd-check.sh"), 0o755)
    units = os.path.join(overlay, "etc/systemd/system")
    os.makedirs(os.path.join(units, "multi-user.target.wants"))
    with open(os.path.join(units, "execcount-vm-test.service"), "w") as f:
        f.write(TEST_UNIT)
    os.symlink("../execcount-vm-test.service", os.path.join(units, "multi-user.target.wants",
                                                              "execcount-vm-test.service"))
    if os.environ.get("EXECCOUNT_SANITIZERS", "none") != "none":
        # LeakSanitizer needs ptrace, which the unit's system call filter forbids.
        dropin = os.path.join(units, "execcountd.service.d")
        os.makedirs(dropin)
        with open(os.path.join(dropin, "50-sanitizers.conf"), "w") as f:
            f.write("[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n")
    rootfs.pack(overlay, os.path.join(tmp, "overlay.cpio.gz"))
    with open(out, "wb") as f:
        for part in (base, os.path.join(tmp, "overlay.cpio.gz")):
            with open(part, "rb") as p:
                shutil.copyfileobj(p, f)


# ---- The VM

def verdict(text, finished, prefix, n_modes, timeout=TIMEOUT):
    """Whether the console says PASS; explains in the log why not."""
    if not finished:
        log(f"FAIL: the VM did not finish within {timeout} s; the end of its console:")
        log("\n".join(text.splitlines()[-40:]))
        return False
    m = re.search(rf"{prefix}RESULT: (\w+)$", text, re.M)
    if not m:
        log("FAIL: the VM gave no verdict; the end of its console:")
        log("\n".join(text.splitlines()[-40:]))
        return False
    modes = re.findall(r"^EXECCOUNT-VM: mode (\w+) (PASS|FAIL)", text, re.M)
    if len(modes) != n_modes:
        log(f"FAIL: expected a verdict for {n_modes} modes, got {modes}")
        return False
    return m.group(1) == "PASS"


def run_boot(name, vmlinuz, initrd, prefixes, memory="1G", append="", timeout=TIMEOUT):
    console = initrd + ".console"
    start = time.monotonic()
    finished = vmlib.boot(vmlinuz, initrd, console, timeout, memory, append)
    with open(console, errors="replace") as f:
        text = f.read().replace("\r", "")
    for line in text.splitlines():
        # Console lines may carry the terminal escapes systemd or the firmware wrote first.
        found = [line.index(p) for p in prefixes if p in line]
        if found:
            log(line[min(found):])
    log(f"# {name}: {time.monotonic() - start:.1f} s in the VM")
    return text, finished


def main():
    if os.geteuid() != 0 and not os.access(CACHE, os.W_OK):
        skip_or_fail(f"cannot write the cache {CACHE}")
    for tool in ("qemu-system-x86_64", "busybox", "apt-get", "dpkg-deb", "debootstrap"):
        if not shutil.which(tool):
            skip_or_fail(f"{tool} is missing (tools/install-deps --test installs it)")

    t0 = time.monotonic()
    pkg, vmlinuz, cached = vmlib.ensure_kernel(CACHE, log)
    log(f"# {pkg} {'(cached)' if cached else '(downloaded)'} in {time.monotonic() - t0:.1f} s")
    tmp = tempfile.mkdtemp(prefix="test-vm-")
    try:
        initramfs = os.path.join(tmp, "initramfs.gz")
        build_initramfs(os.path.join(tmp, "root"), initramfs)
        text, finished = run_boot("every probe mode", vmlinuz, initramfs, ("EXECCOUNT-VM:", "EXECCOUNT-VM-RESULT",
                                                                           "vm-check"))
        modes_ok = verdict(text, finished, "EXECCOUNT-VM-", 4)

        t1 = time.monotonic()
        initrd = os.path.join(tmp, "systemd.initrd")
        build_systemd_initrd(tmp, initrd)
        log(f"# systemd initramfs ready in {time.monotonic() - t1:.1f} s")
        text, finished = run_boot("execcountd.service under systemd", vmlinuz, initrd, ("EXECCOUNT-VM-SYSTEMD",),
                                  memory="2G", timeout=SYSTEMD_TIMEOUT,
                                  # The kernel's messages show how far a boot got; the
                                  # check quiets them once it runs.
                                  append="rdinit=/lib/systemd/systemd systemd.show_status=0 loglevel=7")
        systemd_ok = verdict(text, finished, "EXECCOUNT-VM-SYSTEMD: ", 0, SYSTEMD_TIMEOUT)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    log(f"# total {time.monotonic() - t0:.1f} s")
    sys.exit(0 if modes_ok and systemd_ok else 1)


if __name__ == "__main__":
    main()
