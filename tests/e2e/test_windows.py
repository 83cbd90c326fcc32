"""test_windows.py — event-time windows end to end: out-of-order input,
late records to the dead-letter topic, every window function against a
Python computation of the same windows, kill -9 in the middle of windows
and a rerun giving exactly the rows of an uninterrupted run, and the
state.max_bytes bound.

Expected rows are computed here in Python from the input (the window
arithmetic and Flink's watermark rules written out), never by sluice; the
dead letters are read from the log's segment files (kafka_batch).
"""
import json
import random
import signal
import sqlite3
import time
from collections import defaultdict
from datetime import datetime, timezone

import kafka_batch
from e2e_util import finish, parse_summary

BASE_US = 1_714_564_800_000_000  # 2024-05-01T12:00:00Z


def iso(us):
    seconds, micros = divmod(us, 1_000_000)
    text = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{micros:06d}" if micros else "") + "Z"   # as sluice writes them


def write_lines(path, records):
    with open(path, "w") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")


def out_of_order_events(n, seed, jitter_s, late_every=0, late_by_s=0):
    """Events 10 ms apart in event time, each shifted back by up to jitter_s;
    every late_every-th one is shifted back late_by_s more."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        t = BASE_US + i * 10_000 - int(rng.uniform(0, jitter_s) * 1_000_000)
        if late_every and i % late_every == late_every - 1:
            t -= late_by_s * 1_000_000
        events.append({"id": i, "ts": iso(t), "k": f"k{rng.randrange(5)}", "v": rng.randrange(1000), "t": t})
    return events


def flink_windows(events, delay_s, assign, lateness_s=0):
    """The rows Flink's rules give: per partition one watermark = greatest
    event time - delay; a record is late when every window it belongs to
    has end - 1 µs + lateness <= watermark. Returns (groups, late ids)."""
    watermark = None
    groups = defaultdict(list)
    late = []
    for e in events:
        windows = assign(e["t"])
        open_windows = [w for w in windows if watermark is None or w[1] - 1 + lateness_s * 1_000_000 > watermark]
        if not open_windows:
            late.append(e["id"])
            continue
        for w in open_windows:
            groups[(w[0], w[1], e["k"])].append(e["v"])
        candidate = e["t"] - delay_s * 1_000_000
        watermark = candidate if watermark is None else max(watermark, candidate)
    return groups, late


def tumble(size_us):
    return lambda t: [(t // size_us * size_us, t // size_us * size_us + size_us)]


def hop(slide_us, size_us):
    def assign(t):
        start = t // slide_us * slide_us
        out = []
        while start > t - size_us:
            out.append((start, start + size_us))
            start -= slide_us
        return out
    return assign


def cumulate(step_us, max_us):
    def assign(t):
        start = t // max_us * max_us
        return [(start, end) for end in range(start + step_us, start + max_us + 1, step_us) if t < end]
    return assign


def rows_of(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pipeline_yaml(sql, source, sink, watermark="{ delay: 5s }", extra=""):
    indented = "\n".join("        " + line for line in sql.strip().splitlines())
    return f"""pipelines:
  w:
    source: {source}
    transform:
      sql: |
{indented}
      watermark: {watermark}
{extra}    sink: {sink}
"""


def run_ok(sluice, *args, timeout=120):
    result = sluice.run(*args, timeout=timeout)
    assert result.returncode == 0, result.describe()
    return result


def check_groups(rows, groups, aggregates):
    got = {(r["window_start"], r["window_end"], r["k"]): r for r in rows}
    assert len(rows) == len(got), "a group came out twice"
    want = {(iso(s), iso(e), k): values for (s, e, k), values in groups.items()}
    assert set(got) == set(want)
    for key, values in want.items():
        for name, compute in aggregates.items():
            assert got[key][name] == compute(values), (key, name)


AGGREGATES = {"n": len, "total": sum, "low": min, "high": max}
SELECT = "SELECT window_start, window_end, k, count(*) AS n, sum(v) AS total, min(v) AS low, max(v) AS high"


def test_tumble_over_out_of_order_input_equals_python(sluice, workdir):
    events = out_of_order_events(6000, seed=7, jitter_s=3)
    write_lines(workdir / "in.jsonl", [{k: e[k] for k in ("id", "ts", "k", "v")} for e in events])
    sql = f"""{SELECT}
