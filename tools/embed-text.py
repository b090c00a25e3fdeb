#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# embed-text.py: turns text files into C string constants.
#   embed-text.py --pairs NAME IN OUT [NAME IN OUT ...]
import sys


def embed(name, src, dst):
    with open(src, encoding="utf-8") as f:
        text = f.read()
    out = [f"/* Generated from {src.rsplit('/', 1)[-1]} by embed-text.py; do not edit. */",
           f"extern const char {name}[];",
           f"const char {name}[] ="]
    for line in text.splitlines(keepends=True):
        escaped = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append(f'        "{escaped}"')
    out[-1] += ";"
    with open(dst, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


args = sys.argv[1:]
if not args or args[0] != "--pairs" or (len(args) - 1) % 3 != 0:
    sys.exit("usage: embed-text.py --pairs NAME IN OUT [NAME IN OUT ...]")
for i in range(1, len(args), 3):
    embed(*args[i:i + 3])
