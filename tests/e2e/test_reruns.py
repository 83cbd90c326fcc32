"""test_reruns.py — a rerun continues where the last run's sinks had
everything, instead of repeating it (the file source keeps a position per
file, path + inode, like Filebeat's registry; the generator commits its
index like an offset), and `start: beginning` forces a re-read.

- file -> file: a rerun reads only the lines appended since;
- a file truncated or replaced since the last run is read from its start,
  with a warning naming it;
- a glob keeps one position per file;
- `start: beginning` reads every line again;
- a generator with `count: N` run twice stores exactly N records; the
  second run produces nothing and ends ok;
- a run interrupted by SIGINT/SIGTERM exits 130/143 with its pipeline
  `interrupted`, and the rerun completes it: every record exactly once;
- a --follow run stopped by SIGTERM exits 0.
"""
import json
import os
import signal
import time

import kafka_batch
from e2e_util import finish, parse_summary

FILE_CONFIG = """\
pipelines:
  copy:
    source: {{ file: {{ path: "{path}"{extra} }} }}
    sink:   {{ file: {{ path: out.jsonl }} }}
"""


def lines(start, stop, tag="n"):
    return [json.dumps({tag: i}, separators=(",", ":")) for i in range(start, stop)]


def write(path, items, mode="w"):
    with open(path, mode) as f:
        f.write("".join(item + "\n" for item in items))


def run_copy(sluice, workdir, path="in.jsonl", extra=""):
    (workdir / "copy.yaml").write_text(FILE_CONFIG.format(path=path, extra=extra))
    result = sluice.run("run", "copy.yaml", timeout=120)
    assert result.returncode == 0, result.describe()
    return parse_summary(result.stderr)["copy"], result


def output(workdir):
    return (workdir / "out.jsonl").read_text().splitlines()


def test_a_rerun_reads_only_the_appended_lines(sluice, workdir):
    write(workdir / "in.jsonl", lines(0, 5))
    row, _ = run_copy(sluice, workdir)
    assert (row["in"], row["out"]) == (5, 5)
    row, _ = run_copy(sluice, workdir)
    assert (row["in"], row["out"], row["state"]) == (0, 0, "ok")
    write(workdir / "in.jsonl", lines(5, 8), mode="a")
    row, _ = run_copy(sluice, workdir)
    assert (row["in"], row["out"]) == (3, 3)
    assert output(workdir) == lines(0, 8)
    assert (workdir / "data" / "positions" / "copy.positions").exists()


def test_start_beginning_reads_the_file_again(sluice, workdir):
    write(workdir / "in.jsonl", lines(0, 4))
    run_copy(sluice, workdir)
    row, _ = run_copy(sluice, workdir, extra=", start: beginning")
    assert (row["in"], row["out"]) == (4, 4)
    assert output(workdir) == lines(0, 4) * 2


def test_a_truncated_file_is_read_from_its_start_with_a_warning(sluice, workdir):
    write(workdir / "in.jsonl", lines(0, 6))
    run_copy(sluice, workdir)
    write(workdir / "in.jsonl", lines(100, 102))          # same inode, fewer bytes
    row, result = run_copy(sluice, workdir)
    assert (row["in"], row["out"]) == (2, 2)
    assert "in.jsonl: the file was truncated since the last run" in result.stderr, result.describe()
    assert output(workdir) == lines(0, 6) + lines(100, 102)


def test_a_replaced_file_is_read_from_its_start_with_a_warning(sluice, workdir):
    write(workdir / "in.jsonl", lines(0, 3))
    run_copy(sluice, workdir)
    write(workdir / "new.jsonl", lines(200, 210))          # longer than the old one
    os.rename(workdir / "new.jsonl", workdir / "in.jsonl")
    row, result = run_copy(sluice, workdir)
    assert (row["in"], row["out"]) == (10, 10)
    assert "in.jsonl: the file was replaced since the last run" in result.stderr, result.describe()
    assert output(workdir) == lines(0, 3) + lines(200, 210)


