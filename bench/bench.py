"""bench.py — sluice's throughput on this machine, one run per scenario,
beside reference figures. Prints; asserts nothing. Run by bench/run.sh.

  (a) generator -> topic            users, 4 partitions, keyed by login.uuid
  (b) topic -> SQL -> topic         SELECT of the seed's 11 columns
  (c) topic -> SQL -> SQLite        the seed's store_users
  (d) JSON parse MB/s               bench/json_bench.c vs Python's json (and jq)
  (e) file -> SQL -> SQLite         JSON lines into SQLite, beside Benthos's figure

Each sluice run is timed around the process (wall clock), with its CPU
time and max RSS from wait4(). The runs print their summary (for its
records/s) instead of using --quiet: with stdout not a terminal there is no
progress line, so the only difference is the few summary lines at the end.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SLUICE = Path(os.environ.get("SLUICE_BIN") or REPO / "build" / "sluice")
OUT = REPO / "bench" / "out"
USERS = int(os.environ.get("BENCH_USERS", "200000"))
JSON_USERS = int(os.environ.get("BENCH_JSON_USERS", "100000"))

# Fixed reference figures (from the mission text; not measured here).
BENTHOS_FILE_TO_SQLITE_ROWS_S = 4200

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
  d_dump_json:
    source: {{ generator: {{ kind: users, count: {JSON_USERS}, rate: 0, seed: 7 }} }}
    sink:   {{ file: {{ path: users.jsonl }} }}
  e_file_sql_sqlite:
    source:    {{ file: {{ path: users.jsonl }} }}
    transform: {{ sql: "{SEED_SELECT}" }}
    sink:      {{ sqlite: {{ path: data/file_users.db, table: created_users, key: [id] }} }}
"""


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


def summary_rps(stdout, pipeline):
    """records/s and in-count of pipeline from the run's summary table."""
    for line in stdout.splitlines():
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


def report(label, m, records, mbytes, pipeline):
    rps_summary, n_in, n_out = summary_rps(m["out"], pipeline)
    ok = m["rc"] == 0
    wall_rps = records / m["wall"] if ok and m["wall"] > 0 else None
    print(f"{label}")
    if not ok:
        print(f"    FAILED: exit {m['rc']}: {m['err'].strip()[-400:]}")
        return None
    print(f"    records {records:,} (summary: in {n_in}, out {n_out}), {mbytes:,.1f} MB")
    print(f"    wall   {m['wall']:8.2f} s   {fmt_rate(wall_rps, 'records/s')}   {mbytes / m['wall']:8.1f} MB/s")
    print(f"    summary records/s {fmt_rate(rps_summary, '')}")
    print(f"    CPU    {m['cpu']:8.2f} s   {m['cpu'] / records * 1e6:8.2f} us/record   "
          f"max RSS {m['rss_mib']:.0f} MiB")
    return wall_rps


def sluice_scenario(label, pipeline, records, input_bytes):
    m = run_wait4([str(SLUICE), "run", "bench.yaml", "--pipeline", pipeline], OUT)
    return report(label, m, records, input_bytes / 1e6, pipeline), m


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
    """Builds and runs bench/json_bench.c; returns (parse MB/s, its output) or (None, why)."""
    src = REPO / "bench" / "json_bench.c"
    if not src.exists():
        return None, "bench/json_bench.c is not there"
    binary = REPO / "build" / "json_bench"
    binary.parent.mkdir(exist_ok=True)
    core = sorted(str(p) for p in (REPO / "src" / "core").glob("*.c"))
    build = subprocess.run(["cc", "-O2", "-std=c11", "-D_GNU_SOURCE", f"-I{REPO / 'src'}", str(src), *core,
                            "-lm", "-pthread", "-o", str(binary)], capture_output=True, text=True)
    if build.returncode != 0:
        return None, "json_bench did not compile: " + build.stderr.strip()[-600:]
    run = subprocess.run([str(binary), str(path)], capture_output=True, text=True, timeout=120)
    m = re.search(r"json_parse:\s*([\d.]+)\s*MB/s", run.stdout)
    if run.returncode != 0 or not m:
        return None, f"json_bench failed (exit {run.returncode}): {run.stdout.strip()} {run.stderr.strip()[-300:]}"
    return float(m.group(1)), run.stdout.strip()


