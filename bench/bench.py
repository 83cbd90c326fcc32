"""bench.py — sluice's throughput on this machine, one run per scenario,
each beside a reference figure measured in the same run on the same data.
Prints; asserts nothing; exits 1 only when a sluice run fails. Run by
bench/run.sh.

  (a) generator -> topic       users, 4 partitions, keyed by login.uuid
                               ref: Python json.dumps of the same users + key, written to a file
  (b) topic -> SQL -> topic    SELECT of the seed's 11 columns
                               ref: Python json.loads, the same projection, json.dumps, to a file
  (c) topic -> SQL -> SQLite   the seed's store_users
                               ref: Python sqlite3 upserting the same rows (the same libsqlite3)
  (d) JSON parse MB/s          bench/json_bench.c vs Python's json (and jq)
  (e) file -> SQL -> SQLite    JSON lines into SQLite
                               ref: Python sqlite3 upserting the same rows
  (f)-(j) Kafka, Cassandra, the scheduler, the HTTP API, the web UI (their own files)
  (k) Nexmark queries          bench/nexmark_bench.c: events per CPU-second of sluice per query
                               ref: C loops doing q1's and q5's work on the same events

Each sluice run is timed around the process (wall clock), with its CPU
time and max RSS from wait4(). The runs print their summary (for its
records/s, on stderr) instead of using --quiet: with stderr not a terminal there
is no progress line, so the only difference is the few summary lines at the end.

Each Python reference runs as its own process (this file with --reference),
single-threaded, so on one core; it times only the work it stands in for
(loading prepared input, where that is not part of the work, is untimed) and
prints its records, wall and CPU seconds as one JSON line.
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SLUICE = Path(os.environ.get("SLUICE_BIN") or REPO / "build" / "sluice")
OUT = REPO / "bench" / "out"
USERS = int(os.environ.get("BENCH_USERS", "200000"))
JSON_USERS = int(os.environ.get("BENCH_JSON_USERS", "100000"))

# Fixed figures from the mission text: context only, not measured here.
BENTHOS_FILE_TO_SQLITE_ROWS_S = 4200
KAFKA_TO_CASSANDRA_ROWS_S = 7300
SPARK_ROWS_S = 2000
# The aims, as the mission states them.
AIM_PER_CORE_TOPIC = 500_000      # users/s per core: generator -> topic, topic -> SQL -> topic
AIM_INTO_SQLITE = 200_000         # users/s into SQLite

SQLITE_TXN_ROWS = (1024, 8192)    # reference transaction sizes (sluice: 1024-row batches, up to 16 per txn)

SEED_SELECT = ("SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name, "
               "gender, location.city AS city, location.postcode AS post_code, email, "
               "login.username AS username, registered.date AS registered_date, "
               "phone, picture.thumbnail AS picture FROM input")

CONFIG = f"""\
data_dir: data
pipelines:
  a_generate:
    source: {{ generator: {{ kind: users, count: {USERS}, rate: 0, seed: 42 }} }}
    sink:   {{ topic: {{ name: user_data, partitions: 4, key: login.uuid }} }}
  b_topic_sql_topic:
    source:    {{ topic: {{ name: user_data, group: bench_b }} }}
    transform: {{ sql: "{SEED_SELECT}" }}
    sink:      {{ topic: {{ name: users_mapped, partitions: 4, key: id }} }}
  c_topic_sql_sqlite:
    source:    {{ topic: {{ name: user_data, group: bench_c }} }}
    transform: {{ sql: "{SEED_SELECT}" }}
    sink:      {{ sqlite: {{ path: data/users.db, table: created_users, key: [id] }} }}
  a_dump_json:
    source: {{ generator: {{ kind: users, count: {USERS}, rate: 0, seed: 42 }} }}
    sink:   {{ file: {{ path: users_a.jsonl }} }}
  d_dump_json:
    source: {{ generator: {{ kind: users, count: {JSON_USERS}, rate: 0, seed: 7 }} }}
    sink:   {{ file: {{ path: users.jsonl }} }}
  e_file_sql_sqlite:
    source:    {{ file: {{ path: users.jsonl }} }}
    transform: {{ sql: "{SEED_SELECT}" }}
    sink:      {{ sqlite: {{ path: data/file_users.db, table: created_users, key: [id] }} }}
