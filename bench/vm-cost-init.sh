#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-cost-init.sh: /init of the benchmark VM (bench/vm-cost.py). Rounds of: no tracing,
# then execcountd in each probe mode; in each, a success load and a failure storm run
# under bpfstats, which prints the BPF programs' run counts and times before and after.
# With a baseline build (execcountd-base and execcountctl-base, vm-cost.py --baseline),
# each mode runs both builds back to back, in turn first. Every figure goes to the console
# on lines starting with "EXECCOUNT-BENCH".
. /vm/boot.sh
rounds=$(sed -n 's/.*execcount.rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
success=$(sed -n 's/.*execcount.success=\([0-9]*\).*/\1/p' /proc/cmdline)
failure=$(sed -n 's/.*execcount.failure=\([0-9]*\).*/\1/p' /proc/cmdline)
echo "EXECCOUNT-BENCH-INFO: {\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"rounds\":$rounds}"

uid=3100000000
load() { # config build workload
        uid=$((uid + 1))
        if [ "$3" = success ]; then
                set -- "$1" "$2" "$3" --mode=success --workers=2 --program=/vm/noop --count="$success"
        else
                set -- "$1" "$2" "$3" --mode=failure --workers=1 --count="$failure"
        fi
        config=$1 build=$2 workload=$3
        shift 3
        bpfstats -- execload "$@" --uid=$uid --json >/tmp/stats 2>/tmp/made
        fields="\"config\":\"$config\",\"build\":\"$build\",\"round\":$i,\"workload\":\"$workload\",\"uid\":$uid"
        fields="$fields,\"made\":$(tail -n 1 /tmp/made)"
        echo "EXECCOUNT-BENCH-RUN: {$fields,\"before\":$(sed -n 1p /tmp/stats),\"after\":$(sed -n 2p /tmp/stats)}"
}

run() { # config build
        suffix=
        [ "$2" = base ] && suffix=-base
        sock=/run/execcount-$1$suffix.sock
        execcountd$suffix --probe=$1 --socket=$sock --pin-directory= >/tmp/execcountd.log 2>&1 &
        pid=$!
        n=0
        while ! execcountctl$suffix --socket=$sock status >/dev/null 2>&1 && [ $n -lt 1200 ]; do
                n=$((n + 1))
                sleep 0.1
        done
        mode=$(execcountctl$suffix --socket=$sock status --json=short | sed -n 's/.*"probe_mode":"\([a-z]*\)".*/\1/p')
        if [ "$mode" != "$1" ]; then
                echo "EXECCOUNT-BENCH-ERROR: execcountd$suffix --probe=$1 runs \"$mode\""
                sed "s/^/EXECCOUNT-BENCH-ERROR: /" /tmp/execcountd.log
        fi
        load "$1" "$2" success
        load "$1" "$2" failure
        kill $pid
        wait $pid
}

builds=new
[ -x /usr/local/sbin/execcountd-base ] && builds="new base"
i=0
while [ $i -lt "$rounds" ]; do
        i=$((i + 1))
        load none - success
        load none - failure
        for config in fentry kprobe tracepoint; do
                # Each build first in every other round: a drift within the round is shared.
                if [ $((i % 2)) = 0 ] && [ "$builds" != new ]; then
                        run $config base
                        run $config new
                else
                        for build in $builds; do
                                run $config $build
                        done
                fi
        done
done
echo "EXECCOUNT-BENCH-DONE"
poweroff -f
