#!/usr/bin/env bash
# tests/servers/prometheus.sh — a real Prometheus server on loopback for the
# tests (Debian's prometheus package), scraping one target.
#
#   tests/servers/prometheus.sh start|stop|status|url
#
# start writes a config scraping PROMETHEUS_TARGET's /metrics every
# PROMETHEUS_SCRAPE_INTERVAL, starts the server on 127.0.0.1 and returns once
# its /-/ready answers 200. url prints http://127.0.0.1:<port>. stop stops
# it and removes its data.
#
# Environment:
#   PROMETHEUS_PORT            the port on 127.0.0.1 (default 9090)
#   PROMETHEUS_TARGET          HOST:PORT to scrape (start needs it)
#   PROMETHEUS_SCRAPE_INTERVAL how often (default 1s)
#   PROMETHEUS_READY_TIMEOUT   seconds start waits for /-/ready (default 60)
#
# Each port's server lives in <repo>/.cache/prometheus/<port>/ (ignored by
# git): prometheus.yml, data/ (the TSDB, removed by stop), prometheus.pid and
# prometheus.log (kept after stop).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
port=${PROMETHEUS_PORT:-9090}
interval=${PROMETHEUS_SCRAPE_INTERVAL:-1s}
ready_timeout=${PROMETHEUS_READY_TIMEOUT:-60}
cache="$repo/.cache/prometheus"
dir="$cache/$port"
pid_file="$dir/prometheus.pid"
address="127.0.0.1:$port"

server_name=prometheus
# shellcheck source=tests/servers/lib.sh
source "$repo/tests/servers/lib.sh"

ensure_prometheus() {
    command -v prometheus >/dev/null 2>&1 && return 0
    say "installing prometheus"
    local sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    command -v prometheus >/dev/null 2>&1 || die "no prometheus command after installing the prometheus package"
}

running_pid() {  # prints the server's pid when it runs (the pid file + a prometheus process on our dir)
    [ -f "$pid_file" ] || return 1
    local pid
    pid=$(cat "$pid_file" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--storage.tsdb.path=$dir/data" || return 1
    echo "$pid"
}

is_ready() {
    python3 - "$address" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://{sys.argv[1]}/-/ready", timeout=2) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except OSError:
    sys.exit(1)
PY
}

start() {
    ensure_prometheus
    [ -n "${PROMETHEUS_TARGET:-}" ] || die "set PROMETHEUS_TARGET to the HOST:PORT to scrape"
    take_lock
    local pid started=$SECONDS
    if pid=$(running_pid); then
        say "already running on $address (pid $pid)"
        return 0
    fi
    port_busy "$port" && die "$address is taken by another process (set PROMETHEUS_PORT)"
    rm -rf "$dir/data"
    mkdir -p "$dir/data"
    cat > "$dir/prometheus.yml" <<YAML
global:
  scrape_interval: $interval
  evaluation_interval: $interval
scrape_configs:
  - job_name: sluice
    scrape_interval: $interval
    scrape_timeout: $interval
    static_configs:
      - targets: ["$PROMETHEUS_TARGET"]
YAML
    # setsid: the server outlives this script, in a session of its own.
    setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
        --web.listen-address="$address" --storage.tsdb.retention.time=1h \
        > "$dir/prometheus.log" 2>&1 < /dev/null 9>&- &
    echo $! > "$pid_file"
    pid=$(cat "$pid_file")
    until is_ready; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$dir/prometheus.log" >&2 || true
            die "the server exited during startup (log: $dir/prometheus.log)"
        fi
        if [ $((SECONDS - started)) -ge "$ready_timeout" ]; then
            tail -n 30 "$dir/prometheus.log" >&2 || true
            stop_pid "$pid" 10
            die "not ready on $address within ${ready_timeout}s (log: $dir/prometheus.log)"
        fi
        sleep 0.2
    done
    say "ready on $address in $((SECONDS - started))s (pid $pid, RSS $(rss_mb "$pid") MB), scraping $PROMETHEUS_TARGET every $interval"
}

stop() {
    take_lock
    halt 30 stopped
    rm -rf "$dir/data"
}

status() {
    local pid
    if pid=$(running_pid); then
        say "running on $address (pid $pid, RSS $(rss_mb "$pid") MB)"
    else
        say "stopped (not running on $address)"
        return 3
    fi
}

url() {
    echo "http://$address"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) url ;;
    *) echo "usage: tests/servers/prometheus.sh start|stop|status|url (PROMETHEUS_PORT=$port)" >&2; exit 2 ;;
esac
