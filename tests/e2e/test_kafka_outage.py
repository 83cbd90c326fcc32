"""test_kafka_outage.py — the Kafka broker goes away mid-stream and comes back (issue 3).

A broker of its own (tests/servers/kafka.sh on another port pair, so the
session broker of the other suites is never touched) carries the seed flow:
ingest_users (generator, 40,000 users at 1,000/s: 40 s, so the outage falls
inside the run even when a loaded machine is slow to stop the broker) → Kafka user_data →
store_users (seed SQL) → SQLite, all in one `sluice run` that ends by itself.
Once a few thousand rows are stored the broker is stopped (`kafka.sh
suspend`: a clean shutdown that keeps its data), left down for 15 seconds
and started again on the same data (`kafka.sh resume`). Meanwhile sluice's
RSS is sampled: the generator keeps going until the batch pool is full, so
the pool, not the outage's length, bounds memory (limit stated below).
Then the run must end by itself with exit 0, every user stored once with
the generator's values (checked with sqlite3 against the file sink's dump),
the topic holding every key (read with confluent_kafka), and the group's
committed offsets at the topic's ends.
"""
import json
import time

import pytest

import kafka_server
from e2e_util import Sluice, check_users_table, dump_users_config, expected_rows_by_id, finish, load_jsonl, \
    parse_summary, rss_mb

USERS = 40000
RATE = 1000
OUTAGE_SECONDS = 15
RSS_LIMIT_MB = 200      # sluice settles near 40 MB; a queue growing with the outage would pass this
STORED_BEFORE_OUTAGE = 4000


@pytest.fixture
def own_broker():
    """A broker of this test's own, on ports no other suite uses, stopped (data removed) at the end."""
    port = kafka_server.free_port_pair(first=kafka_server.FIRST_PORT + 400)
    broker = kafka_server.KafkaBroker(port, port + 1)
    result = broker.script("start", timeout=600)
    if result.returncode != 0:
        broker.script("stop", timeout=120)
        pytest.fail(f"kafka.sh start failed\n{result.stdout}\n{result.stderr[-4000:]}", pytrace=False)
    yield broker
    broker.script("stop", timeout=120)


def config(brokers):
    return f"""\
pipelines:
  ingest_users:
    source: {{ generator: {{ kind: users, count: {USERS}, rate: {RATE}, seed: 42 }} }}
    sink:   {{ topic: {{ name: user_data, partitions: 4, key: login.uuid }} }}
  store_users:
    source: {{ topic: {{ name: user_data, group: store_users }} }}
    transform:
      sql: |
        SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name,
               gender, location.city AS city, location.postcode AS post_code, email,
               login.username AS username, registered.date AS registered_date,
               phone, picture.thumbnail AS picture
        FROM input
    sink:   {{ sqlite: {{ path: data/users.db, table: created_users, key: [id] }} }}
topics:
  kafka: {{ brokers: "{brokers}" }}
"""


def table_count(db):
    import sqlite3
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM created_users").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_pipeline_waits_out_a_15s_broker_outage_and_loses_nothing(sluice, sluice_bin, workdir, own_broker,
                                                                   tmp_path_factory):
    broker = own_broker
    dump = tmp_path_factory.mktemp("outage_users")
    (dump / "dump.yaml").write_text(dump_users_config("users.jsonl", count=USERS))
    made = Sluice(sluice_bin, dump).run("run", "dump.yaml", "--quiet", timeout=120)
    assert made.returncode == 0, made.describe()
    users = load_jsonl(dump / "users.jsonl")

    (workdir / "users.yaml").write_text(config(broker.bootstrap))
    db = workdir / "data" / "users.db"
    proc = sluice.popen("run", "users.yaml", "--for", "300s")
    try:
        deadline = time.monotonic() + 120
        while table_count(db) < STORED_BEFORE_OUTAGE:
            assert proc.poll() is None, "sluice ended before the outage:\n" + "\n".join(finish(proc, 10)[1:])
            assert time.monotonic() < deadline, f"{STORED_BEFORE_OUTAGE} rows not stored within 120s"
            time.sleep(0.1)
        before = rss_mb(proc.pid)
        suspended = broker.script("suspend", timeout=120)
        assert suspended.returncode == 0, suspended.stderr
        down_at = time.monotonic()
        stored_at_outage = table_count(db)
        peak = before
        while time.monotonic() - down_at < OUTAGE_SECONDS:
            assert proc.poll() is None, "sluice exited while the broker was down:\n" + \
                "\n".join(finish(proc, 10)[1:])
            peak = max(peak, rss_mb(proc.pid))
            time.sleep(0.2)
        stored_in_outage = table_count(db) - stored_at_outage
        resumed = broker.script("resume", timeout=300)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        rc, out, err = finish(proc, timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    print(f"RSS before the outage {before:.0f} MB, peak while down {peak:.0f} MB; "
          f"{stored_at_outage} rows stored when the broker stopped, {stored_in_outage} more while it was down")
    assert peak < RSS_LIMIT_MB, f"sluice's RSS reached {peak:.0f} MB while the broker was down"
    assert rc == 0, f"exit {rc}\n--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-4000:]}"
    summary = parse_summary(err)
    assert summary["ingest_users"]["out"] == USERS and summary["ingest_users"]["dlq"] == 0, out
    assert summary["store_users"]["dlq"] == 0, out

    check_users_table(db, expected_rows_by_id(users), USERS)
    messages = kafka_server.read_all(broker, "user_data")
    keys = {m.key for m in messages}
    assert len(keys) == USERS, f"user_data holds {len(keys)} distinct keys ({len(messages)} messages)"
    assert {json.loads(m.value)["login"]["uuid"] for m in messages} == {u["login"]["uuid"] for u in users}
    assert kafka_server.committed_offsets(broker, "store_users", "user_data") == \
        kafka_server.end_offsets(broker, "user_data")
