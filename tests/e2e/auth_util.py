"""auth_util.py — a `sluice server` (the ASan build) for the access-control
and hardening suites: started with its own environment (the tokens),
found through data/server.json, asked with requests (an independent
client), stopped with SIGTERM and checked for sanitizer reports."""
import re
import subprocess

import requests

from server_process import ServerProcess

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


class AuthServer(ServerProcess):
    """A server started with the tokens in its environment, asked with requests."""

    def __init__(self, sluice, workdir, config, env=None, args=(), verify=None):
        super().__init__(sluice, workdir, config, *args, env=token_env(env or sluice.env))
        self.verify = verify
        self.session = requests.Session()
    def call(self, method, path, token=None, session=None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return (session or requests).request(method, self.url + path, headers=headers, timeout=60,
                                             verify=self.verify if self.verify is not None else True, **kwargs)


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