FROM TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), INTERVAL '5' SECOND))
GROUP BY window_start, window_end, k"""
    (workdir / "w.yaml").write_text(pipeline_yaml(sql, "{ file: { path: in.jsonl } }",
                                                  "{ file: { path: out.jsonl } }"))
    result = run_ok(sluice, "run", "w.yaml")
    groups, late = flink_windows(events, 5, tumble(5_000_000))
    assert late == []
    check_groups(rows_of(workdir / "out.jsonl"), groups, AGGREGATES)
    summary = parse_summary(result.stderr)["w"]
    assert summary["in"] == 6000 and summary["dlq"] == 0 and summary["out"] == len(groups)


def test_late_records_go_whole_to_the_dead_letters_with_the_reason(sluice, workdir):
    events = out_of_order_events(3000, seed=11, jitter_s=1, late_every=97, late_by_s=8)
    lines = [json.dumps({k: e[k] for k in ("id", "ts", "k", "v")}) for e in events]
    (workdir / "in.jsonl").write_text("\n".join(lines) + "\n")
    sql = f"""{SELECT}
FROM TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), INTERVAL '2' SECOND))
GROUP BY window_start, window_end, k"""
    (workdir / "w.yaml").write_text(pipeline_yaml(sql, "{ file: { path: in.jsonl } }",
                                                  "{ file: { path: out.jsonl } }", "{ delay: 2s }"))
    result = run_ok(sluice, "run", "w.yaml")
    groups, late = flink_windows(events, 2, tumble(2_000_000))
    assert len(late) > 10
    check_groups(rows_of(workdir / "out.jsonl"), groups, AGGREGATES)
    assert parse_summary(result.stderr)["w"]["dlq"] == len(late)
    letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), "w.dlq").values() for r in rs]
    assert sorted(json.loads(r.value)["id"] for r in letters) == sorted(late)
    for letter in letters:
        assert letter.value.decode() == lines[json.loads(letter.value)["id"]]   # whole, as read
        headers = dict(letter.headers)
        assert headers["sluice.stage"] == b"window"
        assert headers["sluice.error"].startswith(b"late: event time ts = "), headers


def test_hop_and_cumulate_equal_python(sluice, workdir):
    events = out_of_order_events(2000, seed=5, jitter_s=2)
    write_lines(workdir / "in.jsonl", [{k: e[k] for k in ("id", "ts", "k", "v")} for e in events])
    cases = {
        "hop": ("HOP(TABLE input, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '4' SECOND)", hop(1_000_000, 4_000_000)),
        "cumulate": ("CUMULATE(TABLE input, DESCRIPTOR(ts), INTERVAL '2' SECOND, INTERVAL '6' SECOND)",
                     cumulate(2_000_000, 6_000_000)),
    }
    for name, (call, assign) in cases.items():
        sql = f"""{SELECT}
FROM TABLE({call})
GROUP BY window_start, window_end, k"""
        (workdir / f"{name}.yaml").write_text(pipeline_yaml(sql, "{ file: { path: in.jsonl } }",
                                                           f"{{ file: {{ path: {name}.jsonl }} }}",
                                                           "{ delay: 3s }").replace("  w:", f"  {name}:"))
        run_ok(sluice, "run", f"{name}.yaml")
        groups, late = flink_windows(events, 3, assign)
        assert late == []
        check_groups(rows_of(workdir / f"{name}.jsonl"), groups, AGGREGATES)


def test_sessions_per_key_equal_python(sluice, workdir):
    rng = random.Random(3)
    events, t = [], BASE_US
    for i in range(1500):
        t += rng.choice([100_000, 200_000, 4_000_000])   # bursts, then gaps longer than 3 s
        events.append({"id": i, "ts": iso(t), "k": f"k{rng.randrange(3)}", "v": i, "t": t})
    write_lines(workdir / "in.jsonl", [{k: e[k] for k in ("id", "ts", "k", "v")} for e in events])
    sql = """SELECT k, window_start, window_end, count(*) AS n, sum(v) AS total
FROM TABLE(SESSION(TABLE input, DESCRIPTOR(ts), INTERVAL '3' SECOND))
GROUP BY window_start, window_end, k"""
    (workdir / "w.yaml").write_text(pipeline_yaml(sql, "{ file: { path: in.jsonl } }",
                                                  "{ file: { path: out.jsonl } }", "{ delay: 0s }"))
    run_ok(sluice, "run", "w.yaml")
    sessions = defaultdict(list)   # in order: each key's sessions as [start, last, values]
    for e in events:
        mine = sessions[e["k"]]
        if mine and e["t"] < mine[-1][1] + 3_000_000:
            mine[-1][1] = e["t"]
            mine[-1][2].append(e["v"])
        else:
            mine.append([e["t"], e["t"], [e["v"]]])
    want = {(k, iso(s), iso(last + 3_000_000)): (len(v), sum(v)) for k, ss in sessions.items() for s, last, v in ss}
    got = {(r["k"], r["window_start"], r["window_end"]): (r["n"], r["total"]) for r in rows_of(workdir / "out.jsonl")}
    assert got == want


WINDOWED_TO_SQLITE = """pipelines:
  load:
    source: { file: { path: in.jsonl } }
    sink: { topic: { name: events, partitions: 3, key: k } }
  w:
    source: { topic: { name: events, group: windows } }
    batch_size: 50
    transform:
      sql: |
        SELECT window_start, window_end, k, count(*) AS n, sum(v) AS total
        FROM TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), INTERVAL '1' SECOND))
        GROUP BY window_start, window_end, k
      watermark: { delay: 2s, idle_timeout: 0s }
    sink: { sqlite: { path: data/out.db, table: windows, key: [window_start, k] } }
