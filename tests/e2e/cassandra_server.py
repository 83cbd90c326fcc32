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
does so over TLS, verifying the server against node.tls_ca;
`session(node, pinned=True)` sends every request to that node only (for its
own system tables and virtual tables, e.g. per-node write counts).

The module fixture `cassandra_pair` is a two-node cluster on loopback for the
peer discovery and token-aware routing suite (test_cassandra_cluster.py):
127.0.0.1 and 127.0.0.2 (both loopback on Linux) on the same CQL native and
storage ports (sluice's client reaches peers on its contact point's port),
JMX on two ports of 127.0.0.1, one token each splitting the Murmur3 ring in
halves, plaintext only (the test certificates name 127.0.0.1 alone). The
first node is the seed; the second joins with auto_bootstrap false (nothing
to stream). The fixture returns once each node lists the other, with its
token, in system.peers, and stops both at the end. Ports start at 39042 so
the session node (19042+) and this pair never meet. With
SLUICE_TEST_CASSANDRA_PAIR_PORT=p the pair on port p is used (started when
not running) and left running at the end, for quick reruns.
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
PAIR_FIRST_PORT = 39042
PAIR_PORTS = 4          # native p and storage p + 1 on both addresses; JMX p + 2 and p + 3 on 127.0.0.1
PAIR_HOSTS = ("127.0.0.1", "127.0.0.2")
# One token per node, splitting the ring (-2^63, 2^63 - 1] in halves: 127.0.0.1
# owns (-2^62, 2^62], 127.0.0.2 the rest (wrapping past the largest token). The
# first node's half holds the superuser's row (token('cassandra') is about 3.6e17),
# so logins keep working when the second node joins without streaming.
PAIR_TOKENS = (4611686018427387904, -4611686018427387904)


@dataclass
class CassandraNode:
    port: int
    host: str = "127.0.0.1"
    username: str = "cassandra"
    password: str = "cassandra"
    # Cluster members (cassandra_pair) set these; None keeps cassandra.sh's defaults.
    jmx: int = None
    initial_token: int = None
    seeds: str = None
    auto_bootstrap: bool = None
    tls: bool = None

    @property
    def storage_port(self):
        return self.port + 1

    @property
    def jmx_port(self):
        return self.jmx if self.jmx is not None else self.port + 2

    @property
    def contact_point(self):
        """host:port, as a sluice `cassandra: { hosts: [...] }` entry."""
        return f"{self.host}:{self.port}"

    @property
    def folder(self):
        """The node's folder: .cache/cassandra/<port>, or <host>-<port> off 127.0.0.1 (as cassandra.sh)."""
        name = str(self.port) if self.host == "127.0.0.1" else f"{self.host}-{self.port}"
        return REPO / ".cache" / "cassandra" / name

    @property
    def log_file(self):
        """The node's system.log (cassandra.sh keeps it under .cache/cassandra/<port>/logs)."""
        return self.folder / "logs" / "system.log"

    @property
    def tls_dir(self):
        """The node's PEM files (cassandra.sh makes them under .cache/cassandra/<port>/tls)."""
        return self.folder / "tls"

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
        if self.host != "127.0.0.1":
            env["CASSANDRA_LISTEN"] = self.host
        if self.initial_token is not None:
            env["CASSANDRA_INITIAL_TOKEN"] = str(self.initial_token)
        if self.seeds is not None:
            env["CASSANDRA_SEEDS"] = self.seeds
        if self.auto_bootstrap is not None:
            env["CASSANDRA_AUTO_BOOTSTRAP"] = "1" if self.auto_bootstrap else "0"
        if self.tls is not None:
            env["CASSANDRA_TLS"] = "1" if self.tls else "0"
        return env

    def script(self, command, timeout):
        """Runs tests/servers/cassandra.sh COMMAND for this node -> CompletedProcess."""
        return subprocess.run(["bash", str(CASSANDRA_SH), command], env=self.env(), capture_output=True,
                              text=True, timeout=timeout)


def _port_free(port, host="127.0.0.1"):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
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


# ---- a two-node cluster --------------------------------------------------------------------

def free_pair_ports(first=PAIR_FIRST_PORT, tries=50):
    """A port p >= first with p and p + 1 free on both PAIR_HOSTS and p + 2, p + 3 on 127.0.0.1."""
    last = first + PAIR_PORTS * tries
    for port in range(first, last, PAIR_PORTS):
        if all(_port_free(port + i, host) for host in PAIR_HOSTS for i in range(2)) and \
                all(_port_free(port + i) for i in (2, 3)):
            return port
    raise RuntimeError(f"no free ports for a node pair in {first}..{last}")


