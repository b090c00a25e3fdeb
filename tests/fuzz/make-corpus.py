#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make-corpus.py: writes the seed corpus of each fuzz target into corpus/<target>/.

    tests/fuzz/make-corpus.py

The seeds are checked in; rerun this after changing a format, and keep the crash-*
inputs (regressions) that fuzzing found. Seeds are valid inputs of every kind, so that
the fuzzers start from deep inside each parser."""

import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def msg(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


# ---- Varlink messages

CALLS = {
    "get-stats": {"method": "io.execcount.GetStats"},
    "get-stats-uid": {"method": "io.execcount.GetStats", "parameters": {"uid": 1000}},
    "get-status": {"method": "io.execcount.GetStatus", "parameters": {}},
    "get-events": {"method": "io.execcount.GetEvents", "parameters": {"limit": 3, "uid": 0}},
    "watch": {"method": "io.execcount.Watch", "parameters": {"uid": 1000, "backlog": 2}, "more": True},
    "reset": {"method": "io.execcount.Reset", "parameters": {"uid": 65534}},
    "reset-all-oneway": {"method": "io.execcount.Reset", "oneway": True},
    "reload": {"method": "io.execcount.Reload"},
    "get-info": {"method": "org.varlink.service.GetInfo"},
    "describe": {"method": "org.varlink.service.GetInterfaceDescription",
                 "parameters": {"interface": "io.execcount"}},
    "unknown-method": {"method": "io.execcount.Nope"},
    "unknown-interface": {"method": "com.example.Thing"},
    "bad-parameter": {"method": "io.execcount.GetStats", "parameters": {"uid": "0", "user": None}},
    "upgrade": {"method": "io.execcount.GetStats", "upgrade": True},
}
REPLIES = {
    "reply": {"parameters": {"users": [{"uid": 0, "execs": 1, "failed": 0, "last_exec_usec": 5}]}},
    "reply-continues": {"parameters": {"event": {"seq": 1}}, "continues": True},
    "error": {"error": "org.varlink.service.InvalidParameter", "parameters": {"parameter": "uid"}},
}

for name, obj in {**CALLS, **REPLIES}.items():
    write("fuzz-varlink", name, msg(obj))
write("fuzz-varlink", "escapes", b'{"method":"io.execcount.GetStats","parameters":{"x":"\\u0000\\ud800\\n"}}')
write("fuzz-varlink", "deep", b'{"method":"a.B","parameters":{"x":' + b"[" * 20 + b"]" * 20 + b"}}")

# ---- GetStats replies, as execcountctl scans them

STATS = {"users": [{"uid": 0, "execs": 12, "failed": 1, "events_throttled": 0, "last_exec_usec": 1795412938844170},
                   {"uid": 4294967294, "execs": 9223372036854775807, "failed": 0, "events_throttled": 3,
                    "last_exec_usec": 0}],
         "since_usec": 1795412912694601, "access": "all", "map_full_execs": 0, "map_full_failed": 0}
write("fuzz-json-scan", "stats", msg({"parameters": STATS}))
write("fuzz-json-scan", "stats-part", msg({"parameters": dict(STATS, access="own"), "continues": True}))
write("fuzz-json-scan", "error", msg({"error": "org.varlink.service.PermissionDenied", "parameters": {}}))
write("fuzz-json-scan", "pretty", json.dumps({"parameters": STATS}, indent=2))
write("fuzz-json-scan", "values", b'[-0.5e+3, "\\u00e9\\n", true, false, null, {}, [], {"a": [1, {"b": -9}]}]')

# ---- The dispatcher: first byte odd for an unprivileged client, then what it sends

for name, obj in CALLS.items():
    write("fuzz-dispatch", f"root-{name}", b"\0" + msg(obj) + b"\0")
    write("fuzz-dispatch", f"user-{name}", b"\1" + msg(obj) + b"\0")
write("fuzz-dispatch", "pipelined", b"\0" + b"\0".join(msg(CALLS[n]) for n in
                                                         ("get-stats", "reset-all-oneway", "get-info", "get-status"))
      + b"\0")
write("fuzz-dispatch", "call-while-watching", b"\0" + msg(CALLS["watch"]) + b"\0" + msg(CALLS["get-stats"]) + b"\0")
write("fuzz-dispatch", "cut", b"\0" + b'{"method":"io.execcount.GetSt')
write("fuzz-dispatch", "garbage", b"\1" + bytes(range(256)))
write("fuzz-dispatch", "user-other-uid", b"\1" + msg({"method": "io.execcount.GetEvents",
                                                      "parameters": {"uid": 0}}) + b"\0")

# ---- Configuration

with open(os.path.join(HERE, "..", "..", "config", "execcountd.conf")) as f:
    write("fuzz-config", "shipped", f.read())
write("fuzz-config", "everything", """[Probe]
Mode=tracepoint
[Counts]
MaxUIDs=100
[Events]
RingBufferSize=64K
History=0
FlushIntervalSec=0
[Socket]
Path=/run/x/io.execcount
MaxClients=10
MaxClientsPerUID=2
[Access]
Group=
[State]
Directory=
PinDirectory=/sys/fs/bpf/x
SnapshotIntervalSec=2min
[Journal]
LogExecs=yes
LogExecsRateLimitIntervalSec=500ms
LogExecsRateLimitBurst=0
SummaryIntervalSec=1h 30min
[Daemon]
LogLevel=debug
""")
write("fuzz-config", "errors", "[Events]\nHistory=lots\n")
write("fuzz-config", "unknown", "[Nope]\nX=1\n[Counts]\nMaxUID=5\n")
write("fuzz-config", "syntax", "[Counts\nMaxUIDs 5\n  ; comment\n# comment\n=\n")

# ---- State files (state.c's format)


def state_file(entries, since=1795412912694601, saved=1795412999000000, full=(7, 9), boot=bytes(range(16))):
    header = struct.pack("<8sIIQQ16sQQII", b"EXECCNT\n", 1, len(entries), since, saved, boot, full[0], full[1],
                         0, 0)
    body = b"".join(struct.pack("<IIQQQ", uid, 0, execs, failed, last) for uid, execs, failed, last in entries)
    crc = zlib.crc32(header + body)
    return header[:64] + struct.pack("<I", crc) + header[68:] + body


write("fuzz-state", "empty", state_file([]))
write("fuzz-state", "three", state_file([(0, 120, 4, 1795412938844170), (1000, 1, 0, 0),
                                         (4294967294, 2**64 - 1, 2**64 - 2, 1)]))
write("fuzz-state", "truncated", state_file([(0, 1, 1, 1)])[:-3])


def state_file_v4(entries, logins, units):
    """Version 4: entries (uid, execs, failed, last, privileged), login pairs (login_uid,
    uid, execs), and unit rows (name, uid, live, cgroup_id, execs, failed, last)."""
    body = b"".join(struct.pack("<IIQQQQ", uid, 0, e, f, last, p) for uid, e, f, last, p in entries)
    body += struct.pack("<IIQ", len(logins), 0, 0)
    body += b"".join(struct.pack("<IIQ", lu, u, e) for lu, u, e in logins)
    rows = b""
    for name, uid, live, cgroup_id, e, f, last in units:
        rows += struct.pack("<IHHQQQQ", uid, len(name), 1 if live else 0, cgroup_id, e, f, last)
        rows += name + b"\0" * ((8 - len(name) % 8) % 8)
    body += struct.pack("<IIQQQ", len(units), len(rows), 0, 0, 0) + rows
    header = struct.pack("<8sIIQQ16sQQII", b"EXECCNT\n", 4, len(entries), 1795412912694601, 1795412999000000,
                         bytes(range(16)), 0, 0, 0, 0)
    crc = zlib.crc32(header + body)
    return header[:64] + struct.pack("<I", crc) + header[68:] + body


write("fuzz-state", "v4-units", state_file_v4([(0, 5, 1, 1, 0)], [(1000, 0, 2)],
                                              [(b"cron.service", 0, False, 0, 5, 1, 7),
                                               (b"user@1000.service/app.scope", 1000, True, 4242, 1, 0, 0)]))

# ---- Ring buffer records (bpf/execcount.h struct exec_event)


def record(name, uid=1000, result=0, flags=0, dirfd=0, at_flags=0, comm=b"true", name_len=None):
    if name_len is None:
        name_len = len(name) + 1 if name is not None else 0
    header = struct.pack("<QIIIIiiIIH6x16s", 123456789, 42, 1, uid, 0xffffffff, result, dirfd, at_flags, flags,
                         name_len, comm)
    return header + (name + b"\0" if name is not None else b"")


write("fuzz-event", "success", record(b"/bin/true"))
write("fuzz-event", "failure", record(b"/nonexistent", result=-2, comm=b"sh"))
write("fuzz-event", "execveat-dirfd", record(b"prog", result=-13, flags=2, dirfd=3))
write("fuzz-event", "execveat-empty-path", record(b"", result=-2, flags=2, dirfd=5, at_flags=0x1000))
write("fuzz-event", "compat", record(b"/bin/x", result=-8, flags=1))
write("fuzz-event", "no-name", record(None, result=-14, flags=4))
write("fuzz-event", "not-utf8", record(b"/tmp/\xff\xfe\x1b[31m", result=-2))
write("fuzz-event", "bad-length", record(b"/bin/true", name_len=4000))

# EXEC_EVENT_EUID | EXEC_EVENT_EXTENDED | EXEC_EVENT_ARGV, and EXEC_EVENT_ARGV_TRUNCATED
EXTENDED_ARGV = 0x8 | 0x10 | 0x20
ARGV_TRUNCATED = 0x40


def extended(name, argv, flags=EXTENDED_ARGV, result=0, session=3, argv_len=None):
    name = name + b"\0"
    if argv_len is None:
        argv_len = len(argv)
    header = struct.pack("<QIIIIiiIIHHI16sI16s", 123456789, 42, 1, 1000, 1000, result, -100, 0, flags,
                         len(name), argv_len, 1000, b"ls", session, b"bash")
    return header + name + argv


write("fuzz-event", "extended", extended(b"/usr/bin/ls", b"ls\0-l\0\0/tmp/a b\0"))
write("fuzz-event", "argv-truncated", extended(b"/usr/bin/ls", b"ls\0--colo", flags=EXTENDED_ARGV | ARGV_TRUNCATED))
write("fuzz-event", "argv-many", extended(b"/bin/echo", b"a\0" * 100))
write("fuzz-event", "argv-not-utf8", extended(b"/bin/echo", b"\xff\x1b[31m\0ok\0", result=-2, session=0xffffffff))
write("fuzz-event", "argv-bad-length", extended(b"/bin/echo", b"x\0", argv_len=1025))

# EXEC_EVENT_CGROUP: 4 bytes reserved and the cgroup ID between parent_comm and the name.
CGROUP = 0x80


def with_cgroup(name, argv, cgroup_id=4242, flags=EXTENDED_ARGV | CGROUP):
    record = extended(name, argv, flags=flags)
    at = struct.calcsize("<QIIIIiiIIHHI16sI16s")
    return record[:at] + struct.pack("<IQ", 0, cgroup_id) + record[at:]


write("fuzz-event", "cgroup", with_cgroup(b"/usr/bin/ls", b"ls\0-l\0"))
write("fuzz-event", "cgroup-short", with_cgroup(b"/usr/bin/ls", b"ls\0")[:96])
