"""test_cassandra_cluster.py — sluice's CQL client and cassandra sink against a
real two-node Cassandra 5.0 cluster (the `cassandra_pair` fixture: 127.0.0.1
and 127.0.0.2, one token each, splitting the Murmur3 ring in halves), checked
with an independent client, the DataStax Python cassandra-driver.

- peer discovery: given ONE contact point, sluice's session knows both nodes
  (system.local + system.peers), and for 200 keys and the ring's edge tokens
  the node it routes to is the replica the driver computes from the same
  cluster (its own Murmur3 and token map, RF=1 keyspace);
- token-aware routing: 20,000 rows written by the sink through one contact
  point; Cassandra's own per-node table metrics (system_views, read from each
  node by a driver session pinned to it) show that each node coordinated
  exactly the writes it stores (one EXECUTE per row: coordinator count ==
  local write count == the rows its token range holds), and, with batches,
  that the nodes forwarded no writes to each other (internode messages stay
  at the gossip level); every row reads back equal;
- a node down: with 127.0.0.2 suspended the sink stores the rows 127.0.0.1
  owns and waits for the rest; once it is resumed the pipeline finishes with
  every row stored, none lost. Into an RF=2 keyspace (consistency ONE) every
  row is stored while it is down, within 10 s (a down node is routed
  around at once, not retried for the client's whole retry window).

The client check (tests/e2e/cql_client_check.c, its `token` and `hosts`
commands) is compiled here from src/core and src/cql alone; the sink runs in
build/sluice ($SLUICE_BIN).
"""
import json
import subprocess
import time
import uuid

import pytest

from cassandra_server import cassandra_pair  # noqa: F401  (the module fixture)
from cassandra_server import session
from e2e_util import REPO, finish, parse_summary

