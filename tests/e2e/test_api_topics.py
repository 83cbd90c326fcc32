"""test_api_topics.py — the topic and dead-letter routes of `sluice server`
(ASan build) against a server whose pipelines write while the API reads:
a generator feeds `events` (3 partitions, keyed), a topic pipeline reads it
as group `copier`, and a file pipeline dead-letters bad lines.

Topics are listed and paged to the end (every one once), filtered by
prefix, described (partitions, offsets, groups); messages are browsed from
an offset page by page, from a time (ISO-8601 and epoch ms), and merged
over partitions; values that are JSON, text and binary come back as JSON,
utf8 and base64 (a topic whose segment the test writes itself with
kafka_batch.py, an independent Kafka batch encoder); produced messages are
read back through the API and, after the server stopped, from the segment
files with kafka_batch.py. Dead letters are counted by reason with their
error, stage and origin. Hostile parameters are 400/404 naming the reason.
"""
import base64
import json
from datetime import datetime, timezone

import kafka_batch
from api_server import api_server, page_through  # noqa: F401

FEED = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 0, rate: 500 } }
    sink:   { topic: { name: events, partitions: 3, key: id } }
  copy:
    source: { topic: { name: events, group: copier } }
    sink:   { file: { path: copied.jsonl } }
    commit_interval: 100ms
  clean:
    source:    { file: { path: input.jsonl } }
    transform: { sql: "SELECT CAST(age AS INT) AS age FROM input" }
    sink:      { file: { path: clean.jsonl } }