def main():
    if not SLUICE.exists():
        print(f"bench: {SLUICE} is missing; build it with `make build/sluice`")
        return 1
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    (OUT / "bench.yaml").write_text(CONFIG)
    print(f"sluice bench — {os.cpu_count()} cores, {USERS:,} users for (a)-(c), "
          f"{JSON_USERS:,} for (d)-(e); one run each\n")

    started = time.monotonic()
    rates = {}
    ma = run_wait4([str(SLUICE), "run", "bench.yaml", "--pipeline", "a_generate"], OUT)
    topic_bytes = dir_bytes(OUT / "data" / "topics" / "user_data")
    # (a)'s MB/s is of the topic bytes it wrote (RecordBatch v2 segments).
    rates["a"] = report("(a) generator -> topic (users, 4 partitions, keyed; MB = topic bytes written)",
                        ma, USERS, topic_bytes / 1e6, "a_generate")
    rates["b"], _ = sluice_scenario("(b) topic -> SQL (11 columns) -> topic", "b_topic_sql_topic", USERS, topic_bytes)
    rates["c"], _ = sluice_scenario("(c) topic -> SQL -> SQLite (the seed's store_users)", "c_topic_sql_sqlite",
                                    USERS, topic_bytes)

    # (d): dump users as JSON lines with sluice itself, then parse them three ways.
    dump = run_wait4([str(SLUICE), "run", "bench.yaml", "--pipeline", "d_dump_json", "--quiet"], OUT)
    jsonl = OUT / "users.jsonl"
    print("(d) JSON parse, JSON lines of users")
    if dump["rc"] != 0 or not jsonl.exists():
        print(f"    FAILED to dump users: exit {dump['rc']}: {dump['err'].strip()[-400:]}")
    else:
        size = os.path.getsize(jsonl)
        print(f"    file: {size / 1e6:,.1f} MB, {JSON_USERS:,} lines (dumped in {dump['wall']:.2f} s)")
        sluice_mbs, detail = json_bench(jsonl)
        py_mbs, py_rps = python_json_mbs(jsonl)
        jq = jq_mbs(jsonl)
        print("    sluice json_bench  : " + "\n                         ".join(detail.splitlines()))
        print(f"    Python json.loads  : {py_mbs:8.1f} MB/s {py_rps:,.0f} records/s")
        print(f"    jq empty           : " + (f"{jq:8.1f} MB/s" if jq else "not installed / failed"))
        if sluice_mbs:
            print(f"    ratio sluice/Python json: {sluice_mbs / py_mbs:.2f}x" +
                  (f"   sluice/jq: {sluice_mbs / jq:.2f}x" if jq else ""))

        rates["e"], _ = sluice_scenario("(e) file -> SQL -> SQLite (JSON lines into a table)", "e_file_sql_sqlite",
                                        JSON_USERS, size)
    print("\nreference figures (fixed, from the mission text, not measured here):")
    print(f"    Benthos file -> SQLite: {BENTHOS_FILE_TO_SQLITE_ROWS_S:,} rows/s")
    for key, label in (("e", "file -> SQLite"), ("c", "topic -> SQLite")):
        if rates.get(key):
            print(f"    ratio sluice {label} / Benthos file -> SQLite: "
                  f"{rates[key] / BENTHOS_FILE_TO_SQLITE_ROWS_S:.1f}x ({rates[key]:,.0f} rows/s)")
    print(f"\nbench: done in {time.monotonic() - started:.0f} s (outputs in {OUT.relative_to(REPO)}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
