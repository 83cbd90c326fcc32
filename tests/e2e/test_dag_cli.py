"""test_dag_cli.py — `sluice dag` and the DAG endpoints of `sluice server`
(docs/api.md), as Airflow's users know them: list, show, trigger, runs, tasks,
log, pause/unpause, clear, backfill, and `dag test` without a server.

A server (under ASan) runs a file of DAGs whose command and shell tasks write
files under the test's directory; the CLI (under ASan too) finds it through
data/server.json. The history is also read independently with Python's
sqlite3 module from data/metadata.db, not only through sluice. Waits are on
conditions with generous deadlines, never on timings.
"""
import json
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from e2e_util import sanitizer_reports

DEADLINE = 180

DAGS = """\
dags:
  manual_dag:
    description: writes two files
    tasks:
      write: {{ command: [sh, -c, "echo written-by-write; echo ok > {tmp}/write.out"] }}
      after: {{ shell: "echo after > {tmp}/after.out", depends_on: [write] }}
  flaky:
    tasks:
      check: {{ shell: "test -f {tmp}/flag && echo flag-found" }}
      downstream: {{ shell: "echo downstream-ran", depends_on: [check] }}
  ticker:
    schedule: {{ every: 1s }}
    tasks:
      tick: {{ command: ["true"] }}
  nightly:
    schedule: "@daily"
    tasks:
      load: {{ shell: "echo loaded" }}
  failing:
    tasks:
      boom: {{ shell: "echo boom; exit 3" }}
http: {{ listen: "127.0.0.1:0" }}
"""


def us(iso_day):
    """µs since the epoch of a UTC day 'YYYY-MM-DD'."""
    from datetime import datetime, timezone
    return int(datetime.strptime(iso_day, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp()) * 1000000


class Server:
    def __init__(self, sluice, workdir, config):
        self.workdir = workdir
        self.err_path = workdir / "server.err"
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([sluice.binary, "server", str(config)], cwd=workdir, env=sluice.env,
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        info = workdir / "data" / "server.json"
        deadline = time.monotonic() + 60
        self.url = None
        while self.url is None:
            assert self.proc.poll() is None, f"the server exited {self.proc.returncode}:\n{self.stderr()}"
            assert time.monotonic() < deadline, f"no data/server.json:\n{self.stderr()}"
            try:
                self.url = json.loads(info.read_text())["url"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)

    def request(self, method, path, body=None):
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.url + path, method=method, data=data)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def stderr(self):
        self.err.flush()
        return self.err_path.read_text()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the server did not stop:\n{self.stderr()}") from None
        self.err.close()
        reports = sanitizer_reports(self.err_path.read_text())
        assert not reports, reports
        return code


@pytest.fixture
def config(workdir):
    path = workdir / "dags.yaml"
    path.write_text(DAGS.format(tmp=workdir))
    return path


@pytest.fixture
def server(sluice_asan, workdir, config):
    started = Server(sluice_asan, workdir, config)
    yield started
    if started.proc.poll() is None:
        assert started.stop() == 0


@pytest.fixture
def dag(sluice_asan):
    """Runs `sluice dag ...` (ASan), checking its stderr has no sanitizer report."""
    def run(*args, timeout=120):
        result = sluice_asan.run("dag", *args, timeout=timeout)
        reports = sanitizer_reports(result.stderr)
        assert not reports, result.describe()
        return result
    return run


def ok(result):
    assert result.returncode == 0, result.describe()
    return result.stdout


def db(workdir):
    conn = sqlite3.connect(workdir / "data" / "metadata.db", timeout=30)
    conn.row_factory = sqlite3.Row
    return conn


def rows(workdir, sql, *params):
    with db(workdir) as conn:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]


def runs_of(dag, name, *extra):
    return json.loads(ok(dag("runs", name, "--json", *extra)))["dag_runs"]


def wait_for(what, predicate, server=None, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout}s (last: {last})\n{server.stderr() if server else ''}")


