"""test_cassandra_tls.py — the cassandra sink's connection settings against the
real node: TLS verified against the test CA (the node accepts TLS and
plaintext on one port, see tests/servers/cassandra.sh), LZ4 frame
compression, `ttl:` and `consistency:`, each checked with the Python
cassandra-driver; and clear errors for a wrong password (exit 2, the
server's message) and an unknown CA (the run fails naming it).
"""
import json
import uuid

from cassandra_server import cassandra_node, session  # noqa: F401  (the session fixture)
from e2e_util import parse_summary

ROWS = 500


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def write_rows(workdir, n=ROWS):
    ids = [str(uuid.uuid4()) for _ in range(n)]
    with open(workdir / "rows.jsonl", "w") as f:
        for i, row_id in enumerate(ids):
            f.write(json.dumps({"id": row_id, "n": i, "note": f"row {i}"}) + "\n")
    return ids


def config(node, keyspace, extra):
    return f"""\
pipelines:
  store:
    source: {{ file: {{ path: rows.jsonl }} }}
    sink:
      cassandra:
        hosts: ['{node.contact_point}']
        username: {node.username}
        password: {node.password}
        keyspace: {keyspace}
        table: t
        key: [id]
        create: true
        columns: {{ id: uuid, n: bigint, note: text }}
{extra}
"""


def test_tls_lz4_ttl_and_consistency_reach_the_server(sluice, workdir, cassandra_node):  # noqa: F811
    node = cassandra_node
    keyspace = unique("tls")
    ids = write_rows(workdir)
    extra = (f"        tls: true\n        tls_ca: {node.tls_ca}\n        compression: lz4\n"
             f"        ttl: 1h\n        consistency: one\n        batch_rows: 7\n")
    (workdir / "tls.yaml").write_text(config(node, keyspace, extra))
    result = sluice.run("run", "tls.yaml", timeout=120)
    assert result.returncode == 0, result.describe()
    assert parse_summary(result.stderr)["store"]["out"] == ROWS, result.describe()

    s = session(node)
    try:
        rows = list(s.execute(f"SELECT id, n, note, TTL(note) AS ttl FROM {keyspace}.t"))
    finally:
        s.cluster.shutdown()
    assert sorted(str(r.id) for r in rows) == sorted(ids)
    assert all(r.note == f"row {r.n}" for r in rows)
    assert all(3500 <= r.ttl <= 3600 for r in rows), sorted({r.ttl for r in rows})[:5]


def test_an_unknown_ca_fails_the_run_naming_the_certificate_problem(sluice, workdir, cassandra_node,  # noqa: F811
                                                                   tmp_path):
    node = cassandra_node
    write_rows(workdir, 10)
    other_ca = tmp_path / "other-ca.pem"
    # A CA the node's certificate does not chain to: the client certificate's key pair is no CA at all.
    other_ca.write_text(open(node.tls_client_cert).read())
    extra = f"        tls: true\n        tls_ca: {other_ca}\n        connect_timeout: 2s\n"
    (workdir / "bad_ca.yaml").write_text(config(node, unique("badca"), extra))
    result = sluice.run("run", "bad_ca.yaml", "--for", "60s", timeout=120)
    assert result.returncode == 2, result.describe()   # settings, not weather: no retrying
    assert result.elapsed < 30, result.describe()
    assert "tls certificate not accepted" in result.stderr.lower(), result.describe()


def test_a_wrong_password_stops_the_pipeline_with_the_servers_message(sluice, workdir, cassandra_node):  # noqa: F811
    node = cassandra_node
    write_rows(workdir, 10)
    text = config(node, unique("badpw"), "").replace(f"password: {node.password}", "password: wrong")
    (workdir / "bad_pw.yaml").write_text(text)
    result = sluice.run("run", "bad_pw.yaml", timeout=120)
    assert result.returncode == 2, result.describe()   # refused credentials are a configuration error
    assert "password" in result.stderr.lower() and "incorrect" in result.stderr.lower(), result.describe()