"""

# ---- the Python references (run in a child process: bench.py --reference KIND ...) ----

COLUMNS = ("id", "first_name", "last_name", "gender", "city", "post_code", "email", "username",
           "registered_date", "phone", "picture")
# The table sluice's sqlite sink creates for SEED_SELECT on these users
# (post_code untyped: the generator's postcodes are numbers or strings).
CREATE_TABLE = ('CREATE TABLE IF NOT EXISTS "created_users" ("id" TEXT NOT NULL, "first_name" TEXT, '
                '"last_name" TEXT, "gender" TEXT, "city" TEXT, "post_code", "email" TEXT, "username" TEXT, '
                '"registered_date" TEXT, "phone" TEXT, "picture" TEXT, PRIMARY KEY ("id"))')
UPSERT = ('INSERT INTO "created_users" (' + ", ".join(f'"{c}"' for c in COLUMNS) + ") VALUES (" +
          ", ".join("?" for _ in COLUMNS) + ') ON CONFLICT ("id") DO UPDATE SET ' +
          ", ".join(f'"{c}" = excluded."{c}"' for c in COLUMNS[1:]))
# sluice's sqlite sink pragmas, so the reference is the same library's ceiling
# under the same settings.
SQLITE_PRAGMAS = ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                  "PRAGMA cache_size = -65536", "PRAGMA wal_autocheckpoint = 16384")

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# One encoder for every record (json.dumps with arguments builds one per call):
# compact UTF-8, as sluice writes.
ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def project(user):
    """The seed SELECT's 11 columns of one user, as a dict in column order."""
    login = user["login"]
    uuid = login["uuid"]
    if not isinstance(uuid, str) or not UUID_RE.fullmatch(uuid):
        raise ValueError(f"invalid uuid {uuid!r}")
    name, location = user["name"], user["location"]
    return {"id": uuid.lower(), "first_name": name["first"], "last_name": name["last"],
            "gender": user["gender"], "city": location["city"], "post_code": location["postcode"],
            "email": user["email"], "username": login["username"],
            "registered_date": user["registered"]["date"], "phone": user["phone"],
            "picture": user["picture"]["thumbnail"]}


def finish_file(f):
    """Flushes and fsyncs f, so the output is durable as sluice's is, then closes it."""
    f.flush()
    os.fsync(f.fileno())
    f.close()


def ref_dump_keyed(in_path, out_path):
    """(a): json.dumps each user (loaded untimed, 8192 at a time) and write 'key<TAB>json' lines."""
    records, wall, cpu = 0, 0.0, 0.0
    out = None
    with open(in_path, "rb") as f:
        while True:
            lines = f.readlines(8 << 20)
            if not lines:
                break
            users = [json.loads(line) for line in lines]
            w0, c0 = time.perf_counter(), time.process_time()
            if out is None:
                out = open(out_path, "w", encoding="utf-8", buffering=1 << 20)
            for user in users:
                out.write(user["login"]["uuid"] + "\t" + ENCODER.encode(user) + "\n")
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
            records += len(users)
    w0, c0 = time.perf_counter(), time.process_time()
    if out is not None:
        finish_file(out)
    return records, wall + time.perf_counter() - w0, cpu + time.process_time() - c0


def ref_project(in_path, out_path):
    """(b): json.loads each line, project the 11 columns, json.dumps, write; all timed."""
    w0, c0 = time.perf_counter(), time.process_time()
    records = 0
    with open(in_path, "rb") as f:
        out = open(out_path, "w", encoding="utf-8", buffering=1 << 20)
        for line in f:
            out.write(ENCODER.encode(project(json.loads(line))) + "\n")
            records += 1
        finish_file(out)
    return records, time.perf_counter() - w0, time.process_time() - c0


def ref_sqlite(in_path, db_path, txn_rows):
    """(c)/(e): upsert the projected rows (loaded untimed) into a fresh db, txn_rows per transaction.
    Timed from connect to close (close checkpoints the WAL, as sluice's close does)."""
    with open(in_path, "rb") as f:
        rows = [tuple(json.loads(line).values()) for line in f]
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    w0, c0 = time.perf_counter(), time.process_time()
    db = sqlite3.connect(db_path, isolation_level=None)
    for pragma in SQLITE_PRAGMAS:
        db.execute(pragma).fetchall()
    db.execute(CREATE_TABLE)
    for start in range(0, len(rows), txn_rows):
        db.execute("BEGIN IMMEDIATE")
        db.executemany(UPSERT, rows[start:start + txn_rows])
        db.execute("COMMIT")
    db.close()
    return len(rows), time.perf_counter() - w0, time.process_time() - c0


