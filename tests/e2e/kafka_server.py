"""kafka_server.py — a real Kafka broker for the end-to-end suites, and the
confluent_kafka helpers that check what sluice wrote to it.

The broker is started by the project's own script, tests/servers/kafka.sh
(KRaft, one process that is broker and controller, jars from Maven Central
cached under .cache/kafka). The session fixture `kafka_broker` picks a free
pair of loopback ports (client port, controller port = client port + 1),
starts the broker once per test session and stops it at the end. A suite
uses it with `from kafka_server import kafka_broker  # noqa: F401`.

The helpers talk to the broker with confluent_kafka (librdkafka), an
independent client: create topics, produce, read a whole topic by
assignment (no consumer group, so no coordinator wait), read committed
group offsets, and read the broker's own segment files from disk to see how
the producer compressed its batches.
"""
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from e2e_util import REPO

KAFKA_SH = REPO / "tests" / "servers" / "kafka.sh"
FIRST_PORT = 19092


@dataclass
class KafkaBroker:
    port: int
    controller_port: int

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    @property
    def data_dir(self):
        """The broker's log.dirs (kafka.sh writes it under .cache/kafka/<port>/data)."""
        return REPO / ".cache" / "kafka" / str(self.port) / "data"

    def env(self):
        env = dict(os.environ)
        env["KAFKA_PORT"] = str(self.port)
        env["KAFKA_CONTROLLER_PORT"] = str(self.controller_port)
        return env

    def script(self, command, timeout):
        """Runs tests/servers/kafka.sh COMMAND for this broker -> CompletedProcess."""
        return subprocess.run(["bash", str(KAFKA_SH), command], env=self.env(), capture_output=True,
                              text=True, timeout=timeout)


def _port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pair(first=FIRST_PORT, tries=50):
    """A port p >= first with p and p + 1 both free on 127.0.0.1."""
    for port in range(first, first + 2 * tries, 2):
        if _port_free(port) and _port_free(port + 1):
            return port
    raise RuntimeError(f"no free pair of ports in {first}..{first + 2 * tries}")


@pytest.fixture(scope="session")
def kafka_broker():
    """A running broker (KafkaBroker) for the whole session, stopped at its end."""
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        pytest.fail("confluent_kafka is not installed in this Python: "
                    ".venv/bin/pip install -r tests/e2e/requirements.txt", pytrace=False)
    fixed = os.environ.get("SLUICE_TEST_KAFKA_PORT")
    port = int(fixed or free_port_pair())
    started = time.monotonic()
    for attempt in range(3):
        broker = KafkaBroker(port, port + 1)
        try:
            result = broker.script("start", timeout=600)
        except subprocess.TimeoutExpired as e:
            broker.script("stop", timeout=120)
            pytest.fail(f"tests/servers/kafka.sh start did not finish within 600s\n{e.stdout}\n{e.stderr}",
                        pytrace=False)
        # A pair found free can be taken by another process before the broker
        # binds it (another test session on this machine): take the next pair.
        if result.returncode == 0 or fixed or "Address already in use" not in result.stderr:
            break
        broker.script("stop", timeout=120)
        port = free_port_pair(first=port + 2)
    if result.returncode != 0:
        broker.script("stop", timeout=120)
        pytest.fail(f"tests/servers/kafka.sh start failed (exit {result.returncode}) after "
                    f"{time.monotonic() - started:.1f}s\n--- stdout ---\n{result.stdout}\n"
                    f"--- stderr ---\n{result.stderr[-6000:]}", pytrace=False)
    print(result.stdout.strip())
    yield broker
    stopped = broker.script("stop", timeout=120)
    print(stopped.stdout.strip(), stopped.stderr.strip())


# ---- confluent_kafka helpers ------------------------------------------------------------

