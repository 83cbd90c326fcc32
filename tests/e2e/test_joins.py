"""test_joins.py — joins of two streams end to end through `sluice run`:
an interval join and a LEFT interval join over out-of-order input, late rows
to the dead-letter topic whole with the reason, a FULL window join, kill -9
in the middle of a join and a rerun giving exactly the rows of an
uninterrupted run, and state.max_bytes failing a regular join loudly.

Expected rows are computed here in Python from the input (every pair the
ON clause admits, the watermark rule written out), never by sluice; the
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
import pytest
from e2e_util import Sluice, finish, parse_summary, sanitizer_reports

BASE_US = 1_714_564_800_000_000  # 2024-05-01T12:00:00Z
SECOND = 1_000_000
MINUTE = 60 * SECOND


def iso(us):
    seconds, micros = divmod(us, SECOND)
    text = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{micros:06d}" if micros else "") + "Z"   # as sluice writes them


def write_lines(path, records):
    with open(path, "w") as f:
        for record in records:
            f.write(json.dumps(record) + "\n")


def rows_of(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def orders_and_shipments(n_orders, seed, jitter_s, late_every=0, late_by_s=0):
    """Orders 100 ms apart; each has 0 to 2 shipments from 2 minutes before
    it to 12 minutes after (some out of the join's 10-minute bound), and a
    few shipments name no order. The file's order is event time shuffled by
    up to jitter_s; every late_every-th shipment is moved late_by_s earlier
    in event time without moving in the file."""
    rng = random.Random(seed)
    events = []
    for i in range(n_orders):
        t = BASE_US + i * 100_000
        events.append({"kind": "order", "id": i, "region": rng.choice("nsew"), "t": t})
        for _ in range(rng.choice([0, 1, 1, 2])):
            events.append({"kind": "shipment", "order_id": i if rng.random() < 0.95 else n_orders + i,
                           "t": t + rng.randrange(-2 * MINUTE, 12 * MINUTE)})
    events.sort(key=lambda e: e["t"])
    events.sort(key=lambda e: e["t"] + rng.uniform(0, jitter_s) * SECOND)
    n_shipments = 0
    for e in events:
        if e["kind"] == "shipment":
            e["id"] = n_shipments = n_shipments + 1
            if late_every and n_shipments % late_every == 0 and n_shipments > 200:
                e["t"] -= late_by_s * SECOND
    for e in events:
        e["ts"] = iso(e["t"])
    return events


def records_of(events):
    return [{k: v for k, v in e.items() if k != "t"} for e in events]


def late_ids(events, delay_s):
    """Flink's rule for an interval join: the watermark is the greatest event
    time less the delay, moved after every record; a row older than it
    (allowed_lateness 0) is late."""
    watermark, late = None, set()
    for e in events:
        if watermark is not None and e["t"] < watermark:
            late.add((e["kind"], e["id"]))
            continue
        candidate = e["t"] - delay_s * SECOND
        watermark = candidate if watermark is None else max(watermark, candidate)
    return late


def interval_pairs(events, late=frozenset()):
    orders = {e["id"]: e for e in events if e["kind"] == "order" and ("order", e["id"]) not in late}
    pairs = []
    for s in events:
        if s["kind"] != "shipment" or ("shipment", s["id"]) in late:
            continue
        o = orders.get(s["order_id"])
        if o and o["t"] <= s["t"] <= o["t"] + 10 * MINUTE:
            pairs.append((o["id"], s["id"]))
    return pairs


INTERVAL_SQL = """WITH orders AS (SELECT id, region, ts FROM input WHERE kind = 'order'),
     shipments AS (SELECT id, order_id, ts FROM input WHERE kind = 'shipment')
SELECT o.id AS order_id, s.id AS shipment_id, o.region, o.ts AS ordered, s.ts AS shipped
FROM orders o {join} shipments s
ON o.id = s.order_id AND s.ts BETWEEN o.ts AND o.ts + INTERVAL '10' MINUTE"""


def pipeline_yaml(sql, source, sink, watermark="{ delay: 5s }", extra=""):
    indented = "\n".join("        " + line for line in sql.strip().splitlines())
    return f"""pipelines:
  j:
    source: {source}
    transform:
      sql: |
{indented}
      watermark: {watermark}
{extra}    sink: {sink}
"""


def run_ok(sluice, *args, timeout=180):
    result = sluice.run(*args, timeout=timeout)
    assert result.returncode == 0, result.describe()
    return result


def test_interval_join_over_out_of_order_input_equals_python(sluice, workdir):
    events = orders_and_shipments(8000, seed=3, jitter_s=3)
    write_lines(workdir / "in.jsonl", records_of(events))
    (workdir / "j.yaml").write_text(pipeline_yaml(INTERVAL_SQL.format(join="JOIN"), "{ file: { path: in.jsonl } }",
                                                  "{ file: { path: out.jsonl } }"))
    result = run_ok(sluice, "run", "j.yaml")
    assert late_ids(events, 5) == set()
    want = interval_pairs(events)
    rows = rows_of(workdir / "out.jsonl")
    assert sorted((r["order_id"], r["shipment_id"]) for r in rows) == sorted(want)
    by_id = {(e["kind"], e["id"]): e for e in events}
    for r in rows:
        order, shipment = by_id[("order", r["order_id"])], by_id[("shipment", r["shipment_id"])]
        assert (r["region"], r["ordered"], r["shipped"]) == (order["region"], order["ts"], shipment["ts"])
    summary = parse_summary(result.stderr)["j"]
    assert summary["in"] == len(events) and summary["dlq"] == 0 and summary["out"] == len(want)


@pytest.mark.parametrize("binary", ["sluice", "sluice_asan"])
def test_left_join_keeps_the_orders_that_met_nothing(binary, request, workdir):
    sluice = request.getfixturevalue(binary)
    events = orders_and_shipments(4000, seed=8, jitter_s=2)
    write_lines(workdir / "in.jsonl", records_of(events))
    (workdir / "j.yaml").write_text(pipeline_yaml(INTERVAL_SQL.format(join="LEFT JOIN"),
                                                  "{ file: { path: in.jsonl } }", "{ file: { path: out.jsonl } }"))
    result = run_ok(sluice, "run", "j.yaml")
    assert not sanitizer_reports(result.stderr), result.stderr
    pairs = interval_pairs(events)
    matched = {o for o, _ in pairs}
    unmatched = [e["id"] for e in events if e["kind"] == "order" and e["id"] not in matched]
    assert len(unmatched) > 500
    want = sorted(pairs + [(o, None) for o in unmatched])
    rows = rows_of(workdir / "out.jsonl")
    assert sorted((r["order_id"], r["shipment_id"]) for r in rows) == want
    assert all(r["shipped"] is None for r in rows if r["shipment_id"] is None)


@pytest.mark.parametrize("binary", ["sluice", "sluice_asan"])
def test_late_rows_go_whole_to_the_dead_letters_and_the_rest_join(binary, request, workdir):
    sluice = request.getfixturevalue(binary)
    events = orders_and_shipments(5000, seed=13, jitter_s=1, late_every=37, late_by_s=120)
    records = records_of(events)
    lines = [json.dumps(r) for r in records]
    (workdir / "in.jsonl").write_text("\n".join(lines) + "\n")
    (workdir / "j.yaml").write_text(pipeline_yaml(INTERVAL_SQL.format(join="JOIN"), "{ file: { path: in.jsonl } }",
                                                  "{ file: { path: out.jsonl } }", "{ delay: 2s }"))
    result = run_ok(sluice, "run", "j.yaml")
    assert not sanitizer_reports(result.stderr), result.stderr
    late = late_ids(events, 2)
    assert len(late) > 50 and all(kind == "shipment" for kind, _ in late)
    rows = rows_of(workdir / "out.jsonl")
    assert sorted((r["order_id"], r["shipment_id"]) for r in rows) == sorted(interval_pairs(events, late))
    assert parse_summary(result.stderr)["j"]["dlq"] == len(late)
    letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), "j.dlq").values() for r in rs]
    line_of = {(r["kind"], r["id"]): line for r, line in zip(records, lines)}
    assert sorted(("shipment", json.loads(r.value)["id"]) for r in letters) == sorted(late)
    for letter in letters:
        assert letter.value.decode() == line_of[("shipment", json.loads(letter.value)["id"])]   # whole, as read
        headers = dict(letter.headers)
        assert headers["sluice.stage"] == b"window"
        assert headers["sluice.error"].startswith(b"late: event time ts = "), headers
        assert headers["sluice.error"].endswith(b"the rows it could meet are gone"), headers


def test_full_window_join_equals_python(sluice, workdir):
    rng = random.Random(21)
    events = []
    for i in range(6000):
        t = BASE_US + i * 50_000 + rng.randrange(0, 2 * SECOND)   # out of order by up to 2 s
        kind = rng.choice(["click", "view"])
        events.append({"kind": kind, "id": i, "user": f"u{rng.randrange(40)}", "t": t, "ts": iso(t)})
    write_lines(workdir / "in.jsonl", records_of(events))
    sql = """WITH clicks AS (SELECT id, user, ts FROM input WHERE kind = 'click'),
     views AS (SELECT id, user, ts FROM input WHERE kind = 'view')
SELECT window_start, window_end, c.id AS click, v.id AS view, coalesce(c.user, v.user) AS user
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' SECOND)) c
FULL JOIN TABLE(TUMBLE(TABLE views, DESCRIPTOR(ts), INTERVAL '10' SECOND)) v
ON c.window_start = v.window_start AND c.window_end = v.window_end AND c.user = v.user"""
    (workdir / "j.yaml").write_text(pipeline_yaml(sql, "{ file: { path: in.jsonl } }",
                                                  "{ file: { path: out.jsonl } }", "{ delay: 3s }"))
    run_ok(sluice, "run", "j.yaml")
    cells = defaultdict(lambda: ([], []))
    for e in events:
        start = e["t"] // (10 * SECOND) * (10 * SECOND)
        cells[(start, e["user"])][0 if e["kind"] == "click" else 1].append(e["id"])
    want = []
    for (start, user), (clicks, views) in cells.items():
        w = (iso(start), iso(start + 10 * SECOND))
        want += [(*w, c, v, user) for c in clicks for v in views]
        if not views:
            want += [(*w, c, None, user) for c in clicks]
        if not clicks:
            want += [(*w, None, v, user) for v in views]
    got = [(r["window_start"], r["window_end"], r["click"], r["view"], r["user"]) for r in rows_of(workdir / "out.jsonl")]
    assert sorted(got, key=repr) == sorted(want, key=repr)


JOINED_TO_SQLITE = """pipelines:
  load:
    source: { file: { path: in.jsonl } }
    sink: { topic: { name: events, partitions: 3 } }
  j:
    source: { topic: { name: events, group: joins } }
    batch_size: 50
    transform:
      sql: |
        WITH orders AS (SELECT id, region, ts FROM input WHERE kind = 'order'),
             shipments AS (SELECT id, order_id, ts FROM input WHERE kind = 'shipment')
        SELECT o.id AS order_id, coalesce(s.id, -1) AS shipment_id, o.region, s.ts AS shipped
        FROM orders o {join} shipments s
        ON o.id = s.order_id AND s.ts BETWEEN o.ts AND o.ts + INTERVAL '10' MINUTE
      watermark: { delay: 5s, idle_timeout: 0s }
    sink: { sqlite: { path: data/out.db, table: shipped, key: [order_id, shipment_id] } }
"""


def table_rows(path):
    with sqlite3.connect(path) as db:
        return sorted(db.execute("SELECT order_id, shipment_id, region, shipped FROM shipped").fetchall())


@pytest.mark.parametrize("join", ["JOIN", "LEFT JOIN"])
def test_kill_9_in_the_middle_of_a_join_then_rerun_gives_the_uninterrupted_rows(join, sluice, workdir, sluice_bin):
    """A LEFT join's orders stay ten minutes while their shipments leave at
    once: after the kill, an order read again must still know it was
    matched, and not come out with NULLs as well."""
    events = orders_and_shipments(40000, seed=29, jitter_s=2)
    reference = workdir / "reference"
    reference.mkdir()
    for where in (workdir, reference):
        write_lines(where / "in.jsonl", records_of(events))
        (where / "j.yaml").write_text(JOINED_TO_SQLITE.replace("{join}", join))
    reference_run = Sluice(sluice_bin, reference)
    assert reference_run.run("run", "j.yaml", "--pipeline", "load").returncode == 0
    assert reference_run.run("run", "j.yaml", "--pipeline", "j", timeout=300).returncode == 0
    expected = table_rows(reference / "data" / "out.db")
    want = interval_pairs(events)
    if join == "LEFT JOIN":
        matched = {o for o, _ in want}
        want += [(e["id"], -1) for e in events if e["kind"] == "order" and e["id"] not in matched]
    assert sorted(r[:2] for r in expected) == sorted(want)

    run_ok(sluice, "run", "j.yaml", "--pipeline", "load")
    proc = sluice.popen("run", "j.yaml", "--pipeline", "j")
    db = workdir / "data" / "out.db"
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with sqlite3.connect(db) as conn:
                stored = conn.execute("SELECT count(*) FROM shipped").fetchone()[0]
        except sqlite3.Error:
            stored = 0
        if stored >= len(expected) // 3:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    code, _, err = finish(proc, timeout=30)
    assert code == -signal.SIGKILL, f"the run ended by itself before the kill ({stored} rows)\n{err}"
    assert 0 < len(table_rows(db)) < len(expected)

    result = run_ok(sluice, "run", "j.yaml", "--pipeline", "j", timeout=300)
    assert parse_summary(result.stderr)["j"]["dlq"] == 0, result.describe()
    assert table_rows(db) == expected


def test_regular_join_past_max_bytes_fails_the_pipeline_saying_so(sluice, workdir):
    write_lines(workdir / "in.jsonl", [{"kind": "a" if i % 2 else "b", "k": i, "pad": "x" * 50} for i in range(40000)])
    (workdir / "j.yaml").write_text("""pipelines:
  j:
    source: { file: { path: in.jsonl } }
    transform:
      sql: |
        WITH a AS (SELECT k, pad FROM input WHERE kind = 'a'), b AS (SELECT k FROM input WHERE kind = 'b')
        SELECT a.k, a.pad FROM a JOIN b ON a.k = b.k
      state: { max_bytes: 256KiB }
    sink: { file: { path: out.jsonl } }
""")
    result = sluice.run("run", "j.yaml")
    assert result.returncode != 0, result.describe()
    assert "past state.max_bytes (262144): raise state.max_bytes" in result.stderr, result.stderr
