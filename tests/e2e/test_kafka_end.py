"""test_kafka_end.py — a bounded run of a kafka source ends by itself only once
it has verified, with the brokers, that its group has consumed every
partition of its topics (committed offsets at the high watermarks), against a
real broker (tests/servers/kafka.sh), checked with confluent_kafka.

- Another member of the same group holds the only partition: sluice joins,
  is assigned nothing and must keep waiting (it used to take "no partition
  of mine is behind" for "done" and exit 0 with nothing stored); once the
  other member leaves, sluice gets the partition, stores every message and
  ends with exit 0, its group committed at the end.
- `--for` elapsing while that member holds it: exit 1, state `incomplete`,
  naming what was not verified. A topic the brokers do not know, in a
  bounded run that does not write it: exit 1 naming it (it used to wait for
  an assignment, then end "ok").
- The last message of a partition is over max_record_bytes: it goes to the
  dead-letter topic and its offset is committed too, so the group stands at
  the high watermark when the run ends (it used to stop one short, and a
  rerun dead-lettered the message again).
- A partition whose last offset is a transaction's commit marker (which no
  consumer is handed) is committed up to the high watermark too (it used to
  stay one short, so a bounded run never ended).
- On a terminal, the progress line shows the source's lag (the high
  watermarks librdkafka last fetched minus its positions).
"""
import json
import re
import sqlite3
import threading
import time

import kafka_batch
import kafka_server
from e2e_util import finish, parse_summary
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)
from test_kafka import table_count, unique
from test_streams import after_last_frame, terminal  # noqa: F401  (the fixture)

MESSAGES = 2000


def reader_config(brokers, topic, group, extra=""):
    return f"""\
pipelines:
  store_items:
    source: {{ kafka: {{ brokers: {brokers}, topic: {topic}, group: {group}{extra} }} }}
    transform:
      sql: "SELECT id, name FROM input"
    sink:   {{ sqlite: {{ path: data/items.db, table: items, key: [id] }} }}
"""


def produce_items(broker, topic, count, partitions=1):
    kafka_server.create_topic(broker, topic, partitions)
    kafka_server.produce(broker, topic, [(f"k{i}".encode(), json.dumps({"id": i, "name": f"item {i}"}).encode(),
                                          None) for i in range(count)])


class GroupMember:
    """A confluent_kafka consumer in `group` (cooperative-sticky, like sluice's) that polls in a
    thread, commits nothing, and holds what the group assigns it until close()."""

    def __init__(self, broker, group, topic):
        from confluent_kafka import Consumer
        self.assigned = set()
        self.consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group,
                                  "enable.auto.commit": False,
                                  "partition.assignment.strategy": "cooperative-sticky"})
        self.stop = threading.Event()
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _on_assign(self, consumer, partitions):
        self.assigned |= {p.partition for p in partitions}

    def _on_revoke(self, consumer, partitions):
        self.assigned -= {p.partition for p in partitions}

    def _poll(self):
        while not self.stop.is_set():
            self.consumer.poll(0.2)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=30)
        self.consumer.close()


def group_members(broker, group):
    """Members of group as the broker describes it now (0 when it cannot tell yet)."""
    client = kafka_server.admin(broker)  # held while its future runs: it serves the request
    try:
        futures = client.describe_consumer_groups([group], request_timeout=10)
        return len(futures[group].result(timeout=15).members)
    except Exception:  # noqa: BLE001 — the coordinator may still be loading; ask again
        return 0


def wait_for(condition, what, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.2)


def test_run_waits_while_another_member_holds_the_partitions(kafka_broker, sluice, workdir):  # noqa: F811
    broker = kafka_broker
    topic, group = unique("held"), unique("held_group")
    produce_items(broker, topic, MESSAGES)
    holder = GroupMember(broker, group, topic)
    proc = None
    try:
        wait_for(lambda: holder.assigned == {0}, "the holding member got partition 0", 120)
        (workdir / "items.yaml").write_text(reader_config(broker.bootstrap, topic, group))
        proc = sluice.popen("run", "items.yaml", "--for", "300s")
        wait_for(lambda: group_members(broker, group) == 2 or proc.poll() is not None,
                 "sluice joined the group", 120)
        # Joined and assigned nothing: many end checks (every 200 ms) happen in
        # these seconds, and none may take the empty assignment for the end.
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert proc.poll() is None, "sluice ended while another member held the unconsumed partition:\n" + \
            "\n".join(str(x)[-3000:] for x in finish(proc, 10))
        assert table_count(workdir / "data" / "items.db", "items") == 0
        holder.close()
        holder = None
        rc, out, err = finish(proc, timeout=240)
    finally:
        if holder:
            holder.close()
        if proc and proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert rc == 0, f"exit {rc}\n{out[-3000:]}\n{err[-3000:]}"
    assert parse_summary(err)["store_items"]["out"] == MESSAGES, err
    con = sqlite3.connect(workdir / "data" / "items.db")
    assert sorted(r[0] for r in con.execute("SELECT id FROM items")) == list(range(MESSAGES))
    con.close()
    assert kafka_server.committed_offsets(broker, group, topic) == kafka_server.end_offsets(broker, topic)


