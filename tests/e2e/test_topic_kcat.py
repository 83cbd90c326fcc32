"""test_topic_kcat.py — the kcat-like options of `sluice topic` on the embedded log, through the
real binary, with what was written checked independently on disk (kafka_batch.py):

- consume -o beginning | end | N | -N | @MS | s@MS, per partition; an absolute offset outside a
  partition's range and a partition that does not exist are exit 2 giving the valid range;
- -c N (consume and produce), -e (the default end) and its contradiction with --follow;
- -f with every format letter, escapes, headers and keys; -K DELIM; key-only output; bad formats;
- produce KEY<TAB>VALUE lines (-K '\\t'), -k, --key-path (strings and numbers), -p P, -H;
- create --partitions 0 / negative / above the limit and produce --partitions against an existing
  topic with another count: exit 2 naming the counts;
- SIGINT and SIGTERM end consume --follow with exit 0, and with --group commit what was printed;
- options that do not apply to a verb, and contradicting ones, are exit 2 (not ignored).
"""
import json
import signal
import struct
import time

import pytest

import kafka_batch
from e2e_util import LineReader, sanitizer_reports


def run(sluice, *args, input=None, code=0):
    result = sluice.run("topic", *args, "--data-dir", "data", input=input, timeout=60)
    assert result.returncode == code, result.describe()
    return result


def lines_of(values):
    return "".join(v + "\n" for v in values)


def on_disk(workdir, topic):
    return kafka_batch.read_topic(str(workdir / "data"), topic)


def two_partitions(sluice):
    """Topic t: partition 0 holds a0..a9, partition 1 holds b0..b3."""
    run(sluice, "create", "t", "--partitions", "2")
    run(sluice, "produce", "t", "-p", "0", input=lines_of(f"a{i}" for i in range(10)))
    run(sluice, "produce", "t", "-p", "1", input=lines_of(f"b{i}" for i in range(4)))


def printed(sluice, *args):
    """(partition, offset, value) of each record consume prints."""
    out = run(sluice, "consume", "t", "-f", "%p %o %s\\n", *args).stdout
    return [(int(p), int(o), v) for p, o, v in (line.split(" ", 2) for line in out.splitlines())]


def expected(topic, starts):
    return [(p, r.offset, r.value.decode()) for p in sorted(starts) for r in topic[p] if r.offset >= starts[p]]


def test_offset_forms(sluice, workdir):
    two_partitions(sluice)
    topic = on_disk(workdir, "t")
    assert [len(topic[0]), len(topic[1])] == [10, 4]
    assert printed(sluice) == expected(topic, {0: 0, 1: 0})
    assert printed(sluice, "-o", "beginning") == expected(topic, {0: 0, 1: 0})
    assert printed(sluice, "-o", "end") == []
    assert printed(sluice, "-o", "3") == expected(topic, {0: 3, 1: 3})
    assert printed(sluice, "--offset", "4") == expected(topic, {0: 4, 1: 4})
    assert printed(sluice, "-o", "-2") == expected(topic, {0: 8, 1: 2})
    assert printed(sluice, "-o", "-100") == expected(topic, {0: 0, 1: 0})
    assert printed(sluice, "-o", "-0") == []
    assert printed(sluice, "-p", "0", "-o", "7") == expected(topic, {0: 7})
    assert printed(sluice, "-p", "1", "-o", "4") == []

    # Past the end of one partition (or of every one): exit 2 with the valid range.
    for args, partition, valid in ((["-o", "5"], 1, "0..4"), (["-o", "11"], 0, "0..10"),
                                   (["-p", "1", "-o", "9"], 1, "0..4")):
        result = run(sluice, "consume", "t", *args, code=2)
        assert f"partition {partition}: offset" in result.stderr and f"out of range {valid}" in result.stderr, \
            result.describe()
        assert result.stdout == ""
    for bad in ("soon", "@", "s@x", "--3", "1.5", ""):
        result = run(sluice, "consume", "t", "-o", bad, code=2)
        assert "beginning, end" in result.stderr, result.describe()


