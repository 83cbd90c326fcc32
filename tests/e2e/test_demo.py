"""test_demo.py — the flagship example, examples/users.yaml, end to end.

Runs the seed pipeline as a user would (cwd = a fresh dir), then checks the
SQLite table against rows re-derived in Python from the generator's own
output, and the topic user_data from its bytes on disk (kafka_batch.py):
record count, keys, and Kafka's murmur2 partition of every key. Running it
again in the same dir adds nothing (100,000 users, not 200,000). Also runs a
smaller demo under the ASan+UBSan build.
"""
import json
import sqlite3

import pytest

import kafka_batch
from e2e_util import COLUMNS, Sluice, check_users_table, parse_summary, sanitizer_reports, users_yaml_text


@pytest.fixture(scope="module")
def demo(sluice_bin, tmp_path_factory):
    """One run of examples/users.yaml in a fresh dir: (workdir, Result)."""
    work = tmp_path_factory.mktemp("demo")
    (work / "users.yaml").write_text(users_yaml_text())
    result = Sluice(sluice_bin, work).run("run", "users.yaml", timeout=180)
    return work, result


def test_demo_exits_0_with_a_summary_and_a_query_hint(demo):
    _, result = demo
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)
    for name in ("ingest_users", "store_users"):
        assert name in summary, f"summary has no row for {name}\n{result.describe()}"
        row = summary[name]
        assert (row["in"], row["out"], row["dlq"], row["state"]) == (100000, 100000, 0, "ok"), \
            f"{name}: {row}\n{result.describe()}"
    assert "store_users: query the result with: sqlite3" in result.stderr, result.describe()
    assert "users.db" in result.stderr


def test_demo_table_has_100000_users_with_the_seed_columns(demo):
    work, result = demo
    assert result.returncode == 0, result.describe()
    con = sqlite3.connect(work / "data" / "users.db")
    names = [r[1] for r in con.execute("PRAGMA table_info(created_users)")]
    assert names == COLUMNS
    assert con.execute("SELECT count(*), count(DISTINCT id) FROM created_users").fetchone() == (100000, 100000)
    con.close()


def test_demo_rows_equal_the_generated_users_mapped_in_python(demo, expected_users):
    work, result = demo
    assert result.returncode == 0, result.describe()
    # Every row, field by field, against the generator's users mapped in Python.
    check_users_table(work / "data" / "users.db", expected_users["rows"], 100000)


def test_demo_topic_holds_every_user_keyed_and_partitioned_like_kafka(demo, expected_users):
    work, result = demo
    assert result.returncode == 0, result.describe()
    # The topic, decoded from the segment files (CRC-32C checked on every batch).
    topic = kafka_batch.read_topic(str(work / "data"), "user_data")
    assert sorted(topic) == [0, 1, 2, 3], f"user_data partitions on disk: {sorted(topic)}"
    total = sum(len(records) for records in topic.values())
    assert total == 100000
    keys = set()
    for partition, records in topic.items():
        assert records, f"partition {partition} is empty"
        assert [r.offset for r in records] == list(range(len(records))), f"partition {partition} has offset gaps"
        for record in records:
            user = json.loads(record.value)
            uuid = user["login"]["uuid"]
            assert record.key == uuid.encode(), f"p{partition}@{record.offset}: key {record.key!r} != {uuid!r}"
            want = kafka_batch.partition_for_key(record.key, 4)
            assert partition == want, f"key {uuid} is in partition {partition}, murmur2 picks {want}"
            keys.add(uuid)
    assert keys == {u["login"]["uuid"] for u in expected_users["users"]}


def test_demo_run_twice_leaves_100000_users_not_200000(demo, sluice_bin, expected_users):
    """`make demo` twice: the generator continues from its committed index (count reached:
    nothing more), so user_data and the table still hold each user once."""
    work, _ = demo
    again = Sluice(sluice_bin, work).run("run", "users.yaml", timeout=180)
    assert again.returncode == 0, again.describe()
    summary = parse_summary(again.stderr)
    assert summary["ingest_users"]["out"] == 0 and summary["ingest_users"]["state"] == "ok", again.describe()
    assert summary["store_users"]["out"] == 0, again.describe()
    topic = kafka_batch.read_topic(str(work / "data"), "user_data")
    assert sum(len(records) for records in topic.values()) == 100000
    check_users_table(work / "data" / "users.db", expected_users["rows"], 100000)


def test_demo_under_asan_and_ubsan_is_clean(sluice_asan, workdir):
    (workdir / "users.yaml").write_text(users_yaml_text(count=5000))
    result = sluice_asan.run("run", "users.yaml", timeout=240)
    assert not sanitizer_reports(result.stderr), result.describe()
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)
    assert summary["ingest_users"]["out"] == 5000, result.describe()
    assert summary["store_users"]["out"] == 5000, result.describe()
    con = sqlite3.connect(workdir / "data" / "users.db")
    assert con.execute("SELECT count(DISTINCT id) FROM created_users").fetchone() == (5000,)
    con.close()


def test_kafka_reader_self_checks():
    """The independent reader's primitives against published vectors."""
    assert kafka_batch.crc32c(b"123456789") == 0xE3069283  # CRC-32C check value
    assert kafka_batch.crc32c(b"") == 0
    for n in range(40):
        data = bytes((i * 37 + n) & 0xFF for i in range(n))
        assert kafka_batch.crc32c(data) == kafka_batch.crc32c_bitwise(data)
    # Kafka's UtilsTest.testMurmur2 vectors.
    for text, want in [("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536),
                       ("a-little-bit-longer-string", -1486304829),
                       ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971), ("abc", 479470107)]:
        assert kafka_batch.murmur2(text.encode()) == want, text
    for raw, want in [(b"\x00", 0), (b"\x01", -1), (b"\x02", 1), (b"\x03", -2), (b"\xac\x02", 150),
                      (b"\xff\xff\xff\xff\x0f", -2147483648)]:
        assert kafka_batch.read_varint(raw, 0, len(raw)) == (want, len(raw))