def test_dead_lettered_last_message_is_committed(kafka_broker, sluice, workdir):  # noqa: F811
    broker = kafka_broker
    topic, group = unique("tail_dlq"), unique("tail_dlq_group")
    kafka_server.create_topic(broker, topic, 1)
    good = [(f"k{i}".encode(), json.dumps({"id": i, "name": "x"}).encode(), 0) for i in range(3)]
    kafka_server.produce(broker, topic, good)
    big_value = json.dumps({"id": 99, "name": "y" * 300_000}).encode()
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    producer.produce(topic, key=b"big", value=big_value, partition=0, headers=[("trace", b"abc"), ("empty", b"")])
    assert producer.flush(60) == 0
    # A batch holds at most 200 KiB, so the 300 KB message comes alone in the
    # last batch, which then carries no record at all.
    (workdir / "items.yaml").write_text(reader_config(broker.bootstrap, topic, group,
                                                      ", max_record_bytes: 100KiB, max_batch_bytes: 200KiB"))
    result = sluice.run("run", "items.yaml", "--for", "240s", timeout=300)
    assert result.returncode == 0, result.describe()
    summary = parse_summary(result.stderr)["store_items"]
    assert summary["out"] == 3 and summary["dlq"] == 1, result.stderr
    assert kafka_server.committed_offsets(broker, group, topic) == {0: 4}
    # The dead letter is the whole message: key, value and headers, then sluice's own.
    letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), "store_items.dlq").values() for r in rs]
    assert len(letters) == 1
    letter = letters[0]
    assert (letter.key, letter.value) == (b"big", big_value)
    assert (letter.header("trace"), letter.header("empty")) == ("abc", "")
    assert "max_record_bytes" in letter.header("sluice.error")
    again = sluice.run("run", "items.yaml", "--for", "240s", timeout=300)
    assert again.returncode == 0, again.describe()
    assert parse_summary(again.stderr)["store_items"]["dlq"] == 0, again.stderr


def test_for_elapsing_before_the_group_is_verified_fails(kafka_broker, sluice, workdir):  # noqa: F811
    broker = kafka_broker
    topic, group = unique("held_for"), unique("held_for_group")
    produce_items(broker, topic, 100)
    holder = GroupMember(broker, group, topic)
    try:
        wait_for(lambda: holder.assigned == {0}, "the holding member got partition 0", 120)
        (workdir / "items.yaml").write_text(reader_config(broker.bootstrap, topic, group))
        result = sluice.run("run", "items.yaml", "--for", "15s", timeout=200)
    finally:
        holder.close()
    assert result.returncode == 1, result.describe()
    assert parse_summary(result.stderr)["store_items"]["state"] == "incomplete", result.stderr
    assert "--for 15s elapsed before its source had been read to its end" in result.stderr, result.stderr
    assert f"stopped before group '{group}' was verified to have consumed its topics" in result.stderr


def test_a_topic_that_does_not_exist_fails_a_bounded_run(kafka_broker, sluice, workdir):  # noqa: F811
    topic = unique("never_created")
    (workdir / "items.yaml").write_text(reader_config(kafka_broker.bootstrap, topic, unique("g")))
    result = sluice.run("run", "items.yaml", timeout=240)
    assert result.returncode == 1, result.describe()
    assert f"topic '{topic}'" in result.stderr and "no pipeline of this run writes it" in result.stderr, \
        result.describe()


def test_a_partition_ending_in_a_transaction_marker_is_consumed_to_its_end(kafka_broker, sluice, workdir):  # noqa: F811
    broker = kafka_broker
    topic, group = unique("txn_tail"), unique("txn_tail_group")
    kafka_server.create_topic(broker, topic, 1)
    from confluent_kafka import Producer
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": unique("txn")})
    producer.init_transactions(120)
    producer.begin_transaction()
    for i in range(10):
        producer.produce(topic, key=f"k{i}".encode(), value=json.dumps({"id": i, "name": "t"}).encode(), partition=0)
    producer.commit_transaction(120)
    # The commit marker takes the last offset: 10 records, high watermark 11.
    assert kafka_server.end_offsets(broker, topic) == {0: 11}
    (workdir / "items.yaml").write_text(reader_config(broker.bootstrap, topic, group))
    result = sluice.run("run", "items.yaml", "--for", "240s", timeout=300)
    assert result.returncode == 0, result.describe()
    assert parse_summary(result.stderr)["store_items"]["out"] == 10, result.stderr
    assert kafka_server.committed_offsets(broker, group, topic) == {0: 11}


def test_the_progress_line_shows_the_lag_of_a_kafka_source(kafka_broker, sluice, terminal, workdir):  # noqa: F811
    topic, group = unique("lagging"), unique("lagging_group")
    produce_items(kafka_broker, topic, 5000, partitions=2)
    (workdir / "p.yaml").write_text(
        "pipelines:\n  readers:\n"
        f"    source: {{ kafka: {{ brokers: {kafka_broker.bootstrap}, topic: {topic}, group: {group} }} }}\n"
        "    sink:   { stdio: {} }\n    batch_size: 50\n    max_inflight: 2\n    workers: 1\n")
    # stdout unread until the line showed a lag: the run cannot have consumed the topic by then.
    t = terminal(sluice, ["run", "p.yaml", "--for", "240s"], workdir, stdout_is_terminal=False)
    t.wait_until(lambda: any(re.search(r" lag [1-9][\d.]*k?$", f) for f in t.frames()), "a lag above 0",
                 timeout=180)
    assert t.finish(timeout=300) == 0, t.describe()
    ids = sorted(json.loads(line)["id"] for line in t.out.decode().splitlines())
    assert ids == list(range(5000))
    assert parse_summary(after_last_frame(t.screen))["readers"]["in"] == 5000, t.describe()
