#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-promtool.sh PROMTOOL TEST-METRICS RULES-DIR: Prometheus' own checks of what
# execcount gives it: the text format with odd user and unit names (and "other" series)
# passes "promtool check metrics" without a remark, and the example rules pass
# "promtool check rules" and their unit tests ("promtool test rules"). promtool reads the
# text format only; the OpenMetrics output is read by the parser of the Prometheus
# project's Python client (Debian's python3-prometheus-client), which checks what
# OpenMetrics adds: families, _created samples, # EOF. The e2e suite has a real
# Prometheus scrape it too.
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

# Debian's python3 (the one its python3-prometheus-client is for), whatever python3 is first
# in PATH.
out=$("$test_metrics" print openmetrics | /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
assert families["execcount_execs"].type == "counter", families["execcount_execs"]
assert families["execcount_build"].type == "info", families["execcount_build"]
created = [s for s in families["execcount_execs"].samples if s.name == "execcount_execs_created"]
assert created and all(s.value == 1700000000.123456 for s in created), created
users = {s.labels.get("user") for s in families["execcount_execs"].samples}
assert "b\\ob\nx" in users and "al\"ice" in users, users
print(len(families), "families")
' 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
        echo "not ok - OpenMetrics, read by prometheus_client's parser: exit $rc"
        echo "$out"
        failed=1
else
        echo "ok - OpenMetrics, read by prometheus_client's parser: $out"
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