FLAGS = ["-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         "-Wno-missing-field-initializers", "-D_GNU_SOURCE", "-Isrc"]
PKGS = ["yaml-0.1", "sqlite3", "rdkafka", "liblz4", "openssl"]
ROWS = 20000
OUTAGE_ROWS = 5000
HOLD_SECONDS = 5        # the RF=1 pipeline must still be waiting this long after it started (plus the resume)
MIN_TOKEN, MAX_TOKEN = -2 ** 63, 2 ** 63 - 1


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


# ---- the client check ---------------------------------------------------------------------

def _pkg_libs():
    result = subprocess.run(["pkg-config", "--libs"] + PKGS, capture_output=True, text=True)
    if result.returncode == 0:
        return result.stdout.split()
    return ["-lyaml", "-lsqlite3", "-lrdkafka", "-llz4", "-lssl", "-lcrypto"]


@pytest.fixture(scope="module")
def check_bin(tmp_path_factory, request):
    """tests/e2e/cql_client_check.c built from src/core and src/cql (no make, no other module),
    compiled while the cluster starts."""
    out = tmp_path_factory.mktemp("cqlcluster") / "cql_client_check"
    inputs = ["tests/e2e/cql_client_check.c"] \
        + sorted(str(p.relative_to(REPO)) for p in (REPO / "src" / "core").glob("*.c")) \
        + sorted(str(p.relative_to(REPO)) for p in (REPO / "src" / "cql").glob("*.c"))
    build = subprocess.Popen(["cc"] + FLAGS + ["-o", str(out)] + inputs + _pkg_libs() + ["-lm", "-pthread"],
                             cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        request.getfixturevalue("cassandra_pair")
    finally:
        _, errors = build.communicate(timeout=600)
    assert build.returncode == 0, f"building cql_client_check failed:\n{errors[-4000:]}"
    return out


def check(check_bin, node, *args, stdin=None, timeout=120):
    cmd = [str(check_bin), "--host", node.contact_point, "--user", node.username, "--password", node.password]
    result = subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"$ {' '.join(cmd + list(args))}\nexit {result.returncode}\n" \
                                   f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"
    return result.stdout


def sluice_tokens(check_bin, node, keys):
    """Murmur3 tokens of text partition keys, as sluice's client computes them."""
    out = check(check_bin, node, "token", "text", stdin="".join(json.dumps([k]) + "\n" for k in keys))
    tokens = [int(line) for line in out.split()]
    assert len(tokens) == len(keys)
    return tokens


def sluice_owners(check_bin, node, tokens):
    """(hosts the session knows, {token: "ip:port" it routes that token to}), contact point = node only."""
    out = check(check_bin, node, "hosts", stdin="".join(f"{t}\n" for t in tokens)).splitlines()
    assert out[0].startswith("hosts "), out[:3]
    owners = {}
    for line in out[1:]:
        token, address = line.split()
        owners[int(token)] = address
    assert set(owners) == set(tokens)
    return int(out[0].split()[1]), owners


# ---- what the servers say -----------------------------------------------------------------

def server_ring(pair):
    """[(token, "ip:port")], sorted: each node's tokens as it reports them in its own system.local."""
    ring = []
    for node in pair:
        s = session(node, pinned=True)
        try:
            row = s.execute("SELECT broadcast_address, tokens FROM system.local").one()
        finally:
            s.cluster.shutdown()
        assert row.broadcast_address == node.host
        ring += [(int(t), node.contact_point) for t in row.tokens]
    return sorted(ring)


def ring_owner(ring, token):
    """The node holding the first ring token >= token, wrapping past the largest."""
    for t, address in ring:
        if t >= token:
            return address
    return ring[0][1]


def node_counts(node, keyspace, table):
    """Node's own figures: (coordinator writes, local writes) of keyspace.table, internode messages received."""
    s = session(node, pinned=True)
    try:
        where = "WHERE keyspace_name = %s AND table_name = %s"
        coordinator = s.execute(f"SELECT count FROM system_views.coordinator_write_latency {where}",
                                [keyspace, table]).one()
        local = s.execute(f"SELECT count FROM system_views.local_write_latency {where}", [keyspace, table]).one()
        received = sum(r.received_count for r in s.execute("SELECT received_count FROM system_views.internode_inbound"))
    finally:
        s.cluster.shutdown()
    return (coordinator.count if coordinator else 0), (local.count if local else 0), received


def create_table(node, keyspace):
    s = session(node)
    try:
        s.execute(f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', "
                  f"'replication_factor': 1}}")
        s.execute(f"CREATE TABLE {keyspace}.t (k text PRIMARY KEY, n bigint)")
        assert s.cluster.control_connection.wait_for_schema_agreement(wait_time=30), "no schema agreement"
    finally:
        s.cluster.shutdown()


def read_rows(node, keyspace, consistency="ONE"):
    """{k: (n, token)} of every row, read with the driver through node (paged)."""
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement
    s = session(node)
    try:
        s.default_timeout = 60
        query = SimpleStatement(f"SELECT k, n, token(k) AS t FROM {keyspace}.t", fetch_size=5000,
                                consistency_level=getattr(ConsistencyLevel, consistency))
        return {r.k: (r.n, r.t) for r in s.execute(query)}
    finally:
        s.cluster.shutdown()


def write_rows(path, n, prefix):
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"k": f"{prefix}-{i}", "n": i * 7 + 1}) + "\n")


def pipeline(contact, keyspace, batch_rows):
    return f"""\
pipelines:
  route:
    source: {{ file: {{ path: rows.jsonl }} }}
    sink:
      cassandra:
        hosts: ['{contact.contact_point}']
        username: {contact.username}
        password: {contact.password}
        keyspace: {keyspace}
        table: t
        batch_rows: {batch_rows}
        consistency: one
"""


def check_all_rows(got, n, prefix):
    assert len(got) == n, f"{len(got)} rows stored, expected {n}"
    wrong = [(k, v) for k, v in got.items() if k.startswith(prefix) and v[0] != int(k.rsplit("-", 1)[1]) * 7 + 1]
    assert not wrong, f"rows with the wrong n: {wrong[:5]}"
    assert set(got) == {f"{prefix}-{i}" for i in range(n)}