def _start(node, what):
    """cassandra.sh start for node; fails the test (after stopping it) when it does not come up."""
    started = time.monotonic()
    try:
        result = node.script("start", timeout=600)
    except subprocess.TimeoutExpired as e:
        node.script("stop", timeout=120)
        pytest.fail(f"{what}: tests/servers/cassandra.sh start did not finish within 600s\n{e.stdout}\n{e.stderr}",
                    pytrace=False)
    if result.returncode != 0:
        node.script("stop", timeout=120)
        pytest.fail(f"{what}: tests/servers/cassandra.sh start failed (exit {result.returncode}) after "
                    f"{time.monotonic() - started:.1f}s\n--- stdout ---\n{result.stdout}\n"
                    f"--- stderr ---\n{result.stderr[-6000:]}", pytrace=False)
    print(f"{what}: {result.stdout.strip()}")


def peers_seen(node):
    """{peer address: [tokens]} from node's own system.peers (None when it does not answer)."""
    try:
        s = session(node, pinned=True)
    except Exception:
        return None
    try:
        return {r.peer: sorted(int(t) for t in (r.tokens or ())) for r in s.execute("SELECT peer, tokens FROM system.peers")}
    except Exception:
        return None
    finally:
        s.cluster.shutdown()


def wait_for_each_other(nodes, timeout=120):
    """Waits until every node's system.peers lists every other node with its token."""
    deadline = time.monotonic() + timeout
    while True:
        seen = {node.host: peers_seen(node) for node in nodes}
        if all(seen[node.host] is not None and
               all(seen[node.host].get(other.host) == [other.initial_token] for other in nodes if other is not node)
               for node in nodes):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the nodes did not see each other within {timeout}s: system.peers {seen}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def cassandra_pair():
    """Two running nodes (CassandraNode, CassandraNode) in one cluster: 127.0.0.1 (the seed)
    and 127.0.0.2, same native port; stopped, data removed, at the end of the module."""
    given = os.environ.get("SLUICE_TEST_CASSANDRA_PAIR_PORT")
    port = int(given) if given else free_pair_ports()
    seed = f"{PAIR_HOSTS[0]}:{port + 1}"
    nodes = tuple(CassandraNode(port, host=host, jmx=port + 2 + i, initial_token=token, seeds=seed,
                                auto_bootstrap=None if i == 0 else False, tls=False)
                  for i, (host, token) in enumerate(zip(PAIR_HOSTS, PAIR_TOKENS)))
    started = time.monotonic()
    try:
        for node in nodes:  # one after the other: the seed first
            _start(node, node.contact_point)
        wait_for_each_other(nodes)
        print(f"cassandra_pair: {nodes[0].contact_point} and {nodes[1].contact_point} see each other "
              f"{time.monotonic() - started:.1f}s after the first start")
        yield nodes
    finally:
        for node in reversed(nodes):
            if given:  # a pair the caller started (or keeps for the next run): only wake it up
                node.script("resume", timeout=600)
                continue
            stopped = node.script("stop", timeout=120)
            print(stopped.stdout.strip(), stopped.stderr.strip())


# ---- cassandra-driver helper ------------------------------------------------------------

SESSION_CONNECT_SECONDS = 120  # how long session() keeps trying to connect

def session(node, keyspace=None, tls=False, pinned=False):
    """A cassandra-driver Session logged in as the node's superuser (protocol v4, like
    sluice's client); with tls=True over TLS, verifying the node's certificate and host
    name against node.tls_ca; with pinned=True every request goes to this node alone
    (a WhiteListRoundRobinPolicy of its address). The caller shuts it down with
    session.cluster.shutdown()."""
    try:
        from cassandra.auth import PlainTextAuthProvider
        from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
        from cassandra.policies import WhiteListRoundRobinPolicy
    except ImportError:
        pytest.fail("cassandra-driver is not installed in this Python: "
                    ".venv/bin/pip install -r tests/e2e/requirements.txt", pytrace=False)
    ssl_context = ssl.create_default_context(cafile=str(node.tls_ca)) if tls else None
    pinning = {}
    if pinned:
        profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([node.host]))
        pinning["execution_profiles"] = {EXEC_PROFILE_DEFAULT: profile}
    # A loaded machine may take longer than the driver's 5 s defaults to answer:
    # generous timeouts, and a few attempts before the failure is the test's.
    deadline = time.monotonic() + SESSION_CONNECT_SECONDS
    while True:
        cluster = Cluster([node.host], port=node.port, protocol_version=4, ssl_context=ssl_context,
                          auth_provider=PlainTextAuthProvider(node.username, node.password),
                          connect_timeout=30, control_connection_timeout=30, **pinning)
        try:
            return cluster.connect(keyspace)
        except Exception as error:  # noqa: BLE001 — NoHostAvailable, OperationTimedOut, ...
            cluster.shutdown()
            if time.monotonic() >= deadline or "AuthenticationFailed" in repr(error):
                raise
            time.sleep(2)
