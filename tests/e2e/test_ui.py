"""test_ui.py — the web UI of `sluice server`.

Static files (with Python's http.client): / and /ui/NAME answer the bytes
of ui/ in the repository with their content type, an ETag and
Cache-Control; If-None-Match with that ETag is 304 without a body; a name
not compiled in is 404, and no path (.., encoded slashes, NULs) reaches a
file outside the table.

In the browser (Debian's chromium driven by playwright-core,
tests/e2e/ui/run.mjs): against a server running the demo's kind of
pipelines (a users generator into a topic, a SQL pipeline into SQLite) and
a DAG, the overview's records-in total grows and its chart gets points; a
DAG triggered from its page with a conf turns its cells green and shows a
try's log; a topic's messages read from offset 0 are the log's records
(read from the segments by kafka_batch.py) and a message produced from the
form lands in the segment; 10,000 consumer groups written into the data
dir are paged through to the last page, 1000 at a time; a 390x844 phone
shows every page without sideways scrolling. Any console error fails.
Screenshots are kept under build/artifacts/ui/. The servers run under
ASan.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import kafka_batch
from e2e_util import REPO, sanitizer_reports

UI_DIR = REPO / "ui"
NODE_DIR = REPO / "tests" / "e2e" / "ui"
ARTIFACTS = REPO / "build" / "artifacts" / "ui"
DEADLINE = 90

CONFIG = """\
pipelines:
  ingest_users:
    source: { generator: { kind: users, count: 0, rate: 40, seed: 42 } }
    sink:   { topic: { name: user_data, partitions: 4, key: login.uuid } }
  store_users:
    source: { topic: { name: user_data, group: store_users } }
    transform:
      sql: |
        SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name,
               location.city AS city, email
        FROM input
    sink:   { sqlite: { path: data/users.db, table: created_users, key: [id] } }
    commit_interval: 200ms
  check_users:                       # every record fails its CAST: dead letters for the UI to show
    source: { topic: { name: user_data, group: check_users } }
    transform: { sql: "SELECT CAST(name.first AS BIGINT) AS n FROM input" }
    sink:   { file: { path: checked.jsonl } }
dags:
  ui_check:
    description: what the browser test triggers
    tasks:
      extract:   { command: [sh, -c, "echo extract ran with $SLUICE_RUN_ID"] }
      transform: { command: [echo, transform ran], depends_on: [extract] }
      check:     { command: [echo, check ran], depends_on: [extract] }
      load:      { command: [echo, load ran], depends_on: [transform, check] }
alerts:
  interval: 1s
  rules:
    - { name: users_flowing, rate: sluice_pipeline_records_in_total, pipeline: ingest_users, above: 1, window: 10s,
        summary: users are being generated }
    - { name: check_down, pipeline_down: check_users, for: 1h }
http: { listen: "127.0.0.1:0" }
"""

TASKS = 4


class UiServer:
    """`sluice server` (the ASan build) in a directory of its own, output in files."""

    def __init__(self, binary, env, workdir, config):
        self.workdir = workdir
        (workdir / "server.yaml").write_text(config)
        self.err_path = workdir / "server.err"
        self.out = open(workdir / "server.out", "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([str(binary), "server", "server.yaml"], cwd=workdir, env=env,
                                     stdout=self.out, stderr=self.err)
        info = workdir / "data" / "server.json"
        deadline = time.monotonic() + DEADLINE
        self.url = None
        while self.url is None:
            assert self.proc.poll() is None, f"the server exited {self.proc.returncode}:\n{self.stderr()}"
            assert time.monotonic() < deadline, f"no data/server.json within {DEADLINE}s:\n{self.stderr()}"
            try:
                self.url = json.loads(info.read_text())["url"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)
        self.host, port = self.url.split("//", 1)[1].rsplit(":", 1)
        self.port = int(port)

    def stderr(self):
        self.err.flush()
        return self.err_path.read_text()

    def api(self, path, method="GET", body=None):
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def raw(self, method, path, headers=None):
        """One request with the path sent exactly as given: (status, headers, body bytes)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"the server did not stop within {DEADLINE}s:\n{self.stderr()}") from None
        self.out.close()
        self.err.close()
        reports = sanitizer_reports(self.err_path.read_text())
        assert not reports, "\n".join(reports)
        assert code == 0, f"the server exited {code}:\n{self.err_path.read_text()[-3000:]}"


def asan_env():
    env = dict(os.environ)
    env.pop("SLUICE_DATA_DIR", None)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:halt_on_error=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    return env