# ---- peer discovery ----------------------------------------------------------------------

@pytest.mark.parametrize("contact", [1, 0], ids=["via-127.0.0.2", "via-127.0.0.1"])
def test_one_contact_point_finds_both_nodes_and_routes_each_token_to_the_drivers_replica(
        check_bin, cassandra_pair, contact):  # noqa: F811
    from cassandra.metadata import Murmur3Token
    node = cassandra_pair[contact]
    keyspace = unique("disc")
    create_table(node, keyspace)
    keys = [f"user-{i:04d}-{i * 7919 % 1009}" for i in range(200)]
    tokens = sluice_tokens(check_bin, node, keys)
    ring = server_ring(cassandra_pair)
    edges = sorted({MIN_TOKEN, MIN_TOKEN + 1, MAX_TOKEN, 0}
                   | {t + d for t, _ in ring for d in (-1, 0, 1)})
    n_hosts, owners = sluice_owners(check_bin, node, tokens + edges)
    assert n_hosts == 2, f"the session knows {n_hosts} node(s) from contact point {node.contact_point}"

    s = session(node)
    try:
        metadata = s.cluster.metadata
        assert sorted(h.address for h in metadata.all_hosts()) == ["127.0.0.1", "127.0.0.2"]
        differ = []
        for key, token in zip(keys, tokens):
            assert Murmur3Token.from_key(key.encode()).value == token, f"token of {key!r}"
            replicas = metadata.get_replicas(keyspace, key.encode())
            assert len(replicas) == 1, f"{key!r}: replicas {replicas} (RF=1)"
            want = f"{replicas[0].address}:{node.port}"
            if owners[token] != want:
                differ.append(f"{key!r} token {token}: sluice {owners[token]}, driver {want}")
        for token in edges:
            replicas = metadata.token_map.get_replicas(keyspace, Murmur3Token(token))
            want = f"{replicas[0].address}:{node.port}"
            if owners[token] != want:
                differ.append(f"token {token}: sluice {owners[token]}, driver {want}")
            assert ring_owner(ring, token) == want, f"token {token}: the servers' ring and the driver disagree"
        s.execute(f"DROP KEYSPACE {keyspace}")
    finally:
        s.cluster.shutdown()
    assert not differ, f"{len(differ)} of {len(keys) + len(edges)} owners differ:\n" + "\n".join(differ[:10])
    per_node = {a: sum(1 for t in tokens if owners[t] == a) for a in set(owners.values())}
    assert sorted(per_node) == sorted(n.contact_point for n in cassandra_pair), per_node
    print(f"via {node.contact_point}: 2 nodes known; {len(keys)} keys by owner {per_node}; "
          f"{len(edges)} edge tokens agree")


# ---- token-aware routing -------------------------------------------------------------------

