#!/usr/bin/env bash
# bench/run.sh — sluice's benchmarks on this machine: generator -> topic,
# topic -> SQL -> topic, topic -> SQL -> SQLite, file -> SQL -> SQLite and
# JSON parsing beside Python's json and jq, with CPU per record and max RSS.
# Prints figures and ratios to reference figures; asserts nothing.
#   bash bench/run.sh            (from the repo root; `make bench` builds first)
# BENCH_USERS (default 200000) and BENCH_JSON_USERS (default 100000) size it.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x build/sluice ]; then
    echo "bench: build/sluice is missing; run 'make build/sluice' first" >&2
    exit 1
fi
exec python3 bench/bench.py "$@"