def run_state(dag, name, run_id):
    return json.loads(ok(dag("tasks", name, run_id, "--json")))["state"]


def wait_run(dag, server, name, run_id, states=("success", "failed")):
    return wait_for(f"run {run_id} of {name} to end",
                    lambda: (lambda s: s if s in states else None)(run_state(dag, name, run_id)), server)


def trigger(dag, name, *args):
    return json.loads(ok(dag("trigger", name, "--json", *args)))


# ---- the tests ---------------------------------------------------------------------


def test_list_trigger_tasks_and_log(server, dag, workdir, config):
    listed = ok(dag("list"))
    for name in ("manual_dag", "flaky", "ticker", "nightly", "failing"):
        assert name in listed, listed
    dags = {d["dag_id"]: d for d in json.loads(ok(dag("list", "--json")))["dags"]}
    assert dags["ticker"]["schedule"] == "every 1s" and dags["ticker"]["next_dagrun_data_interval"]
    assert dags["manual_dag"]["schedule"] is None and dags["manual_dag"]["task_count"] == 2
    shown = ok(dag("show", "manual_dag"))
    assert "writes two files" in shown and "after" in shown and "write" in shown, shown

    run = trigger(dag, "manual_dag", "--conf", '{"who": "test"}')
    assert run["run_type"] == "manual" and run["conf"] == {"who": "test"}
    assert run["run_id"].startswith("manual__")
    assert wait_run(dag, server, "manual_dag", run["run_id"]) == "success"
    assert (workdir / "write.out").read_text() == "ok\n"
    assert (workdir / "after.out").read_text() == "after\n"

    tasks = ok(dag("tasks", "manual_dag", run["run_id"]))
    assert "write" in tasks and "after" in tasks and "success" in tasks, tasks
    tries = json.loads(ok(dag("tasks", "manual_dag", run["run_id"], "--json")))["task_instances"]
    assert {(t["task_id"], t["try_number"], t["state"], t["exit_status"]) for t in tries} == \
        {("write", 1, "success", 0), ("after", 1, "success", 0)}
    log = ok(dag("log", "manual_dag", run["run_id"], "write"))
    assert "written-by-write" in log, log
    assert dag("log", "manual_dag", run["run_id"], "write", "--try", "2").returncode == 2

    # The history, read with sqlite3.
    stored = rows(workdir, "SELECT id, run_type, state, conf, start_us, end_us FROM dag_runs "
                           "WHERE dag_id = 'manual_dag' AND run_id = ?", run["run_id"])
    assert len(stored) == 1 and stored[0]["state"] == "success" and stored[0]["run_type"] == "manual"
    assert json.loads(stored[0]["conf"]) == {"who": "test"}
    assert stored[0]["end_us"] >= stored[0]["start_us"]
    tis = rows(workdir, "SELECT task_id, try_number, state, exit_status FROM task_instances WHERE run = ? "
                        "ORDER BY task_id", stored[0]["id"])
    assert tis == [{"task_id": "after", "try_number": 1, "state": "success", "exit_status": 0},
                   {"task_id": "write", "try_number": 1, "state": "success", "exit_status": 0}]

    # Two triggers at once never share a run id.
    ids = {trigger(dag, "manual_dag")["run_id"] for _ in range(3)}
    assert len(ids) == 3

    # With the server gone, reads come from the store; changes are refused.
    assert server.stop() == 0
    offline = dag("runs", "manual_dag")
    assert offline.returncode == 0 and run["run_id"] in offline.stdout, offline.describe()
    assert "reading the metadata store" in offline.stderr
    assert "written-by-write" in ok(dag("log", "manual_dag", run["run_id"], "write"))
    assert "manual_dag" in ok(dag("list", "--config", str(config)))
    refused = dag("trigger", "manual_dag")
    assert refused.returncode == 1 and "sluice server" in refused.stderr, refused.describe()