@pytest.fixture(scope="module")
def server(sluice_asan_bin, tmp_path_factory):
    started = UiServer(sluice_asan_bin, asan_env(), tmp_path_factory.mktemp("ui"), CONFIG)
    yield started
    started.stop()


def wait_for(what, check, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.2)


# ---- the static files ------------------------------------------------------------

def ui_files():
    return sorted(p for p in UI_DIR.iterdir() if p.is_file())


TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}


def test_every_file_of_ui_is_served_with_its_bytes_type_etag_and_cache_control(server):
    files = ui_files()
    assert any(p.name == "index.html" for p in files)
    etags = set()
    for path in files:
        status, headers, body = server.raw("GET", f"/ui/{path.name}")
        assert status == 200, (path.name, status, body[:200])
        assert body == path.read_bytes(), f"{path.name}: the bytes served differ from the repository's"
        assert headers["content-type"].split(";")[0] == TYPES[path.suffix], (path.name, headers)
        assert headers["cache-control"] == "no-cache"
        assert headers["x-content-type-options"] == "nosniff"
        etag = headers["etag"]
        assert etag.startswith('"') and etag.endswith('"') and len(etag) > 4, etag
        etags.add(etag)
    assert len(etags) == len(files), "two files share an ETag"
    status, headers, body = server.raw("GET", "/")
    assert status == 200 and body == (UI_DIR / "index.html").read_bytes()
    assert headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in headers["content-security-policy"]


def test_if_none_match_with_the_etag_is_304_without_a_body(server):
    for path in ("/", "/ui/app.js", "/ui/style.css"):
        status, headers, _ = server.raw("GET", path)
        assert status == 200
        etag = headers["etag"]
        for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            status, again, body = server.raw("GET", path, {"If-None-Match": sent})
            assert status == 304, (path, sent, status)
            assert body == b"" and again["etag"] == etag
        status, _, body = server.raw("GET", path, {"If-None-Match": '"not-this-one"'})
        assert status == 200 and body


def test_unknown_files_are_404_and_no_path_reaches_the_disk(server):
    status, headers, body = server.raw("GET", "/ui/nope.js")
    assert status == 404 and "nope.js" in json.loads(body)["error"]
    makefile = (REPO / "Makefile").read_bytes()
    secret = server.workdir / "server.yaml"
    attempts = ["/ui/../Makefile", "/ui/..%2fMakefile", "/ui/..%2F..%2FMakefile", "/ui/%2e%2e/%2e%2e/etc/passwd",
                "/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/ui/....//Makefile", "/ui/.%2e/server.yaml",
                f"/ui/{'..%2f' * 12}etc%2fpasswd", "/ui/index.html%00.png", "/ui/%00", "/ui/", "/ui",
                "/ui/./index.html", "/ui//index.html", "/ui/index.html/", "/ui/INDEX.HTML",
                "/../../etc/passwd", "/ui/%5c..%5cMakefile", f"/ui/{secret}", "/ui/server.yaml", "/ui/Makefile",
                "/index.html", "/ui/app.js?x=../../Makefile#"]
    for path in attempts:
        status, _, body = server.raw("GET", path)
        if path.startswith("/ui/app.js?"):
            assert status == 200 and body == (UI_DIR / "app.js").read_bytes()
            continue
        # A NUL or a control byte is refused before any route (400); any other path finds no file (404).
        assert status == (400 if "%00" in path else 404), (path, status, body[:200])
        assert b"root:" not in body and makefile[:200] not in body and b"pipelines:" not in body, path
        assert json.loads(body)["error"], path


