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
