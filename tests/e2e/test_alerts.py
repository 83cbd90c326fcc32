"""test_alerts.py — alert rules under `sluice server`, checked by webhook
receivers in the test (http.server on loopback) and by GET /api/v1/alerts
read with urllib:

- a pipeline sending every record to its dead-letter topic fires a rate
  rule; stopping it through the API resolves it;
- a pipeline stopped through POST /api/v1/pipelines/NAME/stop fires a
  pipeline_down rule (pending first, for its `for`), started again it
  resolves;
- a DAG run whose command exits 1 fires a dag_failed rule (and, a second
  after its interval ended, a dag_late one), a later run
  that succeeds resolves both;
- a receiver that answers 500 twice then 200 gets the notice on the third
  try, and the API says so;
- every payload has Alertmanager's webhook shape; the Authorization header
  reaches the receiver but never the server's log;
- a reload keeps the state of unchanged rules, resolves the firing alert of
  a rule it changes, and one with a mistake in
  alerts: is refused (400, file:line:column) while the rules run on;
- bad parameters of the route are 400 naming them.

The server is the ASan build; waits are on conditions with long deadlines.
"""
import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_server import Server

SECRET = "Bearer s3cr3t-t0ken-never-logged"

CONFIG = """\
pipelines:
  bad:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 50 }} }}
    transform: {{ sql: "SELECT CAST(concat('x', value) AS INT) AS v FROM input" }}
    sink: {{ file: {{ path: bad.jsonl }} }}
  steady:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 50 }} }}
    sink: {{ file: {{ path: steady.jsonl }} }}
dags:
  report:
    tasks:
      check: {{ command: [ "test", "-e", "{marker}" ] }}
http: {{ listen: "127.0.0.1:0" }}
alerts:
  interval: 200ms
  webhooks:
    ops:
      url: "{ops}"
      headers: {{ Authorization: "{secret}", X-Team: data }}
      retry_delay: 100ms
    flaky: {{ url: "{flaky}", retries: 5, retry_delay: 100ms }}
  rules:
    - {{ name: dlq_rate, rate: sluice_pipeline_dead_letters_total, pipeline: bad, above: 0.5, window: 2s,
        webhook: ops, severity: critical }}
    - {{ name: steady_down, pipeline_down: steady, for: 1s, webhook: ops{extra_down} }}
    - {{ name: report_failed, dag_failed: report, webhook: ops }}
    - {{ name: report_late, dag_late: report, after: 1s, webhook: ops }}
    - {{ name: steady_up, metric: sluice_pipeline_up, pipeline: steady, above: 0.5, webhook: flaky }}
"""

DEADLINE = 90


