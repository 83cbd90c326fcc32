# tests/servers/lib.sh — what the server scripts (kafka.sh, cassandra.sh) share:
# messages, installing java/mvn/python3 from Debian's packages, fetching a
# pom's jars from Maven Central once, and process/port checks. Sourced, not
# run. The script sets before sourcing:
#   server_name  the prefix of every message ("kafka", "cassandra")
#   repo here cache lib   the repo root, the script's pom folder, its cache and jar folder
#   address pid_file      where the server listens ("127.0.0.1:9092"), its pid file
# and defines running_pid (prints the server's pid when it runs).

say() { echo "$server_name: $*"; }
die() { echo "$server_name: $*" >&2; exit 1; }

# ensure_tools [COMMAND PACKAGE]...: java, mvn and python3, plus the extra
# command/package pairs given, installed with apt-get when missing.
ensure_tools() {
    local missing=()
    command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
    command -v mvn >/dev/null 2>&1 || missing+=(maven)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    while [ "$#" -ge 2 ]; do
        command -v "$1" >/dev/null 2>&1 || missing+=("$2")
        shift 2
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo_cmd=()
    [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# fetch_jars WHAT JAR_GLOB...: copies $here/pom.xml's dependencies into $lib
# once (again when the pom changes); each glob must match a jar afterwards.
fetch_jars() {
    local what=$1
    shift
    local stamp="$lib/.pom.sha256" want
    want=$(sha256sum "$here/pom.xml" | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "resolving the $what's jars from Maven Central (once; cached in ${lib#"$repo"/})"
    local started=$SECONDS tmp="$cache/lib.tmp.$$" glob
    rm -rf "$tmp"
    mkdir -p "$tmp"
    if ! mvn -B -q -Dstyle.color=never -f "$here/pom.xml" -Dmaven.repo.local="$repo/.cache/m2" \
            dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
            > "$cache/mvn.log" 2>&1; then
        tail -n 40 "$cache/mvn.log" >&2
        rm -rf "$tmp"
        die "mvn could not resolve ${here#"$repo"/}/pom.xml (is Maven Central reachable? log: ${cache#"$repo"/}/mvn.log)"
    fi
    for glob in "$@"; do
        # shellcheck disable=SC2086  # the glob is meant to expand
        ls "$tmp"/$glob >/dev/null 2>&1 || { rm -rf "$tmp"; die "no $glob after mvn"; }
    done
    echo "$want" > "$tmp/.pom.sha256"
    rm -rf "$lib"
    mv "$tmp" "$lib"
    say "jars resolved in $((SECONDS - started))s ($(du -sh "$lib" | cut -f1), $(ls "$lib"/*.jar | wc -l) jars)"
}

# take_lock: one start/stop of this kind of server at a time (fd 9, held
# until the script exits).
take_lock() {
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
}

# halt LIMIT WHAT: stops the running server, LIMIT seconds for a clean
# shutdown, says WHAT happened; forgets the pid file (the data stays).
halt() {
    local pid started=$SECONDS
    if pid=$(running_pid); then
        stop_pid "$pid" "$1"
        say "$2 (pid $pid, in $((SECONDS - started))s)"
    else
        say "not running on $address"
    fi
    rm -f "$pid_file"
}

rss_mb() {  # resident set size of pid $1 in MB
    awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"
}

port_busy() {  # true when something listens on $2:$1 ($2 defaults to 127.0.0.1)
    python3 - "$1" "${2:-127.0.0.1}" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
try:
    s.connect((sys.argv[2], int(sys.argv[1])))
except OSError:
    sys.exit(1)
sys.exit(0)
PY
}

# Whether process $1 holds the listening socket of port $2 (true when ss,
# from iproute2, is missing: then the caller's pid check has to do).
listens_on_port() {
    command -v ss >/dev/null || return 0
    ss -ltnpH "sport = :$2" 2>/dev/null | grep -q "pid=$1,"
}

stop_pid() {  # SIGTERM to $1, up to $2 seconds for a clean shutdown, then SIGKILL
    local pid=$1 limit=$(( $2 * 10 )) waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge "$limit" ]; then
            say "pid $pid still running $2s after SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}
