"""test_sql_explain.py — `sluice sql explain FILE [--pipeline NAME]` prints
each pipeline's plan: the columns as compiled (constants folded, arms a
constant rules out gone, BETWEEN as two comparisons), the WHERE, and what
the JSON reader builds of a record; an unknown pipeline or a file with
mistakes is a usage error naming it."""
CONFIG = """\
pipelines:
  p:
    source: { generator: { kind: users, count: 5, seed: 1 } }
    transform:
      sql: |
        SELECT uuid(login.uuid) AS id, 1 + 2 AS three,
               CASE WHEN FALSE THEN 1 WHEN dob.age > 30 THEN 'old' ELSE 'young' END AS band,
               coalesce(NULL, name.first, 'x') AS first, location.city BETWEEN 'A' AND 'M' AS early
        FROM input WHERE email LIKE '%@%'
    sink: { stdio: {} }
  q:
    source: { generator: { kind: users, count: 5, seed: 1 } }
    sink: { stdio: {} }
"""


def test_explain_prints_the_compiled_plan(sluice, workdir):
    (workdir / "p.yaml").write_text(CONFIG)
    done = sluice.run("sql", "explain", "p.yaml", timeout=60)
    assert done.returncode == 0, done.describe()
    assert done.stdout.splitlines() == [
        "pipeline p:",
        "  reads: email, location.city, name.first, dob.age, login.uuid",
        "  column id = uuid(login.uuid)",
        "  column three = 3",
        "  column band = CASE WHEN (dob.age > 30) THEN 'old' ELSE 'young' END",
        "  column first = coalesce(name.first, 'x')",
        "  column early = ((location.city >= 'A') AND (location.city <= 'M'))",
        "  where: (email LIKE '%@%')",
        "pipeline q:",
        "  no SQL: records pass as they are",
    ], done.stdout
    only = sluice.run("sql", "explain", "p.yaml", "--pipeline", "q", timeout=60)
    assert only.returncode == 0 and only.stdout.splitlines() == ["pipeline q:", "  no SQL: records pass as they are"]


WINDOWED = """pipelines:
  w:
    source: { generator: { kind: nexmark, count: 10 } }
    transform:
      sql: |
        SELECT window_start, window_end, bid.auction AS auction, count(*) AS bids,
               approx_percentile(bid.price, 0.9) AS p90
        FROM TABLE(HOP(TABLE input, DESCRIPTOR(bid.dateTime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
        WHERE event_type = 2
        GROUP BY window_start, window_end, auction
        HAVING count(*) > 1
    sink: { stdio: {} }
"""


def test_explain_prints_a_grouped_plan(sluice, workdir):
    (workdir / "w.yaml").write_text(WINDOWED)
    done = sluice.run("sql", "explain", "w.yaml", timeout=60)
    assert done.returncode == 0, done.describe()
    assert done.stdout.splitlines()[2:] == [
        "  column window_start = group[0]",
        "  column window_end = group[1]",
        "  column auction = group[2]",
        "  column bids = group[3]",
        "  column p90 = group[4]",
        "  where: (event_type = 2)",
        "  window: HOP over event time bid.dateTime, slide 2 s, size 10 s",
        "  group[0] = window_start",
        "  group[1] = window_end",
        "  group[2] = key bid.auction",
        "  group[3] = count(*)",
        "  group[4] = approx_percentile(bid.price, 0.9)",
        "  having: (group[3] > 1)",
    ], done.stdout
    assert done.stdout.splitlines()[1].startswith("  reads: ")


def test_explain_refuses_an_unknown_pipeline_and_a_broken_file(sluice, workdir):
    (workdir / "p.yaml").write_text(CONFIG)
    done = sluice.run("sql", "explain", "p.yaml", "--pipeline", "nope", timeout=60)
    assert done.returncode == 2 and "no pipeline called 'nope'" in done.stderr, done.describe()
    (workdir / "bad.yaml").write_text(CONFIG.replace("1 + 2 AS three", "1 / 0 AS three"))
    done = sluice.run("sql", "explain", "bad.yaml", timeout=60)
    assert done.returncode == 2 and "division by zero" in done.stderr, done.describe()
    assert sluice.run("sql", timeout=60).returncode == 2