def test_make_rebuilds_the_table_when_a_ui_file_changes_and_refuses_unknown_types(tmp_path):
    tree = tmp_path / "tree"
    for part in ("scripts", "ui"):
        shutil.copytree(REPO / part, tree / part)
    shutil.copy(REPO / "Makefile", tree / "Makefile")
    (tree / "src").mkdir()
    env = dict(os.environ, MAKEFLAGS="", MAKELEVEL="")

    def make(*args):
        return subprocess.run(["make", "--no-print-directory", *args], cwd=tree, env=env, capture_output=True,
                              text=True, timeout=300)

    table = tree / "build" / "gen" / "ui_assets.c"
    assert make("build/gen/ui_assets.c").returncode == 0
    before = table.read_text()
    assert make("-q", "build/gen/ui_assets.c").returncode == 0, "a fresh table counts as out of date"
    time.sleep(1.1)   # a later modification time than the table's, on any file system's granularity
    with open(tree / "ui" / "app.js", "a") as app:
        app.write("// changed by the test\n")
    assert make("-q", "build/gen/ui_assets.c").returncode == 1, "a changed ui/ file does not remake the table"
    done = make("build/gen/ui_assets.c")
    assert done.returncode == 0, done.stderr
    after = table.read_text()
    embedded = bytes(int(token, 16) for token in re.findall(r"0x([0-9a-f]{2})", after))
    assert after != before and b"// changed by the test\n" in embedded
    time.sleep(1.1)
    (tree / "ui" / "extra.txt").write_text("one more file\n")
    done = make("build/gen/ui_assets.c")
    assert done.returncode == 0, done.stderr
    assert '"extra.txt", "text/plain; charset=utf-8"' in table.read_text()
    time.sleep(1.1)
    (tree / "ui" / "notes.md").write_text("# not a type the UI serves\n")
    done = make("build/gen/ui_assets.c")
    assert done.returncode != 0 and "ui/notes.md" in done.stderr and "extension" in done.stderr, done.stderr
    assert '"extra.txt"' in table.read_text(), "a failed run replaced the table"


def test_other_methods_on_ui_paths_are_405(server):
    for path in ("/", "/ui/app.js"):
        status, headers, body = server.raw("POST", path)
        assert status == 405 and headers["allow"] == "GET", (path, status, headers)


# ---- in the browser --------------------------------------------------------------

