"""test_kafka.py — the kafka connector against a real Apache Kafka broker
(tests/servers/kafka.sh), checked with an independent client
(confluent_kafka) and the broker's own files.

- The seed flow on Kafka: ingest_users (generator, 20,000 users, seed 42 ->
  kafka sink keyed by login.uuid) onto a 4-partition topic; the topic holds
  exactly the generator's users, each keyed by its uuid and in the partition
  Kafka's Java producer would pick (murmur2); store_users (kafka source ->
  the seed SQL -> SQLite) stores one row per user, equal to what the seed's
  SQL makes of the JSON read back from Kafka, and commits its group offsets
  at the topic's end, so a second run reads nothing new.
- Bad input: a non-JSON message and a 2 MiB one among good messages go to
  the pipeline's embedded dead-letter topic with their stage, reason and
  Kafka position; the good ones are stored.
- The sink's compression setting reaches the broker's stored batches.

A Kafka source does not end by itself: the store pipelines run in the
background and are stopped with SIGTERM (drain, commit, exit 0) once the
table holds what it should, or run to their end when the connector stops at
the topic's end by itself.
"""
import json
import signal
import sqlite3
import time
import uuid

import pytest

import kafka_batch
import kafka_server
from e2e_util import (Sluice, check_users_table, dump_users_config, expected_rows_by_id, finish, load_jsonl,
                      parse_summary)
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

USERS = 20000
PARTITIONS = 4

SEED_SQL = """\
        SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name,
               gender, location.city AS city, location.postcode AS post_code, email,
               login.username AS username, registered.date AS registered_date,
               phone, picture.thumbnail AS picture
        FROM input
"""


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def kafka_connector(sluice_bin, tmp_path_factory):
    """Fails at once, with a clear message, when build/sluice has no kafka connector."""
    work = tmp_path_factory.mktemp("kafka_validate")
    (work / "k.yaml").write_text(
        "pipelines:\n"
        "  probe:\n"
        "    source: { kafka: { brokers: 127.0.0.1:9, topic: t, group: g } }\n"
        "    sink:   { kafka: { brokers: 127.0.0.1:9, topic: u, key: id } }\n")
    result = Sluice(sluice_bin, work).run("validate", "k.yaml", timeout=30)
    if result.returncode != 0:
        pytest.fail(f"{sluice_bin} does not accept kafka source/sink settings (no kafka connector yet?)\n"
                    + result.describe(), pytrace=False)


@pytest.fixture
def broker(kafka_connector, kafka_broker):  # noqa: F811
    return kafka_broker


def seed_config(brokers, topic, count=USERS, compression=None, acks=None):
    sink_extra = ""
    if compression:
        sink_extra += f", compression: {compression}"
    if acks:
        sink_extra += f", acks: '{acks}'"
    return f"""\
pipelines:
  ingest_users:
    source: {{ generator: {{ kind: users, count: {count}, rate: 0, seed: 42 }} }}
    sink:   {{ kafka: {{ brokers: {brokers}, topic: {topic}, key: login.uuid{sink_extra} }} }}
  store_users:
    source: {{ kafka: {{ brokers: {brokers}, topic: {topic}, group: store_users }} }}
    transform:
      sql: |
{SEED_SQL}
    sink:   {{ sqlite: {{ path: data/users.db, table: created_users, key: [id] }} }}
"""


def table_count(db_path, table):
    """Rows in table now (0 while the file or table does not exist or is locked)."""
    if not db_path.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def run_pipeline(sluice, config, pipeline, timeout=240):
    """Runs one pipeline of config until it ends by itself: a bounded run ends once it has
    verified that its group consumed the topic (--for only bounds a broken run, which then
    exits 1). Returns (returncode, stdout, stderr)."""
    result = sluice.run("run", config, "--pipeline", pipeline, "--for", f"{timeout}s", timeout=timeout + 60)
    return result.returncode, result.stdout, result.stderr


def describe(rc, out, err):
    return f"exit {rc}\n--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-4000:]}"


