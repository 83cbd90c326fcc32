#!/usr/bin/env bash
# tests/servers/postgres.sh — a real PostgreSQL server on loopback for the
# tests: Debian's postgresql package, one cluster in a project folder,
# listening on 127.0.0.1 only, password (SCRAM) logins over TCP.
#
#   tests/servers/postgres.sh start|stop|status|url|suspend|resume
#
# start makes the cluster when it has none (initdb) and starts it; it
# returns once a login over TCP as the test user works and the test database
# exists. url prints the connection URL:
#   postgres://sluice:sluice@127.0.0.1:<port>/sluice
# (user sluice, a superuser, password sluice; database sluice). stop stops
# the server and removes the cluster; suspend stops it and keeps the
# cluster; resume starts it again on that cluster (an outage, for tests).
#
# Environment:
#   PGPORT                  the port on 127.0.0.1 (default 5432)
#   POSTGRES_READY_TIMEOUT  seconds `start` waits for a login to work (default 60)
#
# The cluster of each port lives in <repo>/.cache/postgres/<port>/: data/ (the
# cluster, removed by stop), run/ (the server's Unix socket, so it needs no
# system folder), logs/ (server.log and initdb.log, kept after stop). initdb
# and the server refuse to run as root: when this script runs as root they
# run as the system user postgres (made by Debian's postgresql-common), or
# nobody when there is none, and the port's folder belongs to that user.
# The server is tuned for tests (fsync and synchronous_commit off): a crash
# of the machine may lose its data, which the tests never need.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
port=${PGPORT:-5432}
ready_timeout=${POSTGRES_READY_TIMEOUT:-60}
cache="$repo/.cache/postgres"
dir="$cache/$port"
data="$dir/data"
pid_file="$data/postmaster.pid"
address="127.0.0.1:$port"
user=sluice
password=sluice
database=sluice

server_name=postgres
# shellcheck source=tests/servers/lib.sh
source "$repo/tests/servers/lib.sh"

# ---- tools ------------------------------------------------------------------------