def test_a_glob_keeps_one_position_per_file(sluice, workdir):
    (workdir / "logs").mkdir()
    write(workdir / "logs" / "a.jsonl", lines(0, 3, "a"))
    write(workdir / "logs" / "b.jsonl", lines(0, 2, "b"))
    row, _ = run_copy(sluice, workdir, path="logs/*.jsonl")
    assert (row["in"], row["out"]) == (5, 5)
    write(workdir / "logs" / "b.jsonl", lines(2, 4, "b"), mode="a")
    row, _ = run_copy(sluice, workdir, path="logs/*.jsonl")
    assert (row["in"], row["out"]) == (2, 2)
    # Each file in order; files run on different workers, so they may interleave.
    out = output(workdir)
    assert [line for line in out if '"a"' in line] == lines(0, 3, "a")
    assert [line for line in out if '"b"' in line] == lines(0, 4, "b")
    stored = (workdir / "data" / "positions" / "copy.positions").read_text().splitlines()
    assert sorted(line.split(" ", 3)[3] for line in stored) == ["logs/a.jsonl", "logs/b.jsonl"]


GENERATOR_CONFIG = """\
pipelines:
  gen:
    source: {{ generator: {{ kind: sequence, count: {count}{extra} }} }}
    sink:   {{ topic: {{ name: numbers, partitions: 2, key: id }} }}
"""


def topic_ids(workdir):
    topic = kafka_batch.read_topic(str(workdir / "data"), "numbers")
    return sorted(json.loads(r.value)["id"] for rs in topic.values() for r in rs)


def test_a_generator_run_twice_stores_count_records_once(sluice, workdir):
    (workdir / "gen.yaml").write_text(GENERATOR_CONFIG.format(count=5000, extra=""))
    first = sluice.run("run", "gen.yaml", timeout=120)
    assert first.returncode == 0, first.describe()
    assert parse_summary(first.stderr)["gen"]["out"] == 5000
    second = sluice.run("run", "gen.yaml", timeout=120)
    assert second.returncode == 0, second.describe()
    row = parse_summary(second.stderr)["gen"]
    assert (row["in"], row["out"], row["state"]) == (0, 0, "ok"), second.describe()
    assert topic_ids(workdir) == list(range(5000))

    (workdir / "gen.yaml").write_text(GENERATOR_CONFIG.format(count=5000, extra=", start: beginning"))
    third = sluice.run("run", "gen.yaml", timeout=120)
    assert third.returncode == 0, third.describe()
    assert parse_summary(third.stderr)["gen"]["out"] == 5000
    assert topic_ids(workdir) == sorted(list(range(5000)) * 2)


PACED_CONFIG = """\
pipelines:
  paced:
    source: { generator: { kind: sequence, count: 1500, rate: 500 } }
    sink:   { file: { path: out.jsonl } }
    commit_interval: 100ms
"""


def wait_for_lines(path, n, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} did not reach {n} lines within {timeout}s")


def interrupt_then_rerun(sluice, workdir, signal_number, code):
    (workdir / "paced.yaml").write_text(PACED_CONFIG)
    proc = sluice.popen("run", "paced.yaml")
    wait_for_lines(workdir / "out.jsonl", 100)
    proc.send_signal(signal_number)
    returncode, out, err = finish(proc, timeout=60)
    assert returncode == code, f"exit {returncode}\n{out}\n{err}"
    assert parse_summary(err)["paced"]["state"] == "interrupted", err
    assert "interrupted by" in err, err
    first = len(output(workdir))
    assert 100 <= first < 1500

    result = sluice.run("run", "paced.yaml", timeout=120)
    assert result.returncode == 0, result.describe()
    row = parse_summary(result.stderr)["paced"]
    assert row["state"] == "ok" and row["out"] == 1500 - first, result.describe()
    # Drained and committed on the signal: every record exactly once over both runs.
    assert [json.loads(line)["id"] for line in output(workdir)] == list(range(1500))


def test_sigint_interrupts_a_bounded_run_with_130_and_the_rerun_completes_it(sluice, workdir):
    interrupt_then_rerun(sluice, workdir, signal.SIGINT, 130)


