"""test_server.py — `sluice server`: it runs the continuous pipelines of a
file and serves /healthz, /readyz, /api/v1/pipelines and /api/v1/reload;
POST /api/v1/pipelines/NAME/stop drains a pipeline (its sinks hold every
record it read) and leaves it stopped across reloads until start or
restart, which resume from its committed position;
SIGHUP and POST /api/v1/reload restart changed pipelines only (no record
lost or doubled across the restart) and refuse a broken file while the old
one runs on; a failing pipeline restarts with exponential backoff, each
restart recorded with its reason; SIGTERM drains and exits 0; the data dir
stays the server's (a second writer is refused, readers work). The server
runs under ASan (its threads, locks and reloads are what is tested), with
its output in files so a long log never blocks it.
"""
import json
import signal
import sqlite3
import time
import urllib.error
import urllib.request
from datetime import datetime

import pytest

from server_process import ServerProcess

FEED_AND_COPY = """\
pipelines:
  feed:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 2000 }} }}
    sink:   {{ topic: {{ name: events }} }}
  copy:
    source: {{ topic: {{ name: events, group: copier }} }}
    sink:   {{ file: {{ path: {out} }} }}
    commit_interval: 100ms
http: {{ listen: "127.0.0.1:0" }}
"""


class Server(ServerProcess):
    """A server asked with urllib, its answers parsed as JSON."""
    def request(self, method, path, body=None):
        request = urllib.request.Request(self.url + path, method=method, data=body)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def pipelines(self):
        status, body = self.request("GET", "/api/v1/pipelines")
        assert status == 200, body
        return {p["name"]: p for p in body["pipelines"]}

    def wait_for(self, what, predicate, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.pipelines()
            if predicate(last):
                return last
            time.sleep(0.1)
        raise AssertionError(f"{what} not within {timeout}s: {json.dumps(last, indent=1)}\n{self.stderr()}")


@pytest.fixture
def server_of(sluice_asan, workdir):
    started = []

    def start(config, *args):
        server = Server(sluice_asan, workdir, config, *args)
        started.append(server)
        return server.wait_started()

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def ids(path):
    return [json.loads(line)["id"] for line in path.read_text().splitlines()] if path.exists() else []


def test_serves_health_and_runs_the_continuous_pipelines_until_sigterm(server_of, workdir):
    server = server_of(FEED_AND_COPY.format(out="out.jsonl"))
    assert server.request("GET", "/healthz") == (200, {"status": "ok"})
    server.wait_for("both pipelines running", lambda p: {x["state"] for x in p.values()} == {"running"})
    status, body = server.request("GET", "/readyz")
    assert status == 200 and body["ready"] is True, body
    server.wait_for("1000 records copied", lambda p: p["copy"]["records_out"] >= 1000)
    assert server.request("GET", "/nope")[0] == 404
    status, body = server.request("GET", "/api/v1/reload")
    assert status == 405 and "use POST" in body["error"]
    assert server.stop() == 0, server.stderr()
    assert not (workdir / "data" / "server.json").exists()
    copied = ids(workdir / "out.jsonl")
    # Drained on SIGTERM: what was copied is a gap-free prefix of the sequence.
    assert len(copied) >= 1000 and copied == list(range(len(copied)))


def test_a_reload_restarts_the_changed_pipeline_only_and_loses_no_record(server_of, workdir):
    server = server_of(FEED_AND_COPY.format(out="out.jsonl"))
    server.wait_for("records copied", lambda p: p["copy"]["records_out"] >= 500)
    feed_before = server.pipelines()["feed"]["records_in"]
    server.config.write_text(FEED_AND_COPY.format(out="second.jsonl"))
    status, body = server.request("POST", "/api/v1/reload")
    assert status == 200, body
    assert body["changes"] == {"started": [], "restarted": ["copy"], "stopped": [], "unchanged": ["feed"],
                               "left_stopped": []}, body
    server.wait_for("the new copy writing", lambda p: p["copy"]["state"] == "running" and
                    (workdir / "second.jsonl").exists() and len(ids(workdir / "second.jsonl")) >= 500)
    feed = server.pipelines()["feed"]
    assert feed["restarts"] == 0 and feed["records_in"] > feed_before, feed   # kept running, not restarted
    assert server.stop() == 0, server.stderr()
    first, second = ids(workdir / "out.jsonl"), ids(workdir / "second.jsonl")
    # The old copy drained and committed before the new one started from the group's position.
    assert first + second == list(range(len(first) + len(second)))


def test_a_broken_file_is_refused_with_its_mistakes_and_the_old_config_runs_on(server_of, workdir):
    server = server_of(FEED_AND_COPY.format(out="out.jsonl"))
    server.wait_for("running", lambda p: p["copy"]["records_out"] > 0)
    good = server.config.read_text()
    server.config.write_text(good.replace("count: 0", "count: -5").replace("group: copier", "gruop: copier"))
    status, body = server.request("POST", "/api/v1/reload")
    assert status == 400, body
    assert "the running config stays" in body["error"]
    errors = body["errors"]
    assert any(e.startswith(f"{server.config}:3:") and "count" in e for e in errors), errors
    assert any(e.startswith(f"{server.config}:6:") and "gruop" in e for e in errors), errors
    # SIGHUP with the same broken file: refused too, in the log.
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while "reload refused" not in server.stderr().split("SIGHUP", 1)[-1] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "reload refused, the running config stays" in server.stderr().split("SIGHUP", 1)[-1]
    before = server.pipelines()["copy"]["records_out"]
    server.wait_for("the old copy still running", lambda p: p["copy"]["records_out"] > before and
                    p["copy"]["restarts"] == 0)
    # A file that moves the data dir is refused as well.
    server.config.write_text(good + "data_dir: elsewhere\n")
    status, body = server.request("POST", "/api/v1/reload")
    assert status == 400 and "data_dir changed" in body["error"], body
    server.config.write_text(good)
    assert server.request("POST", "/api/v1/reload")[0] == 200
    assert server.stop() == 0


def test_a_failing_pipeline_restarts_with_exponential_backoff_and_its_reasons(server_of, workdir):
    (workdir / "blocker").write_text("a file where the sink needs a directory\n")
    config = FEED_AND_COPY.format(out="blocker/out.jsonl")
    server = server_of(config)
    pipelines = server.wait_for("three failed starts", lambda p: len(p["copy"]["restart_history"]) >= 3)
    copy = pipelines["copy"]
    assert copy["state"] == "backoff" and copy["restarts"] >= 3, copy
    assert all("blocker/out.jsonl" in note["reason"] for note in copy["restart_history"]), copy
    assert copy["last_error"] == copy["restart_history"][-1]["reason"]
    assert pipelines["feed"]["state"] == "running" and pipelines["feed"]["restarts"] == 0
    # The waits double: 1 s, 2 s, 4 s ... between failures.
    at = [datetime.fromisoformat(n["at"].replace("Z", "+00:00")) for n in copy["restart_history"]]
    gaps = [(b - a).total_seconds() for a, b in zip(at, at[1:])]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0, gaps
    status, body = server.request("GET", "/readyz")
    assert status == 503 and body["ready"] is False
    # Once the file is out of the way, the next attempt runs.
    (workdir / "blocker").unlink()
    server.wait_for("copy running after its backoff", lambda p: p["copy"]["state"] == "running", timeout=120)
    assert server.stop() == 0


def test_the_data_dir_is_the_servers_readers_still_work(server_of, sluice, workdir):
    server = server_of(FEED_AND_COPY.format(out="out.jsonl"))
    server.wait_for("running", lambda p: p["copy"]["records_out"] > 0)
    second = sluice.run("run", "server.yaml", "--for", "2s")
    assert second.returncode == 1 and f"in use by process {server.proc.pid}" in second.stderr, second.describe()
    listing = sluice.run("topic", "list")
    assert listing.returncode == 0 and "events" in listing.stdout, listing.describe()
    assert server.stop() == 0


def test_pipelines_run_by_dag_tasks_are_left_to_the_scheduler(server_of, workdir):
    config = FEED_AND_COPY.format(out="out.jsonl") + """\
dags:
  nightly:
    schedule: "@daily"
    tasks:
      load: { pipeline: feed }
"""
    server = server_of(config)
    pipelines = server.wait_for("copy running", lambda p: p.get("copy", {}).get("state") == "running")
    assert set(pipelines) == {"copy"}, pipelines
    assert server.stop() == 0


CONTROLLED = """\
pipelines:
  feed:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 2000 }} }}
    sink:   {{ topic: {{ name: events }} }}
  copy:
    source: {{ topic: {{ name: events, group: copier }} }}
    sinks:
      - {{ file: {{ path: {out} }} }}
      - {{ sqlite: {{ path: copy.db, table: copied, key: [id] }} }}
    commit_interval: 100ms
  nightly_load:
    source: {{ generator: {{ kind: sequence, count: 10 }} }}
    sink:   {{ file: {{ path: nightly.jsonl }} }}
dags:
  nightly:
    schedule: "@daily"
    tasks:
      load: {{ pipeline: nightly_load }}
http: {{ listen: "127.0.0.1:0" }}
"""


def sqlite_counts(path):
    """(rows, distinct ids) of the copied table, read with Python's sqlite3."""
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*), count(DISTINCT id) FROM copied").fetchone()
    finally:
        db.close()


