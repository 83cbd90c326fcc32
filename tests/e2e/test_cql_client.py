"""test_cql_client.py — sluice's own CQL client (src/cql: connections, session,
prepared statements, batches, tokens) against a real Cassandra 5.0 node, checked
with an independent client, the DataStax Python cassandra-driver.

The client is driven through tests/e2e/cql_client_check.c, built here and linked
against build/libsluice.a (`make build/libsluice.a`; when the shared tree does not
build at the moment, the check is compiled from src/core and src/cql directly).
"""
import datetime
import json
import subprocess
import uuid
from decimal import Decimal

import pytest

from cassandra_server import cassandra_node  # noqa: F401
from cassandra_server import session as driver_session
from e2e_util import REPO

KEYSPACE = "cqlcheck"
FLAGS = ["-O2", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         "-Wno-missing-field-initializers", "-D_GNU_SOURCE", "-Isrc"]
PKGS = ["yaml-0.1", "sqlite3", "rdkafka", "liblz4", "openssl"]

COLUMNS = [
    ("c_text", "text"), ("c_ascii", "ascii"), ("c_varchar", "varchar"), ("c_int", "int"),
    ("c_bigint", "bigint"), ("c_smallint", "smallint"), ("c_tinyint", "tinyint"),
    ("c_boolean", "boolean"), ("c_float", "float"), ("c_double", "double"),
    ("c_decimal", "decimal"), ("c_varint", "varint"), ("c_timestamp", "timestamp"),
    ("c_date", "date"), ("c_time", "time"), ("c_uuid", "uuid"), ("c_timeuuid", "timeuuid"),
    ("c_inet", "inet"), ("c_blob", "blob"), ("c_list", "list<int>"), ("c_set", "set<text>"),
    ("c_map", "map<text, int>"),
]
NAMES = ["k"] + [name for name, _ in COLUMNS]