def test_sigterm_interrupts_a_bounded_run_with_143_and_the_rerun_completes_it(sluice, workdir):
    interrupt_then_rerun(sluice, workdir, signal.SIGTERM, 143)


FOLLOW_CONFIG = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 50 } }
    sink:   { topic: { name: events } }
  follow:
    source: { topic: { name: events, group: followers } }
    sink:   { file: { path: out.jsonl } }
"""


def test_sigterm_stops_a_follow_run_with_0(sluice, workdir):
    (workdir / "follow.yaml").write_text(FOLLOW_CONFIG)
    proc = sluice.popen("run", "follow.yaml", "--follow")
    wait_for_lines(workdir / "out.jsonl", 50)
    proc.send_signal(signal.SIGTERM)
    returncode, out, err = finish(proc, timeout=60)
    assert returncode == 0, f"exit {returncode}\n{out}\n{err}"
    assert {row["state"] for row in parse_summary(err).values()} == {"ok"}, err


def test_kill_9_of_a_file_run_then_rerun_re_reads_but_never_skips(sluice, workdir):
    """The position is saved only after the sinks have the lines: a kill -9 between a sink's
    write and the save makes the rerun read some lines again (at-least-once), never skip one."""
    write(workdir / "in.jsonl", lines(0, 200000))
    (workdir / "copy.yaml").write_text(FILE_CONFIG.format(path="in.jsonl", extra="")
                                       + "    commit_interval: 50ms\n    batch_size: 500\n")
    proc = sluice.popen("run", "copy.yaml", "--quiet")
    positions = workdir / "data" / "positions" / "copy.positions"
    deadline = time.monotonic() + 60
    while not positions.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert positions.exists(), "no position was saved within 60 s"
    proc.send_signal(signal.SIGKILL)
    finish(proc, timeout=30)
    result = sluice.run("run", "copy.yaml", timeout=120)
    assert result.returncode == 0, result.describe()
    out = output(workdir)
    assert set(out) == set(lines(0, 200000)), "a line was skipped"
    assert parse_summary(result.stderr)["copy"]["out"] < 200000, "the rerun read the whole file again"


def test_a_resumed_run_names_an_oversized_line_by_its_byte_not_a_wrong_line_number(sluice, workdir):
    write(workdir / "in.jsonl", lines(0, 3))
    run_copy(sluice, workdir)
    at = (workdir / "in.jsonl").stat().st_size
    write(workdir / "in.jsonl", ['"' + "x" * (2 * 1024 * 1024) + '"'] + lines(3, 4), mode="a")
    row, _ = run_copy(sluice, workdir)
    assert (row["in"], row["out"], row["dlq"]) == (2, 1, 1)
    letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), "copy.dlq").values() for r in rs]
    assert [r.header("sluice.error") for r in letters] == \
        [f"the line at byte {at} is {2 * 1024 * 1024 + 2} bytes, over max_record_bytes 1048576"]


def test_lines_dead_lettered_at_the_end_of_a_file_are_not_dead_lettered_again(sluice, workdir):
    """A read that ends in lines which became no record (too long: dead-lettered; blank) still
    moves the file's position, so a rerun does not send them to the DLQ a second time."""
    write(workdir / "in.jsonl", lines(0, 1) + ['"' + "x" * (2 * 1024 * 1024) + '"', "   "])
    row, _ = run_copy(sluice, workdir, extra="")
    assert (row["in"], row["out"], row["dlq"]) == (2, 1, 1)
    (workdir / "copy.yaml").write_text(FILE_CONFIG.format(path="in.jsonl", extra="") + "    batch_size: 1\n")
    write(workdir / "in.jsonl", lines(1, 2) + ['"' + "y" * (2 * 1024 * 1024) + '"'], mode="a")
    for expected in ((2, 1, 1), (0, 0, 0)):
        result = sluice.run("run", "copy.yaml", timeout=120)
        assert result.returncode == 0, result.describe()
        row = parse_summary(result.stderr)["copy"]
        assert (row["in"], row["out"], row["dlq"]) == expected, result.describe()
    letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), "copy.dlq").values() for r in rs]
    assert len(letters) == 2
