"""test_kafka_exact.py — sluice places, stores and reads records exactly as Kafka would.

Keys: an empty key is a key (Kafka's partitioner hashes it: partition 1 of 4, 3 of 6), not a
null one; a number at a key path becomes its decimal text; other scalars their JSON text
(true -> "true"), objects and arrays their compact JSON; a missing or null path no key. Checked
against Kafka's own assignment (toPositive(murmur2(key)) % n, kafka_batch.partition_for_key) on
the embedded log, read from the segment files without sluice, and through the kafka sink on a
real broker, read back with confluent_kafka.
"""
import json
import time

import kafka_batch
import kafka_server
from e2e_util import finish
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

# One record per kind of key: (value, the key Kafka should see or None).
KEYED = [({"id": i, "n": i}, str(i).encode()) for i in range(40)] + [
    ({"id": "", "n": 100}, b""),
    ({"id": "", "n": 101}, b""),
    ({"id": True, "n": 102}, b"true"),
    ({"id": 2.5, "n": 103}, b"2.5"),
    ({"id": {"a": [1, 2]}, "n": 104}, b'{"a":[1,2]}'),
    ({"id": None, "n": 105}, None),
    ({"n": 106}, None),
]


def lines():
    return [json.dumps(value) for value, _ in KEYED]


def expected_keys():
    return {value["n"]: key for value, key in KEYED}


def check_placement(records_by_partition, n_partitions):
    """records_by_partition: {partition: [(key, value bytes)]}. Every keyed record sits where
    Kafka's partitioner puts its key, with exactly that key."""
    want = expected_keys()
    seen = {}
    for partition, records in records_by_partition.items():
        for key, value in records:
            n = json.loads(value)["n"]
            seen[n] = key
            if want[n] is not None:
                assert partition == kafka_batch.partition_for_key(want[n], n_partitions), \
                    f"record {n} with key {want[n]!r} is in partition {partition} of {n_partitions}"
    assert seen == want


def test_topic_produce_hashes_empty_and_numeric_keys_like_kafka(sluice, workdir):
    for n_partitions in (4, 6):
        name = f"keys{n_partitions}"
        result = sluice.run("topic", "produce", name, "--data-dir", "data", "--partitions", str(n_partitions),
                            "--key-path", "id", input="".join(line + "\n" for line in lines()), timeout=30)
        assert result.returncode == 0, result.describe()
        topic = kafka_batch.read_topic(str(workdir / "data"), name)
        check_placement({p: [(r.key, r.value) for r in rs] for p, rs in topic.items()}, n_partitions)
        # The empty key: Kafka's partition 1 of 4 and 3 of 6.
        empty = [p for p, rs in topic.items() for r in rs if r.key == b""]
        assert empty == [{4: 1, 6: 3}[n_partitions]] * 2, empty
        # Numeric ids spread over every partition (not all on one).
        assert all(topic[p] for p in range(n_partitions))

        consumed = sluice.run("topic", "consume", name, "--data-dir", "data", "--metadata", timeout=30)
        assert consumed.returncode == 0, consumed.describe()
        keys = {json.loads(json.loads(line)["value"])["n"]: json.loads(line)["key"]
                for line in consumed.stdout.splitlines()}
        assert keys == {n: None if k is None else k.decode() for n, k in expected_keys().items()}


def test_topic_sink_key_path_hashes_empty_and_numeric_keys_like_kafka(sluice, workdir):
    (workdir / "in.jsonl").write_text("".join(line + "\n" for line in lines()))
    (workdir / "p.yaml").write_text(
        "pipelines:\n"
        "  keyed:\n"
        "    source: { file: { path: in.jsonl } }\n"
        "    sink:   { topic: { name: keyed, partitions: 6, key: id } }\n")
    result = sluice.run("run", "p.yaml", "--quiet", timeout=60)
    assert result.returncode == 0, result.describe()
    topic = kafka_batch.read_topic(str(workdir / "data"), "keyed")
    check_placement({p: [(r.key, r.value) for r in rs] for p, rs in topic.items()}, 6)


def test_kafka_sink_key_path_lands_where_kafka_puts_each_key(sluice, workdir, kafka_broker):  # noqa: F811
    name = f"exact_keys_{int(time.time() * 1000)}"
    kafka_server.create_topic(kafka_broker, name, 4)
    (workdir / "in.jsonl").write_text("".join(line + "\n" for line in lines()))
    (workdir / "p.yaml").write_text(
        "pipelines:\n"
        "  keyed:\n"
        "    source: { file: { path: in.jsonl } }\n"
        f"    sink:   {{ kafka: {{ brokers: {kafka_broker.bootstrap}, topic: {name}, key: id }} }}\n")
    proc = sluice.popen("run", "p.yaml", "--quiet")
    rc, out, err = finish(proc, timeout=120)
    assert rc == 0, f"exit {rc}\n{out}\n{err}"
    messages = kafka_server.read_all(kafka_broker, name)
    by_partition = {}
    for m in messages:
        by_partition.setdefault(m.partition, []).append((m.key, m.value))
    check_placement(by_partition, 4)
