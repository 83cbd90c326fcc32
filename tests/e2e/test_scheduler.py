"""test_scheduler.py — the scheduler inside `sluice server`: the seed's DAG
runs its ingest pipeline while the server's continuous pipeline stores what
it publishes; a reload changes a DAG's tasks for the runs that follow; and
two servers on one PostgreSQL store share a schedule: every run and every
task try happens once, and the tries of a server killed mid-task are retried
by the other after its heartbeat goes stale. What happened is read back with
independent clients (Python's sqlite3 module, psycopg), not with sluice.
"""
import signal
import sqlite3
import time

from postgres_server import connect, postgres_server  # noqa: F401
from test_server import Server

SEED = """\
pipelines:
  ingest_users:
    source: {{ generator: {{ kind: users, count: {count}, seed: 42 }} }}
    sink:   {{ topic: {{ name: user_data, partitions: 4, key: login.uuid }} }}
  store_users:
    source: {{ topic: {{ name: user_data, group: store_users }} }}
    transform:
      sql: SELECT uuid(login.uuid) AS id, name.first AS first_name, email FROM input
    sink:   {{ sqlite: {{ path: {db}, table: created_users, key: [id] }} }}
dags:
  user_automation:
    schedule: "@daily"
    tasks:
      stream_data: {{ pipeline: ingest_users, retries: 3, timeout: 10m }}
      all_stored: {{ sensor: {{ topic: user_data, group: store_users, poke_interval: 1s }}, depends_on: [stream_data],
                    timeout: 5m }}
      report: {{ sql: {{ database: {db}, statement: "CREATE TABLE report AS SELECT '${{ds}}' AS ds, count(*) AS n
                                                      FROM created_users" }}, depends_on: [all_stored] }}
http: {{ listen: "127.0.0.1:0" }}
"""


def query(db, sql):
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def wait_until(what, predicate, timeout=120, server=None):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (sqlite3.OperationalError, FileNotFoundError) as error:
            last = error
        if last and not isinstance(last, Exception):
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last})\n{server.stderr() if server else ''}")


def test_the_seed_dag_runs_its_ingest_while_the_server_stores_the_users(sluice_asan, workdir):
    db = workdir / "users.db"
    server = Server(sluice_asan, workdir, SEED.format(count=3000, db=db)).wait_started()
    meta = workdir / "data" / "metadata.db"
    # @daily without catchup: the interval that ended last midnight runs at once.
    runs = wait_until("the daily run succeeded",
                      lambda: query(meta, "SELECT run_id, run_type, data_interval_end_us - data_interval_start_us "
                                          "FROM dag_runs WHERE state = 'success'"), server=server)
    assert len(runs) == 1 and runs[0][0].startswith("scheduled__") and runs[0][1] == "scheduled", runs
    assert runs[0][2] == 86400 * 10**6
    wait_until("3000 users stored", lambda: query(db, "SELECT count(*) FROM created_users")[0][0] == 3000,
               server=server)
    # The sensor waited until the continuous pipeline's group had committed every record, and a
    # group commits only what its sink has stored: the report counts all of them.
    (ds, n), = query(db, "SELECT ds, n FROM report")
    assert n == 3000 and len(ds) == 10, (ds, n)
    (sensed,), = query(meta, "SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'all_stored'")
    assert "sensor met" in sensed, sensed
    (state, try_number, log_path, tail), = query(meta, "SELECT state, try_number, log_path, CAST(log_tail AS TEXT) "
                                                       "FROM task_instances WHERE task_id = 'stream_data'")
    assert (state, try_number) == ("success", 1)
    log = open(log_path).read()
    assert "pipeline ingest_users" in log and "ingest_users" in tail and "3000" in tail, log
    assert "/logs/dag_id=user_automation/run_id=scheduled__" in log_path
    assert server.stop() == 0, server.stderr()


