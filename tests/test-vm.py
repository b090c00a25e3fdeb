#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-vm.py: every probe mode, exactly, on Debian's stock kernel under QEMU.

    test-vm.py EXECCOUNTD EXECCOUNTCTL VM-CHECK COMPAT-EXEC VM-INIT CACHE-DIR

Downloads Debian's stock amd64 kernel (the cloud flavour, cached in CACHE-DIR), builds an
initramfs holding this build's execcountd and execcountctl with their libraries, boots
it with QEMU on 2 vCPUs, and reads the verdict from the serial console: inside, vm-init
runs the daemon once per probe mode (fentry, kprobe, tracepoint, auto) and vm-check
compares what execcountctl reports with the execs it made. QEMU exits 0 whatever
happened, so only the console counts; a guest that hangs is killed and reported with the
tail of its console.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

EXECCOUNTD, EXECCOUNTCTL, VM_CHECK, COMPAT_EXEC, VM_INIT, CACHE = sys.argv[1:7]
KERNEL_META = "linux-image-cloud-amd64"
TIMEOUT = int(os.environ.get("EXECCOUNT_VM_TIMEOUT", "900"))


def log(msg):
    print(msg, flush=True)


def skip_or_fail(msg):
    ci = bool(os.environ.get("CI"))
    log(f"{'FAIL' if ci else 'SKIP'}: {msg}")
    sys.exit(1 if ci else 77)


# ---- The kernel

def kernel_package():
    """The versioned package the metapackage points at, e.g. linux-image-6.1.0-56-cloud-amd64."""
    out = subprocess.run(["apt-cache", "depends", KERNEL_META], capture_output=True, text=True).stdout
    m = re.search(r"Depends: (linux-image-[\w.+-]+)", out)
    if not m:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        out = subprocess.run(["apt-cache", "depends", KERNEL_META], capture_output=True, text=True).stdout
        m = re.search(r"Depends: (linux-image-[\w.+-]+)", out)
    if not m:
        raise RuntimeError(f"apt-cache knows no {KERNEL_META}: {out}")
    return m.group(1)


def ensure_kernel():
    pkg = kernel_package()
    kdir = os.path.join(CACHE, "kernel", pkg)
    vmlinuz = os.path.join(kdir, "vmlinuz")
    if os.path.exists(vmlinuz):
        return pkg, vmlinuz, True
    os.makedirs(kdir, exist_ok=True)
    log(f"# downloading {pkg}")
    subprocess.run(["apt-get", "download", "-q", pkg], cwd=kdir, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    deb = next(f for f in os.listdir(kdir) if f.endswith(".deb"))
    unpack = os.path.join(kdir, "unpack")
    os.makedirs(unpack, exist_ok=True)
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", os.path.join(kdir, deb)], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", unpack, "./boot"], stdin=tar.stdout, check=True)
    tar.wait()
    boot = os.path.join(unpack, "boot")
    image = next(f for f in os.listdir(boot) if f.startswith("vmlinuz-"))
    shutil.copy(os.path.join(boot, next(f for f in os.listdir(boot) if f.startswith("config-"))),
                os.path.join(kdir, "config"))
    os.rename(os.path.join(boot, image), vmlinuz + ".tmp")
    os.rename(vmlinuz + ".tmp", vmlinuz)
    shutil.rmtree(unpack)
    os.unlink(os.path.join(kdir, deb))
    return pkg, vmlinuz, False


# ---- The initramfs

