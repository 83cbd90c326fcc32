#!/usr/bin/env bash
# Runs each Criterion unit-test binary given, prints a closing
# "N passed, N failed" line and exits non-zero if any test failed.
set -u
dir=$1; shift
passed=0; failed=0; failed_suites=()
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for bin in "$@"; do
    out=$("$bin" --jobs 1 2>&1); rc=$?
    echo "$out" | grep -E '^\[(FAIL|----)\]|Assertion|ERROR|runtime error|LeakSanitizer' | head -40
    # Criterion's synthesis line: "Synthesis: Tested: 12 | Passing: 12 | Failing: 0 | Crashing: 0"
    line=$(echo "$out" | grep -E 'Synthesis: Tested' | tail -1)
    p=$(echo "$line" | sed -nE 's/.*Passing: ([0-9]+).*/\1/p'); p=${p:-0}
    f=$(echo "$line" | sed -nE 's/.*Failing: ([0-9]+).*/\1/p'); f=${f:-0}
    c=$(echo "$line" | sed -nE 's/.*Crashing: ([0-9]+).*/\1/p'); c=${c:-0}
    # A sanitizer report in a test's forked process does not always change
    # Criterion's verdict (a leak is found as the child exits): it fails
    # the suite here.
    if echo "$out" | grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:'; then rc=1; fi
    if [ "$rc" -ne 0 ] && [ "$((f + c))" -eq 0 ]; then f=1; fi
    passed=$((passed + p)); failed=$((failed + f + c))
    [ "$rc" -ne 0 ] && failed_suites+=("$bin")
    echo "$(basename "$bin"): $p passed, $((f + c)) failed"
done
echo "unit: $passed passed, $failed failed"
if [ "${#failed_suites[@]}" -ne 0 ]; then echo "failing: ${failed_suites[*]}"; exit 1; fi