class Receiver:
    """A webhook receiver: records every POST; answers with the statuses
    given, then 200."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.posts = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.posts.append({"headers": dict(self.headers), "body": json.loads(body),
                                           "answered": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def accepted(self, alertname, status):
        with self.lock:
            return [p for p in self.posts if p["answered"] == 200 and p["body"]["status"] == status
                    and p["body"]["commonLabels"].get("alertname") == alertname]

    def close(self):
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(statuses=()):
        receiver = Receiver(statuses)
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def alert_server(sluice_asan, workdir, receivers):
    ops = receivers()
    flaky = receivers([500, 500])
    marker = workdir / "report-may-succeed"
    config = CONFIG.format(marker=marker, ops=ops.url, flaky=flaky.url, secret=SECRET, extra_down="")
    server = Server(sluice_asan, workdir, config).wait_started()
    yield server, ops, flaky, marker
    if server.proc.poll() is None:
        server.proc.kill()


def get_json(server, path):
    try:
        with urllib.request.urlopen(server.url + path, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def alerts_by_name(server):
    status, body = get_json(server, "/api/v1/alerts")
    assert status == 200, body
    return {a["name"]: a for a in body["alerts"]}


def wait_until(what, predicate, server, timeout=DEADLINE):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout}s; alerts: "
                         f"{json.dumps(alerts_by_name(server), indent=1)}\n{server.stderr()[-4000:]}")


def check_payload(post, receiver_name, status, alertname):
    body = post["body"]
    assert body["version"] == "4"
    assert body["status"] == status
    assert body["receiver"] == receiver_name
    assert body["groupLabels"] == {"alertname": alertname}
    assert body["commonLabels"]["alertname"] == alertname
    assert body["externalURL"].startswith("http://127.0.0.1:")
    assert body["truncatedAlerts"] == 0
    assert len(body["alerts"]) == 1
    alert = body["alerts"][0]
    assert alert["status"] == status
    assert alert["labels"] == body["commonLabels"]
    assert alert["annotations"]["summary"]
    assert len(alert["fingerprint"]) == 16 and int(alert["fingerprint"], 16) >= 0
    assert alert["startsAt"].endswith("Z")
    if status == "firing":
        assert alert["endsAt"] == "0001-01-01T00:00:00Z"
    else:
        assert alert["endsAt"] > alert["startsAt"]
    assert alert["generatorURL"] == body["externalURL"] + "/api/v1/alerts"
    assert post["headers"]["Content-Type"] == "application/json"
    return alert


def post(server, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, method="POST", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def test_dead_letter_rate_fires_and_resolves_when_the_pipeline_stops(alert_server):
    server, ops, _, _ = alert_server
    fired = wait_until("dlq_rate firing at the receiver", lambda: ops.accepted("dlq_rate", "firing"), server)
    alert = check_payload(fired[0], "ops", "firing", "dlq_rate")
    assert alert["labels"] == {"alertname": "dlq_rate", "pipeline": "bad", "severity": "critical"}
    assert float(alert["annotations"]["value"]) > 0.5
    assert fired[0]["headers"]["Authorization"] == SECRET
    assert fired[0]["headers"]["X-Team"] == "data"
    state = alerts_by_name(server)["dlq_rate"]
    assert state["state"] == "firing" and state["since"] and state["value"] > 0.5
    assert state["labels"]["pipeline"] == "bad"
    assert state["rule"]["kind"] == "rate" and state["rule"]["above"] == 0.5 and state["rule"]["window_s"] == 2
    wait_until("the firing notice recorded as sent",
               lambda: (alerts_by_name(server)["dlq_rate"]["last_notification"] or {}).get("status") == "sent",
               server)

    post(server, "/api/v1/pipelines/bad/stop")
    resolved = wait_until("dlq_rate resolved", lambda: ops.accepted("dlq_rate", "resolved"), server)
    check_payload(resolved[0], "ops", "resolved", "dlq_rate")
    assert resolved[0]["body"]["alerts"][0]["fingerprint"] == fired[0]["body"]["alerts"][0]["fingerprint"]
    state = alerts_by_name(server)["dlq_rate"]
    assert state["state"] == "inactive" and state["resolved_at"]
    assert server.stop() == 0
    log = server.err_path.read_text()
    assert SECRET not in log and "s3cr3t" not in log
    assert "Authorization: ***" in log


def test_pipeline_stopped_is_pending_then_fires_and_resolves_when_started(alert_server):
    server, ops, _, _ = alert_server
    wait_until("steady running", lambda: server.pipelines()["steady"]["state"] == "running", server)
    wait_until("steady_down inactive", lambda: alerts_by_name(server)["steady_down"]["state"] == "inactive", server)
    post(server, "/api/v1/pipelines/steady/stop")
    wait_until("steady_down pending or firing",
               lambda: alerts_by_name(server)["steady_down"]["state"] in ("pending", "firing"), server)
    fired = wait_until("steady_down firing at the receiver", lambda: ops.accepted("steady_down", "firing"), server)
    alert = check_payload(fired[0], "ops", "firing", "steady_down")
    assert alert["annotations"]["summary"] == "pipeline steady is not running"
    state = alerts_by_name(server)["steady_down"]
    assert state["state"] == "firing" and state["value"] == 0
    status, firing = get_json(server, "/api/v1/alerts?state=firing")
    assert status == 200 and "steady_down" in [a["name"] for a in firing["alerts"]]
    assert all(a["state"] == "firing" for a in firing["alerts"])

    post(server, "/api/v1/pipelines/steady/start")
    resolved = wait_until("steady_down resolved", lambda: ops.accepted("steady_down", "resolved"), server)
    check_payload(resolved[0], "ops", "resolved", "steady_down")
    assert alerts_by_name(server)["steady_down"]["state"] == "inactive"
    assert len(ops.accepted("steady_down", "firing")) == 1, "one firing notice per firing"
    assert server.stop() == 0


def test_failed_dag_run_fires_and_a_later_successful_run_resolves(alert_server):
    server, ops, _, marker = alert_server
    first = post(server, "/api/v1/dags/report/runs", {})
    fired = wait_until("report_failed firing", lambda: ops.accepted("report_failed", "firing"), server)
    alert = check_payload(fired[0], "ops", "firing", "report_failed")
    assert alert["labels"]["dag"] == "report"
    assert alert["annotations"]["run_id"] == first["run_id"]
    # Its interval ended when it was triggered: a second later it is late too.
    late = wait_until("report_late firing", lambda: ops.accepted("report_late", "firing"), server)
    assert check_payload(late[0], "ops", "firing", "report_late")["annotations"]["run_id"] == first["run_id"]
    marker.write_text("ok")
    second = post(server, "/api/v1/dags/report/runs", {})
    resolved = wait_until("report_failed resolved", lambda: ops.accepted("report_failed", "resolved"), server)
    check_payload(resolved[0], "ops", "resolved", "report_failed")
    assert alerts_by_name(server)["report_failed"]["state"] == "inactive"
    wait_until("report_late resolved", lambda: ops.accepted("report_late", "resolved"), server)
    assert alerts_by_name(server)["report_late"]["state"] == "inactive"
    assert second["run_id"] != first["run_id"]
    assert server.stop() == 0


def test_a_receiver_answering_500_twice_gets_the_notice_on_the_third_try(alert_server):
    server, _, flaky, _ = alert_server
    accepted = wait_until("steady_up accepted by the flaky receiver",
                          lambda: flaky.accepted("steady_up", "firing"), server)
    check_payload(accepted[0], "flaky", "firing", "steady_up")
    answered = [p["answered"] for p in flaky.posts]
    assert answered[:3] == [500, 500, 200], answered
    assert all(p["body"] == flaky.posts[0]["body"] for p in flaky.posts[:3]), "a retry sends the same payload"
    note = wait_until("the notice recorded", lambda: alerts_by_name(server)["steady_up"]["last_notification"]
                      if (alerts_by_name(server)["steady_up"]["last_notification"] or {}).get("status") == "sent"
                      else None, server)
    assert note["attempts"] == 3 and note["alert_status"] == "firing"
    _, body = get_json(server, "/api/v1/alerts")
    assert body["notifications"]["retried"] >= 2 and body["notifications"]["sent"] >= 1
    assert server.stop() == 0


def test_a_reload_keeps_unchanged_rules_and_restarts_changed_ones(alert_server, workdir):
    server, ops, flaky, marker = alert_server
    wait_until("steady_up firing", lambda: alerts_by_name(server)["steady_up"]["state"] == "firing", server)
    since = alerts_by_name(server)["steady_up"]["since"]
    post(server, "/api/v1/pipelines/steady/stop")
    wait_until("steady_down firing", lambda: alerts_by_name(server)["steady_down"]["state"] == "firing", server)
    post(server, "/api/v1/pipelines/steady/start")
    wait_until("steady_up firing again", lambda: alerts_by_name(server)["steady_up"]["state"] == "firing", server)
    since = alerts_by_name(server)["steady_up"]["since"]
    # steady_down changes (a summary); steady_up does not.
    server.config.write_text(CONFIG.format(marker=marker, ops=ops.url, flaky=flaky.url, secret=SECRET,
                                           extra_down=", summary: steady has stopped"))
    answer = post(server, "/api/v1/reload")
    assert answer["reloaded"] is True, answer
    wait_until("the changed rule in the API",
               lambda: alerts_by_name(server)["steady_down"]["annotations"]["summary"] == "steady has stopped",
               server)
    assert alerts_by_name(server)["steady_up"]["since"] == since, "an unchanged rule keeps its state"
    # A firing alert whose rule a reload changes resolves, then its new rule judges afresh.
    post(server, "/api/v1/pipelines/steady/stop")
    wait_until("the changed steady_down firing", lambda: alerts_by_name(server)["steady_down"]["state"] == "firing",
               server)
    resolved_before = len(ops.accepted("steady_down", "resolved"))
    fired_before = len(ops.accepted("steady_down", "firing"))
    server.config.write_text(CONFIG.format(marker=marker, ops=ops.url, flaky=flaky.url, secret=SECRET,
                                           extra_down=""))
    assert post(server, "/api/v1/reload")["reloaded"] is True
    resolved = wait_until("steady_down resolved by the reload",
                          lambda: ops.accepted("steady_down", "resolved")[resolved_before:], server)
    assert resolved[0]["body"]["alerts"][0]["annotations"]["summary"] == "steady has stopped", "the old rule's"
    wait_until("the new steady_down firing", lambda: ops.accepted("steady_down", "firing")[fired_before:], server)
    # A file whose alerts have a mistake is refused; the running rules stay.
    server.config.write_text(CONFIG.format(marker=marker, ops=ops.url, flaky=flaky.url, secret=SECRET,
                                           extra_down=", window: 1m"))
    request = urllib.request.Request(server.url + "/api/v1/reload", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=120)
    assert refused.value.code == 400
    errors = json.loads(refused.value.read())["errors"]
    assert any("server.yaml:" in e and "window belongs to rate rules" in e for e in errors), errors
    assert alerts_by_name(server)["steady_down"]["annotations"]["summary"] == "pipeline steady is not running"
    assert alerts_by_name(server)["steady_down"]["state"] == "firing"
    assert server.stop() == 0


def test_bad_parameters_are_refused(alert_server):
    server, _, _, _ = alert_server
    status, body = get_json(server, "/api/v1/alerts?state=burning")
    assert status == 400 and "burning" in body["error"]
    status, body = get_json(server, "/api/v1/alerts?colour=red")
    assert status == 400 and "colour" in body["error"]
    status, body = get_json(server, "/api/v1/alerts?limit=0")
    assert status == 400 and "limit" in body["error"]
    status, body = get_json(server, "/api/v1/alerts?cursor=zz")
    assert status == 400 and "cursor" in body["error"]
    status, body = get_json(server, "/api/v1/alerts?state=inactive")
    assert status == 200 and all(a["state"] == "inactive" for a in body["alerts"])
    # Paged on the server, by rule name: every rule once, in order.
    status, everything = get_json(server, "/api/v1/alerts")
    names, cursor = [], None
    while True:
        status, page = get_json(server, "/api/v1/alerts?limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200 and len(page["alerts"]) <= 1, page
        names += [a["name"] for a in page["alerts"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert names == sorted(a["name"] for a in everything["alerts"]) and len(names) >= 2, names
    assert server.stop() == 0


LAG_CONFIG = """\
pipelines:
  feed:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 100 }} }}
    sink: {{ topic: {{ name: events }} }}
  copy:
    source: {{ topic: {{ name: events, group: copier }} }}
    sink: {{ file: {{ path: copy.jsonl }} }}
    commit_interval: 100ms
