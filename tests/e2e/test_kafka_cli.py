"""test_kafka_cli.py — `sluice topic list|describe|produce|consume --kafka
BROKERS` against a real Apache Kafka broker (tests/servers/kafka.sh), with
counts and keys checked independently through confluent_kafka:

- produce 30 JSON lines with --partitions 3 --key-path id: the topic has 3
  partitions, 30 messages keyed by id, each value as given;
- list shows the topic with 3 partitions and 30 records;
- describe shows 3 partitions whose records sum to 30;
- consume prints the 30 values; --metadata --max 5 prints 5 JSON objects
  with partition, offset and key; --partition/--offset select a range;
- consume --group g commits the topic's end (seen by confluent_kafka) and
  describe then shows g with lag 0 on every partition;
- consume --follow prints records produced while it runs and, on SIGINT,
  commits them for its group and exits 0;
- an unreachable broker is exit 1 within seconds, naming the broker.
"""
import json
import re
import signal
import time
import uuid

import kafka_server
from e2e_util import finish
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

N = 30
LINES = [json.dumps({"id": f"id-{i:03d}", "n": i, "note": "é \"q\""}, ensure_ascii=False) for i in range(N)]


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def run_ok(sluice, *args, input=None):
    result = sluice.run("topic", *args, input=input, timeout=60)
    assert result.returncode == 0, result.describe()
    return result


def produce_topic(sluice, broker):
    topic = unique("cli")
    result = run_ok(sluice, "produce", topic, "--kafka", broker.bootstrap, "--partitions", "3", "--key-path", "id",
                    input="".join(line + "\n" for line in LINES))
    assert f"produced {N} records to {topic}" in result.stderr, result.describe()
    return topic


def describe_rows(stdout):
    """({partition: (start, end, records)}, {(group, partition): (committed, lag)}) from describe's output."""
    partitions, groups = {}, {}
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) == 4 and all(re.fullmatch(r"-?\d+", f) for f in fields):
            partitions[int(fields[0])] = tuple(int(f) for f in fields[1:])
        elif len(fields) == 4 and fields[0] != "group" and re.fullmatch(r"\d+", fields[1]):
            groups[(fields[0], int(fields[1]))] = (fields[2], int(fields[3]))
    return partitions, groups


def test_produce_creates_keyed_topic_and_list_describe_count_it(sluice, kafka_broker):  # noqa: F811
    topic = produce_topic(sluice, kafka_broker)

    assert kafka_server.partition_count(kafka_broker, topic) == 3
    messages = kafka_server.read_all(kafka_broker, topic)
    assert sorted(m.value.decode() for m in messages) == sorted(LINES)
    assert all(m.key.decode() == json.loads(m.value)["id"] for m in messages)
    assert len({m.partition for m in messages}) > 1

    listed = run_ok(sluice, "list", "--kafka", kafka_broker.bootstrap)
    rows = {fields[0]: fields[1:] for fields in (line.split() for line in listed.stdout.splitlines())}
    assert rows[topic] == ["3", str(N)], listed.stdout
    assert not any(name.startswith("__") for name in rows), listed.stdout

    described = run_ok(sluice, "describe", topic, "--kafka", kafka_broker.bootstrap)
    assert f"topic {topic}: 3 partitions" in described.stdout
    partitions, _ = describe_rows(described.stdout)
    assert sorted(partitions) == [0, 1, 2], described.stdout
    ends = kafka_server.end_offsets(kafka_broker, topic)
    assert {p: row[1] for p, row in partitions.items()} == ends
    assert sum(row[2] for row in partitions.values()) == N


def test_consume_prints_values_metadata_and_ranges(sluice, kafka_broker):  # noqa: F811
    topic = produce_topic(sluice, kafka_broker)
    bootstrap = kafka_broker.bootstrap

    values = run_ok(sluice, "consume", topic, "--kafka", bootstrap).stdout.splitlines()
    assert sorted(values) == sorted(LINES)

    objects = [json.loads(line) for line in
               run_ok(sluice, "consume", topic, "--kafka", bootstrap, "--metadata", "--max", "5").stdout.splitlines()]
    assert len(objects) == 5
    for obj in objects:
        assert set(obj) == {"partition", "offset", "timestamp", "key", "headers", "value"}
        assert obj["key"] == json.loads(obj["value"])["id"]
        assert obj["timestamp"] > 0 and obj["headers"] == {}
    by_position = {(m.partition, m.offset): m for m in kafka_server.read_all(kafka_broker, topic)}
    for obj in objects:
        assert by_position[(obj["partition"], obj["offset"])].value.decode() == obj["value"]

    ends = kafka_server.end_offsets(kafka_broker, topic)
    partition = max(ends, key=ends.get)
    tail = [json.loads(line) for line in run_ok(sluice, "consume", topic, "--kafka", bootstrap, "--metadata",
                                                "--partition", partition, "--offset", 1).stdout.splitlines()]
    assert [(o["partition"], o["offset"]) for o in tail] == [(partition, o) for o in range(1, ends[partition])]


