#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-readme.sh SOURCE-DIR: the README's commands are there and do what it says.
#
# Runs the README's first command, tools/run, on a copy of the source tree, in a private
# mount namespace where /usr/local, /etc/execcountd, /run/execcountd, /var/lib/execcountd,
# /var/log and the BPF file system are empty: as on a fresh machine, and without touching
# this one. Then, as a newcomer would, the second command, tools/test (building all, and
# running the test that needs gcc-multilib: tools/test is what runs this test): tools/run
# ran before gcc-multilib was there, which meson remembers. And both must say what failed when the build cannot be configured.
set -euo pipefail
src=$1
readme=$src/README.md

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

# The commands, each alone on a line of a shell code block, and the scripts behind them
# (test-package runs tools/package and installs what it built).
in_block() {
        awk -v cmd="$1" '/^```/ { inblock = !inblock; next } inblock && $0 == cmd { found = 1 } END { exit !found }' \
                "$readme" || fail "README.md does not show the command '$1' in a code block"
}
for cmd in tools/run tools/test tools/package; do
        in_block "$cmd"
        [ -x "$src/$cmd" ] || fail "$cmd is not an executable script"
done
in_block "apt install ./build-deb/execcount_*.deb"
grep -q '^out=${out:-$src/build-deb}$' "$src/tools/package" || fail "tools/package no longer builds into build-deb/"

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: tools/run needs root" >&2
        exit "$([ -n "${CI:-}" ] && echo 1 || echo 77)"
fi
if [ "$(cat /proc/1/comm)" = systemd ]; then
        # tools/run would start the host's execcountd.service; the e2e suite runs it under
        # a systemd of its own instead.
        echo "SKIP: systemd runs this machine; the e2e suite tests tools/run under systemd" >&2
        exit 77
fi

work=$(mktemp -d /tmp/test-readme-XXXXXX)
# Mount points for the namespace: the ones made here go again afterwards.
made=()
for d in /run/execcountd /etc/execcountd /var/lib/execcountd; do
        [ -d "$d" ] || { mkdir -p "$d"; made+=("$d"); }
done
trap 'rm -rf "$work"; for d in "${made[@]}"; do rmdir "$d"; done' EXIT
chmod 755 "$work"
tar -C "$src" --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . | tar -C "$work" -xf -

unshare --mount --propagation private bash -euo pipefail -c '
        fail() { echo "FAIL: $*" >&2; exit 1; }
        for d in /usr/local /etc/execcountd /run/execcountd /var/lib/execcountd /var/log; do
                mount -t tmpfs -o mode=0755 tmpfs "$d"  # not 1777: no one else may write there
        done
        # A BPF file system of its own: the pins go with this namespace.
        mount -t bpf bpf /sys/fs/bpf
        cd "$1"
        # As on a fresh machine before tools/test installed gcc-multilib: no 32-bit libc.
        mount -t tmpfs -o mode=0755 tmpfs /usr/lib32
        out=$(tools/run 2>&1) || { echo "$out"; fail "tools/run failed"; }
        echo "$out"
        grep -Eq "\"32-bit static linking\" ?: links: NO" build/meson-logs/meson-log.txt ||
                fail "without /usr/lib32, meson did not find 32-bit static linking missing: this test tests nothing"
        pid=$(cat /run/execcountd/execcountd.pid)
        trap "kill $pid 2>/dev/null || true" EXIT

        grep -q "^UID USER *EXECS FAILED PRIVILEGED LAST EXEC$" <<<"$out" || fail "no stats table in the output"
        grep -q "execs, .* failed, since" <<<"$out" || fail "no stats footer in the output"
        for f in /usr/local/sbin/execcountd /usr/local/bin/execcountctl /etc/execcountd/execcountd.conf \
                 /usr/local/lib/systemd/system/execcountd.service /usr/local/share/man/man8/execcountd.8 \
                 /usr/local/share/man/man1/execcountctl.1 /usr/local/share/man/man5/execcountd.conf.5 \
                 /usr/local/share/bash-completion/completions/execcountctl /usr/local/share/zsh/site-functions/_execcountctl \
                 /usr/local/share/fish/vendor_completions.d/execcountctl.fish; do
                [ -e "$f" ] || fail "$f was not installed"
        done

        # The daemon it left running counts exactly.
        uid=$((2300000000 + $$ % 65536))
        for _ in 1 2 3; do setpriv --reuid "$uid" --regid "$uid" --clear-groups /bin/true; done
        setpriv --reuid "$uid" --regid "$uid" --clear-groups /nonexistent-execcount 2>/dev/null && fail "exec worked"
        json=$(/usr/local/bin/execcountctl stats --uid "$uid" --json=short)
        grep -q "\"execs\":3,\"failed\":1," <<<"$json" || fail "expected 3 execs and 1 failed for $uid: $json"

        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        ! kill -0 "$pid" 2>/dev/null || fail "execcountd did not stop"
        grep -q "Stopped." /var/log/execcountd.log || fail "execcountd did not log its stop"
        # It kept the counts: pinned, and in the state file.
        [ -e /sys/fs/bpf/execcountd/counts ] || fail "the counts are not pinned after the stop"
        [ -s /var/lib/execcountd/counts.state ] || fail "no state file after the stop"

        # Then tools/test, with gcc-multilib there: the cached check must not stop it. It
        # builds everything; of the tests, the one the 32-bit toolchain is for.
        umount /usr/lib32
        out=$(tools/test --quick test-bpf-compat 2>&1) || { echo "$out"; fail "tools/test after tools/run failed"; }
        grep -Eq "\"32-bit static linking\" ?: links: YES" build/meson-logs/meson-log.txt ||
                fail "tools/test did not configure build/ again with 32-bit static linking"
        [ -x build/tests/compat-exec ] || fail "tools/test did not build the 32-bit helper"
        grep -Eq "^1/1 execcount:bpf / test-bpf-compat +OK" <<<"$out" || { echo "$out"; fail "tools/test ran no test"; }
        echo "tools/test after tools/run: passed"

        # Every failure says what failed: a build that cannot be configured.
        echo "error('"'"'broken on purpose by test-readme'"'"')" >>meson.build
        for cmd in tools/run tools/test; do
                out=$($cmd 2>&1) && fail "$cmd passed with a broken meson.build"
                grep -q "broken on purpose by test-readme" <<<"$out" || { echo "$out"; fail "$cmd hid meson'"'"'s error"; }
                grep -Eq "^$cmd: (meson setup|meson setup --wipe) build failed" <<<"$out" ||
                        { echo "$out"; fail "$cmd did not say what failed"; }
        done
        echo "tools/run and tools/test say what failed"
' _ "$work"
