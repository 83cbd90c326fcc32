"""test_nexmark.py — the Nexmark benchmark's events and queries.

sluice's generator (kind nexmark, fixed seed) writes 50,000 events to a JSON
lines file; the events are checked against the model of the Nexmark
generator (proportions, ids, event times). Then every query sluice runs
today is run by sluice (the same generator -> bench/nexmark/qN.sql -> a file)
and its rows are compared, as multisets, with DuckDB's answer to
bench/nexmark/duckdb/qN.sql over the same file. Ints, strings and
timestamps are compared exactly; doubles (q1's price: a double here, an
exact DECIMAL in DuckDB) within a relative 1e-9.

RUNNABLE lists the queries sluice runs; a query joins it once the engine
runs it (each has both forms in bench/nexmark/ already).
"""
import datetime
import decimal
import json
import math

import duckdb
import pytest

from e2e_util import REPO, load_jsonl

RUNNABLE = ["q0", "q1", "q2", "q3", "q11"]
N_EVENTS = 50000
SEED = 11
BASE_TIME = "2026-01-01T00:00:00Z"
BASE_US = 1767225600 * 1000000   # BASE_TIME
QUERIES = REPO / "bench" / "nexmark"


def pipeline_config(out_path, data_dir, sql=None):
    # Without a transform, one worker keeps the file in the generator's order
    # (a source without partitions deals its batches to the workers in turn).
    transform = f"    transform: {{ sql: {json.dumps(sql)} }}\n" if sql else "    workers: 1\n"
    if sql and "TABLE(" in sql:
        # Windowed: the generator's bids are out of order by well under 10 s.
        transform = f"    transform: {{ sql: {json.dumps(sql)}, watermark: {{ delay: 10s }} }}\n"
    return (f"data_dir: {json.dumps(str(data_dir))}\n"
            "pipelines:\n"
            "  nexmark:\n"
            f"    source: {{ generator: {{ kind: nexmark, count: {N_EVENTS}, seed: {SEED}, "
            f"base_time: \"{BASE_TIME}\" }} }}\n"
            f"{transform}"
            f"    sink: {{ file: {{ path: {json.dumps(str(out_path))} }} }}\n")


def run_pipeline(sluice, work, name, sql=None):
    out = work / f"{name}.jsonl"
    config = work / f"{name}.yaml"
    config.write_text(pipeline_config(out, work / f"data-{name}", sql))
    result = sluice.run("run", config, "--quiet", timeout=300)
    assert result.returncode == 0, result.describe()
    return out


@pytest.fixture(scope="module")
def events_file(sluice_bin, tmp_path_factory):
    from e2e_util import Sluice
    work = tmp_path_factory.mktemp("nexmark")
    return run_pipeline(Sluice(sluice_bin, work), work, "events")


@pytest.fixture(scope="module")
def events(events_file):
    rows = load_jsonl(events_file)
    assert len(rows) == N_EVENTS
    return rows


@pytest.fixture(scope="module")
def duck(events_file):
    con = duckdb.connect()
    views = (QUERIES / "duckdb" / "views.sql").read_text().replace("{events}", str(events_file))
    con.execute(views)
    yield con
    con.close()


EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def micros(moment):
    """µs since the epoch of ISO 8601 text (sluice's) or of a naive UTC datetime (DuckDB's)."""
    if isinstance(moment, str):
        moment = datetime.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return (moment - EPOCH) // datetime.timedelta(microseconds=1)


def canonical(value):
    """A value of either side as int, str, float or ('ts', µs)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, datetime.datetime):   # DuckDB's TIMESTAMP: naive, UTC
        return ("ts", micros(value))
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        return ("ts", micros(value))
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def same_value(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def sort_key(row):
    return tuple((0, v) if isinstance(v, (int, float)) else (1, str(v)) for v in row)


def test_events_follow_the_nexmark_model(events):
    people = auctions = 0          # created so far
    referenced_existing = n_bids = 0
    previous_us = BASE_US
    for i, event in enumerate(events):
        kind = event["event_type"]
        assert kind == (0 if i % 50 == 0 else 1 if i % 50 < 4 else 2), f"event {i} is of type {kind}"
        body = event[["person", "auction", "bid"][kind]]
        assert all(event[k] is None for k in ("person", "auction", "bid") if k != ["person", "auction", "bid"][kind])
        at = micros(body["dateTime"])
        # 10,000 events per second of event time, in whole milliseconds
        assert at == BASE_US + (i // 10) * 1000, f"event {i} at {body['dateTime']}"
        assert at >= previous_us
        previous_us = at
        if kind == 0:
            assert body["id"] == 1000 + people
            people += 1
            assert body["state"] in ("AZ", "CA", "ID", "OR", "WA", "WY")
            assert len(body["creditCard"]) == 19 and "@" in body["emailAddress"]
        elif kind == 1:
            assert body["id"] == 1000 + auctions
            auctions += 1
            assert 1000 <= body["seller"] <= 1000 + people - 1 + 10
            assert 10 <= body["category"] <= 14
            assert body["reserve"] > body["initialBid"] >= 100
            assert micros(body["expires"]) > at
        else:
            n_bids += 1
            latest = auctions - 1
            auction = body["auction"] - 1000
            # the hot auction, or one of the 100 latest, or up to 10 not created yet
            assert auction == latest // 100 * 100 or max(latest - 100, 0) <= auction <= latest + 10, \
                f"bid {i} on auction {body['auction']} when the latest is {latest + 1000}"
            referenced_existing += auction <= latest
            bidder = body["bidder"] - 1000
            assert 0 <= bidder <= people - 1 + 10
            assert 100 <= body["price"] <= 100000000
            assert body["url"].startswith("https://www.nexmark.com/")
    assert (people, auctions, n_bids) == (N_EVENTS // 50, N_EVENTS // 50 * 3, N_EVENTS // 50 * 46)
    # random picks may run up to 10 ids ahead: a few bids are on auctions not created yet
    assert referenced_existing / n_bids > 0.9


def test_the_same_seed_gives_the_same_file_and_duckdb_reads_all_of_it(sluice, workdir, events_file, duck):
    again = run_pipeline(sluice, workdir, "again")
    assert again.read_bytes() == events_file.read_bytes()
    counts = {name: duck.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
              for name in ("person", "auction", "bid")}
    assert counts == {"person": N_EVENTS // 50, "auction": N_EVENTS // 50 * 3, "bid": N_EVENTS // 50 * 46}


@pytest.mark.parametrize("query", RUNNABLE)
def test_sluice_answers_the_query_as_duckdb_does(sluice, workdir, duck, query):
    out = run_pipeline(sluice, workdir, query, sql=(QUERIES / f"{query}.sql").read_text())
    got_rows = load_jsonl(out)
    cursor = duck.execute((QUERIES / "duckdb" / f"{query}.sql").read_text())
    columns = [d[0] for d in cursor.description]
    want = sorted((tuple(canonical(v) for v in row) for row in cursor.fetchall()), key=sort_key)
    for row in got_rows:
        assert list(row) == columns, f"{query}: sluice's columns {list(row)}, DuckDB's {columns}"
    got = sorted((tuple(canonical(row[c]) for c in columns) for row in got_rows), key=sort_key)
    assert len(got) == len(want), f"{query}: sluice gave {len(got)} rows, DuckDB {len(want)}"
    assert len(want) > 0, f"{query}: no rows at all, the comparison would prove nothing"
    for i, (g, w) in enumerate(zip(got, want)):
        assert all(same_value(a, b) for a, b in zip(g, w)), f"{query}: row {i} differs: sluice {g}, DuckDB {w}"
