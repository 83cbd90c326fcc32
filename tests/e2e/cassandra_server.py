"""cassandra_server.py — a real Cassandra node for the end-to-end suites, and
the cassandra-driver helper that checks what sluice wrote to it.

The node is started by the project's own script, tests/servers/cassandra.sh
(one Cassandra 5.0 node on loopback, jars from Maven Central cached under
.cache/cassandra, PasswordAuthenticator with the superuser cassandra/cassandra).
The session fixture `cassandra_node` picks three free consecutive loopback
ports (CQL native port p, storage port p + 1, JMX port p + 2), starts the node
once per test session and stops it at the end (stop removes its data). The
script returns only after a real CQL login works. A suite uses it with
`from cassandra_server import cassandra_node  # noqa: F401`.

The same native port also accepts TLS clients (Cassandra's optional client
encryption): cassandra.sh makes a throwaway CA, a server certificate for
127.0.0.1 / localhost and a client certificate, PEM files under
.cache/cassandra/<port>/tls/, and checks a TLS login before `start` returns.
`node.tls_ca` is the CA to verify the server with; `node.tls_client_cert` /
`node.tls_client_key` a client certificate signed by it (mutual TLS).

`session(node)` connects with the DataStax Python driver (cassandra-driver),
an independent client, to read back what sluice stored; `session(node, tls=True)`
does so over TLS, verifying the server against node.tls_ca.
"""
import os
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass

import pytest

from e2e_util import REPO

CASSANDRA_SH = REPO / "tests" / "servers" / "cassandra.sh"
FIRST_PORT = 19042
PORTS_PER_NODE = 3


@dataclass
class CassandraNode:
    port: int
    host: str = "127.0.0.1"
    username: str = "cassandra"
    password: str = "cassandra"

    @property
    def storage_port(self):
        return self.port + 1

    @property
    def jmx_port(self):
        return self.port + 2

    @property
    def contact_point(self):
        """host:port, as a sluice `cassandra: { hosts: [...] }` entry."""
        return f"{self.host}:{self.port}"

    @property
    def log_file(self):
        """The node's system.log (cassandra.sh keeps it under .cache/cassandra/<port>/logs)."""
        return REPO / ".cache" / "cassandra" / str(self.port) / "logs" / "system.log"

    @property
    def tls_dir(self):
        """The node's PEM files (cassandra.sh makes them under .cache/cassandra/<port>/tls)."""
        return REPO / ".cache" / "cassandra" / str(self.port) / "tls"

    @property
    def tls_ca(self):
        """The test CA's certificate (PEM): trust it to verify the node as 127.0.0.1 or localhost."""
        return self.tls_dir / "ca.pem"

    @property
    def tls_client_cert(self):
        """A client certificate (PEM) signed by tls_ca, for mutual TLS."""
        return self.tls_dir / "client.pem"

    @property
    def tls_client_key(self):
        """tls_client_cert's private key (unencrypted PKCS#8 PEM)."""
        return self.tls_dir / "client.key"

    def env(self):
        env = dict(os.environ)
        env["CASSANDRA_PORT"] = str(self.port)
        env["CASSANDRA_STORAGE_PORT"] = str(self.storage_port)
        env["CASSANDRA_JMX_PORT"] = str(self.jmx_port)
        return env

    def script(self, command, timeout):
        """Runs tests/servers/cassandra.sh COMMAND for this node -> CompletedProcess."""
        return subprocess.run(["bash", str(CASSANDRA_SH), command], env=self.env(), capture_output=True,
                              text=True, timeout=timeout)


def _port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_triple(first=FIRST_PORT, tries=50):
    """A port p >= first with p, p + 1 and p + 2 all free on 127.0.0.1."""
    last = first + PORTS_PER_NODE * tries
    for port in range(first, last, PORTS_PER_NODE):
        if all(_port_free(port + i) for i in range(PORTS_PER_NODE)):
            return port
    raise RuntimeError(f"no three free consecutive ports in {first}..{last}")


@pytest.fixture(scope="session")
def cassandra_node():
    """A running node (CassandraNode) for the whole session, stopped at its end."""
    port = int(os.environ.get("SLUICE_TEST_CASSANDRA_PORT") or free_port_triple())
    node = CassandraNode(port)
    started = time.monotonic()
    try:
        result = node.script("start", timeout=600)
    except subprocess.TimeoutExpired as e:
        node.script("stop", timeout=120)
        pytest.fail(f"tests/servers/cassandra.sh start did not finish within 600s\n{e.stdout}\n{e.stderr}",
                    pytrace=False)
    if result.returncode != 0:
        node.script("stop", timeout=120)
        pytest.fail(f"tests/servers/cassandra.sh start failed (exit {result.returncode}) after "
                    f"{time.monotonic() - started:.1f}s\n--- stdout ---\n{result.stdout}\n"
                    f"--- stderr ---\n{result.stderr[-6000:]}", pytrace=False)
    print(result.stdout.strip())
    yield node
    stopped = node.script("stop", timeout=120)
    print(stopped.stdout.strip(), stopped.stderr.strip())


# ---- cassandra-driver helper ------------------------------------------------------------

def session(node, keyspace=None, tls=False):
    """A cassandra-driver Session logged in as the node's superuser (protocol v4, like
    sluice's client); with tls=True over TLS, verifying the node's certificate and host
    name against node.tls_ca. The caller shuts it down with session.cluster.shutdown()."""
    try:
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import Cluster
    except ImportError:
        pytest.fail("cassandra-driver is not installed in this Python: "
                    ".venv/bin/pip install -r tests/e2e/requirements.txt", pytrace=False)
    ssl_context = ssl.create_default_context(cafile=str(node.tls_ca)) if tls else None
    cluster = Cluster([node.host], port=node.port, protocol_version=4, ssl_context=ssl_context,
                      auth_provider=PlainTextAuthProvider(node.username, node.password))
    try:
        return cluster.connect(keyspace)
    except Exception:
        cluster.shutdown()
        raise
