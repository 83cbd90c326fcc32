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
import urllib.error
import urllib.parse
import urllib.request

import pytest

from server_process import ServerProcess

try:
    from openapi_check import check as openapi_check
except ImportError:   # the spec and its checker come with the API's other parts
    openapi_check = None


class Server(ServerProcess):
    """A server asked with urllib; every answer checked against docs/openapi.yaml."""
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