def test_offset_by_timestamp_per_partition(sluice, workdir):
    run(sluice, "create", "t", "--partitions", "2")
    run(sluice, "produce", "t", "-p", "0", input=lines_of(f"early{i}" for i in range(3)))
    run(sluice, "produce", "t", "-p", "1", input="early-b\n")
    newest = max(r.timestamp for rs in on_disk(workdir, "t").values() for r in rs)
    deadline = time.monotonic() + 30
    while time.time() * 1000 <= newest + 1:
        assert time.monotonic() < deadline, "the wall clock did not pass the first records' timestamps"
        time.sleep(0.01)
    run(sluice, "produce", "t", "-p", "0", input=lines_of(f"late{i}" for i in range(2)))
    run(sluice, "produce", "t", "-p", "1", input="late-b\n")
    topic = on_disk(workdir, "t")
    late = min(r.timestamp for rs in topic.values() for r in rs if r.value.startswith(b"late"))
    assert late > newest

    starts = {p: next(r.offset for r in rs if r.timestamp >= late) for p, rs in topic.items()}
    assert starts == {0: 3, 1: 1}
    assert printed(sluice, "-o", f"@{late}") == expected(topic, starts)
    assert printed(sluice, "-o", f"s@{late}") == expected(topic, starts)
    assert printed(sluice, "-o", f"@{late}", "-p", "1") == expected(topic, {1: 1})
    assert printed(sluice, "-o", "@0") == expected(topic, {0: 0, 1: 0})
    assert printed(sluice, "-o", f"@{late + 10 ** 9}") == []


def test_partition_that_does_not_exist_is_exit_2_for_every_verb(sluice):
    two_partitions(sluice)
    for verb, stdin in (("consume", None), ("produce", "x\n")):
        result = run(sluice, verb, "t", "-p", "2", input=stdin, code=2)
        assert "topic t has 2 partitions (0..1); no partition 2" in result.stderr, result.describe()
    result = run(sluice, "consume", "t", "-p", "-1", code=2)
    assert "-p/--partition -1 is out of range" in result.stderr, result.describe()


def test_max_and_exit(sluice, workdir):
    two_partitions(sluice)
    assert len(printed(sluice, "-c", "3")) == 3
    assert len(printed(sluice, "--max", "14")) == 14
    assert len(printed(sluice, "-c", "100")) == 14
    assert printed(sluice, "-e") == printed(sluice)
    result = run(sluice, "consume", "t", "-e", "--follow", code=2)
    assert "contradict" in result.stderr, result.describe()
    for bad in ("0", "-3", "x"):
        run(sluice, "consume", "t", "-c", bad, code=2)

    result = run(sluice, "produce", "t", "-p", "1", "-c", "2", input=lines_of(["c0", "c1", "c2", "c3"]))
    assert "produced 2 records" in result.stderr
    assert [r.value for r in on_disk(workdir, "t")[1]][-3:] == [b"b3", b"c0", b"c1"]


def test_produce_key_tab_value_headers_and_partition(sluice, workdir):
    lines = ["alpha\t{\"n\":1}", "beta\tsecond\twith tab", "no delimiter here", "\tempty key", "gamma\t"]
    result = run(sluice, "produce", "kv", "--partitions", "3", "-K", "\\t", "-H", "source=test", "-H", "empty=",
                 input=lines_of(lines))
    assert "produced 5 records" in result.stderr
    records = {r.value: r for rs in on_disk(workdir, "kv").values() for r in rs}
    expected_pairs = {b'{"n":1}': b"alpha", b"second\twith tab": b"beta", b"no delimiter here": None,
                      b"empty key": b"", b"": b"gamma"}
    assert {v: r.key for v, r in records.items()} == expected_pairs
    for r in records.values():
        assert r.headers == [("source", b"test"), ("empty", b"")]
        if r.key is not None:
            assert r.partition == kafka_batch.partition_for_key(r.key, 3), r

    # -k gives the records without a key of their own one; -p puts all of them in one partition.
    run(sluice, "produce", "fixed", "--partitions", "3", "-K", "\t", "-k", "dflt", "-p", "2",
        input=lines_of(["own\tv1", "v2"]))
    topic = on_disk(workdir, "fixed")
    assert [len(topic[p]) for p in range(3)] == [0, 0, 2]
    assert [(r.key, r.value) for r in topic[2]] == [(b"own", b"v1"), (b"dflt", b"v2")]


