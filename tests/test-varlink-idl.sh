#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-varlink-idl.sh GENERATOR FILE...: the interface descriptions parse with the Varlink
# reference parser (varlink-go's code generator), so clients in any language can use them.
set -euo pipefail
generator=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$@"; do
        cp "$f" "$work/"
        (cd "$work" && "$generator" "$(basename "$f")") || { echo "FAIL: $f does not parse" >&2; exit 1; }
done
