"""test_topic_kcat_kafka.py — the kcat-like options of `sluice topic ... --kafka` against a real
Apache Kafka broker, with what sluice wrote checked through confluent_kafka (an independent
client) and what it read compared with messages confluent_kafka produced:

- produce KEY<TAB>VALUE lines (-K '\\t') with -H headers and -k: keys, values, headers and the
  murmur2 partition of each key as the broker stored them; -p P puts every record in P;
- -p of a partition that does not exist, and an absolute -o outside a partition's range: exit 2
  giving the valid range, as on the embedded log;
- produce --partitions N / create --partitions N against an existing topic with another count:
  exit 2 naming both; create --partitions 0: exit 2;
- consume -o beginning | end | N | -N | @MS | s@MS on messages with known timestamps;
- -f with every letter on messages with keys, a null key and headers (one with a null value);
  -K DELIM; -c; -e;
- -X properties reach librdkafka (an unknown one is exit 2 naming it);
- SIGTERM ends consume --follow with exit 0 and commits what it printed for its group.
"""
import signal
import struct
import time
import uuid

import kafka_batch
import kafka_server
from e2e_util import LineReader
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def topic_run(sluice, broker, *args, input=None, code=0):
    result = sluice.run("topic", *args, "--kafka", broker.bootstrap, input=input, timeout=90)
    assert result.returncode == code, result.describe()
    return result


def produce_with_timestamps(broker, topic, messages):
    """Produces [(partition, key, value, headers, timestamp_ms)] with confluent_kafka, in order."""
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    errors = []
    for partition, key, value, headers, timestamp in messages:
        producer.produce(topic, key=key, value=value, partition=partition, headers=headers, timestamp=timestamp,
                         on_delivery=lambda err, msg: errors.append(err) if err is not None else None)
    assert producer.flush(60) == 0
    assert not errors, errors


def timed_topic(broker):
    """A 2-partition topic: partition 0 holds a0..a5, partition 1 holds b0..b2, with
    timestamps base + 1000 * i; returns (topic, base)."""
    topic = unique("kc")
    kafka_server.create_topic(broker, topic, 2)
    base = int(time.time() * 1000) - 600_000
    messages = [(0, f"ka{i}".encode(), f"a{i}".encode(), [("n", str(i).encode())], base + 1000 * i)
                for i in range(6)]
    messages += [(1, None if i == 1 else f"kb{i}".encode(), f"b{i}".encode(), [("n", str(i).encode()), ("z", None)],
                  base + 1000 * i + 500) for i in range(3)]
    produce_with_timestamps(broker, topic, messages)
    return topic, base


def printed(sluice, broker, topic, *args):
    out = topic_run(sluice, broker, "consume", topic, "-f", "%p %o %s\\n", *args).stdout
    return sorted((int(p), int(o), v) for p, o, v in (line.split(" ", 2) for line in out.splitlines()))


def expected(broker, topic, starts):
    return sorted((m.partition, m.offset, m.value.decode()) for m in kafka_server.read_all(broker, topic)
                  if m.partition in starts and m.offset >= starts[m.partition])


def test_produce_key_tab_value_headers_and_partition(sluice, kafka_broker):  # noqa: F811
    topic = unique("kv")
    lines = [f"key-{i}\tvalue {i}\twith tab" for i in range(20)] + ["no delimiter", "\tempty key"]
    result = topic_run(sluice, kafka_broker, "produce", topic, "--partitions", "3", "-K", "\\t", "-H", "src=cli",
                       "-H", "empty=", "-k", "fallback", input="".join(line + "\n" for line in lines))
    assert f"produced {len(lines)} records to {topic}" in result.stderr
    messages = kafka_server.read_all(kafka_broker, topic)
    got = {m.value: m for m in messages}
    want = {f"value {i}\twith tab".encode(): f"key-{i}".encode() for i in range(20)}
    want.update({b"no delimiter": b"fallback", b"empty key": b""})
    assert {v: m.key for v, m in got.items()} == want
    for m in messages:
        assert m.headers == [("src", b"cli"), ("empty", b"")], m
        assert m.partition == kafka_batch.partition_for_key(m.key, 3), m
    assert len({m.partition for m in messages}) == 3

    topic_run(sluice, kafka_broker, "produce", topic, "-p", "1", input="one\ntwo\n")
    tail = [m for m in kafka_server.read_all(kafka_broker, topic) if m.value in (b"one", b"two")]
    assert [(m.partition, m.key) for m in tail] == [(1, None), (1, None)]

    # A partition that does not exist: exit 2 naming the valid ones, for produce and consume.
    for verb, stdin in (("produce", "x\n"), ("consume", None)):
        result = topic_run(sluice, kafka_broker, verb, topic, "-p", "3", input=stdin, code=2)
        assert f"topic {topic} has 3 partitions (0..2); no partition 3" in result.stderr, result.describe()

    # Another partition count than the topic's: exit 2 naming both; nothing produced.
    result = topic_run(sluice, kafka_broker, "produce", topic, "--partitions", "5", input="x\n", code=2)
    assert f"topic '{topic}' exists with 3 partitions, not the 5 asked for" in result.stderr, result.describe()
    assert kafka_server.partition_count(kafka_broker, topic) == 3
    assert sum(kafka_server.end_offsets(kafka_broker, topic).values()) == len(lines) + 2


def test_create_checks_partition_counts(sluice, kafka_broker):  # noqa: F811
    topic = unique("cr")
    for bad in ("0", "-2", "10001"):
        result = topic_run(sluice, kafka_broker, "create", topic, "--partitions", bad, code=2)
        assert "--partitions" in result.stderr, result.describe()
    topic_run(sluice, kafka_broker, "create", topic, "--partitions", "2")
    assert kafka_server.partition_count(kafka_broker, topic) == 2
    topic_run(sluice, kafka_broker, "create", topic, "--partitions", "2")
    result = topic_run(sluice, kafka_broker, "create", topic, "--partitions", "3", code=2)
    assert f"topic '{topic}' exists with 2 partitions, not the 3 asked for" in result.stderr, result.describe()


