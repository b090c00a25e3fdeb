# SPDX-License-Identifier: GPL-2.0-or-later
"""rootfs.py: the Debian 12 root file system the e2e and vm suites boot, made once with
debootstrap and kept in the test cache (also as a gzipped cpio archive, for initramfs use)."""

import fcntl
import os
import shutil
import subprocess
import time

# systemd-container: systemd-machined, whose machines the daemon names.
PACKAGES = "systemd,systemd-sysv,systemd-container,dbus,libbpf1,libsystemd0,libelf1,libjson-c5,libinih1"
# Bump when the package list changes, so that the cache is made again.
NAME = "rootfs-bookworm-2"
MIRROR = "http://deb.debian.org/debian"


def _locked(cache):
    os.makedirs(cache, exist_ok=True)
    lock = open(os.path.join(cache, ".lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    return lock


def ensure(cache, log=print):
    """The root file system's directory, made with debootstrap (about a minute) if missing."""
    root = os.path.join(cache, NAME)
    with _locked(cache):
        if os.path.exists(os.path.join(root, "usr/lib/systemd/systemd")):
            return root
        log(f"# making the Debian 12 root file system in {root} (about a minute, once)")
        tmp = root + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        start = time.monotonic()
        subprocess.run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "bookworm", tmp, MIRROR],
                       check=True, stdout=subprocess.DEVNULL)
        os.rename(tmp, root)
        log(f"# root file system made in {time.monotonic() - start:.0f} s")
        return root


def ensure_cpio(cache, log=print):
    """The root file system as a gzipped newc cpio archive, to boot as an initramfs."""
    root = ensure(cache, log)
    archive = root + ".cpio.gz"
    with _locked(cache):
        if os.path.exists(archive) and os.path.getmtime(archive) >= os.path.getmtime(root):
            return archive
        log(f"# archiving {root} as an initramfs")
        pack(root, archive + ".tmp")
        os.rename(archive + ".tmp", archive)
        return archive


def pack(directory, archive):
    """directory as a gzipped newc cpio archive (the initramfs format)."""
    find = subprocess.Popen(["find", ".", "-xdev"], cwd=directory, stdout=subprocess.PIPE)
    cpio = subprocess.Popen(["busybox", "cpio", "-o", "-H", "newc"], cwd=directory, stdin=find.stdout,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    with open(archive, "wb") as f:
        subprocess.run(["gzip", "-1"], stdin=cpio.stdout, stdout=f, check=True)
    if find.wait() != 0 or cpio.wait() != 0:
        raise RuntimeError(f"archiving {directory} failed")
