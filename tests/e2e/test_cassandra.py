"""test_cassandra.py — the cassandra sink against a real Cassandra (and Kafka)
(issue 4), every result read back with the Python cassandra-driver, an
independent client.

- the seed pipeline exactly (examples/users-cassandra.yaml: generator → Kafka
  → the seed's SQL → spark_streams.created_users): 100,000 rows, each equal
  field by field to what the seed's SQL makes of the generator's user;
- bad values: a non-uuid id and a string where an int is declared are
  rejected by sluice's converter, an empty partition key by Cassandra itself
  (the batch holding it is split and only that row is refused); each goes to
  the dead-letter topic with the reason, the good rows are stored;
- Cassandra stopped for 20 s mid-stream and started again: nothing lost,
  nothing doubled, memory bounded while waiting;
- three sluice processes in one Kafka group writing to Cassandra, one killed
  with kill -9: the table holds exactly the produced set of ids.
"""
import json
import re
import signal
import time
import uuid

import pytest

import kafka_batch
import kafka_server
from cassandra_server import cassandra_node, session  # noqa: F401  (the session fixture)
from e2e_util import REPO, Sluice, dump_users_config, expected_rows_by_id, finish, load_jsonl, parse_summary, rss_mb
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

USERS = 100000
EXAMPLE = REPO / "examples" / "users-cassandra.yaml"
COLUMNS = ["id", "first_name", "last_name", "gender", "city", "post_code", "email", "username",
           "registered_date", "phone", "picture"]


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def describe(rc, out, err):
    return f"exit {rc}\n--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-4000:]}"


def node_env(node, broker=None):
    env = {"CASSANDRA_HOST": node.host, "CASSANDRA_PORT": str(node.port), "CASSANDRA_USER": node.username,
           "CASSANDRA_PASSWORD": node.password}
    if broker is not None:
        env["KAFKA"] = broker.bootstrap
    return env


@pytest.fixture(scope="module")
def seed_users(sluice_bin, tmp_path_factory):
    """The generator's users (seed 42) as the file sink writes them: {id: expected row}."""
    work = tmp_path_factory.mktemp("cassandra_users")
    (work / "dump.yaml").write_text(dump_users_config("users.jsonl", count=USERS))
    result = Sluice(sluice_bin, work).run("run", "dump.yaml", "--quiet", timeout=120)
    assert result.returncode == 0, result.describe()
    return expected_rows_by_id(load_jsonl(work / "users.jsonl"))


def read_table(node, keyspace, table, columns):
    """Every row of keyspace.table as {id: {column: value}} (ids as text)."""
    s = session(node)
    try:
        s.default_timeout = 60
        rows = {}
        query = f"SELECT {', '.join(columns)} FROM {keyspace}.{table}"
        for row in s.execute(query):
            got = dict(zip(columns, row))
            got["id"] = str(got["id"])
            rows[got["id"]] = got
        return rows
    finally:
        s.cluster.shutdown()


def table_count(node, keyspace, table):
    s = session(node)
    try:
        return s.execute(f"SELECT count(*) FROM {keyspace}.{table}", timeout=60).one()[0]
    except Exception:  # the keyspace or table may not exist yet, or the node is down
        return 0
    finally:
        s.cluster.shutdown()


def check_rows(got, expected, count):
    assert len(got) == count, f"the table holds {len(got)} rows, expected {count}"
    differ = []
    for row_id, row in got.items():
        want = expected.get(row_id)
        if want is None:
            differ.append(f"unexpected id {row_id}")
        else:
            for c in COLUMNS:
                w = str(want[c]) if c == "post_code" else want[c]
                if row[c] != w:
                    differ.append(f"{row_id}.{c}: {row[c]!r} != {w!r}")
        if len(differ) >= 10:
            break
    assert not differ, "rows differ from the generator's users:\n" + "\n".join(differ)


# ---- the seed pipeline ----------------------------------------------------------------------

