"""test_api_groups.py — the consumer-group routes of `sluice server` (ASan
build): embedded groups with their committed offsets, partition ends and
lag, the lag growing while the reading pipeline is stopped and shrinking
once it runs again; 10,000 groups written in the log's documented on-disk
format (groups/<group>/<topic>.offsets, "partition next-offset" lines)
paged through to the end with every group seen once, filtered by prefix
and by topic; Kafka's groups through librdkafka's admin API against the
real broker of tests/servers/kafka.sh, with offsets committed by
confluent-kafka (an independent client), and Kafka's topics in the topic
list with their watermarks and settings; brokers that do not answer are a
503 naming them, after a bounded wait.
"""
import json
import time

import kafka_server
from api_server import api_server, page_through  # noqa: F401
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)

FEED = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 0, rate: 400 } }
    sink:   { topic: { name: events, partitions: 2, key: id } }
  copy:
    source: { topic: { name: events, group: copier } }
    sink:   { file: { path: copied.jsonl } }
    commit_interval: 100ms
http: { listen: "127.0.0.1:0" }
"""

N_GROUPS = 10_000

# A file needs a pipeline: one that writes a record to a file and ends.
QUIET = """\
pipelines:
  tick:
    source: { generator: { kind: sequence, count: 1 } }
    sink:   { file: { path: tick.jsonl } }