@pytest.fixture(scope="module")
def generated_users(sluice_bin, tmp_path_factory):
    """The generator's 20,000 users (seed 42) as sluice's file sink writes them: {uuid: user}."""
    work = tmp_path_factory.mktemp("kafka_users")
    (work / "dump.yaml").write_text(dump_users_config("users.jsonl", count=USERS))
    result = Sluice(sluice_bin, work).run("run", "dump.yaml", "--quiet", timeout=120)
    assert result.returncode == 0, result.describe()
    users = load_jsonl(work / "users.jsonl")
    assert len(users) == USERS
    return {u["login"]["uuid"]: u for u in users}


# ---- the seed flow ---------------------------------------------------------------------------

def test_seed_flow_through_kafka_keys_partitions_and_stores_every_user(sluice, workdir, broker, generated_users):
    topic = unique("user_data")
    kafka_server.create_topic(broker, topic, PARTITIONS)
    (workdir / "users.yaml").write_text(seed_config(broker.bootstrap, topic))

    # 1. ingest: the generator ends, so the run ends.
    ingest = sluice.run("run", "users.yaml", "--pipeline", "ingest_users", timeout=180)
    assert ingest.returncode == 0, ingest.describe()
    summary = parse_summary(ingest.stderr)
    assert summary.get("ingest_users", {}).get("out") == USERS, ingest.describe()
    assert summary["ingest_users"]["dlq"] == 0, ingest.describe()

    # 2. the topic, read back with librdkafka: every user once, keyed and partitioned like Kafka's Java producer.
    messages = kafka_server.read_all(broker, topic)
    assert len(messages) == USERS, f"{topic} holds {len(messages)} messages, expected {USERS}"
    per_partition = [0] * PARTITIONS
    wrong_partition = []
    values = {}
    for m in messages:
        value = json.loads(m.value)
        key = m.key.decode("utf-8") if m.key is not None else None
        assert key == value["login"]["uuid"], f"partition {m.partition} offset {m.offset}: key {key!r} " \
                                              f"is not the value's login.uuid {value['login']['uuid']!r}"
        want = kafka_batch.partition_for_key(m.key, PARTITIONS)
        if m.partition != want and len(wrong_partition) < 5:
            wrong_partition.append(f"key {key}: partition {m.partition}, murmur2 says {want}")
        per_partition[m.partition] += 1
        assert key not in values, f"uuid {key} is in the topic twice"
        values[key] = value
    assert not wrong_partition, "keys not where Kafka's murmur2 partitioner puts them:\n" + "\n".join(wrong_partition)
    assert all(n > 0 for n in per_partition), f"messages per partition {per_partition}"
    assert values.keys() == generated_users.keys(), "the topic's uuids differ from the generator's"
    differ = [k for k in values if values[k] != generated_users[k]]
    assert not differ, f"{len(differ)} values differ from the generator's users, e.g. {values[differ[0]]!r} " \
                       f"vs {generated_users[differ[0]]!r}"

    # 3. store: Kafka -> the seed SQL -> SQLite, rows equal to what the SQL makes of Kafka's JSON.
    db = workdir / "data" / "users.db"
    rc, out, err = run_pipeline(sluice, "users.yaml", "store_users")
    assert rc == 0, describe(rc, out, err)
    store = parse_summary(err).get("store_users")
    assert store is not None, describe(rc, out, err)
    assert store["in"] == USERS and store["out"] == USERS and store["dlq"] == 0, describe(rc, out, err)
    check_users_table(db, expected_rows_by_id(list(values.values())), USERS)

    # 4. the group's offsets are committed at the topic's end: a second run reads nothing new.
    ends = kafka_server.end_offsets(broker, topic)
    assert kafka_server.committed_offsets(broker, "store_users", topic) == ends
    rc, out, err = run_pipeline(sluice, "users.yaml", "store_users")
    assert rc == 0, describe(rc, out, err)
    assert parse_summary(err)["store_users"]["in"] == 0, describe(rc, out, err)
    check_users_table(db, expected_rows_by_id(list(values.values())), USERS)


