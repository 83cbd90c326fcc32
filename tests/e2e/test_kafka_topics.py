"""test_kafka_topics.py — `topics: { kafka: {...} }`: every `topic:` block of a
config on a real Apache Kafka broker (tests/servers/kafka.sh).

examples/users-kafka.yaml is examples/users.yaml plus that one block. Run
with 20,000 users on a topic of its own, `sluice run` must end by itself like
the embedded version (the generator ends, then store_users catches up with
the topic's end while nothing in the file still writes it), leaving:
- the Kafka topic created by the sink with the block's 4 partitions and
  exactly 20,000 records (read back with confluent_kafka);
- SQLite holding 20,000 distinct ids;
- the group's committed offsets at the topic's end offsets, so a second run
  of the reader alone reads nothing and ends by itself too.
"""
import re
import shutil
import sqlite3
import time
import uuid

import kafka_server
from e2e_util import REPO, Sluice, parse_summary
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

EXAMPLE = REPO / "examples" / "users-kafka.yaml"
USERS = 20000
PARTITIONS = 4


def kafka_example(count, topic, group):
    """examples/users-kafka.yaml with count users on its own topic and group."""
    text = EXAMPLE.read_text()
    replaced = [
        (r"count:\s*100000", f"count: {count}", 1),
        (r"name: user_data", f"name: {topic}", 2),
        (r"group: store_users", f"group: {group}", 1),
    ]
    for pattern, value, times in replaced:
        text, n = re.subn(pattern, value, text)
        assert n == times, f"{EXAMPLE} no longer has {times} x '{pattern}'"
    return text


def test_users_example_runs_on_kafka_and_ends_by_itself(kafka_broker, sluice_bin, tmp_path):  # noqa: F811
    topic = f"user_data_{uuid.uuid4().hex[:10]}"
    group = f"store_users_{uuid.uuid4().hex[:10]}"
    (tmp_path / "users-kafka.yaml").write_text(kafka_example(USERS, topic, group))
    sluice = Sluice(sluice_bin, tmp_path, env={"KAFKA": kafka_broker.bootstrap})

    started = time.monotonic()
    result = sluice.run("run", "users-kafka.yaml", timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)
    assert summary.get("ingest_users", {}).get("out") == USERS, result.describe()
    assert summary.get("store_users", {}).get("in") == USERS, result.describe()
    assert summary["store_users"]["out"] == USERS and summary["store_users"]["dlq"] == 0, result.describe()
    print(f"users-kafka.yaml with {USERS} users: {elapsed:.1f}s")

    # The topic: created by the sink with the block's partitions, every user once.
    assert kafka_server.partition_count(kafka_broker, topic) == PARTITIONS
    ends = kafka_server.end_offsets(kafka_broker, topic)
    assert sum(ends.values()) == USERS, f"{topic} end offsets {ends}"
    messages = kafka_server.read_all(kafka_broker, topic)
    assert len(messages) == USERS
    assert len({m.key for m in messages}) == USERS, "a user is in the topic twice"

    # SQLite: one row per user.
    con = sqlite3.connect(f"file:{tmp_path / 'data' / 'users.db'}?mode=ro", uri=True)
    try:
        total, distinct = con.execute("SELECT count(*), count(DISTINCT id) FROM created_users").fetchone()
    finally:
        con.close()
    assert (total, distinct) == (USERS, USERS)

    # The group committed the topic's end: the reader alone has nothing to do and stops.
    assert kafka_server.committed_offsets(kafka_broker, group, topic) == ends
    again = sluice.run("run", "users-kafka.yaml", "--pipeline", "store_users", timeout=60)
    assert again.returncode == 0, again.describe()
    assert parse_summary(again.stderr)["store_users"]["in"] == 0, again.describe()


def test_users_kafka_example_validates(sluice_bin, tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "users-kafka.yaml")
    for env in ({}, {"KAFKA": "127.0.0.1:9"}):
        result = Sluice(sluice_bin, tmp_path, env=env).run("validate", "users-kafka.yaml", timeout=30)
        assert result.returncode == 0, result.describe()


def test_embedded_only_settings_are_refused_when_topics_are_on_kafka(sluice_bin, tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "pipelines:\n"
        "  p:\n"
        "    source: { generator: { kind: users, count: 1 } }\n"
        "    sink: { topic: { name: t, fsync: always } }\n"
        "topics: { kafka: { brokers: 127.0.0.1:9 } }\n")
    result = Sluice(sluice_bin, tmp_path).run("validate", "bad.yaml", timeout=30)
    assert result.returncode == 2, result.describe()
    assert "bad.yaml:4:31:" in result.stderr and "'fsync' only applies to embedded topics" in result.stderr, \
        result.describe()