def test_consume_offset_forms(sluice, kafka_broker):  # noqa: F811
    topic, base = timed_topic(kafka_broker)
    b = kafka_broker
    assert printed(sluice, b, topic) == expected(b, topic, {0: 0, 1: 0})
    assert printed(sluice, b, topic, "-o", "beginning") == expected(b, topic, {0: 0, 1: 0})
    assert printed(sluice, b, topic, "-o", "end") == []
    assert printed(sluice, b, topic, "-o", "2") == expected(b, topic, {0: 2, 1: 2})
    assert printed(sluice, b, topic, "-o", "-2") == expected(b, topic, {0: 4, 1: 1})
    assert printed(sluice, b, topic, "-o", "-50") == expected(b, topic, {0: 0, 1: 0})
    assert printed(sluice, b, topic, "-p", "0", "-o", "5") == expected(b, topic, {0: 5})
    # a3 is at base + 3000; b2 at base + 2500 is the last one of partition 1 before it.
    assert printed(sluice, b, topic, "-o", f"@{base + 2600}") == expected(b, topic, {0: 3, 1: 3})
    assert printed(sluice, b, topic, "-o", f"s@{base + 2000}") == expected(b, topic, {0: 2, 1: 2})
    assert printed(sluice, b, topic, "-o", f"@{base + 1500}", "-p", "1") == expected(b, topic, {1: 1})
    for args, partition, valid in ((["-o", "4"], 1, "0..3"), (["-p", "0", "-o", "7"], 0, "0..6")):
        result = topic_run(sluice, b, "consume", topic, *args, code=2)
        assert f"topic {topic} partition {partition}: offset" in result.stderr, result.describe()
        assert f"out of range {valid}" in result.stderr, result.describe()


def test_format_letters_keys_headers_max_and_exit(sluice, kafka_broker):  # noqa: F811
    topic, _ = timed_topic(kafka_broker)
    b = kafka_broker
    out = topic_run(sluice, b, "consume", topic, "-f", "%t|%p|%o|%k|%K|%s|%S|%h\\n").stdout
    want = []
    for m in kafka_server.read_all(b, topic):
        key = m.key.decode() if m.key is not None else ""
        headers = ",".join(f"{k}={v.decode() if v is not None else 'NULL'}" for k, v in m.headers)
        want.append(f"{topic}|{m.partition}|{m.offset}|{key}|{len(m.key) if m.key is not None else -1}|"
                    f"{m.value.decode()}|{len(m.value)}|{headers}")
    assert sorted(out.splitlines()) == sorted(want)
    assert any("|-1|" in line and "z=NULL" in line for line in want)

    stamps = topic_run(sluice, b, "consume", topic, "-p", "0", "-f", "%o %T\\n").stdout.split()
    first = int(stamps[1])
    assert [int(t) - first for t in stamps[1::2]] == [1000 * i for i in range(6)]

    raw = topic_run(sluice, b, "consume", topic, "-p", "0", "-o", "0", "-c", "1", "-f", "%R").stdout
    assert raw.encode() == struct.pack(">i", 2)
    keyed = topic_run(sluice, b, "consume", topic, "-p", "1", "-K", "=").stdout.splitlines()
    assert keyed == ["kb0=b0", "=b1", "kb2=b2"]
    assert len(topic_run(sluice, b, "consume", topic, "-c", "4").stdout.splitlines()) == 4
    assert sorted(topic_run(sluice, b, "consume", topic, "-e").stdout.splitlines()) == \
        sorted(f"a{i}" for i in range(6)) + [f"b{i}" for i in range(3)]


def test_properties_reach_librdkafka(sluice, kafka_broker):  # noqa: F811
    result = topic_run(sluice, kafka_broker, "list", "-X", "no.such.property=1", code=2)
    assert "property 'no.such.property'" in result.stderr, result.describe()
    result = topic_run(sluice, kafka_broker, "list", "-X", "socket.timeout.ms=soon", code=2)
    assert "property 'socket.timeout.ms'" in result.stderr, result.describe()
    topic_run(sluice, kafka_broker, "list", "-X", "client.id=sluice-test", "-X", "socket.keepalive.enable=true")
    # A security protocol the broker does not speak: the client cannot connect; exit 1 naming the brokers.
    result = topic_run(sluice, kafka_broker, "list", "-X", "security.protocol=ssl", "-X", "socket.timeout.ms=3000",
                       code=1)
    assert f"kafka brokers '{kafka_broker.bootstrap}'" in result.stderr, result.describe()


def test_follow_ends_on_sigterm_with_exit_0_and_commits(sluice, kafka_broker):  # noqa: F811
    topic, _ = timed_topic(kafka_broker)
    group = unique("ft")
    proc = sluice.popen("topic", "consume", topic, "--kafka", kafka_broker.bootstrap, "-G", group, "--follow",
                        "-f", "%p:%o\\n")
    reader = LineReader(proc)
    try:
        reader.wait_for(9, timeout=90)
        topic_run(sluice, kafka_broker, "produce", topic, "-p", "1", input="late\n")
        reader.wait_for(10, timeout=90)
        proc.send_signal(signal.SIGTERM)
        code, err = reader.finish(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    assert sorted(reader.lines) == sorted([f"0:{i}" for i in range(6)] + [f"1:{i}" for i in range(4)])
    assert kafka_server.committed_offsets(kafka_broker, group, topic) == {0: 6, 1: 4}