def browser(scenario, base_url, **options):
    """Runs one scenario of run.mjs; returns what it saw (its JSON line)."""
    if not (NODE_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail("tests/e2e/ui/node_modules is missing: run scripts/deps.sh test (npm ci)", pytrace=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["node", "run.mjs", scenario, base_url, str(ARTIFACTS), json.dumps(options)],
                          cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{scenario} failed:\n{done.stderr}\n{done.stdout[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_overview_shows_throughput_rising_with_charts(server):
    seen = browser("overview", server.url, pipeline="ingest_users", stop_pipeline="store_users")
    assert seen["later"] > seen["first"] > 0
    assert seen["points"] >= 2 and seen["lag_points"] >= 2
    assert seen["state"] == "running"
    status, body = server.api("/api/v1/pipelines/ingest_users/history")
    assert status == 200 and len(body["samples"]) >= seen["points"]
    assert "drained" in seen["stopped"] and "started" in seen["started"]
    status, body = server.api("/api/v1/pipelines/store_users")
    assert status == 200 and body["state"] == "running" and body["stopped_by"] is None


def test_a_dag_triggered_from_its_page_runs_green_and_shows_its_log(server):
    conf = {"asked_by": "the browser", "n": 3}
    seen = browser("dag", server.url, dag="ui_check", conf=conf, tasks=TASKS, log_task="extract",
                   log_text="extract ran with ", clear_task="transform")
    run_id = seen["run_id"]
    assert seen["states"] == ["success"] * TASKS
    assert seen["colour"] == "rgb(0, 128, 0)"   # Airflow's success green
    assert seen["graph_states"] == ["success"] * TASKS
    assert f"extract ran with {run_id}" in seen["log"]
    status, run = server.api(f"/api/v1/dags/ui_check/runs/{urllib.request.quote(run_id, safe='')}")
    assert status == 200, run
    assert run["conf"] == conf and run["run_type"] == "manual" and run["state"] == "success"
    # Clearing transform made second tries of it and of load, downstream; extract and check ran once.
    tries = {}
    for t in run["task_instances"]:
        tries.setdefault(t["task_id"], []).append((t["try_number"], t["state"]))
    assert tries == {"extract": [(1, "success")], "check": [(1, "success")],
                     "transform": [(1, "success"), (2, "success")], "load": [(1, "success"), (2, "success")]}, tries
    assert seen["after_clear"] == ["success"] * TASKS
    status, dag = server.api("/api/v1/dags/ui_check")
    assert status == 200 and dag["is_paused"] is True and seen["paused_badge"] == "paused"
    assert server.api("/api/v1/dags/ui_check/unpause", "POST", {})[0] == 200


def test_a_topics_messages_are_the_logs_records_and_a_produced_one_lands(server):
    data = server.workdir / "data"
    wait_for("20 records in partition 0", lambda: len(kafka_batch.read_partition(data, "user_data", 0)) >= 20)
    produce = {"key": "ui-key-1", "value": {"made_by": "the ui test", "n": 7}, "headers": {"origin": "browser"}}
    seen = browser("topic", server.url, prefix="user", topic="user_data", partition=0, limit=10, produce=produce)
    records = kafka_batch.read_partition(data, "user_data", 0)
    for shown, record in zip(seen["first_page"] + seen["second_page"], records):
        assert shown["offset"] == record.offset and shown["partition"] == 0
        assert shown["key"] == record.key.decode()
        assert json.loads(shown["value"]) == json.loads(record.value)
        assert "\n  " in shown["value"], "the JSON value is not pretty-printed"
    assert [m["offset"] for m in seen["first_page"]] == list(range(10))
    assert seen["second_page"][0]["offset"] == 10
    produced = seen["produced"]
    assert produced["partition"] == 0

    def landed():
        for record in kafka_batch.read_partition(data, "user_data", 0):
            if record.offset == produced["offset"]:
                return record
        return None
    record = wait_for("the produced record in the segment", landed)
    assert record.key == b"ui-key-1"
    assert json.loads(record.value) == produce["value"]
    assert record.header("origin") == "browser"


N_GROUPS = 10_000


@pytest.fixture(scope="module")
def groups_server(sluice_asan_bin, tmp_path_factory):
    """A server whose data dir holds 10,000 consumer groups of user_data."""
    workdir = tmp_path_factory.mktemp("ui-groups")
    config = CONFIG.replace("rate: 40", "rate: 5")
    setup = subprocess.run([str(sluice_asan_bin), "topic", "create", "user_data", "--partitions", "4"], cwd=workdir,
                           env=asan_env(), capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stderr
    groups = workdir / "data" / "groups"
    for i in range(N_GROUPS):
        group = groups / f"ui-group-{i:05d}"
        group.mkdir(parents=True)
        (group / "user_data.offsets").write_text(f"0 {i % 7}\n1 0\n")
    started = UiServer(sluice_asan_bin, asan_env(), workdir, config)
    yield started
    started.stop()
    shutil.rmtree(groups, ignore_errors=True)


def test_ten_thousand_consumer_groups_page_to_the_last_page(groups_server):
    # The pipelines' own groups appear with their first commits: wait for
    # them, so the listing and the folder are of the same groups.
    groups = groups_server.workdir / "data" / "groups"
    wait_for("the pipelines' groups committed",
             lambda: (groups / "store_users").is_dir() and (groups / "check_users").is_dir())
    seen = browser("groups", groups_server.url)
    on_disk = sorted(p.name for p in (groups_server.workdir / "data" / "groups").iterdir())
    assert len(on_disk) >= N_GROUPS
    assert seen["pages"] == -(-len(on_disk) // 1000)
    assert sorted(seen["names"]) == on_disk, "the pages did not hold every group once"
    assert seen["largest_page"] <= 1000
    assert seen["requests"], "no /api/v1/groups request was seen"
    for url in seen["requests"]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query.get("limit") == ["1000"], f"a request not paged on the server: {url}"


def test_every_section_opens_and_a_dead_letter_leads_to_its_origin(server):
    data = server.workdir / "data"
    sections = [["Pipelines", "Pipelines"], ["Topics", "Topics"], ["Consumer groups", "Consumer groups"],
                ["Dead letters", "Dead letters"], ["DAGs", "DAGs"]]
    wait_for("a dead letter on disk", lambda: (data / "topics" / "check_users.dlq").is_dir()
             and any(kafka_batch.read_topic(data, "check_users.dlq").values()))
    seen = browser("pages", server.url, sections=sections, dead_letter_topic="check_users.dlq",
                   source_topic="user_data", group="store_users")
    shown = seen["shown"]
    record = next(r for r in kafka_batch.read_partition(data, "check_users.dlq", shown["partition"])
                  if r.offset == shown["offset"])
    assert shown["error"] == record.header("sluice.error")
    origin = (record.header("sluice.source.topic"), int(record.header("sluice.source.partition")),
              int(record.header("sluice.source.offset")))
    assert shown["origin"] == f"{origin[0]} partition {origin[1]} offset {origin[2]}"
    assert (seen["followed"]["partition"], seen["followed"]["offset"]) == origin[1:]
    # Each reason is shown as "COUNT PREFIX", the prefix the start of the letters' error.
    assert any(record.header("sluice.error").startswith(reason.split(" ", 1)[1]) for reason in seen["reasons"]), \
        seen["reasons"]
    assert seen["offsets"] == 4   # store_users's committed offsets, one per partition of user_data


def test_the_alerts_page_shows_each_rule_in_its_state(server):
    seen = browser("alerts", server.url, firing="users_flowing", inactive="check_down")
    status, body = server.api("/api/v1/alerts")
    assert status == 200
    states = {a["name"]: a for a in body["alerts"]}
    assert states["users_flowing"]["state"] == "firing" and states["check_down"]["state"] == "inactive"
    assert seen["summary"] == states["users_flowing"]["summary"] == "users are being generated"
    assert seen["rows"] == sorted(states)


def test_a_phone_sized_screen_shows_every_page_without_sideways_scrolling(server):
    browser("phone", server.url, pipeline="ingest_users", dag="ui_check")


OPERATOR_TOKEN = "operator-token-for-the-ui-test-0123"
VIEWER_TOKEN = "viewer-token-for-the-ui-test-45678"


@pytest.fixture(scope="module")
def auth_server(sluice_asan_bin, tmp_path_factory):
    config = CONFIG + f"""\
auth:
  tokens:
    - {{ name: ops, token: "{OPERATOR_TOKEN}", role: operator }}
    - {{ name: watcher, token: "{VIEWER_TOKEN}", role: viewer }}
"""
    started = UiServer(sluice_asan_bin, asan_env(), tmp_path_factory.mktemp("ui-auth"), config)
    yield started
    started.stop()


def test_with_auth_the_ui_logs_in_and_posts_with_the_csrf_token(auth_server):
    status, _, body = auth_server.raw("GET", "/")
    assert status == 200 and body == (UI_DIR / "index.html").read_bytes(), "the UI's page must need no token"
    status, headers, _ = auth_server.raw("GET", "/api/v1/pipelines")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    seen = browser("login", auth_server.url, token=OPERATOR_TOKEN, wrong_token="not-a-token-of-this-server",
                   pipeline="ingest_users", dag="ui_check")
    assert seen["refused"]
    assert "ops" in seen["who"] and "operator" in seen["who"]
    path = f"/api/v1/dags/ui_check/runs/{urllib.parse.quote(seen['run_id'], safe='')}"
    status, _, body = auth_server.raw("GET", path, {"Authorization": f"Bearer {VIEWER_TOKEN}"})
    assert status == 200, body
    assert json.loads(body)["run_type"] == "manual"


SCALE_CONFIG = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 0, rate: 5 } }
    sink:   { topic: { name: events } }
dags:
  many:
    schedule: { every: 1m }
    start_date: 2020-01-01
    paused: true
    tasks:
      one: { command: ["true"] }
http: { listen: "127.0.0.1:0" }
"""
N_TOPICS = 1000
N_RUNS = 10_000


@pytest.fixture(scope="module")
def scale_server(sluice_bin, sluice_asan_bin, tmp_path_factory):
    """A server with 1,000 topics in its data dir and a DAG with 10,000 runs (made by the API's backfill)."""
    workdir = tmp_path_factory.mktemp("ui-scale")
    for i in range(N_TOPICS):
        made = subprocess.run([str(sluice_bin), "topic", "create", f"topic-{i:04d}"], cwd=workdir,
                              capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
    started = UiServer(sluice_asan_bin, asan_env(), workdir, SCALE_CONFIG)
    start = 1577836800  # 2020-01-01T00:00:00Z
    for chunk in range(N_RUNS // 1000):
        first = start + chunk * 1000 * 60
        body = {"from": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first)),
                "to": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first + 999 * 60))}
        status, made = started.api("/api/v1/dags/many/backfill", method="POST", body=body)
        assert status == 201 and len(made["run_ids"]) == 1000, made
    yield started
    started.stop()


def test_a_thousand_topics_page_to_the_last_page(scale_server):
    seen = browser("topic_pages", scale_server.url)
    on_disk = sorted(p.name for p in (scale_server.workdir / "data" / "topics").iterdir())
    assert len(on_disk) >= N_TOPICS
    assert sorted(seen["names"]) == on_disk, "the pages did not hold every topic once"
    assert seen["largest_page"] <= 1000 and seen["pages"] == -(-len(on_disk) // 1000)
    for url in seen["requests"]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query.get("limit") == ["1000"], f"a request not paged on the server: {url}"


def test_a_dag_with_ten_thousand_runs_draws_its_latest_runs(scale_server):
    status, dag = scale_server.api("/api/v1/dags/many")
    assert status == 200, dag
    newest = [run["run_id"] for run in dag["recent_runs"]]
    seen = browser("dag_runs", scale_server.url, dag="many", runs=len(newest))
    assert sorted(seen["shown"]) == sorted(newest), seen["shown"][:5]
    # Bounded requests: the DAG, its page of runs and one per run shown, never all 10,000.
    assert len(seen["requests"]) <= 2 * len(newest) + 10, len(seen["requests"])
