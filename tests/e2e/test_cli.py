"""test_cli.py — the command line: version, --help, the topic commands
(produce / list / describe / consume with their options and consumer
groups), the data dir lock naming the owner's pid to a writer, and SIGINT to a --follow
run (drains, prints the summary, commits the group's offsets, exits 0).
"""
import json
import re
import signal
import time

import pytest

import kafka_batch
from e2e_util import finish, parse_summary

N = 30
LINES = [json.dumps({"user": f"user-{i:03d}", "n": i, "note": "é ü \"quoted\""}, ensure_ascii=False)
         for i in range(N)]


def produce(sluice, lines, *options):
    result = sluice.run("topic", "produce", "events", "--data-dir", "data", *options,
                        input="".join(line + "\n" for line in lines), timeout=30)
    assert result.returncode == 0, result.describe()
    return result


def consume(sluice, *options):
    result = sluice.run("topic", "consume", "events", "--data-dir", "data", *options, timeout=30)
    assert result.returncode == 0, result.describe()
    return [line for line in result.stdout.splitlines() if line]


def test_version(sluice):
    for args in (["version"], ["--version"]):
        result = sluice.run(*args, timeout=60)
        assert result.returncode == 0, result.describe()
        assert re.fullmatch(r"sluice \d+\.\d+\.\d+\S*\n", result.stdout), result.stdout


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["validate", "--help"], ["topic", "--help"]])
def test_help_exits_0_and_prints_usage(args, sluice):
    result = sluice.run(*args, timeout=60)
    assert result.returncode == 0, result.describe()
    assert result.stdout.startswith("usage: sluice"), result.stdout


def test_unknown_command_and_bad_options_are_usage_errors(sluice):
    for args in (["frobnicate"], ["run"], ["run", "a.yaml", "--for", "soon"], ["topic", "juggle", "x"],
                 ["topic", "consume", "events", "--max", "-3"],
                 ["topic", "create", "events", "--compression", "brotli"],
                 ["topic", "produce", "events", "--kafka", "127.0.0.1:9", "--compression", "lz4"]):
        result = sluice.run(*args, timeout=60)
        assert result.returncode == 2, result.describe()
        assert result.stderr, result.describe()


def test_topic_produce_list_describe_consume(sluice, workdir):
    result = produce(sluice, LINES, "--partitions", "3", "--key-path", "user")
    assert f"produced {N} records to events" in result.stderr

    # On disk, read independently: 3 partitions, keys by murmur2, values as given.
    topic = kafka_batch.read_topic(str(workdir / "data"), "events")
    assert sorted(topic) == [0, 1, 2]
    records = [r for rs in topic.values() for r in rs]
    assert sorted(r.value.decode() for r in records) == sorted(LINES)
    for partition, rs in topic.items():
        for r in rs:
            user = json.loads(r.value)["user"]
            assert r.key == user.encode()
            assert partition == kafka_batch.partition_for_key(r.key, 3), f"{user} in partition {partition}"
    ends = {p: len(rs) for p, rs in topic.items()}
    assert sum(ends.values()) == N and min(ends.values()) > 0

    listing = sluice.run("topic", "list", "--data-dir", "data", timeout=60)
    assert listing.returncode == 0, listing.describe()
    assert re.search(r"^events\s+3\s+30\s*$", listing.stdout, re.M), listing.stdout

    described = sluice.run("topic", "describe", "events", "--data-dir", "data", timeout=60)
    assert described.returncode == 0, described.describe()
    assert "3 partitions" in described.stdout
    for p, end in ends.items():
        assert re.search(rf"^\s*{p}\s+0\s+{end}\s+{end}\s*$", described.stdout, re.M), described.stdout

    # consume: every value, --max, --partition, --metadata
    assert sorted(consume(sluice)) == sorted(LINES)
    assert len(consume(sluice, "--max", "5")) == 5
    for p in range(3):
        assert consume(sluice, "--partition", str(p)) == [r.value.decode() for r in topic[p]]
    meta = [json.loads(line) for line in consume(sluice, "--metadata")]
    assert len(meta) == N
    on_disk = {(r.partition, r.offset): r for r in records}
    for obj in meta:
        r = on_disk[(obj["partition"], obj["offset"])]
        assert obj["key"] == r.key.decode()
        assert obj["value"] == r.value.decode()
        assert obj["timestamp"] == r.timestamp
        assert obj["headers"] == {}
    offset_one = consume(sluice, "--partition", "1", "--offset", "1")
    assert offset_one == [r.value.decode() for r in topic[1][1:]]

    missing = sluice.run("topic", "consume", "events", "--partition", "7", "--data-dir", "data", timeout=60)
    assert missing.returncode == 2 and "no partition 7" in missing.stderr, missing.describe()
    nothing = sluice.run("topic", "describe", "nope", "--data-dir", "data", timeout=60)
    assert nothing.returncode != 0 and "nope" in nothing.stderr, nothing.describe()