@pytest.mark.parametrize("batch_rows", [1, 32], ids=["execute", "batch32"])
def test_each_node_coordinates_only_the_writes_it_owns(sluice, workdir, cassandra_pair, batch_rows):  # noqa: F811
    contact = cassandra_pair[1]   # the seed (127.0.0.1) is found through system.peers
    keyspace = unique("route")
    prefix = f"r{batch_rows}"
    create_table(contact, keyspace)
    write_rows(workdir / "rows.jsonl", ROWS, prefix)
    (workdir / "route.yaml").write_text(pipeline(contact, keyspace, batch_rows))
    before = {n.host: node_counts(n, keyspace, "t") for n in cassandra_pair}
    result = sluice.run("run", "route.yaml", timeout=300)
    assert result.returncode == 0, result.describe()
    after = {n.host: node_counts(n, keyspace, "t") for n in cassandra_pair}
    summary = parse_summary(result.stderr)
    assert summary["route"]["out"] == ROWS and summary["route"]["dlq"] == 0, result.describe()

    got = read_rows(contact, keyspace)
    check_all_rows(got, ROWS, prefix)
    ring = server_ring(cassandra_pair)
    owned = {n.host: 0 for n in cassandra_pair}
    for _, token in got.values():
        owned[ring_owner(ring, token).rsplit(":", 1)[0]] += 1

    lines = []
    for node in cassandra_pair:
        coordinator = after[node.host][0] - before[node.host][0]
        local = after[node.host][1] - before[node.host][1]
        messages = after[node.host][2] - before[node.host][2]
        lines.append(f"{node.host}: owns {owned[node.host]} rows, coordinated {coordinator} write requests, "
                     f"applied {local} local writes, received {messages} internode messages")
    report = f"batch_rows {batch_rows}, {ROWS} rows in {result.elapsed:.1f}s:\n  " + "\n  ".join(lines)
    print(report)
    # A misrouted write reaches its replica as a MUTATION message (and its answer
    # comes back as another): half the rows, had routing been ignored. Gossip alone
    # is a few messages a second.
    message_limit = 50 + 10 * result.elapsed
    for node in cassandra_pair:
        coordinator = after[node.host][0] - before[node.host][0]
        local = after[node.host][1] - before[node.host][1]
        messages = after[node.host][2] - before[node.host][2]
        assert owned[node.host] > ROWS // 4, report
        assert local == owned[node.host], report
        assert messages < message_limit, f"{node.host} received {messages} internode messages " \
                                         f"(at most {message_limit:.0f} expected without forwarding)\n{report}"
        if batch_rows == 1:
            assert coordinator == local, report
        else:
            assert owned[node.host] / batch_rows <= coordinator < owned[node.host], report


# ---- a node down -----------------------------------------------------------------------------

def count_range(node, keyspace, low, high):
    """Rows with low < token(k) <= high, counted by node alone (None when it does not answer)."""
    try:
        s = session(node, pinned=True)
    except Exception:
        return None
    try:
        return s.execute(f"SELECT count(*) FROM {keyspace}.t WHERE token(k) > %s AND token(k) <= %s",
                         [low, high], timeout=30).one()[0]
    except Exception:
        return None
    finally:
        s.cluster.shutdown()


def create_replicated_table(node, keyspace, replicas):
    s = session(node)
    try:
        s.execute(f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', "
                  f"'replication_factor': {replicas}}}")
        s.execute(f"CREATE TABLE {keyspace}.t (k text PRIMARY KEY, n bigint)")
        assert s.cluster.control_connection.wait_for_schema_agreement(wait_time=30), "no schema agreement"
    finally:
        s.cluster.shutdown()


def outage_pipelines(contact, rf1, rf2):
    """Two pipelines in one sluice: the same rows into an RF=1 and an RF=2 keyspace."""
    sink = (f"hosts: ['{contact.contact_point}'], username: {contact.username}, password: {contact.password}, "
            f"table: t, consistency: one")
    return f"""\
pipelines:
  rf1:
    source: {{ file: {{ path: rows.jsonl }} }}
    sink:   {{ cassandra: {{ {sink}, keyspace: {rf1} }} }}
  rf2:
    source: {{ file: {{ path: rows.jsonl }} }}
    sink:   {{ cassandra: {{ {sink}, keyspace: {rf2} }} }}
"""