def test_seed_pipeline_generator_kafka_sql_cassandra(sluice, workdir, cassandra_node, kafka_broker,  # noqa: F811
                                                     seed_users):
    topic = unique("user_data")
    text = EXAMPLE.read_text()
    assert "name: user_data" in text
    (workdir / "users.yaml").write_text(text.replace("name: user_data", f"name: {topic}"))
    started = time.monotonic()
    result = sluice.run("run", "users.yaml", timeout=600, env=node_env(cassandra_node, kafka_broker))
    took = time.monotonic() - started
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)
    assert summary["ingest_users"]["out"] == USERS, result.describe()
    assert summary["store_users"]["out"] == USERS and summary["store_users"]["dlq"] == 0, result.describe()

    s = session(cassandra_node)
    try:
        columns = s.execute("SELECT column_name, type, kind FROM system_schema.columns "
                            "WHERE keyspace_name = 'spark_streams' AND table_name = 'created_users'")
        schema = {r.column_name: (r.type, r.kind) for r in columns}
    finally:
        s.cluster.shutdown()
    assert schema["id"] == ("uuid", "partition_key"), schema
    assert all(schema[c] == ("text", "regular") for c in COLUMNS[1:]), schema

    check_rows(read_table(cassandra_node, "spark_streams", "created_users", COLUMNS), seed_users, USERS)
    print(f"seed pipeline: {USERS} users generator -> Kafka -> SQL -> Cassandra in {took:.1f}s")


# ---- bad values ---------------------------------------------------------------------------

GOOD_ID = [str(uuid.UUID(int=i + 1)) for i in range(6)]
PEOPLE = [  # (line, expected reason pattern or None when the row is good)
    ({"id": GOOD_ID[0], "age": 30, "name": "Ann"}, None),
    ({"id": "not-a-uuid", "age": 1, "name": "X"}, r"column 'id'.*not a uuid"),
    ({"id": GOOD_ID[1], "age": "thirty", "name": "Bob"}, r"column 'age'.*cannot convert string \"thirty\" to int"),
    ({"id": GOOD_ID[2], "age": 41, "name": "Cy"}, None),
    ({"id": GOOD_ID[3], "age": 2 ** 40, "name": "Dee"}, r"column 'age'.*out of range"),
]
TAGS = [  # a text partition key: "" is refused by Cassandra itself ("Key may not be empty")
    ({"k": "a", "v": "1"}, None),
    ({"k": "", "v": "2"}, r"(?i)key may not be empty"),
    ({"k": "c", "v": "3"}, None),
]


def test_bad_values_go_to_the_dlq_with_the_converters_or_cassandras_reason(sluice, workdir,
                                                                            cassandra_node):  # noqa: F811
    keyspace = unique("bad")
    with open(workdir / "people.jsonl", "w") as f:
        for line, _ in PEOPLE:
            f.write(json.dumps(line) + "\n")
    with open(workdir / "tags.jsonl", "w") as f:
        for line, _ in TAGS:
            f.write(json.dumps(line) + "\n")
    node = cassandra_node
    common = (f"hosts: ['{node.contact_point}'], username: {node.username}, password: {node.password}, "
              f"keyspace: {keyspace}, create: true")
    (workdir / "bad.yaml").write_text(f"""\
pipelines:
  people:
    source: {{ file: {{ path: people.jsonl }} }}
    sink:   {{ cassandra: {{ {common}, table: people, key: [id], columns: {{ id: uuid, age: int, name: text }} }} }}
  tags:
    source: {{ file: {{ path: tags.jsonl }} }}
    sink:   {{ cassandra: {{ {common}, table: tags, key: [k], columns: {{ k: text, v: text }} }} }}
""")
    result = sluice.run("run", "bad.yaml", timeout=180)
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)
    assert summary["people"]["out"] == 2 and summary["people"]["dlq"] == 3, result.describe()
    assert summary["tags"]["out"] == 2 and summary["tags"]["dlq"] == 1, result.describe()

    s = session(node)
    try:
        people = sorted((str(r.id), r.age, r.name) for r in s.execute(f"SELECT id, age, name FROM {keyspace}.people"))
        tags = sorted((r.k, r.v) for r in s.execute(f"SELECT k, v FROM {keyspace}.tags"))
    finally:
        s.cluster.shutdown()
    assert people == sorted([(GOOD_ID[0], 30, "Ann"), (GOOD_ID[2], 41, "Cy")])
    assert tags == [("a", "1"), ("c", "3")]

    for pipeline, lines in (("people", PEOPLE), ("tags", TAGS)):
        letters = [r for records in kafka_batch.read_topic(str(workdir / "data"), f"{pipeline}.dlq").values()
                   for r in records]
        bad = [(line, reason) for line, reason in lines if reason]
        assert len(letters) == len(bad), [r.header("sluice.error") for r in letters]
        for letter in letters:
            value = json.loads(letter.value)
            match = [reason for line, reason in bad if line == value]
            assert match, f"{pipeline}: dead letter {value} is no bad line"
            assert letter.header("sluice.stage") == "sink"
            reason = letter.header("sluice.error") or ""
            assert re.search(match[0], reason), f"{pipeline}: reason {reason!r} does not match {match[0]!r}"


