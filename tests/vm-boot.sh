# SPDX-License-Identifier: GPL-2.0-or-later
# vm-boot.sh: sourced first by the /init of every busybox VM (tests/vm-init.sh,
# bench/vm-cost-init.sh), which vmlib.make_root() puts at /vm/boot.sh: the shell's tools,
# and the file systems every program expects.
export PATH=/usr/local/sbin:/usr/local/bin:/bin:/sbin
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Per-unit counts are per cgroup (v2).
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run /tmp
