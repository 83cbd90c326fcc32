#!/usr/bin/env bash
# Runs the whole test suite (`make test`) with CPU hogs beside it, several
# times in a row, to show that the tests depend on conditions and never on
# the machine being idle. `make test-load` calls it.
#
#   scripts/load.sh [PASSES]     PASSES suite runs in a row (default 3)
#   LOAD_HOGS=N                  busy processes beside the suite (default: one per core)
#
# Stops at the first failing pass. Prints each pass's time and the total.
set -u
cd "$(dirname "$0")/.."
passes=${1:-3}
hogs=${LOAD_HOGS:-$(nproc)}
case "$passes$hogs" in *[!0-9]*) echo "usage: scripts/load.sh [PASSES] (LOAD_HOGS=N)" >&2; exit 2 ;; esac

hog_pids=()
stop_hogs() {
    [ "${#hog_pids[@]}" -gt 0 ] && kill "${hog_pids[@]}" 2>/dev/null
    wait 2>/dev/null
}
trap stop_hogs EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in $(seq "$hogs"); do
    # A busy loop at the tests' own priority: it takes a core's share of time.
    bash -c 'while :; do :; done' &
    hog_pids+=("$!")
done
echo "load: ${hogs} CPU hogs running beside the suite (pids ${hog_pids[*]})"

started=$(date +%s)
for pass in $(seq "$passes"); do
    pass_started=$(date +%s)
    echo "load: pass ${pass} of ${passes}"
    if ! make --no-print-directory test; then
        echo "load: pass ${pass} of ${passes} FAILED after $(( $(date +%s) - pass_started ))s"
        exit 1
    fi
    echo "load: pass ${pass} of ${passes} passed in $(( $(date +%s) - pass_started ))s"
done
echo "load: ${passes} passes in a row passed in $(( $(date +%s) - started ))s with ${hogs} hogs"