def reference_main(argv):
    kind = argv[0]
    if kind == "dump_keyed":
        result = ref_dump_keyed(argv[1], argv[2])
    elif kind == "project":
        result = ref_project(argv[1], argv[2])
    elif kind == "sqlite":
        result = ref_sqlite(argv[1], argv[2], int(argv[3]))
    else:
        print(f"bench: unknown reference {kind}", file=sys.stderr)
        return 2
    print(json.dumps({"records": result[0], "wall": result[1], "cpu": result[2]}))
    return 0


# ---- measuring ----

def run_wait4(args, cwd, stdin=None):
    """Runs args with output to files; returns dict with rc, out, err, wall, cpu, rss_mib."""
    out_path = OUT / "last.out"
    err_path = OUT / "last.err"
    with open(out_path, "wb") as out_f, open(err_path, "wb") as err_f:
        start = time.monotonic()
        proc = subprocess.Popen(args, cwd=cwd, stdin=stdin or subprocess.DEVNULL, stdout=out_f, stderr=err_f)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "rc": proc.returncode,
        "out": out_path.read_text(errors="replace"),
        "err": err_path.read_text(errors="replace"),
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024.0,  # Linux: KiB
    }


def run_reference(kind, *args):
    """Runs one Python reference in its own process; returns dict with records, wall, cpu,
    rate, cpu_rate, rss_mib, or with 'error'."""
    m = run_wait4([sys.executable, str(Path(__file__).resolve()), "--reference", kind, *map(str, args)], OUT)
    if m["rc"] != 0:
        return {"error": f"exit {m['rc']}: {m['err'].strip()[-400:]}"}
    result = json.loads(m["out"].strip().splitlines()[-1])
    result["rate"] = result["records"] / result["wall"] if result["wall"] > 0 else None
    result["cpu_rate"] = result["records"] / result["cpu"] if result["cpu"] > 0 else None
    result["rss_mib"] = m["rss_mib"]
    return result


def summary_rps(stderr, pipeline):
    """records/s and in-count of pipeline from the run's summary table (on stderr)."""
    for line in stderr.splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0] == pipeline and fields[1].isdigit():
            return float(fields[6]), int(fields[1]), int(fields[2])
    return None, None, None


def dir_bytes(path, suffix=".log"):
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files if f.endswith(suffix))
    return total


def fmt_rate(value, unit):
    return f"{value:>12,.0f} {unit}" if value is not None else f"{'n/a':>12} {unit}"


def ratio(a, b):
    return a / b if a and b else None


def report(label, m, records, mbytes, pipeline):
    """Prints one sluice run; returns a dict of its figures (rate None when it failed)."""
    rps_summary, n_in, n_out = summary_rps(m["err"], pipeline)
    ok = m["rc"] == 0
    print(f"{label}")
    if not ok:
        print(f"    FAILED: exit {m['rc']}: {m['err'].strip()[-400:]}")
        return {"rate": None, "cpu_rate": None, "rss_mib": None, "failed": True}
    wall_rps = records / m["wall"] if m["wall"] > 0 else None
    cpu_rps = records / m["cpu"] if m["cpu"] > 0 else None
    print(f"    records {records:,} (summary: in {n_in}, out {n_out}), {mbytes:,.1f} MB")
    print(f"    wall   {m['wall']:8.2f} s   {fmt_rate(wall_rps, 'records/s')}   {mbytes / m['wall']:8.1f} MB/s")
    print(f"    summary records/s {fmt_rate(rps_summary, '')}")
    print(f"    CPU    {m['cpu']:8.2f} s   {m['cpu'] / records * 1e6:8.2f} us/record   "
          f"{fmt_rate(cpu_rps, 'records/CPU-s')}   max RSS {m['rss_mib']:.0f} MiB")
    return {"rate": wall_rps, "cpu_rate": cpu_rps, "rss_mib": m["rss_mib"], "failed": False}


