"""test_tsan.py — one whole pipeline under ThreadSanitizer: the generator
fills an embedded topic of 4 partitions, and a second pipeline reads it with
4 worker threads, transforms with SQL and upserts into SQLite, through
build/sluice-tsan ($SLUICE_TSAN_BIN). TSan halts on its first report with
exit code 66, so any data race, lock-order inversion or thread leak fails
the test; the rows are then checked with Python's sqlite3.

Run by scripts/run-tsan.sh (`make tsan`, and the tsan step of `make test`).
"""
import os
import sqlite3
from pathlib import Path

import pytest

from e2e_util import REPO, Sluice, sanitizer_reports

COUNT = 20000

CONFIG = f"""\
pipelines:
  ingest_users:
    source: {{ generator: {{ kind: users, count: {COUNT}, rate: 0, seed: 7 }} }}
    sink:   {{ topic: {{ name: user_data, partitions: 4, key: login.uuid }} }}
  store_users:
    workers: 4
    batch_size: 64
    source: {{ topic: {{ name: user_data, group: store_users }} }}
    transform:
      sql: |
        SELECT uuid(login.uuid) AS id, name.first AS first_name, upper(location.city) AS city,
               dob.age AS age, dob.age >= 50 AS band
        FROM input
    sink:   {{ sqlite: {{ path: data/users.db, table: users, key: [id] }} }}
"""


@pytest.fixture(scope="session")
def sluice_tsan_bin():
    path = Path(os.environ.get("SLUICE_TSAN_BIN") or REPO / "build/sluice-tsan")
    if not path.is_absolute():
        path = REPO / path
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path} not found or not executable (make build/sluice-tsan, or set SLUICE_TSAN_BIN)",
                    pytrace=False)
    return path


def test_topic_sql_sqlite_with_four_workers_has_no_data_races(sluice_tsan_bin, workdir):
    (workdir / "users.yaml").write_text(CONFIG)
    sluice = Sluice(sluice_tsan_bin, workdir, env={"TSAN_OPTIONS": "halt_on_error=1 exitcode=66 second_deadlock_stack=1"})
    result = sluice.run("run", "users.yaml", "--quiet", timeout=600)
    assert not sanitizer_reports(result.stderr), result.describe()
    assert result.returncode == 0, result.describe()

    db = sqlite3.connect(workdir / "data" / "users.db")
    try:
        (rows, ids, bands) = db.execute(
            "SELECT count(*), count(DISTINCT id), count(DISTINCT band) FROM users").fetchone()
    finally:
        db.close()
    assert rows == COUNT and ids == COUNT, f"{rows} rows, {ids} distinct ids, expected {COUNT}"
    assert bands == 2


def test_the_server_reloading_and_answering_http_has_no_data_races(sluice_tsan_bin, workdir):
    """Keeper threads, libmicrohttpd's threads and the main loop share the
    supervisor: snapshots during a reload that restarts one pipeline, then a
    drain on SIGTERM (exit 66 on a TSan report), and a stop, start and
    restart on demand answered while snapshots are read, and /metrics and a
    pipeline's history gathered all along."""
    import urllib.request

    from test_server import FEED_AND_COPY, Server

    def scrape():
        with urllib.request.urlopen(server.url + "/metrics", timeout=60) as answer:
            assert answer.status == 200 and b"sluice_pipeline_records_in_total" in answer.read()
        assert server.request("GET", "/api/v1/pipelines/copy/history")[0] == 200

    sluice = Sluice(sluice_tsan_bin, workdir, env={"TSAN_OPTIONS": "halt_on_error=1 exitcode=66 second_deadlock_stack=1"})
    server = Server(sluice, workdir, FEED_AND_COPY.format(out="out.jsonl")).wait_started(timeout=120)
    try:
        server.wait_for("records copied", lambda p: p["copy"]["records_out"] >= 200, timeout=120)
        server.config.write_text(FEED_AND_COPY.format(out="second.jsonl"))
        status, body = server.request("POST", "/api/v1/reload")
        assert status == 200 and body["changes"]["restarted"] == ["copy"], body
        for _ in range(20):
            server.request("GET", "/readyz")
            server.pipelines()
            scrape()
        server.wait_for("the new copy running", lambda p: p["copy"]["state"] == "running", timeout=120)
        for action, state in (("stop", "stopped"), ("start", "running"), ("restart", "running")):
            status, body = server.request("POST", f"/api/v1/pipelines/copy/{action}")
            assert status == 200, body
            server.pipelines()
            scrape()
            server.wait_for(f"copy {state}", lambda p, s=state: p["copy"]["state"] == s, timeout=120)
    finally:
        code = server.stop(timeout=120)
    assert code == 0, server.stderr()


