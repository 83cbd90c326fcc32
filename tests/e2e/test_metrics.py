"""test_metrics.py — the metrics of `sluice server` and `sluice run
--metrics-listen`, read by independent clients: urllib for the text,
Prometheus's own `promtool check metrics` for the format, the text parsed
by the prometheus_client parser, and a real Prometheus server
(tests/servers/prometheus.sh) scraping sluice every second and answering a
PromQL query through its HTTP API. Values must move while pipelines run:
records in rise, the sqlite sink's latency histogram counts writes, a
stopped consumer group's lag grows, a DAG run shows up by state with its
duration. The pipeline objects' new fields, /pipelines/{name} and its
history are checked as JSON (and against docs/openapi.yaml when
tests/e2e/openapi_check.py is there).
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from e2e_util import sanitizer_reports
from kafka_server import kafka_broker  # noqa: F401  (the session fixture)
from test_server import Server

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_SH = REPO / "tests" / "servers" / "prometheus.sh"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

CONFIG = """\
pipelines:
  feed:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 1000 }} }}
    sink:   {{ topic: {{ name: events, partitions: 2 }} }}
  copy:
    source: {{ topic: {{ name: events, group: copier }} }}
    sink:   {{ file: {{ path: {out} }} }}
    commit_interval: 100ms
  users:
    source: {{ generator: {{ kind: users, count: 0, rate: 200 }} }}
    transform: {{ sql: "SELECT login.uuid AS id, name.first AS first_name FROM input" }}
    sink:   {{ sqlite: {{ path: {db}, table: users, key: [id] }} }}
dags:
  once:
    tasks:
      hello: {{ command: ["true"] }}
http: {{ listen: "127.0.0.1:0" }}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=60):
    """(status, headers, body text) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def samples(text):
    """{(name, frozenset(labels.items())): value} of a text exposition, parsed by prometheus_client."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name, **labels):
    """The value of the sample name whose labels include labels, or None."""
    for (sample_name, sample_labels), sample_value in found.items():
        if sample_name == name and set(labels.items()) <= set(sample_labels):
            return sample_value
    return None


def promtool_check(text):
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"promtool check metrics failed:\n{result.stdout}\n{result.stderr}"