# Each case: the JSON line our client inserts, the Python values the driver reads
# (and inserts), and the JSON line our client prints when reading them back.
CASES = [
    (
        {"k": "row-1", "c_text": "héllo wörld ✓", "c_ascii": "plain ascii", "c_varchar": "v",
         "c_int": -2147483648, "c_bigint": 9223372036854775807, "c_smallint": 32767, "c_tinyint": -128,
         "c_boolean": True, "c_float": 1.5, "c_double": 3.141592653589793, "c_decimal": "12345.6789",
         "c_varint": "123456789012345678901234567890", "c_timestamp": "2024-02-29T12:34:56.789Z",
         "c_date": "2024-02-29", "c_time": "12:34:56.123456789",
         "c_uuid": "5f1c2d9e-3b4a-4c6d-8e7f-0123456789ab", "c_timeuuid": "e3b0c442-98fc-11ee-8c90-0242ac120002",
         "c_inet": "192.168.1.10", "c_blob": "hello", "c_list": [3, 1, 2], "c_set": ["b", "a"],
         "c_map": {"x": 1, "y": -2}},
        {"k": "row-1", "c_text": "héllo wörld ✓", "c_ascii": "plain ascii", "c_varchar": "v",
         "c_int": -2147483648, "c_bigint": 9223372036854775807, "c_smallint": 32767, "c_tinyint": -128,
         "c_boolean": True, "c_float": 1.5, "c_double": 3.141592653589793, "c_decimal": Decimal("12345.6789"),
         "c_varint": 123456789012345678901234567890,
         "c_timestamp": datetime.datetime(2024, 2, 29, 12, 34, 56, 789000),
         "c_date": "2024-02-29", "c_time": "12:34:56.123456789",
         "c_uuid": uuid.UUID("5f1c2d9e-3b4a-4c6d-8e7f-0123456789ab"),
         "c_timeuuid": uuid.UUID("e3b0c442-98fc-11ee-8c90-0242ac120002"),
         "c_inet": "192.168.1.10", "c_blob": b"hello", "c_list": [3, 1, 2], "c_set": {"a", "b"},
         "c_map": {"x": 1, "y": -2}},
        {"k": "row-1", "c_text": "héllo wörld ✓", "c_ascii": "plain ascii", "c_varchar": "v",
         "c_int": -2147483648, "c_bigint": 9223372036854775807, "c_smallint": 32767, "c_tinyint": -128,
         "c_boolean": True, "c_float": 1.5, "c_double": 3.141592653589793, "c_decimal": "12345.6789",
         "c_varint": "123456789012345678901234567890", "c_timestamp": 1709210096789,
         "c_date": "2024-02-29", "c_time": "12:34:56.123456789",
         "c_uuid": "5f1c2d9e-3b4a-4c6d-8e7f-0123456789ab", "c_timeuuid": "e3b0c442-98fc-11ee-8c90-0242ac120002",
         "c_inet": "192.168.1.10", "c_blob": "0x68656c6c6f", "c_list": [3, 1, 2], "c_set": ["a", "b"],
         "c_map": {"x": 1, "y": -2}},
    ),
    (
        {"k": "row-2", "c_text": "", "c_ascii": "", "c_varchar": "tab\there", "c_int": 2147483647,
         "c_bigint": -9223372036854775808, "c_smallint": -32768, "c_tinyint": 127, "c_boolean": False,
         "c_float": -0.25, "c_double": -1e-300, "c_decimal": "-0.001", "c_varint": -42,
         "c_timestamp": "1969-12-31T23:59:59.999Z", "c_date": "1900-01-01", "c_time": "00:00:00",
         "c_uuid": "00000000-0000-0000-0000-000000000000", "c_timeuuid": "00000000-0000-1000-8000-000000000000",
         "c_inet": "2001:db8::1", "c_blob": "", "c_list": [], "c_set": ["z"], "c_map": {}},
        {"k": "row-2", "c_text": "", "c_ascii": "", "c_varchar": "tab\there", "c_int": 2147483647,
         "c_bigint": -9223372036854775808, "c_smallint": -32768, "c_tinyint": 127, "c_boolean": False,
         "c_float": -0.25, "c_double": -1e-300, "c_decimal": Decimal("-0.001"), "c_varint": -42,
         "c_timestamp": datetime.datetime(1969, 12, 31, 23, 59, 59, 999000),
         "c_date": "1900-01-01", "c_time": "00:00:00.000000000",
         "c_uuid": uuid.UUID(int=0), "c_timeuuid": uuid.UUID("00000000-0000-1000-8000-000000000000"),
         "c_inet": "2001:db8::1", "c_blob": b"", "c_list": None, "c_set": {"z"}, "c_map": None},
        {"k": "row-2", "c_text": "", "c_ascii": "", "c_varchar": "tab\there", "c_int": 2147483647,
         "c_bigint": -9223372036854775808, "c_smallint": -32768, "c_tinyint": 127, "c_boolean": False,
         "c_float": -0.25, "c_double": -1e-300, "c_decimal": "-0.001", "c_varint": -42,
         "c_timestamp": -1, "c_date": "1900-01-01", "c_time": "00:00:00.000000000",
         "c_uuid": "00000000-0000-0000-0000-000000000000", "c_timeuuid": "00000000-0000-1000-8000-000000000000",
         "c_inet": "2001:db8::1", "c_blob": "0x", "c_list": None, "c_set": ["z"], "c_map": None},
    ),
    (
        {"k": "row-3"},
        dict({"k": "row-3"}, **{name: None for name, _ in COLUMNS}),
        dict({"k": "row-3"}, **{name: None for name, _ in COLUMNS}),
    ),
]


# ---- building and running the check program ------------------------------------------------

def _pkg_libs():
    result = subprocess.run(["pkg-config", "--libs"] + PKGS, capture_output=True, text=True)
    if result.returncode == 0:
        return result.stdout.split()
    return ["-lyaml", "-lsqlite3", "-lrdkafka", "-llz4", "-lssl", "-lcrypto"]


