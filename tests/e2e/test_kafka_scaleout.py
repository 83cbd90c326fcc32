"""test_kafka_scaleout.py — Scale-out of a kafka source (issue 3): three
`sluice run` processes of one config share a consumer group on a real
broker (tests/servers/kafka.sh) and upsert into ONE SQLite database.

A 6-partition topic holds 300,000 small JSON records {"id": "k<i>", "n": <i>}
keyed k<i> (produced with confluent_kafka, an independent client). Three
processes run the same pipeline (kafka source, group scale_group ->
SELECT id, n -> sqlite upsert on id, busy_timeout 30s), each with its own
data_dir (the embedded log locks it) and the same absolute SQLite path.
Once about half of the records are stored, one process is killed with
SIGKILL: the group gives its partitions to the two others (after the
session timeout, shortened to 6 s in `properties:`), which re-read from the
last committed offsets (at-least-once; the upsert keeps one row per id).
When all 300,000 ids are stored, the survivors get SIGTERM and must exit 0
(drain, commit). Then: one row per id, every n equal to its id's number,
and the group's committed offsets equal to the topic's end offsets.
"""
import signal
import sqlite3
import time
import uuid

import pytest

import kafka_server
from e2e_util import finish, parse_summary
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

RECORDS = 300000
PARTITIONS = 6
MEMBERS = 3
GROUP = "scale_group"
KILL_AT = RECORDS // 2
STORE_TIMEOUT = 180


@pytest.fixture
def broker(kafka_broker):  # noqa: F811
    return kafka_broker


def produce_records(broker, topic, count):
    """Produces count records k0..k<count-1> (key = id) as fast as librdkafka batches them."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 50, "batch.num.messages": 10000, "compression.type": "lz4",
                         "queue.buffering.max.messages": 1000000})
    errors = []

    def delivered(err, msg):
        if err is not None and len(errors) < 10:
            errors.append(str(err))

    for i in range(count):
        key = f"k{i}"
        value = f'{{"id": "{key}", "n": {i}}}'
        while True:
            try:
                producer.produce(topic, key=key, value=value, on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10000 == 0:
            producer.poll(0)
    left = producer.flush(120)
    assert left == 0, f"{left} records to {topic} still undelivered after 120s"
    assert not errors, errors


def stored_ids(db_path):
    """Distinct ids in table t now (0 while the file or table does not exist or is locked)."""
    if not db_path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute("SELECT count(DISTINCT id) FROM t").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def wait_for(db_path, want, timeout, procs, interval=0.5):
    """Polls until table t holds want distinct ids; fails if a process in procs exits meanwhile."""
    deadline = time.monotonic() + timeout
    have = 0
    while time.monotonic() < deadline:
        have = stored_ids(db_path)
        if have >= want:
            return have
        check_running(procs, f"waiting for {want} ids ({have} stored)")
        time.sleep(interval)
    raise AssertionError(f"table t holds {have} distinct ids after {timeout}s, expected {want}")


def check_running(procs, doing):
    for name, proc in procs.items():
        if proc.poll() is not None:
            rc, out, err = finish(proc, timeout=10)
            raise AssertionError(f"{name} exited ({rc}) while {doing}\n"
                                 f"--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-4000:]}")


def wait_for_commits(broker, topic, ends, timeout, procs):
    """Polls the group's committed offsets until they equal ends; returns them."""
    deadline = time.monotonic() + timeout
    committed = {}
    while time.monotonic() < deadline:
        committed = kafka_server.committed_offsets(broker, GROUP, topic)
        if committed == ends:
            return committed
        check_running(procs, f"waiting for commits at {ends} (now {committed})")
        time.sleep(0.5)
    raise AssertionError(f"group {GROUP} committed {committed} after {timeout}s, topic ends {ends}")


