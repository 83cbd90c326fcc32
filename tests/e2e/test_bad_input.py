"""test_bad_input.py — bad records go to the dead-letter topic, good ones
are stored, the run goes on and exits 0.

A JSON-lines file mixes good lines with malformed JSON (not JSON, truncated,
trailing comma), a value the SQL cannot CAST, and a 2 MiB line over the
file source's default max_record_bytes (1 MiB). The pipeline is file -> SQL
-> SQLite. The dead letters are read twice: from the segment files with the
independent reader (kafka_batch.py) and with `sluice topic consume --metadata`.
"""
import json
import re
import sqlite3

import kafka_batch
from e2e_util import parse_summary

PIPELINE = "clean_events"
DLQ = f"{PIPELINE}.dlq"

CONFIG = f"""\
pipelines:
  {PIPELINE}:
    source:    {{ file: {{ path: events.jsonl }} }}
    transform: {{ sql: "SELECT lower(email) AS email, CAST(age AS INT) AS age FROM input" }}
    sink:      {{ sqlite: {{ path: data/events.db, table: events, key: [email] }} }}
"""

BIG_PAD = "x" * (2 * 1024 * 1024)

# (line, expected stage or None when good, a regex the reason must match)
LINES = [
    ('{"email":"Ann@Example.com","age":"30"}', None, None),
    ('this is not json', "parse", r"^invalid JSON: line 1 column 1\b"),
    ('{"email":"trunc@example.com","age":', "parse", r"^invalid JSON: line 1 column 36\b.*(?i:end)"),
    ('{"email":"comma@example.com","age":"5",}', "parse", r"^invalid JSON: line 1 column \d+.*(?i:comma)"),
    ('{"email":"Bob@Example.com","age":41}', None, None),
    ('{"email":"typo@example.com","age":"abc"}', "transform", r"(?i)age.*cast.*'abc'.*INT"),
    ('{"email":"big@example.com","age":"1","pad":"' + BIG_PAD + '"}', "source", r"over max_record_bytes 1048576"),
    ('{"email":"Cy@example.com","age":"7"}', None, None),
    ('{"email":"dee@example.com","age":19}', None, None),
]

GOOD_ROWS = [("ann@example.com", 30), ("bob@example.com", 41), ("cy@example.com", 7), ("dee@example.com", 19)]


def write_input(workdir):
    """Writes events.jsonl; returns {byte offset of a bad line: (line, stage, reason regex)}."""
    offsets = {}
    position = 0
    with open(workdir / "events.jsonl", "wb") as f:
        for line, stage, reason in LINES:
            data = line.encode() + b"\n"
            if stage:
                offsets[position] = (line, stage, reason)
            f.write(data)
            position += len(data)
    return offsets


def check_letter(offset, stage, reason, value, pipeline, partition, bad):
    assert offset in bad, f"dead letter with source offset {offset}, which is no bad line's start ({sorted(bad)})"
    line, want_stage, want_reason = bad[offset]
    assert stage == want_stage, f"line at byte {offset}: stage {stage!r}, expected {want_stage!r}"
    assert reason and re.search(want_reason, reason), \
        f"line at byte {offset}: reason {reason!r} does not name the problem ({want_reason})"
    assert pipeline == PIPELINE
    assert partition == "0"
    if want_stage == "parse":
        assert value == line, f"parse dead letter at byte {offset} holds {value[:80]!r}, not the original line"
    if want_stage == "transform":
        assert "typo@example.com" in value


def test_bad_records_go_to_the_dlq_and_good_ones_are_stored(sluice, workdir):
    (workdir / "pipeline.yaml").write_text(CONFIG)
    bad = write_input(workdir)
    result = sluice.run("run", "pipeline.yaml", timeout=120)
    assert result.returncode == 0, result.describe()

    summary = parse_summary(result.stderr)
    assert PIPELINE in summary, result.describe()
    row = summary[PIPELINE]
    assert row["out"] == len(GOOD_ROWS), result.describe()
    assert row["dlq"] == len(bad), result.describe()
    assert row["filtered"] == 0
    # The oversized line, rejected by the source before it is a record, is input all the same.
    assert row["in"] == len(LINES) == row["out"] + row["filtered"] + row["dlq"], result.describe()
    assert row["state"] == "ok"
    assert f"{len(bad)} dead letters in topic {DLQ}" in result.stderr, result.describe()

    con = sqlite3.connect(workdir / "data" / "events.db")
    rows = sorted(con.execute("SELECT email, age FROM events"))
    con.close()
    assert rows == GOOD_ROWS

    # The dead letters from disk, decoded independently (CRC-checked).
    topic = kafka_batch.read_topic(str(workdir / "data"), DLQ)
    letters = [r for records in topic.values() for r in records]
    assert len(letters) == len(bad), [r.header("sluice.error") for r in letters]
    for r in letters:
        check_letter(int(r.header("sluice.source.offset")), r.header("sluice.stage"), r.header("sluice.error"),
                     (r.value or b"").decode("utf-8", errors="replace"), r.header("sluice.pipeline"),
                     r.header("sluice.source.partition"), bad)
    assert {int(r.header("sluice.source.offset")) for r in letters} == set(bad)

    # The same through the CLI.
    consumed = sluice.run("topic", "consume", DLQ, "--metadata", "--data-dir", "data", timeout=60)
    assert consumed.returncode == 0, consumed.describe()
    objects = [json.loads(line) for line in consumed.stdout.splitlines() if line.strip()]
    assert len(objects) == len(bad), consumed.describe()
    for obj in objects:
        assert set(obj) >= {"partition", "offset", "timestamp", "key", "headers", "value"}, obj.keys()
        h = obj["headers"]
        check_letter(int(h["sluice.source.offset"]), h.get("sluice.stage"), h.get("sluice.error"),
                     obj["value"], h.get("sluice.pipeline"), h.get("sluice.source.partition"), bad)
    assert sorted((o["partition"], o["offset"]) for o in objects) == \
        sorted((r.partition, r.offset) for r in letters)


def test_bad_input_run_is_idempotent_for_the_table(sluice, workdir):
    """A second run that reads the same file again (start: beginning; a plain rerun continues
    after what was read) leaves the keyed table unchanged."""
    write_input(workdir)
    for config in (CONFIG, CONFIG.replace("{ path: events.jsonl }", "{ path: events.jsonl, start: beginning }")):
        (workdir / "pipeline.yaml").write_text(config)
        result = sluice.run("run", "pipeline.yaml", timeout=120)
        assert result.returncode == 0, result.describe()
        assert parse_summary(result.stderr)[PIPELINE]["out"] == len(GOOD_ROWS), result.describe()
    con = sqlite3.connect(workdir / "data" / "events.db")
    assert sorted(con.execute("SELECT email, age FROM events")) == GOOD_ROWS
    con.close()