def control(server, name, action):
    return server.request("POST", f"/api/v1/pipelines/{name}/{action}")


def test_a_pipeline_stopped_on_demand_has_drained_and_stays_stopped_until_started(server_of, workdir):
    server = server_of(CONTROLLED.format(out="out.jsonl"))
    server.wait_for("records copied", lambda p: p["copy"]["state"] == "running" and p["copy"]["records_out"] >= 300)

    status, body = control(server, "copy", "stop")
    assert status == 200, body
    assert body["pipeline"] == "copy" and body["action"] == "stop", body
    assert body["detail"] == "stopped: drained, its positions committed", body
    copy = server.pipelines()["copy"]
    assert copy["state"] == "stopped", copy
    assert copy["stopped_by"] == "the HTTP API (POST /api/v1/pipelines/copy/stop)", copy
    # Drained when the answer came: both sinks hold every record it read, once.
    copied = ids(workdir / "out.jsonl")
    assert copied == list(range(len(copied))) and len(copied) == copy["records_in"] == copy["records_out"], copy
    assert sqlite_counts(workdir / "copy.db") == (len(copied), len(copied))
    status, body = server.request("GET", "/readyz")
    assert status == 200, body   # stopped on purpose is not unready

    # It stays stopped while the feed goes on: its counters and sinks do not move.
    feed_at_stop = server.pipelines()["feed"]["records_in"]
    server.wait_for("the feed going on", lambda p: p["feed"]["records_in"] >= feed_at_stop + 1000)
    assert control(server, "copy", "stop") == (200, {"pipeline": "copy", "action": "stop",
                                                    "detail": "already stopped"})
    # A reload with the file unchanged leaves it stopped (SIGHUP, then the API).
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    while '"left_stopped":["copy"]' not in server.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert '"left_stopped":["copy"]' in server.stderr(), server.stderr()
    status, body = server.request("POST", "/api/v1/reload")
    assert status == 200 and body["changes"]["left_stopped"] == ["copy"], body
    assert body["changes"]["unchanged"] == ["feed"], body
    pipelines = server.pipelines()
    assert pipelines["copy"]["state"] == "stopped" and pipelines["copy"]["records_in"] == copy["records_in"]
    assert ids(workdir / "out.jsonl") == copied

    # Started again: it resumes from its committed position, its counters carried on.
    status, body = control(server, "copy", "start")
    assert status == 200 and body["detail"] == "started", body
    target = feed_at_stop + 1000
    server.wait_for("the copy catching up", lambda p: p["copy"]["state"] == "running" and
                    p["copy"]["records_out"] >= target)
    assert control(server, "copy", "start") == (200, {"pipeline": "copy", "action": "start",
                                                     "detail": "already running"})
    status, body = control(server, "copy", "stop")
    assert status == 200 and body["detail"].startswith("stopped"), body
    copy = server.pipelines()["copy"]
    assert copy["restarts"] == 0 and copy["stopped_by"].endswith("copy/stop)"), copy
    copied = ids(workdir / "out.jsonl")
    assert copied == list(range(len(copied))) and len(copied) == copy["records_in"] >= target, copy
    assert sqlite_counts(workdir / "copy.db") == (len(copied), len(copied))

    # A restart of a stopped pipeline starts it; of a running one, drains it and starts it again.
    status, body = control(server, "copy", "restart")
    assert status == 200 and body["detail"] == "started (it was stopped)", body
    server.wait_for("copy running", lambda p: p["copy"]["state"] == "running")
    status, body = control(server, "copy", "restart")
    assert status == 200 and body["detail"] == "restarted: drained, its positions committed, started again", body
    copy = server.wait_for("copy running again", lambda p: p["copy"]["state"] == "running")["copy"]
    assert copy["restarts"] == 2 and copy["stopped_by"] is None, copy
    assert [n["reason"] for n in copy["restart_history"]] == [
        "restarted by the HTTP API (POST /api/v1/pipelines/copy/restart)"] * 2, copy
    assert copy["last_error"] is None, copy
    assert server.pipelines()["feed"]["restarts"] == 0

    # Names that are no continuous pipeline.
    status, body = control(server, "nope", "stop")
    assert status == 404 and body["error"] == "no pipeline nope in the server's config", body
    status, body = control(server, "nightly_load", "start")
    assert status == 409 and "nightly_load is run by DAG tasks" in body["error"], body
    status, body = server.request("GET", "/api/v1/pipelines/copy/stop")
    assert status == 405, body

    server.wait_for("more copied", lambda p: p["copy"]["records_out"] >= copy["records_out"] + 200)
    assert server.stop() == 0, server.stderr()
    copied = ids(workdir / "out.jsonl")
    assert copied == list(range(len(copied)))
    assert sqlite_counts(workdir / "copy.db") == (len(copied), len(copied))