TICKING = """\
dags:
  tick:
    schedule: {{ every: 1s }}
    max_active_runs: 1
    tasks:
      mark: {{ shell: 'echo "$SLUICE_RUN_ID" >> {out}' }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_a_reload_changes_the_tasks_of_the_runs_that_follow(sluice_asan, workdir):
    first, second = workdir / "first.txt", workdir / "second.txt"
    server = Server(sluice_asan, workdir, TICKING.format(out=first)).wait_started()
    wait_until("two runs marked", lambda: first.exists() and len(first.read_text().split()) >= 2, server=server)
    server.config.write_text(TICKING.format(out=second))
    server.proc.send_signal(signal.SIGHUP)
    wait_until("two runs marked by the new task", lambda: second.exists() and len(second.read_text().split()) >= 2,
               server=server)
    before = set(first.read_text().split())
    after = set(second.read_text().split())
    assert not before & after, "a run was marked by both versions of the task"
    # A broken file is refused with its mistake, and the DAG goes on as it was.
    server.config.write_text(TICKING.format(out=second).replace("every: 1s", "every: 0s"))
    server.proc.send_signal(signal.SIGHUP)
    wait_until("the broken file refused", lambda: "reload refused" in server.stderr(), server=server)
    assert "dags.tick.schedule.every: must be at least 1s, found '0s'" in server.stderr(), server.stderr()
    marked = len(second.read_text().split())
    wait_until("two more runs marked", lambda: len(second.read_text().split()) >= marked + 2, server=server)
    # A file without the DAG: no more runs.
    server.config.write_text('pipelines: {}\nhttp: { listen: "127.0.0.1:0" }\n'.replace("pipelines: {}",
                             "dags: { other: { tasks: { t: { command: [\"true\"] } } } }"))
    server.proc.send_signal(signal.SIGHUP)
    meta = workdir / "data" / "metadata.db"
    wait_until("the reload taken", lambda: query(meta, "SELECT 1 FROM dags WHERE dag_id = 'other'"), server=server)
    time.sleep(1.5)
    count = query(meta, "SELECT count(*) FROM dag_runs WHERE dag_id = 'tick'")[0][0]
    time.sleep(2.5)
    assert query(meta, "SELECT count(*) FROM dag_runs WHERE dag_id = 'tick'")[0][0] <= count + 1
    assert server.stop() == 0, server.stderr()


SHARED = """\
data_dir: data
metadata: {url}
dags:
  shared:
    schedule: {{ every: 1s }}
    catchup: true
    max_active_runs: 4
    tasks:
      a: {{ shell: 'echo "$SLUICE_RUN_ID a" >> {out}' }}
      b: {{ shell: 'echo "$SLUICE_RUN_ID b" >> {out}', depends_on: [a] }}
  slow:
    tasks:
      hang: {{ shell: 'echo "$SLUICE_RUN_ID started by $PPID" >> {out}; sleep {sleep}', retries: 1, retry_delay: 1s }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_three_servers_share_one_postgresql_schedule(sluice_asan, workdir, postgres_server):  # noqa: F811
    name = f"sched_{int(time.time() * 1000) % 10**9}"
    with connect(postgres_server, dbname="postgres") as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres_server.url(name)
    out = workdir / "tries.txt"
    servers = []
    try:
        for index in range(3):
            folder = workdir / f"server{index}"
            folder.mkdir()
            servers.append(Server(sluice_asan, folder, SHARED.format(url=url, out=out, sleep=40)).wait_started())
        with connect(postgres_server, name) as conn:
            began = time.monotonic()

            def thirty_seconds_of_runs():
                done = conn.execute("SELECT count(*) FROM dag_runs WHERE dag_id = 'shared' AND state = 'success'"
                                    ).fetchone()[0]
                return time.monotonic() - began >= 30 and done >= 20
            wait_until("30 s of shared runs", thirty_seconds_of_runs, timeout=240, server=servers[0])
            ids = [row[0] for row in conn.execute("SELECT server_id FROM servers")]
            assert len(ids) == 3, ids
            # One run per interval, none skipped, each task once per run, whichever server ran it.
            dupes = conn.execute("SELECT data_interval_start_us, count(*) FROM dag_runs WHERE dag_id = 'shared' "
                                 "GROUP BY 1 HAVING count(*) > 1").fetchall()
            assert not dupes, dupes
            first, last, n = conn.execute("SELECT min(data_interval_start_us), max(data_interval_start_us), count(*) "
                                          "FROM dag_runs WHERE dag_id = 'shared'").fetchone()
            assert n == (last - first) // 10**6 + 1, (first, last, n)
            owners = {row[0] for row in conn.execute("SELECT DISTINCT server_id FROM task_instances")}
            print(f"{n} runs over {(last - first) / 1e6:.0f} s, tries run by {len(owners)} servers")
            done = conn.execute("SELECT r.run_id FROM dag_runs r WHERE r.dag_id = 'shared' AND r.state = 'success'"
                                ).fetchall()
            lines = out.read_text().splitlines()
            for (run_id,) in done:
                for task in ("a", "b"):
                    assert lines.count(f"{run_id} {task}") == 1, (run_id, task, lines)
            tries = conn.execute("SELECT count(*) FROM task_instances ti JOIN dag_runs r ON r.id = ti.run "
                                 "WHERE r.dag_id = 'shared' AND r.state = 'success' AND ti.try_number > 1"
                                 ).fetchone()[0]
            assert tries == 0

            # A server killed while it runs a try: the other fails it as stale and runs the retry.
            status, body = servers[0].request("GET", "/healthz")
            assert status == 200
            conn.execute("INSERT INTO dag_runs (dag_id, run_id, run_type, state, data_interval_start_us, "
                         "data_interval_end_us, conf, queued_at_us) VALUES ('slow', 'manual__kill', 'manual', "
                         "'queued', 0, 0, '{}', 0)")

            def running_on():
                row = conn.execute("SELECT server_id FROM task_instances WHERE task_id = 'hang' AND "
                                   "state = 'running'").fetchone()
                return row[0] if row else None
            owner = wait_until("the slow try running", running_on, server=servers[0])
            victim = next(s for s in servers if s.proc.pid == int(owner.split("-")[-2]))
            survivor = next(s for s in servers if s is not victim)
            victim.proc.kill()
            victim.proc.wait()

            def retried():
                return conn.execute("SELECT state, server_id FROM task_instances WHERE task_id = 'hang' AND "
                                    "try_number = 2 AND state = 'running'").fetchone()
            row = wait_until("the retry running on the survivor", retried, timeout=180, server=survivor)
            assert row[1] != owner
            first = conn.execute("SELECT state FROM task_instances WHERE task_id = 'hang' AND try_number = 1"
                                 ).fetchone()[0]
            assert first == "up_for_retry"
        assert survivor.stop() == 0, survivor.stderr()
    finally:
        for server in servers:
            if server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait()
        with connect(postgres_server, dbname="postgres") as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


SQL_TASKS = """\
dags:
  load:
    tasks:
      on_postgres: {{ sql: {{ database: "{url}", statement: "INSERT INTO loads VALUES ('${{ds}}', '${{run_id}}')" }} }}
      broken: {{ sql: {{ database: "{url}", statement: "INSERT INTO loads VALUES ('x', 'y'); SELECT nope FROM nowhere" }} }}
      on_sqlite: {{ sql: {{ database: {db}, statement: "CREATE TABLE IF NOT EXISTS t (v TEXT); INSERT INTO t VALUES ('${{ts}}')" }},
                   depends_on: [on_postgres] }}
    schedule: {{ every: 1h }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_sql_tasks_run_on_postgresql_and_sqlite_in_one_transaction(sluice_asan, workdir, postgres_server):  # noqa: F811
    name = f"sqltask_{int(time.time() * 1000) % 10**9}"
    with connect(postgres_server, dbname="postgres") as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with connect(postgres_server, name) as conn:
            conn.execute("CREATE TABLE loads (ds TEXT, run_id TEXT)")
        db = workdir / "t.db"
        server = Server(sluice_asan, workdir, SQL_TASKS.format(url=postgres_server.url(name), db=db)).wait_started()
        meta = workdir / "data" / "metadata.db"
        wait_until("the hourly run ended", lambda: query(meta, "SELECT run_id FROM dag_runs WHERE state IN "
                                                                "('success', 'failed')"), server=server)
        states = dict(query(meta, "SELECT task_id, state FROM task_instances"))
        assert states == {"on_postgres": "success", "broken": "failed", "on_sqlite": "success"}, states
        (run_id,), = query(meta, "SELECT run_id FROM dag_runs")
        with connect(postgres_server, name) as conn:
            rows = conn.execute("SELECT ds, run_id FROM loads").fetchall()
        # The broken task's INSERT was rolled back with its failing SELECT.
        assert len(rows) == 1 and rows[0][1] == run_id and len(rows[0][0]) == 10, rows
        (tail,), = query(meta, "SELECT CAST(log_tail AS TEXT) FROM task_instances WHERE task_id = 'broken'")
        assert "SQLSTATE 42P01" in tail and "rolled back" in tail, tail
        # The URL's password is in no log: neither the store's tail nor the file.
        assert f":{postgres_server.password}@" not in tail and ":***@" in tail, tail
        for (path,) in query(meta, "SELECT log_path FROM task_instances"):
            assert f":{postgres_server.password}@" not in open(path).read(), path
        assert f":{postgres_server.password}@" not in server.stderr()
        values = [v for (v,) in query(db, "SELECT v FROM t")]
        assert len(values) == 1 and values[0].startswith(rows[0][0]), values
        assert server.stop() == 0, server.stderr()
    finally:
        with connect(postgres_server, dbname="postgres") as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


OVERRIDES = """\
pipelines:
  export:
    source: {{ generator: {{ kind: sequence, count: 5, start: beginning }} }}
    sink:   {{ file: {{ path: "{out}/${{ds}}-try${{try_number}}.jsonl" }} }}
dags:
  daily:
    schedule: "@daily"
    timezone: Pacific/Kiritimati
    tasks:
      plain: {{ pipeline: export }}
      bigger: {{ pipeline: export, depends_on: [plain],
                overrides: {{ source.generator.count: 7, sink.file.path: "{out}/big-${{ds_nodash}}.jsonl" }} }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_a_pipeline_task_runs_with_its_overrides_and_run_macros(sluice_asan, workdir):
    out = workdir / "out"
    server = Server(sluice_asan, workdir, OVERRIDES.format(out=out)).wait_started()
    meta = workdir / "data" / "metadata.db"
    wait_until("the daily run succeeded", lambda: query(meta, "SELECT 1 FROM dag_runs WHERE state = 'success'"),
               server=server)
    (start_us,), = query(meta, "SELECT data_interval_start_us FROM dag_runs")
    # ds is the logical date in the DAG's zone (UTC+14 here), as Airflow users of a zoned DAG expect.
    import datetime
    local = datetime.datetime.fromtimestamp(start_us / 1e6, datetime.timezone(datetime.timedelta(hours=14)))
    ds = local.strftime("%Y-%m-%d")
    plain = out / f"{ds}-try1.jsonl"
    bigger = out / f"big-{ds.replace('-', '')}.jsonl"
    assert sorted(p.name for p in out.iterdir()) == sorted([plain.name, bigger.name])
    assert len(plain.read_text().splitlines()) == 5
    assert len(bigger.read_text().splitlines()) == 7
    assert server.stop() == 0, server.stderr()


CONTROL = """\
pipelines:
  feed:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 2000 }} }}
    sink:   {{ topic: {{ name: events }} }}
  copy:
    source: {{ topic: {{ name: events, group: copier }} }}
    sink:   {{ sqlite: {{ path: {db}, table: events, key: [id] }} }}
    commit_interval: 100ms
dags:
  snapshot:
    tasks:
      stop_copy:  {{ control: {{ action: stop, pipeline: copy }} }}
      snap:       {{ sql: {{ database: {db}, statement: "CREATE TABLE snap AS SELECT count(*) AS n, max(id) AS top FROM events" }},
                    depends_on: [stop_copy] }}
      start_copy: {{ control: {{ action: start, pipeline: copy }}, depends_on: [snap], trigger_rule: all_done }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_control_tasks_stop_a_continuous_pipeline_for_a_consistent_snapshot_and_start_it_again(sluice_asan, workdir):
    db = workdir / "events.db"
    server = Server(sluice_asan, workdir, CONTROL.format(db=db)).wait_started()
    wait_until("rows copied", lambda: query(db, "SELECT count(*) FROM events")[0][0] >= 500, server=server)
    meta = workdir / "data" / "metadata.db"
    with sqlite3.connect(meta, timeout=30) as conn:   # a run triggered by hand, as the API or CLI would
        conn.execute("INSERT INTO dag_runs (dag_id, run_id, run_type, state, data_interval_start_us, "
                     "data_interval_end_us, conf, queued_at_us) VALUES ('snapshot', 'manual__1', 'manual', "
                     "'queued', 0, 0, '{}', 0)")
    wait_until("the snapshot run succeeded", lambda: query(meta, "SELECT 1 FROM dag_runs WHERE state = 'success'"),
               server=server)
    (n, top), = query(db, "SELECT n, top FROM snap")
    # While copy was stopped (drained first), nothing was written: the snapshot is a gap-free prefix.
    assert n == top + 1 and n >= 500, (n, top)
    tails = dict(query(meta, "SELECT task_id, CAST(log_tail AS TEXT) FROM task_instances"))
    assert "stop pipeline copy" in tails["stop_copy"] and "start pipeline copy" in tails["start_copy"], tails
    # Started again, copy goes on from where it stopped: more rows, still none missing or doubled.
    wait_until("copy running again", lambda: query(db, "SELECT count(*) FROM events")[0][0] > n + 200,
               server=server)
    status, body = server.request("GET", "/api/v1/pipelines")
    copy = next(p for p in body["pipelines"] if p["name"] == "copy")
    assert copy["state"] == "running", copy
    assert server.stop() == 0, server.stderr()
    (count, distinct, top), = query(db, "SELECT count(*), count(DISTINCT id), max(id) FROM events")
    assert count == distinct == top + 1, (count, distinct, top)


CRASH = """\
dags:
  crash:
    tasks:
      work:  {{ shell: 'echo "start $SLUICE_TRY_NUMBER" >> {out}; sleep 8; echo "done $SLUICE_TRY_NUMBER" >> {out}',
               retries: 1, retry_delay: 1s }}
      after: {{ shell: 'echo "after" >> {out}', depends_on: [work] }}
http: {{ listen: "127.0.0.1:0" }}
"""


def test_a_server_killed_mid_run_resumes_it_at_restart_with_nothing_lost_or_doubled(sluice_asan, workdir):
    out = workdir / "marks.txt"
    config = CRASH.format(out=out)
    server = Server(sluice_asan, workdir, config).wait_started()
    status, body = server.request("POST", "/api/v1/dags/crash/runs", b"{}")
    assert status == 201, body
    wait_until("the first try running", lambda: out.exists() and "start 1" in out.read_text(), server=server)
    server.proc.kill()
    server.proc.wait()
    server.out.close()
    server.err.close()
    (workdir / "data" / "server.json").unlink(missing_ok=True)
    # A new server on the same data dir: the dead one's try is failed (its command killed, not left to run
    # beside the retry) and retried; the run then ends.
    server = Server(sluice_asan, workdir, config).wait_started()
    meta = workdir / "data" / "metadata.db"
    wait_until("the run succeeded", lambda: query(meta, "SELECT 1 FROM dag_runs WHERE state = 'success'"),
               timeout=180, server=server)
    time.sleep(9)   # longer than the first try's command would have taken
    assert out.read_text().split("\n")[:-1] == ["start 1", "start 2", "done 2", "after"], out.read_text()
    tries = query(meta, "SELECT task_id, try_number, state FROM task_instances ORDER BY task_id, try_number")
    assert tries == [("after", 1, "success"), ("work", 1, "up_for_retry"), ("work", 2, "success")], tries
    assert "killed what task instance" in server.stderr(), server.stderr()
    assert server.stop() == 0, server.stderr()
