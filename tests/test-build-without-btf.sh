#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-build-without-btf.sh SOURCE-DIR: the BPF object and its skeleton build on a machine
# without /sys/kernel/btf (as package builders are): the CO-RE types come from bpf/kernel.h.
set -euo pipefail
src=$1
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: hiding /sys/kernel/btf needs root" >&2
        exit "$([ -n "${CI:-}" ] && echo 1 || echo 77)"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unshare --mount --propagation private bash -euo pipefail -c '
        mount -t tmpfs tmpfs /sys/kernel/btf
        [ ! -e /sys/kernel/btf/vmlinux ]
        meson setup "$2" "$1" >/dev/null
        ninja -C "$2" bpf/execcount.skel.h >/dev/null
        grep -q "execcount_bpf__open" "$2/bpf/execcount.skel.h"
' _ "$src" "$work/build"