def test_consume_with_group_commits_and_describe_shows_no_lag(sluice, kafka_broker):  # noqa: F811
    topic = produce_topic(sluice, kafka_broker)
    bootstrap = kafka_broker.bootstrap
    group = unique("g")

    first = run_ok(sluice, "consume", topic, "--kafka", bootstrap, "--group", group, "--max", "10")
    assert len(first.stdout.splitlines()) == 10
    rest = run_ok(sluice, "consume", topic, "--kafka", bootstrap, "--group", group)
    assert sorted(first.stdout.splitlines() + rest.stdout.splitlines()) == sorted(LINES)
    assert run_ok(sluice, "consume", topic, "--kafka", bootstrap, "--group", group).stdout == ""

    ends = kafka_server.end_offsets(kafka_broker, topic)
    assert kafka_server.committed_offsets(kafka_broker, group, topic) == ends

    for options in ([], ["--group", group]):
        described = run_ok(sluice, "describe", topic, "--kafka", bootstrap, *options)
        _, groups = describe_rows(described.stdout)
        assert {p: groups[(group, p)] for p in range(3)} == {p: (str(end), 0) for p, end in ends.items()}, \
            described.stdout


def test_consume_with_group_and_max_commits_the_offset_after_each_printed_message(sluice, kafka_broker):  # noqa: F811
    """--max N commits, per partition, the offset of the last printed message + 1 (seen by
    confluent_kafka's committed()), and the next consume of the group prints the rest."""
    topic = produce_topic(sluice, kafka_broker)
    bootstrap = kafka_broker.bootstrap
    group = unique("m")
    first = run_ok(sluice, "consume", topic, "--kafka", bootstrap, "--group", group, "--max", "2", "--metadata")
    printed = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(printed) == 2
    expected = {}
    for obj in printed:
        expected[obj["partition"]] = max(expected.get(obj["partition"], 0), obj["offset"] + 1)
    committed = kafka_server.committed_offsets(kafka_broker, group, topic)
    assert {p: o for p, o in committed.items() if o >= 0} == expected, committed
    rest = run_ok(sluice, "consume", topic, "--kafka", bootstrap, "--group", group)
    assert sorted(rest.stdout.splitlines() + [o["value"] for o in printed]) == sorted(LINES)


def test_consume_follow_prints_new_records_and_commits_on_sigint(sluice, kafka_broker):  # noqa: F811
    topic = produce_topic(sluice, kafka_broker)
    group = unique("f")
    proc = sluice.popen("topic", "consume", topic, "--kafka", kafka_broker.bootstrap, "--group", group, "--follow")
    time.sleep(2)
    more = [json.dumps({"id": f"more-{i}"}) for i in range(5)]
    run_ok(sluice, "produce", topic, "--kafka", kafka_broker.bootstrap, input="".join(m + "\n" for m in more))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and sum(kafka_server.end_offsets(kafka_broker, topic).values()) < N + 5:
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc, timeout=30)
    assert code == 0, err
    assert sorted(out.splitlines()) == sorted(LINES + more)
    assert kafka_server.committed_offsets(kafka_broker, group, topic) == kafka_server.end_offsets(kafka_broker, topic)


def test_unreachable_broker_fails_fast_naming_it(sluice):
    for args, stdin in ((["list"], None), (["produce", "t"], "x\n")):
        result = sluice.run("topic", *args, "--kafka", "127.0.0.1:1", input=stdin, timeout=30)
        assert result.returncode == 1, result.describe()
        assert "kafka brokers '127.0.0.1:1'" in result.stderr, result.describe()
        assert result.elapsed < 20, result.describe()
