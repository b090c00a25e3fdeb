#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-docs.py: the man pages document every interface the code has.

    test-docs.py EXECCOUNTD EXECCOUNTCTL VARLINK-FILE MAN-DIR SOURCE-DIR EXECCOUNTD-METRICS

Every command-line option (from --help), every configuration key (from --check-config),
every execcountctl command, every Varlink method, every journal message ID and field,
every metric must appear in its man page; every message ID also in the journal catalog, and every one
there in systemd/message-ids.h; every Varlink method and error in common/protocol.h.
"""

import os
import re
import subprocess
import sys

execcountd, execcountctl, varlink_file, man_dir, src, exporter = sys.argv[1:7]


def read(name):
    with open(os.path.join(man_dir, name)) as f:
        return f.read()


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


problems = []


def need(page, text, what):
    if text not in read(page):
        problems.append(f"{page} does not document {what} (looked for {text!r})")


for prog, page in ((execcountd, "execcountd.8"), (execcountctl, "execcountctl.1"),
                   (exporter, "execcountd-metrics.8")):
    for opt in sorted(set(re.findall(r"--([a-z][a-z-]+)", run(prog, "--help")))):
        need(page, f"Fl Fl {opt}", f"option --{opt}")
    for opt in sorted(set(re.findall(r"^  -([a-z]) ", run(prog, "--help"), re.M))):
        need(page, f"Fl {opt}", f"option -{opt}")

help_ctl = run(execcountctl, "--help")
commands = re.findall(r"^  ([a-z]+) {2,}", help_ctl.split("Options:")[0], re.M)
if len(commands) < 4:
    problems.append(f"could not find the commands in execcountctl --help: {commands}")
for cmd in commands:
    need("execcountctl.1", f"It Cm {cmd}", f"command {cmd}")

config = run(execcountd, "--check-config", "--config", "/nonexistent/execcountd.conf")
sections = re.findall(r"^\[(\w+)\]$", config, re.M)
keys = re.findall(r"^(\w+)=", config, re.M)
if len(keys) < 5:
    problems.append(f"could not find the settings in --check-config: {config}")
for section in sections:
    need("execcountd.conf.5", f"Ss \\&[{section}\\&]", f"section [{section}]")
for key in keys:
    need("execcountd.conf.5", f"It Cm {key}=", f"setting {key}=")

with open(varlink_file) as f:
    idl = f.read()
for method in re.findall(r"^method (\w+)\(", idl, re.M):
    need("execcountd.8", f"It Fn {method}", f"Varlink method {method}")
for error in re.findall(r"^error (\w+) ", idl, re.M):
    need("execcountd.8", f"io.execcount.{error}", f"Varlink error {error}")
# The names daemon and client share are defined once, in common/protocol.h.
with open(os.path.join(src, "common/protocol.h")) as f:
    protocol = f.read()
for kind, name in re.findall(r"^(method|error) (\w+)", idl, re.M):
    if not re.search(rf'^#define EXECCOUNT_{kind.upper()}_\w+ EXECCOUNT_INTERFACE "\.{name}"$', protocol, re.M):
        problems.append(f"common/protocol.h does not define the {kind} io.execcount.{name}")

with open(os.path.join(src, "systemd/message-ids.h")) as f:
    message_ids = re.findall(r'#define MESSAGE_ID_\w+ "([0-9a-f]{32})"', f.read())
with open(os.path.join(src, "systemd/execcountd.catalog")) as f:
    catalog = f.read()
if len(message_ids) < 10:
    problems.append(f"could not find the message IDs in systemd/message-ids.h: {message_ids}")
for mid in message_ids:
    need("execcountd.8", f"It {mid}:", f"message ID {mid}")
    if f"-- {mid}\n" not in catalog:
        problems.append(f"systemd/execcountd.catalog lacks message ID {mid}")
for mid in re.findall(r"^-- ([0-9a-f]{32})$", catalog, re.M):
    if mid not in message_ids:
        problems.append(f"systemd/message-ids.h lacks message ID {mid} of the catalog")
# Journal fields are LogField initializers: { "NAME", value }.
fields = set()
for name in sorted(os.listdir(os.path.join(src, "daemon"))):
    if not name.endswith(".c") or name.startswith("test-"):
        continue
    with open(os.path.join(src, "daemon", name)) as f:
        fields |= set(re.findall(r'\{ "([A-Z][A-Z_]+)", ', f.read()))
if len(fields) < 20:
    problems.append(f"could not find the journal fields in the sources: {sorted(fields)}")
for field in sorted(fields):
    need("execcountd.8", f"Sy {field}", f"journal field {field}")

# Metric names are the string literals of metrics.c that start with execcount_; a counter
# is documented by its samples' name, NAME_total.
with open(os.path.join(src, "ctl/metrics.c")) as f:
    metrics_c = f.read()
families = set(re.findall(r'"(execcount_[a-z_]+)"', metrics_c))
counters = set(re.findall(r'(?:put_user_family|put_unit_family|put_scalar_counter)\(out, m, f, "(execcount_[a-z_]+)"',
                          metrics_c))
if len(families) < 15 or len(counters) < 10:
    problems.append(f"could not find the metrics in ctl/metrics.c: {sorted(families)}")
page = read("execcountd-metrics.8")
for name in sorted(families):
    sample = f"{name}_total" if name in counters else f"{name}_info" if name == "execcount_build" else name
    # The whole name: execcount_tracked_uids is not documented by execcount_tracked_uids_limit.
    if not re.search(rf"Sy {sample}(?![a-z_])", page):
        problems.append(f"execcountd-metrics.8 does not document metric {sample}")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