def test_produce_key_path_strings_and_numbers(sluice, workdir):
    lines = [json.dumps({"id": "abc"}), json.dumps({"id": 42}), json.dumps({"id": 1.5}), json.dumps({"x": 1}),
             "not json"]
    run(sluice, "produce", "kp", "--key-path", "id", "-k", "none", input=lines_of(lines))
    keys = [r.key for r in on_disk(workdir, "kp")[0]]
    assert keys == [b"abc", b"42", b"1.5", b"none", b"none"]
    run(sluice, "produce", "kp", "--key-path", "a..b", input="{}\n", code=2)


def test_format_letters_headers_and_keys(sluice, workdir):
    run(sluice, "produce", "f", "--partitions", "2", "-K", "|", "-H", "h1=one", "-H", "h2=x=y",
        input=lines_of(["k1|value one", "plain", "k2|"]))
    records = sorted((r for rs in on_disk(workdir, "f").values() for r in rs), key=lambda r: (r.partition, r.offset))
    assert len(records) == 3

    fmt = "%t|%p|%o|%k|%K|%s|%v|%S|%T|%h|%%|\\t|\\\\|\\x41\\n"
    out = run(sluice, "consume", "f", "-f", fmt).stdout
    want = []
    for r in records:
        key = r.key.decode() if r.key is not None else ""
        key_len = len(r.key) if r.key is not None else -1
        value = r.value.decode()
        want.append(f"f|{r.partition}|{r.offset}|{key}|{key_len}|{value}|{value}|{len(r.value)}|{r.timestamp}|"
                    f"h1=one,h2=x=y|%|\t|\\|A")
    assert out.splitlines() == want, out

    # %R: the value length as 4 big-endian bytes.
    raw = sluice.run("topic", "consume", "f", "--data-dir", "data", "-p", str(records[0].partition), "-o",
                     str(records[0].offset), "-c", "1", "-f", "%R", timeout=60)
    assert raw.returncode == 0, raw.describe()
    assert raw.stdout.encode() == struct.pack(">i", len(records[0].value))

    # Key only, and -K's KEY<DELIM>VALUE.
    assert run(sluice, "consume", "f", "-f", "%k\\n").stdout.splitlines() == \
        [r.key.decode() if r.key is not None else "" for r in records]
    assert run(sluice, "consume", "f", "-K", " => ").stdout.splitlines() == \
        [f"{r.key.decode() if r.key is not None else ''} => {r.value.decode()}" for r in records]
    # The default is the value; --metadata stays JSON with headers and keys.
    assert run(sluice, "consume", "f").stdout.splitlines() == [r.value.decode() for r in records]
    meta = [json.loads(line) for line in run(sluice, "consume", "f", "--metadata").stdout.splitlines()]
    assert [(m["partition"], m["offset"], m["key"], m["headers"], m["value"]) for m in meta] == \
        [(r.partition, r.offset, r.key.decode() if r.key is not None else None, {"h1": "one", "h2": "x=y"},
          r.value.decode()) for r in records]

    for bad, why in (("%q", "unknown format letter '%q'"), ("abc%", "lone '%'"), ("\\q", "unknown escape"),
                     ("\\x4", "two hex digits"), ("tail\\", "lone '\\'"), ("", "empty")):
        result = run(sluice, "consume", "f", "-f", bad, code=2)
        assert why in result.stderr, result.describe()
    for args in (["-f", "%s", "--metadata"], ["-f", "%s", "-K", ":"], ["--metadata", "-K", ":"]):
        result = run(sluice, "consume", "f", *args, code=2)
        assert "give one" in result.stderr, result.describe()


