"""test_auth.py — access control of `sluice server` (the ASan build), checked
with requests, Python's ssl and psycopg:
- every route of the table (read from `sluice server --help`) without a
  token, and with viewer, operator and admin tokens: exactly 401 (with
  WWW-Authenticate) / 403 naming the role needed and the token's / neither;
- UI sessions: login sets an HttpOnly SameSite=Strict cookie and answers a
  CSRF token, cookie requests that change something need X-CSRF-Token,
  logout ends the session;
- tokens made and revoked through the API, kept as salted hashes in the
  metadata store (SQLite and PostgreSQL), never as themselves;
- token_hash from `sluice auth hash-token`;
- without auth: every route open, loopback only (validate names http.listen);
- TLS with a self-signed certificate made by the openssl CLI; mismatched
  files are a config error naming the file;
- secrets (sasl.password, a postgres URL's password, tokens) appear in no
  log line, server.json or API answer;
- examples/server-auth.yaml runs.
"""
import json
import socket
import sqlite3
import ssl
import subprocess
import time
import uuid

import pytest
import requests

from auth_util import ADMIN, AUTH_BLOCK, FEED, OPERATOR, TOKENS, VIEWER, AuthServer, concrete, route_table
from e2e_util import REPO
from postgres_server import connect, postgres_server  # noqa: F401

RANK = {"public": 0, "viewer": 1, "operator": 2, "admin": 3}
NAMES = {"viewer": "watcher", "operator": "ops", "admin": "root"}
LISTEN = 'http: { listen: "127.0.0.1:0" }\n'


@pytest.fixture
def start(sluice_asan, workdir):
    started = []

    def run(config, **kwargs):
        server = AuthServer(sluice_asan, workdir, config, **kwargs)
        started.append(server)
        return server.wait_started()

    yield run
    for server in started:
        if server.proc.poll() is None:
            assert server.stop() == 0