def test_explain_prints_interval_constants_as_literals_that_read_back(sluice, workdir):
    (workdir / "i.yaml").write_text("""\
pipelines:
  i:
    source: { generator: { kind: users, count: 5, seed: 1 } }
    transform:
      sql: |
        SELECT INTERVAL '1' DAY + INTERVAL '90' SECOND AS grace,
               CAST(registered.date AS TIMESTAMP) + INTERVAL '-1-2' YEAR TO MONTH AS earlier
        FROM input
    sink: { stdio: {} }
""")
    done = sluice.run("sql", "explain", "i.yaml", timeout=60)
    assert done.returncode == 0, done.describe()
    lines = done.stdout.splitlines()
    assert "  column grace = INTERVAL '1 day 00:01:30'" in lines, done.stdout
    assert "  column earlier = (CAST(registered.date AS timestamp) + INTERVAL '-1 years -2 mons')" in lines, done.stdout


JOINS = """pipelines:
  j:
    source: { generator: { kind: nexmark, count: 10 } }
    transform:
      sql: |
        WITH orders AS (SELECT id, region, ts FROM input WHERE kind = 'order'),
             shipments AS (SELECT id, order_id, ts FROM input WHERE kind = 'shipment')
        SELECT o.id AS order_id, s.id AS shipment_id, upper(o.region) AS region, s.ts AS shipped
        FROM orders o LEFT JOIN shipments s
        ON o.id = s.order_id AND s.ts BETWEEN o.ts - INTERVAL '1' MINUTE AND o.ts + INTERVAL '10' MINUTE
           AND s.id > 3 AND o.id + s.id > 2
      watermark: { delay: 5s }
    sink: { stdio: {} }
  w:
    source: { generator: { kind: nexmark, count: 10 } }
    transform:
      sql: |
        WITH clicks AS (SELECT id, user, ts FROM input WHERE kind = 'click'),
             views AS (SELECT id, user, ts FROM input WHERE kind = 'view')
        SELECT window_start, c.id AS click, v.window_end AS view_end
        FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) c
        FULL JOIN TABLE(HOP(TABLE views, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) v
        ON c.window_start = v.window_start AND c.window_end = v.window_end AND c.user = v.user
    sink: { stdio: {} }
  l:
    source: { generator: { kind: users, count: 5, seed: 1 } }
    transform:
      sql: |
        SELECT o.email, u.name FROM input o
        LEFT JOIN users FOR SYSTEM_TIME AS OF PROCTIME() AS u ON u.id = o.login.uuid
      tables: { users: { sqlite: users.db } }
    sink: { stdio: {} }
"""


def test_explain_prints_the_sides_of_a_join(sluice, workdir):
    (workdir / "j.yaml").write_text(JOINS)
    import sqlite3
    with sqlite3.connect(workdir / "users.db") as db:
        db.execute("CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT)")
    done = sluice.run("sql", "explain", "j.yaml", timeout=60)
    assert done.returncode == 0, done.describe()
    lines = [line for line in done.stdout.splitlines() if "reads:" not in line]
    assert lines == [
        "pipeline j:",
        "  join: LEFT interval join, s's time - o's within [-60 s, 600 s]",
        "  left o: rows where (kind = 'order'), time ts, keys id",
        "  right s: rows where ((kind = 'shipment') AND (id > 3)), time ts, keys order_id",
        "  on: ((o.id + s.id) > 2)",
        "  column order_id = o.id",
        "  column shipment_id = s.id",
        "  column region = upper(o.region)",
        "  column shipped = s.ts",
        "pipeline w:",
        "  join: FULL window join, both sides in HOP over event time ts, slide 5 s, size 10 s",
        "  left c: rows where (kind = 'click'), time ts, keys user",
        "  right v: rows where (kind = 'view'), time ts, keys user",
        "  column window_start = window_start",
        "  column click = c.id",
        "  column view_end = v.window_end",
        "pipeline l:",
        "  lookup: LEFT users AS u by id = login.uuid",
        "  column email = email",
        "  column name = u.name",
    ], done.stdout