def test_a_stopped_pipeline_whose_config_changed_stays_stopped_and_starts_with_the_new_one(server_of, workdir):
    server = server_of(CONTROLLED.format(out="out.jsonl"))
    server.wait_for("records copied", lambda p: p["copy"]["records_out"] >= 300)
    assert control(server, "copy", "stop")[0] == 200
    server.config.write_text(CONTROLLED.format(out="second.jsonl"))
    status, body = server.request("POST", "/api/v1/reload")
    assert status == 200, body
    assert body["changes"] == {"started": [], "restarted": [], "stopped": [], "unchanged": ["feed"],
                               "left_stopped": ["copy"]}, body
    assert server.pipelines()["copy"]["state"] == "stopped"
    assert not (workdir / "second.jsonl").exists()
    status, body = control(server, "copy", "start")
    assert status == 200, body
    server.wait_for("the new copy writing", lambda p: p["copy"]["state"] == "running" and
                    len(ids(workdir / "second.jsonl")) >= 300)
    assert server.stop() == 0, server.stderr()
    first, second = ids(workdir / "out.jsonl"), ids(workdir / "second.jsonl")
    assert first + second == list(range(len(first) + len(second)))
    assert sqlite_counts(workdir / "copy.db") == (len(first) + len(second),) * 2