def test_every_route_answers_by_its_role(start, sluice_asan):
    server = start(FEED + LISTEN + AUTH_BLOCK)
    routes = route_table(sluice_asan.binary)
    assert ("POST", "/api/v1/reload", "admin") in routes
    assert ("GET", "/healthz", "public") in routes and ("GET", "/readyz", "public") in routes
    for method, pattern, role in routes:
        path = concrete(pattern)
        anonymous = server.call(method, path)
        if role == "public":
            assert anonymous.status_code not in (401, 403), (method, path, anonymous.text)
        else:
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="sluice"'
            assert "error" in anonymous.json()
        for holder, token in TOKENS.items():
            answer = server.call(method, path, token=token)
            if RANK[holder] < RANK[role]:
                assert answer.status_code == 403, (method, path, holder, answer.text)
                assert answer.json()["error"].endswith(f"needs the {role} role; token {NAMES[holder]} is {holder}")
            else:
                assert answer.status_code not in (401, 403), (method, path, holder, answer.text)
    wrong = server.call("GET", "/api/v1/pipelines", token="not-a-token-of-this-server")
    assert wrong.status_code == 401 and wrong.json()["error"] == "unknown token"
    basic = server.call("GET", "/api/v1/pipelines", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert basic.status_code == 401
    assert server.call("GET", "/api/v1/whoami", token=OPERATOR).json() == {"name": "ops", "role": "operator"}


def test_sessions_need_the_csrf_token_for_changes_and_end_at_logout(start):
    server = start(FEED + LISTEN + AUTH_BLOCK)
    browser = requests.Session()
    assert server.call("POST", "/api/v1/login", json={"token": "wrong-token-xxxxxxxxxxxx"},
                       session=browser).status_code == 401
    assert server.call("POST", "/api/v1/login", data="{not json", session=browser).status_code == 400
    login = server.call("POST", "/api/v1/login", json={"token": OPERATOR}, session=browser)
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["name"] == "ops" and body["role"] == "operator" and len(body["csrf_token"]) >= 32
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie and "Secure" not in cookie
    assert OPERATOR not in cookie
    assert server.call("GET", "/api/v1/whoami", session=browser).json() == {"name": "ops", "role": "operator"}
    assert server.call("GET", "/api/v1/pipelines", session=browser).status_code == 200
    no_csrf = server.call("POST", "/api/v1/pipelines/feed/restart", session=browser)
    assert no_csrf.status_code == 403 and "X-CSRF-Token" in no_csrf.json()["error"]
    bad_csrf = server.call("POST", "/api/v1/pipelines/feed/restart", session=browser,
                           headers={"X-CSRF-Token": "0" * 64})
    assert bad_csrf.status_code == 403
    ok = server.call("POST", "/api/v1/pipelines/feed/restart", session=browser,
                     headers={"X-CSRF-Token": body["csrf_token"]})
    assert ok.status_code == 200, ok.text
    feed = server.call("GET", "/api/v1/pipelines", session=browser).json()["pipelines"][0]
    assert feed["restart_history"][-1]["reason"].endswith("by token ops"), feed
    admin_only = server.call("POST", "/api/v1/reload", session=browser, headers={"X-CSRF-Token": body["csrf_token"]})
    assert admin_only.status_code == 403 and "needs the admin role; token ops is operator" in admin_only.json()["error"]
    out = server.call("POST", "/api/v1/logout", session=browser, headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 200
    assert server.call("GET", "/api/v1/whoami", session=browser).status_code == 401
    # An old cookie sent again after logout is dead too.
    stale = requests.get(server.url + "/api/v1/whoami", cookies={"sluice_session": cookie.split(";")[0].split("=")[1]},
                         timeout=60)
    assert stale.status_code == 401


def check_tokens_api(server, stored_hashes):
    assert server.call("POST", "/api/v1/tokens", token=OPERATOR, json={"name": "bot", "role": "viewer"}).status_code == 403
    made = server.call("POST", "/api/v1/tokens", token=ADMIN, json={"name": "bot", "role": "operator"})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert made.json()["name"] == "bot" and made.json()["role"] == "operator" and len(token) >= 40
    assert server.call("POST", "/api/v1/tokens", token=ADMIN, json={"name": "bot", "role": "viewer"}).status_code == 409
    assert server.call("POST", "/api/v1/tokens", token=ADMIN, json={"name": "root", "role": "viewer"}).status_code == 409
    assert server.call("POST", "/api/v1/tokens", token=ADMIN, json={"name": "x y", "role": "viewer"}).status_code == 400
    assert server.call("POST", "/api/v1/tokens", token=ADMIN, json={"name": "z", "role": "king"}).status_code == 400
    assert server.call("POST", "/api/v1/tokens", token=ADMIN, json={"name": 5, "role": "viewer"}).status_code == 400
    assert server.call("GET", "/api/v1/whoami", token=token).json() == {"name": "bot", "role": "operator"}
    listed = server.call("GET", "/api/v1/tokens", token=ADMIN).json()["tokens"]
    bot = [t for t in listed if t["name"] == "bot"]
    assert len(bot) == 1 and bot[0]["role"] == "operator" and bot[0]["source"] == "store"
    assert bot[0]["created_at"].endswith("Z")
    assert {"name": "root", "role": "admin", "source": "file"} in listed
    # Paged on the server, by name.
    first = server.call("GET", "/api/v1/tokens?limit=1", token=ADMIN).json()
    assert len(first["tokens"]) == 1 and first["next_cursor"]
    rest = server.call("GET", "/api/v1/tokens?limit=1000&cursor=" + first["next_cursor"], token=ADMIN).json()
    assert [t["name"] for t in first["tokens"] + rest["tokens"]] == sorted(t["name"] for t in listed)
    assert rest["next_cursor"] is None
    assert server.call("GET", "/api/v1/tokens?limit=0", token=ADMIN).status_code == 400
    assert token not in json.dumps(listed)
    hashes = stored_hashes()
    assert list(hashes) == ["bot"] and token not in hashes["bot"][1] and "$" in hashes["bot"][1]
    assert hashes["bot"][0] == "operator"
    assert server.call("DELETE", "/api/v1/tokens/root", token=ADMIN).status_code == 409
    assert server.call("DELETE", "/api/v1/tokens/bot", token=ADMIN).status_code == 200
    assert server.call("DELETE", "/api/v1/tokens/bot", token=ADMIN).status_code == 404
    assert server.call("GET", "/api/v1/whoami", token=token).status_code == 401
    assert stored_hashes() == {}
    assert token not in server.stderr()


def test_tokens_made_through_the_api_are_stored_as_salted_hashes_in_sqlite(start, workdir):
    server = start(FEED + LISTEN + AUTH_BLOCK)

    def stored():
        with sqlite3.connect(workdir / "data" / "metadata.db") as db:
            return {name: (role, hashed) for name, role, hashed in
                    db.execute("SELECT name, role, token_hash FROM api_tokens")}

    check_tokens_api(server, stored)


def test_tokens_made_through_the_api_are_stored_as_salted_hashes_in_postgres(start, postgres_server):  # noqa: F811
    database = f"auth_{uuid.uuid4().hex[:12]}"
    with connect(postgres_server) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    server = start(FEED + LISTEN + AUTH_BLOCK + f"metadata: {postgres_server.url(database)}\n")

    def stored():
        with connect(postgres_server, database) as conn:
            return {name: (role, hashed) for name, role, hashed in
                    conn.execute("SELECT name, role, token_hash FROM api_tokens").fetchall()}

    check_tokens_api(server, stored)


def test_a_token_hash_from_the_cli_works_and_bad_ones_are_refused(start, sluice_asan, workdir):
    made = subprocess.run([sluice_asan.binary, "auth", "hash-token"], input=ADMIN + "\n", capture_output=True,
                          text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    hashed = made.stdout.strip()
    assert ADMIN not in hashed and len(hashed.split("$")) == 2
    short = subprocess.run([sluice_asan.binary, "auth", "hash-token"], input="short\n", capture_output=True,
                           text=True, timeout=60)
    assert short.returncode == 2 and "shorter than 16" in short.stderr
    bad = workdir / "bad.yaml"
    bad.write_text(FEED + LISTEN + 'auth: { tokens: [ { name: a, token_hash: "nothex$00", role: admin },'
                   ' { name: b, role: viewer }, { name: c, token: "${SLUICE_ADMIN_TOKEN}", role: king } ] }\n')
    checked = subprocess.run([sluice_asan.binary, "validate", str(bad)], capture_output=True, text=True, timeout=60,
                             env=dict(sluice_asan.env, SLUICE_ADMIN_TOKEN=ADMIN))
    assert checked.returncode == 2
    assert "auth.tokens[0].token_hash" in checked.stderr and "auth.tokens[1]: give either token or token_hash" in checked.stderr
    assert "king" in checked.stderr and ADMIN not in checked.stderr
    server = start(FEED + LISTEN + f'auth: {{ tokens: [ {{ name: root, token_hash: "{hashed}", role: admin }} ] }}\n')
    assert server.call("GET", "/api/v1/whoami", token=ADMIN).json() == {"name": "root", "role": "admin"}
    assert server.call("GET", "/api/v1/whoami", token=VIEWER).status_code == 401


def test_without_auth_every_route_is_open_on_loopback_only(start, sluice_asan, workdir):
    open_file = workdir / "open.yaml"
    open_file.write_text(FEED + 'http: { listen: "0.0.0.0:0" }\n')
    checked = subprocess.run([sluice_asan.binary, "validate", str(open_file)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 2 and "http.listen 0.0.0.0:0" in checked.stderr and "loopback" in checked.stderr
    wide = subprocess.run([sluice_asan.binary, "server", str(workdir / "open.yaml"), "--listen", "0.0.0.0:0"],
                          capture_output=True, text=True, timeout=60, cwd=workdir)
    assert wide.returncode == 2 and "http.listen 0.0.0.0:0" in wide.stderr, wide.stderr
    (workdir / "open.yaml").write_text(FEED + LISTEN)
    wide = subprocess.run([sluice_asan.binary, "server", str(workdir / "open.yaml"), "--listen", "0.0.0.0:0"],
                          capture_output=True, text=True, timeout=60, cwd=workdir)
    assert wide.returncode == 2 and "--listen 0.0.0.0:0: without auth:" in wide.stderr, wide.stderr
    server = start(FEED + LISTEN)
    assert "no auth: configured; serving on 127.0.0.1 only" in server.stderr()
    assert server.call("GET", "/api/v1/whoami").json() == {"name": None, "role": "admin", "auth": False}
    assert server.call("GET", "/api/v1/config").status_code == 200
    assert server.call("POST", "/api/v1/tokens", json={"name": "bot", "role": "viewer"}).status_code == 409


def make_certificate(workdir, name="localhost"):
    cert, key = workdir / f"{name}.crt", workdir / f"{name}.key"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                           "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return cert, key


def test_tls_serves_https_with_the_given_certificate(start, sluice_asan, workdir):
    cert, key = make_certificate(workdir)
    _, other_key = make_certificate(workdir, "other")
    mismatched = workdir / "mismatch.yaml"
    mismatched.write_text(FEED + f'http: {{ listen: "127.0.0.1:0", tls: {{ cert: {cert}, key: {other_key} }} }}\n'
                          + AUTH_BLOCK)
    checked = subprocess.run([sluice_asan.binary, "validate", str(mismatched)], capture_output=True, text=True,
                             timeout=60, env=dict(sluice_asan.env, SLUICE_VIEWER_TOKEN=VIEWER,
                                                  SLUICE_OPERATOR_TOKEN=OPERATOR, SLUICE_ADMIN_TOKEN=ADMIN))
    assert checked.returncode == 2 and f"http.tls.key {other_key}: not the key of the certificate" in checked.stderr
    missing = workdir / "missing.yaml"
    missing.write_text(FEED + f'http: {{ listen: "127.0.0.1:0", tls: {{ cert: {workdir}/nope.crt, key: {key} }} }}\n')
    checked = subprocess.run([sluice_asan.binary, "validate", str(missing)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 2 and f"http.tls.cert {workdir}/nope.crt" in checked.stderr

    server = start(FEED + f'http: {{ listen: "127.0.0.1:0", tls: {{ cert: {cert}, key: {key} }} }}\n' + AUTH_BLOCK,
                   verify=str(cert))
    assert server.url.startswith("https://127.0.0.1:")
    port = int(server.url.rsplit(":", 1)[1])
    context = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b'"status":"ok"' in answer
    assert server.call("GET", "/api/v1/whoami", token=VIEWER).json() == {"name": "watcher", "role": "viewer"}
    login = server.call("POST", "/api/v1/login", json={"token": VIEWER})
    assert "Secure" in login.headers["Set-Cookie"]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(server.url + "/healthz", timeout=60)   # not trusted without the certificate
    plain = requests.Session()
    with pytest.raises(requests.exceptions.ConnectionError):
        plain.get(f"http://127.0.0.1:{port}/healthz", timeout=60)
    assert server.call("GET", "/healthz").status_code == 200   # the port survived the plain client


def test_secrets_appear_in_no_log_line_file_or_answer(start, workdir, sluice_asan):
    sasl_secret = "sasl-secret-value-Zq81"
    pg_secret = "pg-secret-value-Yw42"
    config = (
        "pipelines:\n"
        "  feed:\n"
        "    source: { generator: { kind: sequence, count: 0, rate: 50 } }\n"
        "    sink:   { topic: { name: events } }\n"
        "  to_kafka:\n"
        "    source: { topic: { name: events, group: k } }\n"
        "    sink:\n"
        "      kafka:\n"
        "        brokers: 127.0.0.1:1\n"
        "        topic: out\n"
        f"        properties: {{ security.protocol: SASL_PLAINTEXT, sasl.mechanism: PLAIN, sasl.username: u,"
        f" sasl.password: \"{sasl_secret}\" }}\n"
        "dags:\n"
        "  nightly:\n"
        "    tasks:\n"
        "      report:\n"
        "        sql:\n"
        f"          database: postgres://u:{pg_secret}@127.0.0.1:1/db\n"
        "          statement: SELECT 1\n"
        "log: { level: debug }\n"
        + LISTEN + AUTH_BLOCK)
    server = start(config)
    answers = []
    for method, pattern, role in route_table(sluice_asan.binary):
        if method == "GET":
            answers.append(server.call(method, concrete(pattern), token=ADMIN).text)
    answers.append(server.call("GET", "/api/v1/dags/nightly", token=ADMIN).text)
    trigger = server.call("POST", "/api/v1/dags/nightly/runs", token=ADMIN, json={})
    answers.append(trigger.text)
    config_answer = server.call("GET", "/api/v1/config", token=ADMIN)
    assert config_answer.status_code == 200
    shown = config_answer.json()
    props = shown["pipelines"]["to_kafka"]["sink"]["kafka"]["properties"]
    assert props["sasl.password"] == "***" and props["sasl.username"] == "u"
    assert shown["dags"]["nightly"]["tasks"]["report"]["sql"]["database"] == "postgres://u:***@127.0.0.1:1/db"
    assert shown["auth"]["tokens"][0] == {"name": "watcher", "token": "***", "role": "viewer"}
    answers.append(config_answer.text)
    answers.append(server.call("POST", "/api/v1/reload", token=ADMIN).text)
    # Let the failing pieces log: the task's database refuses, the Kafka sink cannot connect.
    deadline = time.monotonic() + 90
    runs = []
    while time.monotonic() < deadline:
        runs = server.call("GET", "/api/v1/dags/nightly/runs", token=ADMIN).json()["dag_runs"]
        if runs and runs[0]["state"] == "failed" and "to_kafka" in server.stderr():
            break
        time.sleep(0.5)
    assert runs and runs[0]["state"] == "failed", runs
    run_id = runs[0]["run_id"]
    answers.append(server.call("GET", f"/api/v1/dags/nightly/runs/{run_id}", token=ADMIN).text)
    log = server.call("GET", f"/api/v1/dags/nightly/runs/{run_id}/tasks/report/log", token=ADMIN)
    assert log.status_code == 200, log.text
    answers.append(log.text)
    assert server.stop() == 0
    texts = answers + [server.stderr(), (workdir / "server.out").read_text()]
    for path in (workdir / "data").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".log", ".txt"):
            texts.append(path.read_text(errors="replace"))
    for secret in (sasl_secret, pg_secret, VIEWER, OPERATOR, ADMIN):
        for text in texts:
            assert secret not in text, (secret, text[:2000])


def test_the_auth_example_runs_with_three_tokens(sluice_asan, workdir):
    config = (REPO / "examples" / "server-auth.yaml").read_text().replace("127.0.0.1:8080", "127.0.0.1:0")
    server = AuthServer(sluice_asan, workdir, config)
    try:
        server.wait_started()
        assert server.call("GET", "/api/v1/whoami", token=VIEWER).json()["role"] == "viewer"
        assert server.call("GET", "/api/v1/pipelines", token=VIEWER).status_code == 200
        assert server.call("POST", "/api/v1/dags/user_automation/pause", token=VIEWER).status_code == 403
        assert server.call("POST", "/api/v1/dags/user_automation/pause", token=OPERATOR).status_code == 200
        assert server.call("POST", "/api/v1/reload", token=OPERATOR).status_code == 403
        assert server.call("POST", "/api/v1/reload", token=ADMIN).status_code == 200
        assert server.call("GET", "/api/v1/pipelines").status_code == 401
    finally:
        assert server.stop() == 0


def test_the_dag_cli_sends_the_token_of_sluice_token(start, sluice_asan, workdir):
    server = start(FEED + "dags:\n  d:\n    tasks:\n      t: { command: [ \"true\" ] }\n" + LISTEN + AUTH_BLOCK)
    env = dict(sluice_asan.env)
    env.pop("SLUICE_TOKEN", None)
    refused = subprocess.run([sluice_asan.binary, "dag", "list", "--server", server.url], capture_output=True,
                             text=True, timeout=60, env=env, cwd=workdir)
    assert refused.returncode == 1 and "set SLUICE_TOKEN" in refused.stderr, refused
    listed = subprocess.run([sluice_asan.binary, "dag", "list", "--server", server.url, "--json"],
                            capture_output=True, text=True, timeout=60, env=dict(env, SLUICE_TOKEN=VIEWER),
                            cwd=workdir)
    assert listed.returncode == 0, listed.stderr
    assert [d["dag_id"] for d in json.loads(listed.stdout)["dags"]] == ["d"]
    paused = subprocess.run([sluice_asan.binary, "dag", "pause", "d", "--server", server.url], capture_output=True,
                            text=True, timeout=60, env=dict(env, SLUICE_TOKEN=VIEWER), cwd=workdir)
    assert paused.returncode == 1 and "needs the operator role" in paused.stderr, paused


def test_a_reload_that_drops_auth_off_loopback_is_refused(start, workdir):
    server = start(FEED + LISTEN + AUTH_BLOCK, args=("--listen", "0.0.0.0:0"))
    assert server.call("GET", "/api/v1/pipelines").status_code == 401
    server.config.write_text(FEED + LISTEN)
    refused = server.call("POST", "/api/v1/reload", token=ADMIN)
    assert refused.status_code == 400 and "no auth:" in refused.json()["error"], refused.text
    assert server.call("GET", "/api/v1/pipelines").status_code == 401   # the old config runs on
    assert server.stop() == 0


def test_wrong_tokens_in_a_flood_do_not_stop_valid_ones(start):
    import threading
    server = start(FEED + LISTEN + AUTH_BLOCK)
    stop = threading.Event()
    refused = []

    def flood():
        n = 0
        while not stop.is_set():
            answer = server.call("GET", "/api/v1/pipelines", token=f"wrong-token-{n}-xxxxxxxxxxxx")
            refused.append(answer.status_code)
            n += 1

    threads = [threading.Thread(target=flood) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(50):
            assert server.call("GET", "/api/v1/whoami", token=VIEWER).json()["name"] == "watcher"
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert refused and set(refused) == {401}


def test_servers_sharing_a_postgres_store_share_its_tokens(sluice_asan, workdir, postgres_server):  # noqa: F811
    database = f"auth_{uuid.uuid4().hex[:12]}"
    with connect(postgres_server) as conn:
        conn.execute(f"CREATE DATABASE {database}")
    config = FEED + LISTEN + AUTH_BLOCK + f"metadata: {postgres_server.url(database)}\n"
    servers = []
    try:
        for name in ("a", "b"):
            (workdir / name).mkdir()
            servers.append(AuthServer(sluice_asan, workdir / name, config).wait_started())
        first, second = servers
        made = first.call("POST", "/api/v1/tokens", token=ADMIN, json={"name": "shared", "role": "viewer"})
        assert made.status_code == 201, made.text
        token = made.json()["token"]
        # The other server reads the store again on a token it does not know (at most every 2 s).
        deadline = time.monotonic() + 60
        while second.call("GET", "/api/v1/whoami", token=token).status_code != 200:
            assert time.monotonic() < deadline, "the second server never saw the token"
            time.sleep(0.5)
        assert second.call("GET", "/api/v1/whoami", token=token).json() == {"name": "shared", "role": "viewer"}
        assert first.call("GET", "/api/v1/whoami", token=token).status_code == 200
        # Revoked on the second, the first stops taking it too (once it reads the store again).
        assert second.call("DELETE", "/api/v1/tokens/shared", token=ADMIN).status_code == 200
        assert second.call("GET", "/api/v1/whoami", token=token).status_code == 401
        deadline = time.monotonic() + 60
        while first.call("GET", "/api/v1/whoami", token=token).status_code != 401:
            assert time.monotonic() < deadline, "the first server kept taking the revoked token"
            time.sleep(0.5)
    finally:
        for server in servers:
            assert server.stop() == 0