def sluice_scenario(label, pipeline, records, input_bytes):
    m = run_wait4([str(SLUICE), "run", "bench.yaml", "--pipeline", pipeline], OUT)
    return report(label, m, records, input_bytes / 1e6, pipeline)


def print_reference(label, sluice, ref):
    """Prints a reference beside the sluice figures, with ratios."""
    if "error" in ref:
        print(f"    ref {label}: FAILED: {ref['error']}")
        return
    print(f"    ref {label}")
    print(f"        wall {ref['wall']:6.2f} s {fmt_rate(ref['rate'], 'records/s')}   CPU {ref['cpu']:6.2f} s "
          f"{fmt_rate(ref['cpu_rate'], 'records/CPU-s')}   process max RSS {ref['rss_mib']:.0f} MiB")
    wall_ratio, cpu_ratio = ratio(sluice["rate"], ref["rate"]), ratio(sluice["cpu_rate"], ref["cpu_rate"])
    if wall_ratio:
        print(f"        ratio sluice/ref: {wall_ratio:.2f}x records/s (wall), {cpu_ratio:.2f}x records/CPU-s")


def table_digest(db_path):
    """(row count, sha256 of every row ordered by id) of created_users, or None."""
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        digest, count = hashlib.sha256(), 0
        for row in db.execute('SELECT * FROM "created_users" ORDER BY "id"'):
            digest.update(repr(row).encode())
            count += 1
        db.close()
        return count, digest.hexdigest()
    except sqlite3.Error:
        return None


def sqlite_references(label, sluice, rows_path, sluice_db, prefix):
    """Runs the sqlite3 reference at each transaction size; prints them; returns the best."""
    best = None
    for txn in SQLITE_TXN_ROWS:
        db_path = OUT / f"{prefix}_{txn}.db"
        ref = run_reference("sqlite", rows_path, db_path, txn)
        print_reference(f"Python sqlite3 executemany upsert, {txn}-row transactions "
                        "(untimed: loading the rows)", sluice, ref)
        if "error" in ref:
            continue
        ref["what"] = f"py sqlite3 {txn}/txn"
        if best is None or ref["rate"] > best["rate"]:
            best = ref
        if txn == SQLITE_TXN_ROWS[-1] and not sluice["failed"]:
            same = table_digest(sluice_db)
            print(f"        same rows as sluice's table: "
                  f"{'yes' if same and same == table_digest(db_path) else 'NO'} "
                  f"({same[0] if same else 'no'} rows)")
    return best


# ---- (d) JSON parsing ----

def python_json_mbs(path):
    with open(path, "rb") as f:
        lines = f.read().splitlines()
    n_bytes = sum(len(line) for line in lines)
    start = time.perf_counter()
    for line in lines:
        json.loads(line)
    elapsed = time.perf_counter() - start
    return n_bytes / elapsed / 1e6, len(lines) / elapsed


def jq_mbs(path):
    jq = shutil.which("jq")
    if not jq:
        return None
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        start = time.monotonic()
        rc = subprocess.run([jq, "empty"], stdin=f, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        elapsed = time.monotonic() - start
    return size / elapsed / 1e6 if rc == 0 else None


def json_bench(path):
    """Builds and runs bench/json_bench.c; returns (parse MB/s, records/s, its output) or (None, None, why)."""
    src = REPO / "bench" / "json_bench.c"
    if not src.exists():
        return None, None, "bench/json_bench.c is not there"
    binary = REPO / "build" / "json_bench"
    binary.parent.mkdir(exist_ok=True)
    core = sorted(str(p) for p in (REPO / "src" / "core").glob("*.c"))
    build = subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", f"-I{REPO / 'src'}", str(src), *core,
                            "-lm", "-pthread", "-o", str(binary)], capture_output=True, text=True)
    if build.returncode != 0:
        return None, None, "json_bench did not compile: " + build.stderr.strip()[-600:]
    run = subprocess.run([str(binary), str(path)], capture_output=True, text=True, timeout=120)
    m = re.search(r"json_parse:\s*([\d.]+)\s*MB/s\s*([\d.]+)\s*records/s", run.stdout)
    if run.returncode != 0 or not m:
        return None, None, f"json_bench failed (exit {run.returncode}): {run.stdout.strip()} {run.stderr.strip()[-300:]}"
    return float(m.group(1)), float(m.group(2)), run.stdout.strip()


# ---- the final table ----