def config(brokers, topic, data_dir, db_path):
    return f"""\
data_dir: {data_dir}
pipelines:
  scale_store:
    source:
      kafka:
        brokers: {brokers}
        topic: {topic}
        group: {GROUP}
        properties: {{ session.timeout.ms: "6000", heartbeat.interval.ms: "1000" }}
    transform: {{ sql: "SELECT id, n FROM input" }}
    sink: {{ sqlite: {{ path: {db_path}, table: t, key: [id], busy_timeout: 30s }} }}
"""


def test_three_processes_share_the_group_survive_a_kill_and_store_every_record_once(sluice, workdir, broker):
    started = time.monotonic()
    topic = f"scale_{uuid.uuid4().hex[:10]}"
    kafka_server.create_topic(broker, topic, PARTITIONS)
    produce_records(broker, topic, RECORDS)
    ends = kafka_server.end_offsets(broker, topic)
    assert sum(ends.values()) == RECORDS, f"end offsets {ends}"
    produced = time.monotonic()

    db = workdir / "shared" / "scale.db"
    db.parent.mkdir()
    procs = {}
    for m in range(MEMBERS):
        name = f"store{m}.yaml"
        (workdir / name).write_text(config(broker.bootstrap, topic, f"data{m}", db))
        procs[name] = sluice.popen("run", name, "--follow", "--for", "240s")

    outputs = {}
    try:
        wait_for(db, KILL_AT, STORE_TIMEOUT, procs, interval=0.05)
        victim = "store1.yaml"
        procs[victim].send_signal(signal.SIGKILL)
        rc, _, victim_err = finish(procs.pop(victim), timeout=30)
        assert rc == -signal.SIGKILL, f"{victim} exited {rc} instead of being killed\n{victim_err[-4000:]}"
        killed_at = stored_ids(db)
        at_kill = kafka_server.committed_offsets(broker, GROUP, topic)
        uncommitted = sum(end - max(at_kill[p], 0) for p, end in ends.items())

        wait_for(db, RECORDS, STORE_TIMEOUT, procs)
        stored = time.monotonic()
        # The killed member's partitions move to the survivors once its session times out
        # (6 s); they re-read them from its last commit and commit up to the ends.
        wait_for_commits(broker, topic, ends, 60, procs)
        committed_at = time.monotonic()
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for name, proc in procs.items():
            outputs[name] = finish(proc, timeout=60)
    finally:
        for name, proc in procs.items():
            if proc.poll() is None:  # the test failed: show what the process said
                proc.kill()
                out, err = proc.communicate()
                print(f"===== {name} (killed after a failure)\n{out.decode(errors='replace')[-3000:]}\n"
                      f"{err.decode(errors='replace')[-6000:]}")
    read = 0
    for name, (rc, out, err) in outputs.items():
        assert rc == 0, f"{name}: exit {rc}\n--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-4000:]}"
        row = parse_summary(err).get("scale_store")
        assert row is not None and row["dlq"] == 0, f"{name}:\n{err[-4000:]}"
        read += row["in"]
    # Every record past the killed member's last commits was read again by a survivor.
    assert read >= uncommitted, (f"the survivors read {read} records; {uncommitted} were not committed "
                                 f"when {victim} was killed (commits {at_kill})")

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        total, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM t").fetchone()
        assert total == RECORDS and distinct == RECORDS, f"t has {total} rows, {distinct} distinct ids"
        wrong = con.execute("SELECT id, n FROM t WHERE id <> 'k' || CAST(n AS TEXT) LIMIT 5").fetchall()
        assert not wrong, f"rows whose n does not match the id: {wrong}"
        lo, hi = con.execute("SELECT min(n), max(n) FROM t").fetchone()
        assert (lo, hi) == (0, RECORDS - 1)
    finally:
        con.close()

    committed = kafka_server.committed_offsets(broker, GROUP, topic)
    assert committed == ends, f"group {GROUP} committed {committed}, topic ends {ends}"
    print(f"produce {produced - started:.1f}s, all ids stored after {stored - produced:.1f}s "
          f"(killed at {killed_at} ids, {uncommitted} uncommitted), commits at the ends after "
          f"{committed_at - produced:.1f}s, survivors read {read}; total {time.monotonic() - started:.1f}s")