http: { listen: "127.0.0.1:0" }
"""

# (line, dead-lettered at stage, reason prefix)
LINES = [
    ('{"age":"1"}', None, None),
    ("not json", "parse", "invalid JSON"),
    ('{"age":"abc"}', "transform", "column 'age'"),
    ('{"age":2}', None, None),
    ('{"age":', "parse", "invalid JSON"),
    ('{"age":"12x"}', "transform", "column 'age'"),
    ('{"age":3,}', "parse", "invalid JSON"),
]

RAW_T0 = 1_700_000_000_000
RAW_T1 = 1_700_000_100_000
RAW_VALUES = [b'{"a": [1, 2], "b": "x"}', b"plain text", "café ünïcode".encode(), b"\xff\xfe\x00\x01binary"]


def write_input(workdir):
    """input.jsonl; returns {byte offset: (stage, reason prefix)} of the lines dead-lettered."""
    bad, position = {}, 0
    with open(workdir / "input.jsonl", "wb") as f:
        for line, stage, reason in LINES:
            if stage:
                bad[position] = (stage, reason)
            f.write(line.encode() + b"\n")
            position += len(line) + 1
    return bad


def prepare_topics(sluice, workdir):
    """Five page-N topics, and `raw`: one segment written here, 4 records at RAW_T0 then 2 at RAW_T1."""
    for name in ["page-a", "page-b", "page-c", "page-d", "page-e", "raw"]:
        result = sluice.run("topic", "create", name, "--partitions", "2" if name == "page-c" else "1",
                            "--data-dir", "data", timeout=60)
        assert result.returncode == 0, result.describe()
    segment = workdir / "data" / "topics" / "raw" / "0" / ("0" * 20 + ".log")
    with open(segment, "ab") as f:
        f.write(kafka_batch.encode_batch(0, RAW_VALUES, timestamp=RAW_T0))
        f.write(kafka_batch.encode_batch(4, [b'"late"', b"123"], timestamp=RAW_T1))


def events_detail(server):
    return server.get("/api/v1/topics/events")


def test_topics_listed_described_browsed_and_produced(api_server, sluice, workdir):  # noqa: F811
    write_input(workdir)
    prepare_topics(sluice, workdir)
    server = api_server(FEED)
    server.wait_for("300 events and a copier commit", lambda: (
        (d := events_detail(server))["messages"] >= 300 and "copier" in d["groups"]))
    server.wait_for("the dead-letter topic", lambda: server.request("GET", "/api/v1/topics/clean.dlq")[0] == 200)

    # The list, paged two at a time to the end: each topic once, by name.
    topics, pages = page_through(server, "/api/v1/topics", "topics", 2)
    names = [t["name"] for t in topics]
    assert names == sorted(set(names)), names
    assert set(names) == {"clean.dlq", "events", "page-a", "page-b", "page-c", "page-d", "page-e", "raw"}, names
    assert pages >= 4
    by_name = {t["name"]: t for t in topics}
    events = by_name["events"]
    assert events["partitions"] == 3 and events["compression"] == "lz4"
    assert events["retention_ms"] == 7 * 24 * 3600 * 1000 and events["retention_bytes"] is None
    assert events["is_dead_letter"] is False and by_name["clean.dlq"]["is_dead_letter"] is True
    assert by_name["page-c"]["partitions"] == 2 and by_name["page-c"]["messages"] == 0
    assert by_name["raw"]["messages"] == 6 and by_name["raw"]["bytes"] > 0
    filtered = server.get("/api/v1/topics", prefix="page-")
    assert [t["name"] for t in filtered["topics"]] == ["page-a", "page-b", "page-c", "page-d", "page-e"]
    assert filtered["next_cursor"] is None

    # One topic: partitions with their offsets and bytes; the sums agree.
    detail = events_detail(server)
    assert [p["partition"] for p in detail["partitions"]] == [0, 1, 2]
    assert all(p["start_offset"] == 0 and p["end_offset"] >= 0 and p["bytes"] > 0 for p in detail["partitions"])
    assert detail["groups"] == ["copier"]

    # Partition 1 browsed page by page up to an end fixed now, while the feed goes on.
    end = detail["partitions"][1]["end_offset"]
    browsed, offset = [], 0
    while offset < end:
        page = server.get("/api/v1/topics/events/messages", partition=1, offset=offset, limit=37)
        assert page["messages"], page
        assert [m["offset"] for m in page["messages"]] == list(range(offset, offset + len(page["messages"])))
        browsed += page["messages"]
        offset = page["next"]["partition"]["1"]
        assert offset == page["messages"][-1]["offset"] + 1
    browsed = [m for m in browsed if m["offset"] < end]
    assert all(m["partition"] == 1 and m["value_encoding"] == "json" and m["key_encoding"] == "utf8"
               for m in browsed)
    assert all(str(m["value"]["id"]) == m["key"] for m in browsed)

    # Every partition at once, merged by time: each partition's first records, in order.
    merged = server.get("/api/v1/topics/events/messages", limit=50)
    assert len(merged["messages"]) == 50
    times = [m["timestamp"] for m in merged["messages"]]
    assert times == sorted(times)
    for p in range(3):
        offsets = [m["offset"] for m in merged["messages"] if m["partition"] == p]
        assert offsets == list(range(len(offsets))), (p, offsets)
        assert merged["next"]["partition"][str(p)] == len(offsets)

    # JSON, text and binary values; a browse from a time.
    raw = server.get("/api/v1/topics/raw/messages")["messages"]
    assert [m["offset"] for m in raw] == list(range(6))
    assert raw[0]["value"] == {"a": [1, 2], "b": "x"} and raw[0]["value_encoding"] == "json"
    assert (raw[1]["value"], raw[1]["value_encoding"]) == ("plain text", "utf8")
    assert (raw[2]["value"], raw[2]["value_encoding"]) == ("café ünïcode", "utf8")
    assert raw[3]["value_encoding"] == "base64" and base64.b64decode(raw[3]["value"]) == RAW_VALUES[3]
    assert (raw[4]["value"], raw[5]["value"]) == ("late", 123)
    assert raw[0]["key"] is None and raw[0]["headers"] == []
    assert raw[0]["timestamp"].startswith("2023-11-14T22:13:20")
    middle = datetime.fromtimestamp((RAW_T0 + RAW_T1) / 2000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for when in [middle, str((RAW_T0 + RAW_T1) // 2)]:
        late = server.get("/api/v1/topics/raw/messages", timestamp=when)
        assert [m["offset"] for m in late["messages"]] == [4, 5], (when, late)
        assert late["next"]["partition"] == {"0": 6}
    after_all = server.get("/api/v1/topics/raw/messages", timestamp=str(RAW_T1 + 1))
    assert after_all["messages"] == [] and after_all["next"]["partition"] == {"0": 6}

    # Produce: by key (Kafka's murmur2 partition), into a partition, JSON and text values.
    status, keyed = server.request("POST", "/api/v1/topics/events/messages",
                                   {"key": "api-key", "value": {"n": 1, "s": "é"}, "headers": {"h1": "v1"}})
    assert status == 201, keyed
    assert keyed["partition"] == kafka_batch.partition_for_key(b"api-key", 3)
    status, text = server.request("POST", "/api/v1/topics/events/messages",
                                  {"value": "hello, world", "partition": 2, "headers": [{"key": "a", "value": "b"}]})
    assert status == 201 and text["partition"] == 2, text
    back = server.get("/api/v1/topics/events/messages", partition=keyed["partition"], offset=keyed["offset"], limit=1)
    message = back["messages"][0]
    assert (message["key"], message["value"], message["value_encoding"]) == ("api-key", {"n": 1, "s": "é"}, "json")
    assert message["headers"] == [{"key": "h1", "value": "v1", "value_encoding": "utf8"}]
    back = server.get("/api/v1/topics/events/messages", partition=2, offset=text["offset"], limit=1)
    assert (back["messages"][0]["value"], back["messages"][0]["value_encoding"]) == ("hello, world", "utf8")
    assert back["messages"][0]["key"] is None
    server.stop()

    # The segment files, read by an independent reader, hold what the API showed and what was produced.
    records = {r.offset: r for r in kafka_batch.read_partition(str(workdir / "data"), "events", 1)}
    for m in browsed:
        r = records[m["offset"]]
        assert r.key.decode() == m["key"] and json.loads(r.value) == m["value"]
    r = {r.offset: r for r in kafka_batch.read_partition(str(workdir / "data"), "events", keyed["partition"])}
    r = r[keyed["offset"]]
    assert r.key == b"api-key" and json.loads(r.value) == {"n": 1, "s": "é"} and r.headers == [("h1", b"v1")]
    r = {r.offset: r for r in kafka_batch.read_partition(str(workdir / "data"), "events", 2)}[text["offset"]]
    assert r.key is None and r.value == b"hello, world" and r.headers == [("a", b"b")]


def test_dead_letters_counted_by_reason_with_their_origin(api_server, workdir):  # noqa: F811
    bad = write_input(workdir)
    server = api_server(FEED)
    listed = server.wait_for("every dead letter", lambda: (
        (b := server.get("/api/v1/dead-letters"))["dead_letter_topics"]
        and b["dead_letter_topics"][0]["messages"] == len(bad) and b))
    assert listed["next_cursor"] is None
    (topic,) = listed["dead_letter_topics"]
    assert (topic["topic"], topic["pipeline"]) == ("clean.dlq", "clean")
    assert topic["reasons"] == {"invalid JSON": 3, "column 'age'": 2}

    letters = server.get("/api/v1/dead-letters/clean.dlq/messages", limit=2)
    assert len(letters["messages"]) == 2 and letters["next"]["partition"] == {"0": 2}
    rest = server.get("/api/v1/dead-letters/clean.dlq/messages", partition=0, offset=2)
    every = letters["messages"] + rest["messages"]
    assert [m["offset"] for m in every] == list(range(len(bad)))
    for m in every:
        stage, reason = bad[m["origin"]["offset"]]
        assert m["stage"] == stage and m["error"].startswith(reason), m
        assert m["origin"]["partition"] == 0 and "topic" not in m["origin"]   # a file source reads no topic
        assert {"key": "sluice.stage", "value": stage, "value_encoding": "utf8"} in m["headers"]
    assert {m["origin"]["offset"] for m in every} == set(bad)
    server.stop()
    on_disk = kafka_batch.read_partition(str(workdir / "data"), "clean.dlq", 0)
    assert [(r.offset, r.header("sluice.error")) for r in on_disk] == [(m["offset"], m["error"]) for m in every]


HOSTILE = [
    ("/api/v1/topics/events/messages?offset=-1", 400, "offset '-1'"),
    ("/api/v1/topics/events/messages?limit=1001", 400, "limit '1001'"),
    ("/api/v1/topics/events/messages?limit=99999999999999999999999", 400, "limit"),
    ("/api/v1/topics/events/messages?limit=abc", 400, "limit 'abc'"),
    ("/api/v1/topics/events/messages?partition=3", 404, "no partition 3 (it has 3: 0 to 2)"),
    ("/api/v1/topics/events/messages?partition=-1", 400, "partition '-1'"),
    ("/api/v1/topics/events/messages?timestamp=yesterday", 400, "timestamp 'yesterday'"),
    ("/api/v1/topics/events/messages?offset=1&timestamp=5", 400, "not both"),
    ("/api/v1/topics/%2E%2E/messages", 400, "'..' is not allowed"),
    ("/api/v1/topics/a%20b", 400, "character other than"),
    ("/api/v1/topics/" + "x" * 300, 400, "1 to 200 characters"),
    ("/api/v1/topics/a%2Fb", 404, "no such path"),
    ("/api/v1/topics/missing", 404, "no topic called 'missing'"),
    ("/api/v1/topics?limit=0", 400, "limit '0'"),
    ("/api/v1/topics?cursor=nothex", 400, "cursor 'nothex'"),
    ("/api/v1/dead-letters/events/messages", 404, "no dead-letter topic"),
    ("/api/v1/dead-letters?cursor=74", 400, "cursor"),
]

BAD_BODIES = [
    (b'{"value', 400, "not JSON"),
    (b"[1, 2]", 400, "must be a JSON object"),
    (b'{"key": "k"}', 400, "value is required"),
    (b'{"value": 1, "partition": 3}', 404, "no partition 3"),
    (b'{"value": 1, "partition": -1}', 400, "partition must be"),
    (b'{"value": 1, "key": 5}', 400, "key must be a string"),
    (b'{"value": 1, "headers": 5}', 400, "headers must be"),
    (b'{"value": 1, "headers": [{"key": "a"}]}', 400, "headers[0]"),
    (b'{"value": 1, "what": 1}', 400, "unknown field 'what'"),
]
# A body over 1 MiB is answered 413 from its Content-Length, before it is
# read, and the connection closed: test_http_hardening.py reads that answer
# on a raw socket, which a client still sending the body cannot.


def test_hostile_parameters_and_bodies_are_refused_with_the_reason(api_server, workdir):  # noqa: F811
    write_input(workdir)
    server = api_server(FEED)
    server.wait_for("the events topic", lambda: server.request("GET", "/api/v1/topics/events")[0] == 200)
    for path, status, words in HOSTILE:
        got, body = server.request("GET", path)
        assert got == status and words in body["error"], (path, got, body)
    before = events_detail(server)["messages"]
    for body, status, words in BAD_BODIES:
        got, answer = server.request("POST", "/api/v1/topics/events/messages", body)
        assert got == status and words in answer["error"], (body[:60], got, answer)
    got, answer = server.request("POST", "/api/v1/topics/missing/messages", {"value": 1})
    assert got == 404 and "no topic called 'missing'" in answer["error"]
    # Nothing was produced by the refused requests: the count only grows by the feed, and the
    # server is still healthy.
    assert events_detail(server)["messages"] >= before
    assert server.request("GET", "/healthz") == (200, {"status": "ok"})
    server.stop()
