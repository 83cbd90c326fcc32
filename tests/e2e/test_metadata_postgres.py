"""test_metadata_postgres.py — the scheduler's metadata store (src/metadata) on a
real PostgreSQL started by tests/servers/postgres.sh, checked with psycopg, an
independent client.

- The unit suite metadata_postgres (tests/unit/metadata_test.c: the same
  checks as on SQLite) runs against the server, plain and under ASan+UBSan.
- tests/e2e/metadata_check.c, a small program over the store built here and
  linked against build/libsluice.a, is run as several processes at once, as
  several sluice servers sharing one database would: each scheduled task
  instance is claimed by exactly one of them, concurrent migrations apply
  each step once, a stale server's tasks are failed and retried by another.
- The schema and its migration from version N-1 to N are read back from the
  catalog with psycopg; a store newer than the binary is refused.
- Connection errors: refused credentials and a missing database are
  permanent, an unreachable server transient and named by host:port, and no
  message shows the password.
- postgres.sh itself: idempotent start, status, url, suspend/resume, stop,
  loopback only, not run as root.
"""
import os
import re
import subprocess
import uuid

import pytest

from e2e_util import REPO
from postgres_server import PostgresServer, connect, free_port, postgres_server  # noqa: F401

FLAGS = ["-O1", "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
         "-Wno-missing-field-initializers", "-D_GNU_SOURCE", "-Isrc"]
PKGS = ["yaml-0.1", "sqlite3", "rdkafka", "liblz4", "libzstd", "zlib", "snappy", "openssl", "libpq", "libpcre2-8", "libmurmurhash", "libxxhash"]
T0 = 1704067200000000          # 2024-01-01T00:00:00Z in µs
LATEST_VERSION = 4              # src/metadata/migrations.c
EX_TEMPFAIL = 75


def _make(*targets):
    env = dict(os.environ, MAKEFLAGS="", MAKELEVEL="")
    result = subprocess.run(["make", "-j2", *targets], cwd=REPO, capture_output=True, text=True, timeout=900,
                            env=env)
    assert result.returncode == 0, f"make {' '.join(targets)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def _pkg_libs():
    result = subprocess.run(["pkg-config", "--libs"] + PKGS, capture_output=True, text=True)
    assert result.returncode == 0, f"pkg-config --libs {' '.join(PKGS)}: {result.stderr}"
    return result.stdout.split()


@pytest.fixture(scope="module")
def check_bin(tmp_path_factory):
    """tests/e2e/metadata_check.c built against build/libsluice.a."""
    _make("build/libsluice.a")
    out = tmp_path_factory.mktemp("metadata_check") / "metadata_check"
    build = subprocess.run(["cc"] + FLAGS + ["-o", str(out), "tests/e2e/metadata_check.c", "build/libsluice.a"]
                           + _pkg_libs() + ["-lm", "-pthread"], cwd=REPO, capture_output=True, text=True,
                           timeout=600)
    assert build.returncode == 0, f"building metadata_check failed:\n{build.stderr[-4000:]}"
    return out


@pytest.fixture
def database(postgres_server):  # noqa: F811
    """A fresh database on the server for one test; its name."""
    name = f"meta_{uuid.uuid4().hex[:12]}"
    with connect(postgres_server, dbname="postgres") as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield name
    with connect(postgres_server, dbname="postgres") as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run_check(check_bin, url, *args, timeout=120):
    return subprocess.run([str(check_bin), url, *[str(a) for a in args]], capture_output=True, text=True,
                          timeout=timeout)


def ok(result):
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def lines(stdout):
    return [line for line in stdout.splitlines() if line.strip()]


# ---- the unit suite on PostgreSQL --------------------------------------------------------