"""


def table_rows(path):
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT window_start, window_end, k, n, total FROM windows").fetchall())


def test_kill_9_in_the_middle_of_windows_then_rerun_gives_the_uninterrupted_rows(sluice, workdir, sluice_bin):
    from e2e_util import Sluice
    events = out_of_order_events(60000, seed=23, jitter_s=1.5)
    records = [{k: e[k] for k in ("id", "ts", "k", "v")} for e in events]
    reference = workdir / "reference"
    reference.mkdir()
    for where in (workdir, reference):
        write_lines(where / "in.jsonl", records)
        (where / "w.yaml").write_text(WINDOWED_TO_SQLITE)
    reference_run = Sluice(sluice_bin, reference)
    assert reference_run.run("run", "w.yaml", "--pipeline", "load").returncode == 0
    assert reference_run.run("run", "w.yaml", "--pipeline", "w", timeout=300).returncode == 0
    expected = table_rows(reference / "data" / "out.db")
    assert len(expected) > 500

    run_ok(sluice, "run", "w.yaml", "--pipeline", "load")
    proc = sluice.popen("run", "w.yaml", "--pipeline", "w")
    db = workdir / "data" / "out.db"
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT count(*) FROM windows").fetchone()[0]
        except sqlite3.Error:
            stored = 0
        if stored >= len(expected) // 4:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    code, _, err = finish(proc, timeout=30)
    assert code == -signal.SIGKILL, f"the run ended by itself before the kill ({stored} rows)\n{err}"
    assert 0 < len(table_rows(db)) < len(expected) + 1

    result = run_ok(sluice, "run", "w.yaml", "--pipeline", "w", timeout=300)
    assert parse_summary(result.stderr)["w"]["dlq"] == 0, result.describe()
    assert table_rows(db) == expected
    state = json.loads((workdir / "data" / "state" / "w.json").read_text())
    assert state["final_watermark_us"] > BASE_US


def test_state_past_max_bytes_fails_the_pipeline_saying_so(sluice, workdir):
    write_lines(workdir / "in.jsonl", [{"user": f"user-{i}", "n": i} for i in range(50000)])
    (workdir / "w.yaml").write_text("""pipelines:
  w:
    source: { file: { path: in.jsonl } }
    transform:
      sql: SELECT user, count(*) AS n FROM input GROUP BY user
      state: { max_bytes: 256KiB }
    sink: { file: { path: out.jsonl } }
""")
    result = sluice.run("run", "w.yaml")
    assert result.returncode != 0, result.describe()
    assert "past state.max_bytes (262144): raise state.max_bytes" in result.stderr, result.stderr


def test_watermark_column_must_be_the_descriptor(sluice, workdir):
    (workdir / "in.jsonl").write_text("")
    sql = """SELECT window_start, count(*) AS n
FROM TABLE(TUMBLE(TABLE input, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end"""
    (workdir / "w.yaml").write_text(pipeline_yaml(sql, "{ file: { path: in.jsonl } }",
                                                  "{ file: { path: out.jsonl } }", "{ column: time, delay: 1s }"))
    result = sluice.run("validate", "w.yaml")
    assert result.returncode != 0
    assert "watermark.column is 'time' but the SQL's event time is 'ts'" in result.stderr, result.stderr


def test_limit_passes_the_first_rows_and_acknowledges_the_rest(sluice, workdir):
    write_lines(workdir / "in.jsonl", [{"n": i} for i in range(100)])
    (workdir / "w.yaml").write_text("""pipelines:
  w:
    source: { file: { path: in.jsonl } }
    workers: 1
    batch_size: 8
    transform: { sql: "SELECT n FROM input WHERE n % 2 = 1 LIMIT 7" }
    sink: { file: { path: out.jsonl } }
""")
    result = run_ok(sluice, "run", "w.yaml")
    assert [r["n"] for r in rows_of(workdir / "out.jsonl")] == [1, 3, 5, 7, 9, 11, 13]
    summary = parse_summary(result.stderr)["w"]
    assert summary["in"] == 100 and summary["out"] == 7 and summary["filtered"] == 93
