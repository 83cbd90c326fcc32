#!/usr/bin/env bash
# tests/servers/cassandra.sh — a real Apache Cassandra node on loopback for the
# tests: one single-token node, PasswordAuthenticator on, so a
# client goes through the CQL AUTHENTICATE path (superuser cassandra/cassandra).
#
#   tests/servers/cassandra.sh start|stop|status|suspend|resume
#
# suspend stops the node and keeps its data; resume starts it again on it.
#
# Environment:
#   CASSANDRA_PORT           CQL native port on the listen address (default 9042)
#   CASSANDRA_STORAGE_PORT   inter-node storage port (default CASSANDRA_PORT+1)
#   CASSANDRA_JMX_PORT       JMX, bound to 127.0.0.1 only (default CASSANDRA_PORT+2)
#   CASSANDRA_LISTEN         the node's address, listen_address and rpc_address
#                            (default 127.0.0.1; any 127.x.y.z is loopback on Linux)
#   CASSANDRA_SEEDS          seeds, "ip:storage_port,..." (default the node itself)
#   CASSANDRA_INITIAL_TOKEN  the node's one token (default 0)
#   CASSANDRA_AUTO_BOOTSTRAP 0: auto_bootstrap false (a node joining a test
#                            cluster takes its token at once, streaming nothing);
#                            unset (default): Cassandra's default
#   CASSANDRA_READY_TIMEOUT  seconds `start` waits for a CQL login to work (default 120)
#   CASSANDRA_HEAP           JVM heap, -Xms and -Xmx (default 1g)
#   CASSANDRA_TLS            1 (default): the native port also takes TLS clients; 0: plaintext only
#   CASSANDRA_TLS_CLIENT_AUTH  1: TLS clients must present a certificate signed by the
#                            test CA (mutual TLS; plaintext clients still get in); default 0
#
# The node's jars come from Maven Central (tests/servers/cassandra/pom.xml, via
# `mvn dependency:copy-dependencies`) and are cached in <repo>/.cache/cassandra/lib,
# Maven's own repository in <repo>/.cache/m2. Each port has its own folder
# <repo>/.cache/cassandra/<port>/ (<listen>-<port>/ for a CASSANDRA_LISTEN other
# than 127.0.0.1) with cassandra.yaml, logback.xml, the pid file,
# logs/ (kept after stop) and data/ (removed by stop).
#
# A cluster of nodes on loopback: give each node its own CASSANDRA_LISTEN
# (127.0.0.1, 127.0.0.2, ...), the same CASSANDRA_PORT and CASSANDRA_STORAGE_PORT
# (peers are reached on the ports the cluster shares), its own CASSANDRA_JMX_PORT
# (JMX binds 127.0.0.1 whatever the listen address), its own
# CASSANDRA_INITIAL_TOKEN, CASSANDRA_SEEDS naming the first node, CASSANDRA_TLS=0
# (the test certificates name 127.0.0.1 only) and, for the nodes after the
# first, CASSANDRA_AUTO_BOOTSTRAP=0; start them one after the other, the seed first.
# `start` returns once tests/servers/cql_ping.py logs in as cassandra/cassandra
# and reads system.local (the port opens before the superuser exists, so an
# open port is not enough); it prints how long that took and the node's RSS.
#
# TLS: the same native port accepts plaintext and TLS clients
# (client_encryption_options enabled + optional; Cassandra tells them apart by
# the first bytes). `start` makes, once per port folder, a throwaway CA and
# certificates with the openssl command line (settings in
# tests/servers/cassandra/tls.cnf), PEM files in <repo>/.cache/cassandra/<port>/tls/:
#   ca.pem, ca.key                CA (trust ca.pem to verify the server)
#   server.pem, server.key        server certificate for IP:127.0.0.1 and DNS:localhost
#   server-keystore.pem           server.key + server.pem, the node's PEM keystore
#   client.pem, client.key        client certificate (clientAuth), for mutual TLS tests
# Keys are unencrypted PKCS#8 EC P-256; stop keeps them. The node loads them with
# Cassandra's PEMBasedSslContextFactory. After the plaintext login, `start` also
# logs in once over TLS, verifying the server certificate for 127.0.0.1 against ca.pem.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
here="$repo/tests/servers/cassandra"
ping_py="$repo/tests/servers/cql_ping.py"
port=${CASSANDRA_PORT:-9042}
storage_port=${CASSANDRA_STORAGE_PORT:-$((port + 1))}
jmx_port=${CASSANDRA_JMX_PORT:-$((port + 2))}
listen=${CASSANDRA_LISTEN:-127.0.0.1}
seeds=${CASSANDRA_SEEDS:-$listen:$storage_port}
initial_token=${CASSANDRA_INITIAL_TOKEN:-0}
auto_bootstrap=${CASSANDRA_AUTO_BOOTSTRAP:-}
ready_timeout=${CASSANDRA_READY_TIMEOUT:-120}
heap=${CASSANDRA_HEAP:-1g}
cache="$repo/.cache/cassandra"
lib="$cache/lib"
if [ "$listen" = 127.0.0.1 ]; then
    dir="$cache/$port"