http: { listen: "127.0.0.1:0" }
"""


def check_offsets(group):
    for o in group["offsets"]:
        assert o["committed"] is None or 0 <= o["committed"] <= o["end_offset"], o
        assert o["lag"] == o["end_offset"] - (o["committed"] or 0), o
    assert group["lag"] == sum(o["lag"] for o in group["offsets"])


def test_lag_grows_while_the_reader_is_stopped_and_shrinks_when_it_runs(api_server):  # noqa: F811
    server = api_server(FEED)
    copier = server.wait_for("copier's offsets", lambda: (
        (s := server.request("GET", "/api/v1/groups/copier"))[0] == 200 and s[1]))
    assert copier["source"] == "embedded"
    assert [(o["topic"], o["partition"]) for o in copier["offsets"]] == [("events", 0), ("events", 1)]
    check_offsets(copier)
    listed = server.get("/api/v1/groups")
    assert [g["group"] for g in listed["groups"]] == ["copier"] and listed["groups"][0]["topics"] == ["events"]

    status, body = server.request("POST", "/api/v1/pipelines/copy/stop")
    assert status == 200, body
    stopped = server.get("/api/v1/groups/copier")
    grown = server.wait_for("the lag to grow by 200", lambda: (
        (g := server.get("/api/v1/groups/copier"))["lag"] >= stopped["lag"] + 200 and g))
    check_offsets(grown)
    assert [o["committed"] for o in grown["offsets"]] == [o["committed"] for o in stopped["offsets"]]

    status, body = server.request("POST", "/api/v1/pipelines/copy/start")
    assert status == 200, body
    caught_up = server.wait_for("the lag to shrink", lambda: (
        (g := server.get("/api/v1/groups/copier"))["lag"] < grown["lag"] and
        all(a["committed"] > b["committed"] for a, b in zip(g["offsets"], grown["offsets"])) and g))
    check_offsets(caught_up)
    server.stop()


def write_groups(workdir, sluice):
    """N_GROUPS groups of topic bulk (2 partitions, 10 records); every 10th also of topic other."""
    for topic in ["bulk", "other"]:
        result = sluice.run("topic", "create", topic, "--partitions", "2", "--data-dir", "data", timeout=60)
        assert result.returncode == 0, result.describe()
    lines = "".join(f'{{"n":{i}}}\n' for i in range(10))
    result = sluice.run("topic", "produce", "bulk", "--data-dir", "data", input=lines, timeout=60)
    assert result.returncode == 0, result.describe()
    groups = workdir / "data" / "groups"
    for i in range(N_GROUPS):
        directory = groups / f"g-{i:05d}"
        directory.mkdir(parents=True)
        (directory / "bulk.offsets").write_text(f"0 {i % 3}\n")
        if i % 10 == 0:
            (directory / "other.offsets").write_text("0 0\n1 0\n")


def test_ten_thousand_groups_paged_to_the_end_each_once(api_server, sluice, workdir):  # noqa: F811
    write_groups(workdir, sluice)
    server = api_server(QUIET)
    bulk = server.get("/api/v1/topics/bulk")
    ends = [p["end_offset"] for p in bulk["partitions"]]
    assert sum(ends) == 10

    groups, pages = page_through(server, "/api/v1/groups", "groups", 1000)
    names = [g["group"] for g in groups]
    assert len(names) == N_GROUPS and len(set(names)) == N_GROUPS and names == sorted(names)
    assert pages == 10
    for g in groups[:50]:
        i = int(g["group"][2:])
        assert g["source"] == "embedded"
        assert g["topics"] == (["bulk", "other"] if i % 10 == 0 else ["bulk"])
        # partition 0 committed at i % 3; partition 1 never committed: counted from its start.
        assert g["lag"] == (ends[0] - i % 3) + ends[1] + 0, g

    with_other, _ = page_through(server, "/api/v1/groups", "groups", 300, topic="other")
    assert [g["group"] for g in with_other] == [f"g-{i:05d}" for i in range(0, N_GROUPS, 10)]
    assert all(g["topics"] == ["other"] and g["lag"] == 0 for g in with_other)
    prefixed, _ = page_through(server, "/api/v1/groups", "groups", 7, prefix="g-0012")
    assert [g["group"] for g in prefixed] == [f"g-{i:05d}" for i in range(120, 130)]

    # A page of 100 among 10,000 groups, timed for the record (not asserted: the suite runs beside CPU hogs).
    times = []
    for i in range(50):
        started = time.monotonic()
        server.get("/api/v1/groups", limit=100)
        times.append(time.monotonic() - started)
    times.sort()
    print(f"a page of 100 of {N_GROUPS} groups: p50 {times[25] * 1000:.1f} ms, p99 {times[-1] * 1000:.1f} ms")

    one = server.get("/api/v1/groups/g-00001")
    assert [(o["topic"], o["partition"], o["committed"]) for o in one["offsets"]] == [("bulk", 0, 1), ("bulk", 1, None)]
    check_offsets(one)
    for path, status, words in [("/api/v1/groups/nobody", 404, "no consumer group called 'nobody'"),
                                ("/api/v1/groups/%2E%2E", 400, "not allowed"),
                                ("/api/v1/groups/g-00001?source=zookeeper", 400, "source 'zookeeper'"),
                                ("/api/v1/groups?topic=a%20b", 400, "character other than"),
                                ("/api/v1/groups?limit=5000", 400, "limit '5000'"),
                                ("/api/v1/groups?cursor=00", 400, "cursor")]:
        got, body = server.request("GET", path)
        assert got == status and words in body["error"], (path, got, body)
    server.stop()


KAFKA = """\
topics: {{ kafka: {{ brokers: "{brokers}" }} }}
pipelines:
  tick:
    source: {{ generator: {{ kind: sequence, count: 1 }} }}
    sink:   {{ file: {{ path: tick.jsonl }} }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_kafka_groups_with_offsets_committed_by_confluent_kafka(api_server, kafka_broker, workdir):  # noqa: F811
    from confluent_kafka import Consumer, TopicPartition
    topic, group = f"api-groups-{time.time_ns()}", f"api-group-{time.time_ns()}"
    kafka_server.create_topic(kafka_broker, topic, 2, config={"retention.ms": "3600000", "compression.type": "zstd"})
    before = int(time.time() * 1000)
    kafka_server.produce(kafka_broker, topic, [(f"k{i}".encode(), f'{{"i":{i}}}'.encode() if i % 3 else b"\xff\x00",
                                                i % 2) for i in range(30)])
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": group,
                         "enable.auto.commit": False})
    consumer.commit(offsets=[TopicPartition(topic, 0, 4), TopicPartition(topic, 1, 15)], asynchronous=False)
    consumer.close()
    # Twelve more groups on Kafka, six of their names also embedded groups (of a topic the data dir
    # does not have), so a paged list interleaves the two sources.
    paged = [f"{group}-p{i:02d}" for i in range(12)]
    for i, name in enumerate(paged):
        consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": name,
                             "enable.auto.commit": False})
        consumer.commit(offsets=[TopicPartition(topic, 0, i)], asynchronous=False)
        consumer.close()
        if i % 2 == 0:
            (workdir / "data" / "groups" / name).mkdir(parents=True)
            (workdir / "data" / "groups" / name / "gone.offsets").write_text("0 3\n")

    server = api_server(KAFKA.format(brokers=kafka_broker.bootstrap))
    listed = server.wait_for("the group on Kafka", lambda: [
        g for g in server.get("/api/v1/groups", prefix=group)["groups"] if g["group"] == group])
    assert listed == [{"group": group, "source": "kafka", "topics": [topic], "lag": (15 - 4) + 0}]
    one = server.get(f"/api/v1/groups/{group}")
    assert one["source"] == "kafka"
    assert [(o["topic"], o["partition"], o["committed"], o["end_offset"], o["lag"]) for o in one["offsets"]] == \
        [(topic, 0, 4, 15, 11), (topic, 1, 15, 15, 0)]
    assert one["lag"] == 11
    assert server.get("/api/v1/groups", topic=topic, prefix=group)["groups"][0] == listed[0]
    both, pages = page_through(server, "/api/v1/groups", "groups", 5, prefix=f"{group}-p")
    expected = []
    for i, name in enumerate(paged):
        if i % 2 == 0:
            expected.append((name, "embedded", ["gone"], None))
        expected.append((name, "kafka", [topic], 15 - i))
    assert [(g["group"], g["source"], g["topics"], g["lag"]) for g in both] == expected
    assert pages == 4
    kafka_one = server.get(f"/api/v1/groups/{paged[0]}", source="kafka")
    assert kafka_one["source"] == "kafka" and kafka_one["offsets"][0]["committed"] == 0
    embedded_one = server.get(f"/api/v1/groups/{paged[0]}")
    assert embedded_one["source"] == "embedded"
    assert embedded_one["offsets"] == [{"topic": "gone", "partition": 0, "committed": 3, "end_offset": None,
                                        "lag": None}]
    got, body = server.request("GET", "/api/v1/groups/not-a-group-anywhere")
    assert got == 404 and "on Kafka" in body["error"]

    # Kafka's topics are listed with the embedded ones, with their watermarks and settings.
    topics, _ = page_through(server, "/api/v1/topics", "topics", 1, prefix=topic)
    assert topics == [{"name": topic, "partitions": 2, "messages": 30, "bytes": None, "start_offset_sum": 0,
                       "end_offset_sum": 30, "retention_ms": 3600000, "retention_bytes": None,
                       "compression": "zstd", "is_dead_letter": False, "source": "kafka"}]
    every, _ = page_through(server, "/api/v1/topics", "topics", 2)
    assert [t["name"] for t in every] == sorted(t["name"] for t in every) and topic in [t["name"] for t in every]
    assert all(not t["name"].startswith("__") for t in every)
    detail = server.get(f"/api/v1/topics/{topic}")
    assert detail["partitions"] == [{"partition": 0, "start_offset": 0, "end_offset": 15, "bytes": None},
                                    {"partition": 1, "start_offset": 0, "end_offset": 15, "bytes": None}]
    assert detail["source"] == "kafka" and detail["messages"] == 30
    got, body = server.request("GET", "/api/v1/topics/no-such-topic-here")
    assert got == 404, body

    # Kafka's messages browsed as embedded ones are: merged, from an offset, from a time.
    every = server.get(f"/api/v1/topics/{topic}/messages", limit=100)
    assert sorted((m["partition"], m["offset"]) for m in every["messages"]) == \
        [(p, o) for p in range(2) for o in range(15)]
    assert every["next"]["partition"] == {"0": 15, "1": 15}
    by_key = {m["key"]: m for m in every["messages"]}
    assert by_key["k4"]["value"] == {"i": 4} and by_key["k4"]["value_encoding"] == "json"
    assert by_key["k3"]["value_encoding"] == "base64" and by_key["k3"]["value"] == "/wA="
    page = server.get(f"/api/v1/topics/{topic}/messages", partition=1, offset=10, limit=3)
    assert [m["offset"] for m in page["messages"]] == [10, 11, 12] and page["next"]["partition"] == {"1": 13}
    assert [m["key"] for m in page["messages"]] == ["k21", "k23", "k25"]
    late = server.get(f"/api/v1/topics/{topic}/messages", timestamp=str(before - 60_000), partition=0)
    assert len(late["messages"]) == 15
    none = server.get(f"/api/v1/topics/{topic}/messages", timestamp=str(int(time.time() * 1000) + 3_600_000))
    assert none["messages"] == [] and none["next"]["partition"] == {"0": 15, "1": 15}
    got, answer = server.request("GET", f"/api/v1/topics/{topic}/messages?partition=2")
    assert got == 404 and "no partition 2 (it has 2: 0 to 1)" in answer["error"], answer

    # A message produced into a Kafka topic through the API, read back by confluent-kafka where
    # the answer says it went.
    got, made = server.request("POST", f"/api/v1/topics/{topic}/messages",
                               {"key": "pk", "value": {"from": "api"}, "headers": {"h": "v"}})
    assert got == 201 and made["partition"] in (0, 1) and made["offset"] == 15, made
    reader = Consumer({"bootstrap.servers": kafka_broker.bootstrap, "group.id": f"check-{topic}",
                       "enable.auto.commit": False})
    reader.assign([TopicPartition(topic, made["partition"], made["offset"])])
    deadline, message = time.monotonic() + 60, None
    while message is None and time.monotonic() < deadline:
        message = reader.poll(1.0)
        if message is not None and message.error():
            message = None
    reader.close()
    assert message is not None, "the produced message was not read back"
    assert message.key() == b"pk" and json.loads(message.value()) == {"from": "api"}
    assert message.headers() == [("h", b"v")]
    got, answer = server.request("POST", f"/api/v1/topics/{topic}/messages", {"value": 1, "partition": 5})
    assert got == 404 and "no partition 5" in answer["error"], answer
    server.stop()


def test_brokers_that_do_not_answer_are_a_503_naming_them(api_server):  # noqa: F811
    server = api_server(KAFKA.format(brokers="127.0.0.1:1"))
    started = time.monotonic()
    got, body = server.request("GET", "/api/v1/groups")
    assert got == 503 and "127.0.0.1:1" in body["error"], body
    print(f"503 after {time.monotonic() - started:.1f} s: {body['error']}")
    got, body = server.request("GET", "/api/v1/groups/someone?source=kafka")
    assert got == 503 and "127.0.0.1:1" in body["error"], body
    got, body = server.request("GET", "/api/v1/topics")
    assert got == 503 and "127.0.0.1:1" in body["error"], body
    got, body = server.request("GET", "/api/v1/topics/somewhere/messages")
    assert got == 503 and "127.0.0.1:1" in body["error"], body
    assert server.request("GET", "/healthz") == (200, {"status": "ok"})
    server.stop()
