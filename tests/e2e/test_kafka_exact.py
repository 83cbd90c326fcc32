"""test_kafka_exact.py — sluice places, stores and reads records exactly as Kafka would.

Keys: an empty key is a key (Kafka's partitioner hashes it: partition 1 of 4, 3 of 6), not a
null one; a number at a key path becomes its decimal text; other scalars their JSON text
(true -> "true"), objects and arrays their compact JSON; a missing or null path no key. Checked
against Kafka's own assignment (toPositive(murmur2(key)) % n, kafka_batch.partition_for_key) on
the embedded log, read from the segment files without sluice, and through the kafka sink on a
real broker, read back with confluent_kafka.

Segments: Kafka's own DumpLogSegments (real Kafka code, from the jars tests/servers/kafka.sh
fetched) reads what sluice wrote: every batch valid, the offset index sane and each entry the
last offset of the batch at its position (Kafka's OffsetIndex layout).
"""
import json
import subprocess
import time

import pytest

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


# ---- segments and indexes that Kafka's own DumpLogSegments reads ----------------------------

KAFKA_LIB = kafka_server.REPO / ".cache" / "kafka" / "lib"


def dump_log_segments(*args, timeout=120):
    """Runs Kafka's own org.apache.kafka.tools.DumpLogSegments (the jars kafka.sh fetched)."""
    result = subprocess.run(["java", "-cp", f"{KAFKA_LIB}/*", "org.apache.kafka.tools.DumpLogSegments", *args],
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"DumpLogSegments {args}: exit {result.returncode}\n{result.stderr[-3000:]}"
    return result.stdout + result.stderr


def write_topic(sluice, workdir, name, n_records, compression=None):
    """sluice topic produce of n_records keyed JSON lines into a 1-partition topic (4 KiB index
    interval, so a few hundred KiB of records give many index entries)."""
    if compression:
        create = sluice.run("topic", "create", name, "--data-dir", "data", "--compression", compression,
                            timeout=30)
        assert create.returncode == 0, create.describe()
    lines = "".join(json.dumps({"id": i, "text": f"record {i} " + "abcdefghij" * (i % 13)}) + "\n"
                    for i in range(n_records))
    result = sluice.run("topic", "produce", name, "--data-dir", "data", "--key-path", "id", input=lines,
                        timeout=60)
    assert result.returncode == 0, result.describe()
    return workdir / "data" / "topics" / name / "0" / "00000000000000000000"


def check_with_dump_log_segments(segment, n_records, codec_name):
    """Kafka reads the segment (every batch valid, with the codec, records decompressed in deep
    iteration) and its index (sane, every entry the last offset of the batch at its position)."""
    log, index = f"{segment}.log", f"{segment}.index"
    assert dump_log_segments("--files", index, "--index-sanity-check").count("passed sanity check") == 1
    verified = dump_log_segments("--files", f"{log},{index}", "--verify-index-only")
    assert "Mismatches" not in verified, verified[-3000:]
    entries = [line for line in dump_log_segments("--files", index).splitlines() if line.startswith("offset:")]
    assert len(entries) >= 3, entries
    deep = dump_log_segments("--files", log, "--deep-iteration", "--print-data-log")
    batches = [line for line in deep.splitlines() if line.startswith("baseOffset:")]
    assert batches and all("isvalid: true" in b for b in batches), deep[-3000:]
    assert all(f"compresscodec: {codec_name}" in b for b in batches), batches[:3]
    records = [line for line in deep.splitlines() if line.startswith("| offset:")]
    assert len(records) == n_records
    assert sum(int(b.split(" count: ")[1].split()[0]) for b in batches) == n_records
    return deep


@pytest.mark.parametrize("compression", [None, "none", "lz4", "zstd", "gzip", "snappy"])
def test_kafka_dump_log_segments_reads_sluice_segments_and_index(sluice, workdir, kafka_broker,  # noqa: F811
                                                                  compression):
    # kafka_broker: the session's broker; here only for the jars its start fetched.
    segment = write_topic(sluice, workdir, "dumped", 5000, compression)
    codec = compression or "lz4"  # a topic created without --compression: lz4
    described = sluice.run("topic", "describe", "dumped", "--data-dir", "data", timeout=30)
    assert f"1 partitions, compression {codec}" in described.stdout, described.describe()
    data = check_with_dump_log_segments(segment, 5000, codec)
    # Kafka's own decompression gives back the very records: spot-check payloads.
    for i in (0, 1234, 4999):
        assert f'key: {i} payload: {{"id": {i}, "text": "record {i} ' in data, f"record {i} not in Kafka's dump"
    # And sluice's independent test reader agrees with what sluice itself reads.
    records = kafka_batch.read_topic(str(workdir / "data"), "dumped")[0]
    assert [r.offset for r in records] == list(range(5000))
    assert {r.attributes & 7 for r in kafka_batch.read_segment(f"{segment}.log", 0)} == \
        {kafka_batch.CODECS_BY_NAME[codec]}
    consumed = sluice.run("topic", "consume", "dumped", "--data-dir", "data", timeout=60)
    assert consumed.returncode == 0, consumed.describe()
    assert consumed.stdout.splitlines() == [r.value.decode() for r in records]


def test_topic_sink_compression_setting_writes_that_codec(sluice, workdir):
    (workdir / "in.jsonl").write_text("".join(json.dumps({"id": i}) + "\n" for i in range(2000)))
    blocks = "".join(
        f"  w_{codec}:\n"
        "    source: { file: { path: in.jsonl } }\n"
        f"    sink:   {{ topic: {{ name: t_{codec}, partitions: 2, key: id{', compression: ' + codec if codec != 'default' else ''} }} }}\n"
        for codec in ("default", "none", "lz4", "zstd", "gzip", "snappy"))
    (workdir / "p.yaml").write_text("pipelines:\n" + blocks)
    result = sluice.run("run", "p.yaml", "--quiet", timeout=120)
    assert result.returncode == 0, result.describe()
    for codec in ("default", "none", "lz4", "zstd", "gzip", "snappy"):
        want = kafka_batch.CODECS_BY_NAME["lz4" if codec == "default" else codec]
        topic = kafka_batch.read_topic(str(workdir / "data"), f"t_{codec}")
        assert sorted(json.loads(r.value)["id"] for rs in topic.values() for r in rs) == list(range(2000))
        pdir = workdir / "data" / "topics" / f"t_{codec}"
        codecs = {b.attributes & 7 for p in (0, 1) for seg in kafka_batch.segment_files(str(pdir / str(p)))
                  for b in kafka_batch.read_segment(seg, p)}
        assert codecs == {want}, (codec, codecs)
    bad = workdir / "bad.yaml"
    bad.write_text("pipelines:\n  w:\n    source: { file: { path: in.jsonl } }\n"
                   "    sink:   { topic: { name: t, compression: brotli } }\n")
    result = sluice.run("validate", "bad.yaml", timeout=30)
    assert result.returncode == 2, result.describe()
    assert "brotli" in result.stderr and "bad.yaml:4" in result.stderr, result.stderr


# ---- segments the real broker wrote, read by sluice ------------------------------------------

@pytest.mark.parametrize("compression", ["none", "lz4", "zstd", "gzip", "snappy"])
def test_sluice_reads_segments_the_broker_wrote_with_each_codec(sluice, workdir, kafka_broker,  # noqa: F811
                                                                compression):
    name = f"broker_{compression}_{int(time.time() * 1000)}"
    kafka_server.create_topic(kafka_broker, name, 1)
    messages = [(None if i % 10 == 3 else (b"" if i % 10 == 4 else f"k{i}".encode()),
                 json.dumps({"i": i, "text": "broker record " * (i % 5)}).encode(), 0) for i in range(3000)]
    kafka_server.produce(kafka_broker, name, messages,
                         config={"compression.type": compression, "linger.ms": 20, "batch.size": 65536})
    codecs = kafka_server.broker_batch_codecs(kafka_broker, name)
    assert codecs and set(codecs) == {kafka_batch.CODECS_BY_NAME[compression]}, codecs

    # A sluice data dir made of the broker's own files (the broker keeps writing its copy).
    copy_broker_partition(kafka_broker, name, workdir)

    consumed = sluice.run("topic", "consume", name, "--data-dir", "data", "--metadata", timeout=60)
    assert consumed.returncode == 0, consumed.describe()
    got = [json.loads(line) for line in consumed.stdout.splitlines()]
    assert [r["offset"] for r in got] == list(range(3000))
    assert [r["value"].encode() for r in got] == [value for _, value, _ in messages]
    assert [None if r["key"] is None else r["key"].encode() for r in got] == [key for key, _, _ in messages]


def copy_broker_partition(kafka_broker, name, workdir):  # noqa: F811
    """A sluice data dir holding a copy of the broker's segment files of name's partition 0."""
    src = kafka_broker.data_dir / f"{name}-0"
    dst = workdir / "data" / "topics" / name / "0"
    dst.mkdir(parents=True)
    for path in src.iterdir():
        if path.suffix in (".log", ".index"):
            dst.joinpath(path.name).write_bytes(path.read_bytes())
    (dst.parent / "topic.conf").write_text("partitions=1\n")


def test_sluice_skips_the_transaction_markers_a_broker_wrote(sluice, workdir, kafka_broker):  # noqa: F811
    from confluent_kafka import Producer
    name = f"broker_txn_{int(time.time() * 1000)}"
    kafka_server.create_topic(kafka_broker, name, 1)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap, "transactional.id": f"{name}-tx",
                         "compression.type": "lz4"})
    producer.init_transactions(120)  # a fresh broker loads its transaction coordinator first
    for round_ in range(3):
        producer.begin_transaction()
        for i in range(100):
            producer.produce(name, key=f"k{round_}-{i}".encode(), value=f"v{round_}-{i}".encode(), partition=0)
        producer.commit_transaction(120)
    # The coordinator writes the commit markers (control batches, attributes bit 5) after
    # commit_transaction returns: wait until the broker's log holds all 3.
    deadline = time.monotonic() + 60
    while True:
        try:
            batches = [b for seg in kafka_batch.segment_files(str(kafka_broker.data_dir / f"{name}-0"))
                       for b in kafka_batch.read_segment(seg, 0)]
        except kafka_batch.CorruptBatch:  # a batch the broker is still writing
            batches = []
        if sum(1 for b in batches if b.attributes & 0x20) == 3:
            break
        assert time.monotonic() < deadline, [hex(b.attributes) for b in batches]
        time.sleep(0.2)
    copy_broker_partition(kafka_broker, name, workdir)
    consumed = sluice.run("topic", "consume", name, "--data-dir", "data", timeout=60)
    assert consumed.returncode == 0, consumed.describe()
    assert consumed.stdout.splitlines() == [f"v{r}-{i}" for r in range(3) for i in range(100)]