# ---- bad input --------------------------------------------------------------------------------

BIG = json.dumps({"email": "big@example.com", "age": "1", "pad": "x" * (2 * 1024 * 1024)})
INPUT = [  # (value, expected dead-letter stage(s) or None when good, what the reason must mention)
    ('{"email":"Ann@Example.com","age":"30"}', None, None),
    ("this is not json", ("parse",), "json"),
    ('{"email":"Bob@Example.com","age":41}', None, None),
    (BIG, ("source", "parse"), "max_record_bytes"),
    ('{"email":"Cy@example.com","age":"7"}', None, None),
]
GOOD_ROWS = [("ann@example.com", 30), ("bob@example.com", 41), ("cy@example.com", 7)]


def test_malformed_and_oversized_messages_go_to_the_dlq_with_their_kafka_position(sluice, workdir, broker):
    pipeline = "store_events"
    topic = unique("events")
    kafka_server.create_topic(broker, topic, 1, config={"max.message.bytes": str(4 << 20)})
    positions = kafka_server.produce(broker, topic, [(f"k{i}".encode(), v.encode(), 0) for i, (v, _, _) in
                                                     enumerate(INPUT)], config={"message.max.bytes": 8 << 20})
    bad = {positions[i]: entry for i, entry in enumerate(INPUT) if entry[1]}
    (workdir / "events.yaml").write_text(f"""\
pipelines:
  {pipeline}:
    source:    {{ kafka: {{ brokers: {broker.bootstrap}, topic: {topic}, group: {pipeline} }} }}
    transform: {{ sql: "SELECT lower(email) AS email, CAST(age AS INT) AS age FROM input" }}
    sink:      {{ sqlite: {{ path: data/events.db, table: events, key: [email] }} }}
""")
    db = workdir / "data" / "events.db"
    rc, out, err = run_pipeline(sluice, "events.yaml", pipeline)
    assert rc == 0, describe(rc, out, err)
    row = parse_summary(err).get(pipeline)
    assert row is not None, describe(rc, out, err)
    assert row["out"] == len(GOOD_ROWS) and row["dlq"] == len(bad), describe(rc, out, err)

    con = sqlite3.connect(db)
    assert sorted(con.execute("SELECT email, age FROM events")) == GOOD_ROWS
    con.close()

    letters = [r for records in kafka_batch.read_topic(str(workdir / "data"), f"{pipeline}.dlq").values()
               for r in records]
    assert len(letters) == len(bad), [r.header("sluice.error") for r in letters]
    seen = set()
    for r in letters:
        position = (int(r.header("sluice.source.partition")), int(r.header("sluice.source.offset")))
        assert position in bad, f"dead letter at Kafka position {position}: no bad message there ({sorted(bad)})"
        value, stages, mention = bad[position]
        assert r.header("sluice.stage") in stages, f"{position}: stage {r.header('sluice.stage')!r}, expected {stages}"
        reason = r.header("sluice.error") or ""
        assert mention in reason.lower(), f"{position}: reason {reason!r} does not mention {mention!r}"
        assert r.header("sluice.pipeline") == pipeline
        assert r.header("sluice.source.topic") == topic
        if r.header("sluice.stage") == "parse" and value != BIG:
            assert r.value == value.encode(), f"{position}: dead letter holds {r.value[:80]!r}, not the message"
        seen.add(position)
    assert seen == set(bad)


# ---- sink settings ------------------------------------------------------------------------------

