# SPDX-License-Identifier: GPL-2.0-or-later
"""vmlib.py: Debian's stock kernel, cached, and QEMU to boot it with an initramfs: what the
vm test suite and bench/vm-cost.py share."""

import os
import re
import shutil
import subprocess

KERNEL_META = "linux-image-cloud-amd64"


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


def ensure_kernel(cache, log=print):
    pkg = kernel_package()
    kdir = os.path.join(cache, "kernel", pkg)
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


def libraries(binary):
    """The shared libraries a binary loads, the dynamic loader included."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def make_root(root, binaries, files):
    """A busybox initramfs tree in root: binaries (destination: source) with the shared
    libraries they load, other files as they are, /etc/passwd and /etc/group for root, and
    /vm/boot.sh (vm-boot.sh), which the /init among files sources first."""
    os.makedirs(root)
    os.chmod(root, 0o755)  # or nobody but root could exec anything
    for d in ("bin", "sbin", "usr/lib", "usr/lib64", "etc", "proc", "sys", "dev", "run", "tmp", "root"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    # Debian's merged /usr: /lib and /lib64 are links.
    os.symlink("usr/lib", os.path.join(root, "lib"))
    os.symlink("usr/lib64", os.path.join(root, "lib64"))

    everything = dict(files, **binaries)
    everything["/bin/busybox"] = shutil.which("busybox")
    everything["/vm/boot.sh"] = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vm-boot.sh")
    for binary in binaries.values():
        for lib in libraries(binary):
            # Where the loader looks: the library's directory, links resolved as in the VM.
            everything[os.path.realpath(os.path.dirname(lib)) + "/" + os.path.basename(lib)] = os.path.realpath(lib)
    for dest, src in everything.items():
        path = os.path.join(root, dest.lstrip("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(src, path)
        os.chmod(path, 0o755)
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\n")


def boot(vmlinuz, initramfs, console, timeout, memory="1G", append=""):
    """QEMU on 2 vCPUs; False if it had to be killed after timeout seconds."""
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-cpu", "max", "-accel", "tcg", "-smp", "2", "-m", memory,
           "-kernel", vmlinuz, "-initrd", initramfs, "-nographic", "-no-reboot", "-nic", "none",
           "-append", f"console=ttyS0 panic=-1 quiet {append}"]
    with open(console, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            proc.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False
