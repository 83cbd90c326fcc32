"""cassandra_bench.py — rows/s from Kafka into Cassandra through sluice, beside
the write ceiling of the same Cassandra measured in the same run.

  pipeline: the seed's store_users: Kafka topic (N users, 4 partitions) -> the
            seed's SQL -> the cassandra sink (prepared INSERTs grouped into
            unlogged batches by owning node), a bounded run that ends once
            caught up. Timed around the process (start-up, group join and the
            final acknowledgements included).
  ceiling:  a pure-insert load of the same number of seed-like rows (uuid key,
            ten text columns of similar sizes) through the same CQL client at high
            concurrency, no pipeline (tests/e2e/cql_client_check.c `load`),
            with the client's latency p50/p99 per request round.

On one 2-core machine Cassandra's own CPU per row is the limit,
so both runs also print the Cassandra process's CPU time per row (from
/proc/<pid>/stat before and after), and the pipeline run the Kafka broker's.
Before every run the node flushes its memtables and finishes compacting
(nodetool over its local JMX port), so no run pays for the previous one.

The servers are tests/servers/kafka.sh (port BENCH_KAFKA_PORT, default 29092)
and tests/servers/cassandra.sh (port BENCH_CASSANDRA_PORT, default 29042),
started here and stopped at the end. Prints; asserts nothing.
  python3 bench/cassandra_bench.py        (BENCH_CASSANDRA_ROWS, default 100000)
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SLUICE = Path(os.environ.get("SLUICE_BIN") or REPO / "build" / "sluice")
OUT = REPO / "bench" / "out" / "cassandra"
ROWS = int(os.environ.get("BENCH_CASSANDRA_ROWS", "200000"))
KAFKA_PORT = int(os.environ.get("BENCH_KAFKA_PORT", "29092"))
CASSANDRA_PORT = int(os.environ.get("BENCH_CASSANDRA_PORT", "29042"))
CEILING_CONCURRENCY = 256
CEILING_BATCH = 32
AIM = 0.9   # issue 4: the pipeline at >= 90% of the ceiling

SEED_SELECT = ("SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name, "
               "gender, location.city AS city, location.postcode AS post_code, email, "
               "login.username AS username, registered.date AS registered_date, "
               "phone, picture.thumbnail AS picture FROM input")


def script_env():
    env = dict(os.environ)
    env.update({"KAFKA_PORT": str(KAFKA_PORT), "KAFKA_CONTROLLER_PORT": str(KAFKA_PORT + 1),
                "CASSANDRA_PORT": str(CASSANDRA_PORT), "CASSANDRA_STORAGE_PORT": str(CASSANDRA_PORT + 1),
                "CASSANDRA_JMX_PORT": str(CASSANDRA_PORT + 2)})
    return env


def server(name, command):
    result = subprocess.run(["bash", str(REPO / "tests" / "servers" / f"{name}.sh"), command], env=script_env(),
                            capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"{name}.sh {command} failed: {result.stdout} {result.stderr[-2000:]}")
    return result.stdout.strip()


def nodetool(*args):
    """Cassandra's nodetool (from the node's own jars) over the node's local JMX port; its stdout."""
    lib = REPO / ".cache" / "cassandra" / "lib"
    flags = [ln.strip() for ln in (REPO / "tests" / "servers" / "cassandra" / "jvm17-flags.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    node_dir = REPO / ".cache" / "cassandra" / str(CASSANDRA_PORT)
    result = subprocess.run(["java", *flags, "-cp", f"{lib}/*", f"-Dlogback.configurationFile={node_dir / 'logback.xml'}",
                             f"-Dcassandra.logdir={OUT}", f"-Duser.home={OUT}", "org.apache.cassandra.tools.NodeTool",
                             "-h", "127.0.0.1", "-p", str(CASSANDRA_PORT + 2), *args],
                            capture_output=True, text=True, timeout=300)
    return result.stdout


def settle():
    """Flushes every memtable and waits for compactions to end, so no run pays for the one before."""
    nodetool("flush")
    deadline = time.monotonic() + 120
    while re.search(r"pending tasks\s+[1-9]", nodetool("compactionstats")) and time.monotonic() < deadline:
        time.sleep(1)


def cassandra_pid():
    pid_file = REPO / ".cache" / "cassandra" / str(CASSANDRA_PORT) / "cassandra.pid"
    return int(pid_file.read_text().strip())


def kafka_pid():
    pid_file = REPO / ".cache" / "kafka" / str(KAFKA_PORT) / "kafka.pid"
    return int(pid_file.read_text().strip())


def process_cpu_s(pid):
    """utime + stime of pid in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(args, cwd=OUT):
    out_path, err_path = OUT / "last.out", OUT / "last.err"
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        start = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    return {"rc": os.waitstatus_to_exitcode(status), "out": out_path.read_text(errors="replace"),
            "err": err_path.read_text(errors="replace"), "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024.0}


def build_load_tool():
    binary = REPO / "build" / "cql_client_check"
    make = subprocess.run(["make", "-s", "build/libsluice.a"], cwd=REPO, capture_output=True, text=True)
    if make.returncode != 0:
        raise RuntimeError("make build/libsluice.a failed: " + make.stderr[-1000:])
    libs = subprocess.run(["pkg-config", "--libs", "yaml-0.1", "sqlite3", "rdkafka", "liblz4", "openssl"],
                          capture_output=True, text=True).stdout.split()
    cc = subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", "-Isrc", "-o", str(binary),
                         "tests/e2e/cql_client_check.c", "build/libsluice.a", *libs, "-lm", "-pthread"],
                        cwd=REPO, capture_output=True, text=True)
    if cc.returncode != 0:
        raise RuntimeError("building cql_client_check failed: " + cc.stderr[-1000:])
    return binary


def ceiling_load(load_tool, host, label):
    """One pure-insert load through the CQL client; prints it, returns its rows/s (None on failure)."""
    settle()
    before = process_cpu_s(cassandra_pid())
    m = measured([str(load_tool), "--host", host, "--user", "cassandra", "--password", "cassandra",
                  "load", str(ROWS), str(CEILING_CONCURRENCY), "--batch", str(CEILING_BATCH)])
    cassandra_cpu = process_cpu_s(cassandra_pid()) - before
    if m["rc"] != 0:
        print(f"    {label}: load FAILED: {m['err'][-800:]}")
        return None
    figures = json.loads(m["out"].strip().splitlines()[-1])
    print(f"    {label}: pure INSERT load, {CEILING_CONCURRENCY} requests in flight, unlogged batches of "
          f"{CEILING_BATCH}: {figures['rows_per_s']:>9,.0f} rows/s\n"
          f"        request latency p50 {figures['request_p50_ms']} ms, p99 {figures['request_p99_ms']} ms; "
          f"client CPU {m['cpu'] / ROWS * 1e6:.1f} us/row; Cassandra CPU {cassandra_cpu / ROWS * 1e6:.1f} us/row")
    return figures["rows_per_s"]


def file_pipeline(host):
    """The same users from a JSON-lines file (no Kafka broker sharing the cores) through the same SQL and
    sink settings: what the sink reaches when Cassandra has the machine to itself. Returns rows/s."""
    dump = sluice_config("dump", f"""\
pipelines:
  dump:
    source: {{ generator: {{ kind: users, count: {ROWS}, rate: 0, seed: 42, start: beginning }} }}
    sink:   {{ file: {{ path: users.jsonl }} }}
""")
    (OUT / "users.jsonl").unlink(missing_ok=True)   # the file sink appends
    if measured([str(SLUICE), "run", dump, "--quiet"])["rc"] != 0:
        print("    file -> Cassandra: could not write users.jsonl")
        return None
    store = sluice_config("store_file", f"""\
pipelines:
  store_file:
    source:    {{ file: {{ path: users.jsonl, start: beginning }} }}
    transform: {{ sql: "{SEED_SELECT}" }}
    sink:
      cassandra: {{ hosts: ["{host}"], username: cassandra, password: cassandra, keyspace: sluice_bench_file,
                   table: created_users, key: [id], create: true, columns: {{ id: uuid, post_code: text }},
                   concurrency: {CEILING_CONCURRENCY}, batch_rows: {CEILING_BATCH} }}
""")
    settle()
    before = process_cpu_s(cassandra_pid())
    m = measured([str(SLUICE), "run", store])
    cassandra_cpu = process_cpu_s(cassandra_pid()) - before
    if m["rc"] != 0:
        print(f"    file -> Cassandra FAILED (exit {m['rc']}): {m['err'][-800:]}")
        return None
    rate = ROWS / m["wall"]
    print(f"    sluice file -> SQL -> Cassandra (process): {rate:>9,.0f} rows/s   wall {m['wall']:.2f} s   sluice CPU "
          f"{m['cpu'] / ROWS * 1e6:5.1f} us/row   max RSS {m['rss_mib']:.0f} MiB   Cassandra CPU "
          f"{cassandra_cpu / ROWS * 1e6:6.1f} us/row")
    return rate


def sluice_config(name, text):
    (OUT / f"{name}.yaml").write_text(text)
    return f"{name}.yaml"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    load_tool = build_load_tool()
    print(server("kafka", "start"))
    print(server("cassandra", "start"))
    host = f"127.0.0.1:{CASSANDRA_PORT}"
    try:
        produce = sluice_config("produce", f"""\
pipelines:
  ingest_users:
    source: {{ generator: {{ kind: users, count: {ROWS}, rate: 0, seed: 42, start: beginning }} }}
    sink:   {{ kafka: {{ brokers: 127.0.0.1:{KAFKA_PORT}, topic: bench_users, partitions: 4, key: login.uuid }} }}
""")
        m = measured([str(SLUICE), "run", produce, "--quiet"])
        if m["rc"] != 0:
            raise RuntimeError(f"producing the users failed: {m['err'][-1000:]}")
        print(f"\nKafka -> Cassandra: {ROWS:,} seed users (produced to Kafka beforehand, untimed)")

        # A fresh JVM writes several times slower than a warm one: two untimed loads warm it, then the
        # ceiling is measured before and after the pipeline and the better of the two counts (the stricter).
        # Before each run the node flushes and finishes its compactions (settle), so no run pays for the
        # previous one's writes.
        ceiling_load(load_tool, host, "warm-up 1 (not counted)")
        ceiling_load(load_tool, host, "warm-up 2 (not counted)")
        ceilings = [ceiling_load(load_tool, host, "ceiling, before the pipeline")]
        store = sluice_config("store", f"""\
pipelines:
  store_users:
    source:    {{ kafka: {{ brokers: 127.0.0.1:{KAFKA_PORT}, topic: bench_users, group: bench_store }} }}
    transform: {{ sql: "{SEED_SELECT}" }}
    sink:
      cassandra:
        hosts: ["{host}"]
        username: cassandra
        password: cassandra
        keyspace: sluice_bench_pipeline
        table: created_users
        key: [id]
        create: true
        columns: {{ id: uuid, post_code: text }}
        concurrency: {CEILING_CONCURRENCY}
        batch_rows: {CEILING_BATCH}
""")
        settle()
        before, kafka_before = process_cpu_s(cassandra_pid()), process_cpu_s(kafka_pid())
        m = measured([str(SLUICE), "run", store])
        cassandra_cpu = process_cpu_s(cassandra_pid()) - before
        kafka_cpu = process_cpu_s(kafka_pid()) - kafka_before
        rate = None
        if m["rc"] != 0:
            print(f"    sluice pipeline FAILED (exit {m['rc']}): {m['err'][-800:]}")
        else:
            rate = ROWS / m["wall"]
            summary = re.search(r"^store_users\s+(\d+)\s+(\d+)\s+\d+\s+\d+\s+([\d.]+)s?\s+([\d.]+)", m["err"], re.M)
            print(f"    sluice Kafka -> SQL -> Cassandra (process): {rate:>9,.0f} rows/s   wall {m['wall']:.2f} s   "
                  f"sluice CPU {m['cpu'] / ROWS * 1e6:5.1f} us/row   max RSS {m['rss_mib']:.0f} MiB   "
                  f"Cassandra CPU {cassandra_cpu / ROWS * 1e6:6.1f} us/row   Kafka broker CPU "
                  f"{kafka_cpu / ROWS * 1e6:5.1f} us/row"
                  + (f"\n        summary: in {summary.group(1)}, out {summary.group(2)}, {summary.group(4)} rows/s "
                     f"over the pipeline's own {summary.group(3)} s" if summary else "")
                  + "\n" + "\n".join("        " + ln for ln in m["err"].strip().splitlines()[-4:]))
        file_rate = file_pipeline(host)
        ceilings.append(ceiling_load(load_tool, host, "ceiling, after the pipeline"))
        ceiling = max((c for c in ceilings if c), default=None)
        if rate and ceiling:
            ratio = rate / ceiling
            print(f"    ceiling (best of the two): {ceiling:,.0f} rows/s")
            if file_rate:
                print(f"    ratio file -> Cassandra / ceiling: {file_rate / ceiling:.2f}x (the sink without Kafka on "
                      f"the same 2 cores)")
            print(f"    ratio pipeline/ceiling: {ratio:.2f}x (aim >= {AIM:.2f}x: {'met' if ratio >= AIM else 'NOT met'})")
        return {"rate": rate, "ceiling": ceiling}
    finally:
        print(server("cassandra", "stop"))
        print(server("kafka", "stop"))


if __name__ == "__main__":
    main()
    sys.exit(0)