def test_pause_stops_new_runs_and_unpause_resumes(server, dag, workdir):
    def ticker_runs():
        return len(rows(workdir, "SELECT id FROM dag_runs WHERE dag_id = 'ticker' AND run_type = 'scheduled'"))

    wait_for("two scheduled ticker runs", lambda: ticker_runs() >= 2, server)
    assert "paused" in ok(dag("pause", "ticker"))
    assert rows(workdir, "SELECT is_paused FROM dags WHERE dag_id = 'ticker'") == [{"is_paused": 1}]
    # A run triggered after the pause that ends proves that every scheduler
    # pass begun before the pause has ended (the passes are one thread's).
    probe = trigger(dag, "manual_dag")
    wait_run(dag, server, "manual_dag", probe["run_id"])
    paused_count = ticker_runs()
    time.sleep(4)   # four intervals of the ticker's schedule
    assert ticker_runs() == paused_count
    assert json.loads(ok(dag("show", "ticker", "--json")))["is_paused"] is True

    assert "unpaused" in ok(dag("unpause", "ticker"))
    wait_for("a new ticker run after unpause",
             lambda: len(rows(workdir, "SELECT id FROM dag_runs WHERE dag_id = 'ticker' AND run_type = 'scheduled' "
                                       "AND state = 'success'")) > paused_count, server)


def test_clear_reruns_a_failed_task_and_its_downstream(server, dag, workdir):
    run = trigger(dag, "flaky")
    assert wait_run(dag, server, "flaky", run["run_id"]) == "failed"
    tries = {t["task_id"]: t for t in json.loads(ok(dag("tasks", "flaky", run["run_id"], "--json")))["task_instances"]}
    assert tries["check"]["state"] == "failed" and tries["downstream"]["state"] == "upstream_failed"
    assert ok(dag("runs", "flaky", "--state", "failed")).count(run["run_id"]) == 1
    assert run["run_id"] not in ok(dag("runs", "flaky", "--state", "success"))

    (workdir / "flag").write_text("set\n")
    cleared = ok(dag("clear", "flaky", run["run_id"], "--task", "check"))
    assert "check" in cleared and "downstream" in cleared, cleared
    assert wait_run(dag, server, "flaky", run["run_id"]) == "success"
    stored = rows(workdir, "SELECT ti.task_id, ti.try_number, ti.state, ti.max_tries FROM task_instances ti "
                           "JOIN dag_runs r ON r.id = ti.run WHERE r.run_id = ? ORDER BY ti.task_id, ti.try_number",
                  run["run_id"])
    assert [(r["task_id"], r["try_number"], r["state"]) for r in stored] == [
        ("check", 1, "failed"), ("check", 2, "success"),
        ("downstream", 1, "upstream_failed"), ("downstream", 2, "success")]
    assert "\nflag-found\n" in ok(dag("log", "flaky", run["run_id"], "check"))
    first = ok(dag("log", "flaky", run["run_id"], "check", "--try", "1"))
    assert "\nflag-found\n" not in first and "exit 1" in first, first
    assert "2/2" in ok(dag("tasks", "flaky", run["run_id"]))
    # Nothing failed now: a clear without --all changes nothing.
    assert "nothing to clear" in ok(dag("clear", "flaky", run["run_id"]))
    assert rows(workdir, "SELECT state FROM dag_runs WHERE run_id = ?", run["run_id"]) == [{"state": "success"}]


