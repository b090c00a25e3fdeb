#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-cost-init.sh: /init of the benchmark VM (bench/vm-cost.py). Rounds of: no tracing,
# then execcountd in each probe mode; in each, a success load and a failure storm run
# under bpfstats, which prints the BPF programs' run counts and times before and after.
# Every figure goes to the console on lines starting with "EXECCOUNT-BENCH".
. /vm/boot.sh
rounds=$(sed -n 's/.*execcount.rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
success=$(sed -n 's/.*execcount.success=\([0-9]*\).*/\1/p' /proc/cmdline)
failure=$(sed -n 's/.*execcount.failure=\([0-9]*\).*/\1/p' /proc/cmdline)
echo "EXECCOUNT-BENCH-INFO: {\"kernel\":\"$(uname -r)\",\"cpus\":$(nproc),\"rounds\":$rounds}"

uid=3100000000
load() { # config workload
        uid=$((uid + 1))
        if [ "$2" = success ]; then
                set -- "$1" "$2" --mode=success --workers=2 --program=/vm/noop --count="$success"
        else
                set -- "$1" "$2" --mode=failure --workers=1 --count="$failure"
        fi
        config=$1 workload=$2
        shift 2
        bpfstats -- execload "$@" --uid=$uid --json >/tmp/stats 2>/tmp/made
        echo "EXECCOUNT-BENCH-RUN: {\"config\":\"$config\",\"workload\":\"$workload\",\"uid\":$uid,\"made\":$(tail -n 1 /tmp/made),\"before\":$(sed -n 1p /tmp/stats),\"after\":$(sed -n 2p /tmp/stats)}"
}

i=0
while [ $i -lt "$rounds" ]; do
        i=$((i + 1))
        for config in none fentry kprobe tracepoint; do
                if [ $config = none ]; then
                        load none success
                        load none failure
                        continue
                fi
                sock=/run/execcount-$config.sock
                execcountd --probe=$config --socket=$sock --pin-directory= >/tmp/execcountd.log 2>&1 &
                pid=$!
                n=0
                while ! execcountctl --socket=$sock status >/dev/null 2>&1 && [ $n -lt 1200 ]; do
                        n=$((n + 1))
                        sleep 0.1
                done
                mode=$(execcountctl --socket=$sock status --json=short | sed -n 's/.*"probe_mode":"\([a-z]*\)".*/\1/p')
                if [ "$mode" != $config ]; then
                        echo "EXECCOUNT-BENCH-ERROR: execcountd --probe=$config runs \"$mode\""
                        sed "s/^/EXECCOUNT-BENCH-ERROR: /" /tmp/execcountd.log
                fi
                load $config success
                load $config failure
                kill $pid
                wait $pid
        done
done
echo "EXECCOUNT-BENCH-DONE"
poweroff -f
