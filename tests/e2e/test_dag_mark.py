"""test_dag_mark.py — Airflow's mark success / mark failed through the API
of `sluice server` (ASan build): a running task marked success is killed
and its downstream task runs; a failed task marked success lets the tasks
after it run again and the run succeed; a run marked failed kills what
runs, skips what has not started, and stays failed; a failed run marked
success has every task succeeded. States are read back with Python's
sqlite3 from the metadata store, processes with os.kill, and every answer
is checked against docs/openapi.yaml."""
import os
import subprocess
import time
import urllib.parse

import openapi_check
from test_scheduler import query, wait_until
from test_server import Server

CONFIG = """\
dags:
  slow:
    tasks:
      hang: {{ shell: 'echo $$ > {pids}/$SLUICE_RUN_ID.pid; exec sleep 300' }}
      after: {{ shell: 'echo "$SLUICE_RUN_ID" >> {after}', depends_on: [hang] }}
  flaky:
    tasks:
      fail: {{ command: ["false"] }}
      next: {{ command: ["true"], depends_on: [fail] }}
http: {{ listen: "127.0.0.1:0" }}
"""


def call(server, method, path, body=None):
    status, answer = server.request(method, path, body)
    openapi_check.check(method, path, status, answer)
    return status, answer


def trigger(server, dag):
    status, run = call(server, "POST", f"/api/v1/dags/{dag}/runs", b"{}")
    assert status == 201, run
    return run["run_id"], f"/api/v1/dags/{dag}/runs/" + urllib.parse.quote(run["run_id"], safe="")


def states(meta, run_id):
    rows = query(meta, "SELECT t.task_id, t.state FROM task_instances t JOIN dag_runs r ON r.id = t.run "
                       f"WHERE r.run_id = '{run_id}' ORDER BY t.task_id, t.try_number")
    return dict(rows)   # the latest try of each task wins


def run_state(meta, run_id):
    rows = query(meta, f"SELECT state FROM dag_runs WHERE run_id = '{run_id}'")
    return rows[0][0] if rows else None


def is_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def started_pid(pids, run_id, server):
    path = pids / f"{run_id}.pid"
    wait_until("the hanging task started", lambda: path.exists() and path.read_text().strip(), server=server)
    return int(path.read_text())


def test_marks_follow_airflow(sluice_asan, workdir):
    pids = workdir / "pids"
    pids.mkdir()
    after = workdir / "after.txt"
    meta = workdir / "data" / "metadata.db"
    server = Server(sluice_asan, workdir, CONFIG.format(pids=pids, after=after)).wait_started()
    try:
        # A running task marked success: killed, and the task after it runs.
        run_id, path = trigger(server, "slow")
        pid = started_pid(pids, run_id, server)
        status, answer = call(server, "POST", path + "/tasks/hang/mark", b'{"state": "success"}')
        assert status == 200, answer
        assert answer["marked"] == ["hang"] and answer["task_id"] == "hang"
        wait_until("the marked task's process killed", lambda: not is_alive(pid), server=server)
        wait_until("the run succeeded", lambda: run_state(meta, run_id) == "success", server=server)
        assert states(meta, run_id) == {"hang": "success", "after": "success"}
        assert run_id in after.read_text()

        # A failed task marked success: the upstream_failed task after it runs again.
        run_id, path = trigger(server, "flaky")
        wait_until("the flaky run failed", lambda: run_state(meta, run_id) == "failed", server=server)
        assert states(meta, run_id) == {"fail": "failed", "next": "upstream_failed"}
        status, answer = call(server, "POST", path + "/tasks/fail/mark", b'{"state": "success"}')
        assert status == 200, answer
        assert answer["marked"] == ["fail"] and answer["cleared"] == ["next"], answer
        wait_until("the marked run succeeded", lambda: run_state(meta, run_id) == "success", server=server)
        assert states(meta, run_id) == {"fail": "success", "next": "success"}

        # A failed leaf marked success with nothing after it: the run's state is worked out again.
        run_id, path = trigger(server, "flaky")
        wait_until("the flaky run failed", lambda: run_state(meta, run_id) == "failed", server=server)
        status, answer = call(server, "POST", path + "/tasks/next/mark", b'{"state": "success"}')
        assert status == 200 and answer["state"] == "success", answer

        # A run marked failed: its running try killed, what has not started skipped; it stays failed.
        run_id, path = trigger(server, "slow")
        pid = started_pid(pids, run_id, server)
        status, answer = call(server, "POST", path + "/mark", b'{"state": "failed"}')
        assert status == 200 and answer["state"] == "failed", answer
        assert sorted(answer["marked"]) == ["after", "hang"], answer
        wait_until("the marked run's process killed", lambda: not is_alive(pid), server=server)
        time.sleep(1)   # the try's end is recorded after the kill: it must not overwrite the mark
        assert run_state(meta, run_id) == "failed"
        assert states(meta, run_id) == {"hang": "failed", "after": "skipped"}
        assert run_id not in after.read_text()

        # A failed run marked success: every task succeeded.
        run_id, path = trigger(server, "flaky")
        wait_until("the flaky run failed", lambda: run_state(meta, run_id) == "failed", server=server)
        status, answer = call(server, "POST", path + "/mark", b'{"state": "success"}')
        assert status == 200 and answer["state"] == "success", answer
        assert states(meta, run_id) == {"fail": "success", "next": "success"}
        assert run_state(meta, run_id) == "success"

        # The same through `sluice dag mark`, which finds the server through DATA_DIR/server.json.
        run_id, path = trigger(server, "flaky")
        wait_until("the flaky run failed", lambda: run_state(meta, run_id) == "failed", server=server)
        cli = [sluice_asan.binary, "dag", "mark", "flaky", run_id, "--data-dir", str(workdir / "data")]
        done = subprocess.run(cli + ["--state", "success", "--task", "fail"], capture_output=True, text=True,
                              env=sluice_asan.env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "marked fail; cleared to run again next" in done.stdout, done.stdout
        wait_until("the run marked by the CLI succeeded", lambda: run_state(meta, run_id) == "success", server=server)
        done = subprocess.run(cli + ["--state", "running"], capture_output=True, text=True, env=sluice_asan.env,
                              timeout=120)
        assert done.returncode == 2 and "--state success or --state failed" in done.stderr, done.stderr

        # Mistakes.
        assert call(server, "POST", path + "/mark", b'{"state": "running"}')[0] == 400
        assert call(server, "POST", path + "/mark", b'{}')[0] == 400
        assert call(server, "POST", path + "/mark", b'{"state": "failed", "why": 1}')[0] == 400
        assert call(server, "POST", path + "/tasks/nope/mark", b'{"state": "failed"}')[0] == 404
        assert call(server, "POST", "/api/v1/dags/flaky/runs/nope/mark", b'{"state": "failed"}')[0] == 404
        assert call(server, "POST", path + "/tasks/fail/mark", b'{"state": "failed", "downstream": 1}')[0] == 400
    finally:
        assert server.stop() == 0