# ---- Cassandra goes away for 20 s -------------------------------------------------------------

OUTAGE_USERS = 30000
OUTAGE_SECONDS = 20
OUTAGE_RATE = 500     # 60 s of input: the outage falls inside the run even on a loaded machine
RSS_LIMIT_MB = 200


def test_cassandra_outage_of_20s_loses_and_doubles_nothing(sluice, workdir, cassandra_node, kafka_broker,  # noqa: F811
                                                            seed_users):
    node = cassandra_node
    keyspace = unique("outage")
    topic = unique("outage_users")
    (workdir / "users.yaml").write_text(f"""\
pipelines:
  ingest_users:
    source: {{ generator: {{ kind: users, count: {OUTAGE_USERS}, rate: {OUTAGE_RATE}, seed: 42 }} }}
    sink:   {{ topic: {{ name: {topic}, partitions: 4, key: login.uuid }} }}
  store_users:
    source: {{ topic: {{ name: {topic}, group: store_users }} }}
    transform:
      sql: |
        SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name,
               gender, location.city AS city, location.postcode AS post_code, email,
               login.username AS username, registered.date AS registered_date,
               phone, picture.thumbnail AS picture
        FROM input
    sink:
      cassandra:
        hosts: ['{node.contact_point}']
        username: {node.username}
        password: {node.password}
        keyspace: {keyspace}
        table: created_users
        key: [id]
        create: true
        columns: {{ id: uuid, post_code: text }}
topics:
  kafka: {{ brokers: "{kafka_broker.bootstrap}" }}
""")
    proc = sluice.popen("run", "users.yaml", "--for", "400s")
    try:
        deadline = time.monotonic() + 120
        while table_count(node, keyspace, "created_users") < 3000:
            assert proc.poll() is None, "sluice ended before the outage:\n" + describe(*finish(proc, 10))
            assert time.monotonic() < deadline, "3000 rows not stored within 120s"
            time.sleep(0.5)
        before = rss_mb(proc.pid)
        suspended = node.script("suspend", timeout=120)
        assert suspended.returncode == 0, suspended.stdout + suspended.stderr
        down_at = time.monotonic()
        peak = before
        while time.monotonic() - down_at < OUTAGE_SECONDS:
            assert proc.poll() is None, "sluice exited while Cassandra was down:\n" + describe(*finish(proc, 10))
            peak = max(peak, rss_mb(proc.pid))
            time.sleep(0.2)
        resumed = node.script("resume", timeout=300)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        rc, out, err = finish(proc, timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    print(f"RSS before the outage {before:.0f} MB, peak while Cassandra was down {peak:.0f} MB")
    assert peak < RSS_LIMIT_MB, f"sluice's RSS reached {peak:.0f} MB while Cassandra was down"
    assert rc == 0, describe(rc, out, err)
    summary = parse_summary(err)
    assert summary["store_users"]["dlq"] == 0, out
    got = read_table(node, keyspace, "created_users", COLUMNS)
    expected = {k: v for k, v in seed_users.items() if k in got}
    assert len(got) == OUTAGE_USERS, f"{len(got)} distinct ids stored, expected {OUTAGE_USERS}"
    check_rows(got, expected, OUTAGE_USERS)


# ---- three processes, one killed ------------------------------------------------------------

SCALE_RECORDS = 100000
SCALE_PARTITIONS = 6


def test_three_processes_in_one_group_one_killed_store_exactly_the_produced_ids(sluice, workdir, cassandra_node,  # noqa: F811
                                                                               kafka_broker):  # noqa: F811
    node = cassandra_node
    keyspace = unique("scale")
    topic = unique("scale_cassandra")
    kafka_server.create_topic(kafka_broker, topic, SCALE_PARTITIONS)
    ids = [str(uuid.uuid4()) for _ in range(SCALE_RECORDS)]
    kafka_server.produce(kafka_broker, topic, [(i.encode(), json.dumps({"id": i, "n": n}).encode(), None)
                                               for n, i in enumerate(ids)],
                         config={"linger.ms": 50, "batch.num.messages": 10000, "queue.buffering.max.messages": 200000},
                         timeout=180)
    ddl = session(node)
    try:
        ddl.execute(f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', "
                    f"'replication_factor': 1}}")
        ddl.execute(f"CREATE TABLE {keyspace}.t (id uuid PRIMARY KEY, n bigint)")
    finally:
        ddl.cluster.shutdown()
    procs = {}
    for m in range(3):
        name = f"store{m}.yaml"
        (workdir / name).write_text(f"""\
data_dir: data{m}
pipelines:
  scale_store:
    source:
      kafka:
        brokers: {kafka_broker.bootstrap}
        topic: {topic}
        group: {keyspace}
        properties: {{ session.timeout.ms: "6000", heartbeat.interval.ms: "1000" }}
    sink: {{ cassandra: {{ hosts: ['{node.contact_point}'], username: {node.username}, password: {node.password},
                          keyspace: {keyspace}, table: t }} }}
""")
        procs[name] = sluice.popen("run", name, "--follow", "--for", "300s")
    outputs = {}
    try:
        deadline = time.monotonic() + 240
        while table_count(node, keyspace, "t") < SCALE_RECORDS // 2:
            for name, proc in procs.items():
                assert proc.poll() is None, f"{name} exited early:\n" + describe(*finish(proc, 10))
            assert time.monotonic() < deadline, "half the records not stored within 240s"
            time.sleep(0.2)
        victim = procs.pop("store1.yaml")
        victim.send_signal(signal.SIGKILL)
        finish(victim, timeout=30)
        ends = kafka_server.end_offsets(kafka_broker, topic)
        deadline = time.monotonic() + 240
        while kafka_server.committed_offsets(kafka_broker, keyspace, topic) != ends:
            for name, proc in procs.items():
                assert proc.poll() is None, f"{name} exited early:\n" + describe(*finish(proc, 10))
            assert time.monotonic() < deadline, \
                f"commits {kafka_server.committed_offsets(kafka_broker, keyspace, topic)} never reached {ends}"
            time.sleep(0.5)
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for name, proc in procs.items():
            outputs[name] = finish(proc, timeout=60)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    for name, (rc, out, err) in outputs.items():
        assert rc == 0, f"{name}: " + describe(rc, out, err)
    s = session(node)
    try:
        s.default_timeout = 60
        stored = {str(r.id): r.n for r in s.execute(f"SELECT id, n FROM {keyspace}.t")}
    finally:
        s.cluster.shutdown()
    assert len(stored) == SCALE_RECORDS, f"{len(stored)} ids stored, expected {SCALE_RECORDS}"
    assert set(stored) == set(ids)
    wrong = [i for n, i in enumerate(ids) if stored[i] != n][:5]
    assert not wrong, f"rows with the wrong n: {wrong}"


# ---- the seed's DAG under sluice server ----------------------------------------------------

def test_the_seed_dag_under_sluice_server_ingests_a_day_into_cassandra(sluice, workdir, cassandra_node,  # noqa: F811
                                                                        kafka_broker):  # noqa: F811
    """examples/users-cassandra.yaml as a server runs it: store_users continuous (Kafka -> SQL ->
    Cassandra), user_automation's daily run ingesting the day's users into Kafka."""
    from test_server import Server

    topic, table = unique("user_data"), unique("daily_users")
    text = EXAMPLE.read_text()
    for old, new in (("name: user_data", f"name: {topic}"), ("count: 100000", "count: 3000"),
                     ("table: created_users", f"table: {table}")):
        assert old in text, old
        text = text.replace(old, new)
    text += 'http: { listen: "127.0.0.1:0" }\n'
    server_sluice = Sluice(sluice.binary, workdir, env=node_env(cassandra_node, kafka_broker))
    server = Server(server_sluice, workdir, text).wait_started(timeout=120)
    try:
        import sqlite3
        deadline = time.monotonic() + 300
        state = None
        while time.monotonic() < deadline and state != "success":
            try:
                with sqlite3.connect(f"file:{workdir / 'data' / 'metadata.db'}?mode=ro", uri=True) as db:
                    row = db.execute("SELECT state FROM dag_runs WHERE run_type = 'scheduled'").fetchone()
                    state = row[0] if row else None
            except sqlite3.OperationalError:
                pass
            assert state != "failed", server.stderr()
            time.sleep(0.5)
        assert state == "success", server.stderr()
        count = 0
        while time.monotonic() < deadline and count < 3000:
            s = session(cassandra_node)
            try:
                count = s.execute(f"SELECT count(*) FROM spark_streams.{table}").one()[0]
            except Exception:  # noqa: BLE001  (the table is created by the first batch)
                count = 0
            finally:
                s.cluster.shutdown()
            time.sleep(1)
        assert count == 3000, f"{count} rows in spark_streams.{table}\n{server.stderr()}"
    finally:
        code = server.stop(timeout=120)
    assert code == 0, server.stderr()


# ---- intervals: duration columns get CQL durations, text columns PostgreSQL's text ------------

def test_intervals_go_into_duration_and_text_columns(sluice, workdir, cassandra_node):  # noqa: F811
    from cassandra.util import Duration
    keyspace = unique("spans")
    lines = [{"id": "a", "took": "1 day 02:00:00.5"}, {"id": "b", "took": "-1 mon -3 days"},
             {"id": "c", "took": "P1Y2M3W4DT5H6M7.000001S"}, {"id": "d", "took": "1 mon -1 day"}]
    (workdir / "spans.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    node = cassandra_node
    (workdir / "spans.yaml").write_text(f"""\
pipelines:
  spans:
    source: {{ file: {{ path: spans.jsonl }} }}
    transform:
      sql: SELECT id, CAST(took AS INTERVAL) AS d, CAST(took AS INTERVAL) AS t FROM input
    sink:
      cassandra: {{ hosts: ['{node.contact_point}'], username: {node.username}, password: {node.password},
                   keyspace: {keyspace}, create: true, table: spans, key: [id],
                   columns: {{ id: text, d: duration, t: text }} }}
""")
    result = sluice.run("run", "spans.yaml", timeout=180)
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)
    letters = [r for records in kafka_batch.read_topic(str(workdir / "data"), "spans.dlq").values() for r in records]
    assert summary["spans"]["out"] == 3 and summary["spans"]["dlq"] == 1, \
        [letter.header("sluice.error") for letter in letters]
    s = session(node)
    try:
        rows = {r.id: (r.d, r.t) for r in s.execute(f"SELECT id, d, t FROM {keyspace}.spans")}
    finally:
        s.cluster.shutdown()
    assert rows == {
        "a": (Duration(0, 1, 7_200_500_000_000), "1 day 02:00:00.5"),
        "b": (Duration(-1, -3, 0), "-1 mons -3 days"),
        "c": (Duration(14, 25, 18_367_000_001_000), "1 year 2 mons 25 days 05:06:07.000001"),
    }, rows
    assert len(letters) == 1 and json.loads(letters[0].value)["id"] == "d"
    assert "both signs" in (letters[0].header("sluice.error") or ""), letters[0].header("sluice.error")