def admin(broker):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create_topic(broker, name, partitions, config=None, timeout=60):
    """Creates topic name and waits until the broker's metadata shows every partition with a leader."""
    from confluent_kafka.admin import NewTopic
    client = admin(broker)
    futures = client.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1,
                                             config=dict(config or {}))], operation_timeout=timeout)
    futures[name].result(timeout=timeout)
    deadline = time.monotonic() + timeout
    while True:
        meta = client.list_topics(topic=name, timeout=30).topics.get(name)
        if meta is not None and meta.error is None and len(meta.partitions) == partitions \
                and all(p.leader >= 0 for p in meta.partitions.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {name} has no leader for all {partitions} partitions after {timeout}s")
        time.sleep(0.2)


def produce(broker, topic, messages, config=None, timeout=60):
    """Produces [(key, value, partition or None)] in order; returns [(partition, offset)] per message."""
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": True,
            "linger.ms": 5}
    conf.update(config or {})
    producer = Producer(conf)
    positions = [None] * len(messages)
    errors = []

    def delivered(index):
        def callback(err, msg):
            if err is not None:
                errors.append(f"message {index}: {err}")
            else:
                positions[index] = (msg.partition(), msg.offset())
        return callback

    for i, (key, value, partition) in enumerate(messages):
        kwargs = {"key": key, "value": value, "on_delivery": delivered(i)}
        if partition is not None:
            kwargs["partition"] = partition
        producer.produce(topic, **kwargs)
        producer.poll(0)
    left = producer.flush(timeout)
    assert left == 0, f"{left} messages to {topic} still undelivered after {timeout}s"
    assert not errors, errors
    return positions


def partition_count(broker, topic):
    meta = admin(broker).list_topics(topic=topic, timeout=30).topics[topic]
    assert meta.error is None, f"topic {topic}: {meta.error}"
    return len(meta.partitions)


def end_offsets(broker, topic):
    """{partition: high watermark} of topic."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "sluice-tests-watermarks",
                         "enable.auto.commit": False})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
                for p in range(partition_count(broker, topic))}
    finally:
        consumer.close()


@dataclass
class Message:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list


def read_all(broker, topic, timeout=60):
    """Every message of topic, read by assignment from the start to the high watermarks
    taken at the call; sorted by (partition, offset)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
    ends = end_offsets(broker, topic)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "sluice-tests-reader",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "fetch.max.bytes": 64 << 20, "max.partition.fetch.bytes": 16 << 20})
    messages = []
    try:
        wanted = [p for p, end in ends.items() if end > 0]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in wanted])
        done = set()
        deadline = time.monotonic() + timeout
        while len(done) < len(wanted):
            if time.monotonic() > deadline:
                raise AssertionError(f"reading {topic}: partitions {sorted(set(wanted) - done)} not read to "
                                     f"their ends {ends} within {timeout}s ({len(messages)} messages)")
            for msg in consumer.consume(num_messages=10000, timeout=1.0):
                if msg.error() is not None:
                    if msg.error().code() == KafkaError._PARTITION_EOF:
                        if msg.offset() >= ends[msg.partition()]:
                            done.add(msg.partition())
                        continue
                    raise AssertionError(f"reading {topic}: {msg.error()}")
                if msg.offset() < ends[msg.partition()]:
                    messages.append(Message(msg.partition(), msg.offset(), msg.key(), msg.value(),
                                            list(msg.headers() or [])))
                if msg.offset() + 1 >= ends[msg.partition()]:
                    done.add(msg.partition())
    finally:
        consumer.close()
    messages.sort(key=lambda m: (m.partition, m.offset))
    return messages


def committed_offsets(broker, group, topic):
    """{partition: committed offset (negative when none)} of consumer group for topic."""
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        parts = [TopicPartition(topic, p) for p in range(partition_count(broker, topic))]
        return {tp.partition: tp.offset for tp in consumer.committed(parts, timeout=30)}
    finally:
        consumer.close()


# ---- the broker's segment files ------------------------------------------------------------

def broker_batch_codecs(broker, topic):
    """The compression codec (attributes & 7: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) of every
    record batch the broker stored for topic, read from its own .log segment files."""
    import kafka_batch
    codecs = []
    data_dir = Path(broker.data_dir)
    for pdir in sorted(data_dir.glob(f"{topic}-*")):
        if not pdir.name[len(topic) + 1:].isdigit():
            continue
        for seg in sorted(pdir.glob("*.log")):
            buf = seg.read_bytes()
            pos = 0
            while pos + kafka_batch.HEADER.size <= len(buf):
                fields = kafka_batch.HEADER.unpack_from(buf, pos)
                length, magic, attributes = fields[1], fields[3], fields[5]
                if length <= 0:
                    break
                assert magic == 2, f"{seg} at byte {pos}: magic {magic}"
                codecs.append(attributes & 0x07)
                pos += 12 + length
    return codecs
