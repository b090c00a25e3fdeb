# SPDX-License-Identifier: GPL-2.0-or-later
# tools/steps.sh: sourced by tools/run and tools/test. Each step runs quietly, its output
# kept in a log; when it fails, the end of that log is shown with what failed, and the
# script stops.

steps_log=$(mktemp /tmp/execcount-steps-XXXXXX)
trap 'rm -f "$steps_log"' EXIT

# fail WHAT: says "SCRIPT: WHAT failed" and exits.
fail() {
        echo "tools/${0##*/}: $1 failed (its output is above)" >&2
        exit 1
}

# step WHAT COMMAND...: runs COMMAND quietly; on failure says "SCRIPT: WHAT failed" under
# the last lines of its output, and exits with its status.
step() {
        local what=$1 rc=0
        shift
        "$@" >"$steps_log" 2>&1 || rc=$?
        if [ $rc -ne 0 ]; then
                tail -n 40 "$steps_log" >&2
                echo "tools/${0##*/}: $what failed (exit status $rc; the end of its output is above)" >&2
                exit $rc
        fi
}

# configure DIR OPTIONS...: meson setup of DIR, or --reconfigure of an existing one. Meson
# keeps the results of its checks through --reconfigure: a check made before a package was
# installed (gcc-multilib, say) would fail again. When reconfiguring fails, DIR is
# configured afresh (--wipe), with its options.
configure() {
        local dir=$1
        shift
        if [ -f "$dir/build.ninja" ]; then
                if meson setup --reconfigure "$dir" "$@" >"$steps_log" 2>&1; then
                        return 0
                fi
                echo "tools/${0##*/}: reconfiguring $dir failed; configuring it afresh (meson setup --wipe)" >&2
                step "meson setup --wipe $dir" meson setup --wipe "$dir" "$@"
        else
                step "meson setup $dir" meson setup "$dir" "$@"
        fi
}