def fmt_cell(value, width, spec=",.0f", suffix=""):
    return f"{format(value, spec) + suffix:>{width}}" if value else f"{'n/a':>{width}}"


def print_table(rows):
    print("\nsummary (ratio = sluice / reference, both measured above in this run)")
    print(f"    {'scenario':<27} {'sluice rec/s':>12} {'rec/CPU-s':>10} {'reference':<20} {'ref rec/s':>10} "
          f"{'ratio':>7} {'ratio/CPU':>9} {'max RSS':>8}")
    for name, sluice, ref in rows:
        ref = ref or {}
        print(f"    {name:<27} {fmt_cell(sluice.get('rate'), 12)} {fmt_cell(sluice.get('cpu_rate'), 10)} "
              f"{ref.get('what', 'n/a'):<20} {fmt_cell(ref.get('rate'), 10)} "
              f"{fmt_cell(ratio(sluice.get('rate'), ref.get('rate')), 7, '.2f', 'x')} "
              f"{fmt_cell(ratio(sluice.get('cpu_rate'), ref.get('cpu_rate')), 9, '.2f', 'x')} "
              f"{fmt_cell(sluice.get('rss_mib'), 8, '.0f', ' MiB')}")
    print("    rec/s is over wall time; rec/CPU-s is records / (user + system CPU seconds), i.e. per core.")
    print("    (d) sluice is json_bench (parse only, per CPU second, one thread); its ref is json.loads.")


def print_aims(results):
    print(f"\naims (mission): >= {AIM_PER_CORE_TOPIC:,} users/s per core for (a) and (b); "
          f">= {AIM_INTO_SQLITE:,} users/s into SQLite")
    for key, label, aim in (("a", "(a) per core", AIM_PER_CORE_TOPIC), ("b", "(b) per core", AIM_PER_CORE_TOPIC)):
        value = results.get(key, {}).get("cpu_rate")
        if value:
            print(f"    {label:<16} {value:>10,.0f} records/CPU-s = {value / aim:.2f} of the aim")
    for key, label in (("c", "(c) into SQLite"), ("e", "(e) into SQLite")):
        sluice = results.get(key, {})
        if sluice.get("rate"):
            print(f"    {label:<16} {sluice['rate']:>10,.0f} records/s (wall) = {sluice['rate'] / AIM_INTO_SQLITE:.2f}"
                  f" of the aim; {sluice['cpu_rate']:,.0f} records/CPU-s = "
                  f"{sluice['cpu_rate'] / AIM_INTO_SQLITE:.2f}")


def print_fixed_figures(results):
    print("\nfixed figures from the mission text (context only, NOT measured here, other systems/hardware):")
    print(f"    Benthos file -> SQLite       {BENTHOS_FILE_TO_SQLITE_ROWS_S:>6,} rows/s")
    print(f"    Kafka -> Cassandra           {KAFKA_TO_CASSANDRA_ROWS_S:>6,} rows/s")
    print(f"    Spark                        {SPARK_ROWS_S:>6,} rows/s")
    for key, label in (("e", "(e) file -> SQLite"), ("c", "(c) topic -> SQLite")):
        rate = results.get(key, {}).get("rate")
        if rate:
            print(f"    sluice {label} / Benthos file -> SQLite: {rate / BENTHOS_FILE_TO_SQLITE_ROWS_S:.1f}x")