else
    dir="$cache/$listen-$port"
fi
pid_file="$dir/cassandra.pid"
address="$listen:$port"
tls_dir="$dir/tls"
tls=${CASSANDRA_TLS:-1}
tls_client_auth=${CASSANDRA_TLS_CLIENT_AUTH:-0}

server_name=cassandra
# shellcheck source=tests/servers/lib.sh
source "$repo/tests/servers/lib.sh"

# ---- tools ------------------------------------------------------------------------

# ---- TLS material --------------------------------------------------------------------

tls_ready() {  # true when $tls_dir holds every file and the leaf certificates last another day
    local f
    for f in ca.pem ca.key server.pem server.key server-keystore.pem client.pem client.key; do
        [ -s "$tls_dir/$f" ] || return 1
    done
    openssl x509 -noout -checkend 86400 -in "$tls_dir/server.pem" >/dev/null 2>&1 || return 1
    openssl x509 -noout -checkend 86400 -in "$tls_dir/client.pem" >/dev/null 2>&1 || return 1
}

ossl() {  # openssl "$@", its output appended to $ossl_log; on failure shows the log and dies
    if ! openssl "$@" >> "$ossl_log" 2>&1; then
        tail -n 20 "$ossl_log" >&2
        die "openssl $1 failed making the test certificates (log: $ossl_log)"
    fi
}

make_tls() {  # CA, server and client certificates in $tls_dir, once per port folder
    tls_ready && return 0
    local tmp="$dir/tls.tmp.$$" cnf="$here/tls.cnf" who old_umask
    mkdir -p "$dir/logs"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    ossl_log="$dir/logs/openssl.log"
    : > "$ossl_log"
    old_umask=$(umask)
    umask 077
    ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key"
    ossl req -new -x509 -config "$cnf" -extensions ca -key "$tmp/ca.key" -sha256 -days 3650 \
        -subj "/O=sluice tests/CN=sluice test CA (port $port)" -out "$tmp/ca.pem"
    for who in server client; do
        ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/$who.key"
        ossl req -new -config "$cnf" -key "$tmp/$who.key" -subj "/O=sluice tests/CN=sluice test $who" \
            -out "$tmp/$who.csr"
        ossl x509 -req -in "$tmp/$who.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
            -set_serial "0x$(openssl rand -hex 8)" -sha256 -days 825 \
            -extfile "$cnf" -extensions "$who" -out "$tmp/$who.pem"
        rm -f "$tmp/$who.csr"
    done
    cat "$tmp/server.key" "$tmp/server.pem" > "$tmp/server-keystore.pem"
    umask "$old_umask"
    chmod 644 "$tmp/ca.pem" "$tmp/server.pem" "$tmp/client.pem"
    ossl verify -x509_strict -CAfile "$tmp/ca.pem" "$tmp/server.pem" "$tmp/client.pem"
    rm -rf "$tls_dir"
    mv "$tmp" "$tls_dir"
    say "made a test CA and server/client certificates in $tls_dir"
}

tls_configured() {  # true when the written cassandra.yaml lets TLS clients in
    grep -q 'PEMBasedSslContextFactory' "$dir/cassandra.yaml" 2>/dev/null
}

# ---- the process ----------------------------------------------------------------------

running_pid() {  # prints the node's pid when it runs (pid file + a CassandraDaemon on our yaml)
    [ -f "$pid_file" ] || return 1
    local pid
    pid=$(cat "$pid_file")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    local cmdline
    cmdline=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$cmdline" == *"-Dcassandra.config=file://$dir/cassandra.yaml "* ]] || return 1
    [[ "$cmdline" == *" org.apache.cassandra.service.CassandraDaemon"* ]] || return 1
    echo "$pid"
}

