"""test_hostile_segments.py — segment files whose offsets cannot be
represented (found by fuzzing the RecordBatch and segment recovery code).

Each case builds the hostile file in Python — a Kafka v2 RecordBatch with a
correct CRC-32C, or a segment named near INT64_MAX — next to a topic that
`sluice topic produce` created, then runs the real binary (ASan+UBSan build,
halting on the first report) and checks that it gives a clear error naming
the file, or recovers to a sane end offset, and never reports records as
stored that it cannot keep.
"""
import json
import os
import re
import struct

import kafka_batch
from e2e_util import sanitizer_reports

INT64_MAX = 2**63 - 1


def make_topic(sluice):
    result = sluice.run("topic", "produce", "events", "--data-dir", "data",
                        input='{"n":1}\n{"n":2}\n', timeout=30)
    assert result.returncode == 0, result.describe()


def partition_dir(workdir):
    return workdir / "data" / "topics" / "events" / "0"


def segment_name(base_offset):
    return f"{base_offset:020d}.log"


def no_sanitizer_reports(result):
    reports = sanitizer_reports(result.stderr)
    assert not reports, result.describe()


def test_sealed_segment_with_a_batch_at_int64_max_is_a_clear_read_error(sluice_asan, workdir):
    make_topic(sluice_asan)
    part = partition_dir(workdir)
    sealed = part / segment_name(0)
    sealed.write_bytes(kafka_batch.encode_batch(INT64_MAX, [b'{"n":"evil"}']))
    (part / segment_name(0)).with_suffix(".index").write_bytes(b"")
    (part / segment_name(5)).write_bytes(b"")

    result = sluice_asan.run("topic", "consume", "events", "--data-dir", "data", "--group", "readers",
                             timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode == 1, result.describe()
    assert str(sealed.name) in result.stderr and "offsets" in result.stderr, result.describe()
    offsets = workdir / "data" / "groups" / "readers" / "events.offsets"
    assert not offsets.exists() or offsets.read_text().split() in ([], ["0", "0"]), offsets.read_text()


def test_recovery_drops_a_tail_batch_whose_next_offset_overflows(sluice_asan, workdir):
    make_topic(sluice_asan)
    part = partition_dir(workdir)
    base = INT64_MAX - 1  # two records: offsets INT64_MAX-1 and INT64_MAX, next offset unrepresentable
    (part / segment_name(base)).write_bytes(kafka_batch.encode_batch(base, [b'{"n":3}', b'{"n":4}']))

    # A reader (describe takes no lock) sees the tail as not there and leaves it be ...
    size = (part / segment_name(base)).stat().st_size
    result = sluice_asan.run("topic", "describe", "events", "--data-dir", "data", timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode == 0, result.describe()
    assert "-9223372036854775808" not in result.stdout, result.stdout
    assert re.search(rf"^\s*0\s+0\s+{base}\s+", result.stdout, re.M), result.describe()
    assert (part / segment_name(base)).stat().st_size == size, "a reader cut the segment"

    # ... and the next writer cuts it off, saying why.
    result = sluice_asan.run("topic", "produce", "events", "--data-dir", "data", input="", timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode == 0, result.describe()
    assert "bad record count or offsets" in result.stderr and segment_name(base) in result.stderr, \
        result.describe()
    assert (part / segment_name(base)).stat().st_size == 0
    result = sluice_asan.run("topic", "describe", "events", "--data-dir", "data", timeout=60)
    assert re.search(rf"^\s*0\s+0\s+{base}\s+", result.stdout, re.M), result.describe()


def test_segment_named_int64_max_is_an_error_naming_the_file(sluice_asan, workdir):
    make_topic(sluice_asan)
    part = partition_dir(workdir)
    (part / segment_name(INT64_MAX)).write_bytes(b"")

    result = sluice_asan.run("topic", "produce", "events", "--data-dir", "data",
                             input='{"n":3}\n{"n":4}\n', timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode != 0, result.describe()
    assert "produced 2 records" not in result.stderr, result.describe()
    assert segment_name(INT64_MAX) in result.stderr, result.describe()
    assert (part / segment_name(INT64_MAX)).stat().st_size == 0


def test_produce_past_the_last_offset_is_refused_and_stores_nothing(sluice_asan, workdir):
    make_topic(sluice_asan)
    part = partition_dir(workdir)
    base = INT64_MAX - 1  # room for one record only
    (part / segment_name(base)).write_bytes(b"")

    result = sluice_asan.run("topic", "produce", "events", "--data-dir", "data",
                             input='{"n":3}\n{"n":4}\n', timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode != 0, result.describe()
    assert "produced 2 records" not in result.stderr, result.describe()
    assert "offset" in result.stderr, result.describe()
    assert (part / segment_name(base)).stat().st_size == 0

    # The one record that fits is stored and stays stored across a reopen.
    one = sluice_asan.run("topic", "produce", "events", "--data-dir", "data", input='{"n":5}\n', timeout=60)
    no_sanitizer_reports(one)
    assert one.returncode == 0, one.describe()
    described = sluice_asan.run("topic", "describe", "events", "--data-dir", "data", timeout=60)
    no_sanitizer_reports(described)
    assert re.search(rf"^\s*0\s+0\s+{INT64_MAX}\s+", described.stdout, re.M), described.describe()
    batches = kafka_batch.read_segment(str(part / segment_name(base)), 0)
    records = [r for b in batches for r in b.records]
    assert [(r.offset, r.value) for r in records] == [(base, b'{"n":5}')]


def test_sealed_segment_reaching_into_the_next_one_is_a_clear_read_error(sluice_asan, workdir):
    make_topic(sluice_asan)
    part = partition_dir(workdir)
    sealed = part / segment_name(0)
    # Offsets 0..1 are fine; the second batch claims 1000, past the next segment's base 2.
    sealed.write_bytes(kafka_batch.encode_batch(0, [b'{"n":1}', b'{"n":2}']) +
                       kafka_batch.encode_batch(1000, [b'{"n":"far"}']))
    (part / segment_name(2)).write_bytes(b"")

    result = sluice_asan.run("topic", "consume", "events", "--data-dir", "data", "--group", "readers",
                             timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode == 1, result.describe()
    assert "reach past the segment's end 2" in result.stderr and sealed.name in result.stderr, result.describe()
    assert '"far"' not in result.stdout, result.describe()
    offsets = workdir / "data" / "groups" / "readers" / "events.offsets"
    committed = offsets.read_text().split() if offsets.exists() else []
    assert committed in ([], ["0", "0"], ["0", "2"]), committed


def test_an_index_entry_past_its_offset_does_not_skip_records(sluice_asan, workdir):
    # One batch per produce, each ~360 bytes (random padding: compressed or not), so
    # the 4 KiB index interval gives a few entries.
    for i in range(40):
        result = sluice_asan.run("topic", "produce", "events", "--data-dir", "data",
                                 input=json.dumps({"n": i, "pad": os.urandom(150).hex()}) + "\n", timeout=30)
        assert result.returncode == 0, result.describe()
    part = partition_dir(workdir)
    index = part / segment_name(0).replace(".log", ".index")
    entries = [struct.unpack_from(">ii", index.read_bytes(), at) for at in range(0, index.stat().st_size, 8)]
    assert len(entries) >= 1, entries
    # The first entry now claims offset 2 sits where a later batch starts.
    relative, position = entries[0]
    assert relative > 3, entries
    index.write_bytes(struct.pack(">ii", 2, position) + index.read_bytes()[8:])

    result = sluice_asan.run("topic", "consume", "events", "--data-dir", "data", "--offset", "2", "--max", "3",
                             timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode == 0, result.describe()
    assert [json.loads(line)["n"] for line in result.stdout.splitlines()] == [2, 3, 4], result.describe()

    # An entry pointing inside a batch: the read scans from the segment start instead of failing.
    index.write_bytes(struct.pack(">ii", relative, position + 7) + index.read_bytes()[8:])
    result = sluice_asan.run("topic", "consume", "events", "--data-dir", "data", "--offset", str(relative),
                             "--max", "2", timeout=60)
    no_sanitizer_reports(result)
    assert result.returncode == 0, result.describe()
    assert [json.loads(line)["n"] for line in result.stdout.splitlines()] == [relative, relative + 1], \
        result.describe()