def test_partition_counts(sluice, workdir):
    for bad in ("0", "-1", "10001", "many"):
        result = run(sluice, "create", "c", "--partitions", bad, code=2)
        assert "--partitions" in result.stderr, result.describe()
        assert not (workdir / "data" / "topics" / "c").exists()
    assert "out of range 1..10000" in run(sluice, "create", "c", "--partitions", "0", code=2).stderr
    run(sluice, "create", "c", "--partitions", "3")
    run(sluice, "create", "c", "--partitions", "3")
    run(sluice, "create", "c")
    result = run(sluice, "create", "c", "--partitions", "4", code=2)
    assert "topic 'c' exists with 3 partitions, not the 4 asked for" in result.stderr, result.describe()
    result = run(sluice, "produce", "c", "--partitions", "2", input="x\n", code=2)
    assert "topic 'c' exists with 3 partitions, not the 2 asked for" in result.stderr, result.describe()
    assert sum(len(rs) for rs in on_disk(workdir, "c").values()) == 0
    run(sluice, "produce", "c", input="x\n")
    run(sluice, "produce", "c", "--partitions", "3", input="y\n")
    assert sum(len(rs) for rs in on_disk(workdir, "c").values()) == 2
    result = run(sluice, "create", "c", "--compression", "zstd", code=2)
    assert "exists with compression lz4, not the zstd asked for" in result.stderr, result.describe()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_follow_ends_on_a_signal_with_exit_0_and_commits_for_its_group(sluice_asan, workdir, stop):
    values = [f"v{i}" for i in range(6)]
    run(sluice_asan, "produce", "t", "--partitions", "2", "-K", ":", input=lines_of(f"k{i}:{v}" for i, v in
                                                                                   enumerate(values)))
    proc = sluice_asan.popen("topic", "consume", "t", "--data-dir", "data", "--follow", "-G", "g", "-c", "100")
    reader = LineReader(proc)
    try:
        reader.wait_for(len(values))
        assert proc.poll() is None, "consume --follow stopped by itself at the end"
        proc.send_signal(stop)
        code, err = reader.finish(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    assert not sanitizer_reports(err), err
    assert sorted(reader.lines) == values
    offsets = (workdir / "data" / "groups" / "g" / "t.offsets").read_text()
    committed = {int(p): int(o) for p, o in (line.split() for line in offsets.splitlines() if line.strip())}
    assert committed == {p: len(rs) for p, rs in on_disk(workdir, "t").items()}
    assert run(sluice_asan, "consume", "t", "-G", "g").stdout == ""


def test_options_a_verb_does_not_take_and_contradictions_are_exit_2(sluice):
    two_partitions(sluice)
    for args, words in ((["list", "--follow"], "--follow applies to consume, not to list"),
                        (["produce", "t", "-o", "1"], "-o/--offset applies to consume, not to produce"),
                        (["describe", "t", "-f", "%s"], "-f/--format applies to consume"),
                        (["consume", "t", "-H", "a=b"], "-H/--header applies to produce"),
                        (["consume", "t", "--partitions", "2"], "--partitions applies to create and produce"),
                        (["consume", "t", "-X", "a=b"], "needs --kafka"),
                        (["produce", "t", "-K", ":", "--key-path", "id"], "give one"),
                        (["produce", "t", "-H", "novalue"], "is not NAME=VALUE"),
                        (["produce", "t", "-K", ""], "empty"),
                        (["list", "--config", "x.yaml"], "give one"),
                        (["describe"], "which topic?"),
                        (["list", "t"], "takes no topic name"),
                        (["juggle", "t"], "unknown verb 'juggle'"),
                        (["delete", "t", "--kafka", "127.0.0.1:1"], "give one")):
        result = run(sluice, *args, input="", code=2)
        assert words in result.stderr, result.describe()
    result = sluice.run("topic", "delete", "t", "--kafka", "127.0.0.1:1", timeout=60)
    assert result.returncode == 2 and "not available with --kafka" in result.stderr, result.describe()


def test_describe_group_shows_only_that_group(sluice):
    two_partitions(sluice)
    run(sluice, "consume", "t", "-G", "one", "-c", "3")
    run(sluice, "consume", "t", "-G", "two")
    both = run(sluice, "describe", "t").stdout
    assert "one " in both and "two " in both, both
    only = run(sluice, "describe", "t", "-G", "one").stdout
    rows = [line.split() for line in only.splitlines() if line.startswith("one") or line.startswith("two")]
    assert {row[0] for row in rows} == {"one"}, only
    absent = run(sluice, "describe", "t", "-G", "nobody").stdout
    assert [line.split()[2] for line in absent.splitlines() if line.startswith("nobody")] == ["-", "-"], absent


def test_help_lists_every_verb_option_and_letter(sluice):
    result = sluice.run("topic", "--help", timeout=60)
    assert result.returncode == 0, result.describe()
    for word in ("list", "describe", "create", "delete", "produce", "consume", "--offset", "--max", "--exit",
                 "--follow", "--format", "--key-delimiter", "--metadata", "--group", "--key-path", "--header",
                 "--property", "--kafka", "%k", "%h", "%T", "%S"):
        assert word in result.stdout, word