def libraries(binary):
    """The shared libraries a binary loads, the dynamic loader included."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def build_initramfs(root, out):
    os.makedirs(root)
    os.chmod(root, 0o755)  # or nobody but root could exec anything
    for d in ("bin", "sbin", "usr/local/sbin", "usr/local/bin", "usr/lib", "usr/lib64", "etc/execcountd", "vm",
              "proc", "sys", "dev", "run", "tmp", "root"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    # Debian's merged /usr: /lib and /lib64 are links.
    os.symlink("usr/lib", os.path.join(root, "lib"))
    os.symlink("usr/lib64", os.path.join(root, "lib64"))

    files = {
        "/usr/local/sbin/execcountd": EXECCOUNTD,
        "/usr/local/bin/execcountctl": EXECCOUNTCTL,
        "/vm/vm-check": VM_CHECK,
        "/vm/compat-exec": COMPAT_EXEC,
        "/bin/busybox": shutil.which("busybox"),
        "/init": VM_INIT,
    }
    for binary in (EXECCOUNTD, EXECCOUNTCTL, VM_CHECK):
        for lib in libraries(binary):
            # Where the loader looks: the library's directory, links resolved as in the VM.
            files[os.path.realpath(os.path.dirname(lib)) + "/" + os.path.basename(lib)] = os.path.realpath(lib)
    for dest, src in files.items():
        path = os.path.join(root, dest.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(src, path)
        os.chmod(path, 0o755)
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\n")
    with open(os.path.join(root, "etc/execcountd/vm.conf"), "w") as f:
        # Keep every event of the checks, and make the daemon mount tracefs and bpffs.
        f.write("[Events]\nHistory=100000\n")

    find = subprocess.Popen(["find", "."], cwd=root, stdout=subprocess.PIPE)
    cpio = subprocess.Popen(["busybox", "cpio", "-o", "-H", "newc"], cwd=root, stdin=find.stdout,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    with open(out, "wb") as f:
        subprocess.run(["gzip", "-1"], stdin=cpio.stdout, stdout=f, check=True)
    find.wait()
    cpio.wait()


# ---- The VM

def boot(vmlinuz, initramfs, console):
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-accel", "tcg", "-smp", "2", "-m", "1G",
           "-kernel", vmlinuz, "-initrd", initramfs, "-nographic", "-no-reboot", "-nic", "none",
           "-append", "console=ttyS0 panic=-1 quiet"]
    with open(console, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            proc.wait(timeout=TIMEOUT)
            return True
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False


def main():
    if os.geteuid() != 0 and not os.access(CACHE, os.W_OK):
        skip_or_fail(f"cannot write the cache {CACHE}")
    for tool in ("qemu-system-x86_64", "busybox", "apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            skip_or_fail(f"{tool} is missing (tools/install-deps --test installs it)")

    t0 = time.monotonic()
    pkg, vmlinuz, cached = ensure_kernel()
    t_kernel = time.monotonic() - t0
    tmp = tempfile.mkdtemp(prefix="test-vm-")
    try:
        initramfs = os.path.join(tmp, "initramfs.gz")
        build_initramfs(os.path.join(tmp, "root"), initramfs)
        t_initramfs = time.monotonic() - t0 - t_kernel
        console = os.path.join(tmp, "console.log")
        finished = boot(vmlinuz, initramfs, console)
        t_total = time.monotonic() - t0
        with open(console, errors="replace") as f:
            text = f.read().replace("\r", "")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    for line in text.splitlines():
        if line.startswith(("EXECCOUNT-VM", "vm-check")):
            log(line)
    log(f"# {pkg} {'(cached)' if cached else '(downloaded)'}: kernel {t_kernel:.1f} s, initramfs "
        f"{t_initramfs:.1f} s, total {t_total:.1f} s")
    if not finished:
        log(f"FAIL: the VM did not finish within {TIMEOUT} s; the end of its console:")
        log("\n".join(text.splitlines()[-40:]))
        sys.exit(1)
    m = re.search(r"^EXECCOUNT-VM-RESULT: (\w+)$", text, re.M)
    if not m:
        log("FAIL: the VM gave no verdict; the end of its console:")
        log("\n".join(text.splitlines()[-40:]))
        sys.exit(1)
    modes = re.findall(r"^EXECCOUNT-VM: mode (\w+) (PASS|FAIL)", text, re.M)
    if len(modes) != 4:
        log(f"FAIL: expected a verdict for 4 modes, got {modes}")
        sys.exit(1)
    sys.exit(0 if m.group(1) == "PASS" else 1)


if __name__ == "__main__":
    main()