@pytest.mark.parametrize("compression, acks, codec", [("lz4", "1", 3), ("zstd", "all", 4)])
def test_sink_compression_reaches_the_brokers_batches(sluice, workdir, broker, compression, acks, codec):
    topic = unique(f"users_{compression}")
    kafka_server.create_topic(broker, topic, 2)
    (workdir / "users.yaml").write_text(seed_config(broker.bootstrap, topic, count=2000,
                                                    compression=compression, acks=acks))
    result = sluice.run("run", "users.yaml", "--pipeline", "ingest_users", timeout=120)
    assert result.returncode == 0, result.describe()
    messages = kafka_server.read_all(broker, topic)
    assert len(messages) == 2000
    assert all(json.loads(m.value)["login"]["uuid"] == m.key.decode() for m in messages)
    codecs = kafka_server.broker_batch_codecs(broker, topic)
    assert codecs and set(codecs) == {codec}, f"batch codecs on the broker {sorted(set(codecs))}, expected {codec}"


# ---- source settings ------------------------------------------------------------------------------

def items_config(brokers, source_block, pipeline="store_items"):
    return f"""\
pipelines:
  {pipeline}:
    source: {{ kafka: {{ brokers: {brokers}, {source_block} }} }}
    sink:   {{ sqlite: {{ path: data/items.db, table: items, key: [id] }} }}
"""


def stored_items(db):
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute("SELECT id, src FROM items"))
    finally:
        con.close()


def test_source_reads_every_topic_of_a_topics_list(sluice, workdir, broker):
    a, b = unique("items_a"), unique("items_b")
    kafka_server.create_topic(broker, a, 2)
    kafka_server.create_topic(broker, b, 1)
    kafka_server.produce(broker, a, [(None, json.dumps({"id": i, "src": "a"}).encode(), i % 2) for i in range(300)])
    kafka_server.produce(broker, b, [(None, json.dumps({"id": 1000 + i, "src": "b"}).encode(), 0)
                                     for i in range(200)])
    (workdir / "items.yaml").write_text(items_config(broker.bootstrap, f"topics: [{a}, {b}], group: items"))
    db = workdir / "data" / "items.db"
    rc, out, err = run_pipeline(sluice, "items.yaml", "store_items")
    assert rc == 0, describe(rc, out, err)
    assert parse_summary(err)["store_items"]["in"] == 500, describe(rc, out, err)
    assert stored_items(db) == [(i, "a") for i in range(300)] + [(1000 + i, "b") for i in range(200)]
    assert kafka_server.committed_offsets(broker, "items", a) == kafka_server.end_offsets(broker, a)
    assert kafka_server.committed_offsets(broker, "items", b) == kafka_server.end_offsets(broker, b)


def test_start_latest_skips_what_the_topic_held_before_the_group_existed(sluice, workdir, broker):
    topic = unique("items_latest")
    kafka_server.create_topic(broker, topic, 1)
    kafka_server.produce(broker, topic, [(None, json.dumps({"id": i, "src": "old"}).encode(), 0) for i in range(100)])
    (workdir / "items.yaml").write_text(
        items_config(broker.bootstrap, f"topic: {topic}, group: {unique('latest')}, start: latest"))
    db = workdir / "data" / "items.db"
    proc = sluice.popen("run", "items.yaml", "--follow", "--for", "90s")
    try:
        # The consumer's start position is taken when it joins, some time after it starts: keep
        # producing new records until some of them are stored.
        next_id = 1000
        deadline = time.monotonic() + 60
        while table_count(db, "items") == 0:
            assert proc.poll() is None, "sluice exited before storing anything"
            assert time.monotonic() < deadline, "no record produced after the start was stored within 60s"
            kafka_server.produce(broker, topic, [(None, json.dumps({"id": next_id, "src": "new"}).encode(), 0)])
            next_id += 1
            time.sleep(0.3)
        # Everything after the first stored record follows.
        first = stored_items(db)[0][0]
        while table_count(db, "items") < next_id - first and time.monotonic() < deadline + 15:
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    rc, out, err = finish(proc, timeout=60)
    assert rc == 0, describe(rc, out, err)
    rows = stored_items(db)
    assert rows and all(src == "new" for _, src in rows), f"start: latest stored old records: {rows[:5]}"
    ids = [i for i, _ in rows]
    assert ids == list(range(ids[0], next_id)), f"new records missing after the first stored one: {ids}"
