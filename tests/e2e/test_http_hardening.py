"""test_http_hardening.py — hostile HTTP clients against `sluice server` (the
ASan build, so a memory error fails the test at stop): malformed JSON on
every POST route, bodies over 1 MiB (declared and chunked), headers over the
limit, unknown routes and methods, bad percent-encoding and NUL bytes in the
path, garbage request lines, and a crowd of slowloris clients trickling
headers while normal requests must still be answered and the server's
threads and file descriptors stay bounded. Each gets a 4xx or is dropped;
the server never crashes or stalls. Raw sockets and requests are the
clients."""
import os
import re
import socket
import time

import pytest
import requests

from auth_util import ADMIN, AUTH_BLOCK, AuthServer, route_table

CONFIG = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 0, rate: 50 } }
    sink:   { topic: { name: events } }
dags:
  d:
    tasks:
      t: { command: [ "true" ] }
http: { listen: "127.0.0.1:0" }
""" + AUTH_BLOCK

NAMES = {"name": "feed", "dag": "d", "run_id": "no-such-run", "task": "t", "topic": "events", "group": "g",
         "file": "index.html"}


@pytest.fixture
def server(sluice_asan, workdir):
    started = AuthServer(sluice_asan, workdir, CONFIG).wait_started()
    yield started
    assert started.stop() == 0, started.stderr()


def fill(pattern):
    return re.sub(r"\{([^}]+)\}", lambda m: NAMES.get(m.group(1), "x"), pattern)


def raw(server, data, read=True, timeout=60):
    """Sends data on a fresh connection; the answer's bytes (b"" when the server closed it)."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        if not read:
            return b""
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"Connection: close" not in data and len(answer) > 200:
                    break
        except (ConnectionResetError, socket.timeout):
            pass
        return answer


def healthy(server):
    answer = server.call("GET", "/api/v1/pipelines", token=ADMIN)
    return answer.status_code == 200 and answer.json()["pipelines"][0]["name"] == "feed"


def test_malformed_json_on_every_post_route_is_a_400(server, sluice_asan):
    posts = [pattern for method, pattern, role in route_table(sluice_asan.binary) if method == "POST"]
    assert "/api/v1/pipelines/{name}/stop" in posts and "/api/v1/tokens" in posts
    for pattern in posts:
        for body in (b'{"conf": ', b"\x00\xff garbage", b'["unterminated', b"{'single': 1}"):
            answer = server.call("POST", fill(pattern), token=ADMIN, data=body,
                                 headers={"Content-Type": "application/json"})
            assert answer.status_code == 400, (pattern, body, answer.text)
            assert "JSON" in answer.json()["error"], (pattern, answer.text)
    assert server.call("GET", "/api/v1/pipelines", token=ADMIN).json()["pipelines"][0]["state"] == "running"


def test_bodies_over_one_mebibyte_are_refused(server):
    big = b"[" + b"1," * (600 * 1024) + b"1]"
    declared = server.call("POST", "/api/v1/dags/d/runs", token=ADMIN, data=big)
    assert declared.status_code == 413 and "over 1048576 bytes" in declared.json()["error"]

    def chunks():
        for _ in range(20):
            yield b"x" * 65536 * 2

    chunked = server.call("POST", "/api/v1/dags/d/runs", token=ADMIN, data=chunks())
    assert chunked.status_code == 413
    huge = raw(server, b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n"
                       b"Connection: close\r\n\r\n{")
    assert huge.startswith(b"HTTP/1.1 413"), huge[:200]
    assert healthy(server)


def test_headers_over_the_limit_get_431_or_a_closed_connection(server):
    long_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (200 * 1024) + b"\r\nConnection: close\r\n\r\n"
    answer = raw(server, long_header)
    assert answer == b"" or answer.split(b"\r\n")[0].split(b" ")[1] in (b"431", b"413", b"400"), answer[:200]
    many = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(20000)) + \
        b"Connection: close\r\n\r\n"
    answer = raw(server, many)
    assert answer == b"" or answer.split(b"\r\n")[0].split(b" ")[1] in (b"431", b"413", b"400"), answer[:200]
    assert healthy(server)


def test_unknown_routes_methods_and_bad_paths_are_4xx(server):
    assert server.call("GET", "/api/v1/nothing-here", token=ADMIN).status_code == 404
    wrong = server.call("PUT", "/api/v1/pipelines", token=ADMIN)
    assert wrong.status_code == 405 and "GET" in wrong.headers["Allow"]
    assert server.call("DELETE", "/api/v1/reload", token=ADMIN).status_code == 405
    for path in ("/api/v1/pipelines%zz", "/api/v1/pipelines%", "/api/v1/pipelines%4", "/healthz%00",
                 "/api/v1/dags/d%00x", "/api/v1/dags?limit=%zz", "/api/v1/dags/%0a"):
        answer = raw(server, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     ADMIN.encode() + b"\r\nConnection: close\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400"), (path, answer[:300])
    for request in (b"GET /heal\x00thz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
                    b"NOT A REQUEST\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n"):
        answer = raw(server, request)
        assert answer == b"" or answer.split(b" ")[1][:1] == b"4", (request[:40], answer[:300])
    # An HTTP version it does not speak is the one 5xx that is right: 505.
    answer = raw(server, b"GET / HTTP/9.9\r\nConnection: close\r\n\r\n")
    assert answer == b"" or answer.startswith(b"HTTP/1.1 505"), answer[:300]
    assert healthy(server)


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def test_slow_clients_do_not_starve_normal_requests(server):
    port = int(server.url.rsplit(":", 1)[1])
    pid = server.proc.pid
    fds_before, threads_before = open_fds(pid), threads(pid)
    slow = []
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        s.sendall(b"GET /api/v1/pipelines HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
    try:
        for round_number in range(5):
            for s in slow:
                try:
                    s.sendall(b"X-Slow-%d: a\r\n" % round_number)
                except OSError:
                    pass   # the server may drop a slow client: allowed
            answer = server.call("GET", "/api/v1/pipelines", token=ADMIN)
            assert answer.status_code == 200
            assert requests.get(server.url + "/healthz", timeout=60).status_code == 200
            time.sleep(1)
        assert threads(pid) <= threads_before + 4, (threads_before, threads(pid))
    finally:
        for s in slow:
            s.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and open_fds(pid) > fds_before + 10:
        time.sleep(0.2)
    assert open_fds(pid) <= fds_before + 10, (fds_before, open_fds(pid))
    assert healthy(server)


def test_an_idle_connection_is_closed_by_the_server(server):
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")   # never finished
        started = time.monotonic()
        closed = s.recv(1024)
        assert closed == b"" or closed.startswith(b"HTTP/1.1 4"), closed
        assert time.monotonic() - started < 110
