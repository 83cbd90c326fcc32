"""test_openapi.py — docs/openapi.yaml is valid OpenAPI 3.1, names every
route of the server's route table (as `sluice server --help` prints it) and
nothing else,
and the answers of a running server (ASan build) to each of those routes,
successes and errors, match the shapes it gives."""
import re
import subprocess
import time
import urllib.parse

from openapi_spec_validator import validate

import openapi_check
from test_server import Server

CONFIG = """\
pipelines:
  feed:
    source: {{ generator: {{ kind: users, rate: 200 }} }}
    sink:   {{ topic: {{ name: users }} }}
  copy:
    source: {{ topic: {{ name: users, group: copier }} }}
    sink:   {{ sqlite: {{ path: {db}, table: users }} }}
    commit_interval: 100ms
dags:
  etl:
    schedule: "@daily"
    tasks:
      extract: {{ command: [echo, extracted] }}
      load: {{ command: [echo, loaded], depends_on: [extract] }}
http: {{ listen: "127.0.0.1:0" }}
"""


def route_table(sluice):
    """(method, pattern) of each row of the route table, from --help."""
    out = subprocess.run([sluice.binary, "server", "--help"], capture_output=True, text=True, env=sluice.env)
    rows = re.findall(r"^  (GET|POST|PUT|DELETE|PATCH)\s+(/\S*)", out.stdout + out.stderr, re.M)
    assert rows, out.stdout + out.stderr
    return rows


def test_the_spec_is_valid_openapi():
    validate(openapi_check.spec())


def test_every_route_of_the_table_is_in_the_spec(sluice):
    for method, pattern in route_table(sluice):
        operations = openapi_check.spec()["paths"].get(pattern)
        assert operations is not None, f"{pattern} is served but missing from docs/openapi.yaml"
        assert method.lower() in operations, f"{method} {pattern} is served but missing from docs/openapi.yaml"


def test_every_operation_of_the_spec_is_served(sluice):
    served = {(method.lower(), pattern) for method, pattern in route_table(sluice)}
    for pattern, operations in openapi_check.spec()["paths"].items():
        for method in operations:
            if method in ("get", "post", "put", "delete", "patch"):
                assert (method, pattern) in served, f"docs/openapi.yaml has {method.upper()} {pattern}, not served"


def test_answers_match_the_spec(sluice_asan, workdir):
    server = Server(sluice_asan, workdir, CONFIG.format(db=workdir / "users.db")).wait_started()
    try:
        def call(method, path, body=None):
            status, answer = server.request(method, path, body)
            openapi_check.check(method, path, status, answer)
            return status, answer

        assert call("GET", "/healthz")[0] == 200
        deadline = time.monotonic() + 90
        while call("GET", "/readyz")[0] != 200:
            assert time.monotonic() < deadline, "the server never became ready"
            time.sleep(0.2)
        call("GET", "/api/v1/pipelines")
        # Paged and filtered on the server, by name.
        status, page = call("GET", "/api/v1/pipelines?limit=1")
        assert status == 200 and [p["name"] for p in page["pipelines"]] == ["copy"] and page["next_cursor"]
        status, page = call("GET", "/api/v1/pipelines?limit=1&cursor=" + page["next_cursor"])
        assert [p["name"] for p in page["pipelines"]] == ["feed"] and page["next_cursor"] is None
        assert [p["name"] for p in call("GET", "/api/v1/pipelines?prefix=fe")[1]["pipelines"]] == ["feed"]
        assert len(call("GET", "/api/v1/pipelines?state=running")[1]["pipelines"]) == 2
        assert call("GET", "/api/v1/pipelines?state=stopped")[1]["pipelines"] == []
        assert call("GET", "/api/v1/pipelines?state=bogus")[0] == 400
        assert call("GET", "/api/v1/pipelines?cursor=zz")[0] == 400
        assert call("GET", "/api/v1/pipelines?limit=0")[0] == 400
        assert call("GET", "/api/v1/dags?limit=1")[0] == 200
        assert call("GET", "/api/v1/dags?limit=0")[0] == 400
        assert call("GET", "/api/v1/dags/etl")[0] == 200
        assert call("GET", "/api/v1/dags/nope")[0] == 404
        assert call("POST", "/api/v1/dags/etl/runs", b"not json")[0] == 400
        status, run = call("POST", "/api/v1/dags/etl/runs", b'{"conf": {"k": 1}}')
        assert status == 201, run
        run_path = "/api/v1/dags/etl/runs/" + urllib.parse.quote(run["run_id"], safe="")
        deadline = time.monotonic() + 90
        while call("GET", run_path)[1]["state"] != "success":
            assert time.monotonic() < deadline, "the triggered run never succeeded"
            time.sleep(0.2)
        assert call("GET", "/api/v1/dags/etl/runs?state=success")[0] == 200
        assert call("GET", "/api/v1/dags/etl/runs?state=bogus")[0] == 400
        assert call("GET", "/api/v1/dags/etl/runs/nope")[0] == 404
        assert call("POST", run_path + "/clear", b'{"only_failed": false}')[0] == 200
        assert call("POST", run_path + "/clear", b'{"tasks": ["nope"]}')[0] == 400
        assert call("POST", "/api/v1/dags/etl/backfill", b'{"from": "2024-01-01", "to": "2024-01-02"}')[0] == 201
        assert call("POST", "/api/v1/dags/etl/backfill", b'{"from": "2024-01-02", "to": "2024-01-01"}')[0] == 400
        assert call("POST", "/api/v1/dags/etl/pause")[0] == 200
        assert call("POST", "/api/v1/dags/etl/unpause")[0] == 200
        assert call("POST", "/api/v1/pipelines/copy/stop")[0] == 200
        assert call("POST", "/api/v1/pipelines/copy/start")[0] == 200
        assert call("POST", "/api/v1/pipelines/copy/restart")[0] == 200
        assert call("POST", "/api/v1/pipelines/nope/stop")[0] == 404
        assert call("POST", "/api/v1/reload")[0] == 200
    finally:
        server.stop()
