#!/usr/bin/env bash
# Runs the ThreadSanitizer gate (make tsan-build first): the unit tests that
# start threads, built with gcc -fsanitize=thread in build/tsan/test/, and
# one whole pipeline through build/sluice-tsan (tests/e2e/test_tsan.py).
# TSan halts on its first report with exit code 66, so a report fails its
# test. Prints "tsan: N passed, N failed" and exits non-zero on a failure.
set -u
cd "$(dirname "$0")/.."
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 exitcode=66 second_deadlock_stack=1}
passed=0; failed=0; status=0
out=$(mktemp)

bash scripts/run-unit.sh build/tsan/test build/tsan/test/* 2>&1 | sed 's/^unit:/tsan-unit:/' | tee "$out"
[ "${PIPESTATUS[0]}" -ne 0 ] && status=1
line=$(grep -E '^tsan-unit: [0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
p=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p'); f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))

.venv/bin/pytest -q tests/e2e/test_tsan.py -p no:cacheprovider 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}
[ "$rc" -ne 0 ] && status=1
summary=$(grep -E '[0-9]+ (passed|failed|error).* in [0-9.]+s' "$out" | tail -1)
p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+'); p=${p:-0}
f=$(echo "$summary" | grep -Eo '[0-9]+ (failed|errors?)' | awk '{s+=$1} END {print s+0}')
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
passed=$((passed + p)); failed=$((failed + f))
rm -f "$out"

echo "tsan: $passed passed, $failed failed"
exit $status