def wait_until(what, probe, timeout=60):
    """Calls probe() until it returns something truthy; fails naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what} not within {timeout}s (last: {last!r})")


@pytest.fixture
def server(sluice_asan, workdir):
    started = Server(sluice_asan, workdir, CONFIG.format(out=workdir / "out.jsonl", db=workdir / "users.db"))
    yield started.wait_started()
    if started.proc.poll() is None:
        assert started.stop() == 0, started.stderr()


def scrape(server):
    status, headers, text = get(server.url + "/metrics")
    assert status == 200, text
    assert headers["Content-Type"] == CONTENT_TYPE
    return text


def test_server_metrics_pass_promtool_and_move_while_pipelines_run(server):
    first = samples(scrape(server))
    assert value(first, "sluice_pipeline_up", pipeline="feed") in (0, 1)
    wait_until("feed's records_in rising past 0",
               lambda: (value(samples(scrape(server)), "sluice_pipeline_records_in_total", pipeline="feed") or 0) > 0)
    before = value(samples(scrape(server)), "sluice_pipeline_records_in_total", pipeline="feed")
    wait_until("feed's records_in rising between scrapes",
               lambda: value(samples(scrape(server)), "sluice_pipeline_records_in_total", pipeline="feed") > before)
    found = wait_until("the sqlite sink's latency histogram counting writes",
                       lambda: (lambda f: f if (value(f, "sluice_sink_request_duration_seconds_count",
                                                      pipeline="users", sink="sqlite") or 0) > 0 else None)(
                           samples(scrape(server))))
    assert value(found, "sluice_sink_request_duration_seconds_bucket", pipeline="users", sink="sqlite",
                 le="+Inf") == value(found, "sluice_sink_request_duration_seconds_count", pipeline="users",
                                     sink="sqlite")
    assert value(found, "sluice_pipeline_batch_duration_seconds_count", pipeline="copy") > 0
    assert value(found, "sluice_pipeline_up", pipeline="users") == 1
    assert value(found, "sluice_topic_partition_end_offset", topic="events", partition="1") is not None
    assert value(found, "sluice_consumer_group_committed_offset", group="copier", topic="events",
                 partition="0") is not None
    assert value(found, "sluice_pipeline_lag_records", pipeline="copy") is not None
    for partition in ("0", "1"):
        where = dict(pipeline="copy", topic="events", partition=partition)
        assert value(found, "sluice_source_partition_end_offset", **where) >= \
            value(found, "sluice_source_partition_position", **where)
        assert value(found, "sluice_source_partition_lag_records", **where) is not None
    assert value(found, "process_resident_memory_bytes") > 1e6
    assert value(found, "process_max_fds") > 0
    assert value(found, "process_open_fds") > 3
    assert abs(value(found, "process_start_time_seconds") - time.time()) < 3600

    # A stopped consumer's group lags while its topic grows.
    status, body = server.request("POST", "/api/v1/pipelines/copy/stop")
    assert status == 200, body

    def lag_of_copier():
        found = samples(scrape(server))
        lag = sum(value(found, "sluice_consumer_group_lag_records", group="copier", topic="events",
                        partition=str(p)) or 0 for p in (0, 1))
        return lag if lag > 100 else None
    wait_until("the stopped copier group's lag growing past 100", lag_of_copier)

    # A DAG run, by state and with its duration once finished.
    status, body = server.request("POST", "/api/v1/dags/once/runs", b"{}")
    assert status == 201, body
    found = wait_until("the DAG run counted as success",
                       lambda: (lambda f: f if value(f, "sluice_dag_runs", dag="once", state="success") == 1
                                else None)(samples(scrape(server))))
    assert value(found, "sluice_dag_runs", dag="once", state="failed") == 0
    assert value(found, "sluice_dag_run_duration_seconds_count", dag="once") == 1
    promtool_check(scrape(server))


def test_pipeline_objects_one_pipeline_and_its_history(server):
    pipelines = server.wait_for("copy reading with a lag known",
                                lambda p: p.get("copy", {}).get("lag") is not None and p["copy"]["records_in"] > 0)
    copy = pipelines["copy"]
    for field in ("records_in_per_s", "records_out_per_s", "bytes_in_per_s", "bytes_out", "bytes_out_per_s",
                  "errors", "dead_letters_per_s", "lag", "partitions"):
        assert field in copy, (field, copy)
    assert sorted(p["partition"] for p in copy["partitions"]) == [0, 1]
    assert {p["topic"] for p in copy["partitions"]} == {"events"}
    for partition in copy["partitions"]:
        assert partition["position"] is not None and partition["end_offset"] >= partition["position"]
        assert partition["lag"] == partition["end_offset"] - partition["position"]
    assert pipelines["users"]["partitions"] == [] and pipelines["users"]["lag"] is None

    status, one = server.request("GET", "/api/v1/pipelines/feed")
    assert status == 200 and one["name"] == "feed", one
    assert server.request("GET", "/api/v1/pipelines/nope")[0] == 404
    assert server.request("GET", "/api/v1/pipelines/nope/history")[0] == 404
    assert server.request("GET", "/api/v1/pipelines/once")[0] == 404   # a DAG's name, no pipeline

    def history():
        status, body = server.request("GET", "/api/v1/pipelines/feed/history")
        assert status == 200, body
        return body if len(body["samples"]) >= 2 else None
    body = wait_until("two history samples of feed", history, timeout=90)
    assert body["pipeline"] == "feed" and body["interval_s"] == 5
    assert len(body["samples"]) <= 180
    times = [sample["t"] for sample in body["samples"]]
    assert times == sorted(times) and all(t.endswith("Z") for t in times)
    assert body["samples"][-1]["records_in_per_s"] > 0
    # The rates of the object follow the history's latest sample.
    feed = server.wait_for("feed's rate", lambda p: p["feed"]["records_in_per_s"] > 0)["feed"]
    assert feed["records_out_per_s"] > 0 and feed["bytes_out"] > 0


def test_pipeline_answers_match_the_openapi_spec(server):
    openapi_check = pytest.importorskip("openapi_check", reason="tests/e2e/openapi_check.py is not in this tree")
    server.wait_for("copy's partitions known", lambda p: len(p.get("copy", {}).get("partitions", [])) == 2)
    wait_until("a history sample of feed",
               lambda: server.request("GET", "/api/v1/pipelines/feed/history")[1]["samples"], timeout=90)
    for path in ("/api/v1/pipelines", "/api/v1/pipelines/copy", "/api/v1/pipelines/feed/history",
                 "/api/v1/pipelines/nope", "/api/v1/pipelines/nope/history", "/readyz"):
        status, answer = server.request("GET", path)
        openapi_check.check("GET", path, status, answer)


def test_bad_requests_to_the_metrics_routes(server):
    request = urllib.request.Request(server.url + "/metrics", method="POST", data=b"x")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)
    assert error.value.code == 405
    status, _, text = get(server.url + "/api/v1/pipelines/" + urllib.parse.quote("a b/../..", safe="") + "/history")
    assert status == 404 and "error" in json.loads(text)
    status, _, text = get(server.url + "/metrics?format=whatever")
    assert status == 200


def test_sluice_run_serves_metrics_while_it_runs(sluice_asan, workdir):
    port = free_port()
    config = workdir / "run.yaml"
    config.write_text(
        "pipelines:\n"
        "  feed:\n"
        "    source: { generator: { kind: sequence, count: 0, rate: 500 } }\n"
        "    sink:   { topic: { name: ticks } }\n"
        "  store:\n"
        f"    source: {{ generator: {{ kind: users, count: 0, rate: 100 }} }}\n"
        f"    transform: {{ sql: \"SELECT login.uuid AS id FROM input\" }}\n"
        f"    sink:   {{ sqlite: {{ path: {workdir / 'u.db'}, table: users, key: [id] }} }}\n")
    err_path = workdir / "run.err"
    with open(err_path, "w") as err:
        proc = subprocess.Popen([sluice_asan.binary, "run", str(config), "--metrics-listen", f"127.0.0.1:{port}",
                                 "--quiet"], cwd=workdir, env=sluice_asan.env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            url = f"http://127.0.0.1:{port}"

            def records_in():
                try:
                    status, _, text = get(url + "/metrics", timeout=10)
                except OSError:
                    return None
                return text if status == 200 and (value(samples(text), "sluice_pipeline_records_in_total",
                                                        pipeline="feed") or 0) > 0 else None
            text = wait_until("records_in of feed on the run's /metrics", records_in)
            found = samples(text)
            assert value(found, "sluice_pipeline_up", pipeline="store") == 1
            assert value(found, "sluice_topic_partition_end_offset", topic="ticks", partition="0") is not None
            assert value(found, "sluice_dag_runs") is None   # a run has no scheduler
            assert get(url + "/healthz")[0] == 200
            assert get(url + "/api/v1/pipelines")[0] == 404
            wait_until("the sqlite sink's writes counted",
                       lambda: (value(samples(get(url + "/metrics")[2]), "sluice_sink_request_duration_seconds_count",
                                      pipeline="store", sink="sqlite") or 0) > 0)
            promtool_check(get(url + "/metrics")[2])
        finally:
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=90)
    stderr = err_path.read_text()
    assert code == 0, stderr
    assert not sanitizer_reports(stderr), stderr
    with pytest.raises(OSError):
        get(f"http://127.0.0.1:{port}/healthz", timeout=5)   # the listener ends with the run


def test_sluice_run_refuses_a_bad_metrics_address(sluice_asan, workdir):
    config = workdir / "run.yaml"
    config.write_text("pipelines:\n  p:\n    source: { generator: { kind: sequence, count: 10 } }\n"
                      "    sink: { file: { path: out.jsonl } }\n")
    result = subprocess.run([sluice_asan.binary, "run", str(config), "--metrics-listen", "not-an-address"],
                            cwd=workdir, env=sluice_asan.env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "--metrics-listen" in result.stderr and "not-an-address" in result.stderr, result.stderr
    assert not (workdir / "out.jsonl").exists()
    assert not sanitizer_reports(result.stderr)


@pytest.fixture
def prometheus():
    """Starts a Prometheus server by tests/servers/prometheus.sh for a target given later; stops it after."""
    port = free_port()
    env = dict(os.environ, PROMETHEUS_PORT=str(port), PROMETHEUS_SCRAPE_INTERVAL="1s")
    started = []

    def start(target):
        result = subprocess.run(["bash", str(PROMETHEUS_SH), "start"], env=dict(env, PROMETHEUS_TARGET=target),
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"prometheus.sh start failed:\n{result.stdout}\n{result.stderr}"
        started.append(True)
        return f"http://127.0.0.1:{port}"
    yield start
    if started:
        result = subprocess.run(["bash", str(PROMETHEUS_SH), "stop"], env=env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr


def test_a_real_prometheus_scrapes_sluice_and_answers_promql(server, prometheus):
    target = urllib.parse.urlsplit(server.url).netloc
    url = prometheus(target)

    def query():
        status, _, text = get(url + "/api/v1/query?query=" +
                              urllib.parse.quote('sluice_pipeline_records_in_total{pipeline="feed"}'))
        assert status == 200, text
        answer = json.loads(text)
        assert answer["status"] == "success", answer
        results = answer["data"]["result"]
        return results if results and float(results[0]["value"][1]) > 0 else None
    results = wait_until("Prometheus answering sluice_pipeline_records_in_total > 0", query, timeout=90)
    assert results[0]["metric"]["job"] == "sluice"
    assert results[0]["metric"]["instance"] == target

    def target_up():
        status, _, text = get(url + "/api/v1/targets")
        active = json.loads(text)["data"]["activeTargets"]
        return active if active and active[0]["health"] == "up" else None
    active = wait_until("the sluice target healthy in Prometheus", target_up)
    assert active[0]["lastError"] == ""


def test_kafka_sink_latency_and_kafka_source_partitions(sluice_asan, workdir, kafka_broker):  # noqa: F811
    """A generator into a Kafka topic of 3 partitions and a kafka source reading it back, under `sluice
    server`: the kafka sink's writes timed (delivery reports), the source's partitions with positions and
    high watermarks, checked against the broker's own end offsets (confluent_kafka)."""
    from kafka_server import create_topic, end_offsets

    create_topic(kafka_broker, "metrics_km", 3)
    config = f"""\
pipelines:
  produce:
    source: {{ generator: {{ kind: sequence, count: 0, rate: 300 }} }}
    sink:   {{ kafka: {{ brokers: "{kafka_broker.bootstrap}", topic: metrics_km, key: id }} }}
  consume:
    source: {{ kafka: {{ brokers: "{kafka_broker.bootstrap}", topic: metrics_km, group: metrics_kg }} }}
    sink:   {{ file: {{ path: {workdir / 'k.jsonl'} }} }}
    commit_interval: 200ms
http: {{ listen: "127.0.0.1:0" }}
"""
    server = Server(sluice_asan, workdir, config).wait_started()
    try:
        def three_partitions_read(pipelines):
            parts = pipelines["consume"]["partitions"]
            return len(parts) == 3 and all(p["end_offset"] and p["position"] for p in parts)
        consume = server.wait_for("the kafka source's 3 partitions read", three_partitions_read, timeout=120)
        parts = consume["consume"]["partitions"]
        assert {p["topic"] for p in parts} == {"metrics_km"}
        assert sorted(p["partition"] for p in parts) == [0, 1, 2]
        broker_ends = end_offsets(kafka_broker, "metrics_km")
        for p in parts:
            assert p["position"] <= p["end_offset"] <= broker_ends[p["partition"]], (p, broker_ends)
            assert p["lag"] == p["end_offset"] - p["position"]

        def kafka_writes_timed():
            found = samples(scrape(server))
            count = value(found, "sluice_sink_request_duration_seconds_count", pipeline="produce", sink="kafka")
            return found if count and value(found, "sluice_source_partition_committed_offset", pipeline="consume",
                                            topic="metrics_km", partition="0") is not None else None
        found = wait_until("the kafka sink's writes timed and the source's commits seen", kafka_writes_timed,
                           timeout=120)
        for partition in ("0", "1", "2"):
            assert value(found, "sluice_source_partition_end_offset", pipeline="consume", topic="metrics_km",
                         partition=partition) is not None
        assert value(found, "sluice_pipeline_lag_records", pipeline="consume") is not None
        promtool_check(scrape(server))
    finally:
        assert server.stop() == 0, server.stderr()
