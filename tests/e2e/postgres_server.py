"""postgres_server.py — a real PostgreSQL server for the end-to-end suites, and
the psycopg helper that checks what sluice wrote to it.

The server is started by the project's own script, tests/servers/postgres.sh
(Debian's postgresql package, one cluster under .cache/postgres/<port>,
listening on 127.0.0.1 only, user sluice / password sluice, database
sluice). The session fixture `postgres_server` picks a free loopback port,
starts the server once per test session and stops it at the end (stop removes
the cluster). The script returns only after a real login over TCP works. A
suite uses it with `from postgres_server import postgres_server  # noqa: F401`.
With SLUICE_TEST_POSTGRES_PORT=p the server on port p is used (started when
not running) and left running at the end, for quick reruns.

`connect(server, dbname=...)` opens a psycopg (libpq, but not sluice's code)
connection in autocommit mode, to read back what sluice stored.
"""
import os
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest

from e2e_util import REPO

POSTGRES_SH = REPO / "tests" / "servers" / "postgres.sh"
FIRST_PORT = 25432


@dataclass
class PostgresServer:
    port: int
    user: str = "sluice"
    password: str = "sluice"
    database: str = "sluice"

    def url(self, database=None, password=None):
        """The connection URL, for sluice's metadata store or psycopg."""
        return (f"postgres://{self.user}:{password if password is not None else self.password}"
                f"@127.0.0.1:{self.port}/{database or self.database}")

    @property
    def folder(self):
        """The server's folder (postgres.sh keeps data/, run/ and logs/ under .cache/postgres/<port>)."""
        return REPO / ".cache" / "postgres" / str(self.port)

    def env(self):
        env = dict(os.environ)
        env["PGPORT"] = str(self.port)
        return env

    def script(self, command, timeout=120):
        """Runs tests/servers/postgres.sh COMMAND for this server -> CompletedProcess."""
        return subprocess.run(["bash", str(POSTGRES_SH), command], env=self.env(), capture_output=True,
                              text=True, timeout=timeout)


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(first=FIRST_PORT, tries=100):
    """A free port p >= first on 127.0.0.1."""
    for port in range(first, first + tries):
        if port_free(port):
            return port
    raise RuntimeError(f"no free port in {first}..{first + tries}")


def start(server):
    """postgres.sh start for server; fails the test (after stopping it) when it does not come up."""
    started = time.monotonic()
    try:
        result = server.script("start", timeout=300)
    except subprocess.TimeoutExpired as e:
        server.script("stop")
        pytest.fail(f"tests/servers/postgres.sh start did not finish within 300s\n{e.stdout}\n{e.stderr}",
                    pytrace=False)
    if result.returncode != 0:
        server.script("stop")
        pytest.fail(f"tests/servers/postgres.sh start failed (exit {result.returncode}) after "
                    f"{time.monotonic() - started:.1f}s\n--- stdout ---\n{result.stdout}\n"
                    f"--- stderr ---\n{result.stderr[-6000:]}", pytrace=False)
    print(result.stdout.strip())
    return result


@pytest.fixture(scope="session")
def postgres_server():
    """A running server (PostgresServer) for the whole session, stopped at its end."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed in .venv (run scripts/deps.sh test)", pytrace=False)
    keep = os.environ.get("SLUICE_TEST_POSTGRES_PORT")
    server = PostgresServer(int(keep) if keep else free_port())
    start(server)
    yield server
    if not keep:
        stopped = server.script("stop")
        print(stopped.stdout.strip(), stopped.stderr.strip())


def connect(server, dbname=None):
    """A psycopg connection to server (autocommit)."""
    import psycopg
    return psycopg.connect(host="127.0.0.1", port=server.port, user=server.user, password=server.password,
                           dbname=dbname or server.database, autocommit=True, connect_timeout=10)