@pytest.mark.parametrize("build", ["test", "test-asan"])
def test_unit_suite_on_postgres(postgres_server, build):  # noqa: F811
    """Every Test(metadata_postgres, ...) of metadata_test.c runs and passes (none skipped)."""
    binary = f"build/{build}/metadata_test"
    _make(binary)
    source = (REPO / "tests" / "unit" / "metadata_test.c").read_text()
    expected = len(re.findall(r"^Test\(metadata_postgres,", source, re.M))
    assert expected >= 17, f"only {expected} metadata_postgres tests in metadata_test.c"
    env = dict(os.environ, SLUICE_TEST_POSTGRES_URL=postgres_server.url(),
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    result = subprocess.run([str(REPO / binary), "--filter", "metadata_postgres/*", "--jobs", "2"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = re.search(r"Tested: (\d+) \| Passing: (\d+) \| Failing: (\d+) \| Crashing: (\d+)", output)
    assert summary, output[-3000:]
    assert summary.groups() == (str(expected), str(expected), "0", "0"), output[-3000:]


# ---- several servers on one database --------------------------------------------------------

def test_concurrent_claims_exactly_once(check_bin, postgres_server, database):  # noqa: F811
    """Three claimers at once on 90 scheduled task instances: each goes to exactly one, as psycopg sees."""
    url = postgres_server.url(database)
    run = int(lines(ok(run_check(check_bin, url, "setup", "etl", T0, 90, 1)))[-1])
    claimers = [subprocess.Popen([str(check_bin), url, "claim", f"server-{i}"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for i in range(3)]
    claimed = {}
    for i, proc in enumerate(claimers):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"claimer {i}: exit {proc.returncode}: {err}"
        claimed[f"server-{i}"] = [int(line) for line in lines(out)]
    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == 90, {k: len(v) for k, v in claimed.items()}
    assert len(set(everything)) == 90, "a task instance was claimed twice"
    with connect(postgres_server, database) as conn:
        rows = conn.execute("SELECT id, state, server_id, queued_at_us FROM task_instances WHERE run = %s",
                            (run,)).fetchall()
    assert len(rows) == 90
    assert set(everything) == {row[0] for row in rows}
    for ti_id, state, server_id, queued_at in rows:
        assert state == "queued", (ti_id, state)
        assert ti_id in claimed[server_id], f"row {ti_id} names {server_id}, which did not print it"
        assert queued_at is not None


def test_concurrent_migrations_apply_each_step_once(check_bin, postgres_server, database):  # noqa: F811
    url = postgres_server.url(database)
    procs = [subprocess.Popen([str(check_bin), url, "version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.strip() == str(LATEST_VERSION)
    with connect(postgres_server, database) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == list(range(1, LATEST_VERSION + 1))


def _columns(conn, table):
    return dict(conn.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_schema = 'public' AND table_name = %s", (table,)).fetchall())


def test_migration_from_the_first_version(check_bin, postgres_server, database):  # noqa: F811
    """A store made at version 1 (rows written by another client) upgrades step by step to the latest, rows kept;
    a newer one is refused."""
    url = postgres_server.url(database)
    assert ok(run_check(check_bin, url, "open-version", 1)).strip() == "1"
    with connect(postgres_server, database) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations")] == [1]
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        assert {"schema_migrations", "dags", "dag_runs", "task_instances", "servers"} <= tables
        assert "api_tokens" not in tables
        assert "log_tail" not in _columns(conn, "task_instances")
        conn.execute("INSERT INTO dags (dag_id, file_hash, updated_at_us) VALUES ('old', 'h', 1)")
        run = conn.execute("INSERT INTO dag_runs (dag_id, run_id, run_type, state, data_interval_start_us, "
                           "data_interval_end_us, conf, queued_at_us) VALUES ('old', 'r', 'scheduled', "
                           "'running', 0, 10, '{}', 0) RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO task_instances (run, task_id, try_number, max_tries, state) "
                     "VALUES (%s, 'extract', 1, 1, 'scheduled')", (run,))
    assert ok(run_check(check_bin, url, "version")).strip() == str(LATEST_VERSION)
    with connect(postgres_server, database) as conn:
        migrations = conn.execute("SELECT version, name, applied_at_us FROM schema_migrations "
                                  "ORDER BY version").fetchall()
        assert [m[0] for m in migrations] == [1, 2, 3, 4]
        assert "task logs" in migrations[1][1] and "active runs" in migrations[2][1]
        assert "API tokens" in migrations[3][1]
        assert _columns(conn, "api_tokens") == {"name": "text", "role": "text", "token_hash": "text",
                                                "created_at_us": "bigint"}
        active = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'dag_runs_active'").fetchone()[0]
        assert "WHERE" in active and "queued" in active and "running" in active, active
        columns = _columns(conn, "task_instances")
        assert columns["log_tail"] == "bytea"
        assert columns["log_path"] == "text"
        assert _columns(conn, "dags")["is_paused"] == "boolean"
        assert conn.execute("SELECT task_id, state FROM task_instances").fetchall() == [("extract", "scheduled")]
        index = conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname = "
                             "'dag_runs_scheduled_interval'").fetchone()[0]
        assert "UNIQUE" in index and "WHERE (run_type = 'scheduled'::text)" in index, index
        # The row written before the migration is claimable through the migrated store.
    assert lines(ok(run_check(check_bin, url, "claim", "s1"))) != []
    with connect(postgres_server, database) as conn:
        conn.execute("INSERT INTO schema_migrations (version, name, applied_at_us) VALUES (%s, 'future', 0)",
                     (LATEST_VERSION + 1,))
    refused = run_check(check_bin, url, "version")
    assert refused.returncode == 2, refused
    assert f"schema version {LATEST_VERSION + 1}, newer than the {LATEST_VERSION} this sluice knows" in refused.stderr
    assert "permanent" in refused.stderr


def test_heartbeat_is_the_database_clock(check_bin, postgres_server, database):  # noqa: F811
    url = postgres_server.url(database)
    clock = "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
    with connect(postgres_server, database) as conn:
        ok(run_check(check_bin, url, "version"))
        before = conn.execute(clock).fetchone()[0]
        ok(run_check(check_bin, url, "register", "s1"))
        after = conn.execute(clock).fetchone()[0]
        beat, started, pid = conn.execute("SELECT heartbeat_us, started_at_us, pid FROM servers "
                                          "WHERE server_id = 's1'").fetchone()
        assert before <= beat <= after
        assert started == beat and pid > 0
        conn.execute("UPDATE servers SET heartbeat_us = 0")
        ok(run_check(check_bin, url, "heartbeat", "s1"))
        assert conn.execute("SELECT heartbeat_us FROM servers").fetchone()[0] >= after
    missing = run_check(check_bin, url, "heartbeat", "nobody")
    assert missing.returncode == 2 and "server nobody is not registered" in missing.stderr


def test_stale_server_tasks_retried_by_another(check_bin, postgres_server, database):  # noqa: F811
    """Server A claims and goes silent; B fails A's tasks to up_for_retry, creates the next tries once, claims them."""
    url = postgres_server.url(database)
    run = int(lines(ok(run_check(check_bin, url, "setup", "etl", T0, 2, 2)))[-1])
    ok(run_check(check_bin, url, "register", "server-a"))
    ok(run_check(check_bin, url, "register", "server-b"))
    first = sorted(int(i) for i in lines(ok(run_check(check_bin, url, "claim", "server-a"))))
    assert len(first) == 2
    assert ok(run_check(check_bin, url, "finish", first[0], "queued", "running")).strip() == "changed"
    assert lines(ok(run_check(check_bin, url, "reap", 60))) == []
    with connect(postgres_server, database) as conn:
        conn.execute("UPDATE servers SET heartbeat_us = heartbeat_us - 3600000000 WHERE server_id = 'server-a'")
    ok(run_check(check_bin, url, "heartbeat", "server-b"))
    reaped = sorted(int(i) for i in lines(ok(run_check(check_bin, url, "reap", 60))))
    assert reaped == first
    assert lines(ok(run_check(check_bin, url, "reap", 60))) == [], "reaped twice"
    # A comes back and tries to finish: too late.
    assert ok(run_check(check_bin, url, "finish", first[0], "running", "success", 0)).strip() == "unchanged"
    retries = []
    for ti in first:
        new_id, how = ok(run_check(check_bin, url, "retry", ti)).split()
        assert how == "created"
        again_id, again = ok(run_check(check_bin, url, "retry", ti)).split()
        assert (again_id, again) == (new_id, "existing")
        retries.append(int(new_id))
    second = sorted(int(i) for i in lines(ok(run_check(check_bin, url, "claim", "server-b"))))
    assert second == sorted(retries)
    with connect(postgres_server, database) as conn:
        rows = conn.execute("SELECT task_id, try_number, state, server_id, end_us IS NOT NULL FROM task_instances "
                            "WHERE run = %s ORDER BY task_id, try_number", (run,)).fetchall()
    assert rows == [("t000", 1, "up_for_retry", "server-a", True), ("t000", 2, "queued", "server-b", False),
                    ("t001", 1, "up_for_retry", "server-a", True), ("t001", 2, "queued", "server-b", False)]


# ---- connection errors -----------------------------------------------------------------------

def test_refused_credentials_are_permanent_and_hide_the_password(check_bin, postgres_server):  # noqa: F811
    secret = "N0t-the-Pa55word"
    result = run_check(check_bin, postgres_server.url(password=secret), "version")
    assert result.returncode == 2, result
    assert "permanent" in result.stderr
    assert "password authentication failed" in result.stderr
    assert f"postgres://sluice:***@127.0.0.1:{postgres_server.port}/sluice" in result.stderr
    assert secret not in result.stderr + result.stdout

    result = run_check(check_bin, postgres_server.url("no_such_db"), "version")
    assert result.returncode == 2, result
    assert "permanent" in result.stderr and "no_such_db" in result.stderr
    assert postgres_server.password + "@" not in result.stderr


def test_unreachable_server_is_transient_and_named(check_bin):
    port = free_port(35432)
    result = run_check(check_bin, f"postgres://sluice:Secret-42@127.0.0.1:{port}/sluice", "version")
    assert result.returncode == EX_TEMPFAIL, result
    assert "transient" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "Secret-42" not in result.stderr


# ---- postgres.sh --------------------------------------------------------------------------

def test_postgres_sh_lifecycle():
    """start (twice), status, url, loopback only, not root, suspend/resume keeps data, stop removes it."""
    server = PostgresServer(free_port(26432))
    try:
        started = server.script("start", timeout=300)
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"ready on 127.0.0.1:{server.port}" in started.stdout
        again = server.script("start")
        assert again.returncode == 0 and "already running" in again.stdout, again.stdout + again.stderr
        status = server.script("status")
        assert status.returncode == 0 and "running on" in status.stdout
        assert server.script("url").stdout.strip() == server.url()
        with connect(server) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
            assert conn.execute("SHOW port").fetchone()[0] == str(server.port)
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept VALUES (7)")
        pid = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
        owner = os.stat(f"/proc/{pid}").st_uid
        assert owner != 0 or os.getuid() != 0, "the server runs as root"
        suspended = server.script("suspend")
        assert suspended.returncode == 0 and "suspended" in suspended.stdout
        assert server.script("status").returncode == 3
        resumed = server.script("resume", timeout=300)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        with connect(server) as conn:
            assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
    finally:
        stopped = server.script("stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stdout + stopped.stderr
    assert server.script("status").returncode == 3
    assert not (server.folder / "data").exists()
    assert "not running" in server.script("stop").stdout
