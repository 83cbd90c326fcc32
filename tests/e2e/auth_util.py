"""auth_util.py — a `sluice server` (the ASan build) for the access-control
and hardening suites: started with its own environment (the tokens),
found through data/server.json, asked with requests (an independent
client), stopped with SIGTERM and checked for sanitizer reports."""
import json
import re
import signal
import subprocess
import time

import requests

from e2e_util import sanitizer_reports

VIEWER = "viewer-token-aaaaaaaaaaaaaaaa"
OPERATOR = "operator-token-bbbbbbbbbbbbbbbb"
ADMIN = "admin-token-cccccccccccccccc"
TOKENS = {"viewer": VIEWER, "operator": OPERATOR, "admin": ADMIN}

AUTH_BLOCK = """\
auth:
  tokens:
    - { name: watcher, token: "${SLUICE_VIEWER_TOKEN}", role: viewer }
    - { name: ops, token: "${SLUICE_OPERATOR_TOKEN}", role: operator }
    - { name: root, token: "${SLUICE_ADMIN_TOKEN}", role: admin }
"""

FEED = """\
pipelines:
  feed:
    source: { generator: { kind: sequence, count: 0, rate: 50 } }
    sink:   { topic: { name: events } }
"""


def token_env(env):
    env = dict(env)
    env.update(SLUICE_VIEWER_TOKEN=VIEWER, SLUICE_OPERATOR_TOKEN=OPERATOR, SLUICE_ADMIN_TOKEN=ADMIN)
    return env


class AuthServer:
    def __init__(self, sluice, workdir, config, env=None, args=(), verify=None):
        self.workdir = workdir
        self.config = workdir / "server.yaml"
        self.config.write_text(config)
        self.err_path = workdir / "server.err"
        self.err = open(self.err_path, "w")
        self.out = open(workdir / "server.out", "w")
        self.proc = subprocess.Popen([sluice.binary, "server", str(self.config), *args], cwd=workdir,
                                     env=token_env(env or sluice.env), stdout=self.out, stderr=self.err)
        self.url = None
        self.verify = verify
        self.session = requests.Session()

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

    def call(self, method, path, token=None, session=None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return (session or requests).request(method, self.url + path, headers=headers, timeout=60,
                                             verify=self.verify if self.verify is not None else True, **kwargs)

    def stderr(self):
        if not self.err.closed:
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
        return code


def route_table(sluice_binary):
    """(method, pattern, role) of every route, as `sluice server --help` prints the table."""
    out = subprocess.run([sluice_binary, "server", "--help"], capture_output=True, text=True, timeout=60).stdout
    routes = []
    for line in out.splitlines():
        match = re.match(r"^  (GET|POST|PUT|DELETE|PATCH)\s+(/\S*)\s+(public|viewer|operator|admin)\s", line)
        if match:
            routes.append(match.groups())
    assert len(routes) >= 20, out
    return routes


def concrete(pattern):
    """A path for pattern, each {capture} an unknown name."""
    return re.sub(r"\{[^}]+\}", "no-such-thing", pattern)
