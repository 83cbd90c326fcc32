"""api_server.py — a `sluice server` (the ASan build) for the API suites
(test_api_topics.py, test_api_groups.py): started on a config written to the
test's working directory, with its output in files so a long log never
blocks it, asked with urllib (an independent HTTP client), and stopped with
SIGTERM, checking that it exits 0 with no sanitizer report. Every answer
is checked against docs/openapi.yaml with tests/e2e/openapi_check.py (its
status declared for the route, its body of the route's schema) where that
checker is in the tree.
"""
import json
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from e2e_util import sanitizer_reports

try:
    from openapi_check import check as openapi_check
except ImportError:   # the spec and its checker come with the API's other parts
    openapi_check = None


class Server:
    def __init__(self, sluice, workdir, config):
        self.workdir = workdir
        self.config = workdir / "server.yaml"
        self.config.write_text(config)
        self.err_path = workdir / "server.err"
        self.out = open(workdir / "server.out", "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([sluice.binary, "server", str(self.config)], cwd=workdir, env=sluice.env,
                                     stdout=self.out, stderr=self.err)
        self.url = None

    def wait_started(self, timeout=60):
        info = self.workdir / "data" / "server.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server exited {self.proc.returncode}:\n{self.stderr()}"
            if info.exists():
                try:
                    self.url = json.loads(info.read_text())["url"]
                    return self
                except (ValueError, KeyError):
                    pass
            time.sleep(0.05)
        raise AssertionError(f"no data/server.json within {timeout}s:\n{self.stderr()}")

    def request(self, method, path, body=None, params=None):
        """(status, parsed JSON answer); body is sent as JSON unless it is bytes."""
        if params:
            path += "?" + urllib.parse.urlencode(params)
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, method=method, data=data)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, answer = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, answer = error.code, json.loads(error.read())
        if openapi_check and status != 413:   # 413 is the HTTP layer's, for any route
            openapi_check(method, path, status, answer)
        return status, answer

    def get(self, path, **params):
        status, body = self.request("GET", path, params=params or None)
        assert status == 200, f"GET {path} {params}: {status} {body}"
        return body

    def wait_for(self, what, probe, timeout=90):
        """Polls probe() until it returns something true; returns that."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.1)
        raise AssertionError(f"{what} not within {timeout}s (last: {last!r})\n{self.stderr()[-4000:]}")

    def stderr(self):
        self.err.flush()
        return self.err_path.read_text()

    def stop(self, timeout=90):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"the server did not stop within {timeout}s:\n{self.stderr()}") from None
        self.out.close()
        self.err.close()
        reports = sanitizer_reports(self.err_path.read_text())
        assert not reports, reports
        assert code == 0, self.err_path.read_text()[-4000:]


@pytest.fixture
def api_server(sluice_asan, workdir):
    """start(config) -> a running Server; killed at the end if the test did not stop it."""
    started = []

    def start(config):
        server = Server(sluice_asan, workdir, config)
        started.append(server)
        return server.wait_started()

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


def page_through(server, path, key, limit, **params):
    """Every item of a paged list, following next_cursor to the end."""
    items, cursor, pages = [], None, 0
    while True:
        query = dict(params, limit=limit)
        if cursor:
            query["cursor"] = cursor
        body = server.get(path, **query)
        assert len(body[key]) <= limit, body
        items += body[key]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages
