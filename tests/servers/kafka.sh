#!/usr/bin/env bash
# tests/servers/kafka.sh — a real Apache Kafka broker on loopback for the tests
#: one KRaft process that is both broker and controller.
#
#   tests/servers/kafka.sh start|stop|status|suspend|resume
#
# suspend stops the broker and keeps its data; resume starts it again on
# that data (an outage, for tests). stop removes the data.
#
# Environment:
#   KAFKA_PORT             PLAINTEXT listener on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  CONTROLLER listener on 127.0.0.1 (default KAFKA_PORT+1)
#   KAFKA_READY_TIMEOUT    seconds `start` waits for the broker to answer (default 90)
#   KAFKA_HEAP             JVM heap, -Xms and -Xmx (default 512m)
#
# The broker's jars come from Maven Central (tests/servers/kafka/pom.xml, via
# `mvn dependency:copy-dependencies`) and are cached in <repo>/.cache/kafka/lib,
# Maven's own repository in <repo>/.cache/m2. Each port has its own folder
# <repo>/.cache/kafka/<port>/ with server.properties, the log4j2 config, the
# pid file, logs/ (kept after stop) and data/ (removed by stop).
# `start` returns once the broker answers a Kafka Metadata request listing
# itself; it prints how long that took and the broker's RSS.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/tests/servers/kafka"
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
ready_timeout=${KAFKA_READY_TIMEOUT:-90}
heap=${KAFKA_HEAP:-512m}
cache="$repo/.cache/kafka"
lib="$cache/lib"
dir="$cache/$port"
pid_file="$dir/kafka.pid"
address="127.0.0.1:$port"

server_name=kafka
# shellcheck source=tests/servers/lib.sh
source "$repo/tests/servers/lib.sh"

# ---- tools ------------------------------------------------------------------------

# ---- the process ----------------------------------------------------------------------

running_pid() {  # prints the broker's pid when it runs (pid file + a kafka.Kafka command line)
    [ -f "$pid_file" ] || return 1
    local pid
    pid=$(cat "$pid_file")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $dir/server.properties" || return 1
    echo "$pid"
}

write_config() {
    mkdir -p "$dir/data" "$dir/logs"
    cat > "$dir/server.properties" <<EOF
# Written by tests/servers/kafka.sh: a single KRaft node on loopback for tests.
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=268435456
EOF
    cat > "$dir/log4j2.properties" <<EOF
# Written by tests/servers/kafka.sh: INFO to logs/server.log, warnings and errors also to stderr.
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/logs/server.log
appender.file.append = false
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
appender.err.filter.threshold.type = ThresholdFilter
appender.err.filter.threshold.level = warn
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
rootLogger.appenderRef.err.ref = err
logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = info
EOF
}

format_storage() {
    local id
    id=$(java -cp "$lib/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.tools.StorageTool random-uuid)
    [ -n "$id" ] || die "StorageTool random-uuid printed nothing"
    java -cp "$lib/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.tools.StorageTool \
        format -t "$id" -c "$dir/server.properties" --standalone > "$dir/logs/format.log" 2>&1 \
        || { cat "$dir/logs/format.log" >&2; die "StorageTool format failed (log: $dir/logs/format.log)"; }
}

# Sends a Kafka Metadata request (v4: all topics) to the broker and succeeds when the
# answer lists broker 1 at 127.0.0.1:$port. Python's standard library only.
answers_metadata() {
    python3 - "$port" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
client = b"sluice-kafka-sh"
body = struct.pack(">hhih", 3, 4, 1, len(client)) + client + struct.pack(">ib", -1, 0)
try:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        def take(n):
            out = b""
            while len(out) < n:
                chunk = s.recv(n - len(out))
                if not chunk:
                    raise OSError("closed")
                out += chunk
            return out
        size, = struct.unpack(">i", take(4))
        data = take(size)
except OSError:
    sys.exit(1)
# Response: correlation id, throttle ms, brokers [node id, host, port, rack], ...
try:
    corr, _throttle, n = struct.unpack_from(">iii", data, 0)
    pos = 12
    for _ in range(n):
        node, hlen = struct.unpack_from(">ih", data, pos)
        host = data[pos + 6:pos + 6 + hlen].decode()
        pos += 6 + hlen
        bport, rlen = struct.unpack_from(">ih", data, pos)
        pos += 6 + max(rlen, 0)
        if corr == 1 and node == 1 and host == "127.0.0.1" and bport == port:
            sys.exit(0)
except (struct.error, UnicodeDecodeError):
    pass
sys.exit(1)
PY
}

# ---- commands ---------------------------------------------------------------------------

start() {
    ensure_tools
    take_lock
    local pid
    if pid=$(running_pid); then
        say "already running on 127.0.0.1:$port (pid $pid, RSS $(rss_mb "$pid") MB)"
        return 0
    fi
    check_ports_free
    fetch_jars broker "kafka_2.13-*.jar"
    local started=$SECONDS
    rm -rf "$dir/data" "$pid_file"
    write_config
    format_storage
    say "storage formatted in $((SECONDS - started))s"
    launch
}

# resume: starts the broker again on the data a `suspend` kept (same topics,
# offsets and producer state): a broker outage and its end, for tests.
resume() {
    take_lock
    local pid
    if pid=$(running_pid); then
        say "already running on 127.0.0.1:$port (pid $pid)"
        return 0
    fi
    [ -f "$dir/data/meta.properties" ] || die "nothing to resume on port $port (no suspended broker's data in $dir/data)"
    check_ports_free
    launch
}

check_ports_free() {
    port_busy "$port" && die "127.0.0.1:$port is taken by another process (set KAFKA_PORT)"
    port_busy "$controller_port" && die "127.0.0.1:$controller_port is taken by another process (set KAFKA_CONTROLLER_PORT)"
    return 0
}

launch() {  # starts kafka.Kafka on the configured data and waits until it answers
    local started=$SECONDS pid
    # setsid: the broker outlives this script and does not get the caller's terminal signals.
    setsid java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$dir/log4j2.properties" \
        -cp "$lib/*" kafka.Kafka "$dir/server.properties" \
        > "$dir/logs/stdout.log" 2>&1 < /dev/null 9>&- &
    pid=$!
    echo "$pid" > "$pid_file"
    # Ready means our broker answers: another broker answering on the same
    # port (a second test session racing for it) must not count.
    while ! { listens_on_port "$pid" "$port" && answers_metadata; }; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$dir/logs/stdout.log" "$dir/logs/server.log" >&2 2>/dev/null || true
            rm -f "$pid_file"
            die "the broker exited during startup (logs in $dir/logs)"
        fi
        if [ $((SECONDS - started)) -ge "$ready_timeout" ]; then
            tail -n 30 "$dir/logs/server.log" >&2 2>/dev/null || true
            stop_pid "$pid" 30
            die "the broker did not answer a metadata request within ${ready_timeout}s (logs in $dir/logs)"
        fi
        sleep 0.3
    done
    say "ready on 127.0.0.1:$port in $((SECONDS - started))s (pid $pid, RSS $(rss_mb "$pid") MB, heap $heap, Kafka $(ls "$lib" | sed -n 's/^kafka_2.13-\(.*\)\.jar$/\1/p'))"
}

stop() {
    take_lock
    halt 30 stopped
    rm -rf "$dir/data"
}

suspend() {
    take_lock
    halt 30 "suspended, data kept for resume"
}

status() {
    local pid
    if pid=$(running_pid); then
        say "running on 127.0.0.1:$port (pid $pid, RSS $(rss_mb "$pid") MB)"
    else
        say "not running on 127.0.0.1:$port"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    suspend) suspend ;;
    resume) resume ;;
    *) echo "usage: tests/servers/kafka.sh start|stop|status|suspend|resume (KAFKA_PORT=$port)" >&2; exit 2 ;;
esac