def test_backfill_creates_runs_in_order_and_pages(server, dag, workdir):
    out = ok(dag("backfill", "nightly", "--from", "2024-01-01", "--to", "2024-01-03T00:00:00Z"))
    assert "3 backfill runs created" in out, out
    ids = ["backfill__2024-01-0%d" % d + "T00:00:00+00:00" for d in (1, 2, 3)]
    for run_id in ids:
        assert run_id in out
    for run_id in ids:
        assert wait_run(dag, server, "nightly", run_id) == "success"
    stored = rows(workdir, "SELECT run_id, data_interval_start_us, data_interval_end_us, state FROM dag_runs "
                           "WHERE dag_id = 'nightly' AND run_type = 'backfill' ORDER BY id")
    assert [r["run_id"] for r in stored] == ids
    assert [r["data_interval_start_us"] for r in stored] == [us("2024-01-0%d" % d) for d in (1, 2, 3)]
    assert [r["data_interval_end_us"] for r in stored] == [us("2024-01-0%d" % d) for d in (2, 3, 4)]
    again = json.loads(ok(dag("backfill", "nightly", "--from", "2024-01-01", "--to", "2024-01-04", "--json")))
    assert again["run_ids"] == ["backfill__2024-01-04T00:00:00+00:00"] and again["existing"] == ids

    # Paging: pages of 2 newest first, no run twice, every run once.
    seen, cursor = [], None
    while True:
        status, body = server.request("GET", "/api/v1/dags/nightly/runs?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        page = json.loads(body)
        assert len(page["dag_runs"]) <= 2
        seen += [r["run_id"] for r in page["dag_runs"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    all_runs = rows(workdir, "SELECT run_id FROM dag_runs WHERE dag_id = 'nightly' "
                             "ORDER BY data_interval_start_us DESC, id DESC")
    assert seen == [r["run_id"] for r in all_runs]
    status, body = server.request("GET", "/api/v1/dags/nightly/runs?cursor=zz")
    assert status == 400 and "cursor" in body

    too_many = dag("backfill", "ticker", "--from", "2024-01-01", "--to", "2024-01-02")
    assert too_many.returncode == 2 and "more than 1000" in too_many.stderr, too_many.describe()


def test_api_errors(server, dag):
    status, body = server.request("GET", "/api/v1/dags/nope")
    assert status == 404 and "nope" in json.loads(body)["error"]
    status, body = server.request("POST", "/api/v1/dags/manual_dag/runs", "{not json")
    assert status == 400 and "not JSON" in json.loads(body)["error"]
    status, body = server.request("POST", "/api/v1/dags/manual_dag/runs", '{"conf": [1]}')
    assert status == 400 and "conf must be a JSON object" in json.loads(body)["error"]
    status, body = server.request("POST", "/api/v1/dags/manual_dag/runs", '{"logical_date": "yesterday"}')
    assert status == 400 and "logical_date" in json.loads(body)["error"]
    status, body = server.request("POST", "/api/v1/dags/manual_dag/runs", '{"colour": 1}')
    assert status == 400 and "colour" in json.loads(body)["error"]
    status, body = server.request("POST", "/api/v1/dags/nightly/runs", '{"logical_date": "2024-01-01T06:00:00Z"}')
    assert status == 400 and "starts no interval" in json.loads(body)["error"]
    status, body = server.request("POST", "/api/v1/dags/manual_dag/runs", '{"run_id": "mine"}')
    assert status == 201 and json.loads(body)["run_id"] == "mine"
    status, body = server.request("POST", "/api/v1/dags/manual_dag/runs", '{"run_id": "mine"}')
    assert status == 409 and "mine" in json.loads(body)["error"]
    status, body = server.request("GET", "/api/v1/dags/manual_dag/runs?state=done")
    assert status == 400 and "done" in json.loads(body)["error"]
    status, body = server.request("GET", "/api/v1/dags/manual_dag/runs?limit=1001")
    assert status == 400 and "limit" in json.loads(body)["error"]
    status, body = server.request("GET", "/api/v1/dags/manual_dag/runs/no-such-run")
    assert status == 404
    status, body = server.request("POST", "/api/v1/dags/manual_dag/runs/mine/clear", '{"tasks": ["ghost"]}')
    assert status == 400 and "ghost" in json.loads(body)["error"]
    status, body = server.request("GET", "/api/v1/dags/manual_dag/pause")
    assert status == 405

    # The CLI: unknown DAG, bad options and operands are exit 2, naming what.
    result = dag("show", "nope")
    assert result.returncode == 2 and "nope" in result.stderr, result.describe()
    result = dag("trigger", "manual_dag", "--run-id", "mine")
    assert result.returncode == 1 and "mine" in result.stderr, result.describe()
    result = dag("trigger", "manual_dag", "--conf", "[1]")
    assert result.returncode == 2 and "--conf" in result.stderr, result.describe()
    result = dag("runs", "manual_dag", "--try", "1")
    assert result.returncode == 2 and "--try applies to log" in result.stderr, result.describe()
    result = dag("frobnicate")
    assert result.returncode == 2 and "unknown verb" in result.stderr, result.describe()
    result = dag("tasks", "manual_dag")
    assert result.returncode == 2 and "RUN_ID" in result.stderr, result.describe()
    result = dag("backfill", "nightly", "--from", "2024-01-01")
    assert result.returncode == 2 and "--to" in result.stderr, result.describe()
    helped = ok(dag("--help"))
    for verb in ("list", "show", "trigger", "pause", "unpause", "runs", "tasks", "log", "clear", "backfill", "test"):
        assert f"\n  {verb}" in helped, helped


def test_dag_test_runs_in_the_foreground(dag, sluice_asan, workdir, config):
    result = dag("test", str(config), "manual_dag", "--conf", '{"n": 1}')
    assert result.returncode == 0, result.describe()
    assert "run manual__" in result.stdout and ": success" in result.stdout
    assert "write: success" in result.stdout and "written-by-write" in result.stdout, result.stdout
    assert (workdir / "after.out").read_text() == "after\n"
    stored = rows(workdir, "SELECT state, conf, run_type FROM dag_runs WHERE dag_id = 'manual_dag'")
    assert stored == [{"state": "success", "conf": '{"n":1}', "run_type": "manual"}]
    # Only that run: the ticker was not scheduled by dag test.
    assert rows(workdir, "SELECT count(*) AS n FROM dag_runs WHERE dag_id = 'ticker'") == [{"n": 0}]

    failed = dag("test", str(config), "failing")
    assert failed.returncode == 1, failed.describe()
    assert "boom: failed" in failed.stdout and "boom" in failed.stdout
    assert rows(workdir, "SELECT state FROM dag_runs WHERE dag_id = 'failing'") == [{"state": "failed"}]
    assert rows(workdir, "SELECT exit_status FROM task_instances WHERE task_id = 'boom'") == [{"exit_status": 3}]

    nightly = dag("test", str(config), "nightly", "--logical-date", "2024-02-01")
    assert nightly.returncode == 0, nightly.describe()
    assert rows(workdir, "SELECT data_interval_start_us AS s, data_interval_end_us AS e FROM dag_runs "
                         "WHERE dag_id = 'nightly'") == [{"s": us("2024-02-01"), "e": us("2024-02-02")}]

    unknown = dag("test", str(config), "nope")
    assert unknown.returncode == 2 and "nope" in unknown.stderr and "manual_dag" in unknown.stderr

    # A server owns the data dir: dag test says so and does not run.
    server = Server(sluice_asan, workdir, config)
    try:
        refused = dag("test", str(config), "manual_dag")
        assert refused.returncode == 1 and "dag trigger" in refused.stderr, refused.describe()
    finally:
        assert server.stop() == 0


def test_dag_test_stops_on_sigint(sluice_asan, workdir):
    config = workdir / "slow.yaml"
    config.write_text("dags:\n  slow:\n    tasks:\n"
                      f"      wait: {{ shell: \"touch {workdir}/started; sleep 600\" }}\n")
    proc = sluice_asan.popen("dag", "test", str(config), "slow")
    wait_for("the task to start", lambda: (workdir / "started").exists())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert not sanitizer_reports(err.decode()), err.decode()
    assert rows(workdir, "SELECT state FROM dag_runs WHERE dag_id = 'slow'") == [{"state": "failed"}]
    assert rows(workdir, "SELECT state FROM task_instances WHERE task_id = 'wait'") == [{"state": "failed"}]
