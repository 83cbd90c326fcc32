"""ui_bench.py — (j) of bench.py: the memory of `sluice server` running the
demo's pipelines with the web UI open in a real Chromium, and metrics on.

The server (build/sluice) runs the seed's shape (users generated into a
topic, the seed's SQL into SQLite, a topic with dead letters, a DAG, an
alert rule) with Prometheus-format metrics served. Its resident memory
(VmRSS from /proc) is sampled every 200 ms: first for BENCH_UI_SECONDS with
nobody looking (the reference, measured in the same run), then for as long
again with the UI open in Debian's chromium through
tests/e2e/ui/run.mjs's `soak` scenario, which goes round every section of
the UI while /metrics is scraped every second. Prints both maxima, their
difference, and the aim (under 60 MB with UI and metrics on; Confluent
Control Center asks for 8 GB, a fixed figure for context only).
Asserts nothing.
"""
import json
import os
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "ui"
SECONDS = int(os.environ.get("BENCH_UI_SECONDS", "30"))
AIM_MB = 60
CONTROL_CENTER_MB = 8 * 1024

CONFIG = """\
pipelines:
  ingest_users:
    source: { generator: { kind: users, count: 0, rate: 200, seed: 42 } }
    sink:   { topic: { name: user_data, partitions: 4, key: login.uuid } }
  store_users:
    source: { topic: { name: user_data, group: store_users } }
    transform:
      sql: |
        SELECT uuid(login.uuid) AS id, name.first AS first_name, name.last AS last_name,
               location.city AS city, email
        FROM input
    sink:   { sqlite: { path: data/users.db, table: created_users, key: [id] } }
  check_users:
    source: { topic: { name: user_data, group: check_users } }
    transform: { sql: "SELECT CAST(name.first AS BIGINT) AS n FROM input" }
    sink:   { file: { path: checked.jsonl } }
dags:
  report:
    schedule: { every: 10s }
    tasks:
      count: { command: [echo, counted] }
alerts:
  interval: 1s
  rules:
    - { name: users_flowing, rate: sluice_pipeline_records_in_total, pipeline: ingest_users, above: 1, window: 10s }
http: { listen: "127.0.0.1:0" }
"""


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def sample(pid, seconds, scrape_url=None):
    """Max and last RSS over seconds; scrapes /metrics every second when asked."""
    peak, end, next_scrape = 0.0, time.monotonic() + seconds, 0.0
    while time.monotonic() < end:
        peak = max(peak, rss_mb(pid))
        if scrape_url and time.monotonic() >= next_scrape:
            with urllib.request.urlopen(scrape_url, timeout=30) as answer:
                answer.read()
            next_scrape = time.monotonic() + 1
        time.sleep(0.2)
    return peak, rss_mb(pid)


def main():
    sluice = REPO / "build" / "sluice"
    node_dir = REPO / "tests" / "e2e" / "ui"
    if not sluice.exists() or not (node_dir / "node_modules").is_dir() or not Path("/usr/bin/chromium").exists():
        print("    needs build/sluice, Debian's chromium and tests/e2e/ui/node_modules (`make test` installs them)")
        return 1
    subprocess.run(["rm", "-rf", str(OUT)], check=True)
    OUT.mkdir(parents=True)
    (OUT / "server.yaml").write_text(CONFIG)
    err = open(OUT / "server.err", "w")
    server = subprocess.Popen([str(sluice), "server", "server.yaml"], cwd=OUT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        info = OUT / "data" / "server.json"
        deadline = time.monotonic() + 60
        while not info.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {(OUT / 'server.err').read_text()[-600:]}")
            time.sleep(0.1)
        url = json.loads(info.read_text())["url"]
        time.sleep(5)   # the pipelines and their first batches settle
        alone_peak, alone_last = sample(server.pid, SECONDS, scrape_url=url + "/metrics")
        ui_result = {}

        def open_ui():
            run = subprocess.run(["node", "run.mjs", "soak", url, str(OUT / "shots"),
                                  json.dumps({"seconds": SECONDS})], cwd=node_dir, capture_output=True,
                                 text=True, timeout=SECONDS + 120)
            ui_result["rc"], ui_result["out"], ui_result["err"] = run.returncode, run.stdout, run.stderr

        browser = threading.Thread(target=open_ui)
        browser.start()
        ui_peak, ui_last = sample(server.pid, SECONDS + 5, scrape_url=url + "/metrics")
        browser.join()
        if ui_result.get("rc") != 0:
            raise RuntimeError(f"the UI soak failed: {ui_result.get('err', '')[-600:]}")
        pages = json.loads(ui_result["out"].strip().splitlines()[-1]).get("pages")
        print(f"    server RSS, metrics scraped every 1 s, no UI open   : max {alone_peak:5.1f} MB "
              f"(last {alone_last:.1f} MB) over {SECONDS} s")
        print(f"    server RSS, with the UI open in Chromium ({pages} pages): max {ui_peak:5.1f} MB "
              f"(last {ui_last:.1f} MB), {ui_peak - alone_peak:+.1f} MB for the UI")
        verdict = "met" if ui_peak < AIM_MB else "NOT met"
        print(f"    aim: under {AIM_MB} MB with UI and metrics on: {verdict}; "
              f"Control Center asks for {CONTROL_CENTER_MB:,} MB ({CONTROL_CENTER_MB / ui_peak:,.0f}x)")
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        err.close()


if __name__ == "__main__":
    raise SystemExit(main())
