#!/usr/bin/env bash
# Runs the whole test suite: unit tests (plain and under ASan+UBSan), the
# end-to-end pytest suites against build/sluice and build/sluice-asan, the
# fuzz targets for FUZZ_TEST_SECONDS each (default 8) with their regression
# inputs, and the ThreadSanitizer gate (unit tests and one pipeline).
# Prints one closing "N passed, N failed" line over everything and exits
# non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
total_passed=0; total_failed=0; status=0

count() {  # count LABEL OUTPUT_FILE — adds a "N passed, N failed" line's numbers
    local line p f
    line=$(grep -E '^[a-z-]+: [0-9]+ passed, [0-9]+ failed' "$2" | tail -1)
    p=$(echo "$line" | sed -nE 's/.* ([0-9]+) passed.*/\1/p'); p=${p:-0}
    f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p'); f=${f:-0}
    total_passed=$((total_passed + p)); total_failed=$((total_failed + f))
}

out=$(mktemp)
bash scripts/run-unit.sh build/test build/test/*_test 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
count unit "$out"
bash scripts/run-unit.sh build/test-asan build/test-asan/*_test 2>&1 | sed 's/^unit:/unit-asan:/' | tee "$out"; [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
count unit-asan "$out"

# Fuzzing, bounded: the regression inputs, then a few seconds per target.
FUZZ_SEED=${FUZZ_SEED:-1} bash scripts/run-fuzz.sh "${FUZZ_TEST_SECONDS:-8}" 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
count fuzz "$out"
# ThreadSanitizer: its unit tests and its one pipeline (tests/e2e/test_tsan.py).
bash scripts/run-tsan.sh 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
count tsan "$out"

# End to end: pytest's own summary, then its counts in our closing line.
# (test_tsan.py ran above, in the tsan step.)
.venv/bin/pytest -q tests/e2e -p no:cacheprovider --ignore=tests/e2e/test_tsan.py 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}
[ "$rc" -ne 0 ] && status=1
# pytest's closing line alone: "3 failed, 48 passed, 1 error in 192.71s (0:03:12)".
summary=$(grep -E '^=*? ?[0-9]+ (passed|failed|error).* in [0-9.]+s' "$out" | tail -1)
p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+'); p=${p:-0}
f=$(echo "$summary" | grep -Eo '[0-9]+ (failed|errors?)' | awk '{s+=$1} END {print s+0}')
total_passed=$((total_passed + p)); total_failed=$((total_failed + f))
[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && total_failed=$((total_failed + 1))
rm -f "$out"

echo "all: $total_passed passed, $total_failed failed"
exit $status
