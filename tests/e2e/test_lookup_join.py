"""test_lookup_join.py — lookup joins against an SQLite table (JOIN t FOR
SYSTEM_TIME AS OF ...): inner and left joins, a composite key, rows whose
key matches two rows to the dead letters, and the configuration's mistakes.
The table is written and the expected rows computed with Python's sqlite3,
independently of sluice."""
import json
import random
import shutil
import sqlite3

import kafka_batch
from e2e_util import load_jsonl, parse_summary


def make_users(path, n):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE users (id INTEGER, region TEXT, name TEXT, score REAL, PRIMARY KEY (id, region))")
    db.executemany("INSERT INTO users VALUES (?, ?, ?, ?)",
                   [(i, "eu" if i % 2 else "us", f"user-{i}", i / 4 if i % 3 else None) for i in range(n)])
    db.commit()
    return db


def orders(n, max_user, seed=1):
    rng = random.Random(seed)
    return [{"order": i, "user": rng.randrange(max_user + 200) if i % 17 else None,
             "region": rng.choice(["eu", "us"]), "amount": rng.randrange(1000)} for i in range(n)]


CONFIG = """pipelines:
  enrich:
    source: {{ file: {{ path: orders.jsonl }} }}
    workers: 2
    transform:
      sql: |
{sql}
      tables: {{ users: {{ sqlite: users.db, cache_rows: 100, cache_ttl: 1m }} }}
    sink: {{ file: {{ path: out.jsonl }} }}
"""


def write_config(workdir, sql):
    (workdir / "p.yaml").write_text(CONFIG.format(sql="\n".join("        " + line for line in sql.splitlines())))


def test_inner_and_left_joins_equal_sqlite(sluice, workdir):
    db = make_users(workdir / "users.db", 500)
    rows = orders(5000, 500)
    (workdir / "orders.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = {(i, region): (name, score) for i, region, name, score in db.execute("SELECT * FROM users")}

    write_config(workdir, "SELECT o.order, o.amount, u.name, u.score\n"
                          "FROM input AS o JOIN users FOR SYSTEM_TIME AS OF PROCTIME() AS u\n"
                          "  ON u.id = o.user AND u.region = o.region\n"
                          "WHERE o.amount >= 100")
    result = sluice.run("run", "p.yaml")
    assert result.returncode == 0, result.describe()
    want = sorted((r["order"], r["amount"]) + table[(r["user"], r["region"])] for r in rows
                  if r["amount"] >= 100 and (r["user"], r["region"]) in table)
    got = sorted((r["order"], r["amount"], r["name"], r["score"]) for r in load_jsonl(workdir / "out.jsonl"))
    assert got == want and len(want) > 1000
    assert parse_summary(result.stderr)["enrich"]["filtered"] == 5000 - len(want)

    (workdir / "out.jsonl").unlink()
    shutil.rmtree(workdir / "data")   # the file source would go on from where it was
    write_config(workdir, "SELECT o.order, u.name FROM input o\n"
                          "LEFT JOIN users FOR SYSTEM_TIME AS OF o.proctime u ON o.user = u.id AND o.region = u.region")
    result = sluice.run("run", "p.yaml")
    assert result.returncode == 0, result.describe()
    got = sorted((r["order"], r["name"]) for r in load_jsonl(workdir / "out.jsonl"))
    assert got == sorted((r["order"], table.get((r["user"], r["region"]), (None,))[0]) for r in rows)


def test_a_key_of_two_rows_goes_to_the_dead_letters_and_the_rest_runs(sluice, workdir):
    db = sqlite3.connect(workdir / "users.db")
    db.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?)", [(1, "ann"), (2, "bo"), (2, "bob")])
    db.commit()
    lines = [json.dumps({"order": i, "user": 1 + i % 2}) for i in range(10)]
    (workdir / "orders.jsonl").write_text("\n".join(lines) + "\n")
    write_config(workdir, "SELECT o.order, u.name FROM input o JOIN users FOR SYSTEM_TIME AS OF PROCTIME() u "
                          "ON u.id = o.user")
    result = sluice.run("run", "p.yaml")
    assert result.returncode == 0, result.describe()
    assert sorted(r["order"] for r in load_jsonl(workdir / "out.jsonl")) == [0, 2, 4, 6, 8]
    letters = [r for rs in kafka_batch.read_topic(str(workdir / "data"), "enrich.dlq").values() for r in rs]
    assert sorted(json.loads(r.value)["order"] for r in letters) == [1, 3, 5, 7, 9]
    assert all(b"matches more than one row" in dict(r.headers)["sluice.error"] for r in letters)


def test_mistakes_are_named(sluice, workdir):
    (workdir / "orders.jsonl").write_text('{"user": 1}\n')
    sql = "SELECT u.name FROM input o JOIN users FOR SYSTEM_TIME AS OF PROCTIME() u ON u.id = o.user"
    write_config(workdir, sql)
    result = sluice.run("run", "p.yaml")
    assert result.returncode != 0
    assert "lookup table users: cannot open SQLite database users.db" in result.stderr, result.stderr

    sqlite3.connect(workdir / "users.db").execute("CREATE TABLE people (id INTEGER)").connection.commit()
    result = sluice.run("run", "p.yaml")
    assert result.returncode != 0
    assert "no such table: users" in result.stderr, result.stderr

    (workdir / "p.yaml").write_text(CONFIG.format(sql="        " + sql).replace(
        "tables: { users:", "tables: { people:"))
    result = sluice.run("validate", "p.yaml")
    assert result.returncode != 0
    assert "transform.tables.people: the SQL joins no table of that name" in result.stderr, result.stderr

    write_config(workdir, "SELECT u.name FROM input o JOIN users FOR SYSTEM_TIME AS OF PROCTIME() u ON u.id > o.user")
    result = sluice.run("validate", "p.yaml")
    assert result.returncode != 0
    assert "a lookup join's ON must be equalities of the table's columns" in result.stderr, result.stderr