def test_the_scheduler_in_the_server_has_no_data_races(sluice_tsan_bin, workdir):
    """The scheduler's thread, its tries' threads (a pipeline task beside a
    continuous pipeline, a sensor, commands), the keepers and a reload on
    the main thread, then SIGTERM cancelling a running try (exit 66 on a
    TSan report)."""
    import time

    from test_scheduler import SEED, query
    from test_server import Server

    seed = SEED.format(count=2000, db=workdir / "users.db")
    config = seed.replace('http: { listen: "127.0.0.1:0" }', """\
  ticking:
    schedule: { every: 1s }
    tasks:
      a: { command: ["true"] }
      b: { shell: "sleep 30", depends_on: [a] }
http: { listen: "127.0.0.1:0" }""")
    assert config != seed
    sluice = Sluice(sluice_tsan_bin, workdir, env={"TSAN_OPTIONS": "halt_on_error=1 exitcode=66 second_deadlock_stack=1"})
    server = Server(sluice, workdir, config).wait_started(timeout=120)
    meta = workdir / "data" / "metadata.db"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                done = query(meta, "SELECT count(*) FROM dag_runs WHERE dag_id = 'user_automation' AND "
                                   "state = 'success'")[0][0]
                running = query(meta, "SELECT count(*) FROM task_instances WHERE task_id = 'b' AND "
                                      "state = 'running'")[0][0]
            except sqlite3.OperationalError:
                done = running = 0
            if done == 1 and running >= 1:
                break
            assert server.proc.poll() is None, server.stderr()
            time.sleep(0.2)
        else:
            raise AssertionError(f"the runs did not get going:\n{server.stderr()}")
        status, body = server.request("POST", "/api/v1/reload")
        assert status == 200, body
    finally:
        code = server.stop(timeout=180)
    assert code == 0, server.stderr()
    assert query(meta, "SELECT count(*) FROM task_instances WHERE task_id = 'b' AND state = 'running'")[0][0] == 0


def test_the_topic_group_and_dead_letter_routes_have_no_data_races(sluice_tsan_bin, workdir):
    """libmicrohttpd's threads read and append to the server's log while the
    pipelines write it: messages produced from several client threads at once
    beside a generator writing the same topic, pages browsed, topics, groups
    and dead letters listed, then a drain on SIGTERM (exit 66 on a TSan
    report). Every produced message is read back at its offset."""
    import threading

    from api_server import Server as ApiServer

    (workdir / "input.jsonl").write_text('{"age":"1"}\nnot json\n{"age":"x"}\n')
    config = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 0, rate: 1000 } }
    sink:   { topic: { name: events, partitions: 2, key: id } }
  copy:
    source: { topic: { name: events, group: copier } }
    sink:   { file: { path: copied.jsonl } }
    commit_interval: 100ms
  clean:
    source:    { file: { path: input.jsonl } }
    transform: { sql: "SELECT CAST(age AS INT) AS age FROM input" }
    sink:      { file: { path: clean.jsonl } }
http: { listen: "127.0.0.1:0" }
"""
    sluice = Sluice(sluice_tsan_bin, workdir, env={"TSAN_OPTIONS": "halt_on_error=1 exitcode=66 second_deadlock_stack=1"})
    server = ApiServer(sluice, workdir, config).wait_started(timeout=120)
    produced, failures = [], []
    try:
        server.wait_for("the events topic", lambda: server.request("GET", "/api/v1/topics/events")[0] == 200,
                        timeout=120)

        def produce(thread):
            for i in range(25):
                status, body = server.request("POST", "/api/v1/topics/events/messages",
                                              {"value": {"thread": thread, "i": i}, "partition": i % 2})
                (produced if status == 201 else failures).append((thread, i, body))

        def browse():
            for _ in range(20):
                for path in ["/api/v1/topics/events/messages?limit=100", "/api/v1/topics", "/api/v1/groups",
                             "/api/v1/groups/copier", "/api/v1/dead-letters", "/api/v1/topics/events"]:
                    status, body = server.request("GET", path)
                    if status not in (200, 404):
                        failures.append((path, status, body))

        threads = [threading.Thread(target=produce, args=(t,)) for t in range(3)] + \
            [threading.Thread(target=browse) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures[:5]
        assert len(produced) == 75
        for thread, i, body in produced:
            page = server.get("/api/v1/topics/events/messages", partition=body["partition"], offset=body["offset"],
                              limit=1)
            assert page["messages"][0]["value"] == {"thread": thread, "i": i}, (body, page)
    finally:
        server.stop(timeout=120)