# The newest installed server's bin folder (/usr/lib/postgresql/<major>/bin);
# installs Debian's postgresql package when there is none.
find_bin() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
        say "installing postgresql"
        local sudo_cmd=()
        [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
        export DEBIAN_FRONTEND=noninteractive
        "${sudo_cmd[@]}" apt-get update -qq
        "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    [ -n "$found" ] && [ -x "$found/initdb" ] || die "no initdb under /usr/lib/postgresql/*/bin after installing postgresql"
    bin=$found
}

# run_as COMMAND...: as the cluster's owner (postgres, else nobody) when we are root.
owner=
run_as() {
    if [ "$(id -u)" -ne 0 ]; then
        "$@"
        return
    fi
    if [ -z "$owner" ]; then
        if id postgres >/dev/null 2>&1; then owner=postgres; else owner=nobody; fi
    fi
    runuser -u "$owner" -- "$@"
}

# psql over TCP with the test user's password; extra arguments follow.
tcp_psql() {
    PGPASSWORD=$password PGCONNECT_TIMEOUT=5 "$bin/psql" -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$port" -U "$user" "$@"
}

# ---- the process ----------------------------------------------------------------------

running_pid() {  # prints the server's pid when it runs (postmaster.pid + a postgres process on our data)
    [ -f "$pid_file" ] || return 1
    local pid
    pid=$(head -n 1 "$pid_file" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-D $data" || return 1
    echo "$pid"
}

make_cluster() {  # initdb into $data, once
    [ -f "$data/PG_VERSION" ] && return 0
    local started=$SECONDS pwfile
    rm -rf "$data"
    mkdir -p "$data" "$dir/run" "$dir/logs"
    pwfile="$dir/pwfile"
    echo "$password" > "$pwfile"
    if [ "$(id -u)" -eq 0 ]; then
        run_as true  # settles $owner
        chown -R "$owner" "$dir"
    fi
    chmod 700 "$data"
    if ! run_as "$bin/initdb" -D "$data" -U "$user" --pwfile="$pwfile" --auth-local=trust \
            --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 > "$dir/logs/initdb.log" 2>&1; then
        rm -f "$pwfile"
        tail -n 20 "$dir/logs/initdb.log" >&2
        die "initdb failed (log: $dir/logs/initdb.log)"
    fi
    rm -f "$pwfile"
    say "cluster made in $((SECONDS - started))s in $data (owner $(stat -c %U "$data"))"
}

check_port_free() {
    port_busy "$port" && die "127.0.0.1:$port is taken by another process (set PGPORT)"
    return 0
}

launch() {  # starts the server on $data and waits until a TCP login works
    local started=$SECONDS pid
    mkdir -p "$dir/run" "$dir/logs"
    [ "$(id -u)" -eq 0 ] && { run_as true; chown "$owner" "$dir/run" "$dir/logs"; }
    # pg_ctl forks the server into its own session (it outlives this script).
    if ! run_as "$bin/pg_ctl" -D "$data" -l "$dir/logs/server.log" -w -t "$ready_timeout" \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/run \
                -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100" \
            start > "$dir/logs/pg_ctl.log" 2>&1 9>&-; then
        tail -n 30 "$dir/logs/pg_ctl.log" "$dir/logs/server.log" >&2 2>/dev/null || true
        die "the server did not start (logs in $dir/logs)"
    fi
    pid=$(running_pid) || die "pg_ctl started a server but its pid file names no server on $data (logs in $dir/logs)"
    # Ready means our server lets the test user in over TCP: another server on the
    # same port (a second test session racing for it) must not count.
    until listens_on_port "$pid" "$port" && tcp_psql -d postgres -c 'SELECT 1' >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$dir/logs/server.log" >&2 2>/dev/null || true
            die "the server exited during startup (logs in $dir/logs)"
        fi
        if [ $((SECONDS - started)) -ge "$ready_timeout" ]; then
            tail -n 30 "$dir/logs/server.log" >&2 2>/dev/null || true
            tcp_psql -d postgres -c 'SELECT 1' >&2 || true  # says why the last login failed
            run_as "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
            die "no login as $user on $address within ${ready_timeout}s (logs in $dir/logs)"
        fi
        sleep 0.2
    done
    if [ "$(tcp_psql -d postgres -At -c "SELECT count(*) FROM pg_database WHERE datname = '$database'")" != 1 ]; then
        tcp_psql -d postgres -c "CREATE DATABASE $database" >/dev/null
    fi
    say "ready on $address in $((SECONDS - started))s (pid $pid, RSS $(rss_mb "$pid") MB, PostgreSQL $(tcp_psql -d postgres -At -c 'SHOW server_version'), login $user/$password, database $database)"
}

pg_stop() {  # pg_ctl stop -m fast (clients are disconnected), then forgets nothing
    local pid started=$SECONDS
    if pid=$(running_pid); then
        run_as "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || stop_pid "$pid" 30
        say "$1 (pid $pid, in $((SECONDS - started))s)"
    else
        say "not running on $address"
    fi
}

# ---- commands ---------------------------------------------------------------------------

start() {
    find_bin
    take_lock
    local pid
    if pid=$(running_pid); then
        say "already running on $address (pid $pid, RSS $(rss_mb "$pid") MB)"
        return 0
    fi
    check_port_free
    rm -rf "$data"
    make_cluster
    launch
}

resume() {
    find_bin
    take_lock
    local pid
    if pid=$(running_pid); then
        say "already running on $address (pid $pid)"
        return 0
    fi
    [ -f "$data/PG_VERSION" ] || die "nothing to resume on port $port (no suspended cluster in $data)"
    check_port_free
    launch
}

stop() {
    find_bin
    take_lock
    pg_stop stopped
    rm -rf "$data"
}

suspend() {
    find_bin
    take_lock
    pg_stop "suspended, cluster kept for resume"
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
    echo "postgres://$user:$password@127.0.0.1:$port/$database"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    url) url ;;
    suspend) suspend ;;
    resume) resume ;;
    *) echo "usage: tests/servers/postgres.sh start|stop|status|url|suspend|resume (PGPORT=$port)" >&2; exit 2 ;;
esac
