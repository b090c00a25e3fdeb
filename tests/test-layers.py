#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-layers.py: the daemon's modules call each other in layers.

    test-layers.py LIBDAEMON SOURCE-DIR

From the symbols each object of libdaemon.a defines and uses (nm), a module depends on
another when it calls a function, or uses data, the other defines. A module is name.c
with the name-part.c files it is split into (connection-input.c is part of connection).
No circle of such dependencies may join modules, but the two deliberate pairs: server and
connection (the transport's own pair) and manager and methods (the daemon's state and its
Varlink methods, as logind pairs them). Callbacks handed down (function pointers) do not
count: they are how a lower layer reports up. And no daemon source file is over 450
lines.
"""

import collections
import os
import subprocess
import sys

library, src = sys.argv[1:3]
ALLOWED = [{"server", "connection"}, {"manager", "methods"}]
MAX_LINES = 450


def module(obj):
    return os.path.basename(obj).removesuffix(".c.o").split("-")[0]


def nm(*args):
    out = subprocess.run(["nm", "-A", *args, library], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        # libdaemon.a:manager.c.o:                 U probe_free
        path, _, rest = line.partition(":")
        obj, _, rest = rest.partition(":")
        yield module(obj), rest.split()[-1]


defined = {sym: mod for mod, sym in nm("--defined-only", "-g")}
uses = collections.defaultdict(set)
for mod, sym in nm("-u"):
    if sym in defined and defined[sym] != mod:
        uses[mod].add(defined[sym])

modules = set(uses) | {m for targets in uses.values() for m in targets}
problems = []
if not {"manager", "methods", "tally", "persist", "watch"} <= modules:
    problems.append(f"could not read the modules of {library}: {sorted(modules)}")


def reaches(a, b):
    seen, todo = set(), [a]
    while todo:
        m = todo.pop()
        for n in uses.get(m, ()):
            if n == b:
                return True
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return False


# Two modules are in a circle when each reaches the other.
for a in sorted(modules):
    for b in sorted(modules):
        if a < b and reaches(a, b) and reaches(b, a) and {a, b} not in ALLOWED:
            problems.append(f"{a} and {b} depend on each other")

for name in sorted(os.listdir(os.path.join(src, "daemon"))):
    if name.endswith(".c") and not name.startswith("test-"):
        with open(os.path.join(src, "daemon", name)) as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            problems.append(f"daemon/{name} has {n} lines, over {MAX_LINES}")

for p in problems:
    print(p)
print(f"{len(modules)} modules; {'no circle but ' + ' and '.join('/'.join(sorted(p)) for p in ALLOWED) if not problems else 'problems above'}")
sys.exit(1 if problems else 0)
