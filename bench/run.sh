#!/usr/bin/env bash
# bench/run.sh — sluice's benchmarks on this machine: generator -> topic,
# topic -> SQL -> topic, topic -> SQL -> SQLite, file -> SQL -> SQLite and
# JSON parsing, each beside a reference measured in the same run on the same
# data (Python json / sqlite3 doing the same work on one core, jq), with
# records per CPU-second and max RSS; then Kafka, Cassandra, the scheduler,
# the HTTP API, the web UI and (k) the Nexmark queries (events per
# CPU-second beside C loops doing q1's and q5's work). Prints figures and
# ratios; asserts nothing; exits 1 only when a sluice run fails.
#   bash bench/run.sh            (from the repo root; `make bench` builds first)
# BENCH_USERS (default 200000), BENCH_JSON_USERS (default 100000) and
# BENCH_NEXMARK_EVENTS (default 1000000) size it.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x build/sluice ]; then
    echo "bench: build/sluice is missing; run 'make build/sluice' first" >&2
    exit 1
fi
exec python3 bench/bench.py "$@"
