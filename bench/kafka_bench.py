"""kafka_bench.py — sluice's kafka sink and kafka source beside Kafka's own
performance tools, on one broker, with the same records, in the same run.

  sink:   sluice `file (JSON lines) -> kafka` vs org.apache.kafka.tools.ProducerPerformance
          both: acks=all, idempotent, no compression, linger.ms=5, batch.size=1000000 (librdkafka's
          defaults, given to the Java producer too), no key, into a 4-partition topic.
          The Java tool's payloads are the same JSON lines (--payload-file), so records have the
          same sizes.
  source: sluice `kafka -> file /dev/null (no fsync)` (a bounded run: it ends once caught up)
          vs org.apache.kafka.tools.ConsumerPerformance; both read the topic sluice wrote, each
          in a group of its own, from the earliest offset.

The broker is tests/servers/kafka.sh on its own port (BENCH_KAFKA_PORT,
default 29092), started here and stopped at the end. Each process is timed
around itself (wall clock) with its CPU time and max RSS from wait4(), so the
JVM's start-up counts against the Java tools as sluice's counts against
sluice; the tools' own in-process rates are printed too.
Prints figures and ratios; asserts nothing. Called by bench/bench.py, or alone:
  python3 bench/kafka_bench.py           (BENCH_KAFKA_RECORDS, default 200000)
"""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SLUICE = Path(os.environ.get("SLUICE_BIN") or REPO / "build" / "sluice")
OUT = REPO / "bench" / "out" / "kafka"
KAFKA_SH = REPO / "tests" / "servers" / "kafka.sh"
KAFKA_LIB = REPO / ".cache" / "kafka" / "lib"
RECORDS = int(os.environ.get("BENCH_KAFKA_RECORDS", "200000"))
PORT = int(os.environ.get("BENCH_KAFKA_PORT", "29092"))
PARTITIONS = 4
PRODUCER_PROPS = {"acks": "all", "enable.idempotence": "true", "compression.type": "none",
                  "linger.ms": "5", "batch.size": "1000000"}
# Aims (issue 3): the sink within 80% of the Java producer, the source at least equal to the Java consumer.
AIM_SINK = 0.8
AIM_SOURCE = 1.0


def broker_env():
    env = dict(os.environ)
    env["KAFKA_PORT"] = str(PORT)
    env["KAFKA_CONTROLLER_PORT"] = str(PORT + 1)
    return env


def kafka_sh(command):
    result = subprocess.run(["bash", str(KAFKA_SH), command], env=broker_env(), capture_output=True, text=True,
                            timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"kafka.sh {command} failed: {result.stdout} {result.stderr[-2000:]}")
    return result.stdout.strip()