@pytest.fixture(scope="module")
def check_bin(tmp_path_factory):
    out = tmp_path_factory.mktemp("cqlcheck") / "cql_client_check"
    src = str(REPO / "tests" / "e2e" / "cql_client_check.c")
    make = subprocess.run(["make", "build/libsluice.a"], cwd=REPO, capture_output=True, text=True, timeout=600)
    if make.returncode == 0:
        inputs = [src, "build/libsluice.a"]
    else:
        # The shared tree may be mid-change elsewhere; the client needs only core + cql.
        print("make build/libsluice.a failed; building the check from src/core and src/cql:\n"
              + make.stderr[-2000:])
        inputs = [src] + sorted(str(p.relative_to(REPO)) for p in (REPO / "src" / "core").glob("*.c")) \
            + sorted(str(p.relative_to(REPO)) for p in (REPO / "src" / "cql").glob("*.c"))
    build = subprocess.run(["cc"] + FLAGS + ["-o", str(out)] + inputs + _pkg_libs() + ["-lm", "-pthread"],
                           cwd=REPO, capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, f"building cql_client_check failed:\n{build.stderr[-4000:]}"
    return out


def run(check_bin, node, *args, stdin=None, password=None, lz4=False, timeout=120):
    """Runs cql_client_check against node -> CompletedProcess."""
    cmd = [str(check_bin), "--host", node.contact_point, "--user", node.username,
           "--password", password if password is not None else node.password]
    if lz4:
        cmd.append("--lz4")
    return subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True, timeout=timeout)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def rows_of(stdout):
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def driver(cassandra_node):  # noqa: F811
    s = driver_session(cassandra_node)
    yield s
    s.cluster.shutdown()


@pytest.fixture(scope="module")
def keyspace(check_bin, cassandra_node):  # noqa: F811
    """The test keyspace and the every-type table, created by our client (DDL + schema agreement)."""
    ok(run(check_bin, cassandra_node, "query", f"DROP KEYSPACE IF EXISTS {KEYSPACE}"))
    ok(run(check_bin, cassandra_node, "query",
           f"CREATE KEYSPACE {KEYSPACE} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"))
    columns = ", ".join(f"{name} {cql}" for name, cql in COLUMNS)
    ok(run(check_bin, cassandra_node, "query", f"CREATE TABLE {KEYSPACE}.all_types (k text PRIMARY KEY, {columns})"))
    return KEYSPACE


def insert_cql(table):
    return f"INSERT INTO {KEYSPACE}.{table} ({', '.join(NAMES)}) VALUES ({', '.join('?' for _ in NAMES)})"


def driver_value(name, value):
    """Driver results -> comparable Python values."""
    if value is None:
        return None
    if name in ("c_date", "c_time"):
        return str(value)
    if name == "c_set":
        return set(value)
    if name == "c_map":
        return dict(value)
    if name == "c_list":
        return list(value)
    return value


# ---- tests -------------------------------------------------------------------------------------

def test_connects_with_credentials_and_names_the_node(check_bin, cassandra_node):  # noqa: F811
    out = ok(run(check_bin, cassandra_node, "connect"))
    assert f"connected to 1 node(s); token 0 is on {cassandra_node.contact_point}" in out


def test_wrong_password_is_a_configuration_error_with_the_servers_message(check_bin, cassandra_node):  # noqa: F811
    result = run(check_bin, cassandra_node, "connect", password="not-the-password")
    assert result.returncode == 2, result.stderr
    assert "Provided username cassandra and/or password are incorrect" in result.stderr
    assert cassandra_node.contact_point in result.stderr


