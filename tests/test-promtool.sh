#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-promtool.sh PROMTOOL TEST-METRICS RULES-DIR: Prometheus' own checks of what
# execcount gives it: the text format with odd user and unit names (and "other" series)
# passes "promtool check metrics" without a remark, and the example rules pass
# "promtool check rules" and their unit tests ("promtool test rules").
set -uo pipefail
promtool=$1 test_metrics=$2 rules=$3
failed=0

out=$("$test_metrics" print prometheus | "$promtool" check metrics 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
        echo "not ok - promtool check metrics: exit $rc"
        echo "$out"
        failed=1
else
        echo "ok - promtool check metrics: the text format, odd names and all"
fi

for step in "check rules execcount.rules.yml" "test rules execcount.rules.test.yml"; do
        # shellcheck disable=SC2086 # the words of step are promtool's arguments
        if out=$(cd "$rules" && "$promtool" $step 2>&1); then
                echo "ok - promtool $step"
        else
                echo "not ok - promtool $step"
                echo "$out"
                failed=1
        fi
done
exit $failed