def test_a_pipeline_in_backoff_can_be_stopped_and_started_at_once(server_of, workdir):
    (workdir / "blocker").write_text("a file where the sink needs a directory\n")
    server = server_of(FEED_AND_COPY.format(out="blocker/out.jsonl"))
    server.wait_for("a failed start", lambda p: p["copy"]["state"] == "backoff")
    status, body = control(server, "copy", "stop")
    # (waiting out its backoff, or in its next attempt if that began meanwhile)
    assert status == 200 and body["detail"].startswith("stopped"), body
    copy = server.pipelines()["copy"]
    assert copy["state"] == "stopped" and copy["next_start_at"] is None, copy
    failures = len(copy["restart_history"])
    assert failures >= 1 and "blocker/out.jsonl" in copy["last_error"], copy
    (workdir / "blocker").unlink()
    status, body = control(server, "copy", "start")
    assert status == 200 and body["detail"] == "started", body
    copy = server.wait_for("copy running", lambda p: p["copy"]["state"] == "running" and
                           p["copy"]["records_out"] > 0)["copy"]
    assert len(copy["restart_history"]) == failures, copy   # its history carried over
    assert server.stop() == 0, server.stderr()


def test_a_file_with_mistakes_or_a_taken_port_does_not_start(sluice, workdir):
    (workdir / "bad.yaml").write_text("pipelines:\n  p:\n    source: { generator: { count: -1 } }\n"
                                      "    sink: { stdio: {} }\n")
    result = sluice.run("server", "bad.yaml")
    assert result.returncode == 2 and "bad.yaml:3:" in result.stderr, result.describe()
    with __import__("socket").socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        (workdir / "ok.yaml").write_text(FEED_AND_COPY.format(out="out.jsonl"))
        result = sluice.run("server", "ok.yaml", "--listen", f"127.0.0.1:{port}", timeout=60)
    assert result.returncode == 1, result.describe()
    assert f"http.listen 127.0.0.1:{port}: cannot listen: Address already in use" in result.stderr
    assert not (workdir / "data" / "server.json").exists()
    assert sluice.run("server").returncode == 2
