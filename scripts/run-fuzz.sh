#!/usr/bin/env bash
# Runs the libFuzzer targets built in build/fuzz/ (make fuzz-build).
#   scripts/run-fuzz.sh SECONDS [fuzz_json fuzz_sql ...]
# For each target (default: every tests/fuzz/fuzz_*.c): replays each input
# in tests/fuzz/regressions/<target>/ (one test each: inputs that once
# crashed), then fuzzes for SECONDS starting from the committed seeds in
# tests/fuzz/corpus/<target>/ plus what earlier runs found
# (build/fuzz/corpus/<target>/, never committed). A crash is saved under
# build/fuzz/crashes/ and fails the run. Prints "fuzz: N passed, N failed".
# FUZZ_SEED=N fixes libFuzzer's seed (make test does, so that a finding in
# CI is reproduced by the same command); unset, every run explores anew.
set -u
cd "$(dirname "$0")/.."
seconds=${1:-60}; shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    for src in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$src" .c)"); done
fi
passed=0; failed=0
# Leaks count; UBSan findings stop the input (the build has -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p build/fuzz/crashes build/fuzz/logs

for target in "${targets[@]}"; do
    bin=build/fuzz/$target
    if [ ! -x "$bin" ]; then
        echo "$target: $bin is not built (make fuzz-build)"; failed=$((failed + 1)); continue
    fi
    # Regression inputs: each must run clean.
    for input in tests/fuzz/regressions/"$target"/*; do
        [ -f "$input" ] || continue
        log=build/fuzz/logs/$target.replay.log
        if "$bin" -timeout=10 "$input" >"$log" 2>&1; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "$target: regression input $input fails again:"
            grep -E 'ERROR|runtime error|invariant|SUMMARY|#[0-9]+ ' "$log" | head -20
        fi
    done
    # Fuzzing for a bounded time.
    work=build/fuzz/corpus/$target
    mkdir -p "$work"
    log=build/fuzz/logs/$target.log
    seeds=tests/fuzz/corpus/$target
    [ -d "$seeds" ] || seeds=
    dict=()  # tokens of the input language, from make_seeds.py
    [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
    seed=()
    [ -n "${FUZZ_SEED:-}" ] && seed=(-seed="$FUZZ_SEED")
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" "${seed[@]}" \
        -artifact_prefix="build/fuzz/crashes/$target-" "$work" $seeds >"$log" 2>&1
    rc=$?
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "$target: ${runs:-?} runs in ${seconds}s, no crash"
    else
        failed=$((failed + 1))
        artifact=$(grep -Eo "build/fuzz/crashes/$target-[a-z-]+[0-9a-f]*" "$log" | tail -1)
        echo "$target: FAILED after ${runs:-?} runs (log: $log)"
        grep -E 'ERROR|runtime error|invariant|SUMMARY|^ +#[0-9]+ ' "$log" | head -20
        if [ -n "$artifact" ]; then
            echo "  input: $artifact — reproduce with: $bin $artifact"
            echo "  after the fix, keep it: cp $artifact tests/fuzz/regressions/$target/<what-it-found>"
        fi
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