http: {{ listen: "127.0.0.1:0" }}
alerts:
  interval: 200ms
  webhooks: {{ ops: {{ url: "{ops}", retry_delay: 100ms }} }}
  rules:
    - {{ name: copier_lag, lag: {{ group: copier, topic: events }}, above: 300 }}
"""


def test_a_consumer_group_falling_behind_fires_a_lag_rule(sluice_asan, workdir, receivers):
    ops = receivers()
    server = Server(sluice_asan, workdir, LAG_CONFIG.format(ops=ops.url)).wait_started()
    try:
        wait_until("copy running", lambda: server.pipelines()["copy"]["state"] == "running", server)
        wait_until("copier_lag judged", lambda: alerts_by_name(server)["copier_lag"]["value"] is not None, server)
        assert alerts_by_name(server)["copier_lag"]["state"] == "inactive"
        post(server, "/api/v1/pipelines/copy/stop")
        fired = wait_until("copier_lag firing", lambda: ops.accepted("copier_lag", "firing"), server)
        alert = check_payload(fired[0], "ops", "firing", "copier_lag")
        assert alert["labels"] == {"alertname": "copier_lag", "group": "copier", "severity": "warning",
                                   "topic": "events"}
        assert float(alert["annotations"]["value"]) > 300
        post(server, "/api/v1/pipelines/copy/start")
        resolved = wait_until("copier_lag resolved", lambda: ops.accepted("copier_lag", "resolved"), server)
        check_payload(resolved[0], "ops", "resolved", "copier_lag")
        assert server.stop() == 0
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
