#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# vm-systemd-check.sh: in the test VM booted with systemd as PID 1 on Debian's stock
# kernel: execcountd.service starts, takes the fentry probes and counts exactly. Prints
# "EXECCOUNT-VM-SYSTEMD-RESULT: PASS" or "FAIL" and powers off.
result=PASS
say() {
        echo "EXECCOUNT-VM-SYSTEMD: $*"
}
check() {
        if [ "$1" = "$2" ]; then
                say "ok - $3: $1"
        else
                say "FAILED: $3: got '$1', expected '$2'"
                result=FAIL
        fi
}

# No step may hang the VM until the harness kills it: each has a time limit, and the
# first line says the boot itself is over.
say "booted: systemd reached the test unit after $(cut -d' ' -f1 /proc/uptime) s"
dmesg -n 1
check "$(timeout 120 systemctl start execcountd && systemctl is-active execcountd)" active "systemctl start execcountd"
status=$(timeout 60 execcountctl status --json=short)
check "$(echo "$status" | grep -o '"probe_mode":"[a-z]*"')" '"probe_mode":"fentry"' "probe mode"

uid=3100000000
for i in 1 2 3; do
        setpriv --reuid=$uid --regid=$uid --clear-groups /bin/true
done
setpriv --reuid=$uid --regid=$uid --clear-groups /nonexistent-execcount-vm 2>/dev/null
check "$(timeout 60 execcountctl stats --uid $uid --json=short | grep -o '"execs":[0-9]*,"failed":[0-9]*')" \
        '"execs":3,"failed":1' "counts of UID $uid"
check "$(journalctl -u execcountd -o cat MESSAGE_ID=a7310ee901524ace9b9b6a2d9c24f27f | grep -c 'with the fentry probes')" \
        1 "start message in the journal"

timeout 120 systemctl stop execcountd.socket execcountd.service
check "$(systemctl show -p Result --value execcountd.service)" success "clean stop"
systemctl --no-pager status execcountd.service | sed 's/^/EXECCOUNT-VM-SYSTEMD: | /'
if [ $result = FAIL ]; then
        journalctl -b --no-pager -n 60 | sed 's/^/EXECCOUNT-VM-SYSTEMD: journal: /'
fi
say "RESULT: $result"
systemctl poweroff --no-block
