"""test_dead_letters.py — a dead letter keeps the whole original record, and
the summary's counts add up (in = out + filtered + dlq).

An 11-line JSON-lines file mixes good lines, lines the SQL's WHERE filters,
malformed JSON, values the SQL cannot CAST and two 5 MB lines over the file
source's max_record_bytes (1 MiB), the last of them without a newline. Every
dead letter, read back from the segment files with the independent reader
(kafka_batch.py) and with `sluice topic consume --metadata`, holds the
original line byte for byte (sha256 for the 5 MB ones) and the reason. A
line over the dead-letter topic's own limit (dlq_max_record_bytes) fails the
run instead of being stored cut short.
"""
import hashlib
import json
import re
import sqlite3

import kafka_batch
from e2e_util import parse_summary

PIPELINE = "clean"
DLQ = f"{PIPELINE}.dlq"


def config(extra=""):
    return f"""\
pipelines:
  {PIPELINE}:
    source:    {{ file: {{ path: events.jsonl }} }}
    transform: {{ sql: "SELECT lower(email) AS email, CAST(age AS INT) AS age FROM input WHERE CAST(age AS INT) >= 0" }}
    sink:      {{ sqlite: {{ path: data/events.db, table: events, key: [email] }} }}
{extra}"""


def big_line(name):
    return '{"email":"' + name + '@example.com","age":"1","pad":"' + "x" * (5 * 1024 * 1024) + '"}'


# (line, stage or None when not dead-lettered, regex the reason must match)
LINES = [
    ('{"email":"Ann@Example.com","age":"30"}', None, None),
    ('{"email":"minus1@example.com","age":"-1"}', None, None),                     # filtered
    ('this is not json', "parse", r"^invalid JSON"),
    ('{"email":"Bob@Example.com","age":41}', None, None),
    ('{"email":"minus2@example.com","age":-7}', None, None),                       # filtered
    ('{"email":"typo@example.com","age":"abc"}', "transform", r"(?i)cast.*'abc'.*INT"),
    (big_line("big1"), "source", r"is 5242\d\d\d bytes, over max_record_bytes 1048576"),
    ('{"email":"trunc@example.com","age":', "parse", r"^invalid JSON"),
    ('{"email":"typo2@example.com","age":"12x"}', "transform", r"(?i)cast.*'12x'.*INT"),
    ('{"email":"comma@example.com","age":"5",}', "parse", r"^invalid JSON"),
    (big_line("big2"), "source", r"is 5242\d\d\d bytes, over max_record_bytes 1048576"),   # no newline
]


def write_input(workdir):
    """Writes events.jsonl (the last line without a newline); returns {byte offset: (line, stage, regex)}."""
    bad, position = {}, 0
    with open(workdir / "events.jsonl", "wb") as f:
        for i, (line, stage, reason) in enumerate(LINES):
            data = line.encode() + (b"" if i == len(LINES) - 1 else b"\n")
            if stage:
                bad[position] = (line, stage, reason)
            f.write(data)
            position += len(data)
    return bad


def check_letter(bad, offset, stage, reason, value):
    assert offset in bad, f"dead letter with source offset {offset} is no bad line's start ({sorted(bad)})"
    line, want_stage, want_reason = bad[offset]
    assert stage == want_stage, f"line at byte {offset}: stage {stage!r}, expected {want_stage!r}"
    assert reason and re.search(want_reason, reason), f"line at byte {offset}: reason {reason!r}"
    if want_stage in ("source", "parse"):
        # The whole original bytes, not a head of them.
        assert len(value) == len(line.encode()), f"line at byte {offset}: {len(value)} bytes, not {len(line)}"
        assert hashlib.sha256(value).hexdigest() == hashlib.sha256(line.encode()).hexdigest()
    else:
        assert json.loads(line)["email"].encode() in value


def test_dead_letters_hold_whole_records_and_counts_add_up(sluice, workdir):
    (workdir / "pipeline.yaml").write_text(config())
    bad = write_input(workdir)
    result = sluice.run("run", "pipeline.yaml", timeout=180)
    assert result.returncode == 0, result.describe()
    row = parse_summary(result.stderr)[PIPELINE]
    assert (row["out"], row["filtered"], row["dlq"]) == (2, 2, 7), result.describe()
    assert row["in"] == row["out"] + row["filtered"] + row["dlq"] == len(LINES), result.describe()

    con = sqlite3.connect(workdir / "data" / "events.db")
    assert sorted(con.execute("SELECT email, age FROM events")) == [("ann@example.com", 30), ("bob@example.com", 41)]
    con.close()

    letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), DLQ).values() for r in rs]
    assert len(letters) == len(bad)
    for r in letters:
        check_letter(bad, int(r.header("sluice.source.offset")), r.header("sluice.stage"), r.header("sluice.error"),
                     r.value or b"")
    assert {int(r.header("sluice.source.offset")) for r in letters} == set(bad)

    consumed = sluice.run("topic", "consume", DLQ, "--metadata", "--data-dir", "data", timeout=60)
    assert consumed.returncode == 0, consumed.describe()
    objects = [json.loads(line) for line in consumed.stdout.splitlines() if line.strip()]
    assert len(objects) == len(bad)
    for obj in objects:
        h = obj["headers"]
        check_letter(bad, int(h["sluice.source.offset"]), h["sluice.stage"], h["sluice.error"],
                     obj["value"].encode())


def test_a_record_over_the_dead_letter_limit_fails_the_run(sluice, workdir):
    (workdir / "pipeline.yaml").write_text(config("    dlq_max_record_bytes: 4MiB\n"))
    write_input(workdir)
    result = sluice.run("run", "pipeline.yaml", timeout=180)
    assert result.returncode == 1, result.describe()
    assert re.search(r"line 7 at byte \d+ is 5242\d\d\d bytes.*dlq_max_record_bytes 4194304", result.stderr), \
        result.describe()
    assert parse_summary(result.stderr)[PIPELINE]["state"] == "failed", result.describe()
    # Nothing was stored cut short.
    if (workdir / "data" / "topics" / DLQ).exists():
        letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), DLQ).values() for r in rs]
        assert all(r.header("sluice.stage") != "source" for r in letters)