def main():
    if not SLUICE.exists():
        print(f"bench: {SLUICE} is missing; build it with `make build/sluice`")
        return 1
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    (OUT / "bench.yaml").write_text(CONFIG)
    load = os.getloadavg()
    print(f"sluice bench — {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"at start; {USERS:,} users for (a)-(c), {JSON_USERS:,} for (d)-(e); one run each; "
          f"SQLite {sqlite3.sqlite_version} (Python's and sluice's)\n")

    started = time.monotonic()
    results = {}
    refs = {}
    ma = run_wait4([str(SLUICE), "run", "bench.yaml", "--pipeline", "a_generate"], OUT)
    topic_bytes = dir_bytes(OUT / "data" / "topics" / "user_data")
    # (a)'s MB/s is of the topic bytes it wrote (RecordBatch v2 segments).
    results["a"] = report("(a) generator -> topic (users, 4 partitions, keyed; MB = topic bytes written)",
                          ma, USERS, topic_bytes / 1e6, "a_generate")
    results["b"] = sluice_scenario("(b) topic -> SQL (11 columns) -> topic", "b_topic_sql_topic", USERS, topic_bytes)
    results["c"] = sluice_scenario("(c) topic -> SQL -> SQLite (the seed's store_users)", "c_topic_sql_sqlite",
                                   USERS, topic_bytes)

    # The same users as the topic's (same generator, seed and count) as JSON lines, for the references.
    print(f"\nreferences for (a)-(c), on {USERS:,} users dumped by a generator -> file pipeline (seed 42):")
    dump_a = run_wait4([str(SLUICE), "run", "bench.yaml", "--pipeline", "a_dump_json", "--quiet"], OUT)
    users_a = OUT / "users_a.jsonl"
    if dump_a["rc"] != 0 or not users_a.exists():
        print(f"    FAILED to dump users: exit {dump_a['rc']}: {dump_a['err'].strip()[-400:]}")
        results["a"]["failed"] = True
    else:
        print("(a) reference")
        refs["a"] = run_reference("dump_keyed", users_a, OUT / "ref_a.tsv")
        refs["a"]["what"] = "py json.dumps+write"
        print_reference("Python json.dumps of each user + key to a file, fsync at end "
                        "(untimed: loading the users; the generator's own work has no counterpart)",
                        results["a"], refs["a"])
        print("(b) reference")
        rows_b = OUT / "ref_b.jsonl"
        refs["b"] = run_reference("project", users_a, rows_b)
        refs["b"]["what"] = "py loads+proj+dumps"
        print_reference("Python json.loads, 11-column projection (uuid checked), json.dumps, "
                        "to a file, fsync at end", results["b"], refs["b"])
        print("(c) reference (rows: the projection above)")
        if "error" not in refs["b"]:
            refs["c"] = sqlite_references("c", results["c"], rows_b, OUT / "data" / "users.db", "ref_c")

    # (d): dump users as JSON lines with sluice itself, then parse them three ways.
    print()
    dump = run_wait4([str(SLUICE), "run", "bench.yaml", "--pipeline", "d_dump_json", "--quiet"], OUT)
    jsonl = OUT / "users.jsonl"
    print("(d) JSON parse, JSON lines of users")
    if dump["rc"] != 0 or not jsonl.exists():
        print(f"    FAILED to dump users: exit {dump['rc']}: {dump['err'].strip()[-400:]}")
        results["d"] = {"failed": True}
    else:
        size = os.path.getsize(jsonl)
        print(f"    file: {size / 1e6:,.1f} MB, {JSON_USERS:,} lines (dumped in {dump['wall']:.2f} s)")
        sluice_mbs, sluice_rps, detail = json_bench(jsonl)
        py_mbs, py_rps = python_json_mbs(jsonl)
        jq = jq_mbs(jsonl)
        print("    sluice json_bench  : " + "\n                         ".join(detail.splitlines()))
        print(f"    Python json.loads  : {py_mbs:8.1f} MB/s {py_rps:,.0f} records/s")
        print(f"    jq empty           : " + (f"{jq:8.1f} MB/s" if jq else "not installed / failed"))
        if sluice_mbs:
            print(f"    ratio sluice/Python json: {sluice_mbs / py_mbs:.2f}x" +
                  (f"   sluice/jq: {sluice_mbs / jq:.2f}x" if jq else ""))
        results["d"] = {"rate": sluice_rps, "failed": False}
        refs["d"] = {"rate": py_rps, "what": "py json.loads"}

        results["e"] = sluice_scenario("(e) file -> SQL -> SQLite (JSON lines into a table)", "e_file_sql_sqlite",
                                       JSON_USERS, size)
        rows_e = OUT / "ref_e_rows.jsonl"
        project_e = run_reference("project", jsonl, rows_e)  # prepares the rows; not a reference figure
        if "error" in project_e:
            print(f"    ref: FAILED to project the rows: {project_e['error']}")
        else:
            refs["e"] = sqlite_references("e", results["e"], rows_e, OUT / "data" / "file_users.db", "ref_e")

    print_table([("(a) generator -> topic", results["a"], refs.get("a")),
                 ("(b) topic -> SQL -> topic", results["b"], refs.get("b")),
                 ("(c) topic -> SQL -> SQLite", results["c"], refs.get("c")),
                 ("(d) JSON parse", results.get("d", {}), refs.get("d")),
                 ("(e) file -> SQL -> SQLite", results.get("e", {}), refs.get("e"))])
    print_aims(results)
    print_fixed_figures(results)
    if os.environ.get("BENCH_KAFKA", "1") != "0":
        print("\n(f) Kafka: sluice's kafka sink and source beside Kafka's own perf tools (bench/kafka_bench.py)")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import kafka_bench
        try:
            kafka_bench.main()
        except (RuntimeError, OSError) as e:
            print(f"    kafka bench FAILED: {e}")
            results["f"] = {"failed": True}
    if os.environ.get("BENCH_CASSANDRA", "1") != "0":
        print("\n(g) Kafka -> Cassandra: the seed's store_users beside the node's write ceiling (bench/cassandra_bench.py)")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import cassandra_bench
        try:
            cassandra_bench.main()
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            print(f"    cassandra bench FAILED: {e}")
            results["g"] = {"failed": True}
    if os.environ.get("BENCH_SCHEDULER", "1") != "0":
        print("\n(h) scheduler: command tasks through the DAG scheduler beside spawn+wait of the same programs "
              "(bench/scheduler_bench.c)")
        binary = REPO / "build" / "scheduler_bench"
        if not binary.exists():
            print("    build/scheduler_bench is missing: `make bench` builds it")
            results["h"] = {"failed": True}
        else:
            run = subprocess.run([str(binary), os.environ.get("BENCH_SCHEDULER_TASKS", "40")], capture_output=True,
                                 text=True, timeout=600)
            print("    " + run.stdout.strip().replace("\n", "\n    "))
            if run.returncode != 0:
                print(f"    scheduler bench FAILED (exit {run.returncode}): {run.stderr.strip()[-600:]}")
                results["h"] = {"failed": True}
    if os.environ.get("BENCH_API", "1") != "0":
        print("\n(i) HTTP API: status, a topic browse and a groups page of sluice server beside a minimal "
              "libmicrohttpd server (bench/api_bench.c)")
        binary = REPO / "build" / "api_bench"
        if not binary.exists():
            print("    build/api_bench is missing: `make bench` builds it")
            results["i"] = {"failed": True}
        else:
            run = subprocess.run([str(binary), str(REPO / "build" / "sluice")], capture_output=True, text=True,
                                 timeout=600, cwd=REPO)
            print("    " + run.stdout.strip().replace("\n", "\n    "))
            if run.returncode != 0:
                print(f"    api bench FAILED (exit {run.returncode}): {run.stderr.strip()[-600:]}")
                results["i"] = {"failed": True}
    if os.environ.get("BENCH_UI", "1") != "0":
        print("\n(j) web UI: the server's memory with the UI open in Chromium and metrics scraped, beside the same "
              "server with nobody looking (bench/ui_bench.py)")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import ui_bench
        try:
            if ui_bench.main() != 0:
                results["j"] = {"failed": True}
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            print(f"    ui bench FAILED: {e}")
            results["j"] = {"failed": True}
    if os.environ.get("BENCH_NEXMARK", "1") != "0":
        print("\n(k) Nexmark: q0-q11 through sluice (generator -> query -> /dev/null) beside C loops doing q1's and "
              "q5's work on the same events, and Flink's published per-core figures (bench/nexmark_bench.c)")
        binary = REPO / "build" / "nexmark_bench"
        if not binary.exists():
            print("    build/nexmark_bench is missing: `make bench` builds it")
            results["k"] = {"failed": True}
        else:
            run = subprocess.run([str(binary), str(SLUICE)], capture_output=True, text=True, timeout=1800, cwd=REPO)
            print("    " + run.stdout.strip().replace("\n", "\n    "))
            if run.returncode != 0:
                print(f"    nexmark bench FAILED (exit {run.returncode}): {run.stderr.strip()[-600:]}")
                results["k"] = {"failed": True}
    load = os.getloadavg()
    print(f"\nbench: done in {time.monotonic() - started:.0f} s, load average {load[0]:.2f} at the end "
          f"(outputs in {OUT.relative_to(REPO)}/)")
    return 1 if any(r.get("failed") for r in results.values()) else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--reference":
        sys.exit(reference_main(sys.argv[2:]))
    sys.exit(main())
