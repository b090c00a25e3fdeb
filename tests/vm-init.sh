#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-init.sh: /init of the test VM. Runs execcountd once per probe mode, checks each with
# vm-check, prints "EXECCOUNT-VM-RESULT: PASS" or "FAIL" and powers off.
. /vm/boot.sh
# tracefs and bpffs stay unmounted: execcountd mounts them, as on a fresh machine.

echo "EXECCOUNT-VM: booted $(uname -r) with $(nproc) CPUs"
result=PASS
base=3000000000
for mode in fentry kprobe tracepoint auto; do
        expected=$mode
        [ "$mode" = auto ] && expected=fentry
        sock=/run/execcount-$mode.sock
        start=$(date +%s)
        # Pins of its own: each mode starts from zero, and pins its own kind of links.
        execcountd --config=/etc/execcountd/vm.conf --probe="$mode" --socket="$sock" \
                --pin-directory=/sys/fs/bpf/execcount-vm-$mode >/tmp/execcountd-$mode.log 2>&1 &
        pid=$!
        i=0
        while ! execcountctl --socket="$sock" status >/dev/null 2>&1; do
                i=$((i + 1))
                if [ $i -gt 1200 ] || ! kill -0 $pid 2>/dev/null; then
                        break
                fi
                sleep 0.1
        done
        if /vm/vm-check /usr/local/bin/execcountctl "$sock" "$expected" /vm/compat-exec "$base"; then
                echo "EXECCOUNT-VM: mode $mode PASS in $(($(date +%s) - start)) s"
        else
                echo "EXECCOUNT-VM: mode $mode FAIL"
                result=FAIL
        fi
        kill $pid
        wait $pid
        sed "s/^/EXECCOUNT-VM: execcountd --probe=$mode: /" /tmp/execcountd-$mode.log
        base=$((base + 100))
done
echo "EXECCOUNT-VM-RESULT: $result"
poweroff -f
