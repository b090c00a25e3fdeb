#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# run-fuzzer.sh FUZZER SEEDS WORKDIR SECONDS: fuzzes for SECONDS, starting from the seed
# corpus (read only) and from WORKDIR/corpus, where new inputs go; crashes go to
# WORKDIR/artifacts. SECONDS comes from $FUZZ_SECONDS when set.
set -eu
fuzzer=$1 seeds=$2 work=$3 seconds=${FUZZ_SECONDS:-$4}
mkdir -p "$work/corpus" "$work/artifacts"
if ! "$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" "$seeds"; then
        echo "$(basename "$fuzzer") found a problem; the input is in $work/artifacts." >&2
        echo "Once it is fixed, add that input to $seeds as a regression test." >&2
        exit 1
fi