write_config() {
    local data="$dir/data"
    mkdir -p "$data" "$dir/logs" "$dir/triggers"
    # Cassandra 5.0 rejects unknown keys and takes sizes and durations with units.
    cat > "$dir/cassandra.yaml" <<EOF
# Written by tests/servers/cassandra.sh: a single node on loopback for tests.
cluster_name: sluice-test-$port
num_tokens: 1
initial_token: $initial_token
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$seeds"
listen_address: $listen
rpc_address: $listen
storage_port: $storage_port
native_transport_port: $port
start_native_transport: true

data_file_directories:
  - $data/data
commitlog_directory: $data/commitlog
saved_caches_directory: $data/saved_caches
hints_directory: $data/hints
cdc_raw_directory: $data/cdc_raw

authenticator:
  class_name: org.apache.cassandra.auth.PasswordAuthenticator
authorizer:
  class_name: org.apache.cassandra.auth.AllowAllAuthorizer
role_manager:
  class_name: org.apache.cassandra.auth.CassandraRoleManager

commitlog_sync: periodic
commitlog_sync_period: 10000ms
auto_snapshot: false
hinted_handoff_enabled: false
dynamic_snitch: false

# Small and quick to start: a test node, not a production one.
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
key_cache_size: 16MiB
row_cache_size: 0MiB
counter_cache_size: 0MiB
prepared_statements_cache_size: 16MiB
file_cache_size: 64MiB
networking_cache_size: 32MiB
concurrent_compactors: 1
EOF
    if [ "$auto_bootstrap" = 0 ]; then
        cat >> "$dir/cassandra.yaml" <<EOF

# Joins a test cluster with its token at once (nothing to stream from peers).
auto_bootstrap: false
EOF
    fi
    if [ "$tls" = 1 ]; then
        local client_auth=false
        [ "$tls_client_auth" = 1 ] && client_auth=true
        # One native port for both: optional lets plaintext clients in next to TLS ones.
        # PEM files (see make_tls): keystore = private key + certificate chain, truststore = CA.
        cat >> "$dir/cassandra.yaml" <<EOF

client_encryption_options:
  enabled: true
  optional: true
  ssl_context_factory:
    class_name: org.apache.cassandra.security.PEMBasedSslContextFactory
  keystore: $tls_dir/server-keystore.pem
  truststore: $tls_dir/ca.pem
  require_client_auth: $client_auth
EOF
    fi
    cat > "$dir/logback.xml" <<EOF
<!-- Written by tests/servers/cassandra.sh: INFO to logs/system.log, warnings and errors also to stderr. -->
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$dir/logs/system.log</file>
    <append>false</append>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <filter class="ch.qos.logback.classic.filter.ThresholdFilter">
      <level>WARN</level>
    </filter>
    <encoder>
      <pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern>
    </encoder>
  </appender>
  <root level="INFO">
    <appender-ref ref="FILE"/>
    <appender-ref ref="STDERR"/>
  </root>
</configuration>
EOF
}