def test_consume_with_a_group_commits_and_resumes(sluice, workdir):
    produce(sluice, LINES, "--partitions", "3", "--key-path", "user")
    assert sorted(consume(sluice, "--group", "readers")) == sorted(LINES)
    assert consume(sluice, "--group", "readers") == [], "a second consume of the same group printed old records"
    more = [json.dumps({"user": f"late-{i}", "n": 100 + i}) for i in range(5)]
    produce(sluice, more, "--key-path", "user")
    assert sorted(consume(sluice, "--group", "readers")) == sorted(more)
    assert consume(sluice, "--group", "readers") == []
    # Another group starts from the beginning.
    assert len(consume(sluice, "--group", "others", "--max", "4")) == 4

    offsets = (workdir / "data" / "groups" / "readers" / "events.offsets").read_text()
    committed = {int(p): int(o) for p, o in (line.split() for line in offsets.splitlines() if line.strip())}
    topic = kafka_batch.read_topic(str(workdir / "data"), "events")
    assert committed == {p: len(rs) for p, rs in topic.items()}

    described = sluice.run("topic", "describe", "events", "--data-dir", "data", timeout=60)
    for p, end in committed.items():
        assert re.search(rf"^readers\s+{p}\s+{end}\s+0\s*$", described.stdout, re.M), described.stdout


def test_consume_with_a_group_and_max_commits_only_what_it_printed(sluice, workdir):
    """--max N with --group commits the offset after the last printed record of each partition,
    not everything it had read ahead (it once committed the whole batch it had fetched)."""
    produce(sluice, LINES[:4])
    assert consume(sluice, "--group", "g", "--max", "2") == LINES[:2]
    assert consume(sluice, "--group", "g") == LINES[2:4]
    assert consume(sluice, "--group", "g") == []

    # Three partitions: the committed offsets are exactly the printed ones + 1.
    result = sluice.run("topic", "produce", "wide", "--data-dir", "data", "--partitions", "3", "--key-path", "user",
                        input="".join(line + "\n" for line in LINES), timeout=30)
    assert result.returncode == 0, result.describe()
    wide = ["topic", "consume", "wide", "--data-dir", "data", "--group", "h"]
    first = sluice.run(*wide, "--max", "5", "--metadata", timeout=30)
    assert first.returncode == 0, first.describe()
    printed = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(printed) == 5
    last = {}
    for obj in printed:
        last[obj["partition"]] = max(last.get(obj["partition"], -1), obj["offset"])
    offsets = (workdir / "data" / "groups" / "h" / "wide.offsets").read_text()
    committed = {int(p): int(o) for p, o in (line.split() for line in offsets.splitlines() if line.strip())}
    assert {p: o for p, o in committed.items() if o > 0} == {p: o + 1 for p, o in last.items()}
    rest = sluice.run(*wide, timeout=30)
    assert rest.returncode == 0, rest.describe()
    assert sorted(rest.stdout.splitlines() + [o["value"] for o in printed]) == sorted(LINES)

    # A --partition/--offset read as a group commits that partition only.
    one = sluice.run("topic", "consume", "wide", "--data-dir", "data", "--group", "p1", "--partition", "1",
                     "--offset", "1", timeout=30)
    assert one.returncode == 0, one.describe()
    offsets = (workdir / "data" / "groups" / "p1" / "wide.offsets").read_text().split()
    assert offsets == ["1", str(1 + len(one.stdout.splitlines()))], offsets


FOLLOW = """\
pipelines:
  follow_events:
    source: { topic: { name: events, group: followers } }
    sink:   { file: { path: out.jsonl } }
"""


def wait_for_lines(path, n, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return True
        time.sleep(0.05)
    return False


def test_follow_run_holds_the_lock_and_stops_cleanly_on_sigint(sluice, workdir):
    produce(sluice, LINES, "--partitions", "3", "--key-path", "user")
    (workdir / "follow.yaml").write_text(FOLLOW)
    proc = sluice.popen("run", "follow.yaml", "--follow")
    try:
        assert wait_for_lines(workdir / "out.jsonl", N, timeout=20), "the --follow run did not copy the topic"
        time.sleep(0.5)
        assert proc.poll() is None, "a --follow run stopped by itself at the end of the topic"

        # A second writer on the same data dir: exit 1 naming the owner's pid
        # (readers such as topic list need no lock: test_topic_readers.py).
        second = sluice.run("topic", "produce", "events", "--data-dir", "data", input="x\n", timeout=60)
        assert second.returncode == 1, second.describe()
        assert str(proc.pid) in second.stderr, f"pid {proc.pid} not named: {second.stderr!r}"
        again = sluice.run("run", "follow.yaml", timeout=60)
        assert again.returncode == 1 and str(proc.pid) in again.stderr, again.describe()

        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code, out, err = finish(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, f"exit {code} after SIGINT\nstdout: {out}\nstderr: {err}"
    assert time.monotonic() - started < 30, "SIGINT took more than 30 s to stop the run"
    summary = parse_summary(err)
    assert summary.get("follow_events", {}).get("in") == N, err
    assert summary["follow_events"]["out"] == N, err

    copied = [json.loads(line) for line in (workdir / "out.jsonl").read_text().splitlines()]
    assert sorted(copied, key=lambda u: u["n"]) == [json.loads(line) for line in LINES]
    offsets = (workdir / "data" / "groups" / "followers" / "events.offsets").read_text()
    committed = {int(p): int(o) for p, o in (line.split() for line in offsets.splitlines() if line.strip())}
    topic = kafka_batch.read_topic(str(workdir / "data"), "events")
    assert committed == {p: rs[-1].offset + 1 for p, rs in topic.items()}, offsets

    # The lock is released: the topic commands work again and see the group with no lag.
    described = sluice.run("topic", "describe", "events", "--data-dir", "data", timeout=60)
    assert described.returncode == 0, described.describe()
    assert re.search(r"^followers\s+0\s+\d+\s+0\s*$", described.stdout, re.M), described.stdout
