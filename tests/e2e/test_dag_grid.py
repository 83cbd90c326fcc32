"""test_dag_grid.py — DAG runs stay paged on the server with 10,000 of
them: every page of GET /api/v1/dags/{dag}/runs and of the grid view
(runs × tasks' latest states in one call) is bounded by its limit, the
pages together hold every run once, newest first, and a run that ran shows
each task's state. Runs are made through the API's own backfill; answers
are checked against docs/openapi.yaml and against Python's sqlite3 reading
the metadata store."""
import time
import urllib.parse

import openapi_check
from test_scheduler import query, wait_until
from test_server import Server

CONFIG = """\
dags:
  many:
    schedule: {{ every: 1m }}
    start_date: 2020-01-01
    paused: true
    tasks:
      one: {{ command: ["true"] }}
  live:
    tasks:
      first: {{ command: ["true"] }}
      second: {{ command: ["false"], depends_on: [first] }}
      third: {{ command: ["true"], depends_on: [second] }}
http: {{ listen: "127.0.0.1:0" }}
"""

RUNS = 10_000


def call(server, path, method="GET", body=None):
    status, answer = server.request(method, path, body)
    openapi_check.check(method, path, status, answer)
    return status, answer


def pages(server, path, key, limit):
    cursor, seen = None, []
    while True:
        status, page = call(server, f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, page
        assert len(page[key]) <= limit
        seen.extend(page[key])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_ten_thousand_runs_page_on_the_server(sluice_asan, workdir):
    meta = workdir / "data" / "metadata.db"
    server = Server(sluice_asan, workdir, CONFIG.format()).wait_started()
    try:
        start = 1577836800  # 2020-01-01T00:00:00Z
        for chunk in range(RUNS // 1000):
            first = start + chunk * 1000 * 60
            body = ('{"from": "%s", "to": "%s"}' % (
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first)),
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first + 999 * 60)))).encode()
            status, made = call(server, "/api/v1/dags/many/backfill", "POST", body)
            assert status == 201 and len(made["run_ids"]) == 1000, made
        assert query(meta, "SELECT count(*) FROM dag_runs WHERE dag_id = 'many'") == [(RUNS,)]

        runs = pages(server, "/api/v1/dags/many/runs", "dag_runs", 1000)
        ids = [r["run_id"] for r in runs]
        assert len(ids) == RUNS and len(set(ids)) == RUNS
        dates = [r["logical_date"] for r in runs]
        assert dates == sorted(dates, reverse=True)

        grid = pages(server, "/api/v1/dags/many/grid", "dag_runs", 500)
        assert [r["run_id"] for r in grid] == ids
        assert all(r["task_states"] == {} for r in grid)   # paused: none has started
        status, page = call(server, "/api/v1/dags/many/grid")
        assert status == 200 and len(page["dag_runs"]) == 25 and page["tasks"][0]["task_id"] == "one"
        assert call(server, "/api/v1/dags/many/grid?limit=0")[0] == 400
        assert call(server, "/api/v1/dags/many/grid?cursor=zz")[0] == 400
        assert call(server, "/api/v1/dags/nope/grid")[0] == 404

        status, run = call(server, "/api/v1/dags/live/runs", "POST", b"{}")
        assert status == 201, run
        path = "/api/v1/dags/live/runs/" + urllib.parse.quote(run["run_id"], safe="")
        wait_until("the live run failed", lambda: call(server, path)[1]["state"] == "failed", server=server)
        status, page = call(server, "/api/v1/dags/live/grid")
        assert [t["task_id"] for t in page["tasks"]] == ["first", "second", "third"]
        states = {task: s["state"] for task, s in page["dag_runs"][0]["task_states"].items()}
        assert states == {"first": "success", "second": "failed", "third": "upstream_failed"}
    finally:
        assert server.stop() == 0