def test_a_node_down_holds_its_rows_back_until_it_returns_and_nothing_is_lost(sluice, workdir,
                                                                                  cassandra_pair):  # noqa: F811
    """127.0.0.2 suspended before sluice starts (contact point 127.0.0.1): the RF=1 pipeline
    stores the rows 127.0.0.1 owns and waits for the rest; the RF=2 pipeline (consistency ONE)
    stores every row on 127.0.0.1 while 127.0.0.2 is down. Once it is back, both finish: every
    row stored, none lost."""
    from cassandra.metadata import Murmur3Token
    up, down = cassandra_pair
    rf1, rf2 = unique("down1"), unique("down2")
    prefix = "d"
    create_replicated_table(up, rf1, 1)
    create_replicated_table(up, rf2, 2)
    ring = server_ring(cassandra_pair)
    up_tokens = [t for t, a in ring if a == up.contact_point]
    down_tokens = [t for t, a in ring if a == down.contact_point]
    assert len(up_tokens) == len(down_tokens) == 1, ring
    up_range = (down_tokens[0], up_tokens[0])     # (low, high]: what `up` owns (it does not wrap here)
    assert up_range[0] < up_range[1], ring
    write_rows(workdir / "rows.jsonl", OUTAGE_ROWS, prefix)
    (workdir / "down.yaml").write_text(outage_pipelines(up, rf1, rf2))
    # Which rows `up` owns, by the driver's Murmur3 (the first test checks it against sluice's).
    tokens = [Murmur3Token.from_key(f"{prefix}-{i}".encode()).value for i in range(OUTAGE_ROWS)]
    up_rows = sum(1 for t in tokens if up_range[0] < t <= up_range[1])
    assert 0 < up_rows < OUTAGE_ROWS

    suspended = down.script("suspend", timeout=180)
    assert suspended.returncode == 0, suspended.stdout + suspended.stderr
    proc = None
    try:
        proc = sluice.popen("run", "down.yaml")
        started = time.monotonic()
        first_stored = rf2_done = None
        while first_stored is None or rf2_done is None or time.monotonic() < started + HOLD_SECONDS:
            assert proc.poll() is None, f"sluice ended while {down.host} was down:\n{finish(proc, 10)}"
            assert time.monotonic() < started + 90, \
                f"within 90s of {down.host} going down: a row {up.host} owns stored after " \
                f"{first_stored}s, every RF=2 row after {rf2_done}s (None: not yet)"
            time.sleep(0.5)
            if first_stored is None and (count_range(up, rf1, *up_range) or 0) > 0:
                first_stored = time.monotonic() - started
            if rf2_done is None and count_range(up, rf2, MIN_TOKEN, MAX_TOKEN) == OUTAGE_ROWS:
                rf2_done = time.monotonic() - started
        stored_up = count_range(up, rf1, *up_range) or 0
        resuming = time.monotonic()
        resumed = down.script("resume", timeout=600)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        back_at = time.monotonic()
        rc, out, err = finish(proc, timeout=240)
        took = time.monotonic() - back_at
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate()
        down.script("resume", timeout=600)   # a no-op when it runs; the fixture stops it later
    assert rc == 0, f"exit {rc}\n--- stdout ---\n{out[-3000:]}\n--- stderr ---\n{err[-3000:]}"
    summary = parse_summary(err)
    for name in ("rf1", "rf2"):
        assert summary[name]["out"] == OUTAGE_ROWS and summary[name]["dlq"] == 0, out
    check_all_rows(read_rows(up, rf1), OUTAGE_ROWS, prefix)
    # Every RF=2 row has a live replica: the down node is routed around at once (before a fix it was
    # retried for the client's whole 30 s window and nothing was sent meanwhile).
    assert rf2_done < 15, f"the RF=2 rows took {rf2_done:.1f}s with a peer down"
    # ALL: the returned node missed the RF=2 writes (no hints in the test nodes), the other has them.
    check_all_rows(read_rows(up, rf2, consistency="ALL"), OUTAGE_ROWS, prefix)
    print(f"{down.host} down: RF=1: {stored_up} of the {up_rows} rows {up.host} owns stored (of {OUTAGE_ROWS}), "
          f"the first {first_stored:.1f}s after sluice started; RF=2: all {OUTAGE_ROWS} rows stored after "
          f"{rf2_done:.1f}s; resumed in {back_at - resuming:.1f}s ({back_at - started:.1f}s after sluice "
          f"started); the pipelines finished {took:.1f}s after it was back")