jvm_flags() {  # prints the --add-exports/--add-opens flags of jvm17-flags.txt, one per line
    local line word
    while IFS= read -r line || [ -n "$line" ]; do
        line=${line%%#*}
        for word in $line; do
            echo "$word"
        done
    done < "$here/jvm17-flags.txt"
}

check_ports_free() {
    port_busy "$port" "$listen" && die "$listen:$port is taken by another process (set CASSANDRA_PORT)"
    port_busy "$storage_port" "$listen" && die "$listen:$storage_port is taken by another process (set CASSANDRA_STORAGE_PORT)"
    port_busy "$jmx_port" && die "127.0.0.1:$jmx_port is taken by another process (set CASSANDRA_JMX_PORT)"
    return 0
}

cql_login() {  # one CQL login + SELECT release_version; prints the version
    python3 "$ping_py" --host "$listen" --port "$port" --user cassandra --password cassandra --timeout 5 2>/dev/null
}

cql_login_tls() {  # the same over TLS, verifying the server as 127.0.0.1 against ca.pem; prints how it went
    python3 "$ping_py" --host 127.0.0.1 --port "$port" --user cassandra --password cassandra --timeout 10 \
        --tls "$tls_dir/ca.pem" --cert "$tls_dir/client.pem" --key "$tls_dir/client.key" --verbose 2>&1
}

# ---- commands ---------------------------------------------------------------------------

start() {
    if [ "$tls" = 1 ] && [ "$listen" != 127.0.0.1 ]; then
        die "CASSANDRA_TLS=1 needs CASSANDRA_LISTEN=127.0.0.1 (the test certificates name 127.0.0.1 only): set CASSANDRA_TLS=0"
    fi
    if [ "$tls" = 1 ]; then ensure_tools openssl openssl; else ensure_tools; fi
    take_lock
    local pid
    if pid=$(running_pid); then
        say "already running on $listen:$port (pid $pid, RSS $(rss_mb "$pid") MB)"
        return 0
    fi
    check_ports_free
    fetch_jars node "cassandra-all-*.jar" "jamm-*.jar"
    rm -rf "$dir/data" "$pid_file"
    if [ "$tls" = 1 ]; then
        make_tls
    fi
    write_config
    launch
}

launch() {  # starts CassandraDaemon on the written config and waits until a CQL login works
    local started=$SECONDS pid jamm flags=()
    jamm=$(ls "$lib"/jamm-*.jar | head -n 1)
    mapfile -t flags < <(jvm_flags)
    # setsid: the node outlives this script and does not get the caller's terminal signals.
    setsid java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -XX:+ParallelRefProcEnabled -Xss256k \
        -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$dir/logs" -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true \
        "${flags[@]}" -Djdk.attach.allowAttachSelf=true -javaagent:"$jamm" \
        -Dcassandra.config="file://$dir/cassandra.yaml" \
        -Dcassandra-foreground=yes \
        -Dcassandra.storagedir="$dir/data" \
        -Dcassandra.logdir="$dir/logs" \
        -Dcassandra.triggers_dir="$dir/triggers" \
        -Dlogback.configurationFile="$dir/logback.xml" \
        -Dcassandra.jmx.local.port="$jmx_port" \
        -Dcassandra.superuser_setup_delay_ms=0 \
        -Dcassandra.skip_wait_for_gossip_to_settle=0 \
        -Dcassandra.shutdown_announce_in_ms=0 \
        -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon \
        > "$dir/logs/stdout.log" 2>&1 < /dev/null 9>&- &
    pid=$!
    echo "$pid" > "$pid_file"
    # Ready means our node lets us log in: another node answering on the same
    # port (a second test session racing for it) must not count.
    local version
    while ! { listens_on_port "$pid" "$port" && version=$(cql_login); }; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$dir/logs/stdout.log" "$dir/logs/system.log" >&2 2>/dev/null || true
            rm -f "$pid_file"
            die "the node exited during startup (logs in $dir/logs)"
        fi
        if [ $((SECONDS - started)) -ge "$ready_timeout" ]; then
            tail -n 30 "$dir/logs/system.log" >&2 2>/dev/null || true
            python3 "$ping_py" --host "$listen" --port "$port" >/dev/null || true  # says why the last login failed
            stop_pid "$pid" 60
            rm -f "$pid_file"
            die "no CQL login as cassandra/cassandra within ${ready_timeout}s (logs in $dir/logs)"
        fi
        sleep 0.5
    done
    say "ready on $listen:$port in $((SECONDS - started))s (pid $pid, RSS $(rss_mb "$pid") MB, heap $heap, Cassandra $version, login cassandra/cassandra)"
    tls_configured || return 0
    local how
    if ! how=$(cql_login_tls); then
        echo "$how" >&2
        tail -n 30 "$dir/logs/system.log" >&2 2>/dev/null || true
        stop_pid "$pid" 60
        rm -f "$pid_file"
        die "plaintext login works but the TLS login to $listen:$port failed (CA $tls_dir/ca.pem; logs in $dir/logs)"
    fi
    say "TLS on the same port: $(grep '^cql_ping: ' <<< "$how" | sed 's/^cql_ping: //' | paste -sd ';' | sed 's/;/; /g')"
}

stop() {
    take_lock
    halt 60 stopped
    rm -rf "$dir/data"
}

# suspend stops the node and keeps its data; resume starts it again on
# that data (an outage, for tests).
suspend() {
    take_lock
    halt 60 "suspended, data kept for resume"
}

resume() {
    take_lock
    local pid
    if pid=$(running_pid); then
        say "already running on $listen:$port (pid $pid)"
        return 0
    fi
    [ -d "$dir/data" ] && [ -f "$dir/cassandra.yaml" ] || die "nothing to resume on port $port (no suspended node's data in $dir/data)"
    check_ports_free
    launch
}

status() {
    local pid
    if pid=$(running_pid); then
        say "running on $listen:$port (pid $pid, RSS $(rss_mb "$pid") MB)"
    else
        say "stopped (not running on $listen:$port)"
        return 3
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    suspend) suspend ;;
    resume) resume ;;
    *) echo "usage: tests/servers/cassandra.sh start|stop|status|suspend|resume (CASSANDRA_PORT=$port)" >&2; exit 2 ;;
esac