def test_unreachable_node_is_an_io_error_naming_it(check_bin):
    result = subprocess.run([str(check_bin), "--host", "127.0.0.1:1", "connect"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "127.0.0.1:1" in result.stderr and "refused" in result.stderr


@pytest.mark.parametrize("batch,lz4", [(1, False), (1, True), (2, False), (3, True)],
                         ids=["execute", "execute-lz4", "batch", "batch-lz4"])
def test_every_type_written_by_our_client_reads_back_equal_in_the_driver(check_bin, cassandra_node, keyspace,
                                                                          driver, batch, lz4):  # noqa: F811
    table = f"t_{'batch' if batch > 1 else 'exec'}_{'lz4' if lz4 else 'plain'}"
    columns = ", ".join(f"{name} {cql}" for name, cql in COLUMNS)
    ok(run(check_bin, cassandra_node, "query", f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.{table} "
                                               f"(k text PRIMARY KEY, {columns})"))
    lines = "".join(json.dumps(ours) + "\n" for ours, _, _ in CASES)
    out = ok(run(check_bin, cassandra_node, "insert", insert_cql(table), "--batch", str(batch), stdin=lines, lz4=lz4))
    assert out.strip() == f"inserted {len(CASES)}"
    for _, expected, _ in CASES:
        row = driver.execute(f"SELECT * FROM {KEYSPACE}.{table} WHERE k = %s", [expected["k"]]).one()
        assert row is not None, expected["k"]
        got = {name: driver_value(name, getattr(row, name)) for name in NAMES}
        assert got == expected


@pytest.mark.parametrize("lz4", [False, True], ids=["plain", "lz4"])
def test_every_type_written_by_the_driver_reads_back_equal_in_our_client(check_bin, cassandra_node, keyspace,
                                                                          driver, lz4):  # noqa: F811
    from cassandra.util import Date, Time
    table = f"from_driver_{'lz4' if lz4 else 'plain'}"
    columns = ", ".join(f"{name} {cql}" for name, cql in COLUMNS)
    driver.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.{table} (k text PRIMARY KEY, {columns})")
    prepared = driver.prepare(f"INSERT INTO {KEYSPACE}.{table} ({', '.join(NAMES)}) "
                              f"VALUES ({', '.join('?' for _ in NAMES)})")
    for _, values, _ in CASES:
        bound = []
        for name in NAMES:
            value = values[name]
            if value is not None and name == "c_date":
                value = Date(value)
            elif value is not None and name == "c_time":
                value = Time(value)
            bound.append(value)
        driver.execute(prepared, bound)
    out = ok(run(check_bin, cassandra_node, "query", f"SELECT {', '.join(NAMES)} FROM {KEYSPACE}.{table}", lz4=lz4))
    got = {row["k"]: row for row in rows_of(out)}
    for _, _, expected in CASES:
        assert got[expected["k"]] == expected


def test_tokens_equal_the_servers_for_text_bigint_uuid_and_composite_keys(check_bin, cassandra_node, keyspace,
                                                                          driver):  # noqa: F811
    driver.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.tok_text (k text PRIMARY KEY)")
    driver.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.tok_bigint (k bigint PRIMARY KEY)")
    driver.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.tok_uuid (k uuid PRIMARY KEY)")
    driver.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.tok_pair (a text, b int, PRIMARY KEY ((a, b)))")
    texts = ["b", "a", "é", "user-0042", "x" * 300] + [f"key-{i}-{i * 7919}" for i in range(195)]
    bigints = [0, 1, -1, 2 ** 63 - 1, -2 ** 63] + [i * 1000003 - 97 * i * i for i in range(195)]
    uuids = [uuid.UUID(int=0)] + [uuid.uuid5(uuid.NAMESPACE_DNS, f"host{i}") for i in range(199)]
    pairs = [(f"p{i}", i * 31 - 3000) for i in range(200)]
    cases = [
        ("tok_text", ["text"], [[k] for k in texts]),
        ("tok_bigint", ["bigint"], [[k] for k in bigints]),
        ("tok_uuid", ["uuid"], [[str(k)] for k in uuids]),
        ("tok_pair", ["text", "int"], [list(p) for p in pairs]),
    ]
    for table, types, keys in cases:
        columns = ["a", "b"] if table == "tok_pair" else ["k"]
        prepared = driver.prepare(f"SELECT token({', '.join(columns)}) FROM {KEYSPACE}.{table} WHERE "
                                  + " AND ".join(f"{c} = ?" for c in columns))
        insert = driver.prepare(f"INSERT INTO {KEYSPACE}.{table} ({', '.join(columns)}) "
                                f"VALUES ({', '.join('?' for _ in columns)})")
        server = []
        for key in keys:
            bound = [uuid.UUID(key[0])] if table == "tok_uuid" else key
            driver.execute(insert, bound)
            server.append(driver.execute(prepared, bound).one()[0])
        stdin = "".join(json.dumps(key) + "\n" for key in keys)
        ours = [int(line) for line in ok(run(check_bin, cassandra_node, "token", *types, stdin=stdin)).split()]
        assert len(ours) == len(keys)
        mismatches = [(k, o, s) for k, o, s in zip(keys, ours, server) if o != s]
        assert not mismatches, f"{table}: {mismatches[:5]}"


def test_invalid_literal_returns_the_servers_message(check_bin, cassandra_node, keyspace):  # noqa: F811
    result = run(check_bin, cassandra_node, "query",
                 f"INSERT INTO {KEYSPACE}.all_types (k, c_int) VALUES ('bad', 'not a number')")
    assert result.returncode == 2, result.stderr
    assert "Invalid" in result.stderr and "c_int" in result.stderr, result.stderr
    assert cassandra_node.contact_point in result.stderr


def test_syntax_error_returns_the_servers_message(check_bin, cassandra_node):  # noqa: F811
    result = run(check_bin, cassandra_node, "query", "SELEC nonsense")
    assert result.returncode == 2
    assert "Syntax_error" in result.stderr


def test_prepared_insert_of_a_value_the_column_cannot_take_is_refused_locally(check_bin, cassandra_node,
                                                                               keyspace):  # noqa: F811
    result = run(check_bin, cassandra_node, "insert", insert_cql("all_types"), stdin='{"k": "x", "c_int": "abc"}\n')
    assert result.returncode != 0
    assert "c_int" in result.stderr


def test_tls_verifies_the_server_against_the_ca_and_refuses_an_unknown_one(check_bin, cassandra_node):  # noqa: F811
    ca = REPO / ".cache" / "cassandra" / str(cassandra_node.port) / "tls" / "ca.pem"
    if not ca.is_file():
        pytest.skip("the node was started without TLS (CASSANDRA_TLS=0)")
    out = ok(run(check_bin, cassandra_node, "--tls-ca", str(ca), "--lz4", "query",
                 "SELECT release_version FROM system.local"))
    assert rows_of(out) == [{"release_version": "5.0.9"}]
    refused = run(check_bin, cassandra_node, "--tls", "connect")
    assert refused.returncode == 2   # a certificate that does not verify is a settings error
    assert "certificate" in refused.stderr and cassandra_node.contact_point in refused.stderr, refused.stderr


@pytest.mark.parametrize("batch,lz4", [(1, False), (32, True)], ids=["execute", "batch32-lz4"])
def test_load_mode_writes_every_row(check_bin, cassandra_node, driver, batch, lz4):  # noqa: F811
    out = ok(run(check_bin, cassandra_node, "load", "3000", "64", "--batch", str(batch), lz4=lz4, timeout=300))
    figures = json.loads(out.strip().splitlines()[-1])
    assert figures["rows"] == 3000 and figures["rows_per_s"] > 0
    assert figures["call_p99_ms"] >= figures["call_p50_ms"] > 0
    count = driver.execute("SELECT count(*) FROM sluice_bench.users_seed").one()[0]
    assert count == 3000