def measured(args, cwd=OUT, stdout_path=None):
    """Runs args; returns dict rc, out, err, wall, cpu, rss_mib (wait4)."""
    out_path = stdout_path or OUT / "last.out"
    err_path = OUT / "last.err"
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        start = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out_f, stderr=err_f)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
    return {"rc": os.waitstatus_to_exitcode(status), "out": Path(out_path).read_text(errors="replace"),
            "err": err_path.read_text(errors="replace"), "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024.0}


def java(main_class, *args):
    return measured(["java", "-Xms512m", "-Xmx512m", "-cp", f"{KAFKA_LIB}/*",
                     "-Dlog4j2.configurationFile=" + str(OUT / "log4j2.properties"), main_class, *args])


def write_log4j():
    (OUT / "log4j2.properties").write_text("status = error\nrootLogger.level = error\n"
                                           "appender.err.type = Console\nappender.err.name = err\n"
                                           "appender.err.target = SYSTEM_ERR\n"
                                           "appender.err.layout.type = PatternLayout\n"
                                           "appender.err.layout.pattern = %p %m%n\n"
                                           "rootLogger.appenderRef.err.ref = err\n")


def create_topic(name):
    m = java("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", f"127.0.0.1:{PORT}", "--create",
             "--topic", name, "--partitions", str(PARTITIONS), "--replication-factor", "1")
    if m["rc"] != 0:
        raise RuntimeError(f"creating topic {name}: {m['out']} {m['err'][-1000:]}")


def dump_users(path):
    path.unlink(missing_ok=True)   # the file sink appends
    (OUT / "dump.yaml").write_text(f"""\
pipelines:
  dump:
    source: {{ generator: {{ kind: users, count: {RECORDS}, rate: 0, seed: 42, start: beginning }} }}
    sink:   {{ file: {{ path: {path} }} }}
""")
    m = measured([str(SLUICE), "run", "dump.yaml", "--quiet"])
    if m["rc"] != 0:
        raise RuntimeError(f"sluice could not write {path}: {m['err'][-1000:]}")


def sluice_run(name, config):
    (OUT / f"{name}.yaml").write_text(config)
    return measured([str(SLUICE), "run", f"{name}.yaml"])


def per_s(n, seconds):
    return n / seconds if seconds > 0 else None


def line(label, records, m, extra=""):
    rate = per_s(records, m["wall"])
    print(f"    {label:<44} {rate:>10,.0f} rec/s   wall {m['wall']:6.2f} s   CPU {m['cpu']:6.2f} s "
          f"({m['cpu'] / records * 1e6:5.1f} us/rec)   max RSS {m['rss_mib']:5.0f} MiB{extra}")
    return rate


def ratio_line(what, sluice_rate, java_rate, aim):
    if not sluice_rate or not java_rate:
        print(f"    ratio {what}: n/a")
        return None
    r = sluice_rate / java_rate
    print(f"    ratio sluice/Java {what}: {r:.2f}x (aim >= {aim:.2f}x: {'met' if r >= aim else 'NOT met'})")
    return r


def bench_sink(users_path, mean_bytes):
    print(f"\nkafka sink: {RECORDS:,} JSON users (~{mean_bytes:.0f} B each) into a {PARTITIONS}-partition topic, "
          + ", ".join(f"{k}={v}" for k, v in PRODUCER_PROPS.items()))
    create_topic("bench_java")
    m = java("org.apache.kafka.tools.ProducerPerformance", "--topic", "bench_java", "--num-records", str(RECORDS),
             "--throughput", "-1", "--payload-file", str(users_path), "--payload-delimiter", "\n",
             "--producer-props", f"bootstrap.servers=127.0.0.1:{PORT}",
             *[f"{k}={v}" for k, v in PRODUCER_PROPS.items()])
    if m["rc"] != 0:
        print(f"    ProducerPerformance FAILED: {m['err'][-800:]}")
        java_rate = tool_rate = None
    else:
        summary = [ln for ln in m["out"].splitlines() if "records sent" in ln][-1:]
        tool = re.search(r"([\d.]+) records/sec", summary[0]) if summary else None
        tool_rate = float(tool.group(1)) if tool else None
        java_rate = line("Java ProducerPerformance (process)", RECORDS, m)
        if summary:
            print(f"        the tool's own line (timed inside the JVM): {summary[0].strip()}")
    m = sluice_run("sink", f"""\
pipelines:
  kafka_sink:
    source: {{ file: {{ path: {users_path}, start: beginning }} }}
    sink:
      kafka:
        brokers: 127.0.0.1:{PORT}
        topic: bench_sluice
        partitions: {PARTITIONS}
        acks: all
        compression: none
        linger: 5ms
""")
    if m["rc"] != 0:
        print(f"    sluice sink FAILED (exit {m['rc']}): {m['err'][-800:]}")
        return java_rate, tool_rate, None
    sluice_rate = line("sluice file -> kafka (process)", RECORDS, m)
    return java_rate, tool_rate, sluice_rate


def bench_source():
    print(f"\nkafka source: the {RECORDS:,} records sluice wrote, read from the earliest offset by a new group")
    m = java("org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", f"127.0.0.1:{PORT}",
             "--topic", "bench_sluice", "--messages", str(RECORDS), "--group", "bench_java_group",
             "--timeout", "60000")
    java_rate = tool_rate = None
    if m["rc"] != 0:
        print(f"    ConsumerPerformance FAILED: {m['err'][-800:]}")
    else:
        rows = [ln for ln in m["out"].splitlines() if ln and ln[0].isdigit()]
        fields = rows[-1].split(", ") if rows else []
        java_rate = line("Java ConsumerPerformance (process)", RECORDS, m)
        if len(fields) >= 10:
            tool_rate = float(fields[5])
            print(f"        tool says {float(fields[5]):,.0f} rec/s from its start, {float(fields[9]):,.0f} rec/s "
                  f"fetching (rebalance {fields[6]} ms, {fields[4]} messages)")
    m = sluice_run("source", f"""\
pipelines:
  kafka_source:
    source: {{ kafka: {{ brokers: 127.0.0.1:{PORT}, topic: bench_sluice, group: bench_sluice_group }} }}
    sink:   {{ file: {{ path: /dev/null, fsync: false }} }}
""")
    if m["rc"] != 0:
        print(f"    sluice source FAILED (exit {m['rc']}): {m['err'][-800:]}")
        return java_rate, tool_rate, None
    counted = re.search(r"^kafka_source\s+(\d+)", m["err"], re.M)
    extra = f"   (summary: in {counted.group(1)})" if counted else ""
    sluice_rate = line("sluice kafka -> /dev/null (process)", RECORDS, m, extra)
    return java_rate, tool_rate, sluice_rate


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write_log4j()
    users = OUT / "users.jsonl"
    dump_users(users)
    mean_bytes = users.stat().st_size / RECORDS
    print(kafka_sh("start"))
    try:
        java_sink, tool_sink, sluice_sink = bench_sink(users, mean_bytes)
        java_source, tool_source, sluice_source = bench_source()
    finally:
        print(kafka_sh("stop"))
    print("\nkafka summary: sluice's process (start-up included) against the Java tool's process, and against")
    print("the rate the tool reports from inside the JVM (start-up excluded: the stricter comparison)")
    sink_ratio = ratio_line("sink (process)", sluice_sink, java_sink, AIM_SINK)
    ratio_line("sink (tool's own rate)", sluice_sink, tool_sink, AIM_SINK)
    source_ratio = ratio_line("source (process)", sluice_source, java_source, AIM_SOURCE)
    ratio_line("source (tool's own rate)", sluice_source, tool_source, AIM_SOURCE)
    return {"sink": (sluice_sink, java_sink, sink_ratio), "source": (sluice_source, java_source, source_ratio)}


if __name__ == "__main__":
    main()
    sys.exit(0)
